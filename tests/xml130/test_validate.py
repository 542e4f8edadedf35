"""XML 130 table definitions, envelope reading and validation rules."""

from __future__ import annotations

import base64
import random

import pytest

from vhr_conformance.i18n import UserError
from vhr_conformance.xml130.synth import (
    _mut,
    negative_cases,
    render_envelope,
    synthetic_encounter,
    synthetic_envelopes,
)
from vhr_conformance.xml130.tables import available_standards, load_standard, parse_field
from vhr_conformance.xml130.validate import valid_birth, validate_source

REQUIRED_TABLES = {"XML0", "XML1", "XML2", "XML3", "XML4", "XML5", "XML7", "XML8", "XML13", "XML14"}


def _issues(data: bytes, name: str = "t.xml"):
    return [i for i in validate_source(data, name).all_issues() if i.severity != "information"]


def test_both_standards_define_every_table() -> None:
    assert {"4750", "3176"} <= set(available_standards())
    for s in ("4750", "3176"):
        std = load_standard(s)
        assert set(std.tables) >= REQUIRED_TABLES
        x1 = std.tables["XML1"]
        assert [f.name for f in x1.fields[:4]] == ["MA_LK", "STT", "MA_BN", "HO_TEN"]
        assert x1.by_name["MA_BENH_CHINH"].max_len == 7
        assert x1.by_name["MA_THE_BHYT"].multi
    assert "11" in load_standard("3176").codes["ma_loai_kcb"]
    assert "11" not in load_standard("4750").codes["ma_loai_kcb"]


def test_field_notation_rejects_unknown_options() -> None:
    f = parse_field("NGAY_VAO C12 fmt=datetime req=E", 3, "U")
    assert (f.type, f.max_len, f.fmt, f.required, f.conf, f.order) == ("C", 12, "datetime", "E", "U", 3)
    with pytest.raises(UserError):
        parse_field("NGAY_VAO C12 colour=red", 1, "S")
    with pytest.raises(UserError):
        load_standard("9999")


def test_synthetic_encounters_are_clean() -> None:
    for data in synthetic_envelopes(15, seed=3):
        assert _issues(data) == []


@pytest.mark.parametrize("case", negative_cases(), ids=lambda c: c.name)
def test_each_negative_case_breaks_its_rule(case) -> None:
    issues = _issues(case.data, case.name)
    hits = [i for i in issues if i.rule == case.rule and i.location == case.location]
    assert hits, [(i.rule, i.location) for i in issues]
    assert any(i.is_error for i in hits)
    assert hits[0].text.vi and hits[0].text.en and hits[0].text.vi != hits[0].text.en


def test_issues_carry_line_numbers_of_the_table() -> None:
    case = next(c for c in negative_cases() if c.name == "bad-code")
    hit = next(i for i in _issues(case.data) if i.rule == "XML130-FLD-006")
    # GIOI_TINH is the 7th field of TONG_HOP, rendered one per line after the declaration and root
    assert hit.line == 9
    assert hit.file == "t.xml"


def test_unknown_icd_code_is_a_warning_and_external_cause_not_main() -> None:
    base = synthetic_encounter(random.Random(1), 1)
    data = render_envelope([_mut(base, "XML1", "MA_BENH_CHINH", "U99.9")], "01013", "20260101")
    issues = _issues(data)
    assert [(i.rule, i.severity) for i in issues] == [("VN-ICD-001", "warning")]
    data = render_envelope([_mut(base, "XML1", "MA_BENH_CHINH", "W19")], "01013", "20260101")
    assert [(i.rule, i.severity) for i in _issues(data)] == [("XML130-ICD-002", "warning")]
    assert "unconfirmed" in _issues(data)[0].text.en


def test_partial_birth_dates() -> None:
    assert valid_birth("198700000000") and valid_birth("19870500") and valid_birth("198705150830")
    assert not valid_birth("19870015") and not valid_birth("19871301") and not valid_birth("19870230")


