"""An index for "the last finished run of each system" (the dashboard's query).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_runs_system_status_id", "runs", ["system_id", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_runs_system_status_id", table_name="runs")
