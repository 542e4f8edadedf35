"""Full conformance run (all levels) against the embedded reference server: wall time and case count.

Target: under 60 s with at least 300 executed cases on a 2-core machine. The baseline, measured in
the same run, is the time the same number of HTTP requests takes as bare `GET /metadata` calls on
one connection: the ratio says how much the harness (validation, matching, reports) adds on top
of the network and the server.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import httpx

from vhr_conformance.runner.cli import run_suites
from vhr_conformance.runner.embedded import start_embedded


def main() -> int:
    out = Path(tempfile.mkdtemp(prefix="vhr-bench-"))
    srv = start_embedded()
    try:
        started = time.perf_counter()
        code, state = run_suites(
            srv.base_url, ["--vhr-level", "MAY", "--vhr-report-dir", str(out)], progress=False, terminal=False
        )
        wall = time.perf_counter() - started
        if state is None or state.run is None:
            print(f"run failed to produce results (pytest exit {code})")
            return 1
        requests = len(state.evidence.timings)
        with httpx.Client() as client:
            b0 = time.perf_counter()
            for _ in range(requests):
                client.get(srv.base_url + "/metadata")
            bare = time.perf_counter() - b0
    finally:
        srv.stop()
    cases = state.run.summary()["cases"]
    print(
        f"full run (all levels): {wall:.1f} s wall, {cases['total']} cases "
        f"(pass {cases['pass']}, fail {cases['fail']}, not tested {cases['not-tested']}, not applicable {cases['not-applicable']}, error {cases['error']}), "
        f"{cases['total'] / wall:.1f} cases/s"
    )
    print(
        f"HTTP requests sent: {requests}; baseline: the same number of bare GET /metadata took {bare:.1f} s; "
        f"run/baseline ratio {wall / bare:.2f}x"
    )
    print(
        f"targets: < 60 s → {'met' if wall < 60 else 'NOT met'}; ≥ 300 cases → {'met' if cases['total'] >= 300 else 'NOT met'}"
    )
    print(f"report: {state.report_paths.get('html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
