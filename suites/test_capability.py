"""Capability: the target's CapabilityStatement against the IG's (area CAP)."""

from __future__ import annotations

from typing import Any

import pytest

from vhr_conformance.client import FhirClient
from vhr_conformance.i18n import Text
from vhr_conformance.pytest_plugin import VhrState, criterion, omit
from vhr_conformance.runner.checks import (
    assert_fhir_json,
    declares_interaction,
    declares_search,
    rest_resource,
)
from vhr_conformance.runner.igmodel import IgModel


@criterion("VHR-CAP-001")
def test_metadata_served(fhir: FhirClient) -> None:
    resp = fhir.get("metadata")
    assert resp.status == 200, f"GET /metadata answered {resp.status}"
    body = resp.json
    assert isinstance(body, dict) and body.get("resourceType") == "CapabilityStatement", (
        "body is not a CapabilityStatement"
    )
    assert body.get("kind") in ("instance", "capability"), f"kind is {body.get('kind')!r}"
    assert body.get("status") == "active", f"status is {body.get('status')!r}"
    assert any(r.get("mode") == "server" for r in body.get("rest", [])), "no rest entry with mode=server"


@criterion("VHR-CAP-002")
def test_fhir_version(target_cs: dict[str, Any]) -> None:
    assert target_cs, "no CapabilityStatement to read fhirVersion from"
    assert target_cs.get("fhirVersion") == "4.0.1", f"fhirVersion is {target_cs.get('fhirVersion')!r}"


@criterion("VHR-CAP-003")
def test_json_format(fhir: FhirClient, target_cs: dict[str, Any]) -> None:
    formats = {str(f).lower() for f in target_cs.get("format", [])}
    assert formats & {"json", "application/fhir+json"}, f"format lists {sorted(formats)}"
    assert_fhir_json(fhir.get("metadata"))


@criterion("VHR-CAP-004")
def test_required_resources_declared(ig: IgModel, target_cs: dict[str, Any]) -> None:
    missing = [
        t for t, r in ig.resources.items() if r.expectation == "SHALL" and not rest_resource(target_cs, t)
    ]
    assert not missing, f"resource types required by the IG but not declared: {missing}"


@pytest.mark.per_resource("VHR-CAP-005")
def test_profiles_declared(ig: IgModel, target_cs: dict[str, Any], resource_type: str) -> None:
    want = ig.resources[resource_type].profiles
    if not want:
        omit(
            Text(
                f"IG không gán profile cho {resource_type}.", f"The IG assigns no profile to {resource_type}."
            )
        )
    res = rest_resource(target_cs, resource_type) or {}
    have = set(res.get("supportedProfile", [])) | ({res["profile"]} if res.get("profile") else set())
    missing = [p for p in want if p not in have and p.split("|")[0] not in {h.split("|")[0] for h in have}]
    assert not missing, f"{resource_type}: profiles not declared: {missing}"


@pytest.mark.per_resource("VHR-CAP-006")
def test_interactions_declared(ig: IgModel, target_cs: dict[str, Any], resource_type: str) -> None:
    req = ig.resources[resource_type]
    missing = [
        c
        for c, e in req.interactions.items()
        if e == "SHALL" and not declares_interaction(target_cs, resource_type, c)
    ]
    assert not missing, f"{resource_type}: SHALL interactions not declared: {missing}"


@pytest.mark.per_resource("VHR-CAP-007")
def test_search_params_declared(ig: IgModel, target_cs: dict[str, Any], resource_type: str) -> None:
    req = ig.resources[resource_type]
    missing = [
        s.name
        for s in req.search
        if s.expectation == "SHALL" and not declares_search(target_cs, resource_type, s.name)
    ]
    assert not missing, f"{resource_type}: SHALL search parameters not declared: {missing}"


@criterion("VHR-CAP-008")
def test_instantiates_ig(ig: IgModel, target_cs: dict[str, Any]) -> None:
    cs_url = ig.capability.get("url", "")
    claims = [
        str(x).split("|")[0]
        for x in target_cs.get("instantiates", []) + target_cs.get("implementationGuide", [])
    ]
    assert claims, "neither instantiates nor implementationGuide is given"
    assert cs_url in claims or any(ig.package_id in c or "vhr-conformance.org" in c for c in claims), (
        f"instantiates/implementationGuide {claims} do not name {cs_url}"
    )


def _secured(vhr: VhrState, target_cs: dict[str, Any]) -> bool:
    sec = (
        next((r.get("security") for r in target_cs.get("rest", []) if r.get("mode") == "server"), None) or {}
    )
    return vhr.options.auth.mode != "none" or bool(sec.get("service"))


@criterion("VHR-CAP-009")
def test_smart_configuration(vhr: VhrState, fhir: FhirClient, target_cs: dict[str, Any]) -> None:
    if not _secured(vhr, target_cs):
        omit(
            Text(
                "Máy chủ không yêu cầu xác thực: không cần cấu hình SMART.",
                "The target requires no authentication: no SMART configuration needed.",
            )
        )
    resp = fhir.get(".well-known/smart-configuration", auth=False, headers={"Accept": "application/json"})
    assert resp.status == 200, f"/.well-known/smart-configuration answered {resp.status}"
    conf = resp.json or {}
    assert conf.get("token_endpoint"), "no token_endpoint"
    assert "client_credentials" in conf.get("grant_types_supported", []), (
        "client_credentials not in grant_types_supported"
    )


@criterion("VHR-CAP-010")
def test_security_declared(vhr: VhrState, target_cs: dict[str, Any]) -> None:
    if vhr.options.auth.mode == "none":
        omit(
            Text(
                "Chạy không xác thực: không kiểm tra khai báo bảo mật.",
                "Run without authentication: security declaration not checked.",
            )
        )
    sec = (
        next((r.get("security") for r in target_cs.get("rest", []) if r.get("mode") == "server"), None) or {}
    )
    codes = {c.get("code") for s in sec.get("service", []) for c in s.get("coding", [])}
    assert codes & {"SMART-on-FHIR", "OAuth"}, (
        f"rest.security.service codes are {sorted(c for c in codes if c)}"
    )
