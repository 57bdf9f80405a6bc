"""Trying an action from the catalogue: a form made from its input fields, sent as a dry run
(checked, the connection tested, nothing executed: ``RunService.dry_run``) or for real (a
normal run, then its page), for a client and end user or a connection the operator picks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, RedirectResponse, Response

from actionruns.api.dashboard.access import checked_form, operator_session, page
from actionruns.api.routes.deps import engine
from actionruns.engine import Engine
from actionruns.engine.operators import OperatorSession
from actionruns.engine.runs import RunRequest
from actionruns.errors import NotFound, ServiceError, Unprocessable, ValidationFailed
from actionruns.principal import Principal
from actionruns.sdk.app import Action, App
from actionruns.sdk.auth import AuthType
from actionruns.sdk.fields import FieldErrors, FieldType, InputField, validate_inputs
from actionruns.sdk.redaction import REDACTED
from actionruns.store import AuthenticationRecord

router = APIRouter(include_in_schema=False)
CONNECTIONS_OFFERED = 200
MAX_CHOICE_PAGES = 20  # of the app's own size; past them, a field is typed in by its value
INPUT = "input."  # the prefix of a field's name in the form, apart from the form's own
_TEXTAREAS = {FieldType.TEXT, FieldType.CODE, FieldType.DICT, FieldType.JSON}
_INPUT_TYPES = {
    FieldType.INTEGER: "number",
    FieldType.NUMBER: "number",
    FieldType.PASSWORD: "password",
    FieldType.URL: "url",
    FieldType.DATETIME: "text",
}


@dataclass
class FormField:
    """One input field as the form shows it."""

    spec: InputField
    value: str = ""
    problem: str = ""

    @property
    def control(self) -> str:
        if self.spec.choices or self.spec.dynamic_choices or self.spec.type is FieldType.BOOLEAN:
            return "select"
        return "textarea" if self.spec.type in _TEXTAREAS or self.spec.list else "input"

    @property
    def input_type(self) -> str:
        return "password" if self.spec.is_secret else _INPUT_TYPES.get(self.spec.type, "text")

    @property
    def hint(self) -> str:
        parts = [self.spec.help_text]
        if self.spec.alters_dynamic_fields:
            parts.append("Other fields depend on it: choose Update fields after changing it.")
        if self.spec.list:
            parts.append("One value a line.")
        if self.spec.type in (FieldType.DICT, FieldType.JSON):
            parts.append("As JSON.")
        return " ".join(part for part in parts if part)


@dataclass
class Outcome:
    """What the last submission came to: problems, or a dry run's answer."""

    problems: list[str] = field(default_factory=list)
    dry_run: dict[str, Any] | None = None
    shown_inputs: str = ""


def _found(service: Engine, app_key: str, action_key: str) -> tuple[App, Action]:
    app = service.registry.app(app_key)
    action = app.action(action_key) if app is not None else None
    if app is None or action is None:
        raise NotFound(f"No action {app_key}.{action_key}.")
    return app, action


def _needs_connection(app: App) -> bool:
    return app.auth.type is not AuthType.NONE


async def _connections(service: Engine, app: App) -> list[tuple[AuthenticationRecord, str]]:
    """The app's connections, each with the words that say whose it is."""
    found, _ = await service.store.list_authentications(
        None, app_key=app.key, limit=CONNECTIONS_OFFERED, offset=0
    )
    names = {client.id: client.name for client in await service.store.list_clients()}
    return [
        (
            record,
            " · ".join(
                part
                for part in (
                    record.title,
                    f"client {names.get(record.client_id, record.client_id)}",
                    f"end user {record.end_user_id}" if record.end_user_id else "",
                    "expired" if record.is_expired else "",
                )
                if part
            ),
        )
        for record in found
    ]


async def _form_page(
    service: Engine,
    session: OperatorSession,
    app: App,
    action: Action,
    fields: list[FormField],
    chosen: dict[str, str],
    outcome: Outcome,
    status: int = 200,
) -> Response:
    return page(
        "try",
        session,
        status,
        heading=f"Try {app.key}.{action.key}",
        section="Catalogue",
        app=app,
        action=action,
        fields=fields,
        chosen=chosen,
        outcome=outcome,
        needs_connection=_needs_connection(app),
        connections=await _connections(service, app) if _needs_connection(app) else [],
        clients=[c for c in await service.store.list_clients() if not c.disabled],
        choices_url=f"/dashboard/catalogue/{app.key}/{action.key}/choices",
        max_choice_pages=MAX_CHOICE_PAGES,
    )


@router.get("/dashboard/catalogue/{app_key}/{action_key}")
async def try_page(
    app_key: str = Path(max_length=64),
    action_key: str = Path(max_length=64),
    session: OperatorSession = Depends(operator_session),
    service: Engine = Depends(engine),
) -> Response:
    try:
        app, action = _found(service, app_key, action_key)
    except NotFound as exc:
        return page("refused", session, 404, heading="No such action", message=exc.detail)
    fields = [
        FormField(spec, "" if spec.default is None else str(spec.default))
        for spec in action.static_inputs
    ]
    return await _form_page(service, session, app, action, fields, {}, Outcome())


def _read_inputs(fields: list[FormField], form: dict[str, str]) -> dict[str, Any]:
    """The inputs the form gives, as the API would get them; a blank field is left out."""
    inputs: dict[str, Any] = {}
    for shown in fields:
        spec, text = shown.spec, form.get(INPUT + shown.spec.key, "")
        shown.value = "" if spec.is_secret else text
        if not text.strip():
            continue
        if spec.list:
            inputs[spec.key] = [line for line in text.splitlines() if line.strip()]
        elif spec.type in (FieldType.DICT, FieldType.JSON):
            try:
                inputs[spec.key] = json.loads(text)
            except ValueError:
                shown.problem = "must be JSON"
        else:
            inputs[spec.key] = text
    return inputs


