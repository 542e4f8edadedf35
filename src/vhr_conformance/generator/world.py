"""Per-process shared state: code tables from the IG, weighted choosers, facilities, practitioners.

Built once (cheap, deterministic, no randomness from the patient streams) so that each patient
costs only dictionary building. Everything here is derived from constants and the IG package, so
two processes build identical worlds.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from typing import Any

from vhr_conformance.generator import sources as S
from vhr_conformance.generator import tables as T
from vhr_conformance.generator.terminology import IGResources, load_ig
from vhr_conformance.vn import bhyt

# Blood groups as (ABO, Rh) with Vietnamese frequencies (percent); Rh-negative is rare (~0.1%).
BLOOD_FREQ: dict[tuple[str, str], float] = {
    ("O", "+"): 41.9,
    ("B", "+"): 30.9,
    ("A", "+"): 21.1,
    ("AB", "+"): 6.0,
    ("O", "-"): 0.04,
    ("B", "-"): 0.03,
    ("A", "-"): 0.02,
    ("AB", "-"): 0.01,
}


class Chooser:
    """Weighted choice by bisecting cumulative weights (faster than random.choices per call)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        pairs = [(k, w) for k, w in pairs if w > 0]
        if not pairs:
            raise ValueError("Chooser needs at least one positive weight")
        self.items = [k for k, _ in pairs]
        self.cum = list(accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect(self.cum, rng.random() * self.total)]


@dataclass(slots=True)
class Facility:
    """A care facility: MA_CSKCB, name, level and its 2025 province/commune."""

    code: str
    name: str
    kind: str  # "hospital" | "centre" | "station" | "clinic"
    province: str
    commune: str
    practitioners: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    # (licence, full name, sex, CCCD, phone)
    parent: str = ""  # MA_CSKCB of the district centre a commune station belongs to
    phone: str = ""


def _parse_blood(code: str, display: str) -> tuple[str, str] | None:
    """Recognise ABO/Rh from a blood-group code or display, whatever spelling the IG uses."""
    text = f"{code} {display}".upper().replace("RH", " RH").replace("ÂM", "-").replace("DƯƠNG", "+")
    abo = None
    for cand in ("AB", "A", "B", "O"):
        token = text.split()[0] if text.split() else ""
        if token.startswith(cand):
            abo = cand
            break
    if abo is None:
        return None
    if "-" in text or "NEG" in text:
        return abo, "-"
    if "+" in text or "POS" in text:
        return abo, "+"
    return None


