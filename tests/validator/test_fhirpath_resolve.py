"""resolve() across contained resources, Bundle entries, %resource and %rootResource
(FHIR R4 §2.1.9.1.4 and §2.4 "Resource contained", from the specification's text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from vhr_conformance import fhirpkg
from vhr_conformance.validator import Validator
from vhr_conformance.validator.fhirpath import EvalEnv, evaluate
from vhr_conformance.validator.references import bundle_resolver

from .util import rules


def obs_with_contained_patient() -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "o1",
        "contained": [
            {"resourceType": "Patient", "id": "p1", "name": [{"family": "Trần"}]},
            {
                "resourceType": "Specimen",
                "id": "s1",
                "subject": {"reference": "#p1"},
                "request": [{"reference": "#"}],
            },
        ],
        "status": "final",
        "code": {"text": "x"},
        "subject": {"reference": "#p1"},
        "specimen": {"reference": "#s1"},
    }


def test_a_local_reference_resolves_to_the_contained_resource() -> None:
    obs = obs_with_contained_patient()
    env = EvalEnv(obs, obs)
    assert evaluate(obs, "subject.resolve() is Patient", env) == [True]
    assert evaluate(obs, "subject.resolve().name.family", env) == ["Trần"]
    assert evaluate(obs, "subject.reference.resolve().id", env) == ["p1"]  # a reference string too
    assert evaluate(obs, "specimen.resolve().ofType(Specimen).id", env) == ["s1"]


def test_references_inside_a_contained_resource_use_its_container() -> None:
    # "#p1" in a contained resource names a sibling; "#" names the container itself.
    obs = obs_with_contained_patient()
    specimen = obs["contained"][1]
    env = EvalEnv(specimen, obs)  # %resource is the contained one, %rootResource its container
    assert evaluate(specimen, "subject.resolve().id", env) == ["p1"]
    assert evaluate(specimen, "request.resolve() is Observation", env) == [True]
    assert evaluate(specimen, "%resource.id", env) == ["s1"]
    assert evaluate(specimen, "%rootResource.id", env) == ["o1"]
    assert evaluate(specimen, "%rootResource.contained.id", env) == ["p1", "s1"]


def test_from_the_container_a_nested_reference_resolves_among_its_siblings() -> None:
    obs = obs_with_contained_patient()
    env = EvalEnv(obs, obs)
    assert evaluate(obs, "contained.ofType(Specimen).subject.resolve().id", env) == ["p1"]


def test_an_unknown_local_reference_resolves_to_nothing() -> None:
    obs = obs_with_contained_patient()
    obs["subject"] = {"reference": "#nope"}
    assert evaluate(obs, "subject.resolve()", EvalEnv(obs, obs)) == []


def bundle() -> dict[str, Any]:
    obs = obs_with_contained_patient()
    obs["subject"] = {"reference": "urn:uuid:6f1c2a52-0000-4000-8000-000000000001"}
    obs["performer"] = [{"reference": "#p1"}]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:6f1c2a52-0000-4000-8000-000000000001",
                "resource": {"resourceType": "Patient", "id": "pp"},
            },
            {"fullUrl": "http://example.org/fhir/Observation/o1", "resource": obs},
            {
                "fullUrl": "http://example.org/fhir/Observation/o2",
                "resource": {
                    "resourceType": "Observation",
                    "id": "o2",
                    "subject": {"reference": "Patient/p9"},
                },
            },
            {
                "fullUrl": "http://example.org/fhir/Patient/p9",
                "resource": {"resourceType": "Patient", "id": "p9"},
            },
        ],
    }


def test_bundle_level_invariant_resolves_entries_and_their_contained_resources(validator: Validator) -> None:
    b = bundle()
    env = EvalEnv(b, b, resolve=bundle_resolver(b))
    # An entry reference by fullUrl, and a "#" reference inside an entry: that entry's contained.
    assert evaluate(b, "entry[1].resource.subject.resolve().id", env) == ["pp"]
    assert evaluate(b, "entry.resource.ofType(Observation).performer.resolve() is Patient", env) == [True]
    assert evaluate(b, "entry.resource.ofType(Observation).performer.resolve().id", env) == ["p1"]
    # A relative reference is resolved against the base of its entry's fullUrl (§2.36.0.4).
    assert evaluate(b, "entry[2].resource.subject.resolve().id", env) == ["p9"]
    assert evaluate(b, "entry.resource.ofType(Observation).subject.all(resolve() is Patient)", env) == [True]


def test_entry_level_invariant_resolves_through_the_bundle(validator: Validator) -> None:
    b = bundle()
    obs = b["entry"][1]["resource"]
    env = EvalEnv(obs, obs, resolve=bundle_resolver(b))
    assert evaluate(obs, "subject.resolve() is Patient", env) == [True]
    assert evaluate(obs, "performer.resolve().name.family", env) == ["Trần"]


def test_invariant_with_resolve_passes_on_valid_data() -> None:
    # The invariant shape seen failing on valid data: a type test on a resolved reference.
    from vhr_conformance.validator.fhirpath import ConstraintCompiler

    c = ConstraintCompiler().compile_one(
        {
            "key": "t-1",
            "severity": "error",
            "human": "subject is a Patient",
            "expression": "subject.resolve() is Patient",
        },
        "Observation",
    )
    assert c is not None
    obs = obs_with_contained_patient()
    assert c.evaluate(obs, EvalEnv(obs, obs)) is True
    obs["contained"][0]["resourceType"] = "Group"
    assert c.evaluate(obs, EvalEnv(obs, obs)) is False


# ---------------------------------------------------------------- through the validator

RBUNDLE = "https://vhr-conformance.org/fhir/StructureDefinition/test-resolve-bundle"
ROBS = "https://vhr-conformance.org/fhir/StructureDefinition/test-resolve-observation"


def _profile(url: str, typ: str, key: str, expression: str) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": url,
        "name": url.rsplit("/", 1)[-1].replace("-", ""),
        "status": "draft",
        "kind": "resource",
        "abstract": False,
        "type": typ,
        "baseDefinition": f"http://hl7.org/fhir/StructureDefinition/{typ}",
        "derivation": "constraint",
        "differential": {
            "element": [
                {
                    "id": typ,
                    "path": typ,
                    "constraint": [{"key": key, "severity": "error", "human": key, "expression": expression}],
                }
            ]
        },
    }


@pytest.fixture(scope="module")
def rv(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    d: Path = tmp_path_factory.mktemp("ig-resolve")
    (d / "package.json").write_bytes(orjson.dumps({"name": "test.resolve", "version": "0.0.1"}))
    bundle_sd = _profile(
        RBUNDLE,
        "Bundle",
        "tres-1",
        "entry.resource.ofType(Observation).all(subject.resolve() is Patient"
        " and performer.all(resolve() is Practitioner))",
    )
    obs_sd = _profile(ROBS, "Observation", "tres-2", "subject.resolve() is Patient")
    (d / "StructureDefinition-b.json").write_bytes(orjson.dumps(bundle_sd))
    (d / "StructureDefinition-o.json").write_bytes(orjson.dumps(obs_sd))
    core = fhirpkg.PackageSet.with_dependencies()
    return Validator.for_packages(fhirpkg.PackageSet([*core.packages, fhirpkg.load_package(d)]))


def _resolve_bundle(subject_type: str = "Patient") -> dict[str, Any]:
    obs = {
        "resourceType": "Observation",
        "id": "o1",
        "meta": {"profile": [ROBS]},
        "contained": [{"resourceType": "Practitioner", "id": "pr1"}],
        "status": "final",
        "code": {"text": "mạch"},
        "subject": {"reference": "urn:uuid:6f1c2a52-0000-4000-8000-00000000000a"},
        "performer": [{"reference": "#pr1"}],
    }
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:6f1c2a52-0000-4000-8000-00000000000a",
                "resource": {"resourceType": subject_type, "id": "s1"},
            },
            {"fullUrl": "urn:uuid:6f1c2a52-0000-4000-8000-00000000000b", "resource": obs},
        ],
    }


def test_validator_resolves_from_bundle_and_entry_invariants(rv: Validator) -> None:
    ok = {r for r, _ in rules(rv.validate(_resolve_bundle(), [RBUNDLE]))}
    assert not ok & {"tres-1", "tres-2", "harness-fhirpath"}, ok
    bad = {r for r, _ in rules(rv.validate(_resolve_bundle("Group"), [RBUNDLE]))}
    assert {"tres-1", "tres-2"} <= bad
