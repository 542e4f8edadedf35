"""End to end: ``vhr load`` runs headless, writes every output and exits by the SLO verdict.

Runs are short (3–6 s). They use the embedded reference server where the test is about the
integration, and a tiny fake FHIR app where the test needs a misbehaving target.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from vhr_conformance.i18n import UserError
from vhr_conformance.outcome import ExitCode

from .helpers import ROOT, VHR_MAIN, load_env, run_vhr_load, start_fake, vhr_load_inproc

OUTPUTS = {
    "report.html",
    "summary.json",
    "timeline.svg",
    "plan.json",
    "locust_stats.csv",
    "locust_stats_history.csv",
    "locust_failures.csv",
    "locust_exceptions.csv",
}

EASY_SLO = """
min_requests: 3
thresholds:
  - {id: VHR-PERF-101, metric: p95, group: patient-lookup, max: 5s}
  - {id: VHR-PERF-107, metric: p99, max: 10s}
  - {id: VHR-PERF-108, metric: error_rate, max: 1%}
  - {id: VHR-PERF-109, metric: throughput, min: 1/s}
"""
STRICT_SLO = """
min_requests: 3
thresholds:
  - {id: VHR-PERF-101, metric: p95, group: patient-lookup, max: 100ms}
  - {id: VHR-PERF-108, metric: error_rate, max: 1%}
"""
FAST_WORKLOAD = """
name: fast
think_time: {min: 0.05s, max: 0.2s}
operations:
  submit-transaction: 1
  patient-lookup: 4
  patient-everything: 2
  encounter-search: 2
  observation-search: 2
