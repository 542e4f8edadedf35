"""The JSON summary and the SVG plot of a load run (no plotting library needed).

The summary is the contract with the conformance report: ``results`` holds one PERF result per
SLO threshold in the same shape as other criteria results (``id``, ``status``, bilingual ``title``
and ``message``), plus the measured value, the threshold and the unit. See ``docs/load.md``.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from vhr_conformance.load.slo import Snapshot

SCHEMA = "https://vhr-conformance.org/schema/load-summary/1"


def _group_json(stats: Any, elapsed: float) -> dict[str, Any]:
    samples = sum(stats.histogram.values())
    return {
        "requests": stats.requests,
        "failures": stats.failures,
        "error_rate": round(min(1.0, stats.failures / stats.requests), 4) if stats.requests else None,
        "throughput": round((stats.requests - stats.failures) / elapsed, 3) if elapsed > 0 else None,
        "avg_ms": round(stats.total_ms / samples, 1) if samples else None,
        "p50_ms": stats.percentile(0.50),
        "p95_ms": stats.percentile(0.95),
        "p99_ms": stats.percentile(0.99),
        "max_ms": stats.percentile(1.0),
    }


def summary(
    *,
    plan: dict[str, Any],
    started: str,
    final: Snapshot,
    results: list[dict[str, Any]],
    verdict: str,
    timeline: list[dict[str, Any]],
    validation: dict[str, Any],
    capacity: dict[str, Any] | None,
    aborted: dict[str, Any] | None,
    interrupted: bool,
    generator_cpu_s: float,
    files: list[str],
) -> dict[str, Any]:
    from datetime import UTC, datetime

    return {
        "schema": SCHEMA,
        "run_id": plan["run_id"],
        "started": started,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": plan["target"],
        "embedded_server": plan.get("embedded", False),
        "workload": plan["workload"]["name"],
        "shape": plan["shape"],
        "users": plan["users"],
        "spawn_rate": plan["spawn_rate"],
        "duration_requested_s": plan["duration"],
        "elapsed_s": round(final.elapsed, 2),
        "mode": plan["mode"],
        "processes": plan.get("processes", 1),
        "verdict": verdict,
        "partial": interrupted or aborted is not None,
        "interrupted": interrupted,
        "aborted": aborted,
        "totals": _group_json(final.group("*"), final.elapsed),
        "groups": {name: _group_json(stats, final.elapsed) for name, stats in sorted(final.groups.items())},
        "validation": validation,
        # CPU seconds spent generating load (engine + local workers): requests per CPU-second
        # tells whether the generator, not the target, limited the run.
        "generator_cpu_s": generator_cpu_s,
        "capacity": capacity,
        "results": results,
        "timeline": timeline,
        "files": sorted(set(files)),
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _ticks(top: float, count: int = 4) -> list[float]:
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 0.1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [round(i * step, 3) for i in range(int(top / step) + 2)]


def timeline_svg(
    timeline: list[dict[str, Any]], *, title: str = "", width: int = 760, height: int = 320
) -> str:
    """Throughput (req/s, left axis) and p95 latency (ms, right axis) over time, plus user count."""
    left, right, top, bottom = 60, 60, 36, 44
    w, h = width - left - right, height - top - bottom
    t_max = max([p["t"] for p in timeline] + [1.0])
    rps_ticks = _ticks(max([p["rps"] for p in timeline] + [1.0]))
    p95_ticks = _ticks(max([p["p95_ms"] or 0 for p in timeline] + [1.0]))
    rps_top, p95_top = rps_ticks[-1], p95_ticks[-1]
    users_top = max([p["users"] for p in timeline] + [1])

    def x(t: float) -> float:
        return left + w * t / t_max

    def y(v: float, vmax: float) -> float:
        return top + h - h * v / vmax

    def path(key: str, vmax: float) -> str:
        points = [(x(p["t"]), y(p[key], vmax)) for p in timeline if p.get(key) is not None]
        return " ".join(f"{'M' if i == 0 else 'L'}{px:.1f},{py:.1f}" for i, (px, py) in enumerate(points))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<text x="{left}" y="20" font-size="13" font-weight="bold">'
        f"Thông lượng và p95 / throughput and p95 latency {escape(title)}</text>",
    ]
    for v in rps_ticks:
        yy = y(v, rps_top)
        out.append(f'<line x1="{left}" x2="{left + w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" fill="#1f77b4">{v:g}</text>')
    for v in p95_ticks:
        yy = y(v, p95_top)
        out.append(f'<text x="{left + w + 6}" y="{yy + 4:.1f}" fill="#d62728">{v:g}</text>')
    for t in _ticks(t_max, 6):
        if t <= t_max:
            out.append(f'<text x="{x(t):.1f}" y="{top + h + 16}" text-anchor="middle">{t:g}s</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>')
    if timeline:
        out.append(
            f'<path d="{path("users", users_top * 1.1)}" fill="none" stroke="#aaa" stroke-dasharray="4 3"/>'
        )
        out.append(f'<path d="{path("rps", rps_top)}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
        out.append(f'<path d="{path("p95_ms", p95_top)}" fill="none" stroke="#d62728" stroke-width="2"/>')
    else:
        out.append(
            f'<text x="{left + w / 2}" y="{top + h / 2}" text-anchor="middle">không có dữ liệu / no data</text>'
        )
    ly = height - 10
    out.append(f'<text x="{left}" y="{ly}" fill="#1f77b4">— req/s (trái / left)</text>')
    out.append(f'<text x="{left + 170}" y="{ly}" fill="#d62728">— p95 ms (phải / right)</text>')
    out.append(f'<text x="{left + 340}" y="{ly}" fill="#888">-- người dùng / users (max {users_top})</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
