"""BHYT (social health-insurance) card numbers.

Three shapes circulate (domain notes §2): the legacy 15-character card of QĐ 1351/QĐ-BHXH
(group letters, benefit digit, province digits, 10-digit social-insurance number), the 2021 card
(the 10-digit number alone) and, since 15/08/2025, the 12-digit CCCD in its place. The closed list
of groups, the benefit level(s) each group carries and the province digits are ``data/bhyt.json``;
what is not confirmed (the defence and police agencies' cards) is checked as a warning.

Keys: vhr-bhyt-1 shape; vhr-bhyt-2 group in the closed list; vhr-bhyt-3 benefit level allowed for
the group; vhr-bhyt-4 province digits; vhr-bhyt-5 the unconfirmed agency-card facts (warning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from vhr_conformance.i18n import Text
from vhr_conformance.vn._data import Finding, load
from vhr_conformance.vn.admin import legacy_codes

LEGACY = re.compile(r"^[A-Z]{2}[1-5][0-9]{12}$")
SHAPE = re.compile(r"^([A-Z]{2}[1-5][0-9]{12}|[0-9]{10}|[0-9]{12})$")


@dataclass(frozen=True, slots=True)
class Group:
    """One beneficiary group of QĐ 1351 and the benefit levels its cards may carry."""

    code: str
    levels: frozenset[str]
    levels_confirmed: bool
    vi: str
    en: str


@dataclass(frozen=True, slots=True)
class Card:
    """A legacy card split into its parts."""

    group: str
    level: str
    province: str
    number: str  # the 10-digit social-insurance number


@cache
def groups() -> dict[str, Group]:
    """The closed list of beneficiary groups, in the order of the decision."""
    return {
        g["code"]: Group(
            g["code"], frozenset(g["levels"]), g.get("levels_conf", "S") != "U", g["vi"], g["en"]
        )
        for g in load("bhyt")["groups"]
    }


@cache
def levels() -> dict[str, Text]:
    """Benefit level digit → what it pays."""
    return {k: Text(v["vi"], v["en"]) for k, v in load("bhyt")["levels"].items()}


@cache
def rates() -> dict[str, int]:
    """Benefit level digit → the share of the cost the fund pays, in % (XML 130 ``MUC_HUONG``)."""
    return {k: int(v["rate"]) for k, v in load("bhyt")["levels"].items()}


@cache
def agency_provinces() -> dict[str, Text]:
    """Province digits taken as the defence / police social-insurance agencies' codes [U]."""
    return {k: Text(v["vi"], v["en"]) for k, v in load("bhyt")["agency_provinces"]["codes"].items()}


def level_rule_severity() -> str:
    """Severity of vhr-bhyt-3 (``data/bhyt.json`` ``level_rule``; ``warning`` relaxes it)."""
    return str(load("bhyt").get("level_rule", {}).get("severity", "error"))


def province_codes() -> frozenset[str]:
    """Province digits a legacy card may carry: the 63 pre-2025 codes and the agency codes."""
    return legacy_codes() | frozenset(agency_provinces())


def parse(value: str) -> Card | None:
    """The parts of a legacy 15-character card, None for any other shape."""
    if not LEGACY.match(value):
        return None
    return Card(value[:2], value[2], value[3:5], value[5:])


def check_bhyt(value: str) -> list[Finding]:
    """Every rule the card number breaks; a malformed value gives vhr-bhyt-1 alone."""
    return list(_check(value))


@lru_cache(maxsize=65536)  # the FHIR side asks once per rule key; cohorts repeat cards
def _check(value: str) -> tuple[Finding, ...]:
    if not SHAPE.match(value):
        return (
            Finding(
                "vhr-bhyt-1",
                Text(
                    "Mã thẻ BHYT '{v}' không phải thẻ 15 ký tự, mã BHXH 10 số hay CCCD 12 số",
                    "BHYT '{v}' is not a 15-character card, a 10-digit BHXH number or a 12-digit CCCD",
                ).format(v=value),
                part="shape",
            ),
        )
    card = parse(value)
    if card is None:
        return ()
    out: list[Finding] = []
    group = groups().get(card.group)
    if group is None:
        out.append(
            Finding(
                "vhr-bhyt-2",
                Text(
                    "Mã thẻ BHYT '{v}': '{g}' không phải mã nhóm đối tượng của QĐ 1351/QĐ-BHXH",
                    "BHYT '{v}': '{g}' is not a beneficiary group of QĐ 1351/QĐ-BHXH",
                ).format(v=value, g=card.group),
                part="group",
            )
        )
    elif card.level not in group.levels:
        allowed = ", ".join(sorted(group.levels))
        out.append(
            Finding(
                "vhr-bhyt-3" if group.levels_confirmed else "vhr-bhyt-5",
                Text(
                    "Mã thẻ BHYT '{v}': nhóm {g} có mức hưởng {a}, không phải {m}",
                    "BHYT '{v}': group {g} carries benefit level {a}, not {m}",
                ).format(v=value, g=card.group, a=allowed, m=card.level),
                confirmed=group.levels_confirmed,
                part="level",
                enforced=level_rule_severity() == "error",
            )
        )
    if card.province not in province_codes():
        out.append(
            Finding(
                "vhr-bhyt-4",
                Text(
                    "Mã thẻ BHYT '{v}': '{p}' không phải mã tỉnh (63 tỉnh trước 2025) hay mã BHXH Bộ Quốc phòng/Bộ Công an",
                    "BHYT '{v}': '{p}' is neither a (pre-2025) province code nor a defence/police agency code",
                ).format(v=value, p=card.province),
                part="province",
            )
        )
    elif card.province in agency_provinces():
        agency = agency_provinces()[card.province]
        out.append(
            Finding(
                "vhr-bhyt-5",
                Text(
                    f"Mã thẻ BHYT '{{v}}': mã tỉnh {{p}} được hiểu là {agency.vi}",
                    f"BHYT '{{v}}': province digits {{p}} read as {agency.en}",
                ).format(v=value, p=card.province),
                confirmed=False,
                part="province",
            )
        )
    return tuple(out)
