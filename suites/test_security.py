"""Security and privacy (area SEC): TLS, authentication, scopes, error bodies, size and rate limits."""

from __future__ import annotations

import ipaddress
import json
import random
import socket
import ssl
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from vhr_conformance.client import FhirClient, InfrastructureError, Response
from vhr_conformance.client.auth import limited_provider
from vhr_conformance.client.tls import tls_cause, untrusted_text
from vhr_conformance.fhirutil import parse_location
from vhr_conformance.i18n import Text
from vhr_conformance.outcome import check, fail, not_applicable, not_tested
from vhr_conformance.pytest_plugin import VhrState, criterion
from vhr_conformance.runner.checks import NOT_THERE, check_operation_outcome, status_text, write_templates
from vhr_conformance.runner.fresh import cccd_of, fresh_copy
from vhr_conformance.seed import SeedData, Tracker


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _no_credentials_hint() -> Text:
    return Text(
        "cung cấp thông tin xác thực: --vhr-auth client-credentials --vhr-auth-config FILE (hoặc "
        "VHR_CLIENT_ID/VHR_CLIENT_SECRET), kèm VHR_LIMITED_TOKEN hoặc VHR_LIMITED_CLIENT_ID/SECRET "
        "cho một khách hàng chỉ đọc",
        "supply credentials: --vhr-auth client-credentials --vhr-auth-config FILE (or "
        "VHR_CLIENT_ID/VHR_CLIENT_SECRET), plus VHR_LIMITED_TOKEN or VHR_LIMITED_CLIENT_ID/SECRET "
        "for a read-only client",
    )


def _served(resp: Response) -> str:
    """What an accepted probe got back, for a message: the Bundle's entries and total."""
    body = resp.json if isinstance(resp.json, dict) else {}
    if body.get("resourceType") == "Bundle":
        return f"Bundle, {len(body.get('entry') or [])} entries, total={body.get('total')}"
    return str(body.get("resourceType") or resp.content_type or "-")


def _check_refused(resp: Response, what: Text) -> None:
    """A request for personal data without valid credentials must be answered 401."""
    if 200 <= resp.status < 300:
        fail(
            Text(
                f"{what.vi} được phục vụ: HTTP {resp.status} ({_served(resp)}); máy chủ mở điểm cuối dữ "
                "liệu cá nhân (Patient) mà không cần xác thực hợp lệ.",
                f"{what.en} was served: HTTP {resp.status} ({_served(resp)}); the target opens its "
                "personal-data endpoint (Patient) without valid authentication.",
            )
        )
    check(
        resp.status == 401,
        Text(
            f"{what.vi} trả lời {status_text(resp)}, cần 401.",
            f"{what.en} answered {status_text(resp)}, expected 401.",
        ),
    )


def _handshake(vhr: VhrState, host: str, port: int) -> str:
    """The TLS version negotiated with a verifying client that trusts the run's CAs; a certificate or
    protocol the harness cannot accept is the vendor's failure, an unreachable host the network's."""
    ctx = vhr.options.verify()
    try:
        with (
            socket.create_connection((host, port), timeout=vhr.options.timeout) as raw,
            ctx.wrap_socket(raw, server_hostname=host) as tls,
        ):
            return str(tls.version())
    except ssl.SSLCertVerificationError as exc:
        fail(untrusted_text(f"{host}:{port}", exc))
    except ssl.SSLError as exc:
        fail(
            Text(
                "Bắt tay TLS với {h}:{p} thất bại (cần TLS ≥ 1.2): {e}",
                "TLS handshake with {h}:{p} failed (TLS ≥ 1.2 required): {e}",
            ).format(h=host, p=port, e=exc.reason or exc)
        )
    except OSError as exc:
        raise InfrastructureError(f"cannot connect to {host}:{port}: {exc}") from None


def _plain_http_refused(vhr: VhrState, url: str) -> None:
    """Plain http to `url` must be refused, rejected or redirected to https; it must never serve FHIR."""
    try:
        resp = httpx.get(url, timeout=vhr.options.timeout, follow_redirects=False)
    except httpx.HTTPError:
        return  # refused, or not spoken at all (a TLS port answering plain text): fine
    location = str(resp.headers.get("location", ""))
    redirected = resp.status_code in (301, 302, 307, 308) and location.startswith("https://")
    check(
        redirected or resp.status_code in (400, 403, 421, 426),
        Text(
            "http thường tới {u} trả lời {s} thay vì từ chối hoặc chuyển hướng sang https.",
            "plain http to {u} answered {s} instead of refusing or redirecting to https.",
        ).format(u=url, s=resp.status_code),
    )


