"""The operators' dashboard at /dashboard: every client's runs, connections, catalogue and
clients, behind an operator's sign-in. Off (404) with ``ACTIONRUNS_DASHBOARD=off``."""

from __future__ import annotations

from fastapi import FastAPI

from actionruns.api.dashboard import access, runs, tryout, views
from actionruns.api.dashboard.access import (
    CsrfRefused,
    SignInNeeded,
    csrf_refused,
    sign_in_redirect,
)


def install_dashboard(app: FastAPI) -> None:
    for module in (access, runs, tryout, views):
        app.include_router(module.router)
    app.add_exception_handler(SignInNeeded, sign_in_redirect)
    app.add_exception_handler(CsrfRefused, csrf_refused)
