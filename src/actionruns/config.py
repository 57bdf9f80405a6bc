"""Settings, read once from the environment (``ACTIONRUNS_*``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from actionruns.sdk.outbound import IPNetwork, parse_networks


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    return int(value) if value else default


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    return float(value) if value else default


def _oauth_clients(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """``ACTIONRUNS_OAUTH_<APP>_CLIENT_ID`` and ``_CLIENT_SECRET`` pairs, by app key."""
    found = {}
    for name, client_id in env.items():
        if name.startswith("ACTIONRUNS_OAUTH_") and name.endswith("_CLIENT_ID"):
            app = name[len("ACTIONRUNS_OAUTH_") : -len("_CLIENT_ID")]
            secret = env.get(f"ACTIONRUNS_OAUTH_{app}_CLIENT_SECRET")
            if app and client_id and secret:
                found[app.lower()] = (client_id, secret)
    return found


@dataclass(frozen=True)
class Settings:
    home: Path = Path(".actionruns")
    database_url: str = ""
    db_pool_size: int = 10
    secret_keys: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    retention_days: float = 7.0
    outbound_allow: tuple[IPNetwork, ...] = ()
    worker_concurrency: int = 32
    lease_seconds: float = 60.0
    shutdown_grace_seconds: float = 10.0
    action_timeout: float = 60.0
    max_attempts: int = 5
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 300.0
    callback_retry_base_seconds: float = 5.0
    callback_max_attempts: int = 8
    rate_limit_per_minute: int = 6000
    token_ttl_seconds: int = 3600
    max_body_bytes: int = 1_048_576
    extra_connectors: tuple[str, ...] = ()
    # OAuth2 client registrations from the environment, by app key: (client id, secret).
    oauth_clients: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # How long before an access token expires it is refreshed.
    refresh_margin_seconds: float = 300.0
    refresh_cooldown_seconds: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("ACTIONRUNS_HOME", ".actionruns")).expanduser()
        settings = cls(
            home=home,
            database_url=env.get("ACTIONRUNS_DATABASE_URL", ""),
            db_pool_size=_int(env, "ACTIONRUNS_DB_POOL_SIZE", 10),
            secret_keys=env.get("ACTIONRUNS_SECRET_KEYS", ""),
            host=env.get("ACTIONRUNS_HOST", "127.0.0.1"),
            port=_int(env, "ACTIONRUNS_PORT", 8080),
            public_url=env.get("ACTIONRUNS_PUBLIC_URL", ""),
            retention_days=_float(env, "ACTIONRUNS_RETENTION_DAYS", 7.0),
            outbound_allow=parse_networks(env.get("ACTIONRUNS_OUTBOUND_ALLOW", "")),
            worker_concurrency=_int(env, "ACTIONRUNS_WORKER_CONCURRENCY", 32),
            lease_seconds=_float(env, "ACTIONRUNS_LEASE_SECONDS", 60.0),
            shutdown_grace_seconds=_float(env, "ACTIONRUNS_SHUTDOWN_GRACE_SECONDS", 10.0),
            action_timeout=_float(env, "ACTIONRUNS_ACTION_TIMEOUT", 60.0),
            max_attempts=_int(env, "ACTIONRUNS_MAX_ATTEMPTS", 5),
            retry_base_seconds=_float(env, "ACTIONRUNS_RETRY_BASE_SECONDS", 2.0),
            retry_max_seconds=_float(env, "ACTIONRUNS_RETRY_MAX_SECONDS", 300.0),
            callback_retry_base_seconds=_float(env, "ACTIONRUNS_CALLBACK_RETRY_BASE_SECONDS", 5.0),
            callback_max_attempts=_int(env, "ACTIONRUNS_CALLBACK_MAX_ATTEMPTS", 8),
            rate_limit_per_minute=_int(env, "ACTIONRUNS_RATE_LIMIT_PER_MINUTE", 6000),
            token_ttl_seconds=_int(env, "ACTIONRUNS_TOKEN_TTL_SECONDS", 3600),
            max_body_bytes=_int(env, "ACTIONRUNS_MAX_BODY_BYTES", 1_048_576),
            extra_connectors=tuple(
                ref.strip()
                for ref in env.get("ACTIONRUNS_CONNECTORS", "").split(",")
                if ref.strip()
            ),
            oauth_clients=_oauth_clients(env),
            refresh_margin_seconds=_float(env, "ACTIONRUNS_REFRESH_MARGIN_SECONDS", 300.0),
            refresh_cooldown_seconds=_float(env, "ACTIONRUNS_REFRESH_COOLDOWN_SECONDS", 60.0),
        )
        return replace(settings, **overrides)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'actionruns.db').resolve()}"

    @property
    def key_file(self) -> Path:
        return self.home / "keys.json"

    @property
    def token_issuer(self) -> str:
        """The ``iss`` of access tokens: the same on every node, whatever address it listens on."""
        return self.public_url.rstrip("/") or "actionruns"

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"
