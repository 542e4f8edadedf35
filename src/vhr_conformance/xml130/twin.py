"""The FHIR side of one encounter, read back into XML 130 values (the XML twin of a Bundle).

Each function here gives the value of one field, or of a few fields that share one FHIR element
(the cards, the diagnoses); :data:`vhr_conformance.xml130.mapping.FIELDS` names which function
fills which field, and :func:`vhr_conformance.xml130.mapping.bundle_to_rows` runs them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from vhr_conformance.vn import bhyt as vn_bhyt
from vhr_conformance.xml130 import terms as t

Resource = dict[str, Any]


def _ref(res: Resource, key: str) -> str:
    return ((res.get(key) or {}).get("reference")) or ""


def _first(items: Any) -> dict[str, Any]:
    return (items or [{}])[0]


@dataclass(frozen=True, slots=True)
class Card:
    """One BHYT card in force on the day of the encounter (XML1 keeps them `;`-joined)."""

    number: str
    start: str  # yyyyMMdd
    end: str
    level: str  # vhr-bhyt-benefit-level code, "" when the Coverage has none
    registered: str  # MA_DKBD, "" when the Coverage has none


class Twin:
    """One Encounter of a transaction Bundle with what it points to and what points to it."""

    def __init__(
        self,
        refs: dict[str, Resource],
        resources: list[Resource],
        patient: Resource,
        encounter: Resource,
        facility: str,
    ) -> None:
        self.refs = refs
        self.patient = patient
        self.encounter = encounter
        self.facility = facility  # MA_CSKCB when the Organization carries none
        self.coverages = [r for r in resources if r.get("resourceType") == "Coverage"]
        keys = {k for k, v in refs.items() if v is encounter}
        self.linked = [r for r in resources if _ref(r, "encounter") in keys]

    def of(self, resource_type: str) -> Resource:
        """The encounter's Patient or Encounter (the resources XML1 fields are read from)."""
        return self.patient if resource_type == "Patient" else self.encounter

    @cached_property
    def admitted(self) -> str:
        return t.fhir_to_local((self.encounter.get("period") or {}).get("start"))

    @cached_property
    def discharged(self) -> str:
        return t.fhir_to_local((self.encounter.get("period") or {}).get("end"))

    @cached_property
    def cards(self) -> list[Card]:
        """The patient's cards in force on the admission day (a card of another year is not)."""
        day = self.admitted[:8]
        out = []
        for cov in self.coverages:
            number = t.ident(cov, t.SID_BHYT) or ""
            p = cov.get("period") or {}
            start = (p.get("start") or "")[:10].replace("-", "")
            end = (p.get("end") or "")[:10].replace("-", "")
            if not number or (day and not (start <= day and (not end or day <= end))):
                continue
            reg = next(
                (
                    e.get("valueIdentifier", {}).get("value", "")
                    for e in cov.get("extension", [])
                    if e.get("url") == t.ext_url("vhr-bhyt-registered-facility")
                ),
                "",
            )
            out.append(Card(number, start, end, t.ext_code(cov, "vhr-bhyt-benefit-level") or "", reg))
        return out

    @cached_property
    def diagnoses(self) -> tuple[Resource | None, list[str]]:
        """(the rank-1 Condition when it has an ICD-10 code, the ICD-10 codes of the others)."""
        main: Resource | None = None
        secondary = []
        ranked = sorted(self.encounter.get("diagnosis") or [], key=lambda d: d.get("rank", 99))
        for n, d in enumerate(ranked):
            cond = self.refs.get(_ref(d, "condition"), {})
            if not icd10(cond):
                continue
            if n == 0:
                main = cond
            else:
                secondary.append(icd10(cond))
        return main, secondary

    @cached_property
    def _by_profile(self) -> dict[str, list[Resource]]:
        out: dict[str, list[Resource]] = {}
        for r in self.linked:
            if r.get("resourceType") == "Observation":
                out.setdefault(((r.get("meta") or {}).get("profile") or [""])[0], []).append(r)
        return out

    def observations(self, profile_id: str) -> list[Resource]:
        """The encounter's Observations that claim the VHR profile ``profile_id``, in Bundle order."""
        return self._by_profile.get(t.profile(profile_id), [])

    def rows(self, table: str) -> list[Resource]:
        """The resources that become the rows of XML2 (drugs), XML3 (services), XML4 (results)."""
        if table == "XML2":
            return [r for r in self.linked if r.get("resourceType") == "MedicationRequest"]
        if table == "XML3":
            day = self.admitted[:8]
            # a procedure before the admission is history recorded at this visit, not a service of it
            return [
                r
                for r in self.linked
                if r.get("resourceType") == "Procedure"
                and not (day and _performed(r) and _performed(r)[:8] < day)
            ]
        if table == "XML4":
            return self.observations("vhr-observation-lab-result")
        return [self.encounter]

    @cached_property
    def rate(self) -> str:
        """MUC_HUONG: the rate the fund pays for the benefit level of the card in use (QĐ 1351)."""
        rate = vn_bhyt.rates().get(self.cards[0].level, 0) if self.cards else 0
        return str(rate) if rate else ""


