"""What a FHIR server holds for one encounter, reduced to comparable facts (mapping fidelity).

A vendor's resources come as a Bundle of any type or a list, with server ids and absolute
references; :class:`Held` finds the Encounter by its MA_LK and what belongs to it. Each function
here gives the fact one MAP criterion compares, in a form where equal meaning is equal value
(instants in UTC, NFC names, ICD-10 without dot, sets where order carries no meaning);
:data:`vhr_conformance.xml130.mapping.FIELDS` names which fact checks which XML field."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from vhr_conformance.xml130 import terms as t

Resource = dict[str, Any]


def resources_of(obj: Resource | Iterable[Resource]) -> list[tuple[set[str], Resource]]:
    """``(keys, resource)`` for a Bundle or a list of resources; keys are what references use."""
    items: list[tuple[str | None, Resource]] = []
    if isinstance(obj, dict) and obj.get("resourceType") == "Bundle":
        items = [(e.get("fullUrl"), e.get("resource") or {}) for e in obj.get("entry", []) or []]
    elif isinstance(obj, dict):
        items = [(None, obj)]
    else:
        for r in obj:
            if r.get("resourceType") == "Bundle":
                items.extend((e.get("fullUrl"), e.get("resource") or {}) for e in r.get("entry", []) or [])
            else:
                items.append((None, r))
    out = []
    for full, r in items:
        keys = set()
        if full:
            keys.add(full)
        if r.get("id"):
            keys.add(f"{r.get('resourceType')}/{r['id']}")
        out.append((keys, r))
    return out


def _resolves(ref: str, keys: set[str]) -> bool:
    if not ref:
        return False
    if ref in keys:
        return True
    # absolute URL of a relative id: https://server/fhir/Patient/1
    return any(k and "/" in k and not k.startswith("urn:") and ref.endswith("/" + k) for k in keys)


def instant(v: str | None) -> str | None:
    """A dateTime as a UTC instant (so 14:30+07:00 equals 07:30Z); a date stays a date."""
    if not v:
        return None
    if len(v) <= 10:
        return v
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return v
    if dt.tzinfo is None:
        return v + " (no offset)"
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _name(s: str) -> str:
    return " ".join(unicodedata.normalize("NFC", s).split())


def _codes(cc: dict[str, Any] | None, system: str | None = None) -> list[str]:
    return [
        c.get("code", "")
        for c in (cc or {}).get("coding", []) or []
        if system is None or c.get("system") == system
    ]


def _num(v: Any) -> str | None:
    if v is None:
        return None
    try:
        return format(float(v), "g")
    except (TypeError, ValueError):
        return str(v)


class Held:
    """The resources that belong to the Encounter carrying one MA_LK."""

    def __init__(
        self, items: list[tuple[set[str], Resource]], keys: set[str], encounter: Resource, ma_lk: str
    ):
        self.items = items
        self.keys = keys
        self.encounter = encounter
        self.ma_lk = ma_lk
        self.linked = [
            r for k, r in items if _resolves(((r.get("encounter") or {}).get("reference")) or "", keys)
        ]
        pat = self.find((encounter.get("subject") or {}).get("reference"), "Patient")
        if pat is None:
            pats = [r for _, r in items if r.get("resourceType") == "Patient"]
            pat = pats[0] if len(pats) == 1 else None
        self.patient = pat

    @classmethod
    def of(cls, resources: Resource | Iterable[Resource], ma_lk: str) -> Held | None:
        """What the resources hold for ``ma_lk``; None when no Encounter carries it."""
        items = resources_of(resources)
        for keys, r in items:
            if r.get("resourceType") == "Encounter" and t.ident(r, t.SID_MALK) == ma_lk:
                return cls(items, keys, r, ma_lk)
        return None

    def find(self, ref: str | None, rtype: str) -> Resource | None:
        return next(
            (r for k, r in self.items if r.get("resourceType") == rtype and _resolves(ref or "", k)), None
        )

    @property
    def period(self) -> dict[str, Any]:
        return self.encounter.get("period") or {}

    @cached_property
    def day(self) -> str:
        return (self.period.get("start") or "")[:10]

    @cached_property
    def diagnoses(self) -> list[str]:
        """ICD-10 codes of the diagnoses by rank; without Encounter.diagnosis, the Conditions that
        point at the encounter, in order."""
        ranked = []
        for d in self.encounter.get("diagnosis", []) or []:
            cond = self.find((d.get("condition") or {}).get("reference"), "Condition")
            if cond is not None:
                ranked.append(
                    (d.get("rank", 999), [t.icd_norm(c) for c in _codes(cond.get("code"), t.ICD10)])
                )
        if not ranked:
            conditions = (r for r in self.linked if r.get("resourceType") == "Condition")
            ranked = [
                (n, [t.icd_norm(c) for c in _codes(r.get("code"), t.ICD10)])
                for n, r in enumerate(conditions, 1)
            ]
        ranked.sort(key=lambda d: d[0])
        return [c[0] for _, c in ranked if c]

    def linked_of(self, rtype: str) -> list[Resource]:
        return [r for r in self.linked if r.get("resourceType") == rtype]


Fact = Callable[[Held], Any]


def of_patient(read: Callable[[Resource], Any]) -> Fact:
    """A fact of the encounter's Patient (None when the patient cannot be told)."""
    return lambda h: read(h.patient) if h.patient is not None else None


