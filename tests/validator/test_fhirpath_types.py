"""The FHIRPath type system on FHIR data (FHIRPath N1 §6.3 and §10, FHIR R4 §2.1.9), from the
specifications' text: ``is``/``as``/``ofType``/``type()`` on whole resources, elements and literals."""

from __future__ import annotations

from typing import Any

import pytest

from vhr_conformance.validator.fhirpath import EvalEnv, FhirPathError, evaluate


def one(data: Any, expr: str) -> Any:
    out = evaluate(data, expr, EvalEnv(data, data) if isinstance(data, dict) else None)
    assert len(out) == 1, (expr, out)
    return out[0]


PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p1",
    "active": True,
    "gender": "female",
    "birthDate": "1990-05-14",
    "name": [{"family": "Nguyễn", "given": ["Thị", "Lan"]}],
}


# "is: If the left operand is ... of the type specified in the second operand, or a subtype thereof,
# the result is true" (§6.3.1); Patient specialises DomainResource, which specialises Resource.
@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("$this is Patient", True),
        ("$this is FHIR.Patient", True),
        ("$this is DomainResource", True),
        ("$this is Resource", True),
        ("$this is Observation", False),
        ("$this.is(Patient)", True),
        ("$this.as(Patient).id", "p1"),
        ("$this.ofType(DomainResource).id", "p1"),
        ("$this.type().name", "Patient"),
        ("$this.type().namespace", "FHIR"),
    ],
)
def test_whole_resource_is_of_its_resource_type(expr: str, want: Any) -> None:
    assert one(PATIENT, expr) == want


# FHIR §2.1.9: data read from a resource has FHIR types; a primitive such as code specialises string.
@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("birthDate is date", True),
        ("birthDate is FHIR.date", True),
        ("birthDate is dateTime", False),
        ("active is boolean", True),
        ("gender is code", True),
        ("gender is string", True),
        ("gender is id", False),
        ("gender.as(code)", "female"),
        ("name.first() is HumanName", True),
        ("name.first().type().name", "HumanName"),
        ("birthDate.type().namespace", "FHIR"),
    ],
)
def test_elements_have_fhir_types(expr: str, want: Any) -> None:
    assert one(PATIENT, expr) == want


# §6.3: literals and computed values are System types; an unqualified name is looked up in the
# model first, then in System.
@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("1 is Integer", True),
        ("1 is System.Integer", True),
        ("1.0 is Decimal", True),
        ("1.0 is Integer", False),
        ("'a' is String", True),
        ("@2020-01-02 is Date", True),
        ("@2020-01-02T10:00:00 is DateTime", True),
        ("@T10:00 is Time", True),
        ("1 'mg' is Quantity", True),
        ("true.type().namespace", "System"),
        ("1.type().name", "Integer"),
    ],
)
def test_literals_have_system_types(expr: str, want: Any) -> None:
    assert one(None, expr) == want


def test_a_subtype_data_type_is_its_base_type() -> None:
    # Age is a profile of Quantity in R4 (its StructureDefinition's baseDefinition), not a Duration.
    ext = {
        "resourceType": "Observation",
        "extension": [{"url": "http://example.org/age", "valueAge": {"value": 40, "code": "a"}}],
    }
    assert one(ext, "extension.value is Age") is True
    assert one(ext, "extension.value is Quantity") is True
    assert one(ext, "extension.value is Duration") is False


def test_of_type_filters_bundle_entries_by_resource_type() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "a"}},
            {"resource": {"resourceType": "Observation", "id": "b"}},
            {"resource": {"resourceType": "Patient", "id": "c"}},
        ],
    }
    assert evaluate(bundle, "entry.resource.ofType(Patient).id") == ["a", "c"]
    assert evaluate(bundle, "entry.resource.ofType(Resource).count()") == [3]
    assert evaluate(bundle, "entry.resource.where($this is Observation).id") == ["b"]
    assert evaluate(bundle, "entry.resource.select(type().name)") == ["Patient", "Observation", "Patient"]


def test_as_on_more_than_one_item_is_an_error() -> None:
    # §6.3.2: "If there is more than one item in the input collection, the evaluator will throw".
    with pytest.raises(FhirPathError):
        evaluate(PATIENT, "name.given.as(string)")


def test_an_unknown_type_name_is_an_error() -> None:
    with pytest.raises(FhirPathError):
        evaluate(PATIENT, "gender.ofType(nosuchtype)")


def test_is_on_empty_is_empty() -> None:
    assert evaluate(PATIENT, "deceased is boolean") == []
