"""Layer 5: offline terminology: bindings, code systems, displays, ICD-10."""

from __future__ import annotations

from vhr_conformance.validator import Validator

from .util import errors, patient, rules

ICD10 = "http://hl7.org/fhir/sid/icd-10"


def _condition(code: str, system: str = ICD10, display: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {
        "resourceType": "Condition",
        "id": "c1",
        "text": patient()["text"],
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "code": {"coding": [coding]},
        "subject": {"reference": "Patient/p1"},
    }


def test_required_binding_on_code(validator: Validator) -> None:
    assert ("binding-required", "Patient.gender") in rules(validator.validate(patient(gender="nam")))


def test_required_binding_on_codeable_concept(validator: Validator) -> None:
    res = _condition("J18.9")
    res["clinicalStatus"]["coding"][0]["code"] = "bogus"
    got = rules(validator.validate(res))
    assert ("binding-required", "Condition.clinicalStatus") in got
    assert ("code-unknown", "Condition.clinicalStatus.coding[0].code") in got


def test_extensible_binding_is_a_warning(validator: Validator) -> None:
    ident = {
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NI"}]},
        "value": "1",
    }
    issues = validator.validate(patient(identifier=[ident]))
    assert ("binding-extensible", "Patient.identifier[0].type") in rules(issues, ("warning",))
    assert errors(issues) == []


def test_display_mismatch_is_an_error_as_in_hl7(validator: Validator) -> None:
    res = _condition("J18.9")
    res["clinicalStatus"]["coding"][0]["display"] = "Sai tên"
    issues = validator.validate(res)
    assert ("display-mismatch", "Condition.clinicalStatus.coding[0].display") in rules(issues)
    lowered = validator.validate(res, display="warning")
    assert ("display-mismatch", "Condition.clinicalStatus.coding[0].display") in rules(lowered, ("warning",))
    assert errors(lowered) == []
    res["clinicalStatus"]["coding"][0]["display"] = "ACTIVE"  # case does not matter
    assert not [i for i in validator.validate(res) if i.rule == "display-mismatch"]


def test_icd10_known_and_unknown(validator: Validator) -> None:
    assert not [i for i in validator.validate(_condition("J18.9")) if i.rule == "VN-ICD-001"]
    issues = validator.validate(_condition("U99.9"))
    hit = [i for i in issues if i.rule == "VN-ICD-001"]
    assert len(hit) == 1 and hit[0].severity == "warning"
    assert "Việt Nam" in hit[0].text.vi and "Vietnamese extension" in hit[0].text.en


def test_unknown_system_is_not_judged(validator: Validator) -> None:
    assert errors(validator.validate(_condition("X1", system="http://example.org/codes"))) == []


def test_valueset_expansion_filters(validator: Validator) -> None:
    term = validator.terminology
    exp = term.expand("http://hl7.org/fhir/ValueSet/administrative-gender")
    assert exp is not None and exp.contains("http://hl7.org/fhir/administrative-gender", "male") is True
    assert exp.contains(None, "nam") is False
    loinc = term.expand("http://hl7.org/fhir/ValueSet/observation-codes")
    assert (
        loinc is not None and loinc.contains("http://loinc.org", "8480-6") is None
    )  # open: not enumerable offline
