"""Transactions (atomic, urn:uuid, conditional references/creates) and batches over HTTP."""

from __future__ import annotations

import httpx

from vhr_conformance.server import ReferenceServer

from .conftest import CCCD, patient


def _tx(entries: list[dict], kind: str = "transaction") -> dict:
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def _obs(subject: str, code: str = "8302-2") -> dict:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": subject},
    }


def test_transaction_resolves_urn_uuid_and_is_indexed(client: httpx.Client) -> None:
    pu = "urn:uuid:6b1c0e2a-0000-4000-8000-000000000001"
    bundle = _tx(
        [
            {
                "fullUrl": "urn:uuid:6b1c0e2a-0000-4000-8000-000000000002",
                "resource": _obs(pu),
                "request": {"method": "POST", "url": "Observation"},
            },
            {
                "fullUrl": pu,
                "resource": patient(identifier=[{"system": CCCD, "value": "001090777777"}]),
                "request": {
                    "method": "POST",
                    "url": "Patient",
                    "ifNoneExist": f"identifier={CCCD}|001090777777",
                },
            },
        ]
    )
    r = client.post("/", json=bundle)
    assert r.status_code == 200, r.text
    resp = r.json()
    assert resp["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in resp["entry"]]
    assert statuses == ["201 Created", "201 Created"]
    pid = resp["entry"][1]["resource"]["id"]
    obs = resp["entry"][0]["resource"]
    assert obs["subject"]["reference"] == f"Patient/{pid}"
    assert resp["entry"][0]["response"]["location"].startswith(client.base_url.__str__() + "/Observation/")
    assert client.get(f"/Observation?patient={pid}").json()["total"] == 1

    # the same bundle again: conditional create finds the patient, the new observation points at it
    r = client.post("/", json=bundle)
    resp = r.json()
    assert [e["response"]["status"] for e in resp["entry"]] == ["201 Created", "200 OK"]
    assert resp["entry"][0]["resource"]["subject"]["reference"] == f"Patient/{pid}"
    assert client.get(f"/Patient?identifier={CCCD}|001090777777").json()["total"] == 1


def test_same_conditional_create_twice_in_one_bundle(client: httpx.Client) -> None:
    cond = f"identifier={CCCD}|001090666666"
    body = patient(identifier=[{"system": CCCD, "value": "001090666666"}])
    r = client.post(
        "/",
        json=_tx(
            [
                {
                    "fullUrl": "urn:uuid:p1",
                    "resource": body,
                    "request": {"method": "POST", "url": "Patient", "ifNoneExist": cond},
                },
                {
                    "fullUrl": "urn:uuid:p2",
                    "resource": body,
                    "request": {"method": "POST", "url": "Patient", "ifNoneExist": cond},
                },
                {"resource": _obs("urn:uuid:p2"), "request": {"method": "POST", "url": "Observation"}},
            ]
        ),
    )
    assert r.status_code == 200, r.text
    entries = r.json()["entry"]
    assert [e["response"]["status"][:3] for e in entries] == ["201", "200", "201"]
    pid = entries[0]["resource"]["id"]
    assert entries[1]["resource"]["id"] == pid
    assert entries[2]["resource"]["subject"]["reference"] == f"Patient/{pid}"
    assert client.get(f"/Patient?{cond}").json()["total"] == 1


def test_conditional_reference(client: httpx.Client) -> None:
    client.post("/Patient", json=patient(identifier=[{"system": CCCD, "value": "001090888888"}]))
    r = client.post(
        "/",
        json=_tx(
            [
                {
                    "resource": _obs(f"Patient?identifier={CCCD}|001090888888"),
                    "request": {"method": "POST", "url": "Observation"},
                },
            ]
        ),
    )
    assert r.status_code == 200
    ref = r.json()["entry"][0]["resource"]["subject"]["reference"]
    assert ref.startswith("Patient/") and "?" not in ref
    r = client.post(
        "/",
        json=_tx(
            [
                {
                    "resource": _obs(f"Patient?identifier={CCCD}|000000000000"),
                    "request": {"method": "POST", "url": "Observation"},
                },
            ]
        ),
    )
    assert r.status_code in (404, 412) and r.json()["resourceType"] == "OperationOutcome"


def test_unresolved_references_are_refused(client: httpx.Client) -> None:
    before = client.get("/Observation?_summary=count").json()["total"]
    r = client.post(
        "/",
        json=_tx(
            [
                {
                    "fullUrl": "urn:uuid:p",
                    "resource": patient(),
                    "request": {"method": "POST", "url": "Patient"},
                },
                {
                    "resource": _obs("urn:uuid:not-in-bundle"),
                    "request": {"method": "POST", "url": "Observation"},
                },
            ]
        ),
    )
    assert r.status_code == 422
    assert r.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.subject.reference"]
    r = client.post("/Observation", json=_obs("Patient/never-created"))
    assert r.status_code == 422 and r.json()["issue"][0]["expression"] == ["Observation.subject.reference"]
    # a stored document Bundle resolves inside itself
    doc = {
        "resourceType": "Bundle",
        "type": "document",
        "entry": [
            {"fullUrl": "urn:uuid:c", "resource": _obs("urn:uuid:p")},
            {"fullUrl": "urn:uuid:p", "resource": patient()},
        ],
    }
    assert client.post("/Bundle", json=doc).status_code == 201
    assert client.get("/Observation?_summary=count").json()["total"] == before
    # a reference to a resource written later in the same transaction is fine
    r = client.post(
        "/",
        json=_tx(
            [
                {"resource": _obs("Patient/later"), "request": {"method": "POST", "url": "Observation"}},
                {"resource": patient(id="later"), "request": {"method": "PUT", "url": "Patient/later"}},
            ]
        ),
    )
    assert r.status_code == 200, r.text


def test_transaction_is_all_or_nothing(client: httpx.Client) -> None:
    before = client.get("/Patient?_summary=count").json()["total"]
    r = client.post(
        "/",
        json=_tx(
            [
                {
                    "fullUrl": "urn:uuid:aa",
                    "resource": patient(),
                    "request": {"method": "POST", "url": "Patient"},
                },
                {
                    "resource": patient(id="x1"),
                    "request": {"method": "PUT", "url": "Patient/x1", "ifMatch": 'W/"7"'},
                },
            ]
        ),
    )
    assert r.status_code == 412
    assert client.get("/Patient?_summary=count").json()["total"] == before
    assert client.get("/Patient/x1").status_code == 404


def test_transaction_put_delete_get(client: httpx.Client) -> None:
    client.put("/Patient/tx-del", json=patient(id="tx-del"))
    r = client.post(
        "/",
        json=_tx(
            [
                {"resource": patient(id="tx-put"), "request": {"method": "PUT", "url": "Patient/tx-put"}},
                {"request": {"method": "DELETE", "url": "Patient/tx-del"}},
                {"request": {"method": "GET", "url": "Patient?_id=tx-put"}},
            ]
        ),
    )
    assert r.status_code == 200, r.text
    entries = r.json()["entry"]
    assert entries[0]["response"]["status"] == "201 Created"
    assert entries[1]["response"]["status"].startswith("204")
    assert entries[2]["resource"]["total"] == 1  # GET runs after the PUT
    assert client.get("/Patient/tx-del").status_code == 410


def test_batch_entries_are_independent(client: httpx.Client) -> None:
    r = client.post(
        "/",
        json=_tx(
            [
                {"resource": patient(), "request": {"method": "POST", "url": "Patient"}},
                {"request": {"method": "GET", "url": "Patient/does-not-exist"}},
                {
                    "resource": {"resourceType": "Patient"},
                    "request": {"method": "POST", "url": "Observation"},
                },
            ],
            kind="batch",
        ),
    )
    assert r.status_code == 200
    resp = r.json()
    assert resp["type"] == "batch-response"
    assert [e["response"]["status"][:3] for e in resp["entry"]] == ["201", "404", "400"]
    assert resp["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"


def test_bad_bundles(client: httpx.Client) -> None:
    assert client.post("/", json={"resourceType": "Bundle", "type": "collection"}).status_code == 400
    assert client.post("/", json=_tx([{"resource": patient()}])).status_code == 400


def test_ig_example_transaction_and_load(tmp_path, server: ReferenceServer) -> None:  # type: ignore[no-untyped-def]
    from vhr_conformance import ig

    src = ig.ig_package_dir() / "Bundle-vhr-ex-bundle-transaction.json"
    (tmp_path / "b.json").write_bytes(src.read_bytes())
    with ReferenceServer(load=tmp_path) as srv, httpx.Client(base_url=srv.base_url) as c:
        assert c.get("/Patient/vhr-ex-patient").status_code == 200
        ev = c.get("/Patient/vhr-ex-patient/$everything").json()
        assert len(ev["entry"]) >= 10
