"""The validator under random and mutated JSON: always a list of located bilingual issues, never a crash."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from vhr_conformance.i18n import Text
from vhr_conformance.validator import Validator
from vhr_conformance.validator.issues import SEVERITY_RANK, to_operation_outcome

RESOURCE_TYPES = [
    "Patient",
    "Encounter",
    "Observation",
    "Condition",
    "Bundle",
    "Organization",
    "Coverage",
    "Practitioner",
    "MedicationRequest",
    "OperationOutcome",
    "Basic",
    "NotAType",
    "",
]
KEYS = [
    "resourceType",
    "id",
    "meta",
    "profile",
    "extension",
    "url",
    "valueString",
    "valueCode",
    "identifier",
    "system",
    "value",
    "name",
    "family",
    "given",
    "text",
    "gender",
    "birthDate",
    "telecom",
    "address",
    "status",
    "class",
    "subject",
    "reference",
    "period",
    "start",
    "end",
    "code",
    "coding",
    "display",
    "entry",
    "resource",
    "fullUrl",
    "request",
    "method",
    "type",
    "contained",
    "_birthDate",
    "div",
    "effectiveDateTime",
    "valueQuantity",
    "unit",
    "component",
    "modifierExtension",
    "managingOrganization",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "2024-02-30",
            "2024-13-01T25:61:00+07:00",
            "urn:uuid:x",
            "Patient/1",
            "#a",
            "http://x/y|1",
            '<div xmlns="http://www.w3.org/1999/xhtml">x</div>',
            "\x00",
            "9" * 40,
            "male",
            "+07:00",
        ]
    ),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=12))
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=6)),
    max_leaves=40,
)
resources = st.builds(
    lambda rt, body: {"resourceType": rt, **body},
    st.sampled_from(RESOURCE_TYPES),
    st.dictionaries(keys, json_values, max_size=8),
)

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "meta": {"profile": ["https://vhr-conformance.org/fhir/StructureDefinition/vhr-patient"]},
    "identifier": [{"system": "http://fhir.hl7.org.vn/core/sid/cccd", "value": "001090012345"}],
    "name": [{"family": "Nguyễn", "given": ["Văn", "An"], "text": "Nguyễn Văn An"}],
    "gender": "male",
    "birthDate": "1990-05-01",
}


@lru_cache(maxsize=1)
def validator() -> Validator:
    return Validator.default()


def check(issues: list[Any]) -> None:
    assert isinstance(issues, list)
    for issue in issues:
        assert issue.severity in SEVERITY_RANK and isinstance(issue.text, Text)
        assert isinstance(issue.location, str) and isinstance(issue.rule, str) and issue.rule
        assert issue.text.vi and issue.text.en
    to_operation_outcome(issues)


@given(resources)
def test_random_resources(resource: dict[str, Any]) -> None:
    check(validator().validate(resource))


@given(json_values)
def test_any_json_document(value: Any) -> None:
    check(validator().validate(json.dumps(value).encode()))


@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_bytes(data: bytes) -> None:
    check(validator().validate(data))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@given(st.data())
def test_a_valid_patient_with_one_value_replaced(data: st.DataObject) -> None:
    doc = copy.deepcopy(PATIENT)
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    target: Any = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = data.draw(json_values)
    check(validator().validate(doc))


@given(st.data())
def test_a_valid_patient_text_mutated(data: st.DataObject) -> None:
    raw = bytearray(orjson.dumps(PATIENT))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["flip", "drop", "dup"]))
        if op == "flip":
            raw[pos] = data.draw(st.integers(0, 255))
        elif op == "drop":
            del raw[pos]
        else:
            raw[pos:pos] = raw[pos : pos + data.draw(st.integers(1, 20))]
    check(validator().validate(bytes(raw)))
