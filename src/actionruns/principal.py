"""Who is calling: an API client (a partner) and, later, one of its end users."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    client_id: str
    scopes: frozenset[str]
    allowed_apps: frozenset[str] | None = None
    end_user_id: str | None = None
    # Known by its client_id alone (public discovery): no scopes, only the app allowlist.
    public: bool = False

    def may_use_app(self, app_key: str) -> bool:
        return self.allowed_apps is None or app_key in self.allowed_apps

    def can_see(self, end_user_id: str | None) -> bool:
        """Whether a record of this client owned by ``end_user_id`` is visible: the partner's
        own backend sees all its end users' records, an end user only their own."""
        return self.end_user_id is None or self.end_user_id == end_user_id


END_USER_PATTERN = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")
"""An end user id: the partner's own identifier, 1 to 200 printable characters."""
