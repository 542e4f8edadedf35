"""``vhr validate``: unreadable files and folders are named and passed over; FIFOs never hang it."""

from __future__ import annotations

import os
import threading
import time
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


def rows(output: str) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in output.splitlines() if line.strip()]


def test_a_folder_with_unreadable_members_is_validated_past_them(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-good.json").write_bytes(orjson.dumps(patient()))
    (tmp_path / "b-dangling.json").symlink_to(tmp_path / "nowhere")
    os.mkfifo(tmp_path / "c-fifo.json")
    locked = tmp_path / "d-locked"
    locked.mkdir()
    (locked / "inside.json").write_bytes(orjson.dumps(patient()))
    (tmp_path / "e-sub").mkdir()
    (tmp_path / "e-sub" / "z-good.json").write_bytes(orjson.dumps(patient()))
    real = os.scandir

    def scandir(path: object) -> object:  # the tests run as root, where chmod cannot lock a folder
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    start = time.monotonic()
    res = CliRunner().invoke(app, ["validate", str(tmp_path), "--format", "json"])
    assert time.monotonic() - start < 20 and res.exit_code == 1
    unreadable = {Path(str(r["file"])).name: r for r in rows(res.stdout) if r["rule"] == "input-read"}
    assert set(unreadable) == {"b-dangling.json", "c-fifo.json", "d-locked"}
    assert "Permission denied" in str(unreadable["d-locked"])
    text = CliRunner().invoke(app, ["validate", str(tmp_path)]).stdout
    assert "5 tài nguyên / resources" in text  # two good files and the three it names


def test_a_fifo_with_no_writer_ends_with_a_clear_error(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VHR_FIFO_WAIT", "0.5")
    fifo = tmp_path / "in.json"
    os.mkfifo(fifo)
    start = time.monotonic()
    res = CliRunner().invoke(app, ["validate", str(fifo), "--format", "json"])
    assert time.monotonic() - start < 5 and res.exit_code == 1
    (row,) = rows(res.stdout)
    assert row["rule"] == "input-read" and "no data after 0.5 s" in str(row)


def test_a_fifo_with_a_writer_is_read_whole(app: typer.Typer, tmp_path: Path) -> None:
    fifo = tmp_path / "in.json"
    os.mkfifo(fifo)
    body = orjson.dumps(patient())

    def writer() -> None:
        with fifo.open("wb") as fh:
            fh.write(body[:10])
            fh.flush()
            time.sleep(0.2)
            fh.write(body[10:])

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    res = CliRunner().invoke(app, ["validate", str(fifo), "--format", "json"])
    t.join(5)
    assert res.exit_code == 0, res.stdout


def test_oversized_input_is_refused(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VHR_MAX_INPUT_MB", "1")
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (2 * 1024 * 1024))
    (row,) = rows(CliRunner().invoke(app, ["validate", str(big), "--format", "json"]).stdout)
    assert "exceeded 1 MB" in str(row)


def test_an_ig_tgz_leaves_no_temporary_folder(tmp_path: Path) -> None:
    import io
    import subprocess
    import sys
    import tarfile

    pkg = tmp_path / "ig.tgz"
    manifest = orjson.dumps({"name": "x.ig", "version": "0.0.1", "dependencies": {}})
    with tarfile.open(pkg, "w:gz") as tar:
        info = tarfile.TarInfo("package/package.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    res = tmp_path / "p.json"
    res.write_bytes(orjson.dumps(patient()))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    code = "from vhr_conformance.cli import main; main()"
    out = subprocess.run(
        [sys.executable, "-c", code, "validate", str(res), "--ig", str(pkg)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert list(tmp.iterdir()) == []
