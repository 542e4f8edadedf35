"""Primitive syntax (strings, uri/url/canonical) and Bundle rules, from the R4 specification's text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from vhr_conformance import fhirpkg
from vhr_conformance.validator import Validator

from .util import errors, patient, rules

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "profiles" / "package"
VHR = "https://vhr-conformance.org/fhir/StructureDefinition/"


def _ident(system: str, value: str = "1") -> dict[str, Any]:
    return patient(identifier=[{"system": system, "value": value}])


# "Strings SHOULD not contain Unicode character points below 32, except for u0009 (horizontal tab),
# u0010 (carriage return) and u0013 (line feed)": the HL7 validator rejects them.
@pytest.mark.parametrize("ch", ["\u0000", "\u0001", "\u0008", "\u000b", "\u001f"])
def test_control_characters_in_strings_are_errors(validator: Validator, ch: str) -> None:
    got = rules(validator.validate(patient(name=[{"family": f"Ng{ch}uyễn"}])))
    assert got == {("type-string", "Patient.name[0].family")}
    # any string-based primitive, not only string
    assert ("type-code", "Patient.gender") in rules(validator.validate(patient(gender=f"ma{ch}le")))


def test_tab_cr_lf_are_allowed_and_whitespace_only_is_a_warning(validator: Validator) -> None:
    assert errors(validator.validate(patient(name=[{"family": "a\tb\r\nc"}]))) == []
    issues = validator.validate(patient(name=[{"family": " \t "}]))
    assert errors(issues) == []
    assert ("string-whitespace", "Patient.name[0].family") in rules(issues, ("warning",))


@pytest.mark.parametrize(
    ("system", "ok"),
    [
        ("urn:oid:2.16.840.1.113883.6.1", True),
        ("urn:oid:1.2.04", False),  # no leading zeros in an arc
        ("urn:oid:3.1", False),  # the first arc is 0, 1 or 2
        ("urn:oid:", False),
        ("urn:uuid:8f0c4a4e-3b0a-4c86-9d2f-2b1a7c3e5d10", True),
        ("urn:uuid:8F0C4A4E-3B0A-4C86-9D2F-2B1A7C3E5D10", False),  # the spec's uuid is lowercase
        ("urn:uuid:8f0c4a4e-3b0a-4c86-9d2f", False),
        ("urn:ietf:rfc:3986", True),
        ("http://example.org/a b", False),  # no whitespace in a uri
    ],
)
def test_uri_forms(validator: Validator, system: str, ok: bool) -> None:
    got = rules(validator.validate(_ident(system)))
    assert (got == set()) is ok, got
    if not ok:
        assert got == {("type-uri", "Patient.identifier[0].system")}


def test_canonical_version_suffix_and_target_types(validator: Validator) -> None:
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "text": patient()["text"],
        "status": "completed",
        "questionnaire": "http://example.org/Questionnaire/q|1.0",
    }
    assert errors(validator.validate(qr)) == []  # unknown canonical: nothing to judge
    qr["questionnaire"] = "urn:uuid:ABC|1"
    assert ("type-canonical", "QuestionnaireResponse.questionnaire") in rules(validator.validate(qr))
    # canonical(Questionnaire) that resolves to a ValueSet
    qr["questionnaire"] = "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1"
    assert rules(validator.validate(qr)) == {("canonical-target", "QuestionnaireResponse.questionnaire")}


def _collection(*resources: dict[str, Any], urls: list[str] | None = None) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": (urls or [])[i]
                if urls
                else f"http://example.org/fhir/{r['resourceType']}/{r['id']}",
                "resource": r,
            }
            for i, r in enumerate(resources)
        ],
    }


def test_fullurl_must_agree_with_the_resource_id(validator: Validator) -> None:
    p = patient(id="p1")
    assert errors(validator.validate(_collection(p))) == []
    bad = _collection(p, urls=["http://example.org/fhir/Patient/p2"])
    assert rules(validator.validate(bad)) == {("bundle-fullurl-id", "Bundle.entry[0].fullUrl")}
    wrong_type = _collection(p, urls=["http://example.org/fhir/Practitioner/p1"])
    assert ("bundle-fullurl-id", "Bundle.entry[0].fullUrl") in rules(validator.validate(wrong_type))
    # a urn:uuid fullUrl says nothing about the id
    urn = _collection(p, urls=["urn:uuid:8f0c4a4e-3b0a-4c86-9d2f-2b1a7c3e5d10"])
    assert errors(validator.validate(urn)) == []


def test_bundle_link_relations_are_not_repeated(validator: Validator) -> None:
    b = _collection(patient(id="p1"))
    b["link"] = [
        {"relation": "self", "url": "http://example.org/fhir/Patient?_count=1"},
        {"relation": "next", "url": "http://example.org/fhir/Patient?page=2"},
    ]
    assert errors(validator.validate(b)) == []
    b["link"].append({"relation": "next", "url": "http://example.org/fhir/Patient?page=3"})
    assert rules(validator.validate(b)) == {("bundle-link-repeated", "Bundle.link[2].relation")}


def _example(name: str) -> dict[str, Any]:
    return orjson.loads((PKG / name).read_bytes())


def test_target_profile_of_a_bundled_reference_is_checked(validator: Validator) -> None:
    enc = _example("Encounter-vhr-ex-encounter.json")
    pat = _example("Patient-vhr-ex-patient.json")
    enc["subject"] = {"reference": f"Patient/{pat['id']}"}
    pat.pop("meta", None)  # judged by the reference's targetProfile, not by a claim of its own
    ok = _collection(enc, pat)
    got = {r for r, _ in rules(validator.validate(ok))}
    assert "reference-target-profile" not in got
    bare = patient(id=pat["id"])  # a Patient, but not a vhr-patient (no identifier)
    bad = _collection(enc, bare)
    hit = [i for i in validator.validate(bad) if i.rule == "reference-target-profile"]
    assert [i.location for i in hit] == ["Bundle.entry[0].resource.subject.reference"]
    assert VHR + "vhr-patient" in hit[0].text.en


def test_implementation_guide_global_profiles_apply(tmp_path: Path) -> None:
    ig = {
        "resourceType": "ImplementationGuide",
        "id": "g",
        "url": "http://example.org/ImplementationGuide/g",
        "name": "G",
        "status": "active",
        "packageId": "test.global",
        "fhirVersion": ["4.0.1"],
        "global": [{"type": "Observation", "profile": "http://hl7.org/fhir/StructureDefinition/vitalsigns"}],
    }
    (tmp_path / "package.json").write_bytes(orjson.dumps({"name": "test.global", "version": "0.0.1"}))
    (tmp_path / "ImplementationGuide-g.json").write_bytes(orjson.dumps(ig))
    core = fhirpkg.PackageSet.with_dependencies()
    v = Validator.for_packages(fhirpkg.PackageSet([*core.packages, fhirpkg.load_package(tmp_path)]))
    obs = {
        "resourceType": "Observation",
        "text": patient()["text"],
        "status": "final",
        "code": {"text": "ghi chú"},
    }
    assert errors(Validator.for_packages(core).validate(obs)) == []
    assert ("cardinality-min", "Observation.subject") in rules(v.validate(obs))


def test_canonical_shared_by_two_types_is_accepted_for_either(tmp_path: Path) -> None:
    url = "http://example.org/fhir/shared"
    cs = {"resourceType": "CodeSystem", "id": "s", "url": url, "status": "active", "content": "complete"}
    vs = {"resourceType": "ValueSet", "id": "s", "url": url, "status": "active"}
    (tmp_path / "package.json").write_bytes(orjson.dumps({"name": "test.shared", "version": "0.0.1"}))
    (tmp_path / "CodeSystem-s.json").write_bytes(orjson.dumps(cs))
    (tmp_path / "ValueSet-s.json").write_bytes(orjson.dumps(vs))
    core = fhirpkg.PackageSet.with_dependencies()
    v = Validator.for_packages(fhirpkg.PackageSet([*core.packages, fhirpkg.load_package(tmp_path)]))
    include_vs: dict[str, Any] = {
        "resourceType": "ValueSet",
        "text": patient()["text"],
        "status": "active",
        "compose": {"include": [{"valueSet": [url]}]},  # canonical(ValueSet)
    }
    assert not [i for i in v.validate(include_vs) if i.rule == "canonical-target"]
    include_vs["compose"]["include"][0]["valueSet"] = [
        "http://hl7.org/fhir/administrative-gender"
    ]  # a CodeSystem
    assert [i.rule for i in v.validate(include_vs) if i.rule == "canonical-target"] == ["canonical-target"]
