"""The embedded reference server as a separate process for ``vhr load`` without ``--target``.

A separate process, not a thread: the load engine is gevent-patched and the server must not share
its event loop (nor its GIL) with the users that load it. The process prints one JSON line
``{"base_url": ..., "seeded": n}`` once it serves, and stops when its stdin closes.

    python -m vhr_conformance.load.target [--fault NAME ...] [--latency-ms N]
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import sys
from typing import Any

from vhr_conformance.load import pool
from vhr_conformance.names import SID_CCCD


def _seed(base_url: str) -> int:
    """POST the coverage fixtures unless the server was already loaded with them."""
    import httpx

    bundles = pool.fixture_bundles()
    cccds = pool.lookup_pool(bundles)
    seeded = 0
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        if cccds:
            probe = client.get("/Patient", params={"identifier": f"{SID_CCCD}|{cccds[0]}"})
            if probe.status_code == 200 and probe.json().get("entry"):
                return 0
        for bundle in bundles:
            if bundle.get("type") != "transaction":
                continue
            resp = client.post("/", json=bundle, headers={"Content-Type": "application/fhir+json"})
            seeded += resp.status_code < 300
    return seeded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vhr-load-target")
    parser.add_argument("--fault", action="append", default=[])
    parser.add_argument("--latency-ms", type=int, default=None)
    args = parser.parse_args(argv)

    from vhr_conformance.server import ReferenceServer

    kwargs: dict[str, Any] = {"port": 0, "db": ":memory:", "faults": args.fault}
    params = inspect.signature(ReferenceServer).parameters
    if args.latency_ms is not None and "latency_ms" in params:
        kwargs["latency_ms"] = args.latency_ms
    directory = pool.coverage_dir()
    if directory is not None and any(directory.glob("*.json")) and "load" in params:
        kwargs["load"] = str(directory)  # the server loads the fixtures itself, before serving
    with ReferenceServer(**kwargs) as srv:
        seeded = _seed(srv.base_url)
        sys.stdout.write(json.dumps({"base_url": srv.base_url, "seeded": seeded}) + "\n")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            sys.stdin.read()  # block until the parent closes our stdin (or exits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
