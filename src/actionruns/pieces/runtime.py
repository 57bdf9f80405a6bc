"""The hook module of apps made of pieces: their runner, which runs each call in the bridge.

Values go to the piece by its own names (the manifest keeps them), choices decoded back to
the values the piece listed, a dynamic property's fields gathered into its object, a file
read (URL, data URI or text) and handed over as the framework's file. The connection's
credentials go in the shape the piece's framework version reads. What the piece throws
comes back as our error classes: 401 expired, 429 throttled with its delay, other 4xx a
halt, 5xx and network failures transient, a lost Node process or thread a lost attempt.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from actionruns.config import Settings
from actionruns.pieces.bridge import BridgeFailure, NodeBridge
from actionruns.pieces.mapping import SECRET_TEXT_KEY, decode_choice, encode_choice, prop_fields
from actionruns.sdk.context import Context
from actionruns.sdk.described.manifest import AppManifest, FieldSpec, OperationSpec, PieceSpec
from actionruns.sdk.described.runtime import input_field
from actionruns.sdk.errors import (
    BlockedDestinationError,
    ExpiredAuthError,
    HaltError,
    ThrottledError,
    TransientError,
)
from actionruns.sdk.fields import Choice, ChoicePage, FieldType, InputField
from actionruns.sdk.files import read_file
from actionruns.sdk.http import DEFAULT_THROTTLE_DELAY
from actionruns.sdk.outbound import OutboundGuard
from actionruns.sdk.printed import keep_printed
from actionruns.sdk.redaction import redact, secrets_in_scope

CHOICES_PAGE = 100
# Keys whose values are credentials wherever a raw token response nests them (Slack's
# authed_user holds the user's access and refresh tokens): no field names them secret.
NESTED_SECRETS = frozenset({"access_token", "refresh_token", "id_token", "client_secret"})
# A dynamic property's fields are keyed ``<property>__<field>``.
NESTED = "__"
DESCRIBE_TIMEOUT = 60.0


class PiecesBridge(NodeBridge):
    """The bridge of a worker process: as its settings say, which user runs the pieces and
    where they are installed (``ACTIONRUNS_PIECES_USER``, ``ACTIONRUNS_PIECES_DIR``)."""

    def __init__(self, guard: OutboundGuard, settings: Settings) -> None:
        super().__init__(guard, user=settings.pieces_user)
        self.pieces_dir = settings.pieces_dir


_bridges: dict[asyncio.AbstractEventLoop, PiecesBridge] = {}


def shared_bridge(guard: OutboundGuard) -> PiecesBridge:
    """This process's bridge (one per event loop: its pipes belong to one), whose pieces
    connect where ``guard`` allows (the engine's, the same for every call)."""
    loop = asyncio.get_running_loop()
    found = _bridges.get(loop)
    if found is None:
        found = _bridges[loop] = PiecesBridge(guard, Settings.from_env())
    found.guard = guard
    return found


async def close_bridges() -> None:
    """Stop this event loop's bridge (a process's end stops them all: their input closes)."""
    found = _bridges.pop(asyncio.get_running_loop(), None)
    if found is not None:
        await found.close()


def piece_directory(piece: PieceSpec, elsewhere: Path | None) -> str:
    """Where the piece is installed: where ``pieces add`` put it, or the same folder name in
    ``elsewhere`` (another node's home, a folder the pieces' user may read)."""
    return str(elsewhere / Path(piece.directory).name) if elsewhere else piece.directory


def raise_failure(failure: BridgeFailure) -> None:
    """The bridge's report of a failed call, as our error class."""
    error = failure.error
    detail = str(failure)
    status = error.get("status")
    meta = {"status": status} if isinstance(status, int) else None
    if failure.kind == "refused":
        raise BlockedDestinationError(detail) from None
    if failure.kind in ("lost", "cancelled"):
        raise TransientError(f"The piece did not finish: {detail}") from None
    if isinstance(status, int):
        if status == 401:
            raise ExpiredAuthError(detail, meta=meta) from None
        if status == 429:
            delay = str(error.get("retry_after") or "")
            wait = float(delay) if delay.isdigit() else DEFAULT_THROTTLE_DELAY
            raise ThrottledError(detail, delay=wait, meta=meta) from None
        if status >= 500 or status == 408:
            raise TransientError(detail, meta=meta) from None
        raise HaltError(detail, meta=meta) from None
    if error.get("network"):
        raise TransientError(detail) from None
    raise HaltError(detail) from None


def nested_secrets(value: Any, depth: int = 0) -> Iterator[str]:
    """The credentials inside a raw token response, below its top level (which the app's
    auth already declares)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if depth and key in NESTED_SECRETS and isinstance(item, str):
                yield item
            else:
                yield from nested_secrets(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from nested_secrets(item, depth + 1)


def log_printed(ctx: Context, printed: Sequence[Mapping[str, Any]]) -> None:
    """What the piece printed during a call, with the call's secrets redacted as its result
    is: logged at debug (under the run's id) and kept with the attempt."""
    lines = [
        {"level": str(line.get("level") or "info"), "text": str(redact(str(line.get("text"))))}
        for line in printed
    ]
    for line in lines:
        ctx.log.debug("piece_printed", level=line["level"], text=line["text"])
    keep_printed(lines)


class PieceRunner:
    def __init__(self, manifest: AppManifest) -> None:
        assert manifest.piece is not None
        self.spec = manifest.piece
        self.auth = manifest.auth
        self.operations = {operation.key: operation for operation in manifest.operations}

    def piece(self, bridge: PiecesBridge) -> dict[str, str]:
        return {"dir": piece_directory(self.spec, bridge.pieces_dir), "package": self.spec.package}

    def auth_value(self, credentials: Mapping[str, Any]) -> Any:
        """The connection as the piece's framework reads it."""
        kind, typed = self.spec.auth_type, self.spec.typed_auth
        props = {
            spec.name or spec.key: credentials.get(spec.key)
            for spec in self.auth.fields
            if spec.key in credentials
        }
        if kind == "SECRET_TEXT":
            secret = credentials.get(SECRET_TEXT_KEY)
            return {"type": kind, "secret_text": secret} if typed else secret
        if kind == "BASIC_AUTH":
            pair = {
                "username": credentials.get("username"),
                "password": credentials.get("password"),
            }
            return {"type": kind, **pair} if typed else pair
        if kind == "CUSTOM_AUTH":
            return {"type": kind, "props": props} if typed else props
        if kind == "OAUTH2":
            # The raw token response is kept beside the token: pieces read ``data``.
            token = {"access_token": credentials.get("access_token"), "data": dict(credentials)}
            return {"type": kind, **token, "props": props} if typed else {**token, "props": props}
        return None

    async def _call(self, ctx: Context, request: dict[str, Any]) -> Any:
        bridge = shared_bridge(ctx.guard)
        printed: list[dict[str, Any]] = []
        nested = nested_secrets(ctx.credentials) if self.spec.auth_type == "OAUTH2" else ()
        # Redacted here, in their scope: the engine redacts only the secrets it knows of.
        with secrets_in_scope(nested):
            try:
                return redact(
                    await bridge.call(
                        {
                            **request,
                            "piece": self.piece(bridge),
                            "auth": self.auth_value(ctx.credentials),
                        },
                        printed=printed,
                    )
                )
            except BridgeFailure as failure:
                raise_failure(BridgeFailure(redact(failure.error)))
            finally:
                log_printed(ctx, printed)

    async def _value(self, ctx: Context, spec: FieldSpec, value: Any) -> Any:
        if value is None:
            return None
        if spec.choices or spec.runner == "choices":
            return [decode_choice(v) for v in value] if spec.list else decode_choice(value)
        if spec.type is FieldType.FILE and isinstance(value, str):
            found = await read_file(ctx, value)
            extension = found.filename.rsplit(".", 1)[-1] if "." in found.filename else ""
            return {
                "__file__": True,
                "filename": found.filename,
                "extension": extension,
                "base64": base64.b64encode(found.content).decode(),
            }
        return value

    async def props(self, ctx: Context, operation: OperationSpec, inputs: Mapping[str, Any]) -> Any:
        """The inputs by the piece's names, as the piece expects their values."""
        values: dict[str, Any] = {}
        if self.spec.auth_prop:
            values[self.spec.auth_prop] = self.auth_value(ctx.credentials)
        for spec in operation.inputs:
            name = spec.name or spec.key
            if spec.runner == "fields":
                prefix = spec.key + NESTED
                values[name] = {
                    key[len(prefix) :]: decode_choice(value)
                    for key, value in inputs.items()
                    if key.startswith(prefix)
                }
            elif spec.key in inputs:
                values[name] = await self._value(ctx, spec, inputs[spec.key])
        return values

    async def perform(self, ctx: Context, operation: str, inputs: Mapping[str, Any]) -> Any:
        spec = self.operations[operation]
        props = await self.props(ctx, spec, inputs)
        result = await self._call(ctx, {"op": "run", "action": spec.source, "props": props})
        return result if isinstance(result, Mapping | list) else {"value": result}

    async def choices(
        self, ctx: Context, operation: str, field: str, inputs: Mapping[str, Any], page: int
    ) -> ChoicePage:
        spec = self.operations[operation]
        name = next(f.name or f.key for f in spec.inputs if f.key == field)
        props = await self.props(ctx, spec, inputs)
        request = {"op": "options", "action": spec.source, "prop": name, "props": props}
        answer = await self._call(ctx, request)
        if not isinstance(answer, Mapping) or answer.get("disabled"):
            return ChoicePage([])
        listed = [
            Choice(encode_choice(option.get("value")), str(option.get("label", "")) or None)
            for option in answer.get("options") or ()
            if isinstance(option, Mapping)
        ]
        # The piece lists them all at once; we page them.
        start = page * CHOICES_PAGE
        return ChoicePage(
            listed[start : start + CHOICES_PAGE], has_more=len(listed) > start + CHOICES_PAGE
        )

    async def fields(
        self, ctx: Context, operation: str, field: str, inputs: Mapping[str, Any]
    ) -> Sequence[InputField]:
        spec = self.operations[operation]
        name = next(f.name or f.key for f in spec.inputs if f.key == field)
        props = await self.props(ctx, spec, inputs)
        request = {"op": "props", "action": spec.source, "prop": name, "props": props}
        answer = await self._call(ctx, request)
        listed, _ = prop_fields(answer if isinstance(answer, Mapping) else {})
        # Dropdowns inside a dynamic property are listed with it, never on their own.
        return [
            input_field(
                item.model_copy(
                    update={"key": field + NESTED + (item.name or item.key), "runner": None}
                )
            )
            for item in listed
            if item.runner is None
        ]

    async def test(self, ctx: Context) -> str | None:
        answer = await self._call(ctx, {"op": "validate", "auth_index": self.spec.auth_index})
        if isinstance(answer, Mapping) and answer.get("valid") is False:
            raise ExpiredAuthError(str(answer.get("error") or "The piece refused the connection."))
        return None


def runner(manifest: AppManifest) -> PieceRunner:
    return PieceRunner(manifest)
