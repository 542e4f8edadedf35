"""The cohort against its sourced tables (issue 18): joint distributions, names, places, words."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vhr_conformance.generator import Options, generate_patient, generate_patients
from vhr_conformance.generator import realism as R
from vhr_conformance.generator import sources as S
from vhr_conformance.generator.build import Spec
from vhr_conformance.generator.world import build_world
from vhr_conformance.names import SID_CCCD
from vhr_conformance.vn import bhyt as vn_bhyt
from vhr_conformance.vn import names as vn_names

# 4,000 patients keep the test to a few seconds; benchmarks/realism.py runs 20,000.
COHORT = 4000
MEKONG_2025 = {"82", "86", "91", "92", "96"}


@pytest.fixture(scope="module")
def cohort() -> list[R.Person]:
    return R.people(generate_patients(COHORT, seed=18))


def test_every_table_states_its_source_and_confidence() -> None:
    for t in S.all_tables():
        assert t.source.strip() and t.title.strip(), t.id
        assert t.confidence in S.CONFIDENCE, t.id
        if t.confidence == "U":
            assert "memory" in t.note or "estimate" in t.note or "unconfirmed" in t.note.lower(), t.id


def test_multi_word_family_names_are_known_to_the_converter() -> None:
    """XML 130 HO_TEN has no family/given boundary: a family name of several words survives the twin
    only when vn.names lists it, so every such name the generator draws must be listed."""
    names = set(S.kinh_surnames()) | {n for g in S.ethnicity_share() for n in S.surnames_given_ethnicity(g)}
    split = {part for n in names for part in n.split("/")}
    multi = {n for n in split if " " in n}
    assert {"Tôn Thất", "Âu Dương", "Rơ Châm"} <= multi
    assert multi <= set(vn_names.multi_word_family_names())


def test_derived_tables_reproduce_their_sources() -> None:
    """The census joint keeps each group's national count, and the surname mix the survey shares."""
    pop = S.table("population").data["pop2019"]
    eth = S.table("ethnicity").data
    for prov, row in S.ethnicity_given_legacy().items():
        assert abs(sum(row.values()) - 1) < 1e-9
        listed = sum(eth["provinces"].get(g, {}).get(prov, 0) for g in eth["national"] if g != S.KINH)
        assert listed < pop[prov], f"minorities listed in {prov} exceed its population"
    national = S._norm(dict(eth["national"]))
    census_2019 = {g: 0.0 for g in national}
    for prov, row in S.ethnicity_given_legacy().items():
        for g, p in row.items():
            census_2019[g] += p * pop[prov]
    assert R.dissimilarity(census_2019, national) < 0.005
    mix = S.national_surnames()
    for name, share in S.survey_surnames().items():
        assert abs(mix[name] - share) < 0.001, name
    assert abs(sum(S.kinh_surnames().values()) - 1) < 1e-9


def test_cohort_is_within_the_bound_of_every_source_table(cohort: list[R.Person]) -> None:
    checks = R.measure_people(cohort)
    names = {c.name for c in checks}
    assert {"province of residence", "ethnic group x province", "birth province of adults"} <= names
    assert {"family name", "urban share x province", "special zones (đặc khu)"} <= names
    assert sum(c.name.startswith("where ") for c in checks) >= 4
    assert sum(c.name.startswith("family names of ") for c in checks) >= 4
    assert sum("address words" in c.name for c in checks) >= 12
    drifted = [c for c in checks if not c.ok]
    assert not drifted, R.format_checks(drifted)


def test_a_drifted_table_fails_its_check(cohort: list[R.Person]) -> None:
    """Ethnicity drawn independently of place, and names independently of ethnicity (as before
    issue 18), break the joint checks."""
    rng = random.Random(1)
    provinces = [p.province for p in cohort]
    rng.shuffle(provinces)
    families = [p.family for p in cohort if p.ethnicity == S.KINH]
    shuffled = [
        dataclasses.replace(p, province=prov, family=families[rng.randrange(len(families))])
        for p, prov in zip(cohort, provinces, strict=True)
    ]
    failed = {c.name for c in R.measure_people(shuffled) if not c.ok}
    assert "ethnic group x province" in failed
    assert any(n.startswith("where ") for n in failed)
    assert any(n.startswith("family names of ") for n in failed)


