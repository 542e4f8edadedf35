"""The shared Vietnamese rules, tested from the text of the decisions (shared domain notes §2, §5)
rather than from one example."""

from __future__ import annotations

import pytest

from vhr_conformance import vn
from vhr_conformance.vn import admin, bhyt, cccd

# §5: the 63 pre-2025 province codes (QĐ 124/2004/QĐ-TTg), as the notes list them
LEGACY = [
    "01",
    "02",
    "04",
    "06",
    "08",
    "10",
    "11",
    "12",
    "14",
    "15",
    "17",
    "19",
    "20",
    "22",
    "24",
    "25",
    "26",
    "27",
    "30",
    "31",
    "33",
    "34",
    "35",
    "36",
    "37",
    "38",
    "40",
    "42",
    "44",
    "45",
    "46",
    "48",
    "49",
    "51",
    "52",
    "54",
    "56",
    "58",
    "60",
    "62",
    "64",
    "66",
    "67",
    "68",
    "70",
    "72",
    "74",
    "75",
    "77",
    "79",
    "80",
    "82",
    "83",
    "84",
    "86",
    "87",
    "89",
    "91",
    "92",
    "93",
    "94",
    "95",
    "96",
]
# §5: the 34 provinces of 2025 with the former provinces merged into each
MERGED = {
    "08": ["02"], "15": ["10"], "19": ["06"], "24": ["27"], "25": ["26", "17"], "31": ["30"],
    "33": ["34"], "37": ["35", "36"], "44": ["45"], "48": ["49"], "51": ["62"], "52": ["64"],
    "56": ["58"], "66": ["54"], "68": ["67", "60"], "75": ["70"], "79": ["74", "77"], "80": ["72"],
    "82": ["87"], "86": ["83", "84"], "91": ["89"], "92": ["93", "94"], "96": ["95"],
}  # fmt: skip
CURRENT = [
    "01",
    "04",
    "08",
    "11",
    "12",
    "14",
    "15",
    "19",
    "20",
    "22",
    "24",
    "25",
    "31",
    "33",
    "37",
    "38",
    "40",
    "42",
    "44",
    "46",
    "48",
    "51",
    "52",
    "56",
    "66",
    "68",
    "75",
    "79",
    "80",
    "82",
    "86",
    "91",
    "92",
    "96",
]


def rules(findings: list[vn.Finding]) -> list[str]:
    return [f.rule for f in findings]


def test_province_lists_are_those_of_the_decisions() -> None:
    assert sorted(admin.legacy_codes()) == LEGACY and len(LEGACY) == 63
    assert sorted(admin.current_codes()) == CURRENT and len(CURRENT) == 34
    for new, olds in MERGED.items():
        for old in olds:
            assert admin.successor(old) == new, old
    # a province that kept its code succeeds itself; every successor is a 2025 province
    assert admin.successor("01") == "01" and admin.successor("46") == "46"
    assert {p.successor for p in admin.legacy_provinces()} == set(CURRENT)


@pytest.mark.parametrize("code", LEGACY)
def test_cccd_prefix_is_0_and_any_legacy_code(code: str) -> None:
    assert rules(vn.check_cccd(f"0{code}090123456", 1990, "male")) == []


@pytest.mark.parametrize("prefix", ["003", "005", "009", "013", "050", "097", "099", "100", "101", "000"])
def test_cccd_prefix_outside_the_63_codes(prefix: str) -> None:
    # 003 lies inside the old numeric range 001–096 and still is no province
    assert rules(vn.check_cccd(f"{prefix}090123456", 1990, "male")) == ["vhr-cccd-2"]


# §2: 1900s: 0 male, 1 female; 2000s: 2/3; 2100s: 4/5; 2200s: 6/7; 2300s: 8/9
CENTURY_TABLE = [(1900, 0, 1), (2000, 2, 3), (2100, 4, 5), (2200, 6, 7), (2300, 8, 9)]


@pytest.mark.parametrize(("century", "male", "female"), CENTURY_TABLE)
def test_century_and_sex_digit_table(century: int, male: int, female: int) -> None:
    for year in (century, century + 47, century + 99):
        assert cccd.century_sex_digit(year, "male") == male
        assert cccd.century_sex_digit(year, "female") == female
        yy = f"{year % 100:02d}"
        for digit in range(10):
            for sex, right in (("male", male), ("female", female)):
                found = rules(vn.check_cccd(f"001{digit}{yy}123456", year, sex))
                assert found == ([] if digit == right else ["vhr-cccd-3"]), (year, sex, digit)
            # sex unknown: only the century half is judged
            found = rules(vn.check_cccd(f"001{digit}{yy}123456", year, None))
            assert found == ([] if digit in (male, female) else ["vhr-cccd-3"]), (year, digit)


