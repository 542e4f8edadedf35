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
- :func:`ethnic_groups`, :func:`ethnic_extra_codes`, :data:`TIME_ZONE`, :data:`UTC_OFFSET`;
- :func:`code_lists` (the XML 130 code lists, with confidence, and the IG CodeSystem of each).
"""

from __future__ import annotations

from dataclasses import dataclass
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


# XML 130 code list (xml130/tables/*.yaml, the definition) → the IG CodeSystem that carries it
CODE_SYSTEMS = {
    "gioi_tinh": "vhr-gender-xml130",
    "ket_qua_dtri": "vhr-treatment-result",
    "ma_loai_rv": "vhr-discharge-type",
    "ma_loai_kcb": "vhr-form-of-care",
    "ma_doituong_kcb": "vhr-patient-category",
    "ma_tai_nan": "vhr-accident-type",
    "pp_vo_cam": "vhr-anaesthesia-method",
    "ma_khuvuc": "vhr-living-area",
}


@dataclass(frozen=True, slots=True)
class CodeList:
    name: str  # e.g. "ma_loai_kcb"
    codes: frozenset[str]
    conf: str  # "S", or "U" when the list may be incomplete (an unknown code is then a warning)
    since: dict[str, str]  # code → first valid day (yyyyMMdd)
    code_system: str | None  # IG CodeSystem id


def code_lists(standard: str | None = None) -> dict[str, CodeList]:
    """The XML 130 code lists of a standard version (default: the one in force)."""
    from vhr_conformance.xml130.tables import DEFAULT_STANDARD, load_standard  # xml130 imports vn

    std = load_standard(standard or DEFAULT_STANDARD)
    return {
        name: CodeList(
            name,
            codes,
            "U" if name in std.codes_unconfirmed else "S",
            std.codes_since.get(name, {}),
            CODE_SYSTEMS.get(name),
        )
        for name, codes in std.codes.items()
    }


__all__ = [
    "CODE_SYSTEMS",
    "TIME_ZONE",
    "UTC_OFFSET",
    "CodeList",
    "Finding",
    "admin",
    "bhyt",
    "cccd",
    "check_bhyt",
    "check_cccd",
    "check_commune_province",
    "code_lists",
    "ethnic_extra_codes",
    "ethnic_groups",
    "names",
]
