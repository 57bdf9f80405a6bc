"""Errors a connector raises to say what went wrong, so the engine knows what to do next.

The class decides the fate of the run: a halt is final, an expired credential marks the
authentication expired, throttling is retried after the given delay and a transient failure
is retried with exponential backoff.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class ActionError(Exception):
    """Base of every error a connector raises on purpose."""

    code: ClassVar[str] = "system"
    title: ClassVar[str] = "Action failed"
    retryable: ClassVar[bool] = False

    def __init__(self, detail: str, *, meta: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.meta = dict(meta or {})


class HaltError(ActionError):
    """The request can never succeed as given (bad input, missing record): never retried."""

    code = "user"
    title = "Action halted"


class ExpiredAuthError(ActionError):
    """The credentials were refused: the user must reconnect the authentication."""

    code = "authentication"
    title = "Authentication expired"


class ThrottledError(ActionError):
    """The upstream asked us to slow down; retry after ``delay`` seconds."""

    code = "throttled"
    title = "Throttled by the app"
    retryable = True

    def __init__(
        self, detail: str, *, delay: float = 60.0, meta: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(detail, meta=meta)
        self.delay = max(0.0, float(delay))


class TransientError(ActionError):
    """A failure that may pass (network, 5xx, timeout): retried with backoff up to a limit."""

    code = "partner"
    title = "Temporary failure"
    retryable = True


class UnreachableError(TransientError):
    """The server could not be reached: the name does not resolve, nothing answers on the
    port, the connection was refused or timed out. ``detail`` is for the run and the
    operator's logs; a connection test tells people only that the host could not be reached
    (telling these apart would map the network for whoever asks)."""

    title = "Server unreachable"


class BlockedDestinationError(HaltError):
    """The outbound guard refused a destination (loopback, private, metadata addresses)."""

    title = "Destination not allowed"
