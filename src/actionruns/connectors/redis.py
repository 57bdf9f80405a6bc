"""Redis: set a value, publish a message, push to a list.

Reference: https://redis.io/docs/latest/commands/set/, /publish/, /lpush/ and /rpush/
(through redis-py's asyncio client). The connection goes to the address the outbound guard
checked; with TLS the certificate is still checked against the host name.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from actionruns.sdk import (
    Action,
    App,
    Auth,
    Choice,
    Context,
    ExpiredAuthError,
    FieldType,
    HaltError,
    InputField,
    OutputField,
    UnreachableError,
)
from actionruns.sdk.drivers import driver

with driver("redis", extra="connectors-data"):
    import redis.asyncio as aioredis
    from redis import exceptions

TIMEOUT_SECONDS = 15.0


class _CheckedConnection(aioredis.Connection):
    """A connection to the checked address, over TLS with the host name's context if given
    (redis-py's own TLS connection would check the certificate against the address)."""

    def __init__(self, *, tls_context: ssl.SSLContext | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tls_context = tls_context

    def _connection_arguments(self) -> Mapping[str, Any]:
        arguments = dict(super()._connection_arguments())
        if self.tls_context is not None:
            arguments["ssl"] = self.tls_context
        return arguments


@asynccontextmanager
async def _client(ctx: Context) -> AsyncIterator[aioredis.Redis]:
    credentials = ctx.credentials
    host, port = str(credentials["host"]), int(credentials.get("port") or 6379)
    destination = await ctx.guard.destination(host, port)
    pool = aioredis.ConnectionPool(
        connection_class=_CheckedConnection,
        host=destination.address,
        port=port,
        tls_context=destination.tls_context() if credentials.get("tls") else None,
        db=int(credentials.get("database") or 0),
        username=credentials.get("username") or None,
        password=credentials.get("password") or None,
        socket_timeout=TIMEOUT_SECONDS,
        socket_connect_timeout=TIMEOUT_SECONDS,
        decode_responses=True,
    )
    client = aioredis.Redis.from_pool(pool)
    try:
        yield client
    except exceptions.AuthenticationError as exc:
        raise ExpiredAuthError(f"Redis refused the credentials: {exc}") from None
    except exceptions.ResponseError as exc:
        if "NOAUTH" in str(exc) or "WRONGPASS" in str(exc):
            raise ExpiredAuthError(f"Redis refused the credentials: {exc}") from None
        raise HaltError(f"Redis refused the command: {exc}") from None
    except (exceptions.ConnectionError, exceptions.TimeoutError, OSError) as exc:
        raise UnreachableError(f"Redis at {host}:{port} could not be reached: {exc}") from None
    finally:
        await client.aclose()


async def test_connection(ctx: Context) -> str:
    async with _client(ctx) as client:
        await client.ping()
    return f"{ctx.credentials['host']}:{ctx.credentials.get('port') or 6379}"


async def set_value(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    async with _client(ctx) as client:
        stored = await client.set(
            inputs["key"],
            inputs["value"],
            ex=inputs.get("expire_seconds") or None,
            nx=bool(inputs.get("only_if_absent")),
        )
    return {"key": inputs["key"], "stored": bool(stored)}


async def publish(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    async with _client(ctx) as client:
        receivers = await client.publish(inputs["channel"], inputs["message"])
    return {"channel": inputs["channel"], "receivers": int(receivers)}


async def push_to_list(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    async with _client(ctx) as client:
        push = client.lpush if inputs["side"] == "left" else client.rpush
        length = await push(inputs["key"], *inputs["values"])
    return {"key": inputs["key"], "length": int(length)}


def _key(help_text: str) -> InputField:
    return InputField("key", "Key", required=True, help_text=help_text)


app = App(
    key="redis",
    title="Redis",
    description="Set values, publish messages and push to lists in a Redis server.",
    auth=Auth.custom(
        [
            InputField(
                "host",
                "Host",
                FieldType.HOST,
                required=True,
                help_text="The Redis server's host name.",
            ),
            InputField("port", "Port", FieldType.INTEGER, default=6379, help_text="Usually 6379."),
            InputField("username", "Username", help_text="For Redis 6 ACL users; else empty."),
            InputField("password", "Password", FieldType.PASSWORD, help_text="If required."),
            InputField(
                "database",
                "Database",
                FieldType.INTEGER,
                default=0,
                help_text="The database number.",
            ),
            InputField("tls", "Use TLS", FieldType.BOOLEAN, default=False, help_text="rediss://"),
        ]
    ),
    test=test_connection,
    categories=("databases", "developer-tools"),
    actions=[
        Action(
            "set_value",
            "Set value",
            "Sets a key to a string value, optionally with an expiry or only if absent.",
            set_value,
            inputs=[
                _key("The key to set."),
                InputField("value", "Value", FieldType.TEXT, required=True, help_text="Text."),
                InputField(
                    "expire_seconds",
                    "Expire after (seconds)",
                    FieldType.INTEGER,
                    help_text="Leave empty to keep the key.",
                ),
                InputField(
                    "only_if_absent",
                    "Only if absent",
                    FieldType.BOOLEAN,
                    help_text="Do not overwrite an existing key (SET NX).",
                ),
            ],
            outputs=[
                OutputField("key", "Key", sample="orders:42"),
                OutputField("stored", "Stored", FieldType.BOOLEAN, sample=True),
            ],
            sample={"key": "orders:42", "stored": True},
        ),
        Action(
            "publish",
            "Publish message",
            "Publishes a message on a channel to its current subscribers.",
            publish,
            inputs=[
                InputField("channel", "Channel", required=True, help_text="The channel name."),
                InputField("message", "Message", FieldType.TEXT, required=True, help_text="Text."),
            ],
            outputs=[
                OutputField("channel", "Channel", sample="orders"),
                OutputField("receivers", "Receivers", FieldType.INTEGER, sample=2),
            ],
            sample={"channel": "orders", "receivers": 2},
        ),
        Action(
            "push_to_list",
            "Push to list",
            "Pushes values onto the head or the tail of a list.",
            push_to_list,
            inputs=[
                _key("The list's key."),
                InputField(
                    "values", "Values", required=True, list=True, help_text="One or more values."
                ),
                InputField(
                    "side",
                    "Side",
                    default="right",
                    choices=(Choice("right", "Tail (RPUSH)"), Choice("left", "Head (LPUSH)")),
                    help_text="Where the values go.",
                ),
            ],
            outputs=[
                OutputField("key", "Key", sample="jobs"),
                OutputField("length", "Length", FieldType.INTEGER, sample=3),
            ],
            sample={"key": "jobs", "length": 3},
        ),
    ],
)
