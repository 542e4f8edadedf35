"""REST behaviour per resource type and declared interaction (area API), from the IG's CapabilityStatement."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import pytest

from vhr_conformance.client import FhirClient, Response
from vhr_conformance.fhirutil import parse_location
from vhr_conformance.i18n import Text
from vhr_conformance.outcome import check, not_tested
from vhr_conformance.pytest_plugin import VhrState, criterion
from vhr_conformance.runner.checks import (
    check_fhir_json,
    check_operation_outcome,
    check_status,
    created_id,
    declares_interaction,
    gate,
    read_back,
    seeded_or_skip,
    status_text,
    write_templates,
)
from vhr_conformance.runner.fresh import fresh_copy
from vhr_conformance.seed import SeedData, Tracker


def _rng(vhr: VhrState, salt: str) -> random.Random:
    return random.Random(f"{vhr.options.seed}:{vhr.options.run_id}:{salt}")


@dataclass(frozen=True)
class Writer:
    """What a write test needs: it creates fresh copies of seeded resources on the target and
    records them for the clean-up."""

    vhr: VhrState
    fhir: FhirClient
    seed: SeedData
    tracker: Tracker

    def create(
        self,
        rtype: str,
        salt: str,
        headers: dict[str, str] | None = None,
        standalone: bool = False,
        strict: bool = False,
    ) -> tuple[str, dict[str, Any], Response]:
        """POST a fresh copy of a seeded resource; returns (id, sent body, response). `strict`: the test
        judges the create itself (VHR-API-003: 201 and a Location or id); otherwise a created resource
        is enough and a failed create leaves the test not-tested. `standalone`: a copy of the fixtures'
        resource will do when nothing was seeded (its references reduced to a display)."""
        vhr, seed = self.vhr, self.seed
        source = (
            write_templates(seed, rtype, vhr.options.seed)[0]
            if standalone
            else seeded_or_skip(seed, rtype)[0].sent
        )
        body = fresh_copy(source, _rng(vhr, salt), vhr.options.run_id)
        resp = self.fhir.post(rtype, body, headers=headers)
        loc = parse_location(resp.headers.get("location"))
        rid = loc[1] if loc else (resp.json or {}).get("id") if isinstance(resp.json, dict) else None
        if resp.status in (200, 201) and rid:
            self.tracker.add(rtype, rid)
        if not strict:
            return created_id(resp, rtype, f"POST {rtype}"), body, resp
        check_status(resp, (201,), f"POST {rtype}")
        check(
            rid,
            Text(
                "POST {t} trả lời 201 nhưng không có header Location và thân không có id.",
                "POST {t} answered 201 with no Location header and no id in the body.",
            ).format(t=rtype),
        )
        return str(rid), body, resp

    def create_for(
        self, interaction: tuple[str, str, str], target_cs: dict[str, Any], salt: str, strict: bool = False
    ) -> tuple[str, str, dict[str, Any], Response]:
        """The interaction's test gated on what the target declares, then a fresh resource of its
        type created; returns (type, id, sent body, response)."""
        rtype, _ = _gate(interaction, target_cs)
        rid, body, resp = self.create(rtype, salt, strict=strict)
        return rtype, rid, body, resp


@pytest.fixture
def writer(vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker) -> Writer:
    return Writer(vhr, fhir, seed, tracker)


def _version(resource: dict[str, Any] | None) -> str | None:
    return ((resource or {}).get("meta") or {}).get("versionId")


def _gate(interaction: tuple[str, str, str], target_cs: dict[str, Any]) -> tuple[str, str]:
    rtype, code, expectation = interaction
    gate(expectation, declares_interaction(target_cs, rtype, code), f"{rtype} {code}")
    return rtype, code


@criterion("VHR-API-001")
@pytest.mark.interaction_code("read")
def test_read(
    interaction: tuple[str, str, str], fhir: FhirClient, seed: SeedData, target_cs: dict[str, Any]
) -> None:
    rtype, _ = _gate(interaction, target_cs)
    s = seeded_or_skip(seed, rtype)[0]
    resp = fhir.get(f"{rtype}/{s.id}")
    check_status(resp, (200,), f"GET {rtype}/{s.id}")
    body = resp.json if isinstance(resp.json, dict) else {}
    check(
        body.get("resourceType") == rtype and body.get("id") == s.id,
        Text(
            "GET {t}/{i} trả về {g}, không phải tài nguyên đã hỏi.",
            "GET {t}/{i} returned {g}, not the resource asked for.",
        ).format(t=rtype, i=s.id, g=f"{body.get('resourceType')}/{body.get('id')}"),
    )


@criterion("VHR-API-002")
@pytest.mark.interaction_code("vread")
def test_vread(
    interaction: tuple[str, str, str], fhir: FhirClient, seed: SeedData, target_cs: dict[str, Any]
) -> None:
    rtype, _ = _gate(interaction, target_cs)
    s = seeded_or_skip(seed, rtype)[0]
    current = fhir.get(f"{rtype}/{s.id}")
    check_status(current, (200,), f"GET {rtype}/{s.id}")
    vid = _version(current.json)
    check(
        vid,
        Text(
            "{t}/{i} không có meta.versionId để đọc theo phiên bản.",
            "{t}/{i} has no meta.versionId to vread.",
        ).format(t=rtype, i=s.id),
    )
    resp = fhir.get(f"{rtype}/{s.id}/_history/{vid}")
    check_status(resp, (200,), f"GET {rtype}/{s.id}/_history/{vid}")
    check(
        _version(resp.json) == vid,
        Text("vread trả về phiên bản {g}, đã hỏi {v}.", "vread returned version {g}, asked for {v}.").format(
            g=_version(resp.json), v=vid
        ),
    )


@criterion("VHR-API-003")
@pytest.mark.interaction_code("create")
def test_create(interaction: tuple[str, str, str], writer: Writer, target_cs: dict[str, Any]) -> None:
    rtype, rid, _, resp = writer.create_for(interaction, target_cs, "create", strict=True)
    fhir = writer.fhir
    loc = parse_location(resp.headers.get("location"))
    check(
        loc and loc[1] == rid,
        Text(
            "Header Location {l!r} không chỉ id mới {i}.",
            "The Location header {l!r} does not name the new id {i}.",
        ).format(l=resp.headers.get("location"), i=rid),
    )
    check_status(fhir.get(f"{rtype}/{rid}"), (200,), f"GET {rtype}/{rid} (#created)")


@criterion("VHR-API-004")
@pytest.mark.interaction_code("update")
def test_update(interaction: tuple[str, str, str], writer: Writer, target_cs: dict[str, Any]) -> None:
    rtype, rid, body, _ = writer.create_for(interaction, target_cs, "update")
    fhir = writer.fhir
    before = fhir.get(f"{rtype}/{rid}").json or {}
    changed = dict(body, id=rid, language="vi" if before.get("language") != "vi" else "en")
    check_status(fhir.put(f"{rtype}/{rid}", changed), (200, 201), f"PUT {rtype}/{rid}")
    after = fhir.get(f"{rtype}/{rid}").json or {}
    check(
        after.get("language") == changed["language"],
        Text(
            "PUT {t}/{i} được chấp nhận nhưng không lưu: language là {g!r}, đã gửi {w!r}.",
            "PUT {t}/{i} was accepted but not stored: language is {g!r}, sent {w!r}.",
        ).format(t=rtype, i=rid, g=after.get("language"), w=changed["language"]),
    )
    check(
        _version(after) and _version(after) != _version(before),
        Text(
            "versionId không đổi khi cập nhật ({b} → {a}).",
            "versionId did not change on update ({b} → {a}).",
        ).format(b=_version(before), a=_version(after)),
    )


@criterion("VHR-API-005")
@pytest.mark.interaction_code("delete")
def test_delete(interaction: tuple[str, str, str], writer: Writer, target_cs: dict[str, Any]) -> None:
    rtype, rid, _, _ = writer.create_for(interaction, target_cs, "delete")
    fhir = writer.fhir
    check_status(fhir.delete(f"{rtype}/{rid}"), (200, 202, 204), f"DELETE {rtype}/{rid}")
    gone = fhir.get(f"{rtype}/{rid}")
    check(
        gone.status in (404, 410),
        Text(
            "{t}/{i} đã xóa vẫn đọc được (HTTP {s}, cần 404/410).",
            "The deleted {t}/{i} still reads (HTTP {s}, expected 404/410).",
        ).format(t=rtype, i=rid, s=gone.status),
    )


@criterion("VHR-API-006")
@pytest.mark.interaction_code("history-instance")
def test_history_instance(
    interaction: tuple[str, str, str], writer: Writer, target_cs: dict[str, Any]
) -> None:
    rtype, rid, body, _ = writer.create_for(interaction, target_cs, "history")
    fhir = writer.fhir
    check_status(
        fhir.put(f"{rtype}/{rid}", dict(body, id=rid, language="vi")), (200, 201), f"PUT {rtype}/{rid}"
    )
    resp = fhir.get(f"{rtype}/{rid}/_history")
    check_status(resp, (200,), f"GET {rtype}/{rid}/_history")
    hist = resp.json if isinstance(resp.json, dict) else {}
    check(
        hist.get("resourceType") == "Bundle" and hist.get("type") == "history",
        Text(
            "_history trả về {r} type={k!r}, không phải Bundle history.",
            "_history returned {r} type={k!r}, not a history Bundle.",
        ).format(r=hist.get("resourceType"), k=hist.get("type")),
    )
    versions = {_version(e.get("resource")) for e in hist.get("entry", []) or [] if e.get("resource")}
    check(
        len(versions) >= 2,
        Text(
            "Sau tạo + cập nhật, lịch sử chỉ có {n} phiên bản khác nhau (cần ≥ 2).",
            "After create + update the history lists {n} distinct versions (expected ≥ 2).",
        ).format(n=len(versions)),
    )


@criterion("VHR-API-019")
def test_versioning_metadata(resource_type: str, fhir: FhirClient, seed: SeedData) -> None:
    s = seeded_or_skip(seed, resource_type)[0]
    resp = fhir.get(f"{resource_type}/{s.id}")
    check_status(resp, (200,), f"GET {resource_type}/{s.id}")
    vid = _version(resp.json)
    meta = ((resp.json or {}).get("meta") or {}) if isinstance(resp.json, dict) else {}
    check(
        vid,
        Text("{r}: thiếu meta.versionId.", "{r}: meta.versionId missing.").format(
            r=f"{resource_type}/{s.id}"
        ),
    )
    check(
        meta.get("lastUpdated"),
        Text("{r}: thiếu meta.lastUpdated.", "{r}: meta.lastUpdated missing.").format(
            r=f"{resource_type}/{s.id}"
        ),
    )
    etag = resp.headers.get("etag")
    check(
        etag, Text("{r}: không có header ETag.", "{r}: no ETag header.").format(r=f"{resource_type}/{s.id}")
    )
    check(
        str(etag).strip() in (f'W/"{vid}"', f'"{vid}"'),
        Text("ETag {e} không khớp versionId {v}.", "ETag {e} does not match versionId {v}.").format(
            e=etag, v=vid
        ),
    )


@criterion("VHR-API-013")
def test_if_match(writer: Writer) -> None:
    rid, body, _ = writer.create("Patient", "if-match", standalone=True)
    fhir = writer.fhir
    check_status(
        fhir.put(f"Patient/{rid}", dict(body, id=rid, language="vi")), (200, 201), f"PUT Patient/{rid}"
    )
    stale = fhir.put(f"Patient/{rid}", dict(body, id=rid, language="en"), headers={"If-Match": 'W/"1"'})
    check(
        stale.status in (409, 412),
        Text(
            'PUT với If-Match cũ (W/"1") trả lời {s}, cần 412.',
            'A PUT with a stale If-Match (W/"1") answered {s}, expected 412.',
        ).format(s=status_text(stale)),
    )


@criterion("VHR-API-014")
def test_errors_are_operation_outcomes(vhr: VhrState, fhir: FhirClient) -> None:
    path = f"Patient/vhr-missing-{vhr.options.run_id.lower()}"
    missing = fhir.get(path)
    check_status(missing, (404,), f"GET {path}")
    check_operation_outcome(missing, f"GET {path} → 404")
    bad = fhir.get("Patient", params={"birthdate": "not-a-date"}, headers={"Prefer": "handling=strict"})
    check(
        400 <= bad.status < 500,
        Text(
            "Tìm kiếm với giá trị sai (birthdate=not-a-date, handling=strict) trả lời {s}, cần 400.",
            "A search with an invalid value (birthdate=not-a-date, handling=strict) answered {s}, expected 400.",
        ).format(s=status_text(bad)),
    )
    check_operation_outcome(bad, "GET Patient?birthdate=not-a-date → 400")


@criterion("VHR-API-015")
def test_content_type(fhir: FhirClient, seed: SeedData) -> None:
    s = seeded_or_skip(seed, "Patient")[0]
    resp = fhir.get(f"Patient/{s.id}")
    check_status(resp, (200,), f"GET Patient/{s.id}")
    check_fhir_json(resp, f"GET Patient/{s.id}")
    fmt = fhir.get(f"Patient/{s.id}", params={"_format": "json"}, headers={"Accept": "*/*"})
    check(
        fmt.status == 200 and fmt.resource_type == "Patient",
        Text(
            "GET Patient/{i}?_format=json trả lời {s}, không phải một Patient.",
            "GET Patient/{i}?_format=json answered {s}, not a Patient.",
        ).format(i=s.id, s=status_text(fmt)),
    )
    check_fhir_json(fmt, f"GET Patient/{s.id}?_format=json")


@criterion("VHR-API-017")
def test_prefer_return(writer: Writer) -> None:
    minimal, representation = {"Prefer": "return=minimal"}, {"Prefer": "return=representation"}
    rid, _, _ = writer.create("Patient", "prefer-minimal", minimal, standalone=True)
    read_back(writer.fhir, "Patient", rid)
    rid2, _, rep = writer.create("Patient", "prefer-rep", representation, standalone=True)
    check(
        rep.resource_type == "Patient" and (rep.json or {}).get("id") == rid2,
        Text(
            "Prefer: return=representation không trả về tài nguyên vừa tạo ({s}).",
            "Prefer: return=representation did not return the created resource ({s}).",
        ).format(s=status_text(rep)),
    )
    _, _, mini = writer.create("Patient", "prefer-minimal-2", minimal, standalone=True)
    check(
        not mini.content.strip(),
        Text(
            "Prefer: return=minimal vẫn trả về thân {n} byte.",
            "Prefer: return=minimal still returned a body of {n} bytes.",
        ).format(n=len(mini.content)),
    )


@criterion("VHR-API-003")
def test_created_last_updated_fresh(writer: Writer) -> None:
    import datetime as dt

    rid, _, _ = writer.create("Patient", "fresh-lastupdated", standalone=True, strict=True)
    back = writer.fhir.get(f"Patient/{rid}").json or {}
    stamp = (back.get("meta") or {}).get("lastUpdated")
    if not stamp:
        not_tested(
            Text(
                "Máy chủ không trả meta.lastUpdated (VHR-API-019 đánh giá việc thiếu này).",
                "The server returns no meta.lastUpdated (VHR-API-019 judges that it is missing).",
            )
        )
    when = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    now = dt.datetime.now(dt.UTC)
    check(
        abs((now - when).total_seconds()) < 600,
        Text(
            "meta.lastUpdated {m} cách thời điểm ghi ({n}) hơn 10 phút.",
            "meta.lastUpdated {m} is more than 10 minutes from the time of the write ({n}).",
        ).format(m=stamp, n=now.isoformat(timespec="seconds")),
    )
