"""The sender checks on hand-made recordings: the paths the sample client does not take."""

from __future__ import annotations

from typing import Any

import orjson

from vhr_conformance.listen.evaluate import (
    SessionFacts,
    check_encounter_complete,
    check_patient_identity,
    check_references,
    check_retry,
    check_timezone,
    check_url_privacy,
    check_valid_transactions,
)
from vhr_conformance.listen.recorder import Recorded
from vhr_conformance.names import SID_MALK


def facts(existing: frozenset[tuple[str, str]] = frozenset()) -> SessionFacts:
    return SessionFacts("none", 1 << 20, lambda _t, _i: 1, lambda t, i: (t, i) in existing, lambda _b: [])


def rec(
    seq: int,
    t: float,
    status: int,
    body: Any = None,
    method: str = "POST",
    path: str = "/",
    query: str = "",
    retry_after: str | None = None,
) -> Recorded:
    raw = orjson.dumps(body) if body is not None else b""
    headers = {"retry-after": retry_after} if retry_after else {}
    return Recorded(
        seq=seq,
        t=t,
        received="2026-01-01T08:00:00+07:00",
        method=method,
        path=path,
        query=query,
        headers={"content-type": "application/fhir+json"},
        body=raw,
        status=status,
        response_headers=headers,
        client="127.0.0.1",
    )


def tx(*resources: dict[str, Any], urls: tuple[str, ...] = ()) -> dict[str, Any]:
    entries = []
    for i, res in enumerate(resources):
        url = urls[i] if i < len(urls) else res["resourceType"]
        entries.append(
            {
                "fullUrl": f"urn:uuid:00000000-0000-0000-0000-{i:012d}",
                "resource": res,
                "request": {"method": "POST", "url": url},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


BODY = tx({"resourceType": "Basic"})


def test_retry_without_retry_after_needs_a_growing_backoff() -> None:
    shrinking = [rec(1, 0.0, 503, BODY), rec(2, 2.0, 503, BODY), rec(3, 2.5, 200, BODY)]
    verdict = check_retry(shrinking, facts())
    assert verdict.state == "fail" and "no backoff" in verdict.message
    growing = [rec(1, 0.0, 503, BODY), rec(2, 0.5, 503, BODY), rec(3, 1.5, 200, BODY)]
    assert check_retry(growing, facts()).state == "pass"


def test_a_refused_request_that_never_comes_back_fails() -> None:
    verdict = check_retry([rec(1, 0.0, 429, BODY, retry_after="1")], facts())
    assert verdict.state == "fail" and "never retried" in verdict.message
    early = [rec(1, 0.0, 429, BODY, retry_after="2"), rec(2, 1.0, 200, BODY)]
    assert check_retry(early, facts()).state == "fail"
    on_time = [rec(1, 0.0, 429, BODY, retry_after="2"), rec(2, 2.05, 200, BODY)]
    assert check_retry(on_time, facts()).state == "pass"


def test_references_contained_conditional_existing_and_dangling() -> None:
    obs = {
        "resourceType": "Observation",
        "subject": {"reference": "urn:uuid:00000000-0000-0000-0000-000000000001"},
        "performer": [{"reference": "Organization?identifier=x|1"}],
        "specimen": {"reference": "#s1"},
        "encounter": {"reference": "Encounter/e1"},
    }
    ok = tx(obs, {"resourceType": "Patient"})
    assert check_references([rec(1, 0, 200, ok)], facts(frozenset({("Encounter", "e1")}))).state == "pass"
    assert check_references([rec(1, 0, 200, ok)], facts()).state == "fail"  # Encounter/e1 not on the platform
    dangling = tx(dict(obs, encounter={"reference": "urn:uuid:99999999-0000-0000-0000-000000000000"}))
    verdict = check_references([rec(1, 0, 200, dangling)], facts(frozenset({("Encounter", "e1")})))
    assert verdict.state == "fail" and "urn:uuid:9999" in verdict.message


def test_inpatient_stay_needs_its_discharge_disposition() -> None:
    ext = "https://vhr-conformance.org/fhir/StructureDefinition/"
    enc = {
        "resourceType": "Encounter",
        "identifier": [{"system": SID_MALK, "value": "1"}],
        "status": "finished",
        "class": {"code": "IMP"},
        "subject": {"reference": "Patient/p"},
        "serviceProvider": {"reference": "Organization/o"},
        "period": {"start": "2026-01-01T08:00:00+07:00", "end": "2026-01-02T08:00:00+07:00"},
        "diagnosis": [{"condition": {"reference": "Condition/c"}}],
        "extension": [
            {"url": ext + u}
            for u in (
                "vhr-encounter-form-of-care",
                "vhr-encounter-treatment-result",
                "vhr-encounter-discharge-type",
            )
        ],
    }
    verdict = check_encounter_complete([rec(1, 0, 200, tx(enc))], facts())
    assert verdict.state == "fail" and "dischargeDisposition" in verdict.message
    enc["hospitalization"] = {"dischargeDisposition": {"text": "home"}}
    assert check_encounter_complete([rec(1, 0, 200, tx(enc))], facts()).state == "pass"


def test_a_patients_name_in_any_parameter_is_personal_data() -> None:
    sent = tx(
        {
            "resourceType": "Patient",
            "name": [{"family": "Nguyễn", "given": ["Thị", "Hoa"]}],
            "birthDate": "1990-01-02",
        }
    )
    lookups = [
        rec(1, 0, 200, sent),
        rec(2, 1, 200, method="GET", path="/Encounter", query="patient:Patient.identifier=x|1&_count=5"),
        rec(3, 2, 200, method="GET", path="/Observation", query="note=hoa"),
    ]
    verdict = check_url_privacy(lookups, facts())
    assert verdict.state == "fail" and "#3" in verdict.message and "#2" not in verdict.message
    inside = tx({"resourceType": "Basic"}, urls=("Patient?birthdate=1990-01-02",))
    assert check_url_privacy([rec(1, 0, 200, inside)], facts()).state == "fail"


def test_a_client_without_transactions_is_still_judged_on_its_data() -> None:
    cccd = "http://fhir.hl7.org.vn/core/sid/cccd"
    pat = {"resourceType": "Patient", "identifier": [{"system": cccd, "value": "001090012345"}]}
    plain = rec(1, 0, 201, pat, path="/Patient")
    verdict = check_patient_identity([plain], facts())
    assert verdict.state == "fail" and "without conditional" in verdict.message
    assert check_valid_transactions([plain], facts()).state == "fail"
    conditional = rec(1, 0, 201, pat, path="/Patient")
    conditional.headers["if-none-exist"] = f"identifier={cccd}|001090012345"
    by_id = rec(2, 1, 200, pat, method="PUT", path="/Patient/abc")
    assert check_patient_identity([conditional, by_id], facts()).state == "pass"
    stamped = rec(
        1,
        0,
        201,
        {"resourceType": "Observation", "effectiveDateTime": "2026-01-01T01:00:00Z"},
        path="/Observation",
    )
    assert check_timezone([stamped], facts()).state == "fail"
