"""Basic health information (BHI) and encounter data (KCB), as grouped by the health-book decisions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from vhr_conformance.client import FhirClient
from vhr_conformance.i18n import Text
from vhr_conformance.pytest_plugin import criterion, skip_missing
from vhr_conformance.runner.checks import seeded_or_skip
from vhr_conformance.runner.seed import SeedData

SD = "https://vhr-conformance.org/fhir/StructureDefinition/"
MA_LK = "http://fhir.hl7.org.vn/core/sid/ma-lk"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
_ICD = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")

# Criterion → profiles of that health-book group (the group is ours; the profiles come from the IG).
BHI_GROUPS = {
    "VHR-BHI-001": ["vhr-allergyintolerance"],
    "VHR-BHI-002": ["vhr-condition-problem"],
    "VHR-BHI-003": ["vhr-immunization"],
    "VHR-BHI-004": ["vhr-procedure"],
    "VHR-BHI-005": ["vhr-observation-blood-group"],
    "VHR-BHI-006": [
        "vhr-observation-body-height",
        "vhr-observation-body-weight",
        "vhr-observation-blood-pressure",
    ],
    "VHR-BHI-007": ["vhr-observation-smoking-status", "vhr-observation-alcohol-use"],
    "VHR-BHI-008": ["vhr-familymemberhistory"],
    "VHR-BHI-010": ["vhr-coverage-bhyt"],
}
PATIENT_PARAM = {"Coverage": "beneficiary"}


def _subject(res: dict[str, Any]) -> str | None:
    for key in ("subject", "patient", "beneficiary"):
        ref = (res.get(key) or {}).get("reference") if isinstance(res.get(key), dict) else None
        if ref:
            return "/".join(ref.split("/")[-2:])
    return None


@pytest.mark.parametrize("group", [pytest.param(c, id=c, marks=criterion(c)) for c in BHI_GROUPS])
def test_health_book_group(group: str, fhir: FhirClient, seed: SeedData) -> None:
    items = [s for p in BHI_GROUPS[group] for s in seed.with_profile(SD + p)]
    if not items:
        skip_missing(
            Text(
                f"Không có dữ liệu thử theo {', '.join(BHI_GROUPS[group])}.",
                f"No test data of {', '.join(BHI_GROUPS[group])}.",
            )
        )
    by_patient: dict[str, set[str]] = {}
    for s in items:
        subj = _subject(s.sent)
        if subj:
            by_patient.setdefault(subj, set()).add(f"{s.type}/{s.id}")
    for patient, want in list(by_patient.items())[:3]:
        rtype = next(iter(want)).split("/")[0]
        found = fhir.search_all(rtype, [(PATIENT_PARAM.get(rtype, "patient"), patient), ("_count", "100")])
        got = {f"{r.get('resourceType')}/{r.get('id')}" for r in found}
        assert want <= got, f"{rtype}?patient={patient} missed {sorted(want - got)[:3]}"


def _encounters(seed: SeedData) -> list[Any]:
    return seeded_or_skip(seed, "Encounter")


@criterion("VHR-KCB-001")
def test_encounter_by_ma_lk(fhir: FhirClient, seed: SeedData) -> None:
    for s in _encounters(seed)[:3]:
        ma_lk = next((i["value"] for i in s.sent.get("identifier", []) if i.get("system") == MA_LK), None)
        if not ma_lk:
            continue
        found = fhir.search_all("Encounter", [("identifier", f"{MA_LK}|{ma_lk}")])
        assert [r.get("id") for r in found] == [s.id], (
            f"identifier=ma-lk|{ma_lk} returned {[r.get('id') for r in found]}"
        )
        return
    skip_missing(Text("Không lượt khám thử nào có MA_LK.", "No test encounter has a MA_LK identifier."))


def _by_encounter(
    fhir: FhirClient, seed: SeedData, rtype: str, profile: str
) -> list[tuple[str, set[str], set[str]]]:
    items = seed.with_profile(SD + profile)
    if not items:
        skip_missing(Text(f"Không có dữ liệu thử {profile}.", f"No {profile} test data."))
    groups: dict[str, set[str]] = {}
    for s in items:
        enc = (s.sent.get("encounter") or {}).get("reference") or ""
        if enc:
            groups.setdefault("/".join(enc.split("/")[-2:]), set()).add(s.id)
    if not groups:
        skip_missing(
            Text(f"Dữ liệu {profile} không gắn lượt khám.", f"The {profile} test data names no encounter.")
        )
    out = []
    for enc, want in list(groups.items())[:3]:
        found = fhir.search_all(rtype, [("encounter", enc), ("_count", "100")])
        out.append((enc, want, {str(r.get("id")) for r in found}))
    return out


@criterion("VHR-KCB-002")
def test_encounter_diagnoses(
    fhir: FhirClient, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    for enc, want, got in _by_encounter(fhir, seed, "Condition", "vhr-condition-encounter-diagnosis"):
        assert want <= got, f"Condition?encounter={enc} missed {sorted(want - got)[:3]}"
    bad = []
    for s in seed.with_profile(SD + "vhr-condition-encounter-diagnosis"):
        res = server_copies.get(f"Condition/{s.id}") or {}
        codes = [c for c in (res.get("code") or {}).get("coding", []) if c.get("system") == ICD10]
        if not codes or not all(_ICD.match(str(c.get("code", ""))) for c in codes):
            bad.append(f"Condition/{s.id}: {codes}")
    assert not bad, f"diagnoses without a well-formed ICD-10 code: {bad[:5]}"


def _instant(text: str | None) -> dt.datetime | None:
    if not text or "T" not in text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@criterion("VHR-KCB-003")
def test_time_zone_kept(seed: SeedData, server_copies: dict[str, dict[str, Any]]) -> None:
    checked, bad = 0, []
    for s in _encounters(seed):
        res = server_copies.get(f"Encounter/{s.id}") or {}
        for key in ("start", "end"):
            sent = _instant((s.sent.get("period") or {}).get(key))
            got = _instant((res.get("period") or {}).get(key))
            if sent is None:
                continue
            checked += 1
            if got is None or got != sent:
                bad.append(
                    f"Encounter/{s.id} period.{key}: sent {sent.isoformat()} got {(res.get('period') or {}).get(key)}"
                )
    if not checked:
        skip_missing(Text("Không lượt khám thử nào có thời điểm.", "No test encounter has timed periods."))
    assert not bad, "\n".join(bad[:10])


@criterion("VHR-KCB-004")
def test_encounter_extensions_kept(seed: SeedData, server_copies: dict[str, dict[str, Any]]) -> None:
    bad, checked = [], 0
    for s in _encounters(seed):
        res = server_copies.get(f"Encounter/{s.id}") or {}
        sent = {
            e["url"]: e
            for e in s.sent.get("extension", [])
            if str(e.get("url", "")).startswith(SD + "vhr-encounter-")
        }
        got = {e["url"]: e for e in res.get("extension", []) if e.get("url") in sent}
        checked += len(sent)
        for url, ext in sent.items():
            if got.get(url) != ext:
                bad.append(
                    f"Encounter/{s.id}: {url.rsplit('/', 1)[-1]} sent {ext.get('valueCoding')} got {(got.get(url) or {}).get('valueCoding')}"
                )
    if not checked:
        skip_missing(
            Text("Lượt khám thử không có phần mở rộng VHR.", "Test encounters carry no VHR extensions.")
        )
    assert not bad, "\n".join(bad[:10])


@criterion("VHR-KCB-005")
def test_encounter_drugs(fhir: FhirClient, seed: SeedData) -> None:
    for enc, want, got in _by_encounter(fhir, seed, "MedicationRequest", "vhr-medicationrequest"):
        assert want <= got, f"MedicationRequest?encounter={enc} missed {sorted(want - got)[:3]}"


@criterion("VHR-KCB-006")
def test_lab_results_loinc(
    fhir: FhirClient, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    for enc, want, got in _by_encounter(fhir, seed, "Observation", "vhr-observation-lab-result"):
        assert want <= got, f"Observation?encounter={enc} missed {sorted(want - got)[:3]}"
    bad = [
        s.id
        for s in seed.with_profile(SD + "vhr-observation-lab-result")
        if not any(
            c.get("system") == LOINC
            for c in ((server_copies.get(f"Observation/{s.id}") or {}).get("code") or {}).get("coding", [])
        )
    ]
    assert not bad, f"lab results without a LOINC code: {bad[:5]}"


@criterion("VHR-KCB-007")
def test_encounter_transactions_accepted(seed: SeedData) -> None:
    if not seed.bundles:
        skip_missing(Text("Không có Bundle transaction thử.", "No test transaction bundles."))
    refused = [
        f"{name}: HTTP {status} {problem[:200]}"
        for name, status, problem in seed.bundles
        if status != 200 or problem
    ]
    assert not refused, (
        f"{len(refused)} of {len(seed.bundles)} encounter transactions were not fully accepted:\n"
        + "\n".join(refused[:5])
    )
