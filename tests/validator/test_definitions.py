"""Checks on constraint StructureDefinitions being authored: element paths, inherited fixed values, bindings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from vhr_conformance import fhirpkg
from vhr_conformance.validator import Validator

from .util import rules

BASE_EXT = "https://vhr-conformance.org/fhir/StructureDefinition/test-def-base-ext"


def _sd(
    url: str, typ: str, base: str, elements: list[dict[str, Any]], kind: str = "resource"
) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": url,
        "name": "TestDef",
        "status": "draft",
        "kind": kind,
        "abstract": False,
        "type": typ,
        "baseDefinition": base,
        "derivation": "constraint",
        "differential": {"element": elements},
    }


BASE_EXTENSION = _sd(
    BASE_EXT,
    "Extension",
    "http://hl7.org/fhir/StructureDefinition/Extension",
    [
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": BASE_EXT},
        {"id": "Extension.value[x]", "path": "Extension.value[x]", "type": [{"code": "Coding"}]},
    ],
    kind="complex-type",
)


@pytest.fixture(scope="module")
def v(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    d: Path = tmp_path_factory.mktemp("ig")
    (d / "package.json").write_bytes(orjson.dumps({"name": "test.def", "version": "0.0.1"}))
    (d / "StructureDefinition-base-ext.json").write_bytes(orjson.dumps(BASE_EXTENSION))
    core = fhirpkg.PackageSet.with_dependencies()
    return Validator.for_packages(fhirpkg.PackageSet([*core.packages, fhirpkg.load_package(d)]))


def _patient_profile(*elements: dict[str, Any]) -> dict[str, Any]:
    return _sd(
        "https://vhr-conformance.org/fhir/StructureDefinition/test-def-patient",
        "Patient",
        "http://hl7.org/fhir/StructureDefinition/Patient",
        list(elements),
    )


def _sd_rules(issues: list[Any]) -> set[tuple[str, str]]:
    return {(r, loc) for r, loc in rules(issues) if r.startswith("sd-")}


def test_valid_paths_are_accepted(v: Validator) -> None:
    sd = _patient_profile(
        {"id": "Patient.identifier", "path": "Patient.identifier", "min": 1},
        {
            "id": "Patient.identifier.system",
            "path": "Patient.identifier.system",
            "min": 1,
        },  # into a data type
        {"id": "Patient.deceased[x]", "path": "Patient.deceased[x]", "type": [{"code": "boolean"}]},
        {"id": "Patient.contact.name.family", "path": "Patient.contact.name.family", "min": 1},  # backbone
        {"id": "Patient.birthDate.extension", "path": "Patient.birthDate.extension", "max": "1"},
        {
            "id": "Patient.gender",
            "path": "Patient.gender",
            "binding": {
                "strength": "required",
                "valueSet": "http://hl7.org/fhir/ValueSet/administrative-gender",
            },
        },
    )
    assert _sd_rules(v.validate(sd)) == set()


def test_unknown_paths_are_errors(v: Validator) -> None:
    sd = _patient_profile(
        {"id": "Patient.birthday", "path": "Patient.birthday", "min": 1},
        {"id": "Patient.identifier.sytem", "path": "Patient.identifier.sytem", "min": 1},
        {"id": "Patient.deceasedString", "path": "Patient.deceasedString"},  # no such choice type
        {"id": "Patient.deceasedBoolean", "path": "Patient.deceasedBoolean"},  # a legal rename
        {"id": "Observation.status", "path": "Observation.status"},  # another type entirely
    )
    got = _sd_rules(v.validate(sd))
    assert got == {
        ("sd-path-unknown", f"StructureDefinition.differential.element[{i}]") for i in (0, 1, 2, 4)
    }


def test_inherited_fixed_value_cannot_change(v: Validator) -> None:
    derived = "https://vhr-conformance.org/fhir/StructureDefinition/test-def-derived-ext"
    same = _sd(
        derived,
        "Extension",
        BASE_EXT,
        [{"id": "Extension.url", "path": "Extension.url", "fixedUri": BASE_EXT}],
        kind="complex-type",
    )
    assert _sd_rules(v.validate(same)) == set()
    changed = _sd(
        derived,
        "Extension",
        BASE_EXT,
        [{"id": "Extension.url", "path": "Extension.url", "fixedUri": derived}],
        kind="complex-type",
    )
    assert _sd_rules(v.validate(changed)) == {
        ("sd-fixed-conflict", "StructureDefinition.differential.element[0]")
    }


def test_binding_on_a_type_without_codes(v: Validator) -> None:
    sd = _patient_profile(
        {
            "id": "Patient.birthDate",
            "path": "Patient.birthDate",
            "binding": {
                "strength": "required",
                "valueSet": "http://hl7.org/fhir/ValueSet/administrative-gender",
            },
        },
    )
    assert _sd_rules(v.validate(sd)) == {("sd-binding-type", "StructureDefinition.differential.element[0]")}


def test_core_and_vhr_profiles_are_clean() -> None:
    v = Validator.default()
    checked = 0
    for _pkg, entry in v.packages.entries("StructureDefinition"):
        if not entry.url or (
            "vhr-conformance.org" not in entry.url and not entry.url.endswith(("/vitalsigns", "/bp"))
        ):
            continue
        sd = v.packages.get(entry.url)
        if isinstance(sd, dict) and sd.get("derivation") == "constraint":
            checked += 1
            assert _sd_rules(v.validate(sd)) == set(), entry.url
    assert checked > 5


def test_discriminator_paths_name_elements_of_the_sliced_type(v: Validator) -> None:
    def sliced(dpath: str, path: str = "Patient.identifier") -> dict[str, Any]:
        return _patient_profile(
            {
                "id": path,
                "path": path,
                "slicing": {"discriminator": [{"type": "value", "path": dpath}], "rules": "open"},
            },
        )

    for ok in ("system", "type.coding.code", "$this", "url", "extension('http://example.org/x').value"):
        path = "Patient.extension" if ok in ("url",) or ok.startswith("extension(") else "Patient.identifier"
        assert _sd_rules(v.validate(sliced(ok, path))) == set(), ok
    assert _sd_rules(v.validate(sliced("value", "Patient.extension"))) == set()  # the value[x] choice
    bad = "StructureDefinition.differential.element[0].slicing.discriminator[0]"
    assert _sd_rules(v.validate(sliced("sytem"))) == {("sd-discriminator-path", bad)}
    assert _sd_rules(v.validate(sliced("type", "Patient.extension"))) == {("sd-discriminator-path", bad)}
