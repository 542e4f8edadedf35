"""Family names of several words (vn/data/family_names.json) and the HO_TEN split built on them."""

from __future__ import annotations

import unicodedata

import pytest

from vhr_conformance.vn import _data, names


def test_every_listed_name_states_its_confidence_and_has_several_words() -> None:
    data = _data.load("family_names")
    assert data["source"].strip() and data["conf"] in _data.CONFIDENCE
    for entry in data["names"] + data["not_split"]:
        assert entry["conf"] in _data.CONFIDENCE and entry["note"].strip(), entry
        assert len(entry["name"].split()) >= 2, entry
        assert unicodedata.is_normalized("NFC", entry["name"]), entry


@pytest.mark.parametrize(
    ("full", "family", "given"),
    [
        ("Tôn Thất Thuyết", "Tôn Thất", ["Thuyết"]),
        ("Tôn Nữ Thị Ninh", "Tôn Nữ", ["Thị", "Ninh"]),
        ("Công Tằng Tôn Nữ Thị Hà", "Công Tằng Tôn Nữ", ["Thị", "Hà"]),  # the longest listed name wins
        ("Âu Dương Phong", "Âu Dương", ["Phong"]),
        ("Rơ Châm Hoa", "Rơ Châm", ["Hoa"]),
        ("Tôn Đức Thắng", "Tôn", ["Đức", "Thắng"]),  # Tôn alone is a one-word name
        ("Nguyễn Phúc Thịnh", "Nguyễn", ["Phúc", "Thịnh"]),  # listed as ambiguous: not split
        ("Tôn Thất", "Tôn", ["Thất"]),  # no word left for the given name: first-word rule
        ("Nguyễn Thị Thu Hà", "Nguyễn", ["Thị", "Thu", "Hà"]),
        ("  Lê   Văn  A ", "Lê", ["Văn", "A"]),
        ("Lê", "Lê", []),
        ("", "", []),
    ],
)
def test_split_full_name(full: str, family: str, given: list[str]) -> None:
    assert names.split_full_name(full) == (family, given)


def test_split_ignores_case_and_unicode_form() -> None:
    nfd = unicodedata.normalize("NFD", "tôn thất hà")
    family, given = names.split_full_name(nfd)
    assert unicodedata.normalize("NFC", family) == "tôn thất"  # kept as written, matched in NFC
    assert [unicodedata.normalize("NFC", g) for g in given] == ["hà"]
