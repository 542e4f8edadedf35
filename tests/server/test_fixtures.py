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


def test_load_names_every_file_it_skips(tmp_path: Path) -> None:
    """`--load` never skips silently: broken JSON, non-resources, other Bundle types, refused
    entries and unreadable files are each listed with a reason."""
    ok = {"resourceType": "Patient", "gender": "male"}
    (tmp_path / "a-ok.json").write_bytes(orjson.dumps(ok))
    (tmp_path / "b-broken.json").write_bytes(b'{"resourceType": "Patient",')
    (tmp_path / "c-list.json").write_bytes(b"[1, 2]")
    (tmp_path / "d-document.json").write_bytes(orjson.dumps({"resourceType": "Bundle", "type": "document"}))
    bad_entry = {"request": {"method": "POST", "url": "Observation"}, "resource": {"resourceType": "Patient"}}
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [bad_entry]}
    (tmp_path / "e-batch.json").write_bytes(orjson.dumps(batch))
    (tmp_path / "f-dangling.json").symlink_to(tmp_path / "missing.json")
    (tmp_path / "g-duplicate.json").write_bytes(b'{"resourceType": "Patient", "id": "a", "id": "b"}')
    with ReferenceServer(validate=False, load=tmp_path) as srv:
        skipped = {Path(w.split(" ")[0]).name: why for w, why in srv.fhir.load_skipped}
        total = httpx.get(srv.base_url + "/Patient?_summary=count").json()["total"]
    assert total == 1
    assert set(skipped) == {
        "b-broken.json",
        "c-list.json",
        "d-document.json",
        "e-batch.json",
        "f-dangling.json",
        "g-duplicate.json",
    }
    assert all(why.vi and why.en and why.vi != why.en for why in skipped.values())
    assert "document" in skipped["d-document.json"].en and "400" in skipped["e-batch.json"].en
