"""Validation on write: profile errors are refused with 422 and a bilingual OperationOutcome, and
nothing is stored; error bodies never echo the submitted personal data; $validate."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from vhr_conformance.server import ReferenceServer

from .conftest import CCCD, FHIR, patient

VHR_PATIENT = "https://vhr-conformance.org/fhir/StructureDefinition/vhr-patient"
BAD_CCCD = "00109001234"  # 11 digits: breaks vhr-cccd-1


def bad_patient() -> dict:
    return patient(meta={"profile": [VHR_PATIENT]}, identifier=[{"system": CCCD, "value": BAD_CCCD}])


@pytest.fixture(scope="module")
def vserver() -> Iterator[ReferenceServer]:
    with ReferenceServer() as srv:
        yield srv


@pytest.fixture()
def vc(vserver: ReferenceServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=vserver.base_url, headers=FHIR, timeout=30) as c:
        yield c


def test_invalid_resource_is_refused_with_422(vc: httpx.Client) -> None:
    before = vc.get("/Patient?_summary=count").json()["total"]
    r = vc.post("/Patient", json=bad_patient())
    assert r.status_code == 422
    oo = r.json()
    assert oo["resourceType"] == "OperationOutcome"
    errors = [i for i in oo["issue"] if i["severity"] == "error"]
    assert errors
    text = r.text
    assert "vhr-cccd-1" in text
    # bilingual: English text plus Vietnamese translation
    assert any(
        ext["url"].endswith("translation") for i in errors for ext in i["details"].get("extension", [])
    )
    assert BAD_CCCD not in text and "Nguyễn" not in text
    assert vc.get("/Patient?_summary=count").json()["total"] == before
    assert vc.get(f"/Patient?identifier={BAD_CCCD}").json()["total"] == 0


def test_valid_resource_with_profile_is_stored(vc: httpx.Client) -> None:
    good = patient(meta={"profile": [VHR_PATIENT]}, identifier=[{"system": CCCD, "value": "001090012345"}])
    r = vc.post("/Patient", json=good)
    assert r.status_code == 201, r.text


def test_invalid_entry_fails_the_whole_transaction(vc: httpx.Client) -> None:
    before = vc.get("/Patient?_summary=count").json()["total"]
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": patient(), "request": {"method": "POST", "url": "Patient"}},
            {"resource": bad_patient(), "request": {"method": "POST", "url": "Patient"}},
        ],
    }
    r = vc.post("/", json=bundle)
    assert r.status_code == 422
    assert any("Bundle.entry[1]" in x for i in r.json()["issue"] for x in i.get("expression", []))
    assert vc.get("/Patient?_summary=count").json()["total"] == before


def test_validate_operation(vc: httpx.Client) -> None:
    r = vc.post("/Patient/$validate", json=bad_patient())
    assert r.status_code == 200
    assert any(i["severity"] == "error" for i in r.json()["issue"])
    params = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": patient()}]}
    r = vc.post("/Patient/$validate", json=params)
    assert r.status_code == 200
    assert not any(i["severity"] in ("error", "fatal") for i in r.json()["issue"])


def test_leak_fault_echoes_personal_data() -> None:
    with ReferenceServer(faults=["leak-personal-data-in-errors"]) as srv:
        r = httpx.post(srv.base_url + "/Patient", json=bad_patient(), headers=FHIR)
        assert r.status_code == 422 and BAD_CCCD in r.text


def test_accept_invalid_fault_stores_it() -> None:
    with ReferenceServer(faults=["accept-invalid-resources"]) as srv:
        assert httpx.post(srv.base_url + "/Patient", json=bad_patient(), headers=FHIR).status_code == 201
