"""Slicing, fixed values and differential-only profiles, on a small synthetic IG written here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from vhr_conformance import fhirpkg
from vhr_conformance.validator import Validator

from .util import errors, patient, rules

URL = "https://vhr-conformance.org/fhir/StructureDefinition/test-sliced-patient"
CCCD = "http://fhir.hl7.org.vn/core/sid/cccd"
BHYT = "http://fhir.hl7.org.vn/core/sid/bhyt"
PROFILE: dict[str, Any] = {
    "resourceType": "StructureDefinition",
    "url": URL,
    "name": "TestSlicedPatient",
    "status": "draft",
    "kind": "resource",
    "abstract": False,
    "type": "Patient",
    "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
    "derivation": "constraint",
    "differential": {
        "element": [
            {
                "id": "Patient.identifier",
                "path": "Patient.identifier",
                "slicing": {
                    "discriminator": [{"type": "value", "path": "system"}],
                    "rules": "closed",
                    "ordered": True,
                },
                "min": 1,
            },
            {
                "id": "Patient.identifier:cccd",
                "path": "Patient.identifier",
                "sliceName": "cccd",
                "min": 1,
                "max": "1",
            },
            {"id": "Patient.identifier:cccd.system", "path": "Patient.identifier.system", "fixedUri": CCCD},
            {
                "id": "Patient.identifier:cccd.value",
                "path": "Patient.identifier.value",
                "min": 1,
                "maxLength": 12,
            },
            {
                "id": "Patient.identifier:bhyt",
                "path": "Patient.identifier",
                "sliceName": "bhyt",
                "min": 0,
                "max": "1",
            },
            {"id": "Patient.identifier:bhyt.system", "path": "Patient.identifier.system", "fixedUri": BHYT},
            {"id": "Patient.gender", "path": "Patient.gender", "min": 1, "patternCode": "female"},
            {"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1},
            {"id": "Patient.deceased[x]", "path": "Patient.deceased[x]", "type": [{"code": "boolean"}]},
        ]
    },
}


@pytest.fixture(scope="module")
def v(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    d: Path = tmp_path_factory.mktemp("ig")
    (d / "package.json").write_bytes(orjson.dumps({"name": "test.sliced", "version": "0.0.1"}))
    (d / "StructureDefinition-test-sliced-patient.json").write_bytes(orjson.dumps(PROFILE))
    core = fhirpkg.PackageSet.with_dependencies()
    return Validator.for_packages(fhirpkg.PackageSet([*core.packages, fhirpkg.load_package(d)]))


def _p(*identifiers: tuple[str, str], **extra: Any) -> dict[str, Any]:
    res = patient(gender="female", identifier=[{"system": s, "value": val} for s, val in identifiers])
    res["meta"] = {"profile": [URL]}
    res.update(extra)
    return res


def test_conforming_instance(v: Validator) -> None:
    assert errors(v.validate(_p((CCCD, "001190012345"), (BHYT, "HT2010186313990")))) == []


def test_required_slice_missing(v: Validator) -> None:
    assert ("cardinality-min", "Patient.identifier") in rules(v.validate(_p((BHYT, "HT2010186313990"))))


def test_closed_and_ordered_slicing(v: Validator) -> None:
    got = rules(v.validate(_p((CCCD, "001190012345"), ("http://other", "1"))))
    assert ("slice-closed", "Patient.identifier[1]") in got
    got = rules(v.validate(_p((BHYT, "HT2010186313990"), (CCCD, "001190012345"))))
    assert ("slice-order", "Patient.identifier[1]") in got


def test_slice_max_and_child_constraints(v: Validator) -> None:
    got = rules(v.validate(_p((CCCD, "001190012345"), (CCCD, "0011900123456789"))))
    assert ("cardinality-max", "Patient.identifier") in got
    assert ("max-length", "Patient.identifier[1].value") in got


def test_pattern_cardinality_and_type_restriction(v: Validator) -> None:
    res = _p((CCCD, "001190012345"), gender="male", deceasedDateTime="2020-01-01")
    del res["birthDate"]
    got = rules(v.validate(res))
    assert ("pattern-value", "Patient.gender") in got
    assert ("cardinality-min", "Patient.birthDate") in got
    assert ("type-not-allowed", "Patient.deceasedDateTime") in got
