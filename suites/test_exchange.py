"""Exchange (area XCH): Patient $everything, the health-record document, bulk export; and the IG's
$validate operation (area API). Each operation's level is the IG's, from its CapabilityStatement."""

from __future__ import annotations

import random
from typing import Any

from vhr_conformance.client import FhirClient
from vhr_conformance.i18n import Text
from vhr_conformance.igmodel import IgModel
from vhr_conformance.names import tag_with_run
from vhr_conformance.outcome import check, not_applicable, not_tested
from vhr_conformance.pytest_plugin import VhrState, criterion
from vhr_conformance.runner.checks import (
    NOT_THERE,
    bundle_entries,
    check_operation_outcome,
    check_status,
    created_id,
    declares_interaction,
    declares_operation,
    gate,
    pages,
    seeded_or_skip,
    short,
    status_text,
    write_templates,
)
from vhr_conformance.runner.fresh import fresh_copy
from vhr_conformance.seed import SeedData, Tracker


def _operation_gate(ig: IgModel, target_cs: dict[str, Any], name: str, rtype: str | None) -> str:
    """Gate an operation by the IG's expectation; an operation the IG does not name is optional."""
    level = ig.operation_level(name, rtype)
    where = f"{rtype}/${name}" if rtype else f"${name}"
    if level is None and not declares_operation(target_cs, name, rtype):
        not_applicable(
            Text(
                f"IG không nêu {where} và máy chủ không khai báo: thao tác tùy chọn.",
                f"The IG does not name {where} and the target does not declare it: optional.",
            )
        )
    gate(level or "MAY", declares_operation(target_cs, name, rtype), where)
    return level or "MAY"


@criterion("VHR-XCH-001")
def test_patient_everything(ig: IgModel, fhir: FhirClient, seed: SeedData, target_cs: dict[str, Any]) -> None:
    _operation_gate(ig, target_cs, "everything", "Patient")
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
    check_status(resp, (200,), f"GET Patient/{pat.id}/$everything")
    got: set[str] = set()
    for page in pages(fhir, resp):
        got |= {f"{r.get('resourceType')}/{r.get('id')}" for r in bundle_entries(page, mode=None)}
    check(
        f"Patient/{pat.id}" in got,
        Text(
            "$everything không chứa chính người bệnh Patient/{i} ({n} mục).",
            "$everything does not contain the patient Patient/{i} itself ({n} entries).",
        ).format(i=pat.id, n=len(got)),
    )
    missing = sorted(own - got)
    check(
        not missing,
        Text(
            "$everything thiếu {n}/{t} tài nguyên của người bệnh: {m}.",
            "$everything misses {n} of the patient's {t} resources: {m}.",
        ).format(n=len(missing), t=len(own), m=short(missing)),
    )


