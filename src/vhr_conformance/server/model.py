"""The small value types the server's layers pass to each other: its configuration, who is
calling, and what an interaction answers (before the HTTP layer turns it into a response)."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vhr_conformance.server.auth import Client
from vhr_conformance.server.faults import ActiveFaults
from vhr_conformance.server.store import Stored

DEFAULT_AUDIT_RETENTION = "3650d"
DEFAULT_AUDIT_RETENTION_S = 3650 * 86400.0  # ten years: the default a deployment declares otherwise


@dataclass
class ServerConfig:
    """Everything that shapes one server instance (picklable to JSON for worker processes)."""

    db: str = ":memory:"
    auth: str = "none"
    faults: ActiveFaults = field(default_factory=ActiveFaults)
    latency_ms: int = 1500
    max_body_bytes: int = 20 * 1024 * 1024
    rate_limit: float | None = None  # requests per second per client; None = off
    rate_burst: float | None = None
    clients: tuple[Client, ...] = ()
    token_secret: str | None = None
    base_url: str | None = None
    validate: bool = True
    random_seed: int = 7
    audit_retention_s: float = DEFAULT_AUDIT_RETENTION_S  # audit rows older than this are purged


@dataclass
class Result:
    """What one interaction answers: status, body (a resource or ready JSON bytes), headers."""

    status: int
    body: dict[str, Any] | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    stored: Stored | None = None


@dataclass
class Caller:
    """Who is calling, for scopes and the audit log."""

    client: str | None
    address: str | None
    scopes: list[Any] | None  # None: no authorization in force
    registered: Client | None = None  # the registered client (category, organisation) when known


def http_date(instant: str) -> str:
    return email.utils.format_datetime(datetime.fromisoformat(instant), usegmt=True)


REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
"""Reason phrases for a Bundle entry's ``response.status``."""
