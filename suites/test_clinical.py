"""Basic health information (BHI) and encounter data (KCB), as grouped by the health-book decisions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from vhr_conformance.client import FhirClient
from vhr_conformance.fhirutil import identifier_value
from vhr_conformance.i18n import Text
from vhr_conformance.igmodel import IgModel, SearchReq
from vhr_conformance.names import CANONICAL, ICD10, LOINC, SID_MALK
from vhr_conformance.outcome import check, not_tested
from vhr_conformance.pytest_plugin import criterion
from vhr_conformance.runner.checks import (
    check_all_returned,
    check_none_bad,
    declares_search,
    ids_of,
    require_judged,
    returned,
    search_all,
    seeded_or_skip,
    short,
)
from vhr_conformance.seed import SeedData

SD = f"{CANONICAL}/StructureDefinition/"
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


def _subject(res: dict[str, Any]) -> str | None:
    for key in ("subject", "patient", "beneficiary"):
        ref = (res.get(key) or {}).get("reference") if isinstance(res.get(key), dict) else None
        if ref:
            return "/".join(ref.split("/")[-2:])
    return None


def _patient_param(ig: IgModel, rtype: str) -> SearchReq | None:
    """The IG's search parameter of `rtype` that points at the patient, the most required first."""
    order = {"SHALL": 0, "SHOULD": 1, "MAY": 2}
    cands = [
        sp
        for sp in (ig.resources[rtype].search if rtype in ig.resources else [])
        if sp.type == "reference" and sp.name in ("patient", "subject", "beneficiary")
    ]
    return min(cands, key=lambda sp: order.get(sp.expectation, 3), default=None)


@dataclass(frozen=True)
class Clinical:
    """What the BHI and KCB tests read: the IG, the client, the seeded data, the target's
    CapabilityStatement, and pytest's `record_property` for the note saying which search path was used."""

    ig: IgModel
    fhir: FhirClient
    seed: SeedData
    target_cs: dict[str, Any]
    record_property: Callable[[str, Any], None]


@pytest.fixture
def clinical(
    ig: IgModel,
    fhir: FhirClient,
    seed: SeedData,
    target_cs: dict[str, Any],
    record_property: Callable[[str, Any], None],
) -> Clinical:
    return Clinical(ig, fhir, seed, target_cs, record_property)


def _by_patient(c: Clinical, rtype: str, patient: str, ids: set[str]) -> set[str]:
    """The resources of `rtype` the target gives back for `patient`, by a SHALL path: the IG's
    SHALL patient search parameter; else that parameter when the target declares it (SHOULD/MAY);
    else reads of each resource by id (read is SHALL). The note says which path was used."""
    ig, fhir, target_cs, record_property = c.ig, c.fhir, c.target_cs, c.record_property
    sp = _patient_param(ig, rtype)
    if sp is not None and (sp.expectation == "SHALL" or declares_search(target_cs, rtype, sp.name)):
        found = search_all(fhir, rtype, [(sp.name, patient), ("_count", "100")])
        check_all_returned(found, lambda r: _subject(r) == patient, f"{rtype}?{sp.name}={patient}")
        record_property("vhr_note", f"{rtype}?{sp.name}= ({sp.expectation})")
        return {f"{r.get('resourceType')}/{r.get('id')}" for r in found}
    record_property(
        "vhr_note",
        f"{rtype}: no SHALL/declared patient search; read by id (SHALL) / không có tìm kiếm theo người bệnh: đọc theo id",
    )
    out = set()
    for ref in ids:
        resp = fhir.get(ref)
        if resp.status == 200 and isinstance(resp.json, dict) and _subject(resp.json) == patient:
            out.add(ref)
    return out


@pytest.mark.parametrize("group", [pytest.param(c, id=c, marks=criterion(c)) for c in BHI_GROUPS])
def test_health_book_group(group: str, clinical: Clinical) -> None:
    items = [s for p in BHI_GROUPS[group] for s in clinical.seed.with_profile(SD + p)]
    by_patient: dict[str, set[str]] = {}
    for s in items:
        subj = _subject(s.sent)
        if subj:
            by_patient.setdefault(subj, set()).add(f"{s.type}/{s.id}")
    require_judged(
        len(by_patient),
        Text(
            f"Không có dữ liệu thử theo {', '.join(BHI_GROUPS[group])} gắn với người bệnh (cần nạp được fixtures/coverage).",
            f"No test data of {', '.join(BHI_GROUPS[group])} tied to a patient (the coverage fixtures must load).",
        ),
    )
    for patient, want in list(by_patient.items())[:3]:
        rtype = next(iter(want)).split("/")[0]
        got = _by_patient(clinical, rtype, patient, want)
        missing = sorted(want - got)
        check(
            not missing,
            Text(
                "{t} của {p}: máy chủ không trả lại {n}/{w} tài nguyên: {m}.",
                "{t} of {p}: the target did not return {n} of {w} resources: {m}.",
            ).format(t=rtype, p=patient, n=len(missing), w=len(want), m=short(missing, 3)),
        )


