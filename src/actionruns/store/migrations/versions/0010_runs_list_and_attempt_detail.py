"""runs: the runs list's indexes; run_attempts: retry_delay and requests

ix_runs_owner_recent (client_id, created_at, id) serves ``GET /v2/action-runs``: a client's
runs newest first, paged by (created_at, id), read backwards on either backend; it covers
what ix_runs_owner (client_id, created_at) served, which goes in the same step (each index
on runs costs every submission a write). ix_runs_recent (created_at, id) does the same for
the operator's views of every client's runs.

run_attempts gains the retry delay chosen after an attempt and the requests it made, both
nullable (no table rewrite). Building the index blocks writes to runs until the upgrade
commits: seconds per million rows on PostgreSQL.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_runs_owner_recent", "runs", ["client_id", "created_at", "id"])
    op.create_index("ix_runs_recent", "runs", ["created_at", "id"])
    op.drop_index("ix_runs_owner", table_name="runs")
    op.add_column("run_attempts", sa.Column("retry_delay", sa.Float(), nullable=True))
    op.add_column("run_attempts", sa.Column("requests", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("run_attempts", "requests")
    op.drop_column("run_attempts", "retry_delay")
    op.create_index("ix_runs_owner", "runs", ["client_id", "created_at"])
    op.drop_index("ix_runs_recent", table_name="runs")
    op.drop_index("ix_runs_owner_recent", table_name="runs")
