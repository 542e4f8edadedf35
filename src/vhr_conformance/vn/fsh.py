"""The FHIR side of the Vietnamese rules, rendered from the same data as the Python checks.

``render()`` writes the FSH of the CCCD and BHYT invariants and of the BHYT code systems into
``profiles/input/fsh/vn-rules.fsh`` (``python -m vhr_conformance.vn.fsh``); tests/vn checks the
committed file is exactly this rendering, so the IG and the XML 130 checks cannot drift apart.
The expressions stay plain FHIRPath so that any validator (HL7's, Firely's) evaluates them; the
harness's own validator runs native equivalents (``validator/vnrules.py``) keyed by the text.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from vhr_conformance.names import SID_BHYT, SID_CCCD, canonical
from vhr_conformance.vn import bhyt, cccd
from vhr_conformance.vn.admin import current_codes, legacy_codes, merger_date

EXT_GROUP = canonical("StructureDefinition", "vhr-bhyt-beneficiary-group")
EXT_LEVEL = canonical("StructureDefinition", "vhr-bhyt-benefit-level")
# FHIR date shape (year, year-month or full date): a malformed birthDate is reported once by the
# primitive check, and the CCCD rules that read it stay silent instead of failing beside it.
DATE_RE = "^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$"
FSH_FILE = Path(__file__).resolve().parents[3] / "profiles" / "input" / "fsh" / "vn-rules.fsh"


@dataclass(frozen=True, slots=True)
class Invariant:
    key: str
    vi: str
    en: str
    expression: str
    severity: str = "error"


def _alt(codes: object) -> str:
    return "|".join(sorted(codes))  # type: ignore[call-overload]


def _cccd_ids() -> str:
    return f"identifier.where(system = '{SID_CCCD}' and value.matches('^[0-9]{{12}}$'))"


def _bhyt_guard(pattern: str = bhyt.LEGACY.pattern) -> str:
    return f"(system = '{SID_BHYT}' and value.exists() and value.matches('{pattern}'))"


def invariants() -> list[Invariant]:
    """vhr-cccd-1 … 5 and vhr-bhyt-1 … 7, from the data of :mod:`vn.cccd` and :mod:`vn.bhyt`."""
    ids = _cccd_ids()
    year = "birthDate.toString().substring(0, 4).toInteger()"
    has = f"birthDate.exists() and birthDate.toString().matches('{DATE_RE}') and {ids}.exists()"
    groups = bhyt.groups()
    confirmed: dict[frozenset[str], list[str]] = {}
    for g in groups.values():
        if g.levels_confirmed:
            confirmed.setdefault(g.levels, []).append(g.code)
    by_level = "|".join(
        f"({_alt(codes)})[{''.join(sorted(lv))}]"
        for lv, codes in sorted(confirmed.items(), key=lambda kv: sorted(kv[0]))
    )
    unconf = [g for g in groups.values() if not g.levels_confirmed]
    unconf_levels = "|".join(
        f"({_alt([g.code for g in unconf if g.levels == lv])})[{''.join(sorted(lv))}]"
        for lv in sorted({g.levels for g in unconf}, key=sorted)
    )
    agency = _alt(bhyt.agency_provinces())
    cards = f"identifier.where({_bhyt_guard()[1:-1]})"
    ext_group = f"extension.where(url = '{EXT_GROUP}').value.code.toString()"
    ext_level = f"extension.where(url = '{EXT_LEVEL}').value.code.toString()"
    return [
        Invariant(
            "vhr-cccd-1",
            "Số CCCD/định danh cá nhân phải gồm đúng 12 chữ số.",
            "The CCCD (personal identification number) must be exactly 12 digits.",
            f"system = '{SID_CCCD}' implies value.matches('^[0-9]{{12}}$')",
        ),
        Invariant(
            "vhr-cccd-2",
            "3 chữ số đầu của số CCCD phải là 0 và mã một trong 63 tỉnh (trước 2025) nơi đăng ký khai sinh.",
            "The first 3 digits of the CCCD must be 0 followed by one of the 63 (pre-2025) province codes.",
            f"(system = '{SID_CCCD}' and value.exists() and value.matches('^[0-9]{{12}}$')) implies "
            f"value.matches('^0({_alt(legacy_codes())})')",
        ),
        Invariant(
            "vhr-cccd-3",
            "Chữ số thứ 4 của mỗi số CCCD phải khớp giới tính và thế kỷ sinh (1900: nam 0, nữ 1; 2000: 2/3; "
            "2100: 4/5; 2200: 6/7; 2300: 8/9); khi không rõ giới tính, chỉ xét thế kỷ.",
            "The 4th digit of every CCCD must match sex and birth century (1900s: male 0, female 1; "
            "2000s: 2/3; 2100s: 4/5; 2200s: 6/7; 2300s: 8/9); with no known sex, the century alone.",
            f"({has}) implies iif(gender = 'male' or gender = 'female', "
            f"({ids}.select(value.substring(3, 1)) | ((({year} div 100) - 19) * 2 + "
            "iif(gender = 'female', 1, 0)).toString()).count() = 1, "
            f"({ids}.select(value.substring(3, 1).toInteger() div 2) | (({year} div 100) - 19)).count() = 1)",
        ),
        Invariant(
            "vhr-cccd-4",
            "Chữ số thứ 5–6 của mỗi số CCCD phải bằng 2 chữ số cuối của năm sinh.",
            "Digits 5–6 of every CCCD must equal the last two digits of the birth year.",
            f"({has}) implies ({ids}.select(value.substring(4, 2)) | "
            "birthDate.toString().substring(2, 2)).count() = 1",
        ),
        Invariant(
            "vhr-cccd-5",
            "Chưa xác nhận: người sinh từ ngày sáp nhập tỉnh (01/07/2025) mang mã một trong 34 tỉnh mới "
            "ở 3 chữ số đầu của số CCCD.",
            "Unconfirmed: a person born on or after the province merger (2025-07-01) carries one of the "
            "34 new province codes in the first 3 CCCD digits.",
            f"(birthDate.exists() and birthDate.toString().matches('{cccd.FULL_DATE.pattern}') and "
            f"birthDate.toString() >= '{merger_date()}' and {ids}.exists()) implies "
            f"{ids}.where(value.matches('^0({_alt(legacy_codes())})'))"
            f".all(value.matches('^0({_alt(current_codes())})'))",
            "warning",
        ),
        Invariant(
            "vhr-bhyt-1",
            "Mã thẻ BHYT phải là thẻ mẫu cũ 15 ký tự, mã số BHXH 10 chữ số hoặc số CCCD 12 chữ số.",
            "The BHYT value must be a 15-character legacy card number, a 10-digit social-insurance number "
            "or a 12-digit CCCD.",
            f"system = '{SID_BHYT}' implies value.matches('{bhyt.SHAPE.pattern}')",
        ),
        Invariant(
            "vhr-bhyt-2",
            "Hai chữ cái đầu của thẻ BHYT mẫu cũ phải là một mã nhóm đối tượng của QĐ 1351/QĐ-BHXH.",
            "The first two letters of a legacy BHYT card must be a beneficiary group of QĐ 1351/QĐ-BHXH.",
            f"{_bhyt_guard()} implies value.matches('^({_alt(groups)})')",
        ),
        Invariant(
            "vhr-bhyt-3",
            "Mức hưởng (ký tự thứ 3) của thẻ BHYT mẫu cũ phải là mức của nhóm đối tượng theo QĐ 1351/QĐ-BHXH.",
            "The benefit level (3rd character) of a legacy BHYT card must be the level QĐ 1351/QĐ-BHXH "
            "gives its beneficiary group.",
            f"{_bhyt_guard('^(' + _alt(c for cs in confirmed.values() for c in cs) + ')[1-5][0-9]{12}$')} "
            f"implies value.matches('^({by_level})')",
            bhyt.level_rule_severity(),
        ),
        Invariant(
            "vhr-bhyt-4",
            "Ký tự 4–5 của thẻ BHYT mẫu cũ phải là mã một trong 63 tỉnh (trước 2025) hoặc mã BHXH Bộ Quốc "
            "phòng/Bộ Công an.",
            "Characters 4–5 of a legacy BHYT card must be one of the 63 (pre-2025) province codes or a "
            "defence/police social-insurance agency code.",
            f"{_bhyt_guard()} implies value.matches('^[A-Z]{{2}}[1-5]({_alt(bhyt.province_codes())})')",
        ),
        Invariant(
            "vhr-bhyt-5",
            "Chưa xác nhận: thẻ quân nhân, công an, cơ yếu (QN, CA, CY) mang mức hưởng 5; mã tỉnh "
            f"{agency.replace('|', ', ')} là mã BHXH Bộ Quốc phòng/Bộ Công an.",
            "Unconfirmed: military, police and cipher cards (QN, CA, CY) carry benefit level 5; province "
            f"digits {agency.replace('|', ', ')} are the defence/police social-insurance agencies' codes.",
            f"{_bhyt_guard()} implies (value.matches('^({_alt(g.code for g in unconf)})') implies "
            f"value.matches('^({unconf_levels})')) and value.matches('^[A-Z]{{2}}[1-5]({agency})').not()",
            "warning",
        ),
        Invariant(
            "vhr-bhyt-6",
            "Nhóm đối tượng và mức hưởng ghi trong phần mở rộng của thẻ phải khớp mã thẻ BHYT mẫu cũ.",
            "The beneficiary-group and benefit-level extensions must match the legacy BHYT card number.",
            f"{cards}.exists() implies "
            f"({cards}.select(value.substring(0, 2)) | extension.where(url = '{EXT_GROUP}').value.code.toString()).count() = 1 "
            f"and ({cards}.select(value.substring(2, 1)) | extension.where(url = '{EXT_LEVEL}').value.code.toString().where(matches('^[1-5]$'))).count() = 1",
        ),
        Invariant(
            "vhr-bhyt-7",
            "Thẻ không ghi nhóm trong mã (mẫu 2021, CCCD): mức hưởng ghi trong phần mở rộng phải là mức của "
            "nhóm đối tượng theo QĐ 1351/QĐ-BHXH.",
            "A card whose number carries no group (2021 card, CCCD): the benefit-level extension must be the "
            "level QĐ 1351/QĐ-BHXH gives the beneficiary-group extension.",
            f"({cards}.empty() and {ext_group}.exists() and {ext_level}.exists() and "
            f"{ext_group}.matches('^({_alt(c for cs in confirmed.values() for c in cs)})$') and "
            f"{ext_level}.matches('^[1-5]$')) implies ({ext_group} + {ext_level}).matches('^({by_level})$')",
            bhyt.level_rule_severity(),
        ),
    ]


def _q(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def render() -> str:
    """The whole generated FSH file."""
    out = [
        "// GENERATED by `python -m vhr_conformance.vn.fsh` from src/vhr_conformance/vn/data: do not edit.",
        "// The Vietnamese rules of the guide (CCCD, BHYT) and the BHYT code systems, rendered from",
        "// the same data as the XML 130 checks (one definition per rule; tests/vn checks the sync).",
        "",
    ]
    for inv in invariants():
        out += [
            f"Invariant: {inv.key}",
            f'Description: "{_q(inv.vi)} / {_q(inv.en)}"',
            f'Expression: "{_q(inv.expression)}"',
            f"Severity: #{inv.severity}",
            "",
        ]
    out += [
        "CodeSystem: VhrBhytBenefitLevelCS",
        "Id: vhr-bhyt-benefit-level",
        'Title: "Mức hưởng BHYT / BHYT benefit level"',
        'Description: "Ký tự thứ 3 của thẻ BHYT mẫu cũ: mức hưởng (QĐ 1351/QĐ-BHXH). / Third character of a '
        'legacy BHYT card: the benefit level (QĐ 1351/QĐ-BHXH)."',
        "* ^status = #active",
        "* ^experimental = false",
        "* ^caseSensitive = true",
        "* ^content = #complete",
        "* ^language = #vi",
    ]
    for code, text in bhyt.levels().items():
        out.append(f'* #"{code}" "Mức hưởng {code}: {_q(text.vi)}" "Level {code}: {_q(text.en)}"')
    out += [
        "",
        "CodeSystem: VhrBhytBeneficiaryGroupCS",
        "Id: vhr-bhyt-beneficiary-group",
        'Title: "Nhóm đối tượng tham gia BHYT / BHYT beneficiary group"',
        'Description: "Hai ký tự đầu của thẻ BHYT mẫu cũ: danh mục đóng của QĐ 1351/QĐ-BHXH, mỗi nhóm kèm '
        "mức hưởng. / First two letters of a legacy BHYT card: the closed list of QĐ 1351/QĐ-BHXH, each "
        'group with its benefit level."',
        "* ^status = #active",
        "* ^experimental = false",
        "* ^caseSensitive = true",
        "* ^content = #complete",
        "* ^language = #vi",
    ]
    for g in bhyt.groups().values():
        lv = ", ".join(sorted(g.levels))
        vi, en = (f"{lv}", f"{lv}") if g.levels_confirmed else (f"{lv}, chưa xác nhận", f"{lv}, unconfirmed")
        out.append(f'* #"{g.code}" "{_q(g.vi)} (mức hưởng {vi})" "{_q(g.en)} (benefit level {en})"')
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the FSH file (or, with ``--check``, exit 1 when the committed one is stale)."""
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in args:
        return 0 if FSH_FILE.read_text(encoding="utf-8") == text else 1
    FSH_FILE.write_text(text, encoding="utf-8")
    print(FSH_FILE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
