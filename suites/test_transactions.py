"""Write-side rules: transaction atomicity and refusal of invalid data (negative fixtures)."""

from __future__ import annotations

import copy
import random
import uuid
from typing import Any

import pytest

from vhr_conformance.client import FhirClient, Response
from vhr_conformance.fhirutil import parse_location
from vhr_conformance.i18n import Text
from vhr_conformance.names import SID_CCCD, tag_with_run
from vhr_conformance.outcome import check, not_tested
from vhr_conformance.pytest_plugin import VhrState, criterion
from vhr_conformance.runner.checks import (
    NOT_THERE,
    check_rejected,
    search_all,
    seeded_or_skip,
    short,
    status_text,
    write_templates,
)
from vhr_conformance.runner.fresh import cccd_of, fresh_copy
from vhr_conformance.seed import SeedData, Tracker


def _transaction_refused(
    fhir: FhirClient, tracker: Tracker, good: dict[str, Any], second: dict[str, Any], what: Text
) -> None:
    number = cccd_of(good)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": good,
                "request": {"method": "POST", "url": "Patient"},
            },
            second,
        ],
    }
    resp = fhir.post("", bundle)
    stored = 0
    if 200 <= resp.status < 300 and isinstance(resp.json, dict):
        for entry in resp.json.get("entry", []) or []:
            loc = parse_location((entry.get("response") or {}).get("location"))
            if loc and str((entry.get("response") or {}).get("status", "")).startswith(("200", "201")):
                tracker.add(loc[0], loc[1])
                stored += 1
    left = search_all(fhir, "Patient", [("identifier", f"{SID_CCCD}|{number}")]) if number else []
    for r in left:
        tracker.add("Patient", str(r.get("id")))
    if resp.status in NOT_THERE:
        not_tested(
            Text(
                "POST [base] (transaction) trả lời {s}: máy chủ không nhận transaction nên không đánh giá được "
                "tính nguyên tử (việc nhận transaction do VHR-KCB-007 đánh giá).",
                "POST [base] (transaction) answered {s}: the target takes no transactions, so atomicity could "
                "not be judged (accepting transactions is judged by VHR-KCB-007).",
            ).format(s=status_text(resp))
        )
    check(
        not 200 <= resp.status < 300,
        Text(
            f"Transaction có {what.vi} được chấp nhận toàn bộ (HTTP {resp.status}, {stored} mục được lưu): "
            "máy chủ không từ chối mục sai.",
            f"The transaction with {what.en} was accepted as a whole (HTTP {resp.status}, {stored} entries "
            "stored): the target did not refuse the bad entry.",
        ),
    )
    check(
        400 <= resp.status < 500,
        Text(
            f"Transaction có {what.vi} trả lời {status_text(resp)}, cần 4xx.",
            f"The transaction with {what.en} answered {status_text(resp)}, expected a 4xx.",
        ),
    )
    kept = short([f"Patient/{r.get('id')}" for r in left])
    check(
        not left,
        Text(
            f"Transaction có {what.vi} bị từ chối ({resp.status}) nhưng mục hợp lệ vẫn được lưu "
            f"({kept}): không nguyên tử.",
            f"The transaction with {what.en} was refused ({resp.status}) but its valid entry was stored "
            f"anyway ({kept}): not atomic.",
        ),
    )


