"""Load submissions carry the run's tag and are removed after the run; nothing else is touched."""

from __future__ import annotations

import json

import httpx

from vhr_conformance.client import FhirClient
from vhr_conformance.load import pool
from vhr_conformance.load.cleanup import remove_submissions
from vhr_conformance.names import has_run_tag
from vhr_conformance.server import ReferenceServer

HEADERS = {"Accept": "application/fhir+json", "Content-Type": "application/fhir+json"}


def test_submissions_are_tagged_and_removed() -> None:
    submissions = pool.submission_pool(2, seed=4, fallback=[], run_id="load-run-1")
    bundles = [json.loads(s) for s in submissions]
    assert all(has_run_tag(e["resource"], "load-run-1") for b in bundles for e in b["entry"])
    with ReferenceServer() as srv:
        other = httpx.post(
            f"{srv.base_url}/Organization",
            json={"resourceType": "Organization", "name": "giữ lại"},
            headers=HEADERS,
        )
        assert other.status_code == 201
        for raw in submissions:
            assert httpx.post(srv.base_url + "/", content=raw, headers=HEADERS).status_code == 200
        with FhirClient(srv.base_url) as client:
            deleted, leftovers = remove_submissions(client, "load-run-1", pool.submission_types(submissions))
        assert leftovers == [] and deleted == sum(len(b["entry"]) for b in bundles)
        remaining = httpx.get(
            f"{srv.base_url}/Patient",
            params={"_tag": "https://vhr-conformance.org/fhir/CodeSystem/test-run|load-run-1"},
            headers=HEADERS,
        ).json()
        assert not remaining.get("entry")
        assert httpx.get(other.headers["location"].split("/_history")[0], headers=HEADERS).status_code == 200


def test_a_target_ignoring_tag_search_loses_nothing_untagged() -> None:
    """A server that ignores _tag answers every resource: only those with the run tag are deleted."""
    deleted_refs: list[str] = []
    tagged = {
        "resourceType": "Patient",
        "id": "a",
        "meta": {"tag": [{"system": "https://vhr-conformance.org/fhir/CodeSystem/test-run", "code": "r"}]},
    }
    untagged = {"resourceType": "Patient", "id": "b"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            deleted_refs.append(request.url.path)
            return httpx.Response(204)
        body = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": tagged}, {"resource": untagged}],
        }
        return httpx.Response(200, json=body)

    class Client:  # what remove_submissions uses of FhirClient
        def get(self, path: str, params: object = None) -> object:
            return _Resp(handler(httpx.Request("GET", f"http://fhir.test/{path}")))

        def delete(self, path: str) -> object:
            return _Resp(handler(httpx.Request("DELETE", f"http://fhir.test/{path}")))

    deleted, leftovers = remove_submissions(Client(), "r", ["Patient"])
    assert (deleted, leftovers, deleted_refs) == (1, [], ["/Patient/a"])


class _Resp:
    def __init__(self, r: httpx.Response) -> None:
        self.status = r.status_code
        self.json = r.json() if r.content else None


def test_vhr_load_leaves_nothing_on_a_vendor_target(tmp_path: object) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    out = Path(str(tmp_path))
    with ReferenceServer() as srv:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VHR_")}
        cmd = [
            str(Path(sys.executable).with_name("vhr")),
            "load",
            "--target",
            srv.base_url,
            "--duration",
            "4s",
        ]
        cmd += ["--users", "3", "--report-dir", str(out), "--run-id", "cleanme"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, check=False)
        summary = json.loads((out / "cleanme" / "load" / "summary.json").read_text(encoding="utf-8"))
        groups = summary.get("groups") or {}
        tag = "https://vhr-conformance.org/fhir/CodeSystem/test-run|cleanme"
        left = {
            t: httpx.get(f"{srv.base_url}/{t}", params={"_tag": tag}, headers=HEADERS).json().get("entry")
            for t in ("Patient", "Encounter", "Observation")
        }
    submitted = (groups.get("submit-transaction") or {}).get("requests", 0)
    assert submitted > 0, done.stderr[-2000:]
    assert summary["submissionLeftovers"] == [] and not any(left.values()), left
