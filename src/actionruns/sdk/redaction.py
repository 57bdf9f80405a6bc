"""Keeping secrets out of logs, results and errors, in every form they take.

The engine declares the secrets of the credentials in use for the current task; the log
processor and ``redact`` then replace each of them wherever it appears, and the forms an
upstream or a connector derives from it: any case, URL-encoded, inside base64 (of the secret
alone or of ``user:secret``, as Basic authentication sends it), and cut short (any prefix of
8 or more characters that ends at a token boundary, as in "sk_live_4e1f…").
"""

from __future__ import annotations

import base64
import contextvars
import functools
import re
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
# Shorter values are too likely to occur by chance to be replaced everywhere.
MIN_SECRET_LENGTH = 4
# Derived forms (prefixes, base64 fragments) only for secrets at least this long: a shorter
# one's fragments would match ordinary text.
MIN_DERIVED_LENGTH = 8
# A prefix shorter than the secret counts only where a token ends: what follows is not a
# letter, a digit or one of these.
_WORD_CHARACTERS = "A-Za-z0-9_\\-"

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


def _base64_cores(secret: bytes) -> set[str]:
    """What base64 of any text holding ``secret`` must contain, whatever comes before it
    (``user:`` of Basic authentication) or after: for each of the three alignments, the
    characters that depend on the secret's bytes alone."""
    cores = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret).decode()
        start = -(-8 * offset // 6)  # the first character with no bit of the padding
        end = 8 * (offset + len(secret)) // 6  # past the last with no bit of what follows
        core = encoded[start:end]
        cores |= {core, core.replace("+", "-").replace("/", "_")}  # and URL-safe base64
    return cores


def _prefixes(secret: str) -> str:
    """The secret, or a prefix of it of MIN_DERIVED_LENGTH or more characters that ends where
    a token does: one pattern, nested optional characters."""
    head = re.escape(secret[:MIN_DERIVED_LENGTH])
    tail = "".join(f"(?:{re.escape(char)}" for char in secret[MIN_DERIVED_LENGTH:])
    closing = ")?" * (len(secret) - MIN_DERIVED_LENGTH)
    return f"{head}{tail}{closing}(?![{_WORD_CHARACTERS}])"


@functools.lru_cache(maxsize=512)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str]:
    exact: set[str] = set()
    derived: set[str] = set()
    cased = {variant for secret in secrets for variant in _cases(secret)}
    for secret in cased:
        encoded = {quote(secret, safe=""), quote_plus(secret)}
        exact |= {secret, *encoded, *(form.lower() for form in encoded)}
        if len(secret) >= MIN_DERIVED_LENGTH:
            derived |= _base64_cores(secret.encode())
    alternatives = [re.escape(form) for form in sorted(exact | derived, key=len, reverse=True)]
    alternatives += [_prefixes(secret) for secret in cased if len(secret) > MIN_DERIVED_LENGTH]
    return re.compile("|".join(alternatives))


def _cases(secret: str) -> set[str]:
    """The secret as given, upper-cased and lower-cased (as upstreams echo keys back)."""
    return {secret, secret.upper(), secret.lower()}


def redact(value: Any, secrets: tuple[str, ...] | None = None) -> Any:
    """Return ``value`` with every secret in scope replaced, recursing into containers."""
    secrets = _secrets.get() if secrets is None else secrets
    if not secrets:
        return value
    return _redact(value, _pattern(secrets))


def _redact(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, dict):
        return {_redact(key, pattern): _redact(item, pattern) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(item, pattern) for item in value]
    return value


def redact_log_event(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: no secret in scope ever reaches a log line."""
    secrets = _secrets.get()
    if not secrets:
        return event
    pattern = _pattern(secrets)
    for key, value in list(event.items()):
        event[key] = _redact(str(value) if isinstance(value, BaseException) else value, pattern)
    return event
