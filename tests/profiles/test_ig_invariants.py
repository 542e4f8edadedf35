"""Every VHR invariant, evaluated with fhirpathpy: holds on the valid examples, fails on its negative case.

A validator walks the snapshot and evaluates each constraint on the elements it sits on; this test
does the same in a few lines (element path → nodes → expression), so it checks the expressions
themselves, independently of the validator stage.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhirpathpy import evaluate
from fhirpathpy.models import models

from vhr_conformance import fhirpkg
from vhr_conformance.names import CANONICAL

from .conftest import NEGATIVE_DIR

KEYS = {
    "vhr-cccd-1": "error",
    "vhr-cccd-2": "error",
    "vhr-cccd-3": "error",
    "vhr-cccd-4": "error",
    "vhr-cccd-5": "warning",
    "vhr-bhyt-1": "error",
    "vhr-bhyt-2": "error",
    "vhr-bhyt-3": "error",  # vn/data/bhyt.json level_rule (generator and fixtures fit it)
    "vhr-bhyt-4": "error",
    "vhr-bhyt-5": "warning",
    "vhr-bhyt-6": "error",
    "vhr-bhyt-7": "error",  # as vhr-bhyt-3
    "vhr-enc-1": "error",
    "vhr-pat-1": "error",
}

Constraint = tuple[str, str, str, dict[str, Any]]  # profile url, element path, key, constraint


def _vhr_constraints(package: fhirpkg.FhirPackage) -> list[Constraint]:
    out: list[Constraint] = []
    for sd in package.resources("StructureDefinition"):
        for el in sd["snapshot"]["element"]:
            for c in el.get("constraint", []):
                if c["key"].startswith("vhr-"):
                    out.append((sd["url"], el["path"], c["key"], c))
    return out


def _resources(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The resource and, for Bundles, every entry resource (they claim their own profiles)."""
    out = [res]
    for entry in res.get("entry", []) if res.get("resourceType") == "Bundle" else []:
        out.extend(_resources(entry["resource"]))
    return out


def _check(res: dict[str, Any], profile: str, path: str, expression: str) -> list[str]:
    """Locations where the expression is not true, for resources claiming ``profile``."""
    failures = []
    for r in _resources(res):
        if profile not in r.get("meta", {}).get("profile", []):
            continue
        rel = path.split(".", 1)[1] if "." in path else None
        nodes = evaluate(r, rel) if rel else [r]
        for i, node in enumerate(nodes):
            # on a whole resource, with the R4 model so that choice elements (extension.value) resolve
            result = evaluate(node, expression) if rel else evaluate(node, expression, model=models["r4"])
            if result != [True]:
                failures.append(f"{path}[{i}]")
    return failures


def test_all_keys_present_with_bilingual_text(package: fhirpkg.FhirPackage) -> None:
    found = {key: c for _, _, key, c in _vhr_constraints(package)}
    assert set(found) == set(KEYS)
    for key, c in found.items():
        assert c["severity"] == KEYS[key]
        vi, en = c["human"].split(" / ", 1)
        assert vi and en, key
        assert c["source"].startswith(CANONICAL)


def test_invariants_hold_on_every_valid_example(
    package: fhirpkg.FhirPackage, examples: list[dict[str, Any]]
) -> None:
    checked = 0
    for profile, path, key, c in _vhr_constraints(package):
        for res in examples:
            assert _check(res, profile, path, c["expression"]) == [], (key, res["id"])
            checked += 1
    assert checked > 0


def _negatives_for_invariants(manifest: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in manifest if m["rule"] in KEYS]


def test_every_invariant_has_a_negative_case(negative_manifest: list[dict[str, Any]]) -> None:
    assert {m["rule"] for m in _negatives_for_invariants(negative_manifest)} == set(KEYS)


def test_invariants_fail_on_their_negative_case(
    package: fhirpkg.FhirPackage, negative_manifest: list[dict[str, Any]]
) -> None:
    constraints = _vhr_constraints(package)
    for case in _negatives_for_invariants(negative_manifest):
        res = json.loads((NEGATIVE_DIR / case["file"]).read_text(encoding="utf-8"))
        failing: dict[str, list[str]] = {}
        for profile, path, key, c in constraints:
            where = _check(res, profile, path, c["expression"])
            if where:
                failing[key] = where
        # exactly the named invariant fails, nowhere else
        assert list(failing) == [case["rule"]], (case["file"], failing)


@pytest.mark.parametrize(
    ("birth", "gender", "cccd", "ok"),
    [
        ("1990-05-14", "female", "001190123456", True),
        ("1990-05-14", "male", "001090123456", True),
        ("2003-01-02", "male", "079203000001", True),
        ("2003-01-02", "female", "079303000001", True),
        ("2101-01-01", "female", "079501000001", True),
        ("1990-05-14", "female", "001090123456", False),
        ("2003-01-02", "male", "079003000001", False),
        # sex other/unknown: only the century half of the digit is judged (0/1 for the 1900s)
        ("1990-05", "other", "001190123456", True),
        ("1990-05", "other", "001090123456", True),
        ("1990-05", "other", "001990123456", False),
    ],
)
def test_cccd_century_digit(
    package: fhirpkg.FhirPackage, birth: str, gender: str, cccd: str, ok: bool
) -> None:
    expr = next(c["expression"] for _, _, key, c in _vhr_constraints(package) if key == "vhr-cccd-3")
    patient = {
        "resourceType": "Patient",
        "gender": gender,
        "birthDate": birth,
        "identifier": [{"system": "http://fhir.hl7.org.vn/core/sid/cccd", "value": cccd}],
    }
    assert evaluate(patient, expr) == [ok]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("HS4010120878811", True),
        ("0120878811", True),
        ("001190123456", True),
        ("HS6010120878811", False),  # benefit level 6
        ("hs4010120878811", False),
        ("01208788", False),
    ],
)
def test_bhyt_formats(package: fhirpkg.FhirPackage, value: str, ok: bool) -> None:
    expr = next(c["expression"] for _, _, key, c in _vhr_constraints(package) if key == "vhr-bhyt-1")
    assert evaluate({"system": "http://fhir.hl7.org.vn/core/sid/bhyt", "value": value}, expr) == [ok]
    assert evaluate({"system": "http://fhir.hl7.org.vn/core/sid/cccd", "value": value}, expr) == [True]


def test_other_negative_cases_break_no_invariant(
    package: fhirpkg.FhirPackage, negative_manifest: list[dict[str, Any]]
) -> None:
    """Cases for structural or validator rules must not trip a VHR invariant on the side."""
    constraints = _vhr_constraints(package)
    others = [m for m in negative_manifest if m["rule"] not in KEYS]
    assert others
    for case in others:
        res = json.loads((NEGATIVE_DIR / case["file"]).read_text(encoding="utf-8"))
        failing = [
            key for profile, path, key, c in constraints if _check(res, profile, path, c["expression"])
        ]
        assert failing == [], (case["file"], failing)
