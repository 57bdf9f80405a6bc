"""Schemathesis against the service's own OpenAPI description, on SQLite and on PostgreSQL:
no request makes it answer 5xx, and every answer is one the description documents (its
status, content type, headers and body schema).

The app runs in-process: schemathesis calls it over ASGI and runs its lifespan (which migrates
the database and starts the engine, without workers) on an event loop of its own. Every
operation gets generated requests, valid and invalid, under a real client token.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from actionruns.api.app import create_app
from actionruns.api.security import TokenIssuer
from actionruns.config import Settings
from actionruns.engine import Engine
from actionruns.engine.scopes import ALL_SCOPES
from tests.conftest import (
    offline_resolver,
    published_document,
    service_registry,
    service_settings,
)
from tests.postgres import fresh_database

# Every operation the API publishes; the fuzzing below covers each of them.
OPERATIONS = {
    ("POST", "/oauth/token"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/v2/apps"),
    ("GET", "/v2/actions"),
    ("POST", "/v2/actions/{action_id}/inputs"),
    ("POST", "/v2/actions/{action_id}/inputs/{input_id}/choices"),
    ("POST", "/v2/actions/{action_id}/outputs"),
    ("POST", "/v2/actions/{action_id}/test"),
    ("GET", "/v2/authentications"),
    ("POST", "/v2/authentications"),
    ("GET", "/v2/authentications/{authentication_id}"),
    ("DELETE", "/v2/authentications/{authentication_id}"),
    ("POST", "/v2/authentications/{authentication_id}/test"),
    ("POST", "/v2/connect-tokens"),
    ("GET", "/v2/authentication-events/subscription"),
    ("PUT", "/v2/authentication-events/subscription"),
    ("DELETE", "/v2/authentication-events/subscription"),
    ("POST", "/v2/action-runs"),
    ("GET", "/v2/action-runs"),
    ("GET", "/v2/action-runs/{run_id}"),
    ("GET", "/v2/action-runs/{run_id}/attempts"),
    ("POST", "/v2/action-runs/{run_id}/cancel"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
}


schema = schemathesis.openapi.from_dict(published_document())


def _client_token(config: Settings) -> str:
    """A client and a token of it, made before the app starts: it shares their database and
    key file, so it accepts the token as its own."""

    async def make() -> str:
        engine = Engine(config, registry=service_registry())
        await engine.migrate()
        try:
            created = await engine.clients.create("fuzzer")
            issued = await TokenIssuer(engine).issue(created.record, list(ALL_SCOPES))
            return str(issued["access_token"])
        finally:
            await engine.stop()

    return asyncio.run(make())


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Cases run on each backend, printed at the end (with -s) for the record.
CASES: Counter[str] = Counter()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def installation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, str]]:
    """One home (database and keys) per backend for every operation, with a client's token."""
    backend = str(request.param)
    database = fresh_database() if backend == "postgresql" else None
    # One loop for creating and dropping the database: asyncio.run would close the context
    # manager (and drop it) as soon as it returned.
    loop = asyncio.new_event_loop()
    url = loop.run_until_complete(database.__aenter__()) if database is not None else ""
    home = tmp_path_factory.mktemp(f"fuzz-{backend}")
    config = service_settings(home=home, rate_limit_per_minute=1_000_000, database_url=url)
    try:
        yield config, _client_token(config)
    finally:
        failed = CASES[f"{backend} failed"]
        print(f"\nschemathesis on {backend}: {CASES[backend]} cases, {failed} failed")
        if database is not None:
            loop.run_until_complete(database.__aexit__(None, None, None))
        loop.close()


@pytest.fixture
def fuzzed(installation: tuple[Settings, str]) -> tuple[FastAPI, dict[str, str]]:
    """An app per operation: schemathesis ends an app's lifespan, and with it the engine,
    when the test that started it ends."""
    config, token = installation
    engine = Engine(config, registry=service_registry(), resolver=offline_resolver)
    app = create_app(engine, run_workers=False)
    return app, {"Authorization": f"Bearer {token}"}


def test_the_fuzzed_description_is_the_whole_api() -> None:
    published = {
        (method.upper(), path)
        for path, item in published_document()["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert published == OPERATIONS


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_no_request_makes_a_server_error(case: Any, fuzzed: tuple[FastAPI, dict[str, str]]) -> None:
    app, headers = fuzzed
    # No worker runs, so a long-poll would hold for its full wait: shorten valid ones.
    if isinstance(case.query, dict):
        wait = case.query.get("wait_seconds")
        if isinstance(wait, int | float) and not isinstance(wait, bool) and 0 < wait <= 60:
            case.query["wait_seconds"] = 0.01
    backend = "postgresql" if fuzzed_backend(app) else "sqlite"
    CASES[backend] += 1
    try:
        case.call_and_validate(app=app, headers=dict(headers), checks=CHECKS)
    except BaseException:
        CASES[f"{backend} failed"] += 1
        raise


def fuzzed_backend(app: FastAPI) -> bool:
    engine: Engine = app.state.engine
    return engine.store.runner.dialect == "postgresql"
