"""Shared fixtures: a real service on a free port, clients and tokens, a controllable clock."""

from __future__ import annotations

import asyncio
import functools
import socket
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from sqlalchemy import func, select

from actionruns import logs
from actionruns.api.app import create_app
from actionruns.config import Settings
from actionruns.engine import Engine
from actionruns.logs import configure_logging
from actionruns.sdk.app import App
from actionruns.sdk.outbound import parse_networks
from actionruns.sdk.registry import Registry
from actionruns.store.schema import runs
from tests.openapi_messages import DocumentedAnswers
from tests.postgres import fresh_database
from tests.testkit import echoing, limited, secretive, testkit

logs.cache_loggers = False  # log captures (structlog.testing) swap processors within a test
configure_logging()


@pytest.fixture(autouse=True)
def _logging_as_configured() -> Iterator[None]:
    """Each test starts from the suite's logging: a command run in-process (CliRunner)
    configures it for the whole process, some quieter (apps, connectors check, run)."""
    yield
    configure_logging()


LOOPBACK = parse_networks("127.0.0.0/8,::1/128")


# Names the tests' services resolve to loopback (RFC 2606's, and localhost): whatever a
# test has them send there stays on this machine.
LOOPBACK_NAMES = ("localhost", "example.com", "example.org", "example.net")
# A name with a public address, for checks that never connect (dry runs, refusals): nothing
# may be sent to it, since it would leave this machine.
PUBLIC_NAME, PUBLIC_ADDRESS = "public.example", "93.184.215.14"


async def offline_resolver(host: str, port: int) -> list[str]:
    """Addresses written as such, and the names above: the tests' services never ask a DNS
    server (a query would leave this machine)."""
    name = host.lower().rstrip(".")
    if any(name == known or name.endswith("." + known) for known in LOOPBACK_NAMES):
        return ["127.0.0.1"]
    if name == PUBLIC_NAME:
        return [PUBLIC_ADDRESS]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeClock:
    """Real time plus an offset a test can move forward (retention, expiry)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class RoutingTransport(httpx2.AsyncBaseTransport):
    """Sends requests for some hosts to vendor emulators, the rest to the real network path."""

    def __init__(
        self, routes: Mapping[str, httpx2.AsyncBaseTransport], default: httpx2.AsyncBaseTransport
    ) -> None:
        self.routes = dict(routes)
        self.default = default

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        transport = self.routes.get(request.url.host, self.default)
        return await transport.handle_async_request(request)


def service_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "port": free_port(),
        "outbound_allow": LOOPBACK,
        "retry_base_seconds": 0.05,
        "retry_max_seconds": 0.2,
        "callback_retry_base_seconds": 0.05,
        "lease_seconds": 3.0,
        "action_timeout": 10.0,
        **overrides,
    }
    return Settings(**values)


def service_registry() -> Registry:
    registry = Registry.from_entry_points()
    registry.add(testkit)
    registry.add(secretive)
    registry.add(limited)
    registry.add(echoing)
    return registry


def published_document() -> dict[str, Any]:
    """The OpenAPI document the service publishes at /openapi.json, built without starting it."""
    with tempfile.TemporaryDirectory() as home:
        engine = Engine(service_settings(home=Path(home)), registry=service_registry())
        return create_app(engine, manage=False).openapi()


@functools.cache
def documented_answers() -> DocumentedAnswers:
    """The check of every answer the tests' services give against the published document."""
    return DocumentedAnswers(published_document())


# Answers checked by xdist's workers, summed in the controller as each worker ends.
_checked_by_workers: Counter[tuple[str, str, int]] = Counter()


def _checked_here() -> Counter[tuple[str, str, int]]:
    return documented_answers().checked if documented_answers.cache_info().currsize else Counter()


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand its counts to the controller
        workeroutput["documented_answers"] = [[*key, n] for key, n in _checked_here().items()]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    for method, path, status, count in getattr(node, "workeroutput", {}).get(
        "documented_answers", []
    ):
        _checked_by_workers[(method, path, status)] += count


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    checked = _checked_here() + _checked_by_workers
    if checked:
        operations = {(method, path) for method, path, _ in checked}
        terminalreporter.write_line(
            f"answers checked against the OpenAPI document: {sum(checked.values())}, "
            f"of {len(operations)} operations"
        )


