"""Build one synthetic patient as a FHIR R4 transaction Bundle.

Each patient draws from its own ``random.Random`` stream seeded by ``(seed, index)``, so a patient
is the same whatever the order, process or job count that generates it. Dictionaries are built
directly (no model classes, no deepcopy) because the target is hundreds of patients per second.
"""

from __future__ import annotations

import random
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import combinations
from typing import Any

from vhr_conformance import names
from vhr_conformance.generator import tables as T
from vhr_conformance.generator.terminology import cs_url, ext_url, profile_url
from vhr_conformance.generator.world import Facility, World, render_surname, station_practitioners
from vhr_conformance.names import (
    ICD10,
    LOINC,
    SID_BHYT,
    SID_CCCD,
    SID_CCHN,
    SID_CSKCB,
    SID_MALK,
    SID_PASSPORT,
    SNOMED,
    UCUM,
)

MIN_RESOURCES = 15
# NQ 202/2025/QH15: from this day there are 34 provinces; a birth registered on or after it is
# registered in a 2025 province.
MERGER_DATE = date(2025, 7, 1)
# Which province code opens the CCCD of a baby born after the merger is not confirmed: the 2025
# province's own code ("successor", the default) or that of the former province where the birth
# took place ("legacy"). See docs/generator.md.
POST_MERGER_CHOICES = ("successor", "legacy")
# Fixed "now" so that output does not depend on the day it is generated.
REFERENCE_NOW = datetime(2026, 6, 1, 9, 0, 0)
TZ = "+07:00"

CVX = "http://hl7.org/fhir/sid/cvx"
ATC = "http://www.whocc.no/atc"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
COND_CAT = "http://terminology.hl7.org/CodeSystem/condition-category"
COND_CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
COND_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
HTEST = {**names.HTEST, "display": "test health data"}
NATIONALITY_EXT = "http://hl7.org/fhir/StructureDefinition/patient-nationality"
BIRTHPLACE_EXT = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"

P_PATIENT = profile_url("vhr-patient")
P_ORG = profile_url("vhr-organization")
P_PRAC = profile_url("vhr-practitioner")
P_ENC = profile_url("vhr-encounter")
P_DX = profile_url("vhr-condition-encounter-diagnosis")
P_PROBLEM = profile_url("vhr-condition-problem")
P_ALLERGY = profile_url("vhr-allergyintolerance")
P_IMM = profile_url("vhr-immunization")
P_HEIGHT = profile_url("vhr-observation-body-height")
P_WEIGHT = profile_url("vhr-observation-body-weight")
P_BP = profile_url("vhr-observation-blood-pressure")
P_BLOOD = profile_url("vhr-observation-blood-group")
P_LAB = profile_url("vhr-observation-lab-result")
P_SMOKING = profile_url("vhr-observation-smoking-status")
P_ALCOHOL = profile_url("vhr-observation-alcohol-use")
P_MED = profile_url("vhr-medicationrequest")
P_PROC = profile_url("vhr-procedure")
P_FMH = profile_url("vhr-familymemberhistory")
P_COV = profile_url("vhr-coverage-bhyt")
P_COMP = profile_url("vhr-composition-health-record")
P_DOC = profile_url("vhr-bundle-document")
P_TX = profile_url("vhr-bundle-transaction")

EXT_FORM = ext_url("vhr-encounter-form-of-care")
EXT_CAT = ext_url("vhr-encounter-patient-category")
EXT_RESULT = ext_url("vhr-encounter-treatment-result")
EXT_DISCHARGE = ext_url("vhr-encounter-discharge-type")
CS_FORM = cs_url("vhr-form-of-care")
CS_CAT = cs_url("vhr-patient-category")
CS_RESULT = cs_url("vhr-treatment-result")
CS_DISCHARGE = cs_url("vhr-discharge-type")
CS_REASON = cs_url("vhr-visit-reason")

_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


def _rb(r: random.Random, n: int) -> int:
    """randrange(n) without the rejection loop (bias < 2**-40 for our small n; much faster)."""
    return int(r.random() * n)


def _rr(r: random.Random, lo: int, hi: int) -> int:
    """randrange(lo, hi)."""
    return lo + int(r.random() * (hi - lo))


def _ri(r: random.Random, lo: int, hi: int) -> int:
    """randint(lo, hi), inclusive."""
    return lo + int(r.random() * (hi - lo + 1))


def _pick(r: random.Random, seq: Any) -> Any:
    return seq[int(r.random() * len(seq))]


@lru_cache(maxsize=64)
def _combinations(n: int, k: int) -> tuple[tuple[int, ...], ...]:
    return tuple(combinations(range(n), min(k, n)))


def _subset(r: random.Random, n: int, k: int) -> tuple[int, ...]:
    """k distinct sorted indices below n, uniformly (one draw among the precomputed subsets)."""
    subsets = _combinations(n, k)
    return subsets[int(r.random() * len(subsets))]


def new_uuid(rng: random.Random) -> str:
    """A version-4-shaped UUID drawn from the patient's stream (never uuid4())."""
    h = f"{(rng.getrandbits(128) & _UUID_CLEAR) | _UUID_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_NS = uuid.UUID("6f1c1a52-3b0e-4d55-9a51-7a0d1f0c2b11")


@lru_cache(maxsize=65536)
def stable_url(kind: str, key: str) -> str:
    """Shared resources (facilities, practitioners) keep one fullUrl across all patients."""
    return f"urn:uuid:{uuid.uuid5(_NS, f'{kind}:{key}')}"


@lru_cache(maxsize=64)
def meta(profile: str) -> dict:
    """Shared per profile: bundles from generate_patients share constant sub-objects (copy to mutate)."""
    return {"profile": [profile], "tag": [dict(HTEST)]}


@lru_cache(maxsize=16384)
def coding(system: str, code: str, display: str) -> dict:
    return {"system": system, "code": code, "display": display}


@lru_cache(maxsize=16384)
def cc(system: str, code: str, display: str, text: str | None = None) -> dict:
    out: dict = {"coding": [{"system": system, "code": code, "display": display}]}
    if text:
        out["text"] = text
    return out


def dt(d: datetime) -> str:
    return d.isoformat() + TZ


@dataclass(frozen=True, slots=True)
class Options:
    """Run-wide choices that change what is generated (the same for every patient of a run)."""

    post_merger_cccd: str = "successor"

    def __post_init__(self) -> None:
        if self.post_merger_cccd not in POST_MERGER_CHOICES:
            raise ValueError(f"post_merger_cccd must be one of {POST_MERGER_CHOICES}")


DEFAULT_OPTIONS = Options()
_NO_NAMING: tuple = (None, None, (), ())


@dataclass(slots=True)
class EncounterSpec:
    """Overrides for one encounter (used by the coverage cohort)."""

    form: str | None = None
    result: str | None = None
    discharge: str | None = None
    category: str | None = None
    reason: str | None = None
    icd: str | None = None
    days_ago: int | None = None
    labs: bool | None = None
    absent_vitals: bool = False


@dataclass(slots=True)
class Spec:
    """Optional overrides of what is otherwise drawn at random (coverage and edge cases)."""

    sex: str | None = None
    age_days: int | None = None
    family: str | None = None
    middle: str | None = None
    given: str | None = None
    nfd_name: bool = False
    deceased: bool | None = None
    bhyt_cards: int | None = None
    bhyt_groups: list[str] = field(default_factory=list)
    card_formats: list[str] = field(default_factory=list)  # "legacy" | "bhxh" | "cccd"
    ethnicity: str | None = None
    occupation: str | None = None
    blood: tuple[str, str] | None = None
    birth_legacy: str | None = None
    province: str | None = None
    commune: str | None = None
    encounters: list[EncounterSpec] | None = None
    passport: bool = False
    recorded_gender: str | None = None  # FHIR gender as recorded, e.g. "unknown" (GIOI_TINH 3)
    allergies: int | None = None
    smoking: str | None = None
    alcohol: str | None = None
    surgeries: bool | None = None
    past_disease: bool | None = None
    link_history: bool = False  # point an immunization and a procedure at the first encounter
    family_history: int | None = None


