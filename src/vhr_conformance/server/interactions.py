"""The RESTful interactions on one resource or type: capabilities, read, vread, create, update,
delete (plain and conditional) and history. Each returns a :class:`Result`; the HTTP layer and
the bundles call the same methods, so a Bundle entry behaves exactly like the same request."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qsl

import orjson

from vhr_conformance.server import errors as E
from vhr_conformance.server.context import ID_RE, Context
from vhr_conformance.server.errors import FhirError, operation_outcome
from vhr_conformance.server.model import Caller, Result
from vhr_conformance.server.pages import int_param, page_count, page_links
from vhr_conformance.server.store import Stored, new_id


class Interactions:
    """read, vread, create, update, delete and history over the context's store."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def capability(self) -> bytes:
        if self.ctx.faults.no_capability_statement:
            raise FhirError(404, "not-found", E.NOT_FOUND.format(what="CapabilityStatement"))
        if self.ctx.cs_bytes is None:
            cs = copy.deepcopy(self.ctx.caps.statement)
            if self.ctx.faults.wrong_fhir_version:
                cs["fhirVersion"] = "3.0.2"
            self.ctx.cs_bytes = orjson.dumps(cs)
        return self.ctx.cs_bytes

    def smart_configuration(self) -> dict[str, Any]:
        if self.ctx.faults.no_smart_configuration or self.ctx.config.auth != "oauth":
            raise FhirError(404, "not-found", E.NOT_FOUND.format(what="smart-configuration"))
        return {
            "issuer": self.ctx.base_url,
            "token_endpoint": self.ctx.token_url,
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

    def read(self, caller: Caller, rtype: str, rid: str) -> Result:
        self.ctx.support(rtype, "read")
        self.ctx.authorize(caller, rtype, "r")
        stored = self.ctx.store.read(rtype, rid) if ID_RE.match(rid) else None
        if stored is None or stored.deleted:
            self.ctx.audit(caller, "read", rtype, rid, None, 404)
            if self.ctx.faults.status_200_on_missing:
                return Result(
                    200,
                    operation_outcome("information", "not-found", E.NOT_FOUND.format(what=f"{rtype}/{rid}")),
                )
            if stored is not None:
                raise FhirError(
                    410, "deleted", E.GONE.format(what=f"{rtype}/{rid}"), headers=self.ctx.headers(stored)
                )
            raise FhirError(404, "not-found", E.NOT_FOUND.format(what=f"{rtype}/{rid}"))
        self.ctx.guard(caller, stored)
        self.ctx.audit(caller, "read", rtype, rid, None, 200, [stored])
        return Result(200, stored.body, self.ctx.headers(stored), stored)

    def vread(self, caller: Caller, rtype: str, rid: str, vid: str) -> Result:
        self.ctx.support(rtype, "vread")
        self.ctx.authorize(caller, rtype, "r")
        stored = self.ctx.store.vread(rtype, rid, int(vid)) if vid.isdigit() else None
        if stored is None:
            raise FhirError(404, "not-found", E.NOT_FOUND.format(what=f"{rtype}/{rid}/_history/{vid}"))
        if stored.deleted:
            raise FhirError(
                410, "deleted", E.GONE.format(what=f"{rtype}/{rid}"), headers=self.ctx.headers(stored)
            )
        self._guard_versions(caller, rtype, rid)
        self.ctx.audit(caller, "vread", rtype, rid, vid, 200, [stored])
        return Result(200, stored.body, self.ctx.headers(stored), stored)

    def create(
        self,
        caller: Caller,
        rtype: str,
        resource: dict[str, Any],
        if_none_exist: str | None,
        in_tx: bool = False,
    ) -> Result:
        support = self.ctx.support(rtype, "create")
        self.ctx.authorize(caller, rtype, "c")
        if resource.get("resourceType") != rtype:
            raise FhirError(
                400, "invalid", E.TYPE_MISMATCH.format(got=str(resource.get("resourceType"))[:64], want=rtype)
            )
        if if_none_exist and support.conditional_create and not self.ctx.faults.conditional_create_duplicates:
            pairs = parse_qsl(if_none_exist.split("?", 1)[-1], keep_blank_values=True)
            found = self.ctx.match(rtype, pairs)
            if len(found) > 1:
                raise FhirError(412, "multiple-matches", E.MULTIPLE_MATCHES)
            if len(found) == 1:
                self.ctx.guard(caller, found[0])  # the answer is the stored resource: consent applies
                self.ctx.audit(caller, "create-exists", rtype, found[0].id, None, 200, found[:1])
                return Result(200, found[0].body, self.ctx.headers(found[0]), found[0])
        self.ctx.check_resource(resource, rtype)
        if not self.ctx.in_transaction:
            self.ctx.check_references(resource, "")
        resource = dict(resource)
        resource.pop("id", None)
        if in_tx:
            stored = self.ctx.store.put(rtype, new_id(), resource, "POST")
        else:
            with self.ctx.store.transaction():
                stored = self.ctx.store.put(rtype, new_id(), resource, "POST")
        self.ctx.audit(caller, "create", rtype, stored.id, None, 201)
        headers = self.ctx.headers(stored)
        status = 201
        if self.ctx.faults.status_200_on_create:
            status = 200
        elif not self.ctx.faults.no_location_header:
            headers["Location"] = self.ctx.location(stored)
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
        self.ctx.support(rtype, "update")
        if resource.get("resourceType") != rtype:
            raise FhirError(
                400, "invalid", E.TYPE_MISMATCH.format(got=str(resource.get("resourceType"))[:64], want=rtype)
            )
        if not resource.get("id"):
            raise FhirError(400, "invalid", E.ID_MISSING)
        if resource["id"] != rid:
            raise FhirError(400, "invalid", E.ID_MISMATCH)
        if not ID_RE.match(rid):
            raise FhirError(400, "invalid", E.BAD_PARAM.format(p="id"))
        current = self.ctx.store.read(rtype, rid)
        exists = current is not None and not current.deleted
        self.ctx.authorize(caller, rtype, "u" if exists else "c")
        if if_match and not self.ctx.faults.ignore_if_match:
            want = if_match.strip().removeprefix("W/").strip('"')
            have = str(current.version) if exists and current else "0"
            if want != have:
                raise FhirError(412, "conflict", E.VERSION_CONFLICT.format(have=have, want=want))
        self.ctx.check_resource(resource, rtype)
        if not self.ctx.in_transaction:
            self.ctx.check_references(resource, "")
        resource = dict(resource)
        method = "PUT"
        if in_tx:
            stored = self.ctx.store.put(rtype, rid, resource, method)
        else:
            with self.ctx.store.transaction():
                stored = self.ctx.store.put(rtype, rid, resource, method)
        status = 200 if exists else 201
        self.ctx.audit(caller, "update", rtype, rid, None, status)
        headers = self.ctx.headers(stored)
        if status == 201 and not self.ctx.faults.no_location_header:
            headers["Location"] = self.ctx.location(stored)
        return Result(status, stored.body, headers, stored)

    def conditional_update(
        self, caller: Caller, rtype: str, query: str, resource: dict[str, Any], in_tx: bool = False
    ) -> Result:
        support = self.ctx.support(rtype, "update")
        if not support.conditional_update:
            raise FhirError(405, "not-supported", E.NOT_ALLOWED.format(op="conditional update", t=rtype))
        found = self.ctx.match(rtype, parse_qsl(query, keep_blank_values=True))
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
        self.ctx.support(rtype, "delete")
        self.ctx.authorize(caller, rtype, "d")
        if in_tx:
            stored = self.ctx.store.delete(rtype, rid)
        else:
            with self.ctx.store.transaction():
                stored = self.ctx.store.delete(rtype, rid)
        self.ctx.audit(caller, "delete", rtype, rid, None, 204)
        headers = self.ctx.headers(stored) if stored else {}
        return Result(204, None, headers, stored)

    def conditional_delete(self, caller: Caller, rtype: str, query: str, in_tx: bool = False) -> Result:
        support = self.ctx.support(rtype, "delete")
        if not support.conditional_delete:
            raise FhirError(405, "not-supported", E.NOT_ALLOWED.format(op="conditional delete", t=rtype))
        found = self.ctx.match(rtype, parse_qsl(query, keep_blank_values=True))
        if len(found) > 1:
            raise FhirError(412, "multiple-matches", E.MULTIPLE_MATCHES)
        if not found:
            return Result(204)
        return self.delete(caller, rtype, found[0].id, in_tx)

    def _guard_versions(self, caller: Caller, rtype: str, rid: str) -> None:
        """Consent for the versions of one resource: judged on its current version; once deleted
        its patients are no longer indexed, so a restricted caller gets the old versions only of a
        Patient it may see."""
        current = self.ctx.store.read(rtype, rid)
        if current is not None and not current.deleted:
            self.ctx.guard(caller, current)
            return
        limit = self.ctx.restriction(caller)
        if limit is not None and (rtype != "Patient" or limit.refuses({rid})):
            raise FhirError(403, "forbidden", E.NO_CONSENT.format(what=f"{rtype}/{rid}"))

    def _consented(
        self, caller: Caller, rows: list[tuple[Stored, str]], instance: bool
    ) -> list[tuple[Stored, str]]:
        """History entries the caller may see under the patients' consents. Only current resources
        are indexed, so for a restricted caller the versions of a resource deleted since are left
        out of type and system history (their patients are no longer known)."""
        if self.ctx.restriction(caller) is None:
            return rows
        current = self.ctx.store.bodies(list({s.rid for s, _ in rows}))
        live = [c for c in current.values() if not c.deleted]
        keep = {s.rid for s in self.ctx.visible(caller, live)}
        if instance:
            return rows  # the resource itself was guarded by _guard_versions
        return [(s, m) for s, m in rows if s.rid in keep]

    def history(
        self, caller: Caller, rtype: str | None, rid: str | None, params: list[tuple[str, str]]
    ) -> Result:
        if rtype:
            self.ctx.support(rtype, "history-instance" if rid else "history-type")
            self.ctx.authorize(caller, rtype, "r")
        elif (
            caller.scopes is not None
            and not self.ctx.faults.ignore_scopes
            and not self.ctx.faults.scope_bypass_history
            and not any(s.resource == "*" and "r" in s.perms for s in caller.scopes)
        ):
            # system history spans every type: only a token that may read every type gets it
            raise FhirError(403, "forbidden", E.FORBIDDEN.format(need="system/*.read"))
        args = dict(params)
        count = page_count(self.ctx, args.get("_count"))
        offset = int_param(args.get("_offset"), "_offset")
        since = None
        if args.get("_since"):
            from vhr_conformance.server.index import date_range

            rng = date_range(args["_since"])
            if rng is None:
                raise FhirError(400, "invalid", E.BAD_PARAM.format(p="_since"))
            since = rng[0]
        total, rows = self.ctx.store.history(rtype, rid, since, count, offset)
        if rid and total == 0:
            raise FhirError(404, "not-found", E.NOT_FOUND.format(what=f"{rtype}/{rid}"))
        if rtype and rid:
            self._guard_versions(caller, rtype, rid)
        rows = self._consented(caller, rows, instance=bool(rid))
        shown = [stored for stored, _ in rows]
        self.ctx.audit(caller, "history", rtype, rid, None, 200, shown)
        path = "/".join(p for p in (rtype, rid, "_history") if p)
        entries = []
        for stored, method in rows:
            full = f"{self.ctx.base_url}/{stored.type}/{stored.id}"
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
            "link": page_links(
                self.ctx,
                path,
                [(k, v) for k, v in params if k not in ("_count", "_offset")],
                count,
                offset,
                total,
            ),
        }
        bundle["entry"] = entries
        return Result(200, bundle)
