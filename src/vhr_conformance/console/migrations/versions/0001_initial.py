"""The first schema: organisations, users, systems, endpoints, runs, attestations, certificates, audit.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        _ts("created"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        _ts("created"),
    )
    op.create_table(
        "systems",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        _ts("created"),
        sa.UniqueConstraint("organisation_id", "product", "version"),
    )
    op.create_index("ix_systems_organisation_id", "systems", ["organisation_id"])
    op.create_table(
        "endpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("system_id", sa.Integer, sa.ForeignKey("systems.id"), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=False),
        sa.Column("auth_mode", sa.String(30), nullable=False),
        sa.Column("token_url", sa.String(500), nullable=True),
        sa.Column("client_id", sa.String(200), nullable=True),
        sa.Column("scope", sa.String(500), nullable=True),
        sa.Column("secret_encrypted", sa.LargeBinary, nullable=True),
        _ts("created"),
    )
    op.create_index("ix_endpoints_system_id", "endpoints", ["system_id"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("system_id", sa.Integer, sa.ForeignKey("systems.id"), nullable=False),
        sa.Column("endpoint_id", sa.Integer, sa.ForeignKey("endpoints.id"), nullable=True),
        sa.Column("embedded", sa.Boolean, nullable=False),
        sa.Column("only", sa.String(500), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=True),
        sa.Column("exit_code", sa.Integer, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("deadline_s", sa.Integer, nullable=False),
        _ts("created"),
        _ts("started", True),
        _ts("finished", True),
        sa.Column("worker", sa.String(200), nullable=True),
        _ts("heartbeat", True),
        sa.Column("run_key", sa.String(100), nullable=True),
        sa.Column("report_dir", sa.String(1000), nullable=True),
        sa.Column("ig_version", sa.String(100), nullable=True),
        sa.Column("results_json", sa.Text, nullable=True),
        sa.Column("log", sa.Text, nullable=True),
        sa.Column("bundle", sa.LargeBinary, nullable=True),
        sa.Column("bundle_sha256", sa.String(64), nullable=True),
    )
    op.create_index("ix_runs_system_id", "runs", ["system_id"])
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_table(
        "attestations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("criterion", sa.String(50), nullable=False),
        sa.Column("statement_vi", sa.Text, nullable=False),
        sa.Column("statement_en", sa.Text, nullable=False),
        sa.Column("attested_by", sa.String(100), nullable=False),
        sa.Column("date", sa.String(10), nullable=False),
        sa.Column("decision", sa.String(20), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("reviewer", sa.String(100), nullable=True),
        sa.Column("review_date", sa.String(10), nullable=True),
        sa.Column("review_signature", sa.Text, nullable=True),
        sa.UniqueConstraint("run_id", "criterion"),
    )
    op.create_index("ix_attestations_run_id", "attestations", ["run_id"])
    op.create_table(
        "certificates",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("html", sa.Text, nullable=False),
        _ts("issued"),
        _ts("expires"),
        sa.Column("issued_by", sa.String(100), nullable=False),
        _ts("revoked_at", True),
        sa.Column("revoked_reason", sa.Text, nullable=True),
    )
    op.create_index("ix_certificates_run_id", "certificates", ["run_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        _ts("at"),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("address", sa.String(100), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    for table in ("audit_log", "certificates", "attestations", "runs", "endpoints", "systems", "users"):
        op.drop_table(table)
    op.drop_table("organisations")
