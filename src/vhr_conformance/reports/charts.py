"""Geometry of the report's charts: numbers only, the SVG markup is drawn by the template
(`templates/charts.html`, autoescaped), so nothing a vendor's server sent reaches the page unescaped.

Three charts: pass/fail per area (stacked bars of criterion states), and for a run with load the
p95 latency and the throughput over time against the SLO thresholds (VHR-PERF-003), and the capacity
steps (VHR-PERF-004). Data: the load run's ``summary.json`` (``timeline``: one point a second with
``t``, ``users``, ``rps`` and ``p95_ms`` of all requests; ``results``: the SLO thresholds;
``capacity.steps``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LATENCY_METRICS = ("p50", "p90", "p95", "p99", "avg")
# The states in the order their segments are drawn, with their colours (those of the report's badges).
STATE_COLOURS = {
    "pass": "#1a7f37",
    "fail": "#cf222e",
    "error": "#8250df",
    "not-tested": "#d4a72c",
    "attestation": "#0969da",
    "not-applicable": "#8c959f",
}
STEP_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e"}
OTHER_STEP = "#8c959f"


@dataclass
class Segment:
    x: float
    width: float
    colour: str
    state: str
    count: int


@dataclass
class AreaBar:
    area: str
    y: float
    segments: list[Segment]
    counts: dict[str, int]


@dataclass
class AreaChart:
    width: int
    height: int
    left: int
    counts_x: int  # where each bar's counts are written
    bar_height: int
    bars: list[AreaBar]


def area_chart(counts: dict[str, dict[str, int]], width: int = 720) -> AreaChart:
    """One bar per area, its length the area's number of criteria in scope, split by state."""
    left, right, bar_height, gap, top = 50, 250, 18, 8, 8
    most = max([sum(c.values()) for c in counts.values()] + [1])
    scale = (width - left - right) / most
    bars = []
    for i, (area, by_state) in enumerate(counts.items()):
        x, segments = float(left), []
        for state, colour in STATE_COLOURS.items():
            n = by_state.get(state, 0)
            if n:
                segments.append(Segment(round(x, 1), round(n * scale, 1), colour, state, n))
                x += n * scale
        bars.append(AreaBar(area, top + i * (bar_height + gap), segments, by_state))
    return AreaChart(
        width, top * 2 + len(bars) * (bar_height + gap), left, width - right + 8, bar_height, bars
    )


def _ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 covering `top`."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 1.0
    while magnitude * 10 <= raw:
        magnitude *= 10
    while magnitude > raw:
        magnitude /= 10
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    n = int(top / step + 0.999999)
    return [round(i * step, 6) for i in range(n + 1)]


@dataclass
class Line:
    """A horizontal threshold line (y in pixels) and its label."""

    y: float
    value: float
    label: str
    colour: str
    label_y: float = 0.0  # the label's baseline: moved down when it would overlap the one above


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str  # under the bar
    value: str  # above the bar
    note: str = ""  # e.g. the step's verdict


@dataclass
class Plot:
    """A chart with one x axis and one y axis: optional line series, bars and threshold lines."""

    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    path: str = ""  # the series, an SVG path
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    off_scale: list[str] = field(default_factory=list)  # thresholds above the chart, by label
    empty: bool = False


def _fmt(v: float) -> str:
    return f"{v:g}"


LABEL_GAP = 11  # px between the baselines of two threshold labels


def _frame(width: int, height: int) -> tuple[int, int, int, int]:
    left, right, top, bottom = 56, 250, 14, 30
    return left, top, width - left - right, height - top - bottom


def _spread(lines: list[Line]) -> list[Line]:
    """Labels of thresholds close to each other (or equal: two 800 ms SLOs) one under the other."""
    last = -1e9
    for line in sorted(lines, key=lambda ln: ln.y):
        line.label_y = round(max(line.y + 3, last + LABEL_GAP), 1)
        last = line.label_y
    return lines