pool: {size: 5}
validation: {sample: 0}
capacity: {start_users: 2, step_users: 3, step_duration: 1.5s, max_users: 8}
"""


def _as_from_a_terminal() -> None:
    """Run in the child before exec: Ctrl-C acts as in a terminal even when the test runner was
    started in the background (which ignores SIGINT, and a child inherits that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def summary(reports: Path, run_id: str) -> dict:
    return json.loads((reports / run_id / "load" / "summary.json").read_text(encoding="utf-8"))


def test_embedded_server_passing_slos(tmp_path: Path, coverage_dir: Path) -> None:
    args = [
        "--duration",
        "3s",
        "--users",
        "4",
        "--spawn-rate",
        "10",
        "--report-dir",
        str(tmp_path),
        "--run-id",
        "ok",
        "--slo",
        str(write(tmp_path, "slo.yaml", EASY_SLO)),
        "--workload",
        str(write(tmp_path, "w.yaml", FAST_WORKLOAD)),
    ]
    code, printed = vhr_load_inproc(args, coverage_dir)
    assert code == 0, printed
    out = tmp_path / "ok" / "load"
    assert {p.name for p in out.iterdir()} >= OUTPUTS
    data = summary(tmp_path, "ok")
    assert data["embedded_server"] is True and data["verdict"] == "pass" and not data["partial"]
    assert set(data["groups"]) == {
        "submit-transaction",
        "patient-lookup",
        "patient-everything",
        "encounter-search",
        "observation-search",
    }
    assert data["totals"]["requests"] > 20 and data["totals"]["failures"] == 0
    by_id = {r["id"]: r for r in data["results"]}
    assert by_id["VHR-PERF-101"]["status"] == "pass" and by_id["VHR-PERF-101"]["threshold"] == 5000.0
    assert by_id["VHR-PERF-109"]["measured"] >= 1 and by_id["VHR-PERF-109"]["unit"] == "req/s"
    assert len(data["timeline"]) >= 3 and "<path" in (out / "timeline.svg").read_text()
    assert "patient-lookup" in (out / "locust_stats.csv").read_text()
    assert "VHR-PERF-101" in printed and "PASS" in printed


def test_slow_fault_breaks_latency_slo(tmp_path: Path, coverage_dir: Path) -> None:
    args = [
        "--duration",
        "3s",
        "--users",
        "4",
        "--report-dir",
        str(tmp_path),
        "--run-id",
        "slow",
        "--fault",
        "slow-responses",
        "--latency-ms",
        "250",
        "--slo",
        str(write(tmp_path, "slo.yaml", STRICT_SLO)),
        "--workload",
        str(write(tmp_path, "w.yaml", FAST_WORKLOAD)),
    ]
    code, out = vhr_load_inproc(args, coverage_dir)
    assert code == 1, out
    data = summary(tmp_path, "slow")
    lookup = next(r for r in data["results"] if r["id"] == "VHR-PERF-101")
    assert data["verdict"] == "fail" and lookup["status"] == "fail" and lookup["measured"] >= 250
    assert (tmp_path / "slow" / "load" / "report.html").is_file()


def test_invalid_responses_count_as_failures(tmp_path: Path, coverage_dir: Path) -> None:
    proc, url = start_fake(tmp_path, FAKE_INVALID="1")
    try:
        args = [
            "--target",
            url,
            "--duration",
            "3s",
            "--users",
            "3",
            "--report-dir",
            str(tmp_path),
            "--run-id",
            "inv",
            "--validate-sample",
            "1",
            "--slo",
            str(write(tmp_path, "slo.yaml", STRICT_SLO)),
            "--workload",
            str(write(tmp_path, "w.yaml", FAST_WORKLOAD)),
        ]
        code, out = vhr_load_inproc(args, coverage_dir)
    finally:
        proc.terminate()
    assert code == 1, out
    data = summary(tmp_path, "inv")
    assert data["validation"]["invalid"] > 0, data["validation"]
    assert "gender" in " ".join(data["validation"]["examples"])
    assert data["groups"]["patient-lookup"]["failures"] > 0
    assert data["groups"]["encounter-search"]["failures"] == 0  # empty searchsets are valid
    assert "InvalidResource" in (tmp_path / "inv" / "load" / "locust_failures.csv").read_text()


def test_redirects_are_not_followed(tmp_path: Path, coverage_dir: Path) -> None:
    proc, url = start_fake(tmp_path, FAKE_REDIRECT="1")
    try:
        args = [
            "--target",
            url,
            "--duration",
            "3s",
            "--users",
            "2",
            "--report-dir",
            str(tmp_path),
            "--run-id",
            "redir",
            "--slo",
            str(write(tmp_path, "slo.yaml", STRICT_SLO)),
            "--workload",
            str(write(tmp_path, "w.yaml", FAST_WORKLOAD)),
        ]
        code, out = vhr_load_inproc(args, coverage_dir)
    finally:
        proc.terminate()
    assert code == 1, out
    failures = (
        (tmp_path / "redir" / "load" / "locust_failures.csv").read_text()
        if (tmp_path / "redir" / "load" / "locust_failures.csv").exists()
        else out
    )
    assert "not followed" in failures and "127.0.0.2" in failures


def test_ctrl_c_writes_a_partial_report(tmp_path: Path, coverage_dir: Path, fake_server: str) -> None:
    args = [
        "--target",
        fake_server,
        "--duration",
        "60s",
        "--users",
        "3",
        "--report-dir",
        str(tmp_path),
        "--run-id",
        "int",
        "--workload",
        str(write(tmp_path, "w.yaml", FAST_WORKLOAD)),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-c", VHR_MAIN, "load", *args],
        cwd=ROOT,
        env=load_env(coverage_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_from_a_terminal,
    )
    started = tmp_path / "int" / "load" / "locust_stats.csv"  # written when the clock starts
    deadline = time.monotonic() + 40
    while not started.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == ExitCode.INTERRUPTED, err
    data = summary(tmp_path, "int")
    assert data["interrupted"] is True and data["partial"] is True and data["elapsed_s"] < 30
    assert data["totals"]["requests"] > 0 and (tmp_path / "int" / "load" / "report.html").is_file()


def test_two_processes_and_capacity(tmp_path: Path, coverage_dir: Path, fake_server: str) -> None:
    workload = str(write(tmp_path, "w.yaml", FAST_WORKLOAD))
    slo = str(write(tmp_path, "slo.yaml", EASY_SLO))
    code, out = vhr_load_inproc(
        [
            "--target",
            fake_server,
            "--duration",
            "3s",
            "--users",
            "4",
            "--processes",
            "2",
            "--report-dir",
            str(tmp_path),
            "--run-id",
            "dist",
            "--workload",
            workload,
            "--slo",
            slo,
        ],
        coverage_dir,
    )
    assert code == 0, out
    data = summary(tmp_path, "dist")
    assert data["mode"] == "processes" and data["processes"] == 2 and data["totals"]["requests"] > 20

    code, out = vhr_load_inproc(
        [
            "--target",
            fake_server,
            "--duration",
            "4s",
            "--shape",
            "capacity",
            "--report-dir",
            str(tmp_path),
            "--run-id",
            "cap",
            "--workload",
            workload,
            "--slo",
            slo,
        ],
        coverage_dir,
    )
    assert code == 0, out
    cap = summary(tmp_path, "cap")["capacity"]
    assert [s["users"] for s in cap["steps"]][:2] == [2, 5]
    assert cap["best"]["throughput"] > 0 and "capacity" in out
    capacity = next(r for r in summary(tmp_path, "cap")["results"] if r["id"] == "VHR-PERF-100")
    assert capacity["criterion"] == "VHR-PERF-004" and capacity["measured"] == cap["best"]["throughput"]


def test_bad_input_is_a_bilingual_error(tmp_path: Path, coverage_dir: Path) -> None:
    bad = write(tmp_path, "slo.yaml", "thresholds:\n  - {id: VHR-PERF-001, metric: p95, max: soon}\n")
    done = run_vhr_load(["--slo", str(bad), "--target", "http://127.0.0.1:9"], coverage_dir)
    assert done.returncode == 2
    assert (
        "slo.yaml:2" in done.stderr and "thresholds[0].max" in done.stderr and "Traceback" not in done.stderr
    )
    done = run_vhr_load(["--target", "ftp://example.org", "--duration", "2s"], coverage_dir)
    assert done.returncode == 2 and "--target" in done.stderr


@pytest.mark.skipif(os.environ.get("VHR_LOAD_SKIP_LOCUST_CLI") == "1", reason="explicitly disabled")
def test_locustfile_runs_under_plain_locust(tmp_path: Path, coverage_dir: Path, fake_server: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "loadtests" / "locustfile.py"),
            "--headless",
            "--host",
            fake_server,
            "-u",
            "2",
            "-r",
            "5",
            "-t",
            "4s",  # long enough on a loaded machine for every operation of the workload to run
            "--vhr-workload",
            str(write(tmp_path, "w.yaml", FAST_WORKLOAD)),
            "--only-summary",
        ],
        cwd=ROOT,
        env=load_env(coverage_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "patient-lookup" in done.stdout + done.stderr
    assert httpx.get(f"{fake_server}/_hits").json().get("/Patient", 0) > 0


def test_early_abort_on_breach_with_steps(tmp_path: Path, coverage_dir: Path) -> None:
    proc, url = start_fake(tmp_path, FAKE_DELAY_MS="200")
    slo = STRICT_SLO.replace("min_requests: 3", "min_requests: 3\ngrace: 1s\ncheck_every: 0.5s")
    try:
        code, out = vhr_load_inproc(
            [
                "--target",
                url,
                "--duration",
                "30s",
                "--users",
                "4",
                "--shape",
                "steps",
                "--abort-on-breach",
                "--report-dir",
                str(tmp_path),
                "--run-id",
                "abort",
                "--slo",
                str(write(tmp_path, "slo.yaml", slo)),
                "--workload",
                str(write(tmp_path, "w.yaml", FAST_WORKLOAD)),
            ],
            coverage_dir,
        )
    finally:
        proc.terminate()
    assert code == 1, out
    data = summary(tmp_path, "abort")
    assert data["aborted"] is not None and data["aborted"]["breaches"][0]["id"] == "VHR-PERF-101"
    assert data["partial"] is True and data["elapsed_s"] < 15 and data["shape"] == "steps"


def test_bearer_token_from_the_environment(
    tmp_path: Path, coverage_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc, url = start_fake(tmp_path, FAKE_TOKEN="s3cret")
    args = [
        "--target",
        url,
        "--duration",
        "3s",
        "--users",
        "2",
        "--report-dir",
        str(tmp_path),
        "--auth",
        "bearer",
        "--slo",
        str(write(tmp_path, "slo.yaml", EASY_SLO)),
        "--workload",
        str(write(tmp_path, "w.yaml", FAST_WORKLOAD)),
    ]
    try:
        monkeypatch.delenv("VHR_TOKEN", raising=False)
        with pytest.raises(UserError) as info:
            vhr_load_inproc([*args, "--run-id", "none"], coverage_dir)
        assert "VHR_TOKEN" in info.value.text.en
        monkeypatch.setenv("VHR_TOKEN", "s3cret")
        code, out = vhr_load_inproc([*args, "--run-id", "tok"], coverage_dir)
    finally:
        proc.terminate()
    assert code == 0, out
    data = summary(tmp_path, "tok")
    assert data["totals"]["failures"] == 0 and data["totals"]["requests"] > 5
    assert "s3cret" not in (tmp_path / "tok" / "load" / "plan.json").read_text()
