"""Schemathesis against the service's own OpenAPI description: no input makes it answer 5xx.

The service runs for real (uvicorn on a free port, in its own thread and event loop) and every
operation is called with generated requests, valid and invalid, under a real client token.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from actionruns.api.app import create_app
from actionruns.engine import Engine
from tests.conftest import service_registry, service_settings


@pytest.fixture(scope="module")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home: Path = tmp_path_factory.mktemp("fuzz")
    config = service_settings(home=home, rate_limit_per_minute=1_000_000)
    engine = Engine(config, registry=service_registry())
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine), port=config.port, log_level="warning", lifespan="on")
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    created = asyncio.run_coroutine_threadsafe(engine.clients.create("fuzzer"), loop).result(30)
    base_url = f"http://127.0.0.1:{config.port}"
    token = httpx2.post(
        f"{base_url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created.record.id,
            "client_secret": created.client_secret,
        },
    ).json()["access_token"]
    try:
        yield {"base_url": base_url, "headers": {"Authorization": f"Bearer {token}"}}
    finally:
        server.should_exit = True
        thread.join(30)


def _openapi() -> dict[str, Any]:
    """The description the service publishes at /openapi.json, built without serving it."""
    with tempfile.TemporaryDirectory() as home:
        engine = Engine(service_settings(home=Path(home)), registry=service_registry())
        return create_app(engine, manage=False).openapi()


schema = schemathesis.openapi.from_dict(_openapi())


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_no_request_makes_a_server_error(case: Any, live_service: dict[str, Any]) -> None:
    # Long-polls are capped so the run stays short; the cap is part of the schema anyway.
    if isinstance(case.query, dict) and "wait_seconds" in case.query:
        case.query["wait_seconds"] = 0
    case.call_and_validate(
        base_url=live_service["base_url"],
        headers=live_service["headers"],
        checks=[not_a_server_error],
        timeout=30,
    )
