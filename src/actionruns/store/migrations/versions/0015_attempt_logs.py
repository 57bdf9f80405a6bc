"""run_attempts: logs, what the app's own code printed during the attempt

An Activepieces piece's console output (its level and text, the call's secrets redacted,
16 KiB at most), kept with the attempt and shown by ``GET /v2/action-runs/{id}/attempts``.
Nullable: no table rewrite.

Numbered 0015 as claimed, it revises the head it found on main (0017).

Revision ID: 0015
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("run_attempts", sa.Column("logs", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("run_attempts", "logs")
