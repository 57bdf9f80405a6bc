"""runs: a CHECK that a run is leased exactly while it is running

The store checks a lease by its owner alone and relies on this. Every release so far keeps
it, so the release before works on this schema during a rolling upgrade. Checking the
existing rows holds writes to runs until the upgrade commits (it runs in one transaction).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ck_runs_leased_while_running"
_CONDITION = "(status = 'running') = (lease_owner IS NOT NULL)"


def upgrade() -> None:
    # Batch mode rebuilds the table on SQLite, which cannot add a constraint; elsewhere it
    # is a plain ALTER TABLE.
    with op.batch_alter_table("runs") as batch:
        batch.create_check_constraint(_NAME, _CONDITION)


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint(_NAME, type_="check")
