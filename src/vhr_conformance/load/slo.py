"""Evaluate SLO thresholds on a statistics snapshot and turn each into a PERF result.

The snapshot is plain data (counts and a latency histogram per request group), taken from
Locust's statistics at the end of the run, periodically for the early abort, and per step for the
capacity search (as the difference of two snapshots). Keeping it free of Locust makes the verdict
logic testable on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vhr_conformance.i18n import Text
from vhr_conformance.load.config import ALL_GROUPS, CAPACITY_CRITERION, LATENCY_METRICS, SloSet, Threshold
from vhr_conformance.outcome import ExitCode


@dataclass
class GroupStats:
    """Counts and a latency histogram (milliseconds, as Locust rounds them → count)."""

    requests: int = 0
    failures: int = 0
    total_ms: float = 0.0
    histogram: dict[int, int] = field(default_factory=dict)

    def merge(self, other: GroupStats) -> None:
        self.requests += other.requests
        self.failures += other.failures
        self.total_ms += other.total_ms
        for ms, count in other.histogram.items():
            self.histogram[ms] = self.histogram.get(ms, 0) + count

    def minus(self, earlier: GroupStats) -> GroupStats:
        hist = {ms: n - earlier.histogram.get(ms, 0) for ms, n in self.histogram.items()}
        return GroupStats(
            self.requests - earlier.requests,
            self.failures - earlier.failures,
            self.total_ms - earlier.total_ms,
            {ms: n for ms, n in hist.items() if n > 0},
        )

    def percentile(self, fraction: float) -> float | None:
        """Smallest latency such that at least ``fraction`` of the samples are at or below it."""
        total = sum(self.histogram.values())
        if total == 0:
            return None
        needed = fraction * total
        seen = 0
        for ms in sorted(self.histogram):
            seen += self.histogram[ms]
            if seen >= needed:
                return float(ms)
        return float(max(self.histogram))

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "failures": self.failures,
            "total_ms": self.total_ms,
            "histogram": {str(k): v for k, v in self.histogram.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroupStats:
        return cls(
            data["requests"],
            data["failures"],
            data["total_ms"],
            {int(k): v for k, v in data["histogram"].items()},
        )


@dataclass
class Snapshot:
    """Statistics of every request group over ``elapsed`` seconds."""

    groups: dict[str, GroupStats]
    elapsed: float

    def group(self, name: str) -> GroupStats:
        if name != ALL_GROUPS:
            return self.groups.get(name, GroupStats())
        total = GroupStats()
        for stats in self.groups.values():
            total.merge(stats)
        return total

    def minus(self, earlier: Snapshot) -> Snapshot:
        groups = {
            name: stats.minus(earlier.groups.get(name, GroupStats())) for name, stats in self.groups.items()
        }
        return Snapshot(groups, self.elapsed - earlier.elapsed)

    def to_json(self) -> dict[str, Any]:
        return {"elapsed": self.elapsed, "groups": {k: v.to_json() for k, v in self.groups.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        return cls({k: GroupStats.from_json(v) for k, v in data["groups"].items()}, data["elapsed"])


def measure(threshold: Threshold, snap: Snapshot) -> tuple[float | None, int]:
    """The measured value of ``threshold``'s metric (None when nothing was measured) and the sample size."""
    stats = snap.group(threshold.group)
    if threshold.metric == "throughput":
        done = stats.requests - stats.failures
        return (done / snap.elapsed if snap.elapsed > 0 else None), stats.requests
    if threshold.metric == "error_rate":
        # Validation failures are extra failures on already counted requests: cap at 1.
        return (min(1.0, stats.failures / stats.requests) if stats.requests else None), stats.requests
    if threshold.metric == "avg":
        samples = sum(stats.histogram.values())
        return (stats.total_ms / samples if samples else None), samples
    return stats.percentile(LATENCY_METRICS[threshold.metric]), sum(stats.histogram.values())


NOT_TESTED = "not-tested"


