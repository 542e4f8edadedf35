"""`vhr run --with-load` and `vhr run --xml`: what the runner passes to the suites, and the load run
that verifies VHR-PERF-003 (SLO thresholds) and VHR-PERF-004 (capacity) after the other suites.

The load runs as the last case of the pytest session (suites/test_performance_load.py), through
the load stage's programmatic entry (`load.cli.run_load`, whose engine is a child process, so
gevent never enters pytest), into `<report-dir>/load/`. Its PERF results are folded into the two
catalogue criteria, so every report format (results.json, HTML, JUnit, Allure, TestReport,
manifest) and the exit code carry them like any other case.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vhr_conformance.i18n import Text, UserError
from vhr_conformance.outcome import ExitCode, State
from vhr_conformance.runconfig import LoadSettings, RunConfig

SHAPES = ("constant", "steps", "capacity")
NOT_JUDGED = "skip"  # what `fold` returns for "not tested"; the PERF case turns it into a not-tested case


# The short standard load of a full acceptance run: 30 users for 12 s (≈ 30 req/s with the standard
# think time) give every request group of the standard mix (the rarest is 1 in 8) about 45 samples,
# twice the SLO file's `min_requests`, so each SHALL threshold is judged rather than left not
# tested, at a concurrency a small server still answers within its latency SLOs.
ACCEPTANCE_USERS = 30
ACCEPTANCE_DURATION = "12s"
ACCEPTANCE_SPAWN_RATE = 15.0


def run_args(
    xml: Path | None,
    embedded: bool,
    with_load: bool,
    duration: str,
    workload: str,
    shape: str,
    users: int | None = None,
    slo: Path | None = None,
) -> list[str]:
    """The plugin options for `vhr run --xml/--with-load`; on the embedded server our conversion is
    loaded first (of the XML twins of the coverage fixtures when no --xml is given). The load spec
    is what the run's report and evidence record as its `options.load`."""
    args: list[str] = []
    if xml is not None:
        if not xml.exists():
            raise UserError(Text("Không tìm thấy {p}", "{p} not found").format(p=xml), location="--xml")
        args += ["--vhr-xml", str(xml)]
    if embedded:  # our conversion (of --xml, else of the fixtures' XML twins) is what the server holds
        args += ["--vhr-xml-twins"]
    if with_load:
        if shape not in SHAPES:
            raise UserError(
                Text("Dạng tải không hợp lệ: {s}", "Invalid load shape: {s}").format(s=shape),
                location="--load-shape",
            )
        from vhr_conformance.durations import duration_option
        from vhr_conformance.load.config import load_slo, load_workload

        duration_option(duration, "--load-duration")  # bad values are user errors before anything starts
        load_workload(workload)
        spec: dict[str, Any] = {"duration": duration, "workload": workload, "shape": shape}
        if slo is not None:
            load_slo(slo)
            spec["slo"] = str(slo)
        if users is not None:
            if users < 1:
                raise UserError(
                    Text("Số người dùng phải ≥ 1", "the number of users must be ≥ 1"), location="--load-users"
                )
            spec |= {"users": users, "spawn_rate": max(ACCEPTANCE_SPAWN_RATE, users / 2)}
        args += ["--vhr-load", json.dumps(spec)]
    return args


def acceptance_load(load: LoadSettings, shape: str) -> LoadSettings:
    """`vhr run`'s load: `--load-*` flags over vhr.toml `[load]` (as the RunConfig resolved them),
    the acceptance duration and users where neither names them. The capacity shape climbs by the
    workload's own steps, so it takes no user count."""
    users = load.users if load.users is not None else ACCEPTANCE_USERS
    return replace(
        load, duration=load.duration or ACCEPTANCE_DURATION, users=None if shape == "capacity" else users
    )


@dataclass
class LoadOutcome:
    code: int
    load_dir: Path
    summary: dict[str, Any] | None
    results: list[dict[str, Any]] = field(default_factory=list)

    def for_criterion(self, cid: str) -> list[dict[str, Any]]:
        from vhr_conformance.load.config import DEFAULT_CRITERION

        return [r for r in self.results if r.get("criterion", DEFAULT_CRITERION) == cid]


