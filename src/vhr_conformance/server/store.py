"""SQLite storage: current resources, every version, and the search index tables.

One connection per process, used from the event-loop thread under a lock. WAL with
synchronous=FULL: a write acknowledged to the client has been fsynced, so a crash right after
cannot lose it. Several worker processes may share one database file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from vhr_conformance.server.capability import Capabilities
from vhr_conformance.server.faults import ActiveFaults
from vhr_conformance.server.index import Rows, index_resource

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    rid INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    last_updated TEXT NOT NULL,
    lu REAL NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    body BLOB,
    UNIQUE (type, id)
);
CREATE TABLE IF NOT EXISTS history (
    hseq INTEGER PRIMARY KEY,
    rid INTEGER NOT NULL,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    last_updated TEXT NOT NULL,
    lu REAL NOT NULL,
    method TEXT NOT NULL,
    body BLOB,
    UNIQUE (rid, version)
);
CREATE INDEX IF NOT EXISTS history_type ON history (type, hseq);
CREATE TABLE IF NOT EXISTS ix_token (rid INTEGER, type TEXT, param TEXT, system TEXT, code TEXT);
CREATE INDEX IF NOT EXISTS ix_token_q ON ix_token (type, param, code, system);
CREATE INDEX IF NOT EXISTS ix_token_r ON ix_token (rid);
CREATE TABLE IF NOT EXISTS ix_string (rid INTEGER, type TEXT, param TEXT, norm TEXT, lower TEXT, raw TEXT);
CREATE INDEX IF NOT EXISTS ix_string_q ON ix_string (type, param, norm);
CREATE INDEX IF NOT EXISTS ix_string_r ON ix_string (rid);
CREATE TABLE IF NOT EXISTS ix_date (rid INTEGER, type TEXT, param TEXT, lo REAL, hi REAL);
CREATE INDEX IF NOT EXISTS ix_date_q ON ix_date (type, param, lo);
CREATE INDEX IF NOT EXISTS ix_date_r ON ix_date (rid);
CREATE TABLE IF NOT EXISTS ix_ref (rid INTEGER, type TEXT, param TEXT, ttype TEXT, tid TEXT);
CREATE INDEX IF NOT EXISTS ix_ref_q ON ix_ref (type, param, tid);
CREATE INDEX IF NOT EXISTS ix_ref_t ON ix_ref (tid, ttype);
CREATE INDEX IF NOT EXISTS ix_ref_r ON ix_ref (rid);
CREATE TABLE IF NOT EXISTS ix_number (rid INTEGER, type TEXT, param TEXT, value REAL, system TEXT, code TEXT);
CREATE INDEX IF NOT EXISTS ix_number_q ON ix_number (type, param, value);
CREATE INDEX IF NOT EXISTS ix_number_r ON ix_number (rid);
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY,
    recorded TEXT NOT NULL,
    client TEXT,
    address TEXT,
    action TEXT NOT NULL,
    resource_type TEXT,
    resource_id TEXT,
    query TEXT,
    status INTEGER NOT NULL,
    at REAL,
    patients TEXT
);
"""
# Columns added to audit_log after its first release: a database file made before gets them.
AUDIT_COLUMNS = (("at", "REAL"), ("patients", "TEXT"))
AUDIT_FIELDS = "seq, recorded, client, address, action, resource_type, resource_id, query, status, patients"

