"""Security and privacy (area SEC): TLS, authentication, scopes, error bodies, size and rate limits."""

from __future__ import annotations

import ipaddress
import random
import socket
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from vhr_conformance.client import FhirClient, InfrastructureError
from vhr_conformance.client.auth import limited_provider
from vhr_conformance.client.tls import tls_cause, untrusted_text
from vhr_conformance.i18n import Text
from vhr_conformance.pytest_plugin import VhrState, criterion, omit, skip_missing
from vhr_conformance.runner.checks import assert_operation_outcome, seeded_or_skip
from vhr_conformance.runner.fresh import cccd_of, fresh_copy
from vhr_conformance.runner.seed import SeedData, Tracker, parse_location


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secured(vhr: VhrState, target_cs: dict[str, Any]) -> bool:
    sec = (
        next((r.get("security") for r in target_cs.get("rest", []) if r.get("mode") == "server"), None) or {}
    )
    return vhr.options.auth.mode != "none" or bool(sec.get("service"))


def _require_auth(vhr: VhrState, target_cs: dict[str, Any]) -> None:
    if not _secured(vhr, target_cs):
        omit(
            Text(
                "Máy chủ không khai báo bảo mật và lượt chạy không dùng xác thực.",
                "The target declares no security and the run uses no authentication.",
            )
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
        raise AssertionError(untrusted_text(f"{host}:{port}", exc).both()) from None
    except ssl.SSLError as exc:
        raise AssertionError(
            Text(
                "Bắt tay TLS với {h}:{p} thất bại (cần TLS ≥ 1.2): {e}",
                "TLS handshake with {h}:{p} failed (TLS ≥ 1.2 required): {e}",
            )
            .format(h=host, p=port, e=exc.reason or exc)
            .both()
        ) from None
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
    assert redirected or resp.status_code in (400, 403, 421, 426), (
        Text(
            "http thường tới {u} trả lời {s} thay vì từ chối hoặc chuyển hướng sang https.",
            "plain http to {u} answered {s} instead of refusing or redirecting to https.",
        )
        .format(u=url, s=resp.status_code)
        .both()
    )


@criterion("VHR-SEC-001")
def test_tls(vhr: VhrState, record_property: Callable[[str, Any], None]) -> None:
    target = vhr.options.target
    parts = urlsplit(target)
    if parts.scheme != "https":
        if _loopback(target):
            omit(
                Text(
                    "Máy chủ loopback dùng thử: không áp dụng TLS.",
                    "Loopback test server: TLS not applicable.",
                )
            )
        raise AssertionError(
            Text("Máy chủ {t} không dùng https.", "The target {t} is not served over https.")
            .format(t=target)
            .both()
        )
    host, port = parts.hostname or "", parts.port or 443
    version = _handshake(vhr, host, port)
    assert version in ("TLSv1.2", "TLSv1.3"), (
        Text("Phiên bản TLS thương lượng là {v}, cần ≥ TLS 1.2.", "Negotiated {v}, TLS ≥ 1.2 required.")
        .format(v=version)
        .both()
    )
    try:
        resp = httpx.get(target + "/metadata", timeout=vhr.options.timeout, verify=vhr.options.verify())
    except httpx.HTTPError as exc:
        cause = tls_cause(exc)
        if isinstance(cause, ssl.SSLCertVerificationError):
            raise AssertionError(untrusted_text(target, cause).both()) from None
        raise InfrastructureError(f"GET {target}/metadata: {type(exc).__name__}: {exc}") from None
    assert resp.status_code < 500, f"GET {target}/metadata over https answered {resp.status_code}"
    netloc = f"[{host}]" if ":" in host else host
    _plain_http_refused(vhr, urlunsplit(("http", f"{netloc}:{port}", parts.path, "", "")) + "/metadata")
    if parts.port in (None, 443):  # the usual plain-http port of the same host, too
        _plain_http_refused(vhr, urlunsplit(("http", netloc, parts.path, "", "")) + "/metadata")
    record_property("vhr_note", f"{version}, certificate verified; plain http on port {port} refused")


@criterion("VHR-SEC-002", "VHR-SEC-010")
def test_no_token_401(vhr: VhrState, fhir: FhirClient, target_cs: dict[str, Any]) -> None:
    _require_auth(vhr, target_cs)
    resp = fhir.get("Patient", params={"_count": "1"}, auth=False)
    assert resp.status == 401, f"a search without a token answered {resp.status}, expected 401"
    assert_operation_outcome(resp, "401")


@criterion("VHR-SEC-003")
def test_bad_token_401(vhr: VhrState, fhir: FhirClient, target_cs: dict[str, Any]) -> None:
    _require_auth(vhr, target_cs)
    forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ2aHItZm9yZ2VkIn0.c2lnbmF0dXJlLWlzLXdyb25n"
    resp = fhir.get("Patient", params={"_count": "1"}, headers={"Authorization": f"Bearer {forged}"})
    assert resp.status == 401, f"a forged token answered {resp.status}, expected 401"


@criterion("VHR-SEC-004")
def test_scope_enforced(
    vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker, target_cs: dict[str, Any]
) -> None:
    _require_auth(vhr, target_cs)
    provider = limited_provider(
        vhr.options.auth, vhr.options.target, vhr.options.timeout, vhr.options.verify()
    )
    if provider is None:
        skip_missing(
            Text(
                "Chưa cấu hình thông tin xác thực phạm vi hẹp (VHR_LIMITED_TOKEN hoặc VHR_LIMITED_CLIENT_ID/SECRET).",
                "No narrow-scope credentials given (VHR_LIMITED_TOKEN or VHR_LIMITED_CLIENT_ID/SECRET).",
            )
        )
    source = seeded_or_skip(seed, "Patient")[0]
    body = fresh_copy(source.sent, random.Random(f"{vhr.options.run_id}:scope"), vhr.options.run_id)
    resp = fhir.post("Patient", body, token=provider.token())
    loc = parse_location(resp.headers.get("location"))
    if loc and resp.status in (200, 201):
        tracker.add(loc[0], loc[1])
    assert resp.status == 403, f"a write with a read-only token answered {resp.status}, expected 403"


@criterion("VHR-SEC-005")
def test_no_personal_data_in_errors(
    vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker
) -> None:
    source = seeded_or_skip(seed, "Patient")[0]
    body = fresh_copy(source.sent, random.Random(f"{vhr.options.run_id}:privacy"), vhr.options.run_id)
    number = cccd_of(body)
    family = next((n.get("family") for n in body.get("name", []) if n.get("family")), None)
    phone = next((t.get("value") for t in body.get("telecom", []) if t.get("value")), None)
    secrets = [x for x in (number, family, phone, body.get("birthDate")) if x and len(str(x)) >= 4]
    if not secrets:
        skip_missing(
            Text(
                "Người bệnh thử không có dữ liệu định danh.", "The test patient carries no identifying data."
            )
        )
    body["gender"] = "not-a-gender-code"
    resp = fhir.post("Patient", body)
    loc = parse_location(resp.headers.get("location"))
    if loc and resp.status in (200, 201):
        tracker.add(loc[0], loc[1])
    assert resp.status >= 400, (
        f"an invalid patient was accepted ({resp.status}); cannot inspect its error body"
    )
    text = resp.text()
    leaked = [s for s in secrets if str(s) in text]
    assert not leaked, (
        f"the error body repeats personal data of the patient sent: {len(leaked)} value(s) found"
    )


@criterion("VHR-SEC-006")
def test_payload_limit(vhr: VhrState, fhir: FhirClient, tracker: Tracker) -> None:
    size = int((vhr.options.max_body_mb + 1) * 1024 * 1024)
    body = {
        "resourceType": "Patient",
        "text": {
            "status": "generated",
            "div": '<div xmlns="http://www.w3.org/1999/xhtml">' + "x" * size + "</div>",
        },
    }
    resp = fhir.post("Patient", body)
    loc = parse_location(resp.headers.get("location"))
    if loc and resp.status in (200, 201):
        tracker.add(loc[0], loc[1])
    assert resp.status < 500, f"an oversized body ({size // 1024 // 1024} MB) caused {resp.status}"
    assert resp.status == 413 or (400 <= resp.status < 500 and resp.resource_type == "OperationOutcome"), (
        f"an oversized body ({size // 1024 // 1024} MB, above the declared {vhr.options.max_body_mb} MB) answered {resp.status}, expected 413"
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
        if declared:
            raise AssertionError(
                f"{burst} requests in a burst never got 429 although {declared} requests/s is declared"
            )
        omit(
            Text(
                f"Không thấy giới hạn tần suất sau {burst} yêu cầu (không khai báo).",
                f"No rate limiting seen after {burst} requests (none declared).",
            )
        )
    assert limited[0].headers.get("retry-after"), "429 without a Retry-After header"
