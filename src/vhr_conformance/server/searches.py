"""The search interaction: compiled query, `_include`/`_revinclude` (with :iterate), `_summary`
and `_elements`, and the searchset Bundle. The query compiler itself is :mod:`.search`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vhr_conformance.server import errors as E
from vhr_conformance.server.auditevents import AUDIT_EVENT, AuditEvents
from vhr_conformance.server.capability import CONTROL_PARAMS, package_set
from vhr_conformance.server.context import Context
from vhr_conformance.server.errors import FhirError
from vhr_conformance.server.model import Caller, Result
from vhr_conformance.server.pages import int_param, page_count, page_links, searchset_bytes
from vhr_conformance.server.search import SearchCompiler, includes, run_search
from vhr_conformance.server.store import Stored


class Searches:
    """Type-level search over the context's store."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._summary_cache: dict[str, frozenset[str]] = {}
        self.audit_events = AuditEvents(ctx)

    def search(
        self, caller: Caller, rtype: str, params: list[tuple[str, str]], strict: bool = False
    ) -> Result:
        support = self.ctx.support(rtype, "search-type")
        if rtype == AUDIT_EVENT:  # the access log, not stored resources (also from a batch GET)
            return self.audit_events.search(caller, params)
        self.ctx.authorize(caller, rtype, "s")
        args: dict[str, str] = {}
        for k, v in params:
            if k in CONTROL_PARAMS and k not in (
                "_include",
                "_revinclude",
                "_include:iterate",
                "_revinclude:iterate",
            ):
                args[k] = v
        compiler = SearchCompiler(self.ctx.caps, self.ctx.faults, self.ctx.base_url)
        query = compiler.compile(rtype, params, strict)
        for through in sorted(query.through):
            # a chain filters on another type's data: the token must be allowed to search it
            if not self.ctx.may_see(caller, through, self.ctx.faults.scope_bypass_chain, perms="s"):
                raise FhirError(403, "forbidden", E.FORBIDDEN.format(need=f"system/{through}.search"))
        summary = args.get("_summary")
        count = page_count(self.ctx, args.get("_count"))
        offset = int_param(args.get("_offset"), "_offset")
        order = compiler.order_by(rtype, args.get("_sort"))
        count_only = summary == "count" and not self.ctx.faults.summary_count_returns_entries
        limit = self.ctx.restriction(caller)
        if limit is not None:
            # patients whose consent does not allow this caller are left out of the matches (and
            # so of the total and the pages), never the whole search refused
            clause, clause_args = limit.sql("r")
            query.where.append(clause)
            query.args.extend(clause_args)
        total, rows = run_search(self.ctx.store, query, order, 0 if count_only else count, offset)
        included: list[Stored] = []
        inc = [v for k, v in params if k == "_include"]
        rev = [v for k, v in params if k == "_revinclude"]
        iter_inc = [v for k, v in params if k == "_include:iterate"]
        iter_rev = [v for k, v in params if k == "_revinclude:iterate"]
        if (inc or rev or iter_inc or iter_rev) and not self.ctx.faults.ignore_include and not count_only:
            for spec in inc:
                if spec.split(":")[0] != rtype and spec != "*":
                    raise FhirError(400, "invalid", E.BAD_PARAM.format(p="_include"))
            if "*" in inc:
                inc = [s for s in inc if s != "*"] + [
                    f"{rtype}:{code}" for code, p in support.params.items() if p.type == "reference"
                ]
            seen = {x.rid for x in rows}
            included = self._included(caller, rows, inc, rev, seen)
            # :iterate applies to what was found so far (and may be seen), a few levels deep
            frontier = rows + included
            for _ in range(3):
                if not (iter_inc or iter_rev) or not frontier:
                    break
                more = self._included(caller, frontier, iter_inc, iter_rev, seen)
                included += more
                frontier = more
        used = list(query.used)
        for k, v in params:
            if k in (
                "_include",
                "_revinclude",
                "_include:iterate",
                "_revinclude:iterate",
                "_sort",
                "_summary",
                "_elements",
                "_total",
            ):
                used.append((k, v))
        self.ctx.audit(caller, "search", rtype, None, str(used), 200, rows + included)
        links = page_links(self.ctx, rtype, used, count, offset, total)
        if count_only:
            links = links[:1]  # a count has no pages
        elements = [e.strip() for e in args.get("_elements", "").split(",") if e.strip()]
        transform = self._transform(rtype, summary, elements)
        return Result(200, searchset_bytes(self.ctx, "searchset", total, links, rows, included, transform))

    def _included(
        self, caller: Caller, found: list[Stored], inc: list[str], rev: list[str], seen: set[int]
    ) -> list[Stored]:
        """What `_include`/`_revinclude` add to `found`, minus what the token may not see and what
        is already in the answer (`seen` grows with what is returned)."""
        out: list[Stored] = []
        for specs, is_rev, bypass in (
            (inc, False, self.ctx.faults.scope_bypass_include),
            (rev, True, self.ctx.faults.scope_bypass_revinclude),
        ):
            if not specs:
                continue
            got = includes(
                self.ctx.store, self.ctx.caps, found, [] if is_rev else specs, specs if is_rev else []
            )
            for x in self.ctx.visible(caller, got):
                if x.rid not in seen and self.ctx.may_see(caller, x.type, bypass):
                    seen.add(x.rid)
                    out.append(x)
        return out

    def _summary_elements(self, rtype: str) -> frozenset[str]:
        cached = self._summary_cache.get(rtype)
        if cached is None:
            sd = package_set().get(f"http://hl7.org/fhir/StructureDefinition/{rtype}") or {}
            names = set()
            for el in (sd.get("snapshot") or {}).get("element", []):
                path = el.get("path", "")
                if path.count(".") == 1 and el.get("isSummary"):
                    names.add(path.split(".", 1)[1].replace("[x]", ""))
            cached = frozenset(names)
            self._summary_cache[rtype] = cached
        return cached

    def _transform(
        self, rtype: str, summary: str | None, elements: list[str]
    ) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
        if elements:
            keep = {e.split(".", 1)[0] for e in elements}

            def only(res: dict[str, Any]) -> dict[str, Any]:
                out = {k: v for k, v in res.items() if k in ("resourceType", "id", "meta") or k in keep}
                return _subsetted(out)

            return only
        if summary == "true":
            names = self._summary_elements(rtype)

            def summ(res: dict[str, Any]) -> dict[str, Any]:
                out = {
                    k: v
                    for k, v in res.items()
                    if k in ("resourceType", "id", "meta")
                    or any(k == n or (k.startswith(n) and k[len(n) :][:1].isupper()) for n in names)
                }
                return _subsetted(out)

            return summ
        if summary == "text":
            return lambda res: _subsetted(
                {k: v for k, v in res.items() if k in ("resourceType", "id", "meta", "text")}
            )
        if summary == "data":
            return lambda res: _subsetted({k: v for k, v in res.items() if k != "text"})
        if summary not in (None, "", "false", "count"):
            raise FhirError(400, "invalid", E.BAD_PARAM.format(p="_summary"))
        return None


def _subsetted(res: dict[str, Any]) -> dict[str, Any]:
    meta = dict(res.get("meta") or {})
    tags = [
        *meta.get("tag", []),
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"},
    ]
    meta["tag"] = tags
    res["meta"] = meta
    return res
