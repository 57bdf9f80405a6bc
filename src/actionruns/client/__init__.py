"""A typed Python client of the actionruns API, sync (``Client``) and async (``AsyncClient``).

Built on httpx2 and the standard library only, it imports nothing of the service: install
actionruns and use it from any program (docs/client.md)::

    from actionruns.client import Client

    with Client("http://127.0.0.1:8080", client_id, client_secret) as client:
        run = client.runs.create("email.send_email", {...}, authentication=auth_id).wait(30)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from actionruns.client._async import AsyncClient, AsyncRunHandle
from actionruns.client._core import Retries
from actionruns.client._sync import Client, RunHandle
from actionruns.client.errors import (
    ApiError,
    BadRequest,
    Conflict,
    ErrorObject,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    SignatureError,
    Unauthorized,
    UpstreamUnavailable,
    WaitTimeout,
)
from actionruns.client.models import (
    Action,
    App,
    Authentication,
    AuthenticationEvent,
    Choice,
    ChoicePage,
    ConnectToken,
    InputField,
    OutputField,
    Outputs,
    Run,
    RunError,
    RunStatus,
)
from actionruns.client.signatures import DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER, refusal


def _signed_json(
    headers: Mapping[str, str],
    body: bytes,
    secret: str | bytes,
    tolerance: float,
    now: float | None,
) -> Any:
    header = headers.get(SIGNATURE_HEADER)
    if header is None:  # a plain dict, spelt in another case
        wanted = SIGNATURE_HEADER.lower()
        header = next((v for k, v in headers.items() if k.lower() == wanted), None)
    if header is None:
        raise SignatureError(f"the request has no {SIGNATURE_HEADER} header")
    key = secret.encode() if isinstance(secret, str) else secret
    why = refusal(key, header, body, tolerance=tolerance, now=now)
    if why is not None:
        raise SignatureError(why)
    try:
        return json.loads(body)
    except ValueError as exc:
        raise SignatureError(f"the signed body is not JSON: {exc}") from None


def verify_callback(
    headers: Mapping[str, str],
    body: bytes,
    secret: str | bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> Run:
    """The run a callback carries, once its ``X-Actionruns-Signature`` is checked against
    ``body`` (the raw bytes received) and the client's ``callback_signing_secret``, and its
    time is within ``tolerance`` seconds of now. ``SignatureError`` says why not.

    ``headers`` is any mapping (a framework's headers object, or a dict in any case)."""
    document = _signed_json(headers, body, secret, tolerance, now)
    try:
        return Run.from_json(document["data"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SignatureError(f"the signed body is not a run: {exc}") from None


def verify_event(
    headers: Mapping[str, str],
    body: bytes,
    secret: str | bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> AuthenticationEvent:
    """An authentication event, checked as ``verify_callback`` checks a run. (Events are
    signed per Standard Webhooks too, for receivers that use a library of theirs.)"""
    document = _signed_json(headers, body, secret, tolerance, now)
    try:
        return AuthenticationEvent.from_json(document)
    except (KeyError, TypeError, AttributeError) as exc:
        raise SignatureError(f"the signed body is not an event: {exc}") from None


__all__ = [
    "Action",
    "ApiError",
    "App",
    "AsyncClient",
    "AsyncRunHandle",
    "Authentication",
    "AuthenticationEvent",
    "BadRequest",
    "Choice",
    "ChoicePage",
    "Client",
    "Conflict",
    "ConnectToken",
    "ErrorObject",
    "Forbidden",
    "InputField",
    "NotFound",
    "OutputField",
    "Outputs",
    "PayloadTooLarge",
    "RateLimited",
    "Retries",
    "Run",
    "RunError",
    "RunHandle",
    "RunStatus",
    "ServerError",
    "ServiceUnavailable",
    "SignatureError",
    "Unauthorized",
    "UpstreamUnavailable",
    "WaitTimeout",
    "verify_callback",
    "verify_event",
]
