"""Data quality (đúng – đủ – sạch – sống) and references over the data the run stored."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from vhr_conformance.client import FhirClient
from vhr_conformance.fhirutil import references
from vhr_conformance.i18n import Text
from vhr_conformance.igmodel import IgModel
from vhr_conformance.names import SID_CCCD, canonical
from vhr_conformance.outcome import check, not_tested
from vhr_conformance.pytest_plugin import criterion
from vhr_conformance.runner.checks import ids_of, require_judged, search_all, seeded_or_skip, short
from vhr_conformance.runner.fresh import cccd_of, century_sex_digit
from vhr_conformance.seed import SeedData

PROVINCE_EXT = canonical("StructureDefinition", "vhr-address-province")
COMMUNE_EXT = canonical("StructureDefinition", "vhr-address-commune")


def _external_refs(res: dict[str, Any]) -> list[str]:
    """References leaving the resource: inside a Bundle, those to its own entries' fullUrls do not count."""
    internal = (
        {e.get("fullUrl") for e in res.get("entry", []) or [] if isinstance(e, dict)}
        if res.get("resourceType") == "Bundle"
        else set()
    )
    return [r for r in references(res) if r not in internal]


def _copies(seed: SeedData, copies: dict[str, dict[str, Any]], rtype: str) -> list[dict[str, Any]]:
    items = [copies[f"{s.type}/{s.id}"] for s in seeded_or_skip(seed, rtype) if f"{s.type}/{s.id}" in copies]
    if not items:
        not_tested(
            Text(
                f"Máy chủ không trả lại dữ liệu thử {rtype} nào (đọc theo _id hoặc theo id).",
                f"The target returned none of the {rtype} test data (by _id search or by read).",
            )
        )
    return items