EXIT_FILE = (
    "exit-code.txt"  # in load/: created empty when the load starts, the engine's exit code when it ends
)


def run_load_for(spec_json: str, run_config: RunConfig, report_dir: Path) -> LoadOutcome:
    """Run the load against the suites' target with the run's own configuration (target,
    credentials, CA bundle), writing to `<report_dir>/load/`, once per run: under pytest-xdist the
    PERF-003 and PERF-004 cases may land on two workers; the second one waits for the first one's
    load run instead of loading the target twice."""
    from vhr_conformance.durations import duration_option
    from vhr_conformance.load.cli import LoadOptions, run_load
    from vhr_conformance.load.merge import read_summary

    spec = json.loads(spec_json)
    report_dir = report_dir.resolve()
    load_dir = report_dir / "load"
    load_dir.mkdir(parents=True, exist_ok=True)
    marker = load_dir / EXIT_FILE
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:  # another worker runs it
        deadline = time.monotonic() + duration_option(spec.get("duration", "15s")) + 180
        while not marker.read_text(encoding="utf-8").strip() and time.monotonic() < deadline:
            time.sleep(0.5)
        text = marker.read_text(encoding="utf-8").strip()
        code = int(text) if text.lstrip("-").isdigit() else 3
    else:
        settings = LoadSettings(
            workload=spec.get("workload", "standard"),
            duration=spec.get("duration", "15s"),
            users=spec.get("users"),
            slo=Path(spec["slo"]) if spec.get("slo") else None,
        )
        opts = LoadOptions(
            config=replace(run_config, load=settings),
            shape=spec.get("shape", "constant"),
            report_dir=report_dir.parent,
            run_id=report_dir.name,
            quiet=True,
            spawn_rate=float(spec.get("spawn_rate", 10.0)),
        )
        code = 3
        try:
            code = run_load(opts)
        finally:
            marker.write_text(f"{code}\n", encoding="utf-8")
    if code == int(ExitCode.INTERRUPTED):
        # the run was stopped (signal, --deadline) while the load ran: the load wrote its partial
        # report; the suites' run stops too, so it is reported INTERRUPTED and cleaned up
        raise KeyboardInterrupt
    summary = read_summary(load_dir)
    return LoadOutcome(code, load_dir, summary, list((summary or {}).get("results", [])))


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.2f}%" if unit == "ratio" else f"{value:.4g} {unit}"


def result_line(r: dict[str, Any]) -> str:
    """One PERF result as a line of the folded case's message."""
    unit = r.get("unit", "")
    return (
        f"{r['id']} [{r['status']}] {r['level']} {r['title']['en']}: measured {_fmt(r.get('measured'), unit)}, "
        f"threshold {r.get('comparator', '')} {_fmt(r.get('threshold'), unit)} ({r.get('samples', 0)} samples)"
    )


def fold(results: list[dict[str, Any]], aborted: bool) -> str:
    """State of a catalogue criterion from its PERF results, by the rule of the load verdict: a
    failed SHALL threshold (or an early abort) fails it, a failed SHOULD/MAY one is reported without
    failing it; a SHALL threshold that could not be judged (too few samples, no workload data)
    leaves it not tested, even when others passed; nothing judged at all is not tested.

    Returns ``pass``, ``fail`` or ``skip`` (= not tested: the PERF case raises it as such)."""
    if aborted or any(r["status"] == "fail" and r.get("level", "SHALL") == "SHALL" for r in results):
        return str(State.FAIL)
    untested = (str(State.NOT_TESTED), "skip")
    if any(r["status"] in untested and r.get("level", "SHALL") == "SHALL" for r in results):
        return NOT_JUDGED
    return str(State.PASS) if any(r["status"] in ("pass", "fail") for r in results) else NOT_JUDGED