@dataclass(slots=True)
class World:
    """Everything the per-patient builder reads but never changes."""

    ig: IGResources
    province: dict[str, str]  # 2025 code → name
    legacy: dict[str, str]  # legacy code → name
    legacy_successor: dict[str, str]
    legacy_of_2025: dict[str, str]  # 2025 province → representative legacy code (for MA_CSKCB)
    communes_by_province: dict[str, list[str]]
    commune_name: dict[str, str]
    ethnicity: dict[str, str]
    choose_residence: Chooser  # legacy province of residence, by 2024 population
    residence_in_2025: dict[str, Chooser]  # 2025 province → its legacy provinces, by population
    ethnicity_in: dict[str, Chooser]  # legacy province → ethnic group (2019 census shares)
    migrant_share: dict[str, float]  # legacy province → adults born in another province
    origin_of: dict[str, Chooser]  # ethnic group → birth province of a migrant
    urban_share: dict[str, float]  # 2025 province → share living in a phường
    urban_given_ethnicity: dict[tuple[str, str], float]  # (2025 province, group) → P(phường)
    urban_communes: dict[str, list[str]]
    rural_communes: dict[str, list[str]]
    rural_pick: dict[str, Chooser]  # 2025 province → rural commune (đặc khu by population)
    urban_set: frozenset[str]  # every phường
    surname_of: dict[str, Chooser]  # ethnic group → canonical family name
    naming: dict[str, tuple[Chooser | None, Chooser | None, tuple[str, ...], tuple[str, ...]]]
    styles: dict[str, AddressStyle]
    style_of: dict[str, str]  # 2025 province → address style
    ethnic_hamlet: dict[tuple[str, str], Chooser]  # (ethnic group, style) → own hamlet word
    ethnic_hamlet_share: float
    hamlet_names: dict[str, tuple[str, ...]]  # hamlet word or name family → invented names
    occupations: list[str]
    occupation_display: dict[str, str]
    # beneficiary group → (benefit levels it carries, QĐ 1351 via vn.bhyt; share; min age; max age)
    bhyt_groups: dict[str, tuple[tuple[str, ...], float, int, int]]
    bhyt_provinces: frozenset[str]  # province digits a legacy card may carry (vn.bhyt)
    bhyt_group_display: dict[str, str]
    benefit_display: dict[str, str]
    codes: dict[str, dict[str, str]]  # XML 130 code system id → code → display
    choosers: dict[str, Chooser]
    blood: dict[tuple[str, str], tuple[str, str]]  # (ABO, Rh) → (code, display)
    choose_blood: Chooser
    facilities_by_province: dict[str, list[Facility]]
    station_of_commune: dict[str, Facility]
    by_code: dict[str, Facility]  # hospitals, centres and clinics by MA_CSKCB
    choose_icd: Chooser
    icd_by_code: dict[str, tuple[str, str, float, str, int, int, bool]]
    choose_age_band: Chooser
    choose_family: Chooser  # canonical family name, Kinh stock
    choose_middle_m: Chooser
    choose_middle_f: Chooser
    # Organization/Practitioner resources, built once and shared by every patient that uses them.
    resource_cache: dict = field(default_factory=dict)


def _weights_for(codes: list[str], known: dict[str, float], default: float) -> list[tuple[str, float]]:
    return [(c, known.get(c, default)) for c in codes]


def _codes(ig: IGResources, cs_id: str, fallback: dict[str, str]) -> dict[str, str]:
    view = ig.cs(cs_id)
    if view is None or not view.codes:
        return dict(fallback)
    return {c: view.display[c] for c in view.codes}


_FALLBACK = {
    "vhr-form-of-care": {k: k for k in T.FORMS_OF_CARE},
    "vhr-treatment-result": {k: k for k in T.TREATMENT_RESULT_WEIGHTS},
    "vhr-discharge-type": {k: k for k in T.DISCHARGE_TYPE_WEIGHTS},
    "vhr-patient-category": {k: k for k in T.PATIENT_CATEGORY_WEIGHTS},
    "vhr-visit-reason": {k: k for k in T.VISIT_REASON_WEIGHTS},
    "vhr-accident-type": {str(i): str(i) for i in range(9)},
    "vhr-living-area": {"K1": "K1", "K2": "K2", "K3": "K3"},
    "vhr-gender-xml130": {"1": "Nam", "2": "Nữ", "3": "Chưa xác định"},
    "vhr-anaesthesia-method": {
        "1": "Gây mê",
        "2": "Gây tê",
        "3": "Châm tê",
        "4": "Các phương pháp vô cảm khác",
    },
    "vhr-bhyt-benefit-level": {str(i): str(i) for i in range(1, 6)},
}
_WEIGHTS = {
    "vhr-form-of-care": {k: v[0] for k, v in T.FORMS_OF_CARE.items()},
    "vhr-treatment-result": T.TREATMENT_RESULT_WEIGHTS,
    "vhr-discharge-type": T.DISCHARGE_TYPE_WEIGHTS,
    "vhr-patient-category": T.PATIENT_CATEGORY_WEIGHTS,
    "vhr-visit-reason": T.VISIT_REASON_WEIGHTS,
}


@dataclass(frozen=True, slots=True)
class AddressStyle:
    """The words one region writes its addresses with (see data/address.json)."""

    street: Chooser
    lane: str
    sublane: str
    group: Chooser
    form: Chooser
    rural: Chooser
    names: tuple[str, ...]


