"""FHIR Bulk Data `$export` (system and Patient level), kept in the same SQLite database so that
every worker process can answer the status and file requests of any job.

A job belongs to the client that started it: its status, files and deletion answer 404 to any
other client, exactly as for a job that does not exist (so job ids cannot be probed)."""

from __future__ import annotations

from typing import Any

import orjson

from vhr_conformance.i18n import Text
from vhr_conformance.server import errors as E
from vhr_conformance.server.consent import Restriction
from vhr_conformance.server.errors import FhirError
from vhr_conformance.server.index import date_range
from vhr_conformance.server.store import Store, new_id, now_instant

SCHEMA = """
CREATE TABLE IF NOT EXISTS export_jobs (id TEXT PRIMARY KEY, created TEXT NOT NULL, request TEXT NOT NULL,
                                        manifest BLOB NOT NULL, owner TEXT);
CREATE TABLE IF NOT EXISTS export_files (job TEXT NOT NULL, type TEXT NOT NULL, body BLOB NOT NULL,
                                         PRIMARY KEY (job, type));
"""
NDJSON_TYPES = ("application/fhir+ndjson", "application/ndjson", "ndjson")
NEED_ASYNC = Text(
    "$export cần tiêu đề HTTP Prefer: respond-async.", "$export needs the header Prefer: respond-async."
)
BAD_FORMAT = Text("Chỉ hỗ trợ _outputFormat NDJSON.", "Only NDJSON is supported as _outputFormat.")
NO_JOB = Text("Không có yêu cầu xuất dữ liệu này.", "No such export request.")


def ensure_schema(store: Store) -> None:
    with store.wlock:
        store.wconn.executescript(SCHEMA)
        columns = {row[1] for row in store.wconn.execute("PRAGMA table_info(export_jobs)")}
        if "owner" not in columns:  # a database written before jobs had owners
            store.wconn.execute("ALTER TABLE export_jobs ADD COLUMN owner TEXT")


# `owner` of a query: None means "no authorization in force" and matches only jobs without owner.
_OWNED = "owner IS ?"


def start_export(
    store: Store,
    types: list[str],
    allowed: set[str],
    params: dict[str, str],
    request_url: str,
    base_url: str,
    patient_level: bool,
    requires_token: bool,
    owner: str | None = None,
    restriction: Restriction | None = None,
) -> str:
    """Write the NDJSON files of a new export job and its manifest; returns the job id.

    Exports here are small enough to build at once; the status endpoint is still polled, as the
    Bulk Data protocol requires, and answers the finished manifest."""
    fmt = params.get("_outputFormat")
    if fmt and fmt not in NDJSON_TYPES:
        raise FhirError(400, "not-supported", BAD_FORMAT)
    wanted = [t.strip() for t in params.get("_type", "").split(",") if t.strip()] or types
    for t in wanted:
        if t not in types:
            raise FhirError(400, "not-supported", E.UNKNOWN_TYPE.format(t=t[:64]))
    since = None
    if params.get("_since"):
        rng = date_range(params["_since"])
        if rng is None:
            raise FhirError(400, "invalid", E.BAD_PARAM.format(p="_since"))
        since = rng[0]
    job = new_id()
    instant, _ = now_instant()
    outputs = []
    with store.transaction():
        conn = store.conn
        compartment: set[int] | None = None
        if patient_level:
            compartment = {
                r[0] for r in conn.execute("SELECT DISTINCT rid FROM ix_ref WHERE ttype = 'Patient'")
            }
        for rtype in wanted:
            if rtype not in allowed:
                continue  # the token's scopes do not cover this type
            sql = "SELECT r.rid, r.body FROM resources r WHERE r.type = ? AND r.deleted = 0"
            args: list[Any] = [rtype]
            if restriction is not None:  # patients whose consent does not allow this client
                clause, clause_args = restriction.sql("r")
                sql += " AND " + clause
                args += clause_args
            if since is not None:
                sql += " AND r.lu >= ?"
                args.append(since)
            lines = [
                body
                for rid, body in conn.execute(sql + " ORDER BY r.rid", args)
                if compartment is None or rtype == "Patient" or rid in compartment
            ]
            if not lines:
                continue
            conn.execute("INSERT INTO export_files VALUES (?,?,?)", (job, rtype, b"\n".join(lines) + b"\n"))
            outputs.append(
                {"type": rtype, "url": f"{base_url}/_export/{job}/{rtype}.ndjson", "count": len(lines)}
            )
        manifest = {
            "transactionTime": instant,
            "request": request_url,
            "requiresAccessToken": requires_token,
            "output": outputs,
            "error": [],
        }
        conn.execute(
            "INSERT INTO export_jobs (id, created, request, manifest, owner) VALUES (?,?,?,?,?)",
            (job, instant, request_url, orjson.dumps(manifest), owner),
        )
    return job


class AnyOwner:
    """Owner argument that matches every job (the `export-not-bound-to-client` fault)."""


ANY_OWNER = AnyOwner()


def _owner_sql(owner: str | AnyOwner | None) -> tuple[str, list[Any]]:
    if isinstance(owner, AnyOwner):
        return "", []
    return f" AND {_OWNED}", [owner]


def manifest(store: Store, job: str, owner: str | AnyOwner | None = None) -> bytes:
    where, args = _owner_sql(owner)
    with store.rlock:
        row = store.rconn.execute(
            f"SELECT manifest FROM export_jobs WHERE id = ?{where}", (job, *args)
        ).fetchone()
    if row is None:
        raise FhirError(404, "not-found", NO_JOB)
    return bytes(row[0])


def file_body(store: Store, job: str, rtype: str, owner: str | AnyOwner | None = None) -> bytes:
    where, args = _owner_sql(owner)
    with store.rlock:
        row = store.rconn.execute(
            "SELECT f.body FROM export_files f JOIN export_jobs j ON j.id = f.job "
            f"WHERE f.job = ? AND f.type = ?{where.replace('owner', 'j.owner')}",
            (job, rtype, *args),
        ).fetchone()
    if row is None:
        raise FhirError(404, "not-found", NO_JOB)
    return bytes(row[0])


def delete(store: Store, job: str, owner: str | AnyOwner | None = None) -> None:
    where, args = _owner_sql(owner)
    with store.transaction():
        found = store.conn.execute(f"DELETE FROM export_jobs WHERE id = ?{where}", (job, *args)).rowcount
        if found:
            store.conn.execute("DELETE FROM export_files WHERE job = ?", (job,))
    if not found:
        raise FhirError(404, "not-found", NO_JOB)
