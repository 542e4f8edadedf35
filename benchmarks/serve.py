"""Throughput and latency of the reference server on loopback, against a trivial Starlette baseline.

Starts `vhr serve` in a subprocess on a file database, seeds it with transaction Bundles (timing
transaction writes/s), then drives it for a bounded time per phase with a concurrent asyncio
HTTP/1.1 keep-alive client: reads by id, identifier searches, and a mixed workload (reads,
identifier and name searches, writes). The same client then drives a trivial Starlette endpoint
that returns a fixed JSON body, served the same way (same uvicorn loop/http, same worker count),
and the ratio server/baseline is printed.

Usage: ``python benchmarks/serve.py [--seconds 5] [--concurrency 32] [--workers 2] [--patients 300]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

CCCD = "http://fhir.hl7.org.vn/core/sid/cccd"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not start")


# ---------------------------------------------------------------- a lean keep-alive HTTP/1.1 client


class Conn:
    """One keep-alive connection; requests are sent one at a time (no pipelining)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.r = reader
        self.w = writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        r, w = await asyncio.open_connection(HOST, port)
        return cls(r, w)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nAccept: application/fhir+json\r\n"
        if body:
            head += f"Content-Type: application/fhir+json\r\nContent-Length: {len(body)}\r\n"
        self.w.write(head.encode() + b"\r\n" + body)
        status_line = await self.r.readline()
        length = 0
        while True:
            line = await self.r.readline()
            if line in (b"\r\n", b""):
                break
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        data = await self.r.readexactly(length) if length else b""
        return int(status_line.split(b" ", 2)[1]), data

    def close(self) -> None:
        self.w.close()


Op = Callable[[Conn], Any]


async def drive(
    port: int, ops: list[tuple[float, str, Op]], seconds: float, concurrency: int
) -> dict[str, Any]:
    """Run weighted operations from `concurrency` connections for `seconds`; collect latencies."""
    weights = [w for w, _, _ in ops]
    latencies: list[float] = []
    per_kind: dict[str, int] = {}
    errors = 0
    stop_at = time.perf_counter() + seconds

    async def worker(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        conn = await Conn.open(port)
        try:
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                _, kind, op = rng.choices(ops, weights)[0]
                status = await op(conn)
                latencies.append(time.perf_counter() - t0)
                per_kind[kind] = per_kind.get(kind, 0) + 1
                if status >= 400:
                    errors += 1
        finally:
            conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "rps": n / elapsed,
        "p50_ms": latencies[n // 2] * 1000 if n else 0,
        "p95_ms": latencies[int(n * 0.95)] * 1000 if n else 0,
        "errors": errors,
        "per_kind": {k: v / elapsed for k, v in per_kind.items()},
    }


# ---------------------------------------------------------------- data


def patient_tx(k: int) -> dict[str, Any]:
    pu = f"urn:uuid:00000000-0000-4000-8000-{k:012d}"
    pat = {
        "resourceType": "Patient",
        "identifier": [{"system": CCCD, "value": f"0010{90 + k % 9}{k:06d}"[:12]}],
        "name": [
            {"family": random.choice(["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng"]), "given": ["Văn", f"A{k}"]}
        ],
        "gender": "male" if k % 2 else "female",
        "birthDate": f"{1950 + k % 60}-0{1 + k % 9}-1{k % 10}",
    }
    obs = [
        {
            "resourceType": "Observation",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": pu},
            "effectiveDateTime": "2025-03-01",
            "valueQuantity": {"value": v, "unit": u, "system": "http://unitsofmeasure.org", "code": u},
        }
        for code, v, u in (("8302-2", 160 + k % 30, "cm"), ("29463-7", 50 + k % 40, "kg"))
    ]
    entries = [{"fullUrl": pu, "resource": pat, "request": {"method": "POST", "url": "Patient"}}]
    entries += [{"resource": o, "request": {"method": "POST", "url": "Observation"}} for o in obs]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


async def seed(port: int, patients: int, concurrency: int) -> tuple[list[tuple[str, str]], float]:
    """Post one transaction per patient; returns (patient id, cccd) pairs and transactions/s."""
    out: list[tuple[str, str]] = []
    queue = list(range(patients))
    start = time.perf_counter()

    async def worker() -> None:
        conn = await Conn.open(port)
        try:
            while queue:
                k = queue.pop()
                tx = patient_tx(k)
                status, body = await conn.request("POST", "/", orjson.dumps(tx))
                if status != 200:
                    raise SystemExit(f"seed transaction failed: {status} {body[:300]!r}")
                pid = orjson.loads(body)["entry"][0]["response"]["location"].split("/")[-3]
                out.append((pid, tx["entry"][0]["resource"]["identifier"][0]["value"]))
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return out, patients / (time.perf_counter() - start)


BASELINE_APP = textwrap.dedent("""
    import orjson
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    BODY = orjson.dumps({"resourceType": "Patient", "id": "fixed", "meta": {"versionId": "1"},
                         "identifier": [{"system": "http://fhir.hl7.org.vn/core/sid/cccd", "value": "001090000001"}],
                         "name": [{"family": "Nguyen", "given": ["Van", "A"]}], "gender": "male",
                         "birthDate": "1990-01-01"})

    async def fixed(request):
        return Response(BODY, media_type="application/fhir+json")

    app = Starlette(routes=[Route("/{path:path}", fixed)])
""")


def start_baseline(port: int, workers: int, tmp: Path) -> subprocess.Popen[bytes]:
    (tmp / "vhr_bench_baseline.py").write_text(BASELINE_APP)
    loop = "uvloop" if _has("uvloop") else "asyncio"
    http = "httptools" if _has("httptools") else "h11"
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "vhr_bench_baseline:app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        loop,
        "--http",
        http,
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return subprocess.Popen(
        cmd,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(tmp)},
    )