@pytest.mark.parametrize("year", [1899, 1850, 2400])
def test_birth_outside_the_five_centuries_has_no_valid_digit(year: int) -> None:
    assert cccd.century_sex_digit(year, "male") is None
    for digit in range(10):
        assert "vhr-cccd-3" in rules(vn.check_cccd(f"001{digit}{year % 100:02d}123456", year, "female"))


def test_digits_5_6_are_the_birth_year() -> None:
    for year in (1900, 1905, 1990, 2000, 2009, 2025):
        assert (
            rules(
                vn.check_cccd(
                    f"001{cccd.century_sex_digit(year, 'male')}{year % 100:02d}000001", year, "male"
                )
            )
            == []
        )
        other = (year + 1) % 100
        assert rules(
            vn.check_cccd(f"001{cccd.century_sex_digit(year, 'male')}{other:02d}000001", year, "male")
        ) == ["vhr-cccd-4"]


@pytest.mark.parametrize("value", ["00109012345", "0010901234567", "00109012345a", "", " 001090123456"])
def test_malformed_cccd_is_one_error(value: str) -> None:
    assert rules(vn.check_cccd(value, 1990, "male")) == ["vhr-cccd-1"]


def test_no_birth_year_judges_only_shape_and_prefix() -> None:
    assert rules(vn.check_cccd("003990123456")) == ["vhr-cccd-2"]
    assert rules(vn.check_cccd("001990123456", None, "male")) == []


# §2 and QĐ 1351: groups the notes name, the benefit digit → base rate, card layout
NAMED_GROUPS = ["DN", "HC", "HT", "TE", "HS", "HN", "CN", "CC", "QN", "CA", "CY", "GD"]


def test_closed_group_list_holds_the_named_groups_and_each_has_levels() -> None:
    groups = bhyt.groups()
    assert set(NAMED_GROUPS) <= set(groups)
    for g in groups.values():
        assert len(g.code) == 2 and g.code.isalpha() and g.code.isupper()
        assert g.levels and g.levels <= {"1", "2", "3", "4", "5"}
        assert g.vi and g.en and g.vi != g.en
    assert set(bhyt.levels()) == {"1", "2", "3", "4", "5"}


def test_levels_the_issue_names_as_wrong_are_rejected() -> None:
    # issue 18: "HN 5, HT 2, QN/CA/CY 1" are benefit levels those groups do not have
    assert rules(vn.check_bhyt("HN5010123456789")) == ["vhr-bhyt-3"]
    assert rules(vn.check_bhyt("HT2010123456789")) == ["vhr-bhyt-3"]
    for g in ("QN", "CA", "CY"):
        found = vn.check_bhyt(f"{g}1010123456789")
        assert rules(found) == ["vhr-bhyt-5"] and not found[0].confirmed  # the agency cards: unconfirmed
        assert found[0].severity == "warning"


def test_every_group_accepts_exactly_its_levels() -> None:
    for g in bhyt.groups().values():
        for level in "12345":
            found = rules(vn.check_bhyt(f"{g.code}{level}010123456789"))
            if level in g.levels:
                assert found == [], (g.code, level)
            else:
                assert found == ["vhr-bhyt-3" if g.levels_confirmed else "vhr-bhyt-5"], (g.code, level)


def test_example_card_of_the_notes_is_valid_and_parses() -> None:
    assert rules(vn.check_bhyt("HS4010120878811")) == []
    card = bhyt.parse("HS4010120878811")
    assert card == bhyt.Card("HS", "4", "01", "0120878811")


def test_unknown_group_is_one_error() -> None:
    for value in ("ZZ4010123456789", "AB1010123456789"):
        assert rules(vn.check_bhyt(value)) == ["vhr-bhyt-2"]


@pytest.mark.parametrize("code", LEGACY)
def test_province_digits_accept_every_legacy_code(code: str) -> None:
    assert rules(vn.check_bhyt(f"DN4{code}0123456789")) == []


@pytest.mark.parametrize("code", ["00", "03", "05", "50", "90", "99"])
def test_province_digits_outside_the_lists(code: str) -> None:
    assert rules(vn.check_bhyt(f"DN4{code}0123456789")) == ["vhr-bhyt-4"]


@pytest.mark.parametrize("code", ["97", "98"])
def test_agency_province_digits_are_unconfirmed_warnings(code: str) -> None:
    found = vn.check_bhyt(f"QN5{code}0123456789")
    assert rules(found) == ["vhr-bhyt-5"] and found[0].severity == "warning" and not found[0].confirmed


