"""Proof that the suites can fail: run them against the reference server with each fault switched
on and compare the failed criteria with `suites/fault-expectations.yaml`.

Runs every fault in one process (the IG, validator and test modules load once) and only the areas
a fault can touch, so the whole proof stays within a few minutes on two cores.
Usage: `python -m vhr_conformance.runner.proof [--json OUT] [FAULT ...]`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from vhr_conformance.catalogue import suites_dir

EMBEDDED_CLIENTS = {
    "client_id": "vhr-test-admin",
    "client_secret": "vhr-test-admin-secret",
    "limited_client_id": "vhr-test-reader",
    "limited_client_secret": "vhr-test-reader-secret",
    "scope": "system/*.*",
}


def load_expectations(path: Path | None = None) -> dict[str, Any]:
    return yaml.safe_load((path or suites_dir() / "fault-expectations.yaml").read_text(encoding="utf-8"))


def run_case(name: str | None, spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Start the embedded server (with the fault), run the selected suites, return what failed."""
    from vhr_conformance.runner.cli import run_suites
    from vhr_conformance.runner.embedded import start_embedded

    server_opts = dict(spec.get("server") or {})
    auth = spec.get("auth", "none")
    srv = start_embedded([name] if name else [], auth=auth, **server_opts)
    label = name or "baseline"
    args = [
        "--vhr-report-dir",
        str(workdir / label),
        "--vhr-seed-limit",
        str(spec.get("seed_limit", 6)),
        "--vhr-xml-twins",
    ]  # the embedded server: MAP criteria on our conversion of the fixtures' XML twins
    if spec.get("run"):
        args += ["--vhr-only", ",".join(spec["run"])]
    else:
        args += ["--vhr-partial"] if spec.get("partial") else []
    if spec.get("rate_limit"):
        args += ["--vhr-rate-limit", str(spec["rate_limit"])]
    if spec.get("max_body_mb"):
        args += ["--vhr-max-body-mb", str(spec["max_body_mb"])]
    if auth == "oauth":
        workdir.mkdir(parents=True, exist_ok=True)
        cfg = workdir / "auth.json"
        # The token URL is given, not discovered, so a missing smart-configuration is a finding, not a harness error.
        cfg.write_text(
            json.dumps({**EMBEDDED_CLIENTS, "token_url": f"{srv.base_url}/auth/token"}), encoding="utf-8"
        )
        # `credentials: false`: the server requires OAuth but the run has none (a vendor run with
        # `--vhr-auth none`), so it sees what the target shows to anyone; the file still serves the
        # clean-up check below.
        if spec.get("credentials", True):
            args += ["--vhr-auth", "client-credentials", "--vhr-auth-config", str(cfg)]
    started = time.monotonic()
    left: dict[str, int] = {}
    try:
        code, state = run_suites(srv.base_url, args, progress=False, terminal=False)
        left = _left_on_server(srv.base_url, workdir / "auth.json" if auth == "oauth" else None)
    finally:
        srv.stop()
    run = state.run if state is not None else None
    if run is None:
        return {
            "fault": label,
            "exit": code,
            "failed": None,
            "errors": [],
            "seconds": round(time.monotonic() - started, 1),
        }
    return {
        "fault": label,
        "exit": run.exit_code(),
        "failed": sorted(run.failed_criteria()),
        "shall_not_passed": {
            r.criterion.id: r.state
            for r in run.criteria
            if r.in_scope
            and r.criterion.level == "SHALL"
            and r.criterion.automated
            and r.state not in ("pass", "omit", "not-applicable")
        },
        "errors": sorted({c for case in run.cases if case.state == "error" for c in case.criteria}),
        "cases": len(run.cases),
        "seconds": round(time.monotonic() - started, 1),
        "report": str(workdir / label / "report.html"),
        "left_on_server": left,
        "cleanup_leftovers": run.cleanup_leftovers,
    }


def _left_on_server(base_url: str, auth_file: Path | None) -> dict[str, int]:
    """Resources still on the (initially empty) embedded server after the run's clean-up."""
    from vhr_conformance.client import AuthConfig, FhirClient, TokenProvider
    from vhr_conformance.igmodel import load_ig

    tokens = TokenProvider(AuthConfig.load("client-credentials", str(auth_file))) if auth_file else None
    out: dict[str, int] = {}
    with FhirClient(base_url, tokens=tokens) as client:
        for rtype in load_ig().resources:
            resp = client.get(rtype, params={"_summary": "count"})
            total = (resp.json or {}).get("total") if resp.status == 200 else None
            if total:
                out[rtype] = int(total)
    return out


def prove(
    faults: list[str] | None = None,
    workdir: Path | None = None,
    baseline: bool = True,
    shard: tuple[int, int] = (0, 1),
) -> list[dict[str, Any]]:
    exp = load_expectations()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="vhr-proof-"))
    results = []
    defaults = exp.get("defaults") or {}
    if baseline:
        results.append(run_case(None, {**defaults, **(exp.get("baseline") or {})}, workdir))
    for i, (name, spec) in enumerate(exp["faults"].items()):
        if (faults and name not in faults) or i % shard[1] != shard[0]:
            continue
        res = run_case(name, {**defaults, **spec}, workdir)
        res["expected"] = sorted(spec["fail"])
        results.append(res)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("faults", nargs="*")
    parser.add_argument("--json", dest="json_out")
    parser.add_argument("--workdir")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--shard", default="0/1", help="i/n: run every n-th fault starting at i (for parallel processes)"
    )
    ns = parser.parse_args()
    index, count = (int(x) for x in ns.shard.split("/"))
    results = prove(
        ns.faults or None,
        Path(ns.workdir) if ns.workdir else None,
        baseline=not ns.no_baseline,
        shard=(index, count),
    )
    for r in results:
        mark = "ok" if r.get("expected") is None or r.get("failed") == r.get("expected") else "MISMATCH"
        print(
            f"{r['fault']:32} {r['seconds']:6.1f}s failed={r.get('failed')} expected={r.get('expected')} {mark}",
            flush=True,
        )
    if ns.json_out:
        Path(ns.json_out).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
