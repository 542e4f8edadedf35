"""Static checks of FHIRPath against the R4 model (FHIRPath §5.8, §6.3, §10; FHIR §2.1.9.1.1)."""

from __future__ import annotations

import pytest

from vhr_conformance import fhirpkg
from vhr_conformance.validator.fhirpath import FhirPathError
from vhr_conformance.validator.fhirpath_check import check


# FHIR §2.1.9.1.1: a choice element is named by its base name in FHIRPath (value, not valueQuantity).
@pytest.mark.parametrize(
    "expr", ["Observation.valueQuantity.unit", "valueString.exists()", "effectiveDateTime"]
)
def test_type_suffixed_choice_names_are_errors(expr: str) -> None:
    with pytest.raises(FhirPathError):
        check(expr, "Observation")


@pytest.mark.parametrize(
    "expr",
    [
        "Observation.value.unit",
        "(value as Quantity).unit",
        "value.ofType(Quantity).code",
        "component.where(code.text = 'x').value",
        "subject.resolve().nosuch",  # after resolve() the type is not known: nothing is claimed
        "extension('http://x').value",
        "contained.name",  # a contained resource may be of any type
        "%resource.anything",
    ],
)
def test_valid_paths_pass_even_in_strict_mode(expr: str) -> None:
    check(expr, "Observation", strict=True)


def test_strict_mode_reports_unknown_names_and_impossible_contexts() -> None:
    check("name.given1", "Patient")  # lenient: an unknown name is just empty
    with pytest.raises(FhirPathError):
        check("name.given1", "Patient", strict=True)
    with pytest.raises(FhirPathError):
        check("Encounter.name.given", "Patient", strict=True)
    with pytest.raises(FhirPathError):
        check("(Observation.value as Period).unit", "Observation", strict=True)
    with pytest.raises(FhirPathError):
        check("contact.where(nosuch.exists())", "Patient", strict=True)
    check("contact.name.family", "Patient", strict=True)  # a backbone element's children
    check("DomainResource.text", "Patient", strict=True)  # a supertype as the leading name


def test_ordered_functions_need_an_ordered_input() -> None:
    # §5.8: children() and descendants() give no defined order; skip/first/[] need one.
    with pytest.raises(FhirPathError):
        check("Patient.children().skip(1)", "Patient", ordered=True)
    with pytest.raises(FhirPathError):
        check("descendants()[0]", "Patient", ordered=True)
    check("Patient.name.skip(1).given", "Patient", ordered=True)


def test_core_invariants_pass_and_strict_mode_finds_the_known_core_error() -> None:
    """Every R4 core invariant passes the lenient check; strict finds cid-0, whose ``name`` is not
    an element of ChargeItemDefinition in R4 (a defect of the published core)."""
    strict_hits = set()
    n = 0
    for sd in fhirpkg.PackageSet.with_dependencies().resources("StructureDefinition"):
        if sd.get("derivation") != "specialization" or not sd.get("url", "").startswith(
            "http://hl7.org/fhir/"
        ):
            continue
        for el in sd.get("snapshot", {}).get("element", []):
            codes = [t.get("code") for t in el.get("type", [])]
            ctx = sd["type"] if el["path"] == sd["type"] else (codes[0] if len(codes) == 1 else None)
            if ctx in ("BackboneElement", "Element"):
                ctx = el["path"]
            for c in el.get("constraint", []):
                expr = c.get("expression")
                if not expr or c.get("key") == "ele-1":
                    continue
                n += 1
                try:
                    check(expr, ctx, strict=True)  # strict reports all that lenient does, and more
                except FhirPathError:
                    strict_hits.add(c["key"])
                    check(expr, ctx)
    assert n > 2000
    assert strict_hits == {"cid-0"}
