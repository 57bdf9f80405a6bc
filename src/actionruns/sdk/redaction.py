"""Keeping secrets out of logs, results and errors.

The engine declares the secrets of the credentials in use for the current task; the log
processor and ``redact`` then replace any occurrence of them, wherever it appears.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

REDACTED = "[redacted]"
# Shorter values are too likely to occur by chance to be replaced everywhere.
MIN_SECRET_LENGTH = 4

_secrets: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "actionruns_secrets", default=()
)


@contextmanager
def secrets_in_scope(values: Iterable[Any]) -> Iterator[None]:
    current = _secrets.get()
    new = {str(value) for value in values if value is not None}
    longest_first = sorted(
        {value for value in new if len(value) >= MIN_SECRET_LENGTH} | set(current),
        key=len,
        reverse=True,
    )
    token = _secrets.set(tuple(longest_first))
    try:
        yield
    finally:
        _secrets.reset(token)


def redact(value: Any, secrets: tuple[str, ...] | None = None) -> Any:
    """Return ``value`` with every secret in scope replaced, recursing into containers."""
    secrets = _secrets.get() if secrets is None else secrets
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {redact(key, secrets): redact(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item, secrets) for item in value]
    return value


def redact_log_event(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: no secret in scope ever reaches a log line."""
    secrets = _secrets.get()
    if not secrets:
        return event
    for key, value in list(event.items()):
        event[key] = redact(str(value) if isinstance(value, BaseException) else value, secrets)
    return event
