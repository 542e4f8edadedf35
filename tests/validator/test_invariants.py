"""Layer 4: invariants from the snapshots, native fast paths and fhirpathpy alike."""

from __future__ import annotations

from typing import Any

import pytest

from vhr_conformance.validator import Validator, engine
from vhr_conformance.validator.fhirpath import NATIVE, ConstraintCompiler, EvalEnv, compile_path
from vhr_conformance.validator.invariants import check_invariants
from vhr_conformance.validator.run import Run

from .util import errors, patient, rules


def test_dom_invariants_on_contained(validator: Validator) -> None:
    inner = {"resourceType": "Organization", "id": "o2", "name": "x"}
    org = {
        "resourceType": "Organization",
        "id": "o1",
        "name": "BV",
        "meta": {"versionId": "1", "security": [{"system": "http://s", "code": "R"}]},
        "contained": [inner],
    }
    got = rules(validator.validate(patient(contained=[org], managingOrganization={"reference": "#o1"})))
    assert ("dom-2", "Patient") in got
    assert ("dom-4", "Patient") in got
    assert ("dom-5", "Patient") in got
    orphan = patient(contained=[{"resourceType": "Organization", "id": "o9", "name": "x"}])
    assert ("dom-3", "Patient") in rules(validator.validate(orphan))


def test_dom_6_is_a_best_practice_warning(validator: Validator) -> None:
    res = patient()
    del res["text"]
    assert ("dom-6", "Patient") not in rules(validator.validate(res), ("warning",))
    assert ("dom-6", "Patient") in rules(validator.validate(res, best_practice=True), ("warning",))


def test_fhirpathpy_invariant_pat_1(validator: Validator) -> None:
    got = rules(validator.validate(patient(contact=[{"gender": "male"}])))
    assert ("pat-1", "Patient.contact[0]") in got
    assert errors(validator.validate(patient(contact=[{"name": {"family": "X"}}]))) == []


def test_per_1_period_order(validator: Validator) -> None:
    bad = {"start": "2024-05-02", "end": "2024-05-01"}
    got = rules(validator.validate(patient(name=[{"family": "X", "period": bad}])))
    assert ("per-1", "Patient.name[0].period") in got
    ok = {"start": "2024-05-01T10:00:00+07:00", "end": "2024-05-01T04:00:00Z"}
    assert errors(validator.validate(patient(name=[{"family": "X", "period": ok}]))) == []


def test_ele_1_structural(validator: Validator) -> None:
    assert ("ele-1", "Patient.name[0]") in rules(validator.validate(patient(name=[{"id": "n1"}])))