@dataclass(frozen=True, slots=True)
class Row:
    """What one field's value is read from: the encounter, the row's resource, the row number."""

    twin: Twin
    res: Resource
    n: int


Back = Callable[[Row], str]


def icd10(cond: Resource) -> str:
    return next(
        (c.get("code", "") for c in (cond.get("code") or {}).get("coding", []) if c.get("system") == t.ICD10),
        "",
    )


def _performed(r: Resource) -> str:
    return t.fhir_to_local((r.get("performedPeriod") or {}).get("start") or r.get("performedDateTime"))


def _actor(ref: dict[str, Any]) -> str:
    return (ref.get("identifier") or {}).get("value") or ref.get("display", "")


def ext(resource_type: str, eid: str) -> Back:
    """A coded VHR extension of the encounter's Patient or Encounter."""
    return lambda row: t.ext_code(row.twin.of(resource_type), eid) or ""


# ---- XML1 ----------------------------------------------------------------------------------------
def ma_lk(row: Row) -> str:
    return t.ident(row.twin.encounter, t.SID_MALK) or ""


def ma_bn(row: Row) -> str:
    """The facility's patient number (MR identifier); the CCCD or MA_LK when it has none."""
    for i in row.twin.patient.get("identifier", []) or []:
        if _first((i.get("type") or {}).get("coding")).get("code") == "MR" and i.get("value"):
            return str(i["value"])
    return so_cccd(row) or ma_lk(row)


def ho_ten(row: Row) -> str:
    name = _first(row.twin.patient.get("name"))
    return name.get("text") or " ".join([name.get("family", ""), *name.get("given", [])]).strip()


def so_cccd(row: Row) -> str:
    pat = row.twin.patient
    return t.ident(pat, t.SID_CCCD) or t.ident(pat, t.SID_CMND) or ""


def ngay_sinh(row: Row) -> str:
    pat = row.twin.patient
    bt = next(
        (e.get("valueDateTime") for e in pat.get("extension", []) if e.get("url") == t.BIRTH_TIME), None
    )
    return t.birth_from_fhir(pat.get("birthDate"), bt)


def gioi_tinh(row: Row) -> str:
    return t.GENDER_BACK.get(row.twin.patient.get("gender", ""), "")


def nhom_mau(row: Row) -> str:
    codes = [
        (o.get("valueCodeableConcept") or {}).get("coding", [])
        for o in row.twin.observations("vhr-observation-blood-group")
    ]
    return next((c[0].get("code", "") for c in reversed(codes) if c), "")


def ma_quoctich(row: Row) -> str:
    for e in row.twin.patient.get("extension", []) or []:
        if e.get("url") == t.NATIONALITY:
            for sub in e.get("extension", []):
                codes = (sub.get("valueCodeableConcept") or {}).get("coding", [])
                if codes and codes[0].get("code") == "VN":
                    return "000"
    return ""


