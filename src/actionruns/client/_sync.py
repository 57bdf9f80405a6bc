"""``Client``: the API with blocking calls. Every method hands an operation of ``Core`` to
``Client.run``, which makes its requests and pauses; nothing else happens here."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx2

from actionruns.client._core import Core, Op, Retries, Sleep
from actionruns.client._tokens import ClientCredentials
from actionruns.client.models import (
    Action,
    App,
    Authentication,
    ChoicePage,
    ConnectToken,
    InputField,
    Outputs,
    Run,
    RunStatus,
)

T = TypeVar("T")


class Client:
    """A client of the actionruns API with its client credentials; tokens are fetched and
    renewed as needed. ``with Client(...) as client:`` closes its connections at the end.

    ``signing_secret`` (the client's ``callback_signing_secret``) lets ``for_end_user``
    exchange tokens. ``transport``, ``sleep`` and ``clock`` are for tests and proxies.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        signing_secret: str | None = None,
        retries: Retries | None = None,
        timeout: float = 30.0,
        transport: httpx2.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        credentials = ClientCredentials(client_id, client_secret, scope)
        core = Core(base_url, credentials, retries=retries, timeout=timeout, clock=clock)
        self._setup(
            core, httpx2.Client(transport=transport, trust_env=False), sleep, signing_secret
        )
        self._owns_http = True

    def _setup(
        self,
        core: Core,
        http: httpx2.Client,
        sleep: Callable[[float], None],
        signing_secret: str | None,
    ) -> None:
        self._core, self._http, self._sleep = core, http, sleep
        self._signing_secret = signing_secret
        self._owns_http = False
        self.apps = Apps(self)
        self.actions = Actions(self)
        self.authentications = Authentications(self)
        self.connect_tokens = ConnectTokens(self)
        self.events = Events(self)
        self.runs = Runs(self)

    @property
    def end_user(self) -> str | None:
        return self._core.acting_for

    def for_end_user(self, end_user: str, *, exchange: bool = False) -> Client:
        """The same client acting for one of its end users: it sees and makes only that
        user's authentications and runs. By default it sends ``X-End-User`` with the
        client's token; with ``exchange`` it gets a token bound to the user (RFC 8693,
        signed with ``signing_secret``). Shares this client's connections."""
        core = self._core.for_end_user(
            end_user, exchange=exchange, signing_secret=self._signing_secret
        )
        acting = Client.__new__(Client)
        acting._setup(core, self._http, self._sleep, self._signing_secret)
        return acting

    def _drive(self, operation: Op[T]) -> T:
        """Drive one of ``Core``'s operations to its result with blocking I/O."""
        try:
            step = next(operation)
            while True:
                if isinstance(step, Sleep):
                    self._sleep(step.seconds)
                    step = operation.send(None)
                    continue
                try:
                    response = self._http.send(self._core.build(self._http, step))
                except httpx2.TransportError as exc:
                    step = operation.throw(exc)
                    continue
                step = operation.send(response)
        except StopIteration as done:
            result: T = done.value
            return result

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class _Resource:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._core = client._core


class Apps(_Resource):
    def list(self, *, query: str | None = None, category: str | None = None) -> builtins.list[App]:
        """Every app this client may use (all pages)."""
        return self._client._drive(self._core.apps(query, category))


class Actions(_Resource):
    def list(self, app: str, *, action_type: str | None = None) -> builtins.list[Action]:
        return self._client._drive(self._core.actions(app, action_type))

    def inputs(
        self,
        action: str,
        *,
        authentication: str | None = None,
        inputs: Mapping[str, Any] | None = None,
    ) -> builtins.list[InputField]:
        """The action's input fields; dynamic ones computed from ``authentication``/``inputs``."""
        return self._client._drive(self._core.inputs(action, authentication, inputs))

    def choices(
        self,
        action: str,
        input_id: str,
        *,
        authentication: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        page: int = 1,
    ) -> ChoicePage:
        operation = self._core.choices(action, input_id, authentication, inputs, page)
        return self._client._drive(operation)

    def outputs(self, action: str) -> Outputs:
        return self._client._drive(self._core.outputs(action))


class Authentications(_Resource):
    def list(
        self, *, app: str | None = None, end_user: str | None = None
    ) -> builtins.list[Authentication]:
        return self._client._drive(self._core.authentications(app, end_user))

    def get(self, authentication_id: str) -> Authentication:
        return self._client._drive(self._core.authentication(authentication_id))

    def create(self, app: str, fields: Mapping[str, Any], *, title: str = "") -> Authentication:
        """Connect an account: the service tests the credentials before it keeps them."""
        return self._client._drive(self._core.create_authentication(app, fields, title))

    def delete(self, authentication_id: str) -> None:
        self._client._drive(self._core.delete_authentication(authentication_id))

    def test(self, authentication_id: str) -> str | None:
        return self._client._drive(self._core.test_authentication(authentication_id))


class ConnectTokens(_Resource):
    def create(
        self, redirect_uri: str, *, app: str | None = None, authentication: str | None = None
    ) -> ConnectToken:
        """A single-use link to the hosted Connect page (for the client's end user)."""
        return self._client._drive(self._core.connect_token(app, redirect_uri, authentication))


class Events(_Resource):
    """Where ``authentication.expired`` / ``.recovered`` go (the partner's own token only)."""

    def url(self) -> str | None:
        return self._client._drive(self._core.events_url())

    def subscribe(self, url: str) -> None:
        self._client._drive(self._core.subscribe_events(url))

    def unsubscribe(self) -> None:
        self._client._drive(self._core.subscribe_events(None))


@dataclass(frozen=True)
class RunHandle:
    """A run just made: its id, and the calls that follow it."""

    id: str
    replayed: bool
    idempotency_key: str
    _runs: Runs

    def wait(self, timeout: float = 60.0) -> Run:
        return self._runs.wait(self.id, timeout)

    def get(self) -> Run:
        return self._runs.get(self.id)

    def cancel(self) -> Run:
        return self._runs.cancel(self.id)


class Runs(_Resource):
    def create(
        self,
        action: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        authentication: str | None = None,
        callback_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> RunHandle:
        """Queue a run of ``action`` (``app.action`` or an id). An ``Idempotency-Key`` is
        made unless given, so the client's own retries never run it twice."""
        created = self._client._drive(
            self._core.create_run(action, inputs, authentication, callback_url, idempotency_key)
        )
        return RunHandle(created.id, created.replayed, created.idempotency_key, self)

    def get(self, run_id: str) -> Run:
        return self._client._drive(self._core.run(run_id))

    def wait(self, run_id: str, timeout: float = 60.0) -> Run:
        """The run once finished (long-polled); ``WaitTimeout`` if ``timeout`` runs out."""
        return self._client._drive(self._core.wait(run_id, timeout))

    def cancel(self, run_id: str) -> Run:
        return self._client._drive(self._core.cancel(run_id))

    def list(
        self,
        *,
        status: RunStatus | None = None,
        app: str | None = None,
        action: str | None = None,
        authentication: str | None = None,
        end_user: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        page_size: int = 100,
    ) -> Iterator[Run]:
        """Every matching run, newest first, a page fetched only when the last is used up."""
        filters = {
            "status": status,
            "app": app,
            "action": action,
            "authentication": authentication,
            "end_user": end_user,
            "created_after": created_after,
            "created_before": created_before,
        }
        cursor: str | None = None
        while True:
            runs, cursor = self._client._drive(self._core.runs_page(filters, cursor, page_size))
            yield from runs
            if cursor is None:
                return
