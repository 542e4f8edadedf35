#!/usr/bin/env python3
"""Write the negative examples of the guide into ``profiles/negative/`` (run by build.py).

Each case copies one valid example of the built package and breaks exactly one rule of its
profile; ``negative/manifest.json`` names the profile, the rule (invariant key or the validator's
structural rule name), the location where a validator reports it (FHIRPath with JSON element
names, e.g. ``Patient.extension[0].valueCoding``; the element that carries an invariant) and a
bilingual description. Some faults unavoidably trip a companion core rule as well (an unknown code
is also ``code-unknown``; an end before the start also breaks core ``per-1``; a transaction entry
without request also breaks core ``bdl-3``). The cases
are kept out of the package on purpose: a package must only hold valid examples.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BASE = "https://vhr-conformance.org/fhir/StructureDefinition/"

Res = dict[str, Any]


def _set(path: str, value: Any) -> Callable[[Res], None]:
    """Mutation: set (or, with value None, delete) a dotted path; digits index lists."""

    def apply(res: Res) -> None:
        keys = path.split(".")
        node: Any = res
        for key in keys[:-1]:
            node = node[int(key)] if key.isdigit() else node[key]
        last = keys[-1]
        if value is None:
            if last.isdigit():
                del node[int(last)]
            else:
                del node[last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return apply


def _drop_ext(url_suffix: str) -> Callable[[Res], None]:
    def apply(res: Res) -> None:
        res["extension"] = [e for e in res.get("extension", []) if not e["url"].endswith(url_suffix)]

    return apply


def _both(*fns: Callable[[Res], None]) -> Callable[[Res], None]:
    def apply(res: Res) -> None:
        for fn in fns:
            fn(res)

    return apply


# (example file, profile id, rule, location, vi, en, mutation)
Case = tuple[str, str, str, str, str, str, Callable[[Res], None]]

CASES: list[Case] = [
    (
        "Patient-vhr-ex-patient.json",
        "vhr-patient",
        "vhr-cccd-1",
        "Patient.identifier[0]",
        "Số CCCD chỉ có 11 chữ số.",
        "The CCCD number has only 11 digits.",
        _set("identifier.0.value", "00119012345"),
    ),
    (
        "Patient-vhr-ex-patient.json",
        "vhr-patient",
        "vhr-cccd-2",
        "Patient.identifier[0]",
        "Số CCCD bắt đầu bằng 003, không phải mã tỉnh.",
        "The CCCD starts with 003, which is not a province code.",
        _set("identifier.0.value", "003190123456"),
    ),
    (
        "Patient-vhr-ex-patient.json",
        "vhr-patient",
        "vhr-cccd-3",
        "Patient",
        "Chữ số thứ 4 của CCCD là 0 (nam) nhưng người bệnh là nữ sinh năm 1990.",
        "The 4th CCCD digit is 0 (male) but the patient is a woman born in 1990.",
        _set("identifier.0.value", "001090123456"),
    ),
    (
        "Patient-vhr-ex-patient.json",
        "vhr-patient",
        "vhr-cccd-4",
        "Patient",
        "Chữ số 5–6 của CCCD là 85 nhưng năm sinh là 1990.",
        "CCCD digits 5–6 are 85 but the birth year is 1990.",
        _set("identifier.0.value", "001185123456"),
    ),
    (
        "Patient-vhr-ex-patient.json",
        "vhr-patient",
        "vhr-cccd-5",
        "Patient",
        "Người bệnh sinh 01/08/2025 (sau khi sáp nhập tỉnh) nhưng CCCD mang mã 030 của Hải Dương đã sáp nhập "
        "(quy tắc chưa xác nhận: cảnh báo).",
        "Born 2025-08-01 (after the province merger) but the CCCD carries 030, the merged-away Hải Dương "
        "(unconfirmed rule: a warning).",
        _both(_set("birthDate", "2025-08-01"), _set("identifier.0.value", "030325123456")),
    ),
    (
        "Patient-vhr-ex-patient.json",
        "vhr-patient",
        "vhr-pat-1",
        "Patient",
        "Ngày sinh 14/05/2090 ở tương lai (số CCCD vẫn khớp năm sinh đó).",
        "Birth date 2090-05-14 is in the future (the CCCD still matches that birth year).",
        _both(_set("birthDate", "2090-05-14"), _set("identifier.0.value", "001390123456")),
    ),
    (
        "Patient-vhr-ex-patient.json",
        "vhr-patient",
        "vhr-bhyt-1",
        "Patient.identifier[1]",
        "Mã thẻ BHYT 'HC40101234' không đúng định dạng nào.",
        "BHYT value 'HC40101234' has none of the accepted formats.",
        _set("identifier.1.value", "HC40101234"),
    ),
    (
        "Patient-vhr-ex-patient.json",
        "vhr-patient",
        "vhr-bhyt-2",
        "Patient.identifier[1]",
        "Thẻ BHYT mang mã nhóm 'ZZ', không có trong QĐ 1351/QĐ-BHXH.",
        "The BHYT card carries group 'ZZ', which QĐ 1351/QĐ-BHXH does not list.",
        _set("identifier.1.value", "ZZ4010123456789"),
    ),
    (
        "Patient-vhr-ex-patient.json",
        "vhr-patient",
        "vhr-bhyt-3",
        "Patient.identifier[1]",
        "Thẻ nhóm HC (cán bộ, công chức) mang mức hưởng 2; nhóm này hưởng mức 4.",
        "A group HC (civil servant) card carries benefit level 2; that group has level 4.",
        _set("identifier.1.value", "HC2010123456789"),
    ),
    (
        "Patient-vhr-ex-patient.json",
        "vhr-patient",
        "vhr-bhyt-4",
        "Patient.identifier[1]",
        "Ký tự 4–5 của thẻ BHYT là 03, không phải mã tỉnh.",
        "Characters 4–5 of the BHYT card are 03, which is no province code.",
        _set("identifier.1.value", "HC4030123456789"),
    ),
    (
        "Patient-vhr-ex-patient.json",
        "vhr-patient",
        "vhr-bhyt-5",
        "Patient.identifier[1]",
        "Thẻ quân nhân (QN) mang mức hưởng 1 (quy tắc chưa xác nhận: cảnh báo).",
        "A military (QN) card carries benefit level 1 (unconfirmed rule: a warning).",
        _set("identifier.1.value", "QN1010123456789"),
    ),
    (
        "Patient-vhr-ex-patient.json",
        "vhr-patient",
        "cardinality-min",
        "Patient.birthDate",
        "Thiếu ngày sinh (bắt buộc).",
        "The birth date is missing (required).",
        _set("birthDate", None),
    ),
    (
        "Patient-vhr-ex-patient.json",
        "vhr-patient",
        "binding-required",
        "Patient.extension[0].valueCoding",
        "Mã dân tộc 57 không có trong danh mục 54 dân tộc.",
        "Ethnicity code 57 is not one of the 54 ethnic groups.",
        _set(
            "extension.0.valueCoding",
            {"system": "https://vhr-conformance.org/fhir/CodeSystem/vhr-ethnicity", "code": "57"},
        ),
    ),
    (
        "Patient-vhr-ex-patient.json",
        "vhr-patient",
        "VN-ADDR-001",
        "Patient.address[0].extension[1]",
        "Mã xã 25747 (Phường Thủ Dầu Một) thuộc TP Hồ Chí Minh, không thuộc tỉnh 01 (Hà Nội) của địa chỉ.",
        "Commune 25747 (Phường Thủ Dầu Một) belongs to Ho Chi Minh City, not to the address province 01 (Hà Nội).",
        _set(
            "address.0.extension.1.valueCoding",
            {
                "system": "https://vhr-conformance.org/fhir/CodeSystem/vhr-commune",
                "code": "25747",
                "display": "Phường Thủ Dầu Một",
            },
        ),
    ),
    (
        "Organization-vhr-ex-organization.json",
        "vhr-organization",
        "cardinality-min",
        "Organization.name",
        "Cơ sở KCB không có tên.",
        "The facility has no name.",
        _set("name", None),
    ),
    (
        "Organization-vhr-ex-organization.json",
        "vhr-organization",
        "binding-required",
        "Organization.address[0].extension[0].valueCoding",
        "Mã tỉnh 03 không có trong 34 tỉnh, thành phố năm 2025.",
        "Province code 03 is not one of the 34 provinces of 2025.",
        _set("address.0.extension.0.valueCoding.code", "03"),
    ),
    (
        "Practitioner-vhr-ex-practitioner.json",
        "vhr-practitioner",
        "cardinality-min",
        "Practitioner.identifier",
        "Người hành nghề không có định danh nào.",
        "The practitioner has no identifier.",
        _set("identifier", None),
    ),
    (
        "Practitioner-vhr-ex-practitioner.json",
        "vhr-practitioner",
        "vhr-cccd-1",
        "Practitioner.identifier[1]",
        "Số CCCD của bác sĩ có chữ cái.",
        "The practitioner's CCCD contains a letter.",
        _set("identifier.1.value", "03607800451A"),
    ),
    (
        "Encounter-vhr-ex-encounter.json",
        "vhr-encounter",
        "vhr-enc-1",
        "Encounter",
        "Thời điểm ra viện trước thời điểm vào viện.",
        "Discharge time is before admission time.",
        _set("period.end", "2025-03-09T10:00:00+07:00"),
    ),
    (
        "Encounter-vhr-ex-encounter.json",
        "vhr-encounter",
        "cardinality-min",
        "Encounter.identifier",
        "Không có định danh MA_LK.",
        "The MA_LK identifier is missing.",
        _set("identifier.0.system", "urn:oid:2.16.840.1.113883.2.999"),
    ),
    (
        "Encounter-vhr-ex-encounter.json",
        "vhr-encounter",
        "binding-required",
        "Encounter.extension[0].valueCoding",
        "Hình thức KCB mã 99 không có trong danh mục MA_LOAI_KCB.",
        "Form-of-care code 99 is not in the MA_LOAI_KCB list.",
        _set("extension.0.valueCoding.code", "99"),
    ),
    (
        "Condition-vhr-ex-diagnosis.json",
        "vhr-condition-encounter-diagnosis",
        "cardinality-min",
        "Condition.encounter",
        "Chẩn đoán không gắn với lượt KCB.",
        "The diagnosis is not linked to an encounter.",
        _set("encounter", None),
    ),
    (
        "Condition-vhr-ex-diagnosis.json",
        "vhr-condition-encounter-diagnosis",
        "cardinality-min",
        "Condition.code.coding",
        "Chẩn đoán không có mã ICD-10 (chỉ có mã nội bộ).",
        "The diagnosis has no ICD-10 coding (local code only).",
        _set("code.coding.0.system", "urn:oid:2.16.840.1.113883.2.999.1"),
    ),
    (
        "Condition-vhr-ex-diagnosis.json",
        "vhr-condition-encounter-diagnosis",
        "VN-ICD-001",
        "Condition.code.coding[0].code",
        "Mã ICD-10 J18.90 không có trong ICD-10 WHO 2019 (cảnh báo: có thể là mã mở rộng của Việt Nam).",
        "ICD-10 code J18.90 is not in WHO ICD-10 2019 (warning: may be a Vietnamese extension).",
        _set("code.coding.0.code", "J18.90"),
    ),
    (
        "Condition-vhr-ex-problem-hypertension.json",
        "vhr-condition-problem",
        "pattern-value",
        "Condition.category[0]",
        "Phân loại là encounter-diagnosis thay vì problem-list-item.",
        "Category is encounter-diagnosis instead of problem-list-item.",
        _set("category.0.coding.0.code", "encounter-diagnosis"),
    ),
    (
        "AllergyIntolerance-vhr-ex-allergy.json",
        "vhr-allergyintolerance",
        "cardinality-min",
        "AllergyIntolerance.code",
        "Dị ứng không ghi tác nhân.",
        "The allergy has no substance code.",
        _set("code", None),
    ),
    (
        "Immunization-vhr-ex-immunization.json",
        "vhr-immunization",
        "cardinality-min",
        "Immunization.vaccineCode.coding",
        "Mã vắc xin chỉ có văn bản, không có mã.",
        "The vaccine code has text only, no coding.",
        _set("vaccineCode.coding", None),
    ),
    (
        "Observation-vhr-ex-body-height.json",
        "vhr-observation-body-height",
        "cardinality-min",
        "Observation.subject",
        "Chiều cao không gắn với người bệnh.",
        "The height is not linked to a patient.",
        _set("subject", None),
    ),
    (
        "Observation-vhr-ex-body-weight.json",
        "vhr-observation-body-weight",
        "cardinality-min",
        "Observation.code.coding",
        "Mã LOINC của cân nặng bị thay bằng mã chiều cao.",
        "The weight's LOINC code is replaced by the height code.",
        _set("code.coding.0", {"system": "http://loinc.org", "code": "8302-2", "display": "Body height"}),
    ),
    (
        "Observation-vhr-ex-blood-pressure.json",
        "vhr-observation-blood-pressure",
        "cardinality-min",
        "Observation.component",
        "Thiếu thành phần huyết áp tâm trương.",
        "The diastolic component is missing.",
        _set("component.1", None),
    ),
    (
        "Observation-vhr-ex-blood-group.json",
        "vhr-observation-blood-group",
        "binding-required",
        "Observation.valueCodeableConcept",
        "Nhóm máu 'C+' không có trong danh mục.",
        "Blood group 'C+' is not in the list.",
        _set("valueCodeableConcept.coding.0.code", "C+"),
    ),
    (
        "Observation-vhr-ex-lab-wbc.json",
        "vhr-observation-lab-result",
        "cardinality-min",
        "Observation.code.coding",
        "Xét nghiệm chỉ có mã nội bộ, không có mã LOINC.",
        "The test has a local code only, no LOINC code.",
        _set("code.coding.0.system", "urn:oid:2.16.840.1.113883.2.999.2"),
    ),
    (
        "Observation-vhr-ex-smoking-status.json",
        "vhr-observation-smoking-status",
        "pattern-value",
        "Observation.category[0]",
        "Phân loại là vital-signs thay vì social-history.",
        "Category is vital-signs instead of social-history.",
        _set("category.0.coding.0.code", "vital-signs"),
    ),
    (
        "Observation-vhr-ex-alcohol-use.json",
        "vhr-observation-alcohol-use",
        "cardinality-min",
        "Observation.value",
        "Không có giá trị về sử dụng rượu bia.",
        "There is no alcohol-use value.",
        _set("valueCodeableConcept", None),
    ),
    (
        "MedicationRequest-vhr-ex-medicationrequest.json",
        "vhr-medicationrequest",
        "cardinality-min",
        "MedicationRequest.authoredOn",
        "Không có ngày kê đơn.",
        "The prescription date is missing.",
        _set("authoredOn", None),
    ),
    (
        "Procedure-vhr-ex-procedure-appendectomy.json",
        "vhr-procedure",
        "cardinality-min",
        "Procedure.code",
        "Thủ thuật không có mã.",
        "The procedure has no code.",
        _set("code", None),
    ),
    (
        "FamilyMemberHistory-vhr-ex-familymemberhistory.json",
        "vhr-familymemberhistory",
        "cardinality-min",
        "FamilyMemberHistory.condition",
        "Tiền sử gia đình không ghi bệnh nào.",
        "The family history records no condition.",
        _set("condition", None),
    ),
    (
        "Coverage-vhr-ex-coverage.json",
        "vhr-coverage-bhyt",
        "vhr-bhyt-1",
        "Coverage.identifier[0]",
        "Mã thẻ BHYT 16 ký tự.",
        "The BHYT card number has 16 characters.",
        _set("identifier.0.value", "HC40101234567890"),
    ),
    (
        "Coverage-vhr-ex-coverage.json",
        "vhr-coverage-bhyt",
        "vhr-bhyt-6",
        "Coverage",
        "Phần mở rộng ghi nhóm đối tượng CN (cận nghèo) nhưng thẻ mang mã nhóm HC.",
        "The extension states group CN (near-poor) but the card carries group HC.",
        _set(
            "extension.0.valueCoding",
            {
                "system": "https://vhr-conformance.org/fhir/CodeSystem/vhr-bhyt-beneficiary-group",
                "code": "CN",
            },
        ),
    ),
    (
        "Coverage-vhr-ex-coverage.json",
        "vhr-coverage-bhyt",
        "vhr-bhyt-7",
        "Coverage",
        "Thẻ mẫu 2021 (mã BHXH 10 số) ghi nhóm HC với mức hưởng 2; nhóm này hưởng mức 4.",
        "A 2021 card (10-digit number) states group HC with benefit level 2; that group has level 4.",
        _both(
            _set("identifier.0.value", "0123456789"),
            _set(
                "extension.1.valueCoding",
                {"system": "https://vhr-conformance.org/fhir/CodeSystem/vhr-bhyt-benefit-level", "code": "2"},
            ),
        ),
    ),
    (
        "Coverage-vhr-ex-coverage.json",
        "vhr-coverage-bhyt",
        "cardinality-min",
        "Coverage.period",
        "Thẻ BHYT không có hạn thẻ.",
        "The BHYT card has no validity period.",
        _set("period", None),
    ),
    (
        "Coverage-vhr-ex-coverage.json",
        "vhr-coverage-bhyt",
        "binding-required",
        "Coverage.extension[1].valueCoding",
        "Mức hưởng 6 không tồn tại.",
        "Benefit level 6 does not exist.",
        _set("extension.1.valueCoding.code", "6"),
    ),
    (
        "Coverage-vhr-ex-coverage.json",
        "vhr-coverage-bhyt",
        "fixed-value",
        "Coverage.extension[2].valueIdentifier.system",
        "Nơi đăng ký KCB ban đầu dùng hệ định danh khác MA_CSKCB.",
        "The registered facility uses an identifier system other than MA_CSKCB.",
        _set("extension.2.valueIdentifier.system", "http://fhir.ehealth.gov.vn/core/sid/ma-cskcb"),
    ),
    (
        "Composition-vhr-ex-composition.json",
        "vhr-composition-health-record",
        "cardinality-min",
        "Composition.section",
        "Thiếu phần thông tin hành chính.",
        "The administrative section is missing.",
        _set("section.0", None),
    ),
    (
        "Bundle-vhr-ex-bundle-document.json",
        "vhr-bundle-document",
        "pattern-value",
        "Bundle.type",
        "Loại Bundle là collection thay vì document.",
        "The Bundle type is collection instead of document.",
        _set("type", "collection"),
    ),
    (
        "Bundle-vhr-ex-bundle-transaction.json",
        "vhr-bundle-transaction",
        "cardinality-min",
        "Bundle.entry[0].request",
        "Mục đầu của transaction không có request.",
        "The first transaction entry has no request.",
        _set("entry.0.request", None),
    ),
    (
        "OperationOutcome-vhr-ex-operationoutcome.json",
        "vhr-operationoutcome",
        "cardinality-min",
        "OperationOutcome.issue[0].details",
        "Vấn đề không có nội dung song ngữ (details).",
        "The issue has no bilingual details.",
        _set("issue.0.details", None),
    ),
]


def build_negatives(package_dir: Path, out_dir: Path) -> list[dict[str, Any]]:
    """Write every case and the manifest; return the manifest entries."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.json"):
        old.unlink()
    manifest: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for source, profile, rule, location, vi, en, mutate in CASES:
        res = copy.deepcopy(json.loads((package_dir / source).read_text(encoding="utf-8")))
        mutate(res)
        stem = f"{profile}--{rule}"
        seen[stem] = seen.get(stem, 0) + 1
        name = f"{stem}.json" if seen[stem] == 1 else f"{stem}-{seen[stem]}.json"
        res["id"] = name[: -len(".json")][:64]
        (out_dir / name).write_text(json.dumps(res, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        manifest.append(
            {
                "file": name,
                "resourceType": res["resourceType"],
                "profile": BASE + profile,
                "rule": rule,
                "location": location,
                "source": source,
                "description": {"vi": vi, "en": en},
            }
        )
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


if __name__ == "__main__":
    pkg = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "package"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE / "negative"
    print(f"{len(build_negatives(pkg, out))} negative cases → {out}")
