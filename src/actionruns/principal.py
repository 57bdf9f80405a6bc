"""Who is calling: an API client (a partner) and, later, one of its end users."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    client_id: str
    scopes: frozenset[str]
    allowed_apps: frozenset[str] | None = None
    end_user_id: str | None = None

    def may_use_app(self, app_key: str) -> bool:
        return self.allowed_apps is None or app_key in self.allowed_apps
