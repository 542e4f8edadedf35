"""Throughput of the load generator itself, against a trivial local endpoint.

Measures, in one run and against the same endpoint (a fixed-response ASGI app under uvicorn in its
own process on 127.0.0.1):

1. ``plain``: a bare Locust ``FastHttpUser`` doing GETs (the baseline), one process;
2. ``ours``: ``vhr load`` with the VHR workload and our user class (weighted operations, FHIR
   headers, redirect guard, patient-id cache, submissions from the pool), one process, validation
   off — our overhead is ``1 - ours/plain`` (target < 25 %);
3. ``ours ×2``: the same with ``--processes 2`` (Locust master + 2 workers), compared with
   ``--processes 1`` … and with the single-process run (target ≥ 1.7×).

All runs use users with no think time, so the generator is the bottleneck as far as the machine
allows. On a 2-core machine shared with the endpoint, two worker processes compete with the server
for the cores: the ratio printed is what this machine gives, not what Locust can do.

    .venv/bin/python benchmarks/load.py [--seconds 6] [--users 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CCCD = "http://fhir.hl7.org.vn/core/sid/cccd"

TRIVIAL_APP = r"""
import sys, uvicorn
BODY = (b'{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"resource":'
        b'{"resourceType":"Patient","id":"p1","gender":"female"}}]}')
HEADERS = [(b"content-type", b"application/fhir+json"), (b"content-length", str(len(BODY)).encode())]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error", access_log=False)
"""

PLAIN_LOCUSTFILE = """
from locust import FastHttpUser, constant, task

class Plain(FastHttpUser):
    wait_time = constant(0)

    @task
    def lookup(self):
        self.client.get("/Patient?identifier=http%3A%2F%2Ffhir.hl7.org.vn%2Fcore%2Fsid%2Fcccd%7C001200000001",
                        name="patient-lookup")
"""

WORKLOAD = """
name: bench
think_time: {min: 0, max: 0}
operations:
  submit-transaction: 1
  patient-lookup: 5
  patient-everything: 2
  encounter-search: 3
  observation-search: 3
