"""Bundles posted to the base URL: batch (each entry on its own) and transaction (all or
nothing, ids planned up front so `urn:uuid:` references may point forward, references checked
once everything is written). Entries run through the same interactions as single requests."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qsl

import orjson

from vhr_conformance.server import errors as E
from vhr_conformance.server.checks import scrub
from vhr_conformance.server.context import TYPE_RE, Context
from vhr_conformance.server.errors import FhirError
from vhr_conformance.server.interactions import Interactions
from vhr_conformance.server.model import REASONS, Caller, Result
from vhr_conformance.server.searches import Searches
from vhr_conformance.server.store import Stored, new_id

_METHOD_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "GET": 3, "HEAD": 3}


class Bundles:
    """batch and transaction over the interactions and searches of one server."""

    def __init__(self, ctx: Context, rest: Interactions, searches: Searches) -> None:
        self.ctx = ctx
        self.rest = rest
        self.searches = searches

    def bundle(self, caller: Caller, bundle: dict[str, Any], prefer_return: str | None) -> Result:
        if bundle.get("resourceType") != "Bundle" or bundle.get("type") not in ("transaction", "batch"):
            raise FhirError(400, "invalid", E.BAD_BUNDLE.format(why="type must be transaction or batch"))
        entries = bundle.get("entry") or []
        if not isinstance(entries, list):
            raise FhirError(400, "invalid", E.BAD_BUNDLE.format(why="entry"))
        for i, e in enumerate(entries):
            req = e.get("request") if isinstance(e, dict) else None
            if (
                not isinstance(req, dict)
                or req.get("method") not in ("GET", "HEAD", "POST", "PUT", "DELETE")
                or not req.get("url")
            ):
                raise FhirError(400, "invalid", E.BAD_BUNDLE.format(why=f"entry[{i}].request"))
        if bundle["type"] == "batch":
            return self._batch(caller, entries, prefer_return)
        return self._transaction(caller, entries, prefer_return)

    def _entry_response(self, res: Result, prefer_return: str | None) -> dict[str, Any]:
        response: dict[str, Any] = {"status": f"{res.status} {REASONS.get(res.status, '')}".strip()}
        if res.headers.get("Location"):
            response["location"] = res.headers["Location"]
        if res.stored is not None and not self.ctx.faults.no_etag:
            response["etag"] = f'W/"{res.stored.version}"'
            response["lastModified"] = res.stored.last_updated
        entry: dict[str, Any] = {}
        if res.body is not None and prefer_return != "minimal":
            entry["resource"] = orjson.loads(res.body) if isinstance(res.body, bytes) else res.body
        if res.stored is not None and res.stored.id:
            entry["fullUrl"] = f"{self.ctx.base_url}/{res.stored.type}/{res.stored.id}"
        entry["response"] = response
        return entry

    def _run_entry(self, caller: Caller, entry: dict[str, Any], in_tx: bool) -> Result:
        req = entry["request"]
        method = req["method"]
        url = req["url"]
        if url.startswith(self.ctx.base_url + "/") and self.ctx.base_url:
            url = url[len(self.ctx.base_url) + 1 :]
        path, _, query = url.lstrip("/").partition("?")
        segs = [s for s in path.split("/") if s]
        resource = entry.get("resource")
        if method in ("POST", "PUT") and not isinstance(resource, dict):
            raise FhirError(400, "invalid", E.NOT_RESOURCE)
        if method == "POST" and len(segs) == 1:
            return self.rest.create(caller, segs[0], resource, req.get("ifNoneExist"), in_tx)  # type: ignore[arg-type]
        if method == "PUT" and len(segs) == 2:
            return self.rest.update(caller, segs[0], segs[1], resource, req.get("ifMatch"), in_tx)  # type: ignore[arg-type]
        if method == "PUT" and len(segs) == 1 and query:
            return self.rest.conditional_update(caller, segs[0], query, resource, in_tx)  # type: ignore[arg-type]
        if method == "DELETE" and len(segs) == 2:
            return self.rest.delete(caller, segs[0], segs[1], in_tx)
        if method == "DELETE" and len(segs) == 1 and query:
            return self.rest.conditional_delete(caller, segs[0], query, in_tx)
        if method in ("GET", "HEAD"):
            if self.ctx.faults.scope_bypass_batch:
                caller = Caller(
                    caller.client, caller.address, None, caller.registered
                )  # the fault: unchecked
            params = parse_qsl(query, keep_blank_values=True)
            if len(segs) == 1:
                return self.searches.search(caller, segs[0], params)
            if len(segs) == 2:
                return self.rest.read(caller, segs[0], segs[1])
            if len(segs) == 4 and segs[2] == "_history":
                return self.rest.vread(caller, segs[0], segs[1], segs[3])
        raise FhirError(400, "invalid", E.BAD_BUNDLE.format(why=f"unsupported request {method} {url[:80]}"))

    def _batch(self, caller: Caller, entries: list[dict[str, Any]], prefer_return: str | None) -> Result:
        out = []
        for entry in entries:
            try:
                if isinstance(entry.get("resource"), dict) and entry["request"]["method"] in ("POST", "PUT"):
                    self.ctx.check_resource(entry["resource"], entry["resource"].get("resourceType", ""))
                res = self._run_entry(caller, entry, in_tx=False)
                out.append(self._entry_response(res, prefer_return))
            except FhirError as err:
                if err.status in (401, 403, 429):  # a refused entry is logged like a refused request
                    req = entry.get("request") or {}
                    path = "/" + str(req.get("url", "")).split("?", 1)[0].lstrip("/")
                    segs = [x for x in path.split("/") if x]
                    args = dict(zip(("type", "id"), segs[:2], strict=False))
                    self.ctx.audit_refused(caller, None, str(req.get("method", "")), path, args, err.status)
                outcome = err.operation_outcome()
                if (
                    isinstance(entry.get("resource"), dict)
                    and not self.ctx.faults.leak_personal_data_in_errors
                ):
                    outcome = scrub(outcome, entry["resource"])
                out.append(
                    {
                        "response": {
                            "status": f"{err.status} {REASONS.get(err.status, '')}".strip(),
                            "outcome": outcome,
                        }
                    }
                )
        return Result(200, {"resourceType": "Bundle", "id": new_id(), "type": "batch-response", "entry": out})

    def _transaction(
        self, caller: Caller, entries: list[dict[str, Any]], prefer_return: str | None
    ) -> Result:
        # Validate the whole content first (nothing is locked while the validator runs).
        for i, entry in enumerate(entries):
            res = entry.get("resource")
            if entry["request"]["method"] in ("POST", "PUT") and isinstance(res, dict):
                try:
                    self.ctx.check_resource(res, res.get("resourceType", ""))
                except FhirError as err:
                    if err.outcome:
                        for issue in err.outcome.get("issue", []):
                            if "expression" in issue:
                                issue["expression"] = [
                                    f"Bundle.entry[{i}].resource.{x.split('.', 1)[-1]}"
                                    if not x.startswith("Bundle.")
                                    else x
                                    for x in issue["expression"]
                                ]
                    raise
        # Ids for every POST up front, so urn:uuid references can point forward.
        id_map: dict[str, str] = {}
        planned: dict[int, str] = {}
        for i, entry in enumerate(entries):
            req = entry["request"]
            full = entry.get("fullUrl")
            url = req["url"].split("?", 1)[0].strip("/")
            if req["method"] == "POST" and isinstance(entry.get("resource"), dict):
                planned[i] = new_id()
                if full:
                    id_map[full] = f"{url}/{planned[i]}"
            elif req["method"] == "PUT" and full and "?" not in req["url"]:
                id_map[full] = url
        order = sorted(range(len(entries)), key=lambda i: _METHOD_ORDER[entries[i]["request"]["method"]])
        results: dict[int, Result] = {}
        atomic = not self.ctx.faults.non_atomic_transaction
        existing: dict[int, Stored] = {}
        same_as: dict[int, int] = {}

        def resolve_conditional_creates() -> None:
            """Before anything is written: a conditional create that matches redirects every
            reference to its fullUrl onto the existing resource; two entries of the bundle with
            the same condition become one resource."""
            if self.ctx.faults.conditional_create_duplicates:
                return
            first: dict[tuple[str, str], int] = {}
            for i in sorted(planned):
                req = entries[i]["request"]
                if not req.get("ifNoneExist"):
                    continue
                rtype = req["url"].split("?", 1)[0].strip("/")
                cond = req["ifNoneExist"].split("?", 1)[-1]
                found = self.ctx.match(rtype, parse_qsl(cond, keep_blank_values=True))
                if len(found) > 1:
                    raise FhirError(412, "multiple-matches", E.MULTIPLE_MATCHES)
                target = None
                if found:
                    existing[i] = found[0]
                    target = f"{rtype}/{found[0].id}"
                elif (rtype, cond) in first:
                    same_as[i] = first[(rtype, cond)]
                    target = f"{rtype}/{planned[same_as[i]]}"
                else:
                    first[(rtype, cond)] = i
                if target and entries[i].get("fullUrl"):
                    id_map[entries[i]["fullUrl"]] = target

        written: list[tuple[int, dict[str, Any]]] = []

        def run_all() -> None:
            resolve_conditional_creates()
            self.ctx.bundle_depth += 1
            try:
                run_entries()
            finally:
                self.ctx.bundle_depth -= 1
            # references are checked once everything is written, so entries may point forward
            for i, res in written:
                self.ctx.check_references(res, f"Bundle.entry[{i}].resource.")

        def run_entries() -> None:
            for i in order:
                entry = entries[i]
                if isinstance(entry.get("resource"), dict):
                    entry = dict(entry, resource=self._rewrite_refs(copy.deepcopy(entry["resource"]), id_map))
                    if (
                        entry["request"]["method"] in ("POST", "PUT")
                        and i not in existing
                        and i not in same_as
                    ):
                        written.append((i, entry["resource"]))
                if i in existing or i in same_as:
                    found = existing[i] if i in existing else results[same_as[i]].stored
                    assert found is not None
                    res = Result(200, found.body, self.ctx.headers(found), found)
                elif i in planned:
                    res = self._create_planned(caller, entry, planned[i])
                else:
                    res = self._run_entry(caller, entry, in_tx=True)
                if (
                    entry["request"]["method"] == "PUT"
                    and "?" in entry["request"]["url"]
                    and res.stored
                    and entry.get("fullUrl")
                ):
                    id_map[entry["fullUrl"]] = f"{res.stored.type}/{res.stored.id}"
                results[i] = res
                if not atomic:
                    self.ctx.store.conn.execute("COMMIT")
                    self.ctx.store.conn.execute("BEGIN IMMEDIATE")

        with self.ctx.store.transaction():
            run_all()  # non-atomic fault: earlier entries were already committed one by one
        out = [self._entry_response(results[i], prefer_return) for i in range(len(entries))]
        return Result(
            200, {"resourceType": "Bundle", "id": new_id(), "type": "transaction-response", "entry": out}
        )

    def _create_planned(self, caller: Caller, entry: dict[str, Any], rid: str) -> Result:
        """POST inside a transaction with its id chosen in advance (so urn:uuid can point forward)."""
        req = entry["request"]
        rtype = req["url"].split("?", 1)[0].strip("/")
        self.ctx.support(rtype, "create")
        self.ctx.authorize(caller, rtype, "c")
        resource = entry["resource"]
        if resource.get("resourceType") != rtype:
            raise FhirError(
                400, "invalid", E.TYPE_MISMATCH.format(got=str(resource.get("resourceType"))[:64], want=rtype)
            )
        resource.pop("id", None)
        stored = self.ctx.store.put(rtype, rid, resource, "POST")
        self.ctx.audit(caller, "create", rtype, rid, None, 201)
        headers = self.ctx.headers(stored)
        if not self.ctx.faults.no_location_header:
            headers["Location"] = self.ctx.location(stored)
        return Result(201 if not self.ctx.faults.status_200_on_create else 200, stored.body, headers, stored)

    def _rewrite_refs(self, node: Any, id_map: dict[str, str]) -> Any:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "reference" and isinstance(v, str):
                    if v in id_map:
                        node[k] = id_map[v]
                    elif "?" in v and TYPE_RE.match(v.split("?", 1)[0]):
                        rtype, query = v.split("?", 1)
                        found = self.ctx.match(rtype, parse_qsl(query, keep_blank_values=True))
                        if len(found) != 1:
                            raise FhirError(
                                412 if found else 404, "not-found", E.UNRESOLVED_REF.format(ref=rtype + "?…")
                            )
                        node[k] = f"{rtype}/{found[0].id}"
                else:
                    self._rewrite_refs(v, id_map)
        elif isinstance(node, list):
            for item in node:
                self._rewrite_refs(item, id_map)
        return node
