"""`vhr run` end to end on a small scope, and its user errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _vhr(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from vhr_conformance.cli import main; sys.argv = ['vhr', *sys.argv[1:]]; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_vhr_run_embedded_capability_area(tmp_path: Path) -> None:
    out = tmp_path / "r"
    proc = _vhr("run", "--only", "CAP", "--report-dir", str(out), "--quiet")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "report.html" in proc.stdout and "SHALL" in proc.stdout
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["exitCode"] == 0 and data["summary"]["cases"]["total"] >= 40
    assert {"report.html", "results.json", "junit.xml", "testreport.json", "manifest.json"} <= {
        p.name for p in out.iterdir()
    }


def test_vhr_run_fault_fails_with_exit_1(tmp_path: Path) -> None:
    proc = _vhr(
        "run",
        "--only",
        "CAP",
        "--fault",
        "wrong-fhir-version",
        "--report-dir",
        str(tmp_path / "f"),
        "--quiet",
    )
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "VHR-CAP-002" in proc.stdout


def test_vhr_run_user_errors() -> None:
    proc = _vhr("run", "--target", "http://127.0.0.1:9", "--fault", "no-etag")
    assert proc.returncode == 2 and "--fault" in proc.stderr and "Traceback" not in proc.stderr
    proc = _vhr("run", "--fault", "no-such-fault")
    assert proc.returncode == 2 and "no-such-fault" in proc.stderr
    proc = _vhr("run", "--ig", "/nonexistent-ig-package")
    assert proc.returncode == 2 and "nonexistent-ig-package" in proc.stderr
