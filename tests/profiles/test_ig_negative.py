"""The negative cases: well-formed, one per profile at least, each a one-rule change of a valid example."""

from __future__ import annotations

import json
from typing import Any

from vhr_conformance import ig

from .conftest import NEGATIVE_DIR, PROFILES_DIR

STRUCTURAL = {"cardinality-min", "binding-required", "fixed-value", "pattern-value"}
VALIDATOR_RULES = {"VN-ADDR-001", "VN-ICD-001"}


def _leaves(node: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten JSON into path → scalar, to count how much a case differs from its source."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for k, v in node.items():
            out.update(_leaves(v, f"{prefix}.{k}" if prefix else k))
        return out
    if isinstance(node, list):
        out = {}
        for i, v in enumerate(node):
            out.update(_leaves(v, f"{prefix}[{i}]"))
        return out
    return {prefix: node}


def test_manifest_entries(negative_manifest: list[dict[str, Any]]) -> None:
    files = sorted(p.name for p in NEGATIVE_DIR.glob("*.json") if p.name != "manifest.json")
    assert sorted(m["file"] for m in negative_manifest) == files
    invariant_keys = {
        "vhr-cccd-1",
        "vhr-cccd-2",
        "vhr-cccd-3",
        "vhr-cccd-4",
        "vhr-cccd-5",
        "vhr-bhyt-1",
        "vhr-bhyt-2",
        "vhr-bhyt-3",
        "vhr-bhyt-4",
        "vhr-bhyt-5",
        "vhr-bhyt-6",
        "vhr-bhyt-7",
        "vhr-enc-1",
        "vhr-pat-1",
    }
    for m in negative_manifest:
        assert m["profile"] in ig.PROFILE_URLS.values()
        assert m["rule"] in invariant_keys | STRUCTURAL | VALIDATOR_RULES, m
        assert m["location"].startswith(m["resourceType"])
        assert (
            m["description"]["vi"]
            and m["description"]["en"]
            and m["description"]["vi"] != m["description"]["en"]
        )
        res = json.loads((NEGATIVE_DIR / m["file"]).read_text(encoding="utf-8"))
        assert res["resourceType"] == m["resourceType"]
        assert m["profile"] in res["meta"]["profile"]


def test_every_profile_and_rule_kind_has_a_case(negative_manifest: list[dict[str, Any]]) -> None:
    assert {m["profile"] for m in negative_manifest} == set(ig.PROFILE_URLS.values())
    assert {m["rule"] for m in negative_manifest} >= STRUCTURAL | VALIDATOR_RULES


def test_cases_are_small_changes_of_a_valid_example(negative_manifest: list[dict[str, Any]]) -> None:
    for m in negative_manifest:
        source = json.loads((PROFILES_DIR / "package" / m["source"]).read_text(encoding="utf-8"))
        case = json.loads((NEGATIVE_DIR / m["file"]).read_text(encoding="utf-8"))
        a, b = _leaves(source), _leaves(case)
        changed = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)} - {"id"}
        assert changed, m["file"]
        # one element changed or removed (a removed element may hold a few leaves; a list shift more)
        roots = {k.split(".")[0].split("[")[0] for k in changed}
        assert len(roots) <= 2, (m["file"], sorted(changed)[:6])
