"""What the server supports, read from the IG: its CapabilityStatement and SearchParameters.

The server does not hard-code search per resource: for each resource type the CapabilityStatement
declares, it looks up every declared SearchParameter (IG first, then core), compiles its FHIRPath
``expression`` once for that type, and indexes what the expression selects at write time.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import fhirpathpy
from fhirpathpy.models import models as _fp_models

from vhr_conformance import __version__, fhirpkg

log = logging.getLogger("vhr.server")

SUPPORTED_TYPES = frozenset({"token", "string", "date", "reference", "uri", "number", "quantity"})
# Parameters the server handles itself, whatever the CapabilityStatement says.
CONTROL_PARAMS = frozenset(
    {
        "_count",
        "_sort",
        "_since",
        "_type",
        "_include",
        "_revinclude",
        "_summary",
        "_elements",
        "_offset",
        "_format",
        "_total",
        "_pretty",
        "_include:iterate",
        "_revinclude:iterate",
    }
)
_WHERE_RESOLVE = re.compile(r"\.where\(\s*resolve\(\)\s+is\s+([A-Za-z]+)\s*\)")


@dataclass(frozen=True)
class Extractor:
    """One compiled union member of a SearchParameter expression, for one resource type."""

    fn: Callable[..., list[Any]]  # fhirpathpy compiled path: (resource, context) -> values
    target: str | None  # from `.where(resolve() is X)`: only references to X count


@dataclass
class SearchParam:
    code: str
    type: str
    url: str
    extractors: list[Extractor]
    targets: tuple[str, ...] = ()
    declared: bool = True  # False: indexed for $everything/_revinclude only, not searchable


@dataclass
class ResourceSupport:
    type: str
    interactions: frozenset[str]
    params: dict[str, SearchParam] = field(default_factory=dict)
    conditional_create: bool = True
    conditional_update: bool = True
    conditional_delete: bool = True
    search_include: tuple[str, ...] = ()
    search_rev_include: tuple[str, ...] = ()


def _split_union(expr: str) -> list[str]:
    """Split a FHIRPath expression on top-level ``|``."""
    parts: list[str] = []
    depth = 0
    quote = False
    cur: list[str] = []
    for ch in expr:
        if ch == "'":
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        if ch == "|" and depth == 0 and not quote:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if cur:
        parts.append("".join(cur).strip())
    return [p for p in parts if p]


def _strip_parens(part: str) -> str:
    while part.startswith("(") and part.endswith(")"):
        inner = part[1:-1]
        depth = 0
        balanced = True
        for ch in inner:
            depth += ch == "("
            depth -= ch == ")"
            if depth < 0:
                balanced = False
                break
        if not balanced or depth:
            break
        part = inner.strip()
    return part


def compile_for_type(expression: str, resource_type: str) -> list[Extractor]:
    """Compile the union members of `expression` that apply to `resource_type`."""
    out: list[Extractor] = []
    model = _fp_models["r4"]
    for raw in _split_union(expression):
        part = _strip_parens(raw)
        head = re.match(r"\(?\s*([A-Z][A-Za-z]+)\b", part)
        if not head:
            continue
        root = head.group(1)
        if root == "Resource" or root == "DomainResource":
            part = re.sub(r"^(\(?\s*)(Resource|DomainResource)\b", lambda m: m.group(1) + resource_type, part)
        elif root != resource_type:
            continue
        target = None
        found = _WHERE_RESOLVE.search(part)
        if found:
            target = found.group(1)
            part = _WHERE_RESOLVE.sub("", part)
        try:
            out.append(Extractor(fhirpathpy.compile(part, model), target))
        except Exception as exc:  # an expression fhirpathpy cannot parse is logged, not fatal
            log.warning("cannot compile search expression %r for %s: %s", part, resource_type, exc)
    return out


def _load_package_set() -> fhirpkg.PackageSet:
    from vhr_conformance import ig

    return ig.load_vhr_packages()


@lru_cache(maxsize=1)
def package_set() -> fhirpkg.PackageSet:
    """Core + VHR IG, loaded once per process."""
    return _load_package_set()


@lru_cache(maxsize=1)
def _search_params_by_base() -> dict[tuple[str, str], dict[str, Any]]:
    """(base type, code) → SearchParameter, IG definitions overriding core ones."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for pkg, entry in package_set().entries("SearchParameter"):
        res = pkg.read(entry)
        expr = res.get("expression") or ""
        for base in res.get("base") or []:
            key = (base, res.get("code", ""))
            # A shared core definition whose expression forgets this base must not hide a specific one.
            if key in found and f"{base}." not in expr and f"{base}." in (found[key].get("expression") or ""):
                continue
            found[key] = res
    return found


