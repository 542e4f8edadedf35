"""The access log served as FHIR R4 `AuditEvent` (VHR-SEC-008): read-only, administrators only.

Each `audit_log` row becomes one AuditEvent: who (the OAuth2 client and its address), what (the
interaction, the resource, the search query), whose data (the patients the answer held), when,
and the HTTP status. `GET /AuditEvent?date=&patient=&agent=&entity=&_count=&_offset=` searches it;
`write_ndjson` saves the whole log (the embedded server of `vhr run` does so into the report
folder when it stops, so the log is kept with the run's evidence).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson

from vhr_conformance.server import errors as E
from vhr_conformance.server.context import ID_RE, Context
from vhr_conformance.server.errors import FhirError
from vhr_conformance.server.index import date_range
from vhr_conformance.server.model import Caller, Result
from vhr_conformance.server.pages import int_param, page_count, page_links

AUDIT_EVENT = "AuditEvent"
AUDIT_LOG_FILE = "audit-log.ndjson"
CLIENT_SYSTEM = "urn:vhr:oauth-client-id"
SEARCH_PARAMS = ("date", "patient", "agent", "entity")
_ACTION = {"create": "C", "update": "U", "delete": "D", "search": "E", "everything": "E", "export": "E"}
_METHOD_ACTION = {"GET": "R", "HEAD": "R", "POST": "C", "PUT": "U", "DELETE": "D"}
_SUBTYPE = {
    "create": "create",
    "create-exists": "create",
    "read": "read",
    "vread": "vread",
    "update": "update",
    "delete": "delete",
    "search": "search-type",
    "everything": "operation",
    "export": "operation",
}
_DATE_OPS = {"eq", "ne", "gt", "lt", "ge", "le"}


def audit_event(row: dict[str, Any], site: str) -> dict[str, Any]:
    """One audit row as an AuditEvent."""
    action, status, client = row["action"], int(row["status"]), row["client"]
    query = row["query"] or ""
    code = _ACTION.get(action) or (
        _METHOD_ACTION.get(query.split(" ", 1)[0], "E") if action == "refused" else "R"
    )
    event: dict[str, Any] = {
        "resourceType": AUDIT_EVENT,
        "id": str(row["seq"]),
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation",
        },
    }
    subtype = "history-instance" if action == "history" and row["resource_id"] else _SUBTYPE.get(action)
    if action == "history" and not row["resource_id"]:
        subtype = "history-type" if row["resource_type"] else "history-system"
    if subtype:
        event["subtype"] = [{"system": "http://hl7.org/fhir/restful-interaction", "code": subtype}]
    event["action"] = code
    event["recorded"] = row["recorded"]
    event["outcome"] = "0" if status < 400 else ("4" if status < 500 else "8")
    event["outcomeDesc"] = f"HTTP {status}" + (" refused" if action == "refused" else "")
    agent: dict[str, Any] = {"requestor": True}
    if client:
        agent["who"] = {"identifier": {"system": CLIENT_SYSTEM, "value": client}, "display": client}
    else:
        agent["name"] = "unauthenticated"
    if row["address"]:
        agent["network"] = {"address": row["address"], "type": "2"}
    event["agent"] = [agent]
    event["source"] = {
        "site": site,
        "observer": {"display": "vhr-conformance reference server"},
        "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4"}],
    }
    entities: list[dict[str, Any]] = []
    patients = [p for p in (row["patients"] or "").split(",") if p]
    target = (
        f"{row['resource_type']}/{row['resource_id']}"
        if row["resource_type"] and row["resource_id"]
        else None
    )
    for p in patients:
        entity: dict[str, Any] = {
            "what": {"reference": f"Patient/{p}"},
            "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1"},
            "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1"},
        }
        entities.append(entity)
    if target and target not in {f"Patient/{p}" for p in patients}:
        entities.append(
            {
                "what": {"reference": target},
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2"},
            }
        )
    if query and action != "refused":
        entities.append(
            {
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2"},
                "description": f"{action} {row['resource_type'] or ''}".strip(),
                "query": base64.b64encode(query.encode("utf-8")).decode("ascii"),
            }
        )
    elif query:
        entities.append(
            {
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2"},
                "description": query,
            }
        )
    if entities:
        event["entity"] = entities
    return event


class AuditEvents:
    """Search and export of the access log."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def search(self, caller: Caller, params: list[tuple[str, str]]) -> Result:
        if not self.ctx.is_admin(caller):
            raise FhirError(403, "forbidden", E.ADMIN_ONLY)
        where: list[str] = []
        args: list[Any] = []
        used: list[tuple[str, str]] = []
        for name, value in params:
            if name == "date":
                self._date(value, where, args)
            elif name in ("patient", "agent", "entity"):
                alternatives = [v.strip() for v in value.split(",") if v.strip()]
                if not alternatives:
                    raise FhirError(400, "invalid", E.BAD_PARAM.format(p=name))
                terms = [self._term(name, v, args) for v in alternatives]
                where.append("(" + " OR ".join(terms) + ")")
            else:
                continue
            used.append((name, value))
        values = dict(params)
        count = page_count(self.ctx, values.get("_count"))
        offset = int_param(values.get("_offset"), "_offset")
        total, rows = self.ctx.store.audit_search(where, args, count, offset)
        self.ctx.audit(caller, "search", AUDIT_EVENT, None, str(used), 200)  # reading the log is logged
        site = self.ctx.base_url
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": page_links(self.ctx, AUDIT_EVENT, used, count, offset, total),
            "entry": [
                {
                    "fullUrl": f"{site}/{AUDIT_EVENT}/{row['seq']}",
                    "resource": audit_event(row, site),
                    "search": {"mode": "match"},
                }
                for row in rows
            ],
        }
        return Result(200, bundle)

    @staticmethod
    def _term(name: str, value: str, args: list[Any]) -> str:
        if name == "agent":
            args.append(value.rsplit("|", 1)[-1])
            return "client = ?"
        if name == "patient":
            pid = value.rsplit("/", 1)[-1] if value.startswith(("Patient/", "http")) else value
            if not ID_RE.match(pid):
                raise FhirError(400, "invalid", E.BAD_PARAM.format(p="patient"))
            args.append(f"%,{pid},%")
            return "patients LIKE ?"
        rtype, _, rid = value.rpartition("/")
        rtype = rtype.rsplit("/", 1)[-1]
        if not rtype or not ID_RE.match(rid):
            raise FhirError(400, "invalid", E.BAD_PARAM.format(p="entity"))
        args += [rtype, rid]
        if rtype != "Patient":
            return "(resource_type = ? AND resource_id = ?)"
        args.append(f"%,{rid},%")
        return "((resource_type = ? AND resource_id = ?) OR patients LIKE ?)"

    @staticmethod
    def _date(value: str, where: list[str], args: list[Any]) -> None:
        op, rest = (value[:2], value[2:]) if value[:2] in _DATE_OPS else ("eq", value)
        rng = date_range(rest)
        if rng is None:
            raise FhirError(400, "invalid", E.BAD_PARAM.format(p="date"))
        lo, hi = rng
        sql = {
            "eq": ("at >= ? AND at < ?", [lo, hi]),
            "ne": ("(at < ? OR at >= ?)", [lo, hi]),
            "gt": ("at >= ?", [hi]),
            "ge": ("at >= ?", [lo]),
            "lt": ("at < ?", [lo]),
            "le": ("at < ?", [hi]),
        }[op]
        where.append(sql[0])
        args += sql[1]

    def write_ndjson(self, path: Path) -> int:
        """The whole log (after the retention period is applied) as NDJSON AuditEvents → count."""
        written, offset, page = 0, 0, 1000
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            while True:
                _, rows = self.ctx.store.audit_search([], [], page, offset)
                for row in rows:
                    out.write(orjson.dumps(audit_event(row, self.ctx.base_url)) + b"\n")
                written += len(rows)
                if len(rows) < page:
                    return written
                offset += page
