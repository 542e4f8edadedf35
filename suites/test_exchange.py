"""Exchange (area XCH): Patient $everything, the health-record document, bulk export."""

from __future__ import annotations

from typing import Any

from vhr_conformance.client import FhirClient
from vhr_conformance.i18n import Text
from vhr_conformance.pytest_plugin import VhrState, criterion, skip_missing
from vhr_conformance.runner.checks import (
    bundle_entries,
    declares_interaction,
    declares_operation,
    gate,
    seeded_or_skip,
)
from vhr_conformance.runner.igmodel import IgModel
from vhr_conformance.runner.seed import SeedData, Tracker, parse_location, tag_resource


@criterion("VHR-XCH-001")
def test_patient_everything(fhir: FhirClient, seed: SeedData, target_cs: dict[str, Any]) -> None:
    gate("SHOULD", declares_operation(target_cs, "everything", "Patient"), "Patient/$everything")
    pat = seeded_or_skip(seed, "Patient")[0]
    own = {
        f"{s.type}/{s.id}"
        for s in seed.resources
        if any(
            str((s.sent.get(k) or {}).get("reference", "")).endswith(f"Patient/{pat.id}")
            for k in ("subject", "patient", "beneficiary")
        )
    }
    resp = fhir.get(f"Patient/{pat.id}/$everything")
    assert resp.status == 200, f"$everything answered {resp.status}"
    got = {f"{r.get('resourceType')}/{r.get('id')}" for r in bundle_entries(resp.json, mode=None)}
    for page in list(fhir.pages(resp))[1:]:
        got |= {f"{r.get('resourceType')}/{r.get('id')}" for r in bundle_entries(page, mode=None)}
    assert f"Patient/{pat.id}" in got, "$everything does not contain the patient"
    missing = own - got
    assert not missing, f"$everything misses {len(missing)} of the patient's resources: {sorted(missing)[:5]}"


@criterion("VHR-XCH-002")
def test_document_bundle(
    vhr: VhrState, ig: IgModel, fhir: FhirClient, tracker: Tracker, target_cs: dict[str, Any]
) -> None:
    exp = ig.resources.get("Bundle").interactions.get("create", "MAY") if "Bundle" in ig.resources else "MAY"
    gate(exp, declares_interaction(target_cs, "Bundle", "create"), "Bundle create")
    try:
        from vhr_conformance.generator import coverage_cohort, document_bundle
    except ImportError:
        skip_missing(Text("Không có bộ sinh tài liệu.", "The document generator is not available."))
    doc = document_bundle(coverage_cohort(vhr.options.seed)[0])
    for e in doc.get("entry", []):
        if isinstance(e.get("resource"), dict):
            tag_resource(e["resource"], vhr.options.run_id)
    resp = fhir.post("Bundle", doc)
    loc = parse_location(resp.headers.get("location"))
    if loc:
        tracker.add(loc[0], loc[1])
    assert resp.status == 201 and loc, f"POST Bundle (document) answered {resp.status}: {resp.text()[:300]}"
    back = fhir.get(f"Bundle/{loc[1]}").json or {}
    assert back.get("type") == "document", f"stored Bundle type is {back.get('type')!r}"
    first = ((back.get("entry") or [{}])[0].get("resource") or {}).get("resourceType")
    assert first == "Composition", f"first entry of the stored document is {first!r}, expected Composition"


@criterion("VHR-XCH-003")
def test_bulk_export(fhir: FhirClient, target_cs: dict[str, Any]) -> None:
    gate("MAY", declares_operation(target_cs, "export"), "$export")
    resp = fhir.get("$export", headers={"Prefer": "respond-async", "Accept": "application/fhir+json"})
    assert resp.status == 202, f"$export answered {resp.status}, expected 202"
    assert resp.headers.get("content-location"), "$export gave no Content-Location to poll"
    status = resp.headers["content-location"]
    if fhir.same_origin(status):
        fhir.delete(status)
