"""Logging setup: structured lines, secrets redacted before anything is written."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

import orjson
import structlog

from actionruns.sdk.redaction import redact_log_event

# A logger binds its processors on first use (structlog's advice for production: about a
# quarter of an event's cost, twice a run). The suite turns this off: a cached logger would
# keep writing past structlog.testing.capture_logs, which swaps the processors in a test.
cache_loggers = True


class _CurrentStderr:
    """Whatever ``sys.stderr`` is at write time (it may be replaced after set-up)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


# Set by actionruns.telemetry while tracing: the current span's ids, for each log event.
_span_ids: Callable[[], dict[str, str]] | None = None


def correlate(span_ids: Callable[[], dict[str, str]] | None) -> None:
    """Add what ``span_ids`` says (``trace_id``, ``span_id``) to every event from now on."""
    global _span_ids
    _span_ids = span_ids


def add_span_ids(
    _logger: Any, _method: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """The trace and span the event was logged in, while tracing: a log line leads to its
    trace, and a trace to its log lines."""
    if _span_ids is not None:
        for key, value in _span_ids().items():
            event.setdefault(key, value)
    return event


def current_request_id() -> str | None:
    """The id of the request being served (bound by the access log), if any."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None


def _json_line(event: structlog.typing.EventDict, **_options: Any) -> str:
    """The event as one JSON object: by orjson (a third of the standard library's cost), or,
    for what orjson refuses (an integer past 64 bits, a key that is not a string), by the
    standard library, so that a log call never fails."""
    try:
        return orjson.dumps(event, default=str).decode()
    except orjson.JSONEncodeError:
        return json.dumps(event, default=str)


def configure_logging(*, json: bool = False, level: int = logging.INFO) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_json_line)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_span_ids,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # Tracebacks become text before redaction, so they are redacted too.
            structlog.processors.format_exc_info,
            redact_log_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=cache_loggers,
    )
