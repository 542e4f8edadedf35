"""The reference server's ASGI application: FHIR R4 REST over the SQLite store.

Every interaction is a plain method returning a :class:`Result`; the HTTP layer adds content
negotiation, authentication, limits, `Prefer` handling and the fault switches around it. Bundles
(transaction, batch) call the same methods, so one entry behaves exactly like the same request.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import copy
import email.utils
import gzip
import itertools
import json
import logging
import os
import random
import re
import threading
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vhr_conformance.fhirutil import located_references
from vhr_conformance.i18n import Text
from vhr_conformance.server import bulk
from vhr_conformance.server import errors as E
from vhr_conformance.server.auth import Authority, Client, OAuthError, RateLimiter
from vhr_conformance.server.capability import CONTROL_PARAMS, Capabilities, build_capabilities, package_set
from vhr_conformance.server.errors import FhirError, operation_outcome
from vhr_conformance.server.search import (
    DEFAULT_COUNT,
    MAX_COUNT,
    MAX_INTEGER,
    SearchCompiler,
    includes,
    run_search,
)
from vhr_conformance.server.store import Store, Stored, new_id

log = logging.getLogger("vhr.server")

FHIR_JSON = "application/fhir+json"
JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
_ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_TYPE_RE = re.compile(r"^[A-Z][A-Za-z]+$")
PERSONAL_TYPES_EXEMPT = frozenset({"CapabilityStatement", "OperationOutcome"})


@dataclass
class ServerConfig:
    """Everything that shapes one server instance (picklable to JSON for worker processes)."""

    db: str = ":memory:"
    auth: str = "none"
    faults: frozenset[str] = frozenset()
    latency_ms: int = 1500
    max_body_bytes: int = 20 * 1024 * 1024
    rate_limit: float | None = None  # requests per second per client; None = off
    rate_burst: float | None = None
    clients: tuple[Client, ...] = ()
    token_secret: str | None = None
    base_url: str | None = None
    validate: bool = True
    random_seed: int = 7


@dataclass
class Result:
    status: int
    body: dict[str, Any] | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    stored: Stored | None = None


@dataclass
class Caller:
    """Who is calling, for scopes and the audit log."""

    client: str | None
    address: str | None
    scopes: list[Any] | None  # None: no authorization in force


def http_date(instant: str) -> str:
    return email.utils.format_datetime(datetime.fromisoformat(instant), usegmt=True)


def _personal_strings(resource: Any) -> set[str]:
    """Values in a submitted resource that identify a person (never echoed in errors)."""
    found: set[str] = set()

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif (
            isinstance(node, str)
            and key
            in (
                "value",
                "family",
                "given",
                "text",
                "line",
                "birthDate",
                "name",
                "city",
                "display",
            )
            and len(node) >= 3
        ):
            found.add(node)

    walk(resource)
    return found


def scrub(outcome: dict[str, Any], resource: Any) -> dict[str, Any]:
    """Remove submitted personal values from an OperationOutcome's texts."""
    secrets_ = sorted(_personal_strings(resource), key=len, reverse=True)
    if not secrets_:
        return outcome
    raw = orjson.dumps(outcome).decode()
    for s in secrets_:
        escaped = orjson.dumps(s).decode()[1:-1]
        raw = raw.replace(escaped, "***")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return operation_outcome("error", "invalid", E.INVALID)


