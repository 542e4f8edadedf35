"""Removing what a load run's submissions created on the target.

Every submitted transaction's resources carry the run's tag (`names.run_tag`), so after the run
each resource type is searched by ``_tag`` and every match that really carries the tag is
deleted. A target that ignores ``_tag`` would answer everything: deleting only resources whose
own ``meta.tag`` holds the run tag keeps anything else safe. Requests go through the harness's
bounded client (same origin only, size and time caps). What cannot be found or deleted is
returned for the report; nothing is left unmentioned.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from vhr_conformance.names import RUN_TAG_SYSTEM, has_run_tag

PARALLEL = 8
MAX_PAGES = 1000


def tagged(client: Any, rtype: str, run_id: str) -> tuple[list[str], str | None]:
    """`Type/id` of every resource of `rtype` carrying the run tag, and a problem when the search failed."""
    path: str | None = rtype
    params: list[tuple[str, str]] | None = [("_tag", f"{RUN_TAG_SYSTEM}|{run_id}"), ("_count", "100")]
    found: list[str] = []
    for _ in range(MAX_PAGES):
        if path is None:
            break
        try:
            resp = client.get(path, params=params)
        except Exception as exc:  # transport trouble, off-origin next link, a bound: say it, keep going
            return found, f"{rtype}: {type(exc).__name__}: {exc}"
        params = None  # the next link carries them
        body = resp.json if resp.status == 200 else None
        if not isinstance(body, dict):
            return found, f"{rtype}: search by _tag answered HTTP {resp.status}"
        for entry in body.get("entry", []) or []:
            res = entry.get("resource") or {}
            if res.get("resourceType") == rtype and res.get("id") and has_run_tag(res, run_id):
                found.append(f"{rtype}/{res['id']}")
        path = next(
            (lk.get("url") for lk in body.get("link", []) or [] if lk.get("relation") == "next"), None
        )
    return list(dict.fromkeys(found)), None


def remove_submissions(client: Any, run_id: str, types: Iterable[str]) -> tuple[int, list[str]]:
    """Delete every resource the run tagged, through `client` (a `FhirClient`); (deleted, leftovers)."""
    leftovers: list[str] = []
    targets: list[str] = []
    for rtype in dict.fromkeys(types):
        found, problem = tagged(client, rtype, run_id)
        targets += found
        if problem:
            leftovers.append(problem)

    def delete(ref: str) -> str | None:
        try:
            resp = client.delete(ref)
        except Exception as exc:
            return f"{ref}: {type(exc).__name__}"
        return None if resp.status in (200, 202, 204, 404, 410) else f"{ref}: HTTP {resp.status}"

    # Referencing resources first (Patients last), so referential integrity does not refuse deletes.
    targets.sort(key=lambda r: r.startswith(("Patient/", "Organization/", "Practitioner/")))
    with ThreadPoolExecutor(PARALLEL) as pool:
        failures = [f for f in pool.map(delete, targets) if f]
    leftovers += failures
    return len(targets) - len(failures), leftovers
