"""Patient identity (area PAT): CCCD and BHYT search, conditional create, Unicode NFC/NFD."""

from __future__ import annotations

import random
import unicodedata
from typing import Any

from vhr_conformance.client import FhirClient
from vhr_conformance.i18n import Text
from vhr_conformance.pytest_plugin import VhrState, criterion, skip_missing
from vhr_conformance.runner.checks import seeded_or_skip
from vhr_conformance.runner.fresh import BHYT, CCCD, cccd_of, fresh_copy
from vhr_conformance.runner.seed import SeedData, Tracker, parse_location


def _fresh_patient(vhr: VhrState, seed: SeedData, salt: str) -> dict[str, Any]:
    source = seeded_or_skip(seed, "Patient")[0]
    return fresh_copy(
        source.sent, random.Random(f"{vhr.options.seed}:{vhr.options.run_id}:{salt}"), vhr.options.run_id
    )


@criterion("VHR-PAT-002")
def test_search_by_cccd(fhir: FhirClient, seed: SeedData, server_copies: dict[str, dict[str, Any]]) -> None:
    pats = [(s, cccd_of(s.sent)) for s in seeded_or_skip(seed, "Patient") if cccd_of(s.sent)]
    if not pats:
        skip_missing(Text("Không người bệnh thử nào có CCCD.", "No test patient has a CCCD."))
    for s, number in pats[:5]:
        found = fhir.search_all("Patient", [("identifier", f"{CCCD}|{number}")])
        assert [r.get("id") for r in found] == [s.id], (
            f"identifier=cccd|{number} returned {[r.get('id') for r in found]}, expected [{s.id}]"
        )


@criterion("VHR-PAT-008")
def test_search_by_bhyt(fhir: FhirClient, seed: SeedData) -> None:
    for s in seeded_or_skip(seed, "Patient"):
        card = next((i["value"] for i in s.sent.get("identifier", []) if i.get("system") == BHYT), None)
        if card:
            found = fhir.search_all("Patient", [("identifier", f"{BHYT}|{card}")])
            assert s.id in {r.get("id") for r in found}, (
                f"identifier=bhyt|{card} did not return Patient/{s.id}"
            )
            return
    skip_missing(
        Text("Không người bệnh thử nào có định danh BHYT.", "No test patient carries a BHYT identifier.")
    )


@criterion("VHR-PAT-003")
def test_conditional_create_on_cccd(
    vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker
) -> None:
    body = _fresh_patient(vhr, seed, "conditional")
    number = cccd_of(body)
    if not number:
        skip_missing(Text("Người bệnh thử không có CCCD.", "The test patient has no CCCD."))
    cond = {"If-None-Exist": f"identifier={CCCD}|{number}"}
    first = fhir.post("Patient", body, headers=cond)
    loc1 = parse_location(first.headers.get("location"))
    if loc1:
        tracker.add("Patient", loc1[1])
    assert first.status == 201, f"first conditional create answered {first.status}"
    second = fhir.post("Patient", body, headers=cond)
    loc2 = parse_location(second.headers.get("location"))
    if loc2 and second.status == 201:
        tracker.add("Patient", loc2[1])
    assert second.status == 200, (
        f"second conditional create answered {second.status}, expected 200 (no new patient)"
    )
    found = fhir.search_all("Patient", [("identifier", f"{CCCD}|{number}")])
    assert len(found) == 1, f"{len(found)} patients hold CCCD {number} after two conditional creates"


def _nfd_patient(
    vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker, salt: str
) -> tuple[str, str]:
    body = _fresh_patient(vhr, seed, salt)
    family = "Nguyễn Thị Phượng Đỗ"
    body["name"] = [dict(body.get("name", [{}])[0], family=unicodedata.normalize("NFD", family))]
    body["name"][0].pop("text", None)
    resp = fhir.post("Patient", body)
    loc = parse_location(resp.headers.get("location"))
    if loc:
        tracker.add("Patient", loc[1])
    assert resp.status == 201 and loc, f"creating a patient with an NFD name answered {resp.status}"
    return loc[1], family


@criterion("VHR-PAT-005")
def test_nfc_nfd_search(vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker) -> None:
    rid, family = _nfd_patient(vhr, fhir, seed, tracker, "nfd-search")
    for query in (unicodedata.normalize("NFC", family), unicodedata.normalize("NFD", family)):
        found = fhir.search_all("Patient", [("name", query.split()[0])])
        assert rid in {r.get("id") for r in found}, (
            f"name={query.split()[0]!a} did not find the NFD-stored patient"
        )


@criterion("VHR-PAT-006")
def test_names_stored_nfc(vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker) -> None:
    rid, family = _nfd_patient(vhr, fhir, seed, tracker, "nfd-store")
    back = fhir.get(f"Patient/{rid}").json or {}
    got = (back.get("name") or [{}])[0].get("family", "")
    assert got == unicodedata.normalize("NFC", family), f"family returned as {got!a}, expected NFC"
