"""What the OpenAPI document says each operation answers, beyond what FastAPI infers: each
success with the model of its body (``api.models``), each error in the API's error shape with
the statuses it can have, and the headers that come with them, so a client can rely on them.
The tests check every answer they see against this (tests/api/test_openapi.py, and the
schemathesis suite).

FastAPI documents a 422 with its own validation body for every operation with parameters;
this API answers a 400 in its error shape instead, so that entry is replaced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, TypeAdapter

from actionruns.api import models

SCHEMA_REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Answers:
    """What one operation answers: its bodies by status (a model or a union of them, None
    for none or for text), its errors beyond those of every operation, and whether it takes
    a token (then it answers 401, 403 and 429, and carries the rate limit's headers) and
    reads the database (503)."""

    bodies: Mapping[int, Any]
    errors: tuple[int, ...] = ()
    secured: bool = True
    database: bool = True
    headers: Mapping[int, Mapping[str, dict[str, Any]]] = field(default_factory=dict)
    media_type: str = "application/json"


def _header(description: str, *, required: bool = True, kind: str = "integer") -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": kind}}


RETRY_AFTER = {"Retry-After": _header("Seconds to wait before trying again")}


def _rate_limit(*, required: bool) -> dict[str, Any]:
    return {
        "X-RateLimit-Limit": _header("Requests the client may make in a minute", required=required),
        "X-RateLimit-Remaining": _header("Requests left in this minute", required=required),
        "X-RateLimit-Reset": _header("When the minute ends (Unix time)", required=required),
    }


# Every answer to a request that drew on the limit carries them (api.access_log):
# each success, and the errors found after the token was read (not a 401, nor a 413).
RATE_LIMIT = _rate_limit(required=True)
OPTIONAL_RATE_LIMIT = _rate_limit(required=False)
WWW_AUTHENTICATE = {"WWW-Authenticate": _header("Bearer", kind="string")}
RUN_CREATED = {
    "Location": _header("The run's URL (absent for a dry run)", required=False, kind="string"),
    "Idempotent-Replayed": _header(
        "true when the Idempotency-Key was seen before: this is the run it made",
        required=False,
        kind="string",
    ),
}

# Found by an id in the path or body, or an app named in the query: 404 when not the caller's.
_LOOKUP = (404,)
# Calls the app behind an action: 502 when it cannot be reached.
_UPSTREAM = (404, 502)

OPERATIONS: dict[tuple[str, str], Answers] = {
    ("post", "/oauth/token"): Answers(
        {200: models.AccessToken | models.ExchangedConnectToken},
        (401, 429),  # wrong client credentials; too many failed attempts
        secured=False,
    ),
    ("get", "/.well-known/jwks.json"): Answers(
        {200: models.JsonWebKeySet}, secured=False, media_type="application/jwk-set+json"
    ),
    ("get", "/v2/apps"): Answers({200: models.AppsPage}),
    ("get", "/v2/actions"): Answers({200: models.ActionsPage}, _LOOKUP),
    ("post", "/v2/actions/{action_id}/inputs"): Answers({200: models.InputFieldsPage}, _UPSTREAM),
    ("post", "/v2/actions/{action_id}/inputs/{input_id}/choices"): Answers(
        {200: models.ChoicesPage}, _UPSTREAM
    ),
    ("post", "/v2/actions/{action_id}/outputs"): Answers({200: models.OutputFieldsPage}, _UPSTREAM),
    ("post", "/v2/actions/{action_id}/test"): Answers({200: models.TestResultsPage}, _UPSTREAM),
    ("get", "/v2/authentications"): Answers({200: models.AuthenticationsPage}, _LOOKUP),
    ("post", "/v2/authentications"): Answers({201: models.AuthenticationsPage}, _UPSTREAM),
    ("get", "/v2/authentications/{authentication_id}"): Answers(
        {200: models.AuthenticationResponse}, _LOOKUP
    ),
    ("delete", "/v2/authentications/{authentication_id}"): Answers({204: None}, _LOOKUP),
    ("post", "/v2/authentications/{authentication_id}/test"): Answers(
        {200: models.AuthenticationTestResponse}, _UPSTREAM
    ),
    ("post", "/v2/connect-tokens"): Answers({201: models.ConnectTokensPage}, (404, 409)),
    ("get", "/v2/authentication-events/subscription"): Answers(
        {200: models.EventsSubscriptionResponse}
    ),
    ("put", "/v2/authentication-events/subscription"): Answers(
        {200: models.EventsSubscriptionResponse}
    ),
    ("delete", "/v2/authentication-events/subscription"): Answers({204: None}),
    ("post", "/v2/action-runs"): Answers(
        {200: models.RunCreated}, _UPSTREAM, headers={200: RUN_CREATED}
    ),
    ("get", "/v2/action-runs"): Answers({200: models.RunsPage}),
    ("get", "/v2/action-runs/{run_id}/attempts"): Answers({200: models.AttemptsResponse}, _LOOKUP),
    ("get", "/v2/action-runs/{run_id}"): Answers(
        {200: models.RunResponse, 202: models.RunResponse}, _LOOKUP, headers={202: RETRY_AFTER}
    ),
    ("post", "/v2/action-runs/{run_id}/cancel"): Answers(
        {200: models.RunResponse, 202: models.RunResponse}, (404, 409)
    ),
    ("get", "/healthz"): Answers({200: models.Health}, secured=False, database=False),
    # Its 503 is its own answer (the database is away), not an error.
    ("get", "/readyz"): Answers(
        {200: models.Ready, 503: models.NotReady},
        secured=False,
        database=False,
        headers={503: RETRY_AFTER},
    ),
    ("get", "/metrics"): Answers({200: None}, secured=False, media_type=CONTENT_TYPE_LATEST),
}

_DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    202: "Not finished yet: the wait ran out, or the cancel is under way",
    204: "Done; no body",
    400: "Malformed or refused request",
    401: "No valid access token (or client credentials)",
    403: "The token lacks the scope, or the client may not use the app",
    404: "No such resource for this caller",
    409: "Conflicts with the resource's state",
    413: "The request body is too large",
    429: "Too many requests or failed attempts",
    502: "The app behind the call could not be reached",
    503: "The database is not reachable right now",
}


def _content(schema: dict[str, Any], media_type: str = "application/json") -> dict[str, Any]:
    return {media_type: {"schema": schema}}


def _schema(model: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """A model's schema (or a union's), its parts put in the document's components."""
    generated = TypeAdapter(model).json_schema(ref_template=SCHEMA_REF)
    schemas.update(generated.pop("$defs", {}))
    if isinstance(model, type) and issubclass(model, BaseModel):
        schemas[model.__name__] = generated
        return {"$ref": SCHEMA_REF.format(model=model.__name__)}
    return generated


