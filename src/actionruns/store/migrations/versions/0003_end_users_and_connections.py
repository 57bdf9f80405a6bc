"""end users and connections: client keys and redirect URIs, OAuth2 apps, token refresh
state, single-use tokens

Additive only, so the release before keeps working on this schema during a rolling upgrade.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFRESH_COLUMNS: list[tuple[str, Any]] = [
    ("access_expires_at", sa.Float()),
    ("refreshed_at", sa.Float()),
    ("refresh_failed_at", sa.Float()),
    ("refresh_holder", sa.String(length=64)),
    ("refresh_until", sa.Float()),
]


def upgrade() -> None:
    op.add_column("clients", sa.Column("redirect_uris", sa.JSON(), nullable=True))
    op.add_column("clients", sa.Column("events_url", sa.String(length=2048), nullable=True))
    for name, kind in _REFRESH_COLUMNS:
        op.add_column("authentications", sa.Column(name, kind, nullable=True))
    op.create_table(
        "client_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=10), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_client_keys_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_keys")),
    )
    op.create_index("ix_client_keys_client", "client_keys", ["client_id"])
    op.create_table(
        "oauth_apps",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=500), nullable=False),
        sa.Column("client_secret", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_apps")),
    )
    op.create_table(
        "used_tokens",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_used_tokens")),
    )
    op.create_index(op.f("ix_used_tokens_expires_at"), "used_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_used_tokens_expires_at"), table_name="used_tokens")
    op.drop_table("used_tokens")
    op.drop_table("oauth_apps")
    op.drop_index("ix_client_keys_client", table_name="client_keys")
    op.drop_table("client_keys")
    for name, _ in reversed(_REFRESH_COLUMNS):
        op.drop_column("authentications", name)
    op.drop_column("clients", "events_url")
    op.drop_column("clients", "redirect_uris")
