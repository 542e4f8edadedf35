"""Names and value conversions of the XML 130 ↔ FHIR mapping: URLs, code tables, XML ↔ FHIR
date and number forms, the IG code systems the mapping writes. The field table itself is
:mod:`vhr_conformance.xml130.mapping`."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache
from typing import Any

# the mapping's URLs are the project's shared names, re-exported for the mapping modules
from vhr_conformance.names import CANONICAL as BASE
from vhr_conformance.names import ICD10 as ICD10
from vhr_conformance.names import LOINC as LOINC
from vhr_conformance.names import SID as SID
from vhr_conformance.names import SID_BHYT as SID_BHYT
from vhr_conformance.names import SID_CCCD as SID_CCCD
from vhr_conformance.names import SID_CMND as SID_CMND
from vhr_conformance.names import SID_CSKCB as SID_CSKCB
from vhr_conformance.names import SID_MALK as SID_MALK
from vhr_conformance.names import UCUM as UCUM
from vhr_conformance.vn import names as vn_names

SD = f"{BASE}/StructureDefinition"
CS = f"{BASE}/CodeSystem"
ACTCODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
NATIONALITY = "http://hl7.org/fhir/StructureDefinition/patient-nationality"
BIRTH_TIME = "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
TZ = "+07:00"
PAYOR = "Bảo hiểm xã hội Việt Nam"


def profile(pid: str) -> str:
    return f"{SD}/{pid}"


def ext_url(eid: str) -> str:
    return f"{SD}/{eid}"


def cs_url(cid: str) -> str:
    return f"{CS}/{cid}"


# MA_LOAI_KCB → Encounter.class (v3-ActCode)
CLASS_BY_FORM = {
    "01": "AMB",
    "02": "AMB",
    "03": "IMP",
    "04": "SS",
    "05": "AMB",
    "06": "SS",
    "07": "AMB",
    "08": "AMB",
    "09": "SS",
    "10": "AMB",
    "11": "FLD",
    "12": "HH",
    "13": "AMB",
    "14": "VR",
    "15": "AMB",
    "16": "AMB",
}
CLASS_DISPLAY = {
    "AMB": "ambulatory",
    "IMP": "inpatient encounter",
    "SS": "short stay",
    "FLD": "field",
    "HH": "home health",
    "VR": "virtual",
    "EMER": "emergency",
}
GENDER = {"1": "male", "2": "female", "3": "unknown"}
GENDER_BACK = {"male": "1", "female": "2", "unknown": "3", "other": "3"}
LOINC_RE = re.compile(r"^\d{1,7}-\d$")


# ---- value conversions -------------------------------------------------------------------------
def xml_datetime(v: str) -> str | None:
    """yyyyMMddHHmm → FHIR dateTime in +07:00 (None when not that shape)."""
    if len(v) == 12 and v.isdigit():
        return f"{v[:4]}-{v[4:6]}-{v[6:8]}T{v[8:10]}:{v[10:12]}:00{TZ}"
    if len(v) == 8 and v.isdigit():
        return f"{v[:4]}-{v[4:6]}-{v[6:8]}"
    return None


def xml_date(v: str) -> str | None:
    return f"{v[:4]}-{v[4:6]}-{v[6:8]}" if len(v) >= 8 and v[:8].isdigit() else None


def xml_birth(v: str) -> tuple[str | None, str | None]:
    """NGAY_SINH → (birthDate with 00 day/month made partial, birthTime dateTime or None)."""
    if len(v) < 8 or not v[:8].isdigit():
        return None, None
    y, m, d = v[:4], v[4:6], v[6:8]
    if m == "00":
        return y, None
    if d == "00":
        return f"{y}-{m}", None
    date = f"{y}-{m}-{d}"
    t = v[8:12] if len(v) >= 12 else ""
    if t and t != "0000" and t.isdigit():
        return date, f"{date}T{t[:2]}:{t[2:]}:00{TZ}"
    return date, None


def fhir_to_local(v: str | None) -> str:
    """FHIR dateTime (any offset) → yyyyMMddHHmm in Vietnam time; date → yyyyMMdd."""
    if not v:
        return ""
    from datetime import datetime, timedelta, timezone

    if len(v) <= 10:
        return v.replace("-", "")
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone(timedelta(hours=7)))
    return dt.strftime("%Y%m%d%H%M")


def birth_from_fhir(date: str | None, time: str | None = None) -> str:
    if not date:
        return ""
    parts = date.split("-")
    y = parts[0]
    m = parts[1] if len(parts) > 1 else "00"
    d = parts[2] if len(parts) > 2 else "00"
    hm = fhir_to_local(time)[8:12] if time else "0000"
    return f"{y}{m}{d}{hm or '0000'}"


def split_name(full: str) -> tuple[str, list[str]]:
    """Family name (first word, or a known multi-word one: vn/data/family_names.json), given names."""
    return vn_names.split_full_name(full)


def icd_norm(code: str) -> str:
    """ICD-10 as compared: upper case, no dot."""
    return code.replace(".", "").strip().upper()


def num(v: str) -> int | float | None:
    try:
        d = Decimal(v)
    except Exception:
        return None
    if not d.is_finite():
        return None
    return int(d) if d == d.to_integral_value() and "." not in v else float(d)


# ---- IG terminology used by the mapping -------------------------------------------------------
@cache
def ig_codes(cs_id: str) -> dict[str, dict[str, Any]]:
    """Concepts of one VHR CodeSystem (code → concept), {} when the IG package is not built."""
    try:
        from vhr_conformance.ig import ig_package_dir

        path = ig_package_dir() / f"CodeSystem-{cs_id}.json"
        if not path.is_file():
            path = ig_package_dir() / "package" / f"CodeSystem-{cs_id}.json"
        data = json.loads(path.read_text(encoding="utf-8"))
    except Exception:  # package missing or unreadable: the mapping reports the field unmapped
        return {}
    return {c["code"]: c for c in data.get("concept", [])}


def concept_property(concept: dict[str, Any], name: str) -> str | None:
    for p in concept.get("property", []):
        if p.get("code") == name:
            return p.get("valueCode") or p.get("valueString")
    return None


def coding(cs_id: str, code: str) -> dict[str, str]:
    c = {"system": cs_url(cs_id), "code": code}
    concept = ig_codes(cs_id).get(code)
    if concept and concept.get("display"):
        c["display"] = concept["display"]
    return c


# ---- reading FHIR resources -------------------------------------------------------------------
def ident(res: dict[str, Any], system: str) -> str | None:
    """The value of the resource's first identifier in ``system``."""
    for i in res.get("identifier", []) or []:
        if i.get("system") == system:
            return i.get("value")
    return None


def ext_code(res: dict[str, Any], eid: str) -> str | None:
    """The code of the resource's VHR extension ``eid`` (a valueCoding)."""
    for e in res.get("extension", []) or []:
        if e.get("url") == ext_url(eid):
            return (e.get("valueCoding") or {}).get("code")
    return None
