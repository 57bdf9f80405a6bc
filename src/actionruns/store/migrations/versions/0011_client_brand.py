"""clients: brand, how the Connect page names and shows the partner

The partner's display name, accent colour and logo (a data: URI, size-capped), shown as
"<Partner> wants to connect to <App>". Additive: a nullable column needs no rewrite.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("clients", sa.Column("brand", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("clients", "brand")
