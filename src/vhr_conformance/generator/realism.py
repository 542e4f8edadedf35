"""How far a generated cohort is from the sourced tables it was drawn from.

Each check compares one marginal or joint distribution of the cohort with the same distribution
computed from ``data/*.json`` (by :mod:`.sources`) by the dissimilarity index (Duncan's D, which is
the total variation distance: half the sum of absolute differences of the shares, 0 = identical,
1 = disjoint). Its bound is a stated tolerance for what the generator adds on purpose (e.g. the
IG's commune lists) plus twice the distance that sampling alone gives a cohort of that size, so a
check fails when a table drifts from the generator, not because the cohort is small.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from vhr_conformance.generator import sources as S
from vhr_conformance.generator.build import MERGER_DATE, REFERENCE_NOW
from vhr_conformance.generator.world import World, build_world
from vhr_conformance.i18n import Text
from vhr_conformance.names import SID_BHYT, SID_CCCD
from vhr_conformance.vn import bhyt, check_bhyt

# Groups whose place and names are checked one by one (the large ones and those the issue names).
GROUPS = ("02", "03", "04", "05", "06", "07", "08", "09", "10", "12", "17")
MIN_SAMPLE = 40  # below this a per-group check says nothing and is skipped
TOLERANCE = 0.02
OTHER = "(other)"


@dataclass(frozen=True, slots=True)
class Check:
    """One table compared: its distance, the bound it must stay under and the sample size."""

    name: str
    source: str
    distance: float
    bound: float
    n: int
    vi: str = ""  # the check's name in Vietnamese

    @property
    def title(self) -> Text:
        return Text(self.vi or self.name, self.name)

    @property
    def ok(self) -> bool:
        return self.distance <= self.bound


@dataclass(frozen=True, slots=True)
class Person:
    province: str
    commune: str
    ethnicity: str
    family: str
    birth_code: str
    birth: date
    line: str
    cards: tuple[Card, ...] = ()


@dataclass(frozen=True, slots=True)
class Card:
    """One BHYT card as a receiver reads it: the number and the group / level extensions."""

    value: str
    group: str
    level: str


def dissimilarity(a: dict, b: dict) -> float:
    """Duncan's index between two distributions given as weights (normalised here)."""
    ta, tb = sum(a.values()) or 1.0, sum(b.values()) or 1.0
    return 0.5 * sum(abs(a.get(k, 0.0) / ta - b.get(k, 0.0) / tb) for k in set(a) | set(b))


def sampling_distance(expected: dict, n: int) -> float:
    """Expected distance of an n-sample from ``expected`` by chance alone (normal approximation)."""
    total = sum(expected.values()) or 1.0
    if n <= 0:
        return 1.0
    return 0.5 * sum(math.sqrt(2 * (p / total) * (1 - p / total) / (math.pi * n)) for p in expected.values())


def _check(
    name: str, source: str, observed: Counter, expected: dict, tolerance: float = TOLERANCE, vi: str = ""
) -> Check:
    n = sum(observed.values())
    bound = tolerance + 2 * sampling_distance(expected, n)
    return Check(name, source, dissimilarity(dict(observed), expected), bound, n, vi or _VI.get(name, name))


_VI = {
    "province of residence": "tỉnh nơi ở",
    "ethnic group": "dân tộc",
    "ethnic group x province": "dân tộc × tỉnh",
    "birth province of adults": "tỉnh nơi sinh của người trưởng thành",
    "family name": "họ",
    "family name (Kinh)": "họ (người Kinh)",
    "urban share x province": "tỷ lệ thành thị × tỉnh",
    "urban share x ethnic group": "tỷ lệ thành thị × dân tộc",
    "special zones (đặc khu)": "đặc khu",
}


