"""RabbitMQ: publish a message to an exchange (or straight to a queue), confirmed by the broker.

Reference: https://www.rabbitmq.com/docs/publishers (publisher confirms, persistent delivery
mode, mandatory flag for unroutable messages) and https://www.rabbitmq.com/docs/exchanges,
through aio-pika. The connection goes to the address the outbound guard checked; with TLS
the certificate is still checked against the host name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from actionruns.sdk import (
    Action,
    App,
    Auth,
    Context,
    ExpiredAuthError,
    FieldType,
    HaltError,
    InputField,
    OutputField,
    TransientError,
    UnreachableError,
)
from actionruns.sdk.drivers import driver

with driver("aio-pika", extra="connectors-data"):
    import aio_pika
    from aio_pika import exceptions
    from aiormq import exceptions as amqp_exceptions

TIMEOUT_SECONDS = 15.0


@asynccontextmanager
async def _channel(ctx: Context) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    credentials = ctx.credentials
    host, port = str(credentials["host"]), int(credentials.get("port") or 5672)
    destination = await ctx.guard.destination(host, port)
    tls = bool(credentials.get("tls"))
    try:
        connection = await aio_pika.connect(
            host=destination.address,
            port=port,
            login=credentials.get("username") or "guest",
            password=credentials.get("password") or "guest",
            virtualhost=credentials.get("virtual_host") or "/",
            ssl=tls,
            ssl_context=destination.tls_context() if tls else None,
            timeout=TIMEOUT_SECONDS,
        )
    except amqp_exceptions.ProbableAuthenticationError as exc:
        raise ExpiredAuthError(f"RabbitMQ refused the credentials: {exc}") from None
    except (amqp_exceptions.AMQPConnectionError, OSError, TimeoutError) as exc:
        raise UnreachableError(f"RabbitMQ at {host}:{port} could not be reached: {exc}") from None
    try:
        async with connection:
            yield await connection.channel(publisher_confirms=True, on_return_raises=True)
    except exceptions.DeliveryError as exc:  # includes a message returned as unroutable
        raise HaltError(f"RabbitMQ could not route the message: {exc}") from None
    except amqp_exceptions.ChannelNotFoundEntity as exc:
        raise HaltError(f"RabbitMQ: {exc}") from None
    except amqp_exceptions.ChannelAccessRefused as exc:
        raise HaltError(f"RabbitMQ refused access: {exc}") from None
    except (amqp_exceptions.AMQPError, OSError, TimeoutError) as exc:
        raise TransientError(f"RabbitMQ failed: {exc}") from None


async def publish(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    exchange_name = inputs.get("exchange") or ""
    message = aio_pika.Message(
        inputs["message"].encode(),
        content_type=inputs.get("content_type") or "text/plain",
        headers={str(k): str(v) for k, v in (inputs.get("headers") or {}).items()},
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT
        if inputs.get("persistent", True)
        else aio_pika.DeliveryMode.NOT_PERSISTENT,
    )
    async with _channel(ctx) as channel:
        exchange = (
            await channel.get_exchange(exchange_name, ensure=True)
            if exchange_name
            else channel.default_exchange
        )
        # mandatory: a message no queue takes comes back as an error instead of vanishing.
        await exchange.publish(message, routing_key=inputs.get("routing_key") or "", mandatory=True)
    return {
        "exchange": exchange_name,
        "routing_key": inputs.get("routing_key") or "",
        "confirmed": True,
    }


async def test_connection(ctx: Context) -> str:
    async with _channel(ctx):
        pass
    return f"{ctx.credentials['host']}:{ctx.credentials.get('port') or 5672}"


app = App(
    key="rabbitmq",
    title="RabbitMQ",
    description="Publish messages to RabbitMQ exchanges and queues, confirmed by the broker.",
    auth=Auth.custom(
        [
            InputField(
                "host", "Host", FieldType.HOST, required=True, help_text="The broker's host name."
            ),
            InputField(
                "port", "Port", FieldType.INTEGER, default=5672, help_text="5672, or 5671 (TLS)."
            ),
            InputField("username", "Username", required=True, help_text="The AMQP user."),
            InputField("password", "Password", FieldType.PASSWORD, help_text="Its password."),
            InputField("virtual_host", "Virtual host", default="/", help_text="Usually /."),
            InputField("tls", "Use TLS", FieldType.BOOLEAN, default=False, help_text="amqps://"),
        ]
    ),
    test=test_connection,
    categories=("developer-tools", "messaging"),
    actions=[
        Action(
            "publish",
            "Publish message",
            "Publishes a message and waits for the broker to confirm it; a message no queue "
            "would take is an error, not a silent loss.",
            publish,
            inputs=[
                InputField(
                    "exchange",
                    "Exchange",
                    help_text="Leave empty for the default exchange: the routing key is then "
                    "the queue's name.",
                ),
                InputField("routing_key", "Routing key", help_text="e.g. orders.created"),
                InputField("message", "Message", FieldType.TEXT, required=True, help_text="Body."),
                InputField(
                    "content_type", "Content type", default="text/plain", help_text="MIME type."
                ),
                InputField("headers", "Headers", FieldType.DICT, help_text="Message headers."),
                InputField(
                    "persistent",
                    "Persistent",
                    FieldType.BOOLEAN,
                    default=True,
                    help_text="Survives a broker restart (on a durable queue).",
                ),
            ],
            outputs=[
                OutputField("exchange", "Exchange", sample="orders"),
                OutputField("routing_key", "Routing key", sample="orders.created"),
                OutputField("confirmed", "Confirmed", FieldType.BOOLEAN, sample=True),
            ],
            sample={"exchange": "orders", "routing_key": "orders.created", "confirmed": True},
        ),
    ],
)