def _series(
    points: list[tuple[float, float]], thresholds: list[tuple[float, str]], width: int, height: int
) -> Plot:
    """A line over time, scaled to show the data and at least the lowest threshold; thresholds
    above the scale are listed, not drawn at a false height."""
    left, top, w, h = _frame(width, height)
    t_max = max([t for t, _ in points] + [1.0])
    data_top = max([v for _, v in points] + [0.0])
    lowest = min([v for v, _ in thresholds], default=0.0)
    y_ticks = _ticks(max(data_top * 1.15, lowest * 1.1, 1e-9))
    y_top = y_ticks[-1]

    def x(t: float) -> float:
        return left + w * t / t_max

    def y(v: float) -> float:
        return top + h - h * min(v, y_top) / y_top

    path = " ".join(f"{'M' if i == 0 else 'L'}{x(t):.1f},{y(v):.1f}" for i, (t, v) in enumerate(points))
    lines, off = [], []
    for value, label in sorted(thresholds):
        if value <= y_top:
            lines.append(Line(round(y(value), 1), value, label, "#cf222e"))
        else:
            off.append(label)
    return Plot(
        width,
        height,
        left,
        top,
        w,
        h,
        x_ticks=[(round(x(t), 1), f"{_fmt(t)} s") for t in _ticks(t_max, 6) if t <= t_max],
        y_ticks=[(round(y(v), 1), _fmt(v)) for v in y_ticks],
        path=path,
        lines=_spread(lines),
        off_scale=off,
        empty=not points,
    )


def _threshold_label(r: dict[str, Any]) -> str:
    group = r.get("group") or "*"
    where = "" if group == "*" else f" {group}"
    return f"{r.get('id')} {r.get('metric')}{where} {r.get('comparator', '')} {_fmt(float(r['threshold']))} {r.get('unit', '')}"


def latency_chart(summary: dict[str, Any], width: int = 760, height: int = 240) -> Plot:
    """p95 of all requests over time against every latency SLO threshold."""
    points = [
        (float(p["t"]), float(p["p95_ms"]))
        for p in summary.get("timeline") or []
        if p.get("p95_ms") is not None
    ]
    thresholds = [
        (float(r["threshold"]), _threshold_label(r))
        for r in summary.get("results") or []
        if r.get("metric") in LATENCY_METRICS and r.get("threshold") is not None
    ]
    return _series(points, thresholds, width, height)


def throughput_chart(summary: dict[str, Any], width: int = 760, height: int = 240) -> Plot:
    """Successful requests per second over time against the minimum-throughput SLO."""
    points = [
        (float(p["t"]), float(p["rps"])) for p in summary.get("timeline") or [] if p.get("rps") is not None
    ]
    floors = [
        (float(r["threshold"]), _threshold_label(r))
        for r in summary.get("results") or []
        if r.get("metric") == "throughput" and r.get("threshold") is not None
    ]
    return _series(points, floors, width, height)


def capacity_chart(
    capacity: dict[str, Any], floor: float | None, width: int = 760, height: int = 260
) -> Plot:
    """One bar per capacity step: its throughput, coloured by its verdict, with its p95 above."""
    left, top, w, h = _frame(width, height)
    steps = capacity.get("steps") or []
    y_ticks = _ticks(max([float(s.get("throughput") or 0) for s in steps] + [floor or 0.0, 1.0]) * 1.1)
    y_top = y_ticks[-1]

    def y(v: float) -> float:
        return top + h - h * v / y_top

    slot = w / max(len(steps), 1)
    bars = []
    for i, s in enumerate(steps):
        value = float(s.get("throughput") or 0)
        p95 = s.get("p95_ms")
        bars.append(
            Bar(
                x=round(left + i * slot + slot * 0.15, 1),
                y=round(y(value), 1),
                width=round(slot * 0.7, 1),
                height=round(top + h - y(value), 1),
                colour=STEP_COLOURS.get(str(s.get("verdict")), OTHER_STEP),
                label=str(s.get("users")),
                value=f"{_fmt(value)} · p95 {_fmt(float(p95))} ms" if p95 is not None else _fmt(value),
                note=str(s.get("verdict") or ""),
            )
        )
    lines = _spread([Line(round(y(floor), 1), floor, f">= {_fmt(floor)} req/s", "#cf222e")] if floor else [])
    return Plot(
        width,
        height,
        left,
        top,
        w,
        h,
        x_ticks=[],
        y_ticks=[(round(y(v), 1), _fmt(v)) for v in y_ticks],
        bars=bars,
        lines=lines,
        empty=not steps,
    )
