"""The sourced tables behind the cohort's realism, and the distributions derived from them.

Each table is a JSON file in ``generator/data/`` carrying its ``source`` and a ``confidence`` mark
(``P`` primary text, ``S`` secondary, ``U`` unconfirmed: from memory, not checked here). This module
turns them into the distributions the generator draws from and the realism check compares with:
both read the same functions, so a cohort is measured against exactly what it was drawn from.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CONFIDENCE = {"P": "primary text", "S": "secondary source", "U": "unconfirmed (from memory)"}
# Names that one survey counts as one (the northern and southern forms of the same name).
SPLIT_NAMES = {"Hoàng": "Hoàng/Huỳnh", "Huỳnh": "Hoàng/Huỳnh", "Vũ": "Vũ/Võ", "Võ": "Vũ/Võ"}
# Born here or further south, a Hoàng is mostly a Huỳnh and a Vũ mostly a Võ (legacy codes run
# north to south; 44 is Quảng Bình).
SOUTHERN_FORM_FROM = "44"
SOUTHERN_FORM_SHARE = 0.85
NORTHERN_FORM_SHARE = 0.95
KINH = "01"


@dataclass(frozen=True, slots=True)
class SourcedTable:
    """One data file: what it holds, where it comes from and how sure we are."""

    id: str
    title: str
    source: str
    confidence: str
    note: str
    data: dict


@cache
def table(name: str) -> SourcedTable:
    """Load ``data/<name>.json`` (once per process)."""
    raw = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    meta = {k: raw.pop(k) for k in ("id", "title", "source", "confidence", "note")}
    if meta["confidence"] not in CONFIDENCE:
        raise ValueError(f"{name}.json: confidence must be one of {sorted(CONFIDENCE)}")
    return SourcedTable(data=raw, **meta)


TABLES = ("population", "ethnicity", "migration", "regions", "urban", "communes", "surnames", "address")


def all_tables() -> list[SourcedTable]:
    return [table(n) for n in TABLES]


def _norm(d: dict[str, float]) -> dict[str, float]:
    total = sum(d.values())
    return {k: v / total for k, v in d.items()} if total > 0 else {}


# --- residence, ethnicity, migration ------------------------------------------------------------


@cache
def residence_legacy() -> dict[str, float]:
    """P(legacy province of residence), from the 2024 population."""
    return _norm(dict(table("population").data["pop2024"]))


@cache
def ethnicity_given_legacy() -> dict[str, dict[str, float]]:
    """P(ethnic group | legacy province), 2019 census: listed counts, residual by population, Kinh
    the remainder; minorities scaled down where they would exceed the province's population."""
    pop = table("population").data["pop2019"]
    eth = table("ethnicity").data
    total_pop = sum(pop.values())
    counts: dict[str, dict[str, float]] = {p: {} for p in pop}
    for group, national in eth["national"].items():
        if group == KINH:
            continue
        listed = eth["provinces"].get(group, {})
        residual = max(0.0, national - sum(listed.values()))
        for p in pop:
            n = listed.get(p, 0.0) + residual * pop[p] / total_pop
            if n > 0:
                counts[p][group] = n
    out: dict[str, dict[str, float]] = {}
    for p, groups in counts.items():
        minority = sum(groups.values())
        cap = 0.995 * pop[p]
        scale = cap / minority if minority > cap else 1.0
        row = {g: n * scale for g, n in groups.items()}
        row[KINH] = pop[p] - minority * scale
        out[p] = _norm(row)
    return out


def legacy_region(code: str) -> str:
    return table("regions").data["legacy_region"][code]


@cache
def migrant_share() -> dict[str, float]:
    """P(an adult resident was born in another province | legacy province of residence)."""
    mig = table("migration").data
    return {p: mig["adult_share"].get(p, mig["default_adult_share"]) for p in residence_legacy()}


@cache
def origin_given_ethnicity() -> dict[str, dict[str, float]]:
    """P(birth province | migrant of this ethnic group): population x region propensity x the group's
    share there (a Khmer migrant to TP HCM was most likely born in the Mekong Delta)."""
    prop = table("migration").data["origin_propensity_by_region"]
    eth = ethnicity_given_legacy()
    res = residence_legacy()
    groups = sorted({g for row in eth.values() for g in row})
    return {g: _norm({p: res[p] * prop[legacy_region(p)] * eth[p].get(g, 0.0) for p in res}) for g in groups}


