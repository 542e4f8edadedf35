"""Profile invariants see the right %resource, leading type names work, reference aggregation is enforced.

Found by comparing with the HL7 validator; the profiles below are written for these tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from vhr_conformance import fhirpkg
from vhr_conformance.validator import Validator

from .util import rules

ORG = "https://vhr-conformance.org/fhir/StructureDefinition/test-ctx-organization"
BUNDLE = "https://vhr-conformance.org/fhir/StructureDefinition/test-ctx-bundle"


def _sd(url: str, typ: str, elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": url,
        "name": url.rsplit("/", 1)[-1].replace("-", ""),
        "status": "draft",
        "kind": "resource",
        "abstract": False,
        "type": typ,
        "baseDefinition": f"http://hl7.org/fhir/StructureDefinition/{typ}",
        "derivation": "constraint",
        "differential": {"element": elements},
    }


ORG_PROFILE = _sd(
    ORG,
    "Organization",
    [
        {
            "id": "Organization",
            "path": "Organization",
            "constraint": [
                # a leading type name, as profile authors usually write them
                {
                    "key": "tctx-1",
                    "severity": "error",
                    "human": "A named facility has an alias",
                    "expression": "Organization.name.exists() implies Organization.alias.exists()",
                },
                # %resource is the Organization even when the Organization sits in a Bundle
                {
                    "key": "tctx-2",
                    "severity": "error",
                    "human": "Has an identifier",
                    "expression": "%resource.identifier.exists()",
                },
            ],
        },
        {
            "id": "Organization.endpoint",
            "path": "Organization.endpoint",
            "type": [
                {
                    "code": "Reference",
                    "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Endpoint"],
                    "aggregation": ["bundled"],
                }
            ],
        },
    ],
)
BUNDLE_PROFILE = _sd(
    BUNDLE,
    "Bundle",
    [
        {
            "id": "Bundle.entry",
            "path": "Bundle.entry",
            "slicing": {"discriminator": [{"type": "type", "path": "resource"}], "rules": "open"},
        },
        {"id": "Bundle.entry:org", "path": "Bundle.entry", "sliceName": "org", "min": 0, "max": "*"},
        {
            "id": "Bundle.entry:org.resource",
            "path": "Bundle.entry.resource",
            "type": [{"code": "Organization", "profile": [ORG]}],
        },
    ],
)


@pytest.fixture(scope="module")
def v(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    d: Path = tmp_path_factory.mktemp("ig")
    (d / "package.json").write_bytes(orjson.dumps({"name": "test.ctx", "version": "0.0.1"}))
    (d / "StructureDefinition-org.json").write_bytes(orjson.dumps(ORG_PROFILE))
    (d / "StructureDefinition-bundle.json").write_bytes(orjson.dumps(BUNDLE_PROFILE))
    core = fhirpkg.PackageSet.with_dependencies()
    return Validator.for_packages(fhirpkg.PackageSet([*core.packages, fhirpkg.load_package(d)]))


def _org(**extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Organization",
        "id": "bv1",
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Bệnh viện</div>'},
        "identifier": [{"system": "http://fhir.hl7.org.vn/core/sid/ma-cskcb", "value": "01001"}],
        "name": "Bệnh viện Đa khoa Tỉnh",
        "alias": ["BVĐK Tỉnh"],
    }
    res.update(extra)
    return res


def _endpoint() -> dict[str, Any]:
    return {
        "resourceType": "Endpoint",
        "id": "ep1",
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">FHIR</div>'},
        "status": "active",
        "connectionType": {
            "system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
            "code": "hl7-fhir-rest",
        },
        "payloadType": [{"text": "none"}],
        "address": "https://fhir.example.vn/r4",
    }


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"https://fhir.example.vn/{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }


def _keys(issues: list[Any]) -> set[str]:
    return {r for r, _loc in rules(issues)}


def test_leading_type_name_in_profile_invariant(v: Validator) -> None:
    assert "tctx-1" not in _keys(v.validate(_org(), profiles=[ORG]))
    bad = _org()
    del bad["alias"]
    assert ("tctx-1", "Organization") in rules(v.validate(bad, profiles=[ORG]))


def test_resource_variable_is_the_entry_inside_a_bundle(v: Validator) -> None:
    assert "tctx-2" not in _keys(v.validate(_bundle(_org()), profiles=[BUNDLE]))
    bad = _org()
    del bad["identifier"]
    assert ("tctx-2", "Bundle.entry[0].resource") in rules(v.validate(_bundle(bad), profiles=[BUNDLE]))


def test_bundled_aggregation(v: Validator) -> None:
    ok = _bundle(_org(endpoint=[{"reference": "Endpoint/ep1"}]), _endpoint())
    assert "reference-aggregation" not in _keys(v.validate(ok, profiles=[BUNDLE]))
    missing = _bundle(_org(endpoint=[{"reference": "Endpoint/ep2"}]), _endpoint())
    got = rules(v.validate(missing, profiles=[BUNDLE]))
    assert ("reference-aggregation", "Bundle.entry[0].resource.endpoint[0].reference") in got
    # the base layer alone does not ask collections to be self-contained
    assert "reference-aggregation" not in _keys(v.validate(missing))
    # outside a Bundle nothing can be bundled; a contained target is not what the profile allows either
    alone = _org(endpoint=[{"reference": "Endpoint/ep1"}])
    assert ("reference-aggregation", "Organization.endpoint[0].reference") in rules(
        v.validate(alone, profiles=[ORG])
    )
    contained = _org(contained=[_endpoint()], endpoint=[{"reference": "#ep1"}])
    assert ("reference-aggregation", "Organization.endpoint[0].reference") in rules(
        v.validate(contained, profiles=[ORG])
    )
