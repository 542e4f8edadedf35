"""Data quality (đúng – đủ – sạch – sống) and references over the data the run stored."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

import pytest

from vhr_conformance.client import FhirClient
from vhr_conformance.i18n import Text
from vhr_conformance.pytest_plugin import criterion, skip_missing
from vhr_conformance.runner.checks import seeded_or_skip
from vhr_conformance.runner.fresh import CCCD, cccd_of, century_sex_digit
from vhr_conformance.runner.igmodel import IgModel
from vhr_conformance.runner.seed import SeedData

PROVINCE_EXT = "https://vhr-conformance.org/fhir/StructureDefinition/vhr-address-province"
COMMUNE_EXT = "https://vhr-conformance.org/fhir/StructureDefinition/vhr-address-commune"


def _refs(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference" and isinstance(v, str):
                out.append(v)
            else:
                out.extend(_refs(v))
    elif isinstance(node, list):
        for x in node:
            out.extend(_refs(x))
    return out


def _external_refs(res: dict[str, Any]) -> list[str]:
    """References leaving the resource: inside a Bundle, those to its own entries' fullUrls do not count."""
    internal = (
        {e.get("fullUrl") for e in res.get("entry", []) or [] if isinstance(e, dict)}
        if res.get("resourceType") == "Bundle"
        else set()
    )
    return [r for r in _refs(res) if r not in internal]


def _copies(seed: SeedData, copies: dict[str, dict[str, Any]], rtype: str) -> list[dict[str, Any]]:
    items = [copies[f"{s.type}/{s.id}"] for s in seeded_or_skip(seed, rtype) if f"{s.type}/{s.id}" in copies]
    if not items:
        skip_missing(
            Text(
                f"Máy chủ không trả lại dữ liệu {rtype} nào.",
                f"The target returned none of the {rtype} test data.",
            )
        )
    return items


