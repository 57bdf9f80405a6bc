"""callback_deliveries: each attempt to deliver a run's callback; authentications: refresh_error

A run kept only its callback's last state (status, attempts, last error); the dashboard shows
each delivery attempt: when, the receiver's answer, how long it took, and why it failed. Rows
go with their run (the retention purge deletes them first, as it does attempts).

authentications.refresh_error says why the last token refresh failed, beside its time
(refresh_failed_at), for the dashboard's connections. Additive: a new table and a nullable
column, which the release before ignores.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "callback_deliveries",
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_callback_deliveries_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "number", name=op.f("pk_callback_deliveries")),
    )
    op.add_column("authentications", sa.Column("refresh_error", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("authentications", "refresh_error")
    op.drop_table("callback_deliveries")
