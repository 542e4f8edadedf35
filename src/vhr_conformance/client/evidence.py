"""Evidence of every HTTP exchange, kept small and free of secrets.

Reports show the request and response behind each failure. They are filed with the ministry, so
tokens, client secrets and cookies must never reach them, and bodies are cut to a size a reader
can use.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

REDACTED = "***"
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "x-auth-token"}
)
_SECRET_KEYS = (
    r"access_token|refresh_token|id_token|client_secret|client_assertion|password|private_key|token"
)
_JSON_SECRET = re.compile(rf'("(?:{_SECRET_KEYS})"\s*:\s*)"[^"]*"', re.IGNORECASE)
_FORM_SECRET = re.compile(rf"(?<![A-Za-z_])((?:{_SECRET_KEYS})=)[^&\s]*", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9\-._~+/=]+", re.IGNORECASE)
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*")

DEFAULT_BODY_LIMIT = 4096


def redact_text(text: str) -> str:
    """Remove tokens, secrets and JWTs from a body, URL or header value."""
    text = _JSON_SECRET.sub(rf'\1"{REDACTED}"', text)
    text = _FORM_SECRET.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    return _JWT.sub(REDACTED, text)


def redact_headers(headers: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in dict(headers).items():
        out[key] = REDACTED if key.lower() in SECRET_HEADERS else redact_text(str(value))
    return out


def truncate(text: str, limit: int = DEFAULT_BODY_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters cut / đã cắt {len(text) - limit} ký tự]"


def body_text(raw: bytes | str | None, limit: int = DEFAULT_BODY_LIMIT) -> str:
    if raw is None:
        return ""
    # Cut before decoding and redacting to bound the work (a body may be megabytes), then again
    # after in case redaction changed the length.
    text = raw[: limit * 4].decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw[: limit * 4]
    return truncate(redact_text(text), limit)


@dataclass
class Exchange:
    """One request and its response (or transport error), redacted and truncated."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    elapsed_ms: float = 0.0
    attempts: int = 1
    error: str | None = None
    started: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        status = self.status if self.status is not None else f"ERR {self.error}"
        return f"{self.method} {self.url} → {status} ({self.elapsed_ms:.0f} ms)"


@dataclass
class EvidenceLog:
    """Exchanges of the current test (reset per test) and timings of the whole run."""

    current: list[Exchange] = field(default_factory=list)
    timings: list[tuple[str, int | None, float]] = field(default_factory=list)
    infrastructure_retries: int = 0
    server_errors: list[str] = field(default_factory=list)
    sink: TextIO | None = None  # one summary line per exchange (the run's audit trail), when set
    context: str = ""  # the test (or fixture phase) the exchanges belong to

    def add(self, ex: Exchange) -> None:
        self.current.append(ex)
        if self.sink is not None:
            self.sink.write(
                json.dumps(
                    {
                        "t": round(ex.started, 3),
                        "test": self.context,
                        "method": ex.method,
                        "url": ex.url,
                        "status": ex.status,
                        "ms": round(ex.elapsed_ms, 1),
                        "attempt": ex.attempts,
                        "error": ex.error,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        self.timings.append((ex.method, ex.status, ex.elapsed_ms))
        if ex.status is not None and ex.status >= 500:
            self.server_errors.append(ex.summary())

    def take(self) -> list[Exchange]:
        out, self.current = self.current, []
        return out
