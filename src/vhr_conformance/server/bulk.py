"""FHIR Bulk Data `$export` (system and Patient level), kept in the same SQLite database so that
every worker process can answer the status and file requests of any job."""

from __future__ import annotations

from typing import Any

import orjson

from vhr_conformance.i18n import Text
from vhr_conformance.server import errors as E
from vhr_conformance.server.errors import FhirError
from vhr_conformance.server.index import date_range
from vhr_conformance.server.store import Store, new_id, now_instant

SCHEMA = """
CREATE TABLE IF NOT EXISTS export_jobs (id TEXT PRIMARY KEY, created TEXT NOT NULL, request TEXT NOT NULL,
                                        manifest BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS export_files (job TEXT NOT NULL, type TEXT NOT NULL, body BLOB NOT NULL,
                                         PRIMARY KEY (job, type));
"""
NDJSON_TYPES = ("application/fhir+ndjson", "application/ndjson", "ndjson")
NEED_ASYNC = Text(
    "$export cần header Prefer: respond-async.", "$export needs the header Prefer: respond-async."
)
BAD_FORMAT = Text("Chỉ hỗ trợ _outputFormat NDJSON.", "Only NDJSON is supported as _outputFormat.")
NO_JOB = Text("Không có yêu cầu xuất dữ liệu này.", "No such export request.")


def ensure_schema(store: Store) -> None:
    with store.wlock:
        store.wconn.executescript(SCHEMA)


def start_export(
    store: Store,
    types: list[str],
    allowed: set[str],
    params: dict[str, str],
    request_url: str,
    base_url: str,
    patient_level: bool,
    requires_token: bool,
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
            sql = "SELECT rid, body FROM resources WHERE type = ? AND deleted = 0"
            args: list[Any] = [rtype]
            if since is not None:
                sql += " AND lu >= ?"
                args.append(since)
            lines = [
                body
                for rid, body in conn.execute(sql + " ORDER BY rid", args)
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
            "INSERT INTO export_jobs VALUES (?,?,?,?)", (job, instant, request_url, orjson.dumps(manifest))
        )
    return job


def manifest(store: Store, job: str) -> bytes:
    with store.rlock:
        row = store.rconn.execute("SELECT manifest FROM export_jobs WHERE id = ?", (job,)).fetchone()
    if row is None:
        raise FhirError(404, "not-found", NO_JOB)
    return bytes(row[0])


def file_body(store: Store, job: str, rtype: str) -> bytes:
    with store.rlock:
        row = store.rconn.execute(
            "SELECT body FROM export_files WHERE job = ? AND type = ?", (job, rtype)
        ).fetchone()
    if row is None:
        raise FhirError(404, "not-found", NO_JOB)
    return bytes(row[0])


def delete(store: Store, job: str) -> None:
    with store.transaction():
        found = store.conn.execute("DELETE FROM export_jobs WHERE id = ?", (job,)).rowcount
        store.conn.execute("DELETE FROM export_files WHERE job = ?", (job,))
    if not found:
        raise FhirError(404, "not-found", NO_JOB)
