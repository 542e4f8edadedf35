"""`vhr xml to-fhir` output folders are valid `vhr validate` inputs, and nothing is overwritten silently."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from vhr_conformance.cli import app


def _xml(tmp_path: Path) -> Path:
    src = tmp_path / "xml"
    result = CliRunner().invoke(app, ["xml", "generate", "--out", str(src), "--count", "2"])
    assert result.exit_code == 0, result.output
    return src


def test_converted_folder_validates_without_errors_of_our_own(tmp_path: Path) -> None:
    src, out = _xml(tmp_path), tmp_path / "fhir"
    runner = CliRunner()
    assert runner.invoke(app, ["xml", "to-fhir", str(src), "--out", str(out)]).exit_code == 0
    assert (out / "conversion-report.json").is_file()
    result = runner.invoke(app, ["validate", str(out), "--format", "json"])
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert rows, result.output
    assert not [r for r in rows if r["severity"] in ("error", "fatal")], rows[:3]
    assert not [r for r in rows if "conversion-report" in r["file"]]


def test_same_ma_lk_twice_keeps_both_and_says_so(tmp_path: Path) -> None:
    src, out = _xml(tmp_path), tmp_path / "fhir"
    first = sorted(src.glob("*.xml"))[0]
    shutil.copy(first, src / "copy-of-first.xml")
    assert CliRunner().invoke(app, ["xml", "to-fhir", str(src), "--out", str(out)]).exit_code == 0
    report = json.loads((out / "conversion-report.json").read_text(encoding="utf-8"))
    assert len(report["duplicate_ma_lk"]) == 1
    assert report["written"] == 3 and len(list(out.glob("*.json"))) == 4  # 3 Bundles + the report


def test_an_earlier_conversion_is_not_overwritten(tmp_path: Path) -> None:
    src, out = _xml(tmp_path), tmp_path / "fhir"
    runner = CliRunner()
    assert runner.invoke(app, ["xml", "to-fhir", str(src), "--out", str(out)]).exit_code == 0
    again = runner.invoke(app, ["xml", "to-fhir", str(src), "--out", str(out)])
    assert again.exit_code != 0 and "--overwrite" in str(again.exception)
    assert runner.invoke(app, ["xml", "to-fhir", str(src), "--out", str(out), "--overwrite"]).exit_code == 0
