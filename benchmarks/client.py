"""Cost of the client's bounds (streamed, capped, deadline-checked reads) against plain httpx.

Serves fixed answers from a local HTTP/1.1 server on 127.0.0.1 and measures, in interleaved
rounds, requests per second through a plain ``httpx.Client`` (the baseline: whole body in memory,
no bounds) and through ``FhirClient`` (bounded socket, own bounded decoding, redacted evidence),
for a small FHIR answer, a 1 MB one and the same 1 MB gzipped. Then the peak Python memory of
reading a 60 MB answer both ways. Issue 19: the bounds must not cost much on ordinary answers,
and must hold memory to the cap on hostile ones.

    python benchmarks/client.py [--requests 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import socket
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import orjson

from vhr_conformance.client import FhirClient
from vhr_conformance.client.bounds import MB, Limits

SMALL = orjson.dumps({"resourceType": "Patient", "id": "p1", "name": [{"family": "Nguyễn"}], "x": "y" * 1500})
LARGE = orjson.dumps(
    {"resourceType": "Bundle", "type": "searchset", "entry": [{"n": i, "s": "z" * 90} for i in range(10000)]}
)
LARGE_GZ = gzip.compress(LARGE)
HUGE = 60 * MB


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without NODELAY, delayed ACKs add 40 ms to each.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/huge"):
            self.send_response(200)
            self.send_header("Content-Length", str(HUGE))
            self.end_headers()
            block = b"0" * (1 << 16)
            for _ in range(HUGE // len(block)):
                try:
                    self.wfile.write(block)
                except OSError:
                    return
            return
        body, enc = {"/small": (SMALL, None), "/large": (LARGE, None), "/gz": (LARGE_GZ, "gzip")}[self.path]
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(body)))
        if enc:
            self.send_header("Content-Encoding", enc)
        self.end_headers()
        self.wfile.write(body)


def _serve(ready: multiprocessing.Queue[int]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ready.put(server.server_address[1])
    server.serve_forever()


def rate(fn: object, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()  # type: ignore[operator]
    return n / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    # The server runs in another process: in this one it would share the GIL with the client.
    ready: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ready,), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{ready.get(timeout=30)}"
    plain = httpx.Client(base_url=base, timeout=15)
    bounded = FhirClient(base, retries=0)
    try:
        print(f"{'answer':8} {'httpx req/s':>12} {'FhirClient req/s':>17} {'ratio':>6}")
        for path, n in (
            ("/small", args.requests),
            ("/large", max(20, args.requests // 10)),
            ("/gz", max(20, args.requests // 10)),
        ):
            a = b = 0.0
            for _ in range(args.rounds):  # interleaved: both see the same machine load
                a += rate(lambda p=path: plain.get(p).content, n)
                b += rate(lambda p=path: bounded.get(p).content, n)
                bounded.evidence.take()
            print(f"{path[1:]:8} {a / args.rounds:12.0f} {b / args.rounds:17.0f} {b / a:6.2f}")
        for name, fetch in (
            ("httpx", lambda: plain.get("/huge").content),
            ("FhirClient", lambda: _capped(bounded)),
        ):
            tracemalloc.start()
            fetch()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"60 MB answer, {name:10}: peak {peak / MB:6.1f} MB traced")
    finally:
        plain.close()
        bounded.close()
        server.terminate()
        server.join(10)
    return 0


def _capped(client: FhirClient) -> None:
    capped = FhirClient(client.base_url, retries=0, limits=Limits())
    try:
        capped.get("/huge")
    except Exception as exc:  # the bound: "the body exceeded 32 MB"
        print(f"  FhirClient: {str(exc)[-60:]}")
    finally:
        capped.close()


if __name__ == "__main__":
    raise SystemExit(main())
