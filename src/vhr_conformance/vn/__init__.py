"""Vietnamese rules, defined once and used by every stage that needs them.

The FHIR validator (``validator/vnrules.py`` and the IG's invariants rendered by :mod:`.fsh`),
``vhr xml validate``, ``vhr xml to-fhir`` and ``vhr xml generate`` read these functions and the data
files under ``vn/data`` (and so does the FHIR generator: BHYT groups, levels, province digits) (each fact with its source and confidence: P primary, S secondary,
U unconfirmed — checked as a warning marked so).

Public API:

- :func:`check_cccd` (``value, birth_year, sex, birth_date``), :func:`check_bhyt` (``value``) and
  :func:`check_commune_province` (``province, commune``) return :class:`Finding`s (shared rule key,
  bilingual text, ``confirmed``, ``severity``);
- :func:`bhyt.groups` (code → :class:`bhyt.Group` with its levels, confirmed or not),
  :func:`bhyt.levels`, :func:`bhyt.rates`, :func:`bhyt.parse`, :func:`bhyt.province_codes`,
  :func:`bhyt.agency_provinces`;
- :func:`cccd.century_sex_digit` (the 4th digit a birth year and sex give), :func:`cccd.prefix_ok`;
- :func:`admin.legacy_provinces`, :func:`admin.current_codes`, :func:`admin.successor`,
  :func:`admin.merger_date`, :func:`admin.resolve_province`, :func:`admin.commune_province`,
  :func:`admin.communes_of`;
- :func:`names.split_full_name` (family name of one word or a listed multi-word one, e.g. Tôn Thất),
  :func:`names.multi_word_family_names`;
- :func:`ethnic_groups`, :func:`ethnic_extra_codes`, :data:`TIME_ZONE`, :data:`UTC_OFFSET`.

The XML 130 code lists with their IG CodeSystems are :func:`vhr_conformance.xml130.codelists.code_lists`
(they are defined by ``xml130/tables``, which imports this package).
"""

from __future__ import annotations

from functools import cache

from vhr_conformance.vn import admin, bhyt, cccd, names
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


@cache
def ethnic_extra_codes() -> dict[str, str]:
    """Codes some systems add to the 54 (55 foreigner, 56 unknown) [U]: not in the GSO list."""
    return {k: v["vi"] for k, v in load("ethnicity")["extra"]["codes"].items()}


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
    "ethnic_extra_codes",
    "ethnic_groups",
    "names",
]
