"""Cost of client mode: recording overhead of `vhr listen` and the time to judge a session.

Baseline: the sample client pushes N coverage bundles to the plain reference server. Measured:
the same push through the listener (recording + scenario middleware in front of the same server),
the same through the durable listener that `vhr listen` runs (each exchange fsynced to the
session journal, the platform in an SQLite file: issue 19), then the end-of-session evaluation
(13 sender criteria, validation of every distinct Bundle, platform look-ups) and report writing. Rounds are interleaved and the best of each is kept, so
both sides see the same machine load. Prints ms per bundle and the listener/baseline ratio.

Usage: ``python benchmarks/listen.py [--bundles 10] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from vhr_conformance.generator import fixtures_dir
from vhr_conformance.listen import Listener, PushOptions, push
from vhr_conformance.server import ReferenceServer


def _push(url: str, folder: Path) -> float:
    t = time.perf_counter()
    log = push(PushOptions(target=url, folder=folder, corrections=0, backoff_s=0.05))
    if log.rejected or log.gave_up:
        raise SystemExit(f"push failed: {log.rejected[:1]} {log.gave_up[:1]}")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundles", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vhr-bench-listen-"))
    folder = work / "bundles"
    folder.mkdir()
    for src in sorted((fixtures_dir() / "coverage").glob("*.json"))[: args.bundles]:
        shutil.copy(src, folder / src.name)
    n = len(list(folder.iterdir()))
    base, listen, durable, judge = [], [], [], []
    try:
        with ReferenceServer() as warm:  # compile the validator once, outside the clock
            _push(warm.base_url, folder)
        for r in range(args.rounds):
            sides = ("base", "listen", "durable")
            for side in sides if r % 2 == 0 else sides[::-1]:  # alternate the order
                if side == "base":
                    with ReferenceServer() as srv:
                        base.append(_push(srv.base_url, folder))
                    continue
                if side == "durable":
                    with Listener(session=f"bench{r}", journal=work / f"durable{r}" / "session") as lst:
                        durable.append(_push(lst.base_url, folder))
                    continue
                with Listener(session=f"bench{r}") as lst:
                    listen.append(_push(lst.base_url, folder))
                    t = time.perf_counter()
                    lst.finish(work / f"report{r}")
                    judge.append(time.perf_counter() - t)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    b, lis, d, j = min(base), min(listen), min(durable), min(judge)
    print(f"bundles per session      : {n} ({args.rounds} interleaved rounds, best of each)")
    print(f"baseline push (server)   : {1000 * b / n:8.1f} ms/bundle")
    print(f"push through vhr listen  : {1000 * lis / n:8.1f} ms/bundle   ratio listen/baseline {lis / b:.2f}")
    print(f"  durable (journal+SQLite): {1000 * d / n:8.1f} ms/bundle   ratio durable/baseline {d / b:.2f}")
    print(f"evaluate + write reports : {1000 * j / n:8.1f} ms/bundle   ratio to baseline push {j / b:.2f}")


if __name__ == "__main__":
    main()