@criterion("VHR-SEC-001")
def test_tls(vhr: VhrState, record_property: Callable[[str, Any], None]) -> None:
    target = vhr.options.target
    parts = urlsplit(target)
    if parts.scheme != "https":
        if _loopback(target):
            not_tested(
                Text(
                    "Máy chủ loopback {t} chạy http thường: không kiểm tra được TLS. Chạy với https "
                    "(vhr run mặc định dùng --embedded-tls; máy chủ khác: --target https://…).",
                    "The loopback target {t} speaks plain http: TLS could not be checked. Run it over "
                    "https (vhr run uses --embedded-tls by default; another server: --target https://…).",
                ).format(t=target)
            )
        fail(
            Text("Máy chủ {t} không dùng https.", "The target {t} is not served over https.").format(t=target)
        )
    host, port = parts.hostname or "", parts.port or 443
    version = _handshake(vhr, host, port)
    check(
        version in ("TLSv1.2", "TLSv1.3"),
        Text(
            "Phiên bản TLS thương lượng là {v}, cần ≥ TLS 1.2.", "Negotiated {v}, TLS ≥ 1.2 required."
        ).format(v=version),
    )
    try:
        resp = httpx.get(target + "/metadata", timeout=vhr.options.timeout, verify=vhr.options.verify())
    except httpx.HTTPError as exc:
        cause = tls_cause(exc)
        if isinstance(cause, ssl.SSLCertVerificationError):
            fail(untrusted_text(target, cause))
        raise InfrastructureError(f"GET {target}/metadata: {type(exc).__name__}: {exc}") from None
    check(
        resp.status_code < 500,
        Text("GET {t}/metadata qua https trả lời {s}.", "GET {t}/metadata over https answered {s}.").format(
            t=target, s=resp.status_code
        ),
    )
    netloc = f"[{host}]" if ":" in host else host
    _plain_http_refused(vhr, urlunsplit(("http", f"{netloc}:{port}", parts.path, "", "")) + "/metadata")
    if parts.port in (None, 443):  # the usual plain-http port of the same host, too
        _plain_http_refused(vhr, urlunsplit(("http", netloc, parts.path, "", "")) + "/metadata")
    record_property("vhr_note", f"{version}, certificate verified; plain http on port {port} refused")


# A well-formed JWT signed with a key nobody holds: a server that checks signatures must refuse it.
FORGED = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ2aHItZm9yZ2VkIn0.c2lnbmF0dXJlLWlzLXdyb25n"


@criterion("VHR-SEC-002")
def test_no_token_401(fhir: FhirClient) -> None:
    """Probed whatever credentials the run has: an open server fails, it is never `omit`."""
    resp = fhir.get("Patient", params={"_count": "1"}, auth=False)
    _check_refused(resp, Text("GET Patient không kèm token", "GET Patient without a token"))


@criterion("VHR-SEC-003")
def test_bad_token_401(fhir: FhirClient) -> None:
    resp = fhir.get(
        "Patient", params={"_count": "1"}, auth=False, headers={"Authorization": f"Bearer {FORGED}"}
    )
    _check_refused(resp, Text("GET Patient với token giả mạo", "GET Patient with a forged token"))


@criterion("VHR-SEC-010")
def test_auth_errors_are_operation_outcomes(fhir: FhirClient) -> None:
    resp = fhir.get("Patient", params={"_count": "1"}, auth=False)
    if resp.status not in (401, 403):
        not_tested(
            Text(
                "Yêu cầu không kèm token được trả lời {s}, không phải lỗi xác thực: không có thân lỗi "
                "nào để đánh giá (VHR-SEC-002 đánh giá việc này).",
                "The request without a token was answered {s}, not an authentication error: there is "
                "no error body to judge (VHR-SEC-002 judges that).",
            ).format(s=status_text(resp))
        )
    check_operation_outcome(resp, f"GET Patient → {resp.status}")


