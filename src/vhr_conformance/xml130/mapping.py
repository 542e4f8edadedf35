"""The one XML 130 ↔ FHIR mapping definition: one row per XML field.

Everything that knows the mapping is derived from :data:`FIELDS`: the converter reads only these
fields (any other value is listed as unmapped) and takes coded extensions from them
(:mod:`vhr_conformance.xml130.convert`), the FHIR → XML twin writer fills each field with its
``back`` function (:func:`bundle_to_rows`), the fidelity engine compares the facts of each
field's ``checks`` (:mod:`vhr_conformance.xml130.fidelity`), the MAP criteria of ``vhr run`` are
the criteria those checks name (:mod:`vhr_conformance.runner.mapping`), and the tables of
docs/xml130.md are generated from it (``python -m vhr_conformance.xml130.mapping docs/xml130.md``).
Names and value conversions are in :mod:`vhr_conformance.xml130.terms`."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vhr_conformance.xml130 import facts as fa
from vhr_conformance.xml130 import twin as tw


@dataclass(frozen=True, slots=True)
class Check:
    """One fact of a MAP criterion: the vendor's FHIR element that must say what the field says."""

    criterion: str  # catalogue id (suites/criteria.yaml, area MAP)
    path: str  # the FHIR element compared, as a difference names it
    fact: fa.Fact


@dataclass(frozen=True, slots=True)
class Field:
    """One XML 130 field and where the mapping puts it."""

    table: str  # XML1 … XML4
    name: str
    element: str  # the FHIR element(s) written, as docs/xml130.md shows them
    note: str = ""
    back: tw.Back | None = None  # FHIR → XML value for the twin; None: FHIR cannot give it back
    checks: tuple[Check, ...] = ()  # the facts the MAP criteria compare for this field
    resource: str = ""  # with ``ext``: the resource carrying the coded extension
    ext: str = ""  # a coded VHR extension holding the field's code
    codes: str = ""  # the VHR CodeSystem of that code
    closed: bool = False  # a code outside ``codes`` is reported unmapped rather than written

    @property
    def key(self) -> tuple[str, str]:
        return (self.table, self.name)


def _coded(
    name: str, resource: str, ext: str, codes: str, element: str = "", note: str = "", **kw: Any
) -> Field:
    """An XML1 code carried as a coded VHR extension: written, read back and compared the same way."""
    return Field(
        "XML1",
        name,
        element or f"{resource}.extension[{ext}]",
        note,
        back=tw.ext(resource, ext),
        resource=resource,
        ext=ext,
        codes=codes,
        **kw,
    )


def _enc_code(name: str, ext: str, codes: str, criterion: str, **kw: Any) -> Field:
    check = Check(criterion, f"Encounter.extension[{ext}].valueCoding.code", fa.ext(ext))
    return _coded(name, "Encounter", ext, codes, checks=(check,), **kw)


# MAP criteria that compare several fields as one fact (one row, one order, one card…)
_CARDS = Check("VHR-MAP-009", "Coverage.identifier[bhyt], Coverage.period", fa.cards)
_DRUGS = Check(
    "VHR-MAP-012",
    "MedicationRequest.medicationCodeableConcept.coding.code, dispenseRequest.quantity.value, authoredOn",
    fa.drugs,
)
_SERVICES = Check("VHR-MAP-013", "Procedure.code.coding.code, performedPeriod.start", fa.services)
_RESULTS = Check(
    "VHR-MAP-014",
    "Observation.code.coding[loinc].code, valueQuantity.value, valueQuantity.unit",
    fa.results,
)
_RID = "system urn:ietf:rfc:3986"