def render_surname(canonical: str, birth_legacy: str, rng: random.Random) -> str:
    """A survey name written as people born there write it (Hoàng/Huỳnh, Vũ/Võ)."""
    if "/" not in canonical:
        return canonical
    north, south = canonical.split("/")
    return south if rng.random() < S.southern_form_share(birth_legacy) else north


_NAME_CHOOSERS = (
    Chooser(sorted(S.kinh_surnames().items())),  # staff: the Kinh stock
    Chooser(T.MIDDLE_MALE),
    Chooser(T.MIDDLE_FEMALE),
)


def _practitioners(code: str, count: int) -> list[tuple[str, str, str, str, str]]:
    rng = random.Random(0x5EED_0000_0000 + int(code) if code.isdigit() else code)
    out = []
    fam, mm, mf = _NAME_CHOOSERS
    for _ in range(count):
        sex = "male" if rng.random() < 0.5 else "female"
        middle = mm(rng) if sex == "male" else mf(rng)
        given = rng.choice(T.GIVEN_MALE if sex == "male" else T.GIVEN_FEMALE)
        licence = f"{rng.randrange(1, 999999):06d}/{code[:2]}-CCHN"
        year = rng.randint(1965, 1998)
        cccd = f"0{code[:2]}{(year // 100 - 19) * 2 + (sex == 'female')}{year % 100:02d}{rng.randrange(10**6):06d}"
        phone = f"{rng.choice(T.MOBILE_PREFIXES)}{rng.randrange(10**7):07d}"
        family = render_surname(fam(rng), code[:2], rng)
        out.append((licence, f"{family} {middle} {given}", sex, cccd, phone))
    return out


def _facilities(
    province: dict[str, str],
    legacy_of: dict[str, str],
    communes: dict[str, list[str]],
    commune_name: dict[str, str],
) -> tuple[dict[str, list[Facility]], dict[str, Facility]]:
    by_prov: dict[str, list[Facility]] = {}
    station: dict[str, Facility] = {}
    for pcode, pname in province.items():
        lg = legacy_of[pcode]
        short = pname.removeprefix("Thành phố ").removeprefix("Tỉnh ")
        clist = communes.get(pcode, [])
        first = commune_name.get(clist[0], short) if clist else short
        first = first.removeprefix("Phường ").removeprefix("Xã ").removeprefix("Đặc khu ")
        facs = [
            Facility(f"{lg}001", f"Bệnh viện Đa khoa {short}", "hospital", pcode, clist[0] if clist else ""),
            Facility(
                f"{lg}002", f"Bệnh viện Sản - Nhi {short}", "hospital", pcode, clist[0] if clist else ""
            ),
            Facility(
                f"{lg}010", f"Trung tâm Y tế khu vực {first}", "centre", pcode, clist[0] if clist else ""
            ),
            Facility(
                f"{lg}050",
                f"Phòng khám Đa khoa An Khang {short}",
                "clinic",
                pcode,
                clist[-1] if clist else "",
            ),
        ]
        for f in facs:
            f.practitioners = _practitioners(f.code, 4)
            f.phone = f"02{int(lg) % 90 + 10:02d}{int(f.code) % 10**7:07d}"[:11]
        by_prov[pcode] = facs
        for i, c in enumerate(clist[:899]):
            st = Facility(
                f"{lg}{100 + i:03d}", f"Trạm Y tế {commune_name[c]}", "station", pcode, c, parent=facs[2].code
            )
            st.phone = f"02{int(lg) % 90 + 10:02d}{int(st.code) % 10**7:07d}"[:11]
            st.practitioners = _practitioners(st.code, 2)  # eager: per-patient cost stays flat
            station[c] = st
    return by_prov, station


def station_practitioners(fac: Facility) -> list[tuple[str, str, str, str, str]]:
    """Staff of a facility (built with the world; kept for callers holding a bare Facility)."""
    if not fac.practitioners:
        fac.practitioners = _practitioners(fac.code, 2)
    return fac.practitioners