@criterion("VHR-SEC-004")
def test_scope_enforced(vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker) -> None:
    if vhr.options.auth.mode == "none":
        not_tested(
            Text(
                "Lượt chạy không có thông tin xác thực nên không kiểm tra được phạm vi (scope): "
                + _no_credentials_hint().vi
                + ".",
                "The run has no credentials, so scopes could not be checked: "
                + _no_credentials_hint().en
                + ".",
            )
        )
    provider = limited_provider(
        vhr.options.auth, vhr.options.target, vhr.options.timeout, vhr.options.verify()
    )
    if provider is None:
        not_tested(
            Text(
                "Chưa cấu hình thông tin xác thực phạm vi hẹp: đặt VHR_LIMITED_TOKEN hoặc "
                "VHR_LIMITED_CLIENT_ID/VHR_LIMITED_CLIENT_SECRET (hoặc limited_client_id/secret trong --vhr-auth-config).",
                "No narrow-scope credentials given: set VHR_LIMITED_TOKEN or "
                "VHR_LIMITED_CLIENT_ID/VHR_LIMITED_CLIENT_SECRET (or limited_client_id/secret in --vhr-auth-config).",
            )
        )
    template = write_templates(seed, "Patient", vhr.options.seed)[0]
    body = fresh_copy(template, random.Random(f"{vhr.options.run_id}:scope"), vhr.options.run_id)
    resp = fhir.post("Patient", body, token=provider.token())
    loc = parse_location(resp.headers.get("location"))
    if loc and resp.status in (200, 201):
        tracker.add(loc[0], loc[1])
    check(
        resp.status == 403,
        Text(
            "Ghi (POST Patient) bằng token chỉ đọc trả lời {s}, cần 403.",
            "A write (POST Patient) with a read-only token answered {s}, expected 403.",
        ).format(s=status_text(resp)),
    )


@criterion("VHR-SEC-005")
def test_no_personal_data_in_errors(
    vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker
) -> None:
    template = write_templates(seed, "Patient", vhr.options.seed)[0]
    body = fresh_copy(template, random.Random(f"{vhr.options.run_id}:privacy"), vhr.options.run_id)
    number = cccd_of(body)
    family = next((n.get("family") for n in body.get("name", []) if n.get("family")), None)
    phone = next((t.get("value") for t in body.get("telecom", []) if t.get("value")), None)
    secrets = [x for x in (number, family, phone, body.get("birthDate")) if x and len(str(x)) >= 4]
    if not secrets:
        not_tested(
            Text(
                "Người bệnh thử không có dữ liệu định danh (CCCD, họ, điện thoại, ngày sinh) để dò.",
                "The test patient carries no identifying data (CCCD, family name, phone, birth date) to probe with.",
            )
        )
    body["gender"] = "not-a-gender-code"
    resp = fhir.post("Patient", body)
    loc = parse_location(resp.headers.get("location"))
    if loc and resp.status in (200, 201):
        tracker.add(loc[0], loc[1])
    if resp.status < 400:
        not_tested(
            Text(
                "Người bệnh sai (gender=not-a-gender-code) được chấp nhận ({s}): không thấy thân lỗi nào "
                "để kiểm tra dữ liệu cá nhân (việc chấp nhận dữ liệu sai do VHR-API-018 đánh giá).",
                "The invalid patient (gender=not-a-gender-code) was accepted ({s}): no error body was seen "
                "to inspect for personal data (accepting invalid data is judged by VHR-API-018).",
            ).format(s=resp.status)
        )
    text = resp.text()
    leaked = [s for s in secrets if str(s) in text]
    check(
        not leaked,
        Text(
            "Thân lỗi HTTP {s} lặp lại {n} giá trị dữ liệu cá nhân của người bệnh đã gửi.",
            "The HTTP {s} error body repeats {n} personal-data value(s) of the patient sent.",
        ).format(s=resp.status, n=len(leaked)),
    )


def _declared_max_body(request: pytest.FixtureRequest, vhr: VhrState) -> tuple[float, bool]:
    """The size limit in MB and whether the user declared it (`--vhr-max-body-mb`) or it is the default."""
    args = [str(a) for a in request.config.invocation_params.args]
    declared = any(a.startswith("--vhr-max-body-mb") for a in args)
    return vhr.options.max_body_mb, declared


def _large_transaction(seed: SeedData, vhr: VhrState, size: int) -> dict[str, Any]:
    """A transaction of many realistic patients (copies of the seeded ones, each with a narrative)
    that together exceed `size` bytes: how an oversized submission really looks, unlike one giant
    string, which a per-string cap would refuse while the body limit is missing."""
    sources = write_templates(seed, "Patient", vhr.options.seed)
    rng = random.Random(f"{vhr.options.run_id}:payload")
    entries: list[dict[str, Any]] = []
    total = 0
    while total <= size:
        res = fresh_copy(sources[len(entries) % len(sources)], rng, vhr.options.run_id)
        names = " ".join(n.get("family", "") for n in res.get("name", []) if isinstance(n, dict))
        para = f"<p>Hồ sơ người bệnh {names}: tiền sử, dị ứng, tiêm chủng, khám chữa bệnh.</p>" * 160
        res["text"] = {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{para}</div>',
        }
        entry = {
            "fullUrl": f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            "resource": res,
            "request": {"method": "POST", "url": "Patient"},
        }
        total += len(json.dumps(entry, ensure_ascii=False).encode())
        entries.append(entry)
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


