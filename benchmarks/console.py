"""Latency of the console's pages with 100 organisations and 2,000 stored runs, then with runs executing.

Builds a fresh SQLite console in a temporary folder (100 organisations, 2 systems each, 10
finished runs per system whose results.json has every criterion of the catalogue and 3 cases
each, with exchanges), serves it with uvicorn on 127.0.0.1 and measures over HTTP, as a browser
would: the ministry's dashboard (all 200 systems), a run page, and as the baseline of the same
run the stylesheet route (same middleware, no database). Then queues `--queue` runs on the
embedded reference server (`--only`, default VHR-SEC-001) for `--workers` worker threads and
samples the same pages until they are all finished. Prints p50/p95 per page and the ratio of
each p95 to the baseline's; the target is a p95 under 200 ms.

Usage: ``python benchmarks/console.py [--samples 60] [--queue 10] [--workers 2] [--only VHR-SEC-001]``.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson
import uvicorn
from argon2 import PasswordHasher
from cryptography.fernet import Fernet

TARGET_MS = 200.0


def synthetic_results(rng: random.Random, verdict_fail: bool) -> dict:
    from vhr_conformance.catalogue import load_catalogue

    cat = load_catalogue()
    criteria, cases = [], []
    for cid, c in cat.criteria.items():
        state = "fail" if verdict_fail and rng.random() < 0.05 else "pass"
        ids = []
        for n in range(3):
            nodeid = f"suites/test_x.py::test_{cid}_{n}"
            ids.append(nodeid)
            cases.append(
                {
                    "nodeid": nodeid,
                    "name": f"test_{cid}_{n}",
                    "criteria": [cid],
                    "state": state,
                    "message": "quan sát / observed " + "x" * rng.randint(20, 200),
                    "evidence": [
                        {
                            "method": "GET",
                            "url": f"https://127.0.0.1:1/Patient?_id={n}",
                            "request_headers": {"accept": "application/fhir+json"},
                            "status": 200,
                            "elapsed_ms": 3.2,
                            "response_headers": {"content-type": "application/fhir+json"},
                            "response_body": '{"resourceType": "Bundle", "total": 0}' * 20,
                        }
                    ],
                }
            )
        criteria.append(
            {
                "id": cid,
                "area": c.area,
                "level": c.level,
                "verification": c.verification,
                "inScope": True,
                "state": state,
                "title": {"vi": c.title.vi, "en": c.title.en},
                "cases": ids,
            }
        )
    return {
        "runId": "bench",
        "exitCode": 1 if verdict_fail else 0,
        "ig": {"id": "vhr.conformance.ig", "version": "0.1.0"},
        "criteria": criteria,
        "cases": cases,
    }


def populate(url: str) -> int:
    """100 organisations × 2 systems × 10 runs; the id of one run to measure."""
    from vhr_conformance.console import security
    from vhr_conformance.console.db import make_engine, migrate, sessions
    from vhr_conformance.console.models import Organisation, Run, System, User

    engine = make_engine(url)
    migrate(engine)
    rng = random.Random(7)
    blobs = [orjson.dumps(synthetic_results(rng, fail)).decode() for fail in (False, True)]
    with sessions(engine)() as s:
        s.add(
            User(name="bo-yte", role="ministry", password_hash=security.hash_password("benchmark-password"))
        )
        for o in range(100):
            org = Organisation(name=f"Công ty {o:03d}")
            s.add(org)
            for p in range(2):
                system = System(organisation=org, product=f"HIS-{o}-{p}", version="1.0")
                s.add(system)
                for r in range(10):
                    fail = (o + p + r) % 3 == 0
                    s.add(
                        Run(
                            system=system,
                            embedded=True,
                            status="finished",
                            verdict="FAIL" if fail else "PASS",
                            exit_code=1 if fail else 0,
                            requested_by="bench",
                            ig_version="0.1.0",
                            results_json=blobs[1 if fail else 0],
                        )
                    )
        s.commit()
        one = s.query(Run).order_by(Run.id.desc()).first()
        assert one is not None
        return one.id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sample(client: httpx.Client, path: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{path}: HTTP {r.status_code}")
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def report(label: str, pages: dict[str, list[float]]) -> bool:
    base = p95(pages["baseline (stylesheet)"])
    ok = True
    print(f"\n{label}")
    for name, values in pages.items():
        q = p95(values)
        ok = ok and (name.startswith("baseline") or q < TARGET_MS)
        print(
            f"  {name:24} n={len(values):4}  p50 {statistics.median(values):7.1f} ms  p95 {q:7.1f} ms  "
            f"×{q / base:6.1f} baseline"
        )
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=60)
    ap.add_argument("--queue", type=int, default=10, help="runs queued at once (0: skip that phase)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="VHR-SEC-001")
    ap.add_argument("--deadline", type=float, default=900.0, help="seconds the queued phase may take")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vhr-console-bench-"))
    os.environ["VHR_CONSOLE_DATA"] = str(tmp)
    os.environ.setdefault("VHR_CONSOLE_KEY", Fernet.generate_key().decode())
    from vhr_conformance.console import security

    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # log-in is not measured
    url = f"sqlite:///{tmp / 'console.db'}"
    t0 = time.perf_counter()
    run_id = populate(url)
    print(f"populated 100 organisations, 200 systems, 2,000 runs in {time.perf_counter() - t0:.1f} s")

    from vhr_conformance.console.app import create_app
    from vhr_conformance.console.worker import Settings

    app = create_app(url, settings=Settings(data_dir=tmp), local_workers=args.workers if args.queue else 0)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for _ in range(100):
            try:
                client.get("/static/console.css")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        login = client.post("/api/login", json={"name": "bo-yte", "password": "benchmark-password"})
        login.raise_for_status()
        client.headers["authorization"] = f"Bearer {login.json()['token']}"
        pages = {
            "baseline (stylesheet)": sample(client, "/static/console.css", args.samples),
            "dashboard (200 systems)": sample(client, "/", args.samples),
            "run page": sample(client, f"/runs/{run_id}", args.samples),
        }
        ok = report("idle / không tải", pages)
        if args.queue:
            system = 1
            ids = []
            csrf = login.json()["csrf"]
            for _ in range(args.queue):
                made = client.post(
                    "/api/runs",
                    json={"embedded": True, "system": system, "only": args.only, "deadlineSeconds": 600},
                    headers={"x-csrf-token": csrf},
                )
                made.raise_for_status()
                ids.append(made.json()["id"])
            busy: dict[str, list[float]] = {k: [] for k in pages}
            started = time.perf_counter()
            verdicts: dict[int, str] = {}
            while time.perf_counter() - started < args.deadline:
                busy["baseline (stylesheet)"] += sample(client, "/static/console.css", 2)
                busy["dashboard (200 systems)"] += sample(client, "/", 2)
                busy["run page"] += sample(client, f"/runs/{run_id}", 2)
                states = [client.get(f"/api/runs/{i}").json() for i in ids]
                verdicts = {s["id"]: s["outcome"] for s in states if s["status"] == "finished"}
                if len(verdicts) == len(ids):
                    break
                time.sleep(0.5)
            took = time.perf_counter() - started
            print(
                f"\n{len(verdicts)}/{len(ids)} queued runs finished on {args.workers} workers in {took:.0f} s: "
                + ", ".join(f"{v}" for v in sorted(verdicts.values(), key=str))
            )
            ok = report(f"while {len(ids)} runs execute / trong khi chạy", busy) and ok
            ok = ok and len(verdicts) == len(ids)
    server.should_exit = True
    thread.join(timeout=10)
    print(f"\np95 < {TARGET_MS:.0f} ms on every page: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