def _all_copies(seed: SeedData, copies: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The target's copy of every seeded resource it returned, all resource types."""
    out = [copies[f"{s.type}/{s.id}"] for s in seed.resources if f"{s.type}/{s.id}" in copies]
    require_judged(
        len(out),
        Text(
            "Máy chủ không trả lại dữ liệu thử nào (cần nạp được fixtures/coverage).",
            "The target returned none of the test data (the coverage fixtures must load).",
        ),
    )
    return out


@criterion("VHR-QUAL-004")
def test_no_orphan_references(
    fhir: FhirClient, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    refs = sorted(
        {
            r
            for res in _all_copies(seed, server_copies)
            for r in _external_refs(res)
            if not r.startswith("#") and not r.startswith("urn:")
        }
    )
    require_judged(
        len(refs),
        Text(
            "Dữ liệu thử máy chủ trả lại không có tham chiếu nào để kiểm tra.",
            "The test data the target returned holds no reference to check.",
        ),
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
    check(
        not orphans,
        Text(
            "{n}/{t} tham chiếu không phân giải được: {o}.",
            "{n} of {t} references do not resolve: {o}.",
        ).format(n=len(orphans), t=len(refs), o=short(orphans)),
    )


@criterion("VHR-XCH-004")
def test_references_usable(
    fhir: FhirClient, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    refs = sorted(
        {r for res in _all_copies(seed, server_copies) for r in _external_refs(res) if not r.startswith("#")}
    )
    require_judged(
        len(refs),
        Text(
            "Dữ liệu thử máy chủ trả lại không có tham chiếu nào để kiểm tra.",
            "The test data the target returned holds no reference to check.",
        ),
    )
    bad = [r for r in refs if r.startswith("urn:") or (r.startswith("http") and not fhir.same_origin(r))]
    check(
        not bad,
        Text(
            "{n}/{t} tham chiếu là tạm thời (urn:) hoặc trỏ ra ngoài máy chủ: {b}.",
            "{n} of {t} references are temporary (urn:) or point elsewhere: {b}.",
        ).format(n=len(bad), t=len(refs), b=short(bad)),
    )


@criterion("VHR-QUAL-005")
def test_last_updated_fresh(seed: SeedData, server_copies: dict[str, dict[str, Any]]) -> None:
    created = sorted(
        f"{s.type}/{s.id}" for s in seed.resources if s.created and f"{s.type}/{s.id}" in server_copies
    )
    require_judged(
        len(created),
        Text(
            "Lượt chạy không tạo mới tài nguyên nào mà máy chủ trả lại (cần nạp được fixtures/coverage).",
            "The run created no new resource that the target returned (the coverage fixtures must load).",
        ),
    )
    start = dt.datetime.fromisoformat(seed.started_iso) - dt.timedelta(minutes=5)
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    stale = []
    for ref in created:
        stamp = ((server_copies.get(ref) or {}).get("meta") or {}).get("lastUpdated")
        when = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00")) if stamp else None
        if when is None or not (start <= when <= end):
            stale.append(f"{ref}: {stamp}")
    check(
        not stale,
        Text(
            "{n}/{t} tài nguyên vừa tạo có meta.lastUpdated ngoài thời gian chạy ({a} … {b}): {s}.",
            "{n} of {t} newly created resources have meta.lastUpdated outside the run ({a} … {b}): {s}.",
        ).format(n=len(stale), t=len(created), a=start.isoformat(), b=end.isoformat(), s=short(stale)),
    )


@criterion("VHR-QUAL-003")
def test_no_duplicate_patients(
    fhir: FhirClient, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    numbers = sorted({n for res in _copies(seed, server_copies, "Patient") if (n := cccd_of(res))})
    if not numbers:
        not_tested(
            Text(
                "Không người bệnh thử nào (máy chủ trả lại) có CCCD.",
                "No test patient (as returned by the target) has a CCCD.",
            )
        )
    dupes = []
    for n in numbers:
        found = search_all(fhir, "Patient", [("identifier", f"{SID_CCCD}|{n}")])
        if len(found) > 1:
            dupes.append(f"{n}: {sorted(ids_of(found))}")
    check(
        not dupes,
        Text(
            "{k}/{t} số CCCD có nhiều người bệnh: {d}.",
            "{k} of {t} CCCD numbers are held by several patients: {d}.",
        ).format(k=len(dupes), t=len(numbers), d=short(dupes)),
    )


@criterion("VHR-QUAL-006")
def test_identifiers_consistent(seed: SeedData, server_copies: dict[str, dict[str, Any]]) -> None:
    bad, judged = [], 0
    for res in _copies(seed, server_copies, "Patient"):
        n, born, gender = cccd_of(res), str(res.get("birthDate", "")), res.get("gender")
        if not n or len(born) < 4 or gender not in ("male", "female"):
            continue
        judged += 1
        year = int(born[:4])
        if not (len(n) == 12 and n.isdigit()):
            bad.append(f"Patient/{res['id']}: CCCD {n!r} ≠ 12 digits")
        elif int(n[3]) != century_sex_digit(year, gender) % 10 or n[4:6] != f"{year % 100:02d}":
            bad.append(f"Patient/{res['id']}: CCCD {n} vs {gender} {year}")
    require_judged(
        judged,
        Text(
            "Không người bệnh thử nào (máy chủ trả lại) có đủ CCCD, năm sinh và giới tính nam/nữ để đối chiếu.",
            "No test patient (as returned by the target) has a CCCD, a birth year and a male/female gender to compare.",
        ),
    )
    check(
        not bad,
        Text(
            "{k}/{t} người bệnh có CCCD không khớp ngày sinh/giới tính: {b}.",
            "{k} of {t} patients have a CCCD that disagrees with birth date/sex: {b}.",
        ).format(k=len(bad), t=judged, b=short(bad)),
    )


def _ident_set(res: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (str(i.get("system")), str(i.get("value")))
        for i in res.get("identifier", []) or []
        if isinstance(i, dict)
    }


@criterion("VHR-QUAL-007")
def test_stored_data_unchanged(seed: SeedData, server_copies: dict[str, dict[str, Any]]) -> None:
    changed, judged = [], 0
    for s in seed.resources:
        res = server_copies.get(f"{s.type}/{s.id}")
        if res is None or not s.created:
            continue
        judged += 1
        if isinstance(s.sent.get("identifier"), list) and _ident_set(s.sent) - _ident_set(res):
            changed.append(
                f"{s.type}/{s.id}: identifiers {sorted(_ident_set(s.sent) - _ident_set(res))[:2]} lost"
            )
        for key in ("birthDate", "gender", "status"):
            if key in s.sent and s.sent[key] != res.get(key):
                changed.append(f"{s.type}/{s.id}: {key} {s.sent[key]!r} → {res.get(key)!r}")
    require_judged(
        judged,
        Text(
            "Máy chủ không trả lại tài nguyên nào lượt chạy đã tạo để so với bản gửi.",
            "The target returned none of the resources the run created, to compare with what was sent.",
        ),
    )
    check(
        not changed,
        Text(
            "{k} giá trị lưu khác bản đã gửi (trên {t} tài nguyên): {c}.",
            "{k} stored values differ from what was sent (over {t} resources): {c}.",
        ).format(k=len(changed), t=judged, c=short(changed)),
    )


@criterion("VHR-PAT-010")
def test_vietnamese_names_intact(seed: SeedData, server_copies: dict[str, dict[str, Any]]) -> None:
    nfc = lambda t: unicodedata.normalize("NFC", t)  # noqa: E731
    bad, judged = [], 0
    for s in seed.of_type("Patient"):
        res = server_copies.get(f"Patient/{s.id}")
        if res is None:
            continue
        judged += 1
        sent = sorted(nfc(n.get("family", "")) for n in s.sent.get("name", []))
        got = sorted(nfc(n.get("family", "")) for n in res.get("name", []) or [])
        if sent != got:
            bad.append(f"Patient/{s.id}: {sent} → {got}")
    require_judged(
        judged,
        Text(
            "Máy chủ không trả lại người bệnh thử nào để so tên.",
            "The target returned none of the test patients to compare names.",
        ),
    )
    check(
        not bad,
        Text(
            "{k}/{t} người bệnh có họ bị đổi: {b}.", "{k} of {t} patients had their family name changed: {b}."
        ).format(k=len(bad), t=judged, b=short(bad, 3)),
    )


def _codes(ig: IgModel, cs_id: str) -> dict[str, dict[str, str]]:
    cs = ig.packages.get(canonical("CodeSystem", cs_id)) or {}
    out = {}
    for c in cs.get("concept", []):
        props = {p.get("code"): p.get("valueCode") or p.get("valueString") for p in c.get("property", [])}
        out[c["code"]] = props
    return out


@criterion("VHR-PAT-009")
def test_address_codes(ig: IgModel, seed: SeedData, server_copies: dict[str, dict[str, Any]]) -> None:
    provinces, communes = _codes(ig, "vhr-province"), _codes(ig, "vhr-commune")
    if not provinces or not communes:
        not_tested(
            Text(
                "IG đang dùng không có CodeSystem vhr-province/vhr-commune để đối chiếu mã địa chỉ.",
                "The IG in use has no vhr-province/vhr-commune CodeSystems to check address codes against.",
            )
        )
    bad, seen = [], 0
    for res in _copies(seed, server_copies, "Patient"):
        for addr in res.get("address", []) or []:
            exts = {
                e.get("url"): (e.get("valueCoding") or {}).get("code")
                for e in addr.get("extension", []) or []
            }
            prov, comm = exts.get(PROVINCE_EXT), exts.get(COMMUNE_EXT)
            if prov is None and comm is None:
                continue
            seen += 1
            if prov not in provinces:
                bad.append(f"Patient/{res['id']}: province {prov!r}")
            if comm is not None and (
                comm not in communes or communes[comm].get("province") not in (None, prov)
            ):
                bad.append(f"Patient/{res['id']}: commune {comm!r} ∉ {prov!r}")
    require_judged(
        seen,
        Text(
            "Không địa chỉ thử nào (máy chủ trả lại) mang mã tỉnh/xã.",
            "No test address (as returned by the target) carries province/commune codes.",
        ),
    )
    check(
        not bad,
        Text(
            "{k} mã địa chỉ không thuộc danh mục 2025 (trên {t} địa chỉ): {b}.",
            "{k} address codes are not 2025 codes (over {t} addresses): {b}.",
        ).format(k=len(bad), t=seen, b=short(bad)),
    )
