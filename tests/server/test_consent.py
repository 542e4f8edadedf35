"""Consent (VHR-SEC-009): insurers see a patient's data only under the patient's written consent,
a deny Consent keeps a patient's data from every non-administrator, and searches leave those
patients out instead of failing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from vhr_conformance.server import ReferenceServer
from vhr_conformance.server.auth import INSURER, Client
from vhr_conformance.server.model import Caller

from .conftest import FHIR, patient

CLIENTS = (
    Client("admin", ("system/*.*",), secret="s-admin"),
    Client("care", ("system/*.read",), secret="s-care", organization="Organization/hospital"),
    Client("insurer", ("system/*.*",), secret="s-ins", category=INSURER, organization="Organization/ins-1"),
    Client("care-writer", ("system/*.read", "system/Patient.write"), secret="s-cw"),
    Client(
        "insurer2", ("system/*.read",), secret="s-ins2", category=INSURER, organization="Organization/ins-2"
    ),
)
SCOPE = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
}


def consent(
    pid: str, kind: str, actors: tuple[str, ...] = (), written: bool = True, **over: Any
) -> dict[str, Any]:
    provision: dict[str, Any] = {"type": kind}
    if actors:
        provision["actor"] = [
            {
                "role": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                            "code": "IRCP",
                        }
                    ]
                },
                "reference": {"reference": a},
            }
            for a in actors
        ]
    res: dict[str, Any] = {
        "resourceType": "Consent",
        "status": "active",
        "scope": SCOPE,
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{pid}"},
        "dateTime": "2026-12-01",
        "performer": [{"reference": f"Patient/{pid}"}],
        "policyRule": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]
        },
        "provision": provision,
    }
    if written:
        res["sourceAttachment"] = {"contentType": "application/pdf", "title": "Đơn đề nghị / written request"}
    res.update(over)
    return res


def observation(pid: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
    }


@pytest.fixture(scope="module")
def srv() -> Iterator[ReferenceServer]:
    with ReferenceServer(auth="oauth", clients=CLIENTS, validate=False) as s:
        yield s


def auth(srv: ReferenceServer, cid: str, secret: str) -> dict[str, str]:
    r = httpx.post(
        srv.base_url + "/auth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    assert r.status_code == 200, r.text
    return {**FHIR, "Authorization": "Bearer " + r.json()["access_token"]}


def care_writer(srv: ReferenceServer) -> dict[str, str]:
    return auth(srv, "care-writer", "s-cw")


@pytest.fixture(scope="module")
def world(srv: ReferenceServer) -> dict[str, Any]:
    """Two insurers' Organizations and two patients (A, B), each with one Observation."""
    h = {
        "admin": auth(srv, "admin", "s-admin"),
        "care": auth(srv, "care", "s-care"),
        "insurer": auth(srv, "insurer", "s-ins"),
        "insurer2": auth(srv, "insurer2", "s-ins2"),
    }
    for oid in ("ins-1", "ins-2", "hospital"):
        r = httpx.put(
            f"{srv.base_url}/Organization/{oid}",
            json={"resourceType": "Organization", "id": oid, "name": oid},
            headers=h["admin"],
        )
        assert r.status_code in (200, 201), r.text
    ids: dict[str, Any] = {"h": h}
    for name in ("a", "b"):
        pid = httpx.post(
            srv.base_url + "/Patient",
            json=patient(identifier=[{"value": f"consent-{name}"}]),
            headers=h["admin"],
        ).json()["id"]
        oid = httpx.post(srv.base_url + "/Observation", json=observation(pid), headers=h["admin"]).json()[
            "id"
        ]
        ids[name], ids[name + "_obs"] = pid, oid
    return ids


def _post_consent(srv: ReferenceServer, world: dict[str, Any], body: dict[str, Any]) -> str:
    r = httpx.post(srv.base_url + "/Consent", json=body, headers=world["h"]["admin"])
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _delete(srv: ReferenceServer, world: dict[str, Any], cid: str) -> None:
    assert httpx.delete(f"{srv.base_url}/Consent/{cid}", headers=world["h"]["admin"]).status_code == 204


def _ids(bundle: dict[str, Any]) -> set[str]:
    return {e["resource"]["id"] for e in bundle.get("entry") or []}


