"""Small checks shared by the suites: what the target declares, and how to gate optional tests.

Rule: a SHALL requirement of the IG is tested whatever the target declares (not declaring it is
itself a failure); a SHOULD/MAY one that the target does not declare is `omit`, not `fail`.
"""

from __future__ import annotations

from typing import Any

from vhr_conformance.client import FHIR_JSON, Response
from vhr_conformance.i18n import Text
from vhr_conformance.pytest_plugin import omit, skip_missing


def rest_resource(cs: dict[str, Any] | None, rtype: str) -> dict[str, Any] | None:
    for rest in (cs or {}).get("rest", []) or []:
        for res in rest.get("resource", []) or []:
            if res.get("type") == rtype:
                return res
    return None


def declares_interaction(cs: dict[str, Any] | None, rtype: str, code: str) -> bool:
    res = rest_resource(cs, rtype)
    return bool(res) and any(i.get("code") == code for i in res.get("interaction", []) or [])


def declares_search(cs: dict[str, Any] | None, rtype: str, name: str) -> bool:
    res = rest_resource(cs, rtype)
    return bool(res) and any(p.get("name") == name for p in res.get("searchParam", []) or [])


def declares_operation(cs: dict[str, Any] | None, name: str, rtype: str | None = None) -> bool:
    for rest in (cs or {}).get("rest", []) or []:
        ops = list(rest.get("operation", []) or [])
        for res in rest.get("resource", []) or []:
            if rtype is None or res.get("type") == rtype:
                ops += res.get("operation", []) or []
        if any(str(o.get("name", "")).lstrip("$") == name.lstrip("$") for o in ops):
            return True
    return False


def gate(expectation: str, declared: bool, what: str) -> None:
    """Omit an optional requirement the target does not declare; SHALL ones are always tested."""
    if expectation != "SHALL" and not declared:
        omit(
            Text(
                f"Máy chủ không khai báo {what} (mức {expectation} trong IG).",
                f"The target does not declare {what} ({expectation} in the IG).",
            )
        )


def assert_fhir_json(resp: Response) -> None:
    assert resp.content_type in (FHIR_JSON, "application/json"), (
        f"Content-Type is {resp.content_type!r}, expected {FHIR_JSON}"
    )


def assert_operation_outcome(resp: Response, what: str) -> None:
    body = resp.json
    assert isinstance(body, dict) and body.get("resourceType") == "OperationOutcome", (
        f"{what}: HTTP {resp.status} without an OperationOutcome body (got {resp.text()[:200]!r})"
    )
    assert body.get("issue"), f"{what}: OperationOutcome has no issue"


def bundle_entries(body: Any, mode: str | None = "match") -> list[dict[str, Any]]:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise AssertionError(f"expected a Bundle, got {str(body)[:200]!r}")
    out = []
    for entry in body.get("entry", []) or []:
        wanted = mode is None or (entry.get("search") or {}).get("mode", "match") == mode
        if wanted and isinstance(entry.get("resource"), dict):
            out.append(entry["resource"])
    return out


def strip_meta(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k not in ("meta", "id", "text")}


def seeded_or_skip(seed: Any, rtype: str) -> list[Any]:
    """The seeded resources of a type, or a skip naming exactly which data is missing."""
    items = seed.of_type(rtype)
    if not items:
        skip_missing(
            Text(
                f"Không có dữ liệu thử loại {rtype} được tạo trên máy chủ.",
                f"No {rtype} test data could be created on the target.",
            )
        )
    return items