def dia_chi(row: Row) -> str:
    return _first(row.twin.patient.get("address")).get("text") or ""


def address_ext(eid: str) -> Back:
    """A coded extension of the patient's first address (province, commune)."""
    return lambda row: t.ext_code(_first(row.twin.patient.get("address")), eid) or ""


def dien_thoai(row: Row) -> str:
    phones = [c for c in row.twin.patient.get("telecom", []) or [] if c.get("system") == "phone"]
    return phones[0].get("value", "") if phones else ""


def card_numbers(row: Row) -> str:
    return ";".join(c.number for c in row.twin.cards)


def card_starts(row: Row) -> str:
    return ";".join(c.start for c in row.twin.cards) if row.twin.cards else ""


def card_ends(row: Row) -> str:
    return ";".join(c.end for c in row.twin.cards) if row.twin.cards else ""


def card_facilities(row: Row) -> str:
    cards = row.twin.cards
    return ";".join(c.registered for c in cards) if cards and all(c.registered for c in cards) else ""


def ly_do_vv(row: Row) -> str:
    reasons = row.twin.encounter.get("reasonCode")
    return reasons[0].get("text", "") if reasons else ""


def main_diagnosis(row: Row) -> str:
    main = row.twin.diagnoses[0]
    return icd10(main) if main else ""


def main_diagnosis_text(row: Row) -> str:
    main = row.twin.diagnoses[0]
    return (main.get("code") or {}).get("text", "") if main else ""


YHCT_NOTE = "MA_BENH_YHCT: "  # how the converter keeps traditional-medicine codes (Condition.note)


def yhct(row: Row) -> str:
    main = row.twin.diagnoses[0] or {}
    notes = [n.get("text", "") for n in main.get("note", []) or [] if n.get("text", "").startswith(YHCT_NOTE)]
    return notes[-1][len(YHCT_NOTE) :] if notes else ""


def secondary_diagnoses(row: Row) -> str:
    return ";".join(row.twin.diagnoses[1][:12])  # XML 130 holds at most 12 (XML130-ICD-003)


def hospitalization(key: str) -> Back:
    """MA_NOI_DI / MA_NOI_DEN: the facility code of hospitalization.origin / .destination."""

    def read(row: Row) -> str:
        ident = ((row.twin.encounter.get("hospitalization") or {}).get(key) or {}).get("identifier") or {}
        return ident.get("value", "") if ident.get("system") == t.SID_CSKCB else ""

    return read


def ngay_vao(row: Row) -> str:
    return row.twin.admitted


def ngay_ra(row: Row) -> str:
    return row.twin.discharged


def so_ngay(row: Row) -> str:
    v = (row.twin.encounter.get("length") or {}).get("value")
    return "" if v is None else str(int(v))


def ma_khoa(row: Row) -> str:
    return (_first(row.twin.encounter.get("location")).get("location") or {}).get("display") or ""


def ma_cskcb(row: Row) -> str:
    org = row.twin.refs.get(_ref(row.twin.encounter, "serviceProvider"), {})
    return t.ident(org, t.SID_CSKCB) or row.twin.facility


def can_nang(row: Row) -> str:
    values = [
        (o.get("valueQuantity") or {}).get("value")
        for o in row.twin.observations("vhr-observation-body-weight")
    ]
    return next((f"{Decimal(str(v)):f}" for v in reversed(values) if v is not None), "")


# ---- rows of XML2, XML3, XML4 --------------------------------------------------------------------
def stt(row: Row) -> str:
    return str(row.n)


def local_time(key: str) -> Back:
    """A dateTime element of the row's resource in Vietnam time (yyyyMMddHHmm)."""
    return lambda row: t.fhir_to_local(row.res.get(key))


