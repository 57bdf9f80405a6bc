"""A connector made for tests: every behaviour the engine must handle, on demand.

It uses only the public SDK, like any third-party connector.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from actionruns.sdk import (
    Action,
    ActionType,
    App,
    Auth,
    Choice,
    ChoicePage,
    Context,
    DynamicFields,
    ExpiredAuthError,
    FieldType,
    HaltError,
    InputField,
    Limits,
    OutputField,
    RateLimit,
    ThrottledError,
    TransientError,
)

# Attempts seen per key, so a test can assert how often the engine called perform.
calls: Counter[str] = Counter()
started: dict[str, asyncio.Event] = {}


async def _noop(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {"ok": True, "value": inputs.get("value"), "count": inputs.get("count")}


async def _flaky(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Fails the way ``mode`` says for the first ``failures`` attempts, then succeeds."""
    key = inputs["key"]
    calls[key] += 1
    if calls[key] <= inputs.get("failures", 0):
        mode = inputs.get("mode", "transient")
        if mode == "transient":
            raise TransientError("upstream answered 503")
        if mode == "throttled":
            raise ThrottledError("slow down", delay=0.2)
        if mode == "timeout":
            await asyncio.sleep(60)
        if mode == "halt":
            raise HaltError("the record does not exist")
        if mode == "expired":
            raise ExpiredAuthError("token revoked")
        if mode == "crash":
            raise RuntimeError("bug in connector")
    return {"attempt": calls[key]}