def ma_lk(h: Held) -> str:
    return h.ma_lk


def period(key: str) -> Fact:
    return lambda h: instant(h.period.get(key))


def ext(eid: str) -> Fact:
    """A coded VHR extension of the Encounter."""
    return lambda h: t.ext_code(h.encounter, eid)


def facility(h: Held) -> str | None:
    sp = h.encounter.get("serviceProvider") or {}
    org = h.find(sp.get("reference"), "Organization")
    return t.ident(org, t.SID_CSKCB) if org else ((sp.get("identifier") or {}).get("value"))


def cccd(pat: Resource) -> str | None:
    return t.ident(pat, t.SID_CCCD)


def family(pat: Resource) -> str | None:
    return _name(_first_name(pat).get("family", "")) or None


def full_name(pat: Resource) -> str | None:
    name = _first_name(pat)
    parts = " ".join([name.get("family", ""), *name.get("given", [])])
    return _name(parts) or _name(name.get("text") or parts) or None


def _first_name(pat: Resource) -> dict[str, Any]:
    return (pat.get("name") or [{}])[0]


def birth_date(pat: Resource) -> str | None:
    return pat.get("birthDate")


def gender(pat: Resource) -> str | None:
    return pat.get("gender")


def cards(h: Held) -> frozenset[str] | None:
    """The patient's cards valid on the encounter's first day, with their validity."""
    out = {}
    for _, r in h.items:
        if r.get("resourceType") != "Coverage":
            continue
        cp = r.get("period") or {}
        day = h.day
        if day and not ((cp.get("start") or "")[:10] <= day and (not cp.get("end") or day <= cp["end"][:10])):
            continue  # a card not valid on the encounter's first day is not one of its XML cards
        ben = (r.get("beneficiary") or {}).get("reference")
        if h.patient is not None and ben and not any(_resolves(ben, k) for k, p in h.items if p is h.patient):
            continue
        card = t.ident(r, t.SID_BHYT)
        if card:
            out[card] = f"{card} {cp.get('start', '')[:10]}..{cp.get('end', '')[:10]}"
    return frozenset(out.values()) or None


def main_diagnosis(h: Held) -> str | None:
    return h.diagnoses[0] if h.diagnoses else None


def secondary_diagnoses(h: Held) -> frozenset[str] | None:
    return frozenset(h.diagnoses[1:]) or None


def drugs(h: Held) -> tuple[str, ...] | None:
    out = []
    for r in h.linked_of("MedicationRequest"):
        code = next(iter(_codes(r.get("medicationCodeableConcept"))), "")
        qty = ((r.get("dispenseRequest") or {}).get("quantity") or {}).get("value")
        out.append(f"{code} ×{_num(qty)} @{instant(r.get('authoredOn'))}")
    return tuple(sorted(out)) or None


def services(h: Held) -> tuple[str, ...] | None:
    out = []
    for r in h.linked_of("Procedure"):
        code = next(iter(_codes(r.get("code"))), "")
        start = (r.get("performedPeriod") or {}).get("start") or r.get("performedDateTime")
        if start and h.day and start[:10] < h.day:
            continue  # history (e.g. a past surgery recorded at this visit), not an XML3 service
        out.append(f"{code} @{instant(start)}")
    return tuple(sorted(out)) or None


WEIGHT, BLOOD_GROUP = "29463-7", "882-1"  # LOINC codes of the body weight and blood group


def results(h: Held) -> tuple[str, ...] | None:
    out = []
    for r in h.linked_of("Observation"):
        loinc = _codes(r.get("code"), t.LOINC)
        categories = {c for cat in r.get("category", []) or [] for c in _codes(cat)}
        if loinc and WEIGHT not in loinc and BLOOD_GROUP not in loinc and "laboratory" in categories:
            vq = r.get("valueQuantity") or {}
            value = _num(vq.get("value")) if vq else r.get("valueString")
            out.append(f"{loinc[0]}={value} {vq.get('unit', '')}".strip())
    return tuple(sorted(out)) or None


def weight(h: Held) -> str | None:
    """The first body weight with a value (others may be data-absent)."""
    values = (
        _num((r.get("valueQuantity") or {}).get("value"))
        for r in h.linked_of("Observation")
        if WEIGHT in _codes(r.get("code"), t.LOINC)
    )
    return next((v for v in values if v is not None), None)
