"""`vhr doctor`: can the harness talk to this target at all? A few seconds, one verdict per check.

Run before a conformance run (and as its first step), so a mistyped URL, a closed port, an
untrusted certificate or a broken token endpoint is said in seconds instead of after hundreds of
cases that all fail the same way. Every check is bounded in time; the whole doctor in about 10 s.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from vhr_conformance.i18n import Text
from vhr_conformance.outcome import ExitCode

CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 4.0
CLOCK_SKEW_WARN_S = 60.0
CERT_EXPIRY_WARN_DAYS = 14

# A check's verdict. "warn" is a finding that does not stop a run; "skip" a check that did not apply.
PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"


@dataclass
class Check:
    name: Text
    verdict: str
    message: Text
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "check": {"vi": self.name.vi, "en": self.name.en},
            "verdict": self.verdict,
            "message": {"vi": self.message.vi, "en": self.message.en},
            "facts": self.facts,
        }


@dataclass
class Diagnosis:
    target: str
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        """ERROR when the target cannot be used at all, else FAIL on a failed check, else PASS."""
        if any(c.verdict == FAIL and c.facts.get("blocking") for c in self.checks):
            return "ERROR"
        if any(c.verdict == FAIL for c in self.checks):
            return "FAIL"
        return "PASS"

    def identity(self) -> dict[str, Any]:
        """Who answered: resolved address, TLS certificate, CapabilityStatement software (for evidence)."""
        out: dict[str, Any] = {"url": self.target}
        for check in self.checks:
            facts = check.facts
            if "address" in facts:
                out["address"] = facts["address"]
            if "sha256" in facts:
                out["tlsCertificateSha256"], out["tlsVersion"] = facts["sha256"], facts.get("version")
            if "software" in facts:
                out["software"] = facts["software"]
                out["implementation"] = facts.get("implementation")
                out["fhirVersion"] = facts.get("fhirVersion")
        return out

    def exit_code(self) -> int:
        return {"PASS": ExitCode.PASS, "FAIL": ExitCode.FAIL}.get(self.verdict, ExitCode.ERROR)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "verdict": self.verdict,
            "seconds": round(self.seconds, 3),
            "checks": [c.to_json() for c in self.checks],
        }


def _blocking(name: Text, message: Text, **facts: Any) -> Check:
    return Check(name, FAIL, message, {"blocking": True, **facts})


N_URL = Text("Địa chỉ máy chủ", "Target URL")
N_REACH = Text("Kết nối mạng", "Network reachability")
N_TLS = Text("TLS và chứng thư", "TLS and certificate")
N_META = Text("CapabilityStatement (/metadata)", "CapabilityStatement (/metadata)")
N_SECURITY = Text("Khai báo bảo mật", "Declared security")
N_CLOCK = Text("Độ lệch đồng hồ", "Clock skew")
N_TOKEN = Text("Điểm cấp token và token", "Token endpoint and token")


def diagnose(
    target: str,
    *,
    verify: ssl.SSLContext | None = None,
    tokens: Any = None,
    clock: Any = time.time,
) -> Diagnosis:
    """Run every check against `target` (a FHIR base URL); `tokens` is a client TokenProvider or None."""
    started = time.monotonic()
    diag = Diagnosis(target=target)
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        diag.checks.append(
            _blocking(
                N_URL,
                Text(
                    "URL phải có dạng http(s)://máy-chủ[:cổng]/đường-dẫn, nhận được {t!r}",
                    "The URL must look like http(s)://host[:port]/path, got {t!r}",
                ).format(t=target),
            )
        )
        diag.seconds = time.monotonic() - started
        return diag
    host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    diag.checks.append(Check(N_URL, PASS, Text("{t}", "{t}").format(t=target), {"host": host, "port": port}))

    reach = _reach(host, port)
    diag.checks.append(reach)
    if reach.verdict == FAIL:
        diag.seconds = time.monotonic() - started
        return diag

    context = verify or ssl.create_default_context()
    if parts.scheme == "https":
        tls = _tls(host, port, context)
        diag.checks.append(tls)
        if tls.verdict == FAIL:
            diag.seconds = time.monotonic() - started
            return diag
    else:
        diag.checks.append(
            Check(
                N_TLS,
                WARN if host not in ("127.0.0.1", "localhost", "::1") else SKIP,
                Text(
                    "Máy chủ dùng http không mã hóa: VHR-SEC-001 sẽ không đạt ngoài máy cục bộ.",
                    "The target uses plain http: VHR-SEC-001 fails anywhere but on loopback.",
                ),
            )
        )

    meta, response = _metadata(target, context if parts.scheme == "https" else None)
    diag.checks.append(meta)
    if response is not None:
        diag.checks.append(_clock(response, clock))
        if meta.verdict != FAIL:
            diag.checks.append(_security(response))
    diag.checks.append(_token(tokens))
    diag.seconds = time.monotonic() - started
    return diag


def _reach(host: str, port: int) -> Check:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return _blocking(
            N_REACH,
            Text("Không phân giải được tên máy {h}: {e}", "Cannot resolve host {h}: {e}").format(
                h=host, e=exc
            ),
        )
    address = infos[0][4][0]
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        return _blocking(
            N_REACH,
            Text(
                "Không kết nối được {h}:{p} ({a}) trong {s:g} s: {e}. Kiểm tra URL, cổng và tường lửa.",
                "Cannot connect to {h}:{p} ({a}) within {s:g} s: {e}. Check the URL, the port and firewalls.",
            ).format(h=host, p=port, a=address, s=CONNECT_TIMEOUT_S, e=exc),
            address=address,
        )
    return Check(
        N_REACH,
        PASS,
        Text("Kết nối được {h}:{p} ({a})", "Connected to {h}:{p} ({a})").format(h=host, p=port, a=address),
        {"address": address},
    )


def _tls(host: str, port: int, context: ssl.SSLContext) -> Check:
    try:
        with (
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            version = tls.version() or "?"
            der = tls.getpeercert(binary_form=True) or b""
            cert = tls.getpeercert() or {}
    except ssl.SSLCertVerificationError as exc:
        return _blocking(
            N_TLS,
            Text(
                "Chứng thư của máy chủ không được tin cậy: {e}. Máy chủ dùng CA riêng? Thêm --ca-bundle.",
                "The target's certificate is not trusted: {e}. A private CA? Pass --ca-bundle.",
            ).format(e=exc.verify_message or exc),
        )
    except (ssl.SSLError, OSError) as exc:
        return _blocking(N_TLS, Text("Bắt tay TLS thất bại: {e}", "TLS handshake failed: {e}").format(e=exc))
    facts: dict[str, Any] = {"version": version, "sha256": hashlib.sha256(der).hexdigest()}
    not_after = cert.get("notAfter")
    days_left: float | None = None
    if isinstance(not_after, str):
        expires = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), dt.UTC)
        facts["notAfter"] = expires.isoformat()
        days_left = (expires - dt.datetime.now(dt.UTC)).total_seconds() / 86400
    if version in ("TLSv1", "TLSv1.1", "SSLv3"):
        return Check(
            N_TLS,
            FAIL,
            Text(
                "Phiên bản TLS {v} đã lỗi thời (cần ≥ TLS 1.2).", "{v} is obsolete (TLS 1.2 or later needed)."
            ).format(v=version),
            facts,
        )
    if days_left is not None and days_left < CERT_EXPIRY_WARN_DAYS:
        return Check(
            N_TLS,
            WARN,
            Text(
                "{v}; chứng thư hết hạn sau {d:.1f} ngày.", "{v}; the certificate expires in {d:.1f} days."
            ).format(v=version, d=days_left),
            facts,
        )
    return Check(
        N_TLS, PASS, Text("{v}, chứng thư hợp lệ", "{v}, certificate verified").format(v=version), facts
    )


def _metadata(target: str, context: ssl.SSLContext | None) -> tuple[Check, httpx.Response | None]:
    url = target.rstrip("/") + "/metadata"
    timeout = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
    try:
        with httpx.Client(verify=context or True, timeout=timeout, follow_redirects=False) as client:
            resp = client.get(url, headers={"Accept": "application/fhir+json"})
            body = resp.content[: 4 * 1024 * 1024]
    except httpx.HTTPError as exc:
        return (
            _blocking(
                N_META,
                Text("GET /metadata không có trả lời: {e}", "GET /metadata got no answer: {e}").format(
                    e=type(exc).__name__ + (f": {exc}" if str(exc) else "")
                ),
            ),
            None,
        )
    facts: dict[str, Any] = {"status": resp.status_code, "contentType": resp.headers.get("content-type")}
    try:
        import orjson

        cs = orjson.loads(body)
    except ValueError:
        cs = None
    if resp.status_code != 200 or not isinstance(cs, dict) or cs.get("resourceType") != "CapabilityStatement":
        return (
            Check(
                N_META,
                FAIL,
                Text(
                    "GET /metadata trả HTTP {s} không kèm CapabilityStatement: đây có phải URL gốc FHIR?",
                    "GET /metadata answered HTTP {s} without a CapabilityStatement: is this the FHIR base URL?",
                ).format(s=resp.status_code),
                facts,
            ),
            resp,
        )
    software = cs.get("software") or {}
    facts.update(
        {
            "fhirVersion": cs.get("fhirVersion"),
            "software": {"name": software.get("name"), "version": software.get("version")},
            "implementation": (cs.get("implementation") or {}).get("description"),
        }
    )
    version = str(cs.get("fhirVersion") or "")
    if not version.startswith("4.0"):
        return (
            Check(
                N_META,
                FAIL,
                Text(
                    "fhirVersion là {v!r}, VHR cần FHIR R4 (4.0.x).",
                    "fhirVersion is {v!r}; VHR needs FHIR R4 (4.0.x).",
                ).format(v=version),
                facts,
            ),
            resp,
        )
    return (
        Check(
            N_META,
            PASS,
            Text("FHIR {v}, phần mềm {n} {sv}", "FHIR {v}, software {n} {sv}").format(
                v=version, n=software.get("name") or "?", sv=software.get("version") or ""
            ),
            facts,
        ),
        resp,
    )


def _security(resp: httpx.Response) -> Check:
    try:
        cs = resp.json()
    except ValueError:
        cs = {}
    services: list[str] = []
    oauth: dict[str, str] = {}
    for rest in cs.get("rest", []) or []:
        sec = rest.get("security") or {}
        for svc in sec.get("service", []) or []:
            services += [str(c.get("code")) for c in svc.get("coding", []) or [] if c.get("code")]
        for ext in sec.get("extension", []) or []:
            if str(ext.get("url", "")).endswith("oauth-uris"):
                for sub in ext.get("extension", []) or []:
                    if sub.get("valueUri"):
                        oauth[str(sub.get("url"))] = str(sub["valueUri"])
    facts = {"services": services, "oauthUris": oauth}
    if not services and not oauth:
        return Check(
            N_SECURITY,
            WARN,
            Text(
                "CapabilityStatement không khai báo dịch vụ bảo mật (rest.security): các tiêu chí SEC sẽ dò trực tiếp.",
                "The CapabilityStatement declares no security service (rest.security): SEC criteria will probe directly.",
            ),
            facts,
        )
    return Check(
        N_SECURITY,
        PASS,
        Text("Khai báo: {s}", "Declared: {s}").format(s=", ".join(services + sorted(oauth)) or "—"),
        facts,
    )


def _clock(resp: httpx.Response, clock: Any) -> Check:
    header = resp.headers.get("date")
    if not header:
        return Check(
            N_CLOCK, SKIP, Text("Máy chủ không gửi tiêu đề Date.", "The target sent no Date header.")
        )
    try:
        theirs = email.utils.parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return Check(
            N_CLOCK,
            WARN,
            Text("Tiêu đề Date không hợp lệ: {d!r}", "Invalid Date header: {d!r}").format(d=header),
        )
    skew = theirs - float(clock())
    facts = {"skewSeconds": round(skew, 1)}
    if abs(skew) > CLOCK_SKEW_WARN_S:
        return Check(
            N_CLOCK,
            WARN,
            Text(
                "Đồng hồ máy chủ lệch {s:+.0f} s so với máy này: token JWT và mốc thời gian có thể bị từ chối.",
                "The target's clock is {s:+.0f} s off this machine's: JWT tokens and timestamps may be refused.",
            ).format(s=skew),
            facts,
        )
    return Check(N_CLOCK, PASS, Text("Lệch {s:+.1f} s", "Skew {s:+.1f} s").format(s=skew), facts)


def _token(tokens: Any) -> Check:
    if tokens is None or not getattr(tokens, "enabled", False):
        return Check(
            N_TOKEN,
            SKIP,
            Text(
                "Không có thông tin đăng nhập (--auth none): các tiêu chí cần token sẽ chưa được kiểm thử.",
                "No credentials (--auth none): criteria that need a token will be not tested.",
            ),
        )
    try:
        token = tokens.token()
    except Exception as exc:  # the provider raises its own bilingual errors and transport errors
        text = getattr(exc, "text", None)
        return _blocking(
            N_TOKEN,
            Text("Không lấy được token: {e}", "Could not obtain a token: {e}").format(
                e=text.both() if isinstance(text, Text) else f"{type(exc).__name__}: {exc}"
            ),
        )
    if not token:
        return _blocking(
            N_TOKEN, Text("Điểm cấp token không trả token.", "The token endpoint returned no token.")
        )
    return Check(N_TOKEN, PASS, Text("Đã nhận token truy cập", "Access token obtained"))
