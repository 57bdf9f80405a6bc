"""OpenTelemetry traces, on when the standard ``OTEL_*`` variables name an exporter
(``actionruns.engine.tracing.wanted``; docs/deployment.md, *Tracing*).

Imported only then: the ``otel`` extra's packages cost nothing to a process that does not
trace. What is traced: each API request (FastAPI's instrumentation), the run's life
(``actionruns.engine.tracing``), each outbound HTTP request (httpx's instrumentation, which
knows httpx2) with its address as the attempt's request log keeps it (no query, no
credentials), and SQL statements made inside a request or an attempt.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import (
    AsyncOpenTelemetryTransportHttpx2,
    HTTPX2ClientInstrumentor,
    RequestInfo,
)
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, Tracer, use_span
from opentelemetry.util.types import Attributes

from actionruns import __version__, logs
from actionruns.engine import tracing
from actionruns.sdk import outbound
from actionruns.sdk.request_log import public_url

# Probes and scrapes would be most of the spans, and say nothing.
DEFAULT_EXCLUDED_URLS = "/healthz$,/readyz$,/metrics$"
# The SDK's names for its OTLP exporters, by OTEL_EXPORTER_OTLP_PROTOCOL; "otlp" alone is
# gRPC, as in the SDK's own configuration (opentelemetry-instrument).
OTLP_BY_PROTOCOL = {"grpc": "otlp_proto_grpc", "http/protobuf": "otlp_proto_http"}

_provider: TracerProvider | None = None


def configure(environ: Mapping[str, str]) -> TracerProvider:
    """Trace as ``environ`` says: its exporters, sampler (``OTEL_TRACES_SAMPLER``), resource
    (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``) and batching (``OTEL_BSP_*``), all
    read by the SDK itself; the service is named ``actionruns`` unless they name it."""
    resource = Resource.create({"service.name": "actionruns", "service.version": __version__})
    provider = TracerProvider(resource=resource.merge(OTELResourceDetector().detect()))
    for exporter in exporters(environ):
        provider.add_span_processor(BatchSpanProcessor(exporter()))
    trace.set_tracer_provider(provider)
    start(provider)
    return provider


def exporters(environ: Mapping[str, str]) -> list[type[SpanExporter]]:
    """The exporter classes ``OTEL_TRACES_EXPORTER`` names (``otlp`` if only an endpoint is
    set), found by the SDK's entry points as the SDK finds them."""
    names = environ.get("OTEL_TRACES_EXPORTER", "").strip() or "otlp"
    found: list[type[SpanExporter]] = []
    for name in (part.strip() for part in names.split(",")):
        if name == "otlp":
            protocol = (
                environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
                or "grpc"
            ).strip()
            if protocol not in OTLP_BY_PROTOCOL:
                raise ValueError(f"Unsupported OTLP protocol {protocol!r} for traces.")
            name = OTLP_BY_PROTOCOL[protocol]
        entry = importlib.metadata.entry_points(group="opentelemetry_traces_exporter", name=name)
        if not entry:
            raise ValueError(f"No trace exporter {name!r} is installed (OTEL_TRACES_EXPORTER).")
        found.append(next(iter(entry)).load())
    return found


def start(provider: TracerProvider) -> None:
    """Trace into ``provider``: the run path at once, SQL of the engines made from now on."""
    global _provider
    _provider = provider
    # Its declared range ends before SQLAlchemy 2.1, whose engine events it uses unchanged
    # (tests/engine/test_tracing.py checks the statements' spans on both backends).
    SQLAlchemyInstrumentor().instrument(tracer_provider=_WithinSpans(provider), skip_dep_check=True)
    HTTPX2ClientInstrumentor().instrument(
        tracer_provider=provider, async_request_hook=_public_address
    )
    outbound.trace_requests(
        lambda transport: AsyncOpenTelemetryTransportHttpx2(
            transport, tracer_provider=provider, request_hook=_public_address
        )
    )
    tracing.enable(provider.get_tracer("actionruns", __version__))
    logs.correlate(_span_ids)


def stop() -> None:
    """Trace nothing more (tests: a provider of their own)."""
    global _provider
    logs.correlate(None)
    tracing.enable(None)
    HTTPX2ClientInstrumentor().uninstrument()
    outbound.trace_requests(None)
    SQLAlchemyInstrumentor().uninstrument()
    _provider = None


def flush() -> None:
    """Export the spans still held. A server stopping must: uvicorn ends a process it was
    asked to stop by raising the signal again, so exit handlers (the SDK's) never run."""
    if _provider is not None:
        _provider.force_flush()


def instrument_app(app: FastAPI) -> None:
    """A span for each request ``app`` serves, if tracing is on."""
    if _provider is None:
        return
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=_provider,
        server_request_hook=_without_query,
        excluded_urls=DEFAULT_EXCLUDED_URLS,
        # Not a span per ASGI message of each request: only the request.
        exclude_spans=["receive", "send"],
    )


def _span_ids() -> dict[str, str]:
    """The current span's trace and span ids, as trace backends write them (hex)."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}


def _without_query(span: Span, _scope: Mapping[str, Any]) -> None:
    """No query string in the request's span: an OAuth2 code, a Connect page's token and the
    like travel there."""
    attributes = getattr(span, "attributes", None) or {}
    for key in ("http.url", "url.full"):
        if isinstance(value := attributes.get(key), str):
            span.set_attribute(key, urlunsplit(urlsplit(value)._replace(query="", fragment="")))
    if isinstance(target := attributes.get("http.target"), str):
        span.set_attribute("http.target", target.partition("?")[0])
    if "url.query" in attributes:
        span.set_attribute("url.query", "REDACTED")


async def _public_address(span: Span, request: RequestInfo) -> None:
    """The outbound request's address as its attempt's request log keeps it: no user,
    password, query or fragment, and the call's secrets redacted from the path."""
    address = public_url(httpx2.URL(str(request.url)))
    attributes = getattr(span, "attributes", None) or {}
    for key in ("http.url", "url.full"):
        if key in attributes:
            span.set_attribute(key, address)


class _WithinSpans(trace.TracerProvider):
    """Tracers that trace only inside another span: the SQL of a request or an attempt, not
    a worker's polling of the queue (a trace a second, of one statement each)."""

    def __init__(self, provider: trace.TracerProvider) -> None:
        self._provider = provider

    def get_tracer(self, *args: Any, **kwargs: Any) -> Tracer:
        return _ChildTracer(self._provider.get_tracer(*args, **kwargs))


class _ChildTracer(Tracer):
    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    def start_span(
        self,
        name: str,
        context: Any = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> Span:
        if not trace.get_current_span(context).get_span_context().is_valid:
            return INVALID_SPAN
        return self._tracer.start_span(
            name,
            context,
            kind,
            attributes,
            links,
            start_time,
            record_exception,
            set_status_on_exception,
        )

    @contextmanager
    def start_as_current_span(  # type: ignore[override]
        self,
        name: str,
        context: Any = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[Span]:
        span = self.start_span(
            name,
            context,
            kind,
            attributes,
            links,
            start_time,
            record_exception,
            set_status_on_exception,
        )
        with use_span(
            span,
            end_on_exit=end_on_exit,
            record_exception=record_exception,
            set_status_on_exception=set_status_on_exception,
        ) as current:
            yield current
