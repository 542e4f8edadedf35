"""Capability: the target's CapabilityStatement against the IG's (area CAP)."""

from __future__ import annotations

from typing import Any

from vhr_conformance.client import FhirClient
from vhr_conformance.i18n import Text
from vhr_conformance.igmodel import IgModel
from vhr_conformance.outcome import check, not_applicable
from vhr_conformance.pytest_plugin import VhrState, criterion
from vhr_conformance.runner.checks import (
    check_fhir_json,
    check_status,
    declares_interaction,
    declares_search,
    rest_resource,
    short,
)

NO_CS = Text(
    "Máy chủ không trả CapabilityStatement tại /metadata (VHR-CAP-001).",
    "The target serves no CapabilityStatement at /metadata (VHR-CAP-001).",
)


def _have_cs(target_cs: dict[str, Any]) -> None:
    check(target_cs, NO_CS)


@criterion("VHR-CAP-001")
def test_metadata_served(fhir: FhirClient) -> None:
    resp = fhir.get("metadata")
    check_status(resp, (200,), "GET /metadata")
    body = resp.json if isinstance(resp.json, dict) else {}
    check(
        body.get("resourceType") == "CapabilityStatement",
        Text(
            "GET /metadata trả về {r}, không phải CapabilityStatement.",
            "GET /metadata returned {r}, not a CapabilityStatement.",
        ).format(r=body.get("resourceType") or resp.content_type),
    )
    check(
        body.get("kind") in ("instance", "capability"),
        Text(
            "kind là {k!r}, cần instance hoặc capability.", "kind is {k!r}, expected instance or capability."
        ).format(k=body.get("kind")),
    )
    check(
        body.get("status") == "active",
        Text("status là {s!r}, cần active.", "status is {s!r}, expected active.").format(
            s=body.get("status")
        ),
    )
    check(
        any(r.get("mode") == "server" for r in body.get("rest", []) or []),
        Text("Không có mục rest với mode=server.", "No rest entry with mode=server."),
    )


@criterion("VHR-CAP-002")
def test_fhir_version(target_cs: dict[str, Any]) -> None:
    _have_cs(target_cs)
    check(
        target_cs.get("fhirVersion") == "4.0.1",
        Text("fhirVersion là {v!r}, cần 4.0.1.", "fhirVersion is {v!r}, expected 4.0.1.").format(
            v=target_cs.get("fhirVersion")
        ),
    )


@criterion("VHR-CAP-003")
def test_json_format(fhir: FhirClient, target_cs: dict[str, Any]) -> None:
    _have_cs(target_cs)
    formats = sorted({str(f).lower() for f in target_cs.get("format", []) or []})
    check(
        set(formats) & {"json", "application/fhir+json"},
        Text("format liệt kê {f}, không có JSON.", "format lists {f}, without JSON.").format(f=formats),
    )
    check_fhir_json(fhir.get("metadata"), "GET /metadata")


@criterion("VHR-CAP-004")
def test_required_resources_declared(ig: IgModel, target_cs: dict[str, Any]) -> None:
    _have_cs(target_cs)
    missing = [
        t for t, r in ig.resources.items() if r.expectation == "SHALL" and not rest_resource(target_cs, t)
    ]
    check(
        not missing,
        Text(
            "{n} loại tài nguyên IG yêu cầu (SHALL) không được khai báo: {m}.",
            "{n} resource types the IG requires (SHALL) are not declared: {m}.",
        ).format(n=len(missing), m=short(missing, 8)),
    )


@criterion("VHR-CAP-005")
def test_profiles_declared(ig: IgModel, target_cs: dict[str, Any], resource_type: str) -> None:
    want = ig.resources[resource_type].profiles
    if not want:
        not_applicable(
            Text(
                f"IG không gán profile cho {resource_type}.", f"The IG assigns no profile to {resource_type}."
            )
        )
    _have_cs(target_cs)
    res = rest_resource(target_cs, resource_type) or {}
    have = set(res.get("supportedProfile", []) or []) | ({res["profile"]} if res.get("profile") else set())
    missing = [p for p in want if p not in have and p.split("|")[0] not in {h.split("|")[0] for h in have}]
    check(
        not missing,
        Text("{t}: không khai báo profile {m}.", "{t}: profiles not declared: {m}.").format(
            t=resource_type, m=short([p.rsplit("/", 1)[-1] for p in missing])
        ),
    )


