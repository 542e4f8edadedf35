"""Removing what a load run's submissions created on the target.

Every submitted transaction's resources carry the run's tag (`names.run_tag`), so after the run
each resource type is searched by ``_tag`` and every match that really carries the tag is
deleted. A target that ignores ``_tag`` would answer everything: deleting only resources whose
own ``meta.tag`` holds the run tag keeps anything else safe. What cannot be found or deleted is
returned for the report; nothing is left unmentioned.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx

from vhr_conformance.names import RUN_TAG_SYSTEM, has_run_tag

PARALLEL = 8
MAX_PAGES = 1000


def _same_origin(base: str, url: str) -> bool:
    a, b = urlsplit(base), urlsplit(url)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def tagged(
    http: httpx.Client, base: str, rtype: str, run_id: str, headers: dict[str, str]
) -> tuple[list[str], str | None]:
    """`Type/id` of every resource of `rtype` carrying the run tag, and a problem when the search failed."""
    url: str | None = f"{base}/{rtype}"
    params: dict[str, str] | None = {
        "_tag": f"{RUN_TAG_SYSTEM}|{run_id}",
        "_count": "100",
        "_elements": "meta",
    }
    found: list[str] = []
    for _ in range(MAX_PAGES):
        if url is None:
            break
        resp = http.get(url, params=params, headers=headers)
        params = None  # the next link carries them
        if resp.status_code != 200:
            return found, f"{rtype}: search by _tag answered HTTP {resp.status_code}"
        try:
            body = resp.json()
        except ValueError:
            return found, f"{rtype}: search by _tag answered no JSON"
        for entry in body.get("entry", []) or []:
            res = entry.get("resource") or {}
            if res.get("resourceType") == rtype and res.get("id") and has_run_tag(res, run_id):
                found.append(f"{rtype}/{res['id']}")
        nxt = next((lk.get("url") for lk in body.get("link", []) or [] if lk.get("relation") == "next"), None)
        url = nxt if nxt and _same_origin(base, nxt) else None
    return list(dict.fromkeys(found)), None


def remove_submissions(
    base: str,
    run_id: str,
    types: Iterable[str],
    headers: dict[str, str],
    verify: Any = True,
    timeout: float = 15.0,
) -> tuple[int, list[str]]:
    """Delete every resource the run tagged; (deleted, leftovers with their reason)."""
    base = base.rstrip("/")
    leftovers: list[str] = []
    targets: list[str] = []
    with httpx.Client(verify=verify, timeout=timeout) as http:
        for rtype in dict.fromkeys(types):
            found, problem = tagged(http, base, rtype, run_id, headers)
            targets += found
            if problem:
                leftovers.append(problem)

        def delete(ref: str) -> str | None:
            try:
                resp = http.delete(f"{base}/{ref}", headers=headers)
            except httpx.HTTPError as exc:
                return f"{ref}: {type(exc).__name__}"
            return (
                None if resp.status_code in (200, 202, 204, 404, 410) else f"{ref}: HTTP {resp.status_code}"
            )

        # Referencing resources first (Patients last), so referential integrity does not refuse deletes.
        targets.sort(key=lambda r: r.startswith(("Patient/", "Organization/", "Practitioner/")))
        with ThreadPoolExecutor(PARALLEL) as pool:
            failures = [f for f in pool.map(delete, targets) if f]
    leftovers += failures
    return len(targets) - len(failures), leftovers
