"""Layer 7: Vietnamese rules that FHIRPath cannot express cleanly, each with a stable id.

VN-ADDR-001 needs a look-up in a 3,321-code CodeSystem (commune → province); VN-ICD-001 (ICD-10
codes unknown to WHO 2019) lives in the terminology hook of the engine because it runs on every
Coding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vhr_conformance.validator.messages import M

if TYPE_CHECKING:
    from vhr_conformance.validator.engine import Run, Validator

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


def check_address(validator: Validator, address: dict[str, Any], loc: str, run: Run) -> None:
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
