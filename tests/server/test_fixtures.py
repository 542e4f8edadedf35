"""The generator's coverage fixtures load into the server (transactions with conditional creates),
and what is loaded is searchable the way the suites will search it."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from vhr_conformance.server import ReferenceServer

COVERAGE = Path(__file__).resolve().parents[2] / "fixtures" / "coverage"
CCCD = "http://fhir.hl7.org.vn/core/sid/cccd"


def _identifiers(folder: Path, rtype: str) -> set[tuple[str, str]]:
    found = set()
    for path in folder.glob("*.json"):
        for e in orjson.loads(path.read_bytes()).get("entry", []):
            res = e["resource"]
            if res["resourceType"] == rtype:
                ident = res["identifier"][0]
                found.add((ident["system"], ident["value"]))
    return found


@pytest.mark.skipif(not any(COVERAGE.glob("*.json")), reason="fixtures/coverage not generated")
def test_coverage_fixtures_load_without_duplicates(tmp_path: Path) -> None:
    # a dozen bundles keep the test fast; `vhr serve --load fixtures/coverage` loads them all
    for path in sorted(COVERAGE.glob("*.json"))[:12]:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    patients = _identifiers(tmp_path, "Patient")
    orgs = _identifiers(tmp_path, "Organization")
    with ReferenceServer(load=tmp_path) as srv, httpx.Client(base_url=srv.base_url) as c:
        assert c.get("/Patient?_summary=count").json()["total"] == len(patients)
        assert c.get("/Organization?_summary=count").json()["total"] == len(orgs)
        system, value = sorted(patients)[0]
        b = c.get(f"/Patient?identifier={system}|{value}").json()
        assert b["total"] == 1
        pid = b["entry"][0]["resource"]["id"]
        ev = c.get(f"/Patient/{pid}/$everything").json()
        kinds = {e["resource"]["resourceType"] for e in ev["entry"]}
        assert {"Patient", "Encounter"} <= kinds
        # every reference in the patient's record resolves on the server
        for e in ev["entry"]:
            for ref in _refs(e["resource"]):
                if "/" in ref and not ref.startswith(("http", "urn:", "#")):
                    assert c.get("/" + ref).status_code == 200, ref


def _refs(node: object) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference" and isinstance(v, str):
                out.append(v)
            else:
                out.extend(_refs(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(_refs(v))
    return out