def joint_ethnicity_province(successor: dict[str, str]) -> dict[tuple[str, str], float]:
    """Source P(ethnic group, 2025 province of residence)."""
    out: dict[tuple[str, str], float] = {}
    eth = ethnicity_given_legacy()
    for lg, w in residence_legacy().items():
        for g, pg in eth[lg].items():
            key = (g, successor[lg])
            out[key] = out.get(key, 0.0) + w * pg
    return out


def province_2025(successor: dict[str, str]) -> dict[str, float]:
    """Source P(2025 province of residence)."""
    out: dict[str, float] = {}
    for lg, w in residence_legacy().items():
        out[successor[lg]] = out.get(successor[lg], 0.0) + w
    return out


def population_2025(successor: dict[str, str]) -> dict[str, float]:
    """2024 population (thousands) of each 2025 province."""
    out: dict[str, float] = {}
    for lg, n in table("population").data["pop2024"].items():
        if lg in successor:
            out[successor[lg]] = out.get(successor[lg], 0.0) + n
    return out


def urban_share() -> dict[str, float]:
    return dict(table("urban").data["urban_share"])


def urban_odds_ratio(group: str) -> float:
    data = table("urban").data
    return float(data["urban_odds_ratio"].get(group, data["default_minority_odds_ratio"]))


def urban_given_ethnicity(successor: dict[str, str]) -> dict[tuple[str, str], float]:
    """P(urban | 2025 province, ethnic group): the province's odds times the group's odds ratio,
    shifted by one factor per province (bisection) so the province's urban share is unchanged."""
    joint = joint_ethnicity_province(successor)
    by_prov: dict[str, dict[str, float]] = {}
    for (g, prov), v in joint.items():
        by_prov.setdefault(prov, {})[g] = v
    out: dict[tuple[str, str], float] = {}
    for prov, groups in sorted(by_prov.items()):
        target = urban_share().get(prov, 0.0)
        weights = _norm(groups)
        if target <= 0 or target >= 1:
            out.update({(prov, g): target for g in weights})
            continue
        base = math.log(target / (1 - target))

        def share(shift: float, weights: dict[str, float] = weights, base: float = base) -> float:
            return sum(
                w / (1 + math.exp(-(base + shift + math.log(urban_odds_ratio(g)))))
                for g, w in weights.items()
            )

        lo, hi = -20.0, 20.0
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if share(mid) < target else (lo, mid)
        shift = (lo + hi) / 2
        for g in weights:
            out[(prov, g)] = 1 / (1 + math.exp(-(base + shift + math.log(urban_odds_ratio(g)))))
    return out


def rural_commune_weights(
    province: str, rural: list[str], province_population: float
) -> list[tuple[str, float]]:
    """Weights of a province's rural communes: 1 each, a đặc khu its population over the average."""
    zones = table("communes").data["special_zone_population"]
    plain = [c for c in rural if c not in zones]
    avg = province_population * (1 - urban_share().get(province, 0.0)) / max(1, len(plain))
    return [(c, zones[c] / avg if c in zones else 1.0) for c in rural if avg > 0]


# --- names ---------------------------------------------------------------------------------------


def canonical_surname(name: str) -> str:
    """The survey's key for a family name (Hoàng and Huỳnh are one name there)."""
    return SPLIT_NAMES.get(name, name)


def survey_surnames() -> dict[str, float]:
    """P(family name) of the survey's names (the rest is 'other'), for the population it describes."""
    return {k: v / 100 for k, v in table("surnames").data["national"].items()}


def survey_describes_everyone() -> bool:
    return table("surnames").data["survey_population"] == "all"


def _own(group: str) -> dict[str, float]:
    spec = table("surnames").data["by_ethnicity"].get(group)
    if not spec:
        return {}
    own: dict[str, float] = {}
    for name, w in spec["names"].items():
        key = canonical_surname(name)
        own[key] = own.get(key, 0.0) + w
    return _norm(own)


def _kinh_part(group: str) -> float:
    spec = table("surnames").data["by_ethnicity"].get(group)
    return float(spec["kinh"]) if spec else 1.0


@cache
def ethnicity_share() -> dict[str, float]:
    """P(ethnic group) nationally, as generated (2024 residents x 2019 shares)."""
    out: dict[str, float] = {}
    eth = ethnicity_given_legacy()
    for lg, w in residence_legacy().items():
        for g, pg in eth[lg].items():
            out[g] = out.get(g, 0.0) + w * pg
    return out