def resolve_search_param(resource_type: str, name: str, definition: str | None) -> dict[str, Any] | None:
    if definition:
        res = package_set().get(definition)
        if res is not None:
            return res
    table = _search_params_by_base()
    return (
        table.get((resource_type, name))
        or table.get(("Resource", name))
        or table.get(("DomainResource", name))
    )


def source_capability_statement() -> dict[str, Any]:
    """The IG's CapabilityStatement `vhr-server`."""
    from vhr_conformance import ig

    return copy.deepcopy(ig.capability_statement())


@dataclass
class Capabilities:
    """The instance CapabilityStatement plus the compiled search support behind it."""

    statement: dict[str, Any]
    resources: dict[str, ResourceSupport]

    def support(self, resource_type: str) -> ResourceSupport | None:
        return self.resources.get(resource_type)


def _compile_param(rtype: str, decl: dict[str, Any], declared: bool = True) -> SearchParam | None:
    name = decl.get("name", "")
    warn = log.warning if declared else log.debug
    if name in ("_id", "_lastUpdated"):
        return None  # served from the resources table itself
    sp = resolve_search_param(rtype, name, decl.get("definition"))
    if sp is None:
        log.warning("no SearchParameter definition for %s.%s: not served", rtype, name)
        return None
    if sp.get("type") not in SUPPORTED_TYPES or not sp.get("expression"):
        log.warning("SearchParameter %s (%s) is not supported: not served", name, sp.get("type"))
        return None
    extractors = compile_for_type(sp["expression"], rtype)
    if not extractors and decl.get("definition"):
        # e.g. core clinical-encounter does not cover Condition; Condition-encounter does
        fallback = resolve_search_param(rtype, name, None)
        if fallback is not None and fallback.get("expression") and fallback.get("type") == sp.get("type"):
            sp = fallback
            extractors = compile_for_type(sp["expression"], rtype)
    if not extractors:
        warn("SearchParameter %s has no expression for %s: not served", name, rtype)
        return None
    return SearchParam(name, sp["type"], sp.get("url", ""), extractors, tuple(sp.get("target") or ()))


# Types the server serves beyond the IG's statement, for consent (VHR-SEC-009): stored, searched
# and checked like every other type.
SERVER_TYPES: tuple[dict[str, Any], ...] = (
    {
        "type": "Consent",
        "documentation": "Sự đồng ý của người bệnh về chia sẻ dữ liệu (docs/server.md) / the patient's "
        "consent to sharing (docs/server.md)",
        "searchParam": [
            {"name": n, "definition": f"http://hl7.org/fhir/SearchParameter/{d}", "type": t}
            for n, d, t in (
                ("patient", "clinical-patient", "reference"),
                ("status", "Consent-status", "token"),
                ("scope", "Consent-scope", "token"),
                ("category", "Consent-category", "token"),
                ("actor", "Consent-actor", "reference"),
                ("date", "clinical-date", "date"),
            )
        ],
    },
)
AUDIT_EVENT_PARAMS = (
    ("date", "AuditEvent-date", "date"),
    ("patient", "AuditEvent-patient", "reference"),
    ("agent", "AuditEvent-agent", "reference"),
    ("entity", "AuditEvent-entity", "reference"),
)


