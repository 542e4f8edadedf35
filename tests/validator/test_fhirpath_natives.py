"""Native invariants added with the engine agree with the engine itself on sample values."""

from __future__ import annotations

from typing import Any

import pytest

from vhr_conformance.validator.fhirpath import NATIVE, ConstraintCompiler, EvalEnv, compile_path

UCUM = "http://unitsofmeasure.org"
AIT = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
CON = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def cc(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


SAMPLES: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "age-1": (
        "Age",
        [
            {"value": 40, "system": UCUM, "code": "a"},
            {"value": 0, "system": UCUM, "code": "a"},
            {"value": -1, "system": UCUM, "code": "a"},
            {"value": 40, "system": "http://other", "code": "a"},
            {"value": 40, "unit": "years"},
            {"unit": "years"},
            {"system": UCUM},
            {"_value": {"extension": [{"url": "u", "valueString": "x"}]}, "code": "a", "system": UCUM},
            {"value": 2.5, "code": "a"},
        ],
    ),
    "ait-1": (
        "AllergyIntolerance",
        [
            {"verificationStatus": cc(AIT, "entered-in-error")},
            {"verificationStatus": cc(AIT, "confirmed")},
            {"verificationStatus": cc(AIT, "confirmed"), "clinicalStatus": cc("x", "active")},
            {},
        ],
    ),
    "ait-2": (
        "AllergyIntolerance",
        [
            {"verificationStatus": cc(AIT, "entered-in-error"), "clinicalStatus": cc("x", "active")},
            {"verificationStatus": cc(AIT, "entered-in-error")},
            {"verificationStatus": cc("http://other", "entered-in-error"), "clinicalStatus": cc("x", "a")},
            {"clinicalStatus": cc("x", "active")},
        ],
    ),
    "con-4": (
        "Condition",
        [
            {"abatementDateTime": "2020-01-01", "clinicalStatus": cc(CON, "resolved")},
            {"abatementDateTime": "2020-01-01", "clinicalStatus": cc(CON, "active")},
            {"abatementString": "khỏi", "clinicalStatus": cc(CON, "remission")},
            {"abatementAge": {"value": 3}},
            {"clinicalStatus": cc(CON, "active")},
        ],
    ),
}


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_native_agrees_with_the_engine(key: str) -> None:
    (expr,) = [e for k, e in NATIVE if k == key]
    base, focuses = SAMPLES[key]
    slow = ConstraintCompiler().compile_one(
        {"key": key, "expression": expr, "severity": "error", "human": ""}, base
    )
    assert slow is not None and slow.native is not None
    native = slow.native
    slow.native, slow.guards = None, ()
    slow.compiled = compile_path(expr, "validator")
    outcomes = set()
    for focus in focuses:
        res = {"resourceType": base, **focus} if base[0].isupper() and base != "Age" else focus
        env = EvalEnv(res, res)
        want = slow.evaluate(res, env)
        assert native(res, env) == want, (key, focus)
        outcomes.add(want)
    assert outcomes == {True, False}  # the samples exercise both answers
