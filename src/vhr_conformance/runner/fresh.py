"""New resources for write tests, made from seeded ones but with fresh business identifiers.

Write tests must not touch the seeded data other checks read, and must not create duplicates a
careful server would rightly refuse (two patients with one CCCD, two encounters with one MA_LK).
"""

from __future__ import annotations

import copy
import random
from typing import Any

from vhr_conformance.fhirutil import identifier_value
from vhr_conformance.names import SID_BHYT, SID_CCCD, SID_CSKCB, tag_with_run


def century_sex_digit(birth_year: int, gender: str) -> int:
    """4th CCCD digit: century of birth (1900s → 0/1, 2000s → 2/3, …) and sex (even male, odd female)."""
    base = (birth_year // 100 - 19) * 2
    return base + (1 if gender == "female" else 0)


def new_cccd(rng: random.Random, birth_date: str | None, gender: str | None, province: str = "001") -> str:
    year = int((birth_date or "1990")[:4])
    digit = century_sex_digit(year, gender or "male") % 10
    return f"{province}{digit}{year % 100:02d}{rng.randrange(0, 10**6):06d}"


def fresh_copy(resource: dict[str, Any], rng: random.Random, run_id: str) -> dict[str, Any]:
    """A copy without id/meta versioning, tagged for the run, with new business identifiers."""
    res = copy.deepcopy(resource)
    res.pop("id", None)
    meta = res.get("meta") or {}
    res["meta"] = {k: v for k, v in meta.items() if k in ("profile",)}
    tag_with_run(res, run_id)
    for ident in res.get("identifier", []) if isinstance(res.get("identifier"), list) else []:
        system, value = ident.get("system"), str(ident.get("value", ""))
        if system == SID_CCCD:
            prov = value[:3] if len(value) == 12 and value.isdigit() else "001"
            ident["value"] = new_cccd(rng, res.get("birthDate"), res.get("gender"), prov)
        elif system == SID_CSKCB and len(value) >= 2:
            ident["value"] = value[:2] + f"{rng.randrange(0, 1000):03d}"
        elif system == SID_BHYT:
            continue
        elif value:
            ident["value"] = f"{value[:80]}-t{rng.randrange(0, 16**6):06x}"
    return res


def cccd_of(resource: dict[str, Any]) -> str | None:
    return identifier_value(resource, SID_CCCD)
