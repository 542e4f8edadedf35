"""Load verdicts by the outcome model: failed requests prove no latency, too few samples are not
tested, a target without the workload's patients gets them seeded (then deleted) or the patient
thresholds are not tested, and `vhr load` exits by ExitCode."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from vhr_conformance.load.cli import exit_code
from vhr_conformance.load.config import parse_slo
from vhr_conformance.load.slo import GroupStats, Snapshot, evaluate, verdict
from vhr_conformance.outcome import ExitCode
from vhr_conformance.yamlsrc import parse_located

from .helpers import start_fake, vhr_load_inproc

SLOS = parse_slo(
    parse_located(
        "min_requests: 10\n"
        "thresholds:\n"
        "  - {id: VHR-PERF-001, metric: p95, group: patient-lookup, max: 100ms}\n"
        "  - {id: VHR-PERF-002, metric: p95, group: submit-transaction, max: 1s}\n",
        "slo.yaml",
    )
)
SLO = """
min_requests: 3
thresholds:
  - {id: VHR-PERF-101, metric: p95, group: patient-lookup, max: 5s}
  - {id: VHR-PERF-103, metric: p95, group: patient-everything, max: 5s}
  - {id: VHR-PERF-108, metric: error_rate, max: 50%}
"""
WORKLOAD = """
name: fast
think_time: {min: 0.05s, max: 0.1s}
operations:
  patient-lookup: 4
  patient-everything: 2
pool: {size: 5}
"""


def test_latency_over_failed_requests_fails() -> None:
    # every lookup failed fast (e.g. 401): the p95 of 20 ms is no evidence of service
    failed = GroupStats(50, 50, 1000.0, {20: 50})
    results = {r["id"]: r for r in evaluate(SLOS, Snapshot({"patient-lookup": failed}, 10.0))}
    assert results["VHR-PERF-001"]["status"] == "fail"
    assert "0 of 50 requests succeeded" in results["VHR-PERF-001"]["message"]["en"]
    assert "0/50" in results["VHR-PERF-001"]["message"]["vi"]
    mostly_ok = GroupStats(50, 5, 1000.0, {20: 50})
    ok = {r["id"]: r for r in evaluate(SLOS, Snapshot({"patient-lookup": mostly_ok}, 10.0))}
    assert ok["VHR-PERF-001"]["status"] == "pass"


def test_too_few_samples_is_not_tested_and_keeps_the_verdict_from_pass() -> None:
    results = {
        r["id"]: r
        for r in evaluate(SLOS, Snapshot({"patient-lookup": GroupStats(50, 0, 1000.0, {20: 50})}, 10.0))
    }
    assert results["VHR-PERF-001"]["status"] == "pass"
    assert results["VHR-PERF-002"]["status"] == "not-tested"  # no submissions: a SHALL threshold not judged
    assert verdict(list(results.values())) == "incomplete"
    assert verdict([{**results["VHR-PERF-001"]}]) == "pass"
    assert verdict([{**results["VHR-PERF-002"]}]) == "incomplete"  # nothing judged


def test_exit_codes_follow_the_outcome_model() -> None:
    assert exit_code(0, {"verdict": "pass"}) == ExitCode.PASS
    assert exit_code(1, {"verdict": "fail"}) == ExitCode.FAIL
    assert exit_code(1, {"verdict": "incomplete"}) == ExitCode.INCOMPLETE
    assert exit_code(130, {"verdict": "pass"}) == ExitCode.INTERRUPTED
    assert exit_code(3, None) == exit_code(0, None) == ExitCode.ERROR


def _args(tmp_path: Path, url: str, run_id: str) -> list[str]:
    (tmp_path / "slo.yaml").write_text(SLO, encoding="utf-8")
    (tmp_path / "w.yaml").write_text(WORKLOAD, encoding="utf-8")
    return [
        "--target",
        url,
        "--duration",
        "3s",
        "--users",
        "3",
        "--report-dir",
        str(tmp_path),
        "--run-id",
        run_id,
        "--slo",
        str(tmp_path / "slo.yaml"),
        "--workload",
        str(tmp_path / "w.yaml"),
    ]


def _summary(tmp_path: Path, run_id: str) -> dict:
    return json.loads((tmp_path / run_id / "load" / "summary.json").read_text(encoding="utf-8"))


def test_target_without_the_patients_gets_them_seeded_and_deleted(tmp_path: Path, coverage_dir: Path) -> None:
    proc, url = start_fake(tmp_path, FAKE_EMPTY="1")
    try:
        code, printed = vhr_load_inproc(_args(tmp_path, url, "seeded"), coverage_dir)
        hits = httpx.get(f"{url}/_hits").json()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    data = _summary(tmp_path, "seeded")
    assert code == ExitCode.PASS, printed
    assert data["dataset"]["heldBefore"] == 0 and data["dataset"]["seeded"] == 5
    assert data["dataset"]["held"] == 5  # once uploaded
    assert hits.get("DELETE") == 5 and not data["dataset"]["cleanupLeftovers"]
    assert {r["status"] for r in data["results"]} == {"pass"}


def test_target_without_the_patients_that_refuses_them_is_not_tested(
    tmp_path: Path, coverage_dir: Path
) -> None:
    proc, url = start_fake(tmp_path, FAKE_EMPTY="refuse")
    try:
        code, printed = vhr_load_inproc(_args(tmp_path, url, "refused"), coverage_dir)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    data = _summary(tmp_path, "refused")
    assert code == ExitCode.INCOMPLETE, printed
    by_id = {r["id"]: r for r in data["results"]}
    assert by_id["VHR-PERF-101"]["status"] == by_id["VHR-PERF-103"]["status"] == "not-tested"
    assert (
        "403" in by_id["VHR-PERF-101"]["message"]["en"]
        and "fixtures/coverage" in by_id["VHR-PERF-101"]["message"]["vi"]
    )
    assert data["verdict"] == "incomplete" and "INCOMPLETE" in printed
