"""Spans of a run's life, or nothing: OpenTelemetry is imported only once tracing is turned on
(``actionruns.telemetry``), so with it off the run path pays one test of a global.

A run's trace starts in the request that submits it. The ``action_run`` span made there is
stored with the run as a W3C traceparent (``runs.trace_context``), and each attempt, in
whichever process leases it, is a span under it, as is each callback delivery; what an
attempt does (outbound requests, SQL) nests under the attempt.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

    from actionruns.store import RunRecord

_tracer: Tracer | None = None
_NOTHING = nullcontext()

# The standard variables that turn tracing on (an exporter to send spans to), and off.
EXPORTER_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def wanted(environ: Mapping[str, str]) -> bool:
    """Whether the standard ``OTEL_*`` variables ask for traces: an exporter named in
    ``OTEL_TRACES_EXPORTER`` (other than ``none``), or an OTLP endpoint; never with
    ``OTEL_SDK_DISABLED=true``."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    named = environ.get("OTEL_TRACES_EXPORTER")
    if named is not None and named.strip():
        return named.strip().lower() != "none"
    return any(environ.get(name, "").strip() for name in EXPORTER_VARIABLES)


def enable(tracer: Tracer | None) -> None:
    """Make the run path's spans with ``tracer`` (None: make none)."""
    global _tracer
    _tracer = tracer


def enabled() -> bool:
    return _tracer is not None


def _run_attributes(run_id: str, app_key: str, action_key: str) -> dict[str, Any]:
    return {"actionruns.run.id": run_id, "actionruns.action": f"{app_key}.{action_key}"}


def run_submitted(run_id: str, app_key: str, action_key: str) -> AbstractContextManager[str | None]:
    """The ``action_run`` span, current while the run is stored; yields its traceparent, to
    be stored with the run (None with tracing off)."""
    # Off, a shared do-nothing: a generator-based context manager cost ~3 us a run.
    return _NOTHING if _tracer is None else _run_submitted(_tracer, run_id, app_key, action_key)


def run_step(name: str, run: RunRecord, **attributes: Any) -> AbstractContextManager[None]:
    """A span for one step of ``run`` (an attempt, a callback delivery), in the run's trace
    whichever process takes the step, and current while it lasts."""
    return _NOTHING if _tracer is None else _run_step(_tracer, name, run, attributes)


@contextmanager
def _run_submitted(
    tracer: Tracer, run_id: str, app_key: str, action_key: str
) -> Iterator[str | None]:
    from opentelemetry.trace import SpanKind

    attributes = _run_attributes(run_id, app_key, action_key)
    with tracer.start_as_current_span(
        f"action_run {app_key}.{action_key}", kind=SpanKind.PRODUCER, attributes=attributes
    ):
        yield _traceparent()


@contextmanager
def _run_step(
    tracer: Tracer, name: str, run: RunRecord, attributes: Mapping[str, Any]
) -> Iterator[None]:
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    parent = (
        TraceContextTextMapPropagator().extract({"traceparent": run.trace_context})
        if run.trace_context
        else None
    )
    with tracer.start_as_current_span(
        f"action_run {name}",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={**_run_attributes(run.id, run.app_key, run.action_key), **attributes},
    ):
        yield


def note(attributes: Mapping[str, Any], *, failed: str | None = None) -> None:
    """Add ``attributes`` to the current span (None values left out); ``failed`` marks it an
    error, saying why."""
    if _tracer is None:
        return
    from opentelemetry.trace import Status, StatusCode, get_current_span

    span = get_current_span()
    span.set_attributes({key: value for key, value in attributes.items() if value is not None})
    if failed is not None:
        span.set_status(Status(StatusCode.ERROR, failed))


def _traceparent() -> str | None:
    """The current span's context as a W3C traceparent (always W3C: it is what the column
    holds, whatever propagators the operator chose for HTTP)."""
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent")
