"""Alembic environment: the connection comes from `vhr_conformance.console.db.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from vhr_conformance.console.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is not None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:  # `alembic -x` style use from a shell: the URL is the main option
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
