"""client_requests: API requests per client and minute, with their 4xx and 5xx answers

The dashboard's clients page shows each client's requests and errors over the last hour and
day. Each API node counts in memory and adds its counts here every few seconds, one upsert
per client and minute (``engine.request_counts``), so the count costs a request no database
write and holds across nodes. Rows older than two days are purged. Additive: a new table.

Revision ID: 0018
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client_requests",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("minute", sa.Float(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("client_errors", sa.Integer(), nullable=False),
        sa.Column("server_errors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "minute", name=op.f("pk_client_requests")),
    )
    op.create_index(op.f("ix_client_requests_minute"), "client_requests", ["minute"])


def downgrade() -> None:
    op.drop_index(op.f("ix_client_requests_minute"), table_name="client_requests")
    op.drop_table("client_requests")
