"""runs: callback_error, why a callback delivery last failed

A delivery that failed for good (refused by the outbound guard, or every attempt used) is
shown on the run with its reason, instead of only in the logs. Additive: a nullable column
needs no rewrite of the table on either backend.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("callback_error", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("runs", "callback_error")
