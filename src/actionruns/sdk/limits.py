"""Limits a connector declares for its app, held across every worker process.

``concurrency`` caps the runs executing at once; ``rate`` caps how many start per period.
Both count per authentication (one user's account: a Slack workspace, a mailbox) or per app.
Separately from these, a throttle (429 with ``Retry-After``) on one run delays every queued
run on the same authentication, declared or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LimitScope(StrEnum):
    AUTHENTICATION = "authentication"
    APP = "app"


@dataclass(frozen=True)
class RateLimit:
    """At most ``runs`` attempts started per ``seconds``, spaced evenly (no bursts): the
    safe reading of a vendor's "N requests per second"."""

    runs: int
    seconds: float

    def __post_init__(self) -> None:
        if self.runs < 1 or self.seconds <= 0:
            raise ValueError("a rate limit needs runs >= 1 and seconds > 0")


@dataclass(frozen=True)
class Limits:
    concurrency: int | None = None
    rate: RateLimit | None = None
    per: LimitScope = LimitScope.AUTHENTICATION

    def __post_init__(self) -> None:
        if self.concurrency is not None and self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")

    def key(self, app_key: str, authentication_id: str | None) -> str:
        """What the limits count over: the app, or one authentication of it."""
        if self.per is LimitScope.APP or authentication_id is None:
            return app_key
        return f"{app_key}:{authentication_id}"
