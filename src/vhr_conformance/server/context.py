"""The state one server instance shares between its layers, and the checks every interaction
makes: is the type served, may the caller do this, is the resource valid, do its references
resolve. The interactions, searches, operations and bundles each hold this context."""

from __future__ import annotations

import random
import re
from typing import Any

import orjson

from vhr_conformance.fhirutil import located_references
from vhr_conformance.i18n import Text
from vhr_conformance.server import bulk
from vhr_conformance.server import errors as E
from vhr_conformance.server.auth import CARE_PROVIDER, INSURER, Authority, RateLimiter
from vhr_conformance.server.capability import Capabilities, build_capabilities
from vhr_conformance.server.checks import Validation, duplicate_key, personal_strings, scrub
from vhr_conformance.server.consent import ConsentRules, Restriction
from vhr_conformance.server.errors import FhirError
from vhr_conformance.server.faults import ActiveFaults
from vhr_conformance.server.model import Caller, ServerConfig, http_date
from vhr_conformance.server.search import SearchCompiler, run_search
from vhr_conformance.server.store import Store, Stored, now_instant

ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
TYPE_RE = re.compile(r"^[A-Z][A-Za-z]+$")
PERSONAL_TYPES_EXEMPT = frozenset({"CapabilityStatement", "OperationOutcome"})


