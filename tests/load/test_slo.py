"""SLO evaluation on plain snapshots, and the SVG plot."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from vhr_conformance.load.config import parse_slo
from vhr_conformance.load.report import timeline_svg
from vhr_conformance.load.slo import GroupStats, Snapshot, evaluate, verdict
from vhr_conformance.yamlsrc import parse_located

SLOS = parse_slo(
    parse_located(
        "min_requests: 10\n"
        "thresholds:\n"
        "  - {id: VHR-PERF-001, metric: p95, group: patient-lookup, max: 100ms}\n"
        "  - {id: VHR-PERF-002, metric: error_rate, max: 5%}\n"
        "  - {id: VHR-PERF-003, metric: throughput, min: 10/s}\n"
        "  - {id: VHR-PERF-004, metric: p99, group: submit-transaction, max: 1s}\n",
        "slo.yaml",
    )
)


def lookup(fast: int, slow: int, failures: int = 0) -> GroupStats:
    return GroupStats(fast + slow, failures, fast * 20.0 + slow * 400.0, {20: fast, 400: slow})


def by_id(results: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in results}


def test_percentile_from_histogram() -> None:
    stats = lookup(95, 5)
    assert stats.percentile(0.95) == 20 and stats.percentile(0.96) == 400 and stats.percentile(1.0) == 400
    assert GroupStats().percentile(0.95) is None


def test_pass_fail_and_skip() -> None:
    ok = by_id(evaluate(SLOS, Snapshot({"patient-lookup": lookup(190, 10)}, 10.0)))
    assert ok["VHR-PERF-001"]["status"] == "pass" and ok["VHR-PERF-001"]["measured"] == 20
    assert ok["VHR-PERF-003"]["status"] == "pass" and ok["VHR-PERF-003"]["measured"] == 20.0
    assert ok["VHR-PERF-004"]["status"] == "not-tested"  # no submissions: not enough data, not a failure
    assert verdict(list(ok.values())) == "incomplete"  # ... but a SHALL threshold left unjudged is no pass

    bad = by_id(evaluate(SLOS, Snapshot({"patient-lookup": lookup(80, 20, failures=20)}, 10.0)))
    assert bad["VHR-PERF-001"]["status"] == "fail" and bad["VHR-PERF-001"]["measured"] == 400
    assert bad["VHR-PERF-002"]["status"] == "fail" and bad["VHR-PERF-002"]["measured"] == 0.2
    assert bad["VHR-PERF-003"]["status"] == "fail"  # 80 successes in 10 s = 8/s < 10/s
    assert "400 ms" in bad["VHR-PERF-001"]["message"]["en"] and "mẫu" in bad["VHR-PERF-001"]["message"]["vi"]
    assert verdict(list(bad.values())) == "fail"


def test_nothing_judged_is_not_a_pass() -> None:
    results = evaluate(SLOS, Snapshot({}, 5.0))
    assert {r["status"] for r in results} == {"not-tested", "fail"}  # throughput 0 < 10
    only_latency = parse_slo(
        parse_located("thresholds:\n  - {id: VHR-PERF-001, metric: p95, max: 1s}\n", "s")
    )
    assert verdict(evaluate(only_latency, Snapshot({}, 5.0))) == "incomplete"


def test_window_is_a_difference() -> None:
    early = Snapshot({"patient-lookup": lookup(100, 0)}, 10.0)
    late = Snapshot({"patient-lookup": lookup(100, 50)}, 15.0)
    window = late.minus(early)
    stats = window.group("*")
    assert window.elapsed == 5.0 and stats.requests == 50 and stats.histogram == {400: 50}


def test_svg_is_well_formed() -> None:
    timeline = [
        {"t": float(t), "users": t, "rps": 3.0 * t, "fail_per_s": 0.0, "p95_ms": 10.0 + t}
        for t in range(1, 8)
    ]
    root = ET.fromstring(timeline_svg(timeline, title="run <1>"))
    paths = root.findall("{http://www.w3.org/2000/svg}path")
    assert len(paths) == 3 and all(p.get("d", "").startswith("M") for p in paths)
    assert ET.fromstring(timeline_svg([])).tag.endswith("svg")


def test_summary_becomes_report_cases(tmp_path) -> None:
    from vhr_conformance.load.merge import perf_cases

    assert [c.state for c in perf_cases(tmp_path)] == ["error"]  # no summary: harness error, not a fail
    results = evaluate(SLOS, Snapshot({"patient-lookup": lookup(80, 20, failures=20)}, 10.0))
    (tmp_path / "summary.json").write_text(
        json.dumps({"results": results, "elapsed_s": 10.0, "partial": False})
    )
    cases = {c.nodeid: c for c in perf_cases(tmp_path)}
    assert cases["loadtests::VHR-PERF-001"].state == "fail"
    assert cases["loadtests::VHR-PERF-001"].criteria == ["VHR-PERF-003"]
    assert "400 ms" in cases["loadtests::VHR-PERF-001"].message