class Validation:
    """The project's validator, loaded lazily (compiling the profiles takes a moment)."""

    def __init__(self) -> None:
        self._validator: Any = None
        self._to_oo: Callable[[Any], dict[str, Any]] | None = None
        self.available = True
        # The validator compiles profiles lazily and is not safe to call from several threads at
        # once; it is CPU-bound under the GIL anyway, so serialising it costs nothing.
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._validator is not None or not self.available:
            return
        try:
            from vhr_conformance.validator import Validator, to_operation_outcome
        except ImportError:
            self.available = False
            log.warning("vhr_conformance.validator is not available: only basic checks on write")
            return
        self._validator = Validator.default()
        self._to_oo = to_operation_outcome

    def warm(self) -> None:
        try:
            with self._lock:
                self._load()
        except Exception:  # warming is best-effort; a real write will report the problem
            log.exception("validator warm-up failed")

    def check(self, resource: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """(has errors, OperationOutcome with every issue)."""
        with self._lock:
            self._load()
            if self._validator is None:
                return False, {"resourceType": "OperationOutcome", "issue": []}
            issues = self._validator.validate(resource)
        bad = any(getattr(i, "severity", "") in ("error", "fatal") for i in issues)
        assert self._to_oo is not None
        return bad, self._to_oo(issues)


class FhirApp:
    """State and interactions of one server instance."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.faults = config.faults
        self.base_url = (config.base_url or "").rstrip("/")
        self.caps: Capabilities = build_capabilities(self.base_url or "http://127.0.0.1", config.auth, None)
        self.store = Store(config.db, self.caps, self.faults)
        self.store.base_url = self.base_url
        bulk.ensure_schema(self.store)
        self.authority = Authority({c.client_id: c for c in config.clients}, faults=config.faults)
        if config.token_secret:
            self.authority.secret = config.token_secret
        self.limiter = (
            RateLimiter(config.rate_limit, config.rate_burst or max(1.0, config.rate_limit))
            if (config.rate_limit)
            else None
        )
        self.validation = Validation()
        self.rng = random.Random(config.random_seed)
        self._cs_bytes: bytes | None = None
        self._bundle_depth = 0  # >0 while a transaction runs: references are checked at its end
        self._summary_cache: dict[str, frozenset[str]] = {}
        self.load_skipped: list[tuple[str, Text]] = []  # what the last load_directory did not load

    # ------------------------------------------------------------------ base URL
    def set_base_url(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.store.base_url = self.base_url
        self.caps = build_capabilities(self.base_url, self.config.auth, self.token_url)
        self.store.caps = self.caps
        self._cs_bytes = None

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/auth/token"

    def link_base(self) -> str:
        if "paging-link-other-host" in self.faults:
            return "http://other-host.invalid:8080"
        return self.base_url

    # ------------------------------------------------------------------ capability
    def capability(self) -> bytes:
        if "no-capability-statement" in self.faults:
            raise FhirError(404, "not-found", E.NOT_FOUND.format(what="CapabilityStatement"))
        if self._cs_bytes is None:
            cs = copy.deepcopy(self.caps.statement)
            if "wrong-fhir-version" in self.faults:
                cs["fhirVersion"] = "3.0.2"
            self._cs_bytes = orjson.dumps(cs)
        return self._cs_bytes

    def smart_configuration(self) -> dict[str, Any]:
        if "no-smart-configuration" in self.faults or self.config.auth != "oauth":
            raise FhirError(404, "not-found", E.NOT_FOUND.format(what="smart-configuration"))
        return {
            "issuer": self.base_url,
            "token_endpoint": self.token_url,
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
            ],
            "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
            "grant_types_supported": ["client_credentials"],
            "scopes_supported": [
                "system/*.read",
                "system/*.write",
                "system/*.*",
                "system/*.rs",
                "system/*.cruds",
            ],
            "capabilities": [
                "client-confidential-symmetric",
                "client-confidential-asymmetric",
                "permission-v1",
                "permission-v2",
            ],
        }

    # ------------------------------------------------------------------ helpers
    def _support(self, rtype: str, interaction: str | None = None) -> Any:
        if not _TYPE_RE.match(rtype):
            raise FhirError(404, "not-found", E.UNKNOWN_TYPE.format(t=rtype[:64]))
        support = self.caps.support(rtype)
        if support is None:
            raise FhirError(404, "not-supported", E.UNKNOWN_TYPE.format(t=rtype))
        if interaction and support.interactions and interaction not in support.interactions:
            raise FhirError(405, "not-supported", E.NOT_ALLOWED.format(op=interaction, t=rtype))
        return support

    def authorize(self, caller: Caller, rtype: str, perm: str) -> None:
        if caller.scopes is None or "ignore-scopes" in self.faults:
            return
        if not any(s.allows(rtype, perm) for s in caller.scopes):
            need = {"r": "read", "s": "search", "c": "create", "u": "update", "d": "delete"}[perm]
            raise FhirError(403, "forbidden", E.FORBIDDEN.format(need=f"system/{rtype}.{need}"))

    def may_see(self, caller: Caller, rtype: str, bypass: str | None = None, perms: str = "rs") -> bool:
        """Whether a resource of `rtype` may appear in an answer to `caller`: some scope allows one
        of `perms` on it. Secondary results (includes, $everything, history, export) outside the
        token's scopes are dropped from the answer, never sent; `bypass` names the fault that
        switches this check off on one path."""
        if caller.scopes is None or "ignore-scopes" in self.faults or (bypass and bypass in self.faults):
            return True
        return any(s.allows(rtype, p) for s in caller.scopes for p in perms)

    def audit(
        self, caller: Caller, action: str, rtype: str | None, rid: str | None, query: str | None, status: int
    ) -> None:
        if rtype in PERSONAL_TYPES_EXEMPT:
            return
        self.store.audit(caller.client, caller.address, action, rtype, rid, query, status)

    def _headers(self, stored: Stored) -> dict[str, str]:
        if "no-etag" in self.faults:
            return {}
        return {"ETag": f'W/"{stored.version}"', "Last-Modified": http_date(stored.last_updated)}

    def _location(self, stored: Stored) -> str:
        return f"{self.base_url}/{stored.type}/{stored.id}/_history/{stored.version}"

    def check_resource(self, resource: dict[str, Any], rtype: str, where: str = "") -> None:
        """Validator errors refuse the write (422); warnings do not."""
        if "accept-invalid-resources" in self.faults or not self.config.validate:
            return
        bad, outcome = self.validation.check(resource)
        if bad:
            if "leak-personal-data-in-errors" in self.faults:
                leaked = ", ".join(sorted(_personal_strings(resource)))
                outcome.setdefault("issue", []).insert(
                    0,
                    {
                        "severity": "error",
                        "code": "invalid",
                        "diagnostics": f"Rejected {rtype} with data: {leaked}",
                    },
                )
            else:
                outcome = scrub(outcome, resource)
            raise FhirError(422, "processing", E.INVALID, outcome=outcome)

    def parse_resource(self, body: bytes) -> dict[str, Any]:
        try:
            resource = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise FhirError(400, "structure", E.BAD_JSON.format(err=str(exc).split(":")[0])) from None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise FhirError(400, "structure", E.NOT_RESOURCE)
        duplicate = _duplicate_key(body)
        if duplicate is not None:
            # RFC 8259 leaves duplicate names undefined: parsers disagree on which value wins, so
            # what is stored could differ from what the sender's own checks saw
            raise FhirError(400, "structure", E.DUPLICATE_KEY.format(k=duplicate[:64]))
        return resource

    def check_references(
        self, resource: dict[str, Any], where: str, pending: frozenset[str] = frozenset()
    ) -> None:
        """Referential integrity: a reference to a served type must point at a stored resource (or
        one written in the same transaction); inside a transaction an unresolved `urn:uuid:` is an
        error too."""
        if "accept-invalid-resources" in self.faults or resource.get("resourceType") == "Bundle":
            return  # a stored Bundle (document) resolves its references inside itself
        in_bundle = bool(where)
        base = self.base_url + "/"
        prefix = where[:-1] if where else str(resource.get("resourceType", ""))
        for path, ref in located_references(resource, prefix):
            if ref.startswith("#"):
                continue
            if ref.startswith(("urn:uuid:", "urn:oid:")):
                if not in_bundle:
                    continue  # outside a Bundle a urn reference has nothing to resolve against
                raise FhirError(422, "not-found", E.UNRESOLVED.format(ref=ref[:60]), expression=path)
            if ref.startswith(("http://", "https://")):
                if not (self.base_url and ref.startswith(base)):
                    continue  # another server's resource: not ours to check
                ref = ref[len(base) :]
            parts = ref.split("/")
            if len(parts) < 2 or self.caps.support(parts[0]) is None or "?" in ref:
                continue
            key = f"{parts[0]}/{parts[1]}"
            if key in pending:
                continue
            stored = self.store.read(parts[0], parts[1])
            if stored is None or stored.deleted:
                raise FhirError(422, "not-found", E.UNRESOLVED.format(ref=key), expression=path)

    # ------------------------------------------------------------------ instance interactions
    def read(self, caller: Caller, rtype: str, rid: str) -> Result:
        self._support(rtype, "read")
        self.authorize(caller, rtype, "r")
        stored = self.store.read(rtype, rid) if _ID_RE.match(rid) else None
        if stored is None or stored.deleted:
            self.audit(caller, "read", rtype, rid, None, 404)
            if "status-200-on-missing" in self.faults:
                return Result(
                    200,
                    operation_outcome("information", "not-found", E.NOT_FOUND.format(what=f"{rtype}/{rid}")),
                )
            if stored is not None:
                raise FhirError(
                    410, "deleted", E.GONE.format(what=f"{rtype}/{rid}"), headers=self._headers(stored)
                )
            raise FhirError(404, "not-found", E.NOT_FOUND.format(what=f"{rtype}/{rid}"))
        self.audit(caller, "read", rtype, rid, None, 200)
        return Result(200, stored.body, self._headers(stored), stored)

    def vread(self, caller: Caller, rtype: str, rid: str, vid: str) -> Result:
        self._support(rtype, "vread")
        self.authorize(caller, rtype, "r")
        stored = self.store.vread(rtype, rid, int(vid)) if vid.isdigit() else None
        if stored is None:
            raise FhirError(404, "not-found", E.NOT_FOUND.format(what=f"{rtype}/{rid}/_history/{vid}"))
        if stored.deleted:
            raise FhirError(
                410, "deleted", E.GONE.format(what=f"{rtype}/{rid}"), headers=self._headers(stored)
            )
        self.audit(caller, "vread", rtype, rid, vid, 200)
        return Result(200, stored.body, self._headers(stored), stored)

    def create(
        self,
        caller: Caller,
        rtype: str,
        resource: dict[str, Any],
        if_none_exist: str | None,
        in_tx: bool = False,
    ) -> Result:
        support = self._support(rtype, "create")
        self.authorize(caller, rtype, "c")
        if resource.get("resourceType") != rtype:
            raise FhirError(
                400, "invalid", E.TYPE_MISMATCH.format(got=str(resource.get("resourceType"))[:64], want=rtype)
            )
        if (
            if_none_exist
            and support.conditional_create
            and "conditional-create-duplicates" not in self.faults
        ):
            pairs = parse_qsl(if_none_exist.split("?", 1)[-1], keep_blank_values=True)
            found = self.match(rtype, pairs)
            if len(found) > 1:
                raise FhirError(412, "multiple-matches", E.MULTIPLE_MATCHES)
            if len(found) == 1:
                self.audit(caller, "create-exists", rtype, found[0].id, None, 200)
                return Result(200, found[0].body, self._headers(found[0]), found[0])
        self.check_resource(resource, rtype)
        if not in_tx_bundle(self):
            self.check_references(resource, "")
        resource = dict(resource)
        resource.pop("id", None)
        if in_tx:
            stored = self.store.put(rtype, new_id(), resource, "POST")
        else:
            with self.store.transaction():
                stored = self.store.put(rtype, new_id(), resource, "POST")
        self.audit(caller, "create", rtype, stored.id, None, 201)
        headers = self._headers(stored)
        status = 201
        if "status-200-on-create" in self.faults:
            status = 200
        elif "no-location-header" not in self.faults:
            headers["Location"] = self._location(stored)
        return Result(status, stored.body, headers, stored)

    def update(
        self,
        caller: Caller,
        rtype: str,
        rid: str,
        resource: dict[str, Any],
        if_match: str | None,
        in_tx: bool = False,
    ) -> Result:
        self._support(rtype, "update")
        if resource.get("resourceType") != rtype:
            raise FhirError(
                400, "invalid", E.TYPE_MISMATCH.format(got=str(resource.get("resourceType"))[:64], want=rtype)
            )
        if not resource.get("id"):
            raise FhirError(400, "invalid", E.ID_MISSING)
        if resource["id"] != rid:
            raise FhirError(400, "invalid", E.ID_MISMATCH)
        if not _ID_RE.match(rid):
            raise FhirError(400, "invalid", E.BAD_PARAM.format(p="id"))
        current = self.store.read(rtype, rid)
        exists = current is not None and not current.deleted
        self.authorize(caller, rtype, "u" if exists else "c")
        if if_match and "ignore-if-match" not in self.faults:
            want = if_match.strip().removeprefix("W/").strip('"')
            have = str(current.version) if exists and current else "0"
            if want != have:
                raise FhirError(412, "conflict", E.VERSION_CONFLICT.format(have=have, want=want))
        self.check_resource(resource, rtype)
        if not in_tx_bundle(self):
            self.check_references(resource, "")
        resource = dict(resource)
        method = "PUT"
        if in_tx:
            stored = self.store.put(rtype, rid, resource, method)
        else:
            with self.store.transaction():
                stored = self.store.put(rtype, rid, resource, method)
        status = 200 if exists else 201
        self.audit(caller, "update", rtype, rid, None, status)
        headers = self._headers(stored)
        if status == 201 and "no-location-header" not in self.faults:
            headers["Location"] = self._location(stored)
        return Result(status, stored.body, headers, stored)

    def conditional_update(
        self, caller: Caller, rtype: str, query: str, resource: dict[str, Any], in_tx: bool = False
    ) -> Result:
        support = self._support(rtype, "update")
        if not support.conditional_update:
            raise FhirError(405, "not-supported", E.NOT_ALLOWED.format(op="conditional update", t=rtype))
        found = self.match(rtype, parse_qsl(query, keep_blank_values=True))
        if len(found) > 1:
            raise FhirError(412, "multiple-matches", E.MULTIPLE_MATCHES)
        if not found:
            if resource.get("id"):
                return self.update(caller, rtype, resource["id"], resource, None, in_tx)
            return self.create(caller, rtype, resource, None, in_tx)
        if resource.get("id") and resource["id"] != found[0].id:
            raise FhirError(400, "invalid", E.ID_MISMATCH)
        resource = dict(resource, id=found[0].id)
        return self.update(caller, rtype, found[0].id, resource, None, in_tx)

    def delete(self, caller: Caller, rtype: str, rid: str, in_tx: bool = False) -> Result:
        self._support(rtype, "delete")
        self.authorize(caller, rtype, "d")
        if in_tx:
            stored = self.store.delete(rtype, rid)
        else:
            with self.store.transaction():
                stored = self.store.delete(rtype, rid)
        self.audit(caller, "delete", rtype, rid, None, 204)
        headers = self._headers(stored) if stored else {}
        return Result(204, None, headers, stored)

    def conditional_delete(self, caller: Caller, rtype: str, query: str, in_tx: bool = False) -> Result:
        support = self._support(rtype, "delete")
        if not support.conditional_delete:
            raise FhirError(405, "not-supported", E.NOT_ALLOWED.format(op="conditional delete", t=rtype))
        found = self.match(rtype, parse_qsl(query, keep_blank_values=True))
        if len(found) > 1:
            raise FhirError(412, "multiple-matches", E.MULTIPLE_MATCHES)
        if not found:
            return Result(204)
        return self.delete(caller, rtype, found[0].id, in_tx)

    def match(self, rtype: str, pairs: list[tuple[str, str]]) -> list[Stored]:
        """Resources matching a condition (If-None-Exist, conditional update/delete/reference)."""
        compiler = SearchCompiler(self.caps, frozenset(), self.base_url)
        query = compiler.compile(rtype, pairs, strict=True)
        if len(query.where) <= 2:
            raise FhirError(400, "invalid", E.BAD_PARAM.format(p="condition"))
        _, rows = run_search(self.store, query, ("r.rid", []), 2, 0, want_total=False)
        return rows

    # ------------------------------------------------------------------ history
    def history(
        self, caller: Caller, rtype: str | None, rid: str | None, params: list[tuple[str, str]]
    ) -> Result:
        if rtype:
            self._support(rtype, "history-instance" if rid else "history-type")
            self.authorize(caller, rtype, "r")
        elif (
            caller.scopes is not None
            and "ignore-scopes" not in self.faults
            and "scope-bypass-history" not in self.faults
            and not any(s.resource == "*" and "r" in s.perms for s in caller.scopes)
        ):
            # system history spans every type: only a token that may read every type gets it
            raise FhirError(403, "forbidden", E.FORBIDDEN.format(need="system/*.read"))
        args = dict(params)
        count = self._count(args.get("_count"))
        offset = self._int(args.get("_offset"), "_offset")
        since = None
        if args.get("_since"):
            from vhr_conformance.server.index import date_range

            rng = date_range(args["_since"])
            if rng is None:
                raise FhirError(400, "invalid", E.BAD_PARAM.format(p="_since"))
            since = rng[0]
        total, rows = self.store.history(rtype, rid, since, count, offset)
        if rid and total == 0:
            raise FhirError(404, "not-found", E.NOT_FOUND.format(what=f"{rtype}/{rid}"))
        self.audit(caller, "history", rtype, rid, None, 200)
        path = "/".join(p for p in (rtype, rid, "_history") if p)
        entries = []
        for stored, method in rows:
            full = f"{self.base_url}/{stored.type}/{stored.id}"
            entry: dict[str, Any] = {"fullUrl": full}
            if stored.body is not None:
                entry["resource"] = orjson.loads(stored.body)
            entry["request"] = {
                "method": method,
                "url": f"{stored.type}/{stored.id}" if method != "POST" else stored.type,
            }
            entry["response"] = {
                "status": {"POST": "201 Created", "PUT": "200 OK", "DELETE": "204 No Content"}.get(
                    method, "200 OK"
                ),
                "etag": f'W/"{stored.version}"',
                "lastModified": stored.last_updated,
            }
            entries.append(entry)
        bundle = {
            "resourceType": "Bundle",
            "type": "history",
            "total": total,
            "link": self._links(
                path, [(k, v) for k, v in params if k not in ("_count", "_offset")], count, offset, total
            ),
        }
        bundle["entry"] = entries
        return Result(200, bundle)

    # ------------------------------------------------------------------ search
    @staticmethod
    def _int(value: str | None, name: str) -> int:
        if value is None or value == "":
            return 0
        if not (value.isascii() and value.isdigit()):
            raise FhirError(400, "invalid", E.BAD_PARAM.format(p=name))
        if len(value) > 10 or int(value) > MAX_INTEGER:  # 10^21 would overflow SQLite's integers
            raise FhirError(400, "too-costly", E.TOO_BIG_NUMBER.format(p=name, n=MAX_INTEGER))
        return int(value)

    def _count(self, value: str | None) -> int:
        if "ignore-count" in self.faults:
            return MAX_COUNT
        if value is None or value == "":
            return DEFAULT_COUNT
        return min(self._int(value, "_count"), MAX_COUNT)

    def _links(
        self, path: str, used: list[tuple[str, str]], count: int, offset: int, total: int | None
    ) -> list[dict[str, str]]:
        base = f"{self.link_base()}/{path}"
        prefix = f"{base}?{urlencode(used)}&" if used else f"{base}?"

        def url(off: int) -> str:
            return f"{prefix}_count={count}&_offset={off}" if off else f"{prefix}_count={count}"

        links = [{"relation": "self", "url": url(offset)}, {"relation": "first", "url": url(0)}]
        if offset > 0:
            links.append({"relation": "previous", "url": url(max(0, offset - count))})
        if total is not None and count > 0 and offset + count < total:
            nxt = url(offset + count)
            if "broken-paging-links" in self.faults:
                nxt = f"{base}?{urlencode([('_getpages', new_id()), ('_count', str(count))])}"
            links.append({"relation": "next", "url": nxt})
        if total is not None and count > 0 and total > 0:
            links.append({"relation": "last", "url": url(((total - 1) // count) * count)})
        return links

    def search(
        self, caller: Caller, rtype: str, params: list[tuple[str, str]], strict: bool = False
    ) -> Result:
        support = self._support(rtype, "search-type")
        self.authorize(caller, rtype, "s")
        args: dict[str, str] = {}
        for k, v in params:
            if k in CONTROL_PARAMS and k not in (
                "_include",
                "_revinclude",
                "_include:iterate",
                "_revinclude:iterate",
            ):
                args[k] = v
        compiler = SearchCompiler(self.caps, self.faults, self.base_url)
        query = compiler.compile(rtype, params, strict)
        for through in sorted(query.through):
            # a chain filters on another type's data: the token must be allowed to search it
            if not self.may_see(caller, through, "scope-bypass-chain", perms="s"):
                raise FhirError(403, "forbidden", E.FORBIDDEN.format(need=f"system/{through}.search"))
        summary = args.get("_summary")
        count = self._count(args.get("_count"))
        offset = self._int(args.get("_offset"), "_offset")
        order = compiler.order_by(rtype, args.get("_sort"))
        count_only = summary == "count" and "summary-count-returns-entries" not in self.faults
        total, rows = run_search(self.store, query, order, 0 if count_only else count, offset)
        included: list[Stored] = []
        inc = [v for k, v in params if k == "_include"]
        rev = [v for k, v in params if k == "_revinclude"]
        iter_inc = [v for k, v in params if k == "_include:iterate"]
        iter_rev = [v for k, v in params if k == "_revinclude:iterate"]
        if (inc or rev or iter_inc or iter_rev) and "ignore-include" not in self.faults and not count_only:
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
        self.audit(caller, "search", rtype, None, str(used), 200)
        links = self._links(rtype, used, count, offset, total)
        if count_only:
            links = links[:1]  # a count has no pages
        elements = [e.strip() for e in args.get("_elements", "").split(",") if e.strip()]
        transform = self._transform(rtype, summary, elements)
        return Result(200, self._bundle_bytes("searchset", total, links, rows, included, transform))

    def _included(
        self, caller: Caller, found: list[Stored], inc: list[str], rev: list[str], seen: set[int]
    ) -> list[Stored]:
        """What `_include`/`_revinclude` add to `found`, minus what the token may not see and what
        is already in the answer (`seen` grows with what is returned)."""
        out: list[Stored] = []
        for specs, is_rev, bypass in (
            (inc, False, "scope-bypass-include"),
            (rev, True, "scope-bypass-revinclude"),
        ):
            if not specs:
                continue
            got = includes(self.store, self.caps, found, [] if is_rev else specs, specs if is_rev else [])
            for x in got:
                if x.rid not in seen and self.may_see(caller, x.type, bypass):
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

    def _bundle_bytes(
        self,
        btype: str,
        total: int | None,
        links: list[dict[str, str]],
        rows: list[Stored],
        included: list[Stored],
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None,
    ) -> bytes:
        """Assemble the Bundle from stored JSON bytes without re-parsing them (the hot path)."""
        head: dict[str, Any] = {
            "resourceType": "Bundle",
            "id": f"{_BUNDLE_PREFIX}-{next(_BUNDLE_SEQ)}",
            "type": btype,
        }
        if total is not None:
            head["total"] = total
        head["link"] = links
        parts = []
        for mode, group in (("match", rows), ("include", included)):
            tail = b',"search":{"mode":"' + mode.encode() + b'"}}'
            for s in group:
                body = s.body or b"{}"
                if transform is not None:
                    body = orjson.dumps(transform(orjson.loads(body)))
                parts.append(
                    b'{"fullUrl":"'
                    + f"{self.base_url}/{s.type}/{s.id}".encode()
                    + b'","resource":'
                    + body
                    + tail
                )
        out = orjson.dumps(head)
        if not parts:
            return out
        return out[:-1] + b',"entry":[' + b",".join(parts) + b"]}"

    # ------------------------------------------------------------------ operations
    def everything(self, caller: Caller, rid: str, params: list[tuple[str, str]]) -> Result:
        self._support("Patient")
        self.authorize(caller, "Patient", "r")
        patient = self.store.read("Patient", rid)
        if patient is None or patient.deleted:
            raise FhirError(404, "not-found", E.NOT_FOUND.format(what=f"Patient/{rid}"))
        with self.store.lock:
            compartment = [
                r[0]
                for r in self.store.conn.execute(
                    "SELECT DISTINCT x.rid FROM ix_ref x JOIN resources r ON r.rid = x.rid "
                    "WHERE x.ttype = 'Patient' AND x.tid = ? AND r.deleted = 0 ORDER BY x.rid",
                    (rid,),
                )
            ]
            referenced: list[tuple[str, str]] = []
            if compartment:
                marks = ",".join("?" * len(compartment))
                referenced = [
                    (t, i)
                    for t, i in self.store.conn.execute(
                        f"SELECT DISTINCT ttype, tid FROM ix_ref WHERE rid IN ({marks}) AND ttype IS NOT NULL",
                        compartment,
                    )
                    if t != "Patient" or i != rid
                ]
        types = {t.strip() for t in dict(params).get("_type", "").split(",") if t.strip()}
        extra = [r for r in self.store.find_ids(referenced) if r not in set(compartment)]
        allowed_rids = [patient.rid, *compartment, *extra]
        bodies = self.store.bodies(allowed_rids)
        rows = []
        for r in dict.fromkeys(allowed_rids):
            s = bodies.get(r)
            if s is None or s.deleted or (types and s.type not in types):
                continue
            if not self.may_see(caller, s.type, "scope-bypass-everything", perms="r"):
                continue  # outside the token's scopes: dropped, like every secondary result
            rows.append(s)
        self.audit(caller, "everything", "Patient", rid, None, 200)
        links = [{"relation": "self", "url": f"{self.link_base()}/Patient/{rid}/$everything"}]
        return Result(200, self._bundle_bytes("searchset", len(rows), links, rows, [], None))

    def export(
        self, caller: Caller, params: list[tuple[str, str]], request_url: str, patient_level: bool
    ) -> Result:
        """Bulk Data kick-off: 202 with the status URL in Content-Location."""
        types = sorted(self.caps.resources)
        allowed = {t for t in types if self.may_see(caller, t, "scope-bypass-export", perms="r")}
        if not allowed:
            raise FhirError(403, "forbidden", E.FORBIDDEN.format(need="system/*.read"))
        job = bulk.start_export(
            self.store,
            types,
            allowed,
            dict(params),
            request_url,
            self.base_url,
            patient_level,
            self.config.auth == "oauth",
            owner=caller.client,
        )
        self.audit(caller, "export", "Patient" if patient_level else None, None, request_url, 202)
        return Result(202, None, {"Content-Location": f"{self.base_url}/_export/{job}"})

    def validate_op(self, caller: Caller, rtype: str, body: bytes) -> Result:
        self._support(rtype)
        resource = self.parse_resource(body)
        if resource.get("resourceType") == "Parameters":
            for p in resource.get("parameter") or []:
                if p.get("name") == "resource" and isinstance(p.get("resource"), dict):
                    resource = p["resource"]
                    break
            else:
                raise FhirError(400, "invalid", E.NOT_RESOURCE)
        if resource.get("resourceType") != rtype:
            raise FhirError(
                400, "invalid", E.TYPE_MISMATCH.format(got=str(resource.get("resourceType"))[:64], want=rtype)
            )
        _, outcome = self.validation.check(resource)
        if "validate-accepts-anything" in self.faults:
            outcome = {"resourceType": "OperationOutcome", "issue": []}
        outcome = scrub(outcome, resource)
        if not outcome.get("issue"):
            outcome["issue"] = [
                operation_outcome(
                    "information", "informational", Text("Tài nguyên hợp lệ.", "The resource is valid.")
                )["issue"][0]
            ]
        return Result(200, outcome)

    # ------------------------------------------------------------------ bundles
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
        response: dict[str, Any] = {"status": f"{res.status} {_REASONS.get(res.status, '')}".strip()}
        if res.headers.get("Location"):
            response["location"] = res.headers["Location"]
        if res.stored is not None and "no-etag" not in self.faults:
            response["etag"] = f'W/"{res.stored.version}"'
            response["lastModified"] = res.stored.last_updated
        entry: dict[str, Any] = {}
        if res.body is not None and prefer_return != "minimal":
            entry["resource"] = orjson.loads(res.body) if isinstance(res.body, bytes) else res.body
        if res.stored is not None and res.stored.id:
            entry["fullUrl"] = f"{self.base_url}/{res.stored.type}/{res.stored.id}"
        entry["response"] = response
        return entry

    def _run_entry(self, caller: Caller, entry: dict[str, Any], in_tx: bool) -> Result:
        req = entry["request"]
        method = req["method"]
        url = req["url"]
        if url.startswith(self.base_url + "/") and self.base_url:
            url = url[len(self.base_url) + 1 :]
        path, _, query = url.lstrip("/").partition("?")
        segs = [s for s in path.split("/") if s]
        resource = entry.get("resource")
        if method in ("POST", "PUT") and not isinstance(resource, dict):
            raise FhirError(400, "invalid", E.NOT_RESOURCE)
        if method == "POST" and len(segs) == 1:
            return self.create(caller, segs[0], resource, req.get("ifNoneExist"), in_tx)  # type: ignore[arg-type]
        if method == "PUT" and len(segs) == 2:
            return self.update(caller, segs[0], segs[1], resource, req.get("ifMatch"), in_tx)  # type: ignore[arg-type]
        if method == "PUT" and len(segs) == 1 and query:
            return self.conditional_update(caller, segs[0], query, resource, in_tx)  # type: ignore[arg-type]
        if method == "DELETE" and len(segs) == 2:
            return self.delete(caller, segs[0], segs[1], in_tx)
        if method == "DELETE" and len(segs) == 1 and query:
            return self.conditional_delete(caller, segs[0], query, in_tx)
        if method in ("GET", "HEAD"):
            if "scope-bypass-batch" in self.faults:
                caller = Caller(caller.client, caller.address, None)  # the fault: entries unchecked
            params = parse_qsl(query, keep_blank_values=True)
            if len(segs) == 1:
                return self.search(caller, segs[0], params)
            if len(segs) == 2:
                return self.read(caller, segs[0], segs[1])
            if len(segs) == 4 and segs[2] == "_history":
                return self.vread(caller, segs[0], segs[1], segs[3])
        raise FhirError(400, "invalid", E.BAD_BUNDLE.format(why=f"unsupported request {method} {url[:80]}"))

    def _batch(self, caller: Caller, entries: list[dict[str, Any]], prefer_return: str | None) -> Result:
        out = []
        for entry in entries:
            try:
                if isinstance(entry.get("resource"), dict) and entry["request"]["method"] in ("POST", "PUT"):
                    self.check_resource(entry["resource"], entry["resource"].get("resourceType", ""))
                res = self._run_entry(caller, entry, in_tx=False)
                out.append(self._entry_response(res, prefer_return))
            except FhirError as err:
                outcome = err.operation_outcome()
                if (
                    isinstance(entry.get("resource"), dict)
                    and "leak-personal-data-in-errors" not in self.faults
                ):
                    outcome = scrub(outcome, entry["resource"])
                out.append(
                    {
                        "response": {
                            "status": f"{err.status} {_REASONS.get(err.status, '')}".strip(),
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
                    self.check_resource(res, res.get("resourceType", ""))
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
        atomic = "non-atomic-transaction" not in self.faults
        existing: dict[int, Stored] = {}
        same_as: dict[int, int] = {}

        def resolve_conditional_creates() -> None:
            """Before anything is written: a conditional create that matches redirects every
            reference to its fullUrl onto the existing resource; two entries of the bundle with
            the same condition become one resource."""
            if "conditional-create-duplicates" in self.faults:
                return
            first: dict[tuple[str, str], int] = {}
            for i in sorted(planned):
                req = entries[i]["request"]
                if not req.get("ifNoneExist"):
                    continue
                rtype = req["url"].split("?", 1)[0].strip("/")
                cond = req["ifNoneExist"].split("?", 1)[-1]
                found = self.match(rtype, parse_qsl(cond, keep_blank_values=True))
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
            self._bundle_depth += 1
            try:
                run_entries()
            finally:
                self._bundle_depth -= 1
            # references are checked once everything is written, so entries may point forward
            for i, res in written:
                self.check_references(res, f"Bundle.entry[{i}].resource.")

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
                    res = Result(200, found.body, self._headers(found), found)
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
                    self.store.conn.execute("COMMIT")
                    self.store.conn.execute("BEGIN IMMEDIATE")

        with self.store.transaction():
            run_all()  # non-atomic fault: earlier entries were already committed one by one
        out = [self._entry_response(results[i], prefer_return) for i in range(len(entries))]
        return Result(
            200, {"resourceType": "Bundle", "id": new_id(), "type": "transaction-response", "entry": out}
        )

    def _create_planned(self, caller: Caller, entry: dict[str, Any], rid: str) -> Result:
        """POST inside a transaction with its id chosen in advance (so urn:uuid can point forward)."""
        req = entry["request"]
        rtype = req["url"].split("?", 1)[0].strip("/")
        self._support(rtype, "create")
        self.authorize(caller, rtype, "c")
        resource = entry["resource"]
        if resource.get("resourceType") != rtype:
            raise FhirError(
                400, "invalid", E.TYPE_MISMATCH.format(got=str(resource.get("resourceType"))[:64], want=rtype)
            )
        resource.pop("id", None)
        stored = self.store.put(rtype, rid, resource, "POST")
        self.audit(caller, "create", rtype, rid, None, 201)
        headers = self._headers(stored)
        if "no-location-header" not in self.faults:
            headers["Location"] = self._location(stored)
        return Result(201 if "status-200-on-create" not in self.faults else 200, stored.body, headers, stored)

    def _rewrite_refs(self, node: Any, id_map: dict[str, str]) -> Any:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "reference" and isinstance(v, str):
                    if v in id_map:
                        node[k] = id_map[v]
                    elif "?" in v and _TYPE_RE.match(v.split("?", 1)[0]):
                        rtype, query = v.split("?", 1)
                        found = self.match(rtype, parse_qsl(query, keep_blank_values=True))
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

    # ------------------------------------------------------------------ loading fixtures
    def load_directory(self, folder: str | Path) -> tuple[int, int]:
        """Load every JSON bundle/resource under `folder` (transactions stay atomic). → (files, resources).

        Nothing is skipped silently: every file (or folder) not loaded, and every batch entry
        refused, is listed in `self.load_skipped` with its reason, and logged."""
        caller = Caller("loader", None, None)
        files = resources = 0
        self.load_skipped = []
        skip = self.load_skipped

        def unreadable(exc: OSError) -> None:
            skip.append((str(exc.filename), E.LOAD_UNREADABLE.format(e=exc.strerror or exc)))

        paths: list[Path] = []
        for root, dirs, names in os.walk(folder, onerror=unreadable):
            dirs.sort()
            paths += [Path(root) / n for n in names if n.endswith(".json")]
        for path in sorted(paths):
            try:
                raw = path.read_bytes()
                data = orjson.loads(raw)
            except OSError as exc:
                skip.append((str(path), E.LOAD_UNREADABLE.format(e=exc.strerror or exc)))
                continue
            except orjson.JSONDecodeError as exc:
                skip.append((str(path), E.BAD_JSON.format(err=str(exc).split(":")[0])))
                continue
            if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
                skip.append((str(path), E.NOT_RESOURCE))
                continue
            duplicate = _duplicate_key(raw)
            if duplicate is not None:
                skip.append((str(path), E.DUPLICATE_KEY.format(k=duplicate[:64])))
                continue
            try:
                if data["resourceType"] == "Bundle" and data.get("type") in ("transaction", "batch"):
                    res = self.bundle(caller, data, "minimal")
                    resources += len(data.get("entry") or [])
                    body = res.body if isinstance(res.body, dict) else {}
                    for i, entry in enumerate(body.get("entry") or []):
                        status = str((entry.get("response") or {}).get("status", ""))
                        if status[:1] in ("4", "5"):
                            resources -= 1
                            skip.append((f"{path} entry[{i}]", E.LOAD_ENTRY.format(s=status)))
                elif data["resourceType"] == "Bundle":
                    skip.append((str(path), E.LOAD_BUNDLE_TYPE.format(t=str(data.get("type"))[:40])))
                    continue
                elif data.get("id"):
                    self.update(caller, data["resourceType"], data["id"], data, None)
                    resources += 1
                else:
                    res = self.create(caller, data["resourceType"], data, None)
                    resources += 1 if res.status < 300 else 0
            except FhirError as err:
                skip.append((str(path), err.text))
                continue
            files += 1
        for where, why in skip:
            log.warning("not loaded %s: %s", where, why.en)
        return files, resources


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _duplicate_key(body: bytes) -> str | None:
    """The first key repeated inside one JSON object of `body` (already known to be valid JSON).

    orjson keeps the last value silently; the standard decoder's pairs hook sees every member."""
    if b'"' not in body:
        return None
    try:
        json.loads(body, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as dup:
        return dup.key
    except ValueError:  # orjson accepted it, so this cannot happen; never turn it into a 500
        return None
    return None


def in_tx_bundle(app: FhirApp) -> bool:
    return app._bundle_depth > 0


_BUNDLE_PREFIX = new_id()[:12]  # bundle ids: unique per process without a urandom call each
_BUNDLE_SEQ = itertools.count(1)
_METHOD_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "GET": 3, "HEAD": 3}
_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def _subsetted(res: dict[str, Any]) -> dict[str, Any]:
    meta = dict(res.get("meta") or {})
    tags = [
        *meta.get("tag", []),
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"},
    ]
    meta["tag"] = tags
    res["meta"] = meta
    return res


# ====================================================================== HTTP layer


def _accept_ok(accept: str | None, fmt: str | None) -> bool:
    if fmt:
        return fmt.split(";")[0].strip() in ("json", *JSON_TYPES)
    if not accept:
        return True
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in ("*/*", "application/*", *JSON_TYPES):
            return True
    return False


def _content_type_ok(ctype: str | None) -> bool:
    return bool(ctype) and ctype.split(";")[0].strip().lower() in JSON_TYPES  # type: ignore[union-attr]


class HttpLayer:
    """Turns HTTP requests into interactions; applies auth, limits, negotiation and faults."""

    def __init__(self, fhir: FhirApp) -> None:
        self.fhir = fhir
        self.cfg = fhir.config

    def _response(
        self, result: Result, request: Request | None = None, prefer: str | None = None
    ) -> Response:
        body = result.body
        headers = dict(result.headers)
        status = result.status
        if (
            prefer
            and "ignore-prefer" not in self.fhir.faults
            and status < 300
            and request is not None
            and request.method in ("POST", "PUT")
        ):
            if prefer == "minimal":
                body = b""
            elif prefer == "OperationOutcome":
                body = operation_outcome(
                    "information", "informational", Text("Đã xử lý yêu cầu.", "The request was processed.")
                )
        if isinstance(body, dict):
            body = orjson.dumps(body)
        return self._raw(status, body or b"", headers)

    def _raw(self, status: int, body: bytes, headers: dict[str, str]) -> Response:
        ctype = (
            "text/plain; charset=utf-8"
            if "wrong-content-type" in self.fhir.faults
            else "application/fhir+json; charset=utf-8"
        )
        if "truncated-json" in self.fhir.faults and len(body) > 2:
            body = body[: len(body) // 2]
        if status == 204:
            body = b""
        elif len(body) >= GZIP_MIN_SIZE and _GZIP_OK.get():
            body = gzip.compress(body, compresslevel=5)
            headers = {**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return Response(body, status, headers=headers, media_type=None if status == 204 else ctype)

    def _error(self, err: FhirError) -> Response:
        return self._raw(err.status, orjson.dumps(err.operation_outcome()), err.headers)

    async def _body(self, request: Request) -> bytes:
        faults = self.fhir.faults
        limit = (
            self.cfg.max_body_bytes if not {"no-size-limit", "per-string-size-limit"} & faults else 1 << 40
        )
        length = _hdr(request, "content-length")
        if length and length.isdigit() and int(length) > limit:
            raise FhirError(413, "too-costly", E.TOO_LARGE.format(n=limit))
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise FhirError(413, "too-costly", E.TOO_LARGE.format(n=limit))
            chunks.append(chunk)
        body = b"".join(chunks)
        if "per-string-size-limit" in faults and re.search(rb'"[^"]{%d,}"' % self.cfg.max_body_bytes, body):
            raise FhirError(413, "too-costly", E.TOO_LARGE.format(n=self.cfg.max_body_bytes))
        encoding = (_hdr(request, "content-encoding") or "").strip().lower()
        if encoding in ("gzip", "x-gzip") and body:
            try:
                decoder = zlib.decompressobj(wbits=31)
                body = decoder.decompress(body, limit + 1)  # a gzip bomb stops at the limit
            except zlib.error:
                raise FhirError(400, "structure", E.BAD_JSON.format(err="gzip")) from None
            if len(body) > limit:
                raise FhirError(413, "too-costly", E.TOO_LARGE.format(n=limit))
        elif encoding not in ("", "identity"):
            raise FhirError(
                415, "not-supported", E.UNSUPPORTED_MEDIA.format(c="Content-Encoding " + encoding[:30])
            )
        return body

    def _caller(self, request: Request) -> Caller:
        address = request.client.host if request.client else None
        if self.cfg.auth != "oauth":
            return Caller(None, address, None)
        checked = self.fhir.authority.check(_hdr(request, "authorization"), self.fhir.token_url)
        if checked is None:
            anonymous_read = "anonymous-read" in self.fhir.faults and request.method in ("GET", "HEAD")
            if "no-authentication" in self.fhir.faults or anonymous_read:
                return Caller("anonymous", address, None)
            raise FhirError(
                401,
                "login",
                E.UNAUTHENTICATED,
                headers={
                    "WWW-Authenticate": f'Bearer realm="{self.fhir.base_url or "vhr"}", error="invalid_token"'
                },
            )
        return Caller(checked[0], address, checked[1])

    def _rate(self, key: str) -> None:
        if self.fhir.limiter is None or "no-rate-limit" in self.fhir.faults:
            return
        wait = self.fhir.limiter.take(key)
        if wait:
            raise FhirError(
                429, "throttled", E.RATE_LIMITED.format(s=wait), headers={"Retry-After": str(wait)}
            )

    async def __call__(self, request: Request) -> Response:
        faults = self.fhir.faults
        # one pass over the raw headers instead of a scan per lookup (hot path)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}
        request.scope["vhr.headers"] = headers
        _GZIP_OK.set("gzip" in headers.get("accept-encoding", ""))
        if not self.fhir.base_url:
            self.fhir.set_base_url(f"{request.url.scheme}://{_hdr(request, 'host', 'localhost')}")
        try:
            if "slow-responses" in faults:
                await asyncio.sleep(self.cfg.latency_ms / 1000.0)
            path = request.url.path
            if "random-5xx" in faults and path != "/metadata" and self.fhir.rng.random() < 1 / 3:
                raise FhirError(503, "transient", E.INTERNAL)
            if path == "/auth/token":
                self._rate(request.client.host if request.client else "?")
                return await self._token(request)
            params = parse_qsl(request.url.query, keep_blank_values=True)
            bulk_file = path.startswith("/_export/")  # NDJSON files and manifests negotiate their own types
            if not bulk_file and not _accept_ok(_hdr(request, "accept"), dict(params).get("_format")):
                raise FhirError(
                    406, "not-supported", E.NOT_ACCEPTABLE.format(a=(_hdr(request, "accept") or "")[:60])
                )
            if path == "/metadata" and request.method in ("GET", "HEAD"):
                return self._raw(200, self.fhir.capability(), {})
            if path == "/.well-known/smart-configuration" and request.method == "GET":
                return Response(orjson.dumps(self.fhir.smart_configuration()), media_type="application/json")
            caller = self._caller(request)
            self._rate(caller.client or caller.address or "?")
            return await self._route(request, caller, params)
        except FhirError as err:
            return self._error(err)
        except Exception:
            log.exception("unexpected error")
            return self._error(FhirError(500, "exception", E.INTERNAL))

    async def _token(self, request: Request) -> Response:
        if request.method != "POST":
            raise FhirError(405, "not-supported", E.METHOD_NOT_ALLOWED)
        body = await self._body(request)
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        basic = None
        auth = _hdr(request, "authorization", "") or ""
        if auth[:6].lower() == "basic ":
            try:
                cid, _, sec = base64.b64decode(auth[6:]).decode().partition(":")
                basic = (cid, sec)
            except (ValueError, UnicodeDecodeError):
                basic = ("", "")
        try:
            if self.cfg.auth != "oauth":
                raise OAuthError("invalid_request", "this server runs without authorization", 400)
            token = self.fhir.authority.token(form, basic, self.fhir.token_url)
        except OAuthError as err:
            return Response(
                orjson.dumps({"error": err.error, "error_description": err.description}),
                err.status,
                media_type="application/json",
                headers={"Cache-Control": "no-store"},
            )
        return Response(
            orjson.dumps(token),
            media_type="application/json",
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    async def _route(self, request: Request, caller: Caller, params: list[tuple[str, str]]) -> Response:
        fhir = self.fhir
        method = "GET" if request.method == "HEAD" else request.method  # uvicorn drops HEAD bodies
        segs = [s for s in request.url.path.split("/") if s]
        prefer = _prefer(_hdr(request, "prefer"))
        strict = "handling=strict" in (_hdr(request, "prefer") or "")
        n = len(segs)
        if method in ("POST", "PUT"):
            body = await self._body(request)
            ctype = _hdr(request, "content-type")
            is_form = (ctype or "").startswith("application/x-www-form-urlencoded")
            if not (n == 2 and segs[1] == "_search" and (is_form or not body)) and not _content_type_ok(
                ctype
            ):
                raise FhirError(415, "not-supported", E.UNSUPPORTED_MEDIA.format(c=(ctype or "")[:60]))
        else:
            body = b""
        if n == 0:
            if method == "POST":
                bundle = fhir.parse_resource(body)
                return self._response(await self._offload(lambda: fhir.bundle(caller, bundle, prefer)))
            raise FhirError(405, "not-supported", E.METHOD_NOT_ALLOWED)
        rtype = segs[0]
        if rtype == "$export" or (n == 2 and rtype == "Patient" and segs[1] == "$export"):
            if method not in ("GET", "POST"):
                raise FhirError(405, "not-supported", E.METHOD_NOT_ALLOWED)
            if "respond-async" not in (_hdr(request, "prefer") or ""):
                raise FhirError(400, "invalid", bulk.NEED_ASYNC)
            res = await self._offload(
                lambda: fhir.export(caller, params, str(request.url), rtype == "Patient")
            )
            return Response(status_code=202, headers=res.headers)
        if rtype == "_export" and n in (2, 3):
            # a job is its starter's: any other client is told it does not exist
            owner = bulk.ANY_OWNER if "export-not-bound-to-client" in fhir.faults else caller.client
            if n == 2 and method == "GET":
                return Response(bulk.manifest(fhir.store, segs[1], owner), media_type="application/json")
            if n == 2 and method == "DELETE":
                job = segs[1]

                def delete_job() -> Result:
                    bulk.delete(fhir.store, job, owner)
                    return Result(202)

                await self._offload(delete_job)
                return Response(status_code=202)
            if n == 3 and method == "GET" and segs[2].endswith(".ndjson"):
                body = bulk.file_body(fhir.store, segs[1], segs[2][: -len(".ndjson")], owner)
                return Response(body, media_type="application/fhir+ndjson")
            raise FhirError(405, "not-supported", E.METHOD_NOT_ALLOWED)
        if n == 1:
            if rtype == "_history" and method == "GET":
                return self._response(fhir.history(caller, None, None, params))
            if method == "GET":
                return self._response(fhir.search(caller, rtype, params, strict))
            if method == "POST":
                resource = self._resource(body, fhir)
                inx = _hdr(request, "if-none-exist")
                res = await self._write(lambda: fhir.create(caller, rtype, resource, inx, in_tx=True))
                return self._response(res, request, prefer)
            if method == "PUT" and request.url.query:
                q = urlencode([(k, v) for k, v in params if k != "_format"])
                resource = self._resource(body, fhir)
                res = await self._write(
                    lambda: fhir.conditional_update(caller, rtype, q, resource, in_tx=True)
                )
                return self._response(res, request, prefer)
            if method == "DELETE" and request.url.query:
                query = request.url.query
                return self._response(
                    await self._write(lambda: fhir.conditional_delete(caller, rtype, query, in_tx=True))
                )
            raise FhirError(405, "not-supported", E.METHOD_NOT_ALLOWED)
        second = segs[1]
        if n == 2 and second == "_search" and method == "POST":
            form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True) if body else []
            return self._response(fhir.search(caller, rtype, [*params, *form], strict))
        if n == 2 and second == "_history" and method == "GET":
            return self._response(fhir.history(caller, rtype, None, params))
        if n == 2 and second == "$validate" and method == "POST":
            return self._response(fhir.validate_op(caller, rtype, body))
        if n == 2:
            if method == "GET":
                res = fhir.read(caller, rtype, second)
                return self._not_modified(request, res) or self._response(res)
            if method == "PUT":
                resource = self._resource(body, fhir)
                if_match = _hdr(request, "if-match")
                res = await self._write(
                    lambda: fhir.update(caller, rtype, second, resource, if_match, in_tx=True)
                )
                return self._response(res, request, prefer)
            if method == "DELETE":
                return self._response(
                    await self._write(lambda: fhir.delete(caller, rtype, second, in_tx=True))
                )
            raise FhirError(405, "not-supported", E.METHOD_NOT_ALLOWED)
        if (
            n == 3
            and segs[2] == "$everything"
            and rtype == "Patient"
            and method in ("GET", "POST")
            and "no-patient-everything" not in fhir.faults
        ):
            return self._response(fhir.everything(caller, second, params))
        if n == 3 and segs[2] == "$validate" and method == "POST":
            return self._response(fhir.validate_op(caller, rtype, body))
        if n == 3 and segs[2] == "_history" and method == "GET":
            return self._response(fhir.history(caller, rtype, second, params))
        if n == 4 and segs[2] == "_history" and method == "GET":
            return self._response(fhir.vread(caller, rtype, second, segs[3]))
        raise FhirError(404, "not-found", E.NOT_FOUND.format(what=request.url.path[:80]))

    def _not_modified(self, request: Request, res: Result) -> Response | None:
        """Conditional read: 304 when If-None-Match names the current version or the resource has
        not changed since If-Modified-Since."""
        stored = res.stored
        if stored is None or res.status != 200 or "no-etag" in self.fhir.faults:
            return None
        inm = _hdr(request, "if-none-match")
        if inm:
            wanted = {t.strip().removeprefix("W/").strip('"') for t in inm.split(",")}
            if str(stored.version) in wanted or "*" in wanted:
                return Response(status_code=304, headers=self.fhir._headers(stored))
            return None
        ims = _hdr(request, "if-modified-since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
                changed = datetime.fromisoformat(stored.last_updated).replace(microsecond=0)
            except (TypeError, ValueError):
                return None
            if since.tzinfo is not None and changed <= since:
                return Response(status_code=304, headers=self.fhir._headers(stored))
        return None

    async def _offload(self, fn: Callable[[], Result]) -> Result:
        """Run a write off the event loop when the database is a file, so reads continue while it
        validates and fsyncs (an in-memory database has one connection: run it inline)."""
        if self.fhir.store.memory:
            return fn()
        return await run_in_threadpool(fn)

    async def _write(self, fn: Callable[[], Result]) -> Result:
        """One interaction in one write transaction (reads inside it see its own state)."""

        def run() -> Result:
            with self.fhir.store.transaction():
                return fn()

        return await self._offload(run)

    @staticmethod
    def _resource(body: bytes, fhir: FhirApp) -> dict[str, Any]:
        return fhir.parse_resource(body)


def _hdr(request: Request, name: str, default: str | None = None) -> str | None:
    """A request header (lower-case name) from the dict built once per request."""
    cached = request.scope.get("vhr.headers")
    if cached is None:
        return request.headers.get(name, default)
    return cached.get(name, default)


GZIP_MIN_SIZE = 1024
_GZIP_OK: contextvars.ContextVar[bool] = contextvars.ContextVar("vhr_gzip_ok", default=False)


def _prefer(header: str | None) -> str | None:
    if not header:
        return None
    for part in header.split(";"):
        for item in part.split(","):
            k, _, v = item.strip().partition("=")
            if k == "return":
                return v.strip('"')
    return None


def create_app(config: ServerConfig) -> Starlette:
    """The Starlette application for `config` (state on ``app.state.fhir``)."""
    fhir = FhirApp(config)
    layer = HttpLayer(fhir)

    async def endpoint(request: Request) -> Response:
        return await layer(request)

    route = Route("/{path:path}", endpoint, methods=["GET", "POST", "PUT", "DELETE", "HEAD"])

    async def startup() -> None:
        if config.validate and "accept-invalid-resources" not in config.faults:
            loop = asyncio.get_running_loop()
            loop.run_in_executor(None, fhir.validation.warm)

    async def shutdown() -> None:
        fhir.store.close()

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await startup()
        yield
        await shutdown()

    # gzip is applied by HttpLayer itself: a middleware costs every request a header scan
    app = Starlette(routes=[route], lifespan=lifespan)
    app.state.fhir = fhir
    return app
