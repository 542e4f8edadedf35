"""Layer 7: Vietnamese rules, each with a stable id, all decided by :mod:`vhr_conformance.vn`.

VN-ADDR-001 needs a look-up in a 3,321-code CodeSystem (commune → province); VN-ICD-001 (ICD-10
codes unknown to WHO 2019) lives in the terminology hook of the engine because it runs on every
Coding. The IG's CCCD and BHYT invariants (rendered from the same data by ``vn.fsh``) run here as
native functions calling the shared checks, so ``vhr validate`` and ``vhr xml validate`` judge the
same facts the same way.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from vhr_conformance import vn
from vhr_conformance.names import CANONICAL, SID_BHYT, SID_CCCD
from vhr_conformance.validator.fhirpath import NATIVE, EvalEnv, NativeFn, compare_datetimes, seq
from vhr_conformance.validator.messages import M
from vhr_conformance.vn import bhyt, cccd
from vhr_conformance.vn.fsh import DATE_RE, EXT_GROUP, EXT_LEVEL, invariants

if TYPE_CHECKING:
    from vhr_conformance.validator.run import Context, Run

PROVINCE_EXT = f"{CANONICAL}/StructureDefinition/vhr-address-province"
COMMUNE_EXT = f"{CANONICAL}/StructureDefinition/vhr-address-commune"
COMMUNE_CS = f"{CANONICAL}/CodeSystem/vhr-commune"
PROVINCE_CS = f"{CANONICAL}/CodeSystem/vhr-province"


def _coding_code(ext: dict[str, Any]) -> str | None:
    coding = ext.get("valueCoding")
    if isinstance(coding, dict) and isinstance(coding.get("code"), str):
        return coding["code"]
    return None


def check_address(validator: Context, address: dict[str, Any], loc: str, run: Run) -> None:
    """VN-ADDR-001: the commune code's ``province`` property must equal the address's province code."""
    exts = address.get("extension")
    if not isinstance(exts, list):
        return
    province = commune = None
    commune_idx = -1
    for i, ext in enumerate(exts):
        if not isinstance(ext, dict):
            continue
        url = ext.get("url")
        if url == PROVINCE_EXT:
            province = _coding_code(ext)
        elif url == COMMUNE_EXT:
            commune = _coding_code(ext)
            commune_idx = i
    if province is None or commune is None:
        return
    cs = validator.terminology.code_system(COMMUNE_CS)
    if cs is None:
        return
    provinces = validator.terminology.code_system(PROVINCE_CS)
    if provinces is not None and not provinces.has(province):
        return  # unknown province: reported as code-unknown, a mismatch would only repeat it

    def lookup(code: str) -> str | None:
        actual = (cs.properties.get(code) or {}).get("province")
        return None if actual is None else str(actual)  # unknown commune: code-unknown says it

    for f in vn.check_commune_province(province, commune, lookup):
        run.add(
            "error",
            "business-rule",
            f"{loc}.extension[{commune_idx}]",
            f.rule,
            M["VN-ADDR-001"].format(commune=commune, province=province, actual=lookup(commune)),
        )


# ---------------------------------------------------------------------------- CCCD and BHYT
# Native equivalents of the IG's vhr-cccd-* and vhr-bhyt-* (FHIRPath with where/select/iif/div,
# about 1 ms each in fhirpathpy). Keyed by the exact expression: if the IG changes it, fhirpathpy
# evaluates the new text. tests/vn compares both engines on cases written from the rules.
CCCD = SID_CCCD
_DATE = re.compile(DATE_RE)


def _value(x: Any, system: str) -> str | bool | None:
    """The identifier's value when it has ``system``; False when it is another identifier."""
    if not isinstance(x, dict) or x.get("system") != system:
        return False
    v = x.get("value")
    return v if isinstance(v, str) else None


def _identifier_rule(key: str) -> NativeFn:
    if key == "vhr-cccd-1":

        def cccd_1(x: Any, env: EvalEnv) -> bool:
            v = _value(x, SID_CCCD)
            return v is False or (isinstance(v, str) and cccd.TWELVE.match(v) is not None)

        return cccd_1
    if key == "vhr-cccd-2":

        def cccd_2(x: Any, env: EvalEnv) -> bool:
            v = _value(x, SID_CCCD)
            return not (isinstance(v, str) and cccd.TWELVE.match(v)) or cccd.prefix_ok(v)

        return cccd_2
    if key == "vhr-bhyt-1":

        def bhyt_1(x: Any, env: EvalEnv) -> bool:
            v = _value(x, SID_BHYT)
            return v is False or (isinstance(v, str) and bhyt.SHAPE.match(v) is not None)

        return bhyt_1

    def card_rule(x: Any, env: EvalEnv) -> bool:
        v = _value(x, SID_BHYT)
        if not (isinstance(v, str) and bhyt.LEGACY.match(v)):
            return True
        return all(f.rule != key for f in bhyt.check_bhyt(v))

    return card_rule