def evaluate(slos: SloSet, snap: Snapshot, *, final: bool = True) -> list[dict[str, Any]]:
    """One PERF result per threshold: ``pass`` / ``fail`` / ``not-tested`` with measured value and limit.

    A threshold over a group with fewer than ``min_requests`` samples is not tested (not enough
    data to judge), except throughput, which is judged on what was achieved. A latency threshold
    whose group has fewer than ``min_requests`` successful requests fails: its value would be
    computed over failed requests (a fast 401 or 500 is no evidence of service).
    """
    results = []
    for t in slos.thresholds:
        value, samples = measure(t, snap)
        stats = snap.group(t.group)
        succeeded = stats.requests - stats.failures
        status: str
        if t.metric != "throughput" and (value is None or samples < slos.min_requests):
            status = NOT_TESTED
            message = Text(
                "Chỉ có {n} mẫu (cần ≥ {m}): không đủ dữ liệu để đánh giá",
                "only {n} samples (need ≥ {m}): not enough data to judge",
            ).format(n=samples, m=slos.min_requests)
        elif t.metric in (*LATENCY_METRICS, "avg") and succeeded < slos.min_requests:
            status = "fail"
            message = Text(
                "Đo được {v} nhưng chỉ {s}/{n} yêu cầu thành công (cần ≥ {m}): độ trễ tính trên yêu cầu lỗi không chứng minh được gì",
                "measured {v} but only {s} of {n} requests succeeded (need ≥ {m}): a latency over failed requests proves nothing",
            ).format(v=_fmt(value or 0.0, t.unit), s=succeeded, n=stats.requests, m=slos.min_requests)
        else:
            value = value or 0.0
            ok = value <= t.limit if t.comparator == "<=" else value >= t.limit
            status = "pass" if ok else "fail"
            shown, limit = _fmt(value, t.unit), _fmt(t.limit, t.unit)
            message = Text(
                "Đo được {v}, ngưỡng {c} {l} ({n} mẫu)", "measured {v}, threshold {c} {l} ({n} samples)"
            ).format(v=shown, c=t.comparator, l=limit, n=samples)
        results.append(
            {
                "id": t.id,
                "area": "PERF",
                "criterion": t.criterion,
                "level": t.level,
                "title": {"vi": t.title.vi, "en": t.title.en},
                "status": status,
                "metric": t.metric,
                "group": t.group,
                "comparator": t.comparator,
                "threshold": t.limit,
                "measured": None if value is None else round(value, 4),
                "unit": t.unit,
                "samples": samples,
                "message": {"vi": message.vi, "en": message.en},
                "final": final,
            }
        )
    return results


CAPACITY_ID = "VHR-PERF-100"


def capacity_result(slos: SloSet, capacity: dict[str, Any]) -> dict[str, Any]:
    """The capacity search as one result: the highest throughput of a step that met every SLO,
    judged against the run's minimum-throughput threshold (0 when there is none)."""
    best = capacity.get("best")
    floors = [t.limit for t in slos.thresholds if t.metric == "throughput" and t.group == ALL_GROUPS]
    floor = max(floors, default=0.0)
    measured = best["throughput"] if best else None
    ok = best is not None and measured is not None and measured >= floor
    if best:
        message = Text(
            "{v:.2f} yêu cầu/giây với {u} người dùng giữ mọi SLO (dừng vì: {s})",
            "{v:.2f} req/s with {u} users kept every SLO (stopped by: {s})",
        ).format(v=measured, u=best["users"], s=capacity.get("stopped_by"))
    else:
        message = Text("Không bước nào giữ được mọi SLO", "no step kept every SLO")
    return {
        "id": CAPACITY_ID,
        "area": "PERF",
        "criterion": CAPACITY_CRITERION,
        "level": "SHOULD",
        "title": {
            "vi": "Năng lực phục vụ: thông lượng cao nhất giữ mọi SLO",
            "en": "Capacity: highest throughput that keeps every SLO",
        },
        "status": "pass" if ok else "fail",
        "metric": "capacity",
        "group": ALL_GROUPS,
        "comparator": ">=",
        "threshold": floor,
        "measured": measured,
        "unit": "req/s",
        "samples": len(capacity.get("steps", [])),
        "message": {"vi": message.vi, "en": message.en},
        "final": True,
    }


def breaches(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in results if r["status"] == "fail"]


def breaches_for_abort(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mid-run breaches that justify stopping: throughput can still catch up, so it never aborts."""
    return [r for r in breaches(results) if r["metric"] != "throughput"]


def verdict(results: list[dict[str, Any]]) -> str:
    """The load verdict by the run rule: ``fail`` when a SHALL threshold failed; ``incomplete``
    when a SHALL threshold was not tested (too few samples, data the target does not hold) or
    nothing at all was judged; ``pass`` only when every SHALL threshold was judged and met."""
    shall = [r for r in results if r["level"] == "SHALL"]
    if any(r["status"] == "fail" for r in shall):
        return "fail"
    if any(r["status"] == NOT_TESTED for r in shall) or not any(r["status"] == "pass" for r in results):
        return "incomplete"
    return "pass"


EXIT_OF_VERDICT = {
    "pass": ExitCode.PASS,
    "fail": ExitCode.FAIL,
    "incomplete": ExitCode.INCOMPLETE,
}


def _fmt(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value * 100:.2f}%"
    if unit == "req/s":
        return f"{value:.2f} req/s"
    return f"{value:.0f} ms"
