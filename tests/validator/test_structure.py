"""Layer 2: base R4 structure compiled from the core snapshots."""

from __future__ import annotations

from vhr_conformance.validator import STRUCTURE_ONLY, Validator

from .util import errors, patient, rules


def test_valid_patient_has_no_issue(validator: Validator) -> None:
    assert validator.validate(patient()) == []


def test_resource_type_checks(validator: Validator) -> None:
    assert ("resourceType-missing", "Resource") in rules(validator.validate({"id": "x"}))
    assert ("resourceType-unknown", "Patientt") in rules(validator.validate({"resourceType": "Patientt"}))
    assert ("resourceType-abstract", "DomainResource") in rules(
        validator.validate({"resourceType": "DomainResource"})
    )


def test_unknown_element_and_wrong_json_types(validator: Validator) -> None:
    got = rules(
        validator.validate(patient(foo=1, active="yes", multipleBirthInteger=1.5, name={"family": "X"}))
    )
    assert ("unknown-element", "Patient.foo") in got
    assert ("type-boolean", "Patient.active") in got
    assert ("type-integer", "Patient.multipleBirthInteger") in got
    assert ("not-array", "Patient.name") in got


def test_primitive_formats(validator: Validator) -> None:
    got = rules(
        validator.validate(
            patient(
                id="bad id!", birthDate="1990-02-30", deceasedDateTime="2020-01-01T10:00:00", gender="M ale"
            )
        )
    )
    assert ("type-id", "Patient.id") in got
    assert ("type-date", "Patient.birthDate") in got
    assert ("type-dateTime", "Patient.deceasedDateTime") in got  # a time needs a timezone


def test_cardinality_min_and_max(validator: Validator) -> None:
    obs = {"resourceType": "Observation", "code": {"text": "x"}, "text": patient()["text"]}
    assert ("cardinality-min", "Observation.status") in rules(validator.validate(obs))
    pat = patient(contact=[{"name": {"family": "X"}, "gender": "female"}])
    pat["contact"][0]["telecom"] = [{"system": "phone", "value": "1"}]
    assert errors(validator.validate(pat)) == []


def test_choice_types(validator: Validator) -> None:
    got = rules(validator.validate(patient(deceasedBoolean=False, deceasedDateTime="2020-01-01")))
    assert ("choice-multiple", "Patient.deceased[x]") in got
    assert ("unknown-element", "Patient.deceasedString") in rules(
        validator.validate(patient(deceasedString="x"))
    )


def test_primitive_extensions(validator: Validator) -> None:
    ext = {
        "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}
        ]
    }
    res = patient()
    del res["birthDate"]
    res["_birthDate"] = ext
    assert errors(validator.validate(res)) == []
    res2 = patient(name=[{"given": [None, "A"], "_given": [ext, None]}])
    assert errors(validator.validate(res2)) == []
    assert ("json-null", "Patient.name[0].given[0]") in rules(
        validator.validate(patient(name=[{"given": [None]}]))
    )
    assert ("unknown-element", "Patient._foo") in rules(validator.validate(patient(_foo={"id": "x"})))
    assert ("resource-id-extension", "Patient._id") in rules(validator.validate(patient(_id=ext)))


def test_contained_resources_are_validated(validator: Validator) -> None:
    res = patient(
        contained=[{"resourceType": "Organization", "id": "o1", "name": "BV", "foo": 1}],
        managingOrganization={"reference": "#o1"},
    )
    assert ("unknown-element", "Patient.contained[0].foo") in rules(validator.validate(res))


def test_reference_format_and_target_type(validator: Validator) -> None:
    got = rules(validator.validate(patient(managingOrganization={"reference": "Practitioner/1"})))
    assert ("reference-target", "Patient.managingOrganization.reference") in got
    got = rules(validator.validate(patient(managingOrganization={"reference": "not a ref"})))
    assert ("reference-format", "Patient.managingOrganization.reference") in got


def test_structure_only_skips_other_layers(validator: Validator) -> None:
    res = patient(gender="unknown-gender")
    assert ("binding-required", "Patient.gender") in rules(validator.validate(res))
    assert validator.validate(res, layers=STRUCTURE_ONLY) == []


def test_concurrent_first_use_gives_the_same_issues() -> None:
    """Types, profiles and value sets compile lazily; threads meeting them first must agree."""
    from concurrent.futures import ThreadPoolExecutor

    from vhr_conformance import fhirpkg

    fresh = Validator.for_packages(fhirpkg.PackageSet.with_dependencies())
    res = patient(
        gender="x",
        contact=[{"gender": "male"}],
        maritalStatus={"coding": [{"system": "http://x", "code": "M"}]},
    )
    expected = sorted((i.rule, i.location) for i in Validator.for_packages(fresh.packages).validate(res))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda _: sorted((i.rule, i.location) for i in fresh.validate(res)), range(16))
        )
    assert all(r == expected for r in results)


def test_narrative_xhtml(validator: Validator) -> None:
    ns = 'xmlns="http://www.w3.org/1999/xhtml"'
    ok = patient(text={"status": "generated", "div": f"<div {ns}><p>Bệnh nhân <b>A</b></p></div>"})
    assert errors(validator.validate(ok)) == []
    for div in (
        f"<div {ns}><script>x</script></div>",
        f'<div {ns}><p onclick="x">a</p></div>',
        "<div>x</div>",
        f"<div {ns}><p>x</div>",
    ):
        got = rules(validator.validate(patient(text={"status": "generated", "div": div})))
        assert ("type-xhtml", "Patient.text.div") in got, div