async def _sleep(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    key = inputs.get("key", "sleep")
    calls[key] += 1
    started.setdefault(key, asyncio.Event()).set()
    await asyncio.sleep(inputs["seconds"])
    return {"slept": inputs["seconds"]}


async def _record(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Logs the start and end of each execution to a file shared by worker processes, so a
    test can check that no two executions of one run ever overlap."""

    def log(event: str) -> None:
        line = json.dumps({"run": ctx.run_id, "event": event, "pid": os.getpid(), "t": time.time()})
        # One small O_APPEND write per line: lines from several processes never interleave.
        descriptor = os.open(inputs["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, (line + "\n").encode())
        finally:
            os.close(descriptor)

    log("start")
    try:
        await asyncio.sleep(inputs["seconds"])
    finally:  # a cancelled execution ends here too
        log("end")
    return {"pid": os.getpid()}


async def _echo_secret(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """A careless connector: it logs and returns the credential; the engine must redact it."""
    token = ctx.credentials["api_key"]
    ctx.log.info("calling with token", token=token)
    if inputs.get("fail"):
        raise HaltError(f"bad token {token}")
    return {"token_was": token}


async def _colors(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    all_colors = [Choice(f"c{i}", f"Color {i}") for i in range(25)]
    return ChoicePage(all_colors[page * 10 : (page + 1) * 10], has_more=(page + 1) * 10 < 25)


async def _shape_fields(ctx: Context, inputs: Mapping[str, Any]) -> list[InputField]:
    if inputs.get("shape") == "circle":
        return [InputField("radius", "Radius", FieldType.NUMBER, required=True, help_text="cm")]
    return [
        InputField("width", "Width", FieldType.NUMBER, required=True, help_text="cm"),
        InputField("height", "Height", FieldType.NUMBER, required=True, help_text="cm"),
    ]


async def _area(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    if inputs["shape"] == "circle":
        return {"area": round(3.14159 * inputs["radius"] ** 2, 2)}
    return {"area": inputs["width"] * inputs["height"]}


async def _test_key(ctx: Context) -> str:
    if ctx.credentials["api_key"] == "bad-key":
        raise ExpiredAuthError("invalid api key")
    return "test account"


testkit = App(
    key="testkit",
    title="Test kit",
    description="Behaviours for the engine's tests.",
    auth=Auth.none(),
    categories=("developer-tools",),
    actions=[
        Action(
            "noop",
            "No-op",
            "Returns at once.",
            _noop,
            inputs=[
                InputField("value", "Value", help_text="Any text"),
                InputField("count", "Count", FieldType.INTEGER, help_text="A number"),
                InputField("color", "Color", dynamic_choices=_colors, help_text="Pick one"),
                InputField(
                    "size",
                    "Size",
                    choices=(Choice("s"), Choice("m"), Choice("l")),
                    help_text="A size",
                ),
            ],
            outputs=[OutputField("ok", "OK", FieldType.BOOLEAN, sample=True)],
            sample={"ok": True},
        ),
        Action(
            "flaky",
            "Flaky",
            "Fails as told, then succeeds.",
            _flaky,
            inputs=[
                InputField("key", "Key", required=True, help_text="Counter key"),
                InputField("failures", "Failures", FieldType.INTEGER, default=0, help_text="n"),
                InputField("mode", "Mode", help_text="How to fail"),
            ],
            timeout=0.5,
            max_attempts=3,
        ),
        Action(
            "sleep",
            "Sleep",
            "Sleeps.",
            _sleep,
            type=ActionType.WRITE,
            inputs=[
                InputField("seconds", "Seconds", FieldType.NUMBER, required=True, help_text="s"),
                InputField("key", "Key", help_text="Counter key"),
            ],
            timeout=30,
        ),
        Action(
            "record",
            "Record",
            "Sleeps, logging when it starts and ends.",
            _record,
            inputs=[
                InputField("log", "Log file", required=True, help_text="path"),
                InputField("seconds", "Seconds", FieldType.NUMBER, required=True, help_text="s"),
            ],
            timeout=30,
        ),
        Action(
            "area",
            "Area",
            "Area of a shape: fields depend on the shape.",
            _area,
            type=ActionType.SEARCH,
            inputs=[
                InputField(
                    "shape",
                    "Shape",
                    required=True,
                    choices=(Choice("circle"), Choice("rect")),
                    alters_dynamic_fields=True,
                    help_text="circle or rect",
                ),
                DynamicFields("dimensions", _shape_fields, depends_on=("shape",)),
            ],
        ),
    ],
)


async def _throttle_once(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    calls[inputs["key"]] += 1
    if calls[inputs["key"]] == 1:
        raise ThrottledError("rate limited by the app", delay=inputs["delay"])
    return {"attempt": calls[inputs["key"]]}


limited = App(
    key="limited",
    title="Limited",
    description="An app with declared limits: one run at a time, two starts a second, per account.",
    auth=Auth.api_key(help_text="Any key"),
    limits=Limits(concurrency=1, rate=RateLimit(2, 1.0)),
    actions=[
        Action(
            "record",
            "Record",
            "Sleeps, logging when it starts and ends.",
            _record,
            inputs=[
                InputField("log", "Log file", required=True, help_text="path"),
                InputField("seconds", "Seconds", FieldType.NUMBER, required=True, help_text="s"),
            ],
        ),
        Action(
            "throttle_once",
            "Throttle once",
            "Throttled on its first attempt for a key.",
            _throttle_once,
            inputs=[
                InputField("key", "Key", required=True, help_text="Counter key"),
                InputField("delay", "Delay", FieldType.NUMBER, default=1.0, help_text="s"),
            ],
        ),
    ],
)

secretive = App(
    key="secretive",
    title="Secretive",
    description="An api-key app whose connector mishandles its key.",
    auth=Auth.api_key(
        help_text="Any key; 'bad-key' fails the test",
        help_url="https://secretive.example/settings/keys",
        help_steps=("Open Settings, then API keys.", "Copy the key."),
    ),
    test=_test_key,
    actions=[
        Action(
            "echo",
            "Echo secret",
            "Returns the key.",
            _echo_secret,
            inputs=[InputField("fail", "Fail", FieldType.BOOLEAN, help_text="fail")],
        ),
    ],
)


async def _call_upstream(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """A careless connector: what the upstream answers (an echo of the request's credentials)
    goes into its log, its result and, on a failure, its error."""
    response = await ctx.http.get(inputs["url"])
    ctx.log.info("upstream said", text=response.text)
    if inputs.get("fail"):
        raise HaltError(f"the upstream refused it: {response.text}")
    return {"said": response.text}


echoing = App(
    key="echoing",
    title="Echoing",
    description="A basic-auth app whose upstream echoes the Authorization header.",
    auth=Auth.basic(help_text="Any user and password"),
    actions=[
        Action(
            "call",
            "Call the upstream",
            "Calls a URL with the credentials and returns what it said.",
            _call_upstream,
            inputs=[
                InputField("url", "URL", required=True, help_text="Where to call"),
                InputField("fail", "Fail", FieldType.BOOLEAN, help_text="fail"),
            ],
        ),
    ],
)
