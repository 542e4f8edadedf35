"""Write-side rules: transaction atomicity and refusal of invalid data (negative fixtures)."""

from __future__ import annotations

import copy
import random
import uuid
from typing import Any

import pytest

from vhr_conformance.client import FhirClient
from vhr_conformance.i18n import Text
from vhr_conformance.pytest_plugin import VhrState, criterion, skip_missing
from vhr_conformance.runner.checks import assert_operation_outcome, seeded_or_skip
from vhr_conformance.runner.fresh import CCCD, cccd_of, fresh_copy
from vhr_conformance.runner.seed import SeedData, Tracker, parse_location, tag_resource


def _transaction_refused(
    fhir: FhirClient, tracker: Tracker, good: dict[str, Any], second: dict[str, Any], what: str
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
    if resp.status == 200:
        for entry in (resp.json or {}).get("entry", []):
            loc = parse_location((entry.get("response") or {}).get("location"))
            if (
                loc
                and loc[0] == "Patient"
                and (entry.get("response") or {}).get("status", "").startswith("201")
            ):
                tracker.add(loc[0], loc[1])
    if number:
        left = fhir.search_all("Patient", [("identifier", f"{CCCD}|{number}")])
        for r in left:
            tracker.add("Patient", str(r.get("id")))
        assert not left, f"{what}: the valid entry of the refused transaction was stored anyway"
    assert 400 <= resp.status < 500, f"{what}: the transaction answered {resp.status}, expected 4xx"


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
    source = seeded_or_skip(seed, "Patient")[0]
    good = fresh_copy(
        source.sent, random.Random(f"{vhr.options.run_id}:atomic:{failure}"), vhr.options.run_id
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
        _transaction_refused(fhir, tracker, good, second, "one invalid entry")
    else:  # refused while processing: a stale If-Match on an unchanged copy of a seeded patient
        current = server_copies.get(f"Patient/{source.id}")
        if current is None:
            skip_missing(
                Text("Máy chủ không trả lại người bệnh thử.", "The target returned no test patient.")
            )
        second = {
            "fullUrl": f"{fhir.base_url}/Patient/{source.id}",
            "resource": current,
            "request": {"method": "PUT", "url": f"Patient/{source.id}", "ifMatch": 'W/"999999"'},
        }
        _transaction_refused(fhir, tracker, good, second, "a version conflict")


def test_negative_case_rejected(
    negative_case: tuple[dict[str, Any], dict[str, Any]], vhr: VhrState, fhir: FhirClient, tracker: Tracker
) -> None:
    resource, item = negative_case
    body = copy.deepcopy(resource)
    if body.get("resourceType") == "Bundle":
        for e in body.get("entry", []):
            if isinstance(e.get("resource"), dict):
                tag_resource(e["resource"], vhr.options.run_id)
        path = "" if body.get("type") in ("transaction", "batch") else "Bundle"
    else:
        tag_resource(body, vhr.options.run_id)
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
    rule = item.get("rule")
    if item.get("severity", "error") != "error":
        assert resp.status in (200, 201), (
            f"{item['file']} only raises a {item.get('severity')} ({rule}: {item.get('description', {}).get('en')}) "
            f"but was refused with {resp.status}"
        )
        return
    assert 400 <= resp.status < 500, (
        f"{item['file']} breaks {rule} ({item.get('description', {}).get('en')}) but was answered {resp.status}"
    )
    assert_operation_outcome(resp, f"rejection of {item['file']}")