FIELDS: tuple[Field, ...] = (
    Field(
        "XML1",
        "MA_LK",
        "Encounter.identifier[maLk].value",
        "system …/sid/ma-lk",
        tw.ma_lk,
        (Check("VHR-MAP-001", "Encounter.identifier[maLk].value", fa.ma_lk),),
    ),
    Field(
        "XML1",
        "MA_BN",
        "Patient.identifier (type MR, assigner = MA_CSKCB)",
        "facility's patient number",
        tw.ma_bn,
    ),
    Field(
        "XML1",
        "HO_TEN",
        "Patient.name.text, .family (first word, or a known multi-word name), .given (other words)",
        "Vietnamese order; Tôn Thất, Âu Dương… (vn/data/family_names.json)",
        tw.ho_ten,
        (
            Check("VHR-MAP-006", "Patient.name.family", fa.of_patient(fa.family)),
            Check("VHR-MAP-006", "Patient.name (family + given)", fa.of_patient(fa.full_name)),
        ),
    ),
    Field(
        "XML1",
        "SO_CCCD",
        "Patient.identifier[cccd] (12 digits) or [cmnd] (9 digits)",
        "",
        tw.so_cccd,
        (Check("VHR-MAP-005", "Patient.identifier[cccd].value", fa.of_patient(fa.cccd)),),
    ),
    Field(
        "XML1",
        "NGAY_SINH",
        "Patient.birthDate (+ patient-birthTime when HHmm ≠ 0000)",
        "day 00 → yyyy-MM, month 00 → yyyy",
        tw.ngay_sinh,
        (Check("VHR-MAP-007", "Patient.birthDate", fa.of_patient(fa.birth_date)),),
    ),
    Field(
        "XML1",
        "GIOI_TINH",
        "Patient.gender",
        "1 male, 2 female, 3 unknown",
        tw.gioi_tinh,
        (Check("VHR-MAP-008", "Patient.gender", fa.of_patient(fa.gender)),),
    ),
    Field(
        "XML1",
        "NHOM_MAU",
        "Observation vhr-observation-blood-group .valueCodeableConcept",
        "when a vhr-blood-group code",
        tw.nhom_mau,
    ),
    Field(
        "XML1",
        "MA_QUOCTICH",
        "Patient.extension[nationality].code",
        "000 and 704 → ISO 3166 VN; others unmapped",
        tw.ma_quoctich,
    ),
    _coded(
        "MA_DANTOC",
        "Patient",
        "vhr-ethnicity",
        "vhr-ethnicity",
        "Patient.extension[vhr-ethnicity].valueCoding",
        "when in vhr-ethnicity",
        closed=True,
    ),
    _coded(
        "MA_NGHE_NGHIEP",
        "Patient",
        "vhr-occupation",
        "vhr-occupation",
        "Patient.extension[vhr-occupation].valueCoding",
    ),
    Field("XML1", "DIA_CHI", "Patient.address.text", "country VN", tw.dia_chi),
    Field(
        "XML1",
        "MATINH_CU_TRU",
        "Patient.address.extension[vhr-address-province]",
        "2025 code kept; legacy code → its successor",
        tw.address_ext("vhr-address-province"),
    ),
    Field(
        "XML1",
        "MAXA_CU_TRU",
        "Patient.address.extension[vhr-address-commune] (+ its province)",
        "when a 2025 commune",
        tw.address_ext("vhr-address-commune"),
    ),
    Field("XML1", "DIEN_THOAI", "Patient.telecom (phone)", "", tw.dien_thoai),
    Field(
        "XML1",
        "MA_THE_BHYT",
        "Coverage.identifier[bhyt], .subscriberId; Patient.identifier[bhyt]",
        "one Coverage per card (;)",
        tw.card_numbers,
        (_CARDS,),
    ),
    Field(
        "XML1", "MA_DKBD", "Coverage.extension[vhr-bhyt-registered-facility]", "per card", tw.card_facilities
    ),
    Field(
        "XML1",
        "GT_THE_TU",
        "Coverage.period.start; Patient.identifier[bhyt].period.start",
        "per card",
        tw.card_starts,
        (_CARDS,),
    ),
    Field(
        "XML1",
        "GT_THE_DEN",
        "Coverage.period.end; Patient.identifier[bhyt].period.end",
        "per card",
        tw.card_ends,
        (_CARDS,),
    ),
    Field("XML1", "LY_DO_VV", "Encounter.reasonCode.text", "", tw.ly_do_vv),
    Field("XML1", "CHAN_DOAN_RV", "Condition (main).code.text", "", tw.main_diagnosis_text),
    Field(
        "XML1",
        "MA_BENH_CHINH",
        "Condition vhr-condition-encounter-diagnosis; Encounter.diagnosis rank 1",
        "use DD",
        tw.main_diagnosis,
        (
            Check(
                "VHR-MAP-010",
                "Encounter.diagnosis[rank 1].condition → Condition.code[icd10]",
                fa.main_diagnosis,
            ),
        ),
    ),
    Field(
        "XML1",
        "MA_BENH_KT",
        "one Condition per code; Encounter.diagnosis rank 2…",
        "use DD",
        tw.secondary_diagnoses,
        (
            Check(
                "VHR-MAP-011",
                "Encounter.diagnosis[rank > 1].condition → Condition.code[icd10]",
                fa.secondary_diagnoses,
            ),
        ),
    ),
    Field(
        "XML1",
        "MA_BENH_YHCT",
        "Condition (main).note.text",
        "traditional-medicine codes kept as text",
        tw.yhct,
    ),
    _enc_code(
        "MA_LOAI_KCB",
        "vhr-encounter-form-of-care",
        "vhr-form-of-care",
        "VHR-MAP-003",
        element="Encounter.extension[vhr-encounter-form-of-care]; Encounter.class",
        note="see class table",
    ),
    _enc_code(
        "MA_DOITUONG_KCB",
        "vhr-encounter-patient-category",
        "vhr-patient-category",
        "VHR-MAP-003",
        note="2 → class EMER",
    ),
    _enc_code(
        "KET_QUA_DTRI",
        "vhr-encounter-treatment-result",
        "vhr-treatment-result",
        "VHR-MAP-003",
        note="5 or 8 also Patient.deceasedDateTime = NGAY_RA",
    ),
    _enc_code("MA_LOAI_RV", "vhr-encounter-discharge-type", "vhr-discharge-type", "VHR-MAP-003"),
    Field(
        "XML1",
        "MA_NOI_DI",
        "Encounter.hospitalization.origin (logical, …/sid/ma-cskcb)",
        "",
        tw.hospitalization("origin"),
    ),
    Field(
        "XML1",
        "MA_NOI_DEN",
        "Encounter.hospitalization.destination (logical, …/sid/ma-cskcb)",
        "",
        tw.hospitalization("destination"),
    ),
    Field(
        "XML1",
        "NGAY_VAO",
        "Encounter.period.start",
        "+07:00",
        tw.ngay_vao,
        (Check("VHR-MAP-002", "Encounter.period.start", fa.period("start")),),
    ),
    Field(
        "XML1",
        "NGAY_RA",
        "Encounter.period.end; Condition.recordedDate",
        "+07:00; status finished",
        tw.ngay_ra,
        (Check("VHR-MAP-002", "Encounter.period.end", fa.period("end")),),
    ),
    Field("XML1", "SO_NGAY_DTRI", "Encounter.length (d)", "", tw.so_ngay),
    Field("XML1", "MA_KHOA", "Encounter.location.location.display", "department code", tw.ma_khoa),
    Field(
        "XML1",
        "MA_CSKCB",
        "Organization.identifier[cskcb]; Encounter.serviceProvider",
        "",
        tw.ma_cskcb,
        (Check("VHR-MAP-004", "Encounter.serviceProvider → Organization.identifier[cskcb]", fa.facility),),
    ),
    Field(
        "XML1",
        "CAN_NANG",
        "Observation vhr-observation-body-weight .valueQuantity (kg)",
        "effective = NGAY_VAO",
        tw.can_nang,
        (Check("VHR-MAP-015", "Observation[vhr-observation-body-weight].valueQuantity.value", fa.weight),),
    ),
    Field(
        "XML2",
        "MA_THUOC",
        "MedicationRequest.medicationCodeableConcept.coding.code",
        "no system (no IG code system)",
        tw.ma_thuoc,
        (_DRUGS,),
    ),
    Field(
        "XML2",
        "TEN_THUOC",
        "MedicationRequest.medicationCodeableConcept.text, coding.display",
        "",
        tw.ten_thuoc,
    ),
    Field("XML2", "HAM_LUONG", "MedicationRequest.medicationCodeableConcept.text (appended)"),
    Field("XML2", "DUONG_DUNG", "MedicationRequest.dosageInstruction.route.text", "", tw.duong_dung),
    Field("XML2", "LIEU_DUNG", "MedicationRequest.dosageInstruction.text", "", tw.lieu_dung),
    Field("XML2", "CACH_DUNG", "MedicationRequest.dosageInstruction.patientInstruction", "", tw.cach_dung),
    Field("XML2", "SO_LUONG", "MedicationRequest.dispenseRequest.quantity.value", "", tw.so_luong, (_DRUGS,)),
    Field("XML2", "DON_VI_TINH", "MedicationRequest.dispenseRequest.quantity.unit", "", tw.don_vi_tinh),
    Field(
        "XML2",
        "MA_BAC_SI",
        "MedicationRequest.requester (identifier …/sid/cccd when 12 digits, else display)",
        "",
        tw.requester,
    ),
    Field(
        "XML2", "NGAY_YL", "MedicationRequest.authoredOn", "+07:00", tw.local_time("authoredOn"), (_DRUGS,)
    ),
    Field("XML2", "STT", "MedicationRequest.identifier (MA_LK/XML2/STT)", _RID, tw.stt),
    Field(
        "XML3",
        "MA_DICH_VU",
        "Procedure.code.coding.code",
        "rows without MA_DICH_VU (supplies) are unmapped",
        tw.service_code,
        (_SERVICES,),
    ),
    Field("XML3", "TEN_DICH_VU", "Procedure.code.text, coding.display", "", tw.service_name),
    Field("XML3", "MA_BENH", "Procedure.reasonCode.coding (ICD-10)", "", tw.service_reasons),
    Field(
        "XML3", "NGAY_TH_YL", "Procedure.performedPeriod.start", "+07:00", tw.performed_start, (_SERVICES,)
    ),
    Field("XML3", "NGAY_KQ", "Procedure.performedPeriod.end", "+07:00", tw.performed_end),
    Field(
        "XML3",
        "NGUOI_THUC_HIEN",
        "Procedure.performer.actor (identifier …/sid/cccd when 12 digits, else display)",
        "",
        tw.performer,
    ),
    Field("XML3", "STT", "Procedure.identifier (MA_LK/XML3/STT)", _RID, tw.stt),
    Field(
        "XML4",
        "MA_CHI_SO",
        "Observation.code.coding[loinc] when LOINC-shaped",
        "otherwise no lab profile claimed",
        tw.lab_code,
        (_RESULTS,),
    ),
    Field("XML4", "TEN_CHI_SO", "Observation.code.text", "", tw.lab_name),
    Field(
        "XML4",
        "GIA_TRI",
        "Observation.valueQuantity.value (number) or valueString",
        "",
        tw.lab_value,
        (_RESULTS,),
    ),
    Field("XML4", "DON_VI_DO", "Observation.valueQuantity.unit", "", tw.lab_unit, (_RESULTS,)),
    Field("XML4", "MO_TA", "Observation.note[0].text", "", tw.note(0)),
    Field("XML4", "KET_LUAN", "Observation.note[1].text", "", tw.note(1)),
    Field("XML4", "NGAY_KQ", "Observation.effectiveDateTime", "+07:00", tw.local_time("effectiveDateTime")),
    Field("XML4", "MA_BS_DOC_KQ", "Observation.performer (display)"),
    Field("XML4", "STT", "Observation.identifier (MA_LK/XML4/STT)", _RID, tw.stt),
)

