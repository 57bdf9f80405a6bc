"""operators and operator_sessions: who may open the dashboard, and who has

An operator signs in with a name and a password (stored as a scrypt hash); a session is
kept by the hash of its cookie's value, with the CSRF token its forms carry. Additive only:
new tables the release before never reads.

Revision ID: 0013
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_operators")),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("operator", sa.String(200), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_sessions")),
        sa.ForeignKeyConstraint(
            ["operator"],
            ["operators.name"],
            name=op.f("fk_operator_sessions_operator_operators"),
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("operator_sessions")
    op.drop_table("operators")
