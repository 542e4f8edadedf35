"""Load submissions carry the run's tag and are removed after the run; nothing else is touched."""

from __future__ import annotations

import json

import httpx

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
        deleted, leftovers = remove_submissions(
            srv.base_url,
            "load-run-1",
            pool.submission_types(submissions),
            {"Accept": "application/fhir+json"},
        )
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

    original = httpx.Client.__init__

    def patched(self: httpx.Client, *args: object, **kwargs: object) -> None:
        kwargs["transport"] = httpx.MockTransport(handler)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    httpx.Client.__init__ = patched  # type: ignore[method-assign]
    try:
        deleted, leftovers = remove_submissions("http://fhir.test", "r", ["Patient"], {})
    finally:
        httpx.Client.__init__ = original  # type: ignore[method-assign]
    assert (deleted, leftovers, deleted_refs) == (1, [], ["/Patient/a"])
