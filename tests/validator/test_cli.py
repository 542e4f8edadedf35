"""``vhr validate``: inputs, formats and exit codes."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import typer
from typer.testing import CliRunner

from vhr_conformance.validator.cli import register

from .util import patient


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()

    @a.callback()
    def _root() -> None:
        """Test root (forces sub-command mode)."""

    register(a)
    return a


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.json"
    good.write_bytes(orjson.dumps(patient()))
    bad = tmp_path / "bad.json"
    bad.write_bytes(orjson.dumps(patient(gender="nam")))
    warn = tmp_path / "warn.json"
    no_text = patient()
    del no_text["text"]
    warn.write_bytes(orjson.dumps(no_text))
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"resourceType": "Patient",\n "id": }')
    nd = tmp_path / "many.ndjson"
    nd.write_bytes(orjson.dumps(patient()) + b"\n" + orjson.dumps(patient(foo=1)) + b"\n")
    return {"good": good, "bad": bad, "warn": warn, "broken": broken, "nd": nd, "dir": tmp_path}


def test_exit_codes(app: typer.Typer, files: dict[str, Path]) -> None:
    r = CliRunner()
    assert r.invoke(app, ["validate", str(files["good"])]).exit_code == 0
    assert r.invoke(app, ["validate", str(files["bad"])]).exit_code == 1
    assert r.invoke(app, ["validate", str(files["warn"])]).exit_code == 0
    # dom-6 (no narrative) is best practice: off by default, a warning with --best-practice
    assert r.invoke(app, ["validate", str(files["warn"]), "--fail-on", "warning"]).exit_code == 0
    on = ["validate", str(files["warn"]), "--fail-on", "warning", "--best-practice"]
    assert r.invoke(app, on).exit_code == 1
    assert r.invoke(app, [*on, "--suppress", "dom-6"]).exit_code == 0
    assert r.invoke(app, [*on, "--suppress", "dom-*"]).exit_code == 0
    assert r.invoke(app, ["validate", str(files["bad"]), "--suppress", "binding-required"]).exit_code == 0
    assert r.invoke(app, ["validate", str(files["good"]), "--display-mismatch", "loud"]).exit_code == 2
    assert r.invoke(app, ["validate", str(files["dir"] / "missing.json")]).exit_code == 2
    assert r.invoke(app, ["validate", str(files["good"]), "--format", "xml"]).exit_code == 2
    assert r.invoke(app, ["validate"]).exit_code == 2


def test_json_lines_and_ndjson_locations(app: typer.Typer, files: dict[str, Path]) -> None:
    res = CliRunner().invoke(app, ["validate", str(files["nd"]), "--format", "json"])
    assert res.exit_code == 1
    rows = [orjson.loads(line) for line in res.stdout.splitlines() if line.strip()]
    assert [(r["line"], r["rule"], r["location"]) for r in rows] == [(2, "unknown-element", "Patient.foo")]
    assert rows[0]["vi"] and rows[0]["en"]


def test_outcome_format_and_stdin(app: typer.Typer, files: dict[str, Path]) -> None:
    res = CliRunner().invoke(app, ["validate", "-", "--format", "outcome"], input=files["bad"].read_bytes())
    assert res.exit_code == 1
    oo = orjson.loads(res.stdout)
    assert oo["resourceType"] == "OperationOutcome"
    assert oo["issue"][0]["expression"] == ["Patient.gender"]
    multi = CliRunner().invoke(
        app, ["validate", str(files["good"]), str(files["bad"]), "--format", "outcome"]
    )
    assert orjson.loads(multi.stdout)["resourceType"] == "Bundle"


def test_malformed_json_and_folders(app: typer.Typer, files: dict[str, Path]) -> None:
    res = CliRunner().invoke(app, ["validate", str(files["broken"]), "--format", "json"])
    assert res.exit_code == 1
    row = orjson.loads(res.stdout.splitlines()[0])
    assert (row["severity"], row["rule"], row["location"]) == ("fatal", "json-syntax", "line 2, col 8")
    text = CliRunner().invoke(app, ["validate", str(files["dir"])])
    assert text.exit_code == 1
    assert "6 tài nguyên / resources — fatal 1, error 2, warning 0" in text.stdout


def test_json_lines_carry_line_and_column(app: typer.Typer, tmp_path: Path) -> None:
    src = tmp_path / "p.json"
    src.write_text('{\n  "resourceType": "Patient",\n  "gender": "nam",\n  "foo": 1\n}\n')
    res = CliRunner().invoke(app, ["validate", str(src), "--format", "json"])
    rows = {r["rule"]: r for r in map(orjson.loads, res.stdout.splitlines())}
    assert (rows["binding-required"]["line"], rows["binding-required"]["col"]) == (3, 3)
    assert (rows["unknown-element"]["line"], rows["unknown-element"]["col"]) == (4, 3)
    oo = orjson.loads(CliRunner().invoke(app, ["validate", str(src), "--format", "outcome"]).stdout)
    ext = {e["url"].rsplit("-", 1)[1]: e["valueInteger"] for e in oo["issue"][0]["extension"]}
    assert ext == {"line": 3, "col": 3} or ext == {"line": 4, "col": 3}
    text = CliRunner().invoke(app, ["validate", str(src)])
    assert "(4:3)" in text.stdout


def test_ndjson_on_stdin_is_detected(app: typer.Typer) -> None:
    data = orjson.dumps(patient(foo=1)) + b"\n" + orjson.dumps(patient()) + b"\n"
    res = CliRunner().invoke(app, ["validate", "-", "--format", "json"], input=data)
    assert res.exit_code == 1
    rows = [orjson.loads(line) for line in res.stdout.splitlines() if line.strip()]
    assert [(r["file"], r["line"], r["rule"]) for r in rows] == [("<stdin>", 1, "unknown-element")]