INDEX_TABLES = ("ix_token", "ix_string", "ix_date", "ix_ref", "ix_number")
STALE_INSTANT = "2001-01-01T00:00:00.000+00:00"


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored resource version as the API needs it."""

    rid: int
    type: str
    id: str
    version: int
    last_updated: str
    deleted: bool
    body: bytes | None


def now_instant() -> tuple[str, float]:
    now = datetime.now(UTC)
    return now.isoformat(timespec="milliseconds"), now.timestamp()


def _nfc(node: Any) -> Any:
    """Every string in NFC: Vietnamese text sent decomposed (NFD) is stored composed."""
    if isinstance(node, str):
        return node if node.isascii() else unicodedata.normalize("NFC", node)
    if isinstance(node, dict):
        return {k: _nfc(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_nfc(v) for v in node]
    return node


def new_id() -> str:
    return uuid.uuid4().hex


class Store:
    """Resources, versions, search index and audit log in one SQLite database."""

    def __init__(self, path: str, caps: Capabilities, faults: ActiveFaults | None = None) -> None:
        self.path = path
        self.caps = caps
        self.faults = faults or ActiveFaults()
        self.memory = path == ":memory:"
        self._local = threading.local()
        self.rconn = self._connect()
        self.rlock = threading.RLock()
        with self.rlock:
            self.rconn.executescript(SCHEMA)  # idempotent; workers sharing a file may race here safely
            have = {row[1] for row in self.rconn.execute("PRAGMA table_info(audit_log)")}
            for name, kind in AUDIT_COLUMNS:
                if name not in have:
                    with contextlib.suppress(sqlite3.OperationalError):  # another worker added it
                        self.rconn.execute(f"ALTER TABLE audit_log ADD COLUMN {name} {kind}")
            # rows written before `at` existed take it from their ISO `recorded`, so retention applies
            self.rconn.execute(
                "UPDATE audit_log SET at = CAST(strftime('%s', recorded) AS REAL) WHERE at IS NULL"
            )
            self.rconn.execute("CREATE INDEX IF NOT EXISTS audit_at ON audit_log (at)")
        if self.memory:
            # one in-memory database: readers and the writer share the connection and its lock
            self.wconn, self.wlock = self.rconn, self.rlock
        else:
            # WAL: a separate writer connection lets reads go on while a write fsyncs
            self.wconn, self.wlock = self._connect(), threading.RLock()
        self._audit_buffer: list[tuple[Any, ...]] = []
        self.audit_retention_s: float | None = None  # set by the context; None: kept for ever
        self._purged_at = 0.0
        self.generation = 0  # bumped at the end of every write transaction (consent rules cache)
        self._closed = threading.Event()
        self.base_url = ""
        if not self.memory:
            threading.Thread(target=self._audit_flusher, daemon=True, name="vhr-audit").start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30.0)
        conn.execute("PRAGMA busy_timeout=30000")
        if not self.memory:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA cache_size=-65536")
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """The writer connection inside a write transaction on this thread, else the reader."""
        return self.wconn if getattr(self._local, "writing", False) else self.rconn

    @property
    def lock(self) -> threading.RLock:
        return self.wlock if getattr(self._local, "writing", False) else self.rlock

    def close(self) -> None:
        self._closed.set()
        self.flush_audit()
        with self.wlock:
            self.wconn.close()
        if self.rconn is not self.wconn:
            with self.rlock:
                self.rconn.close()

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One SQLite write transaction: everything inside commits together or not at all.
        Reads inside it (on this thread) see its own uncommitted writes."""
        with self.wlock:
            self._local.writing = True
            try:
                self.wconn.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    self.wconn.execute("ROLLBACK")
                    raise
                self._flush_audit_rows()
                self.wconn.execute("COMMIT")
            finally:
                self._local.writing = False
                self.generation += 1

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        with self.lock:
            self.conn.execute("SAVEPOINT entry")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK TO entry")
                self.conn.execute("RELEASE entry")
                raise
            self.conn.execute("RELEASE entry")

    # ------------------------------------------------------------------ reads
    def read(self, rtype: str, rid: str) -> Stored | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT rid, version, last_updated, deleted, body FROM resources WHERE type=? AND id=?",
                (rtype, rid),
            ).fetchone()
        if row is None:
            return None
        return Stored(row[0], rtype, rid, row[1], row[2], bool(row[3]), row[4])

    def vread(self, rtype: str, rid: str, version: int) -> Stored | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT rid, version, last_updated, method, body FROM history WHERE type=? AND id=? AND version=?",
                (rtype, rid, version),
            ).fetchone()
        if row is None:
            return None
        return Stored(row[0], rtype, rid, row[1], row[2], row[3] == "DELETE", row[4])

    def last_deleted_version(self, rtype: str, rid: str) -> Stored | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT rid, version, last_updated FROM history WHERE type=? AND id=? AND method='DELETE' "
                "ORDER BY version DESC LIMIT 1",
                (rtype, rid),
            ).fetchone()
        return Stored(row[0], rtype, rid, row[1], row[2], True, None) if row else None

    def bodies(self, rids: list[int]) -> dict[int, Stored]:
        """Current versions of several resources by row id."""
        out: dict[int, Stored] = {}
        with self.lock:
            for chunk in range(0, len(rids), 500):
                part = rids[chunk : chunk + 500]
                marks = ",".join("?" * len(part))
                for row in self.conn.execute(
                    f"SELECT rid, type, id, version, last_updated, deleted, body FROM resources WHERE rid IN ({marks})",
                    part,
                ):
                    out[row[0]] = Stored(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6])
        return out

    def find_ids(self, pairs: list[tuple[str, str]]) -> list[int]:
        out: list[int] = []
        with self.lock:
            for rtype, rid in pairs:
                row = self.conn.execute(
                    "SELECT rid FROM resources WHERE type=? AND id=? AND deleted=0", (rtype, rid)
                ).fetchone()
                if row:
                    out.append(row[0])
        return out

    def history(
        self, rtype: str | None, rid: str | None, since: float | None, count: int, offset: int
    ) -> tuple[int, list[tuple[Stored, str]]]:
        where = []
        args: list[Any] = []
        if rtype:
            where.append("type=?")
            args.append(rtype)
        if rid:
            where.append("id=?")
            args.append(rid)
        if since is not None:
            where.append("lu>=?")
            args.append(since)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        with self.lock:
            total = self.conn.execute(f"SELECT count(*) FROM history {clause}", args).fetchone()[0]
            rows = self.conn.execute(
                f"SELECT rid, type, id, version, last_updated, method, body FROM history {clause} "
                "ORDER BY hseq DESC LIMIT ? OFFSET ?",
                [*args, count, offset],
            ).fetchall()
        return total, [(Stored(r[0], r[1], r[2], r[3], r[4], r[5] == "DELETE", r[6]), r[5]) for r in rows]

    # ------------------------------------------------------------------ writes (inside transaction())
    def put(self, rtype: str, rid: str, resource: dict[str, Any], method: str) -> Stored:
        """Store a new version of `resource` (assigning meta.versionId/lastUpdated) and reindex it."""
        conn = self.conn
        row = conn.execute(
            "SELECT rid, version FROM resources WHERE type=? AND id=?", (rtype, rid)
        ).fetchone()
        version = 1 if row is None else row[1] + 1
        if row is not None and self.faults.version_not_incremented:
            version = row[1]
        instant, epoch = now_instant()
        if self.faults.stale_last_updated:
            instant, epoch = STALE_INSTANT, 978307200.0
        if self.faults.drop_identifiers_on_write:
            resource.pop("identifier", None)
        resource = _nfc(resource)
        resource["id"] = rid
        meta = dict(resource.get("meta") or {})
        meta["versionId"] = str(version)
        meta["lastUpdated"] = instant
        resource["meta"] = {
            "versionId": meta.pop("versionId"),
            "lastUpdated": meta.pop("lastUpdated"),
            **meta,
        }
        if self.faults.no_etag:
            resource["meta"].pop("versionId", None)
            if not resource["meta"]:
                resource.pop("meta")
        body = orjson.dumps(resource)
        if row is None:
            cur = conn.execute(
                "INSERT INTO resources (type, id, version, last_updated, lu, deleted, body) VALUES (?,?,?,?,?,0,?)",
                (rtype, rid, version, instant, epoch, body),
            )
            key = int(cur.lastrowid or 0)
        else:
            key = row[0]
            conn.execute(
                "UPDATE resources SET version=?, last_updated=?, lu=?, deleted=0, body=? WHERE rid=?",
                (version, instant, epoch, body, key),
            )
            self._unindex(key)
        conn.execute(
            "INSERT OR REPLACE INTO history (rid, type, id, version, last_updated, lu, method, body) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (key, rtype, rid, version, instant, epoch, method, body),
        )
        support = self.caps.support(rtype)
        if support is not None:
            self._index(key, rtype, index_resource(resource, support.params, self.base_url))
        return Stored(key, rtype, rid, version, instant, False, body)

    def delete(self, rtype: str, rid: str) -> Stored | None:
        conn = self.conn
        row = conn.execute(
            "SELECT rid, version, deleted FROM resources WHERE type=? AND id=?", (rtype, rid)
        ).fetchone()
        if row is None or row[2]:
            return None
        version = row[1] + 1
        instant, epoch = now_instant()
        if not self.faults.deleted_still_readable:
            conn.execute(
                "UPDATE resources SET version=?, last_updated=?, lu=?, deleted=1 WHERE rid=?",
                (version, instant, epoch, row[0]),
            )
            self._unindex(row[0])
        conn.execute(
            "INSERT INTO history (rid, type, id, version, last_updated, lu, method, body) VALUES (?,?,?,?,?,?,?,NULL)",
            (row[0], rtype, rid, version, instant, epoch, "DELETE"),
        )
        return Stored(row[0], rtype, rid, version, instant, True, None)

    def _unindex(self, key: int) -> None:
        for table in INDEX_TABLES:
            self.conn.execute(f"DELETE FROM {table} WHERE rid=?", (key,))

    def _index(self, key: int, rtype: str, rows: Rows) -> None:
        conn = self.conn
        if rows.token:
            conn.executemany(
                "INSERT INTO ix_token VALUES (?,?,?,?,?)", [(key, rtype, p, s, c) for p, s, c in rows.token]
            )
        if rows.string:
            conn.executemany(
                "INSERT INTO ix_string VALUES (?,?,?,?,?,?)",
                [(key, rtype, p, n, lo, raw) for p, n, lo, raw in rows.string],
            )
        if rows.date:
            conn.executemany(
                "INSERT INTO ix_date VALUES (?,?,?,?,?)", [(key, rtype, p, lo, hi) for p, lo, hi in rows.date]
            )
        if rows.ref:
            conn.executemany(
                "INSERT INTO ix_ref VALUES (?,?,?,?,?)", [(key, rtype, p, t, i) for p, t, i in rows.ref]
            )
        if rows.number:
            conn.executemany(
                "INSERT INTO ix_number VALUES (?,?,?,?,?,?)",
                [(key, rtype, p, v, s, c) for p, v, s, c in rows.number],
            )

    # ------------------------------------------------------------------ audit
    def audit(
        self,
        client: str | None,
        address: str | None,
        action: str,
        rtype: str | None,
        rid: str | None,
        query: str | None,
        status: int,
        patients: Iterable[str] = (),
    ) -> None:
        """Record an access to personal data (or a refused request). Buffered: written with the
        next write transaction or by a background flusher twice a second, so reads never wait for
        an fsync. `patients` are the people whose data the answer held (searchable as `,id,`)."""
        instant, epoch = now_instant()
        who = sorted(set(patients)) if patients else ()
        self._audit_buffer.append(
            (
                instant,
                client,
                address,
                action,
                rtype,
                rid,
                query,
                status,
                epoch,
                f",{','.join(who)}," if who else None,
            )
        )
        if self.memory and len(self._audit_buffer) >= 200:
            self.flush_audit()

    def _audit_flusher(self) -> None:
        while not self._closed.wait(0.5):
            if self._audit_buffer:
                with contextlib.suppress(sqlite3.Error):  # closed at shutdown: close() flushes the rest
                    self.flush_audit()

    def _flush_audit_rows(self) -> None:
        """Write buffered audit rows on the writer connection (caller holds wlock, in a transaction)."""
        if not self._audit_buffer:
            return
        rows, self._audit_buffer = self._audit_buffer, []
        self.wconn.executemany(
            "INSERT INTO audit_log (recorded, client, address, action, resource_type, resource_id, query, status,"
            " at, patients) VALUES (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        now = rows[-1][8]
        if self.audit_retention_s is not None and now - self._purged_at >= 60.0:
            self._purge_rows(now)

    def _purge_rows(self, now: float) -> int:
        """Delete audit rows older than the retention period (caller holds wlock)."""
        assert self.audit_retention_s is not None
        self._purged_at = now
        cur = self.wconn.execute("DELETE FROM audit_log WHERE at < ?", (now - self.audit_retention_s,))
        return cur.rowcount

    def purge_audit(self, now: float | None = None) -> int:
        """Apply the retention period now (at start-up, before the log is read, and at most once a
        minute as rows are written); `now` lets a test look at a later instant. → rows deleted."""
        if self.audit_retention_s is None:
            return 0
        self.flush_audit()
        with self.wlock:
            at = now if now is not None else now_instant()[1]
            if self.wconn.in_transaction:
                return self._purge_rows(at)
            self.wconn.execute("BEGIN IMMEDIATE")
            try:
                deleted = self._purge_rows(at)
            except BaseException:
                self.wconn.execute("ROLLBACK")
                raise
            self.wconn.execute("COMMIT")
            return deleted

    def flush_audit(self) -> None:
        with self.wlock:
            if not self._audit_buffer:
                return
            if self.wconn.in_transaction:
                self._flush_audit_rows()
                return
            self.wconn.execute("BEGIN IMMEDIATE")
            try:
                self._flush_audit_rows()
            except BaseException:
                self.wconn.execute("ROLLBACK")
                raise
            self.wconn.execute("COMMIT")

    def audit_rows(self, limit: int = 100) -> list[dict[str, Any]]:
        _, rows = self.audit_search([], [], limit, 0, newest_first=True)
        return rows

    def audit_search(
        self, where: list[str], args: list[Any], count: int, offset: int, newest_first: bool = False
    ) -> tuple[int, list[dict[str, Any]]]:
        """Audit rows matching SQL terms on `audit_log` (retention applied first), with the total."""
        self.flush_audit()
        self.purge_audit()
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        with self.rlock:
            total = self.rconn.execute(f"SELECT count(*) FROM audit_log {clause}", args).fetchone()[0]
            cur = self.rconn.execute(
                f"SELECT {AUDIT_FIELDS} FROM audit_log {clause} ORDER BY seq {'DESC' if newest_first else 'ASC'} "
                "LIMIT ? OFFSET ?",
                [*args, count, offset],
            )
            names = [d[0] for d in cur.description]
            return total, [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # ------------------------------------------------------------------ consent support
    def change_key(self) -> tuple[int, int]:
        """Changes when any connection commits (`data_version`) or this process ends a write."""
        with self.rlock:
            version = self.rconn.execute("PRAGMA data_version").fetchone()[0]
        return int(version), self.generation

    def current_bodies(self, rtype: str) -> list[bytes]:
        """Committed current versions of one type (read on the reader connection)."""
        with self.rlock:
            return [
                r[0]
                for r in self.rconn.execute(
                    "SELECT body FROM resources WHERE type = ? AND deleted = 0", (rtype,)
                )
            ]

    def patients_of(self, rows: Iterable[Stored]) -> dict[int, set[str]]:
        """The patients each resource belongs to: a Patient itself, or the patients its indexed
        references name (row id → patient ids)."""
        out: dict[int, set[str]] = {}
        others: list[int] = []
        for s in rows:
            if s.type == "Patient":
                out[s.rid] = {s.id}
            else:
                out[s.rid] = set()
                others.append(s.rid)
        if not others:
            return out
        with self.lock:
            for chunk in range(0, len(others), 500):
                part = others[chunk : chunk + 500]
                marks = ",".join("?" * len(part))
                for rid, tid in self.conn.execute(
                    f"SELECT rid, tid FROM ix_ref WHERE rid IN ({marks}) AND ttype = 'Patient'", part
                ):
                    out[rid].add(tid)
        return out