class Context:
    """State of one server instance (store, capabilities, token authority) and the shared checks."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.faults: ActiveFaults = config.faults
        self.base_url = (config.base_url or "").rstrip("/")
        self.caps: Capabilities = build_capabilities(self.base_url or "http://127.0.0.1", config.auth, None)
        self.store = Store(config.db, self.caps, self.faults)
        self.store.base_url = self.base_url
        self.store.audit_retention_s = config.audit_retention_s
        bulk.ensure_schema(self.store)
        self.store.purge_audit()
        self._consents: tuple[tuple[int, int], ConsentRules] | None = None
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
        self.cs_bytes: bytes | None = None  # the CapabilityStatement, serialised once per base URL
        self.bundle_depth = 0  # >0 while a transaction runs: references are checked at its end
        self.load_skipped: list[tuple[str, Text]] = []  # what the last load_directory did not load

    @property
    def in_transaction(self) -> bool:
        """A transaction Bundle is running: its references are checked once all are written."""
        return self.bundle_depth > 0

    def set_base_url(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.store.base_url = self.base_url
        self.caps = build_capabilities(self.base_url, self.config.auth, self.token_url)
        self.store.caps = self.caps
        self.cs_bytes = None

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/auth/token"

    def link_base(self) -> str:
        if self.faults.paging_link_other_host:
            return "http://other-host.invalid:8080"
        return self.base_url

    def support(self, rtype: str, interaction: str | None = None) -> Any:
        if not TYPE_RE.match(rtype):
            raise FhirError(404, "not-found", E.UNKNOWN_TYPE.format(t=rtype[:64]))
        support = self.caps.support(rtype)
        if support is None:
            raise FhirError(404, "not-supported", E.UNKNOWN_TYPE.format(t=rtype))
        if interaction and support.interactions and interaction not in support.interactions:
            raise FhirError(405, "not-supported", E.NOT_ALLOWED.format(op=interaction, t=rtype))
        return support

    def authorize(self, caller: Caller, rtype: str, perm: str) -> None:
        if (
            rtype == "Consent"
            and perm in "cud"
            and caller.registered
            and caller.registered.category == INSURER
        ):
            # an insurer could otherwise write itself the permit it needs
            raise FhirError(403, "forbidden", E.INSURER_CONSENT_WRITE)
        if caller.scopes is None or self.faults.ignore_scopes:
            return
        if not any(s.allows(rtype, perm) for s in caller.scopes):
            need = {"r": "read", "s": "search", "c": "create", "u": "update", "d": "delete"}[perm]
            raise FhirError(403, "forbidden", E.FORBIDDEN.format(need=f"system/{rtype}.{need}"))

    def may_see(self, caller: Caller, rtype: str, bypass: bool = False, perms: str = "rs") -> bool:
        """Whether a resource of `rtype` may appear in an answer to `caller`: some scope allows one
        of `perms` on it. Secondary results (includes, $everything, history, export) outside the
        token's scopes are dropped from the answer, never sent; `bypass` is the fault that
        switches this check off on one path (``faults.scope_bypass_include`` …)."""
        if caller.scopes is None or self.faults.ignore_scopes or bypass:
            return True
        return any(s.allows(rtype, p) for s in caller.scopes for p in perms)

    def audit(
        self,
        caller: Caller,
        action: str,
        rtype: str | None,
        rid: str | None,
        query: str | None,
        status: int,
        rows: list[Stored] | None = None,
    ) -> None:
        """One audit row; `rows` are the resources the answer holds, whose patients it names."""
        if rtype in PERSONAL_TYPES_EXEMPT:
            return
        patients: set[str] = set()
        if rows is not None and len(rows) == 1 and rows[0].type == "Patient":
            patients.add(rows[0].id)  # the common read: no index lookup
        elif rows:
            for found in self.store.patients_of(rows).values():
                patients |= found
        elif rtype == "Patient" and rid:
            patients.add(rid)
        self.store.audit(caller.client, caller.address, action, rtype, rid, query, status, patients)

    def audit_refused(
        self,
        caller: Caller | None,
        address: str | None,
        method: str,
        path: str,
        args: dict[str, str],
        status: int,
    ) -> None:
        """A request refused with 401, 403 or 429: who (when known), what was asked, the status."""
        rtype = args.get("type") or ("Patient" if path.startswith("/Patient/") else None)
        rid = args.get("id")
        patients = [rid] if rtype == "Patient" and rid else []
        self.store.audit(
            caller.client if caller else None,
            caller.address if caller else address,
            "refused",
            rtype,
            rid,
            f"{method} {path}"[:500],
            status,
            patients,
        )

    # ------------------------------------------------------------------ consent (VHR-SEC-009)
    @staticmethod
    def is_admin(caller: Caller) -> bool:
        """No authorization in force, or a token with every permission on every type that is not
        an insurer's: the operator, to whom consent does not apply (and who alone reads the log)."""
        if caller.scopes is None:
            return caller.registered is None or caller.registered.category != INSURER
        if caller.registered is not None and caller.registered.category == INSURER:
            return False
        return any(s.resource == "*" and s.perms >= frozenset("cruds") for s in caller.scopes)

    def consent_rules(self) -> ConsentRules:
        """The stored Consents' rules, rebuilt only when the database has changed."""
        key = self.store.change_key()
        if self._consents is None or self._consents[0] != key:
            rules = ConsentRules(orjson.loads(b) for b in self.store.current_bodies("Consent"))
            self._consents = (key, rules)
        return self._consents[1]

    def restriction(self, caller: Caller) -> Restriction | None:
        """Whose data `caller` may not be shown (None: no limit)."""
        if self.is_admin(caller):
            return None
        client = caller.registered
        category = client.category if client else CARE_PROVIDER
        organization = client.organization if client else None
        return self.consent_rules().restriction(category, organization, now_instant()[1])

    def visible(self, caller: Caller, rows: list[Stored]) -> list[Stored]:
        """`rows` without the resources of patients whose data `caller` may not be shown."""
        limit = self.restriction(caller)
        if limit is None or not rows:
            return rows
        patients = self.store.patients_of(rows)
        return [s for s in rows if not limit.refuses(patients.get(s.rid, ()))]

    def guard(self, caller: Caller, stored: Stored) -> None:
        """403 when `stored` is data of a patient whose consent does not let `caller` see it (the
        refusal is audited where every 401/403/429 is, see `audit_refused`)."""
        if not self.visible(caller, [stored]):
            raise FhirError(403, "forbidden", E.NO_CONSENT.format(what=f"{stored.type}/{stored.id}"))

    def headers(self, stored: Stored) -> dict[str, str]:
        if self.faults.no_etag:
            return {}
        return {"ETag": f'W/"{stored.version}"', "Last-Modified": http_date(stored.last_updated)}

    def location(self, stored: Stored) -> str:
        return f"{self.base_url}/{stored.type}/{stored.id}/_history/{stored.version}"

    def check_resource(self, resource: dict[str, Any], rtype: str, where: str = "") -> None:
        """Validator errors refuse the write (422); warnings do not."""
        if self.faults.accept_invalid_resources or not self.config.validate:
            return
        bad, outcome = self.validation.check(resource)
        if bad:
            if self.faults.leak_personal_data_in_errors:
                leaked = ", ".join(sorted(personal_strings(resource)))
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
        duplicate = duplicate_key(body)
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
        if self.faults.accept_invalid_resources or resource.get("resourceType") == "Bundle":
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

    def match(self, rtype: str, pairs: list[tuple[str, str]]) -> list[Stored]:
        """Resources matching a condition (If-None-Exist, conditional update/delete/reference)."""
        compiler = SearchCompiler(self.caps, ActiveFaults(), self.base_url)
        query = compiler.compile(rtype, pairs, strict=True)
        if len(query.where) <= 2:
            raise FhirError(400, "invalid", E.BAD_PARAM.format(p="condition"))
        _, rows = run_search(self.store, query, ("r.rid", []), 2, 0, want_total=False)
        return rows