def _has(mod: str) -> bool:
    try:
        __import__(mod)
    except ImportError:
        return False
    return True


def fmt(name: str, res: dict[str, Any]) -> str:
    return (
        f"{name:<22} {res['rps']:>9.0f} req/s   p50 {res['p50_ms']:>6.1f} ms   p95 {res['p95_ms']:>6.1f} ms"
        f"   errors {res['errors']}"
    )


async def run_baseline(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    bport = free_port()
    baseline = start_baseline(bport, args.workers, tmp)
    try:
        wait_up(f"http://{HOST}:{bport}/x", baseline)
        return await drive(
            bport, [(1, "fixed", lambda c: _status(c, "/Patient/fixed"))], args.seconds, args.concurrency
        )
    finally:
        baseline.terminate()
        baseline.wait(timeout=15)


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="vhr-bench-") as tmpdir:
        tmp = Path(tmpdir)
        print(
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; uvloop={_has('uvloop')}, "
            f"httptools={_has('httptools')}; {args.workers} worker(s), concurrency {args.concurrency}, "
            f"{args.seconds:.0f} s per phase"
        )
        # The machine is shared: the baseline runs before and after the server, and the better of
        # the two is used for the ratios (the conservative choice).
        base_before = await run_baseline(args, tmp)
        print(fmt("baseline (before)", base_before) + "   (trivial Starlette endpoint, fixed JSON)")
        port = free_port()
        cmd = [
            sys.executable,
            "-m",
            "vhr_conformance.server",
            "--db",
            str(tmp / "bench.db"),
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ]
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_up(f"http://{HOST}:{port}/metadata", server)
            people, tx_rate = await seed(port, args.patients, min(8, args.concurrency))
            print(
                f"{'transaction writes':<22} {tx_rate:>9.1f} tx/s    (Patient + 2 Observations each, validated, "
                f"fsynced; {args.patients} tx)"
            )

            async def read(c: Conn) -> int:
                return (await c.request("GET", f"/Patient/{random.choice(people)[0]}"))[0]

            async def ident(c: Conn) -> int:
                return (await c.request("GET", f"/Patient?identifier={CCCD}|{random.choice(people)[1]}"))[0]

            async def name(c: Conn) -> int:
                fam = random.choice(["nguyen", "tran", "le", "pham", "hoang"])
                return (await c.request("GET", f"/Patient?name={fam}&_count=10"))[0]

            async def obs(c: Conn) -> int:
                return (await c.request("GET", f"/Observation?patient={random.choice(people)[0]}"))[0]

            counter = iter(range(10**6, 10**7))

            async def write(c: Conn) -> int:
                body = orjson.dumps(patient_tx(next(counter))["entry"][0]["resource"])
                return (await c.request("POST", "/Patient", body))[0]

            reads = await drive(port, [(1, "read", read)], args.seconds, args.concurrency)
            print(fmt("read by id", reads))
            idents = await drive(port, [(1, "identifier", ident)], args.seconds, args.concurrency)
            print(fmt("identifier search", idents))
            mixed = await drive(
                port,
                [
                    (60, "read", read),
                    (20, "identifier", ident),
                    (8, "name", name),
                    (8, "obs-by-patient", obs),
                    (4, "create", write),
                ],
                args.seconds,
                args.concurrency,
            )
            print(
                fmt("mixed", mixed)
                + "   (60% read, 20% identifier, 8% name, 8% Observation?patient, 4% create)"
            )
        finally:
            server.terminate()
            server.wait(timeout=15)
        base_after = await run_baseline(args, tmp)
        print(fmt("baseline (after)", base_after))
        base = max(base_before["rps"], base_after["rps"])
        print(
            f"ratio to baseline ({base:.0f} req/s): read {reads['rps'] / base:.2f}   "
            f"identifier {idents['rps'] / base:.2f}   mixed {mixed['rps'] / base:.2f}"
        )
        target_ok = mixed["rps"] >= 2000 and mixed["p95_ms"] < 50
        print(f"target (mixed >= 2000 req/s, p95 < 50 ms): {'met' if target_ok else 'NOT met'}")


async def _status(c: Conn, path: str) -> int:
    return (await c.request("GET", path))[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--patients", type=int, default=300)
    args = ap.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