@criterion("VHR-API-016")
@pytest.mark.parametrize("failure", ["invalid-entry", "version-conflict"])
def test_transaction_atomic(
    failure: str,
    vhr: VhrState,
    fhir: FhirClient,
    seed: SeedData,
    tracker: Tracker,
    server_copies: dict[str, dict[str, Any]],
) -> None:
    good = fresh_copy(
        write_templates(seed, "Patient", vhr.options.seed)[0],
        random.Random(f"{vhr.options.run_id}:atomic:{failure}"),
        vhr.options.run_id,
    )
    if failure == "invalid-entry":  # refused when validated
        bad = copy.deepcopy(good)
        bad["gender"] = "not-a-gender-code"
        bad["birthDate"] = "31-12-1990"
        second = {
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": bad,
            "request": {"method": "POST", "url": "Patient"},
        }
        _transaction_refused(fhir, tracker, good, second, Text("một mục sai", "one invalid entry"))
    else:  # refused while processing: a stale If-Match on an unchanged copy of a seeded patient
        source = seeded_or_skip(seed, "Patient")[0]
        current = server_copies.get(f"Patient/{source.id}")
        if current is None:
            not_tested(
                Text(
                    "Máy chủ không trả lại người bệnh thử Patient/{i} để dựng xung đột phiên bản.",
                    "The target returned no copy of the test patient Patient/{i} to build the version conflict.",
                ).format(i=source.id)
            )
        second = {
            "fullUrl": f"{fhir.base_url}/Patient/{source.id}",
            "resource": current,
            "request": {"method": "PUT", "url": f"Patient/{source.id}", "ifMatch": 'W/"999999"'},
        }
        _transaction_refused(
            fhir, tracker, good, second, Text("một xung đột phiên bản", "a version conflict")
        )


def _post_case(
    negative_case: tuple[dict[str, Any], dict[str, Any]], vhr: VhrState, fhir: FhirClient, tracker: Tracker
) -> tuple[Response, str]:
    """POST a generator negative case as the IG would receive it; returns the answer and the request."""
    resource, _ = negative_case
    body = copy.deepcopy(resource)
    if body.get("resourceType") == "Bundle":
        for e in body.get("entry", []):
            if isinstance(e.get("resource"), dict):
                tag_with_run(e["resource"], vhr.options.run_id)
        path = "" if body.get("type") in ("transaction", "batch") else "Bundle"
    else:
        tag_with_run(body, vhr.options.run_id)
        body.pop("id", None)
        path = body["resourceType"]
    resp = fhir.post(path, body)
    loc = parse_location(resp.headers.get("location"))
    if resp.status in (200, 201) and loc:
        tracker.add(loc[0], loc[1])
    for entry in (
        (resp.json or {}).get("entry", []) if resp.status == 200 and isinstance(resp.json, dict) else []
    ):
        eloc = parse_location((entry.get("response") or {}).get("location"))
        if eloc:
            tracker.add(eloc[0], eloc[1])
    return resp, f"POST {path or '[base]'}"


def _check_case_refused(resp: Response, request: str, item: dict[str, Any]) -> None:
    desc = item.get("description") or {}
    check_rejected(resp, f"{request} {item['file']} ({item.get('rule')}: {desc.get('en') or desc.get('vi')})")


@criterion("VHR-API-018")
@pytest.mark.negative_cases(errors=True, exclude="vhr-cccd")
def test_negative_case_rejected(
    negative_case: tuple[dict[str, Any], dict[str, Any]], vhr: VhrState, fhir: FhirClient, tracker: Tracker
) -> None:
    resp, request = _post_case(negative_case, vhr, fhir, tracker)
    _check_case_refused(resp, request, negative_case[1])


@criterion("VHR-PAT-007")
@pytest.mark.negative_cases(errors=True, rules="vhr-cccd")
def test_invalid_cccd_rejected(
    negative_case: tuple[dict[str, Any], dict[str, Any]], vhr: VhrState, fhir: FhirClient, tracker: Tracker
) -> None:
    resp, request = _post_case(negative_case, vhr, fhir, tracker)
    _check_case_refused(resp, request, negative_case[1])


@criterion("VHR-API-018")
@pytest.mark.negative_cases(errors=False)
def test_warning_only_case_accepted(
    negative_case: tuple[dict[str, Any], dict[str, Any]], vhr: VhrState, fhir: FhirClient, tracker: Tracker
) -> None:
    """Only errors are grounds to refuse: a case that raises a warning must be stored."""
    resp, request = _post_case(negative_case, vhr, fhir, tracker)
    item = negative_case[1]
    desc = item.get("description") or {}
    check(
        resp.status in (200, 201),
        Text(
            "{r} {f} chỉ gây cảnh báo ({k}: {d}) nhưng bị từ chối với {s}.",
            "{r} {f} only raises a warning ({k}: {e}) but was refused with {s}.",
        ).format(
            r=request,
            f=item["file"],
            k=item.get("rule"),
            d=desc.get("vi"),
            e=desc.get("en"),
            s=status_text(resp),
        ),
    )
