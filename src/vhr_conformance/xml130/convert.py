"""XML 130 → FHIR: one transaction Bundle (vhr-bundle-transaction) per encounter, by the mapping
of :mod:`vhr_conformance.xml130.mapping`. Every XML field holding a value that the mapping does
not carry is listed in ``unmapped`` — nothing is dropped silently."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vhr_conformance import vn
from vhr_conformance.i18n import Text
from vhr_conformance.names import UCUM
from vhr_conformance.xml130 import mapping as m
from vhr_conformance.xml130.envelope import Encounter, EnvelopeReader, Record
from vhr_conformance.xml130.issues import XmlIssue
from vhr_conformance.xml130.tables import DEFAULT_STANDARD
from vhr_conformance.xml130.validate import check_encounter

# How a stated province code is rewritten without changing the place it names (vn.resolve_province)
_SAME_PLACE = {
    "padded": Text("bỏ số 0 đứng đầu của mã tỉnh 3 chữ số", "leading 0 of a 3-digit province code dropped"),
    "legacy": Text(
        "mã tỉnh trước 01/07/2025, ghi mã tỉnh đã sáp nhập vào (NQ 202/2025/QH15)",
        "a pre-2025 province code: the province it merged into is written (NQ 202/2025/QH15)",
    ),
}
_NS = uuid.UUID("5d8e3b52-6f0c-4c55-9f61-130b0e47a750")  # namespace of our deterministic ids


@dataclass(frozen=True, slots=True)
class Normalisation:
    """One XML value written into FHIR other than as stated, and why."""

    field: str  # "XML1.MATINH_CU_TRU"
    stated: str
    written: str  # "" when nothing was written in its place
    target: str  # the FHIR element written
    changes_meaning: bool
    why: Text

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "stated": self.stated,
            "written": self.written,
            "target": self.target,
            "changes_meaning": self.changes_meaning,
            "why": {"vi": self.why.vi, "en": self.why.en},
        }


@dataclass(slots=True)
class Conversion:
    file: str
    index: int
    ma_lk: str
    bundle: dict[str, Any] | None
    unmapped: list[str] = field(default_factory=list)  # "XML1.NHOM_MAU", "XML5.DIEN_BIEN_LS"…
    issues: list[XmlIssue] = field(default_factory=list)
    normalised: list[Normalisation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.bundle is not None and not any(i.is_error for i in self.issues)


class _Builder:
    def __init__(self, enc: Encounter) -> None:
        self.enc = enc
        self.x1: Record = enc.xml1  # type: ignore[assignment]
        self.ma_lk = self.x1.get("MA_LK")
        self.entries: list[dict[str, Any]] = []
        self.used: set[tuple[str, str]] = set()
        self.unmapped: set[str] = set()
        self.normalised: list[Normalisation] = []
        self.issues: list[XmlIssue] = []

    # helpers ---------------------------------------------------------------------------------
    def url(self, key: str) -> str:
        return f"urn:uuid:{uuid.uuid5(_NS, f'{self.enc.macskcb}|{self.ma_lk}|{key}')}"

    def v(self, name: str, table: str = "XML1", rec: Record | None = None) -> str:
        """Value of a field, marking it as carried by the mapping."""
        r = rec or self.x1
        self.used.add((table, name))
        return r.get(name)

    def add(self, key: str, resource: dict[str, Any], if_none_exist: str | None = None) -> str:
        full = self.url(key)
        req: dict[str, str] = {"method": "POST", "url": resource["resourceType"]}
        if if_none_exist:
            req["ifNoneExist"] = if_none_exist
        self.entries.append({"fullUrl": full, "resource": resource, "request": req})
        return full

    def miss(self, table: str, name: str) -> None:
        self.unmapped.add(f"{table}.{name}")

    def normalise(self, name: str, stated: str, written: str, target: str, meaning: bool, why: Text) -> None:
        """Record a value written other than as stated; a change of meaning is also an issue."""
        self.normalised.append(Normalisation(f"XML1.{name}", stated, written, target, meaning, why))
        if meaning:
            self.issues.append(
                XmlIssue(
                    "warning",
                    "business-rule",
                    self.x1.loc(name),
                    "XML130-MAP-001",
                    Text(
                        "Chuyển đổi: {f} = '{s}' được ghi thành '{w}' ({t}): {y}",
                        "Conversion: {f} = '{s}' written as '{w}' ({t}): {z}",
                    ).format(f=name, s=stated, w=written or "∅", t=target, y=why.vi, z=why.en),
                    self.x1.lines.get(name, self.x1.line),
                    self.enc.file,
                )
            )

    def actor(self, value: str) -> dict[str, Any]:
        """A practitioner reference from MA_BAC_SI-like fields: the personal ID when it is one."""
        v = value.split(";")[0].strip()
        if len(v) == 12 and v.isdigit():
            return {"identifier": {"system": m.SID_CCCD, "value": v}}
        return {"display": v}

    def rid(self, table: str, rec: Record) -> dict[str, str]:
        self.used.add((table, "STT"))
        return {"system": "urn:ietf:rfc:3986", "value": self.url(f"{table}/{rec.get('STT') or rec.index}")}

    # resources -------------------------------------------------------------------------------
    def organization(self) -> str:
        code = self.v("MA_CSKCB") or self.enc.macskcb
        org = {
            "resourceType": "Organization",
            "meta": {"profile": [m.profile("vhr-organization")]},
            "identifier": [{"system": m.SID_CSKCB, "value": code}],
            "active": True,
            # XML 130 carries no facility name: the code stands in (documented in docs/xml130.md)
            "name": f"Cơ sở KCB {code}",
        }
        return self.add("Organization", org, f"identifier={m.SID_CSKCB}|{code}")

    def patient(self, org_url: str) -> str:
        x = self.x1
        p: dict[str, Any] = {"resourceType": "Patient", "meta": {"profile": [m.profile("vhr-patient")]}}
        ext: list[dict[str, Any]] = []
        dt = self.v("MA_DANTOC")
        if dt:
            if dt in m.ig_codes("vhr-ethnicity"):
                ext.append({"url": m.ext_url("vhr-ethnicity"), "valueCoding": m.coding("vhr-ethnicity", dt)})
            else:
                self.miss("XML1", "MA_DANTOC")
        nn = self.v("MA_NGHE_NGHIEP")
        if nn:
            ext.append({"url": m.ext_url("vhr-occupation"), "valueCoding": m.coding("vhr-occupation", nn)})
        qt = self.v("MA_QUOCTICH")
        if qt in ("000", "704"):
            ext.append(
                {
                    "url": m.NATIONALITY,
                    "extension": [
                        {
                            "url": "code",
                            "valueCodeableConcept": {
                                "coding": [
                                    {"system": "urn:iso:std:iso:3166", "code": "VN", "display": "Viet Nam"}
                                ]
                            },
                        }
                    ],
                }
            )
        elif qt:
            self.miss("XML1", "MA_QUOCTICH")
        birth, btime = m.xml_birth(self.v("NGAY_SINH"))
        if btime:
            ext.append({"url": m.BIRTH_TIME, "valueDateTime": btime})
        if ext:
            p["extension"] = ext
        ids: list[dict[str, Any]] = []
        cccd = self.v("SO_CCCD")
        if len(cccd) == 12 and cccd.isdigit():
            ids.append({"use": "official", "system": m.SID_CCCD, "value": cccd})
        elif len(cccd) == 9 and cccd.isdigit():
            ids.append({"use": "old", "system": m.SID_CMND, "value": cccd})
        elif cccd:
            self.miss("XML1", "SO_CCCD")
        for card, tu, den in self.cards():
            ident: dict[str, Any] = {"system": m.SID_BHYT, "value": card}
            period = {k: d for k, d in (("start", m.xml_date(tu)), ("end", m.xml_date(den))) if d}
            if period:
                ident["period"] = period
            ids.append(ident)
        ma_bn = self.v("MA_BN")
        if ma_bn:
            ids.append(
                {
                    "use": "usual",
                    "type": {
                        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]
                    },
                    "value": ma_bn,
                    "assigner": {"identifier": {"system": m.SID_CSKCB, "value": self.x1.get("MA_CSKCB")}},
                }
            )
        p["identifier"] = ids
        full = self.v("HO_TEN")
        family, given = m.split_name(full)
        name: dict[str, Any] = {"use": "official", "text": full, "family": family}
        if given:
            name["given"] = given
        p["name"] = [name]
        phone = self.v("DIEN_THOAI")
        if phone:
            p["telecom"] = [{"system": "phone", "value": phone}]
        sex = self.v("GIOI_TINH")
        p["gender"] = m.GENDER.get(sex, "unknown")
        if sex not in m.GENDER:  # Patient.gender is 1..1: an absent or invalid sex becomes unknown
            self.normalise(
                "GIOI_TINH",
                sex,
                "unknown",
                "Patient.gender",
                bool(sex),
                Text(
                    "không phải mã 1, 2, 3: ghi mã 'unknown' (không rõ)",
                    "not code 1, 2 or 3: written as 'unknown'",
                ),
            )
        if birth:
            p["birthDate"] = birth
        kq = x.get("KET_QUA_DTRI")
        if kq in ("5", "8") and m.xml_datetime(x.get("NGAY_RA")):
            p["deceasedDateTime"] = m.xml_datetime(x.get("NGAY_RA"))
        addr = self.address()
        if addr:
            p["address"] = [addr]
        p["managingOrganization"] = {"reference": org_url}
        if ids and ids[0]["system"] in (m.SID_CCCD, m.SID_BHYT):
            return self.add("Patient", p, f"identifier={ids[0]['system']}|{ids[0]['value']}")
        return self.add("Patient", p)

    def address(self) -> dict[str, Any] | None:
        text, prov, xa = self.v("DIA_CHI"), self.v("MATINH_CU_TRU"), self.v("MAXA_CU_TRU")
        self.used.add(("XML1", "MAHUYEN_CU_TRU"))  # districts were abolished in 2025: nothing to map
        if not (text or prov or xa):
            return None
        if self.x1.get("MAHUYEN_CU_TRU"):
            self.miss("XML1", "MAHUYEN_CU_TRU")
        ext = []
        communes = m.ig_codes("vhr-commune")
        own = m.concept_property(communes[xa], "province") if xa in communes else None
        if xa and own is None:
            self.miss("XML1", "MAXA_CU_TRU")
        resolved = vn.admin.resolve_province(prov) if prov else None
        province = own or (resolved.code if resolved else None)
        target = "Patient.address.extension[vhr-address-province]"
        if resolved is not None:
            if resolved.code is None and own is None:
                self.miss("XML1", "MATINH_CU_TRU")
            elif resolved.code != own and own is not None:
                self.normalise(
                    "MATINH_CU_TRU",
                    prov,
                    own,
                    target,
                    True,
                    Text(
                        "tỉnh đã ghi khác tỉnh của xã/phường {x}; ghi tỉnh của xã/phường",
                        "the stated province is not that of commune {x}; the commune's province is written",
                    ).format(x=xa),
                )
            elif resolved.how in _SAME_PLACE:
                self.normalise("MATINH_CU_TRU", prov, str(province), target, False, _SAME_PLACE[resolved.how])
        if province:
            ext.append(
                {"url": m.ext_url("vhr-address-province"), "valueCoding": m.coding("vhr-province", province)}
            )
        if own is not None:
            ext.append({"url": m.ext_url("vhr-address-commune"), "valueCoding": m.coding("vhr-commune", xa)})
        a: dict[str, Any] = {}
        if ext:
            a["extension"] = ext
        if text:
            a["text"] = text
        a["country"] = "VN"
        return a

    def cards(self) -> list[tuple[str, str, str]]:
        cards = [c.strip() for c in self.v("MA_THE_BHYT").split(";") if c.strip()]
        tu = self.v("GT_THE_TU").split(";")
        den = self.v("GT_THE_DEN").split(";")
        return [
            (c, tu[i] if i < len(tu) else "", den[i] if i < len(den) else "") for i, c in enumerate(cards)
        ]

    def coverages(self, pat_url: str) -> None:
        dkbd = self.v("MA_DKBD").split(";")
        for i, (card, tu, den) in enumerate(self.cards()):
            start = m.xml_date(tu)
            if not start:
                self.miss("XML1", "MA_THE_BHYT")  # no validity start: Coverage.period.start is required
                continue
            ext = []
            parts = vn.bhyt.parse(card)  # a legacy card names its group and benefit level
            if parts is not None:
                ext.append(
                    {
                        "url": m.ext_url("vhr-bhyt-beneficiary-group"),
                        "valueCoding": m.coding("vhr-bhyt-beneficiary-group", parts.group),
                    }
                )
                ext.append(
                    {
                        "url": m.ext_url("vhr-bhyt-benefit-level"),
                        "valueCoding": m.coding("vhr-bhyt-benefit-level", parts.level),
                    }
                )
            reg = dkbd[i].strip() if i < len(dkbd) else ""
            if reg:
                ext.append(
                    {
                        "url": m.ext_url("vhr-bhyt-registered-facility"),
                        "valueIdentifier": {"system": m.SID_CSKCB, "value": reg},
                    }
                )
            cov: dict[str, Any] = {
                "resourceType": "Coverage",
                "meta": {"profile": [m.profile("vhr-coverage-bhyt")]},
            }
            if ext:
                cov["extension"] = ext
            period = {"start": start}
            end = m.xml_date(den)
            if end:
                period["end"] = end
            cov.update(
                {
                    "identifier": [{"system": m.SID_BHYT, "value": card}],
                    "status": "active",
                    "type": {
                        "coding": [{"system": m.ACTCODE, "code": "PUBLICPOL", "display": "public healthcare"}]
                    },
                    "subscriberId": card,
                    "beneficiary": {"reference": pat_url},
                    "relationship": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                                "code": "self",
                            }
                        ]
                    },
                    "period": period,
                    "payor": [{"display": m.PAYOR}],
                }
            )
            self.add(f"Coverage/{card}", cov)

    def encounter(self, pat_url: str, org_url: str, diag_urls: list[str]) -> str:
        x = self.x1
        e: dict[str, Any] = {"resourceType": "Encounter", "meta": {"profile": [m.profile("vhr-encounter")]}}
        ext = []
        for field_name, eid, cs in (
            ("MA_LOAI_KCB", "vhr-encounter-form-of-care", "vhr-form-of-care"),
            ("MA_DOITUONG_KCB", "vhr-encounter-patient-category", "vhr-patient-category"),
            ("KET_QUA_DTRI", "vhr-encounter-treatment-result", "vhr-treatment-result"),
            ("MA_LOAI_RV", "vhr-encounter-discharge-type", "vhr-discharge-type"),
        ):
            code = self.v(field_name)
            if code:
                ext.append({"url": m.ext_url(eid), "valueCoding": m.coding(cs, code)})
        if ext:
            e["extension"] = ext
        e["identifier"] = [
            {
                "system": m.SID_MALK,
                "value": self.ma_lk,
                "assigner": {"identifier": {"system": m.SID_CSKCB, "value": x.get("MA_CSKCB")}},
            }
        ]
        start, end = m.xml_datetime(self.v("NGAY_VAO")), m.xml_datetime(self.v("NGAY_RA"))
        e["status"] = "finished" if end else "in-progress"
        form = x.get("MA_LOAI_KCB")
        cls = m.CLASS_BY_FORM.get(form, "AMB")
        if form not in m.CLASS_BY_FORM:
            self.normalise(
                "MA_LOAI_KCB",
                form,
                "AMB",
                "Encounter.class",
                bool(form),
                Text(
                    "hình thức KCB không có trong bảng ánh xạ: ghi là ngoại trú (AMB)",
                    "form of care not in the mapping: written as ambulatory (AMB)",
                ),
            )
        if x.get("MA_DOITUONG_KCB") == "2" and cls == "AMB":
            cls = "EMER"
        e["class"] = {"system": m.ACTCODE, "code": cls, "display": m.CLASS_DISPLAY[cls]}
        e["subject"] = {"reference": pat_url}
        period = {}
        if start:
            period["start"] = start
        if end:
            period["end"] = end
        e["period"] = period
        days = self.v("SO_NGAY_DTRI")
        if days.isdigit():
            e["length"] = {"value": int(days), "unit": "d", "system": UCUM, "code": "d"}
        reason = self.v("LY_DO_VV")
        if reason:
            e["reasonCode"] = [{"text": reason}]
        if diag_urls:
            e["diagnosis"] = [
                {
                    "condition": {"reference": u},
                    "use": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/diagnosis-role",
                                "code": "DD",
                                "display": "Discharge diagnosis",
                            }
                        ]
                    },
                    "rank": n,
                }
                for n, u in enumerate(diag_urls, 1)
            ]
        hosp = {}
        for field_name, key in (("MA_NOI_DI", "origin"), ("MA_NOI_DEN", "destination")):
            code = self.v(field_name)
            if code:
                hosp[key] = {"identifier": {"system": m.SID_CSKCB, "value": code}}
        if hosp:
            e["hospitalization"] = hosp
        khoa = self.v("MA_KHOA")
        if khoa:
            e["location"] = [{"location": {"display": khoa.split(";")[0]}}]
        e["serviceProvider"] = {"reference": org_url}
        return self.add("Encounter", e)

    def conditions(self, pat_url: str, enc_url: str) -> list[str]:
        x = self.x1
        main = self.v("MA_BENH_CHINH")
        secondary = [c.strip() for c in self.v("MA_BENH_KT").split(";") if c.strip()]
        recorded = m.xml_datetime(x.get("NGAY_RA"))
        urls = []
        for n, code in enumerate(([main] if main else []) + secondary):
            is_main = n == 0 and bool(main)
            c: dict[str, Any] = {
                "resourceType": "Condition",
                "meta": {"profile": [m.profile("vhr-condition-encounter-diagnosis")]},
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                "code": "encounter-diagnosis",
                                "display": "Encounter Diagnosis",
                            }
                        ]
                    }
                ],
                "code": {"coding": [{"system": m.ICD10, "code": code}]},
                "subject": {"reference": pat_url},
                "encounter": {"reference": enc_url},
            }
            if is_main:
                text = self.v("CHAN_DOAN_RV")
                if text:
                    c["code"]["text"] = text
                yhct = self.v("MA_BENH_YHCT")
                if yhct:
                    c["note"] = [{"text": f"MA_BENH_YHCT: {yhct}"}]
            if recorded:
                c["recordedDate"] = recorded
            urls.append(self.add(f"Condition/{n}/{code}", c))
        return urls

    def medications(self, pat_url: str, enc_url: str) -> None:
        for rec in self.enc.records("XML2"):
            g = lambda f, r=rec: self.v(f, "XML2", r)  # noqa: E731
            name, strength = g("TEN_THUOC"), g("HAM_LUONG")
            med: dict[str, Any] = {"text": " ".join(p for p in (name, strength) if p) or g("MA_THUOC")}
            if g("MA_THUOC"):
                med["coding"] = [{"code": g("MA_THUOC"), **({"display": name} if name else {})}]
            r: dict[str, Any] = {
                "resourceType": "MedicationRequest",
                "meta": {"profile": [m.profile("vhr-medicationrequest")]},
                "identifier": [self.rid("XML2", rec)],
                "status": "completed",
                "intent": "order",
                "medicationCodeableConcept": med,
                "subject": {"reference": pat_url},
                "encounter": {"reference": enc_url},
                "authoredOn": m.xml_datetime(g("NGAY_YL")) or m.xml_datetime(self.x1.get("NGAY_VAO")),
            }
            if g("MA_BAC_SI"):
                r["requester"] = self.actor(g("MA_BAC_SI"))
            dose: dict[str, Any] = {}
            if g("LIEU_DUNG"):
                dose["text"] = g("LIEU_DUNG")
            if g("CACH_DUNG"):
                dose["patientInstruction"] = g("CACH_DUNG")
            if g("DUONG_DUNG"):
                dose["route"] = {"text": g("DUONG_DUNG")}
            if dose:
                r["dosageInstruction"] = [dose]
            qty = m.num(g("SO_LUONG"))
            if qty is not None:
                q: dict[str, Any] = {"value": qty}
                if g("DON_VI_TINH"):
                    q["unit"] = g("DON_VI_TINH")
                r["dispenseRequest"] = {"quantity": q}
            self.add(f"XML2/{rec.index}", r)

    def procedures(self, pat_url: str, enc_url: str) -> None:
        for rec in self.enc.records("XML3"):
            g = lambda f, r=rec: self.v(f, "XML3", r)  # noqa: E731
            if not g("MA_DICH_VU"):
                for name, value in rec.values.items():
                    if value and name not in ("MA_LK", "STT"):
                        self.miss("XML3", name)
                continue
            name = g("TEN_DICH_VU")
            code: dict[str, Any] = {
                "coding": [{"code": g("MA_DICH_VU"), **({"display": name} if name else {})}]
            }
            if name:
                code["text"] = name
            p: dict[str, Any] = {
                "resourceType": "Procedure",
                "meta": {"profile": [m.profile("vhr-procedure")]},
                "identifier": [self.rid("XML3", rec)],
                "status": "completed",
                "code": code,
                "subject": {"reference": pat_url},
                "encounter": {"reference": enc_url},
            }
            start, end = m.xml_datetime(g("NGAY_TH_YL")), m.xml_datetime(g("NGAY_KQ"))
            if start or end:
                p["performedPeriod"] = {k: v for k, v in (("start", start), ("end", end)) if v}
            if g("NGUOI_THUC_HIEN"):
                p["performer"] = [{"actor": self.actor(g("NGUOI_THUC_HIEN"))}]
            reasons = [c.strip() for c in g("MA_BENH").split(";") if c.strip()]
            if reasons:
                p["reasonCode"] = [{"coding": [{"system": m.ICD10, "code": c}]} for c in reasons]
            self.add(f"XML3/{rec.index}", p)

    def observations(self, pat_url: str, enc_url: str) -> None:
        for rec in self.enc.records("XML4"):
            g = lambda f, r=rec: self.v(f, "XML4", r)  # noqa: E731
            code_v, name = g("MA_CHI_SO"), g("TEN_CHI_SO")
            loinc = bool(m.LOINC_RE.match(code_v))
            coding = {"system": m.LOINC, "code": code_v} if loinc else {"code": code_v}
            if not code_v:
                coding = {}
            code: dict[str, Any] = {"coding": [coding]} if coding else {}
            if name:
                code["text"] = name
            o: dict[str, Any] = {"resourceType": "Observation"}
            if loinc:
                o["meta"] = {"profile": [m.profile("vhr-observation-lab-result")]}
            o.update(
                {
                    "identifier": [self.rid("XML4", rec)],
                    "status": "final",
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                    "code": "laboratory",
                                    "display": "Laboratory",
                                }
                            ]
                        }
                    ],
                    "code": code or {"text": "?"},
                    "subject": {"reference": pat_url},
                    "encounter": {"reference": enc_url},
                    "effectiveDateTime": m.xml_datetime(g("NGAY_KQ"))
                    or m.xml_datetime(self.x1.get("NGAY_VAO")),
                }
            )
            value = g("GIA_TRI")
            n = m.num(value) if value else None
            if n is not None:
                q: dict[str, Any] = {"value": n}
                if g("DON_VI_DO"):
                    q["unit"] = g("DON_VI_DO")
                o["valueQuantity"] = q
            elif value:
                o["valueString"] = value
            if g("MA_BS_DOC_KQ"):
                o["performer"] = [{"display": g("MA_BS_DOC_KQ")}]
            notes = [t for t in (g("MO_TA"), g("KET_LUAN")) if t]
            if notes:
                o["note"] = [{"text": t} for t in notes]
            self.add(f"XML4/{rec.index}", o)

    def vitals(self, pat_url: str, enc_url: str) -> None:
        w = m.num(self.v("CAN_NANG"))
        eff = m.xml_datetime(self.x1.get("NGAY_VAO"))
        if w is not None and eff:
            self.add(
                "weight",
                {
                    "resourceType": "Observation",
                    "meta": {"profile": [m.profile("vhr-observation-body-weight")]},
                    "status": "final",
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                    "code": "vital-signs",
                                    "display": "Vital Signs",
                                }
                            ]
                        }
                    ],
                    "code": {"coding": [{"system": m.LOINC, "code": "29463-7", "display": "Body weight"}]},
                    "subject": {"reference": pat_url},
                    "encounter": {"reference": enc_url},
                    "effectiveDateTime": eff,
                    "valueQuantity": {"value": w, "unit": "kg", "system": UCUM, "code": "kg"},
                },
            )
        bg = self.v("NHOM_MAU")
        if bg and bg in m.ig_codes("vhr-blood-group"):
            self.add(
                "blood-group",
                {
                    "resourceType": "Observation",
                    "meta": {"profile": [m.profile("vhr-observation-blood-group")]},
                    "status": "final",
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                    "code": "laboratory",
                                    "display": "Laboratory",
                                }
                            ]
                        }
                    ],
                    "code": {
                        "coding": [
                            {
                                "system": m.LOINC,
                                "code": "882-1",
                                "display": "ABO and Rh group [Type] in Blood",
                            }
                        ]
                    },
                    "subject": {"reference": pat_url},
                    "encounter": {"reference": enc_url},
                    "effectiveDateTime": eff,
                    "valueCodeableConcept": {"coding": [m.coding("vhr-blood-group", bg)]},
                },
            )
        elif bg:
            self.miss("XML1", "NHOM_MAU")

    def build(self) -> dict[str, Any]:
        org = self.organization()
        pat = self.patient(org)
        self.coverages(pat)
        enc_url = self.url("Encounter")
        diags = self.conditions(pat, enc_url)
        enc = self.encounter(pat, org, diags)  # == enc_url: ids are deterministic
        self.vitals(pat, enc)
        self.medications(pat, enc)
        self.procedures(pat, enc)
        self.observations(pat, enc)
        # Encounter right after the Patient and Coverages reads naturally; order is free in a transaction
        for code, table in self.enc.tables.items():
            for rec in table.records:
                for name, value in rec.values.items():
                    if not value or name == "MA_LK" or (code, name) in m.STRUCTURAL:
                        continue
                    if (code, name) not in self.used:
                        self.unmapped.add(f"{code}.{name}")
        return {
            "resourceType": "Bundle",
            "meta": {"profile": [m.profile("vhr-bundle-transaction")]},
            "identifier": {"system": m.SID_MALK, "value": self.ma_lk},
            "type": "transaction",
            "entry": self.entries,
        }


def convert_encounter(enc: Encounter) -> Conversion:
    """Validate and convert one encounter; no Bundle when XML1 is missing or has no MA_LK."""
    report = check_encounter(enc)
    conv = Conversion(file=enc.file, index=enc.index, ma_lk=enc.ma_lk, bundle=None, issues=report.issues)
    if enc.xml1 is None or not enc.ma_lk:
        return conv
    b = _Builder(enc)
    conv.bundle = b.build()
    conv.unmapped = sorted(b.unmapped)
    conv.normalised = b.normalised
    conv.issues = [*conv.issues, *b.issues]
    return conv


def convert_source(
    source: Path | bytes, name: str | None = None, standard: str = DEFAULT_STANDARD
) -> Iterator[Conversion]:
    """Convert every encounter of an envelope (streamed)."""
    reader = EnvelopeReader(source, name=name, standard=standard)
    for enc in reader:
        yield convert_encounter(enc)
    if any(i.is_error for i in reader.issues):  # envelope-level errors: reported as a bundle-less result
        yield Conversion(file=reader.name, index=0, ma_lk="", bundle=None, issues=reader.issues)


def convert_file(path: Path, standard: str = DEFAULT_STANDARD) -> Iterator[Conversion]:
    return convert_source(path, name=str(path), standard=standard)
