"""The hosted Connect page: an end user connects (or reconnects) an account with a connect
token the partner asked for, by filling in the app's fields or signing in with OAuth2; the
page ends at the partner's registered redirect URI and tells the opener window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx2
import structlog
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from actionruns.api.documents import page
from actionruns.api.icons import app_color, text_on
from actionruns.api.pages import render_page
from actionruns.api.responses import JSONResponse
from actionruns.api.routes.deps import engine
from actionruns.api.schemas import ConnectTokenRequest
from actionruns.api.security import require
from actionruns.connections.connect import ConnectGrant, ConnectTokenInvalid
from actionruns.connections.oauth import CALLBACK_PATH, OAuthNotConfigured, StateInvalid
from actionruns.connections.service import ConnectionTestFailed
from actionruns.engine import Engine
from actionruns.engine.attempts import CONNECT_POSTS_PER_ADDRESS, CONNECT_POSTS_PER_TOKEN
from actionruns.errors import Conflict, NotFound, ServiceError, ValidationFailed
from actionruns.principal import Principal
from actionruns.sdk.app import DEFAULT_HEX_COLOR, App
from actionruns.sdk.auth import AuthType
from actionruns.sdk.categories import CATEGORIES, slugs
from actionruns.sdk.errors import ActionError

log = structlog.get_logger(__name__)
router = APIRouter(tags=["Connect"])


async def connect_token_document(
    service: Engine,
    principal: Principal,
    app: App | None,
    redirect_uri: str,
    authentication_id: str | None,
) -> dict[str, Any]:
    """A connect token for ``app`` (None: the end user picks one of the client's apps) and
    the page to open with it: what POST /v2/connect-tokens answers, and token exchange for a
    connect token too."""
    if app is None:
        if authentication_id is not None:
            raise ValidationFailed(
                {"app": "is required to reconnect an authentication"}, pointer_prefix="/data"
            )
    else:
        await _connectable(service, app)
    if app is not None and authentication_id is not None:
        existing = await service.connections.get(principal, authentication_id)
        if existing.app_key != app.key:
            raise ValidationFailed(
                {"authentication": f"belongs to {existing.app_key}, not {app.key}"},
                pointer_prefix="/data",
            )
    client = await service.store.get_client(principal.client_id)
    if client is None:
        raise NotFound("The client no longer exists.")
    token, grant = await service.connect_tokens.issue(
        client, principal, app.key if app else None, redirect_uri, authentication_id
    )
    page_path = f"/connect/{app.key}" if app else "/connect"
    url = f"{service.settings.base_url}{page_path}?{urlencode({'token': token})}"
    return {
        "type": "connect_token",
        "token": token,
        "url": url,
        "app": app.key if app else None,
        "end_user": grant.end_user_id,
        "authentication": grant.authentication_id,
        "expires_in": int(grant.expires_at - service.clock()),
    }


@router.post("/v2/connect-tokens", status_code=201, summary="A link for an end user to connect")
async def create_connect_token(
    request: Request,
    body: ConnectTokenRequest,
    principal: Principal = Depends(require("authentication:write", "connection:write")),
    service: Engine = Depends(engine),
) -> JSONResponse:
    app = (
        service.catalog.app(principal, body.data.app, pointer="/data/app")
        if body.data.app
        else None
    )
    document = await connect_token_document(
        service, principal, app, body.data.redirect_uri, body.data.authentication
    )
    return JSONResponse(page(request, [document], 1, 1, 0), status_code=201)


async def _connectable(service: Engine, app: App) -> None:
    """Refuse a link to a page that could only fail: the partner learns why now."""
    if app.auth.type is AuthType.NONE:
        raise Conflict(
            f"The app {app.key} needs no connection: run its actions without an authentication.",
            pointer="/data/app",
        )
    if app.auth.type is AuthType.OAUTH2:
        try:
            await service.connections.oauth_client(app)
        except OAuthNotConfigured as exc:
            raise Conflict(
                f"{exc} Until then its users cannot connect it.", pointer="/data/app"
            ) from None


# -- what the end user reads -------------------------------------------------------------
# The page speaks to the partner's end user: what happened and what to do, never an error
# number, a stack of causes or an operator's command (those go to the log or the partner).


def _test_failed(app: App, failure: ConnectionTestFailed) -> str:
    title = app.title
    said = f" {title} said: {failure.said}" if failure.said else ""
    if failure.reason == "authentication":
        return f"{title} did not accept these details. Check them and try again.{said}"
    if failure.reason == "user":
        return f"{title} could not be connected with these details.{said}"
    if failure.reason == "throttled":
        return f"{title} is busy right now. Wait a minute, then try again."
    return (
        f"{title} could not be reached. If you entered an address or a port, check them; "
        "otherwise try again in a few minutes."
    )


# How long "Connected as <label>" stays before the page goes back to the partner.
CONNECTED_PAUSE_MS = 2000
TOO_MANY_TRIES = "That was too many tries in a short time. Wait a minute, then try again."


def _not_set_up(app: App, exc: OAuthNotConfigured) -> HTMLResponse:
    log.warning("connect_oauth_not_configured", app=app.key, detail=str(exc))
    return _refused(
        f"{app.title} cannot be connected here yet. Go back to the app and try again later.", 503
    )


@dataclass(frozen=True)
class Partner:
    """The client as its end users know it: ``clients brand`` sets each part."""

    name: str
    color: str | None = None
    logo: str | None = None  # a data: URI


async def _partner(service: Engine, grant: ConnectGrant) -> Partner | None:
    client = await service.store.get_client(grant.client_id)
    if client is None:
        return None
    brand = client.brand or {}
    return Partner(brand.get("name", client.name), brand.get("color"), brand.get("logo"))


def _render(
    name: str, status: int = 200, *, partner: Partner | None = None, **context: Any
) -> HTMLResponse:
    app = context.get("app")
    accent = app_color(app) if isinstance(app, App) else DEFAULT_HEX_COLOR.removeprefix("#")
    if partner is not None and partner.color:
        accent = partner.color
    return render_page(
        name, status, accent=accent, on_accent=text_on(accent), partner=partner, **context
    )


def _refused(message: str, status: int = 400, heading: str = "") -> HTMLResponse:
    return _render(
        "connect_error.html", status, message=message, heading=heading or "Nothing to connect"
    )


def _invalid(exc: ConnectTokenInvalid) -> HTMLResponse:
    return _refused(str(exc), heading=exc.heading)


def _app(service: Engine, app_key: str) -> App:
    app = service.registry.app(app_key)
    if app is None or app.auth.type is AuthType.NONE:
        raise ConnectTokenInvalid("There is no such app to connect.")
    return app


def _access_in_words(app: App) -> list[str]:
    """What an OAuth2 connection grants: each scope in the connector's words, else as named."""
    config = app.auth.oauth2
    if config is None:
        return []
    return [config.scope_descriptions.get(scope, scope) for scope in config.scopes]


def _form(
    app: App,
    grant: ConnectGrant,
    token: str,
    partner: Partner | None,
    *,
    status: int = 200,
    problem: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    return _render(
        "connect_form.html",
        status,
        partner=partner,
        app=app,
        icon_url=f"/v2/apps/{app.key}/icon.svg?size=64",
        token=token,
        action_url=f"/connect/{app.key}",
        authorize_url=f"/connect/{app.key}/authorize?{urlencode({'token': token})}",
        picker_url=f"/connect?{urlencode({'token': token})}" if grant.picked else "",
        oauth=app.auth.type is AuthType.OAUTH2,
        scopes=_access_in_words(app),
        fields=list(app.auth.fields),
        problem=problem,
        errors=errors or {},
        values={k: v for k, v in (values or {}).items() if k not in app.auth.secret_keys},
        reconnecting=grant.authentication_id is not None,
    )


def _done(
    app: App,
    grant: ConnectGrant,
    partner: Partner | None,
    *,
    label: str = "",
    authentication_id: str = "",
    error: str = "",
    says: str = "",
) -> HTMLResponse:
    """The last page: back to the partner (redirect, or a message to the opener window).
    ``error`` is for the partner, ``says`` for the end user (``error`` if not given)."""
    if error:
        outcome = {"status": "error", "app": app.key, "error": error}
    else:
        outcome = {"status": "success", "app": app.key, "authentication_id": authentication_id}
    separator = "&" if urlsplit(grant.redirect_uri).query else "?"
    return_url = f"{grant.redirect_uri}{separator}{urlencode(outcome)}"
    parts = urlsplit(grant.redirect_uri)
    return _render(
        "connect_done.html",
        partner=partner,
        app=app,
        label=label,
        outcome=outcome["status"],
        message=says or error,
        return_url=return_url,
        result={"type": "actionruns:connect", **outcome},
        origin=f"{parts.scheme}://{parts.netloc}",
        pause_ms=0 if error else CONNECTED_PAUSE_MS,
    )


@router.get("/connect", include_in_schema=False)
async def pick_app(
    token: str = Query("", max_length=4096),
    service: Engine = Depends(engine),
) -> Response:
    """The apps a link that names none lets the end user choose from: the client's allowlist,
    less those that need no connection or cannot be connected here yet."""
    try:
        grant = await service.connect_tokens.open(token, None)
    except ConnectTokenInvalid as exc:
        return _invalid(exc)
    client = await service.store.get_client(grant.client_id)
    allowed = client.allowed_apps if client is not None else []
    choices: list[dict[str, Any]] = []
    for app in service.registry:
        if app.auth.type is AuthType.NONE or (allowed is not None and app.key not in allowed):
            continue
        if app.auth.type is AuthType.OAUTH2:
            try:
                await service.connections.oauth_client(app)
            except OAuthNotConfigured:
                continue
        categories = slugs(app.categories)
        choices.append(
            {
                "key": app.key,
                "title": app.title,
                "url": f"/connect/{app.key}?{urlencode({'token': token})}",
                "categories": categories,
                "category_titles": ", ".join(CATEGORIES[slug] for slug in categories),
            }
        )
    choices.sort(key=lambda choice: str(choice["title"]).lower())
    used = {slug for choice in choices for slug in choice["categories"]}
    return _render(
        "connect_pick.html",
        partner=await _partner(service, grant),
        choices=choices,
        categories=[(slug, title) for slug, title in CATEGORIES.items() if slug in used],
    )


@router.get("/connect/{app_key}", include_in_schema=False)
async def connect_page(
    app_key: str = Path(max_length=64),
    token: str = Query("", max_length=4096),
    service: Engine = Depends(engine),
) -> Response:
    try:
        app = _app(service, app_key)
        if not token:  # the app's links.connect_new_authentication, opened as it is
            raise ConnectTokenInvalid(
                f"To connect {app.title}, open this page from the app that sent you: "
                "it adds a connect token to the link."
            )
        grant = await service.connect_tokens.open(token, app.key)
        if app.auth.type is AuthType.OAUTH2:
            await service.connections.oauth_client(app)  # configured, or say so now
    except ConnectTokenInvalid as exc:
        return _invalid(exc)
    except OAuthNotConfigured as exc:
        return _not_set_up(app, exc)
    return _form(app, grant, token, await _partner(service, grant))


@router.post("/connect/{app_key}", include_in_schema=False)
async def submit_fields(
    request: Request,
    app_key: str = Path(max_length=64),
    service: Engine = Depends(engine),
) -> Response:
    form = await request.form()
    submitted = {key: value for key, value in form.items() if isinstance(value, str)}
    token = submitted.pop("token", "")
    try:
        app = _app(service, app_key)
        grant = await service.connect_tokens.open(token, app.key)
    except ConnectTokenInvalid as exc:
        return _invalid(exc)
    if app.auth.type is AuthType.OAUTH2:
        return _refused("This app connects by signing in, not with a form.")
    partner = await _partner(service, grant)
    # An unchecked box is absent from the form: it means false.
    for spec in app.auth.fields:
        if spec.type == "boolean":
            submitted[spec.key] = "true" if submitted.get(spec.key) else "false"
    try:
        credentials = service.connections.validate_fields(app, submitted)
    except ValidationFailed as exc:
        errors = dict(exc.problems)
        return _form(
            app,
            grant,
            token,
            partner,
            status=422,
            problem="Check the fields below.",
            errors=errors,
            values=submitted,
        )
    # Each post that gets this far runs a connection test against a third party.
    address = request.client.host if request.client is not None else ""
    counted = [(CONNECT_POSTS_PER_TOKEN, grant.token_id), (CONNECT_POSTS_PER_ADDRESS, address)]
    retry_after = await service.attempts.retry_after(counted)
    if retry_after is not None:
        busy = _form(
            app, grant, token, partner, status=429, problem=TOO_MANY_TRIES, values=submitted
        )
        busy.headers["Retry-After"] = str(retry_after)
        return busy
    await service.attempts.count(counted)
    try:
        label = await service.connections.test_credentials(app, credentials)
    except ConnectionTestFailed as exc:
        problem = _test_failed(app, exc)
        return _form(app, grant, token, partner, status=422, problem=problem, values=submitted)
    return await _finish(service, app, grant, credentials, label)


async def _finish(
    service: Engine,
    app: App,
    grant: ConnectGrant,
    credentials: dict[str, Any],
    label: str | None,
) -> HTMLResponse:
    partner = await _partner(service, grant)
    try:
        await service.connect_tokens.spend(grant)
    except ConnectTokenInvalid as exc:
        return _invalid(exc)
    try:
        record = await service.connections.save(
            grant.principal,
            app,
            label or app.title,
            credentials,
            replacing=grant.authentication_id,
        )
    except ServiceError as exc:
        return _done(app, grant, partner, error=exc.detail)
    return _done(app, grant, partner, label=record.title, authentication_id=record.id)


@router.get("/connect/{app_key}/authorize", include_in_schema=False)
async def authorize(
    app_key: str = Path(max_length=64),
    token: str = Query("", max_length=4096),
    service: Engine = Depends(engine),
) -> Response:
    try:
        app = _app(service, app_key)
        await service.connect_tokens.open(token, app.key)
        client = await service.connections.oauth_client(app)
    except ConnectTokenInvalid as exc:
        return _invalid(exc)
    except OAuthNotConfigured as exc:
        return _not_set_up(app, exc)
    url = await service.connections.authorization_url(app, client, {"token": token})
    return RedirectResponse(url, status_code=302, headers={"Referrer-Policy": "no-referrer"})


@router.get(CALLBACK_PATH, include_in_schema=False)
async def oauth_callback(
    state: str = Query("", max_length=8192),
    code: str = Query("", max_length=4096),
    error: str = Query("", max_length=200),
    error_description: str = Query("", max_length=1000),
    service: Engine = Depends(engine),
) -> Response:
    try:
        flow = service.connections.flows.open_state(state)
        app = _app(service, str(flow.get("app", "")))
        grant = await service.connect_tokens.open(str(flow.get("token", "")), app.key)
    except ConnectTokenInvalid as exc:
        return _invalid(exc)
    except StateInvalid as exc:
        return _refused(str(exc))
    partner = await _partner(service, grant)
    if error or not code:
        reason = error_description or error or "the provider sent no authorization code"
        says = (
            f"You did not give {app.title} access, so nothing was connected."
            if error == "access_denied"
            else f"{app.title} did not finish the sign-in, so nothing was connected. Try again."
        )
        return _done(
            app, grant, partner, error=f"{app.title} did not grant access: {reason}.", says=says
        )
    try:
        client = await service.connections.oauth_client(app)
        credentials = await service.connections.flows.exchange_code(
            app, client, code, flow.get("verifier"), service.connections.oauth_transport
        )
        label = await service.connections.test_credentials(app, credentials)
    except OAuthNotConfigured as exc:
        return _not_set_up(app, exc)
    except ActionError as exc:
        return _done(
            app,
            grant,
            partner,
            error=f"{app.title} refused the sign-in: {exc.detail}",
            says=f"{app.title} did not accept the sign-in, so nothing was connected. Try again.",
        )
    except ConnectionTestFailed as exc:
        return _done(app, grant, partner, error=exc.detail, says=_test_failed(app, exc))
    except httpx2.HTTPError as exc:
        unreachable = service.connections.unreachable(app, f"{type(exc).__name__}: {exc}")
        return _done(
            app,
            grant,
            partner,
            error=unreachable.detail,
            says=f"{app.title} could not be reached to finish the sign-in. Try again in a few "
            "minutes.",
        )
    return await _finish(service, app, grant, credentials, label)
