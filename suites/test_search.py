"""Search (area API, PAT): every IG search parameter, comparators, modifiers, paging, includes.

For each parameter the query value is built from a seeded resource; the test checks that resource
comes back and that every returned entry really matches (by the parameter's own FHIRPath).
"""

from __future__ import annotations

from typing import Any

from vhr_conformance.client import FhirClient
from vhr_conformance.i18n import Text
from vhr_conformance.pytest_plugin import criterion, omit, skip_missing
from vhr_conformance.runner import search as fs
from vhr_conformance.runner.checks import bundle_entries, declares_search, gate
from vhr_conformance.runner.igmodel import IgModel, SearchReq
from vhr_conformance.runner.seed import SeedData

PAGE = 50


def _pick(sp: SearchReq, seed: SeedData, copies: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    if not sp.expression:
        skip_missing(
            Text(
                f"IG không có biểu thức cho tham số {sp.name}.", f"The IG gives no expression for {sp.name}."
            )
        )
    for s in seed.of_type(sp.resource_type):
        res = copies.get(f"{s.type}/{s.id}")
        if res is None:
            continue
        q = fs.query_value(sp.type, fs.values(res, sp.expression))
        if q:
            return q, res
    skip_missing(
        Text(
            f"Không có dữ liệu {sp.resource_type} nào có giá trị cho tham số {sp.name}.",
            f"No {sp.resource_type} test data holds a value for search parameter {sp.name}.",
        )
    )


def _check_all_match(
    sp: SearchReq, found: list[dict[str, Any]], q: str, prefix: str = "eq", modifier: str | None = None
) -> None:
    wrong = [
        f"{r.get('resourceType')}/{r.get('id')}"
        for r in found
        if not fs.matches(sp.type, fs.values(r, sp.expression), q, prefix, modifier)
    ]
    assert not wrong, (
        f"{sp.resource_type}?{sp.name}={q}: {len(wrong)} of {len(found)} returned entries do not match: {wrong[:5]}"
    )


def test_search_parameter(
    search_req: SearchReq,
    fhir: FhirClient,
    seed: SeedData,
    target_cs: dict[str, Any],
    server_copies: dict[str, dict[str, Any]],
) -> None:
    sp = search_req
    gate(
        sp.expectation, declares_search(target_cs, sp.resource_type, sp.name), f"{sp.resource_type}?{sp.name}"
    )
    q, res = _pick(sp, seed, server_copies)
    prefix, value = (q[:2], q[2:]) if sp.type == "date" and q[:2].isalpha() else ("eq", q)
    found = fhir.search_all(sp.resource_type, [(sp.name, q), ("_count", str(PAGE))])
    ids = {r.get("id") for r in found}
    assert res["id"] in ids, f"{sp.resource_type}?{sp.name}={q} did not return {sp.resource_type}/{res['id']}"
    _check_all_match(sp, found, value, prefix)


def test_date_comparators(
    date_search: tuple[SearchReq, str],
    fhir: FhirClient,
    seed: SeedData,
    target_cs: dict[str, Any],
    server_copies: dict[str, dict[str, Any]],
) -> None:
    sp, prefix = date_search
    gate(
        sp.expectation, declares_search(target_cs, sp.resource_type, sp.name), f"{sp.resource_type}?{sp.name}"
    )
    q, res = _pick(sp, seed, server_copies)
    q = q[2:] if q[:2].isalpha() else q
    found = fhir.search_all(sp.resource_type, [(sp.name, f"{prefix}{q}"), ("_count", str(PAGE))])
    _check_all_match(sp, found, q, prefix)
    if fs.matches(sp.type, fs.values(res, sp.expression), q, prefix):
        assert res["id"] in {r.get("id") for r in found}, (
            f"{sp.name}={prefix}{q} missed {sp.resource_type}/{res['id']}"
        )


@criterion("VHR-API-007")  # also carried by an empty parameter set when the IG declares no combination
def test_search_combination(
    search_combo: tuple[str, str, tuple[str, ...]],
    ig: IgModel,
    fhir: FhirClient,
    seed: SeedData,
    target_cs: dict[str, Any],
    server_copies: dict[str, dict[str, Any]],
) -> None:
    rtype, expectation, names = search_combo
    params = {sp.name: sp for sp in ig.resources[rtype].search}
    missing = [n for n in names if n not in params or not params[n].expression]
    if missing:
        skip_missing(
            Text(f"IG không định nghĩa tham số {missing}.", f"The IG does not define parameters {missing}.")
        )
    gate(expectation, all(declares_search(target_cs, rtype, n) for n in names), f"{rtype}?{'&'.join(names)}")
    for s in seed.of_type(rtype):
        res = server_copies.get(f"{rtype}/{s.id}")
        queries = (
            {n: fs.query_value(params[n].type, fs.values(res, params[n].expression)) for n in names}
            if res
            else {}
        )
        if res and all(queries.values()):
            break
    else:
        skip_missing(
            Text(
                f"Không có dữ liệu {rtype} có đủ giá trị cho {names}.",
                f"No {rtype} test data holds values for all of {names}.",
            )
        )
    found = fhir.search_all(rtype, [*queries.items(), ("_count", str(PAGE))])
    assert res["id"] in {r.get("id") for r in found}, f"{rtype}?{queries} did not return {rtype}/{res['id']}"
    for n, q in queries.items():
        prefix, value = (q[:2], q[2:]) if params[n].type == "date" and q[:2].isalpha() else ("eq", q)
        _check_all_match(params[n], found, value, prefix)


def _patient_family(
    seed: SeedData, copies: dict[str, dict[str, Any]], accented: bool = False
) -> tuple[str, dict[str, Any]]:
    for s in seed.of_type("Patient"):
        res = copies.get(f"Patient/{s.id}") or {}
        for name in res.get("name", []):
            fam = name.get("family")
            if fam and (not accented or fs.fold(fam) != fam.casefold()):
                return fam, res
    skip_missing(
        Text(
            "Không có người bệnh thử nào có họ" + (" có dấu." if accented else "."),
            "No test patient has a family name" + (" with diacritics." if accented else "."),
        )
    )


@criterion("VHR-API-008")
def test_string_modifiers(
    ig: IgModel, fhir: FhirClient, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    fam, res = _patient_family(seed, server_copies)
    sp = next((s for s in ig.resources["Patient"].search if s.name == "name"), None)
    if sp is None:
        omit(Text("IG không có tham số Patient.name.", "The IG has no Patient name parameter."))
    exact = fhir.search_all("Patient", [("name:exact", fam)])
    assert res["id"] in {r["id"] for r in exact}, f"name:exact={fam} missed Patient/{res['id']}"
    _check_all_match(sp, exact, fam, modifier="exact")
    inner = fam[1:] if len(fam) > 2 else fam
    contains = fhir.search_all("Patient", [("name:contains", inner)])
    assert res["id"] in {r["id"] for r in contains}, f"name:contains={inner} missed Patient/{res['id']}"
    _check_all_match(sp, contains, inner, modifier="contains")
    missing = fhir.search_all("Patient", [("birthdate:missing", "false"), ("_count", str(PAGE))])
    assert all(r.get("birthDate") for r in missing), (
        "birthdate:missing=false returned patients without birthDate"
    )


@criterion("VHR-PAT-004")
def test_accent_insensitive_name(
    fhir: FhirClient, seed: SeedData, server_copies: dict[str, dict[str, Any]]
) -> None:
    fam, res = _patient_family(seed, server_copies, accented=True)
    plain = fs.fold(fam)
    for query in (plain, plain.upper()):
        found = fhir.search_all("Patient", [("name", query), ("_count", str(PAGE))])
        assert res["id"] in {r["id"] for r in found}, (
            f"Patient?name={query} did not find “{fam}” (Patient/{res['id']})"
        )


@criterion("VHR-API-009")
def test_paging_complete(fhir: FhirClient, seed: SeedData) -> None:
    rtype = "Patient"
    want = {s.id for s in seed.of_type(rtype)}
    if len(want) < 3:
        skip_missing(
            Text(
                "Cần ít nhất 3 tài nguyên thử để kiểm tra phân trang.",
                "Paging needs at least 3 test resources.",
            )
        )
    first = fhir.search(rtype, [("_count", "5")])
    assert first.status == 200, f"{rtype}?_count=5 answered {first.status}"
    seen: list[str] = []
    total = (first.json or {}).get("total")
    for page in fhir.pages(first, limit=2000):
        entries = bundle_entries(page)
        assert len(entries) <= 5, f"a page of _count=5 holds {len(entries)} entries"
        seen.extend(str(r.get("id")) for r in entries)
    dupes = {x for x in seen if seen.count(x) > 1}
    assert not dupes, f"paging returned duplicates: {sorted(dupes)[:5]}"
    missing = want - set(seen)
    assert not missing, f"paging missed {len(missing)} of the run's {rtype} resources: {sorted(missing)[:5]}"
    if isinstance(total, int):
        assert total == len(seen), f"Bundle.total is {total} but paging yielded {len(seen)}"


@criterion("VHR-API-010")
def test_include_and_revinclude(fhir: FhirClient, seed: SeedData) -> None:
    enc = next((s for s in seed.of_type("Encounter")), None)
    if enc is None:
        skip_missing(Text("Không có lượt khám thử.", "No test encounter."))
    resp = fhir.search("Encounter", [("_id", enc.id), ("_include", "Encounter:subject")])
    assert resp.status == 200, f"_include answered {resp.status}"
    included = bundle_entries(resp.json, mode="include")
    assert any(r.get("resourceType") == "Patient" for r in included), (
        "_include=Encounter:subject returned no Patient with mode=include"
    )
    pat_ref = str((enc.sent.get("subject") or {}).get("reference", ""))
    pid = pat_ref.split("/")[-1]
    rev = fhir.search("Patient", [("_id", pid), ("_revinclude", "Encounter:subject")])
    assert rev.status == 200, f"_revinclude answered {rev.status}"
    rev_inc = bundle_entries(rev.json, mode="include")
    assert enc.id in {r.get("id") for r in rev_inc if r.get("resourceType") == "Encounter"}, (
        "_revinclude=Encounter:subject did not return the patient's encounter"
    )


@criterion("VHR-API-011")
def test_summary_count_and_count(fhir: FhirClient, seed: SeedData) -> None:
    n = len(seed.of_type("Patient"))
    if n < 2:
        skip_missing(Text("Cần ít nhất 2 người bệnh thử.", "Needs at least 2 test patients."))
    resp = fhir.search("Patient", [("_summary", "count")])
    assert resp.status == 200, f"_summary=count answered {resp.status}"
    body = resp.json or {}
    assert isinstance(body.get("total"), int) and body["total"] >= n, (
        f"_summary=count total is {body.get('total')!r}"
    )
    assert not body.get("entry"), f"_summary=count returned {len(body.get('entry', []))} entries"
    one = fhir.search("Patient", [("_count", "1")])
    assert len(bundle_entries(one.json)) <= 1, "_count=1 returned more than one entry"


@criterion("VHR-API-012")
def test_sort(fhir: FhirClient, seed: SeedData) -> None:
    if len(seed.of_type("Patient")) < 2:
        skip_missing(Text("Cần ít nhất 2 người bệnh thử.", "Needs at least 2 test patients."))
    for key, reverse in (("birthdate", False), ("-birthdate", True)):
        found = fhir.search_all("Patient", [("_sort", key), ("_count", str(PAGE))])
        dates = [r["birthDate"] for r in found if r.get("birthDate")]
        assert dates == sorted(dates, reverse=reverse), f"_sort={key} is not in order: {dates[:6]}"
