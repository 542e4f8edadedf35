"""Severity policy (best practice, suppress, display), line/column of issues, and no cascades."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from vhr_conformance.i18n import UserError
from vhr_conformance.validator import Validator, to_operation_outcome
from vhr_conformance.validator.policy import Policy
from vhr_conformance.validator.positions import SourceMap

from .util import errors, patient, rules

ROOT = Path(__file__).resolve().parents[2]


def _best_practice_keys(v: Validator) -> set[str]:
    """Keys of every invariant the loaded definitions mark with the best-practice extension."""
    keys = set()
    for _pkg, entry in v.packages.entries("StructureDefinition"):
        sd = v.packages.get(entry.url) if entry.url else None
        for el in (sd or {}).get("snapshot", {}).get("element", ()):
            for c in el.get("constraint", ()):
                if any(
                    e.get("url") == "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice"
                    and e.get("valueBoolean")
                    for e in c.get("extension", ())
                ):
                    keys.add(c["key"])
    return keys


def test_best_practice_is_off_by_default_and_a_warning_when_on(validator: Validator) -> None:
    bare = patient()
    del bare["text"]
    assert not [i for i in validator.validate(bare) if i.rule == "dom-6"]
    on = [i for i in validator.validate(bare, best_practice=True) if i.rule == "dom-6"]
    assert [(i.severity, i.location) for i in on] == [("warning", "Patient")]
    assert not [i for i in validator.validate(bare, policy=Policy(best_practice=True, suppress={"dom-6"}))]


def test_suppress_takes_ids_and_patterns(validator: Validator) -> None:
    bad = patient(gender="nam", foo=1)
    assert {"binding-required", "unknown-element"} <= {i.rule for i in validator.validate(bad)}
    assert {i.rule for i in validator.validate(bad, suppress=["binding-*"])} == {"unknown-element"}
    assert validator.validate(bad, suppress=["binding-required", "unknown-element"]) == []


def test_display_mismatch_is_an_error_by_default_with_a_switch(validator: Validator) -> None:
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                        "display": "Radiology",
                    }
                ]
            }
        ],
    }
    sev = {i.severity for i in validator.validate(obs) if i.rule == "display-mismatch"}
    assert sev == {"error"}
    assert {
        i.severity for i in validator.validate(obs, display="warning") if i.rule == "display-mismatch"
    } == {"warning"}
    assert not [i for i in validator.validate(obs, display="ignore") if i.rule == "display-mismatch"]
    with pytest.raises(UserError):
        Policy(display="loud")


def test_every_issue_on_json_text_has_line_and_column(validator: Validator) -> None:
    text = (
        '{\n  "resourceType": "Bundle",\n  "type": "collection",\n  "entry": [\n'
        '    {"fullUrl": "urn:uuid:8f0c4a4e-3b0a-4c86-9d2f-2b1a7c3e5d10",\n'
        '     "resource": {"resourceType": "Patient",\n'
        '        "name": [{"given": ["x", 3]}], "fooBar": 1}}\n  ]\n}'
    )
    got = {i.location: i.position for i in validator.validate(text)}
    assert got["Bundle.entry[0].resource.name[0].given[1]"] == (7, 34)
    assert got["Bundle.entry[0].resource.fooBar"] == (7, 40)
    assert all(i.position is not None for i in validator.validate(text.encode()))
    oo = to_operation_outcome(validator.validate(text))
    for issue in oo["issue"]:
        urls = [e["url"] for e in issue["extension"]]
        assert urls == [
            "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line",
            "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col",
        ]
    # dict input has no text, so no position (and no extension)
    assert all(i.position is None for i in validator.validate(orjson.loads(text)))
    broken = validator.validate('{"resourceType": "Patient",\n "id": }')
    assert [(i.rule, i.position) for i in broken] == [("json-syntax", (2, 8))]


def test_source_map_places_absent_paths_at_their_nearest_ancestor() -> None:
    m = SourceMap(
        '{"resourceType": "Observation",\n "valueQuantity": {"value": "x"},\n "a": [1, {"b": [2, 3]}]}'
    )
    assert m.find("Observation.value[x]") == (1, 1)  # not present by that name: the root
    assert m.find("Observation.valueQuantity.value") == (2, 20)
    assert m.find("Observation.valueQuantity.code") == (2, 2)
    assert m.find("Observation.a[1].b[1]") == (3, 21)
    assert m.find("Observation") == (1, 1)


def test_a_malformed_value_gives_one_error_not_a_cascade(validator: Validator) -> None:
    vhr = "https://vhr-conformance.org/fhir/StructureDefinition/vhr-patient"
    p = patient(birthDate="1990-5-14", meta={"profile": [vhr]})
    birth = [
        i for i in errors(validator.validate(p)) if i.location == "Patient.birthDate" or "birth" in i.text.en
    ]
    assert [i.rule for i in birth] == ["type-date"]
    # Period.start malformed: per-1 (start <= end) reads it, so it does not fail on top
    enc = {
        "resourceType": "Encounter",
        "text": patient()["text"],
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "period": {"start": "2024-13-01", "end": "2024-01-01"},
    }
    assert rules(validator.validate(enc)) == {("type-dateTime", "Encounter.period.start")}
    # a well-formed but reversed period still fails per-1
    enc["period"] = {"start": "2024-02-01", "end": "2024-01-01"}
    assert rules(validator.validate(enc)) == {("per-1", "Encounter.period")}


def test_own_fixtures_have_no_best_practice_noise(validator: Validator) -> None:
    keys = _best_practice_keys(validator)
    assert "dom-6" in keys
    files = sorted((ROOT / "fixtures").rglob("*.json"))
    assert len(files) > 20
    for f in files:
        if f.name in ("manifest.json", "coverage-report.json"):
            continue
        found = [i for i in validator.validate(f.read_bytes()) if i.rule in keys]
        assert found == [], f


def test_generated_data_has_no_best_practice_noise(validator: Validator) -> None:
    from vhr_conformance.generator import generate_patients

    keys = _best_practice_keys(validator)
    bundles = list(generate_patients(3, seed=11))
    assert bundles
    for b in bundles:
        assert [i for i in validator.validate(b) if i.rule in keys] == []
        assert [i for i in validator.validate(orjson.dumps(b)) if i.rule in keys] == []


def test_a_malformed_code_is_not_also_a_binding_error(validator: Validator) -> None:
    system = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
    allergy: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "text": patient()["text"],
        "patient": {"reference": "Patient/p1"},
        "clinicalStatus": {"coding": [{"system": system, "code": "active "}]},  # trailing space
    }
    assert rules(validator.validate(allergy), ("fatal", "error", "warning")) == {
        ("type-code", "AllergyIntolerance.clinicalStatus.coding[0].code")
    }
    allergy["clinicalStatus"]["coding"][0]["code"] = "gone"  # well-formed, not in the value set
    assert ("binding-required", "AllergyIntolerance.clinicalStatus") in rules(validator.validate(allergy))


def test_issues_with_positions_pickle(validator: Validator) -> None:
    import pickle

    issues = validator.validate('{"resourceType": "Patient",\n  "foo": 1}')
    back = pickle.loads(pickle.dumps(issues))
    assert back == issues
    assert [i.position for i in back] == [i.position for i in issues] == [(2, 3)]


def _check_positions(value: Any, path: tuple[Any, ...], text: str, pos: dict[Any, int]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            assert text.startswith(orjson.dumps(k).decode(), pos[(*path, k)]), (path, k)
            _check_positions(v, (*path, k), text, pos)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            o = pos[(*path, i)]
            if isinstance(v, dict | list):
                assert text[o] in "{[", (path, i)
            else:
                assert text.startswith(orjson.dumps(v).decode(), o), (path, i)
            _check_positions(v, (*path, i), text, pos)


def test_source_map_agrees_with_the_parsed_structure() -> None:
    """Every member's offset is its quoted key, every array item's offset its own JSON text."""
    from vhr_conformance.generator import generate_patients
    from vhr_conformance.validator.positions import _scan

    bundle = next(iter(generate_patients(1, seed=3)))
    for option in (0, orjson.OPT_INDENT_2):
        text = orjson.dumps(bundle, option=option).decode()
        _check_positions(bundle, (), text, _scan(text))


def _sd(sid: str, type_: str, elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "id": sid,
        "url": f"http://example.org/fhir/StructureDefinition/{sid}",
        "name": sid,
        "status": "active",
        "kind": "resource",
        "abstract": False,
        "type": type_,
        "baseDefinition": f"http://hl7.org/fhir/StructureDefinition/{type_}",
        "derivation": "constraint",
        "differential": {"element": elements},
    }


def test_policy_reaches_a_value_judged_against_one_of_several_profiles(tmp_path: Path) -> None:
    """Bundle.entry.resource typed with two profiles: the value is tried against each (conforming to
    one is enough), and those trials follow the call's policy like every other finding."""
    bp = "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice"
    names = {
        "key": "x-bp-1",
        "severity": "warning",
        "human": "A patient should have a name",
        "expression": "name.exists()",
        "extension": [{"url": bp, "valueBoolean": True}],
    }
    p1 = _sd("p1", "Patient", [{"id": "Patient", "path": "Patient", "constraint": [names]}])
    p2 = _sd("p2", "Patient", [{"id": "Patient.gender", "path": "Patient.gender", "min": 1}])
    profiles = [p1["url"], p2["url"]]
    entry = {"id": "Bundle.entry.resource", "path": "Bundle.entry.resource"}
    entry["type"] = [{"code": "Resource", "profile": profiles}]  # type: ignore[assignment]
    b = _sd("b", "Bundle", [entry])
    (tmp_path / "package.json").write_bytes(orjson.dumps({"name": "test.anyprofile", "version": "0.0.1"}))
    for sd in (p1, p2, b):
        (tmp_path / f"StructureDefinition-{sd['id']}.json").write_bytes(orjson.dumps(sd))
    from vhr_conformance import fhirpkg

    core = fhirpkg.PackageSet.with_dependencies()
    v = Validator.for_packages(fhirpkg.PackageSet([*core.packages, fhirpkg.load_package(tmp_path)]))
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:0b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a43", "resource": patient()}],
    }
    bundle["entry"][0]["resource"].pop("name", None)  # type: ignore[index]
    where = "Bundle.entry[0].resource"

    def found(**policy: Any) -> set[tuple[str, str, str]]:
        return {(i.severity, i.location, i.rule) for i in v.validate(bundle, profiles=[b["url"]], **policy)}

    assert ("warning", where, "x-bp-1") not in found()  # best practice is off by default
    assert ("warning", where, "x-bp-1") in found(best_practice=True)
