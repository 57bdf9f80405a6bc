"""The RabbitMQ connector against the real broker, reading back what arrived."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest

from actionruns.connectors.rabbitmq import app
from actionruns.sdk import ExpiredAuthError, HaltError, TransientError
from actionruns.sdk.context import open_context
from actionruns.sdk.fields import validate_inputs
from actionruns.sdk.outbound import OutboundGuard
from tests.conftest import LOOPBACK, ApiClient, ServiceFactory, free_port
from tests.servers import require_server

CREDENTIALS = {"host": "127.0.0.1", "port": 5672, "username": "guest", "password": "guest"}
publish = app.actions[0]


@pytest.fixture
async def channel() -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    require_server("RabbitMQ", "127.0.0.1", 5672)
    connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
    async with connection:
        yield await connection.channel()


async def perform(credentials: dict[str, Any] | None = None, **inputs: Any) -> Any:
    guard = OutboundGuard(LOOPBACK)
    async with open_context(app.auth, credentials or CREDENTIALS, guard, app_key="rabbitmq") as ctx:
        return await publish.perform(ctx, validate_inputs(publish.static_inputs, inputs))


async def test_publish_to_a_queue_through_the_default_exchange(
    channel: aio_pika.abc.AbstractChannel,
) -> None:
    queue = await channel.declare_queue(f"actionruns-test-{uuid.uuid4().hex}", auto_delete=True)
    result = await perform(routing_key=queue.name, message="order 42", headers={"source": "shop"})
    message = await queue.get(timeout=5)
    assert result == {"exchange": "", "routing_key": queue.name, "confirmed": True}
    assert message.body == b"order 42"
    assert message.headers == {"source": "shop"}
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    await message.ack()


async def test_publish_through_a_topic_exchange(channel: aio_pika.abc.AbstractChannel) -> None:
    name = f"actionruns-test-{uuid.uuid4().hex}"
    exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, auto_delete=True)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, "orders.*")
    await perform(
        exchange=name, routing_key="orders.created", message="{}", content_type="application/json"
    )
    message = await queue.get(timeout=5)
    assert message.content_type == "application/json" and message.routing_key == "orders.created"
    await message.ack()


async def test_refusals_are_classified(channel: aio_pika.abc.AbstractChannel) -> None:
    with pytest.raises(HaltError, match="route"):
        await perform(routing_key=f"no-such-queue-{uuid.uuid4().hex}", message="lost?")
    with pytest.raises(HaltError):
        await perform(exchange=f"no-such-exchange-{uuid.uuid4().hex}", message="x")
    with pytest.raises(ExpiredAuthError):
        await perform(CREDENTIALS | {"password": "wrong"}, routing_key="q", message="x")
    with pytest.raises(TransientError):
        await perform(CREDENTIALS | {"port": free_port()}, routing_key="q", message="x")


async def test_end_to_end_over_http(
    start_service: ServiceFactory, channel: aio_pika.abc.AbstractChannel
) -> None:
    service = await start_service()
    acme: ApiClient = await service.new_client("acme")
    authentication = await acme.connect("rabbitmq", CREDENTIALS, title="Broker")
    queue = await channel.declare_queue(f"actionruns-e2e-{uuid.uuid4().hex}", auto_delete=True)

    run = await acme.wait(
        await acme.run(
            "rabbitmq.publish", {"routing_key": queue.name, "message": "hello"}, authentication
        )
    )

    assert run["status"] == "success", run
    message = await queue.get(timeout=5)
    assert message.body == b"hello"
    await message.ack()
    assert "guest" not in str(run)