def _med(row: Row) -> dict[str, Any]:
    return row.res.get("medicationCodeableConcept") or {}


def _dose(row: Row) -> dict[str, Any]:
    return _first(row.res.get("dosageInstruction"))


def _quantity(row: Row) -> dict[str, Any]:
    return (row.res.get("dispenseRequest") or {}).get("quantity") or {}


def ma_thuoc(row: Row) -> str:
    return _first(_med(row).get("coding")).get("code", "")


def ten_thuoc(row: Row) -> str:
    return _first(_med(row).get("coding")).get("display") or _med(row).get("text", "")


def duong_dung(row: Row) -> str:
    return (_dose(row).get("route") or {}).get("text", "")


def lieu_dung(row: Row) -> str:
    return _dose(row).get("text", "")


def cach_dung(row: Row) -> str:
    return _dose(row).get("patientInstruction", "")


def so_luong(row: Row) -> str:
    v = _quantity(row).get("value")
    return "" if v is None else str(v)


def don_vi_tinh(row: Row) -> str:
    return _quantity(row).get("unit", "")


def requester(row: Row) -> str:
    return _actor(row.res.get("requester") or {})


def _code(row: Row) -> dict[str, Any]:
    return row.res.get("code") or {}


def service_code(row: Row) -> str:
    return _first(_code(row).get("coding")).get("code", "")


def service_name(row: Row) -> str:
    return _code(row).get("text") or _first(_code(row).get("coding")).get("display", "")


def service_reasons(row: Row) -> str:
    return ";".join(
        c.get("code", "")
        for rc in row.res.get("reasonCode", []) or []
        for c in rc.get("coding", [])
        if c.get("system") == t.ICD10
    )


def performed_start(row: Row) -> str:
    return _performed(row.res)


def performed_end(row: Row) -> str:
    return t.fhir_to_local((row.res.get("performedPeriod") or {}).get("end"))


def performer(row: Row) -> str:
    return _actor(_first(row.res.get("performer")).get("actor") or {})


def lab_code(row: Row) -> str:
    return next((c.get("code", "") for c in _code(row).get("coding", []) if c.get("system") == t.LOINC), "")


def lab_name(row: Row) -> str:
    return _code(row).get("text") or next((c.get("display", "") for c in _code(row).get("coding", [])), "")


def lab_value(row: Row) -> str:
    value = (row.res.get("valueQuantity") or {}).get("value", row.res.get("valueString", ""))
    return "" if value is None else str(value)


def lab_unit(row: Row) -> str:
    return (row.res.get("valueQuantity") or {}).get("unit", "")


def note(index: int) -> Back:
    """The text of the row resource's ``index``-th note (MO_TA, KET_LUAN)."""

    def read(row: Row) -> str:
        notes = row.res.get("note", []) or []
        return notes[index].get("text", "") if len(notes) > index else ""

    return read


# ---- fields the XML needs that FHIR does not carry (amounts, settlement period, keys) -------------
def filler(table: str, row: Row, values: dict[str, str]) -> dict[str, str]:
    """Key, counter and amount fields of a twin row. FHIR has no prices: THANH_TIEN_BV and
    T_TONGCHI_BV are 0, so the amount rules hold trivially; MUC_HUONG is the card's rate."""
    out = {"MA_LK": ma_lk(row)}
    if table == "XML1":
        day = row.twin.discharged or row.twin.admitted
        out.update(STT="1", NAM_QT=day[:4], THANG_QT=str(int(day[4:6])) if day else "", T_TONGCHI_BV="0")
    elif table == "XML2":
        out.update(DON_GIA="0", THANH_TIEN_BV="0")
    elif table == "XML3":
        out.update(SO_LUONG="1", DON_GIA_BV="0", THANH_TIEN_BV="0", NGAY_YL=values.get("NGAY_TH_YL", ""))
    if table in ("XML2", "XML3") and row.twin.rate:
        out["MUC_HUONG"] = row.twin.rate
    return out
