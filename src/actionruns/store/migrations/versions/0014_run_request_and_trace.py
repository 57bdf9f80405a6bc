"""runs: request_id and trace_context, what ties a run to the request that made it

The creating request's id and its W3C trace context (``traceparent``), written with the run
in the same insert, so a worker in another process logs the run's events under that request
and its attempt spans join that request's trace. Additive: nullable columns need no rewrite.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("request_id", sa.String(128), nullable=True))
    op.add_column("runs", sa.Column("trace_context", sa.String(128), nullable=True))


def downgrade() -> None:
    op.drop_column("runs", "trace_context")
    op.drop_column("runs", "request_id")
