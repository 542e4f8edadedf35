"""Throughput, peak memory and scaling of `vhr audit` on a planted NDJSON store (default 1,000,000 resources).

Every figure is a ratio against a baseline measured in the same run, on the same corpus:

- throughput per core: audit resources/s divided by its processes, against the validator's own
  single-process speed (``orjson.loads`` + ``Validator.validate`` of every line, in this process);
  target ≥ 80 %. Given by wall time and by CPU time (the machine may be shared: CPU time is what
  the processes got, wall time is what a user waits);
- peak memory of the whole audit (the `vhr audit run` process and all its workers, summed RSS
  sampled every 0.2 s: an upper bound, pages shared after fork count once per process); target
  < 1.5 GB;
- scaling: wall time of the audit with 1 worker process over that with 2; target ≥ 1.7x.

Each run also reports its facts stage alone (from ``audit-stages.json``), the part that runs in
the workers and scales; the rest (DuckDB aggregation, linkage, HTML) runs once on the driver.

The corpus is written by `vhr audit plant` (cached in ``--corpus``, reused when it already holds
the requested size). Usage: ``python benchmarks/audit.py [--resources N] [--corpus DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
PER_PATIENT_PROBE = 200  # patients planted first to learn how many resources one patient brings


def _corpus(folder: Path, resources: int) -> dict[str, Any]:
    from vhr_conformance.audit.plant import plant

    truth_file = folder / "truth.json"
    if truth_file.is_file():
        truth = orjson.loads(truth_file.read_bytes())
        if truth.get("target") == resources:
            return dict(truth)
    probe = plant(folder, PER_PATIENT_PROBE, seed=11)
    patients = max(1, round(resources * PER_PATIENT_PROBE / probe["resources"]))
    started = time.perf_counter()
    truth = plant(folder, patients, seed=11)
    truth["target"] = resources
    truth["plantSeconds"] = round(time.perf_counter() - started, 1)
    truth_file.write_bytes(orjson.dumps(truth))
    return truth


def _lines(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.ndjson"))


def validator_baseline(folder: Path, limit: int, step: int = 1) -> dict[str, float]:
    """The validator alone, one process: read, parse and validate each line, nothing else. With
    `step` > 1 a sample of every `step`-th line (the corpus's mix of types), read before the clock
    starts: reading the lines it skips would be counted against the validator."""
    from vhr_conformance.validator import Validator

    validator = Validator.default()
    sample: list[bytes] = []
    if step > 1:
        for path in _lines(folder):
            with path.open("rb") as fh:
                sample += [raw for i, raw in enumerate(fh) if i % step == 0]
        sample = sample[:limit]
    n = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if step > 1:
        for raw in sample:
            validator.validate(orjson.loads(raw))
        n = len(sample)
    else:
        for path in _lines(folder):
            with path.open("rb") as fh:
                for raw in fh:
                    if n >= limit:
                        break
                    validator.validate(orjson.loads(raw))
                    n += 1
    return {
        "resources": n,
        "wall": time.perf_counter() - wall0,
        "cpu": time.process_time() - cpu0,
    }


def profile_parts(folder: Path, limit: int) -> dict[str, float]:
    """CPU seconds of each part of the facts stage on the first `limit` lines, in this process: where
    a worker's time goes (parts measured alone lose the cache locality of the line-by-line stage, so
    they add up to more than the stage). `ipc` is what crossing to a worker costs a chunk (pickle and unpickle of
    the chunk and of its facts); `aggregate` is measured by the audit runs (audit-stages.json)."""
    import pickle

    from vhr_conformance.audit import engine
    from vhr_conformance.audit.facts import references

    files = engine.ndjson_files([folder])
    chunks, lines = [], []
    for chunk in engine.chunks(files):
        chunks.append(chunk)
        lines += [raw for _, _, raw in engine.chunk_lines(chunk)]
        if len(lines) >= limit:
            break
    engine.facts_bytes(chunks[0])  # compiles the validator, as a worker does once
    state = engine._STATE
    parts: dict[str, float] = {"resources": len(lines)}

    def timed(name: str, work: Any, arg: Any) -> Any:
        cpu = time.process_time()
        got = work(arg)
        took = time.process_time() - cpu
        parts[name] = min(parts.get(name, took), took)
        return got

    def must_support(parsed: list[dict[str, Any]]) -> None:
        for r in parsed:
            prof = (r.get("meta") or {}).get("profile") or []
            profile = str(prof[0]) if prof else state["default_profile"].get(r["resourceType"])
            plan = engine._plan(str(profile)) if profile else None
            if plan is not None:
                plan.evaluate(r)

    def ipc(out: list[Any]) -> None:
        for item in [*chunks, *out]:
            pickle.loads(pickle.dumps(item))

    for _ in range(3):  # each part's fastest round: the least disturbed by other jobs (caches warm)
        # the validator as the baseline runs it (parse then validate, line by line) is the 100 %
        timed(
            "validator", lambda raws: [state["validator"].validate(orjson.loads(raw)) for raw in raws], lines
        )
        parsed = timed("parse", lambda raws: [orjson.loads(raw) for raw in raws], lines)
        timed("references", lambda rs: [references(r) for r in rs], parsed)
        timed("presence", must_support, parsed)
        out = timed("facts stage", lambda cs: [engine.facts_bytes(c) for c in cs], chunks)
        timed("ipc", ipc, out)
    return parts


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += proc.memory_info().rss
    return total


def audit_run(folder: Path, out: Path, now: str, workers: int = 0, dask_local: int = 0) -> dict[str, float]:
    """`vhr audit run` in a child process; wall, CPU (the child and its workers) and peak tree RSS."""
    args = ["--workers", str(workers)] if workers else ["--dask-local", str(dask_local)]
    cmd = [
        sys.executable,
        "-c",
        "import sys; from vhr_conformance.cli import main; sys.argv[0] = 'vhr'; main()",
        "audit",
        "run",
        "--ndjson",
        str(folder),
        "--out",
        str(out),
        "--now",
        now,
        *args,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _, err = proc.communicate(timeout=6 * 3600)
    finally:
        stop.set()
        sampler.join()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"audit failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = orjson.loads((out / "audit.json").read_bytes())
    facts = orjson.loads((out / "audit-stages.json").read_bytes())["stages"]["facts"]
    return {
        "records": result["records"],
        "wall": wall,
        "cpu": cpu,
        "peak": peak,
        "factsWall": facts["wallSeconds"],
        "factsCpu": facts["cpuSeconds"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resources", type=int, default=1_000_000, help="size of the planted store")
    ap.add_argument("--corpus", type=Path, default=None, help="folder of the store (cached between runs)")
    ap.add_argument(
        "--baseline-resources",
        type=int,
        default=0,
        help="validate only the first N lines for the validator baseline (0 = the whole corpus)",
    )
    ap.add_argument("--dask", action="store_true", help="also time --dask-local 2")
    ap.add_argument(
        "--bracket",
        type=int,
        default=30_000,
        help="validate N lines spread over the corpus right before and after each audit run: its own baseline "
        "(0 = skip)",
    )
    ap.add_argument(
        "--profile",
        type=int,
        default=50_000,
        help="time each part of the facts stage on the first N lines, in this process (0 = skip)",
    )
    opts = ap.parse_args()
    corpus = opts.corpus or Path(tempfile.gettempdir()) / f"vhr-audit-bench-{opts.resources}"
    corpus.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"cores: {os.cpu_count()} · load average before: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    truth = _corpus(corpus, opts.resources)
    size = sum(p.stat().st_size for p in _lines(corpus))
    print(
        f"corpus: {truth['resources']:,} resources, {size / 1e6:,.0f} MB NDJSON, {truth['patients']:,} patients"
    )

    base = validator_baseline(corpus, opts.baseline_resources or truth["resources"])
    v_wall, v_cpu = base["resources"] / base["wall"], base["resources"] / base["cpu"]
    print(
        f"validator alone, 1 process: {base['resources']:,} resources · {v_wall:,.0f}/s wall · {v_cpu:,.0f}/s CPU",
        flush=True,
    )
    if opts.profile:
        parts = profile_parts(corpus, opts.profile)
        n, whole = parts.pop("resources"), parts["validator"]
        print(
            f"where a worker's time goes, CPU on {n:,.0f} resources (the validator, parse and validate, = 100 %; "
            "references and presence are the facts' extra walks): "
            + ", ".join(f"{k} {v:.2f} s ({v / whole:.0%})" for k, v in parts.items()),
            flush=True,
        )
    work = Path(tempfile.mkdtemp(prefix="vhr-audit-bench-out-"))
    plan = [("1 process", 1, {"workers": 1}), ("2 processes", 2, {"workers": 2})]
    if opts.dask:
        plan.append(("Dask LocalCluster, 2 workers", 2, {"dask_local": 2}))
    runs: dict[str, dict[str, float]] = {}
    try:
        for name, procs, how in plan:
            step = max(1, truth["resources"] // max(1, opts.bracket))
            before = validator_baseline(corpus, opts.bracket, step) if opts.bracket else None
            run = runs[name] = audit_run(corpus, work / name.replace(" ", "-"), truth["now"], **how)
            if before is not None:
                # the machine's speed drifts by tens of percent within minutes when it is shared: the
                # validator measured around this run is the fairer baseline for it
                after = validator_baseline(corpus, opts.bracket, step)
                b_cpu = (before["resources"] + after["resources"]) / (before["cpu"] + after["cpu"])
                b_wall = (before["resources"] + after["resources"]) / (before["wall"] + after["wall"])
                print(
                    f"  validator around this run (every {step}th line, before and after): {b_wall:,.0f}/s wall, "
                    f"{b_cpu:,.0f}/s CPU · the audit per core: {run['records'] / run['wall'] / procs / b_wall:.0%} "
                    f"(wall), {run['records'] / run['cpu'] / b_cpu:.0%} (CPU); facts stage "
                    f"{run['records'] / run['factsCpu'] / b_cpu:.0%} (CPU)",
                    flush=True,
                )
            per_core_wall = run["records"] / run["wall"] / procs
            per_cpu = run["records"] / run["cpu"]
            print(
                f"audit, {name}: {run['records']:,} records in {run['wall']:,.1f} s wall, {run['cpu']:,.1f} s CPU · "
                f"per core {per_core_wall:,.0f}/s wall = {per_core_wall / v_wall:.0%} of the validator "
                f"(CPU: {per_cpu:,.0f}/s = {per_cpu / v_cpu:.0%}; target ≥ 80 %) · "
                f"peak memory {run['peak'] / 2**30:.2f} GB (target < 1.5 GB)",
                flush=True,
            )
            f_wall = run["records"] / run["factsWall"] / procs
            f_cpu = run["records"] / run["factsCpu"]
            print(
                f"  of which the facts stage (the distributed part): {run['factsWall']:,.1f} s wall, "
                f"{run['factsCpu']:,.1f} s CPU · per core {f_wall / v_wall:.0%} (wall) / {f_cpu / v_cpu:.0%} (CPU) "
                "of the validator",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    scaling = runs["1 process"]["wall"] / runs["2 processes"]["wall"]
    facts_scaling = runs["1 process"]["factsWall"] / runs["2 processes"]["factsWall"]
    work_ratio = runs["2 processes"]["cpu"] / runs["1 process"]["cpu"]
    print(
        f"scaling 1 → 2 processes: {scaling:.2f}x wall (target ≥ 1.7x); facts stage {facts_scaling:.2f}x; "
        f"CPU time of the 2-process run / the 1-process run: {work_ratio:.2f} (1.00 = distribution costs no work)"
    )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
