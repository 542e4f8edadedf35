"""Negative fixtures: generated resources that each break exactly one named rule.

Every case starts from a valid generated patient and changes one thing, so a validator (ours or a
vendor's server) must report that rule and, ideally, nothing else. The manifest entry names the
rule (invariant key, VN rule id or the validator's structural rule name) and where it breaks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from vhr_conformance.generator.build import (
    EncounterSpec,
    PatientBuilder,
    Spec,
)
from vhr_conformance.generator.world import build_world
from vhr_conformance.names import SID_MALK

NEG_INDEX = 2_000_000


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    rtype: str
    rule: str
    location: str
    vi: str
    en: str
    mutate: Callable[[dict, dict], dict]  # (resource copy, context) → resource to write
    also: tuple[str, ...] = ()  # rules that inevitably fire with it (same check stated twice)
    severity: str = "error"


def _base(seed: int) -> dict:
    spec = Spec(
        sex="female",
        age_days=41 * 365 + 100,
        bhyt_cards=1,
        bhyt_groups=["DN"],
        card_formats=["legacy"],
        encounters=[EncounterSpec(form="01", result="1", discharge="1", icd="J06.9", days_ago=20)],
        allergies=0,
        family_history=0,
    )
    return PatientBuilder(build_world(), seed, NEG_INDEX, spec=spec).build()


def _first(bundle: dict, rtype: str) -> dict:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype)


def _cccd_index(p: dict) -> int:
    return next(i for i, x in enumerate(p["identifier"]) if x["system"].endswith("/cccd"))


def _set_cccd(p: dict, value: str) -> dict:
    p["identifier"][_cccd_index(p)]["value"] = value
    return p


def _other_province_commune(addr: dict) -> str:
    w = build_world()
    prov = next(
        x["valueCoding"]["code"] for x in addr["extension"] if x["url"].endswith("vhr-address-province")
    )
    other = next(p for p in sorted(w.communes_by_province) if p != prov)
    return w.communes_by_province[other][0]


def _commune_elsewhere(p: dict, ctx: dict) -> dict:
    addr = p["address"][0]
    code = _other_province_commune(addr)
    for x in addr["extension"]:
        if x["url"].endswith("vhr-address-commune"):
            x["valueCoding"]["code"] = code
            x["valueCoding"]["display"] = build_world().commune_name[code]
    return p


def _future_birth(p: dict, ctx: dict) -> dict:
    p["birthDate"] = "2099-03-01"
    cccd = p["identifier"][_cccd_index(p)]["value"]
    digit = str(2 + (p["gender"] == "female"))  # 2000s century digit, kept consistent with gender
    return _set_cccd(p, cccd[:3] + digit + "99" + cccd[6:])


def _ext_code(res: dict, suffix: str, cs_id: str, code: str) -> dict:
    """Code the extension from the wrong (but real) code system: outside the bound ValueSet only."""
    view = build_world().ig.require_cs(cs_id)
    for x in res["extension"]:
        if x["url"].endswith(suffix):
            x["valueCoding"] = {"system": view.url, "code": code, "display": view.display[code]}
    return res


def _unresolved(bundle: dict, ctx: dict) -> dict:
    for k, e in enumerate(bundle["entry"]):
        if e["resource"]["resourceType"] == "Condition" and "encounter" in e["resource"]:
            e["resource"]["encounter"]["reference"] = "urn:uuid:00000000-0000-4000-8000-000000000000"
            ctx["location"] = f"Bundle.entry[{k}].resource.encounter.reference"
            break
    return bundle


CASES: tuple[Case, ...] = (
    Case(
        "cccd-11-digits",
        "Patient",
        "vhr-cccd-1",
        "Patient.identifier[0]",
        "Số CCCD chỉ có 11 chữ số.",
        "The CCCD has only 11 digits.",
        lambda p, c: _set_cccd(p, p["identifier"][_cccd_index(p)]["value"][:11]),
    ),
    Case(
        "cccd-unknown-province",
        "Patient",
        "vhr-cccd-2",
        "Patient.identifier[0]",
        "Ba chữ số đầu của CCCD là 003: không có tỉnh mã 03.",
        "The CCCD starts with 003: no province has code 03.",
        lambda p, c: _set_cccd(p, "003" + p["identifier"][_cccd_index(p)]["value"][3:]),
    ),
    Case(
        "cccd-sex-mismatch",
        "Patient",
        "vhr-cccd-3",
        "Patient",
        "Chữ số thứ 4 của CCCD ứng với nữ nhưng giới tính ghi là nam.",
        "The 4th CCCD digit says female but the gender is male.",
        lambda p, c: {**p, "gender": "male"},
    ),
    Case(
        "cccd-birth-year-mismatch",
        "Patient",
        "vhr-cccd-4",
        "Patient",
        "Chữ số 5–6 của CCCD không khớp năm sinh (năm sinh bị lệch 1 năm).",
        "CCCD digits 5–6 do not match the birth year (off by one year).",
        lambda p, c: {**p, "birthDate": f"{int(p['birthDate'][:4]) + 1}{p['birthDate'][4:]}"},
    ),
    Case(
        "birth-date-future",
        "Patient",
        "vhr-pat-1",
        "Patient",
        "Ngày sinh ở tương lai (2099); CCCD được sửa cho khớp năm sinh.",
        "Birth date in the future (2099); the CCCD is adjusted to match it.",
        _future_birth,
    ),
    Case(
        "bhyt-13-chars",
        "Coverage",
        "vhr-bhyt-1",
        "Coverage.identifier[0]",
        "Mã thẻ BHYT có 13 ký tự (không phải 15, 10 hay 12).",
        "The BHYT card number has 13 characters (not 15, 10 or 12).",
        lambda r, c: {
            **r,
            "identifier": [{**r["identifier"][0], "value": r["identifier"][0]["value"][:13]}],
            "subscriberId": r["identifier"][0]["value"][:13],
        },
    ),
    Case(
        "encounter-ends-before-start",
        "Encounter",
        "vhr-enc-1",
        "Encounter",
        "Thời điểm ra viện trước thời điểm vào viện.",
        "The encounter ends before it starts.",
        lambda r, c: {**r, "period": {"start": r["period"]["end"], "end": r["period"]["start"]}},
        also=("per-1",),
    ),
    Case(
        "commune-outside-province",
        "Patient",
        "VN-ADDR-001",
        "Patient.address[0].extension[1]",
        "Mã xã thuộc một tỉnh khác với mã tỉnh của địa chỉ.",
        "The commune code belongs to another province than the address's province code.",
        _commune_elsewhere,
    ),
    Case(
        "patient-without-name",
        "Patient",
        "cardinality-min",
        "Patient.name",
        "Thiếu họ tên (name bắt buộc 1..*).",
        "The name is missing (name is required, 1..*).",
        lambda p, c: {k: v for k, v in p.items() if k != "name"},
    ),
    Case(
        "encounter-two-ma-lk",
        "Encounter",
        "cardinality-max",
        "Encounter.identifier",
        "Lượt KCB có hai mã MA_LK (tối đa một).",
        "The encounter has two MA_LK identifiers (at most one).",
        lambda r, c: {
            **r,
            "identifier": [
                *r["identifier"],
                {"system": SID_MALK, "value": r["identifier"][0]["value"] + "B"},
            ],
        },
    ),
    Case(
        "form-of-care-wrong-list",
        "Encounter",
        "binding-required",
        "Encounter.extension[0].valueCoding",
        "Hình thức KCB lấy mã từ danh mục kết quả điều trị (KET_QUA_DTRI), không phải MA_LOAI_KCB.",
        "The form of care is coded from the treatment-result list (KET_QUA_DTRI), not MA_LOAI_KCB.",
        lambda r, c: _ext_code(r, "vhr-encounter-form-of-care", "vhr-treatment-result", "1"),
    ),
    Case(
        "ethnicity-wrong-list",
        "Patient",
        "binding-required",
        "Patient.extension[0].valueCoding",
        "Dân tộc lấy mã từ danh mục tỉnh, không phải danh mục 54 dân tộc.",
        "The ethnicity is coded from the province list, not the 54 ethnic groups.",
        lambda p, c: _ext_code(p, "vhr-ethnicity", "vhr-province", "01"),
    ),
    Case(
        "coverage-type-not-bhyt",
        "Coverage",
        "pattern-value",
        "Coverage.type",
        "Loại bảo hiểm không phải PUBLICPOL (BHYT xã hội).",
        "The coverage type is not PUBLICPOL (social BHYT).",
        lambda r, c: {
            **r,
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                        "code": "PAY",
                        "display": "payment",
                    }
                ]
            },
        },
    ),
    Case(
        "patient-unknown-element",
        "Patient",
        "unknown-element",
        "Patient.nickname",
        "Có phần tử không tồn tại trong FHIR R4 (nickname).",
        "An element that does not exist in FHIR R4 (nickname).",
        lambda p, c: {**p, "nickname": "Bé Na"},
    ),
    Case(
        "birth-date-invalid",
        "Patient",
        "type-date",
        "Patient.birthDate",
        "Ngày sinh 30/02 không tồn tại.",
        "The birth date is 30 February, which does not exist.",
        lambda p, c: {**p, "birthDate": p["birthDate"][:4] + "-02-30"},
    ),
    Case(
        "encounter-status-unknown",
        "Encounter",
        "binding-required",
        "Encounter.status",
        "Trạng thái lượt KCB 'done' không thuộc danh mục FHIR (phải là 'finished').",
        "Encounter status 'done' is not a FHIR code (should be 'finished').",
        lambda r, c: {**r, "status": "done"},
    ),
    Case(
        "diagnosis-reference-malformed",
        "Condition",
        "reference-format",
        "Condition.subject.reference",
        "Tham chiếu tới người bệnh thiếu id ('Patient/').",
        "The patient reference has no id ('Patient/').",
        lambda r, c: {**r, "subject": {"reference": "Patient/"}},
    ),
    Case(
        "icd-not-in-who-2019",
        "Condition",
        "VN-ICD-001",
        "Condition.code.coding[0].code",
        "Mã K35.9 (bỏ khỏi ICD-10 WHO từ 2016, vẫn gặp trong dữ liệu cũ): chỉ cảnh báo.",
        "Code K35.9 (removed from WHO ICD-10 in 2016, still seen in old data): a warning only.",
        lambda r, c: {
            **r,
            "code": {
                **r["code"],
                "coding": [
                    {
                        **r["code"]["coding"][0],
                        "code": "K35.9",
                        "display": "Viêm ruột thừa cấp, không đặc hiệu",
                    }
                ],
            },
        },
        severity="warning",
    ),
    Case(
        "bundle-reference-unresolved",
        "Bundle",
        "reference-unresolved",
        "Bundle.entry[].resource.encounter.reference",
        "Chẩn đoán tham chiếu tới lượt KCB không có trong Bundle.",
        "A diagnosis points at an encounter that is not in the Bundle.",
        _unresolved,
    ),
)


def build_negative_cases(seed: int = 0) -> list[tuple[dict, dict]]:
    """``(resource, manifest entry)`` for each case, in a stable order."""
    base = _base(seed)
    out = []
    for k, case in enumerate(CASES, start=1):
        src = copy.deepcopy(base if case.rtype == "Bundle" else _first(base, case.rtype))
        ctx: dict = {}
        res = case.mutate(src, ctx)
        entry = {
            "file": f"{k:02d}-{case.name}.json",
            "resourceType": case.rtype,
            "rule": case.rule,
            "location": ctx.get("location", case.location),
            "severity": case.severity,
            "description": {"vi": case.vi, "en": case.en},
        }
        if case.also:
            entry["alsoExpected"] = list(case.also)
        out.append((res, entry))
    return out
