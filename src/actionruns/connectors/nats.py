"""NATS: publish a message, or publish to JetStream and wait for the stream's acknowledgement.

Reference: https://docs.nats.io/nats-concepts/core-nats/pubsub and
https://docs.nats.io/nats-concepts/jetstream/streams (publish acks, Nats-Msg-Id de-duplication),
through nats-py. The connection goes to the address the outbound guard checked (with TLS the
certificate is still checked against the host name), and to no other: the servers a NATS
server advertises (``connect_urls``) are never dialled, since reconnecting is off.
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

with driver("nats-py", extra="connectors-data"):
    import nats
    from nats import errors
    from nats.js import errors as js_errors

TIMEOUT_SECONDS = 10.0


@asynccontextmanager
async def _connection(ctx: Context) -> AsyncIterator[Any]:
    credentials = ctx.credentials
    host, port = str(credentials["host"]), int(credentials.get("port") or 4222)
    destination = await ctx.guard.destination(host, port)
    tls = bool(credentials.get("tls"))
    address = f"[{destination.address}]" if ":" in destination.address else destination.address
    options: dict[str, Any] = {
        "servers": [f"{'tls' if tls else 'nats'}://{address}:{port}"],
        "connect_timeout": TIMEOUT_SECONDS,
        # The checked server only: a server's INFO may list others (connect_urls), which
        # nats-py would dial when it reconnects, unchecked.
        "allow_reconnect": False,
        "max_reconnect_attempts": 1,
        "reconnect_time_wait": 0.1,
    }
    if tls:
        options |= {"tls": destination.tls_context(), "tls_hostname": host}
    if credentials.get("token"):
        options["token"] = credentials["token"]
    elif credentials.get("username"):
        options |= {"user": credentials["username"], "password": credentials.get("password")}

    async def quiet(_error: Exception) -> None:
        """nats-py reports errors here as well as raising them: raising is enough."""

    try:
        connection = await nats.connect(**options, error_cb=quiet)
    except errors.NoServersError as exc:
        if "authorization" in str(exc).lower():
            raise ExpiredAuthError(f"NATS refused the credentials: {exc}") from None
        raise UnreachableError(f"NATS at {host}:{port} could not be reached: {exc}") from None
    except (OSError, TimeoutError, errors.Error) as exc:
        if "authorization" in str(exc).lower():
            raise ExpiredAuthError(f"NATS refused the credentials: {exc}") from None
        raise UnreachableError(f"NATS at {host}:{port} could not be reached: {exc}") from None
    try:
        yield connection
    except js_errors.NoStreamResponseError:
        raise HaltError("No JetStream stream takes this subject.") from None
    except js_errors.APIError as exc:
        raise HaltError(f"JetStream refused the message: {exc.description}") from None
    except (errors.TimeoutError, TimeoutError) as exc:
        raise TransientError(f"NATS did not answer in time: {exc}") from None
    except errors.Error as exc:
        raise TransientError(f"NATS failed: {exc}") from None
    finally:
        await connection.close()


def _headers(inputs: Mapping[str, Any]) -> dict[str, str] | None:
    headers = {str(key): str(value) for key, value in (inputs.get("headers") or {}).items()}
    return headers or None


async def publish(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    async with _connection(ctx) as connection:
        await connection.publish(
            inputs["subject"], inputs["message"].encode(), headers=_headers(inputs)
        )
        await connection.flush(timeout=TIMEOUT_SECONDS)  # the server has it
    return {"subject": inputs["subject"]}


async def jetstream_publish(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    headers = _headers(inputs) or {}
    if inputs.get("message_id"):
        headers["Nats-Msg-Id"] = inputs["message_id"]
    async with _connection(ctx) as connection:
        ack = await connection.jetstream().publish(
            inputs["subject"],
            inputs["message"].encode(),
            timeout=TIMEOUT_SECONDS,
            stream=inputs.get("stream") or None,
            headers=headers or None,
        )
    return {"stream": ack.stream, "sequence": ack.seq, "duplicate": bool(ack.duplicate)}


async def test_connection(ctx: Context) -> str:
    async with _connection(ctx) as connection:
        await connection.flush(timeout=TIMEOUT_SECONDS)
        return str(connection.connected_url.netloc)


_SUBJECT = InputField("subject", "Subject", required=True, help_text="e.g. orders.created")
_MESSAGE = InputField("message", "Message", FieldType.TEXT, required=True, help_text="The body.")
_HEADERS = InputField("headers", "Headers", FieldType.DICT, help_text="NATS message headers.")

app = App(
    key="nats",
    title="NATS",
    description="Publish messages to NATS subjects and JetStream streams.",
    auth=Auth.custom(
        [
            InputField(
                "host",
                "Host",
                FieldType.HOST,
                required=True,
                help_text="The NATS server's host name.",
            ),
            InputField("port", "Port", FieldType.INTEGER, default=4222, help_text="Usually 4222."),
            InputField("username", "Username", help_text="For user/password authentication."),
            InputField("password", "Password", FieldType.PASSWORD, help_text="With a username."),
            InputField("token", "Token", FieldType.PASSWORD, help_text="For token authentication."),
            InputField("tls", "Use TLS", FieldType.BOOLEAN, default=False, help_text="tls://"),
        ]
    ),
    test=test_connection,
    categories=("developer-tools", "messaging"),
    actions=[
        Action(
            "publish",
            "Publish message",
            "Publishes a message on a subject (core NATS: delivered to current subscribers).",
            publish,
            inputs=[_SUBJECT, _MESSAGE, _HEADERS],
            outputs=[OutputField("subject", "Subject", sample="orders.created")],
            sample={"subject": "orders.created"},
        ),
        Action(
            "jetstream_publish",
            "Publish to JetStream",
            "Publishes to a JetStream stream and waits until the stream has stored it.",
            jetstream_publish,
            inputs=[
                _SUBJECT,
                _MESSAGE,
                _HEADERS,
                InputField("stream", "Stream", help_text="Expect this stream to take it."),
                InputField(
                    "message_id",
                    "Message ID",
                    help_text="Sent as Nats-Msg-Id: the stream stores a repeated ID only once.",
                ),
            ],
            outputs=[
                OutputField("stream", "Stream", sample="ORDERS"),
                OutputField("sequence", "Sequence", FieldType.INTEGER, sample=42),
                OutputField("duplicate", "Duplicate", FieldType.BOOLEAN, sample=False),
            ],
            sample={"stream": "ORDERS", "sequence": 42, "duplicate": False},
        ),
    ],
)
