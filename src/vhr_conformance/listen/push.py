"""`vhr push`: a sample facility system that sends transaction Bundles to a VHR endpoint.

Well-behaved by default, the way the sender criteria ask: it gets a token first, sends each
patient's record as one transaction with conditional creates, replays the data as today's
encounters (so it is within 24 h), retries 429/503 after Retry-After with exponential backoff,
stops on 4xx and reports it, and corrects an encounter with a conditional update. Each
`--badly-behaved` mode breaks exactly one sender criterion; the project's tests use them to prove
every criterion can fail (mutation proof).
"""

from __future__ import annotations

import copy
import re
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

from vhr_conformance.client.auth import AUTH_MODES, AuthConfig, TokenProvider
from vhr_conformance.client.tls import verify_context
from vhr_conformance.fhirutil import identifier_value
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.listen.recorder import VN_TZ
from vhr_conformance.names import SID_MALK

FHIR_JSON = "application/fhir+json"
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")
# The reference server's public test client (see server.auth.DEFAULT_CLIENTS).
DEFAULT_CLIENT = ("vhr-test-admin", "vhr-test-admin-secret")

BAD_MODES: dict[str, tuple[str, Text]] = {
    "no-token": (
        "VHR-SEC-101",
        Text("Gửi dữ liệu mà không lấy token.", "Sends data without getting a token."),
    ),
    "oversize": (
        "VHR-SEC-102",
        Text("Độn thân yêu cầu vượt giới hạn kích thước.", "Pads request bodies past the size limit."),
    ),
    "query-pii": (
        "VHR-SEC-103",
        Text(
            "Tìm người bệnh theo họ tên và ngày sinh trong URL.",
            "Looks patients up by family name and birth date in the URL.",
        ),
    ),
    "wrong-content-type": (
        "VHR-API-101",
        Text("Gửi với Content-Type application/json.", "Sends with Content-Type application/json."),
    ),
    "no-backoff": (
        "VHR-API-102",
        Text(
            "Gửi lại ngay sau 429/503, bỏ qua Retry-After.",
            "Resends at once after 429/503, ignoring Retry-After.",
        ),
    ),
    "resend-rejected": (
        "VHR-API-103",
        Text("Gửi lại nguyên gói tin sau 400/422.", "Resends the identical payload after 400/422."),
    ),
    "invalid-bundle": (
        "VHR-QUAL-101",
        Text(
            "Gửi một Observation có trạng thái (Observation.status) không hợp lệ.",
            "Sends an Observation with an invalid status.",
        ),
    ),
    "dangling-reference": (
        "VHR-QUAL-102",
        Text("Tham chiếu tới Encounter không tồn tại.", "References an Encounter that does not exist."),
    ),
    "utc-timestamps": (
        "VHR-QUAL-103",
        Text("Ghi thời điểm theo UTC (Z) thay vì +07:00.", "Writes timestamps in UTC (Z) instead of +07:00."),
    ),
    "plain-create": (
        "VHR-PAT-101",
        Text(
            "Tạo Patient không có điều kiện (không ifNoneExist).",
            "Creates Patients unconditionally (no ifNoneExist).",
        ),
    ),
    "incomplete-encounter": (
        "VHR-KCB-101",
        Text("Bỏ chẩn đoán khỏi Encounter.", "Leaves the diagnosis out of Encounters."),
    ),
    "late": (
        "VHR-KCB-102",
        Text("Gửi lượt khám 3 ngày sau khi kết thúc.", "Sends encounters 3 days after they ended."),
    ),
    "correction-as-new": (
        "VHR-KCB-103",
        Text("Gửi bản sửa bằng POST (tạo Encounter mới).", "Sends corrections as POST (a new Encounter)."),
    ),
}


@dataclass
class PushOptions:
    """`auth` is a scheme of `client.auth` (`oauth` = client-credentials); `credentials`, resolved by
    `runconfig.build` as for every command, else the reference server's test client below."""

    target: str
    folder: Path
    auth: str = "none"
    client_id: str = DEFAULT_CLIENT[0]
    client_secret: str = DEFAULT_CLIENT[1]
    credentials: AuthConfig | None = None
    bad: str | None = None
    limit: int | None = None
    corrections: int = 0
    as_today: bool = True
    max_retries: int = 5
    backoff_s: float = 1.0
    max_body_bytes: int = 20 * 1024 * 1024
    timeout_s: float = 30.0
    ca_file: str | None = None  # trust this CA (PEM) for an https target with a private certificate
    progress: bool = True  # one line per bundle on stderr (overwritten in place on a tty)