def _audit_event_resource() -> dict[str, Any]:
    """The access log, served read-only as AuditEvent (search only, administrators only); it is not
    stored as resources, so it takes no part in includes, `$everything` or `$export`."""
    return {
        "type": "AuditEvent",
        "documentation": "Nhật ký truy cập, chỉ đọc, chỉ client quản trị (system/*.*) / the access log, "
        "read-only, administrator clients (system/*.*) only",
        "interaction": [{"code": "search-type"}],
        "searchParam": [
            {"name": n, "definition": f"http://hl7.org/fhir/SearchParameter/{d}", "type": t}
            for n, d, t in AUDIT_EVENT_PARAMS
        ],
    }


@lru_cache(maxsize=1)
def _compiled_source() -> tuple[dict[str, Any], dict[str, ResourceSupport]]:
    source = source_capability_statement()
    supports: dict[str, ResourceSupport] = {}
    for rest in source.get("rest") or []:
        if rest.get("mode") != "server":
            continue
        kept_resources = []
        declared = {r.get("type") for r in rest.get("resource") or []}
        extra = [dict(r) for r in SERVER_TYPES if r["type"] not in declared]
        for res in [*(rest.get("resource") or []), *extra]:
            rtype = res["type"]
            support = ResourceSupport(
                rtype,
                frozenset(i.get("code") for i in res.get("interaction") or []),
                conditional_create=bool(res.get("conditionalCreate", False)),
                conditional_update=bool(res.get("conditionalUpdate", False)),
                conditional_delete=res.get("conditionalDelete", "not-supported") != "not-supported",
                search_include=tuple(res.get("searchInclude") or ()),
                search_rev_include=tuple(res.get("searchRevInclude") or ()),
            )
            kept_params = []
            for decl in res.get("searchParam") or []:
                if decl.get("name") in ("_id", "_lastUpdated"):
                    kept_params.append(decl)
                    continue
                param = _compile_param(rtype, decl)
                if param is not None:
                    support.params[param.code] = param
                    kept_params.append(decl)
            # Every reference parameter is indexed even if undeclared: $everything and
            # _revinclude need to find what points at a resource.
            for (base, code), sp in _search_params_by_base().items():
                if base == rtype and sp.get("type") == "reference" and code not in support.params:
                    param = _compile_param(rtype, {"name": code, "definition": sp.get("url")}, declared=False)
                    if param is not None:
                        param.code = code
                        param.declared = False
                        support.params.setdefault(code, param)
            res["searchParam"] = kept_params
            _declare_full_support(res, support)
            supports[rtype] = support
            kept_resources.append(res)
        rest["resource"] = kept_resources
        _declare_includes(kept_resources, supports)
        audit = _audit_event_resource()
        kept_resources.append(audit)
        # compiled like any declared parameter, though the log is searched by auditevents.py
        audit_support = ResourceSupport("AuditEvent", frozenset({"search-type"}))
        for decl in audit["searchParam"]:
            param = _compile_param("AuditEvent", decl)
            if param is not None:
                audit_support.params[param.code] = param
        supports["AuditEvent"] = audit_support
        ops = rest.setdefault("operation", [])
        if not any(o.get("name") == "export" for o in ops):
            ops.append(
                {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}
            )
        codes = {i.get("code") for i in rest.get("interaction") or []}
        rest.setdefault("interaction", []).extend(
            {"code": c} for c in ("transaction", "batch", "history-system") if c not in codes
        )
    return source, supports


FULL_INTERACTIONS = (
    "read",
    "vread",
    "update",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
)


