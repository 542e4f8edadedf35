"""Write-side rules: transaction atomicity and refusal of invalid data (negative fixtures)."""

from __future__ import annotations

import copy
import random
import uuid
from typing import Any

from vhr_conformance.client import FhirClient
from vhr_conformance.pytest_plugin import VhrState, criterion
from vhr_conformance.runner.checks import assert_operation_outcome, seeded_or_skip
from vhr_conformance.runner.fresh import CCCD, cccd_of, fresh_copy
from vhr_conformance.runner.seed import SeedData, Tracker, parse_location, tag_resource


@criterion("VHR-API-016")
def test_transaction_atomic(vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker) -> None:
    source = seeded_or_skip(seed, "Patient")[0]
    good = fresh_copy(source.sent, random.Random(f"{vhr.options.run_id}:atomic"), vhr.options.run_id)
    number = cccd_of(good)
    bad = copy.deepcopy(good)
    bad["gender"] = "not-a-gender-code"
    bad["birthDate"] = "31-12-1990"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": good, "request": {"method": "POST", "url": "Patient"}},
            {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": bad, "request": {"method": "POST", "url": "Patient"}},
        ],
    }
    resp = fhir.post("", bundle)
    if resp.status == 200:
        for entry in (resp.json or {}).get("entry", []):
            loc = parse_location((entry.get("response") or {}).get("location"))
            if loc:
                tracker.add(loc[0], loc[1])
    assert 400 <= resp.status < 500, f"a transaction with one invalid entry answered {resp.status}, expected 4xx"
    if number:
        left = fhir.search_all("Patient", [("identifier", f"{CCCD}|{number}")])
        for r in left:
            tracker.add("Patient", str(r.get("id")))
        assert not left, f"the valid entry of the refused transaction was stored anyway ({len(left)} patient)"


def test_negative_case_rejected(negative_case: tuple[dict[str, Any], dict[str, Any]], vhr: VhrState,
                                fhir: FhirClient, tracker: Tracker) -> None:
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
    for entry in (resp.json or {}).get("entry", []) if resp.status == 200 and isinstance(resp.json, dict) else []:
        eloc = parse_location((entry.get("response") or {}).get("location"))
        if eloc:
            tracker.add(eloc[0], eloc[1])
    rule = item.get("rule")
    assert 400 <= resp.status < 500, (
        f"{item['file']} breaks {rule} ({item.get('description', {}).get('en')}) but was answered {resp.status}"
    )
    assert_operation_outcome(resp, f"rejection of {item['file']}")