def _cccd_values(x: dict[str, Any]) -> list[str]:
    return [
        i["value"]
        for i in seq(x.get("identifier"))
        if isinstance(i, dict)
        and i.get("system") == CCCD
        and isinstance(i.get("value"), str)
        and cccd.TWELVE.match(i["value"])
    ]


def _patient_rule(key: str) -> NativeFn:
    """vhr-cccd-3/4/5: every CCCD of the patient against its birth date (and sex, when known)."""

    def rule(x: Any, env: EvalEnv) -> bool:
        if not isinstance(x, dict):
            return True
        bd = x.get("birthDate")
        ids = _cccd_values(x)
        if not (isinstance(bd, str) and _DATE.match(bd) and ids):
            return True  # nothing to judge, or a malformed date the primitive check reports
        gender = x.get("gender")
        sex = gender if gender in cccd.SEXES else None
        year = int(bd[:4])
        return all(f.rule != key for v in ids for f in cccd.check_cccd(v, year, sex, bd))

    return rule


def _ext_codes(x: dict[str, Any], url: str) -> set[str]:
    out = set()
    for e in seq(x.get("extension")):
        c = e.get("valueCoding") if isinstance(e, dict) and e.get("url") == url else None
        if isinstance(c, dict) and isinstance(c.get("code"), str):
            out.add(c["code"])
    return out


def _coverage_parts(x: Any, env: EvalEnv) -> bool:
    """vhr-bhyt-6: the group and level extensions say what the legacy card's letters say."""
    if not isinstance(x, dict):
        return True
    cards = [
        i["value"]
        for i in seq(x.get("identifier"))
        if isinstance(i, dict)
        and i.get("system") == SID_BHYT
        and isinstance(i.get("value"), str)
        and bhyt.LEGACY.match(i["value"])
    ]
    if not cards:
        return True
    groups = {c[:2] for c in cards} | _ext_codes(x, EXT_GROUP)
    # a level outside 1–5 breaks the extension's required binding: reported there, not again here
    levels = {c[2] for c in cards} | (_ext_codes(x, EXT_LEVEL) & set(bhyt.levels()))
    return len(groups) == 1 and len(levels) == 1


def _coverage_level(x: Any, env: EvalEnv) -> bool:
    """vhr-bhyt-7: with no legacy card, the level extension is one the group extension carries."""
    if not isinstance(x, dict) or any(
        isinstance(i, dict)
        and i.get("system") == SID_BHYT
        and isinstance(i.get("value"), str)
        and bhyt.LEGACY.match(i["value"])
        for i in seq(x.get("identifier"))
    ):
        return True
    groups, levels = _ext_codes(x, EXT_GROUP), _ext_codes(x, EXT_LEVEL)
    if len(groups) != 1 or len(levels) != 1:
        return True  # absent (or repeated: the extension's cardinality says so)
    (code,), (level,) = groups, levels
    group = bhyt.groups().get(code)
    if group is None or not group.levels_confirmed or level not in bhyt.levels():
        return True  # unknown group or level: the bindings say so; unconfirmed levels: not judged
    return level in group.levels


_PATIENT_RULES = {"vhr-cccd-3", "vhr-cccd-4", "vhr-cccd-5"}
_COVERAGE_RULES = {"vhr-bhyt-6": _coverage_parts, "vhr-bhyt-7": _coverage_level}
for _inv in invariants():
    if _inv.key in _COVERAGE_RULES:
        NATIVE[(_inv.key, _inv.expression)] = _COVERAGE_RULES[_inv.key]
    elif _inv.key in _PATIENT_RULES:
        NATIVE[(_inv.key, _inv.expression)] = _patient_rule(_inv.key)
    else:
        NATIVE[(_inv.key, _inv.expression)] = _identifier_rule(_inv.key)
EXPRESSIONS = {_inv.key: _inv.expression for _inv in invariants()}
CCCD_3, CCCD_4 = EXPRESSIONS["vhr-cccd-3"], EXPRESSIONS["vhr-cccd-4"]
_cccd_3, _cccd_4 = NATIVE[("vhr-cccd-3", CCCD_3)], NATIVE[("vhr-cccd-4", CCCD_4)]

# vhr-pat-1 (birth date not in the future), guarded like the CCCD rules so that a malformed date is
# one error (the primitive check's), not two. Compared as zero-padded ISO text, so that a partial
# date that may be today ("2026-12" in December 2026) passes: ``birthDate <= today()`` is empty
# there (different precisions), and an empty invariant fails in the HL7 validator.
PAT_1 = (
    f"(birthDate.exists() and birthDate.toString().matches('{DATE_RE}')) "
    "implies birthDate.toString() <= today().toString()"
)


def _pat_1(x: Any, env: EvalEnv) -> bool:
    bd = x.get("birthDate") if isinstance(x, dict) else None
    if not (isinstance(bd, str) and _DATE.match(bd)):
        return True
    # as FHIRPath: a partial date that may be today or earlier is not "in the future"
    return compare_datetimes(bd, dt.date.today().isoformat()) is not False


NATIVE[("vhr-pat-1", PAT_1)] = _pat_1