def _declare_full_support(res: dict[str, Any], support: ResourceSupport) -> None:
    """The server implements every interaction for every type it serves, more than the IG requires;
    the instance CapabilityStatement says so, so that it describes exactly what the server does."""
    have = {i.get("code") for i in res.get("interaction") or []}
    res.setdefault("interaction", []).extend({"code": c} for c in FULL_INTERACTIONS if c not in have)
    support.interactions = frozenset(FULL_INTERACTIONS)
    res["versioning"] = "versioned"
    res["readHistory"] = True
    res["updateCreate"] = True
    res["conditionalRead"] = "full-support"
    res["conditionalCreate"] = True
    res["conditionalUpdate"] = True
    res["conditionalDelete"] = "single"
    support.conditional_create = support.conditional_update = support.conditional_delete = True
    if res["type"] == "Patient":
        ops = res.setdefault("operation", [])
        if not any(o.get("name") == "everything" for o in ops):
            ops.append(
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                }
            )
        if not any(o.get("name") == "export" for o in ops):
            ops.append(
                {
                    "name": "export",
                    "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
                }
            )


def _declare_includes(resources: list[dict[str, Any]], supports: dict[str, ResourceSupport]) -> None:
    """searchInclude / searchRevInclude from the declared reference parameters."""
    served = set(supports)
    for res in resources:
        support = supports[res["type"]]
        refs = [p for p in support.params.values() if p.type == "reference" and p.declared]
        res["searchInclude"] = sorted(
            {f"{res['type']}:{p.code}" for p in refs} | set(res.get("searchInclude") or [])
        )
        rev = set(res.get("searchRevInclude") or [])
        for other in supports.values():
            for p in other.params.values():
                if p.type == "reference" and p.declared and (not p.targets or res["type"] in p.targets):
                    rev.add(f"{other.type}:{p.code}")
        res["searchRevInclude"] = sorted(r for r in rev if r.split(":")[0] in served)


def build_capabilities(base_url: str, auth: str, token_url: str | None) -> Capabilities:
    """The CapabilityStatement this instance serves (kind=instance) and its compiled search."""
    source, supports = _compiled_source()
    cs = copy.deepcopy(source)
    canonical = source.get("url")
    cs["id"] = "vhr-reference-server"
    cs.pop("url", None)
    cs["kind"] = "instance"
    cs["status"] = "active"
    cs["date"] = datetime.now(UTC).strftime("%Y-%m-%d")
    if canonical:
        cs["instantiates"] = [canonical]
    cs["text"] = {
        "status": "generated",
        "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Máy chủ tham chiếu VHR (FHIR R4 4.0.1) / '
        "VHR reference server (FHIR R4 4.0.1)</p></div>",
    }
    cs["software"] = {"name": "vhr-conformance reference server", "version": __version__}
    cs["implementation"] = {
        "description": "Máy chủ tham chiếu VHR của vhr-conformance / vhr-conformance reference VHR server",
        "url": base_url,
    }
    cs["fhirVersion"] = "4.0.1"
    formats = list(cs.get("format") or [])
    ext = list(cs.get("_format") or [None] * len(formats))
    for media in ("json", "application/fhir+json"):
        if media not in formats:
            formats.append(media)
            ext.append(None)
    cs["format"] = formats
    if any(ext):
        cs["_format"] = ext
    else:
        cs.pop("_format", None)
    # no FHIR PATCH here: the instance must not declare a patch format
    cs.pop("patchFormat", None)
    cs.pop("_patchFormat", None)
    for rest in cs.get("rest") or []:
        if rest.get("mode") != "server":
            continue
        if auth == "oauth" and token_url:
            rest["security"] = {
                "cors": False,
                "service": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                "code": "SMART-on-FHIR",
                            }
                        ]
                    }
                ],
                # No oauth-uris extension: it requires an authorize endpoint, which backend services
                # do not have; clients discover the token endpoint at /.well-known/smart-configuration.
                "description": f"OAuth2 client credentials / SMART Backend Services; token endpoint {token_url}, "
                "discovery at /.well-known/smart-configuration",
            }
        else:
            rest.pop("security", None)
    for rest in cs.get("rest") or []:
        for res in rest.get("resource") or []:
            for key in ("searchParam", "searchInclude", "searchRevInclude", "operation", "interaction"):
                if key in res and not res[key]:
                    del res[key]  # FHIR JSON has no empty arrays
    return Capabilities(cs, supports)
