"""The one XML 130 ↔ FHIR mapping: URLs, the field → FHIR element table (used by the converter,
the unmapped-field report, the fidelity engine and docs/xml130.md), value conversions both ways,
and the FHIR → XML direction used to give every generated FHIR fixture its XML twin."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache
from typing import Any

from vhr_conformance.names import (
    CANONICAL,
    ICD10,
    LOINC,
    SID_BHYT,
    SID_CCCD,
    SID_CMND,
    SID_CSKCB,
    SID_MALK,
)
from vhr_conformance.vn import bhyt as vn_bhyt
from vhr_conformance.vn import names as vn_names

SD = f"{CANONICAL}/StructureDefinition"
CS = f"{CANONICAL}/CodeSystem"
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


# (table, field, FHIR element, note). The converter maps exactly these; any other field holding a
# value is listed as unmapped in the conversion report. ``*`` rows in XML2/3/4 are per row.
FIELD_MAP: list[tuple[str, str, str, str]] = [
    ("XML1", "MA_LK", "Encounter.identifier[maLk].value", "system …/sid/ma-lk"),
    ("XML1", "MA_BN", "Patient.identifier (type MR, assigner = MA_CSKCB)", "facility's patient number"),
    (
        "XML1",
        "HO_TEN",
        "Patient.name.text, .family (first word, or a known multi-word name), .given (other words)",
        "Vietnamese order; Tôn Thất, Âu Dương… (vn/data/family_names.json)",
    ),
    ("XML1", "SO_CCCD", "Patient.identifier[cccd] (12 digits) or [cmnd] (9 digits)", ""),
    (
        "XML1",
        "NGAY_SINH",
        "Patient.birthDate (+ patient-birthTime when HHmm ≠ 0000)",
        "day 00 → yyyy-MM, month 00 → yyyy",
    ),
    ("XML1", "GIOI_TINH", "Patient.gender", "1 male, 2 female, 3 unknown"),
    (
        "XML1",
        "NHOM_MAU",
        "Observation vhr-observation-blood-group .valueCodeableConcept",
        "when a vhr-blood-group code",
    ),
    (
        "XML1",
        "MA_QUOCTICH",
        "Patient.extension[nationality].code",
        "000 and 704 → ISO 3166 VN; others unmapped",
    ),
    ("XML1", "MA_DANTOC", "Patient.extension[vhr-ethnicity].valueCoding", "when in vhr-ethnicity"),
    ("XML1", "MA_NGHE_NGHIEP", "Patient.extension[vhr-occupation].valueCoding", ""),
    ("XML1", "DIA_CHI", "Patient.address.text", "country VN"),
    (
        "XML1",
        "MATINH_CU_TRU",
        "Patient.address.extension[vhr-address-province]",
        "2025 code kept; legacy code → its successor",
    ),
    (
        "XML1",
        "MAXA_CU_TRU",
        "Patient.address.extension[vhr-address-commune] (+ its province)",
        "when a 2025 commune",
    ),
    ("XML1", "DIEN_THOAI", "Patient.telecom (phone)", ""),
    (
        "XML1",
        "MA_THE_BHYT",
        "Coverage.identifier[bhyt], .subscriberId; Patient.identifier[bhyt]",
        "one Coverage per card (;)",
    ),
    ("XML1", "MA_DKBD", "Coverage.extension[vhr-bhyt-registered-facility]", "per card"),
    ("XML1", "GT_THE_TU", "Coverage.period.start; Patient.identifier[bhyt].period.start", "per card"),
    ("XML1", "GT_THE_DEN", "Coverage.period.end; Patient.identifier[bhyt].period.end", "per card"),
    ("XML1", "LY_DO_VV", "Encounter.reasonCode.text", ""),
    ("XML1", "CHAN_DOAN_RV", "Condition (main).code.text", ""),
    (
        "XML1",
        "MA_BENH_CHINH",
        "Condition vhr-condition-encounter-diagnosis; Encounter.diagnosis rank 1",
        "use DD",
    ),
    ("XML1", "MA_BENH_KT", "one Condition per code; Encounter.diagnosis rank 2…", "use DD"),
    ("XML1", "MA_BENH_YHCT", "Condition (main).note.text", "traditional-medicine codes kept as text"),
    ("XML1", "MA_DOITUONG_KCB", "Encounter.extension[vhr-encounter-patient-category]", "2 → class EMER"),
    ("XML1", "MA_NOI_DI", "Encounter.hospitalization.origin (logical, …/sid/ma-cskcb)", ""),
    ("XML1", "MA_NOI_DEN", "Encounter.hospitalization.destination (logical, …/sid/ma-cskcb)", ""),
    ("XML1", "NGAY_VAO", "Encounter.period.start", "+07:00"),
    ("XML1", "NGAY_RA", "Encounter.period.end; Condition.recordedDate", "+07:00; status finished"),
    ("XML1", "SO_NGAY_DTRI", "Encounter.length (d)", ""),
    (
        "XML1",
        "KET_QUA_DTRI",
        "Encounter.extension[vhr-encounter-treatment-result]",
        "5 or 8 also Patient.deceasedDateTime = NGAY_RA",
    ),
    ("XML1", "MA_LOAI_RV", "Encounter.extension[vhr-encounter-discharge-type]", ""),
    (
        "XML1",
        "MA_LOAI_KCB",
        "Encounter.extension[vhr-encounter-form-of-care]; Encounter.class",
        "see class table",
    ),
    ("XML1", "MA_KHOA", "Encounter.location.location.display", "department code"),
    ("XML1", "MA_CSKCB", "Organization.identifier[cskcb]; Encounter.serviceProvider", ""),
    (
        "XML1",
        "CAN_NANG",
        "Observation vhr-observation-body-weight .valueQuantity (kg)",
        "effective = NGAY_VAO",
    ),
    (
        "XML2",
        "MA_THUOC",
        "MedicationRequest.medicationCodeableConcept.coding.code",
        "no system (no IG code system)",
    ),
    ("XML2", "TEN_THUOC", "MedicationRequest.medicationCodeableConcept.text, coding.display", ""),
    ("XML2", "HAM_LUONG", "MedicationRequest.medicationCodeableConcept.text (appended)", ""),
    ("XML2", "DUONG_DUNG", "MedicationRequest.dosageInstruction.route.text", ""),
    ("XML2", "LIEU_DUNG", "MedicationRequest.dosageInstruction.text", ""),
    ("XML2", "CACH_DUNG", "MedicationRequest.dosageInstruction.patientInstruction", ""),
    ("XML2", "SO_LUONG", "MedicationRequest.dispenseRequest.quantity.value", ""),
    ("XML2", "DON_VI_TINH", "MedicationRequest.dispenseRequest.quantity.unit", ""),
    (
        "XML2",
        "MA_BAC_SI",
        "MedicationRequest.requester (identifier …/sid/cccd when 12 digits, else display)",
        "",
    ),
    ("XML2", "NGAY_YL", "MedicationRequest.authoredOn", "+07:00"),
    ("XML2", "STT", "MedicationRequest.identifier (MA_LK/XML2/STT)", "system urn:ietf:rfc:3986"),
    ("XML3", "MA_DICH_VU", "Procedure.code.coding.code", "rows without MA_DICH_VU (supplies) are unmapped"),
    ("XML3", "TEN_DICH_VU", "Procedure.code.text, coding.display", ""),
    ("XML3", "MA_BENH", "Procedure.reasonCode.coding (ICD-10)", ""),
    ("XML3", "NGAY_TH_YL", "Procedure.performedPeriod.start", "+07:00"),
    ("XML3", "NGAY_KQ", "Procedure.performedPeriod.end", "+07:00"),
    (
        "XML3",
        "NGUOI_THUC_HIEN",
        "Procedure.performer.actor (identifier …/sid/cccd when 12 digits, else display)",
        "",
    ),
    ("XML3", "STT", "Procedure.identifier (MA_LK/XML3/STT)", "system urn:ietf:rfc:3986"),
    (
        "XML4",
        "MA_CHI_SO",
        "Observation.code.coding[loinc] when LOINC-shaped",
        "otherwise no lab profile claimed",
    ),
    ("XML4", "TEN_CHI_SO", "Observation.code.text", ""),
    ("XML4", "GIA_TRI", "Observation.valueQuantity.value (number) or valueString", ""),
    ("XML4", "DON_VI_DO", "Observation.valueQuantity.unit", ""),
    ("XML4", "MO_TA", "Observation.note[0].text", ""),
    ("XML4", "KET_LUAN", "Observation.note[1].text", ""),
    ("XML4", "NGAY_KQ", "Observation.effectiveDateTime", "+07:00"),
    ("XML4", "MA_BS_DOC_KQ", "Observation.performer (display)", ""),
    ("XML4", "STT", "Observation.identifier (MA_LK/XML4/STT)", "system urn:ietf:rfc:3986"),
]
# Fields that carry no information of their own once the mapping is done (keys, counters,
# amounts recomputed from rows, settlement period); never reported as unmapped.
STRUCTURAL = {("*", "MA_LK"), ("XML1", "STT"), ("XML5", "STT")}
MAPPED = {(t, f) for t, f, _, _ in FIELD_MAP}

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


# ---- FHIR → XML rows (XML twins of FHIR fixtures) ---------------------------------------------
def _by_ref(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for e in bundle.get("entry", []):
        r = e.get("resource") or {}
        if e.get("fullUrl"):
            out[e["fullUrl"]] = r
        if r.get("id"):
            out[f"{r.get('resourceType')}/{r['id']}"] = r
    return out


def _ident(res: dict[str, Any], system: str) -> str:
    for i in res.get("identifier", []) or []:
        if i.get("system") == system:
            return i.get("value", "")
    return ""


def _ext_code(res: dict[str, Any], eid: str) -> str:
    for e in res.get("extension", []) or []:
        if e.get("url") == ext_url(eid):
            return (e.get("valueCoding") or {}).get("code", "")
    return ""


def _ref(res: dict[str, Any], key: str) -> str:
    return ((res.get(key) or {}).get("reference")) or ""


def _money(d: Decimal) -> str:
    return format(d.quantize(Decimal("0.01")).normalize(), "f")


def bundle_to_rows(
    bundle: dict[str, Any], facility_default: str = ""
) -> list[dict[str, list[dict[str, str]]]]:
    """One set of XML tables per Encounter of a transaction Bundle, filled from the resources that
    the mapping covers (the inverse of :func:`vhr_conformance.xml130.convert.convert_encounter`).
    Amounts are not in FHIR: drug and service prices are absent, so THANH_TIEN_BV and
    T_TONGCHI_BV are 0 and the amount rules hold trivially."""
    refs = _by_ref(bundle)
    res = [e.get("resource") or {} for e in bundle.get("entry", [])]
    patients = [r for r in res if r.get("resourceType") == "Patient"]
    if not patients:
        return []
    pat = patients[0]
    coverages = [r for r in res if r.get("resourceType") == "Coverage"]
    out = []
    for enc in (r for r in res if r.get("resourceType") == "Encounter"):
        enc_keys = {k for k, v in refs.items() if v is enc}
        ma_lk = _ident(enc, SID_MALK)
        org = refs.get(_ref(enc, "serviceProvider"), {})
        cskcb = _ident(org, SID_CSKCB) or facility_default
        period = enc.get("period") or {}
        vao, ra = fhir_to_local(period.get("start")), fhir_to_local(period.get("end"))
        name = (pat.get("name") or [{}])[0]
        full = name.get("text") or " ".join([name.get("family", ""), *name.get("given", [])]).strip()
        bt = next(
            (e.get("valueDateTime") for e in pat.get("extension", []) if e.get("url") == BIRTH_TIME), None
        )
        x1: dict[str, str] = {
            "MA_LK": ma_lk,
            "STT": "1",
            "HO_TEN": full,
            "SO_CCCD": _ident(pat, SID_CCCD) or _ident(pat, SID_CMND),
            "NGAY_SINH": birth_from_fhir(pat.get("birthDate"), bt),
            "GIOI_TINH": GENDER_BACK.get(pat.get("gender", ""), ""),
            "MA_DANTOC": _ext_code(pat, "vhr-ethnicity"),
            "MA_NGHE_NGHIEP": _ext_code(pat, "vhr-occupation"),
            "NGAY_VAO": vao,
            "NGAY_RA": ra,
            "MA_CSKCB": cskcb,
            "MA_LOAI_KCB": _ext_code(enc, "vhr-encounter-form-of-care"),
            "MA_DOITUONG_KCB": _ext_code(enc, "vhr-encounter-patient-category"),
            "KET_QUA_DTRI": _ext_code(enc, "vhr-encounter-treatment-result"),
            "MA_LOAI_RV": _ext_code(enc, "vhr-encounter-discharge-type"),
            "NAM_QT": (ra or vao)[:4],
            "THANG_QT": str(int((ra or vao)[4:6])) if (ra or vao) else "",
        }
        for i in pat.get("identifier", []) or []:
            if (i.get("type") or {}).get("coding", [{}])[0].get("code") == "MR" and not x1.get("MA_BN"):
                x1["MA_BN"] = i.get("value", "")
        if not x1.get("MA_BN"):
            x1["MA_BN"] = x1["SO_CCCD"] or ma_lk
        for t in pat.get("telecom", []) or []:
            if t.get("system") == "phone":
                x1["DIEN_THOAI"] = t.get("value", "")
                break
        for e in pat.get("extension", []) or []:
            if e.get("url") == NATIONALITY:
                for sub in e.get("extension", []):
                    codes = (sub.get("valueCodeableConcept") or {}).get("coding", [])
                    if codes and codes[0].get("code") == "VN":
                        x1["MA_QUOCTICH"] = "000"
        addr = (pat.get("address") or [{}])[0]
        if addr.get("text"):
            x1["DIA_CHI"] = addr["text"]
        for e in addr.get("extension", []) or []:
            if e.get("url") == ext_url("vhr-address-province"):
                x1["MATINH_CU_TRU"] = e["valueCoding"]["code"]
            elif e.get("url") == ext_url("vhr-address-commune"):
                x1["MAXA_CU_TRU"] = e["valueCoding"]["code"]
        cards, dkbd, tu, den, levels = [], [], [], [], []
        for cov in coverages:
            card = _ident(cov, SID_BHYT)
            p = cov.get("period") or {}
            start, end = (
                (p.get("start") or "")[:10].replace("-", ""),
                (p.get("end") or "")[:10].replace("-", ""),
            )
            if not card or (vao and not (start <= vao[:8] and (not end or vao[:8] <= end))):
                continue
            cards.append(card)
            levels.append(_ext_code(cov, "vhr-bhyt-benefit-level"))
            tu.append(start)
            den.append(end)
            reg = next(
                (
                    e.get("valueIdentifier", {}).get("value", "")
                    for e in cov.get("extension", [])
                    if e.get("url") == ext_url("vhr-bhyt-registered-facility")
                ),
                "",
            )
            dkbd.append(reg)
        if cards:
            x1.update(MA_THE_BHYT=";".join(cards), GT_THE_TU=";".join(tu), GT_THE_DEN=";".join(den))
            if all(dkbd):
                x1["MA_DKBD"] = ";".join(dkbd)
        if enc.get("reasonCode"):
            x1["LY_DO_VV"] = enc["reasonCode"][0].get("text", "")
        if (enc.get("length") or {}).get("value") is not None:
            x1["SO_NGAY_DTRI"] = str(int(enc["length"]["value"]))
        hosp = enc.get("hospitalization") or {}
        for key, field in (("origin", "MA_NOI_DI"), ("destination", "MA_NOI_DEN")):
            ident = (hosp.get(key) or {}).get("identifier") or {}
            if ident.get("system") == SID_CSKCB:
                x1[field] = ident.get("value", "")
        locs = enc.get("location") or []
        if locs and (locs[0].get("location") or {}).get("display"):
            x1["MA_KHOA"] = locs[0]["location"]["display"]
        diags = sorted(enc.get("diagnosis") or [], key=lambda d: d.get("rank", 99))
        secondary = []
        for n, d in enumerate(diags):
            cond = refs.get(_ref(d, "condition"), {})
            code = next(
                (
                    c.get("code", "")
                    for c in (cond.get("code") or {}).get("coding", [])
                    if c.get("system") == ICD10
                ),
                "",
            )
            if not code:
                continue
            if n == 0:
                x1["MA_BENH_CHINH"] = code
                x1["CHAN_DOAN_RV"] = (cond.get("code") or {}).get("text", "")
                for note in cond.get("note", []) or []:
                    if note.get("text", "").startswith("MA_BENH_YHCT: "):
                        x1["MA_BENH_YHCT"] = note["text"][len("MA_BENH_YHCT: ") :]
            else:
                secondary.append(code)
        x1["MA_BENH_KT"] = ";".join(secondary[:12])
        xml2: list[dict[str, Any]] = []
        xml3: list[dict[str, Any]] = []
        xml4: list[dict[str, Any]] = []
        for r in res:
            if _ref(r, "encounter") not in enc_keys:
                continue
            rt = r.get("resourceType")
            if rt == "MedicationRequest":
                med = r.get("medicationCodeableConcept") or {}
                c0 = (med.get("coding") or [{}])[0]
                dose = (r.get("dosageInstruction") or [{}])[0]
                qty = (r.get("dispenseRequest") or {}).get("quantity") or {}
                req = r.get("requester") or {}
                xml2.append(
                    {
                        "MA_LK": ma_lk,
                        "STT": str(len(xml2) + 1),
                        "MA_THUOC": c0.get("code", ""),
                        "TEN_THUOC": c0.get("display") or med.get("text", ""),
                        "DUONG_DUNG": (dose.get("route") or {}).get("text", ""),
                        "LIEU_DUNG": dose.get("text", ""),
                        "CACH_DUNG": dose.get("patientInstruction", ""),
                        "SO_LUONG": str(qty.get("value", "")) if qty.get("value") is not None else "",
                        "DON_VI_TINH": qty.get("unit", ""),
                        "DON_GIA": "0",
                        "THANH_TIEN_BV": "0",
                        "MA_BAC_SI": (req.get("identifier") or {}).get("value") or req.get("display", ""),
                        "NGAY_YL": fhir_to_local(r.get("authoredOn")),
                    }
                )
            elif rt == "Procedure":
                code = r.get("code") or {}
                c0 = (code.get("coding") or [{}])[0]
                pp = r.get("performedPeriod") or {}
                start = fhir_to_local(pp.get("start") or r.get("performedDateTime"))
                if start and vao and start[:8] < vao[:8]:
                    continue  # history recorded at this visit (past surgery), not a service of the stay
                reasons = [
                    c.get("code", "")
                    for rc in r.get("reasonCode", []) or []
                    for c in rc.get("coding", [])
                    if c.get("system") == ICD10
                ]
                actor = (r.get("performer") or [{}])[0].get("actor") or {}
                xml3.append(
                    {
                        "MA_LK": ma_lk,
                        "STT": str(len(xml3) + 1),
                        "MA_DICH_VU": c0.get("code", ""),
                        "TEN_DICH_VU": code.get("text") or c0.get("display", ""),
                        "SO_LUONG": "1",
                        "DON_GIA_BV": "0",
                        "THANH_TIEN_BV": "0",
                        "MA_BENH": ";".join(reasons),
                        "NGAY_YL": start,
                        "NGAY_TH_YL": start,
                        "NGAY_KQ": fhir_to_local(pp.get("end")),
                        "NGUOI_THUC_HIEN": (actor.get("identifier") or {}).get("value")
                        or actor.get("display", ""),
                    }
                )
            elif rt == "Observation":
                prof = (r.get("meta") or {}).get("profile") or [""]
                if prof[0] == profile("vhr-observation-body-weight"):
                    v = (r.get("valueQuantity") or {}).get("value")
                    if v is not None:
                        x1["CAN_NANG"] = f"{Decimal(str(v)):f}"
                elif prof[0] == profile("vhr-observation-lab-result"):
                    code = r.get("code") or {}
                    loinc = next(
                        (c.get("code", "") for c in code.get("coding", []) if c.get("system") == LOINC), ""
                    )
                    vq = r.get("valueQuantity") or {}
                    value = vq.get("value", r.get("valueString", ""))
                    notes = [n.get("text", "") for n in r.get("note", []) or []]
                    xml4.append(
                        {
                            "MA_LK": ma_lk,
                            "STT": str(len(xml4) + 1),
                            "MA_CHI_SO": loinc,
                            "TEN_CHI_SO": code.get("text")
                            or next((c.get("display", "") for c in code.get("coding", [])), ""),
                            "GIA_TRI": "" if value is None else str(value),
                            "DON_VI_DO": vq.get("unit", ""),
                            "MO_TA": notes[0] if notes else "",
                            "KET_LUAN": notes[1] if len(notes) > 1 else "",
                            "NGAY_KQ": fhir_to_local(r.get("effectiveDateTime")),
                        }
                    )
                elif prof[0] == profile("vhr-observation-blood-group"):
                    codes = (r.get("valueCodeableConcept") or {}).get("coding", [])
                    if codes:
                        x1["NHOM_MAU"] = codes[0].get("code", "")
        x1["T_TONGCHI_BV"] = _money(Decimal(0))
        # The benefit level of the card in use is the rate the fund pays on each row (QĐ 1351 via
        # vn.bhyt); a legacy card number carries the group and level themselves.
        rate = vn_bhyt.rates().get(levels[0], 0) if levels else 0
        if rate:
            for row in (*xml2, *xml3):
                row["MUC_HUONG"] = str(rate)
        rows: dict[str, list[dict[str, str]]] = {"XML1": [x1]}
        if xml2:
            rows["XML2"] = xml2
        if xml3:
            rows["XML3"] = xml3
        if xml4:
            rows["XML4"] = xml4
        out.append(rows)
    return out


def mapping_markdown() -> str:
    """The mapping table as Markdown (docs/xml130.md embeds it; a test keeps them in step)."""
    lines = ["| table | field | FHIR element | note |", "| --- | --- | --- | --- |"]
    lines += [f"| {t} | `{f}` | {p} | {n} |" for t, f, p, n in FIELD_MAP]
    return "\n".join(lines)
