"""Consent of the data subject (VHR-SEC-009): whose health data a client may be shown.

The rules come from the stored FHIR R4 `Consent` resources, read once per change of the database
and kept in memory by patient. Only a Consent that is `active`, of scope `patient-privacy`, names
its `patient` and has a top-level `provision` (nested provisions are not evaluated) counts:

- `provision.type = deny`: the patient's data is refused to every client that is not an
  administrator; with `provision.actor` the refusal is limited to those organisations.
- `provision.type = permit` with `provision.actor` naming an insurer's Organization and a
  `source[x]` (the subject's written request): that insurer may see the patient's data.

An insurer (client `category: insurer`) is shown a patient's data only under such a permit; a
deny wins over a permit. `provision.period`, when given, bounds the rule in time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from vhr_conformance.server.auth import INSURER
from vhr_conformance.server.index import date_range

SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
PRIVACY = "patient-privacy"


@dataclass(frozen=True, slots=True)
class Rule:
    """The top-level provision of one active privacy Consent."""

    kind: str  # "permit" | "deny"
    actors: frozenset[str]  # "Organization/{id}" references; empty: every organisation
    written: bool  # a source[x] is attached: the subject's written request
    start: float | None
    end: float | None

    def in_force(self, now: float) -> bool:
        return (self.start is None or self.start <= now) and (self.end is None or now < self.end)


def _local_ref(ref: Any, rtype: str) -> str | None:
    """`Patient/1` out of `Patient/1`, `http://host/fhir/Patient/1` or `.../Patient/1/_history/2`."""
    if not isinstance(ref, str):
        return None
    parts = ref.split("/")
    for i in range(len(parts) - 1):
        if parts[i] == rtype and parts[i + 1]:
            return parts[i + 1]
    return None


def rule_of(consent: dict[str, Any]) -> tuple[str, Rule] | None:
    """(patient id, rule) of a Consent that counts, else None."""
    if consent.get("status") != "active":
        return None
    codings = (consent.get("scope") or {}).get("coding") or []
    if not any(c.get("code") == PRIVACY and c.get("system") in (SCOPE_SYSTEM, None) for c in codings):
        return None
    patient = _local_ref((consent.get("patient") or {}).get("reference"), "Patient")
    provision = consent.get("provision") or {}
    kind = provision.get("type")
    if patient is None or kind not in ("permit", "deny"):
        return None
    actors = frozenset(
        f"Organization/{org}"
        for a in provision.get("actor") or []
        if (org := _local_ref(((a or {}).get("reference") or {}).get("reference"), "Organization"))
    )
    period = provision.get("period") or {}
    start = date_range(period["start"]) if isinstance(period.get("start"), str) else None
    end = date_range(period["end"]) if isinstance(period.get("end"), str) else None
    written = bool(consent.get("sourceAttachment") or consent.get("sourceReference"))
    return patient, Rule(kind, actors, written, start[0] if start else None, end[1] if end else None)


@dataclass(frozen=True)
class Restriction:
    """Which patients' data one caller may be shown: only `allow` (None: any), never `deny`."""

    allow: frozenset[str] | None
    deny: frozenset[str]

    def refuses(self, patients: Iterable[str]) -> bool:
        return any(p in self.deny or (self.allow is not None and p not in self.allow) for p in patients)

    def sql(self, alias: str = "r") -> tuple[str, list[str]]:
        """A WHERE term on `resources {alias}` keeping only what may be shown: a Patient, or a
        resource whose indexed references name a Patient, is kept only if that patient may be."""
        if self.allow is not None:
            ids, op = sorted(self.allow - self.deny), "NOT IN"
        else:
            ids, op = sorted(self.deny), "IN"
        marks = ",".join("?" * len(ids))
        clause = (
            f"NOT (({alias}.type = 'Patient' AND {alias}.id {op} ({marks})) OR EXISTS (SELECT 1 FROM ix_ref cx "
            f"WHERE cx.rid = {alias}.rid AND cx.ttype = 'Patient' AND cx.tid {op} ({marks})))"
        )
        return clause, [*ids, *ids]


class ConsentRules:
    """The rules of the stored Consents, by patient."""

    def __init__(self, consents: Iterable[dict[str, Any]]) -> None:
        self.by_patient: dict[str, list[Rule]] = {}
        for consent in consents:
            found = rule_of(consent)
            if found is not None:
                self.by_patient.setdefault(found[0], []).append(found[1])

    def restriction(self, category: str, organization: str | None, now: float) -> Restriction | None:
        """What a non-administrator client of `category` and `organization` may see (None: all)."""
        deny: set[str] = set()
        allow: set[str] = set()
        for patient, rules in self.by_patient.items():
            for rule in rules:
                if not rule.in_force(now):
                    continue
                if rule.kind == "deny" and (not rule.actors or organization in rule.actors):
                    deny.add(patient)
                elif rule.kind == "permit" and rule.written and organization in rule.actors:
                    allow.add(patient)
        if category == INSURER:
            return Restriction(frozenset(allow), frozenset(deny))
        return Restriction(None, frozenset(deny)) if deny else None