def test_khmer_live_in_the_mekong_delta_and_minorities_carry_their_names(cohort: list[R.Person]) -> None:
    khmer = [p for p in cohort if p.ethnicity == "05"]
    assert len(khmer) >= 30
    assert sum(p.province in MEKONG_2025 for p in khmer) / len(khmer) >= 0.75
    with_table = [p for p in cohort if p.ethnicity != S.KINH and S.own_surnames(p.ethnicity)]
    own = sum(S.canonical_surname(p.family) in S.own_surnames(p.ethnicity) for p in with_table)
    assert own / len(with_table) >= 0.8
    hmong = [p for p in cohort if p.ethnicity == "08"]
    assert hmong and sum(p.family in S.own_surnames("08") for p in hmong) / len(hmong) >= 0.9


def test_nobody_lives_in_an_uninhabited_special_zone(cohort: list[R.Person]) -> None:
    empty = {c for c, n in S.table("communes").data["special_zone_population"].items() if n == 0}
    assert empty == {"20333"}  # Hoàng Sa
    assert not any(p.commune in empty for p in cohort)
    assert build_world().urban_communes and not any(c in empty for c in build_world().rural_pick["48"].items)


def test_no_over_representation_of_the_big_cities_and_hue_gets_its_share(cohort: list[R.Person]) -> None:
    succ = {c: s for c, s in build_world().legacy_successor.items() if s}
    expected = S.province_2025(succ)
    got = Counter(p.province for p in cohort)
    for prov in ("79", "01", "46"):
        ratio = got[prov] / len(cohort) / expected[prov]
        assert 0.85 <= ratio <= 1.15, (prov, ratio)


def test_southern_forms_of_hoang_and_vu_follow_the_place_of_birth(cohort: list[R.Person]) -> None:
    kinh = [p for p in cohort if p.ethnicity == S.KINH]
    south = [p.family for p in kinh if p.birth_code >= S.SOUTHERN_FORM_FROM and p.family in S.SPLIT_NAMES]
    north = [p.family for p in kinh if p.birth_code < S.SOUTHERN_FORM_FROM and p.family in S.SPLIT_NAMES]
    assert sum(f in ("Huỳnh", "Võ") for f in south) / len(south) >= 0.75
    assert sum(f in ("Huỳnh", "Võ") for f in north) / len(north) <= 0.12


def test_street_and_hamlet_words_belong_to_their_region(cohort: list[R.Person]) -> None:
    w = build_world()
    vocab = R._words()
    seen: dict[str, set[str]] = {}
    for p in cohort:
        seen.setdefault(R.address_word(p.line, vocab), set()).add(w.style_of[p.province])
    assert R.OTHER not in seen, "an address line without a known street or hamlet word"
    assert seen["Kiệt"] == {"kiet"}
    assert seen["Ngách"] == {"hanoi"}
    assert seen["Ấp"] <= {"south", "mekong-khmer"}
    assert not seen.get("Thôn", set()) & {"south", "mekong-khmer"}
    assert seen["Hẻm"].isdisjoint({"hanoi", "north", "kiet"})