@pytest.mark.parametrize("value", ["0120878811", "001190123456"])
def test_2021_card_and_cccd_in_place_of_a_card(value: str) -> None:
    assert rules(vn.check_bhyt(value)) == []


@pytest.mark.parametrize(
    "value", ["HS6010120878811", "hs4010120878811", "01208788", "HS401012087881", "HS40101208788112", ""]
)
def test_malformed_card_is_one_error(value: str) -> None:
    assert rules(vn.check_bhyt(value)) == ["vhr-bhyt-1"]


def test_resolve_province_reads_2025_padded_and_legacy_codes() -> None:
    assert admin.resolve_province("24") == admin.ResolvedProvince("24", "24", "2025")
    assert admin.resolve_province("024") == admin.ResolvedProvince("024", "24", "padded")
    assert admin.resolve_province("27") == admin.ResolvedProvince("27", "24", "legacy")
    assert admin.resolve_province("99").code is None


def test_commune_province_consistency() -> None:
    lookup = {"00004": "01", "25000": "24"}.get
    assert vn.check_commune_province("01", "00004", lookup) == []
    assert vn.check_commune_province("001", "00004", lookup) == []
    assert rules(vn.check_commune_province("79", "00004", lookup)) == ["VN-ADDR-001"]
    # a pre-2025 code is read as the province it merged into: Bắc Ninh (27) is now in 24
    assert vn.check_commune_province("27", "25000", lookup) == []
    assert rules(vn.check_commune_province("26", "25000", lookup)) == ["VN-ADDR-001"]
    # unknown commune or a stated value that is no province: judged elsewhere, not here
    assert vn.check_commune_province("79", "99999", lookup) == []
    assert vn.check_commune_province("99", "00004", lookup) == []


def test_real_communes_belong_to_a_2025_province() -> None:
    communes = admin._communes()
    if not communes:
        pytest.skip("IG package not built")
    assert len(communes) == 3321
    assert set(communes.values()) == set(CURRENT)
    assert all(admin.communes_of(p) for p in CURRENT)


def test_ethnic_groups_and_time_zone() -> None:
    groups = vn.ethnic_groups()
    assert (
        len(groups) == 54 and groups["01"] == "Kinh" and groups["05"] == "Khơ-me" and groups["54"] == "Rơ-măm"
    )
    assert vn.TIME_ZONE == "Asia/Ho_Chi_Minh" and vn.UTC_OFFSET == "+07:00"


def test_every_data_file_states_source_and_confidence() -> None:
    from vhr_conformance.vn._data import CONFIDENCE, load

    prov = load("provinces")
    for part in (prov["legacy"], prov["current"]):
        assert part["source"] and part["conf"] in CONFIDENCE
    card = load("bhyt")
    assert card["source"].startswith("QĐ 1351/QĐ-BHXH") and card["conf"] in CONFIDENCE
    assert card["agency_provinces"]["conf"] == "U"  # the defence and police agencies' cards
    assert card["level_rule"]["severity"] in ("error", "warning") and card["level_rule"]["note"]
    for g in card["groups"]:
        assert g.get("levels_conf", card["conf"]) in CONFIDENCE, g["code"]
    eth = load("ethnicity")
    assert eth["source"] and eth["conf"] in CONFIDENCE and eth["extra"]["conf"] == "U"
    # what is unconfirmed is exactly the agency cards' level
    assert {g.code for g in bhyt.groups().values() if not g.levels_confirmed} == {"QN", "CA", "CY"}


def test_birth_after_the_merger_with_an_abolished_province_prefix_is_an_unconfirmed_warning() -> None:
    # NQ 202/2025/QH15: 34 provinces from 01/07/2025; which prefix a later birth gets is unconfirmed
    assert admin.merger_date() == "2025-07-01"
    for old in sorted(admin.legacy_codes() - admin.current_codes()):
        found = vn.check_cccd(f"0{old}325123456", 2025, "female", "2025-07-01")
        assert rules(found) == ["vhr-cccd-5"] and found[0].severity == "warning" and not found[0].confirmed
        # the day before the merger, or a birth date known only to the year: not judged
        assert rules(vn.check_cccd(f"0{old}325123456", 2025, "female", "2025-06-30")) == []
        assert rules(vn.check_cccd(f"0{old}325123456", 2025, "female")) == []
    for new in sorted(admin.current_codes()):
        assert rules(vn.check_cccd(f"0{new}325123456", 2025, "female", "2026-01-15")) == []
    # a prefix that is no province at all is vhr-cccd-2 alone
    assert rules(vn.check_cccd("003325123456", 2025, "female", "2026-01-15")) == ["vhr-cccd-2"]
