"""Small checks shared by the suites: what the target declares, how to gate optional tests, and
the bilingual checks of responses every suite uses.

Rules: a SHALL requirement of the IG is tested whatever the target declares (not declaring it is
itself a failure); a SHOULD/MAY one that the target does not declare is `not-applicable`. A check
that compared nothing is `not-tested`, never a pass. Every failure goes through
:func:`vhr_conformance.outcome.fail`/:func:`check` with a Vietnamese and an English message that
states what was observed; the exchanges themselves are the client's evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from vhr_conformance.client import FHIR_JSON, FhirClient, OffOriginError, Response, redact_text
from vhr_conformance.i18n import Text
from vhr_conformance.outcome import check, fail, not_applicable, not_tested
from vhr_conformance.seed import Seeded

# Statuses that say "this endpoint or interaction is not there", not "your data is invalid".
NOT_THERE = (404, 405, 501)


def rest_resource(cs: dict[str, Any] | None, rtype: str) -> dict[str, Any] | None:
    for rest in (cs or {}).get("rest", []) or []:
        for res in rest.get("resource", []) or []:
            if res.get("type") == rtype:
                return res
    return None


def declares_interaction(cs: dict[str, Any] | None, rtype: str, code: str) -> bool:
    res = rest_resource(cs, rtype)
    return res is not None and any(i.get("code") == code for i in res.get("interaction", []) or [])


def declares_system_interaction(cs: dict[str, Any] | None, code: str) -> bool:
    return any(
        i.get("code") == code
        for rest in (cs or {}).get("rest", []) or []
        for i in rest.get("interaction", []) or []
    )


def declares_search(cs: dict[str, Any] | None, rtype: str, name: str) -> bool:
    res = rest_resource(cs, rtype)
    return res is not None and any(p.get("name") == name for p in res.get("searchParam", []) or [])


def declares_operation(cs: dict[str, Any] | None, name: str, rtype: str | None = None) -> bool:
    for rest in (cs or {}).get("rest", []) or []:
        ops = list(rest.get("operation", []) or [])
        for res in rest.get("resource", []) or []:
            if rtype is None or res.get("type") == rtype:
                ops += res.get("operation", []) or []
        if any(str(o.get("name", "")).lstrip("$") == name.lstrip("$") for o in ops):
            return True
    return False


def gate(expectation: str, declared: bool, what: str) -> None:
    """Not applicable: an optional (SHOULD/MAY) requirement the target does not declare. SHALL ones
    are always tested."""
    if expectation != "SHALL" and not declared:
        not_applicable(
            Text(
                f"Máy chủ không khai báo {what} (mức {expectation} trong IG).",
                f"The target does not declare {what} ({expectation} in the IG).",
            )
        )


def short(items: Sequence[object], n: int = 5) -> str:
    """The first `n` items, and how many more, for a message."""
    head = ", ".join(str(x) for x in items[:n])
    return head + (f" (+{len(items) - n})" if len(items) > n else "")


def status_text(resp: Response) -> str:
    """HTTP status, content type and a short redacted start of the body, for a message."""
    body = redact_text(resp.text()[:160]).replace("\n", " ")
    return f"HTTP {resp.status} {resp.content_type or '-'} «{body}»" if body else f"HTTP {resp.status}"


def check_status(resp: Response, want: Sequence[int], what: str) -> None:
    """`what` (a request, e.g. `GET Patient/1`) must answer one of `want`."""
    check(
        resp.status in want,
        Text(
            "{w} trả lời {s}, cần {x}.",
            "{w} answered {s}, expected {x}.",
        ).format(w=what, s=status_text(resp), x=" / ".join(str(x) for x in want)),
    )


def check_fhir_json(resp: Response, what: str) -> None:
    check(
        resp.content_type in (FHIR_JSON, "application/json"),
        Text(
            "{w}: Content-Type là {c!r}, cần {f}.",
            "{w}: Content-Type is {c!r}, expected {f}.",
        ).format(w=what, c=resp.content_type, f=FHIR_JSON),
    )


def check_operation_outcome(resp: Response, what: str) -> None:
    """The body of `resp` must be an OperationOutcome with at least one issue."""
    body = resp.json
    check(
        isinstance(body, dict) and body.get("resourceType") == "OperationOutcome",
        Text(
            "{w}: {s} không có thân OperationOutcome.",
            "{w}: {s} without an OperationOutcome body.",
        ).format(w=what, s=status_text(resp)),
    )
    check(
        bool(body.get("issue")),
        Text("{w}: OperationOutcome không có issue nào.", "{w}: the OperationOutcome has no issue.").format(
            w=what
        ),
    )


def check_rejected(resp: Response, what: str) -> None:
    """A write of invalid data must be refused: a 4xx that refuses the data (not 404/405/501, which
    say the endpoint is missing), with an OperationOutcome. A missing endpoint cannot show a
    rejection, so it is `not-tested`; an acceptance or a 5xx is a failure."""
    if resp.status in NOT_THERE:
        not_tested(
            Text(
                "{w}: máy chủ trả lời {s}: điểm cuối/tương tác ghi không có, nên không thấy được việc "
                "từ chối dữ liệu sai (việc ghi được đánh giá ở VHR-API-003).",
                "{w}: the target answered {s}: the write endpoint or interaction is missing, so no "
                "rejection of invalid data could be seen (writes are judged by VHR-API-003).",
            ).format(w=what, s=status_text(resp))
        )
    check(
        400 <= resp.status < 500,
        Text(
            "{w}: dữ liệu sai được trả lời {s} thay vì bị từ chối với 4xx.",
            "{w}: invalid data was answered {s} instead of being refused with a 4xx.",
        ).format(w=what, s=status_text(resp)),
    )
    check_operation_outcome(resp, what)


def require_judged(count: int, what: Text) -> None:
    """Not tested when a check compared nothing: `what` names the missing items and how to supply them."""
    if count <= 0:
        not_tested(what)


def pages(fhir: FhirClient, first: Response, limit: int = 200) -> Iterator[dict[str, Any]]:
    """Each Bundle page of a search, following `next` links, never off the target's origin."""
    page = first.json
    seen: set[str] = set()
    for _ in range(limit):
        check(
            isinstance(page, dict) and page.get("resourceType") == "Bundle",
            Text(
                "Trang kết quả tìm kiếm không phải Bundle ({t}).",
                "A search result page is not a Bundle ({t}).",
            ).format(t=type(page).__name__ if not isinstance(page, dict) else page.get("resourceType")),
        )
        yield page
        nxt = next((ln.get("url") for ln in page.get("link", []) or [] if ln.get("relation") == "next"), None)
        if not nxt:
            return
        shown = redact_text(str(nxt))
        check(
            nxt not in seen,
            Text("Liên kết trang sau lặp lại {u}.", "The next-page link loops back to {u}.").format(u=shown),
        )
        seen.add(nxt)
        check(
            fhir.same_origin(nxt),
            Text(
                "Liên kết trang sau rời khỏi máy chủ đích: {u}.",
                "The next-page link leaves the target's origin: {u}.",
            ).format(u=shown),
        )
        try:
            resp = fhir.get(nxt)
        except OffOriginError as exc:
            fail(
                Text(
                    "Trang sau chuyển hướng ra ngoài máy chủ đích: {e}.",
                    "The next page redirects off the target's origin: {e}.",
                ).format(e=exc)
            )
        check_status(resp, (200,), f"GET {shown}")
        page = resp.json
    fail(Text("Tìm kiếm có hơn {n} trang.", "The search has more than {n} pages.").format(n=limit))


