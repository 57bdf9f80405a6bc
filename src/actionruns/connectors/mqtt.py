"""MQTT: publish a message to a topic, at QoS 0, 1 or 2, optionally retained.

Reference: MQTT 3.1.1 (https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/mqtt-v3.1.1.html), section
3.3 PUBLISH; through aiomqtt, which returns once the broker acknowledged a QoS 1 or 2 message.
The connection goes to the address the outbound guard checked; with TLS the certificate is
still checked against the host name.
"""

from __future__ import annotations

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
    TransientError,
    UnreachableError,
)
from actionruns.sdk.drivers import driver

with driver("aiomqtt", extra="connectors-data"):
    import aiomqtt

TIMEOUT_SECONDS = 10.0
# CONNACK return codes 4 and 5 (3.1.1), 134 and 135 (5.0): bad credentials, not authorised.
_REFUSED_CREDENTIALS = ("4", "5", "134", "135", "not authorized", "bad user name or password")


@asynccontextmanager
async def _client(ctx: Context) -> AsyncIterator[aiomqtt.Client]:
    credentials = ctx.credentials
    host, port = str(credentials["host"]), int(credentials.get("port") or 1883)
    destination = await ctx.guard.destination(host, port)
    client = aiomqtt.Client(
        destination.address,
        port,
        username=credentials.get("username") or None,
        password=credentials.get("password") or None,
        tls_context=destination.tls_context() if credentials.get("tls") else None,
        timeout=TIMEOUT_SECONDS,
    )
    try:
        async with client:
            yield client
    except aiomqtt.MqttCodeError as exc:
        if any(code in str(exc).lower() for code in _REFUSED_CREDENTIALS):
            raise ExpiredAuthError(f"The MQTT broker refused the credentials: {exc}") from None
        raise TransientError(f"The MQTT broker failed: {exc}") from None
    except (aiomqtt.MqttError, OSError, TimeoutError) as exc:
        raise UnreachableError(f"The MQTT broker at {host}:{port} failed: {exc}") from None


async def publish(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    topic = inputs["topic"]
    if any(wildcard in topic for wildcard in "+#"):
        raise HaltError("A topic to publish to may not contain the wildcards + or #.")
    qos = int(inputs.get("qos") or 0)
    async with _client(ctx) as client:
        await client.publish(
            topic, inputs["message"], qos=qos, retain=bool(inputs.get("retain")), timeout=30
        )
    return {"topic": topic, "qos": qos, "retained": bool(inputs.get("retain"))}


async def test_connection(ctx: Context) -> str:
    async with _client(ctx):
        pass
    return f"{ctx.credentials['host']}:{ctx.credentials.get('port') or 1883}"


app = App(
    key="mqtt",
    title="MQTT",
    description="Publish messages to topics on an MQTT broker (Mosquitto, EMQX, HiveMQ…).",
    auth=Auth.custom(
        [
            InputField(
                "host", "Host", FieldType.HOST, required=True, help_text="The broker's host name."
            ),
            InputField(
                "port", "Port", FieldType.INTEGER, default=1883, help_text="1883, or 8883 (TLS)."
            ),
            InputField("username", "Username", help_text="If the broker needs one."),
            InputField("password", "Password", FieldType.PASSWORD, help_text="With a username."),
            InputField("tls", "Use TLS", FieldType.BOOLEAN, default=False, help_text="mqtts://"),
        ]
    ),
    test=test_connection,
    categories=("developer-tools", "iot"),
    actions=[
        Action(
            "publish",
            "Publish message",
            "Publishes a message to a topic; with QoS 1 or 2 it returns once the broker has it.",
            publish,
            inputs=[
                InputField("topic", "Topic", required=True, help_text="e.g. sensors/kitchen/temp"),
                InputField("message", "Message", FieldType.TEXT, required=True, help_text="Body."),
                InputField(
                    "qos",
                    "Quality of service",
                    default="1",
                    choices=(
                        Choice("0", "0: at most once"),
                        Choice("1", "1: at least once"),
                        Choice("2", "2: exactly once"),
                    ),
                    help_text="How hard the broker works to deliver it.",
                ),
                InputField(
                    "retain",
                    "Retain",
                    FieldType.BOOLEAN,
                    help_text="Keep it as the topic's last message for new subscribers.",
                ),
            ],
            outputs=[
                OutputField("topic", "Topic", sample="sensors/kitchen/temp"),
                OutputField("qos", "QoS", FieldType.INTEGER, sample=1),
            ],
            sample={"topic": "sensors/kitchen/temp", "qos": 1, "retained": False},
        ),
    ],
)