pool: {size: 5}
validation: {sample: 0}
"""

SLO = "min_requests: 1\nthresholds:\n  - {id: VHR-PERF-900, metric: throughput, min: 0/s}\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("trivial endpoint did not start")


def synthetic_pool(directory: Path) -> None:
    for i in range(5):
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": f"urn:uuid:00000000-0000-4000-8000-00000000000{i}",
                    "resource": {
                        "resourceType": "Patient",
                        "identifier": [{"system": CCCD, "value": f"00120000{i:04d}"}],
                    },
                    "request": {"method": "POST", "url": "Patient"},
                }
            ],
        }
        (directory / f"p{i}.json").write_text(json.dumps(bundle))


def run_ours(
    url: str, tmp: Path, users: int, seconds: int, processes: int, env: dict[str, str]
) -> dict[str, float]:
    run_id = f"ours-{processes}-{time.monotonic_ns()}"
    cmd = [
        sys.executable,
        "-c",
        "import sys; from vhr_conformance.cli import main; main()",
        "load",
        "--target",
        url,
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--duration",
        f"{seconds}s",
        "--processes",
        str(processes),
        "--report-dir",
        str(tmp),
        "--run-id",
        run_id,
        "--workload",
        str(tmp / "bench.yaml"),
        "--slo",
        str(tmp / "slo.yaml"),
    ]
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)
    summary = json.loads((tmp / run_id / "load" / "summary.json").read_text())
    return {
        "requests": summary["totals"]["requests"],
        "failures": summary["totals"]["failures"],
        "elapsed": summary["elapsed_s"],
        "cpu": summary["generator_cpu_s"],
    }


def run_plain(url: str, tmp: Path, users: int, seconds: int, env: dict[str, str]) -> dict[str, float]:
    """Plain Locust, driven as a library exactly like our engine drives it (LocalRunner)."""
    out = subprocess.run(
        [sys.executable, __file__, "--plain-worker", url, str(users), str(seconds), str(tmp / "plain.py")],
        env=env,
        cwd=tmp,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def plain_worker(url: str, users: int, seconds: int, locustfile: str) -> None:
    import importlib.util

    import gevent
    import psutil
    from locust.env import Environment

    spec = importlib.util.spec_from_file_location("plain", locustfile)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    env = Environment(user_classes=[module.Plain], host=url)
    runner = env.create_local_runner()
    me = psutil.Process()
    cpu0 = sum(me.cpu_times()[:2])
    t0 = time.monotonic()
    runner.start(users, users)
    gevent.sleep(seconds)
    elapsed = time.monotonic() - t0
    runner.stop()
    cpu = sum(me.cpu_times()[:2]) - cpu0
    total = runner.stats.total
    print(
        json.dumps(
            {"requests": total.num_requests, "failures": total.num_failures, "elapsed": elapsed, "cpu": cpu}
        )
    )


def rate(run: dict[str, float]) -> float:
    return run["requests"] / run["elapsed"]


def cpu_us(run: dict[str, float]) -> float:
    return 1e6 * run["cpu"] / max(run["requests"], 1)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--plain-worker":
        plain_worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vhr-load-bench-") as name:
        tmp = Path(name)
        (tmp / "coverage").mkdir()
        synthetic_pool(tmp / "coverage")
        (tmp / "bench.yaml").write_text(WORKLOAD)
        (tmp / "slo.yaml").write_text(SLO)
        (tmp / "plain.py").write_text(PLAIN_LOCUSTFILE)
        (tmp / "app.py").write_text(TRIVIAL_APP)
        env = {**os.environ, "VHR_LOAD_COVERAGE_DIR": str(tmp / "coverage")}
        port = free_port()
        server = subprocess.Popen([sys.executable, str(tmp / "app.py"), str(port)], env=env)
        try:
            wait_for(port)
            url = f"http://127.0.0.1:{port}"
            # Interleaved rounds, best of each: other jobs on the machine only ever slow a run down.
            plain: list[dict[str, float]] = []
            ours: list[dict[str, float]] = []
            two: list[dict[str, float]] = []
            for _ in range(args.rounds):
                plain.append(run_plain(url, tmp, args.users, args.seconds, env))
                ours.append(run_ours(url, tmp, args.users, args.seconds, 1, env))
                two.append(run_ours(url, tmp, args.users, args.seconds, 2, env))
        finally:
            server.terminate()
            server.wait()
    load = os.getloadavg()[0]
    print(
        f"cores: {os.cpu_count()}, load average at the end {load:.1f} (endpoint, generator and other jobs share them)"
    )
    print(
        f"{args.users} users, no think time, {args.seconds} s per run, fixed-response endpoint on 127.0.0.1, "
        f"{args.rounds} interleaved rounds"
    )
    print(f"{'run':36} {'req/s per round':>30} {'best':>7} {'CPU µs/req (min)':>17}")
    configs = [
        ("plain Locust FastHttpUser, 1 process", plain),
        ("vhr load (our stack), 1 process", ours),
        ("vhr load (our stack), 2 processes", two),
    ]
    for label, runs in configs:
        per_round = " ".join(f"{rate(r):6.0f}" for r in runs)
        print(f"{label:36} {per_round:>30} {max(map(rate, runs)):7.0f} {min(map(cpu_us, runs)):17.0f}")
    best_plain, best_ours, best_two = (max(map(rate, runs)) for _, runs in configs)
    overhead = 1 - best_ours / best_plain
    cpu_overhead = min(map(cpu_us, ours)) / min(map(cpu_us, plain)) - 1
    print(
        f"overhead, throughput (1 - ours/plain), best of rounds : {overhead * 100:6.1f} %  (target < 25 %: "
        f"{'met' if overhead < 0.25 else 'NOT met'})"
    )
    print(f"overhead, generator CPU per request (ours/plain - 1)  : {cpu_overhead * 100:6.1f} %")
    scale = best_two / best_ours
    print(
        f"2 processes / 1 process, throughput, best of rounds   : {scale:6.2f} x  (target >= 1.7 x: "
        f"{'met' if scale >= 1.7 else 'NOT met'})"
    )
    busy = max(r["cpu"] / r["elapsed"] for r in ours)
    print(
        f"one generator process used at most {busy * 100:.0f} % of a core: "
        + (
            "the generator was the bottleneck"
            if busy > 0.85
            else "the endpoint / the shared machine was the bottleneck, not the generator"
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
