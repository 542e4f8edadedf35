"""Bulk Data $export: kick-off (202 + Content-Location), status manifest, NDJSON files, scopes."""

from __future__ import annotations

import httpx
import orjson

from vhr_conformance.server import ReferenceServer

from .conftest import FHIR, patient

ASYNC = {**FHIR, "Prefer": "respond-async"}


def _seed(c: httpx.Client) -> str:
    pid = c.post("/Patient", json=patient()).json()["id"]
    c.post("/Patient", json=patient(gender="female"))
    c.post(
        "/Observation",
        json={
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "x"},
            "subject": {"reference": f"Patient/{pid}"},
        },
    )
    c.post("/Organization", json={"resourceType": "Organization", "name": "Bệnh viện"})
    return pid


def test_system_export(client: httpx.Client) -> None:
    _seed(client)
    assert client.get("/$export").status_code == 400  # needs Prefer: respond-async
    r = client.get("/$export?_type=Patient,Observation", headers=ASYNC)
    assert r.status_code == 202
    status_url = r.headers["content-location"]
    m = httpx.get(status_url)
    assert m.status_code == 200
    manifest = m.json()
    assert manifest["requiresAccessToken"] is False and manifest["transactionTime"]
    by_type = {o["type"]: o for o in manifest["output"]}
    assert set(by_type) == {"Patient", "Observation"}
    f = httpx.get(by_type["Patient"]["url"], headers={"Accept": "application/fhir+ndjson"})
    assert f.headers["content-type"].startswith("application/fhir+ndjson")
    lines = [orjson.loads(x) for x in f.content.splitlines() if x]
    assert len(lines) == by_type["Patient"]["count"] >= 2
    assert all(x["resourceType"] == "Patient" for x in lines)
    assert httpx.delete(status_url).status_code == 202
    assert httpx.get(status_url).status_code == 404


def test_patient_export_and_since(client: httpx.Client) -> None:
    _seed(client)
    r = client.get("/Patient/$export", headers=ASYNC)
    types = {o["type"] for o in httpx.get(r.headers["content-location"]).json()["output"]}
    assert "Organization" not in types and {"Patient", "Observation"} <= types
    r = client.get("/$export?_since=2999-01-01", headers=ASYNC)
    assert httpx.get(r.headers["content-location"]).json()["output"] == []
    assert client.get("/$export?_outputFormat=text/csv", headers=ASYNC).status_code == 400


def test_export_respects_scopes() -> None:
    with ReferenceServer(auth="oauth", validate=False) as srv, httpx.Client(base_url=srv.base_url) as c:
        tok = c.post(
            "/auth/token",
            data={"grant_type": "client_credentials", "scope": "system/Patient.read"},
            auth=("vhr-test-reader", "vhr-test-reader-secret"),
        ).json()["access_token"]
        h = {**ASYNC, "Authorization": f"Bearer {tok}"}
        r = c.get("/$export", headers=h)
        assert r.status_code == 202
        assert c.get(r.headers["content-location"]).status_code == 401  # status needs the token too
        m = c.get(r.headers["content-location"], headers=h).json()
        assert m["requiresAccessToken"] is True
        assert all(o["type"] == "Patient" for o in m["output"])
