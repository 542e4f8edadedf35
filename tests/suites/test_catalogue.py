"""The criteria catalogue: schema-checked, complete over the areas, every source declared."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vhr_conformance.catalogue import load_catalogue, suites_dir
from vhr_conformance.i18n import UserError

AREAS = {"CAP", "SEC", "PAT", "BHI", "KCB", "API", "QUAL", "XCH", "PERF", "MAP"}


def test_catalogue_covers_every_area_but_map() -> None:
    cat = load_catalogue()
    assert set(cat.areas) == AREAS
    by_area = {a: [c for c in cat.criteria.values() if c.area == a] for a in AREAS}
    assert all(len(v) >= 3 for v in by_area.values()), {a: len(v) for a, v in by_area.items()}
    assert {c.level for c in cat.criteria.values()} == {"SHALL", "SHOULD", "MAY"}
    assert any(not c.automated for c in cat.criteria.values())
    for c in cat.criteria.values():
        assert c.title.vi != c.title.en and c.sources, c.id


def _write(tmp_path: Path, data: dict) -> Path:
    (tmp_path / "criteria.schema.json").write_text(
        (suites_dir() / "criteria.schema.json").read_text(encoding="utf-8")
    )
    path = tmp_path / "criteria.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _raw() -> dict:
    return yaml.safe_load((suites_dir() / "criteria.yaml").read_text(encoding="utf-8"))


def test_bad_id_is_a_bilingual_user_error(tmp_path: Path) -> None:
    data = _raw()
    data["criteria"][0]["id"] = "VHR-CAP-1"
    with pytest.raises(UserError) as exc:
        load_catalogue(_write(tmp_path, data))
    assert "criteria/0/id" in exc.value.render() or "Criteria catalogue invalid" in exc.value.render()


def test_duplicate_and_undeclared_source_rejected(tmp_path: Path) -> None:
    data = _raw()
    data["criteria"].append(dict(data["criteria"][0]))
    with pytest.raises(UserError, match="Duplicate criterion id"):
        load_catalogue(_write(tmp_path, data))
    data = _raw()
    data["criteria"][0]["sources"] = [{"ref": "NOT-A-SOURCE"}]
    sub = tmp_path / "b"
    sub.mkdir()
    with pytest.raises(UserError, match="undeclared sources"):
        load_catalogue(_write(sub, data))


def test_criteria_doc_is_generated_from_the_catalogue() -> None:
    from vhr_conformance.catalogue import render_markdown

    doc = suites_dir().parent / "docs" / "criteria.md"
    assert doc.read_text(encoding="utf-8").strip() == render_markdown(load_catalogue()).strip(), (
        "docs/criteria.md is stale: run `python -m vhr_conformance.catalogue > docs/criteria.md`"
    )
