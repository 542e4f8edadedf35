"""The vhr-server CapabilityStatement and the search parameters the guide defines."""

from __future__ import annotations

from typing import Any

import pytest
from fhirpathpy import evaluate
from fhirpathpy.models import models

from vhr_conformance import fhirpkg, ig

EXPECTATION = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation"


def _expectation(element: dict[str, Any]) -> str:
    values = [e["valueCode"] for e in element.get("extension", []) if e["url"] == EXPECTATION]
    assert len(values) == 1, element
    return values[0]


@pytest.fixture(scope="module")
def rest() -> dict[str, Any]:
    cs = ig.capability_statement()
    assert cs["kind"] == "requirements" and cs["fhirVersion"] == "4.0.1" and cs["format"] == ["json"]
    assert cs["url"] == ig.CAPABILITY_STATEMENT_URL
    return cs["rest"][0]


def _resource(rest: dict[str, Any], rt: str) -> dict[str, Any]:
    return next(r for r in rest["resource"] if r["type"] == rt)


def _params(rest: dict[str, Any], rt: str) -> dict[str, str]:
    return {p["name"]: _expectation(p) for p in _resource(rest, rt).get("searchParam", [])}


def test_patient_search_requirements(rest: dict[str, Any]) -> None:
    params = _params(rest, "Patient")
    for name in ("identifier", "name", "birthdate", "gender", "cccd"):
        assert params[name] == "SHALL", name
    cccd = next(p for p in _resource(rest, "Patient")["searchParam"] if p["name"] == "cccd")
    assert cccd["definition"] == "https://vhr-conformance.org/fhir/SearchParameter/vhr-patient-cccd"
    ops = {o["name"]: _expectation(o) for o in _resource(rest, "Patient")["operation"]}
    assert ops == {"everything": "SHALL"}


@pytest.mark.parametrize(
    "rt", ["Condition", "Observation", "AllergyIntolerance", "Immunization", "MedicationRequest"]
)
def test_clinical_resources_searchable_by_patient(rest: dict[str, Any], rt: str) -> None:
    assert _params(rest, rt)["patient"] == "SHALL"


def test_encounter_and_system_level(rest: dict[str, Any]) -> None:
    params = _params(rest, "Encounter")
    assert params["patient"] == params["date"] == "SHALL"
    system = {i["code"]: _expectation(i) for i in rest["interaction"]}
    assert system["transaction"] == "SHALL" and system["batch"] in ("SHALL", "SHOULD")
    assert {o["name"]: _expectation(o) for o in rest["operation"]} == {"validate": "SHALL"}


def test_interactions_and_profiles_resolve(rest: dict[str, Any], vhr_packages: fhirpkg.PackageSet) -> None:
    allowed = {
        "read",
        "vread",
        "update",
        "patch",
        "delete",
        "history-instance",
        "history-type",
        "create",
        "search-type",
    }
    for res in rest["resource"]:
        assert _expectation(res) in ("SHALL", "SHOULD", "MAY")
        for inter in res["interaction"]:
            assert inter["code"] in allowed and _expectation(inter) in ("SHALL", "SHOULD", "MAY")
        for url in res["supportedProfile"]:
            sd = vhr_packages.get(url)
            assert sd is not None and sd["type"] == res["type"], url
        for param in res.get("searchParam", []):
            sp = vhr_packages.get(param["definition"])
            assert sp is not None, param["definition"]
            assert sp["code"] == param["name"] and sp["type"] == param["type"]
            assert res["type"] in sp["base"] or "Resource" in sp["base"]
    patient = _resource(rest, "Patient")
    assert {i["code"] for i in patient["interaction"]} >= {
        "read",
        "vread",
        "search-type",
        "create",
        "update",
        "delete",
    }
    covered = {url for r in rest["resource"] for url in r["supportedProfile"]}
    missing = set(ig.PROFILE_URLS.values()) - covered
    assert missing <= {ig.PROFILE_URLS["vhr-bundle-transaction"], ig.PROFILE_URLS["vhr-operationoutcome"]}


def test_defined_search_parameters_select_the_right_values(by_type: dict[str, Any]) -> None:
    sps = by_type["SearchParameter"]
    patient = by_type["Patient"]["vhr-ex-patient"]
    encounter = by_type["Encounter"]["vhr-ex-encounter"]
    r4 = models["r4"]
    cccd = evaluate(patient, sps["vhr-patient-cccd"]["expression"], model=r4)
    assert [i["value"] for i in cccd] == ["001190123456"]
    eth = evaluate(patient, sps["vhr-patient-ethnicity"]["expression"], model=r4)
    assert [c["code"] for c in eth] == ["01"]
    malk = evaluate(encounter, sps["vhr-encounter-ma-lk"]["expression"], model=r4)
    assert [i["value"] for i in malk] == ["HTEST2503100001"]


COMBINATION = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-search-parameter-combination"


def test_combinations_and_includes_name_real_parameters(
    rest: dict[str, Any], vhr_packages: fhirpkg.PackageSet
) -> None:
    by_code: dict[tuple[str, str], dict[str, Any]] = {}
    for sp in vhr_packages.resources("SearchParameter"):
        for base in sp.get("base", []):
            by_code[(base, sp["code"])] = sp
    combos = 0
    for res in rest["resource"]:
        declared = set(_params(rest, res["type"]))
        for ext in res.get("extension", []):
            if ext["url"] == COMBINATION:
                names = [e["valueString"] for e in ext["extension"] if e["url"] == "required"]
                assert len(names) >= 2 and set(names) <= declared, (res["type"], names)
                assert _expectation(ext) in ("SHOULD", "MAY")
                combos += 1
        for value in [*res.get("searchInclude", []), *res.get("searchRevInclude", [])]:
            source, param = value.split(":")
            sp = by_code.get((source, param))
            assert sp is not None and sp["type"] == "reference", value
        for value in res.get("searchInclude", []):
            assert value.split(":")[0] == res["type"], value
    assert combos >= 5
