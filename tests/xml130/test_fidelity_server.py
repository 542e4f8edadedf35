"""Mapping fidelity against the reference server: our conversion loaded → every MAP criterion
passes; a deliberately altered conversion loaded → exactly the right criteria fail."""

from __future__ import annotations

import copy
import random

import pytest

from vhr_conformance.xml130.convert import convert_source
from vhr_conformance.xml130.fidelity import compare, criteria_results, fetch_vendor
from vhr_conformance.xml130.synth import _mut, render_envelope, synthetic_encounter


def _bundle(n: int, no_cccd: bool = False) -> dict:
    rows = synthetic_encounter(random.Random(100 + n), n)
    rows = _mut(rows, "XML1", "MA_BENH_KT", "E78.5;K29.7")
    if no_cccd:  # the server rejects a gender that contradicts the CCCD (vhr-cccd-3), rightly
        rows = _mut(rows, "XML1", "SO_CCCD", "")
    return next(convert_source(render_envelope([rows], "01013", "20260101"))).bundle


def _secondary_dropped(b: dict) -> None:
    for e in b["entry"]:
        r = e["resource"]
        if r["resourceType"] == "Encounter":
            r["diagnosis"] = r["diagnosis"][:1]
    main = next(e for e in b["entry"] if e["resource"]["resourceType"] == "Condition")
    b["entry"] = [e for e in b["entry"] if e["resource"]["resourceType"] != "Condition" or e is main]


def _time_zone_lost(b: dict) -> None:
    for e in b["entry"]:
        r = e["resource"]
        if r["resourceType"] == "Encounter":
            r["period"] = {k: v.replace("+07:00", "+00:00") for k, v in r["period"].items()}


def _sex_swapped(b: dict) -> None:
    for e in b["entry"]:
        r = e["resource"]
        if r["resourceType"] == "Patient":
            r["gender"] = {"male": "female", "female": "male"}[r["gender"]]


CASES = [
    ("faithful", None, set()),
    ("secondary-dropped", _secondary_dropped, {"VHR-MAP-011"}),
    ("time-zone-lost", _time_zone_lost, {"VHR-MAP-002"}),
    ("sex-swapped", _sex_swapped, {"VHR-MAP-008"}),
]


@pytest.fixture(scope="module")
def server():
    try:
        from vhr_conformance.server import ReferenceServer
    except ImportError as exc:
        pytest.skip(f"reference server not available: {exc}")
    with ReferenceServer(port=0, db=":memory:") as srv:
        yield srv


@pytest.mark.parametrize(("n", "case"), list(enumerate(CASES, 1)), ids=[c[0] for c in CASES])
def test_map_criteria_against_reference_server(server, n: int, case) -> None:
    import httpx

    _name, alter, failing = case
    ours = _bundle(n, no_cccd=alter is _sex_swapped)
    sent = copy.deepcopy(ours)
    if alter:
        alter(sent)
    r = httpx.post(server.base_url, json=sent, headers={"Content-Type": "application/fhir+json"}, timeout=30)
    assert r.status_code == 200, r.text[:500]
    vendor = fetch_vendor(server.base_url, ours["identifier"]["value"])
    diffs = compare(ours, vendor)
    results = criteria_results(diffs)
    assert {c for c, v in results.items() if v == "fail"} == failing, [d.to_dict() for d in diffs]
    assert {v for c, v in results.items() if c not in failing} == {"pass"}


def test_unknown_ma_lk_fails_only_the_encounter_criterion(server) -> None:
    ours = _bundle(9)  # never loaded
    results = criteria_results(compare(ours, fetch_vendor(server.base_url, ours["identifier"]["value"])))
    assert results["VHR-MAP-001"] == "fail"
    assert {v for c, v in results.items() if c != "VHR-MAP-001"} == {"skip"}


@pytest.mark.parametrize(
    ("fault", "failing"), [("ignore-include", set()), ("drop-identifiers-on-write", {"VHR-MAP-001"})]
)
def test_server_faults(fault: str, failing: set[str]) -> None:
    """A server ignoring _include/_revinclude is still read fully (fallback searches); one that
    drops identifiers on write loses the MA_LK, so VHR-MAP-001 fails."""
    import httpx

    server_mod = pytest.importorskip("vhr_conformance.server")
    ours = _bundle(20)
    with server_mod.ReferenceServer(port=0, db=":memory:", faults=[fault]) as srv:
        r = httpx.post(srv.base_url, json=ours, headers={"Content-Type": "application/fhir+json"}, timeout=30)
        assert r.status_code == 200, r.text[:500]
        results = criteria_results(compare(ours, fetch_vendor(srv.base_url, ours["identifier"]["value"])))
    assert {c for c, v in results.items() if v == "fail"} == failing
