"""REST behaviour per resource type and declared interaction (area API), from the IG's CapabilityStatement."""

from __future__ import annotations

import random
from typing import Any

import pytest

from vhr_conformance.client import FhirClient
from vhr_conformance.i18n import Text
from vhr_conformance.pytest_plugin import VhrState, criterion, skip_missing
from vhr_conformance.runner.checks import (
    assert_fhir_json,
    assert_operation_outcome,
    declares_interaction,
    gate,
    seeded_or_skip,
)
from vhr_conformance.runner.fresh import fresh_copy
from vhr_conformance.runner.seed import SeedData, Tracker, parse_location


def _rng(vhr: VhrState, salt: str) -> random.Random:
    return random.Random(f"{vhr.options.seed}:{vhr.options.run_id}:{salt}")


def create_fresh(
    fhir: FhirClient,
    vhr: VhrState,
    seed: SeedData,
    tracker: Tracker,
    rtype: str,
    salt: str,
    headers: dict[str, str] | None = None,
) -> tuple[str, dict[str, Any], Any]:
    """POST a fresh copy of a seeded resource; returns (id, sent body, response)."""
    source = seeded_or_skip(seed, rtype)[0]
    body = fresh_copy(source.sent, _rng(vhr, salt), vhr.options.run_id)
    resp = fhir.post(rtype, body, headers=headers)
    loc = parse_location(resp.headers.get("location"))
    rid = loc[1] if loc else (resp.json or {}).get("id") if isinstance(resp.json, dict) else None
    if resp.status in (200, 201) and rid:
        tracker.add(rtype, rid)
    assert resp.status == 201, f"POST {rtype} answered {resp.status}, expected 201: {resp.text()[:300]}"
    assert rid, f"POST {rtype}: no Location header and no id in the body"
    return str(rid), body, resp


def _version(resource: dict[str, Any] | None) -> str | None:
    return ((resource or {}).get("meta") or {}).get("versionId")


def test_interaction(
    interaction: tuple[str, str, str],
    vhr: VhrState,
    fhir: FhirClient,
    seed: SeedData,
    tracker: Tracker,
    target_cs: dict[str, Any],
) -> None:
    rtype, code, expectation = interaction
    gate(expectation, declares_interaction(target_cs, rtype, code), f"{rtype} {code}")
    if code == "read":
        s = seeded_or_skip(seed, rtype)[0]
        resp = fhir.get(f"{rtype}/{s.id}")
        assert resp.status == 200, f"GET {rtype}/{s.id} answered {resp.status}"
        body = resp.json or {}
        assert body.get("resourceType") == rtype and body.get("id") == s.id, (
            f"read returned {body.get('resourceType')}/{body.get('id')}"
        )
    elif code == "vread":
        s = seeded_or_skip(seed, rtype)[0]
        current = fhir.get(f"{rtype}/{s.id}").json
        vid = _version(current)
        assert vid, f"{rtype}/{s.id} has no meta.versionId to vread"
        resp = fhir.get(f"{rtype}/{s.id}/_history/{vid}")
        assert resp.status == 200, f"vread answered {resp.status}"
        assert _version(resp.json) == vid, f"vread returned version {_version(resp.json)}, asked {vid}"
    elif code == "create":
        rid, _, resp = create_fresh(fhir, vhr, seed, tracker, rtype, "create")
        loc = parse_location(resp.headers.get("location"))
        assert loc and loc[1] == rid, (
            f"Location header {resp.headers.get('location')!r} does not name the new id"
        )
        back = fhir.get(f"{rtype}/{rid}")
        assert back.status == 200, f"the created {rtype}/{rid} cannot be read back ({back.status})"
    elif code == "update":
        rid, body, _ = create_fresh(fhir, vhr, seed, tracker, rtype, "update")
        before = fhir.get(f"{rtype}/{rid}").json or {}
        changed = dict(body, id=rid, language="vi" if before.get("language") != "vi" else "en")
        resp = fhir.put(f"{rtype}/{rid}", changed)
        assert resp.status in (200, 201), f"PUT {rtype}/{rid} answered {resp.status}: {resp.text()[:300]}"
        after = fhir.get(f"{rtype}/{rid}").json or {}
        assert after.get("language") == changed["language"], "the update was not stored"
        assert _version(after) and _version(after) != _version(before), (
            f"versionId did not change on update ({_version(before)} → {_version(after)})"
        )
    elif code == "delete":
        rid, _, _ = create_fresh(fhir, vhr, seed, tracker, rtype, "delete")
        resp = fhir.delete(f"{rtype}/{rid}")
        assert resp.status in (200, 202, 204), f"DELETE answered {resp.status}"
        gone = fhir.get(f"{rtype}/{rid}")
        assert gone.status in (404, 410), f"a deleted {rtype} still reads with {gone.status}"
    elif code == "history-instance":
        rid, body, _ = create_fresh(fhir, vhr, seed, tracker, rtype, "history")
        put = fhir.put(f"{rtype}/{rid}", dict(body, id=rid, language="vi"))
        assert put.status in (200, 201), f"PUT answered {put.status}"
        resp = fhir.get(f"{rtype}/{rid}/_history")
        assert resp.status == 200, f"_history answered {resp.status}"
        hist = resp.json or {}
        assert hist.get("resourceType") == "Bundle" and hist.get("type") == "history", "not a history Bundle"
        versions = {_version(e.get("resource")) for e in hist.get("entry", []) if e.get("resource")}
        assert len(versions) >= 2, f"history lists {len(versions)} distinct versions after create + update"


