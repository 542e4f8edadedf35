"""Recording and scenario middleware around the reference server's ASGI app.

The listener must see exactly what a facility system sent (bytes, headers, timing) and what it was
answered, so it sits in front of the reference server as plain ASGI: the server's code stays
untouched and serves the client as the platform would. Scenarios (throttle, reject-invalid,
outage) answer some writes themselves, before the server sees them, to provoke the client's
error handling.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson

from vhr_conformance.client.evidence import REDACTED, SECRET_HEADERS, body_text, redact_headers, redact_text
from vhr_conformance.i18n import Text, UserError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

VN_TZ = timezone(timedelta(hours=7))
INTERNAL_HEADER = "x-vhr-listener-internal"  # the listener's own look-ups: not recorded, no scenario

SCENARIOS: dict[str, Text] = {
    "throttle": Text(
        "Trả 429 kèm Retry-After cho một phần các yêu cầu ghi (yêu cầu ghi thứ 1, 4, 7, …).",
        "Answers 429 with Retry-After to a share of the writes (the 1st, 4th, 7th, … write).",
    ),
    "reject-invalid": Text(
        "Từ chối (422, OperationOutcome) yêu cầu ghi đầu tiên được chuyển tới máy chủ.",
        "Refuses (422, OperationOutcome) the first write that would reach the server.",
    ),
    "outage": Text(
        "Trả 503 kèm Retry-After cho mọi yêu cầu ghi trong một khoảng thời gian từ yêu cầu ghi đầu tiên.",
        "Answers 503 with Retry-After to every write during a window starting at the first write.",
    ),
}


def parse_scenarios(names: list[str]) -> tuple[str, ...]:
    """Scenario names (repeatable or comma-separated), checked against :data:`SCENARIOS`."""
    out: list[str] = []
    for raw in names:
        for name in (x.strip() for x in raw.split(",")):
            if not name:
                continue
            if name not in SCENARIOS:
                raise UserError(
                    Text("Kịch bản không có: {n} (chọn {a}).", "Unknown scenario: {n} (choose {a}).").format(
                        n=name, a=", ".join(SCENARIOS)
                    ),
                    location="--scenario",
                )
            if name not in out:
                out.append(name)
    return tuple(out)


@dataclass
class ScenarioConfig:
    """Which scenarios run and their timing (short values make tests fast)."""

    names: tuple[str, ...] = ()
    throttle_every: int = 3
    retry_after_s: int = 2
    outage_s: float = 10.0


@dataclass
class Recorded:
    """One request the client sent and what it got back. `body` stays in memory for the
    evaluation; what is written to disk is redacted (:meth:`to_evidence`)."""

    seq: int
    t: float  # seconds since the session started (monotonic)
    received: str  # ISO instant, +07:00
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    scenario: str | None = None
    client: str | None = None
    size: int = 0  # bytes received (the kept `body` stops a little past the size limit)
    _parsed: Any = field(default=None, repr=False, compare=False)
    _key: str | None = field(default=None, repr=False, compare=False)

    @property
    def is_write(self) -> bool:
        return self.method in ("POST", "PUT", "DELETE", "PATCH") and not self.is_token

    @property
    def is_token(self) -> bool:
        return self.path.rstrip("/").endswith("/auth/token")

    @property
    def is_data(self) -> bool:
        """A FHIR data interaction (not the token endpoint, metadata or discovery)."""
        p = self.path
        return not (self.is_token or p.startswith("/metadata") or p.startswith("/.well-known"))

    @property
    def payload_key(self) -> str:
        """Identifies 'the same request' for retry and resend rules: method, URL and body."""
        if self._key is None:
            h = hashlib.sha256()
            for part in (self.method.encode(), self.path.encode(), self.query.encode(), self.body):
                h.update(part)
                h.update(b"\0")
            self._key = h.hexdigest()
        return self._key

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The parsed body (parsed once: every check reads it); None when it is not JSON."""
        if self._parsed is None and self.body:
            try:
                self._parsed = orjson.loads(self.body)
            except orjson.JSONDecodeError:
                self._parsed = False
        return self._parsed or None

    def url(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")

    def summary(self) -> str:
        """The console line; a secret sent in the query string (client_secret, access_token) is masked."""
        tag = f" [{self.scenario}]" if self.scenario else ""
        return f"#{self.seq} t={self.t:.2f}s {self.method} {redact_text(unquote(self.url()))[:120]} → {self.status}{tag}"

    def to_evidence(self, body_limit: int = 4096) -> dict[str, Any]:
        """Redacted and truncated, with the keys of `client.evidence.Exchange` (the reports read them)."""
        return {
            "seq": self.seq,
            "t": round(self.t, 3),
            "received": self.received,
            "client": self.client,
            "method": self.method,
            "url": redact_text(self.url()),
            "request_headers": redact_headers(self.headers),
            "request_bytes": max(self.size, len(self.body)),
            "request_sha256": hashlib.sha256(self.body).hexdigest(),
            "request_body": body_text(self.body, body_limit),
            "status": self.status,
            "response_headers": redact_headers(self.response_headers),
            "response_body": body_text(self.response_body, body_limit),
            "elapsed_ms": 0.0,
            "scenario": self.scenario,
        }


# ---------------------------------------------------------------------- the durable journal
JOURNAL_VERSION = 1


def _journal_headers(headers: dict[str, str]) -> dict[str, str]:
    """Secrets out, but the auth scheme kept: the token-flow criterion reads `Bearer `."""
    out: dict[str, str] = {}
    for key, value in headers.items():
        if key == "authorization":
            scheme = value.split(" ", 1)[0] if value.strip() else ""
            out[key] = f"{scheme} {REDACTED}" if scheme else REDACTED
        elif key in SECRET_HEADERS:
            out[key] = REDACTED
        else:
            out[key] = redact_text(value)
    return out


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def journal_line(rec: Recorded) -> bytes:
    """One exchange as the journal keeps it: all the criteria read, without the secrets.

    Data bodies stay whole (the criteria judge them); the token endpoint's form, the query string
    and secret headers are redacted like the evidence.
    """
    body = redact_text(rec.body.decode("utf-8", errors="replace")).encode() if rec.is_token else rec.body
    return (
        orjson.dumps(
            {
                "v": JOURNAL_VERSION,
                "seq": rec.seq,
                "t": rec.t,
                "received": rec.received,
                "method": rec.method,
                "path": rec.path,
                "query": redact_text(rec.query),
                "headers": _journal_headers(rec.headers),
                "body": _b64(body),
                "size": rec.size,
                "status": rec.status,
                "response_headers": _journal_headers(rec.response_headers),
                "response_body": _b64(rec.response_body),
                "scenario": rec.scenario,
                "client": rec.client,
            }
        )
        + b"\n"
    )


def record_from_journal(row: dict[str, Any]) -> Recorded:
    return Recorded(
        seq=int(row["seq"]),
        t=float(row["t"]),
        received=str(row["received"]),
        method=str(row["method"]),
        path=str(row["path"]),
        query=str(row["query"]),
        headers={str(k): str(v) for k, v in dict(row["headers"]).items()},
        body=base64.b64decode(row["body"]),
        status=int(row["status"]),
        response_headers={str(k): str(v) for k, v in dict(row["response_headers"]).items()},
        response_body=base64.b64decode(row["response_body"]),
        scenario=row.get("scenario"),
        client=row.get("client"),
        size=int(row.get("size") or 0),
    )


class Journal:
    """Append-only file of completed exchanges, each fsynced before the client sees its answer's end,
    so a session killed outright (kill -9, power loss) loses no exchange a client saw completed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = path.open("ab")
        _fsync_dir(path.parent)

    def append(self, rec: Recorded) -> None:
        self._fh.write(journal_line(rec))
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()


def _fsync_dir(folder: Path) -> None:
    """Make a new file's directory entry durable too (a fsynced file can vanish with its entry)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_journal(path: Path) -> tuple[list[Recorded], list[int]]:
    """The exchanges of a journal, and the line numbers that could not be read.

    Only the last line can be torn by a kill in the middle of a write; any other unreadable line is
    named too, never silently dropped.
    """
    records: list[Recorded] = []
    bad: list[int] = []
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise UserError(
            Text("Không đọc được nhật ký phiên: {e}", "cannot read the session journal: {e}").format(
                e=exc.strerror or exc
            ),
            location=str(path),
        ) from None
    with fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                records.append(record_from_journal(orjson.loads(line)))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                bad.append(n)
    records.sort(key=lambda r: r.seq)
    return records, bad


def _outcome(code: str, text: Text, expression: str | None = None) -> bytes:
    issue: dict[str, Any] = {
        "severity": "error",
        "code": code,
        "details": {"text": text.both()},
        "diagnostics": text.en,
    }
    if expression:
        issue["expression"] = [expression]
    return orjson.dumps({"resourceType": "OperationOutcome", "issue": [issue]})


def _refused_path(rec: Recorded) -> str | None:
    """Where the refused resource is: the first entry of a Bundle, else the resource itself."""
    data = rec.json()
    if not isinstance(data, dict):
        return None
    if data.get("resourceType") == "Bundle":
        return "Bundle.entry[0].resource" if data.get("entry") else None
    return str(data.get("resourceType") or "") or None


class Session:
    """Everything recorded in one listening session, shared between the event loop and the caller."""

    def __init__(
        self, scenarios: ScenarioConfig, max_body_bytes: int, journal: Journal | None = None
    ) -> None:
        self.scenarios = scenarios
        self.journal = journal
        self.journal_error: str | None = None
        self.max_body_bytes = max_body_bytes
        self.started = time.monotonic()
        self.started_iso = datetime.now(VN_TZ).isoformat(timespec="seconds")
        self.records: list[Recorded] = []
        self.internal_key = hashlib.sha256(str(time.time_ns()).encode()).hexdigest()[:24]
        self._lock = threading.Lock()
        self._writes = 0
        self._outage_start: float | None = None
        self._rejected = False

    def snapshot(self) -> list[Recorded]:
        with self._lock:
            return list(self.records)

    def add(self, rec: Recorded) -> None:
        with self._lock:
            rec.seq = len(self.records) + 1
            self.records.append(rec)
            if self.journal is not None:
                try:
                    self.journal.append(rec)
                except OSError as exc:  # e.g. a full disk: keep serving, say the journal stopped
                    self.journal_error = f"{exc.strerror or exc} ({self.journal.path})"
                    self.journal.close()
                    self.journal = None

    def scenario_answer(self, rec: Recorded) -> tuple[int, dict[str, str], bytes] | None:
        """The scenario's own answer to this request, or None to let the server answer."""
        sc = self.scenarios
        if not sc.names or not rec.is_write:
            return None
        retry = str(sc.retry_after_s)
        with self._lock:
            self._writes += 1
            n = self._writes
            now = time.monotonic()
            if "outage" in sc.names:
                if self._outage_start is None:
                    self._outage_start = now
                if now - self._outage_start < sc.outage_s:
                    rec.scenario = "outage"
                    return (
                        503,
                        {"Retry-After": retry},
                        _outcome(
                            "transient",
                            Text(
                                "Nền tảng tạm ngừng phục vụ (kịch bản outage).",
                                "The platform is unavailable (outage scenario).",
                            ),
                        ),
                    )
            if "throttle" in sc.names and (n - 1) % max(1, sc.throttle_every) == 0:
                rec.scenario = "throttle"
                return (
                    429,
                    {"Retry-After": retry},
                    _outcome(
                        "throttled",
                        Text(
                            "Quá nhiều yêu cầu (kịch bản throttle).", "Too many requests (throttle scenario)."
                        ),
                    ),
                )
            if "reject-invalid" in sc.names and not self._rejected:
                self._rejected = True
                rec.scenario = "reject-invalid"
                return (
                    422,
                    {},
                    _outcome(
                        "processing",
                        Text(
                            "Tài nguyên bị từ chối (kịch bản reject-invalid): sửa dữ liệu rồi gửi bản mới.",
                            "Resource refused (reject-invalid scenario): correct the data and send a new version.",
                        ),
                        _refused_path(rec),
                    ),
                )
        return None


class RecordingApp:
    """ASGI wrapper: records every HTTP exchange into a :class:`Session` and applies scenarios."""

    def __init__(self, inner: Any, session: Session) -> None:
        self.inner = inner
        self.session = session

    @property
    def state(self) -> Any:  # ReferenceServer reaches the server state through app.state
        return self.inner.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if headers.get(INTERNAL_HEADER) == self.session.internal_key:
            await self.inner(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        cap = self.session.max_body_bytes + (1 << 20)  # keep enough to prove an oversize body, not more
        more = True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            size += len(chunk)
            if sum(len(c) for c in chunks) < cap:
                chunks.append(chunk)
            more = msg.get("more_body", False)
        body = b"".join(chunks)
        client = scope.get("client")
        rec = Recorded(
            seq=0,
            t=time.monotonic() - self.session.started,
            received=datetime.now(VN_TZ).isoformat(timespec="milliseconds"),
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=body,
            client=f"{client[0]}" if client else None,
        )
        rec.size = size
        answer = self.session.scenario_answer(rec)
        if answer is not None:
            status, extra, payload = answer
            rec.status, rec.response_body = status, payload
            rec.response_headers = {
                "content-type": "application/fhir+json; charset=utf-8",
                **{k.lower(): v for k, v in extra.items()},
            }
            self.session.add(rec)
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(k.lower().encode(), v.encode()) for k, v in rec.response_headers.items()],
                }
            )
            await send({"type": "http.response.body", "body": payload})
            return
        sent_body = False

        async def replay() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        out: list[bytes] = []
        added = False

        def finish() -> None:
            """Store the exchange before the client sees the end of the response, so a session
            ended right after the client's last answer still holds that request."""
            nonlocal added
            if added:
                return
            added = True
            raw = b"".join(out)
            if rec.response_headers.get("content-encoding") == "gzip":
                try:  # a stream decoder: the kept prefix of a long answer may end mid-stream
                    raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, 65536)
                except zlib.error:
                    raw = b""
            rec.response_body = raw
            self.session.add(rec)

        async def capture(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                rec.status = int(msg["status"])
                rec.response_headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1") for k, v in msg.get("headers", [])
                }
            elif msg["type"] == "http.response.body":
                if sum(len(b) for b in out) < 65536:
                    out.append(msg.get("body", b""))
                if not msg.get("more_body", False):
                    finish()
            await send(msg)

        try:
            await self.inner(scope, replay, capture)
        finally:
            finish()
