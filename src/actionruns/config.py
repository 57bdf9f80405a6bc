"""Settings, declared once here and read from the environment (``ACTIONRUNS_*``).

Each field is one variable, ``ACTIONRUNS_<FIELD>`` unless its ``env`` says otherwise; its
description and shown default make the README's table (``settings_table``; a test checks the
README against it). A bad value fails at start with one line that names the variable, the
value and what it expects.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

import annotated_types
from pydantic import Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from actionruns.sdk.outbound import IPNetwork, OutboundClient, parse_networks

PREFIX = "ACTIONRUNS_"
_OAUTH_PREFIX, _OAUTH_ID, _OAUTH_SECRET = f"{PREFIX}OAUTH_", "_CLIENT_ID", "_CLIENT_SECRET"


# The environment ``Settings.from_env`` is reading; plain construction reads none.
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("environ", default=None)


class SettingsError(ValueError):
    """A variable holds a value its setting cannot take; the message is one line per variable."""


def setting(
    default: Any,
    description: str,
    *,
    shown: str | None = None,
    variable: str | None = None,
    expects: str | None = None,
    **constraints: Any,
) -> Any:
    """A field with what the README says of it: ``shown`` stands for the default in the
    table (else the default itself, as code), ``variable`` for the variable's name (else
    the one it is read from), ``expects`` says what a bad value should have been (else it
    follows from the type and bounds)."""
    extra = {"shown": shown, "variable": variable, "expects": expects}
    return Field(
        default,
        description=description,
        json_schema_extra={key: value for key, value in extra.items() if value is not None},
        **constraints,
    )


Networks = Annotated[tuple[IPNetwork, ...], NoDecode]
Names = Annotated[tuple[str, ...], NoDecode]
OAuthClients = Annotated[Mapping[str, tuple[str, str]], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_ignore_empty=True,
        frozen=True,
        extra="forbid",
        validate_by_name=True,
    )

    home: Path = setting(
        Path(".actionruns"),
        "data directory (database, key file); unset, the command line uses `.actionruns` "
        "in the current folder or the nearest above it, else beside its install",
        shown="`./.actionruns`",
        expects="a folder",
    )
    # Never in a repr: a database URL may hold a password, the keys are the keys.
    database_url: str = setting(
        "",
        "`postgresql://…` to scale out (see `docs/deployment.md`)",
        shown="SQLite in the home",
        repr=False,
    )
    secret_keys: str = setting(
        "", "`id:base64key,…`, the first is primary", shown="key file", repr=False
    )
    host: str = setting("127.0.0.1", "the address the API listens on")
    port: int = setting(8080, "the port the API listens on", ge=1, le=65535)
    public_url: str = setting(
        "", "the address clients use; the issuer of access tokens", shown="none"
    )
    retention_days: float = setting(7.0, "finished runs are deleted after this", gt=0)
    outbound_allow: Networks = setting(
        (),
        "CIDRs connectors may reach beyond the public internet",
        shown="none",
        expects="comma-separated addresses or CIDRs, e.g. 10.0.0.0/8,::1",
    )
    outbound_client: OutboundClient = setting(
        "aiohttp", "what sends connectors' HTTP requests: aiohttp, or httpcore (the former pool)"
    )
    worker_concurrency: int = setting(32, "runs at a time per worker process", ge=1)
    lease_seconds: float = setting(
        60.0, "how long a dead worker's runs wait before another takes them", gt=0
    )
    db_pool_size: int = setting(10, "database connections per process (PostgreSQL)", ge=1)
    shutdown_grace_seconds: float = setting(
        10.0, "on SIGTERM, how long attempts may finish before they are handed back", ge=0
    )
    action_timeout: float = setting(60.0, "seconds per attempt (an action may set its own)", gt=0)
    max_attempts: int = setting(5, "attempts for transient failures", ge=1)
    retry_base_seconds: float = setting(
        2.0, "first retry delay; each next one doubles, with jitter", gt=0
    )
    retry_max_seconds: float = setting(300.0, "the longest delay between two attempts", gt=0)
    callback_retry_base_seconds: float = setting(
        2.0, "first delay before a failed callback is sent again; then it doubles", gt=0
    )
    callback_max_attempts: int = setting(
        3, "deliveries tried per callback (on network errors and 5xx; a 4xx ends them)", ge=1
    )
    rate_limit_per_minute: int = setting(6000, "requests per client per minute", ge=1)
    token_ttl_seconds: int = setting(3600, "how long an access token is valid", ge=60)
    max_body_bytes: int = setting(1_048_576, "largest request body accepted", ge=1024)
    extra_connectors: Names = setting(
        (),
        "extra connectors as `module:attribute`, comma-separated, served from a checkout",
        shown="none",
        validation_alias=f"{PREFIX}CONNECTORS",
        expects="module:attribute references, comma-separated",
    )
    # OAuth2 client registrations from the environment, by app key: (client id, secret).
    oauth_clients: OAuthClients = setting(
        {},
        "an OAuth2 app registration (else `actionruns oauth-apps set`)",
        shown="none",
        variable=f"`{_OAUTH_PREFIX}<APP>{_OAUTH_ID}` / `{_OAUTH_SECRET}`",
        repr=False,
    )
    refresh_margin_seconds: float = setting(
        300.0, "OAuth2 tokens are refreshed this long before they expire", ge=0
    )
    refresh_cooldown_seconds: float = setting(
        60.0, "after a failed refresh, wait this long before the next", ge=0
    )
    mcp_meta_tools: bool = setting(
        False,
        "MCP serves three meta tools (search, inputs, run) instead of one tool per action",
    )
    dashboard: bool = setting(
        True,
        "the operators' dashboard at `/dashboard` (`off`: answered 404)",
        shown="on",
        expects="on or off",
    )
    cors_origins: Names = setting(
        (),
        "browser origins that may call the API (CORS), e.g. `https://app.example.com`",
        shown="none",
        expects="origins (scheme://host[:port]), comma-separated",
    )
    pieces_dir: Path | None = setting(
        None,
        "installed Activepieces pieces, when not in the home (a shared folder, or one the "
        "pieces' user may read)",
        shown="`<home>/pieces`",
        expects="a folder",
    )
    pieces_user: str = setting(
        "",
        "the OS user pieces' Node process runs as, where the worker may switch users "
        "(root or CAP_SETUID); it must be able to read the pieces and the bridge",
        shown="none: the worker's",
        expects="a user name",
    )

    @field_validator("home", "pieces_dir", mode="after")
    @classmethod
    def _expand_home(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @field_validator("database_url", mode="after")
    @classmethod
    def _driver_installed(cls, value: str) -> str:
        if value.startswith("postgres") and importlib.util.find_spec("asyncpg") is None:
            raise PydanticCustomError(
                "driver_missing",
                "PostgreSQL needs its driver, which is not installed: "
                "pip install 'actionruns[postgresql]'",
            )
        return value

    @field_validator("outbound_allow", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        return parse_networks(value) if isinstance(value, str) else value

    @field_validator("extra_connectors", "cors_origins", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(ref.strip() for ref in value.split(",") if ref.strip())
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = _ENVIRON.get()
        if environ is None:
            return (init_settings,)
        return (
            init_settings,
            _MappingEnvSource(settings_cls, environ),
            _OAuthClientsSource(settings_cls, environ),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """The settings from ``env`` (the process environment by default), ``overrides``
        first; a bad value raises ``SettingsError`` naming each variable."""
        environ = dict(os.environ if env is None else env)
        reading = _ENVIRON.set(environ)
        try:
            return cls(**overrides)
        except ValidationError as exc:
            raise SettingsError(_explain(exc, environ)) from None
        finally:
            _ENVIRON.reset(reading)

    def with_values(self, **values: Any) -> Settings:
        """These settings with some fields changed, validated like the rest."""
        return type(self)(**{**self.model_dump(), **values})

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


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source, over a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._mapping = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {
            name if self.case_sensitive else name.lower(): value
            for name, value in self._mapping.items()
            if value or not self.env_ignore_empty
        }


class _OAuthClientsSource(PydanticBaseSettingsSource):
    """``ACTIONRUNS_OAUTH_<APP>_CLIENT_ID`` and ``_CLIENT_SECRET`` pairs, by app key."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is read in __call__

    def __call__(self) -> dict[str, Any]:
        found = {}
        for name, client_id in self._environ.items():
            if name.startswith(_OAUTH_PREFIX) and name.endswith(_OAUTH_ID):
                app = name[len(_OAUTH_PREFIX) : -len(_OAUTH_ID)]
                secret = self._environ.get(f"{_OAUTH_PREFIX}{app}{_OAUTH_SECRET}")
                if app and client_id and secret:
                    found[app.lower()] = (client_id, secret)
        return {"oauth_clients": found} if found else {}