def people(bundles: Iterable[dict]) -> list[Person]:
    """The facts the checks need, read back from each bundle's Patient as a receiver would."""
    out = []
    for b in bundles:
        p = next(e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Patient")
        addr = p["address"][0]
        codes = {x["url"].rsplit("/", 1)[-1]: x["valueCoding"]["code"] for x in addr["extension"]}
        eth = next(x["valueCoding"]["code"] for x in p["extension"] if x["url"].endswith("vhr-ethnicity"))
        cccd = next(i["value"] for i in p["identifier"] if i["system"] == SID_CCCD)
        cards = []
        for e in b["entry"]:
            r = e["resource"]
            if r["resourceType"] == "Coverage":
                ext = {
                    x["url"].rsplit("/", 1)[-1]: x.get("valueCoding", {}).get("code", "")
                    for x in r["extension"]
                }
                value = next((i["value"] for i in r.get("identifier", []) if i["system"] == SID_BHYT), "")
                cards.append(
                    Card(
                        value,
                        ext.get("vhr-bhyt-beneficiary-group", ""),
                        ext.get("vhr-bhyt-benefit-level", ""),
                    )
                )
        out.append(
            Person(
                province=codes["vhr-address-province"],
                commune=codes.get("vhr-address-commune", ""),
                ethnicity=eth,
                family=p["name"][0]["family"],
                birth_code=cccd[1:3],
                birth=date.fromisoformat(p["birthDate"]),
                line=(addr.get("line") or [""])[0],
                cards=tuple(cards),
            )
        )
    return out


def card_misfits(ps: Iterable[Person]) -> list[tuple[Card, Text]]:
    """Every card that QĐ 1351 (``vn.bhyt``) would not accept, with the reason: a group outside the
    closed list, a level the group does not carry, a 15-character number whose group, level or
    province digits disagree with the extensions or the rule set."""
    groups = bhyt.groups()
    out: list[tuple[Card, Text]] = []
    for p in ps:
        for c in p.cards:
            g = groups.get(c.group)
            if g is None:
                out.append((c, Text(f"nhóm {c.group} ngoài danh mục", f"group {c.group} not in the list")))
            elif c.level not in g.levels:
                out.append(
                    (
                        c,
                        Text(
                            f"nhóm {c.group} không có mức hưởng {c.level}",
                            f"group {c.group} has no level {c.level}",
                        ),
                    )
                )
            parts = bhyt.parse(c.value)
            if parts is not None and (parts.group, parts.level) != (c.group, c.level):
                out.append((c, Text("mã thẻ khác phần mở rộng", "card number disagrees with its extensions")))
            out.extend((c, f.text) for f in check_bhyt(c.value))
    return out


def _words() -> list[str]:
    vocab: set[str] = set()
    for st in S.address_styles().values():
        vocab.update(st["street"], st["group"], st["rural"], [st["lane"], st.get("sublane", "")])
    for words in S.ethnic_rural()["words"].values():
        vocab.update(words)
    return sorted((w for w in vocab if w), key=len, reverse=True)


def address_word(line: str, vocab: list[str]) -> str:
    """The street / lane / hamlet word of an address line ("Số 5, Kiệt 12 Lê Lợi" → "Kiệt")."""
    rest = line
    if rest.startswith("Số "):
        rest = rest[3:].lstrip("0123456789/").removeprefix(",").lstrip()
    return next((w for w in vocab if rest.startswith(w + " ")), OTHER)


def _collapse(counter: Counter, keep: set[str]) -> Counter:
    out: Counter = Counter()
    for k, v in counter.items():
        out[k if k in keep else OTHER] += v
    return out


def _collapse_dict(d: dict[str, float], keep: set[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in d.items():
        key = k if k in keep else OTHER
        out[key] = out.get(key, 0.0) + v
    return out


def measure(
    bundles: Iterable[dict], now: date = REFERENCE_NOW.date(), world: World | None = None
) -> list[Check]:
    """Every check of a cohort (transaction Bundles from :func:`generate_patients`)."""
    return measure_people(people(bundles), now, world)


def measure_people(
    ps: list[Person], now: date = REFERENCE_NOW.date(), world: World | None = None
) -> list[Check]:
    """Every check of a cohort, from the facts :func:`people` reads."""
    w = world or build_world()
    succ = {c: s for c, s in w.legacy_successor.items() if s}
    checks: list[Check] = []
    pop_src = "population.json (2024)"
    checks.append(
        _check("province of residence", pop_src, Counter(p.province for p in ps), S.province_2025(succ))
    )
    eth_src = "ethnicity.json (2019)"
    checks.append(_check("ethnic group", eth_src, Counter(p.ethnicity for p in ps), S.ethnicity_share()))
    joint = S.joint_ethnicity_province(succ)
    checks.append(
        _check("ethnic group x province", eth_src, Counter((p.ethnicity, p.province) for p in ps), joint)
    )
    for g in GROUPS:
        obs = Counter(p.province for p in ps if p.ethnicity == g)
        if sum(obs.values()) >= MIN_SAMPLE:
            exp = {prov: v for (eg, prov), v in joint.items() if eg == g}
            label = w.ethnicity.get(g, g)
            checks.append(_check(f"where {label} live", eth_src, obs, exp, vi=f"nơi ở của người {label}"))
    # Adults born before the merger: birth province (as its 2025 successor) shows the migration.
    expected_birth = _expected_birth(succ)
    adults = [p for p in ps if (now - p.birth).days >= 18 * 366 and p.birth < MERGER_DATE]
    checks.append(
        _check(
            "birth province of adults",
            "migration.json",
            Counter(succ.get(p.birth_code, p.birth_code) for p in adults),
            expected_birth,
        )
    )
    # Surnames: the survey's names (and the rest) nationally, then each group's own names.
    survey = S.survey_surnames()
    named = set(survey)
    if S.survey_describes_everyone():
        scope, pool, expected = "family name", ps, {**survey, OTHER: 1 - sum(survey.values())}
    else:
        scope, pool = "family name (Kinh)", [p for p in ps if p.ethnicity == S.KINH]
        expected = _collapse_dict(S.kinh_surnames(), named)
    checks.append(
        _check(
            scope,
            "surnames.json",
            _collapse(Counter(S.canonical_surname(p.family) for p in pool), named),
            expected,
        )
    )
    for g in GROUPS:
        own = S.own_surnames(g)
        obs = Counter(S.canonical_surname(p.family) for p in ps if p.ethnicity == g)
        if own and sum(obs.values()) >= MIN_SAMPLE:
            exp = _collapse_dict(S.surnames_given_ethnicity(g), own)
            checks.append(
                _check(
                    f"family names of {w.ethnicity.get(g, g)}",
                    "surnames.json",
                    _collapse(obs, own),
                    exp,
                    vi=f"họ của người {w.ethnicity.get(g, g)}",
                )
            )
    # Urban / rural by province.
    urban = S.urban_share()
    exp_urban: dict[tuple[str, bool], float] = {}
    for prov, share in S.province_2025(succ).items():
        u = urban.get(prov, 0.0) if w.urban_communes.get(prov) else 0.0
        if not w.rural_communes.get(prov):
            u = 1.0
        exp_urban[(prov, True)] = share * u
        exp_urban[(prov, False)] = share * (1 - u)
    checks.append(
        _check(
            "urban share x province",
            "urban.json",
            Counter((p.province, p.commune in w.urban_set) for p in ps),
            exp_urban,
        )
    )
    u_eth = S.urban_given_ethnicity(succ)
    exp_eth_urban: dict[tuple[str, bool], float] = {}
    for (g, prov), v in joint.items():
        u = u_eth.get((prov, g), 0.0) if w.rural_communes.get(prov) else 1.0
        exp_eth_urban[(g, True)] = exp_eth_urban.get((g, True), 0.0) + v * u
        exp_eth_urban[(g, False)] = exp_eth_urban.get((g, False), 0.0) + v * (1 - u)
    checks.append(
        _check(
            "urban share x ethnic group",
            "urban.json",
            Counter((p.ethnicity, p.commune in w.urban_set) for p in ps),
            exp_eth_urban,
        )
    )
    zones = S.table("communes").data["special_zone_population"]
    exp_zone: dict[str, float] = {OTHER: 1.0}
    for prov, pick in w.rural_pick.items():
        rural_share = exp_urban.get((prov, False), 0.0)
        for c, cum_lo, cum_hi in zip(pick.items, [0.0, *pick.cum], pick.cum, strict=False):
            if c in zones:
                exp_zone[c] = rural_share * (cum_hi - cum_lo) / pick.total
                exp_zone[OTHER] -= exp_zone[c]
    checks.append(
        _check(
            "special zones (đặc khu)",
            "communes.json",
            Counter(p.commune if p.commune in zones else OTHER for p in ps),
            exp_zone,
        )
    )
    checks.extend(_address_checks(ps, w))
    return checks


def _expected_birth(succ: dict[str, str]) -> dict[str, float]:
    """P(2025 successor of the birth province | adult): stayers plus migrants' origins."""
    res = S.residence_legacy()
    eth = S.ethnicity_given_legacy()
    mig = S.migrant_share()
    origin = S.origin_given_ethnicity()
    out: dict[str, float] = {}
    for lg, pl in res.items():
        if lg not in succ:
            continue
        stay = 1 - mig[lg]
        out[succ[lg]] = out.get(succ[lg], 0.0) + pl * stay
        for g, pg in eth[lg].items():
            for o, po in origin.get(g, {}).items():
                if o in succ:
                    out[succ[o]] = out.get(succ[o], 0.0) + pl * mig[lg] * pg * po
    return out


def _address_checks(ps: list[Person], w: World) -> list[Check]:
    vocab = _words()
    by_style_urban: dict[str, Counter] = {}
    by_style_rural: dict[str, Counter] = {}
    for p in ps:
        style = w.style_of.get(p.province, "")
        word = address_word(p.line, vocab)
        if p.commune in w.urban_set:
            by_style_urban.setdefault(style, Counter())[word] += 1
        elif not S.ethnic_rural_words(p.ethnicity, style):
            by_style_rural.setdefault(style, Counter())[word] += 1
    out = []
    for style in sorted(S.address_styles()):
        obs = by_style_urban.get(style, Counter())
        if sum(obs.values()) >= MIN_SAMPLE:
            out.append(
                _check(
                    f"urban address words, {style}",
                    "address.json",
                    obs,
                    S.expected_urban_words(style),
                    vi=f"từ địa chỉ đô thị, {style}",
                )
            )
        obs = by_style_rural.get(style, Counter())
        if sum(obs.values()) >= MIN_SAMPLE:
            out.append(
                _check(
                    f"rural address words, {style}",
                    "address.json",
                    obs,
                    S.expected_rural_words(style),
                    vi=f"từ địa chỉ nông thôn, {style}",
                )
            )
    return out


def format_checks(checks: list[Check]) -> str:
    """A plain table: check, n, distance, bound, verdict (Vietnamese then English headers)."""
    titles = [c.title.in_lang() for c in checks]
    width = max([len("phép so sánh / check"), *map(len, titles)])
    rows = [
        f"{'phép so sánh / check':<{width}} {'n':>6} {'D':>7} {'ngưỡng / bound':>15}  kết quả / result",
    ]
    for c, title in zip(checks, titles, strict=True):
        verdict = Text("đạt", "ok") if c.ok else Text("VƯỢT NGƯỠNG", "DRIFT")
        rows.append(f"{title:<{width}} {c.n:>6} {c.distance:>7.4f} {c.bound:>15.4f}  {verdict.in_lang()}")
    return "\n".join(rows)
