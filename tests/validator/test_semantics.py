"""Rules spanning two resources: cohort MeasureReports, SearchParameter bases and derivation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from vhr_conformance import fhirpkg
from vhr_conformance.validator import Validator

from .util import rules

BASE = "https://vhr-conformance.org/fhir"


def _measure(mid: str, scoring: str) -> dict[str, Any]:
    return {
        "resourceType": "Measure",
        "id": mid,
        "url": f"{BASE}/Measure/{mid}",
        "status": "draft",
        "scoring": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-scoring", "code": scoring}]
        },
    }


@pytest.fixture(scope="module")
def v(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    d: Path = tmp_path_factory.mktemp("ig")
    (d / "package.json").write_bytes(orjson.dumps({"name": "test.semantics", "version": "0.0.1"}))
    for mid, scoring in (("so-giuong", "cohort"), ("ty-le-tiem", "proportion")):
        (d / f"Measure-{mid}.json").write_bytes(orjson.dumps(_measure(mid, scoring)))
    core = fhirpkg.PackageSet.with_dependencies()
    return Validator.for_packages(fhirpkg.PackageSet([*core.packages, fhirpkg.load_package(d)]))


def _report(measure: str, score: bool) -> dict[str, Any]:
    group: dict[str, Any] = {
        "population": [
            {
                "code": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/measure-population",
                            "code": "initial-population",
                        }
                    ]
                },
                "count": 42,
            }
        ],
    }
    if score:
        group["measureScore"] = {"value": 42}
    return {
        "resourceType": "MeasureReport",
        "status": "complete",
        "type": "summary",
        "measure": f"{BASE}/Measure/{measure}",
        "period": {"start": "2025-01-01", "end": "2025-12-31"},
        "group": [group],
    }


def _rule_set(issues: list[Any], prefix: str) -> set[tuple[str, str]]:
    return {(r, loc) for r, loc in rules(issues) if r.startswith(prefix)}


def test_cohort_measure_report_has_no_score(v: Validator) -> None:
    assert _rule_set(v.validate(_report("so-giuong", score=False)), "measure-") == set()
    assert _rule_set(v.validate(_report("so-giuong", score=True)), "measure-") == {
        ("measure-cohort-score", "MeasureReport.group[0].measureScore")
    }
    assert _rule_set(v.validate(_report("ty-le-tiem", score=True)), "measure-") == set()
    # a Measure that is not loaded proves nothing
    assert _rule_set(v.validate(_report("khong-co", score=True)), "measure-") == set()


def _sp(**extra: Any) -> dict[str, Any]:
    sp: dict[str, Any] = {
        "resourceType": "SearchParameter",
        "url": f"{BASE}/SearchParameter/test-name",
        "name": "TestName",
        "status": "draft",
        "description": "Tên cơ sở",
        "code": "name",
        "base": ["Organization"],
        "type": "string",
        "expression": "Organization.name | Organization.alias",
    }
    sp.update(extra)
    return sp


def test_search_parameter_expression_starts_from_its_bases(v: Validator) -> None:
    assert _rule_set(v.validate(_sp()), "searchparameter-") == set()
    assert (
        _rule_set(
            v.validate(
                _sp(
                    base=["Organization", "Practitioner"],
                    expression="Organization.name | (Practitioner.name)",
                )
            ),
            "searchparameter-",
        )
        == set()
    )
    got = _rule_set(v.validate(_sp(base=["Patient"])), "searchparameter-")
    assert got == {("searchparameter-expression-base", "SearchParameter.expression")}
    # a type named inside the expression (not leading a branch) is not a base
    ok = _sp(
        base=["Encounter"],
        code="subject",
        type="reference",
        expression="Encounter.subject.where(resolve() is Patient)",
    )
    assert _rule_set(v.validate(ok), "searchparameter-") == set()


def test_derived_search_parameter_keeps_to_the_origin_bases(v: Validator) -> None:
    derived = _sp(derivedFrom="http://hl7.org/fhir/SearchParameter/Organization-name")
    assert _rule_set(v.validate(derived), "searchparameter-") == set()
    widened = _sp(
        derivedFrom="http://hl7.org/fhir/SearchParameter/Organization-name",
        base=["Organization", "Location"],
        expression="Organization.name | Location.name",
    )
    assert _rule_set(v.validate(widened), "searchparameter-") == {
        ("searchparameter-derived-base", "SearchParameter.base")
    }


def _temp(*codings: dict[str, str], **extra: Any) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "t1",
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">37 °C</div>'},
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
        "code": {"coding": list(codings)},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2025-03-02T08:00:00+07:00",
        "valueQuantity": {"value": 37.2, "unit": "°C", "system": "http://unitsofmeasure.org", "code": "Cel"},
    }
    obs.update(extra)
    return obs


LOINC_TEMP = {"system": "http://loinc.org", "code": "8310-5"}
SNOMED_TEMP = {"system": "http://snomed.info/sct", "code": "276885007"}


def test_vital_sign_codes_bring_the_core_vital_signs_profile_as_advice(v: Validator) -> None:
    from .util import errors

    def warned(res: dict[str, Any]) -> set[tuple[str, str]]:
        return rules(v.validate(res), ("warning",))

    assert errors(v.validate(_temp(LOINC_TEMP, SNOMED_TEMP))) == []
    assert ("cardinality-min", "Observation.code.coding") not in warned(_temp(LOINC_TEMP, SNOMED_TEMP))
    # SNOMED CT body temperature alone: the bodytemp profile's LOINC slice is missing (a warning:
    # the reference server accepts vital signs under the sender's own profiles)
    only_snomed = v.validate(_temp(SNOMED_TEMP))
    assert ("cardinality-min", "Observation.code.coding") in rules(only_snomed, ("warning",))
    assert errors(only_snomed) == []
    # no subject: vital signs ask for one, plain Observations do not
    no_subject = _temp(LOINC_TEMP)
    del no_subject["subject"]
    assert ("cardinality-min", "Observation.subject") in warned(no_subject)
    other = _temp({"system": "http://loinc.org", "code": "2339-0"})
    del other["subject"]
    assert ("cardinality-min", "Observation.subject") not in warned(other)
    # must-support of an implied profile is not reported
    assert not [i for i in v.validate(_temp(LOINC_TEMP)) if i.rule == "must-support"]


def test_declared_profile_deriving_from_vital_signs_is_not_doubled() -> None:
    # the VHR body-weight profile derives from core bodyweight: only its own (error) findings appear
    v = Validator.default()
    obs = _temp(
        {"system": "http://loinc.org", "code": "29463-7"},
        meta={
            "profile": ["https://vhr-conformance.org/fhir/StructureDefinition/vhr-observation-body-weight"]
        },
        valueQuantity={"value": 61, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
    )
    del obs["subject"]
    issues = v.validate(obs)
    assert ("cardinality-min", "Observation.subject") in rules(issues)
    assert ("cardinality-min", "Observation.subject") not in rules(issues, ("warning",))