@criterion("VHR-SEC-006")
def test_payload_limit(
    request: pytest.FixtureRequest, vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker
) -> None:
    limit_mb, declared = _declared_max_body(request, vhr)
    size = int((limit_mb + 1) * 1024 * 1024)
    bundle = _large_transaction(seed, vhr, size)
    resp = fhir.post("", bundle)
    if resp.status in NOT_THERE:
        # No transaction endpoint: the same resources as one collection Bundle, the other way a
        # large submission reaches a FHIR server.
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"fullUrl": e["fullUrl"], "resource": e["resource"]} for e in bundle["entry"]],
        }
        resp = fhir.post("Bundle", bundle)
        if resp.status in NOT_THERE:
            not_tested(
                Text(
                    "Máy chủ không nhận transaction (POST [base]) cũng như Bundle (POST Bundle): {s}; không gửi "
                    "được thân lớn để kiểm tra giới hạn.",
                    "The target takes neither transactions (POST [base]) nor Bundles (POST Bundle): {s}; no large "
                    "body could be sent to check the limit.",
                ).format(s=status_text(resp))
            )
    loc = parse_location(resp.headers.get("location"))
    if loc and resp.status in (200, 201):
        tracker.add(loc[0], loc[1])
    if resp.status == 200 and isinstance(resp.json, dict):
        for entry in resp.json.get("entry", []) or []:
            loc = parse_location((entry.get("response") or {}).get("location"))
            if loc:
                tracker.add(loc[0], loc[1])
    n, mb = len(bundle["entry"]), size / 1024 / 1024
    kind = bundle["type"]
    shown = (
        Text(
            f"Một Bundle {kind} {n} tài nguyên, {mb:.1f} MB (vượt giới hạn khai báo {limit_mb:g} MB)",
            f"A {kind} Bundle of {n} resources, {mb:.1f} MB (above the declared limit of {limit_mb:g} MB)",
        )
        if declared
        else Text(
            f"Một Bundle {kind} {n} tài nguyên, {mb:.1f} MB (vượt giới hạn mặc định {limit_mb:g} MB; máy chủ không "
            "khai báo giới hạn, dùng --vhr-max-body-mb để nêu)",
            f"A {kind} Bundle of {n} resources, {mb:.1f} MB (above the default limit of {limit_mb:g} MB; no limit "
            "declared, give one with --vhr-max-body-mb)",
        )
    )
    check(
        resp.status < 500,
        Text(f"{shown.vi} gây lỗi {status_text(resp)}.", f"{shown.en} caused {status_text(resp)}."),
    )
    check(
        resp.status == 413 or (400 <= resp.status < 500 and resp.resource_type == "OperationOutcome"),
        Text(
            f"{shown.vi} được trả lời {status_text(resp)}, cần 413.",
            f"{shown.en} was answered {status_text(resp)}, expected 413.",
        ),
    )


@criterion("VHR-SEC-007")
def test_rate_limit_retry_after(vhr: VhrState, fhir: FhirClient) -> None:
    declared = vhr.options.rate_limit
    burst = int(declared * 3 + 5) if declared else 30
    limited = []
    for _ in range(burst):
        resp = fhir.get("Patient", params={"_count": "1"})
        if resp.status == 429:
            limited.append(resp)
            break
    if not limited:
        check(
            not declared,
            Text(
                "{b} yêu cầu liên tiếp không nhận 429 dù đã khai báo giới hạn {d} yêu cầu/giây.",
                "{b} requests in a burst never got 429 although {d} requests/s is declared.",
            ).format(b=burst, d=declared),
        )
        not_applicable(
            Text(
                f"Không thấy giới hạn tần suất sau {burst} yêu cầu và không khai báo (--vhr-rate-limit); MAY trong IG.",
                f"No rate limiting seen after {burst} requests and none declared (--vhr-rate-limit); MAY in the IG.",
            )
        )
    check(
        limited[0].headers.get("retry-after"),
        Text("429 không có header Retry-After.", "429 without a Retry-After header."),
    )
