"""Attempts that cost someone else: failed client authentications (guessing secrets) and
Connect page form posts (each runs a connection test against a third party).

Each is counted per key (a client id, a connect token, a source address) in a fixed
one-minute window held in the store, so the limit holds across every API node; past it the
key is refused until its window ends (429 with Retry-After).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from actionruns.store import Store

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class AttemptLimit:
    name: str  # what is counted, e.g. "token-failures"
    per_key: int  # attempts a key may make in a window


# Failed client authentications at /oauth/token: per client id, and per source address (one
# address may try many ids).
TOKEN_FAILURES_PER_CLIENT = AttemptLimit("token-failures-client", 10)
TOKEN_FAILURES_PER_ADDRESS = AttemptLimit("token-failures-address", 30)
# Connect page form posts, each a connection test: per connect token and per address.
CONNECT_POSTS_PER_TOKEN = AttemptLimit("connect-posts-token", 10)
CONNECT_POSTS_PER_ADDRESS = AttemptLimit("connect-posts-address", 30)


class AttemptLimits:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

    def _window(self) -> float:
        now = self.clock()
        return now - now % WINDOW_SECONDS

    def _key(self, limit: AttemptLimit, value: str, window: float) -> str:
        # Hashed: values come from requests (any length, any characters).
        digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:40]
        return f"{limit.name}:{digest}:{int(window)}"

    async def retry_after(self, counted: Sequence[tuple[AttemptLimit, str]]) -> int | None:
        """Seconds until every key may try again, or None if none is over its limit."""
        window = self._window()
        used = await self.store.rate_windows_used(
            [self._key(limit, value, window) for limit, value in counted]
        )
        over = any(
            used.get(self._key(limit, value, window), 0) >= limit.per_key
            for limit, value in counted
        )
        return max(1, math.ceil(window + WINDOW_SECONDS - self.clock())) if over else None

    async def count(self, counted: Sequence[tuple[AttemptLimit, str]]) -> None:
        window = self._window()
        for limit, value in counted:
            await self.store.claim_rate_budget(
                self._key(limit, value, window),
                want=1,
                limit=limit.per_key,
                expires_at=window + 2 * WINDOW_SECONDS,
            )
