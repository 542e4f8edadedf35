"""Names every stage shares, defined once: the canonical base of the VHR conformance resources,
the Vietnamese identifier systems, the code systems the data is coded in, and the tags that mark
test data and who it belongs to.

Test data the harness writes to a target carries the HL7 ``HTEST`` tag (it is test data) and a
run tag (which run wrote it), so a clean-up can find exactly what one run left and nothing else.
"""

from __future__ import annotations

from typing import Any

# Canonical base of the VHR IG's resources: ``{CANONICAL}/<ResourceType>/<id>``.
CANONICAL = "https://vhr-conformance.org/fhir"


def canonical(resource_type: str, resource_id: str) -> str:
    """``{base}/<ResourceType>/<id>``, the URL pattern of every VHR conformance resource."""
    return f"{CANONICAL}/{resource_type}/{resource_id}"


# Vietnamese identifier systems (HL7 Vietnam core naming systems)
SID = "http://fhir.hl7.org.vn/core/sid"
SID_CCCD = f"{SID}/cccd"  # citizen identity card (12 digits)
SID_CMND = f"{SID}/cmnd"  # the older 9-digit identity card
SID_BHYT = f"{SID}/bhyt"  # health-insurance card
SID_BHXH = f"{SID}/bhxh"  # social-insurance number
SID_CSKCB = f"{SID}/ma-cskcb"  # health facility code
SID_MALK = f"{SID}/ma-lk"  # XML 130 encounter link key (MA_LK)
SID_CCHN = f"{SID}/cchn"  # practising certificate
SID_PASSPORT = f"{SID}/passport"

# Code systems the generated and converted data is coded in
ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"

HTEST_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
HTEST_CODE = "HTEST"
HTEST: dict[str, str] = {"system": HTEST_SYSTEM, "code": HTEST_CODE}
RUN_TAG_SYSTEM = canonical("CodeSystem", "test-run")


def run_tag(run_id: str) -> dict[str, str]:
    return {"system": RUN_TAG_SYSTEM, "code": run_id}


def has_run_tag(resource: dict[str, Any], run_id: str) -> bool:
    tags = (resource.get("meta") or {}).get("tag") or []
    return any(
        isinstance(t, dict) and t.get("system") == RUN_TAG_SYSTEM and t.get("code") == run_id for t in tags
    )


def tag_with_run(resource: dict[str, Any], run_id: str) -> None:
    """Add HTEST (if missing) and the run's tag to a resource's meta."""
    tags = resource.setdefault("meta", {}).setdefault("tag", [])
    if not any(t.get("system") == HTEST_SYSTEM and t.get("code") == HTEST_CODE for t in tags):
        tags.append(dict(HTEST))
    if not has_run_tag(resource, run_id):
        tags.append(run_tag(run_id))
