"""The XML 130 code lists of a standard version, each with its confidence and the IG CodeSystem
that carries it (a test checks the two agree).

Here, not in :mod:`vhr_conformance.vn`, because the lists are defined by ``xml130/tables`` and
``xml130`` imports ``vn``: keeping them on this side leaves no import cycle between the packages.
"""

from __future__ import annotations

from dataclasses import dataclass

from vhr_conformance.xml130.tables import DEFAULT_STANDARD, load_standard

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