def search_all(
    fhir: FhirClient, rtype: str, params: list[tuple[str, str]] | dict[str, str]
) -> list[dict[str, Any]]:
    """Every `match` resource of a search over all its pages; a failed search fails with its status."""
    items = params.items() if isinstance(params, dict) else params
    query = "&".join(f"{k}={v}" for k, v in items)
    first = fhir.search(rtype, params)
    check_status(first, (200,), f"GET {rtype}?{query}")
    out: list[dict[str, Any]] = []
    for page in pages(fhir, first):
        for entry in page.get("entry", []) or []:
            if (entry.get("search") or {}).get("mode", "match") == "match" and isinstance(
                entry.get("resource"), dict
            ):
                out.append(entry["resource"])
    total = first.json.get("total") if isinstance(first.json, dict) else None
    if isinstance(total, int) and total > len(out):
        # The target says there are more matches than its pages deliver: whatever this check
        # would conclude from the missing ones is about paging (VHR-API-009), not about it.
        not_tested(
            Text(
                "GET {r}?{q}: Bundle.total = {t} nhưng các trang chỉ trả {n} mục và không có liên kết "
                "trang sau: kết quả không đầy đủ nên không đánh giá được (phân trang do VHR-API-009 đánh giá).",
                "GET {r}?{q}: Bundle.total = {t} but the pages deliver only {n} entries and no next link: "
                "the results are incomplete, so this could not be judged (paging is judged by VHR-API-009).",
            ).format(r=rtype, q=query, t=total, n=len(out))
        )
    return out


def bundle_entries(body: Any, mode: str | None = "match") -> list[dict[str, Any]]:
    check(
        isinstance(body, dict) and body.get("resourceType") == "Bundle",
        Text("Cần một Bundle, nhận được {b!r}.", "Expected a Bundle, got {b!r}.").format(
            b=redact_text(str(body)[:160])
        ),
    )
    out = []
    for entry in body.get("entry", []) or []:
        wanted = mode is None or (entry.get("search") or {}).get("mode", "match") == mode
        if wanted and isinstance(entry.get("resource"), dict):
            out.append(entry["resource"])
    return out


