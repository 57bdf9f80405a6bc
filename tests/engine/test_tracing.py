"""OpenTelemetry traces: a run is one trace from the POST that made it to its attempts and
their outbound requests, in this process or a worker's, with no secret in any span."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import httpx2
import pytest
import structlog
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pytest_httpserver import HTTPServer
from structlog.contextvars import merge_contextvars

from actionruns import logs, telemetry
from actionruns.cli.serve import trace_if_asked
from actionruns.engine import tracing
from tests.conftest import Service, ServiceFactory, free_port
from tests.processes import REPO, start_api_node, start_worker, wait_for_status

SECRET = "pa55-never-traced-7781"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, into memory, for the services the test starts after asking for this."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.start(provider)
    try:
        yield exporter
    finally:
        telemetry.stop()


@pytest.fixture
async def traced(spans: InMemorySpanExporter, start_service: ServiceFactory) -> Service:
    service: Service = await start_service()
    return service


async def ended(
    spans: InMemorySpanExporter, name: str, run_id: str, count: int = 1
) -> list[ReadableSpan]:
    """The spans called ``name`` of the run, once ``count`` of them have ended."""
    for _ in range(200):
        found = [
            span
            for span in spans.get_finished_spans()
            if span.name == name and (span.attributes or {}).get("actionruns.run.id") == run_id
        ]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {name} span of {run_id} ended")


def server_span(spans: Sequence[ReadableSpan], trace_id: int) -> ReadableSpan:
    [span] = [
        s
        for s in spans
        if s.kind is SpanKind.SERVER
        and s.name == "POST /v2/action-runs"
        and s.context is not None
        and s.context.trace_id == trace_id
    ]
    return span


def parent_of(span: ReadableSpan) -> int | None:
    return int(span.parent.span_id) if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.span_id)


def everything_said(span: ReadableSpan) -> str:
    return json.dumps(
        [span.name, dict(span.attributes or {}), [dict(e.attributes or {}) for e in span.events]],
        default=str,
    )


async def test_a_run_is_one_trace_from_its_post_to_its_outbound_requests(
    spans: InMemorySpanExporter, traced: Service, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(f"/echo/{SECRET}").respond_with_data("fine")
    acme = await traced.new_client("acme")
    authentication = await acme.connect("echoing", {"username": "ada", "password": SECRET})
    url = httpserver.url_for(f"/echo/{SECRET}") + f"?key={SECRET}&page=2"
    with structlog.testing.capture_logs([merge_contextvars, logs.add_span_ids]) as events:
        run_id = await acme.run("echoing.call", {"url": url}, authentication)
        assert (await acme.wait(run_id))["status"] == "success"
    # A query (an OAuth2 code, a connect token travel there) is not kept by a request's span.
    listed = await acme.get(f"/v2/action-runs/{run_id}", params={"code": SECRET})
    assert listed.status_code == 200

    [run] = await ended(spans, "action_run echoing.call", run_id)
    [attempt] = await ended(spans, "action_run attempt", run_id)
    finished = spans.get_finished_spans()
    assert run.context is not None and attempt.context is not None
    post = server_span(finished, run.context.trace_id)
    # The POST's span holds the run's, which holds the attempt's, in one trace.
    assert parent_of(run) == span_id(post) and run.kind is SpanKind.PRODUCER
    assert parent_of(attempt) == span_id(run) and attempt.kind is SpanKind.CONSUMER
    assert attempt.context.trace_id == run.context.trace_id
    assert (attempt.attributes or {})["actionruns.attempt.outcome"] == "success"
    stored = await traced.engine.store.get_run(run_id)
    assert stored is not None
    flags = int(run.context.trace_flags)
    assert stored.trace_context == f"00-{run.context.trace_id:032x}-{span_id(run):016x}-{flags:02x}"
    # Its outbound request, under the attempt, by the address its request log keeps.
    statements = [s for s in finished if "db.system" in str(dict(s.attributes or {}))]
    [outbound] = [
        s
        for s in finished
        if s.kind is SpanKind.CLIENT and parent_of(s) == span_id(attempt) and s not in statements
    ]
    [stored_attempt] = await traced.engine.store.list_attempts(run_id)
    [logged] = stored_attempt.requests or []
    said = dict(outbound.attributes or {})
    assert said.get("url.full", said.get("http.url")) == logged["url"]
    assert "?" not in logged["url"] and SECRET not in logged["url"]
    # SQL: the attempt's statements under it; none outside a request or an attempt.
    assert any(parent_of(s) == span_id(attempt) for s in statements)
    assert all(s.parent is not None for s in statements)
    reads = "GET /v2/action-runs/{run_id}"
    for _ in range(100):  # the GET's span ends just after its answer is sent (the wait's too)
        finished = spans.get_finished_spans()
        if sum(s.name == reads and s.kind is SpanKind.SERVER for s in finished) >= 2:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the GETs' spans never ended")
    for span in finished:
        assert SECRET not in everything_said(span), span.name
    # Log lines name their trace and span: the connector's, the attempt's; the access
    # event, the POST's.
    trace_id = f"{run.context.trace_id:032x}"
    [said_upstream] = [e for e in events if e["event"] == "upstream said"]
    assert said_upstream["trace_id"] == trace_id
    assert said_upstream["span_id"] == f"{span_id(attempt):016x}"
    [access] = [e for e in events if e["event"] == "http_request" and e["method"] == "POST"]
    assert access["trace_id"] == trace_id and access["span_id"] == f"{span_id(post):016x}"


async def test_a_retried_run_keeps_one_trace(spans: InMemorySpanExporter, traced: Service) -> None:
    acme = await traced.new_client("acme")
    inputs = {"key": f"retried-{traced.engine.settings.port}", "failures": 1}
    run_id = await acme.run("testkit.flaky", inputs)
    assert (await acme.wait(run_id))["status"] == "success"
    [run] = await ended(spans, "action_run testkit.flaky", run_id)
    attempts = await ended(spans, "action_run attempt", run_id, count=2)
    assert [parent_of(a) for a in attempts] == [span_id(run)] * 2
    first, second = sorted(attempts, key=lambda a: a.start_time or 0)
    assert (first.attributes or {})["actionruns.attempt.outcome"] == "retry"
    assert first.status.description == "Temporary failure"
    assert (second.attributes or {})["actionruns.attempt.outcome"] == "success"


async def test_a_callback_delivery_is_in_the_runs_trace(
    spans: InMemorySpanExporter, traced: Service, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    acme = await traced.new_client("acme")
    hook = httpserver.url_for("/hook") + f"?token={SECRET}"
    run_id = await acme.run("testkit.noop", {}, callback_url=hook)
    assert (await acme.wait(run_id))["status"] == "success"
    [run] = await ended(spans, "action_run testkit.noop", run_id)
    [delivery] = await ended(spans, "action_run callback", run_id)
    assert parent_of(delivery) == span_id(run)
    assert (delivery.attributes or {})["http.response.status_code"] == 200
    [posted] = [
        s
        for s in spans.get_finished_spans()
        if parent_of(s) == span_id(delivery) and "db.system" not in str(dict(s.attributes or {}))
    ]
    assert posted.kind is SpanKind.CLIENT and posted.name == "POST"
    said = dict(posted.attributes or {})
    assert said.get("url.full", said.get("http.url")) == httpserver.url_for("/hook")


def console_spans(logged: str) -> list[dict[str, Any]]:
    """The spans the SDK's console exporter printed, among the process's log lines."""
    decoder = json.JSONDecoder()
    found = []
    position = logged.find("{\n")
    while position >= 0:
        span, end = decoder.raw_decode(logged, position)
        found.append(span)
        position = logged.find("\n{\n", end)
        position += 1 if position >= 0 else 0
    return found


@pytest.mark.slow
# Processes apart share PostgreSQL (the context crosses in a column on both backends alike).
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_an_api_node_and_a_worker_apart_make_one_trace(
    start_service: ServiceFactory, backend: str
) -> None:
    service = await start_service(workers=False)  # the database, and a client's token
    acme = await service.new_client("acme")
    # Each process configured by the standard variables alone, as an operator would.
    port = free_port()
    # One after the other: the node's readiness has a deadline, best not met sharing the CPU.
    node = await start_api_node(
        service, port, OTEL_TRACES_EXPORTER="console", OTEL_SERVICE_NAME="actionruns-api"
    )
    worker = start_worker(
        service, OTEL_TRACES_EXPORTER="console", OTEL_SERVICE_NAME="actionruns-worker"
    )
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            posted = await http.post(
                "/v2/action-runs",
                json={"data": {"action": "testkit.noop", "inputs": {"value": 1}}},
                headers=acme.headers,
            )
        assert posted.status_code == 200, posted.text
        run_id = posted.json()["data"]["id"]
        await wait_for_status(service, run_id, "success")
    finally:
        for process in (node, worker):
            process.terminate()
        for process in (node, worker):  # on the way out, each exports what it still holds
            await asyncio.to_thread(process.wait, 20)
    home = service.engine.settings.home
    api = console_spans((home / "api.log").read_text())
    worked = console_spans((home / "worker.log").read_text())
    [post] = [s for s in api if s["name"] == "POST /v2/action-runs"]
    [run] = [s for s in api if s["name"] == "action_run testkit.noop"]
    [attempt] = [s for s in worked if s["name"] == "action_run attempt"]
    assert run["parent_id"] == post["context"]["span_id"]
    assert run["attributes"]["actionruns.run.id"] == run_id
    assert attempt["parent_id"] == run["context"]["span_id"]
    assert attempt["context"]["trace_id"] == post["context"]["trace_id"]
    assert attempt["attributes"]["actionruns.attempt.outcome"] == "success"
    assert post["resource"]["attributes"]["service.name"] == "actionruns-api"
    assert attempt["resource"]["attributes"]["service.name"] == "actionruns-worker"


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "x"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4317"}, False),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_off_unless_the_standard_variables_name_an_exporter(
    environ: dict[str, str], wanted: bool
) -> None:
    assert tracing.wanted(environ) is wanted


def test_exporters_are_the_sdks_own_by_name_and_protocol() -> None:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Grpc
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}
    assert telemetry.exporters(endpoint) == [Grpc]
    http = {**endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
    assert telemetry.exporters(http) == [Http]
    both = {"OTEL_TRACES_EXPORTER": "console,otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}
    assert telemetry.exporters(both) == [ConsoleSpanExporter, Grpc]
    with pytest.raises(ValueError, match="zipkin"):
        telemetry.exporters({"OTEL_TRACES_EXPORTER": "zipkin"})


def test_with_tracing_off_neither_the_sdk_nor_an_instrumentation_is_imported() -> None:
    # The API, the engine and a CLI process's start, as an operator without OTEL_* runs them.
    # (FastAPI itself imports opentelemetry's API, a few light modules.)
    heavy = ("actionruns.telemetry", "opentelemetry.sdk", "opentelemetry.instrumentation")
    code = (
        "import sys, actionruns.api.app, actionruns.cli.serve;"
        "actionruns.cli.serve.trace_if_asked();"
        f"print(sorted(m for m in sys.modules if m.startswith({heavy!r})))"
    )
    environ = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    said = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True
    )
    assert said.stdout.strip() == "[]", said.stdout


def test_without_the_extra_a_process_serves_untraced_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    monkeypatch.setitem(sys.modules, "actionruns.telemetry", None)  # as if not installed
    with structlog.testing.capture_logs() as events:
        trace_if_asked()
    [said] = events
    assert said["event"] == "tracing_unavailable" and said["log_level"] == "warning"
    assert said["install"] == "pip install 'actionruns[otel]'"
    assert not tracing.enabled()


def test_an_exporter_the_sdk_does_not_know_stops_the_process_with_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(SystemExit, match="No trace exporter 'zipkin' is installed"):
        trace_if_asked()
    assert not tracing.enabled()