async def _principal(
    service: Engine, app: App, chosen: dict[str, str]
) -> tuple[Principal, str | None]:
    """Whom the run is for: a connection's client and end user, or the chosen client's."""
    if _needs_connection(app):
        record = await service.store.get_authentication(chosen["authentication"])
        if record is None or record.app_key != app.key:
            raise Unprocessable(f"Choose a connection to {app.title}.")
        return await service.operators.acting_as(record.client_id, record.end_user_id), record.id
    if not chosen["client"]:
        raise Unprocessable("Choose the client to run it for first.")
    return await service.operators.acting_as(chosen["client"], chosen["end_user"] or None), None


def _hidden_secrets(action: Action, inputs: dict[str, Any]) -> str:
    secret = {spec.key for spec in action.static_inputs if spec.is_secret}
    shown = {key: REDACTED if key in secret else value for key, value in inputs.items()}
    return json.dumps(shown, indent=2, sort_keys=True, default=str)


@router.post("/dashboard/catalogue/{app_key}/{action_key}")
async def try_action(
    app_key: str = Path(max_length=64),
    action_key: str = Path(max_length=64),
    form: dict[str, str] = Depends(checked_form),
    session: OperatorSession = Depends(operator_session),
    service: Engine = Depends(engine),
) -> Response:
    try:
        app, action = _found(service, app_key, action_key)
    except NotFound as exc:
        return page("refused", session, 404, heading="No such action", message=exc.detail)
    fields = [FormField(spec) for spec in action.static_inputs]
    chosen = {name: form.get(name, "")[:200] for name in ("authentication", "client", "end_user")}
    inputs = _read_inputs(fields, form)
    outcome = Outcome()
    try:
        principal, authentication = await _principal(service, app, chosen)
        if action.has_dynamic_inputs:
            # The fields these values call for, as the chosen connection sees them; checked
            # here, since a run checks only the fields every run has.
            _, _, specs = await service.catalog.input_fields(
                principal, f"{app.key}.{action.key}", authentication, inputs
            )
            fields = [FormField(spec) for spec in specs]
            inputs = _read_inputs(fields, form)
            if form.get("mode") == "fields":
                return await _form_page(service, session, app, action, fields, chosen, outcome)
            try:
                inputs = validate_inputs(specs, inputs)
            except FieldErrors as exc:
                raise ValidationFailed(exc.errors, pointer_prefix="/inputs") from None
        if any(shown.problem for shown in fields):
            outcome.problems.append("Some fields need another value: see below.")
            return await _form_page(service, session, app, action, fields, chosen, outcome, 400)
        request = RunRequest(f"{app.key}.{action.key}", authentication, inputs)
        if form.get("mode") != "run":
            outcome.dry_run = await service.runs.dry_run(principal, request)
            outcome.shown_inputs = _hidden_secrets(action, outcome.dry_run["inputs"])
            return await _form_page(service, session, app, action, fields, chosen, outcome)
        run, _ = await service.runs.submit(principal, request)
    except ValidationFailed as exc:
        by_key = {shown.spec.key: shown for shown in fields}
        for key, message in exc.problems.items():
            if key in by_key:
                by_key[key].problem = message
            else:
                outcome.problems.append(f"{key} {message}")
        outcome.problems.insert(0, "Some fields need another value: see below.")
        return await _form_page(service, session, app, action, fields, chosen, outcome, 400)
    except ServiceError as exc:
        outcome.problems.append(exc.detail)
        return await _form_page(service, session, app, action, fields, chosen, outcome, 400)
    query = urlencode({"tried": f"{app.key}.{action.key}"})
    return RedirectResponse(f"/dashboard/runs/{run.id}?{query}", status_code=303)


@router.get("/dashboard/catalogue/{app_key}/{action_key}/choices")
async def choices(
    app_key: str = Path(max_length=64),
    action_key: str = Path(max_length=64),
    input_key: str = Query(alias="field", max_length=100),
    authentication: str = Query("", max_length=64),
    client: str = Query("", max_length=64),
    inputs: str = Query("{}", max_length=20_000),
    page_number: int = Query(1, alias="page", ge=1, le=MAX_CHOICE_PAGES),
    _session: OperatorSession = Depends(operator_session),
    service: Engine = Depends(engine),
) -> Response:
    """A page of a dynamic field's choices, as the chosen connection (or client) sees them,
    for the form's script (which asks for the next while there are more, up to
    ``MAX_CHOICE_PAGES``)."""
    try:
        app, _ = _found(service, app_key, action_key)
        given = json.loads(inputs)
        chosen = {"authentication": authentication, "client": client, "end_user": ""}
        if not isinstance(given, dict):
            raise Unprocessable("inputs must be a JSON object.")
        if _needs_connection(app) and not authentication:
            raise Unprocessable("Choose a connection first: these choices come from the app.")
        principal, authentication_id = await _principal(service, app, chosen)
        found = await service.catalog.choices(
            principal,
            f"{app_key}.{action_key}",
            input_key,
            authentication_id,
            given,
            page_number - 1,
        )
    except ValueError:
        return JSONResponse({"error": "inputs must be JSON."}, status_code=400)
    except ServiceError as exc:
        return JSONResponse({"error": exc.detail}, status_code=exc.status)
    return JSONResponse(
        {
            "choices": [
                {"value": choice.value, "label": choice.label or choice.value}
                for choice in found.choices
            ],
            "has_more": found.has_more,
        }
    )
