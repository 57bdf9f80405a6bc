"""Until when each key is needed by what it signed and no table stores: access tokens,
connect links, OAuth states. Retiring a key before then would break them (``keys retire``).

Each process writes at most once per key every ``SLACK_SECONDS``: it records that much more
than it needs, so what it signs until then is already covered.
"""

from __future__ import annotations

from actionruns.store import Store

SLACK_SECONDS = 300.0


class KeyUses:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._covered: dict[str, float] = {}

    async def signed(self, key_id: str, valid_until: float) -> None:
        """Something signed with ``key_id`` is valid until ``valid_until``."""
        if valid_until <= self._covered.get(key_id, float("-inf")):
            return
        covered = valid_until + SLACK_SECONDS
        await self.store.extend_key_use(key_id, covered)
        self._covered[key_id] = covered
