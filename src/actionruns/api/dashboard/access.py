"""Who may open the dashboard: an operator's session (a cookie), never an API token; every
form carries the session's CSRF token; sign-in is throttled by the engine."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from actionruns.api.pages import render_page
from actionruns.api.routes.deps import engine
from actionruns.engine import Engine
from actionruns.engine.operators import SESSION_SECONDS, OperatorSession, SignInRefused

SESSION_COOKIE = "actionruns_operator"
# Before a session exists, the sign-in form's CSRF token is checked against this cookie.
SIGN_IN_COOKIE = "actionruns_sign_in"
router = APIRouter(include_in_schema=False)


class SignInNeeded(Exception):
    """No session (or an expired one): the page sends the browser to sign in."""

    def __init__(self, path: str) -> None:
        self.path = path


class CsrfRefused(Exception):
    """A form without its session's token: made elsewhere, or from a page long gone."""


async def operator_session(request: Request, service: Engine = Depends(engine)) -> OperatorSession:
    session = await service.operators.session(request.cookies.get(SESSION_COOKIE, ""))
    if session is None:
        raise SignInNeeded(request.url.path)
    return session


async def checked_form(
    request: Request, session: OperatorSession = Depends(operator_session)
) -> dict[str, str]:
    """The posted form, once its CSRF token is the session's."""
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    if not hmac.compare_digest(form.pop("csrf_token", ""), session.csrf_token):
        raise CsrfRefused()
    return form


def _secure(request: Request, service: Engine) -> bool:
    return request.url.scheme == "https" or service.settings.public_url.startswith("https:")


def _cookie(
    response: Response, request: Request, service: Engine, name: str, value: str, age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/dashboard",
        httponly=True,
        secure=_secure(request, service),
        samesite="strict",
    )


def page(
    template: str, session: OperatorSession | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """A dashboard page; with a session, its navigation and the token its forms carry."""
    return render_page(
        f"dashboard/{template}.html",
        status,
        fetches=True,
        operator=session.operator if session else "",
        csrf_token=session.csrf_token if session else context.pop("csrf_token", ""),
        **context,
    )


def _local(path: str) -> str:
    """Where to go after signing in: a dashboard path, never another site."""
    return path if path.startswith("/dashboard") and not path.startswith("//") else "/dashboard"


def sign_in_redirect(request: Request, exc: Exception) -> Response:
    path = exc.path if isinstance(exc, SignInNeeded) else "/dashboard"
    return RedirectResponse(f"/dashboard/sign-in?{urlencode({'next': path})}", status_code=303)


def csrf_refused(request: Request, exc: Exception) -> Response:
    return page(
        "refused",
        None,
        403,
        heading="Refused",
        message="This form had expired or was not sent from the dashboard. Go back, reload "
        "the page and try again.",
    )


def _sign_in_form(
    request: Request, service: Engine, *, status: int = 200, problem: str = "", name: str = ""
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = page(
        "sign_in",
        None,
        status,
        heading="Sign in",
        csrf_token=token,
        problem=problem,
        name=name,
        next=_local(request.query_params.get("next", "")),
    )
    _cookie(response, request, service, SIGN_IN_COOKIE, token, 3600)
    return response


@router.get("/dashboard/sign-in")
async def sign_in_page(request: Request, service: Engine = Depends(engine)) -> Response:
    return _sign_in_form(request, service)


@router.post("/dashboard/sign-in")
async def sign_in(request: Request, service: Engine = Depends(engine)) -> Response:
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(form.get("csrf_token", ""), expected):
        raise CsrfRefused()
    name = form.get("name", "")[:200]
    address = request.client.host if request.client is not None else ""
    try:
        session = await service.operators.sign_in(name, form.get("password", ""), address)
    except SignInRefused as exc:
        if exc.retry_after is not None:
            refused = _sign_in_form(
                request,
                service,
                status=429,
                name=name,
                problem="Too many failed sign-ins: wait a minute, then try again.",
            )
            refused.headers["Retry-After"] = str(exc.retry_after)
            return refused
        return _sign_in_form(
            request, service, status=401, name=name, problem="Wrong name or password."
        )
    response = RedirectResponse(_local(form.get("next", "")), status_code=303)
    _cookie(response, request, service, SESSION_COOKIE, session.cookie, SESSION_SECONDS)
    response.delete_cookie(SIGN_IN_COOKIE, path="/dashboard")
    return response


@router.post("/dashboard/sign-out")
async def sign_out(
    request: Request,
    _form: dict[str, str] = Depends(checked_form),
    service: Engine = Depends(engine),
) -> Response:
    await service.operators.sign_out(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/dashboard/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/dashboard")
    return response
