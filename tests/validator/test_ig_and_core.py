"""The IG's examples are valid, its negative cases fail as intended, and core's own resources pass."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from vhr_conformance import fhirpkg
from vhr_conformance.validator import Validator

from .util import errors

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = {
    "StructureDefinition",
    "CodeSystem",
    "ValueSet",
    "NamingSystem",
    "SearchParameter",
    "CapabilityStatement",
    "ImplementationGuide",
}


def _ig_dir() -> Path | None:
    try:
        from vhr_conformance import ig

        d = ig.ig_package_dir()
    except Exception:
        return None
    return d if (d / "package.json").is_file() else None


def _examples() -> list[Path]:
    d = _ig_dir()
    if d is None:
        return []
    out = []
    for p in sorted(d.glob("*.json")):
        if p.name in ("package.json", ".index.json"):
            continue
        if p.name.split("-", 1)[0] not in CONFORMANCE:
            out.append(p)
    return out


def _negatives() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for manifest in (
        ROOT / "profiles" / "negative" / "manifest.json",
        ROOT / "fixtures" / "negative" / "manifest.json",
    ):
        if manifest.is_file():
            for c in orjson.loads(manifest.read_bytes()):
                cases.append({**c, "_dir": str(manifest.parent)})
    return cases


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.name)
def test_ig_example_has_no_error(validator: Validator, path: Path) -> None:
    issues = errors(validator.validate(path.read_bytes()))
    assert issues == [], [(i.location, i.rule, i.text.en) for i in issues]


def test_there_are_examples_when_the_ig_is_built() -> None:
    if _ig_dir() is None:
        pytest.skip("VHR IG package not built yet")
    assert _examples(), "the IG package has no example instances"


@pytest.mark.parametrize("case", _negatives(), ids=lambda c: c["file"])
def test_negative_case_yields_its_rule_at_its_location(validator: Validator, case: dict[str, Any]) -> None:
    data = (Path(case["_dir"]) / case["file"]).read_bytes()
    issues = validator.validate(data, profiles=[case["profile"]] if case.get("profile") else None)
    hits = [i for i in issues if i.rule == case["rule"] and i.location == case["location"]]
    assert hits, [(i.severity, i.location, i.rule) for i in errors(issues)]
    assert all(i.severity in ("error", "fatal", "warning") for i in hits)


# Core resources that really break R4 rules (the HL7 validator reports them too).
CORE_KNOWN_BAD = {
    "SearchParameter": ("-extensions-",),  # extension search parameters without a base; ids over 64 chars
    "StructureDefinition": (
        "StructureDefinition-Definition",
        "StructureDefinition-Event",
        "StructureDefinition-FiveWs",
        "StructureDefinition-Request",
    ),  # sdf-4: logical, no base
}


def _core_sample() -> list[dict[str, Any]]:
    core = fhirpkg.load_package(fhirpkg.verify_core_package())
    rng = random.Random(4)
    out: list[dict[str, Any]] = []
    for rtype, n in (
        ("ValueSet", 40),
        ("CodeSystem", 40),
        ("SearchParameter", 40),
        ("StructureDefinition", 25),
    ):
        skip = CORE_KNOWN_BAD.get(rtype, ())
        entries = [
            e for e in core.entries if e.resource_type == rtype and not any(k in e.filename for k in skip)
        ]
        out.extend(core.read(e) for e in rng.sample(entries, min(n, len(entries))))
    return out


def test_core_conformance_resources_validate_without_errors(validator: Validator) -> None:
    bad = {}
    for res in _core_sample():
        errs = errors(validator.validate(res))
        if errs:
            bad[f"{res['resourceType']}/{res.get('id')}"] = [(i.location, i.rule) for i in errs[:3]]
    assert not bad, bad