@criterion("VHR-CAP-006")
def test_interactions_declared(ig: IgModel, target_cs: dict[str, Any], resource_type: str) -> None:
    _have_cs(target_cs)
    req = ig.resources[resource_type]
    missing = [
        c
        for c, e in req.interactions.items()
        if e == "SHALL" and not declares_interaction(target_cs, resource_type, c)
    ]
    check(
        not missing,
        Text("{t}: không khai báo tương tác SHALL {m}.", "{t}: SHALL interactions not declared: {m}.").format(
            t=resource_type, m=missing
        ),
    )


@criterion("VHR-CAP-007")
def test_search_params_declared(ig: IgModel, target_cs: dict[str, Any], resource_type: str) -> None:
    _have_cs(target_cs)
    req = ig.resources[resource_type]
    missing = [
        s.name
        for s in req.search
        if s.expectation == "SHALL" and not declares_search(target_cs, resource_type, s.name)
    ]
    check(
        not missing,
        Text(
            "{t}: không khai báo tham số tìm kiếm SHALL {m}.",
            "{t}: SHALL search parameters not declared: {m}.",
        ).format(t=resource_type, m=missing),
    )


@criterion("VHR-CAP-008")
def test_instantiates_ig(ig: IgModel, target_cs: dict[str, Any]) -> None:
    _have_cs(target_cs)
    cs_url = ig.capability.get("url", "")
    claims = [
        str(x).split("|")[0]
        for x in (target_cs.get("instantiates", []) or []) + (target_cs.get("implementationGuide", []) or [])
    ]
    check(
        claims,
        Text(
            "CapabilityStatement không có instantiates hay implementationGuide.",
            "The CapabilityStatement gives neither instantiates nor implementationGuide.",
        ),
    )
    check(
        cs_url in claims or any(ig.package_id in c or "vhr-conformance.org" in c for c in claims),
        Text(
            "instantiates/implementationGuide {c} không nêu {u}.",
            "instantiates/implementationGuide {c} do not name {u}.",
        ).format(c=claims, u=cs_url),
    )


def _security_codes(target_cs: dict[str, Any]) -> set[str]:
    sec = (
        next((r.get("security") for r in target_cs.get("rest", []) or [] if r.get("mode") == "server"), None)
        or {}
    )
    return {
        str(c.get("code"))
        for s in sec.get("service", []) or []
        for c in s.get("coding", []) or []
        if c.get("code")
    }


@criterion("VHR-CAP-009")
def test_smart_configuration(vhr: VhrState, fhir: FhirClient, target_cs: dict[str, Any]) -> None:
    # The criterion applies "when OAuth is used": the target declares it, or the run authenticates with it.
    oauth = bool(_security_codes(target_cs) & {"SMART-on-FHIR", "OAuth"}) or vhr.options.auth.mode not in (
        "none",
        "bearer",
    )
    if not oauth:
        not_applicable(
            Text(
                "Máy chủ không khai báo OAuth/SMART và lượt chạy không dùng OAuth: không cần cấu hình SMART "
                "(việc thiếu xác thực do VHR-SEC-002 đánh giá).",
                "The target declares no OAuth/SMART and the run does not use OAuth: no SMART configuration "
                "is needed (missing authentication is judged by VHR-SEC-002).",
            )
        )
    resp = fhir.get(".well-known/smart-configuration", auth=False, headers={"Accept": "application/json"})
    check_status(resp, (200,), "GET /.well-known/smart-configuration")
    conf = resp.json if isinstance(resp.json, dict) else {}
    check(
        conf.get("token_endpoint"),
        Text("smart-configuration không có token_endpoint.", "smart-configuration has no token_endpoint."),
    )
    check(
        "client_credentials" in (conf.get("grant_types_supported") or []),
        Text(
            "grant_types_supported {g} không có client_credentials.",
            "grant_types_supported {g} lacks client_credentials.",
        ).format(g=conf.get("grant_types_supported")),
    )


@criterion("VHR-CAP-010")
def test_security_declared(target_cs: dict[str, Any]) -> None:
    """Judged whatever credentials the run has: the declaration is in the CapabilityStatement."""
    _have_cs(target_cs)
    codes = _security_codes(target_cs)
    check(
        codes & {"SMART-on-FHIR", "OAuth"},
        Text(
            "rest.security.service không khai báo SMART-on-FHIR hay OAuth (mã: {c}).",
            "rest.security.service declares neither SMART-on-FHIR nor OAuth (codes: {c}).",
        ).format(c=sorted(codes) or "—"),
    )
