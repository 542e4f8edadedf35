"""The shared FHIR helpers: references and identifiers read the same way everywhere, on any JSON."""

from __future__ import annotations

from typing import Any

import pytest

from vhr_conformance.fhirutil import (
    identifier_value,
    located_references,
    parse_location,
    reference_values,
    references,
)
from vhr_conformance.names import SID_BHYT, SID_CCCD

OBS: dict[str, Any] = {
    "resourceType": "Observation",
    "subject": {"reference": "Patient/1"},
    "performer": [{"reference": "Practitioner/2"}, {"display": "no reference"}, {"reference": 7}],
    "contained": [{"resourceType": "Device", "owner": {"reference": "Organization/3"}}],
    "hasMember": [{"reference": "#dev"}],
}


def test_located_references_give_fhirpath_like_locations_and_skip_contained() -> None:
    assert located_references(OBS, "Observation") == [
        ("Observation.subject.reference", "Patient/1"),
        ("Observation.performer[0].reference", "Practitioner/2"),
        ("Observation.hasMember[0].reference", "#dev"),
    ]
    assert ("Observation.contained[0].owner.reference", "Organization/3") in located_references(
        OBS, "Observation", contained=True
    )


def test_references_include_contained_in_document_order() -> None:
    assert references(OBS) == ["Patient/1", "Practitioner/2", "Organization/3", "#dev"]
    assert references(["not", 1, None]) == [] and references("Patient/1") == []


def test_reference_values_of_one_element() -> None:
    assert reference_values({"reference": "Patient/1"}) == ["Patient/1"]
    assert reference_values("http://example.org/fhir/ValueSet/x") == ["http://example.org/fhir/ValueSet/x"]
    assert reference_values({"reference": 1}) == [] and reference_values(None) == []


def test_identifier_value_takes_the_first_of_the_system_that_has_a_value() -> None:
    res = {
        "identifier": [
            {"system": SID_CCCD},
            "junk",
            {"system": SID_CCCD, "value": "001090123456"},
            {"system": SID_BHYT, "value": "HC4010123456789"},
        ]
    }
    assert identifier_value(res, SID_CCCD) == "001090123456"
    assert identifier_value(res, SID_BHYT) == "HC4010123456789"
    assert identifier_value(res, "urn:other") is None
    assert identifier_value({"identifier": {"system": SID_CCCD, "value": "1"}}, SID_CCCD) is None


@pytest.mark.parametrize(
    ("location", "parsed"),
    [
        ("Patient/abc", ("Patient", "abc", None)),
        ("http://h/fhir/Patient/abc/_history/2", ("Patient", "abc", "2")),
        ("Patient/abc?_format=json", ("Patient", "abc", None)),
        ("not a location", None),
        (None, None),
        ("", None),
    ],
)
def test_parse_location(location: str | None, parsed: tuple[str, str, str | None] | None) -> None:
    assert parse_location(location) == parsed