@pytest.mark.per_resource("VHR-API-019")
def test_versioning_metadata(resource_type: str, fhir: FhirClient, seed: SeedData) -> None:
    s = seeded_or_skip(seed, resource_type)[0]
    resp = fhir.get(f"{resource_type}/{s.id}")
    assert resp.status == 200, f"read answered {resp.status}"
    vid = _version(resp.json)
    assert vid, "meta.versionId missing"
    assert ((resp.json or {}).get("meta") or {}).get("lastUpdated"), "meta.lastUpdated missing"
    etag = resp.headers.get("etag")
    assert etag, "no ETag header"
    assert etag.strip() in (f'W/"{vid}"', f'"{vid}"'), f"ETag {etag} does not match versionId {vid}"


@criterion("VHR-API-013")
def test_if_match(vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker) -> None:
    rid, body, _ = create_fresh(fhir, vhr, seed, tracker, "Patient", "if-match")
    first = fhir.put(f"Patient/{rid}", dict(body, id=rid, language="vi"))
    assert first.status in (200, 201), f"PUT answered {first.status}"
    stale = fhir.put(f"Patient/{rid}", dict(body, id=rid, language="en"), headers={"If-Match": 'W/"1"'})
    assert stale.status in (409, 412), f"a PUT with a stale If-Match answered {stale.status}, expected 412"


@criterion("VHR-API-014")
def test_errors_are_operation_outcomes(vhr: VhrState, fhir: FhirClient) -> None:
    missing = fhir.get(f"Patient/vhr-missing-{vhr.options.run_id.lower()}")
    assert missing.status == 404, f"reading an unknown id answered {missing.status}, expected 404"
    assert_operation_outcome(missing, "404")
    bad = fhir.get("Patient", params={"birthdate": "not-a-date"}, headers={"Prefer": "handling=strict"})
    assert 400 <= bad.status < 500, f"an invalid search value answered {bad.status}, expected 400"
    assert_operation_outcome(bad, "400")


@criterion("VHR-API-015")
def test_content_type(fhir: FhirClient, seed: SeedData) -> None:
    s = seeded_or_skip(seed, "Patient")[0]
    resp = fhir.get(f"Patient/{s.id}")
    assert resp.status == 200, f"read answered {resp.status}"
    assert_fhir_json(resp)
    fmt = fhir.get(f"Patient/{s.id}", params={"_format": "json"}, headers={"Accept": "*/*"})
    assert fmt.status == 200 and fmt.resource_type == "Patient", f"_format=json answered {fmt.status}"
    assert_fhir_json(fmt)


@criterion("VHR-API-017")
def test_prefer_return(vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker) -> None:
    rid, _, _ = create_fresh(
        fhir, vhr, seed, tracker, "Patient", "prefer-minimal", headers={"Prefer": "return=minimal"}
    )
    minimal = fhir.get(f"Patient/{rid}")
    assert minimal.status == 200
    rid2, _, rep = create_fresh(
        fhir, vhr, seed, tracker, "Patient", "prefer-rep", headers={"Prefer": "return=representation"}
    )
    assert rep.resource_type == "Patient" and (rep.json or {}).get("id") == rid2, (
        "return=representation gave no resource"
    )
    _, _, mini = create_fresh(
        fhir, vhr, seed, tracker, "Patient", "prefer-minimal-2", headers={"Prefer": "return=minimal"}
    )
    assert not mini.content.strip(), f"return=minimal still returned a body of {len(mini.content)} bytes"


@criterion("VHR-API-003", "VHR-QUAL-005")
def test_created_last_updated_fresh(
    vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker
) -> None:
    import datetime as dt

    rid, _, _ = create_fresh(fhir, vhr, seed, tracker, "Patient", "fresh-lastupdated")
    back = fhir.get(f"Patient/{rid}").json or {}
    stamp = (back.get("meta") or {}).get("lastUpdated")
    if not stamp:
        skip_missing(Text("Máy chủ không trả meta.lastUpdated.", "The server returns no meta.lastUpdated."))
    when = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    now = dt.datetime.now(dt.UTC)
    assert abs((now - when).total_seconds()) < 600, (
        f"meta.lastUpdated {stamp} is not the time of the write ({now.isoformat()})"
    )
