"""Proof that the suites can fail: every SHALL criterion passes on the reference server, and each
server fault fails exactly the criteria `suites/fault-expectations.yaml` lists (at least one).

All runs happen in one child process (`python -m vhr_conformance.runner.proof`), which loads the
IG, the validator and the suites once and runs only the areas each fault can touch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vhr_conformance.catalogue import load_catalogue
from vhr_conformance.runner.proof import load_expectations
from vhr_conformance.server.faults import FAULTS

EXPECTATIONS = load_expectations()
SHARDS = 2


@pytest.fixture(scope="module")
def proof(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    # Two child processes, one per core: the baseline and half the faults, the other half.
    work = tmp_path_factory.mktemp("proof")
    procs = []
    for shard in range(SHARDS):
        out = work / f"proof-{shard}.json"
        cmd = [
            sys.executable,
            "-m",
            "vhr_conformance.runner.proof",
            "--json",
            str(out),
            "--workdir",
            str(work / str(shard)),
            "--shard",
            f"{shard}/{SHARDS}",
        ] + (["--no-baseline"] if shard else [])
        procs.append(
            (out, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        )
    results: dict[str, dict[str, Any]] = {}
    for out, proc in procs:
        log, _ = proc.communicate(timeout=900)
        assert out.is_file(), f"proof run produced no results:\n{log[-3000:]}"
        results.update({r["fault"]: r for r in json.loads(out.read_text(encoding="utf-8"))})
    return results


def test_expectations_cover_every_fault() -> None:
    cat = load_catalogue()
    assert set(EXPECTATIONS["faults"]) == set(FAULTS)
    for name, spec in EXPECTATIONS["faults"].items():
        assert spec["fail"], f"{name} must fail at least one criterion"
        unknown = [c for c in spec["fail"] if c not in cat.criteria]
        assert not unknown, f"{name}: unknown criteria {unknown}"


def test_reference_server_passes_every_shall_criterion(proof: dict[str, dict[str, Any]]) -> None:
    base = proof["baseline"]
    assert base["failed"] is not None, "the baseline run did not produce results"
    assert base["cases"] >= 300, f"only {base['cases']} cases ran"
    assert not base["errors"], f"harness errors on the reference server: {base['errors']}"
    # Only what the proof leaves out by design (plain http, no load run) may stay unjudged, and it
    # must then say "not tested", never fail or pass silently.
    by_design = set(EXPECTATIONS["baseline"].get("not_tested") or [])
    not_passed = base["shall_not_passed"]
    assert set(not_passed) == by_design, f"SHALL criteria not passed on the reference server: {not_passed}"
    assert all(state in ("skip", "not-tested") for state in not_passed.values()), not_passed
    assert not base["cleanup_leftovers"] and not base["left_on_server"], (
        f"clean-up left data behind: {base['cleanup_leftovers'][:5]} {base['left_on_server']}"
    )


def _scope(run: list[str]) -> set[str]:
    cat = load_catalogue()
    return {c.id for c in cat.criteria.values() if c.id in run or c.area in run}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_fails_exactly_the_expected_criteria(fault: str, proof: dict[str, dict[str, Any]]) -> None:
    spec = EXPECTATIONS["faults"][fault]
    got = proof[fault]
    assert got["failed"] is not None, f"{fault}: the run produced no results"
    assert not got["errors"], f"{fault}: harness errors {got['errors']}"
    already = set(proof["baseline"]["failed"] or []) & _scope(spec.get("run") or [])
    assert set(got["failed"]) == set(spec["fail"]) | already, (
        f"{fault}: failed {got['failed']}, expected {sorted(spec['fail'])}"
        + (f" (plus {sorted(already)} failing without the fault)" if already else "")
    )


def test_proof_reports_exist(proof: dict[str, dict[str, Any]]) -> None:
    assert all(Path(r["report"]).is_file() for r in proof.values() if r.get("report"))
