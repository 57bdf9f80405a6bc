"""runs: partial indexes for the queue, holding only unfinished runs

ix_runs_due (queued runs by available_at) and ix_runs_lapsing (running runs by
lease_expires_at) stay small whatever the retention, and a finishing run writes to neither.
Without statistics, PostgreSQL planned each lease on ix_runs_queue and ix_runs_lease by
status alone, picking one for the other's rows, and walked every queued and running row,
dead versions included.

Additive only: the release before leases with ix_runs_queue and ix_runs_lease (its status
is a parameter, which a partial index cannot serve), so they are dropped one release later.
Building an index blocks writes to runs until the upgrade commits: seconds per million rows
on PostgreSQL.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here, as a migration must be: (name, column, the status its rows have).
_PARTIAL = [
    ("ix_runs_due", "available_at", "queued"),
    ("ix_runs_lapsing", "lease_expires_at", "running"),
]


def upgrade() -> None:
    for name, column, status in _PARTIAL:
        condition = sa.text(f"status = '{status}'")
        op.create_index(name, "runs", [column], postgresql_where=condition, sqlite_where=condition)


def downgrade() -> None:
    for name, _column, _status in _PARTIAL:
        op.drop_index(name, table_name="runs")
