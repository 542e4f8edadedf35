"""`vhr run` end to end on a small scope, and its user errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from vhr_conformance.outcome import ExitCode
from vhr_conformance.server import ReferenceServer


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
    assert data["verdict"] == "PASS" and data["scope"]["narrowedBy"] == ["--only CAP"]
    assert "PASSED (partial scope)" in proc.stdout
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


def _popen_vhr(*args: str) -> subprocess.Popen[str]:
    code = "import sys; from vhr_conformance.cli import main; sys.argv = ['vhr', *sys.argv[1:]]; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _patients(base: str) -> int:
    return int(httpx.get(f"{base}/Patient?_summary=count", timeout=10).json().get("total", 0))


def test_sigterm_writes_an_interrupted_report_and_cleans_up(tmp_path: Path) -> None:
    """SIGTERM mid-run: the partial report says INTERRUPTED, the cases never run are `error`, the data
    the run uploaded is deleted from the target, and the exit code is INTERRUPTED."""
    out = tmp_path / "int"
    with ReferenceServer(port=0, db=":memory:") as srv:
        assert _patients(srv.base_url) == 0
        proc = _popen_vhr("run", "--target", srv.base_url, "--no-load", "--report-dir", str(out), "--quiet")
        try:
            deadline = time.monotonic() + 120
            last, stable = -1, 0
            while time.monotonic() < deadline and proc.poll() is None and stable < 4:
                now = _patients(srv.base_url)
                stable = stable + 1 if now == last and now > 0 else 0
                last = now
                time.sleep(0.5)
            assert last > 0, "the run never seeded the target"
            proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == ExitCode.INTERRUPTED, stdout[-2000:] + stderr[-2000:]
        assert _patients(srv.base_url) == 0, stdout[-3000:]  # the run's clean-up ran
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "INTERRUPTED" and "SIGTERM" in data["interrupted"]
    not_run = [c for c in data["cases"] if c["state"] == "error" and "interrupted" in c["message"]]
    assert not_run and "Không chạy" in not_run[0]["message"]
    assert json.loads((out / "testreport.json").read_text(encoding="utf-8"))["result"] == "pending"
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["verdict"] == "INTERRUPTED"
    assert "BỊ NGẮT / INTERRUPTED" in (out / "report.html").read_text(encoding="utf-8")
    assert "INTERRUPTED" in stdout


def test_deadline_interrupts_the_run(tmp_path: Path) -> None:
    out = tmp_path / "d"
    started = time.monotonic()
    proc = _vhr("run", "--no-load", "--deadline", "6s", "--report-dir", str(out), "--quiet")
    assert proc.returncode == ExitCode.INTERRUPTED, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert time.monotonic() - started < 90
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "INTERRUPTED" and "--deadline 6s" in data["interrupted"]
    # The cases the deadline cut short are errors. How far a run gets in 6 s depends on the machine:
    # the deadline may land before the first case (no case at all) or, on a fast one, after the last.
    cut_short = any(c["state"] == "error" for c in data["cases"])
    assert cut_short or not data["cases"] or len(data["cases"]) >= 300, len(data["cases"])
    bad = _vhr("run", "--deadline", "soon")
    assert bad.returncode == ExitCode.USAGE and "--deadline" in bad.stderr and "Traceback" not in bad.stderr


def test_no_load_leaves_the_performance_criteria_out_of_the_load_run() -> None:
    # default: a full acceptance run loads the target (the short standard load); --no-load does not
    from vhr_conformance.runner.withload import run_args

    assert any(a == "--vhr-load" for a in run_args(None, True, True, "12s", "standard", "constant"))
    assert "--vhr-load" not in run_args(None, True, False, "12s", "standard", "constant")