def test_birth_after_admission_with_partial_dates() -> None:
    base = synthetic_encounter(random.Random(1), 1)
    vao = base["XML1"][0]["NGAY_VAO"]
    same_month = vao[:6] + "000000"  # month known, day unknown: may be before admission
    rows = _mut(_mut(base, "XML1", "NGAY_SINH", same_month), "XML1", "SO_CCCD", "")
    assert "XML130-X-012" not in {i.rule for i in _issues(render_envelope([rows], "01013", "20260101"))}
    later = f"{int(vao[:4]) + 1}00000000"
    rows = _mut(_mut(base, "XML1", "NGAY_SINH", later), "XML1", "SO_CCCD", "")
    assert "XML130-X-012" in {i.rule for i in _issues(render_envelope([rows], "01013", "20260101"))}
    # a year 2000 birth date is an ordinary date, not one with unknown parts
    rows = _mut(_mut(base, "XML1", "NGAY_SINH", "200001150000"), "XML1", "SO_CCCD", "")
    assert "XML130-X-012" not in {i.rule for i in _issues(render_envelope([rows], "01013", "20260101"))}


def test_form_of_care_codes_from_1804_only_after_their_start() -> None:
    base = synthetic_encounter(random.Random(2), 1)
    data = render_envelope([_mut(base, "XML1", "MA_LOAI_KCB", "14")], "01013", "20260101")
    assert [i.rule for i in _issues(data)] == ["XML130-CODE-002"]
    assert [i.rule for i in validate_source(data, standard="4750").all_issues() if i.is_error] == [
        "XML130-FLD-006"
    ]


def test_several_encounters_streamed_and_counted() -> None:
    rng = random.Random(5)
    encs = [synthetic_encounter(rng, n) for n in range(1, 41)]
    rep = validate_source(render_envelope(encs, "01013", "20260101"))
    assert len(rep.encounters) == 40
    assert len({e.ma_lk for e in rep.encounters}) == 40
    assert rep.ok


def test_ma_lk_unique_within_a_file() -> None:
    rows = synthetic_encounter(random.Random(6), 1)
    rep = validate_source(render_envelope([rows, rows], "01013", "20260101"))
    assert [i.rule for i in rep.encounters[0].issues] == []
    assert [(i.rule, i.location) for i in rep.encounters[1].issues] == [
        ("XML130-ENV-015", "XML1/TONG_HOP/MA_LK")
    ]


def test_soluonghoso_must_match() -> None:
    data = synthetic_envelopes(1)[0].replace(b"<SOLUONGHOSO>1<", b"<SOLUONGHOSO>2<")
    assert [i.rule for i in _issues(data)] == ["XML130-ENV-008"]


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "XML130-ENV-001"),
        (b"\xff\xfe<\x00G\x00", "XML130-ENV-003"),
        (b"<?xml version='1.0' encoding='utf-8'?><GIAMDINHHS><X>\xc3\x28</X></GIAMDINHHS>", "XML130-ENV-001"),
        (b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><GIAMDINHHS>&e;</GIAMDINHHS>", None),
    ],
)
def test_hostile_or_broken_bytes_give_located_issues(data: bytes, rule: str | None) -> None:
    rep = validate_source(data, "bad.xml")
    issues = list(rep.all_issues())
    assert issues
    if rule:
        assert rule in {i.rule for i in issues}
    assert all(i.location for i in issues)
    assert b"root:" not in repr([i.text for i in issues]).encode()  # external entity never resolved


def test_huge_text_node_is_refused_not_loaded() -> None:
    blob = base64.b64encode(b"A" * (12 * 1024 * 1024)).decode()
    data = (
        f"<GIAMDINHHS><THONGTINDONVI><MACSKCB>01013</MACSKCB></THONGTINDONVI><THONGTINHOSO>"
        f"<DANHSACHHOSO><HOSO><FILEHOSO><LOAIHOSO>XML1</LOAIHOSO><NOIDUNGFILE>{blob}</NOIDUNGFILE>"
        f"</FILEHOSO></HOSO></DANHSACHHOSO></THONGTINHOSO></GIAMDINHHS>"
    ).encode()
    issues = list(validate_source(data).all_issues())
    assert any(i.rule in ("XML130-ENV-001", "XML130-ENV-011") and i.is_error for i in issues)