@pytest.mark.per_resource("VHR-QUAL-004")
def test_no_orphan_references(
    resource_type: str, fhir: FhirClient, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    refs = sorted(
        {
            r
            for res in _copies(seed, server_copies, resource_type)
            for r in _external_refs(res)
            if not r.startswith("#") and not r.startswith("urn:")
        }
    )
    known = set(server_copies)
    orphans = []
    for ref in refs:
        rel = "/".join(ref.rstrip("/").split("/")[-2:])
        if rel in known:
            continue
        resp = fhir.get(ref if ref.startswith("http") and fhir.same_origin(ref) else rel)
        if resp.status != 200:
            orphans.append(f"{ref} → {resp.status}")
    assert not orphans, f"{len(orphans)} references do not resolve: {orphans[:5]}"


@pytest.mark.per_resource("VHR-XCH-004")
def test_references_usable(
    resource_type: str, fhir: FhirClient, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    bad = sorted(
        {
            r
            for res in _copies(seed, server_copies, resource_type)
            for r in _external_refs(res)
            if r.startswith("urn:") or (r.startswith("http") and not fhir.same_origin(r))
        }
    )
    assert not bad, f"references that are temporary or point elsewhere: {bad[:5]}"


@pytest.mark.per_resource("VHR-QUAL-005")
def test_last_updated_fresh(
    resource_type: str, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    created = {f"{s.type}/{s.id}" for s in seed.of_type(resource_type) if s.created}
    if not created:
        skip_missing(
            Text(f"Lượt chạy không tạo mới {resource_type} nào.", f"The run created no new {resource_type}.")
        )
    start = dt.datetime.fromisoformat(seed.started_iso) - dt.timedelta(minutes=5)
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    stale = []
    for ref in created:
        stamp = ((server_copies.get(ref) or {}).get("meta") or {}).get("lastUpdated")
        when = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00")) if stamp else None
        if when is None or not (start <= when <= end):
            stale.append(f"{ref}: {stamp}")
    assert not stale, (
        f"meta.lastUpdated outside the run ({start.isoformat()} … {end.isoformat()}): {stale[:5]}"
    )


@criterion("VHR-QUAL-003")
def test_no_duplicate_patients(
    fhir: FhirClient, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    numbers = sorted({n for res in _copies(seed, server_copies, "Patient") if (n := cccd_of(res))})
    if not numbers:
        skip_missing(Text("Không người bệnh thử nào có CCCD.", "No test patient has a CCCD."))
    dupes = []
    for n in numbers:
        found = fhir.search_all("Patient", [("identifier", f"{CCCD}|{n}")])
        if len(found) > 1:
            dupes.append(f"{n}: {[r.get('id') for r in found]}")
    assert not dupes, f"patients sharing one CCCD: {dupes[:5]}"


@criterion("VHR-QUAL-006")
def test_identifiers_consistent(seed: SeedData, server_copies: dict[str, dict[str, Any]]) -> None:
    bad = []
    for res in _copies(seed, server_copies, "Patient"):
        n, born, gender = cccd_of(res), str(res.get("birthDate", "")), res.get("gender")
        if not n or len(born) < 4 or gender not in ("male", "female"):
            continue
        year = int(born[:4])
        if not (len(n) == 12 and n.isdigit()):
            bad.append(f"Patient/{res['id']}: CCCD {n!r} is not 12 digits")
        elif int(n[3]) != century_sex_digit(year, gender) % 10 or n[4:6] != f"{year % 100:02d}":
            bad.append(f"Patient/{res['id']}: CCCD does not agree with {gender} born {year}")
    assert not bad, "\n".join(bad[:10])


def _ident_set(res: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (str(i.get("system")), str(i.get("value")))
        for i in res.get("identifier", []) or []
        if isinstance(i, dict)
    }


@criterion("VHR-QUAL-007")
def test_stored_data_unchanged(seed: SeedData, server_copies: dict[str, dict[str, Any]]) -> None:
    changed = []
    for s in seed.resources:
        res = server_copies.get(f"{s.type}/{s.id}")
        if res is None or not s.created:
            continue
        if isinstance(s.sent.get("identifier"), list) and _ident_set(s.sent) - _ident_set(res):
            changed.append(
                f"{s.type}/{s.id}: identifiers {sorted(_ident_set(s.sent) - _ident_set(res))[:2]} lost"
            )
        for key in ("birthDate", "gender", "status"):
            if key in s.sent and s.sent[key] != res.get(key):
                changed.append(f"{s.type}/{s.id}: {key} {s.sent[key]!r} → {res.get(key)!r}")
    assert not changed, f"{len(changed)} stored values differ from what was sent:\n" + "\n".join(changed[:10])


@criterion("VHR-PAT-010")
def test_vietnamese_names_intact(seed: SeedData, server_copies: dict[str, dict[str, Any]]) -> None:
    nfc = lambda t: unicodedata.normalize("NFC", t)  # noqa: E731
    bad = []
    for s in seed.of_type("Patient"):
        res = server_copies.get(f"Patient/{s.id}")
        if res is None:
            continue
        sent = sorted(nfc(n.get("family", "")) for n in s.sent.get("name", []))
        got = sorted(nfc(n.get("family", "")) for n in res.get("name", []))
        if sent != got:
            bad.append(f"Patient/{s.id}: {sent} → {got}")
    assert not bad, "\n".join(bad[:10])


def _codes(ig: IgModel, cs_id: str) -> dict[str, dict[str, str]]:
    cs = ig.packages.get(f"https://vhr-conformance.org/fhir/CodeSystem/{cs_id}") or {}
    out = {}
    for c in cs.get("concept", []):
        props = {p.get("code"): p.get("valueCode") or p.get("valueString") for p in c.get("property", [])}
        out[c["code"]] = props
    return out


@criterion("VHR-PAT-009")
def test_address_codes(ig: IgModel, seed: SeedData, server_copies: dict[str, dict[str, Any]]) -> None:
    provinces, communes = _codes(ig, "vhr-province"), _codes(ig, "vhr-commune")
    if not provinces or not communes:
        skip_missing(Text("IG không có CodeSystem tỉnh/xã.", "The IG has no province/commune CodeSystems."))
    bad, seen = [], 0
    for res in _copies(seed, server_copies, "Patient"):
        for addr in res.get("address", []):
            exts = {e.get("url"): (e.get("valueCoding") or {}).get("code") for e in addr.get("extension", [])}
            prov, comm = exts.get(PROVINCE_EXT), exts.get(COMMUNE_EXT)
            if prov is None and comm is None:
                continue
            seen += 1
            if prov not in provinces:
                bad.append(f"Patient/{res['id']}: province {prov!r} not a 2025 code")
            if comm is not None and (
                comm not in communes or communes[comm].get("province") not in (None, prov)
            ):
                bad.append(f"Patient/{res['id']}: commune {comm!r} not in province {prov!r}")
    if not seen:
        skip_missing(
            Text("Không địa chỉ thử nào mang mã tỉnh/xã.", "No test address carries province/commune codes.")
        )
    assert not bad, "\n".join(bad[:10])
