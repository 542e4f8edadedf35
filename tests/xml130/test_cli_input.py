"""``vhr xml``: pipes and FIFOs read correctly and never hang; bad --out/--json and folders refused or named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from vhr_conformance import cli
from vhr_conformance.xml130 import synth


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.argv", ["vhr", *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
        raise SystemExit(0)
    return int(exc.value.code or 0)


@pytest.fixture(scope="module")
def envelope() -> bytes:
    return next(iter(synth.synthetic_envelopes(1, seed=7)))


def test_a_pipe_is_read_once_and_whole(envelope: bytes, tmp_path: Path) -> None:
    """Through /dev/stdin, a pipe: the head the reader sniffs must not be lost to the parse."""
    report = tmp_path / "r.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vhr_conformance.cli",
            "xml",
            "validate",
            "/dev/stdin",
            "--json",
            str(report),
            "-q",
        ],
        input=envelope,
        capture_output=True,
        timeout=120,
        env={**os.environ, "VHR_LANG": "en"},
    )
    regular = tmp_path / "same.xml"
    regular.write_bytes(envelope)
    again = tmp_path / "again.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "vhr_conformance.cli",
            "xml",
            "validate",
            str(regular),
            "--json",
            str(again),
            "-q",
        ],
        capture_output=True,
        timeout=120,
    )

    def rules(path: Path) -> list[str]:
        doc = json.loads(path.read_text())
        return sorted(i["rule"] for f in doc["files"] for i in f["issues"])

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert rules(report) == rules(again)


def test_a_fifo_with_no_writer_ends_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VHR_FIFO_WAIT", "0.5")
    fifo = tmp_path / "in.xml"
    os.mkfifo(fifo)
    report = tmp_path / "r.json"
    start = time.monotonic()
    assert _run(["xml", "validate", str(fifo), "--json", str(report), "-q"], monkeypatch) == 1
    assert time.monotonic() - start < 5
    (issue,) = json.loads(report.read_text())["files"][0]["issues"]
    assert issue["severity"] == "fatal" and "no data after 0.5 s" in json.dumps(issue)


def test_a_fifo_with_a_writer(envelope: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "in.xml"
    os.mkfifo(fifo)

    def writer() -> None:
        with fifo.open("wb") as fh:
            fh.write(envelope)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    assert _run(["xml", "validate", str(fifo), "-q"], monkeypatch) == 0
    t.join(5)


def test_unreadable_folders_and_fifos_are_named(
    envelope: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.xml").write_bytes(envelope)
    os.mkfifo(tmp_path / "b.xml")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "c.xml").write_bytes(envelope)
    real = os.scandir

    def scandir(path: object) -> object:  # root ignores chmod, so the refusal is simulated
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    report = tmp_path / "r.json"
    assert _run(["xml", "validate", str(tmp_path), "--json", str(report), "-q"], monkeypatch) == 1
    files = {Path(f["file"]).name: f for f in json.loads(report.read_text())["files"]}
    assert files["a.xml"]["ok"] and not files["b.xml"]["ok"] and not files["locked"]["ok"]
    assert "Permission denied" in json.dumps(files["locked"]) and "not a regular file" in json.dumps(
        files["b.xml"]
    )


def test_json_onto_a_folder_and_out_onto_a_file_are_refused(
    envelope: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "a.xml"
    src.write_bytes(envelope)
    assert _run(["xml", "validate", str(src), "--json", str(tmp_path)], monkeypatch) == 2
    assert "--json must be a file, not a folder" in capsys.readouterr().err
    assert _run(["xml", "to-fhir", str(src), "--out", str(src)], monkeypatch) == 2
    assert "--out must be a folder, not a file" in capsys.readouterr().err
    assert _run(["xml", "generate", "--out", str(src / "below")], monkeypatch) == 2
    assert "--out" in capsys.readouterr().err
    assert _run(["xml", "compare", str(src), "--fhir", str(src), "--json", str(tmp_path)], monkeypatch) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_compare_names_unreadable_vendor_files(
    envelope: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VHR_LANG", "en")
    src = tmp_path / "a.xml"
    src.write_bytes(envelope)
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    os.mkfifo(vendor / "pipe.json")
    start = time.monotonic()
    assert _run(["xml", "compare", str(src), "--fhir", str(vendor)], monkeypatch) == 1
    out = capsys.readouterr().out
    assert time.monotonic() - start < 30 and "pipe.json" in out and "not a regular file" in out


def test_compare_server_goes_through_the_bounded_client(
    envelope: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import zlib

    from tests.client import hostile  # the hostile servers of the client tests
    from vhr_conformance.server import ReferenceServer

    src = tmp_path / "a.xml"
    src.write_bytes(envelope)
    with ReferenceServer(port=0) as srv:  # nothing loaded: the encounter is missing, a difference
        assert _run(["xml", "compare", str(src), "--server", srv.base_url], monkeypatch) == 1
    assert "Traceback" not in capsys.readouterr().err
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = b"".join(comp.compress(bytes(1 << 20)) for _ in range(64)) + comp.flush()
    monkeypatch.setenv("VHR_MAX_RESPONSE_MB", "4")
    with hostile.hostile_server(hostile.body(bomb, content_encoding="gzip")) as base:
        start = time.monotonic()
        assert _run(["xml", "compare", str(src), "--server", base], monkeypatch) == 2
    assert time.monotonic() - start < 20 and "exceeded 4 MB once decompressed" in capsys.readouterr().err