def _encounters(seed: SeedData) -> list[Any]:
    return seeded_or_skip(seed, "Encounter")


@criterion("VHR-KCB-001")
def test_encounter_by_ma_lk(clinical: Clinical) -> None:
    """By `identifier` when the IG makes it SHALL or the target declares it; otherwise (the IG gives
    Encounter.identifier only SHOULD) by the SHALL `patient` search, checking the MA_LK came back."""
    ig, fhir, seed, target_cs = clinical.ig, clinical.fhir, clinical.seed, clinical.target_cs
    record_property = clinical.record_property
    pick = next(((s, m) for s in _encounters(seed)[:10] if (m := identifier_value(s.sent, SID_MALK))), None)
    if pick is None:
        not_tested(
            Text(
                "Không lượt khám thử nào có MA_LK: cần dữ liệu phủ có định danh ma-lk.",
                "No test encounter has a MA_LK identifier: the coverage fixtures must carry ma-lk identifiers.",
            )
        )
    s, ma_lk = pick
    sp = next(
        (
            p
            for p in (ig.resources["Encounter"].search if "Encounter" in ig.resources else [])
            if p.name == "identifier"
        ),
        None,
    )
    if sp is not None and (
        sp.expectation == "SHALL" or declares_search(target_cs, "Encounter", "identifier")
    ):
        found = search_all(fhir, "Encounter", [("identifier", f"{SID_MALK}|{ma_lk}")])
        got = sorted(ids_of(found))
        check(
            got == [s.id],
            Text(
                "Encounter?identifier=ma-lk|{m} trả về {g}, cần đúng [{i}].",
                "Encounter?identifier=ma-lk|{m} returned {g}, expected exactly [{i}].",
            ).format(m=ma_lk, g=short(got), i=s.id),
        )
        return
    patient = _subject(s.sent)
    record_property(
        "vhr_note",
        "Encounter?identifier not declared (SHOULD in the IG): found by Encounter?patient (SHALL) / "
        "không khai báo Encounter?identifier (SHOULD): tìm theo Encounter?patient (SHALL)",
    )
    found = search_all(fhir, "Encounter", [("patient", str(patient)), ("_count", "100")])
    hits = sorted(str(r.get("id")) for r in found if identifier_value(r, SID_MALK) == ma_lk)
    check(
        hits == [s.id],
        Text(
            "Trong Encounter?patient={p}, lượt khám mang MA_LK {m} là {g}, cần đúng [{i}].",
            "Among Encounter?patient={p}, the encounters carrying MA_LK {m} are {g}, expected exactly [{i}].",
        ).format(p=patient, m=ma_lk, g=short(hits), i=s.id),
    )


def _by_encounter(c: Clinical, rtype: str, profile: str) -> list[tuple[str, set[str], set[str]]]:
    """Per encounter: the seeded resources of `profile` and those the target returns for it, found by
    the patient (a SHALL path, see `_by_patient`) and grouped by their `encounter` reference, because
    the IG gives the `encounter` parameters only SHOULD/MAY."""
    groups: dict[tuple[str, str], set[str]] = {}
    for s in c.seed.with_profile(SD + profile):
        enc = (s.sent.get("encounter") or {}).get("reference") or ""
        subj = _subject(s.sent)
        if enc and subj:
            groups.setdefault(("/".join(enc.split("/")[-2:]), subj), set()).add(f"{rtype}/{s.id}")
    require_judged(
        len(groups),
        Text(
            f"Không có dữ liệu thử {profile} gắn lượt khám và người bệnh (cần nạp được fixtures/coverage).",
            f"No {profile} test data tied to an encounter and a patient (the coverage fixtures must load).",
        ),
    )
    out = []
    for (enc, patient), want in list(groups.items())[:3]:
        got = _by_patient(c, rtype, patient, want)
        out.append((enc, want, got))
    return out


def _check_encounter_groups(c: Clinical, rtype: str, profile: str) -> None:
    """Each encounter's seeded resources of `profile` must all come back (see `_by_encounter`)."""
    for enc, want, got in _by_encounter(c, rtype, profile):
        missing = sorted(want - got)
        check(
            not missing,
            Text(
                "{t} của {e}: máy chủ không trả lại {n}/{w}: {m}.",
                "{t} of {e}: the target did not return {n} of {w}: {m}.",
            ).format(t=rtype, e=enc, n=len(missing), w=len(want), m=short(missing, 3)),
        )