def test_an_insurer_without_consent_is_refused_with_a_bilingual_outcome(
    srv: ReferenceServer, world: dict[str, Any]
) -> None:
    ins = world["h"]["insurer"]
    for path in (
        f"Patient/{world['a']}",
        f"Observation/{world['a_obs']}",
        f"Patient/{world['a']}/$everything",
    ):
        r = httpx.get(f"{srv.base_url}/{path}", headers=ins)
        assert r.status_code == 403, (path, r.text)
        issue = r.json()["issue"][0]
        assert issue["code"] == "forbidden" and "consent" in issue["details"]["text"]
        assert "đồng ý" in issue["diagnostics"]
    found = httpx.get(srv.base_url + "/Observation", headers=ins).json()
    assert found["total"] == 0 and not _ids(found)  # filtered, not refused
    # what is not a patient's data is served as usual
    assert httpx.get(f"{srv.base_url}/Organization/ins-1", headers=ins).status_code == 200


def test_a_written_permit_naming_the_insurer_lets_it_see_that_patient_only(
    srv: ReferenceServer, world: dict[str, Any]
) -> None:
    ins, ins2 = world["h"]["insurer"], world["h"]["insurer2"]
    unwritten = _post_consent(
        srv, world, consent(world["a"], "permit", ("Organization/ins-1",), written=False)
    )
    assert httpx.get(f"{srv.base_url}/Patient/{world['a']}", headers=ins).status_code == 403
    permit = _post_consent(srv, world, consent(world["a"], "permit", ("Organization/ins-1",)))
    try:
        assert httpx.get(f"{srv.base_url}/Patient/{world['a']}", headers=ins).status_code == 200
        assert httpx.get(f"{srv.base_url}/Observation/{world['a_obs']}", headers=ins).status_code == 200
        assert httpx.get(f"{srv.base_url}/Observation/{world['b_obs']}", headers=ins).status_code == 403
        found = httpx.get(srv.base_url + "/Observation?_count=50", headers=ins).json()
        assert _ids(found) == {world["a_obs"]} and found["total"] == 1
        everything = httpx.get(f"{srv.base_url}/Patient/{world['a']}/$everything", headers=ins).json()
        assert world["a_obs"] in _ids(everything) and world["b_obs"] not in _ids(everything)
        # another insurer is not named by the permit
        assert httpx.get(f"{srv.base_url}/Patient/{world['a']}", headers=ins2).status_code == 403
    finally:
        _delete(srv, world, permit)
        _delete(srv, world, unwritten)
    # the permit withdrawn (deleted): refused again
    assert httpx.get(f"{srv.base_url}/Patient/{world['a']}", headers=ins).status_code == 403


def test_a_permit_outside_its_period_or_not_active_does_not_count(
    srv: ReferenceServer, world: dict[str, Any]
) -> None:
    ins = world["h"]["insurer"]
    past = consent(world["a"], "permit", ("Organization/ins-1",))
    past["provision"]["period"] = {"start": "2020-01-01", "end": "2021-01-01"}
    draft = consent(world["a"], "permit", ("Organization/ins-1",), status="draft")
    made = [_post_consent(srv, world, past), _post_consent(srv, world, draft)]
    try:
        assert httpx.get(f"{srv.base_url}/Patient/{world['a']}", headers=ins).status_code == 403
    finally:
        for cid in made:
            _delete(srv, world, cid)


