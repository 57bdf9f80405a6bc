"""Discovery for a principal: the apps it may use, action fields, choices, outputs, tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx2
import structlog

from actionruns.connections import ConnectionService
from actionruns.errors import Forbidden, NotFound, Unprocessable, UpstreamFailed, ValidationFailed
from actionruns.principal import Principal
from actionruns.sdk.app import Action, App, normalize_results
from actionruns.sdk.auth import AuthType
from actionruns.sdk.context import Context
from actionruns.sdk.errors import ActionError
from actionruns.sdk.fields import ChoicePage, FieldErrors, InputField, validate_inputs
from actionruns.sdk.outbound import guard_error
from actionruns.sdk.redaction import redact
from actionruns.sdk.registry import Registry

T = TypeVar("T")

log = structlog.get_logger(__name__)


class Catalog:
    def __init__(
        self, registry: Registry, connections: ConnectionService, *, action_timeout: float = 60.0
    ) -> None:
        self.registry = registry
        self.connections = connections
        # Connector calls made while a request waits get the same time limit as run attempts.
        self.action_timeout = action_timeout

    def _timeout(self, action: Action) -> float:
        return action.timeout or self.action_timeout

    def apps(self, principal: Principal) -> list[App]:
        return [app for app in self.registry if principal.may_use_app(app.key)]

    def _allowed(self, principal: Principal, app: App) -> None:
        if not principal.may_use_app(app.key):
            raise Forbidden(f"This client is not allowed to use the app {app.key}.")

    def app(
        self,
        principal: Principal,
        ref: str,
        *,
        parameter: str | None = None,
        pointer: str | None = None,
    ) -> App:
        app = self.registry.app(ref)
        if app is None:
            detail = self._missing("app", ref)
            if parameter or pointer:
                raise Unprocessable(detail, parameter=parameter, pointer=pointer)
            raise NotFound(detail)
        self._allowed(principal, app)
        return app

    def action(
        self, principal: Principal, ref: str, *, pointer: str | None = None
    ) -> tuple[App, Action]:
        found = self.registry.action(ref)
        if found is None:
            detail = self._missing("action", ref)
            if pointer:
                raise Unprocessable(detail, pointer=pointer)
            raise NotFound(detail)
        self._allowed(principal, found[0])
        return found

    def _missing(self, kind: str, ref: str) -> str:
        """Why there is no such app or action: an installed app this service cannot load
        (its driver is missing) says so, without the operator's details."""
        if ref.partition(".")[0] in self.registry.unavailable:
            return f"The app {ref.partition('.')[0]} is not available on this service."
        return f"No {kind} {ref!r}."

    @asynccontextmanager
    async def _context(
        self, principal: Principal, app: App, authentication_id: str | None
    ) -> AsyncIterator[Context | None]:
        """A connector context when the app needs none or the authentication is given."""
        if authentication_id is None:
            if app.auth.type is AuthType.NONE:
                async with self.connections.context(app, {}) as ctx:
                    yield ctx
            else:
                yield None
            return
        record = await self.connections.get(principal, authentication_id)
        if record.app_key != app.key:
            raise Unprocessable(
                f"The authentication belongs to {record.app_key}, not {app.key}.",
                pointer="/data/authentication",
            )
        async with self.connections.context(
            app, self.connections.credentials(record), authentication_id=record.id
        ) as ctx:
            yield ctx

    async def input_fields(
        self,
        principal: Principal,
        action_ref: str,
        authentication_id: str | None,
        inputs: Mapping[str, Any],
    ) -> tuple[App, Action, list[InputField]]:
        app, action = self.action(principal, action_ref)
        async with self._context(principal, app, authentication_id) as ctx:
            fields = await _calling_app(action.input_fields(ctx, inputs), self._timeout(action))
        return app, action, fields

    async def choices(
        self,
        principal: Principal,
        action_ref: str,
        input_id: str,
        authentication_id: str | None,
        inputs: Mapping[str, Any],
        page: int,
    ) -> ChoicePage:
        app, action = self.action(principal, action_ref)
        async with self._context(principal, app, authentication_id) as ctx:
            fields = await _calling_app(action.input_fields(ctx, inputs), self._timeout(action))
            spec = next((f for f in fields if f.key == input_id), None)
            if spec is None:
                raise NotFound(f"The action has no input {input_id!r}.")
            if spec.dynamic_choices is None:
                size = 100
                static = list(spec.choices)
                return ChoicePage(
                    static[page * size : (page + 1) * size],
                    has_more=len(static) > (page + 1) * size,
                )
            if ctx is None:
                raise Unprocessable(
                    "These choices need an authentication.", pointer="/data/authentication"
                )
            return await _calling_app(
                spec.dynamic_choices(ctx, inputs, page), self._timeout(action)
            )

    async def test(
        self,
        principal: Principal,
        action_ref: str,
        authentication_id: str | None,
        inputs: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        app, action = self.action(principal, action_ref)
        if authentication_id is None and app.auth.type is not AuthType.NONE:
            raise Unprocessable(
                f"The app {app.key} needs an authentication.", pointer="/data/authentication"
            )
        async with self._context(principal, app, authentication_id) as ctx:
            assert ctx is not None
            timeout = self._timeout(action)
            fields = await _calling_app(action.input_fields(ctx, inputs), timeout)
            try:
                values = validate_inputs(fields, inputs)
            except FieldErrors as exc:
                raise ValidationFailed(exc.errors, pointer_prefix="/data/inputs") from None
            result = await _calling_app(action.perform(ctx, values), timeout)
            # Inside the context: its credentials are the secrets redaction looks for.
            results: list[dict[str, Any]] = redact(normalize_results(result))
        return results


async def _calling_app(call: Awaitable[T], timeout: float) -> T:
    """Await a connector call for at most ``timeout`` seconds; its refusals become a 400 that
    says what the app said, and an app that cannot be reached, does not answer in time or
    whose connector fails a 502."""
    try:
        async with asyncio.timeout(timeout):
            return await call
    except ActionError as exc:
        raise Unprocessable(
            redact(f"{exc.title}: {exc.detail}"), meta={"code": exc.code, **exc.meta}
        ) from None
    except (httpx2.HTTPError, OSError) as exc:  # TimeoutError is an OSError
        refused = guard_error(exc)
        if refused is not None:
            raise Unprocessable(
                redact(f"{refused.title}: {refused.detail}"), meta={"code": refused.code}
            ) from None
        if isinstance(exc, TimeoutError):
            raise UpstreamFailed(f"The app did not answer within {timeout:g} seconds.") from None
        raise UpstreamFailed(redact(f"The app could not be reached: {exc}")) from None
    except Exception:
        # A bug in the connector: a run records it as a connector error, and so does this.
        log.exception("connector_crashed")
        raise UpstreamFailed(
            "The connector failed unexpectedly; the operator's logs have details.",
            meta={"code": "connector_error"},
        ) from None
