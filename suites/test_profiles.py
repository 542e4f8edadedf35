"""Profiles (QUAL đúng/đủ, PAT-001): every returned resource validates; must-support data is kept."""

from __future__ import annotations

from typing import Any

from vhr_conformance.i18n import Text
from vhr_conformance.igmodel import IgModel
from vhr_conformance.outcome import check, not_applicable, not_tested
from vhr_conformance.pytest_plugin import criterion
from vhr_conformance.runner.checks import require_judged, short
from vhr_conformance.seed import SeedData


def _copies_with_profile(
    seed: SeedData, copies: dict[str, dict[str, Any]], profile: str
) -> list[tuple[Any, dict[str, Any]]]:
    out = [
        (s, copies[f"{s.type}/{s.id}"]) for s in seed.with_profile(profile) if f"{s.type}/{s.id}" in copies
    ]
    if not out:
        not_tested(
            Text(
                f"Máy chủ không trả lại dữ liệu thử nào theo profile {profile.rsplit('/', 1)[-1]} (cần dữ liệu "
                "phủ fixtures/coverage có profile này và máy chủ nhận được).",
                f"The target returned no test data of profile {profile.rsplit('/', 1)[-1]} (the coverage "
                "fixtures must hold that profile and the target must accept them).",
            )
        )
    return out


def _errors(validator: Any, resource: dict[str, Any], profile: str) -> list[str]:
    issues = validator.validate(resource, profiles=[profile])
    return [f"{i.location}: {i.rule}: {i.text.en}" for i in issues if i.severity in ("fatal", "error")]


@criterion("VHR-QUAL-001")
def test_returned_resources_validate(
    profile_url: tuple[str, str], seed: SeedData, validator: Any, server_copies: dict[str, dict[str, Any]]
) -> None:
    _, profile = profile_url
    bad: list[str] = []
    for s, res in _copies_with_profile(seed, server_copies, profile):
        errs = _errors(validator, res, profile)
        if errs:
            bad.append(f"{s.type}/{s.id}: " + "; ".join(errs[:3]))
    check(
        not bad,
        Text(
            "{n} tài nguyên máy chủ trả lại không đạt profile {p}: {b}.",
            "{n} returned resources fail profile {p}: {b}.",
        ).format(n=len(bad), p=profile.rsplit("/", 1)[-1], b=short(bad, 3)),
    )


@criterion("VHR-PAT-001")
def test_patients_validate(
    ig: IgModel, seed: SeedData, validator: Any, server_copies: dict[str, dict[str, Any]]
) -> None:
    profiles = ig.resources["Patient"].profiles if "Patient" in ig.resources else []
    if not profiles:
        not_applicable(Text("IG không có profile Patient.", "The IG has no Patient profile."))
    bad = []
    for s, res in _copies_with_profile(seed, server_copies, profiles[0]):
        errs = _errors(validator, res, profiles[0])
        if errs:
            bad.append(f"Patient/{s.id}: " + "; ".join(errs[:3]))
    check(
        not bad,
        Text(
            "{n} người bệnh máy chủ trả lại không đạt {p}: {b}.",
            "{n} returned patients fail {p}: {b}.",
        ).format(n=len(bad), p=profiles[0].rsplit("/", 1)[-1], b=short(bad, 3)),
    )


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


@criterion("VHR-QUAL-002")
def test_must_support_kept(
    profile_url: tuple[str, str], ig: IgModel, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    _, profile = profile_url
    pairs = _copies_with_profile(seed, server_copies, profile)
    paths = ig.must_support_paths(profile)
    if not paths:
        not_applicable(
            Text("Profile không có phần tử must-support.", "The profile has no must-support elements.")
        )
    lost, judged = [], 0
    for path in paths:
        parts = path.split(".")[1:]
        if not any(_present(s.sent, parts) for s, _ in pairs):
            continue
        judged += 1
        if not any(_present(res, parts) for _, res in pairs):
            lost.append(path)
    require_judged(
        judged,
        Text(
            "Dữ liệu thử theo {p} không chứa phần tử must-support nào để so.",
            "The test data of {p} holds no must-support element to compare.",
        ).format(p=profile.rsplit("/", 1)[-1]),
    )
    check(
        not lost,
        Text(
            "{n}/{t} phần tử must-support đã gửi nhưng không bao giờ được trả lại: {l}.",
            "{n} of {t} must-support elements sent were never returned: {l}.",
        ).format(n=len(lost), t=judged, l=short(lost, 8)),
    )