def test_a_deny_keeps_the_patient_from_everyone_but_the_administrator(
    srv: ReferenceServer, world: dict[str, Any]
) -> None:
    care, admin, ins = world["h"]["care"], world["h"]["admin"], world["h"]["insurer"]
    permit = _post_consent(srv, world, consent(world["b"], "permit", ("Organization/ins-1",)))
    assert httpx.get(f"{srv.base_url}/Patient/{world['b']}", headers=ins).status_code == 200
    deny = _post_consent(srv, world, consent(world["b"], "deny"))
    try:
        for path in (
            f"Patient/{world['b']}",
            f"Observation/{world['b_obs']}",
            f"Patient/{world['b']}/_history",
        ):
            assert httpx.get(f"{srv.base_url}/{path}", headers=care).status_code == 403, path
        assert httpx.get(f"{srv.base_url}/Patient/{world['b']}", headers=ins).status_code == 403  # deny wins
        batch = {
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [{"request": {"method": "GET", "url": f"Patient/{world['b']}"}}],
        }
        answer = httpx.post(srv.base_url + "/", json=batch, headers=care).json()
        assert answer["entry"][0]["response"]["status"].startswith("403")
        refused = [r for r in srv.fhir.store.audit_rows(20) if r["action"] == "refused"]
        assert any(
            r["client"] == "care"
            and r["resource_id"] == world["b"]
            and r["query"] == f"GET /Patient/{world['b']}"
            for r in refused
        )
        found = httpx.get(srv.base_url + "/Observation?_count=50", headers=care).json()
        assert world["b_obs"] not in _ids(found) and world["a_obs"] in _ids(found)
        patients = httpx.get(
            srv.base_url + "/Patient?_count=50&_revinclude=Observation:subject", headers=care
        ).json()
        assert world["b"] not in _ids(patients) and world["b_obs"] not in _ids(patients)
        history = httpx.get(srv.base_url + "/Observation/_history", headers=care).json()
        assert world["b_obs"] not in _ids(history)
        assert httpx.get(f"{srv.base_url}/Patient/{world['b']}", headers=admin).status_code == 200
        # a conditional create that finds the patient would answer it: refused too
        r = httpx.post(
            srv.base_url + "/Patient",
            json=patient(identifier=[{"value": "consent-b"}]),
            headers={**care_writer(srv), "If-None-Exist": "identifier=consent-b"},
        )
        assert r.status_code == 403, r.text
        # a care provider may still write the patient's record
        assert (
            httpx.post(srv.base_url + "/Observation", json=observation(world["b"]), headers=admin).status_code
            == 201
        )
    finally:
        _delete(srv, world, deny)
        _delete(srv, world, permit)
    assert httpx.get(f"{srv.base_url}/Patient/{world['b']}", headers=care).status_code == 200


def test_a_deny_naming_an_organisation_refuses_only_it(srv: ReferenceServer, world: dict[str, Any]) -> None:
    deny = _post_consent(srv, world, consent(world["a"], "deny", ("Organization/hospital",)))
    try:
        assert (
            httpx.get(f"{srv.base_url}/Patient/{world['a']}", headers=world["h"]["care"]).status_code == 403
        )
        assert (
            httpx.get(f"{srv.base_url}/Patient/{world['b']}", headers=world["h"]["care"]).status_code == 200
        )
    finally:
        _delete(srv, world, deny)


def test_an_insurer_cannot_write_itself_a_consent(srv: ReferenceServer, world: dict[str, Any]) -> None:
    r = httpx.post(
        srv.base_url + "/Consent",
        json=consent(world["a"], "permit", ("Organization/ins-1",)),
        headers=world["h"]["insurer"],
    )
    assert r.status_code == 403 and "insurer" in r.json()["issue"][0]["details"]["text"]


def test_an_insurer_export_leaves_out_patients_without_consent(
    srv: ReferenceServer, world: dict[str, Any]
) -> None:
    ins = world["h"]["insurer"]
    permit = _post_consent(srv, world, consent(world["a"], "permit", ("Organization/ins-1",)))
    try:
        r = httpx.get(
            srv.base_url + "/$export?_type=Patient,Observation", headers={**ins, "Prefer": "respond-async"}
        )
        assert r.status_code == 202, r.text
        manifest = httpx.get(r.headers["content-location"], headers=ins).json()
        lines: list[str] = []
        for out in manifest["output"]:
            lines += httpx.get(out["url"], headers=ins).text.splitlines()
        text = "\n".join(lines)
        assert world["a"] in text and world["a_obs"] in text
        assert world["b"] not in text and world["b_obs"] not in text
    finally:
        _delete(srv, world, permit)


def test_the_rules_follow_the_stored_consents(srv: ReferenceServer, world: dict[str, Any]) -> None:
    """No Consent in force: a care provider's requests carry no filter at all (the fast path); the
    in-memory rules are rebuilt when a Consent is written or deleted; admins are never limited."""
    care = Caller("care", None, [], CLIENTS[1])
    insurer = Caller("insurer", None, [], CLIENTS[2])
    assert srv.fhir.restriction(care) is None
    deny = _post_consent(srv, world, consent(world["a"], "deny"))
    try:
        limit = srv.fhir.restriction(care)
        assert limit is not None and limit.deny == {world["a"]} and limit.allow is None
        ins_limit = srv.fhir.restriction(insurer)
        assert ins_limit is not None and ins_limit.allow == frozenset()
    finally:
        _delete(srv, world, deny)
    assert srv.fhir.restriction(care) is None
    assert srv.fhir.is_admin(Caller("admin", None, None)) and not srv.fhir.is_admin(insurer)