def ids_of(resources: Sequence[dict[str, Any]]) -> set[str]:
    return {str(r.get("id")) for r in resources}


def strip_meta(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k not in ("meta", "id", "text")}


def seeded_or_skip(seed: Any, rtype: str) -> list[Any]:
    """The seeded resources of a type, or `not-tested` naming exactly which data is missing."""
    items = seed.of_type(rtype)
    if not items:
        refused = [
            f"{name}: HTTP {status}" for name, status, problem in seed.bundles if status != 200 or problem
        ]
        not_tested(
            Text(
                "Không tạo được dữ liệu thử loại {t} trên máy chủ ({r}); cần máy chủ nhận transaction "
                "của bộ dữ liệu phủ (fixtures/coverage) với thông tin xác thực có quyền ghi.",
                "No {t} test data could be created on the target ({r}); the target must accept the "
                "coverage fixtures' transactions (fixtures/coverage) with credentials allowed to write.",
            ).format(t=rtype, r=short(refused, 3) or "—")
        )
    return items


def returned(
    seeded: Iterable[Seeded], copies: dict[str, dict[str, Any]]
) -> list[tuple[Seeded, dict[str, Any]]]:
    """(seeded resource, the target's copy of it) for each one the target gave back (`server_copies`);
    the ones it did not return are left out, so a check judges only what it could compare."""
    return [(s, copies[key]) for s in seeded if (key := f"{s.type}/{s.id}") in copies]


def check_none_bad(bad: Sequence[str], judged: int, text: Text, shown: int = 5) -> None:
    """Fail with `text` when any judged item is bad; `text` gets {n} (bad), {t} (judged) and {b}
    (the first `shown` of them)."""
    check(not bad, text.format(n=len(bad), t=judged, b=short(bad, shown)))


def write_templates(seed: Any, rtype: str, seed_value: int) -> list[dict[str, Any]]:
    """Bodies a write test can send: the seeded resources as sent, else (the target took none of the
    fixtures' transactions) standalone copies of the fixtures' resources of that type; `not-tested`
    only when neither exists."""
    from vhr_conformance.seed import standalone_templates

    sent = [s.sent for s in seed.of_type(rtype)]
    if sent:
        return sent
    templates = standalone_templates(seed_value, rtype)
    if templates:
        return templates
    return [s.sent for s in seeded_or_skip(seed, rtype)]


def created_id(resp: Response, rtype: str, what: str) -> str:
    """The id of a resource a test created to test something else with. The create itself (201,
    Location) is judged by VHR-API-003; here a 200/201 with an id is enough, and a create that
    failed or cannot be followed leaves the test `not-tested`, never failed for another criterion."""
    from vhr_conformance.fhirutil import parse_location

    loc = parse_location(resp.headers.get("location"))
    body = resp.json if isinstance(resp.json, dict) else {}
    rid = loc[1] if loc else body.get("id") if body.get("resourceType") == rtype else None
    if resp.status in (200, 201) and rid:
        return str(rid)
    not_tested(
        Text(
            "{w}: không tạo được tài nguyên để kiểm thử ({s}{n}); việc tạo do VHR-API-003 đánh giá.",
            "{w}: the resource to test with could not be created ({s}{m}); creating is judged by VHR-API-003.",
        ).format(
            w=what,
            s=status_text(resp),
            n=", không có Location hay id" if resp.status in (200, 201) else "",
            m=", no Location and no id" if resp.status in (200, 201) else "",
        )
    )


def read_back(fhir: FhirClient, rtype: str, rid: str) -> dict[str, Any]:
    """The stored copy of a resource the test just created; a target that cannot read it back
    leaves the test `not-tested` (create and read are VHR-API-003/001's)."""
    resp = fhir.get(f"{rtype}/{rid}")
    if resp.status != 200 or not isinstance(resp.json, dict):
        not_tested(
            Text(
                "Không đọc lại được {t}/{i} vừa tạo ({s}); việc tạo và đọc do VHR-API-003/001 đánh giá.",
                "The just-created {t}/{i} cannot be read back ({s}); create and read are judged by VHR-API-003/001.",
            ).format(t=rtype, i=rid, s=status_text(resp))
        )
    return resp.json


def check_all_returned(found: Sequence[dict[str, Any]], ok: Any, query: str) -> None:
    """Every entry a search returned must satisfy `ok`: a target that ignores the parameter and
    returns everything must not pass because the wanted resource is somewhere in it."""
    wrong = [f"{r.get('resourceType')}/{r.get('id')}" for r in found if not ok(r)]
    check(
        not wrong,
        Text(
            "{q}: {n}/{t} kết quả trả về không thỏa điều kiện tìm kiếm: {w}.",
            "{q}: {n} of {t} returned entries do not match the search: {w}.",
        ).format(q=query, n=len(wrong), t=len(found), w=short(wrong)),
    )
