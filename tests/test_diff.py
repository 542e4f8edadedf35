"""`vhr diff`: criteria whose verdict changed between two runs; exit 1 on a regression."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from vhr_conformance.cli import app


def _results(folder: Path, run_id: str, states: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    crit: list[dict[str, Any]] = [
        {
            "id": cid,
            "level": "SHALL",
            "state": st,
            "title": {"vi": f"tiêu chí {cid}", "en": f"criterion {cid}"},
        }
        for cid, st in states.items()
    ]
    (folder / "results.json").write_text(json.dumps({"runId": run_id, "criteria": crit}), encoding="utf-8")
    return folder


def test_changes_and_regressions(tmp_path: Path) -> None:
    a = _results(tmp_path / "a", "A", {"VHR-API-001": "pass", "VHR-API-002": "fail", "VHR-API-003": "pass"})
    b = _results(
        tmp_path / "b", "B", {"VHR-API-001": "pass", "VHR-API-002": "pass", "VHR-API-003": "not-tested"}
    )
    result = CliRunner().invoke(app, ["diff", str(a), str(b / "results.json"), "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert [(c["id"], c["before"], c["after"]) for c in data["changes"]] == [
        ("VHR-API-002", "fail", "pass"),
        ("VHR-API-003", "pass", "not-tested"),
    ]
    assert data["regressions"] == ["VHR-API-003"]


def test_improvement_only_exits_zero(tmp_path: Path) -> None:
    a = _results(tmp_path / "a", "A", {"VHR-API-001": "fail"})
    b = _results(tmp_path / "b", "B", {"VHR-API-001": "pass", "VHR-API-002": "pass"})
    result = CliRunner().invoke(app, ["diff", str(a), str(b)])
    assert result.exit_code == 0, result.output
    assert "VHR-API-002" in result.output  # a criterion new in B is a change too


def test_bad_input_is_a_located_bilingual_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    good = _results(tmp_path / "g", "G", {"VHR-API-001": "pass"})
    result = CliRunner().invoke(app, ["diff", str(bad), str(good)])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception) and "bad.json" in str(result.exception)
    assert "không phải JSON" in str(result.exception) and "not JSON" in str(result.exception)
