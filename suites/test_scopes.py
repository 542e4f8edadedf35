"""Scope probes (area SEC): a token limited to one resource type never receives, or learns about,
resources of other types, whatever path it takes; bulk-export jobs belong to the client that
started them; tokens are bounded in time and bound to their client.

Each probe asks the target's own token endpoint for a narrower scope (``system/T.read``, else
``system/T.rs``) with the run's credentials, and first runs the same request with the run's full
token, so a probe that would have nothing to leak judges nothing (not tested) instead of passing.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, NoReturn
from urllib.parse import urlencode

import httpx
import orjson
import pytest

from vhr_conformance.client import FhirClient, InfrastructureError, TokenProvider
from vhr_conformance.client.auth import limited_provider
from vhr_conformance.i18n import Text
from vhr_conformance.outcome import check, not_applicable, not_tested
from vhr_conformance.pytest_plugin import VhrState, criterion
from vhr_conformance.seed import SeedData

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALWAYS_VISIBLE = frozenset({"OperationOutcome"})  # what a server may say about the request itself
EXPORT_WAIT_S = 30.0  # bounded wait for an export job (the reference server finishes at once)
MAX_TOKEN_LIFETIME_S = 24 * 3600


# ----------------------------------------------------------------------------- narrow tokens
@dataclass(frozen=True)
class Narrow:
    """A token whose granted scopes allow reading/searching only `types`."""

    token: str
    scope: str
    types: frozenset[str]

    def outside(self, body: Any) -> list[str]:
        """`Type/id` of every resource in `body` (a resource or Bundle, nested Bundles included)
        that the token's scopes do not allow."""
        out: list[str] = []
        for res in _resources(body):
            rtype = str(res.get("resourceType"))
            if rtype not in self.types and rtype not in ALWAYS_VISIBLE:
                out.append(f"{rtype}/{res.get('id', '?')}")
        return out