@dataclass
class PushLog:
    """What the client did, for the CLI summary and the tests."""

    sent: list[str] = field(default_factory=list)  # bundle names accepted
    rejected: list[tuple[str, int, str]] = field(default_factory=list)  # (name, status, reason)
    gave_up: list[str] = field(default_factory=list)
    retries: int = 0
    corrections: int = 0

    def ok(self) -> bool:
        return not self.rejected and not self.gave_up


def load_bundles(folder: Path, limit: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Transaction Bundles of a folder and its subfolders (sorted by path), or of one file.

    Any output folder of `vhr generate` or `vhr xml to-fhir` is a valid input: Bundles are found
    where those commands put them (e.g. ``D/bundles/``), other JSON files are passed over, and
    files that cannot be read are named in the error when nothing was found.
    """
    files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*.json") if p.is_file())
    out: list[tuple[str, dict[str, Any]]] = []
    unreadable: list[str] = []
    for path in files:
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            unreadable.append(f"{path}: {type(exc).__name__}")
            continue
        if (
            isinstance(data, dict)
            and data.get("resourceType") == "Bundle"
            and data.get("type") == "transaction"
        ):
            name = str(path.relative_to(folder).with_suffix("")) if path != folder else path.stem
            out.append((name, data))
        if limit and len(out) >= limit:
            break
    if not out:
        detail = ("; " + "; ".join(unreadable[:5])) if unreadable else ""
        raise UserError(
            Text(
                "Không có Bundle giao dịch nào trong thư mục (kể cả thư mục con){d}.",
                "No transaction Bundle in the folder or its subfolders{d}.",
            ).format(d=detail),
            location=str(folder),
        )
    return out


# ---------------------------------------------------------------------- preparing bundles
def _map_strings(node: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(node, dict):
        return {k: _map_strings(v, fn) for k, v in node.items()}
    if isinstance(node, list):
        return [_map_strings(v, fn) for v in node]
    if isinstance(node, str):
        return fn(node)
    return node


def _encounters(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e for e in bundle.get("entry") or [] if (e.get("resource") or {}).get("resourceType") == "Encounter"
    ]


def _latest_end(bundle: dict[str, Any]) -> datetime | None:
    ends = []
    for e in _encounters(bundle):
        end = (e["resource"].get("period") or {}).get("end")
        if isinstance(end, str) and _DATETIME.match(end):
            ends.append(datetime.fromisoformat(end.replace("Z", "+00:00")))
    return max(ends) if ends else None


def rebase(bundle: dict[str, Any], ended_ago: timedelta, utc: bool = False) -> dict[str, Any]:
    """Shift every timestamp so the latest encounter ended `ended_ago` before now (a facility
    sending today's encounters); nothing ends in the future. Dates without time stay (birth dates)."""
    now = datetime.now(VN_TZ)
    latest = _latest_end(bundle)
    delta = (now - ended_ago) - latest if latest else timedelta(0)

    def shift(value: str) -> str:
        if not _DATETIME.match(value):
            return value
        moved = datetime.fromisoformat(value.replace("Z", "+00:00")) + delta
        if moved > now:
            moved = now - timedelta(minutes=1)
        moved = moved.astimezone(VN_TZ)
        text = moved.isoformat(timespec="seconds")
        return moved.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if utc else text

    return _map_strings(bundle, shift)


def mutate(bundle: dict[str, Any], mode: str | None) -> dict[str, Any]:
    """Apply a bad mode that changes the content of a bundle (others change behaviour)."""
    if mode == "plain-create":
        for e in bundle["entry"]:
            if e["resource"].get("resourceType") == "Patient":
                e["request"].pop("ifNoneExist", None)
    elif mode == "invalid-bundle":
        obs = next((e for e in bundle["entry"] if e["resource"].get("resourceType") == "Observation"), None)
        if obs is not None:
            obs["resource"]["status"] = "not-a-status"
    elif mode == "dangling-reference":
        cond = next((e for e in bundle["entry"] if e["resource"].get("resourceType") == "Condition"), None)
        if cond is not None:
            cond["resource"]["encounter"] = {"reference": "Encounter/not-sent-before-0001"}
    elif mode == "incomplete-encounter":
        for e in _encounters(bundle):
            e["resource"].pop("diagnosis", None)
    return bundle


def correction_of(bundle: dict[str, Any], response: dict[str, Any], as_new: bool) -> dict[str, Any] | None:
    """A one-entry transaction correcting the bundle's latest encounter: the reason text changes,
    references point at what the platform assigned, and it is a conditional update on MA_LK."""
    ids: dict[str, str] = {}
    for req_e, resp_e in zip(bundle.get("entry") or [], response.get("entry") or [], strict=False):
        loc = str((resp_e.get("response") or {}).get("location") or "")
        m = re.search(r"([A-Z][A-Za-z]+/[A-Za-z0-9\-.]+)(?:/_history/\S+)?$", loc)
        if req_e.get("fullUrl") and m:
            ids[req_e["fullUrl"]] = m.group(1)
    encs = [e for e in _encounters(bundle) if (e["resource"].get("period") or {}).get("end")]
    if not encs:
        return None
    enc_entry = max(encs, key=lambda e: e["resource"]["period"]["end"])
    enc = copy.deepcopy(enc_entry["resource"])
    malk = identifier_value(enc, SID_MALK)
    if malk is None:
        return None
    enc = _map_strings(enc, lambda s: ids.get(s, s))
    reason = (enc.get("reasonCode") or [{}])[0]
    reason["text"] = f"{reason.get('text', '')} (đính chính / corrected)".strip()
    enc["reasonCode"] = [reason, *(enc.get("reasonCode") or [])[1:]]
    request = (
        {"method": "POST", "url": "Encounter"}
        if as_new
        else {"method": "PUT", "url": "Encounter?" + urlencode({"identifier": f"{SID_MALK}|{malk}"})}
    )
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "meta": bundle.get("meta", {}),
        "entry": [{"fullUrl": enc_entry.get("fullUrl"), "resource": enc, "request": request}],
    }


# ---------------------------------------------------------------------- the client
class Pusher:
    """Sends prepared bundles with the configured behaviour."""

    def __init__(self, opts: PushOptions, sleep: Callable[[float], None] = time.sleep) -> None:
        self.opts = opts
        self.base = opts.target.rstrip("/")
        verify: ssl.SSLContext = verify_context(opts.ca_file)
        self.http = httpx.Client(timeout=opts.timeout_s, verify=verify)
        self.sleep = sleep
        # the shared client auth: discovery on the target's origin, bounded token calls, renewal
        self.tokens = TokenProvider(credentials(opts), self.base, timeout=opts.timeout_s, verify=verify)
        self.log = PushLog()

    def close(self) -> None:
        self.http.close()

    def authenticate(self) -> None:
        """The first token before anything is sent, so wrong credentials stop the push at once."""
        if self.opts.bad != "no-token":
            self.tokens.token()

    def _headers(self) -> dict[str, str]:
        ctype = "application/json" if self.opts.bad == "wrong-content-type" else FHIR_JSON
        h = {"Content-Type": ctype, "Accept": FHIR_JSON}
        # asked before every request: the provider renews the token before it expires
        token = None if self.opts.bad == "no-token" else self.tokens.token()
        if token:
            h["Authorization"] = f"Bearer {token}"
        return h

    def _body(self, bundle: dict[str, Any]) -> bytes:
        body = orjson.dumps(bundle)
        if self.opts.bad == "oversize":
            body += b" " * max(0, self.opts.max_body_bytes + 1024 - len(body))  # still the same JSON
        return body

    def send(self, name: str, bundle: dict[str, Any]) -> dict[str, Any] | None:
        """POST one transaction; retry 429/503/transport errors, stop on other errors."""
        body = self._body(bundle)
        attempt = 0
        resends = 0
        while True:
            try:
                r = self.http.post(self.base + "/", content=body, headers=self._headers())
            except httpx.TransportError as exc:
                status, wait_header, reason = 0, None, str(exc)
            else:
                status, wait_header, reason = r.status_code, r.headers.get("retry-after"), r.text[:200]
            if status in (0, 429, 503):
                if attempt >= self.opts.max_retries:
                    self.log.gave_up.append(name)
                    return None
                backoff = self.opts.backoff_s * (2**attempt)
                wait = float(wait_header) if wait_header and wait_header.isdigit() else 0.0
                attempt += 1
                self.log.retries += 1
                self.sleep(0.0 if self.opts.bad == "no-backoff" else max(wait, backoff))
                continue
            if status >= 400:
                if self.opts.bad == "resend-rejected" and resends < 2 and status in (400, 422):
                    resends += 1
                    continue
                self.log.rejected.append((name, status, reason))
                return None
            self.log.sent.append(name)
            try:
                data = r.json()
            except ValueError:
                return {}
            return data if isinstance(data, dict) else {}

    def show_progress(self, done: int, total: int, started: float, final: bool = False) -> None:
        """`[3/10 · ETA 4s] accepted 2 · rejected 1 · gave up 0 · retries 1` on stderr."""
        elapsed = time.monotonic() - started
        eta = (elapsed / done) * (total - done) if done else 0.0
        log = self.log
        line = (
            f"[{done}/{total} · còn / ETA {eta:.0f}s] nhận / accepted {len(log.sent)} · "
            f"từ chối / rejected {len(log.rejected)} · bỏ cuộc / gave up {len(log.gave_up)} · "
            f"thử lại / retries {log.retries}"
        )
        if sys.stderr.isatty():
            sys.stderr.write("\r\x1b[2K" + line + ("\n" if final else ""))
        elif final or done % 10 == 0:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def look_up(self, bundle: dict[str, Any]) -> None:
        """The `query-pii` mode: find the patient by name and birth date in the URL."""
        pat = next(
            (e["resource"] for e in bundle["entry"] if e["resource"].get("resourceType") == "Patient"), None
        )
        if not pat:
            return
        family = ((pat.get("name") or [{}])[0]).get("family", "")
        params = {"family": family, "birthdate": pat.get("birthDate", "")}
        headers = {k: v for k, v in self._headers().items() if k != "Content-Type"}
        self.http.get(self.base + "/Patient", params=params, headers=headers)

    def run(self) -> PushLog:
        opts = self.opts
        bundles = load_bundles(opts.folder, opts.limit)
        self.authenticate()
        ago = timedelta(days=3) if opts.bad == "late" else timedelta(hours=1)
        sent: list[tuple[dict[str, Any], dict[str, Any]]] = []
        started = time.monotonic()
        for index, (name, raw) in enumerate(bundles, 1):
            if opts.progress:
                self.show_progress(index - 1, len(bundles), started)
            bundle = copy.deepcopy(raw)
            if opts.as_today or opts.bad in ("late", "utc-timestamps"):
                bundle = rebase(bundle, ago, utc=opts.bad == "utc-timestamps")
            bundle = mutate(bundle, opts.bad)
            if opts.bad == "query-pii":
                self.look_up(bundle)
            response = self.send(name, bundle)
            if response is not None:
                sent.append((bundle, response))
        if opts.progress:
            self.show_progress(len(bundles), len(bundles), started, final=True)
        wanted = max(opts.corrections, 1 if opts.bad == "correction-as-new" else 0)
        for bundle, response in sent[:wanted]:
            fix = correction_of(bundle, response, as_new=opts.bad == "correction-as-new")
            if fix is not None and self.send("correction", fix) is not None:
                self.log.corrections += 1
        return self.log


def credentials(opts: PushOptions) -> AuthConfig:
    """The credentials the push sends with: those resolved for it, else the test client's."""
    mode = "client-credentials" if opts.auth == "oauth" else opts.auth
    if mode not in AUTH_MODES:
        raise UserError(
            Text(
                "Chế độ xác thực không hợp lệ: {m} (chọn {all}).", "Unknown auth mode: {m} (choose {all})."
            ).format(m=opts.auth, all=", ".join(AUTH_MODES)),
            location="--auth",
        )
    if opts.credentials is not None:
        return opts.credentials
    if mode != "client-credentials":
        return AuthConfig(mode="none") if mode == "none" else AuthConfig.load(mode)
    return AuthConfig(
        mode=mode, client_id=opts.client_id, client_secret=opts.client_secret, scope="system/*.*"
    )


def push(opts: PushOptions, sleep: Callable[[float], None] = time.sleep) -> PushLog:
    credentials(opts)  # an unknown scheme is a usage error before anything is read
    if opts.bad is not None and opts.bad not in BAD_MODES:
        raise UserError(
            Text("Chế độ sai không có: {m} (chọn {a}).", "Unknown bad mode: {m} (choose {a}).").format(
                m=opts.bad, a=", ".join(BAD_MODES)
            ),
            location="--badly-behaved",
        )
    if not opts.target.startswith(("http://", "https://")):
        raise UserError(
            Text(
                "URL đích phải bắt đầu bằng http:// hoặc https://",
                "Target URL must start with http:// or https://",
            ),
            location="--target",
        )
    pusher = Pusher(opts, sleep)
    try:
        return pusher.run()
    finally:
        pusher.close()
