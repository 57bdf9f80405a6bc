"""What the sync and the async client share: every request built, every answer read, every
error raised, every retry and token renewal decided here, once.

An operation is a generator (sans-I/O): it yields a ``Call`` (an HTTP request to make) or a
``Sleep`` (a pause), and is sent the response back; a transport failure is thrown into it,
so it decides whether to try again. ``Client`` and ``AsyncClient`` only drive generators,
one with blocking I/O, the other with ``await``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx2

from actionruns import __version__
from actionruns.client._tokens import ClientCredentials, Credentials, TokenExchange, TokenState
from actionruns.client.errors import WaitTimeout, error_for, retry_after_seconds
from actionruns.client.models import (
    Action,
    App,
    Authentication,
    Choice,
    ChoicePage,
    ConnectToken,
    InputField,
    OutputField,
    Outputs,
    Run,
    RunCreated,
)

T = TypeVar("T")

MAX_WAIT_SECONDS = 60.0  # what one long-poll of the API may hold (GET ?wait_seconds)
PAGE_SIZE = 100  # the API's largest page
EVENTS_PATH = "/v2/authentication-events/subscription"
USER_AGENT = f"actionruns-client/{__version__}"
TOKEN_WAIT_SECONDS = 0.02
TOKEN_WAITS = 1500  # 30 s: then a request fetches a token of its own


@dataclass(frozen=True)
class Call:
    """One HTTP request, relative to the base URL. ``retry_safe``: sending it twice does
    what sending it once does (a read, or a create with an ``Idempotency-Key``)."""

    method: str
    path: str
    params: Mapping[str, str | int | float] | None = None
    json: Any = None
    form: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    authorized: bool = True
    retry_safe: bool = False


@dataclass(frozen=True)
class Sleep:
    seconds: float


Step = Call | Sleep
Op = Generator[Step, httpx2.Response | None, T]


@dataclass(frozen=True)
class Retries:
    """How the client tries again: ``attempts`` in all (the first included). A 429 is
    retried, and a 503 or a lost connection when the call is retry-safe, after the answer's
    ``Retry-After`` (else ``backoff`` doubling); a ``Retry-After`` over ``max_wait`` seconds
    is not waited for: the error is raised at once."""

    attempts: int = 4
    max_wait: float = 60.0
    backoff: float = 0.5


def _json(response: httpx2.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _data(response: httpx2.Response) -> Any:
    body = _json(response)
    return body.get("data") if isinstance(body, Mapping) else None


def _id(value: str) -> str:
    """An id as one path segment: a slash or a question mark in it cannot reach another URL."""
    return quote(value, safe="")


def _unset(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


class Core:
    """One client's configuration and token, and every operation of the API as a generator."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        end_user: str | None = None,
        retries: Retries | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        tokens: TokenState | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.end_user = end_user
        self.retries = retries or Retries()
        self.timeout = timeout
        self.clock = clock
        self.tokens = tokens or TokenState()
        self.page_size = PAGE_SIZE

    @property
    def acting_for(self) -> str | None:
        """The end user this client acts for: by ``X-End-User`` or by an exchanged token."""
        return self.end_user or getattr(self.credentials, "end_user", None)

    def for_end_user(
        self, end_user: str, *, exchange: bool = False, signing_secret: str | None = None
    ) -> Core:
        """The same client acting for ``end_user``: with ``X-End-User`` beside the client's
        own token, or (``exchange``) with a token exchanged, signed with ``signing_secret``,
        for one bound to it."""
        if isinstance(self.credentials, TokenExchange):
            raise ValueError(f"this client acts for {self.credentials.end_user} alone")
        if not exchange:
            return Core(
                self.base_url,
                self.credentials,
                end_user=end_user,
                retries=self.retries,
                timeout=self.timeout,
                clock=self.clock,
                tokens=self.tokens,
            )
        if signing_secret is None:
            raise ValueError("token exchange needs the client's signing_secret")
        if not isinstance(self.credentials, ClientCredentials):
            raise TypeError("token exchange needs the client's id: build the client with it")
        exchanged = TokenExchange(
            self.credentials.client_id,
            signing_secret,
            end_user,
            self.base_url,
            self.credentials.scope,
        )
        return Core(
            self.base_url, exchanged, retries=self.retries, timeout=self.timeout, clock=self.clock
        )

    def build(self, http: httpx2.Client | httpx2.AsyncClient, call: Call) -> httpx2.Request:
        return http.build_request(
            call.method,
            self.base_url + call.path,
            params=call.params,
            json=call.json,
            data=call.form,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **call.headers},
            timeout=call.timeout or self.timeout,
        )

    # -- sending: tokens, retries, errors ----------------------------------------------

    def token(self) -> Op[str]:
        """The current token, or a new one: requests made together (``asyncio.gather``, or
        threads sharing a ``Client``) wait for the one that fetches it, within a bound."""
        for _ in range(TOKEN_WAITS):
            current = self.tokens.current(self.clock())
            if current is not None:
                return current
            if not self.tokens.fetching:
                break
            yield Sleep(TOKEN_WAIT_SECONDS)
        call = Call("POST", "/oauth/token", form=self.credentials.form(), authorized=False)
        # A spent subject token cannot be sent again: only client credentials are retry-safe.
        call = replace(call, retry_safe=isinstance(self.credentials, ClientCredentials))
        self.tokens.fetching = True
        try:
            response = yield from self.request(call)
        finally:
            self.tokens.fetching = False
        body = _json(response)
        self.tokens.keep(str(body["access_token"]), float(body["expires_in"]), self.clock())
        return str(body["access_token"])

    def request(self, call: Call) -> Op[httpx2.Response]:
        """Send ``call``: with a token (renewed once on a 401), again after a 429, 503 or
        lost connection as ``Retries`` allows, and an ``ApiError`` for any answer >= 400."""
        attempt, renewed = 1, False
        while True:
            headers = dict(call.headers)
            token = ""
            if call.authorized:
                token = yield from self.token()
                headers["Authorization"] = f"Bearer {token}"
                if self.end_user is not None:
                    headers["X-End-User"] = self.end_user
            try:
                response = yield replace(call, headers=headers)
            except httpx2.TransportError:
                if not call.retry_safe or attempt >= self.retries.attempts:
                    raise
                yield Sleep(self.retries.backoff * 2 ** (attempt - 1))
                attempt += 1
                continue
            assert response is not None
            status = response.status_code
            if status == 401 and call.authorized and not renewed:
                renewed = True  # revoked, or expired early: one new token, one more try
                self.tokens.forget(token)
                continue
            wait = self._retry_wait(call, response, attempt)
            if wait is not None:
                yield Sleep(wait)
                attempt += 1
                continue
            if status >= 400:
                raise error_for(status, _json(response), response.headers, response.text)
            return response

    def _retry_wait(self, call: Call, response: httpx2.Response, attempt: int) -> float | None:
        status = response.status_code
        if attempt >= self.retries.attempts:
            return None
        if status != 429 and not (status == 503 and call.retry_safe):
            return None
        wait = retry_after_seconds(response.headers.get("retry-after"))
        if wait is None:
            wait = self.retries.backoff * 2 ** (attempt - 1)
        return wait if wait <= self.retries.max_wait else None

    def _offset_pages(
        self, path: str, params: Mapping[str, Any], method: str = "GET", body: Any = None
    ) -> Op[list[Any]]:
        """Every item of an offset-paged list (apps, actions, authentications)."""
        items: list[Any] = []
        offset = 0
        while True:
            query = {**params, "limit": self.page_size, "offset": offset}
            response = yield from self.request(
                Call(method, path, params=query, json=body, retry_safe=True)
            )
            page = _json(response)
            items += page["data"]
            offset += self.page_size
            if not page["data"] or offset >= int(page["meta"]["count"]):
                return items

    # -- discovery ------------------------------------------------------------------------

    def apps(self, query: str | None, category: str | None) -> Op[list[App]]:
        params = _unset(query=query, category=category)
        found = yield from self._offset_pages("/v2/apps", params)
        return [App.from_json(item) for item in found]

    def actions(self, app: str, action_type: str | None) -> Op[list[Action]]:
        params = _unset(app=app, action_type=action_type)
        found = yield from self._offset_pages("/v2/actions", params)
        return [Action.from_json(item) for item in found]

    @staticmethod
    def _fields_body(authentication: str | None, inputs: Mapping[str, Any] | None) -> Any:
        return {"data": {"authentication": authentication, "inputs": dict(inputs or {})}}

    def inputs(
        self, action: str, authentication: str | None, inputs: Mapping[str, Any] | None
    ) -> Op[list[InputField]]:
        call = Call(
            "POST",
            f"/v2/actions/{_id(action)}/inputs",
            json=self._fields_body(authentication, inputs),
            retry_safe=True,
        )
        response = yield from self.request(call)
        return [InputField.from_json(item) for item in _data(response)]

    def choices(
        self,
        action: str,
        input_id: str,
        authentication: str | None,
        inputs: Mapping[str, Any] | None,
        page: int,
    ) -> Op[ChoicePage]:
        call = Call(
            "POST",
            f"/v2/actions/{_id(action)}/inputs/{_id(input_id)}/choices",
            params={"page": page},
            json=self._fields_body(authentication, inputs),
            retry_safe=True,
        )
        response = yield from self.request(call)
        body = _json(response)
        choices = [Choice.from_json(item) for item in body["data"]]
        return ChoicePage(choices, page, bool(body["links"]["next"]))

    def outputs(self, action: str) -> Op[Outputs]:
        call = Call(
            "POST", f"/v2/actions/{_id(action)}/outputs", json={"data": {}}, retry_safe=True
        )
        response = yield from self.request(call)
        body = _json(response)
        fields = [OutputField.from_json(item) for item in body["data"]]
        return Outputs(fields, dict(body.get("sample") or {}))

    # -- authentications and connect tokens ------------------------------------------------

    def authentications(self, app: str | None, end_user: str | None) -> Op[list[Authentication]]:
        found = yield from self._offset_pages(
            "/v2/authentications", _unset(app=app, end_user=end_user)
        )
        return [Authentication.from_json(item) for item in found]

    def authentication(self, authentication_id: str) -> Op[Authentication]:
        response = yield from self.request(
            Call("GET", f"/v2/authentications/{_id(authentication_id)}", retry_safe=True)
        )
        return Authentication.from_json(_data(response))

    def create_authentication(
        self, app: str, fields: Mapping[str, Any], title: str
    ) -> Op[Authentication]:
        body = {"data": {"app": app, "title": title, "authentication_fields": dict(fields)}}
        response = yield from self.request(Call("POST", "/v2/authentications", json=body))
        return Authentication.from_json(_data(response)[0])

    def delete_authentication(self, authentication_id: str) -> Op[None]:
        call = Call("DELETE", f"/v2/authentications/{_id(authentication_id)}", retry_safe=True)
        yield from self.request(call)

    def test_authentication(self, authentication_id: str) -> Op[str | None]:
        """The label of whose account it is, as the app says; an error if the test fails."""
        call = Call("POST", f"/v2/authentications/{_id(authentication_id)}/test", retry_safe=True)
        response = yield from self.request(call)
        label = _data(response)["test"].get("label")
        return None if label is None else str(label)

    def connect_token(
        self, app: str | None, redirect_uri: str, authentication: str | None
    ) -> Op[ConnectToken]:
        data = _unset(app=app, redirect_uri=redirect_uri, authentication=authentication)
        response = yield from self.request(Call("POST", "/v2/connect-tokens", json={"data": data}))
        return ConnectToken.from_json(_data(response)[0])

    def events_url(self) -> Op[str | None]:
        call = Call("GET", EVENTS_PATH, retry_safe=True)
        response = yield from self.request(call)
        url = _data(response).get("url")
        return None if url is None else str(url)

    def subscribe_events(self, url: str | None) -> Op[None]:
        """Where authentication events go (None: nowhere)."""
        if url is None:
            yield from self.request(Call("DELETE", EVENTS_PATH, retry_safe=True))
        else:
            body = {"data": {"url": url}}
            yield from self.request(Call("PUT", EVENTS_PATH, json=body, retry_safe=True))

    # -- runs -------------------------------------------------------------------------------

    def create_run(
        self,
        action: str,
        inputs: Mapping[str, Any] | None,
        authentication: str | None,
        callback_url: str | None,
        idempotency_key: str | None,
    ) -> Op[RunCreated]:
        # Made once, before the first attempt: every retry carries it, so a retry after a
        # lost answer finds the run the first attempt made instead of making another.
        key = idempotency_key or f"arc-{uuid.uuid4().hex}"
        data = {"action": action, "inputs": dict(inputs or {}), "authentication": authentication}
        if callback_url is not None:
            data["callback_url"] = callback_url
        call = Call(
            "POST",
            "/v2/action-runs",
            json={"data": data},
            headers={"Idempotency-Key": key},
            retry_safe=True,
        )
        response = yield from self.request(call)
        replayed = response.headers.get("idempotent-replayed") == "true"
        return RunCreated(str(_data(response)["id"]), replayed, key)

    def run(self, run_id: str, wait_seconds: float = 0) -> Op[Run]:
        params = {"wait_seconds": round(wait_seconds, 3)} if wait_seconds > 0 else None
        call = Call(
            "GET",
            f"/v2/action-runs/{_id(run_id)}",
            params=params,
            timeout=max(self.timeout, wait_seconds + 15),
            retry_safe=True,
        )
        response = yield from self.request(call)
        return Run.from_json(_data(response))

    def wait(self, run_id: str, timeout: float) -> Op[Run]:
        """Long-polls until the run finishes (each poll holds up to a minute); raises
        ``WaitTimeout`` with the run as last read if ``timeout`` runs out first."""
        deadline = self.clock() + timeout
        while True:
            remaining = max(0.0, deadline - self.clock())
            run = yield from self.run(run_id, min(remaining, MAX_WAIT_SECONDS))
            if run.finished:
                return run
            if remaining <= 0 or self.clock() >= deadline:
                raise WaitTimeout(run, timeout)

    def cancel(self, run_id: str) -> Op[Run]:
        call = Call("POST", f"/v2/action-runs/{_id(run_id)}/cancel", retry_safe=True)
        response = yield from self.request(call)
        return Run.from_json(_data(response))

    def runs_page(
        self, filters: Mapping[str, Any], cursor: str | None, limit: int
    ) -> Op[tuple[list[Run], str | None]]:
        given = {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in filters.items()
            if value is not None
        }
        params = {**given, "limit": limit, **_unset(cursor=cursor)}
        response = yield from self.request(
            Call("GET", "/v2/action-runs", params=params, retry_safe=True)
        )
        body = _json(response)
        runs = [Run.from_json(item) for item in body["data"]]
        next_cursor = body["meta"].get("next_cursor")
        return runs, None if next_cursor is None else str(next_cursor)