def test_ext_1_extension_needs_value_or_children(validator: Validator) -> None:
    ext: dict[str, Any] = {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime"}
    assert ("ext-1", "Patient.extension[0]") in rules(validator.validate(patient(extension=[ext])))


def test_native_invariants_agree_with_fhirpathpy() -> None:
    """Each native implementation gives the fhirpathpy answer on a few focus values."""
    cc = ConstraintCompiler()
    samples: dict[str, tuple[str, list[Any]]] = {
        "per-1": (
            "Period",
            [{"start": "2020-01-01", "end": "2019-01-01"}, {"start": "2020-01-01", "end": "2021-01-01"}],
        ),
        "qty-3": (
            "Quantity",
            [{"code": "kg"}, {"code": "kg", "system": "http://unitsofmeasure.org"}, {"value": 1}],
        ),
        "cpt-2": ("ContactPoint", [{"value": "1"}, {"value": "1", "system": "phone"}]),
        "att-1": ("Attachment", [{"data": "AA=="}, {"data": "AA==", "contentType": "text/plain"}]),
        "obs-6": (
            "Observation",
            [{"dataAbsentReason": {"text": "x"}, "valueString": "x"}, {"valueString": "x"}],
        ),
        "sqty-1": ("Quantity", [{"comparator": "<"}, {"value": 1}]),
        "org-1": ("Organization", [{"name": "x"}, {"active": True}]),
        "bdl-2": (
            "Bundle",
            [
                {"type": "batch", "entry": [{"search": {"mode": "match"}}]},
                {"type": "searchset", "entry": [{"search": {}}]},
            ],
        ),
        "bdl-3": (
            "Bundle",
            [
                {"type": "transaction", "entry": [{"fullUrl": "urn:x"}]},
                {"type": "collection", "entry": [{"fullUrl": "u"}]},
                {"type": "batch", "entry": [{"request": {"method": "GET"}}]},
            ],
        ),
        "bdl-4": (
            "Bundle",
            [
                {"type": "batch-response", "entry": [{"fullUrl": "u"}]},
                {"type": "collection", "entry": [{"response": {}}]},
            ],
        ),
        "bdl-7": (
            "Bundle",
            [
                {"type": "collection", "entry": [{"fullUrl": "a"}, {"fullUrl": "a"}]},
                {
                    "type": "collection",
                    "entry": [
                        {"fullUrl": "a", "resource": {"resourceType": "Patient", "meta": {"versionId": "1"}}},
                        {"fullUrl": "a", "resource": {"resourceType": "Patient", "meta": {"versionId": "2"}}},
                    ],
                },
            ],
        ),
        "bdl-8": (
            "Bundle.entry",
            [
                {"fullUrl": "http://x/Patient/1/_history/2"},
                {"fullUrl": "http://x/Patient/1"},
                {"request": {}},
            ],
        ),
        "drt-1": (
            "Duration",
            [
                {"code": "d", "value": 1},
                {"code": "d", "system": "http://unitsofmeasure.org", "value": 1},
                {"value": 2},
            ],
        ),
    }
    checked = 0
    for (key, expr), fn in NATIVE.items():
        if key not in samples:
            continue
        base, focuses = samples[key]
        slow = cc.compile_one({"key": key, "expression": expr, "severity": "error", "human": ""}, base)
        assert slow is not None
        slow.native, slow.guards = None, ()
        slow.compiled = compile_path(expr, "validator")
        for focus in focuses:
            env = EvalEnv(focus, focus)
            assert fn(focus, env) == slow.evaluate(focus, env), (key, focus)
            checked += 1
    assert checked >= 28


def test_other_pattern_shapes_agree_with_fhirpathpy() -> None:
    cases = {
        "birthDate.exists() implies birthDate <= today()": [
            {"birthDate": "1990-05-01"},
            {"birthDate": "2999-01-01"},
            {"gender": "male"},
            {"birthDate": "1990"},
        ],
        "(period.start.exists() and period.end.exists()) implies period.end >= period.start": [
            {"period": {"start": "2024-01-01T10:00:00+07:00", "end": "2024-01-01T11:00:00+07:00"}},
            {"period": {"start": "2024-01-02", "end": "2024-01-01"}},
            {"period": {"start": "2024-01-02"}},
        ],
    }
    for expr, focuses in cases.items():
        fast = ConstraintCompiler().compile_one(
            {"key": "k", "expression": expr, "severity": "error", "human": ""}, "Patient"
        )
        assert fast is not None and fast.native is not None
        slow = compile_path(expr, "validator")
        for focus in focuses:
            res = slow(focus, EvalEnv(focus, focus))
            assert fast.evaluate(focus, EvalEnv(focus, focus)) == (res[0] if res else False), (expr, focus)


def test_pattern_compiled_invariant_agrees_with_fhirpathpy() -> None:
    expr = "system = 'http://fhir.hl7.org.vn/core/sid/cccd' implies value.matches('^[0-9]{12}$')"
    fast = ConstraintCompiler().compile_one(
        {"key": "k", "expression": expr, "severity": "error", "human": ""}, "Identifier"
    )
    assert fast is not None and fast.native is not None
    slow = compile_path(expr, "validator")
    for focus in (
        {"system": "http://fhir.hl7.org.vn/core/sid/cccd", "value": "001234567890"},
        {"system": "http://fhir.hl7.org.vn/core/sid/cccd", "value": "0012345"},
        {"system": "http://other", "value": "x"},
        {"system": "http://fhir.hl7.org.vn/core/sid/cccd"},
    ):
        res = slow(focus, EvalEnv(focus, focus))
        assert fast.evaluate(focus, EvalEnv(focus, focus)) == (res[0] if res else False), focus


def test_unevaluable_expression_is_a_harness_error_reported_once(validator: Validator) -> None:
    cc = ConstraintCompiler()
    broken = cc.compile_one(
        {"key": "x-1", "severity": "error", "human": "h", "expression": "name.nosuchfn()"}, "Patient"
    )
    unparsable = cc.compile_one(
        {"key": "x-2", "severity": "error", "human": "h", "expression": "name.("}, "Patient"
    )
    assert broken is not None and unparsable is not None
    run = Run(frozenset({"invariants"}))
    res = patient()
    for _ in range(3):
        check_invariants(res, (broken, unparsable), "Patient", run)
    harness = [i for i in run.issues if i.rule == "harness-fhirpath"]
    assert len(harness) == 2
    assert all(i.severity == "error" and i.code == "exception" for i in harness)


def test_native_cccd_invariants_agree_with_fhirpathpy() -> None:
    from vhr_conformance.validator import vnrules

    def pat(cccd: str | None, birth: str | None, gender: str | None) -> dict[str, Any]:
        res: dict[str, Any] = {"resourceType": "Patient"}
        if cccd is not None:
            res["identifier"] = [{"system": vnrules.CCCD, "value": cccd}]
        if birth is not None:
            res["birthDate"] = birth
        if gender is not None:
            res["gender"] = gender
        return res

    samples = [
        pat("001090012345", "1990-05-01", "male"),
        pat("001190012345", "1990-05-01", "female"),
        pat("001090012345", "1990-05-01", "female"),
        pat("001301012345", "2001-02-03", "female"),
        pat("001289012345", "2001-02-03", "male"),
        pat("0010900123", "1990-05-01", "male"),
        pat(None, "1990", "male"),
        pat("001090012345", None, "other"),
    ]
    for key, expr, fn in (
        ("vhr-cccd-3", vnrules.CCCD_3, vnrules._cccd_3),
        ("vhr-cccd-4", vnrules.CCCD_4, vnrules._cccd_4),
    ):
        slow = compile_path(expr, "validator")
        for focus in samples:
            res = slow(focus, EvalEnv(focus, focus))
            assert fn(focus, EvalEnv(focus, focus)) == (res[0] if res else False), (key, focus)


def test_core_errata_que_12(validator: Validator) -> None:
    item = {
        "linkId": "n2",
        "type": "integer",
        "enableWhen": [
            {"question": "n0", "operator": "=", "answerInteger": 1},
            {"question": "n1", "operator": "=", "answerInteger": 1},
        ],
    }
    q = {"resourceType": "Questionnaire", "status": "active", "text": patient()["text"], "item": [item]}
    assert ("que-12", "Questionnaire.item[0]") in rules(validator.validate(q))
    item["enableBehavior"] = "all"
    assert not [i for i in validator.validate(q) if i.rule == "que-12"]


def test_conforms_to_runs_the_profile(validator: Validator) -> None:
    cc = ConstraintCompiler()
    bp = "http://hl7.org/fhir/StructureDefinition/bp"
    c = cc.compile_one(
        {"key": "t-1", "severity": "error", "human": "h", "expression": f"conformsTo('{bp}')"}, "Observation"
    )
    assert c is not None
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
    run = Run(frozenset({"invariants", "profiles"}))
    validator._resource(obs, "Observation", run, None)  # sets up the evaluation environment
    env = EvalEnv(obs, obs, conforms=lambda v, url: validator._conforms(v, url, run))
    assert c.evaluate(obs, env) is False  # no BP components, wrong code: does not conform


def test_resolve_inside_bundle_entries(validator: Validator, monkeypatch: pytest.MonkeyPatch) -> None:
    cc = ConstraintCompiler()
    c = cc.compile_one(
        {
            "key": "t-2",
            "severity": "error",
            "human": "h",
            "expression": "managingOrganization.resolve().name.exists()",
        },
        "Patient",
    )
    assert c is not None
    org_url = "urn:uuid:0b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a41"
    pat = patient(managingOrganization={"reference": org_url})
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:0b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a42", "resource": pat},
            {"fullUrl": org_url, "resource": {"resourceType": "Organization", "name": "BV Bạch Mai"}},
        ],
    }
    seen: list[bool] = []
    original = engine.check_invariants

    def spy(focus: Any, constraints: Any, loc: str, run: Run, skip: Any = None) -> None:
        if focus is pat and run.env is not None:
            seen.append(c.evaluate(pat, run.env))
        original(focus, constraints, loc, run, skip)

    monkeypatch.setattr(engine, "check_invariants", spy)  # the walk's invariant layer
    validator.validate(bundle)
    assert seen and all(seen)
