"""limits and throttles: limiter rows, run limit holds, account throttles, request windows

Additive only, so the release before keeps working on this schema during a rolling upgrade.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("authentications", sa.Column("throttled_until", sa.Float(), nullable=True))
    op.add_column("runs", sa.Column("limit_key", sa.String(length=200), nullable=True))
    op.add_column(
        "runs",
        sa.Column("holds_limit", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_runs_limit", "runs", ["limit_key", "status"])
    op.create_index("ix_runs_authentication", "runs", ["authentication_id", "status"])
    op.create_table(
        "limiters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_limiters")),
    )
    op.create_table(
        "rate_windows",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_windows")),
    )
    op.create_index(op.f("ix_rate_windows_expires_at"), "rate_windows", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_windows_expires_at"), table_name="rate_windows")
    op.drop_table("rate_windows")
    op.drop_table("limiters")
    op.drop_index("ix_runs_authentication", table_name="runs")
    op.drop_index("ix_runs_limit", table_name="runs")
    op.drop_column("runs", "holds_limit")
    op.drop_column("runs", "limit_key")
    op.drop_column("authentications", "throttled_until")
