"""Layer 7: Vietnamese rules that FHIRPath cannot express cleanly, each with a stable id.

VN-ADDR-001 needs a look-up in a 3,321-code CodeSystem (commune → province); VN-ICD-001 (ICD-10
codes unknown to WHO 2019) lives in the terminology hook of the engine because it runs on every
Coding.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from vhr_conformance.validator.fhirpath import NATIVE, EvalEnv, FhirPathError, seq
from vhr_conformance.validator.messages import M

if TYPE_CHECKING:
    from vhr_conformance.validator.run import Context, Run

BASE = "https://vhr-conformance.org/fhir"
PROVINCE_EXT = f"{BASE}/StructureDefinition/vhr-address-province"
COMMUNE_EXT = f"{BASE}/StructureDefinition/vhr-address-commune"
COMMUNE_CS = f"{BASE}/CodeSystem/vhr-commune"
PROVINCE_CS = f"{BASE}/CodeSystem/vhr-province"


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
    actual = (cs.properties.get(commune) or {}).get("province")
    if actual is None:
        return  # unknown commune: the terminology layer reports code-unknown
    provinces = validator.terminology.code_system(PROVINCE_CS)
    if provinces is not None and not provinces.has(province):
        return  # unknown province: reported as code-unknown, a mismatch would only repeat it
    if str(actual) != province:
        run.add(
            "error",
            "business-rule",
            f"{loc}.extension[{commune_idx}]",
            "VN-ADDR-001",
            M["VN-ADDR-001"].format(commune=commune, province=province, actual=actual),
        )


# ---------------------------------------------------------------------------- CCCD invariants
# Native equivalents of the IG's vhr-cccd-3 and vhr-cccd-4 (FHIRPath with where/matches/iif/div,
# about 1 ms each in fhirpathpy). Keyed by the exact expression: if the IG changes it, fhirpathpy
# evaluates the new text. tests/validator compares both engines on sample patients.
CCCD = "http://fhir.hl7.org.vn/core/sid/cccd"
_TWELVE = re.compile(r"^[0-9]{12}$")
CCCD_3 = "(birthDate.exists() and (gender = 'male' or gender = 'female') and identifier.where(system = 'http://fhir.hl7.org.vn/core/sid/cccd' and value.matches('^[0-9]{12}$')).exists()) implies identifier.where(system = 'http://fhir.hl7.org.vn/core/sid/cccd' and value.matches('^[0-9]{12}$')).value.substring(3, 1) = (((birthDate.toString().substring(0, 4).toInteger() div 100) - 19) * 2 + iif(gender = 'female', 1, 0)).toString()"
CCCD_4 = "(birthDate.exists() and identifier.where(system = 'http://fhir.hl7.org.vn/core/sid/cccd' and value.matches('^[0-9]{12}$')).exists()) implies identifier.where(system = 'http://fhir.hl7.org.vn/core/sid/cccd' and value.matches('^[0-9]{12}$')).value.substring(4, 2) = birthDate.toString().substring(2, 2)"


def _cccd_values(x: dict[str, Any]) -> list[str]:
    return [
        i["value"]
        for i in seq(x.get("identifier"))
        if isinstance(i, dict)
        and i.get("system") == CCCD
        and isinstance(i.get("value"), str)
        and _TWELVE.search(i["value"])
    ]


def _one(values: list[str]) -> str:
    if len(values) > 1:  # FHIRPath substring() on a collection is an evaluation error
        raise FhirPathError("substring() applied to several CCCD identifiers")
    return values[0]


def _cccd_3(x: Any, env: EvalEnv) -> bool:
    bd, gender = x.get("birthDate"), x.get("gender")
    ids = _cccd_values(x)
    if not (isinstance(bd, str) and gender in ("male", "female") and ids):
        return True
    year = bd[:4]
    if len(year) < 4 or not year.isdigit():
        return False  # toInteger() of a non-number is empty: the comparison is empty, which fails
    expected = str((int(year) // 100 - 19) * 2 + (1 if gender == "female" else 0))
    return _one(ids)[3:4] == expected


def _cccd_4(x: Any, env: EvalEnv) -> bool:
    bd = x.get("birthDate")
    ids = _cccd_values(x)
    if not (isinstance(bd, str) and ids):
        return True
    if len(bd) < 4:
        return False
    return _one(ids)[4:6] == bd[2:4]


NATIVE[("vhr-cccd-3", CCCD_3)] = _cccd_3
NATIVE[("vhr-cccd-4", CCCD_4)] = _cccd_4
