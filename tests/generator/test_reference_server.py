"""Generated transactions are accepted by the reference server; conditional create deduplicates."""

from __future__ import annotations

import pytest

from vhr_conformance.generator import generate_patients

server_mod = pytest.importorskip(
    "vhr_conformance.server", reason="the reference server stage is not importable"
)
httpx = pytest.importorskip("httpx")
orjson = pytest.importorskip("orjson")

CCCD = "http://fhir.hl7.org.vn/core/sid/cccd"
HEADERS = {"Content-Type": "application/fhir+json"}


def test_transactions_accepted_and_resend_does_not_duplicate(coverage: list[dict]) -> None:
    bundles = list(generate_patients(8, seed=17)) + coverage[:4]
    with (
        server_mod.ReferenceServer(port=0, db=":memory:", auth="none") as srv,
        httpx.Client(base_url=srv.base_url, timeout=30) as client,
    ):
        for b in bundles:
            r = client.post("/", content=orjson.dumps(b), headers=HEADERS)
            assert r.status_code == 200, r.text[:500]
        again = client.post("/", content=orjson.dumps(bundles[0]), headers=HEADERS)
        assert again.status_code == 200, again.text[:500]
        cccd = next(
            i["value"] for i in bundles[0]["entry"][0]["resource"]["identifier"] if i["system"] == CCCD
        )
        found = client.get("/Patient", params={"identifier": f"{CCCD}|{cccd}"}).json()
        assert found.get("total") == 1
