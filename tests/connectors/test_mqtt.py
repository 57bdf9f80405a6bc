"""The MQTT connector against the real Mosquitto broker, reading back what arrived."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiomqtt
import pytest

from actionruns.connectors.mqtt import app
from actionruns.sdk import HaltError, TransientError
from actionruns.sdk.context import open_context
from actionruns.sdk.fields import validate_inputs
from actionruns.sdk.outbound import OutboundGuard
from tests.conftest import LOOPBACK, ApiClient, ServiceFactory, free_port
from tests.servers import require_server

CREDENTIALS = {"host": "127.0.0.1", "port": 1883}
publish = app.actions[0]


@pytest.fixture
def broker() -> None:
    require_server("Mosquitto", "127.0.0.1", 1883)


async def perform(credentials: dict[str, Any] | None = None, **inputs: Any) -> Any:
    guard = OutboundGuard(LOOPBACK)
    async with open_context(app.auth, credentials or CREDENTIALS, guard, app_key="mqtt") as ctx:
        return await publish.perform(ctx, validate_inputs(publish.static_inputs, inputs))


async def receive(topic: str, send: Any) -> aiomqtt.Message:
    """Subscribe to ``topic``, then run ``send`` and return the first message that arrives."""
    async with aiomqtt.Client("127.0.0.1", 1883) as subscriber:
        await subscriber.subscribe(topic, qos=1)
        await send()
        async with asyncio.timeout(10):
            async for message in subscriber.messages:
                return message
    raise AssertionError("no message")


@pytest.mark.parametrize("qos", ["0", "1", "2"])
async def test_publish_at_each_qos(broker: None, qos: str) -> None:
    topic = f"actionruns/test/{uuid.uuid4().hex}"
    results: list[Any] = []

    async def send() -> None:
        results.append(await perform(topic=topic, message="21.5", qos=qos))

    message = await receive(topic, send)
    assert message.payload == b"21.5"
    assert results == [{"topic": topic, "qos": int(qos), "retained": False}]


async def test_a_retained_message_reaches_later_subscribers(broker: None) -> None:
    topic = f"actionruns/test/{uuid.uuid4().hex}"
    await perform(topic=topic, message="last known", retain=True)

    async def nothing() -> None:
        return None

    message = await receive(topic, nothing)
    assert message.payload == b"last known" and message.retain
    async with aiomqtt.Client("127.0.0.1", 1883) as client:
        await client.publish(topic, b"", retain=True)  # clears the retained message


async def test_bad_topics_and_unreachable_brokers(broker: None) -> None:
    with pytest.raises(HaltError, match="wildcards"):
        await perform(topic="sensors/+/temp", message="x")
    with pytest.raises(TransientError):
        await perform({"host": "127.0.0.1", "port": free_port()}, topic="a/b", message="x")


async def test_end_to_end_over_http(start_service: ServiceFactory, broker: None) -> None:
    service = await start_service()
    acme: ApiClient = await service.new_client("acme")
    authentication = await acme.connect("mqtt", CREDENTIALS, title="Broker")
    topic = f"actionruns/e2e/{uuid.uuid4().hex}"
    runs: list[dict[str, Any]] = []

    async def send() -> None:
        run_id = await acme.run("mqtt.publish", {"topic": topic, "message": "on"}, authentication)
        runs.append(await acme.wait(run_id))

    message = await receive(topic, send)
    assert runs[0]["status"] == "success", runs
    assert message.payload == b"on"
