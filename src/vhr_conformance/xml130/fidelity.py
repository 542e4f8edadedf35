"""Mapping fidelity: does a vendor's FHIR say the same thing as its XML 130?

Both sides are reduced to the same *facts* — one value per (MAP criterion, XML field, FHIR path)
for one MA_LK — and the facts are compared. The expected side is our conversion of the XML
(:mod:`vhr_conformance.xml130.convert`); the actual side is whatever resources the vendor holds
for that encounter (a Bundle of any type, or a list of resources). Which fact checks which XML
field, under which catalogue criterion (VHR-MAP-…), is :data:`vhr_conformance.xml130.mapping.FIELDS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from vhr_conformance.i18n import Text
from vhr_conformance.xml130 import mapping as m
from vhr_conformance.xml130 import terms as t
from vhr_conformance.xml130.facts import Held, resources_of


@dataclass(frozen=True, slots=True)
class Difference:
    ma_lk: str
    criterion: str
    xml_field: str
    fhir_path: str
    expected: Any
    actual: Any

    @property
    def text(self) -> Text:
        return Text("{f} → {p}: mong đợi {e}, thực tế {a}", "{f} → {p}: expected {e}, got {a}").format(
            f=self.xml_field, p=self.fhir_path, e=_show(self.expected), a=_show(self.actual)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ma_lk": self.ma_lk,
            "criterion": self.criterion,
            "xml_field": self.xml_field,
            "fhir_path": self.fhir_path,
            "expected": _plain(self.expected),
            "actual": _plain(self.actual),
            "text": {"vi": self.text.vi, "en": self.text.en},
        }


def _plain(v: Any) -> Any:
    if isinstance(v, frozenset | set):
        return sorted(map(str, v))
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


def _show(v: Any) -> str:
    if v is None:
        return "∅"
    if isinstance(v, frozenset | set | tuple):
        return "[" + ", ".join(map(str, sorted(map(str, v)))) + "]"
    return str(v)


def facts(
    resources: dict[str, Any] | Iterable[dict[str, Any]], ma_lk: str
) -> dict[tuple[str, str, str], Any]:
    """The comparable facts for one MA_LK, one per (criterion, XML field, FHIR path) of
    :data:`mapping.FACTS`; {} when no Encounter carries that MA_LK."""
    held = Held.of(resources, ma_lk)
    if held is None:
        return {}
    return {(f.criterion, f.xml_field, f.fhir_path): f.read(held) for f in m.FACTS}


def compare(
    expected: dict[str, Any] | Iterable[dict[str, Any]],
    actual: dict[str, Any] | Iterable[dict[str, Any]],
    ma_lk: str | None = None,
) -> list[Difference]:
    """Differences between our conversion (``expected``) and the vendor's resources (``actual``)
    for one MA_LK (default: the MA_LK of the expected Encounter). Only facts the XML holds are
    compared: an empty XML field asks nothing of the vendor."""
    if ma_lk is None:
        ma_lk = (
            next(
                (
                    t.ident(r, t.SID_MALK)
                    for _, r in resources_of(expected)
                    if r.get("resourceType") == "Encounter"
                ),
                None,
            )
            or ""
        )
    exp = facts(expected, ma_lk)
    act = facts(actual, ma_lk)
    if not act:
        found = m.FACTS[0]  # the Encounter carrying the MA_LK
        return [Difference(ma_lk, found.criterion, found.xml_field, found.fhir_path, ma_lk, None)]
    diffs = []
    for key, want in exp.items():
        if want is None:
            continue
        got = act.get(key)
        if got != want:
            crit, field, path = key
            diffs.append(Difference(ma_lk, crit, field, path, want, got))
    return diffs


def criteria_results(diffs: list[Difference]) -> dict[str, str]:
    """pass/fail per MAP criterion from a list of differences (all criteria listed)."""
    failed = {d.criterion for d in diffs}
    if m.FOUND in failed:  # no encounter found: nothing else could be compared
        return {c: ("fail" if c == m.FOUND else "skip") for c in m.CRITERIA}
    return {c: ("fail" if c in failed else "pass") for c in m.CRITERIA}


# ---- reading a vendor's FHIR endpoint ----------------------------------------------------------
ENCOUNTER_INCLUDES = [
    ("_include", "Encounter:subject"),
    ("_include", "Encounter:service-provider"),
    ("_include", "Encounter:diagnosis"),
    ("_revinclude", "Condition:encounter"),
    ("_revinclude", "MedicationRequest:encounter"),
    ("_revinclude", "Procedure:encounter"),
    ("_revinclude", "Observation:encounter"),
]
MAX_PAGES = 20


def fetch_vendor(
    base_url: str,
    ma_lk: str,
    client: Any = None,
    headers: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The vendor's resources for one MA_LK, read from its FHIR endpoint: the Encounter by its
    MA_LK identifier with what it points to and what points to it, the patient's Coverages, and
    any referenced resource the server did not include (read one by one)."""
    import httpx

    from vhr_conformance.i18n import UserError

    own = client is None
    http = client or httpx.Client(
        timeout=30.0, headers={"Accept": "application/fhir+json", **(headers or {})}
    )
    base = base_url.rstrip("/")

    def get(url: str, params: Any = None) -> dict[str, Any] | None:
        try:
            r = http.get(url, params=params)
        except httpx.HTTPError as exc:
            raise UserError(
                Text("Không gọi được máy chủ FHIR {u}: {e}", "Cannot reach the FHIR server {u}: {e}").format(
                    u=url, e=exc
                )
            ) from None
        if r.status_code == 404 or r.status_code == 410:
            return None
        if r.status_code >= 400:
            raise UserError(
                Text("Máy chủ FHIR trả {s} cho {u}", "The FHIR server answered {s} to {u}").format(
                    s=r.status_code, u=url
                )
            )
        try:
            return r.json()
        except ValueError:
            raise UserError(
                Text(
                    "Máy chủ FHIR trả nội dung không phải JSON cho {u}",
                    "The FHIR server answered non-JSON to {u}",
                ).format(u=url)
            ) from None

    def search(url: str, params: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = get(url, params)
        for _ in range(MAX_PAGES):
            if not page:
                break
            out.extend(e.get("resource") or {} for e in page.get("entry", []) or [])
            nxt = next(
                (ln.get("url") for ln in page.get("link", []) or [] if ln.get("relation") == "next"), None
            )
            page = get(nxt) if nxt else None
        return out

    try:
        found = search(f"{base}/Encounter", [("identifier", f"{t.SID_MALK}|{ma_lk}"), *ENCOUNTER_INCLUDES])
        have = {f"{r.get('resourceType')}/{r.get('id')}" for r in found}
        encs = [r for r in found if r.get("resourceType") == "Encounter" and t.ident(r, t.SID_MALK) == ma_lk]
        wanted: list[str] = []
        for enc in encs:
            wanted.append((enc.get("subject") or {}).get("reference", ""))
            wanted.append((enc.get("serviceProvider") or {}).get("reference", ""))
            wanted.extend(
                (d.get("condition") or {}).get("reference", "") for d in enc.get("diagnosis", []) or []
            )
        for ref in wanted:
            rel = ref.split(base + "/", 1)[-1] if ref.startswith(base) else ref
            if rel and rel.count("/") == 1 and not rel.startswith(("urn:", "http")) and rel not in have:
                res = get(f"{base}/{rel}")
                if res:
                    found.append(res)
                    have.add(rel)
        for enc in encs:  # a server that ignores _revinclude: ask for what points at the encounter
            for rtype in ("Condition", "MedicationRequest", "Procedure", "Observation"):
                if any(r.get("resourceType") == rtype for r in found):
                    continue
                for res in search(f"{base}/{rtype}", {"encounter": f"Encounter/{enc.get('id')}"}):
                    key = f"{rtype}/{res.get('id')}"
                    if key not in have:
                        found.append(res)
                        have.add(key)
        for pat in [r for r in found if r.get("resourceType") == "Patient"]:
            for cov in search(f"{base}/Coverage", {"beneficiary": f"Patient/{pat.get('id')}"}):
                if f"Coverage/{cov.get('id')}" not in have:
                    found.append(cov)
                    have.add(f"Coverage/{cov.get('id')}")
    finally:
        if own:
            http.close()
    return found