def env_name(field_name: str) -> str:
    """The variable that sets ``field_name``."""
    alias = Settings.model_fields[field_name].validation_alias
    return alias if isinstance(alias, str) else f"{PREFIX}{field_name.upper()}"


def _expects(field_name: str) -> str:
    info = Settings.model_fields[field_name]
    extra = info.json_schema_extra
    if isinstance(extra, dict) and extra.get("expects"):
        return str(extra["expects"])
    if info.annotation not in (int, float):
        return "text"
    kind = "a whole number" if info.annotation is int else "a number"
    low = next(
        (m for m in info.metadata if isinstance(m, annotated_types.Ge | annotated_types.Gt)), None
    )
    high = next((m.le for m in info.metadata if isinstance(m, annotated_types.Le)), None)
    if isinstance(low, annotated_types.Ge):
        return (
            f"{kind} from {low.ge} to {high}" if high is not None else f"{kind}, {low.ge} or more"
        )
    if isinstance(low, annotated_types.Gt):
        return f"{kind} above {low.gt}"
    return kind


def _explain(error: ValidationError, environ: Mapping[str, str]) -> str:
    lines = []
    for problem in error.errors():
        field_name = str(problem["loc"][0]) if problem["loc"] else ""
        if field_name not in Settings.model_fields:
            lines.append(problem["msg"])
            continue
        name = env_name(field_name)
        if problem["type"] == "driver_missing":
            lines.append(f"{name}: {problem['msg']}")
            continue
        # A value that may hold a secret (a database password) is not repeated.
        shown = Settings.model_fields[field_name].repr
        value = f"got {environ.get(name, problem.get('input'))!r}, " if shown else ""
        lines.append(f"{name}: {value}expected {_expects(field_name)}")
    return "\n".join(lines)


def _shown(default: Any) -> str:
    return f"{default:g}" if isinstance(default, float) else str(default)


def settings_table() -> str:
    """The README's table of variables, from the fields above."""
    rows = ["| Variable | Default | |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        variable = extra.get("variable") or f"`{env_name(name)}`"
        shown = extra.get("shown") or f"`{_shown(info.default)}`"
        rows.append(f"| {variable} | {shown} | {info.description} |")
    return "\n".join(rows)
