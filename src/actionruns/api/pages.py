"""Server-rendered pages (the Connect page, the dashboard): one Jinja environment, and each
page's inline style and script allowed by a nonce of its own, nothing else."""

from __future__ import annotations

import secrets
from typing import Any

import jinja2
from fastapi.responses import HTMLResponse

templates = jinja2.Environment(
    loader=jinja2.PackageLoader("actionruns.api", "templates"),
    autoescape=True,
    undefined=jinja2.ChainableUndefined,
)


def render_page(
    template: str, status: int = 200, *, fetches: bool = False, **context: Any
) -> HTMLResponse:
    """``template`` as a page; ``fetches``: its script may read this origin."""
    nonce = secrets.token_urlsafe(16)
    html = templates.get_template(template).render(nonce=nonce, **context)
    connect = "connect-src 'self'; " if fetches else ""
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
                f"{connect}img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
                "base-uri 'none'"
            ),
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",  # a Connect page's token is in its URL
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