@criterion("VHR-KCB-002")
def test_encounter_diagnoses(clinical: Clinical, server_copies: dict[str, dict[str, Any]]) -> None:
    profile = "vhr-condition-encounter-diagnosis"
    _check_encounter_groups(clinical, "Condition", profile)
    copies = returned(clinical.seed.with_profile(SD + profile), server_copies)
    require_judged(
        len(copies),
        Text(
            "Máy chủ không trả lại chẩn đoán thử nào để kiểm tra mã ICD-10.",
            "The target returned none of the test diagnoses to check their ICD-10 codes.",
        ),
    )
    bad = []
    for s, res in copies:
        codes = [c for c in (res.get("code") or {}).get("coding", []) if c.get("system") == ICD10]
        if not codes or not all(_ICD.match(str(c.get("code", ""))) for c in codes):
            bad.append(f"Condition/{s.id}: {[c.get('code') for c in codes]}")
    check_none_bad(
        bad,
        len(copies),
        Text(
            "{n}/{t} chẩn đoán không có mã ICD-10 đúng dạng: {b}.",
            "{n} of {t} diagnoses lack a well-formed ICD-10 code: {b}.",
        ),
    )


def _instant(text: str | None) -> dt.datetime | None:
    if not text or "T" not in text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@criterion("VHR-KCB-003")
def test_time_zone_kept(seed: SeedData, server_copies: dict[str, dict[str, Any]]) -> None:
    checked, bad = 0, []
    for s, res in returned(_encounters(seed), server_copies):
        for key in ("start", "end"):
            sent = _instant((s.sent.get("period") or {}).get(key))
            if sent is None:
                continue
            checked += 1
            got_text = (res.get("period") or {}).get(key)
            got = _instant(got_text)
            if got is None or got != sent or (got.utcoffset() != sent.utcoffset()):
                bad.append(f"Encounter/{s.id} period.{key}: {sent.isoformat()} → {got_text}")
    require_judged(
        checked,
        Text(
            "Không lượt khám thử nào (máy chủ trả lại) có thời điểm period.start/end.",
            "No test encounter (as returned by the target) has timed period.start/end.",
        ),
    )
    check_none_bad(
        bad,
        checked,
        Text(
            "{n}/{t} thời điểm không giữ nguyên múi giờ đã gửi: {b}.",
            "{n} of {t} instants did not keep the time zone sent: {b}.",
        ),
        3,
    )


@criterion("VHR-KCB-004")
def test_encounter_extensions_kept(seed: SeedData, server_copies: dict[str, dict[str, Any]]) -> None:
    bad, checked = [], 0
    for s, res in returned(_encounters(seed), server_copies):
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
                    f"Encounter/{s.id}: {url.rsplit('/', 1)[-1]} {ext.get('valueCoding')} → {(got.get(url) or {}).get('valueCoding')}"
                )
    require_judged(
        checked,
        Text(
            "Lượt khám thử (máy chủ trả lại) không có phần mở rộng VHR nào.",
            "The test encounters (as returned by the target) carry no VHR extensions.",
        ),
    )
    check_none_bad(
        bad,
        checked,
        Text(
            "{n}/{t} phần mở rộng lượt khám bị đổi hoặc mất: {b}.",
            "{n} of {t} encounter extensions were changed or lost: {b}.",
        ),
        3,
    )


@criterion("VHR-KCB-005")
def test_encounter_drugs(clinical: Clinical) -> None:
    _check_encounter_groups(clinical, "MedicationRequest", "vhr-medicationrequest")


@criterion("VHR-KCB-006")
def test_lab_results_loinc(clinical: Clinical, server_copies: dict[str, dict[str, Any]]) -> None:
    profile = "vhr-observation-lab-result"
    _check_encounter_groups(clinical, "Observation", profile)
    copies = returned(clinical.seed.with_profile(SD + profile), server_copies)
    require_judged(
        len(copies),
        Text(
            "Máy chủ không trả lại kết quả xét nghiệm thử nào để kiểm tra mã LOINC.",
            "The target returned none of the test lab results to check their LOINC codes.",
        ),
    )
    bad = [
        f"Observation/{s.id}"
        for s, res in copies
        if not any(c.get("system") == LOINC for c in (res.get("code") or {}).get("coding", []))
    ]
    check_none_bad(
        bad,
        len(copies),
        Text(
            "{n}/{t} kết quả xét nghiệm không có mã LOINC: {b}.",
            "{n} of {t} lab results have no LOINC code: {b}.",
        ),
    )


@criterion("VHR-KCB-007")
def test_encounter_transactions_accepted(seed: SeedData) -> None:
    require_judged(
        len(seed.bundles),
        Text(
            "Không có Bundle transaction thử nào được gửi (fixtures/coverage trống?).",
            "No test transaction Bundle was sent (are fixtures/coverage empty?).",
        ),
    )
    refused = [
        f"{name}: HTTP {status} {problem[:120]}"
        for name, status, problem in seed.bundles
        if status != 200 or problem
    ]
    check(
        not refused,
        Text(
            "{n}/{t} transaction lượt khám không được nhận trọn vẹn: {r}.",
            "{n} of {t} encounter transactions were not fully accepted: {r}.",
        ).format(n=len(refused), t=len(seed.bundles), r=short(refused, 3)),
    )