@criterion("VHR-API-021")
def test_validate_operation(
    vhr: VhrState, ig: IgModel, fhir: FhirClient, seed: SeedData, target_cs: dict[str, Any]
) -> None:
    """A valid copy of a seeded patient must validate without errors, the same copy with an invalid
    code must not: an endpoint that always says "valid" is not a validator."""
    _operation_gate(ig, target_cs, "validate", "Patient")
    template = write_templates(seed, "Patient", vhr.options.seed)[0]
    good = fresh_copy(template, random.Random(f"{vhr.options.run_id}:validate"), vhr.options.run_id)
    params = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": good}]}
    resp = fhir.post("Patient/$validate", params)
    check_status(resp, (200,), "POST Patient/$validate")
    check_operation_outcome(resp, "POST Patient/$validate")
    errors = [
        str((i.get("details") or {}).get("text") or i.get("diagnostics") or i.get("code"))
        for i in (resp.json or {}).get("issue", []) or []
        if i.get("severity") in ("error", "fatal")
    ]
    check(
        not errors,
        Text(
            "$validate báo {n} lỗi cho một bản sao hợp lệ của người bệnh thử: {e}.",
            "$validate reports {n} errors for a valid copy of a test patient: {e}.",
        ).format(n=len(errors), e=short(errors, 3)),
    )
    bad = dict(good, gender="not-a-gender-code")
    resp = fhir.post(
        "Patient/$validate",
        {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": bad}]},
    )
    check(
        resp.status == 200 or 400 <= resp.status < 500,
        Text(
            "POST Patient/$validate (gender sai) trả lời {s}.",
            "POST Patient/$validate (invalid gender) answered {s}.",
        ).format(s=status_text(resp)),
    )
    check_operation_outcome(resp, "POST Patient/$validate (gender=not-a-gender-code)")
    flagged = [i for i in (resp.json or {}).get("issue", []) or [] if i.get("severity") in ("error", "fatal")]
    check(
        flagged,
        Text(
            "$validate không báo lỗi nào cho Patient có gender=not-a-gender-code (HTTP {s}).",
            "$validate reports no error for a Patient with gender=not-a-gender-code (HTTP {s}).",
        ).format(s=resp.status),
    )


@criterion("VHR-XCH-002")
def test_document_bundle(
    vhr: VhrState, ig: IgModel, fhir: FhirClient, tracker: Tracker, target_cs: dict[str, Any]
) -> None:
    if "Bundle" not in ig.resources:
        not_applicable(
            Text(
                "IG không liệt kê Bundle là tài nguyên lưu trữ.",
                "The IG does not list Bundle as a stored resource.",
            )
        )
    exp = ig.resources["Bundle"].interactions.get("create", "MAY")
    gate(exp, declares_interaction(target_cs, "Bundle", "create"), "Bundle create")
    try:
        from vhr_conformance.generator import coverage_cohort, document_bundle
    except ImportError:
        not_tested(
            Text(
                "Không có bộ sinh tài liệu (vhr_conformance.generator): cài đủ gói vhr-conformance.",
                "The document generator (vhr_conformance.generator) is not available: install the full vhr-conformance package.",
            )
        )
    doc = document_bundle(coverage_cohort(vhr.options.seed)[0])
    for e in doc.get("entry", []):
        if isinstance(e.get("resource"), dict):
            tag_with_run(e["resource"], vhr.options.run_id)
    resp = fhir.post("Bundle", doc)
    if resp.status not in NOT_THERE:
        check(
            not 400 <= resp.status < 500,
            Text(
                "POST Bundle: tài liệu hồ sơ sức khỏe hợp lệ bị từ chối ({s}).",
                "POST Bundle: a valid health-record document was refused ({s}).",
            ).format(s=status_text(resp)),
        )
    rid = created_id(resp, "Bundle", "POST Bundle (document)")
    tracker.add("Bundle", rid)
    back = fhir.get(f"Bundle/{rid}")
    check_status(back, (200,), f"GET Bundle/{rid}")
    body = back.json if isinstance(back.json, dict) else {}
    check(
        body.get("type") == "document",
        Text(
            "Bundle lưu có type {t!r}, cần document.", "The stored Bundle has type {t!r}, expected document."
        ).format(t=body.get("type")),
    )
    first = ((body.get("entry") or [{}])[0].get("resource") or {}).get("resourceType")
    check(
        first == "Composition",
        Text(
            "Mục đầu của tài liệu lưu là {f!r}, cần Composition.",
            "The first entry of the stored document is {f!r}, expected Composition.",
        ).format(f=first),
    )


@criterion("VHR-XCH-003")
def test_bulk_export(ig: IgModel, fhir: FhirClient, target_cs: dict[str, Any]) -> None:
    _operation_gate(ig, target_cs, "export", None)
    resp = fhir.get("$export", headers={"Prefer": "respond-async", "Accept": "application/fhir+json"})
    check_status(resp, (202,), "GET $export (Prefer: respond-async)")
    status = resp.headers.get("content-location")
    check(
        status,
        Text("$export không trả Content-Location để theo dõi.", "$export gave no Content-Location to poll."),
    )
    if fhir.same_origin(str(status)):
        fhir.delete(str(status))
