"""Administrative units: the 63 provinces before 01/07/2025 (CCCD prefixes, legacy BHYT cards),
the 34 provinces and 3,321 communes of 2025, and the commune → province consistency rule.

The province lists are ``data/provinces.json``; the communes are read from the built IG package
(CodeSystem ``vhr-commune``, generated at build time), so the runtime never needs the
``vietnam-provinces`` wheel.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from vhr_conformance.i18n import Text
from vhr_conformance.vn._data import Finding, load


@dataclass(frozen=True, slots=True)
class LegacyProvince:
    code: str  # 2 digits, QĐ 124/2004/QĐ-TTg
    name: str
    successor: str  # the 2025 province it merged into (NQ 202/2025/QH15)


@cache
def legacy_provinces() -> tuple[LegacyProvince, ...]:
    """The 63 provinces before the 2025 merger, by code."""
    rows = load("provinces")["legacy"]["provinces"]
    return tuple(LegacyProvince(r["code"], r["name"], r["successor"]) for r in rows)


@cache
def legacy_codes() -> frozenset[str]:
    return frozenset(p.code for p in legacy_provinces())


@cache
def current_codes() -> frozenset[str]:
    """The 34 province codes in force from 01/07/2025."""
    return frozenset(load("provinces")["current"]["codes"])


def merger_date() -> str:
    """The day the 34 provinces took effect (ISO), NQ 202/2025/QH15."""
    return str(load("provinces")["merger"]["effective"])


def successor(legacy_code: str) -> str | None:
    """The 2025 province a pre-2025 province merged into."""
    return next((p.successor for p in legacy_provinces() if p.code == legacy_code), None)


@dataclass(frozen=True, slots=True)
class ResolvedProvince:
    """A stated province code read as a 2025 province, and how it was read."""

    stated: str
    code: str | None  # 2025 code, None when the stated value is no province code
    how: str  # "2025", "padded" (001 → 01), "legacy" (pre-2025 code → its successor), "unknown"


def resolve_province(stated: str) -> ResolvedProvince:
    """Read a stated province code: a 2025 code as is; ``0``-padded 3-digit codes (as CCCD prefixes
    write them) without the padding; a pre-2025 code as the 2025 province it merged into. The 34
    codes of 2025 are all pre-2025 codes too, so a code that is a 2025 code is read as one."""
    code, how = stated, "2025"
    if len(stated) == 3 and stated.startswith("0"):
        code, how = stated[1:], "padded"
    if code in current_codes():
        return ResolvedProvince(stated, code, how)
    if code in legacy_codes():
        return ResolvedProvince(stated, successor(code), "legacy")
    return ResolvedProvince(stated, None, "unknown")


@cache
def _communes() -> dict[str, str]:
    """Commune code → 2025 province code, from the IG package ({} when it is not built)."""
    try:
        from vhr_conformance.ig import ig_package_dir

        base = ig_package_dir()
        path = base / "CodeSystem-vhr-commune.json"
        if not path.is_file():
            path = base / "package" / "CodeSystem-vhr-commune.json"
        data = json.loads(path.read_text(encoding="utf-8"))
    except Exception:  # no package: the rule cannot be judged and stays silent
        return {}
    out: dict[str, str] = {}
    for c in data.get("concept", []):
        for p in c.get("property", []):
            if p.get("code") == "province":
                out[c["code"]] = str(p.get("valueCode") or p.get("valueString"))
    return out


def communes_of(province: str) -> list[str]:
    """The 2025 commune codes of a 2025 province, sorted ([] when the IG package is not built)."""
    return sorted(c for c, p in _communes().items() if p == province)


def commune_province(commune: str) -> str | None:
    """The 2025 province of a 2025 commune code, None when the code is not a 2025 commune."""
    return _communes().get(commune)


def check_commune_province(
    stated_province: str,
    commune: str,
    lookup: Callable[[str], str | None] | None = None,
) -> list[Finding]:
    """VN-ADDR-001: the stated province must be the commune's own province.

    Judged only when the commune is a known 2025 commune and the stated value is a province code
    (an unknown code is reported once, by the code-list check). A pre-2025 province code is read as
    its 2025 successor (``resolve_province``).
    """
    actual = (lookup or commune_province)(commune)
    if actual is None:
        return []
    resolved = resolve_province(stated_province)
    if resolved.code is None or resolved.code == actual:
        return []
    via = "" if resolved.how in ("2025", "padded") else f" → {resolved.code}"
    return [
        Finding(
            "VN-ADDR-001",
            Text(
                "Xã/phường {c} thuộc tỉnh {a}, không thuộc tỉnh đã ghi {p}{via}",
                "Commune {c} belongs to province {a}, not to the stated province {p}{via}",
            ).format(c=commune, a=actual, p=stated_province, via=via),
            part="province",
        )
    ]
