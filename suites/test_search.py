"""Search (area API, PAT): every IG search parameter, comparators, modifiers, paging, includes.

For each parameter the query value is built from a seeded resource; the test checks that resource
comes back and that every returned entry really matches (by the parameter's own FHIRPath).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from vhr_conformance.client import FhirClient
from vhr_conformance.i18n import Text
from vhr_conformance.igmodel import IgModel, SearchReq
from vhr_conformance.outcome import check, not_applicable, not_tested
from vhr_conformance.pytest_plugin import criterion
from vhr_conformance.runner import search as fs
from vhr_conformance.runner.checks import (
    bundle_entries,
    check_status,
    declares_search,
    gate,
    ids_of,
    pages,
    returned,
    search_all,
    short,
)
from vhr_conformance.seed import SeedData

PAGE = 50


def _no_value(rtype: str, what: str) -> Text:
    return Text(
        f"Không có dữ liệu thử {rtype} nào (trong bản máy chủ trả lại) có giá trị cho {what}; cần dữ liệu "
        "phủ (fixtures/coverage) có phần tử này.",
        f"No {rtype} test data (as the target returned it) holds a value for {what}; the coverage "
        "fixtures (fixtures/coverage) must carry that element.",
    )


def _pick(sp: SearchReq, seed: SeedData, copies: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    if not sp.expression:
        not_tested(
            Text(
                f"IG không có biểu thức FHIRPath cho tham số {sp.resource_type}.{sp.name}: không dựng được truy vấn.",
                f"The IG gives no FHIRPath expression for {sp.resource_type}.{sp.name}: no query can be built.",
            )
        )
    for _s, res in returned(seed.of_type(sp.resource_type), copies):
        q = fs.query_value(sp.type, fs.values(res, sp.expression))
        if q:
            return q, res
    not_tested(_no_value(sp.resource_type, f"{sp.resource_type}?{sp.name}"))


def _check_all_match(
    sp: SearchReq,
    found: list[dict[str, Any]],
    shown: str,
    q: str,
    prefix: str = "eq",
    modifier: str | None = None,
) -> None:
    """Every returned entry must match; `shown` is the query as sent, comparator or modifier included."""
    wrong = [
        f"{r.get('resourceType')}/{r.get('id')}"
        for r in found
        if not fs.matches(sp.type, fs.values(r, sp.expression), q, prefix, modifier)
    ]
    check(
        not wrong,
        Text(
            "{s}: {n}/{t} kết quả trả về không thỏa điều kiện (so sánh {c}): {w}.",
            "{s}: {n} of {t} returned entries do not match (comparator {c}): {w}.",
        ).format(
            s=shown, n=len(wrong), t=len(found), c=f":{modifier}" if modifier else prefix, w=short(wrong)
        ),
    )


def _gate_search(sp: SearchReq, target_cs: dict[str, Any]) -> None:
    gate(
        sp.expectation, declares_search(target_cs, sp.resource_type, sp.name), f"{sp.resource_type}?{sp.name}"
    )


def _split(sp: SearchReq, q: str) -> tuple[str, str]:
    return (q[:2], q[2:]) if sp.type == "date" and q[:2].isalpha() else ("eq", q)


@dataclass(frozen=True)
class Search:
    """What the search tests read: the IG, the client, the seeded data, the target's
    CapabilityStatement and its copies of the seeded resources (`server_copies`)."""

    ig: IgModel
    fhir: FhirClient
    seed: SeedData
    target_cs: dict[str, Any]
    copies: dict[str, dict[str, Any]]


@pytest.fixture
def search(
    ig: IgModel,
    fhir: FhirClient,
    seed: SeedData,
    target_cs: dict[str, Any],
    server_copies: dict[str, dict[str, Any]],
) -> Search:
    return Search(ig, fhir, seed, target_cs, server_copies)


def _search_one(sp: SearchReq, search: Search) -> None:
    fhir = search.fhir
    _gate_search(sp, search.target_cs)
    q, res = _pick(sp, search.seed, search.copies)
    prefix, value = _split(sp, q)
    shown = f"{sp.resource_type}?{sp.name}={q}"
    found = search_all(fhir, sp.resource_type, [(sp.name, q), ("_count", str(PAGE))])
    check(
        res["id"] in ids_of(found),
        Text("{s} không trả về {t}/{i} ({n} kết quả).", "{s} did not return {t}/{i} ({n} results).").format(
            s=shown, t=sp.resource_type, i=res["id"], n=len(found)
        ),
    )
    _check_all_match(sp, found, shown, value, prefix)


@criterion("VHR-API-007")
@pytest.mark.search_params(levels=("SHALL",))
def test_required_search_parameter(search_req: SearchReq, search: Search) -> None:
    _search_one(search_req, search)


@criterion("VHR-API-020")
@pytest.mark.search_params(levels=("SHOULD", "MAY"))
def test_optional_search_parameter(search_req: SearchReq, search: Search) -> None:
    _search_one(search_req, search)


@criterion("VHR-API-008")
def test_date_comparators(date_search: tuple[SearchReq, str], search: Search) -> None:
    """The query value is one the seeded data straddles, so some seeded resource must come back
    (a comparator that returns nothing proves nothing) and none that does not match may."""
    sp, prefix = date_search
    fhir = search.fhir
    _gate_search(sp, search.target_cs)
    if not sp.expression:
        not_tested(_no_value(sp.resource_type, f"{sp.resource_type}?{sp.name}"))
    copies = [res for _s, res in returned(search.seed.of_type(sp.resource_type), search.copies)]
    values = sorted(
        {
            q[2:] if q[:2].isalpha() else q
            for r in copies
            if (q := fs.query_value(sp.type, fs.values(r, sp.expression)))
        },
        reverse=prefix in ("lt", "le"),
    )
    q, expected = "", []
    for v in values:  # ascending for gt/ge, descending for lt/le: the widest straddled value first
        expected = [r for r in copies if fs.matches(sp.type, fs.values(r, sp.expression), v, prefix)]
        if expected:
            q = v
            break
    if not expected:
        not_tested(_no_value(sp.resource_type, f"{sp.resource_type}?{sp.name}={prefix}…"))
    shown = f"{sp.resource_type}?{sp.name}={prefix}{q}"
    found = search_all(fhir, sp.resource_type, [(sp.name, f"{prefix}{q}"), ("_count", str(PAGE))])
    _check_all_match(sp, found, shown, q, prefix)
    missed = sorted(ids_of(expected) - ids_of(found))
    check(
        not missed,
        Text(
            "{s} (so sánh {p}) bỏ sót {n} tài nguyên thử thỏa điều kiện: {m}.",
            "{s} (comparator {p}) missed {n} matching test resources: {m}.",
        ).format(s=shown, p=prefix, n=len(missed), m=short([f"{sp.resource_type}/{x}" for x in missed])),
    )


def _combination(search_combo: tuple[str, str, tuple[str, ...]] | None, search: Search) -> None:
    ig, fhir, target_cs = search.ig, search.fhir, search.target_cs
    if search_combo is None:
        not_applicable(
            Text(
                "IG không khai báo tổ hợp tham số tìm kiếm nào ở mức này.",
                "The IG declares no search-parameter combination at this level.",
            )
        )
    rtype, expectation, names = search_combo
    params = {sp.name: sp for sp in ig.resources[rtype].search}
    missing = [n for n in names if n not in params or not params[n].expression]
    if missing:
        not_tested(
            Text(
                f"IG không định nghĩa (hoặc không có biểu thức cho) tham số {missing}.",
                f"The IG does not define (or gives no expression for) parameters {missing}.",
            )
        )
    gate(expectation, all(declares_search(target_cs, rtype, n) for n in names), f"{rtype}?{'&'.join(names)}")
    res: dict[str, Any] = {}
    queries: dict[str, str] = {}
    for _s, copy in returned(search.seed.of_type(rtype), search.copies):
        qs = {n: fs.query_value(params[n].type, fs.values(copy, params[n].expression)) for n in names}
        if all(qs.values()):
            res, queries = copy, {n: str(q) for n, q in qs.items()}
            break
    if not res:
        not_tested(_no_value(rtype, " & ".join(names)))
    shown = f"{rtype}?" + "&".join(f"{n}={q}" for n, q in queries.items())
    found = search_all(fhir, rtype, [*queries.items(), ("_count", str(PAGE))])
    check(
        res["id"] in ids_of(found),
        Text("{s} không trả về {t}/{i}.", "{s} did not return {t}/{i}.").format(
            s=shown, t=rtype, i=res["id"]
        ),
    )
    for n, q in queries.items():
        prefix, value = _split(params[n], q)
        _check_all_match(params[n], found, shown, value, prefix)


@criterion("VHR-API-007")
@pytest.mark.search_params(levels=("SHALL",))
def test_required_search_combination(
    search_combo: tuple[str, str, tuple[str, ...]] | None, search: Search
) -> None:
    _combination(search_combo, search)


@criterion("VHR-API-020")
@pytest.mark.search_params(levels=("SHOULD", "MAY"))
def test_optional_search_combination(
    search_combo: tuple[str, str, tuple[str, ...]] | None, search: Search
) -> None:
    _combination(search_combo, search)


def _patient_family(
    seed: SeedData, copies: dict[str, dict[str, Any]], accented: bool = False
) -> tuple[str, dict[str, Any]]:
    for s in seed.of_type("Patient"):
        res = copies.get(f"Patient/{s.id}") or {}
        for name in res.get("name", []) or []:
            fam = name.get("family")
            if fam and (not accented or fs.fold(fam) != fam.casefold()):
                return fam, res
    not_tested(
        Text(
            "Không có người bệnh thử nào (trong bản máy chủ trả lại) có họ"
            + (" có dấu." if accented else "."),
            "No test patient (as the target returned it) has a family name"
            + (" with diacritics." if accented else "."),
        )
    )


@criterion("VHR-API-008")
def test_string_modifiers(
    ig: IgModel, fhir: FhirClient, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    sp = (
        next((s for s in ig.resources["Patient"].search if s.name == "name"), None)
        if "Patient" in ig.resources
        else None
    )
    if sp is None:
        not_applicable(Text("IG không có tham số Patient.name.", "The IG has no Patient name parameter."))
    fam, res = _patient_family(seed, server_copies)
    for modifier, q in (("exact", fam), ("contains", fam[1:] if len(fam) > 2 else fam)):
        shown = f"Patient?name:{modifier}={q}"
        found = search_all(fhir, "Patient", [(f"name:{modifier}", q)])
        check(
            res["id"] in ids_of(found),
            Text("{s} bỏ sót Patient/{i}.", "{s} missed Patient/{i}.").format(s=shown, i=res["id"]),
        )
        _check_all_match(sp, found, shown, q, modifier=modifier)
    shown = "Patient?birthdate:missing=false"
    found = search_all(fhir, "Patient", [("birthdate:missing", "false"), ("_count", str(PAGE))])
    without = [f"Patient/{r.get('id')}" for r in found if not r.get("birthDate")]
    check(
        not without,
        Text(
            "{s} trả về {n}/{t} người bệnh không có birthDate: {w}.",
            "{s} returned {n} of {t} patients without birthDate: {w}.",
        ).format(s=shown, n=len(without), t=len(found), w=short(without)),
    )
    if res.get("birthDate"):
        check(
            res["id"] in ids_of(found),
            Text(
                "{s} bỏ sót Patient/{i} (có birthDate).", "{s} missed Patient/{i} (which has a birthDate)."
            ).format(s=shown, i=res["id"]),
        )


@criterion("VHR-PAT-004")
def test_accent_insensitive_name(
    ig: IgModel, fhir: FhirClient, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    patient = ig.resources.get("Patient")
    sp = next((s for s in patient.search if s.name == "name"), None) if patient else None
    fam, res = _patient_family(seed, server_copies, accented=True)
    plain = fs.fold(fam)
    for query in (plain, plain.upper()):
        found = search_all(fhir, "Patient", [("name", query), ("_count", str(PAGE))])
        if sp is not None:
            _check_all_match(sp, found, f"Patient?name={query}", query)
        check(
            res["id"] in ids_of(found),
            Text(
                "Patient?name={q} không tìm thấy “{f}” (Patient/{i}).",
                "Patient?name={q} did not find “{f}” (Patient/{i}).",
            ).format(q=query, f=fam, i=res["id"]),
        )


@criterion("VHR-API-009")
def test_paging_complete(fhir: FhirClient, seed: SeedData) -> None:
    rtype = "Patient"
    want = {s.id for s in seed.of_type(rtype)}
    if len(want) < 3:
        not_tested(
            Text(
                f"Cần ít nhất 3 tài nguyên thử để kiểm tra phân trang, chỉ tạo được {len(want)}.",
                f"Paging needs at least 3 test resources; only {len(want)} could be created.",
            )
        )
    first = fhir.search(rtype, [("_count", "5")])
    check_status(first, (200,), f"GET {rtype}?_count=5")
    seen: list[str] = []
    total = (first.json or {}).get("total") if isinstance(first.json, dict) else None
    npages = 0
    for page in pages(fhir, first, limit=2000):
        npages += 1
        entries = bundle_entries(page)
        check(
            len(entries) <= 5,
            Text("Một trang của _count=5 có {n} mục.", "A page of _count=5 holds {n} entries.").format(
                n=len(entries)
            ),
        )
        seen.extend(str(r.get("id")) for r in entries)
    dupes = sorted({x for x in seen if seen.count(x) > 1})
    check(
        not dupes,
        Text("Phân trang trả về trùng lặp: {d}.", "Paging returned duplicates: {d}.").format(d=short(dupes)),
    )
    missing = sorted(want - set(seen))
    check(
        not missing,
        Text(
            "Phân trang (_count=5, Bundle.total={k}) qua {p} trang bỏ sót {n}/{w} tài nguyên {t} của lượt chạy: {m}.",
            "Paging (_count=5, Bundle.total={k}) over {p} pages missed {n} of the run's {w} {t} resources: {m}.",
        ).format(k=total, p=npages, n=len(missing), w=len(want), t=rtype, m=short(missing, 3)),
    )
    if isinstance(total, int):
        check(
            total == len(seen),
            Text(
                "Bundle.total là {t} nhưng phân trang cho {n} mục.",
                "Bundle.total is {t} but paging yielded {n}.",
            ).format(t=total, n=len(seen)),
        )


@criterion("VHR-API-010")
def test_include_and_revinclude(fhir: FhirClient, seed: SeedData) -> None:
    enc = next((s for s in seed.of_type("Encounter") if (s.sent.get("subject") or {}).get("reference")), None)
    if enc is None:
        not_tested(
            Text(
                "Không có lượt khám thử nào có subject: cần nạp được fixtures/coverage.",
                "No test encounter with a subject: the coverage fixtures must load.",
            )
        )
    resp = fhir.search("Encounter", [("_id", enc.id), ("_include", "Encounter:subject")])
    check_status(resp, (200,), f"GET Encounter?_id={enc.id}&_include=Encounter:subject")
    included = bundle_entries(resp.json, mode="include")
    check(
        any(r.get("resourceType") == "Patient" for r in included),
        Text(
            "_include=Encounter:subject không trả về Patient nào với mode=include ({n} mục include).",
            "_include=Encounter:subject returned no Patient with mode=include ({n} include entries).",
        ).format(n=len(included)),
    )
    pid = str(enc.sent["subject"]["reference"]).split("/")[-1]
    rev = fhir.search("Patient", [("_id", pid), ("_revinclude", "Encounter:subject")])
    check_status(rev, (200,), f"GET Patient?_id={pid}&_revinclude=Encounter:subject")
    rev_inc = bundle_entries(rev.json, mode="include")
    check(
        enc.id in {r.get("id") for r in rev_inc if r.get("resourceType") == "Encounter"},
        Text(
            "_revinclude=Encounter:subject không trả về lượt khám Encounter/{e} của người bệnh.",
            "_revinclude=Encounter:subject did not return the patient's Encounter/{e}.",
        ).format(e=enc.id),
    )


@criterion("VHR-API-011")
def test_summary_count_and_count(fhir: FhirClient, seed: SeedData) -> None:
    n = len(seed.of_type("Patient"))
    if n < 2:
        not_tested(
            Text(
                f"Cần ít nhất 2 người bệnh thử, chỉ tạo được {n}.",
                f"Needs at least 2 test patients; only {n} could be created.",
            )
        )
    resp = fhir.search("Patient", [("_summary", "count")])
    check_status(resp, (200,), "GET Patient?_summary=count")
    body = resp.json if isinstance(resp.json, dict) else {}
    check(
        isinstance(body.get("total"), int) and body["total"] >= n,
        Text(
            "_summary=count cho total={t!r}, cần ≥ {n} (số người bệnh thử).",
            "_summary=count gives total={t!r}, expected ≥ {n} (the test patients).",
        ).format(t=body.get("total"), n=n),
    )
    check(
        not body.get("entry"),
        Text("_summary=count trả về {k} mục.", "_summary=count returned {k} entries.").format(
            k=len(body.get("entry") or [])
        ),
    )
    one = fhir.search("Patient", [("_count", "1")])
    check_status(one, (200,), "GET Patient?_count=1")
    got = len(bundle_entries(one.json))
    check(got <= 1, Text("_count=1 trả về {k} mục.", "_count=1 returned {k} entries.").format(k=got))


@criterion("VHR-API-012")
def test_sort(fhir: FhirClient) -> None:
    """Judged on the first page: whatever paging does, a sorted page must be in order."""
    for key, reverse in (("birthdate", False), ("-birthdate", True)):
        resp = fhir.search("Patient", [("_sort", key), ("_count", str(PAGE))])
        check_status(resp, (200,), f"GET Patient?_sort={key}")
        dates = [r["birthDate"] for r in bundle_entries(resp.json) if r.get("birthDate")]
        if len(set(dates)) < 2:
            not_tested(
                Text(
                    f"_sort={key}: chỉ {len(set(dates))} ngày sinh khác nhau được trả về, không đủ để kiểm tra thứ tự.",
                    f"_sort={key}: only {len(set(dates))} distinct birth dates came back, too few to check the order.",
                )
            )
        check(
            dates == sorted(dates, reverse=reverse),
            Text("_sort={k} không đúng thứ tự: {d}.", "_sort={k} is not in order: {d}.").format(
                k=key, d=short(dates, 6)
            ),
        )
