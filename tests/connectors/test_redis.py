"""The Redis connector against the real Redis server, reading back what it wrote."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from actionruns.connectors.redis import app
from actionruns.sdk import ExpiredAuthError, HaltError
from actionruns.sdk.context import open_context
from actionruns.sdk.fields import validate_inputs
from actionruns.sdk.outbound import OutboundGuard
from tests.conftest import LOOPBACK, ApiClient, ServiceFactory
from tests.servers import require_server

CREDENTIALS = {"host": "127.0.0.1", "port": 6379, "database": 14}
actions = {action.key: action for action in app.actions}


@pytest.fixture
async def server() -> AsyncIterator[aioredis.Redis]:
    require_server("Redis", "127.0.0.1", 6379)
    client = aioredis.Redis(host="127.0.0.1", port=6379, db=14, decode_responses=True)
    yield client
    await client.aclose()


async def perform(action: str, credentials: dict[str, Any] | None = None, **inputs: Any) -> Any:
    spec = actions[action]
    guard = OutboundGuard(LOOPBACK)
    async with open_context(app.auth, credentials or CREDENTIALS, guard, app_key="redis") as ctx:
        return await spec.perform(ctx, validate_inputs(spec.static_inputs, inputs))


def key() -> str:
    return f"actionruns-test:{uuid.uuid4().hex}"


async def test_set_value_with_expiry_and_only_if_absent(server: aioredis.Redis) -> None:
    name = key()
    assert await perform("set_value", key=name, value="v1", expire_seconds=60) == {
        "key": name,
        "stored": True,
    }
    assert await server.get(name) == "v1"
    assert 0 < await server.ttl(name) <= 60
    kept = await perform("set_value", key=name, value="v2", only_if_absent=True)
    assert kept["stored"] is False and await server.get(name) == "v1"


async def test_publish_reaches_subscribers(server: aioredis.Redis) -> None:
    channel = key()
    pubsub = server.pubsub()
    await pubsub.subscribe(channel)
    await pubsub.get_message(timeout=1)  # the subscription confirmation
    result = await perform("publish", channel=channel, message="order 42 shipped")
    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
    await pubsub.aclose()
    assert result == {"channel": channel, "receivers": 1}
    assert message is not None and message["data"] == "order 42 shipped"


async def test_push_to_either_end_of_a_list(server: aioredis.Redis) -> None:
    name = key()
    await perform("push_to_list", key=name, values=["b", "c"])
    result = await perform("push_to_list", key=name, values="a", side="left")
    assert result == {"key": name, "length": 3}
    assert await server.lrange(name, 0, -1) == ["a", "b", "c"]


async def test_refusals_are_classified(server: aioredis.Redis) -> None:
    name = key()
    await server.set(name, "a string")
    with pytest.raises(HaltError, match="WRONGTYPE"):
        await perform("push_to_list", key=name, values=["x"])
    wrong = CREDENTIALS | {"username": "nobody", "password": "nope"}
    with pytest.raises(ExpiredAuthError):
        await perform("set_value", wrong, key=name, value="v")


async def test_private_hosts_need_the_operators_permission() -> None:
    async with open_context(app.auth, CREDENTIALS, OutboundGuard(), app_key="redis") as ctx:
        with pytest.raises(HaltError, match="not allowed"):
            await actions["publish"].perform(ctx, {"channel": "c", "message": "m"})


async def test_end_to_end_over_http(start_service: ServiceFactory, server: aioredis.Redis) -> None:
    service = await start_service()
    acme: ApiClient = await service.new_client("acme")
    authentication = await acme.connect("redis", CREDENTIALS, title="Cache")
    name = key()

    run = await acme.wait(
        await acme.run(
            "redis.push_to_list", {"key": name, "values": ["job-1", "job-2"]}, authentication
        )
    )

    assert run["status"] == "success", run
    assert run["results"] == [{"key": name, "length": 2}]
    assert await server.lrange(name, 0, -1) == ["job-1", "job-2"]

    value_key = key()
    stored = await acme.wait(
        await acme.run("redis.set_value", {"key": value_key, "value": "v"}, authentication)
    )
    assert stored["status"] == "success", stored
    assert await server.get(value_key) == "v"
    pubsub = server.pubsub()
    channel = key()
    await pubsub.subscribe(channel)
    await pubsub.get_message(timeout=1)  # the subscription confirmation
    published = await acme.wait(
        await acme.run("redis.publish", {"channel": channel, "message": "hi"}, authentication)
    )
    assert published["status"] == "success", published
    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
    assert message is not None and message["data"] == "hi"
    await pubsub.aclose()
