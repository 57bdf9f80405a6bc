"""OAuth scopes: the four an operator grants a client, and Zapier's names for them.

A client written for Zapier's Workflow API asks for Zapier's scope names (listed at
docs.zapier.com/powered-by-zapier/api-reference/oauth-scopes). Each is granted when the client
holds the scopes it stands for here; the ones that name something actionruns does not have
(Zaps, profiles, MCP) are granted to any client and open nothing.
"""

from __future__ import annotations

from collections.abc import Collection

ALL_SCOPES = ("action:run", "authentication", "authentication:write", "zap")
"""What an operator grants a client (``actionruns clients create --scopes``)."""

ZAPIER_SCOPES: dict[str, tuple[str, ...]] = {
    # Zapier's name: the client scopes it needs here.
    "connection:read": ("authentication",),
    "connection:write": ("authentication:write",),
    # Zapier documents zap:write for the input fields, the output fields and the step test,
    # and the step test runs the action: it needs both.
    "zap:write": ("zap", "action:run"),
    "profile": (),
    "zap:all": (),
    "zap:runs": (),
    "zap:delete": (),
    "zap:account:all": (),
    "external": (),
    "mcp:run": (),
}

REQUESTABLE_SCOPES = ALL_SCOPES + tuple(ZAPIER_SCOPES)
"""Every scope a token request may name."""


def grantable(scope: str, client_scopes: Collection[str]) -> bool:
    """Whether a client holding ``client_scopes`` may have a token with ``scope``."""
    if scope in ALL_SCOPES:
        return scope in client_scopes
    needs = ZAPIER_SCOPES.get(scope)
    return needs is not None and all(need in client_scopes for need in needs)