def _error_headers(status: int, answers: Answers) -> dict[str, Any]:
    if status == 401 and answers.secured:
        return WWW_AUTHENTICATE
    if status == 429:
        return {**RETRY_AFTER, **RATE_LIMIT} if answers.secured else RETRY_AFTER
    if status == 503:
        return RETRY_AFTER
    # A 400 may come before the token is read (a malformed URL) or after it (a bad body).
    return OPTIONAL_RATE_LIMIT if answers.secured and status != 413 else {}


def _error_statuses(answers: Answers) -> Iterable[int]:
    # Every operation refuses a bad URL (400) and an oversized body (413).
    yield from (400, 413)
    if answers.secured:
        yield from (401, 403, 429)
    yield from answers.errors
    if answers.database:
        yield 503


def _documented(operation: dict[str, Any], answers: Answers, schemas: dict[str, Any]) -> None:
    responses: dict[str, Any] = {}
    for status, model in answers.bodies.items():
        response: dict[str, Any] = {"description": _DESCRIPTIONS[status]}
        if model is not None:
            response["content"] = _content(_schema(model, schemas), answers.media_type)
        elif status != 204:  # text: Prometheus' metrics
            response["content"] = _content({"type": "string"}, answers.media_type)
        headers = {**(RATE_LIMIT if answers.secured else {}), **answers.headers.get(status, {})}
        if headers:
            response["headers"] = headers
        responses[str(status)] = response
    for status in sorted(set(_error_statuses(answers))):
        response = {
            "description": _DESCRIPTIONS[status],
            "content": _content({"$ref": SCHEMA_REF.format(model="ErrorResponse")}),
        }
        headers = _error_headers(status, answers)
        if headers:
            response["headers"] = headers
        responses[str(status)] = response
    operation["responses"] = responses


def _operations(document: dict[str, Any]) -> Iterable[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, operation


def document_responses(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        _schema(models.ErrorResponse, schemas)
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for method, path, operation in _operations(document):
            _documented(operation, OPERATIONS[(method, path)], schemas)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
