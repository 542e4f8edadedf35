"""Client-mode sessions: a run may be a `vhr listen` session (kind, duration, scenarios, port).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="run"))
        batch.add_column(sa.Column("listen_s", sa.Integer, nullable=True))
        batch.add_column(sa.Column("listen_auth", sa.String(10), nullable=True))
        batch.add_column(sa.Column("scenarios", sa.String(200), nullable=True))
        batch.add_column(sa.Column("listen_url", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        for name in ("listen_url", "scenarios", "listen_auth", "listen_s", "kind"):
            batch.drop_column(name)
