"""Generator throughput vs the orjson serialisation floor, on one process.

Prints patients/second for building the transaction Bundles, the resources per patient, and the
time to merely serialise the same Bundles with orjson (the physical floor of any generator that
outputs JSON), with the ratio. Targets (issue 4): >= 500 patients/s per core, >= 15 resources per
patient, generation >= 20% of the serialisation-only speed.

    python benchmarks/generate.py [--patients 3000] [--stream 100000]

``--stream N`` also streams N patients to a temporary folder and prints the peak RSS at
checkpoints, to show memory stays flat.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import tempfile
import time
from pathlib import Path

import orjson

from vhr_conformance.generator import generate_patients
from vhr_conformance.generator.world import build_world
from vhr_conformance.generator.writer import write_cohort


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--stream-format", default="ndjson", choices=("bundle", "ndjson", "both"))
    ap.add_argument(
        "--stream", type=int, default=0, help="also stream N patients to disk and report peak RSS"
    )
    args = ap.parse_args(argv)
    n = args.patients

    build_world()
    list(generate_patients(50, args.seed, start=10**7))  # warm caches outside the timing
    # CPU time of this process (time.process_time), not wall time: the machine is shared.
    # Measure in interleaved rounds (generate a slice, then serialise the
    # same Bundles) and keep each measure's best round, so load spikes hit both sides alike.
    rounds = max(1, args.rounds)
    per = max(1, n // rounds)
    gens, sers = [], []
    resources = size = smallest = 0
    for k in range(rounds):
        gc.collect()
        t0 = time.process_time()
        count = 0
        for b in generate_patients(per, args.seed, start=k * per):  # streamed, as the CLI does
            count += len(b["entry"])
        gens.append(time.process_time() - t0)
        bundles = list(generate_patients(per, args.seed, start=k * per))
        gc.collect()
        t0 = time.process_time()
        for b in bundles:
            size += len(orjson.dumps(b))
        sers.append(time.process_time() - t0)
        resources += count
        smallest = min([len(b["entry"]) for b in bundles] + ([smallest] if smallest else []))
        del bundles
    n = per * rounds
    gen, ser = min(gens) * rounds, min(sers) * rounds
    print(
        f"rounds                   {rounds} x {per} patients (best round kept; median ratio "
        f"{sorted(s / g for g, s in zip(gens, sers, strict=True))[rounds // 2]:.1%})"
    )
    gen_rate, ser_rate = n / gen, n / ser
    print(f"patients                 {n}")
    print(f"resources per patient    {resources / n:.1f} (min {smallest})")
    print(f"generation               {gen_rate:,.0f} patients/s  ({resources / gen:,.0f} resources/s)")
    print(f"orjson serialisation     {ser_rate:,.0f} patients/s  ({size / n / 1024:.1f} KiB/patient, floor)")
    print(f"ratio gen/serialise      {gen_rate / ser_rate:.1%}  (target >= 20%)")
    print(f"target >= 500 p/s/core   {'met' if gen_rate >= 500 else 'NOT met'}")

    if args.stream:
        gc.collect()
        with tempfile.TemporaryDirectory(prefix="vhr-bench-") as tmp:
            marks: list[tuple[int, float]] = []
            done = 0
            step = max(1, args.stream // 10)

            def progress(k: int) -> None:
                nonlocal done
                done += k
                if done % step < k:
                    marks.append((done, _rss_mb()))

            t0 = time.perf_counter()
            write_cohort(Path(tmp), args.stream, args.seed, fmt=args.stream_format, progress=progress)
            dt = time.perf_counter() - t0
        print(
            f"streamed {args.stream} patients to disk in {dt:.1f} s ({args.stream / dt:,.0f}/s, format {args.stream_format})"
        )
        print("peak RSS (MiB) at checkpoints: " + ", ".join(f"{k}:{m:.0f}" for k, m in marks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