class PatientBuilder:
    """Builds the resources of one patient into a list of transaction entries."""

    def __init__(
        self,
        world: World,
        seed: int,
        index: int,
        now: datetime = REFERENCE_NOW,
        spec: Spec | None = None,
        options: Options = DEFAULT_OPTIONS,
    ) -> None:
        self.w = world
        self.options = options
        # One stream per (seed, index): unique 104-bit int seed, cheap to initialise.
        self.rng = random.Random(((seed & 0xFFFFFFFFFFFFFFFF) << 40) | (index & 0xFFFFFFFFFF))
        self.seed = seed
        self.index = index
        self.now = now
        self.today = now.date()
        self.spec = spec or Spec()
        self.entries: list[dict] = []
        h = new_uuid(self.rng)
        self.url_prefix = f"urn:uuid:{h[:24]}"
        self.counter = 0
        self.org_urls: dict[str, str] = {}
        self.prac_urls: dict[str, str] = {}
        self.sections: dict[str, list[str]] = {
            "administrative": [],
            "history": [],
            "encounters": [],
            "summary": [],
        }

    # --- helpers ---------------------------------------------------------------------------
    def next_url(self) -> str:
        """Per-patient fullUrls: one random 80-bit prefix (v4 layout) + a 48-bit entry counter."""
        self.counter += 1
        return f"{self.url_prefix}{self.counter:012x}"

    def add(
        self,
        resource: dict,
        section: str | None = None,
        if_none_exist: str | None = None,
        url: str | None = None,
    ) -> str:
        url = url or self.next_url()
        if if_none_exist:
            request = {"method": "POST", "url": resource["resourceType"], "ifNoneExist": if_none_exist}
        else:
            request = _POST[resource["resourceType"]]
        self.entries.append({"fullUrl": url, "resource": resource, "request": request})
        if section:
            self.sections[section].append(url)
        return url

    def when(self, d: date, hour_lo: int = 7, hour_hi: int = 16) -> datetime:
        r = self.rng
        return datetime(d.year, d.month, d.day, _ri(r, hour_lo, hour_hi), 5 * _rb(r, 12), 0)

    def when_s(self, d: date) -> str:
        """Same draw as :meth:`when`, formatted directly (no datetime object)."""
        r = self.rng
        return f"{d.isoformat()}T{_ri(r, 7, 16):02d}:{5 * _rb(r, 12):02d}:00{TZ}"

    def org(self, fac: Facility) -> str:
        if fac.code in self.org_urls:
            return self.org_urls[fac.code]
        cache = self.w.resource_cache
        key = ("org", fac.code)
        res = cache.get(key)
        if res is None:
            res = {
                "resourceType": "Organization",
                "meta": meta(P_ORG),
                "identifier": [{"system": SID_CSKCB, "value": fac.code}],
                "active": True,
                "type": [
                    cc(
                        "http://terminology.hl7.org/CodeSystem/organization-type",
                        "prov",
                        "Healthcare Provider",
                    )
                ],
                "name": fac.name,
                "telecom": [{"system": "phone", "value": fac.phone, "use": "work"}],
                "address": [self.address_dict(fac.province, fac.commune, None, use="work")],
            }
            if fac.parent:
                parent = self.w.by_code[fac.parent]
                res["partOf"] = {"reference": stable_url("org", parent.code), "display": parent.name}
            cache[key] = res
        if fac.parent:
            self.org(self.w.by_code[fac.parent])
        url = self.add(res, None, f"identifier={SID_CSKCB}|{fac.code}", stable_url("org", fac.code))
        self.org_urls[fac.code] = url
        return url

    def practitioner(self, fac: Facility) -> tuple[str, str]:
        staff = fac.practitioners or station_practitioners(fac)
        licence, name, sex, cccd, phone = staff[_rb(self.rng, len(staff))]
        if licence in self.prac_urls:
            return self.prac_urls[licence], name
        res = self.w.resource_cache.get(("prac", licence))
        if res is None:
            family, *rest = name.split(" ")
            res = {
                "resourceType": "Practitioner",
                "meta": meta(P_PRAC),
                "identifier": [{"system": SID_CCHN, "value": licence}, {"system": SID_CCCD, "value": cccd}],
                "active": True,
                "name": [{"use": "official", "text": name, "family": family, "given": rest}],
                "telecom": [{"system": "phone", "value": phone, "use": "work"}],
                "gender": sex,
                "qualification": [{"code": {"text": "Bác sĩ"}}],
            }
            self.w.resource_cache[("prac", licence)] = res
        url = self.add(res, None, f"identifier={SID_CCHN}|{licence}", stable_url("prac", licence))
        self.prac_urls[licence] = url
        return url, name

    def address_dict(self, province: str, commune: str, line: str | None, use: str = "home") -> dict:
        w = self.w
        pname = w.province[province]
        cname = w.commune_name.get(commune, "")
        parts = [p for p in (line, cname, pname) if p]
        out: dict = {
            "extension": [
                {
                    "url": ext_url("vhr-address-province"),
                    "valueCoding": coding(cs_url("vhr-province"), province, pname),
                },
            ],
            "use": use,
            "type": "physical",
            "text": ", ".join(parts),
        }
        if commune:
            out["extension"].append(
                {
                    "url": ext_url("vhr-address-commune"),
                    "valueCoding": coding(cs_url("vhr-commune"), commune, cname),
                }
            )
        if line:
            out["line"] = [line]
        if cname:
            out["city"] = cname
        out["state"] = pname
        out["country"] = "VN"
        return out

    # --- the patient -----------------------------------------------------------------------
    def build(self) -> dict:
        self.demographics()
        self.patient_url = self.next_url()
        self.subject = {"reference": self.patient_url}
        self.add(
            self.patient_resource(), "administrative", f"identifier={SID_CCCD}|{self.cccd}", self.patient_url
        )
        self.coverages()
        self.history()
        self.encounters()
        # Every patient carries at least MIN_RESOURCES resources (newborns get a check-up visit).
        while self.spec.encounters is None and len(self.entries) < MIN_RESOURCES - 1:
            self.encounter(
                EncounterSpec(form="01", icd="Z00.1" if self.age < 13 else "Z00.0", labs=False), self.last_day
            )
        if self.spec.link_history and self.first_encounter:
            for e in self.entries:
                res = e["resource"]
                if res["resourceType"] in ("Immunization", "Procedure") or (
                    res["resourceType"] == "Observation" and res["code"]["coding"][0]["code"] == "882-1"
                ):
                    res["encounter"] = {"reference": self.first_encounter}
        self.composition()
        return {
            "resourceType": "Bundle",
            # The patient's whole record: core Bundle (vhr-bundle-transaction is one encounter's
            # submission; see document.submissions()).
            "meta": meta("http://hl7.org/fhir/StructureDefinition/Bundle"),
            "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{new_uuid(self.rng)}"},
            "type": "transaction",
            "timestamp": dt(self.now),
            "entry": self.entries,
        }

    def demographics(self) -> None:
        w, r, s = self.w, self.rng, self.spec
        if s.age_days is not None:
            age_days = s.age_days
        else:
            band = w.choose_age_band(r)
            age_days = band * 365 + _rb(r, 5 * 365)
        self.birth = self.today - timedelta(days=age_days)
        self.age = (
            self.today.year
            - self.birth.year
            - ((self.today.month, self.today.day) < (self.birth.month, self.birth.day))
        )
        p_male = 0.52 if self.age < 15 else (0.50 if self.age < 60 else 0.42)
        self.sex = s.sex or ("male" if r.random() < p_male else "female")
        male = self.sex == "male"
        # Where the patient lives (2024 population), who they are there (2019 census shares), then
        # where they were born: only a migrant adult's birth province differs from the residence, so
        # migration never adds to the residence shares.
        if s.province:
            self.province = s.province
            pick = w.residence_in_2025.get(s.province)
            res_legacy = pick(r) if pick else s.province
        elif s.birth_legacy:
            res_legacy = s.birth_legacy
            home = w.legacy_successor.get(s.birth_legacy, "")
            self.province = home if home in w.communes_by_province else "01"
        else:
            res_legacy = w.choose_residence(r)
            self.province = w.legacy_successor[res_legacy]
        self.res_legacy = res_legacy
        eth_pick = w.ethnicity_in.get(res_legacy)
        self.ethnicity = s.ethnicity or (eth_pick(r) if eth_pick else "01")
        self.post_merger = self.birth >= MERGER_DATE
        if s.birth_legacy:
            self.birth_legacy = s.birth_legacy
        elif self.post_merger:
            post = self.options.post_merger_cccd
            self.birth_legacy = self.province if post == "successor" else res_legacy
        elif self.age >= 18 and r.random() < w.migrant_share.get(res_legacy, 0.0):
            born = w.origin_of[self.ethnicity](r)
            for _ in range(3):  # born elsewhere: redraw the (rare) draw of the residence itself
                if born != res_legacy:
                    break
                born = w.origin_of[self.ethnicity](r)
            self.birth_legacy = born
        else:
            self.birth_legacy = res_legacy
        # Names follow the ethnic group's practice; a survey name takes its regional form.
        pick_family = w.surname_of.get(self.ethnicity, w.choose_family)
        self.family = s.family or render_surname(pick_family(r), self.birth_legacy, r)
        mm, mf, gm, gf = w.naming.get(self.ethnicity, _NO_NAMING)
        if s.middle is not None:
            self.middle = s.middle
        else:
            self.middle = (mm or w.choose_middle_m)(r) if male else (mf or w.choose_middle_f)(r)
        if s.given is not None:
            self.given = s.given
        else:
            own = gm if male else gf
            g = _pick(r, own or (T.GIVEN_MALE if male else T.GIVEN_FEMALE))
            if not own and self.birth.year >= 1990 and r.random() < 0.35:
                g = f"{_pick(r, T.GIVEN_PREFIX_MODERN)} {g}"
            self.given = g
        # Urban residents live in a phường, rural ones in a xã or đặc khu (per-province share,
        # shifted by ethnic group: data/urban.json).
        if s.commune:
            self.commune = s.commune
        else:
            urban = w.urban_communes.get(self.province) or []
            rural = w.rural_communes.get(self.province) or []
            p_town = w.urban_given_ethnicity.get(
                (self.province, self.ethnicity), w.urban_share.get(self.province, 0.38)
            )
            in_town = bool(urban) and (not rural or r.random() < p_town)
            rural_pick = w.rural_pick.get(self.province)
            if in_town or rural_pick is None:
                pool = urban if in_town else rural
                self.commune = pool[_rb(r, len(pool))]
            else:
                self.commune = rural_pick(r)
        self.urban = self.w.commune_name.get(self.commune, "").startswith("Phường")
        century = (self.birth.year // 100) - 19
        digit = century * 2 + (0 if male else 1)
        self.cccd = f"0{self.birth_legacy}{digit}{self.birth.year % 100:02d}{_rb(r, 1_000_000):06d}"
        self.phone = f"{_pick(r, T.MOBILE_PREFIXES)}{_rb(r, 10_000_000):07d}"
        deceased = s.deceased if s.deceased is not None else (self.age >= 70 and r.random() < 0.04)
        self.death: datetime | None = None
        if deceased:
            days = _rr(r, 1, 365)
            self.death = self.when(self.today - timedelta(days=min(days, max(age_days - 1, 1))))
        # Care happens before death; "last day" of clinical activity.
        self.last_day = self.death.date() if self.death else self.today - timedelta(days=1)

    def patient_resource(self) -> dict:
        w, r, s = self.w, self.rng, self.spec
        full = " ".join(p for p in (self.family, self.middle, self.given) if p)
        given = [p for p in (self.middle.split(" ") if self.middle else []) + self.given.split(" ") if p]
        family = self.family
        if s.nfd_name:
            full = unicodedata.normalize("NFD", full)
            family = unicodedata.normalize("NFD", family)
            given = [unicodedata.normalize("NFD", g) for g in given]
        line = self.street()
        ext = [
            {
                "url": ext_url("vhr-ethnicity"),
                "valueCoding": coding(cs_url("vhr-ethnicity"), self.ethnicity, w.ethnicity[self.ethnicity]),
            },
        ]
        occ = self.occupation()
        if occ:
            ext.append(
                {
                    "url": ext_url("vhr-occupation"),
                    "valueCoding": coding(cs_url("vhr-occupation"), occ, w.occupation_display[occ]),
                }
            )
        ext.append(
            {
                "url": NATIONALITY_EXT,
                "extension": [
                    {"url": "code", "valueCodeableConcept": cc("urn:iso:std:iso:3166", "VN", "Viet Nam")}
                ],
            }
        )
        # Born after the merger: the place of birth is a 2025 province, whatever code the CCCD took.
        if self.post_merger:
            place = w.province[w.legacy_successor.get(self.birth_legacy, self.province)]
        else:
            place = w.legacy[self.birth_legacy]
        ext.append(
            {
                "url": BIRTHPLACE_EXT,
                "valueAddress": {"text": place, "state": place, "country": "VN"},
            }
        )
        ident: list[dict] = [{"use": "official", "system": SID_CCCD, "value": self.cccd}]
        if s.passport or (self.age >= 18 and r.random() < 0.05):
            ident.append({"system": SID_PASSPORT, "value": f"{'BC'[_rb(r, 2)]}{_rb(r, 10**7):07d}"})
        self.identifiers = ident
        res: dict = {
            "resourceType": "Patient",
            "meta": meta(P_PATIENT),
            "extension": ext,
            "identifier": ident,
            "active": True,
            "name": [{"use": "official", "text": full, "family": family, "given": given}],
            "telecom": [{"system": "phone", "value": self.phone, "use": "mobile"}],
            "gender": s.recorded_gender or self.sex,
            "birthDate": self.birth.isoformat(),
        }
        if self.death:
            res["deceasedDateTime"] = dt(self.death)
        else:
            res["deceasedBoolean"] = False
        res["address"] = [self.address_dict(self.province, self.commune, line)]
        if self.age < 16:
            parent_sex = "female" if r.random() < 0.6 else "male"
            rel = ("MTH", "mother", "Mẹ") if parent_sex == "female" else ("FTH", "father", "Bố")
            mm, mf, gm, gf = w.naming.get(self.ethnicity, _NO_NAMING)
            female = parent_sex == "female"
            pm = (mf or w.choose_middle_f)(r) if female else (mm or w.choose_middle_m)(r)
            pg = _pick(r, (gf or T.GIVEN_FEMALE) if female else (gm or T.GIVEN_MALE))
            if female:
                pick_family = w.surname_of.get(self.ethnicity, w.choose_family)
                pf = render_surname(pick_family(r), self.birth_legacy, r)
            else:
                pf = self.family
            res["contact"] = [
                {
                    "relationship": [cc(ROLE_CODE, rel[0], rel[1], f"{rel[2]} - người đại diện hợp pháp")],
                    "name": {
                        "use": "official",
                        "text": " ".join(p for p in (pf, pm, pg) if p),
                        "family": pf,
                        "given": [p for p in (*pm.split(" "), *pg.split(" ")) if p],
                    },
                    "telecom": [
                        {
                            "system": "phone",
                            "value": f"{_pick(r, T.MOBILE_PREFIXES)}{_rb(r, 10**7):07d}",
                            "use": "mobile",
                        }
                    ],
                    "gender": parent_sex,
                }
            ]
        self.patient = res
        return res

    def street(self) -> str:
        """An address line in the words of the patient's region (data/address.json)."""
        w, r = self.w, self.rng
        style_name = w.style_of.get(self.province, "north")
        st = w.styles[style_name]
        if self.urban:
            form = st.form(r)
            name = _pick(r, _STREETS)
            n = _ri(r, 1, 350)
            if form == "street":
                return f"Số {n} {st.street(r)} {name}"
            if form == "lane":
                return f"Số {n}, {st.lane} {_ri(r, 1, 200)} {name}"
            if form == "sublane":
                lane = _ri(r, 1, 200)
                return f"Số {n}, {st.sublane} {_ri(r, 1, 60)}/{lane}, {st.lane} {lane} {name}"
            return f"{st.group(r)} {_ri(r, 1, 30)}"
        own = w.ethnic_hamlet.get((self.ethnicity, style_name))
        word = own(r) if own is not None and r.random() < w.ethnic_hamlet_share else st.rural(r)
        if word in _NUMBERED_HAMLETS and r.random() < 0.4:
            return f"{word} {_ri(r, 1, 12)}"
        return f"{word} {_pick(r, w.hamlet_names.get(word, st.names))}"

    def occupation(self) -> str | None:
        w, s = self.w, self.spec
        if s.occupation:
            return s.occupation
        if not w.occupations:
            return None
        if self.age < 15 and "00000" in w.occupation_display:
            return "00000"
        return w.occupations[_rb(self.rng, len(w.occupations))]

    # --- insurance -------------------------------------------------------------------------
    def coverages(self) -> None:
        w, r, s = self.w, self.rng, self.spec
        n = s.bhyt_cards if s.bhyt_cards is not None else (0 if r.random() < T.BHYT_UNINSURED_SHARE else 1)
        self.cards: list[str] = []
        if n == 0:
            return
        reg = w.station_of_commune.get(self.commune) or w.facilities_by_province[self.province][2]
        reg_url = self.org(reg)
        bhxh = f"{self.province}{_rb(r, 10**8):08d}"
        for k in range(n):
            group = s.bhyt_groups[k] if k < len(s.bhyt_groups) else self.pick_group()
            allowed = w.bhyt_groups[group][0]  # the levels QĐ 1351 gives the group
            benefit = allowed[0] if len(allowed) == 1 else allowed[_rb(r, len(allowed))]
            fmt = (
                s.card_formats[k]
                if k < len(s.card_formats)
                else r.choices(("legacy", "bhxh", "cccd"), (60, 30, 10))[0]
            )
            if fmt == "legacy":
                # The issuing province: the legacy residence (cards keep pre-2025 codes).
                digits = (
                    self.res_legacy
                    if self.res_legacy in w.bhyt_provinces
                    else w.legacy_of_2025[self.province]
                )
                card = f"{group}{benefit}{digits}{bhxh}"
            elif fmt == "bhxh":
                card = bhxh
            else:
                card = self.cccd
            # The last card is current; earlier ones ran out in previous years.
            # A deceased person's last card is the one of the year they died, ending that day.
            years_back = n - 1 - k
            year = (self.death.year if self.death else self.today.year) - years_back
            start = max(date(year, 1, 1), self.birth)
            end = date(year, 12, 31)
            if group == "TE":
                six = date(self.birth.year + 6, self.birth.month, min(self.birth.day, 28)) - timedelta(days=1)
                end = min(end, six) if six > start else end
            if self.death:
                end = min(end, self.death.date())
            status = "active" if years_back == 0 and not self.death else "cancelled"
            res = {
                "resourceType": "Coverage",
                "meta": meta(P_COV),
                "extension": [
                    {
                        "url": ext_url("vhr-bhyt-beneficiary-group"),
                        "valueCoding": coding(
                            cs_url("vhr-bhyt-beneficiary-group"),
                            group,
                            w.bhyt_group_display.get(group, group),
                        ),
                    },
                    {
                        "url": ext_url("vhr-bhyt-benefit-level"),
                        "valueCoding": coding(
                            cs_url("vhr-bhyt-benefit-level"), benefit, w.benefit_display.get(benefit, benefit)
                        ),
                    },
                    {
                        "url": ext_url("vhr-bhyt-registered-facility"),
                        "valueIdentifier": {"system": SID_CSKCB, "value": reg.code},
                    },
                ],
                "identifier": [{"system": SID_BHYT, "value": card}],
                "status": status,
                "type": cc(ACT_CODE, "PUBLICPOL", "public healthcare"),
                "subscriberId": card,
                "beneficiary": self.subject,
                "relationship": cc(
                    "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self"
                ),
                "period": {"start": start.isoformat(), "end": end.isoformat()},
                "payor": [{"display": "Bảo hiểm xã hội Việt Nam"}],
            }
            self.add(res, "administrative", f"identifier={SID_BHYT}|{card}")
            self.cards.append(card)
        if self.cards and self.cards[-1] != self.cccd:
            self.identifiers.append(
                {
                    "system": SID_BHYT,
                    "value": self.cards[-1],
                    "period": {"start": start.isoformat(), "end": end.isoformat()},
                }
            )
        self.patient["managingOrganization"] = {"reference": reg_url, "display": reg.name}
        self.bhxh = bhxh

    def pick_group(self) -> str:
        w, r, age = self.w, self.rng, self.age
        minority = self.ethnicity != "01"
        pairs = [
            (g, v[1])
            for g, v in w.bhyt_groups.items()
            if v[2] <= age <= v[3] and (minority or g not in T.BHYT_MINORITY_ONLY)
        ]
        total = sum(p for _, p in pairs)
        x = r.random() * total
        for g, p in pairs:
            x -= p
            if x <= 0:
                return g
        return pairs[-1][0]

    # --- basic health information ----------------------------------------------------------
    def obs(
        self,
        profile: str,
        category: str,
        code: tuple[str, str, str],
        when: datetime,
        enc: str | None = None,
        **value: object,
    ) -> dict:
        res: dict = {
            "resourceType": "Observation",
            "meta": meta(profile),
            "status": "final",
            "category": [_OBS_CATS[category]],
            "code": cc(*code),
            "subject": self.subject,
        }
        if enc:
            res["encounter"] = {"reference": enc}
        res["effectiveDateTime"] = dt(when)
        res.update(value)
        return res

    def history(self) -> None:
        w, r, s = self.w, self.rng, self.spec
        abo, rh = s.blood or w.choose_blood(r)
        if (abo, rh) not in w.blood:
            abo, rh = next(iter(w.blood))
        bcode, bdisp = w.blood[(abo, rh)]
        self.add(
            self.obs(
                P_BLOOD,
                "laboratory",
                (LOINC, "882-1", "ABO and Rh group [Type] in Blood"),
                self.when(
                    min(self.last_day, self.birth + timedelta(days=1))
                    if self.age < 1
                    else self.last_day
                    - timedelta(days=_rr(r, 30, 3000) % max(1, (self.last_day - self.birth).days))
                ),
                valueCodeableConcept=cc(cs_url("vhr-blood-group"), bcode, bdisp),
            ),
            "history",
        )
        # Chronic conditions (problem list) rising with age.
        self.chronic: list[str] = []
        for code, label, min_age, share in T.CHRONIC:
            if self.age >= min_age and r.random() < share * (1.6 if self.age >= 60 else 1.0):
                onset = self.birth + timedelta(days=int((self.age - (self.age - min_age) * r.random()) * 365))
                onset = min(onset, self.last_day)
                self.chronic.append(code)
                prob = self.condition(
                    P_PROBLEM,
                    "problem-list-item",
                    "Problem List Item",
                    code,
                    label,
                    "active",
                    self.when(onset),
                    None,
                )
                prob["note"] = [{"text": "Đang theo dõi, điều trị ngoại trú"}]
                self.add(prob, "history")
        # Past illnesses that resolved (abatement recorded).
        for code, label, share, dur_days in _PAST_DISEASES:
            want = s.past_disease if s.past_disease is not None else r.random() < share
            if want and self.age >= 3:
                onset = self.birth + timedelta(
                    days=r.randrange(365, max(366, (self.last_day - self.birth).days))
                )
                prob = self.condition(
                    P_PROBLEM,
                    "problem-list-item",
                    "Problem List Item",
                    code,
                    label,
                    "resolved",
                    self.when(onset),
                    None,
                )
                prob["abatementDateTime"] = dt(
                    self.when(min(onset + timedelta(days=dur_days), self.last_day))
                )
                self.add(prob, "history")
                if s.past_disease is not None:
                    break
        # Allergies.
        n_all = s.allergies
        picked: list[tuple] = []
        for row in T.ALLERGIES:
            if n_all is not None:
                if len(picked) < n_all:
                    picked.append(row)
            elif r.random() < row[4]:
                picked.append(row)
        for cat, code, disp, label, _ in picked:
            rx = T.ALLERGY_REACTIONS[_rb(r, len(T.ALLERGY_REACTIONS))]
            rec = self.when(
                self.birth + timedelta(days=r.randrange(max(1, (self.last_day - self.birth).days)))
            )
            self.add(
                {
                    "resourceType": "AllergyIntolerance",
                    "meta": meta(P_ALLERGY),
                    "clinicalStatus": cc(
                        "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                        "active",
                        "Active",
                    ),
                    "verificationStatus": cc(
                        "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                        "confirmed",
                        "Confirmed",
                    ),
                    "type": "allergy",
                    "category": [cat],
                    "criticality": "high" if rx[0] == "39579001" else "low",
                    "code": cc(SNOMED, code, disp, label),
                    "patient": self.subject,
                    "onsetDateTime": dt(rec - timedelta(days=_rr(r, 0, 60)))
                    if rec.date() - timedelta(days=60) > self.birth
                    else dt(rec),
                    "recordedDate": dt(rec),
                    "reaction": [
                        {
                            "manifestation": [cc(SNOMED, rx[0], rx[1], rx[2])],
                            "severity": "severe" if rx[0] == "39579001" else "mild",
                        }
                    ],
                },
                "history",
            )
        # Past surgeries, in the provincial general hospital.
        hosp = w.facilities_by_province[self.province][0]
        for code, disp, label, min_age, share, sex in T.SURGERIES:
            if sex and sex[0] != self.sex[0].upper():
                continue
            want = s.surgeries if s.surgeries is not None else r.random() < share
            if self.age >= min_age and want:
                d = self.birth + timedelta(days=(min_age + int(r.random() * (self.age - min_age))) * 365)
                d = min(d, self.last_day)
                st = self.when(d)
                self.add(
                    {
                        "resourceType": "Procedure",
                        "meta": meta(P_PROC),
                        "status": "completed",
                        "category": cc(SNOMED, "387713003", "Surgical procedure"),
                        "code": cc(SNOMED, code, disp, label),
                        "subject": self.subject,
                        "performedPeriod": {"start": dt(st), "end": dt(st + timedelta(hours=2))},
                        "performer": [{"actor": {"reference": self.org(hosp), "display": hosp.name}}],
                        "note": [{"text": "Hậu phẫu ổn định, ra viện sau mổ"}],
                    },
                    "history",
                )
                if s.surgeries is not None:
                    break
        self.immunizations()
        # Family history.
        nf = (
            s.family_history
            if s.family_history is not None
            else (1 if r.random() < 0.25 else 0) + (1 if r.random() < 0.08 else 0)
        )
        used: set[str] = set()
        for _ in range(nf):
            rel, label, rsex = T.FAMILY_RELATIONS[_rb(r, len(T.FAMILY_RELATIONS))]
            if rel in used:
                continue
            used.add(rel)
            code, clabel = T.FAMILY_CONDITIONS[_rb(r, len(T.FAMILY_CONDITIONS))]
            self.add(
                {
                    "resourceType": "FamilyMemberHistory",
                    "meta": meta(P_FMH),
                    "status": "completed",
                    "patient": self.subject,
                    "date": self.today.isoformat(),
                    "relationship": cc(ROLE_CODE, rel, _ROLE_DISPLAY[rel], label),
                    "sex": cc("http://hl7.org/fhir/administrative-gender", rsex, rsex.capitalize()),
                    "condition": [
                        {
                            "code": cc(ICD10, code, clabel, clabel),
                            "onsetAge": {"value": _ri(r, 40, 75), "unit": "năm", "system": UCUM, "code": "a"},
                        }
                    ],
                },
                "history",
            )
        # Risk factors for those aged 15+.
        if self.age >= 15:
            male = self.sex == "male"
            when = self.when(self.last_day - timedelta(days=_rr(r, 0, 365)))
            if s.smoking:
                smk = next(x for x in T.SMOKING_STATUS if x[0] == s.smoking)
            else:
                p = r.random()
                smk = T.SMOKING_STATUS[
                    (2 if p < 0.38 else 1 if p < 0.48 else 3 if p < 0.52 else 0)
                    if male
                    else (2 if p < 0.015 else 0)
                ]
            self.add(
                self.obs(
                    P_SMOKING,
                    "social-history",
                    (LOINC, "72166-2", "Tobacco smoking status"),
                    when,
                    valueCodeableConcept=cc(SNOMED, smk[0], smk[1], smk[2]),
                ),
                "history",
            )
            if s.alcohol:
                alc = next(x for x in T.ALCOHOL_STATUS if x[0] == s.alcohol)
            else:
                p = r.random()
                alc = T.ALCOHOL_STATUS[
                    (1 if p < 0.7 else 2 if p < 0.78 else 0) if male else (1 if p < 0.12 else 0)
                ]
            self.add(
                self.obs(
                    P_ALCOHOL,
                    "social-history",
                    (LOINC, "11331-6", "History of Alcohol use Narrative"),
                    when,
                    valueCodeableConcept=cc(SNOMED, alc[0], alc[1], alc[2]),
                ),
                "history",
            )

    def immunizations(self) -> None:
        r, w = self.rng, self.w
        self.imm_org = self.org(
            w.station_of_commune.get(self.commune) or w.facilities_by_province[self.province][2]
        )
        self.imm_performer = [{"actor": {"reference": self.imm_org}}]
        by = self.birth.year
        for cvx, label, age_d, dose, since in T.EPI_SCHEDULE:
            if by < since:
                continue
            d = self.birth + timedelta(days=age_d + (_rr(r, 0, 14) if age_d else 0))
            if d > self.last_day:  # not due yet (the schedule is not sorted by age)
                continue
            self.add(self.immunization(cvx, label, d, dose), "history")
        # COVID-19 campaign (2021–2022): two doses for people aged 12+ at the time, most adults.
        if by <= 2009 and self.last_day.year >= 2022 and r.random() < 0.9:
            cvx, label = T.COVID_VACCINES[_rb(r, len(T.COVID_VACCINES))]
            first = date(2021, 8, 1) + timedelta(days=_rr(r, 0, 150))
            for dose, d in enumerate((first, first + timedelta(days=_rr(r, 28, 84))), start=1):
                if d <= self.last_day and d > self.birth:
                    self.add(self.immunization(cvx, label, d, dose), "history")

    def immunization(self, cvx: str, label: str, d: date, dose: int) -> dict:
        r = self.rng
        return {
            "resourceType": "Immunization",
            "meta": meta(P_IMM),
            "status": "completed",
            "vaccineCode": cc(CVX, cvx, _CVX_DISPLAY[cvx], label),
            "patient": self.subject,
            "occurrenceDateTime": self.when_s(d),
            "primarySource": True,
            "performer": self.imm_performer,
            "lotNumber": f"{_LETTERS[_rb(r, 26)]}{_rb(r, 10**5):05d}",
            "protocolApplied": _protocol(cvx in _COVID, dose),
        }

    def condition(
        self,
        profile: str,
        cat: str,
        cat_display: str,
        code: str,
        label: str,
        clinical: str,
        when: datetime,
        enc: str | None,
    ) -> dict:
        res: dict = {
            "resourceType": "Condition",
            "meta": meta(profile),
            "clinicalStatus": cc(COND_CLIN, clinical, clinical.capitalize()),
            "verificationStatus": cc(COND_VER, "confirmed", "Confirmed"),
            "category": [cc(COND_CAT, cat, cat_display)],
            "code": cc(ICD10, code, label, label),
            "subject": self.subject,
        }
        if enc:
            res["encounter"] = {"reference": enc}
        res["onsetDateTime"] = res["recordedDate"] = dt(when)
        return res

    # --- encounters ------------------------------------------------------------------------
    def encounters(self) -> None:
        r, s = self.rng, self.spec
        if s.encounters is not None:
            specs = s.encounters
        else:
            base = 1 + (1 if self.age < 6 or self.age >= 50 else 0)
            n = base + (1 if r.random() < 0.5 else 0) + (1 if self.chronic and r.random() < 0.6 else 0)
            specs = [EncounterSpec() for _ in range(n)]
        span = max(1, min(5 * 365, (self.last_day - self.birth).days))
        days = sorted(
            (sp.days_ago if sp.days_ago is not None else _rb(r, span), i) for i, sp in enumerate(specs)
        )
        self.enc_summaries: list[tuple[str, str]] = []
        self.first_encounter: str | None = None
        for back, i in reversed(days):
            self.encounter(specs[i], self.last_day - timedelta(days=min(back, span - 1 if span > 1 else 0)))

    def pick_icd(self) -> tuple[str, str, float, str, int, int, bool]:
        w, r = self.w, self.rng
        sex = "M" if self.sex == "male" else "F"
        if self.chronic and r.random() < 0.5:
            code = self.chronic[_rb(r, len(self.chronic))]
            if code in w.icd_by_code:
                return w.icd_by_code[code]
        for _ in range(20):
            row = w.icd_by_code[w.choose_icd(r)]
            if (not row[3] or row[3] == sex) and row[4] <= self.age <= row[5]:
                return row
        return w.icd_by_code["R50.9"]

    def encounter(self, sp: EncounterSpec, day: date) -> None:
        w, r = self.w, self.rng
        codes = w.codes
        form = sp.form or w.choosers["vhr-form-of-care"](r)
        klass, lo, hi = T.FORMS_OF_CARE[form][1:] if form in T.FORMS_OF_CARE else ("AMB", 0, 0)
        category = sp.category or w.choosers["vhr-patient-category"](r)
        if category == "2" and klass == "AMB":
            klass = "EMER"
        row = w.icd_by_code[sp.icd] if sp.icd else self.pick_icd()
        # Facility: inpatient care in hospitals, chronic follow-up close to home.
        provs = w.facilities_by_province[self.province]
        if klass == "IMP" or row[0].startswith(("O", "C", "I63", "S")):
            fac = provs[1] if (row[0].startswith(("O", "P")) or self.age < 6) else provs[0]
        elif r.random() < 0.35:
            fac = w.station_of_commune.get(self.commune) or provs[2]
        elif self.age < 16:
            fac = provs[1] if r.random() < 0.5 else provs[2]
        else:  # general hospital, district centre or private clinic (the obstetric-paediatric one is not for adults)
            fac = provs[(0, 2, 3)[_rb(r, 3)]]
        org_url = self.org(fac)
        prac_url, prac_name = self.practitioner(fac)
        start = self.when(day, 7, 15)
        stay = _ri(r, lo, hi) if hi else 0
        end = start + (
            timedelta(days=stay, hours=_ri(r, 1, 5)) if stay else timedelta(minutes=_ri(r, 20, 170))
        )
        # Keep the stay inside the patient's life and before "now": never before birth, never
        # after death or the last day; a stay that would run past it is cut short.
        born = datetime(self.birth.year, self.birth.month, self.birth.day, 6, 0)
        if start < born:
            start = born + timedelta(hours=_ri(r, 1, 8))
        limit = self.death or datetime(self.last_day.year, self.last_day.month, self.last_day.day, 17, 0)
        if end > limit:
            end = max(limit, start + timedelta(minutes=30)) if not self.death else self.death
            start = min(start, end - timedelta(minutes=30))
            start = max(start, born) if not self.death else start
        result = sp.result or w.choosers["vhr-treatment-result"](r)
        if self.death is None and result in ("5", "8"):
            result = "1"
        discharge = sp.discharge or w.choosers["vhr-discharge-type"](r)
        reason = sp.reason or w.choosers["vhr-visit-reason"](r)
        ma_lk = f"{fac.code}.{start.year:04d}{start.month:02d}{start.day:02d}.{_rb(r, 10**6):06d}"
        enc_uuid = self.next_url()
        enc_ref = {"reference": enc_uuid}
        dx_urls = []
        # Diagnoses: one main + up to two secondary.
        main = row
        sec_rows: list[tuple] = []
        for _ in range(_pick(r, (0, 0, 1, 1, 2))):
            cand = self.pick_icd()
            if cand[0] != main[0] and all(cand[0] != x[0] for x in sec_rows):
                sec_rows.append(cand)
        enc_res: dict = {
            "resourceType": "Encounter",
            "meta": meta(P_ENC),
            "extension": [
                {
                    "url": EXT_FORM,
                    "valueCoding": coding(CS_FORM, form, codes["vhr-form-of-care"].get(form, form)),
                },
                {
                    "url": EXT_CAT,
                    "valueCoding": coding(
                        CS_CAT, category, codes["vhr-patient-category"].get(category, category)
                    ),
                },
                {
                    "url": EXT_RESULT,
                    "valueCoding": coding(
                        CS_RESULT, result, codes["vhr-treatment-result"].get(result, result)
                    ),
                },
                {
                    "url": EXT_DISCHARGE,
                    "valueCoding": coding(
                        CS_DISCHARGE, discharge, codes["vhr-discharge-type"].get(discharge, discharge)
                    ),
                },
            ],
            "identifier": [
                {"system": SID_MALK, "value": ma_lk, "assigner": {"reference": org_url, "display": fac.name}}
            ],
            "status": "finished",
            "class": coding(ACT_CODE, klass, T.ENCOUNTER_CLASS_DISPLAY[klass]),
            "type": [cc(CS_REASON, reason, codes["vhr-visit-reason"].get(reason, reason))],
            "subject": self.subject,
            "participant": [{"individual": {"reference": prac_url, "display": prac_name}}],
            "period": {"start": dt(start), "end": dt(end)},
            "reasonCode": [{"text": main[1]}],
            "diagnosis": [],
            "serviceProvider": {"reference": org_url, "display": fac.name},
        }
        if klass == "IMP" or stay:
            disp = "exp" if result in ("5", "8") else _DISPOSITION.get(discharge, "home")
            enc_res["hospitalization"] = {
                "dischargeDisposition": cc(
                    "http://terminology.hl7.org/CodeSystem/discharge-disposition",
                    disp,
                    _DISPOSITION_DISPLAY[disp],
                )
            }
        first = len(self.entries)
        self.first_encounter = self.first_encounter or enc_uuid
        self.entries.append(
            {
                "fullUrl": enc_uuid,
                "resource": enc_res,
                "request": {
                    "method": "POST",
                    "url": "Encounter",
                    "ifNoneExist": f"identifier={SID_MALK}|{ma_lk}",
                },
            }
        )
        clinical = "resolved" if result in ("1",) and not main[6] else "active"
        for rank, drow in enumerate([main, *sec_rows], start=1):
            cond = self.condition(
                P_DX,
                "encounter-diagnosis",
                "Encounter Diagnosis",
                drow[0],
                drow[1],
                clinical if rank == 1 else ("active" if drow[6] else "resolved"),
                start,
                enc_uuid,
            )
            cond["recorder"] = {"reference": prac_url, "display": prac_name}
            url = self.add(cond)
            dx_urls.append(url)
            enc_res["diagnosis"].append(
                {
                    "condition": {"reference": url},
                    "use": cc(
                        "http://terminology.hl7.org/CodeSystem/diagnosis-role", "DD", "Discharge diagnosis"
                    ),
                    "rank": rank,
                }
            )
        # Vital signs at the visit.
        vt = start + timedelta(minutes=10)
        h, wt = self.body(day)
        self.add(
            self.obs(
                P_WEIGHT,
                "vital-signs",
                (LOINC, "29463-7", "Body weight"),
                vt,
                enc_uuid,
                valueQuantity={"value": wt, "unit": "kg", "system": UCUM, "code": "kg"},
            )
        )
        if self.age < 18 or r.random() < 0.5 or klass == "IMP":
            self.add(
                self.obs(
                    P_HEIGHT,
                    "vital-signs",
                    (LOINC, "8302-2", "Body height"),
                    vt,
                    enc_uuid,
                    valueQuantity={"value": h, "unit": "cm", "system": UCUM, "code": "cm"},
                )
            )
        if self.age >= 6:
            sbp, dbp = self.pressure()
            self.add(
                self.obs(
                    P_BP,
                    "vital-signs",
                    (LOINC, "85354-9", "Blood pressure panel with all children optional"),
                    vt,
                    enc_uuid,
                    component=[
                        {
                            "code": cc(LOINC, "8480-6", "Systolic blood pressure"),
                            "valueQuantity": {"value": sbp, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
                        },
                        {
                            "code": cc(LOINC, "8462-4", "Diastolic blood pressure"),
                            "valueQuantity": {"value": dbp, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
                        },
                    ],
                )
            )
        if sp.absent_vitals:
            self.absent_vitals(vt + timedelta(minutes=30), enc_uuid)
        # Laboratory results.
        want_labs = sp.labs if sp.labs is not None else (klass == "IMP" or r.random() < 0.3)
        if want_labs and self.age >= 1:
            lt = start + timedelta(hours=1)
            picks = T.LABS if sp.labs else [T.LABS[i] for i in _subset(r, len(T.LABS), _ri(r, 2, 4))]
            issued = dt(lt + timedelta(hours=2))
            performer = [{"reference": org_url, "display": fac.name}]
            for lab_row in picks:
                code_cc, ref_range, lo_v, hi_v, unit, label = _lab_const(lab_row)
                val = round(lo_v + (hi_v - lo_v) * (r.random() * 1.4 - 0.1), 1)
                interp = "H" if val > hi_v else ("L" if val < lo_v else "N")
                lab = {
                    "resourceType": "Observation",
                    "meta": meta(P_LAB),
                    "status": "final",
                    "category": [_CAT_LAB],
                    "code": code_cc,
                    "subject": self.subject,
                    "encounter": enc_ref,
                    "effectiveDateTime": dt(lt),
                    "issued": issued,
                    "performer": performer,
                    "valueQuantity": {"value": val, "unit": unit, "system": UCUM, "code": unit},
                    "interpretation": [_INTERP_CC[interp]],
                    "referenceRange": ref_range,
                }
                if interp != "N":
                    lab["note"] = [
                        {"text": f"{label} {'tăng' if interp == 'H' else 'giảm'} so với bình thường"}
                    ]
                self.add(lab)
        # Prescription lines.
        if not main[0].startswith(("Z", "O80", "P")):
            group = "other"
            for prefix in (main[0][:3], main[0][:1]):
                if prefix in T.ICD_TO_MED_GROUP:
                    group = T.ICD_TO_MED_GROUP[prefix]
                    break
            meds = T.MEDICINES[group]
            chosen = _subset(r, len(meds), _ri(r, 1, min(3, len(meds))))
            authored = dt(end - timedelta(minutes=5))
            for i in chosen:
                atc, name, unit, sig, days = meds[i]
                self.add(
                    {
                        "resourceType": "MedicationRequest",
                        "meta": meta(P_MED),
                        "identifier": [{"system": "urn:ietf:rfc:3986", "value": self.next_url()}],
                        "status": "completed" if end.date() + timedelta(days=days) < self.today else "active",
                        "intent": "order",
                        "medicationCodeableConcept": _med_cc(atc, name),
                        "subject": self.subject,
                        "encounter": enc_ref,
                        "authoredOn": authored,
                        "requester": {"reference": prac_url, "display": prac_name},
                        "reasonReference": [{"reference": dx_urls[0]}],
                        "dosageInstruction": [{"text": sig, "route": cc(SNOMED, *_ROUTE[unit])}],
                        "dispenseRequest": {
                            "quantity": {"value": days * _PER_DAY.get(unit, 1), "unit": unit},
                            "expectedSupplyDuration": {
                                "value": days,
                                "unit": "ngày",
                                "system": UCUM,
                                "code": "d",
                            },
                        },
                    }
                )
        self.sections["encounters"].extend(
            e["fullUrl"] for e in self.entries[first:] if e["resource"]["resourceType"] not in _SHARED_TYPES
        )
        self.enc_summaries.append(
            (f"{start.day:02d}/{start.month:02d}/{start.year:04d} – {fac.name}", f"{main[0]} {main[1]}")
        )

    def absent_vitals(self, when: datetime, enc: str) -> None:
        """Measurements that could not be taken: dataAbsentReason instead of values."""
        dar = cc(
            "http://terminology.hl7.org/CodeSystem/data-absent-reason",
            "not-performed",
            "Not Performed",
            "Người bệnh không đứng được, không đo",
        )
        err = cc("http://terminology.hl7.org/CodeSystem/data-absent-reason", "error", "Error", "Máy đo lỗi")
        self.add(
            self.obs(
                P_WEIGHT, "vital-signs", (LOINC, "29463-7", "Body weight"), when, enc, dataAbsentReason=dar
            )
        )
        self.add(
            self.obs(
                P_HEIGHT, "vital-signs", (LOINC, "8302-2", "Body height"), when, enc, dataAbsentReason=dar
            )
        )
        self.add(
            self.obs(
                P_BP,
                "vital-signs",
                (LOINC, "85354-9", "Blood pressure panel with all children optional"),
                when,
                enc,
                dataAbsentReason=err,
                component=[
                    {"code": cc(LOINC, "8480-6", "Systolic blood pressure"), "dataAbsentReason": err},
                    {"code": cc(LOINC, "8462-4", "Diastolic blood pressure"), "dataAbsentReason": err},
                ],
            )
        )

    def body(self, day: date) -> tuple[float, float]:
        """Height (cm) and weight (kg) for the age at ``day``, stable within one patient."""
        age_y = (day - self.birth).days / 365.25
        if not hasattr(self, "_hz"):
            self._hz = self.rng.gauss(0, 1)
            self._wz = self.rng.gauss(0, 1)
        male = self.sex == "male"
        if age_y < 18:
            h = 50 + 25 * min(age_y, 1) + 11 * max(0.0, min(age_y, 3) - 1) + 6 * max(0.0, age_y - 3)
            h = min(h, 167 if male else 156)
            h += self._hz * (2 + 0.3 * age_y)
            bmi = 15.5 + 0.25 * max(0.0, age_y - 5)
        else:
            h = (165 if male else 154) + 5.5 * self._hz - (0.1 * max(0.0, age_y - 60))
            bmi = 22.0 + 1.2 * min(age_y - 18, 30) / 30 + 2.5 * self._wz
        h = max(45.0, h)
        wt = max(2.5, bmi * (h / 100) ** 2)
        if age_y < 0.1:
            wt = 3.1 + self._wz * 0.4
        return round(h, 1), round(wt, 1)

    def pressure(self) -> tuple[int, int]:
        r = self.rng
        base = 105 + 0.5 * max(0, self.age - 20) + (15 if "I10" in self.chronic else 0)
        sbp = int(base + r.gauss(0, 10))
        dbp = int(sbp * 0.62 + r.gauss(0, 5))
        return max(80, min(sbp, 210)), max(45, min(dbp, sbp - 15))

    # --- record summary --------------------------------------------------------------------
    def composition(self) -> None:
        w = self.w
        reg = w.station_of_commune.get(self.commune) or w.facilities_by_province[self.province][2]
        org_url = self.org(reg)
        summary = "; ".join(f"{a}: {b}" for a, b in self.enc_summaries[-3:]) or "Chưa có lần khám."
        sections = []
        for key, title_vi, code in (
            (
                "administrative",
                "Thông tin hành chính",
                (cs_url("vhr-health-record-section"), "administrative", "Thông tin hành chính"),
            ),
            (
                "history",
                "Tiền sử: dị ứng, bệnh, tiêm chủng",
                (LOINC, "11348-0", "History of Past illness Narrative"),
            ),
            (
                "encounters",
                "Các lượt khám chữa bệnh",
                (LOINC, "46240-8", "History of Hospitalizations+Outpatient visits Narrative"),
            ),
            ("summary", "Tóm tắt hồ sơ", (LOINC, "18842-5", "Discharge summary")),
        ):
            refs = self.sections[key]
            sec: dict = {
                "title": title_vi,
                "code": cc(*code),
                "text": {
                    "status": "generated",
                    "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{_esc(title_vi if key != "summary" else summary)}</div>',
                },
            }
            if refs:
                sec["entry"] = [{"reference": u} for u in refs]
            elif key != "summary":
                sec["emptyReason"] = cc(
                    "http://terminology.hl7.org/CodeSystem/list-empty-reason", "nilknown", "Nil Known"
                )
            sections.append(sec)
        self.add(
            {
                "resourceType": "Composition",
                "meta": meta(P_COMP),
                "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{new_uuid(self.rng)}"},
                "status": "final",
                "type": cc(LOINC, "60591-5", "Patient summary Document"),
                "subject": self.subject,
                "date": dt(self.now),
                "author": [{"reference": org_url, "display": reg.name}],
                "title": "Hồ sơ sức khỏe điện tử cá nhân",
                "custodian": {"reference": org_url},
                "section": sections,
            }
        )


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_ROLE_DISPLAY = {
    "FTH": "father",
    "MTH": "mother",
    "BRO": "brother",
    "SIS": "sister",
    "GRFTH": "grandfather",
    "GRMTH": "grandmother",
}
_CVX_DISPLAY = {
    "19": "BCG",
    "08": "Hep B, adolescent or pediatric",
    "198": "DTP-hepB-Hib Pentavalent Non-US",
    "02": "OPV",
    "10": "IPV",
    "05": "measles",
    "39": "Japanese Encephalitis SC",
    "04": "M/R",
    "01": "DTP",
    "09": "Td (adult), adsorbed",
    "210": "COVID-19 vaccine, vector-nr, rS-ChAdOx1, PF, 0.5 mL",
    "208": "COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose",
    "207": "COVID-19, mRNA, LNP-S, PF, 100 mcg/0.5mL dose or 50 mcg/0.25mL dose",
    "511": "COVID-19 IV Non-US Vaccine (BIBP, Sinopharm)",
}
_POST = {
    t: {"method": "POST", "url": t}
    for t in (
        "Patient",
        "Coverage",
        "Organization",
        "Practitioner",
        "Encounter",
        "Condition",
        "Observation",
        "AllergyIntolerance",
        "Immunization",
        "MedicationRequest",
        "Procedure",
        "FamilyMemberHistory",
        "Composition",
    )
}
_OBS_CATS = {
    k: cc(OBS_CAT, k, v)
    for k, v in (
        ("vital-signs", "Vital Signs"),
        ("laboratory", "Laboratory"),
        ("social-history", "Social History"),
    )
}
_CAT_LAB = _OBS_CATS["laboratory"]
_INTERP_CC = {
    k: cc("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", k, v)
    for k, v in {"H": "High", "L": "Low", "N": "Normal"}.items()
}


@lru_cache(maxsize=64)
def _lab_const(row: tuple) -> tuple:
    """Per-test constants (code, reference range) built once."""
    code, disp, label, unit, lo_v, hi_v = row
    q = {"unit": unit, "system": UCUM, "code": unit}
    ref_range = [
        {"low": {"value": lo_v, **q}, "high": {"value": hi_v, **q}, "text": f"{label}: {lo_v}–{hi_v} {unit}"}
    ]
    return cc(LOINC, code, disp), ref_range, lo_v, hi_v, unit, label


@lru_cache(maxsize=256)
def _med_cc(atc: str, name: str) -> dict:
    return cc(ATC, atc, name.split(" ")[0], name)


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@lru_cache(maxsize=32)
def _protocol(covid: bool, dose: int) -> list:
    return [
        {"series": "Tiêm chủng COVID-19" if covid else "Tiêm chủng mở rộng", "doseNumberPositiveInt": dose}
    ]


_SHARED_TYPES = frozenset(("Organization", "Practitioner"))
_DISPOSITION = {"1": "home", "2": "other-hcf", "3": "aadvice", "4": "aadvice", "5": "other-hcf"}
_DISPOSITION_DISPLAY = {
    "home": "Home",
    "other-hcf": "Other healthcare facility",
    "aadvice": "Left against advice",
    "exp": "Expired",
}
_PER_DAY = {"viên": 2, "gói": 3, "ống": 2}
_PAST_DISEASES = (
    ("B01.9", "Thủy đậu không có biến chứng", 0.08, 14),
    ("A16.2", "Lao phổi, không xác nhận về vi khuẩn học hoặc mô học", 0.01, 180),
)
_COVID = {"210", "208", "207", "511"}
_INTERP = {"H": "High", "L": "Low", "N": "Normal"}
_ROUTE = {
    "viên": ("26643006", "Oral route"),
    "gói": ("26643006", "Oral route"),
    "ống": ("26643006", "Oral route"),
    "lọ": ("54485002", "Ophthalmic route"),
    "tuýp": ("6064005", "Topical route"),
}
# Hamlet words also written with a number ("Thôn 3", "Ấp 2").
_NUMBERED_HAMLETS = frozenset({"Thôn", "Ấp", "Xóm", "Bản", "Khóm"})


_STREETS = T.STREETS
