"""`vhr listen` from a `vhr.toml`: `[listen]` and `[auth].mode` as its RunConfig resolves them,
flags over the file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from vhr_conformance.cli import app


def test_listen_takes_its_settings_from_vhr_toml_and_flags_win(tmp_path: Path) -> None:
    path = tmp_path / "vhr.toml"
    path.write_text(
        '[auth]\nmode = "client-credentials"\n'
        '[listen]\nhost = "127.0.0.1"\nport = 0\nduration = "1s"\nreport_dir = "from-file"\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    first = runner.invoke(app, ["listen", "--config", str(path), "--session", "cfg"])
    assert "auth=oauth" in first.output and "for 1 s" in first.output, first.output
    assert (tmp_path / "from-file" / "session").is_dir() and (
        tmp_path / "from-file" / "report.html"
    ).is_file()
    again = runner.invoke(
        app,
        [
            "listen",
            "--config",
            str(path),
            "--auth",
            "none",
            "--report-dir",
            str(tmp_path / "flag"),
            "--session",
            "f",
        ],
    )
    assert "auth=none" in again.output and "token:" not in again.output, again.output
    assert (tmp_path / "flag" / "report.html").is_file()


def test_a_bad_listen_value_in_the_file_is_located(tmp_path: Path) -> None:
    path = tmp_path / "vhr.toml"
    path.write_text('[listen]\nport = 0\nduration = "a while"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["listen", "--config", str(path)])
    assert result.exit_code != 0 and "[listen].duration" in str(getattr(result.exception, "location", ""))