MAPPED = frozenset(f.key for f in FIELDS)
TABLES = tuple(dict.fromkeys(f.table for f in FIELDS))  # the tables the mapping reads and writes
# Fields that carry no information of their own once the mapping is done (keys, counters);
# never reported as unmapped.
STRUCTURAL = {("*", "MA_LK"), ("XML1", "STT"), ("XML5", "STT")}


# the fields carried as coded extensions of a resource (Patient, Encounter), in table order
CODED: dict[str, tuple[Field, ...]] = {
    r: tuple(f for f in FIELDS if f.ext and f.resource == r) for r in {f.resource for f in FIELDS if f.ext}
}


# ---- MAP criteria and their facts ---------------------------------------------------------------
def _checks() -> list[tuple[Check, list[Field]]]:
    """Every check with the fields it compares, by criterion then table order."""
    out: dict[int, tuple[Check, list[Field]]] = {}
    for f in FIELDS:
        for c in f.checks:
            out.setdefault(id(c), (c, []))[1].append(f)
    return sorted(out.values(), key=lambda cf: cf[0].criterion)


def _label(fields: list[Field]) -> str:
    """How a difference names the XML side: XML1.NGAY_VAO, XML2.MA_THUOC/SO_LUONG/NGAY_YL."""
    return f"{fields[0].table}." + "/".join(f.name for f in fields)


