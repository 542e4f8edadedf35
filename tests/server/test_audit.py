"""The access log (VHR-SEC-008): refused requests are logged too, the retention period purges old
rows, the log is served as AuditEvent to administrators only and saved as NDJSON."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from vhr_conformance.cli import app
from vhr_conformance.i18n import UserError
from vhr_conformance.server import ReferenceServer
from vhr_conformance.server.auth import Client
from vhr_conformance.server.capability import build_capabilities
from vhr_conformance.server.store import Store

from .conftest import FHIR, patient
from .test_consent import consent

CLIENTS = (
    Client("admin", ("system/*.*",), secret="s-admin"),
    Client("reader", ("system/*.read",), secret="s-reader"),
)


@pytest.fixture(scope="module")
def srv() -> Iterator[ReferenceServer]:
    with ReferenceServer(auth="oauth", clients=CLIENTS, validate=False, audit_retention_s=3600) as s:
        yield s


def auth(srv: ReferenceServer, cid: str, secret: str) -> dict[str, str]:
    r = httpx.post(
        srv.base_url + "/auth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    assert r.status_code == 200, r.text
    return {**FHIR, "Authorization": "Bearer " + r.json()["access_token"]}


def _events(srv: ReferenceServer, query: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = httpx.get(f"{srv.base_url}/AuditEvent?{query}", headers=headers)
    assert r.status_code == 200, r.text
    return [e["resource"] for e in r.json().get("entry") or []]


def test_refused_requests_are_logged_with_the_client_when_known(srv: ReferenceServer) -> None:
    reader = auth(srv, "reader", "s-reader")
    assert httpx.get(srv.base_url + "/Patient", headers=FHIR).status_code == 401
    assert httpx.post(srv.base_url + "/Patient", json=patient(), headers=reader).status_code == 403
    rows = srv.fhir.store.audit_rows(20)
    refused = [r for r in rows if r["action"] == "refused"]
    assert any(r["status"] == 401 and r["client"] is None and r["query"] == "GET /Patient" for r in refused)
    assert any(
        r["status"] == 403 and r["client"] == "reader" and r["query"] == "POST /Patient" for r in refused
    )


def test_refused_requests_over_the_rate_limit_are_logged() -> None:
    with (
        ReferenceServer(rate_limit=1, rate_burst=1, validate=False) as s,
        httpx.Client(base_url=s.base_url) as c,
    ):
        codes = [c.get("/Patient").status_code for _ in range(4)]
        assert 429 in codes
        assert any(r["status"] == 429 and r["action"] == "refused" for r in s.fhir.store.audit_rows(20))


def test_audit_events_are_searchable_by_patient_agent_and_date(srv: ReferenceServer) -> None:
    admin, reader = auth(srv, "admin", "s-admin"), auth(srv, "reader", "s-reader")
    pid = httpx.post(srv.base_url + "/Patient", json=patient(), headers=admin).json()["id"]
    assert httpx.get(f"{srv.base_url}/Patient/{pid}", headers=reader).status_code == 200
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "subject": {"reference": f"Patient/{pid}"},
    }
    oid = httpx.post(srv.base_url + "/Observation", json=obs, headers=admin).json()["id"]
    assert httpx.get(f"{srv.base_url}/Observation?patient={pid}", headers=reader).status_code == 200

    mine = _events(srv, f"patient={pid}&_count=100", admin)
    assert mine and all(
        any(e.get("what", {}).get("reference") == f"Patient/{pid}" for e in ev["entity"]) for ev in mine
    )
    actions = {(ev["agent"][0]["who"]["identifier"]["value"], ev["subtype"][0]["code"]) for ev in mine}
    assert {("admin", "create"), ("reader", "read"), ("reader", "search-type")} <= actions
    search = next(ev for ev in mine if ev["subtype"][0]["code"] == "search-type")
    assert any("query" in e for e in search["entity"]) and search["action"] == "E"

    by_reader = _events(srv, "agent=reader&_count=100", admin)
    assert by_reader and {ev["agent"][0]["who"]["identifier"]["value"] for ev in by_reader} == {"reader"}
    by_entity = _events(srv, f"entity=Observation/{oid}", admin)
    assert [ev["subtype"][0]["code"] for ev in by_entity] == ["create"]

    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"request": {"method": "GET", "url": "AuditEvent?agent=reader"}}],
    }
    inner = httpx.post(srv.base_url + "/", json=batch, headers=admin).json()["entry"][0]["resource"]
    assert inner["total"] >= len(by_reader) > 0  # a batch GET reads the log too

    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert _events(srv, f"date={today}&patient={pid}&_count=100", admin) == mine
    assert _events(srv, f"date=lt{today}&patient={pid}", admin) == []
    assert httpx.get(srv.base_url + "/AuditEvent?date=yesterday", headers=admin).status_code == 400


def test_only_administrators_read_the_log_and_nobody_writes_it(srv: ReferenceServer) -> None:
    reader, admin = auth(srv, "reader", "s-reader"), auth(srv, "admin", "s-admin")
    r = httpx.get(srv.base_url + "/AuditEvent", headers=reader)
    assert r.status_code == 403 and "system/*.*" in r.json()["issue"][0]["details"]["text"]
    assert httpx.get(srv.base_url + "/AuditEvent?_count=1", headers=admin).status_code == 200
    rows = srv.fhir.store.audit_rows(5)
    assert any(
        r["resource_type"] == "AuditEvent" and r["client"] == "admin" and r["status"] == 200 for r in rows
    )
    assert any(
        r["query"] == "GET /AuditEvent" and r["client"] == "reader" and r["status"] == 403 for r in rows
    )
    event = {"resourceType": "AuditEvent"}
    assert httpx.post(srv.base_url + "/AuditEvent", json=event, headers=admin).status_code == 405
    assert httpx.get(srv.base_url + "/AuditEvent/1", headers=admin).status_code == 405
    cs = httpx.get(srv.base_url + "/metadata").json()
    declared = next(r for r in cs["rest"][0]["resource"] if r["type"] == "AuditEvent")
    assert declared["interaction"] == [{"code": "search-type"}]
    assert {p["name"] for p in declared["searchParam"]} >= {"date", "patient", "agent"}


def test_rows_older_than_the_retention_period_are_purged(srv: ReferenceServer) -> None:
    admin = auth(srv, "admin", "s-admin")
    httpx.get(srv.base_url + "/Patient", headers=admin)
    store = srv.fhir.store
    store.flush_audit()
    before = len(store.audit_rows(10_000))
    assert before > 0
    assert store.purge_audit(now=time.time() + 1800) == 0  # within the hour: kept
    assert len(store.audit_rows(10_000)) == before
    assert store.purge_audit(now=time.time() + 7200) == before  # all older than an hour by then
    assert store.audit_rows(10_000) == []


def test_the_saved_log_is_valid_audit_events(tmp_path: Path) -> None:
    with ReferenceServer(port=0) as s:
        pid = httpx.post(s.base_url + "/Patient", json=patient(), headers=FHIR).json()["id"]
        body = consent(pid, "deny")
        assert httpx.post(s.base_url + "/Consent", json=body, headers=FHIR).status_code == 201
        httpx.get(f"{s.base_url}/Patient?_id={pid}", headers=FHIR)
        line = s.save_audit_log(tmp_path)
        assert "AuditEvent" in line.en
        events = [orjson.loads(x) for x in (tmp_path / "audit-log.ndjson").read_bytes().splitlines()]
        assert len(events) >= 3
        for ev in events:
            bad, outcome = s.fhir.validation.check(ev)
            assert not bad, outcome


def test_an_audit_log_of_an_older_database_file_gets_the_new_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE audit_log (seq INTEGER PRIMARY KEY, recorded TEXT NOT NULL, client TEXT, address TEXT, "
        "action TEXT NOT NULL, resource_type TEXT, resource_id TEXT, query TEXT, status INTEGER NOT NULL)"
    )
    conn.execute(
        "INSERT INTO audit_log (recorded, action, status) VALUES ('2020-01-01T00:00:00+00:00', 'read', 200)"
    )
    conn.commit()
    conn.close()
    store = Store(str(db), build_capabilities("http://x", "none", None))
    try:
        store.audit(None, None, "read", "Patient", "1", None, 200, ["1"])
        rows = store.audit_rows(10)
        assert rows[0]["patients"] == ",1," and len(rows) == 2
        store.audit_retention_s = 3650 * 86400.0  # the 2020 row is within ten years of 2026 …
        assert store.purge_audit() == 0
        store.audit_retention_s = 365 * 86400.0  # … but not within one
        assert store.purge_audit() == 1 and len(store.audit_rows(10)) == 1
    finally:
        store.close()


def test_the_retention_option_takes_the_duration_grammar() -> None:
    res = CliRunner().invoke(app, ["serve", "--port", "0", "--audit-retention", "ten years"])
    assert isinstance(res.exception, UserError) and "[--audit-retention] " in res.exception.render()
    assert "Invalid duration" in res.exception.render()
