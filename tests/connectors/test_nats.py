"""The NATS connector against the real NATS server (with JetStream), reading back what arrived."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest

from actionruns.connectors.nats import app
from actionruns.sdk import HaltError, TransientError
from actionruns.sdk.context import open_context
from actionruns.sdk.fields import validate_inputs
from actionruns.sdk.outbound import OutboundGuard
from tests.conftest import LOOPBACK, ApiClient, ServiceFactory, free_port
from tests.servers import require_server

CREDENTIALS = {"host": "127.0.0.1", "port": 4222}
actions = {action.key: action for action in app.actions}


@pytest.fixture
async def server() -> AsyncIterator[Any]:
    require_server("NATS", "127.0.0.1", 4222)
    connection = await nats.connect("nats://127.0.0.1:4222")
    yield connection
    await connection.close()


async def perform(action: str, credentials: dict[str, Any] | None = None, **inputs: Any) -> Any:
    spec = actions[action]
    guard = OutboundGuard(LOOPBACK)
    async with open_context(app.auth, credentials or CREDENTIALS, guard, app_key="nats") as ctx:
        return await spec.perform(ctx, validate_inputs(spec.static_inputs, inputs))


async def test_publish_reaches_a_subscriber_with_headers(server: Any) -> None:
    subject = f"actionruns.test.{uuid.uuid4().hex}"
    subscription = await server.subscribe(subject)
    await server.flush()
    assert await perform(
        "publish", subject=subject, message="order 42", headers={"source": "shop"}
    ) == {"subject": subject}
    message = await subscription.next_msg(timeout=5)
    assert message.data == b"order 42"
    assert message.headers == {"source": "shop"}


async def test_jetstream_publish_is_acknowledged_and_deduplicated(server: Any) -> None:
    name = f"ACTIONRUNS_{uuid.uuid4().hex[:8].upper()}"
    subject = f"actionruns.js.{name.lower()}"
    stream = server.jetstream()
    await stream.add_stream(name=name, subjects=[subject])
    try:
        first = await perform(
            "jetstream_publish", subject=subject, message="m1", message_id="order-42"
        )
        again = await perform(
            "jetstream_publish", subject=subject, message="m1", message_id="order-42"
        )
        assert first == {"stream": name, "sequence": 1, "duplicate": False}
        assert again["duplicate"] is True
        stored = await stream.get_msg(name, 1)
        assert stored.data == b"m1"
        with pytest.raises(HaltError, match="No JetStream stream"):
            await perform("jetstream_publish", subject="actionruns.nowhere", message="x")
    finally:
        await stream.delete_stream(name)


async def test_an_unreachable_server_is_transient() -> None:
    with pytest.raises(TransientError):
        await perform(
            "publish", {"host": "127.0.0.1", "port": free_port()}, subject="a", message="b"
        )


async def test_end_to_end_over_http(start_service: ServiceFactory, server: Any) -> None:
    service = await start_service()
    acme: ApiClient = await service.new_client("acme")
    authentication = await acme.connect("nats", CREDENTIALS, title="Events")
    subject = f"actionruns.e2e.{uuid.uuid4().hex}"
    subscription = await server.subscribe(subject)
    await server.flush()

    run = await acme.wait(
        await acme.run("nats.publish", {"subject": subject, "message": "hello"}, authentication)
    )

    assert run["status"] == "success", run
    assert (await subscription.next_msg(timeout=5)).data == b"hello"

    stream = server.jetstream()
    name = f"E2E_{uuid.uuid4().hex[:8]}"
    await stream.add_stream(name=name, subjects=[f"{subject}.js"])
    try:
        acked = await acme.wait(
            await acme.run(
                "nats.jetstream_publish",
                {"subject": f"{subject}.js", "message": "stored"},
                authentication,
            )
        )
        assert acked["status"] == "success", acked
        assert acked["results"][0]["stream"] == name
        assert (await stream.get_msg(name, 1)).data == b"stored"
    finally:
        await stream.delete_stream(name)