@lru_cache(maxsize=2)
def build_world(ig_folder: str | None = None) -> World:
    """Read the IG once and precompute every table the builder needs."""
    ig = load_ig(ig_folder)
    prov_cs = ig.require_cs("vhr-province")
    com_cs = ig.require_cs("vhr-commune")
    leg_cs = ig.require_cs("vhr-province-legacy")
    eth_cs = ig.require_cs("vhr-ethnicity")
    province = {c: prov_cs.display[c] for c in prov_cs.codes}
    legacy = {c: leg_cs.display[c] for c in leg_cs.codes}
    successor = {c: leg_cs.props.get(c, {}).get("successor", "") for c in leg_cs.codes}
    legacy_of: dict[str, str] = {}
    for lg, succ in successor.items():
        if succ in province and (succ not in legacy_of or lg == succ):
            legacy_of[succ] = lg
    for p in province:
        legacy_of.setdefault(p, p if p in legacy else sorted(legacy)[0])
    communes: dict[str, list[str]] = {}
    for c in com_cs.codes:
        p = com_cs.props.get(c, {}).get("province", "")
        if p in province:
            communes.setdefault(p, []).append(c)
    commune_name = dict(com_cs.display)
    ethnicity = {c: eth_cs.display[c] for c in eth_cs.codes}
    occ = ig.cs("vhr-occupation")
    occupations = list(occ.codes) if occ else []
    occupation_display = dict(occ.display) if occ else {}
    grp = ig.cs("vhr-bhyt-beneficiary-group")
    # The closed group list and each group's levels are vn.bhyt's; only who holds a card is ours.
    groups = {
        code: (tuple(sorted(g.levels)), *T.BHYT_GROUPS.get(code, (0.1, 6, 120)))
        for code, g in bhyt.groups().items()
        if grp is None or code in grp
    }
    codes = {cs_id: _codes(ig, cs_id, fb) for cs_id, fb in _FALLBACK.items()}
    choosers = {cs_id: Chooser(_weights_for(list(codes[cs_id]), w, 0.2)) for cs_id, w in _WEIGHTS.items()}
    blood_cs = ig.cs("vhr-blood-group")
    blood: dict[tuple[str, str], tuple[str, str]] = {}
    if blood_cs is not None:
        for c in blood_cs.codes:
            parsed = _parse_blood(c, blood_cs.display[c])
            if parsed and parsed not in blood:
                blood[parsed] = (c, blood_cs.display[c])
    if not blood:
        blood = {k: (f"{k[0]}{k[1]}", f"Nhóm máu {k[0]} Rh{k[1]}") for k in BLOOD_FREQ}
    by_prov, station = _facilities(province, legacy_of, communes, commune_name)
    return World(
        ig=ig,
        province=province,
        legacy=legacy,
        legacy_successor=successor,
        legacy_of_2025=legacy_of,
        communes_by_province=communes,
        commune_name=commune_name,
        ethnicity=ethnicity,
        **_realism(successor, communes, com_cs.props, ethnicity),
        occupations=occupations,
        occupation_display=occupation_display,
        bhyt_groups=groups,
        bhyt_provinces=bhyt.province_codes(),
        bhyt_group_display=dict(grp.display) if grp else {k: k for k in groups},
        benefit_display=codes["vhr-bhyt-benefit-level"],
        codes=codes,
        choosers=choosers,
        blood=blood,
        choose_blood=Chooser([(k, BLOOD_FREQ.get(k, 0.01)) for k in blood]),
        facilities_by_province=by_prov,
        station_of_commune=station,
        by_code={f.code: f for facs in by_prov.values() for f in facs},
        choose_icd=Chooser([(row[0], row[2]) for row in T.ICD10]),
        icd_by_code={row[0]: row for row in T.ICD10},
        choose_age_band=Chooser(T.AGE_BANDS),
        choose_family=_NAME_CHOOSERS[0],
        choose_middle_m=Chooser(T.MIDDLE_MALE),
        choose_middle_f=Chooser(T.MIDDLE_FEMALE),
    )


