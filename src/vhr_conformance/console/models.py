"""The console's schema (SQLAlchemy 2). Alembic migrations in `migrations/` create it; a test
checks that the migrated database and these models do not differ."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("ministry", "reviewer", "vendor")
RUN_STATUSES = ("queued", "running", "finished")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    systems: Mapped[list[System]] = relationship(back_populates="organisation", order_by="System.id")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    organisation: Mapped[Organisation | None] = relationship()


class System(Base):
    __tablename__ = "systems"
    __table_args__ = (UniqueConstraint("organisation_id", "product", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    product: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(100))
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    organisation: Mapped[Organisation] = relationship(back_populates="systems")
    endpoints: Mapped[list[Endpoint]] = relationship(back_populates="system", order_by="Endpoint.id")


class Endpoint(Base):
    __tablename__ = "endpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    base_url: Mapped[str] = mapped_column(String(500))
    auth_mode: Mapped[str] = mapped_column(String(30), default="none")
    token_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    client_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    scope: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Fernet token of the client secret (or bearer token); the plaintext is never stored.
    secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    system: Mapped[System] = relationship(back_populates="endpoints")


class Run(Base):
    __tablename__ = "runs"
    # the dashboard's "last finished run of each system" reads this index only
    __table_args__ = (Index("ix_runs_system_status_id", "system_id", "status", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("endpoints.id"), nullable=True)
    embedded: Mapped[bool] = mapped_column(Boolean, default=False)
    # "run": `vhr run` against a server; "listen": a `vhr listen` session the vendor's client pushes to
    kind: Mapped[str] = mapped_column(String(10), default="run", server_default="run")
    listen_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    listen_auth: Mapped[str | None] = mapped_column(String(10), nullable=True)
    scenarios: Mapped[str | None] = mapped_column(String(200), nullable=True)
    listen_url: Mapped[str | None] = mapped_column(String(300), nullable=True)
    only: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    verdict: Mapped[str | None] = mapped_column(String(20), nullable=True)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    requested_by: Mapped[str] = mapped_column(String(100))
    deadline_s: Mapped[int] = mapped_column(Integer, default=1800)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    started: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    heartbeat: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    run_key: Mapped[str | None] = mapped_column(String(100), nullable=True)  # results.json runId
    report_dir: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    ig_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Large columns load only when read: lists and the dashboard never need them.
    results_json: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
    # JSON {area: {status: count}} of the cases finished so far, written with each heartbeat
    progress: Mapped[str | None] = mapped_column(Text, nullable=True)
    log: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
    bundle: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    bundle_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    system: Mapped[System] = relationship()
    endpoint: Mapped[Endpoint | None] = relationship()


class Attestation(Base):
    __tablename__ = "attestations"
    __table_args__ = (UniqueConstraint("run_id", "criterion"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    criterion: Mapped[str] = mapped_column(String(50))
    statement_vi: Mapped[str] = mapped_column(Text)
    statement_en: Mapped[str] = mapped_column(Text)
    attested_by: Mapped[str] = mapped_column(String(100))
    date: Mapped[str] = mapped_column(String(10))
    decision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewer: Mapped[str | None] = mapped_column(String(100), nullable=True)
    review_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    review_signature: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON signature record
    run: Mapped[Run] = relationship()


class Certificate(Base):
    __tablename__ = "certificates"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the certificate's own id
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    document: Mapped[str] = mapped_column(Text)  # certificate-<id>.json as issued
    html: Mapped[str] = mapped_column(Text)
    issued: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    run: Mapped[Run] = relationship()


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    address: Mapped[str | None] = mapped_column(String(100), nullable=True)
