"""Malformed values give one located error and no cascade; several identifiers still evaluate."""

from __future__ import annotations

from typing import Any

import pytest

from vhr_conformance.names import SID_BHYT, SID_CCCD
from vhr_conformance.validator import Validator

PROFILE = "https://vhr-conformance.org/fhir/StructureDefinition/vhr-patient"


@pytest.fixture(scope="module")
def validator() -> Validator:
    try:
        return Validator.default()
    except Exception as exc:
        pytest.skip(f"validator not available: {exc}")


def _patient(ids: list[tuple[str, str]], birth: str, gender: str = "male") -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "meta": {"profile": [PROFILE]},
        "identifier": [{"system": s, "value": v} for s, v in ids],
        "name": [{"family": "Trần", "given": ["Thị", "Lan"]}],
        "gender": gender,
        "birthDate": birth,
    }


def _errors(validator: Validator, res: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i.rule, i.location) for i in validator.validate(res) if i.severity in ("error", "fatal")]


def test_two_cccd_identifiers_are_judged_not_a_harness_error(validator: Validator) -> None:
    # the profile's cccd slice is 0..1 (cardinality-max says so, once); the invariants still judge
    ok = _patient([(SID_CCCD, "001090123456"), (SID_CCCD, "079090654321")], "1990-05-14")
    assert _errors(validator, ok) == [("cardinality-max", "Patient.identifier")]
    bad = _patient([(SID_CCCD, "001090123456"), (SID_CCCD, "079190654321")], "1990-05-14")
    found = _errors(validator, bad)
    assert ("vhr-cccd-3", "Patient") in found
    assert not any(r == "harness-fhirpath" for r, _ in found)


def test_malformed_cccd_is_one_error_at_the_identifier(validator: Validator) -> None:
    res = _patient([(SID_CCCD, "00A09012345")], "1990-05-14")
    found = _errors(validator, res)
    assert [r for r, _ in found if r.startswith("vhr-")] == ["vhr-cccd-1"]
    assert ("vhr-cccd-1", "Patient.identifier[0]") in found


def test_malformed_birth_date_brings_no_cccd_companion(validator: Validator) -> None:
    res = _patient([(SID_CCCD, "001090123456")], "1990-13-45")
    rules = [r for r, _ in _errors(validator, res)]
    assert rules and not any(r.startswith("vhr-cccd") for r in rules), rules
    assert "harness-fhirpath" not in rules


def test_malformed_card_is_one_error(validator: Validator) -> None:
    res = _patient([(SID_CCCD, "001090123456"), (SID_BHYT, "HC401012345")], "1990-05-14")
    found = [(r, loc) for r, loc in _errors(validator, res) if r.startswith("vhr-")]
    assert found == [("vhr-bhyt-1", "Patient.identifier[1]")]
