"""MAP criteria and `vhr run --with-load` end to end.

A clean reference server loaded with our conversion passes every MAP criterion; deliberately
altered conversions (secondary diagnoses dropped, period shifted by the time zone, sex swapped,
an encounter never loaded) fail exactly the matching criteria with their differences; an external
target without XML leaves them not tested (and the run cannot exit 0). A short load run after the suites verifies VHR-PERF-003 (pass on a
clean server, fail on `slow-responses`) and lands in every report format and the exit code.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from vhr_conformance.catalogue import suites_dir
from vhr_conformance.i18n import UserError
from vhr_conformance.runner.withload import fold, run_args
from vhr_conformance.server import ReferenceServer
from vhr_conformance.xml130.convert import convert_source
from vhr_conformance.xml130.synth import _mut, render_envelope, synthetic_encounter

MAP_IDS = [f"VHR-MAP-{n:03d}" for n in range(1, 16)]


def _vhr(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from vhr_conformance.cli import main; sys.argv = ['vhr', *sys.argv[1:]]; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, check=False
    )


def _results(out: Path) -> tuple[dict[str, str], dict[str, Any]]:
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {c["id"]: c["state"] for c in data["criteria"]}, data


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer(port=0, db=":memory:") as srv:
        yield srv


# ---------------------------------------------------------------- altered conversions
def _secondary_dropped(b: dict[str, Any]) -> None:
    enc = next(e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Encounter")
    keep = {enc["diagnosis"][0]["condition"]["reference"]}
    enc["diagnosis"] = enc["diagnosis"][:1]
    b["entry"] = [
        e for e in b["entry"] if e["resource"]["resourceType"] != "Condition" or e["fullUrl"] in keep
    ]


def _time_zone_lost(b: dict[str, Any]) -> None:
    enc = next(e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Encounter")
    enc["period"] = {k: v.replace("+07:00", "+00:00") for k, v in enc["period"].items()}


def _sex_swapped(b: dict[str, Any]) -> None:
    pat = next(e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Patient")
    pat["gender"] = {"male": "female", "female": "male"}[pat["gender"]]


# encounter number → (alteration, criterion that must fail); None: the XML's encounter is never loaded
ALTERED = {
    1: (None, None),
    2: (_secondary_dropped, "VHR-MAP-011"),
    3: (_time_zone_lost, "VHR-MAP-002"),
    4: (_sex_swapped, "VHR-MAP-008"),
    5: (None, "VHR-MAP-001"),
}


def test_altered_conversions_fail_the_matching_map_criteria(server: ReferenceServer, tmp_path: Path) -> None:
    xml_dir = tmp_path / "xml"
    xml_dir.mkdir()
    expected_ma_lk: dict[str, str] = {}
    for n, (alter, crit) in ALTERED.items():
        rows = _mut(synthetic_encounter(random.Random(500 + n), 900 + n), "XML1", "MA_BENH_KT", "E78.5;K29.7")
        if (
            alter is _sex_swapped
        ):  # with a CCCD the server rightly refuses a contradicting gender (vhr-cccd-3)
            rows = _mut(rows, "XML1", "SO_CCCD", "")
        envelope = render_envelope([rows], "01013", "20260101")
        (xml_dir / f"enc-{n}.xml").write_bytes(envelope)
        bundle = next(convert_source(envelope)).bundle
        assert bundle is not None
        if crit:
            expected_ma_lk[crit] = rows["XML1"][0]["MA_LK"]
        if crit == "VHR-MAP-001":
            continue  # never loaded: the target has no encounter for this MA_LK
        sent = copy.deepcopy(bundle)
        if alter:
            alter(sent)
        r = httpx.post(
            server.base_url, json=sent, headers={"Content-Type": "application/fhir+json"}, timeout=30
        )
        assert r.status_code == 200, r.text[:500]

    out = tmp_path / "r"
    proc = _vhr(
        "run",
        "--target",
        server.base_url,
        "--xml",
        str(xml_dir),
        "--only",
        "MAP",
        "--report-dir",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    states, data = _results(out)
    failed = {c for c in MAP_IDS if states[c] == "fail"}
    assert failed == set(expected_ma_lk), states
    assert all(states[c] == "pass" for c in MAP_IDS if c not in failed), states
    mapping = json.loads((out / "mapping.json").read_text(encoding="utf-8"))
    assert mapping["mode"] == "xml" and len(mapping["encounters"]) == len(ALTERED)
    for crit, ma_lk in expected_ma_lk.items():
        diffs = [d for e in mapping["encounters"] for d in e["differences"] if d["criterion"] == crit]
        assert {d["ma_lk"] for d in diffs} == {ma_lk}, (crit, diffs)
        assert all(d["xml_field"] and d["fhir_path"] for d in diffs)
        case = next(c for c in data["cases"] if crit in c["criteria"])
        assert ma_lk in case["message"] and diffs[0]["xml_field"] in case["message"]
    assert "mapping.json" in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]

    # An external target without XML: nothing to compare, so every MAP criterion is not tested (an
    # input is missing, the message says how to supply it) and the run cannot exit 0.
    out2 = tmp_path / "r2"
    proc = _vhr("run", "--target", server.base_url, "--only", "MAP", "--report-dir", str(out2), "--quiet")
    states, data = _results(out2)
    assert {states[c] for c in MAP_IDS} == {"not-tested"}, states
    assert all("--xml" in c["message"] for c in data["cases"])
    assert proc.returncode == 5 and data["verdict"] == "INCOMPLETE", proc.stdout[-2000:]


def test_clean_reference_server_passes_map_and_load(tmp_path: Path) -> None:
    """Twins of the coverage fixtures, our conversion loaded: every MAP criterion passes; then a
    6 s load run on the same (warm) server passes VHR-PERF-003 and lands in every report."""
    out = tmp_path / "r"
    with ReferenceServer(port=0, db=":memory:") as srv:
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            str(suites_dir()),
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "-q",
            "--vhr-target",
            srv.base_url,
            "--vhr-only",
            "MAP,VHR-PERF-003,VHR-PERF-004",
            "--vhr-seed-limit",
            "6",
            "--vhr-xml-twins",
            "--vhr-report-dir",
            str(out),
            "--vhr-load",
            json.dumps({"duration": "10s", "users": 25, "spawn_rate": 15}),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    states, data = _results(out)
    assert {states[c] for c in MAP_IDS} == {"pass"}, states
    perf = next(c for c in data["cases"] if c["criteria"] == ["VHR-PERF-003"])
    # A saturated machine (make test on two workers beside other heavy tests) can leave a group
    # under the minimum sample count: then PERF-003 is honestly not tested and the run INCOMPLETE
    # (exit 5); any other outcome is a failure of this test.
    starved = perf["state"] == "not-tested" and "not enough data to judge" in perf["message"]
    assert proc.returncode == (5 if starved else 0), proc.stdout[-3000:] + proc.stderr[-2000:]
    assert states["VHR-PERF-003"] in ({"not-tested"} if starved else {"pass"})
    assert states["VHR-PERF-004"] == "not-tested"
    assert json.loads((out / "mapping.json").read_text(encoding="utf-8"))["mode"] == "twins"
    assert "VHR-PERF-101 [" in perf["message"]  # the measurements, even on a pass
    assert all(
        "encounters compared (twins)" in c["message"] for c in data["cases"] if c["criteria"][0] in MAP_IDS
    )
    assert (out / "load" / "summary.json").is_file() and (out / "load" / "report.html").is_file()
    files = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    assert {"load/summary.json", "load/report.html", "mapping.json", "junit.xml"} <= set(files)
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert "test_slo_thresholds_under_load" in junit and 'name="VHR-PERF-101"' in junit


def test_vhr_run_with_load_slow_server_fails_perf_003(tmp_path: Path) -> None:
    out = tmp_path / "r"
    proc = _vhr(
        "run",
        "--only",
        "VHR-PERF-003",
        "--fault",
        "slow-responses",
        "--with-load",
        "--load-duration",
        "6s",
        "--report-dir",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    states, data = _results(out)
    assert states["VHR-PERF-003"] == "fail" and data["exitCode"] == 1
    case = next(c for c in data["cases"] if c["criteria"] == ["VHR-PERF-003"])
    assert "[fail]" in case["message"] and "VHR-PERF-1" in case["message"]
    summary = json.loads((out / "load" / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == "fail" and summary["target"].startswith(
        "https://127.0.0.1"
    )  # the load runs over the embedded TLS
    report = json.loads((out / "testreport.json").read_text(encoding="utf-8"))
    assert any(t["name"] == "VHR-PERF-003" for t in report["test"]) and report["result"] == "fail"
    assert "load/summary.json" in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]


def test_run_args_and_fold(tmp_path: Path) -> None:
    assert run_args(None, True, False, "15s", "standard", "constant") == ["--vhr-xml-twins"]
    assert run_args(None, False, False, "15s", "standard", "constant") == []
    assert run_args(tmp_path, False, False, "15s", "standard", "constant") == ["--vhr-xml", str(tmp_path)]
    assert run_args(tmp_path, True, False, "15s", "standard", "constant") == [
        "--vhr-xml",
        str(tmp_path),
        "--vhr-xml-twins",
    ]
    args = run_args(None, False, True, "8s", "standard", "capacity")
    assert args[0] == "--vhr-load" and json.loads(args[1]) == {
        "duration": "8s",
        "workload": "standard",
        "shape": "capacity",
    }
    for bad in (
        (tmp_path / "missing", False, False, "15s", "standard", "constant"),
        (None, False, True, "soon", "standard", "constant"),
        (None, False, True, "15s", "no-such-workload", "constant"),
        (None, False, True, "15s", "standard", "sideways"),
    ):
        with pytest.raises(UserError):
            run_args(*bad)
    shall_fail = {"status": "fail", "level": "SHALL"}
    assert (
        fold([{"status": "pass", "level": "SHALL"}, {"status": "fail", "level": "SHOULD"}], False) == "pass"
    )
    assert fold([{"status": "pass", "level": "SHALL"}, shall_fail], False) == "fail"
    assert fold([{"status": "pass", "level": "SHALL"}], True) == "fail"
    assert fold([{"status": "skip", "level": "SHALL"}], False) == "skip"
