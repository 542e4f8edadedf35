"""Names every stage shares: the tags that mark test data, and who it belongs to.

Test data the harness writes to a target carries the HL7 ``HTEST`` tag (it is test data) and a
run tag (which run wrote it), so a clean-up can find exactly what one run left and nothing else.
"""

from __future__ import annotations

from typing import Any

HTEST_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
HTEST_CODE = "HTEST"
HTEST: dict[str, str] = {"system": HTEST_SYSTEM, "code": HTEST_CODE}
RUN_TAG_SYSTEM = "https://vhr-conformance.org/fhir/CodeSystem/test-run"


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
