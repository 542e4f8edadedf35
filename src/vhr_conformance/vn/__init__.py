"""Vietnamese rules, defined once and used by every stage that needs them.

The FHIR validator (``validator/vnrules.py`` and the IG's invariants rendered by :mod:`.fsh`),
``vhr xml validate``, ``vhr xml to-fhir`` and the generator all read these functions and the data
files under ``vn/data`` (each fact with its source and confidence: P primary, S secondary,
U unconfirmed — checked as a warning marked so).

Public API:

- :func:`check_cccd` (``value, birth_year, sex``) and :func:`check_bhyt` (``value``) return the
  :class:`Finding` list (shared rule key, bilingual text, confirmed or not);
- :func:`bhyt.parse`, :func:`bhyt.groups`, :func:`bhyt.levels`, :func:`bhyt.province_codes`;
- :func:`admin.legacy_provinces`, :func:`admin.current_codes`, :func:`admin.successor`,
  :func:`admin.resolve_province`, :func:`admin.commune_province`, :func:`check_commune_province`;
- :func:`cccd.century_sex_digit` (the 4th digit a birth year and sex give);
- :func:`ethnic_groups`, :data:`TIME_ZONE`, :data:`UTC_OFFSET`.
"""

from __future__ import annotations

from functools import cache

from vhr_conformance.vn import admin, bhyt, cccd
from vhr_conformance.vn._data import Finding, load
from vhr_conformance.vn.admin import check_commune_province
from vhr_conformance.vn.bhyt import check_bhyt
from vhr_conformance.vn.cccd import check_cccd

TIME_ZONE = "Asia/Ho_Chi_Minh"  # no daylight saving
UTC_OFFSET = "+07:00"


@cache
def ethnic_groups() -> dict[str, str]:
    """MA_DANTOC code → name, the 54 groups of the GSO 1979 list (not the 2008 numbering)."""
    return {g["code"]: g["name"] for g in load("ethnicity")["groups"]}


__all__ = [
    "TIME_ZONE",
    "UTC_OFFSET",
    "Finding",
    "admin",
    "bhyt",
    "cccd",
    "check_bhyt",
    "check_cccd",
    "check_commune_province",
    "ethnic_groups",
]