@pytest.mark.parametrize("choice", ["successor", "legacy"])
def test_babies_born_after_the_merger_take_the_configured_cccd_prefix(choice: str) -> None:
    w = build_world()
    for index in range(40):
        b = generate_patient(5, index, spec=Spec(age_days=120), options=Options(post_merger_cccd=choice))
        pat = b["entry"][0]["resource"]
        cccd = next(i["value"] for i in pat["identifier"] if i["system"] == SID_CCCD)
        prov = next(
            x["valueCoding"]["code"]
            for x in pat["address"][0]["extension"]
            if x["url"].endswith("vhr-address-province")
        )
        code = cccd[1:3]
        assert w.legacy_successor[code] == prov
        if choice == "successor":
            assert code == prov
        place = next(x["valueAddress"]["state"] for x in pat["extension"] if x["url"].endswith("birthPlace"))
        assert place == w.province[prov]
    legacy_codes = {
        generate_patient(5, i, spec=Spec(age_days=120), options=Options(post_merger_cccd="legacy"))["entry"][
            0
        ]["resource"]["identifier"][0]["value"][1:3]
        for i in range(200)
    }
    assert legacy_codes - set(w.province), "the legacy choice never used an abolished province's code"


def test_bad_post_merger_choice_is_a_bilingual_error(tmp_path: Path) -> None:
    from vhr_conformance.cli import app
    from vhr_conformance.i18n import UserError

    with pytest.raises(ValueError):
        Options(post_merger_cccd="x")
    res = CliRunner().invoke(app, ["generate", "-n", "1", "-o", str(tmp_path), "--post-merger-cccd", "x"])
    assert isinstance(res.exception, UserError)
    assert "--post-merger-cccd" in str(res.exception)


def test_generator_texts_use_the_glossary_terms() -> None:
    """'người bệnh' (not 'bệnh nhân'), 'mô phỏng' for synthetic (not 'tổng hợp')."""
    root = Path(S.__file__).parent
    for f in sorted(root.glob("*.py")):
        text = f.read_text(encoding="utf-8").lower()
        assert "bệnh nhân" not in text, f.name
        assert "tổng hợp" not in text, f.name


def test_options_reach_worker_processes(tmp_path: Path) -> None:
    """A run-wide choice gives the same bytes whatever --jobs, and differs from the default."""
    from vhr_conformance.generator.writer import write_cohort

    legacy = Options(post_merger_cccd="legacy")
    one, two, default = tmp_path / "one", tmp_path / "two", tmp_path / "default"
    write_cohort(one, 600, seed=2, jobs=1, options=legacy)
    write_cohort(two, 600, seed=2, jobs=2, options=legacy)
    write_cohort(default, 600, seed=2, jobs=1)
    files = sorted(p.relative_to(one) for p in one.rglob("*.json"))
    assert len(files) == 600
    assert all((one / f).read_bytes() == (two / f).read_bytes() for f in files)
    assert any((one / f).read_bytes() != (default / f).read_bytes() for f in files)


def test_every_card_level_fits_its_group(cohort: list[R.Person]) -> None:
    """QĐ 1351 via vn.bhyt: each card's benefit level is one its group carries (13 % did not)."""
    cards = [c for p in cohort for c in p.cards]
    assert len(cards) > COHORT * 0.8  # 93 % insured
    assert R.card_misfits(cohort) == []
    assert {c.group for c in cards} <= set(vn_bhyt.groups())
    legacy = [c for c in cards if vn_bhyt.parse(c.value)]
    assert legacy and all(c.value[3:5] in vn_bhyt.province_codes() for c in legacy)


def test_card_misfits_notices_a_wrong_level(cohort: list[R.Person]) -> None:
    p = next(p for p in cohort if any(c.group == "HN" for c in p.cards))
    card = next(c for c in p.cards if c.group == "HN")
    wrong = dataclasses.replace(card, level="5")  # the old generator's level for poor households
    found = R.card_misfits([dataclasses.replace(p, cards=(wrong,))])
    assert found and "HN" in found[0][1].en


def test_generator_groups_are_the_rule_set() -> None:
    """The generator's holder table covers exactly QĐ 1351's closed list, and only the list."""
    from vhr_conformance.generator import tables as T

    assert set(T.BHYT_GROUPS) == set(vn_bhyt.groups())
    w = build_world()
    for code, (levels, _, lo, hi) in w.bhyt_groups.items():
        assert set(levels) == vn_bhyt.groups()[code].levels and lo <= hi
