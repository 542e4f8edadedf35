"""``vhr xml`` commands end to end (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vhr_conformance import cli


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.argv", ["vhr", *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
        raise SystemExit(0)
    return int(exc.value.code or 0)


def test_generate_then_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "gen"
    assert _run(["xml", "generate", "--out", str(out), "--count", "3", "--negative"], monkeypatch) == 0
    assert len(list(out.glob("*.xml"))) == 3
    assert _run(["xml", "validate", str(out / "synthetic-00001.xml"), "-q"], monkeypatch) == 0
    report = tmp_path / "r.json"
    assert _run(["xml", "validate", str(out / "negative"), "--json", str(report), "-q"], monkeypatch) == 1
    doc = json.loads(report.read_text())
    manifest = json.loads((out / "negative" / "manifest.json").read_text())
    by_file = {Path(f["file"]).name: f for f in doc["files"]}
    for case in manifest:
        f = by_file[case["file"]]
        rules = {i["rule"] for i in f["issues"]} | {i["rule"] for e in f["encounters"] for i in e["issues"]}
        assert case["rule"] in rules


def test_missing_path_is_a_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(["xml", "validate", str(tmp_path / "nope.xml")], monkeypatch) == 2
    assert _run(["xml", "validate", str(tmp_path)], monkeypatch) == 2


def test_twins_of_generated_patients(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("vhr_conformance.generator")
    out = tmp_path / "twins"
    assert (
        _run(["xml", "generate", "--out", str(out), "--from-generator", "2", "--seed", "4"], monkeypatch) == 0
    )
    files = sorted(out.glob("*.xml"))
    assert files
    fhir = tmp_path / "fhir"
    assert _run(["xml", "to-fhir", str(out), "--out", str(fhir)], monkeypatch) == 0
    report = json.loads((fhir / "conversion-report.json").read_text())
    assert report["written"] == len(files) and report["skipped"] == 0
    assert all(e["bundle"] for e in report["encounters"])


def test_issue_converts_to_the_validator_issue() -> None:
    validator = pytest.importorskip("vhr_conformance.validator")
    from vhr_conformance.i18n import Text
    from vhr_conformance.xml130.issues import XmlIssue

    issue = XmlIssue(
        "error", "value", "XML1/TONG_HOP/SO_CCCD", "vhr-cccd-1", Text("a", "b"), 7, "f.xml"
    ).to_issue()
    assert isinstance(issue, validator.Issue)
    assert (issue.severity, issue.rule, issue.location) == ("error", "vhr-cccd-1", "XML1/TONG_HOP/SO_CCCD@7")
