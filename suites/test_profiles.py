"""Profiles (QUAL đúng/đủ, PAT-001): every returned resource validates; must-support data is kept."""

from __future__ import annotations

from typing import Any

import pytest

from vhr_conformance.i18n import Text
from vhr_conformance.pytest_plugin import criterion, skip_missing
from vhr_conformance.runner.igmodel import IgModel
from vhr_conformance.runner.seed import SeedData


def _copies_with_profile(
    seed: SeedData, copies: dict[str, dict[str, Any]], profile: str
) -> list[tuple[Any, dict[str, Any]]]:
    out = [
        (s, copies[f"{s.type}/{s.id}"]) for s in seed.with_profile(profile) if f"{s.type}/{s.id}" in copies
    ]
    if not out:
        skip_missing(
            Text(
                f"Không có dữ liệu thử theo profile {profile.rsplit('/', 1)[-1]} trên máy chủ.",
                f"No test data of profile {profile.rsplit('/', 1)[-1]} on the target.",
            )
        )
    return out


def _errors(validator: Any, resource: dict[str, Any], profile: str) -> list[str]:
    issues = validator.validate(resource, profiles=[profile])
    return [f"{i.location}: {i.rule}: {i.text.en}" for i in issues if i.severity in ("fatal", "error")]


@pytest.mark.per_profile("VHR-QUAL-001")
def test_returned_resources_validate(
    profile_url: tuple[str, str], seed: SeedData, validator: Any, server_copies: dict[str, dict[str, Any]]
) -> None:
    _, profile = profile_url
    bad: list[str] = []
    for s, res in _copies_with_profile(seed, server_copies, profile):
        errs = _errors(validator, res, profile)
        if errs:
            bad.append(f"{s.type}/{s.id}: " + "; ".join(errs[:3]))
    assert not bad, f"{len(bad)} returned resources fail {profile.rsplit('/', 1)[-1]}:\n" + "\n".join(
        bad[:10]
    )


@criterion("VHR-PAT-001")
def test_patients_validate(
    ig: IgModel, seed: SeedData, validator: Any, server_copies: dict[str, dict[str, Any]]
) -> None:
    profiles = ig.resources.get("Patient").profiles if "Patient" in ig.resources else []
    if not profiles:
        skip_missing(Text("IG không có profile Patient.", "The IG has no Patient profile."))
    bad = []
    for s, res in _copies_with_profile(seed, server_copies, profiles[0]):
        errs = _errors(validator, res, profiles[0])
        if errs:
            bad.append(f"Patient/{s.id}: " + "; ".join(errs[:3]))
    assert not bad, "\n".join(bad[:10])


def _present(node: Any, parts: list[str]) -> bool:
    if not parts:
        return node not in (None, [], {}, "")
    if isinstance(node, list):
        return any(_present(x, parts) for x in node)
    if not isinstance(node, dict):
        return False
    head = parts[0]
    if head.endswith("[x]"):
        stem = head[:-3]
        return any(
            k.startswith(stem) and k[len(stem) :][:1].isupper() and _present(v, parts[1:])
            for k, v in node.items()
        )
    return head in node and _present(node[head], parts[1:])


@pytest.mark.per_profile("VHR-QUAL-002")
def test_must_support_kept(
    profile_url: tuple[str, str], ig: IgModel, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    _, profile = profile_url
    pairs = _copies_with_profile(seed, server_copies, profile)
    paths = ig.must_support_paths(profile)
    if not paths:
        skip_missing(
            Text("Profile không có phần tử must-support.", "The profile has no must-support elements.")
        )
    lost = []
    for path in paths:
        parts = path.split(".")[1:]
        in_sent = any(_present(s.sent, parts) for s, _ in pairs)
        if in_sent and not any(_present(res, parts) for _, res in pairs):
            lost.append(path)
    assert not lost, f"must-support elements sent but never returned: {lost}"
