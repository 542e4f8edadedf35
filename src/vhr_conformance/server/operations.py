"""The operations: Patient/$everything, Bulk Data $export kick-off and $validate."""

from __future__ import annotations

from vhr_conformance.i18n import Text
from vhr_conformance.server import bulk
from vhr_conformance.server import errors as E
from vhr_conformance.server.checks import scrub
from vhr_conformance.server.context import Context
from vhr_conformance.server.errors import FhirError, operation_outcome
from vhr_conformance.server.model import Caller, Result
from vhr_conformance.server.pages import searchset_bytes


class Operations:
    """`$everything`, `$export` and `$validate` over the context's store."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def everything(self, caller: Caller, rid: str, params: list[tuple[str, str]]) -> Result:
        self.ctx.support("Patient")
        self.ctx.authorize(caller, "Patient", "r")
        patient = self.ctx.store.read("Patient", rid)
        if patient is None or patient.deleted:
            raise FhirError(404, "not-found", E.NOT_FOUND.format(what=f"Patient/{rid}"))
        self.ctx.guard(caller, patient)
        with self.ctx.store.lock:
            compartment = [
                r[0]
                for r in self.ctx.store.conn.execute(
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
                    for t, i in self.ctx.store.conn.execute(
                        f"SELECT DISTINCT ttype, tid FROM ix_ref WHERE rid IN ({marks}) AND ttype IS NOT NULL",
                        compartment,
                    )
                    if t != "Patient" or i != rid
                ]
        types = {t.strip() for t in dict(params).get("_type", "").split(",") if t.strip()}
        extra = [r for r in self.ctx.store.find_ids(referenced) if r not in set(compartment)]
        allowed_rids = [patient.rid, *compartment, *extra]
        bodies = self.ctx.store.bodies(allowed_rids)
        rows = []
        for r in dict.fromkeys(allowed_rids):
            s = bodies.get(r)
            if s is None or s.deleted or (types and s.type not in types):
                continue
            if not self.ctx.may_see(caller, s.type, self.ctx.faults.scope_bypass_everything, perms="r"):
                continue  # outside the token's scopes: dropped, like every secondary result
            rows.append(s)
        rows = self.ctx.visible(caller, rows)  # other patients' data it points at, under their consent
        self.ctx.audit(caller, "everything", "Patient", rid, None, 200, rows)
        links = [{"relation": "self", "url": f"{self.ctx.link_base()}/Patient/{rid}/$everything"}]
        return Result(200, searchset_bytes(self.ctx, "searchset", len(rows), links, rows, [], None))

    def export(
        self, caller: Caller, params: list[tuple[str, str]], request_url: str, patient_level: bool
    ) -> Result:
        """Bulk Data kick-off: 202 with the status URL in Content-Location."""
        types = sorted(t for t, s in self.ctx.caps.resources.items() if "read" in s.interactions)
        allowed = {
            t for t in types if self.ctx.may_see(caller, t, self.ctx.faults.scope_bypass_export, perms="r")
        }
        if not allowed:
            raise FhirError(403, "forbidden", E.FORBIDDEN.format(need="system/*.read"))
        job = bulk.start_export(
            self.ctx.store,
            types,
            allowed,
            dict(params),
            request_url,
            self.ctx.base_url,
            patient_level,
            self.ctx.config.auth == "oauth",
            owner=caller.client,
            restriction=self.ctx.restriction(caller),
        )
        self.ctx.audit(caller, "export", "Patient" if patient_level else None, None, request_url, 202)
        return Result(202, None, {"Content-Location": f"{self.ctx.base_url}/_export/{job}"})

    def validate(self, caller: Caller, rtype: str, body: bytes) -> Result:
        self.ctx.support(rtype)
        resource = self.ctx.parse_resource(body)
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
        _, outcome = self.ctx.validation.check(resource)
        if self.ctx.faults.validate_accepts_anything:
            outcome = {"resourceType": "OperationOutcome", "issue": []}
        outcome = scrub(outcome, resource)
        if not outcome.get("issue"):
            outcome["issue"] = [
                operation_outcome(
                    "information", "informational", Text("Tài nguyên hợp lệ.", "The resource is valid.")
                )["issue"][0]
            ]
        return Result(200, outcome)
