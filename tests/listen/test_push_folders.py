"""Output folders compose: what `vhr generate --out D` writes, `vhr push D` sends."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from vhr_conformance.cli import app
from vhr_conformance.i18n import UserError
from vhr_conformance.listen.push import load_bundles
from vhr_conformance.server import ReferenceServer


def test_generate_then_push(tmp_path: Path) -> None:
    out = tmp_path / "D"
    runner = CliRunner()
    gen = runner.invoke(app, ["generate", "--patients", "2", "--seed", "7", "--out", str(out)])
    assert gen.exit_code == 0, gen.output
    found = load_bundles(out)
    assert len(found) == 2 and all(b["type"] == "transaction" for _, b in found)
    with ReferenceServer() as srv:
        pushed = runner.invoke(app, ["push", str(out), "--target", srv.base_url])
    assert pushed.exit_code == 0, pushed.output


def test_empty_folder_names_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "broken.json").write_text("{", encoding="utf-8")
    (tmp_path / "other.json").write_text('{"resourceType": "Patient"}', encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_bundles(tmp_path)
    assert "broken.json" in err.value.render()
