"""Property tests: no input, however broken, makes the validator raise."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vhr_conformance.validator import Issue, Validator

from .util import patient

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
_keys = st.sampled_from(
    [
        "id",
        "name",
        "gender",
        "birthDate",
        "contained",
        "extension",
        "_birthDate",
        "identifier",
        "telecom",
        "meta",
        "text",
        "active",
        "deceasedBoolean",
        "managingOrganization",
        "address",
        "resourceType",
        "link",
    ]
)
_settings = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _ok(issues: Any) -> None:
    assert isinstance(issues, list) and all(isinstance(i, Issue) for i in issues)
    for i in issues:
        assert i.text.vi and i.text.en and i.severity in ("fatal", "error", "warning", "information")


@_settings
@given(_json)
def test_random_json_values_never_crash(validator: Validator, value: Any) -> None:
    _ok(validator.validate(orjson.dumps(value)))
    if isinstance(value, dict):
        _ok(validator.validate(value))


@_settings
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(validator: Validator, data: bytes) -> None:
    _ok(validator.validate(data))


@_settings
@given(
    st.dictionaries(_keys, _json, max_size=6),
    st.sampled_from(["Patient", "Observation", "Bundle", "Encounter"]),
)
def test_mutated_resources_never_crash(validator: Validator, changes: dict[str, Any], rtype: str) -> None:
    res = patient()
    res["resourceType"] = rtype
    res.update(changes)
    _ok(validator.validate(res))
    _ok(
        validator.validate(
            {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": res}, res]}
        )
    )