def _realism(
    successor: dict[str, str],
    communes: dict[str, list[str]],
    props: dict[str, dict],
    ethnicity: dict[str, str],
) -> dict:
    """Choosers drawn from the sourced tables (``sources``), restricted to codes the IG holds."""
    res = {c: w for c, w in sorted(S.residence_legacy().items()) if successor.get(c) in communes}
    if not res:
        raise ValueError("no legacy province of the population table maps to a 2025 province of the IG")
    by_2025: dict[str, list[tuple[str, float]]] = {}
    for c, w in res.items():
        by_2025.setdefault(successor[c], []).append((c, w))
    eth_in = {
        c: Chooser([(g, p) for g, p in sorted(row.items()) if g in ethnicity])
        for c, row in S.ethnicity_given_legacy().items()
        if c in res
    }
    groups = sorted(ethnicity)
    origin = {}
    for g in groups:
        row = S.origin_given_ethnicity().get(g, {})
        weights = [(c, row.get(c, 0.0)) for c in res]
        origin[g] = Chooser(weights if any(w > 0 for _, w in weights) else list(res.items()))
    urban = {
        p: [c for c in cl if props.get(c, {}).get("division-type") == "phường"] for p, cl in communes.items()
    }
    rural = {
        p: [c for c in cl if props.get(c, {}).get("division-type") != "phường"] for p, cl in communes.items()
    }
    pop_2025 = S.population_2025(successor)
    rural_pick = {}
    for p, cl in sorted(rural.items()):
        weights = S.rural_commune_weights(p, cl, pop_2025.get(p, 0.0))
        if any(w > 0 for _, w in weights):
            rural_pick[p] = Chooser(weights)
    naming = {}
    for g in groups:
        own = S.group_naming(g)
        naming[g] = (
            Chooser(sorted(own["middle_male"].items())) if "middle_male" in own else None,
            Chooser(sorted(own["middle_female"].items())) if "middle_female" in own else None,
            tuple(own.get("given_male", ())),
            tuple(own.get("given_female", ())),
        )
    hamlets = S.hamlet_names()
    styles = {
        name: AddressStyle(
            street=Chooser(sorted(st["street"].items())),
            lane=st["lane"],
            sublane=st.get("sublane", ""),
            group=Chooser(sorted(st["group"].items())),
            form=Chooser(sorted(st["urban_form"].items())),
            rural=Chooser(sorted(st["rural"].items())),
            names=tuple(hamlets[st["names"]]),
        )
        for name, st in sorted(S.address_styles().items())
    }
    style_of = {p: S.address_style(p) for p in communes}
    ethnic_hamlet = {}
    for g in groups:
        for style in styles:
            words = S.ethnic_rural_words(g, style)
            if words:
                ethnic_hamlet[(g, style)] = Chooser(sorted(words.items()))
    return {
        "choose_residence": Chooser(list(res.items())),
        "residence_in_2025": {p: Chooser(v) for p, v in sorted(by_2025.items())},
        "ethnicity_in": eth_in,
        "migrant_share": S.migrant_share(),
        "origin_of": origin,
        "urban_share": S.urban_share(),
        "urban_given_ethnicity": S.urban_given_ethnicity(successor),
        "urban_communes": urban,
        "urban_set": frozenset(c for cl in urban.values() for c in cl),
        "rural_communes": rural,
        "rural_pick": rural_pick,
        "surname_of": {g: Chooser(sorted(S.surnames_given_ethnicity(g).items())) for g in groups},
        "naming": naming,
        "styles": styles,
        "style_of": style_of,
        "ethnic_hamlet": ethnic_hamlet,
        "ethnic_hamlet_share": float(S.ethnic_rural()["share"]),
        "hamlet_names": {k: tuple(v) for k, v in sorted(hamlets.items())},
    }
