"""Layer 1: malformed JSON gives located fatal issues, never a traceback."""

from __future__ import annotations

import orjson

from vhr_conformance.validator import Validator

from .util import errors, patient, rules


def test_syntax_error_is_fatal_with_line_and_column(validator: Validator) -> None:
    issues = validator.validate(b'{"resourceType": "Patient",\n  "id": "a",}')
    assert len(issues) == 1
    i = issues[0]
    assert (i.severity, i.rule, i.location) == ("fatal", "json-syntax", "line 2, col 12")
    assert "dòng 2" in i.text.vi and "line 2" in i.text.en


def test_invalid_utf8_is_located(validator: Validator) -> None:
    issues = validator.validate(b'{"resourceType": "Patient",\n"id": "\xff"}')
    assert [(i.severity, i.rule, i.location) for i in issues] == [("fatal", "json-encoding", "line 2, col 8")]


def test_lone_surrogate_in_str(validator: Validator) -> None:
    issues = validator.validate('{"resourceType": "Patient", "id": "\ud800"}')
    assert issues[0].rule == "json-encoding"


def test_duplicate_keys_are_reported_with_path(validator: Validator) -> None:
    raw = b'{"resourceType":"Patient","id":"a","name":[{"family":"X","family":"Y"}]}'
    assert ("json-duplicate-key", "Patient.name[0]") in rules(validator.validate(raw))


def test_duplicate_keys_however_written(validator: Validator) -> None:
    spaced = b'{"resourceType" : "Patient",\n "id" : "a",\n "id" : "b"}'
    assert ("json-duplicate-key", "Patient") in rules(validator.validate(spaced))
    escaped = b'{"resourceType":"Patient","id":"a","name":[{"text":"x\\u003ay","text":"z"}]}'
    assert ("json-duplicate-key", "Patient.name[0]") in rules(validator.validate(escaped))
    colons_in_values = b'{"resourceType":"Patient","id":"a","name":[{"text":"a:b:c"}]}'
    assert errors(validator.validate(colons_in_values)) == []


def test_pretty_printed_json_without_duplicates_is_clean(validator: Validator) -> None:
    raw = orjson.dumps(patient(), option=orjson.OPT_INDENT_2)
    assert errors(validator.validate(raw)) == []
    spaced = raw.replace(b'":', b'" :')
    assert errors(validator.validate(spaced)) == []


def test_nulls_and_empty_values(validator: Validator) -> None:
    res = patient(active=None, telecom=[], address=[{}], maritalStatus={"text": ""})
    got = rules(validator.validate(res))
    assert ("json-null", "Patient.active") in got
    assert ("empty-array", "Patient.telecom") in got
    assert ("ele-1", "Patient.address[0]") in got
    assert ("type-string", "Patient.maritalStatus.text") in got


def test_top_level_must_be_object(validator: Validator) -> None:
    assert validator.validate(b"[1, 2]")[0].rule == "not-object"
    assert validator.validate(b'"text"')[0].severity == "fatal"


def test_operation_outcome_of_fatal_json(validator: Validator) -> None:
    from vhr_conformance.validator import to_operation_outcome

    oo = to_operation_outcome(validator.validate(b'{"resourceType": "Patient",\n "id": }'))
    issue = oo["issue"][0]
    assert issue["severity"] == "fatal" and "expression" not in issue
    assert issue["diagnostics"].startswith("line 2, col 8: ")
    assert errors(validator.validate(oo)) == []
    clean = to_operation_outcome([])
    assert clean["issue"][0]["severity"] == "information"