@dataclass(frozen=True, slots=True)
class Fact:
    """One compared fact, keyed as a difference names it."""

    criterion: str
    xml_field: str
    fhir_path: str
    read: fa.Fact


FACTS: tuple[Fact, ...] = tuple(Fact(c.criterion, _label(fs), c.path, c.fact) for c, fs in _checks())
CRITERIA: tuple[str, ...] = tuple(dict.fromkeys(f.criterion for f in FACTS))  # VHR-MAP-001…015
FOUND = CRITERIA[0]  # the Encounter carries the MA_LK: without it nothing else can be compared


# ---- FHIR → XML rows (XML twins of FHIR fixtures) ---------------------------------------------
Rows = dict[str, list[dict[str, str]]]


def _by_ref(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for e in bundle.get("entry", []):
        r = e.get("resource") or {}
        if e.get("fullUrl"):
            out[e["fullUrl"]] = r
        if r.get("id"):
            out[f"{r.get('resourceType')}/{r['id']}"] = r
    return out


def bundle_to_rows(bundle: dict[str, Any], facility_default: str = "") -> list[Rows]:
    """One set of XML tables per Encounter of a transaction Bundle, each field filled by its
    ``back`` function (the inverse of :func:`vhr_conformance.xml130.convert.convert_encounter`);
    keys, counters and amounts FHIR does not carry come from :func:`twin.filler`."""
    refs = _by_ref(bundle)
    resources = [e.get("resource") or {} for e in bundle.get("entry", [])]
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    if not patients:
        return []
    out = []
    for enc in (r for r in resources if r.get("resourceType") == "Encounter"):
        encounter = tw.Twin(refs, resources, patients[0], enc, facility_default)
        rows: Rows = {}
        for table in TABLES:
            records = [
                _record(table, tw.Row(encounter, r, n)) for n, r in enumerate(encounter.rows(table), 1)
            ]
            if records:
                rows[table] = records
        out.append(rows)
    return out


_READERS: dict[str, tuple[tuple[str, tw.Back], ...]] = {
    table: tuple((f.name, f.back) for f in FIELDS if f.table == table and f.back is not None)
    for table in TABLES
}


def _record(table: str, row: tw.Row) -> dict[str, str]:
    values = {name: back(row) for name, back in _READERS[table]}
    return {**values, **tw.filler(table, row, values)}


# ---- docs/xml130.md ---------------------------------------------------------------------------
def mapping_markdown() -> str:
    """The field table: every mapped field, its FHIR element, whether the XML twin gets it back
    from FHIR, and the MAP criteria comparing it."""
    lines = [
        "| table | field | FHIR element | note | in twin | MAP criterion |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for f in FIELDS:
        crit = ", ".join(dict.fromkeys(c.criterion for c in f.checks))
        back = "yes" if f.back else "no"
        lines.append(f"| {f.table} | `{f.name}` | {f.element} | {f.note} | {back} | {crit} |")
    return "\n".join(lines)


def criteria_markdown() -> str:
    """The MAP criteria with the fields and FHIR elements each compares (titles: docs/criteria.md)."""
    lines = ["| criterion | XML field | FHIR element compared |", "| --- | --- | --- |"]
    lines += [f"| {f.criterion} | {f.xml_field} | {f.fhir_path} |" for f in FACTS]
    return "\n".join(lines)


GENERATED = {"field table": mapping_markdown, "MAP criteria": criteria_markdown}
COMMAND = "python -m vhr_conformance.xml130.mapping docs/xml130.md"


def _blocks(name: str) -> tuple[str, str]:
    return (
        f"<!-- generated: {name} ({COMMAND}); do not edit by hand -->",
        f"<!-- end of generated: {name} -->",
    )


def render_docs(text: str) -> str:
    """``text`` (docs/xml130.md) with every generated block rewritten from the mapping definition."""
    for name, make in GENERATED.items():
        start, end = _blocks(name)
        found = re.search(re.escape(start) + r"\n(?:.*?\n)?" + re.escape(end), text, re.S)
        if found is None:
            raise ValueError(f"docs/xml130.md: thiếu khối / no block '{start}' … '{end}'")
        text = text[: found.start()] + f"{start}\n{make()}\n{end}" + text[found.end() :]
    return text


def _main(argv: list[str]) -> Iterator[str]:
    for arg in argv:
        path = Path(arg)
        old = path.read_text(encoding="utf-8")
        new = render_docs(old)
        if new != old:
            path.write_text(new, encoding="utf-8")
            yield f"{path}: cập nhật / updated"
        else:
            yield f"{path}: không đổi / unchanged"


if __name__ == "__main__":
    try:
        for line in _main(sys.argv[1:] or ["docs/xml130.md"]):
            print(line)
    except (OSError, ValueError) as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
