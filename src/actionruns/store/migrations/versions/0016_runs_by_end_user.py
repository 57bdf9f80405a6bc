"""runs: ix_runs_end_user (end_user_id, created_at, id), an end user's runs newest first

The dashboard lists one end user's runs across every client (a support engineer's first
question: what happened to this customer's message?). Without this index PostgreSQL answers
it with a scan of the whole table and a sort (40 ms at 100,000 runs, growing with the
table); with it, a walk of that end user's entries in order. A client's end user's runs
(``GET /v2/action-runs?end_user=``) use it too. It costs each submission one more index
write. Building it blocks writes to runs until the upgrade commits: seconds per million rows.

Revision ID: 0016
Revises: 0014
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_runs_end_user", "runs", ["end_user_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_runs_end_user", table_name="runs")
