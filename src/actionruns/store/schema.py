"""Tables, in SQLAlchemy Core. Times are UTC epoch seconds (floats) on every backend."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from actionruns.store.records import QUEUED, RUNNING


def _where_status(status: str) -> dict[str, Any]:
    """A partial index's condition, for each backend that has them."""
    condition = text(f"status = '{status}'")
    return {"postgresql_where": condition, "sqlite_where": condition}


LEASED_WHILE_RUNNING = f"(status = '{RUNNING}') = (lease_owner IS NOT NULL)"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

clients = Table(
    "clients",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("secret_hash", String(128), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("allowed_apps", JSON, nullable=True),
    Column("signing_secret", LargeBinary, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    # Where the Connect page may send an end user back to; the only ones it accepts.
    Column("redirect_uris", JSON, nullable=True),
    # Receives authentication.expired / authentication.recovered events, signed.
    Column("events_url", String(2048), nullable=True),
    # How the Connect page shows the partner: {"name", "color", "logo" (a data: URI)}.
    Column("brand", JSON, nullable=True),
)

client_keys = Table(
    "client_keys",
    metadata,
    # Public keys a client signs token-exchange assertions with (RS256, ES256).
    Column("id", String(64), primary_key=True),
    Column("client_id", String(64), ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    Column("algorithm", String(10), nullable=False),
    Column("public_key", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_client_keys_client", "client_id"),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    # The service's keys for signing callbacks (RS256); the newest signs, and the public
    # halves of current and lately retired ones are served at /.well-known/jwks.json.
    Column("id", String(64), primary_key=True),  # the JWT kid
    Column("private_key", LargeBinary, nullable=False),  # sealed
    Column("public_jwk", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("retired_at", Float, nullable=True),
)

oauth_apps = Table(
    "oauth_apps",
    metadata,
    # The operator's OAuth2 client registration at a provider, per app.
    Column("id", String(64), primary_key=True),  # the app key
    Column("client_id", String(500), nullable=False),
    Column("client_secret", LargeBinary, nullable=False),  # sealed
    Column("updated_at", Float, nullable=False),
)

used_tokens = Table(
    "used_tokens",
    metadata,
    # Single-use tokens (connect tokens, OAuth states) already spent, until they expire.
    Column("id", String(64), primary_key=True),
    Column("expires_at", Float, nullable=False, index=True),
)

key_uses = Table(
    "key_uses",
    metadata,
    # Until when something signed or sealed with a key and not stored (access tokens, connect
    # links, OAuth states) stays valid: retiring the key before then would break it.
    Column("key_id", String(64), primary_key=True),
    Column("valid_until", Float, nullable=False),
)

authentications = Table(
    "authentications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("client_id", String(64), ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    Column("end_user_id", String(200), nullable=True),
    Column("app_key", String(64), nullable=False),
    Column("title", String(255), nullable=False),
    Column("credentials", LargeBinary, nullable=False),
    Column("is_expired", Boolean, nullable=False, default=False),
    # Until when the app asked us to slow down (429) for this account.
    Column("throttled_until", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # OAuth2: when the access token expires, when it was last refreshed or failed to be,
    # and the single refresh in flight across processes (holder and until when).
    Column("access_expires_at", Float, nullable=True),
    Column("refreshed_at", Float, nullable=True),
    Column("refresh_failed_at", Float, nullable=True),
    Column("refresh_holder", String(64), nullable=True),
    Column("refresh_until", Float, nullable=True),
    # Why the last refresh failed (beside refresh_failed_at), for the operator.
    Column("refresh_error", Text, nullable=True),
    Index("ix_authentications_owner_app", "client_id", "app_key", "created_at"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("client_id", String(64), ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    Column("end_user_id", String(200), nullable=True),
    Column("app_key", String(64), nullable=False),
    Column("action_key", String(64), nullable=False),
    Column("authentication_id", String(36), nullable=True),
    Column("inputs", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("results", JSON, nullable=True),
    Column("errors", JSON, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False),
    Column("available_at", Float, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", Float, nullable=True),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("callback_url", Text, nullable=True),
    Column("callback_status", String(16), nullable=True),
    Column("callback_attempts", Integer, nullable=False, default=0),
    Column("callback_next_at", Float, nullable=True),
    # Why the last delivery failed (a status, a refusal), shown on the run.
    Column("callback_error", Text, nullable=True),
    Column("idempotency_key", String(255), nullable=True),
    Column("request_hash", String(64), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    # The app's declared limits count this run under limit_key; holds_limit while it counts.
    Column("limit_key", String(200), nullable=True),
    Column("holds_limit", Boolean, nullable=False, default=False, server_default=false()),
    # The request that made the run: its id and W3C traceparent, for the worker's logs and
    # spans in whatever process runs it.
    Column("request_id", String(128), nullable=True),
    Column("trace_context", String(128), nullable=True),
    UniqueConstraint("client_id", "idempotency_key", name="uq_runs_client_idempotency"),
    # Leased exactly while running, so a lease is checked by its owner alone (see the store).
    CheckConstraint(LEASED_WHILE_RUNNING, name="ck_runs_leased_while_running"),
    # The queue: queued runs by when they fall due, running runs by when their lease runs out.
    # Partial, so they hold only unfinished runs (a small part of a week of traffic), and a
    # run that finishes writes to neither. A query uses them only if it names the status as a
    # literal (``store._in_status``): a parameter does not tell the planner which rows it needs.
    Index("ix_runs_due", "available_at", **_where_status(QUEUED)),
    Index("ix_runs_lapsing", "lease_expires_at", **_where_status(RUNNING)),
    # What the release before 0005 leases with (its status is a parameter); drop them in the
    # release after this one.
    Index("ix_runs_queue", "status", "available_at"),
    Index("ix_runs_lease", "status", "lease_expires_at"),
    Index("ix_runs_finished", "finished_at"),
    Index("ix_runs_callbacks", "callback_status", "callback_next_at"),
    # Runs newest first, a client's and everyone's (the operator's views): the runs list
    # pages through them by (created_at, id).
    Index("ix_runs_owner_recent", "client_id", "created_at", "id"),
    Index("ix_runs_recent", "created_at", "id"),
    # An end user's runs, across clients (the dashboard) or within one.
    Index("ix_runs_end_user", "end_user_id", "created_at", "id"),
    Index("ix_runs_limit", "limit_key", "status"),
    Index("ix_runs_authentication", "authentication_id", "status"),
)

rate_windows = Table(
    "rate_windows",
    metadata,
    Column("key", String(200), primary_key=True),
    # Requests of one client's window claimed by all API nodes together.
    Column("used", Integer, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)

limiters = Table(
    "limiters",
    metadata,
    Column("key", String(200), primary_key=True),
    # Rate limits as GCRA: the theoretical arrival time of the next allowed start.
    Column("tat", Float, nullable=False),
)

run_attempts = Table(
    "run_attempts",
    metadata,
    Column("run_id", String(36), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("worker", String(64), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("error", JSON, nullable=True),
    # The wait chosen before the next attempt, when this one ended in a retry.
    Column("retry_delay", Float, nullable=True),
    # The HTTP requests the attempt made (method, address without secrets, status, duration).
    Column("requests", JSON, nullable=True),
    # What the app's own code printed (a piece's console): level and text, secrets redacted.
    Column("logs", JSON, nullable=True),
)

callback_deliveries = Table(
    "callback_deliveries",
    metadata,
    # Each attempt to deliver a run's callback: when, the receiver's answer, why it failed.
    Column("run_id", String(36), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("started_at", Float, nullable=False),
    Column("duration_ms", Float, nullable=True),
    Column("status", Integer, nullable=True),  # the HTTP status, if the receiver answered
    Column("outcome", String(16), nullable=False),  # delivered, retry or failed
    Column("error", Text, nullable=True),
)

client_requests = Table(
    "client_requests",
    metadata,
    # API requests per client and minute (its start), added to by every API node in batches.
    Column("client_id", String(64), primary_key=True),
    Column("minute", Float, primary_key=True),
    Column("requests", Integer, nullable=False),
    Column("client_errors", Integer, nullable=False),  # answered 4xx
    Column("server_errors", Integer, nullable=False),  # answered 5xx
    Index("ix_client_requests_minute", "minute"),
)

imported_apps = Table(
    "imported_apps",
    metadata,
    # Apps made from an API description (``actionruns apps import``), served by every node.
    Column("key", String(64), primary_key=True),
    # Raised by each upgrade: a node whose copy is older loads the app again.
    Column("revision", Integer, nullable=False),
    Column("manifest", Text, nullable=False),  # the app's manifest, as JSON
    Column("source_sha256", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

operators = Table(
    "operators",
    metadata,
    # Who may sign in to the dashboard (``actionruns operators create``).
    Column("name", String(200), primary_key=True),
    Column("password_hash", String(256), nullable=False),  # scrypt, with its parameters
    Column("created_at", Float, nullable=False),
)

operator_sessions = Table(
    "operator_sessions",
    metadata,
    # The SHA-256 of the session cookie's value: a leaked table opens no session.
    Column("id", String(64), primary_key=True),
    Column(
        "operator", String(200), ForeignKey("operators.name", ondelete="CASCADE"), nullable=False
    ),
    Column("csrf_token", String(64), nullable=False),  # every form of the session carries it
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)