@cache
def kinh_surnames() -> dict[str, float]:
    """P(name | drawn from the Kinh stock), solved so that the national mix gives the survey's shares.

    national(s) = K x kinh(s) + sum over groups g of P(g) (1 - k_g) own_g(s), K = sum of P(g) k_g.
    What the survey leaves ('other') holds the groups' own names outside it; the remainder is Kinh
    stock, shared between the 'next' names (by their weights) and the 1/rank tail.
    """
    sur = table("surnames").data
    share = ethnicity_share()
    minority: dict[str, float] = {}
    stock = 0.0
    for g, pg in share.items():
        k = _kinh_part(g)
        stock += pg * k
        for name, w in _own(g).items():
            minority[name] = minority.get(name, 0.0) + pg * (1 - k) * w
    survey = survey_surnames()
    if sur["survey_population"] == "kinh":  # the survey describes the Kinh stock itself
        minority, stock = {}, 1.0
    raw = {name: max(0.0, w - minority.get(name, 0.0)) for name, w in survey.items()}
    outside = sum(w for name, w in minority.items() if name not in survey)
    rest = max(0.0, 1.0 - sum(survey.values()) - outside)
    tail_part = float(sur["tail_share_of_rest"])
    nxt = {canonical_surname(k): float(v) for k, v in sur["next"].items()}
    total_next = sum(nxt.values())
    for name, w in nxt.items():
        raw[name] = raw.get(name, 0.0) + rest * (1 - tail_part) * w / total_next
    harmonic = sum(1 / (i + 1) for i in range(len(sur["tail"])))
    for i, name in enumerate(sur["tail"]):
        key = canonical_surname(name)
        raw[key] = raw.get(key, 0.0) + rest * tail_part / (i + 1) / harmonic
    return _norm({k: v / stock for k, v in raw.items()})


@cache
def national_surnames() -> dict[str, float]:
    """P(canonical family name) of the whole population as generated (every group's mix)."""
    out: dict[str, float] = {}
    for g, pg in ethnicity_share().items():
        for name, w in surnames_given_ethnicity(g).items():
            out[name] = out.get(name, 0.0) + pg * w
    return out


@cache
def surnames_given_ethnicity(group: str) -> dict[str, float]:
    """P(canonical family name | ethnic group): a mix of the group's own names and the Kinh stock."""
    k = _kinh_part(group)
    out = {n: k * w for n, w in kinh_surnames().items()}
    for n, w in _own(group).items():
        out[n] = out.get(n, 0.0) + (1 - k) * w
    return _norm(out)


def group_naming(group: str) -> dict:
    """The group's own middle and given names, where the table has them."""
    spec = table("surnames").data["by_ethnicity"].get(group) or {}
    return {k: spec[k] for k in ("middle_male", "middle_female", "given_male", "given_female") if k in spec}


def own_surnames(group: str) -> set[str]:
    return set(_own(group))


def southern_form_share(birth_legacy: str) -> float:
    return SOUTHERN_FORM_SHARE if birth_legacy >= SOUTHERN_FORM_FROM else 1 - NORTHERN_FORM_SHARE


# --- addresses -----------------------------------------------------------------------------------


def address_style(province_2025: str) -> str:
    return table("regions").data["address_style"][province_2025]


def address_styles() -> dict[str, dict]:
    return dict(table("address").data["styles"])


def ethnic_rural() -> dict:
    return dict(table("address").data["ethnic_rural"])


def hamlet_names() -> dict[str, list[str]]:
    return dict(table("address").data["hamlet_names"])


def expected_urban_words(style: str) -> dict[str, float]:
    """P(first address word | urban address in this style): form x word."""
    st = address_styles()[style]
    out: dict[str, float] = {}
    for form, pf in st["urban_form"].items():
        if form == "street":
            words = st["street"]
        elif form == "group":
            words = st["group"]
        else:
            words = {st[form]: 1.0}
        for word, pw in _norm(words).items():
            out[word] = out.get(word, 0.0) + pf * pw
    return _norm(out)


def expected_rural_words(style: str) -> dict[str, float]:
    """P(hamlet word | rural address in this style), for patients without an ethnic hamlet word."""
    return _norm(dict(address_styles()[style]["rural"]))


def ethnic_rural_words(group: str, style: str) -> dict[str, float]:
    """The group's own hamlet words that its style allows (empty: the style's words apply)."""
    er = ethnic_rural()
    words = er["words"].get(group, {})
    return _norm({w: p for w, p in words.items() if style in er["allowed_styles"].get(w, ())})
