"""Must-support absence: reported for top-level elements and children of present elements only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from vhr_conformance import fhirpkg
from vhr_conformance.validator import Validator

PAT = "https://vhr-conformance.org/fhir/StructureDefinition/test-ms-patient"
OBS = "https://vhr-conformance.org/fhir/StructureDefinition/test-ms-observation"


def _sd(url: str, typ: str, elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": url,
        "name": "TestMs",
        "status": "draft",
        "kind": "resource",
        "abstract": False,
        "type": typ,
        "baseDefinition": f"http://hl7.org/fhir/StructureDefinition/{typ}",
        "derivation": "constraint",
        "differential": {"element": elements},
    }


def _ms(eid: str, **extra: Any) -> dict[str, Any]:
    path = ".".join(seg.split(":")[0] for seg in eid.split("."))
    return {"id": eid, "path": path, "mustSupport": True, **extra}


PROFILES = [
    _sd(
        PAT,
        "Patient",
        [
            _ms("Patient.contact"),
            _ms("Patient.contact.name"),
            _ms("Patient.contact.name.family"),
            _ms("Patient.contact.telecom"),
            _ms("Patient.communication"),
            _ms("Patient.communication.preferred"),
        ],
    ),
    _sd(
        OBS,
        "Observation",
        [
            _ms("Observation.value[x]"),
            _ms("Observation.value[x]:valueQuantity", sliceName="valueQuantity", type=[{"code": "Quantity"}]),
            _ms("Observation.value[x]:valueQuantity.unit"),
        ],
    ),
]


@pytest.fixture(scope="module")
def v(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    d: Path = tmp_path_factory.mktemp("ig")
    (d / "package.json").write_bytes(orjson.dumps({"name": "test.ms", "version": "0.0.1"}))
    for i, sd in enumerate(PROFILES):
        (d / f"StructureDefinition-{i}.json").write_bytes(orjson.dumps(sd))
    core = fhirpkg.PackageSet.with_dependencies()
    return Validator.for_packages(fhirpkg.PackageSet([*core.packages, fhirpkg.load_package(d)]))


def _absent(v: Validator, res: dict[str, Any]) -> list[str]:
    issues = [i for i in v.validate(res) if i.rule == "must-support"]
    assert all(i.severity == "information" for i in issues)
    return sorted(i.location for i in issues)


def _patient(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "meta": {"profile": [PAT]}, **extra}


def _obs(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "meta": {"profile": [OBS]},
        "status": "final",
        "code": {"text": "x"},
        **extra,
    }


def test_absent_parent_is_one_finding(v: Validator) -> None:
    assert _absent(v, _patient()) == ["Patient.communication", "Patient.contact"]


def test_children_of_present_elements_are_reported(v: Validator) -> None:
    got = _absent(
        v, _patient(contact=[{"gender": "male"}, {"name": {"given": ["An"]}, "telecom": [{"value": "1"}]}])
    )
    assert got == [
        "Patient.communication",
        "Patient.contact[0].name",  # name.family is not reported below the absent name
        "Patient.contact[0].telecom",
        "Patient.contact[1].name.family",
    ]


def test_type_slice_nests_in_its_choice(v: Validator) -> None:
    assert _absent(v, _obs()) == ["Observation.value"]
    assert _absent(v, _obs(valueString="a")) == ["Observation.valueQuantity"]
    assert _absent(v, _obs(valueQuantity={"value": 1})) == ["Observation.valueQuantity.unit"]
    assert _absent(v, _obs(valueQuantity={"value": 1, "unit": "kg"})) == []


def test_vhr_profile_reports_no_descendants_of_absent_elements() -> None:
    enc = {
        "resourceType": "Encounter",
        "meta": {"profile": ["https://vhr-conformance.org/fhir/StructureDefinition/vhr-encounter"]},
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
    }
    got = [i.location for i in Validator.default().validate(enc) if i.rule == "must-support"]
    assert "Encounter.participant" in got
    assert not any(loc.count(".") > 1 for loc in got), got
