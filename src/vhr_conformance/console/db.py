"""Engine, sessions and migrations of the console's database (SQLite file by default, any
SQLAlchemy URL, e.g. PostgreSQL, in production)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from vhr_conformance.i18n import Text, UserError

DATA_ENV = "VHR_CONSOLE_DATA"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def data_dir() -> Path:
    """Where the embedded database and the run folders live: `VHR_CONSOLE_DATA`, else the user's
    data folder (`$XDG_DATA_HOME/vhr-console`, `~/.local/share/vhr-console`), never the checkout."""
    if env := os.environ.get(DATA_ENV):
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "vhr-console"


def default_url() -> str:
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / 'console.db').resolve()}"


def make_engine(url: str | None = None) -> Engine:
    url = url or default_url()
    try:
        engine = create_engine(url, future=True)
    except (ArgumentError, ImportError) as exc:
        raise UserError(
            Text("Địa chỉ cơ sở dữ liệu không hợp lệ: {e}", "Invalid database URL: {e}").format(e=exc),
            location="--db",
        ) from None
    if engine.dialect.name == "sqlite":
        # Several threads (web + local workers) share the file: wait for locks instead of failing.
        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    return engine


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (from an empty database too)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        raise UserError(
            Text("Không kết nối được cơ sở dữ liệu: {e}", "Cannot reach the database: {e}").format(
                e=exc.orig
            ),
            location=str(engine.url.render_as_string(hide_password=True)),
        ) from None


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives naive datetimes back: they were stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)
