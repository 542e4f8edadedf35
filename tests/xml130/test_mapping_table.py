"""The one XML 130 ↔ FHIR mapping definition (`mapping.FIELDS`) and what is derived from it: the
docs tables, the MAP criteria ids, the fields the converter reads and the twin writer fills."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from vhr_conformance.xml130 import mapping
from vhr_conformance.xml130.convert import convert_source
from vhr_conformance.xml130.synth import render_envelope, synthetic_encounter
from vhr_conformance.xml130.tables import load_standard

DOC = Path(__file__).resolve().parents[2] / "docs" / "xml130.md"


def test_docs_tables_are_generated_from_the_mapping_definition() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert mapping.render_docs(text) == text, (
        "docs/xml130.md khác định nghĩa ánh xạ (mapping.FIELDS): chạy "
        f"`{mapping.COMMAND}` / docs/xml130.md differs from the mapping definition "
        f"(mapping.FIELDS): run `{mapping.COMMAND}`"
    )
    assert mapping.mapping_markdown() in text and mapping.criteria_markdown() in text


def test_the_docs_check_sees_an_edited_row_and_a_missing_block() -> None:
    text = DOC.read_text(encoding="utf-8")
    edited = text.replace("| Patient.gender |", "| Patient.sex |", 1)
    assert edited != text and mapping.render_docs(edited) == text
    with pytest.raises(ValueError, match="no block"):
        mapping.render_docs(text.replace("<!-- end of generated: MAP criteria -->", ""))


def test_one_criterion_id_scheme_the_catalogues() -> None:
    import yaml

    from vhr_conformance.runner import mapping as run_mapping

    # the catalogue file itself (its loader's module is moving out of runner/, issue 20)
    raw = yaml.safe_load((DOC.parents[1] / "suites" / "criteria.yaml").read_text(encoding="utf-8"))
    catalogue = [c["id"] for c in raw["criteria"] if c["id"].startswith("VHR-MAP-")]
    assert list(mapping.CRITERIA) == catalogue
    assert run_mapping.CRITERIA == mapping.CRITERIA
    assert mapping.FOUND == "VHR-MAP-001" and mapping.FACTS[0].xml_field == "XML1.MA_LK"


def test_every_row_names_a_defined_field_once() -> None:
    std = load_standard()
    keys = [f.key for f in mapping.FIELDS]
    assert len(keys) == len(set(keys))
    assert [k for k in keys if k[1] not in std.tables[k[0]].by_name] == []
    coded = [f for f in mapping.FIELDS if f.ext]
    assert coded and all(f.codes and f.resource in ("Patient", "Encounter") and f.back for f in coded)


def test_the_converter_carries_every_field_of_the_table_and_no_other() -> None:
    rows = synthetic_encounter(random.Random(4), 3)
    rows["XML3"] = [r for r in rows.get("XML3", []) if r.get("MA_DICH_VU")]  # supplies are unmapped
    conv = next(convert_source(render_envelope([rows], "01013", "20260101")))
    unmapped = {tuple(u.split(".", 1)) for u in conv.unmapped}
    held = {(t, k) for t, recs in rows.items() for r in recs for k, v in r.items() if v}
    assert held & mapping.MAPPED and not (unmapped & mapping.MAPPED)
    assert unmapped == {k for k in held - mapping.MAPPED if k[1] != "MA_LK" and k not in mapping.STRUCTURAL}


def test_a_district_code_is_always_listed_unmapped() -> None:
    """MAHUYEN_CU_TRU is no row of the table (districts ended in 2025): a value there is never
    dropped silently, with or without an address."""
    rows = synthetic_encounter(random.Random(4), 3)
    for field in ("DIA_CHI", "MATINH_CU_TRU", "MAXA_CU_TRU"):
        rows["XML1"][0][field] = ""
    rows["XML1"][0]["MAHUYEN_CU_TRU"] = "001"
    conv = next(convert_source(render_envelope([rows], "01013", "20260101")))
    assert "XML1.MAHUYEN_CU_TRU" in conv.unmapped


def test_the_twin_writer_fills_the_fields_that_have_a_reader() -> None:
    from vhr_conformance.generator import generate_patients

    readable = {f.key for f in mapping.FIELDS if f.back}
    assert readable < mapping.MAPPED
    written: set[tuple[str, str]] = set()
    for g in generate_patients(3, seed=11):
        for rows in mapping.bundle_to_rows(g):
            written |= {(t, k) for t, recs in rows.items() for r in recs for k in r}
    filler = {k for k in written if k not in mapping.MAPPED}
    assert written & mapping.MAPPED <= readable
    assert {k for _, k in filler} <= {
        "MA_LK", "STT", "NAM_QT", "THANG_QT", "T_TONGCHI_BV", "DON_GIA", "DON_GIA_BV",
        "THANH_TIEN_BV", "SO_LUONG", "NGAY_YL", "MUC_HUONG",
    }  # fmt: skip


def test_the_converter_refuses_to_write_a_field_outside_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from vhr_conformance.xml130.convert import _Builder

    vitals = _Builder.vitals

    def reads_more(self: _Builder, pat: str, enc: str) -> None:
        self.v("MA_PTTT_QT")  # a real XML1 field the table does not map
        vitals(self, pat, enc)

    monkeypatch.setattr(_Builder, "vitals", reads_more)
    rows = synthetic_encounter(random.Random(4), 3)
    with pytest.raises(KeyError, match="MA_PTTT_QT"):
        next(convert_source(render_envelope([rows], "01013", "20260101")))
