"""Per-client request limits: a fixed one-minute window, held across every API node.

On one machine the window is counted in memory. With several API nodes (PostgreSQL), each
node claims slices of a client's budget from a counter in the database and serves requests
from its slice, so the limit holds system-wide at one database write per slice, not per
request. Claimed budget is counted when claimed: the nodes together never admit more than
the limit, at worst a little less (what an idle node claimed and did not use).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from actionruns.store import Store

WINDOW_SECONDS = 60
MAX_SLICE = 100


@dataclass
class _Budget:
    window: float
    granted: int = 0  # claimed by this process
    used: int = 0  # spent by this process
    claimed_everywhere: int = 0  # claimed by all processes, as of our last claim
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: float
    retry_after: int | None

    @property
    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(int(self.reset)),
        }
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class ClientRateLimits:
    def __init__(
        self, store: Store, per_minute: int, *, shared: bool, clock: Callable[[], float]
    ) -> None:
        self.store = store
        self.per_minute = per_minute
        self.shared = shared
        self.clock = clock
        self.slice = max(1, min(MAX_SLICE, per_minute // 50))
        self._budgets: dict[str, _Budget] = {}

    async def hit(self, client_id: str) -> RateDecision:
        now = self.clock()
        window = now - now % WINDOW_SECONDS
        budget = self._budgets.get(client_id)
        if budget is None or budget.window != window:
            if len(self._budgets) > 100_000:  # old windows of clients gone quiet
                self._budgets.clear()
            budget = self._budgets[client_id] = _Budget(window)
            if not self.shared:
                budget.granted = budget.claimed_everywhere = self.per_minute
        if budget.used >= budget.granted and self.shared:
            async with budget.lock:
                if budget.used >= budget.granted:
                    granted, claimed = await self.store.claim_rate_budget(
                        f"{client_id}:{int(window)}",
                        want=self.slice,
                        limit=self.per_minute,
                        expires_at=window + 2 * WINDOW_SECONDS,
                    )
                    budget.granted += granted
                    budget.claimed_everywhere = claimed
        reset = window + WINDOW_SECONDS
        allowed = budget.used < budget.granted
        if allowed:
            budget.used += 1
        unspent_here = budget.granted - budget.used
        return RateDecision(
            allowed=allowed,
            limit=self.per_minute,
            remaining=max(0, self.per_minute - budget.claimed_everywhere + unspent_here),
            reset=reset,
            retry_after=None if allowed else max(1, math.ceil(reset - now)),
        )