@dataclass
class Service:
    """A running actionruns over real HTTP, plus direct access to its engine."""

    engine: Engine
    base_url: str
    http: httpx2.AsyncClient
    clock: FakeClock
    tokens: dict[str, str] = field(default_factory=dict)

    async def new_client(
        self, name: str, scopes: list[str] | None = None, token_scopes: list[str] | None = None
    ) -> ApiClient:
        created = await (
            self.engine.clients.create(name, scopes) if scopes else self.engine.clients.create(name)
        )
        form = {
            "grant_type": "client_credentials",
            "client_id": created.record.id,
            "client_secret": created.client_secret,
        }
        if token_scopes is not None:
            form["scope"] = " ".join(token_scopes)
        response = await self.http.post("/oauth/token", data=form)
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        return ApiClient(
            self, created.record.id, created.client_secret, created.signing_secret, token
        )

    async def stored_runs(self) -> int:
        """How many runs the store holds, in any state."""
        count = select(func.count()).select_from(runs)
        return await self.engine.store.transaction(lambda conn: conn.execute(count).scalar_one())


@dataclass
class ApiClient:
    service: Service
    client_id: str
    client_secret: str
    signing_secret: str
    token: str
    end_user: str | None = None  # sent as X-End-User

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.end_user is not None:
            headers["X-End-User"] = self.end_user
        return headers

    def acting_for(self, end_user: str | None) -> ApiClient:
        return replace(self, end_user=end_user)

    async def with_scopes(self, *scopes: str, path: str = "/oauth/token") -> ApiClient:
        """The same client with a new token for ``scopes`` (all the client's if none)."""
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if scopes:
            form["scope"] = " ".join(scopes)
        response = await self.service.http.post(path, data=form)
        assert response.status_code == 200, response.text
        return replace(self, token=response.json()["access_token"])

    async def get(self, path: str, **kwargs: Any) -> httpx2.Response:
        return await self.service.http.get(
            path, headers=self.headers | kwargs.pop("headers", {}), **kwargs
        )

    async def post(self, path: str, **kwargs: Any) -> httpx2.Response:
        return await self.service.http.post(
            path, headers=self.headers | kwargs.pop("headers", {}), **kwargs
        )

    async def run(
        self,
        action: str,
        inputs: Mapping[str, Any] | None = None,
        authentication: str | None = None,
        **extra: Any,
    ) -> str:
        response = await self.post(
            "/v2/action-runs",
            json={
                "data": {
                    "action": action,
                    "authentication": authentication,
                    "inputs": dict(inputs or {}),
                    **extra,
                }
            },
        )
        assert response.status_code == 200, response.text
        return str(response.json()["data"]["id"])

    async def wait(self, run_id: str, seconds: float = 20) -> dict[str, Any]:
        response = await self.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": seconds})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    async def connect(self, app: str, fields: Mapping[str, Any], title: str = "") -> str:
        response = await self.post(
            "/v2/authentications",
            json={"data": {"app": app, "title": title, "authentication_fields": dict(fields)}},
        )
        assert response.status_code == 201, response.text
        return str(response.json()["data"][0]["id"])


ServiceFactory = Callable[..., Awaitable[Service]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backend() -> str:
    """The database the test's services use; tests/engine runs every test on both."""
    return "sqlite"


@pytest.fixture
async def database_url(backend: str) -> AsyncIterator[str]:
    """Empty for SQLite (each service has its own file), else a fresh PostgreSQL database."""
    if backend == "sqlite":
        yield ""
        return
    async with fresh_database() as url:
        yield url


@pytest.fixture
async def start_service(
    tmp_path: Path, clock: FakeClock, database_url: str
) -> AsyncIterator[ServiceFactory]:
    """Start services with custom settings or transports; all are stopped at the end.

    On PostgreSQL the services of one test share its database, as API nodes and workers do.
    """
    running: list[tuple[uvicorn.Server, asyncio.Task[None], httpx2.AsyncClient]] = []

    async def start(
        *,
        routes: Mapping[str, httpx2.AsyncBaseTransport] | None = None,
        workers: bool = True,
        apps: Sequence[App] = (),
        **overrides: Any,
    ) -> Service:
        overrides.setdefault("database_url", database_url)
        overrides.setdefault("home", tmp_path / f"home{len(running)}")
        settings = service_settings(**overrides)
        registry = service_registry()
        for extra in apps:
            registry.add(extra)
        engine = Engine(settings, registry=registry, clock=clock, resolver=offline_resolver)
        if routes:
            engine.connections.transport = RoutingTransport(routes, engine.guard.http_transport())
        app = create_app(engine, run_workers=workers)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=settings.port, log_level="warning", lifespan="on"
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        base_url = f"http://127.0.0.1:{settings.port}"
        http = httpx2.AsyncClient(
            base_url=base_url, timeout=90, event_hooks={"response": [documented_answers()]}
        )
        running.append((server, task, http))
        return Service(engine, base_url, http, clock)

    yield start
    for server, task, http in running:
        await http.aclose()
        server.should_exit = True
        await task


@pytest.fixture
async def service(start_service: ServiceFactory) -> Service:
    result: Service = await start_service()
    return result


@pytest.fixture
async def acme(service: Service) -> ApiClient:
    return await service.new_client("acme")
