"""key_uses: until when something signed with each key stays valid

Access tokens, connect links and OAuth states are signed or sealed with the primary key and
not stored; `actionruns keys retire` reads this table to refuse retiring a key they still
need. Additive only: a new table, which the release before ignores.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "key_uses",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("valid_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name="pk_key_uses"),
    )


def downgrade() -> None:
    op.drop_table("key_uses")
