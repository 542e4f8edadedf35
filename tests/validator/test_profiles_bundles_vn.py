"""Layers 3, 6 and 7: profiles (slicing, patterns, must-support), bundle references, VN rules."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from vhr_conformance.validator import Validator

from .util import errors, patient, rules

BASE = "https://vhr-conformance.org/fhir"
BP = "http://hl7.org/fhir/StructureDefinition/bp"


def _bp(*codes: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "bp",
        "meta": {"profile": [BP]},
        "text": patient()["text"],
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-08-02T14:25:00+07:00",
        "component": [
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": c}]},
                "valueQuantity": {
                    "value": 120,
                    "unit": "mmHg",
                    "system": "http://unitsofmeasure.org",
                    "code": "mm[Hg]",
                },
            }
            for c in codes
        ],
    }


def test_core_profile_slicing_by_pattern(validator: Validator) -> None:
    assert errors(validator.validate(_bp("8480-6", "8462-4"))) == []
    got = rules(validator.validate(_bp("8480-6", "8480-6")))
    assert ("cardinality-max", "Observation.component") in got
    assert ("cardinality-min", "Observation.component") in got


def test_profile_required_slice_and_fixed_value(validator: Validator) -> None:
    res = _bp("8480-6", "8462-4")
    res["code"]["coding"][0]["code"] = "1234-5"
    # core bp slices code.coding with a fixed LOINC code: the required slice is missing
    assert ("cardinality-min", "Observation.code.coding") in rules(validator.validate(res))
    res = _bp("8480-6", "8462-4")
    res["component"][0]["valueQuantity"]["code"] = "kg"
    assert ("fixed-value", "Observation.component[0].valueQuantity.code") in rules(validator.validate(res))


def test_must_support_is_information(validator: Validator) -> None:
    info = [i for i in validator.validate(_bp("8480-6", "8462-4")) if i.rule == "must-support"]
    assert info and all(i.severity == "information" for i in info)


def test_explicit_and_unknown_profiles(validator: Validator) -> None:
    res = _bp("8480-6", "8462-4")
    del res["meta"]
    assert errors(validator.validate(res, profiles=[BP])) == []
    res["component"].pop()
    assert ("cardinality-min", "Observation.component") in rules(validator.validate(res, profiles=[BP]))
    got = rules(validator.validate(patient(meta={"profile": ["http://example.org/nope"]})), ("warning",))
    assert ("profile-unknown", "Patient") in got


def test_extension_checked_against_its_definition(validator: Validator) -> None:
    ext = {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueString": "10:00"}
    got = rules(validator.validate(patient(extension=[ext])))
    assert ("type-not-allowed", "Patient.extension[0].valueString") in got
    unknown = {"url": "http://example.org/ext", "valueString": "x"}
    assert ("extension-unknown", "Patient.extension[0]") in rules(
        validator.validate(patient(extension=[unknown]))
    )


def _bundle(btype: str, entries: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": btype,
        "entry": [
            {
                "fullUrl": fu,
                "resource": r,
                **(
                    {"request": {"method": "POST", "url": r["resourceType"]}}
                    if btype == "transaction"
                    else {}
                ),
            }
            for fu, r in entries
        ],
    }


def test_bundle_references_resolve_with_types(validator: Validator) -> None:
    pid = "urn:uuid:6f1c2b9e-0d7a-4c51-9a53-2f7e4a1b8c01"
    oid = "urn:uuid:6f1c2b9e-0d7a-4c51-9a53-2f7e4a1b8c02"
    org = {"resourceType": "Organization", "name": "BV", "text": patient()["text"]}
    good = _bundle("transaction", [(pid, patient(managingOrganization={"reference": oid})), (oid, org)])
    assert errors(validator.validate(good)) == []
    missing = _bundle("transaction", [(pid, patient(managingOrganization={"reference": oid[:-1] + "9"}))])
    assert ("reference-unresolved", "Bundle.entry[0].resource.managingOrganization.reference") in rules(
        validator.validate(missing)
    )
    wrong = _bundle(
        "transaction", [(pid, patient(managingOrganization={"reference": oid})), (oid, patient())]
    )
    assert ("reference-target", "Bundle.entry[0].resource.managingOrganization.reference") in rules(
        validator.validate(wrong)
    )


def test_bundle_entry_locations_and_fullurl(validator: Validator) -> None:
    bad = _bundle("collection", [("Patient/1", patient(foo=1))])
    got = rules(validator.validate(bad))
    assert ("unknown-element", "Bundle.entry[0].resource.foo") in got
    assert ("bundle-fullurl-absolute", "Bundle.entry[0].fullUrl") in got


def _address(province: str, commune: str) -> dict[str, Any]:
    return {
        "extension": [
            {
                "url": f"{BASE}/StructureDefinition/vhr-address-province",
                "valueCoding": {"system": f"{BASE}/CodeSystem/vhr-province", "code": province},
            },
            {
                "url": f"{BASE}/StructureDefinition/vhr-address-commune",
                "valueCoding": {"system": f"{BASE}/CodeSystem/vhr-commune", "code": commune},
            },
        ],
        "text": "x",
    }


def test_vn_addr_001_commune_in_province(validator: Validator) -> None:
    cs = validator.terminology.code_system(f"{BASE}/CodeSystem/vhr-commune")
    if cs is None:
        pytest.skip("VHR IG package (vhr-commune) not available")
    commune, props = next(iter(cs.properties.items()))
    province = str(props["province"])
    other = next(str(p["province"]) for p in cs.properties.values() if str(p["province"]) != province)
    assert not [
        i
        for i in validator.validate(patient(address=[_address(province, commune)]))
        if i.rule == "VN-ADDR-001"
    ]
    got = [
        i for i in validator.validate(patient(address=[_address(other, commune)])) if i.rule == "VN-ADDR-001"
    ]
    assert [(i.severity, i.location) for i in got] == [("error", "Patient.address[0].extension[1]")]
    assert commune in got[0].text.vi and commune in got[0].text.en


def test_issue_objects_are_immutable_and_relocatable(validator: Validator) -> None:
    issue = validator.validate(patient(foo=1))[0]
    moved = issue.relocated("Bundle.entry[2].resource", "Patient")
    assert moved.location == "Bundle.entry[2].resource.foo"
    with pytest.raises(AttributeError):
        issue.severity = "warning"  # type: ignore[misc]
    assert copy.copy(issue) == issue and orjson.dumps(issue.as_dict())