def _resources(body: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(body, dict):
        return
    if body.get("resourceType") == "Bundle":
        for entry in body.get("entry") or []:
            if isinstance(entry, dict):
                yield from _resources(entry.get("resource"))
                outcome = (entry.get("response") or {}).get("outcome")
                yield from _resources(outcome)
        return
    yield body


def _scope_types(granted: str) -> frozenset[str] | None:
    """Types a granted scope string lets the client read or search; None when it covers every type."""
    types: set[str] = set()
    for item in granted.split():
        head, _, perm = item.partition(".")
        rtype = head.partition("/")[2]
        if not rtype or not (perm in ("read", "*") or set(perm) & {"r", "s"}):
            continue
        if rtype == "*":
            return None
        types.add(rtype.split("?")[0])
    return frozenset(types)


def _token_request(
    vhr: VhrState, scope: str, form_extra: dict[str, str] | None = None
) -> tuple[httpx.Response, str]:
    """One token request with the run's own client credentials (secret or JWT assertion)."""
    cfg = replace(vhr.options.auth, scope=scope)
    provider = TokenProvider(cfg, vhr.options.target, vhr.options.timeout, vhr.options.verify())
    try:
        url = provider._token_url()
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise InfrastructureError(f"token endpoint discovery failed: {exc}") from None
    form = {"grant_type": "client_credentials", "scope": scope}
    basic = None
    if cfg.mode == "client-credentials":
        basic = (cfg.client_id or "", cfg.client_secret or "")
    else:
        form["client_assertion_type"] = ASSERTION_TYPE
        form["client_assertion"] = provider.client_assertion(url)
    form.update(form_extra or {})
    try:
        resp = httpx.post(url, data=form, auth=basic, timeout=vhr.options.timeout, verify=provider.verify)
    except httpx.HTTPError as exc:
        raise InfrastructureError(f"POST {url}: {type(exc).__name__}: {exc}") from None
    return resp, url


_NARROW: dict[tuple[str, str], Narrow] = {}


def narrow_token(vhr: VhrState, rtype: str) -> Narrow:
    """A token limited to reading/searching `rtype`, from the target's token endpoint."""
    key = (vhr.options.run_id, rtype)
    if key in _NARROW:
        return _NARROW[key]
    if vhr.options.auth.mode not in ("client-credentials", "smart-backend"):
        not_tested(
            Text(
                "Cần --vhr-auth client-credentials hoặc smart-backend để xin token phạm vi hẹp (system/{t}.read).",
                "Needs --vhr-auth client-credentials or smart-backend to request a narrow token (system/{t}.read).",
            ).format(t=rtype)
        )
    refused = []
    for scope in (f"system/{rtype}.read", f"system/{rtype}.rs"):
        resp, url = _token_request(vhr, scope)
        body = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
        if resp.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            refused.append(f"{scope}: {resp.status_code}")
            continue
        granted = str(body.get("scope") or scope)
        types = _scope_types(granted)
        if types is None or types != {rtype}:
            not_tested(
                Text(
                    "Máy chủ cấp phạm vi `{g}` khi xin `{s}`: không có token chỉ cho {t} để thử.",
                    "The server granted `{g}` when asked for `{s}`: no token limited to {t} to probe with.",
                ).format(g=granted, s=scope, t=rtype)
            )
        narrow = Narrow(str(body["access_token"]), granted, types)
        _NARROW[key] = narrow
        return narrow
    not_tested(
        Text(
            "Máy chủ cấp token ({u}) từ chối phạm vi hẹp: {r}.",
            "The token endpoint ({u}) refused a narrow scope: {r}.",
        ).format(u=url, r="; ".join(refused))
    )


def _require_oauth(vhr: VhrState) -> None:
    if vhr.options.auth.mode == "none":
        not_applicable(
            Text(
                "Lượt chạy không dùng xác thực: không có phạm vi (scope) để kiểm tra.",
                "The run uses no authentication: there are no scopes to check.",
            )
        )


def _leak_text(path: str, scope: str, leaked: list[str]) -> Text:
    shown = ", ".join(leaked[:5]) + (f" (+{len(leaked) - 5})" if len(leaked) > 5 else "")
    return Text(
        "{p} với token phạm vi `{s}` trả về tài nguyên ngoài phạm vi: {x}.",
        "{p} with a token scoped `{s}` returned resources outside its scopes: {x}.",
    ).format(p=path, s=scope, x=shown)


def _others(body: Any, rtype: str) -> list[str]:
    return [
        f"{r.get('resourceType')}/{r.get('id')}" for r in _resources(body) if r.get("resourceType") != rtype
    ]


def _cs_resource(target_cs: dict[str, Any], rtype: str) -> dict[str, Any]:
    for rest in target_cs.get("rest") or []:
        for res in rest.get("resource") or []:
            if res.get("type") == rtype:
                return dict(res)
    return {}


def _seed_ids(seed: SeedData, rtype: str, n: int = 10) -> list[str]:
    return [s.id for s in seed.of_type(rtype)][:n]


def _ok(resp: Any) -> bool:
    return 200 <= resp.status < 300


# ----------------------------------------------------------------------------- search paths
def _no_leak(fhir: FhirClient, rtype: str, pairs: list[tuple[str, str]], narrow: Narrow, what: str) -> None:
    """The same search by GET and by POST _search with the narrow token returns nothing outside it."""
    get = fhir.get(rtype, params=pairs, token=narrow.token)
    post = fhir.request(
        "POST",
        f"{rtype}/_search",
        content=urlencode(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        token=narrow.token,
    )
    for label, resp in ((f"GET {rtype}?…&{what}", get), (f"POST {rtype}/_search (…&{what})", post)):
        if _ok(resp):
            leaked = narrow.outside(resp.json)
            check(not leaked, _leak_text(label, narrow.scope, leaked))


def _include_probe(
    vhr: VhrState, fhir: FhirClient, seed: SeedData, target_cs: dict[str, Any], rev: bool
) -> None:
    _require_oauth(vhr)
    key = "searchRevInclude" if rev else "searchInclude"
    param = "_revinclude" if rev else "_include"
    # Patient first: the type a narrow token is most often limited to.
    types = sorted({s.type for s in seed.resources}, key=lambda t: (t != "Patient", t))
    judged = 0
    for rtype in types:
        declared = list(_cs_resource(target_cs, rtype).get(key) or [])
        ids = _seed_ids(seed, rtype)
        if not declared or not ids:
            continue
        base = [("_id", ",".join(ids)), ("_count", "50")]
        for variant in ([(param, v) for v in declared], [(param, "*")]):
            pairs = base + variant
            broad = fhir.get(rtype, params=pairs)
            if not _ok(broad) or not _others(broad.json, rtype):
                continue  # nothing of another type to leak this way (or `*` not supported)
            narrow = narrow_token(vhr, rtype)
            _no_leak(
                fhir, rtype, pairs, narrow, f"{param}={variant[0][1]}" + ("…" if len(variant) > 1 else "")
            )
            if not rev:  # :iterate follows what was included, a level further
                iterate = [*pairs, *((f"{param}:iterate", v) for v in declared)]
                _no_leak(fhir, rtype, iterate, narrow, f"{param}:iterate")
            judged += 1
        if judged >= 2:
            break
    if not judged:
        not_tested(
            Text(
                "Không có loại nào khai báo {k} mà dữ liệu thử trả về tài nguyên loại khác.",
                "No type declares {k} for which the test data returns resources of another type.",
            ).format(k=key)
        )


@criterion("VHR-SEC-011")
def test_include_respects_scopes(
    vhr: VhrState, fhir: FhirClient, seed: SeedData, target_cs: dict[str, Any]
) -> None:
    _include_probe(vhr, fhir, seed, target_cs, rev=False)


@criterion("VHR-SEC-012")
def test_revinclude_respects_scopes(
    vhr: VhrState, fhir: FhirClient, seed: SeedData, target_cs: dict[str, Any]
) -> None:
    _include_probe(vhr, fhir, seed, target_cs, rev=True)


def _matched(resp: Any, rtype: str) -> set[str]:
    body = resp.json if _ok(resp) else None
    return {str(r.get("id")) for r in _resources(body) if r.get("resourceType") == rtype}


def _kebab(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name)


def _chain_cases(seed: SeedData, target_cs: dict[str, Any]) -> Iterator[tuple[str, str, Any, Any]]:
    """(reference search parameter, element name, seeded resource, the seeded resource it points
    at) for each top-level reference of a seeded resource to one of another type that carries an
    identifier; the parameter is the one named like the element (`subject` also as `patient`)."""
    by_ref = seed.by_ref()
    for s in seed.resources:
        declared = {
            str(p.get("name"))
            for p in _cs_resource(target_cs, s.type).get("searchParam") or []
            if p.get("type") == "reference"
        }
        for element, value in s.sent.items():
            ref = value.get("reference") if isinstance(value, dict) else None
            target = by_ref.get(str(ref)) if ref else None
            if target is None or target.type == s.type or not _identifier(target):
                continue
            for name in (_kebab(element), "patient" if element == "subject" else ""):
                if name in declared:
                    yield name, element, s, target


def _identifier(res: Any) -> str | None:
    ident = next((i for i in res.sent.get("identifier") or [] if i.get("system") and i.get("value")), None)
    return f"{ident['system']}|{ident['value']}" if ident else None


def _oracle(
    vhr: VhrState, fhir: FhirClient, rtype: str, real: list[tuple[str, str]], none: list[tuple[str, str]]
) -> tuple[bool, Narrow | None, bool]:
    """(the target evaluates the filter, the narrow token used, the narrow answers differ)."""
    if _matched(fhir.get(rtype, params=real), rtype) == _matched(fhir.get(rtype, params=none), rtype):
        return False, None, False
    narrow = narrow_token(vhr, rtype)
    a = fhir.get(rtype, params=real, token=narrow.token)
    b = fhir.get(rtype, params=none, token=narrow.token)
    return True, narrow, _ok(a) and _ok(b) and _matched(a, rtype) != _matched(b, rtype)


@criterion("VHR-SEC-013")
def test_chained_and_has_search_respect_scopes(
    vhr: VhrState, fhir: FhirClient, seed: SeedData, target_cs: dict[str, Any]
) -> None:
    """A chain (or `_has`) filters on another type's data: a token that may not search that type
    must not learn it from which resources match (an oracle). With the run's full token the answer
    for a real value and for a value that matches nothing differ; with the narrow token they must
    not (or the search is refused)."""
    _require_oauth(vhr)
    judged = 0
    for attempt, (name, _element, res, target) in enumerate(_chain_cases(seed, target_cs)):
        if judged >= 2 or attempt >= 8:
            break
        ident = _identifier(target) or ""
        key = f"{name}:{target.type}.identifier"
        nothing = f"{ident}-vhr-none-{uuid.uuid4().hex[:6]}"
        used, narrow, differ = _oracle(
            vhr, fhir, res.type, [(key, ident), ("_id", res.id)], [(key, nothing), ("_id", res.id)]
        )
        if not used or narrow is None:
            continue  # the target does not evaluate this chain (or no narrow token): nothing to learn from it
        check(
            not differ,
            Text(
                "Tìm {t}?{k}=… với token phạm vi `{s}` lọc theo dữ liệu {u} (kết quả đổi theo giá trị).",
                "Searching {t}?{k}=… with a token scoped `{s}` filters on {u} data (matches change with the value).",
            ).format(t=res.type, k=key, u=target.type, s=narrow.scope),
        )
        judged += 1
        # the reverse chain from the target's side: _has:<type>:<param>:_id
        has = f"_has:{res.type}:{name}:_id"
        none_id = f"vhr-none-{uuid.uuid4().hex[:8]}"
        used, narrow, differ = _oracle(
            vhr, fhir, target.type, [(has, res.id), ("_id", target.id)], [(has, none_id), ("_id", target.id)]
        )
        if used and narrow is not None:
            check(
                not differ,
                Text(
                    "Tìm {u}?{k}=… với token phạm vi `{s}` lọc theo dữ liệu {t}.",
                    "Searching {u}?{k}=… with a token scoped `{s}` filters on {t} data.",
                ).format(u=target.type, k=has, t=res.type, s=narrow.scope),
            )
    if not judged:
        not_applicable(
            Text(
                "Máy chủ không xử lý tìm kiếm chuỗi trên dữ liệu thử: không có đường rò nào để thử.",
                "The target evaluates no chained search on the test data: no such path to probe.",
            )
        )


# ----------------------------------------------------------------------------- other paths
def _other_seeded(seed: SeedData, rtype: str) -> list[tuple[str, str]]:
    """One seeded resource of each type other than `rtype`, up to five types."""
    out: dict[str, str] = {}
    for s in seed.resources:
        if s.type != rtype and s.type not in out and s.type != "Bundle":
            out[s.type] = s.id
    return list(out.items())[:5]


@criterion("VHR-SEC-014")
def test_batch_and_transaction_get_respect_scopes(vhr: VhrState, fhir: FhirClient, seed: SeedData) -> None:
    _require_oauth(vhr)
    pids = _seed_ids(seed, "Patient", 1)
    others = _other_seeded(seed, "Patient")
    if not pids or not others:
        not_tested(
            Text(
                "Cần dữ liệu thử Patient và ít nhất một loại khác.",
                "Needs Patient test data and at least one other type.",
            )
        )
    narrow = narrow_token(vhr, "Patient")
    entries = [{"request": {"method": "GET", "url": f"Patient/{pids[0]}"}}]
    for rtype, rid in others:
        entries.append({"request": {"method": "GET", "url": f"{rtype}/{rid}"}})
        entries.append({"request": {"method": "GET", "url": f"{rtype}?_id={rid}"}})
    for btype in ("batch", "transaction"):
        resp = fhir.post("", {"resourceType": "Bundle", "type": btype, "entry": entries}, token=narrow.token)
        if _ok(resp):
            leaked = narrow.outside(resp.json)
            check(not leaked, _leak_text(f"POST / ({btype}, GET entries)", narrow.scope, leaked))


@criterion("VHR-SEC-015")
def test_everything_respects_scopes(vhr: VhrState, fhir: FhirClient, seed: SeedData) -> None:
    _require_oauth(vhr)
    pids = _seed_ids(seed, "Patient", 5)
    for pid in pids:
        broad = fhir.get(f"Patient/{pid}/$everything")
        if broad.status in (404, 405, 501) and broad.resource_type == "OperationOutcome" and pid == pids[0]:
            not_applicable(
                Text(
                    "Máy chủ không hỗ trợ Patient/$everything ({s}).",
                    "The target does not support Patient/$everything ({s}).",
                ).format(s=broad.status)
            )
        if not (_ok(broad) and _others(broad.json, "Patient")):
            continue
        narrow = narrow_token(vhr, "Patient")
        resp = fhir.get(f"Patient/{pid}/$everything", token=narrow.token)
        if _ok(resp):
            leaked = narrow.outside(resp.json)
            check(not leaked, _leak_text(f"GET Patient/{pid}/$everything", narrow.scope, leaked))
        return
    not_tested(
        Text(
            "Không người bệnh thử nào có dữ liệu loại khác trong $everything.",
            "No test patient has data of other types in $everything.",
        )
    )


@criterion("VHR-SEC-016")
def test_history_respects_scopes(vhr: VhrState, fhir: FhirClient, seed: SeedData) -> None:
    _require_oauth(vhr)
    others = _other_seeded(seed, "Patient")
    pids = _seed_ids(seed, "Patient", 1)
    if not others or not pids:
        not_tested(
            Text(
                "Cần dữ liệu thử Patient và ít nhất một loại khác.",
                "Needs Patient test data and at least one other type.",
            )
        )
    broad = fhir.get("_history", params={"_count": "50"})
    paths = [f"Patient/{pids[0]}/_history", "Patient/_history"]
    if _ok(broad) and _others(broad.json, "Patient"):
        paths.append("_history")
    for rtype, rid in others[:2]:
        paths += [f"{rtype}/_history", f"{rtype}/{rid}/_history"]
    narrow = narrow_token(vhr, "Patient")
    for path in paths:
        resp = fhir.get(path, params={"_count": "50"}, token=narrow.token)
        if _ok(resp):
            leaked = narrow.outside(resp.json)
            check(not leaked, _leak_text(f"GET {path}", narrow.scope, leaked))


# ----------------------------------------------------------------------------- bulk export
@dataclass
class Export:
    status_url: str
    manifest: dict[str, Any] | None
    kickoff_status: int


def _kickoff(fhir: FhirClient, token: str | None, query: str = "") -> Export | None:
    """Start a system-level export (Patient level if the system one is not offered); None if the
    target offers neither."""
    for path in ("$export", "Patient/$export"):
        resp = fhir.get(
            path + query,
            headers={"Prefer": "respond-async", "Accept": "application/fhir+json"},
            token=token,
        )
        if resp.status in (404, 405, 501):
            continue
        location = resp.headers.get("content-location")
        if resp.status != 202 or not location:
            return Export("", None, resp.status)
        return Export(location, None, resp.status)
    return None


def _wait(fhir: FhirClient, export: Export, token: str | None) -> dict[str, Any] | None:
    deadline = time.monotonic() + EXPORT_WAIT_S
    while time.monotonic() < deadline:
        resp = fhir.get(export.status_url, headers={"Accept": "application/json"}, token=token)
        if resp.status == 200 and isinstance(resp.json, dict):
            export.manifest = resp.json
            return resp.json
        if resp.status != 202:
            return None
        wait = resp.headers.get("retry-after", "1")
        time.sleep(min(5.0, max(0.2, float(wait) if wait.isdigit() else 1.0)))
    return None


def _no_export(kind: str) -> NoReturn:
    not_applicable(
        Text(
            "Máy chủ không cung cấp Bulk $export ({k}).", "The target does not offer Bulk $export ({k})."
        ).format(k=kind)
    )


@criterion("VHR-SEC-017")
def test_export_respects_scopes(vhr: VhrState, fhir: FhirClient, seed: SeedData) -> None:
    _require_oauth(vhr)
    others = _other_seeded(seed, "Patient")
    if not others or not seed.of_type("Patient"):
        not_tested(Text("Cần dữ liệu thử nhiều loại.", "Needs test data of several types."))
    narrow = narrow_token(vhr, "Patient")
    for query in ("", "?_type=" + ",".join(["Patient", *(t for t, _ in others)])):
        export = _kickoff(fhir, narrow.token, query)
        if export is None:
            _no_export("system / Patient")
        if not export.status_url:
            continue  # refused at kick-off: nothing exported
        try:
            manifest = _wait(fhir, export, narrow.token)
            if manifest is None:
                continue
            types = sorted(
                {str(o.get("type")) for o in manifest.get("output") or []} - narrow.types - ALWAYS_VISIBLE
            )
            check(
                not types,
                Text(
                    "$export{q} với token phạm vi `{s}` xuất các loại ngoài phạm vi: {x}.",
                    "$export{q} with a token scoped `{s}` exported types outside its scopes: {x}.",
                ).format(q=query, s=narrow.scope, x=", ".join(types)),
            )
            for out in (manifest.get("output") or [])[:10]:
                url = str(out.get("url", ""))
                if not fhir.same_origin(url):
                    continue  # files on another host are not fetched (origin guard)
                resp = fhir.get(url, headers={"Accept": "application/fhir+ndjson"}, token=narrow.token)
                lines = [ln for ln in resp.content.splitlines() if ln.strip()][:2000] if _ok(resp) else []
                leaked = []
                for line in lines:
                    try:
                        leaked += narrow.outside(orjson.loads(line))
                    except orjson.JSONDecodeError:
                        continue
                check(not leaked, _leak_text(f"$export file {url.rsplit('/', 1)[-1]}", narrow.scope, leaked))
        finally:
            fhir.delete(export.status_url, token=narrow.token)


@criterion("VHR-SEC-018")
def test_export_job_bound_to_its_client(vhr: VhrState, fhir: FhirClient) -> None:
    """Another client can neither read the status of a job, nor download its files, nor delete it."""
    _require_oauth(vhr)
    other = limited_provider(vhr.options.auth, vhr.options.target, vhr.options.timeout, vhr.options.verify())
    cfg = vhr.options.auth
    if other is None or (other.config.client_id and other.config.client_id == cfg.client_id):
        not_tested(
            Text(
                "Cần thông tin của một client thứ hai (VHR_LIMITED_CLIENT_ID/SECRET hoặc VHR_LIMITED_TOKEN).",
                "Needs the credentials of a second client (VHR_LIMITED_CLIENT_ID/SECRET or VHR_LIMITED_TOKEN).",
            )
        )
    export = _kickoff(fhir, None, "?_type=Patient")
    if export is None:
        _no_export("system / Patient")
    if not export.status_url:
        not_tested(
            Text(
                "Máy chủ từ chối yêu cầu $export của client chính ({s}).",
                "The target refused the run's own $export request ({s}).",
            ).format(s=export.kickoff_status)
        )
    try:
        manifest = _wait(fhir, export, None)
        other_token = other.token()
        seen = []
        status = fhir.get(export.status_url, headers={"Accept": "application/json"}, token=other_token)
        seen.append(("GET status", status.status))
        for out in (manifest or {}).get("output", [])[:3]:
            url = str(out.get("url", ""))
            if fhir.same_origin(url):
                got = fhir.get(url, headers={"Accept": "application/fhir+ndjson"}, token=other_token)
                seen.append((f"GET {url.rsplit('/', 1)[-1]}", got.status))
        gone = fhir.delete(export.status_url, token=other_token)
        seen.append(("DELETE status", gone.status))
        served = [f"{what} → {code}" for what, code in seen if 200 <= code < 300]
        still = fhir.get(export.status_url, headers={"Accept": "application/json"})
        if manifest is not None and still.status in (404, 410):
            served.append("DELETE status → the job is gone for its own client")
        check(
            not served,
            Text(
                "Client khác truy cập được yêu cầu xuất dữ liệu của client chính: {x}.",
                "Another client reached the run's export job: {x}.",
            ).format(x="; ".join(served)),
        )
    finally:
        fhir.delete(export.status_url)


# ----------------------------------------------------------------------------- tokens
def _jwt_claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None  # an opaque token: its lifetime is the server's to keep
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def _assertion(vhr: VhrState, url: str, **claims: Any) -> str:
    import jwt

    cfg = vhr.options.auth
    now = int(time.time())
    body = {"iss": cfg.client_id, "sub": cfg.client_id, "aud": url, "exp": now + 240, "iat": now}
    body.update(jti=uuid.uuid4().hex, **claims)
    body = {k: v for k, v in body.items() if v is not None}
    headers = {"kid": cfg.key_id} if cfg.key_id else None
    return jwt.encode(body, cfg.private_key_pem or "", algorithm=cfg.algorithm, headers=headers)


@criterion("VHR-SEC-019")
def test_tokens_bounded_and_bound_to_client(vhr: VhrState) -> None:
    _require_oauth(vhr)
    if vhr.options.auth.mode not in ("client-credentials", "smart-backend"):
        not_tested(
            Text(
                "Cần --vhr-auth client-credentials hoặc smart-backend để xin token.",
                "Needs --vhr-auth client-credentials or smart-backend to request tokens.",
            )
        )
    resp, url = _token_request(vhr, vhr.options.auth.scope)
    if resp.status_code != 200:
        raise InfrastructureError(f"the token endpoint refused the run's credentials ({resp.status_code})")
    body = resp.json()
    lifetime = body.get("expires_in")
    check(
        isinstance(lifetime, int | float) and 0 < lifetime <= MAX_TOKEN_LIFETIME_S,
        Text(
            "Phản hồi token không nêu expires_in hợp lệ (nhận: {v}): token không có hạn.",
            "The token response gives no valid expires_in (got: {v}): the token has no end.",
        ).format(v=lifetime),
    )
    claims = _jwt_claims(str(body.get("access_token", "")))
    if claims is not None:
        exp = claims.get("exp")
        check(
            isinstance(exp, int | float) and exp - time.time() <= MAX_TOKEN_LIFETIME_S,
            Text(
                "Access token (JWT) không có `exp` hợp lệ (nhận: {v}): dùng được mãi mãi.",
                "The access token (a JWT) has no valid `exp` (got: {v}): it would be valid forever.",
            ).format(v=exp),
        )
    if vhr.options.auth.mode != "smart-backend" or not vhr.options.auth.private_key_pem:
        return  # assertions can only be forged with the run's own key
    for label, claims_over in (
        ("without exp", {"exp": None}),
        ("with sub ≠ iss", {"sub": f"vhr-unknown-{uuid.uuid4().hex[:8]}"}),
        ("with an unknown iss", {"iss": f"vhr-unknown-{uuid.uuid4().hex[:8]}"}),
    ):
        forged = _assertion(vhr, url, **claims_over)
        got, _ = _token_request(vhr, vhr.options.auth.scope, {"client_assertion": forged})
        check(
            got.status_code in (400, 401, 403),
            Text(
                "Máy chủ cấp token cho client assertion {x} ({s}).",
                "The token endpoint granted a token for a client assertion {x} ({s}).",
            ).format(x=label, s=got.status_code),
        )


@pytest.fixture(autouse=True)
def _forget_tokens_between_runs(vhr: VhrState) -> None:
    """Narrow tokens are cached per run id; a new run (another target) starts empty."""
    for key in [k for k in _NARROW if k[0] != vhr.options.run_id]:
        del _NARROW[key]
