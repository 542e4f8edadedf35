"""OAuth2 for the reference server: client credentials and SMART Backend Services, scopes,
and a token-bucket rate limiter.

Access tokens are JWTs signed with the server's own HMAC secret, so several worker processes that
share the secret can all check them without shared state.
"""

from __future__ import annotations

import math
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import orjson
import yaml

from vhr_conformance.i18n import Text, UserError
from vhr_conformance.server.faults import ActiveFaults

TOKEN_LIFETIME = 3600
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ["RS384", "ES384", "RS256", "ES256"]
CARE_PROVIDER = "care-provider"
INSURER = "insurer"
CATEGORIES = (CARE_PROVIDER, INSURER, "authority", "other")
_SCOPE_RE = re.compile(r"^(system|user|patient)/([A-Za-z]+|\*)\.(read|write|\*|[cruds]+)$")


@dataclass(frozen=True)
class Client:
    """A registered client: a shared secret, a public key for JWT assertions, or both."""

    client_id: str
    scopes: tuple[str, ...]
    secret: str | None = None
    public_key: str | None = None  # PEM, for SMART Backend Services (private_key_jwt)
    # Who the client is, for consent (docs/server.md "Consent"): an insurer sees a patient's data
    # only with that patient's written consent naming its Organization.
    category: str = CARE_PROVIDER
    organization: str | None = None  # "Organization/{id}" of the client's organisation


# Test clients every `vhr serve --auth oauth` knows; a clients file can replace them.
DEFAULT_CLIENTS = (
    Client("vhr-test-admin", ("system/*.*",), secret="vhr-test-admin-secret"),
    Client("vhr-test-reader", ("system/*.read",), secret="vhr-test-reader-secret"),
    Client(
        "vhr-test-patient-writer",
        ("system/Patient.read", "system/Patient.write"),
        secret="vhr-test-patient-writer-secret",
    ),
)


def load_clients(path: str | Path) -> tuple[Client, ...]:
    """Read clients from a YAML/JSON list of {client_id, scopes, client_secret?, public_key?,
    category?, organization?}."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(
            Text("Không đọc được tệp client: {e}", "Cannot read the clients file: {e}").format(e=exc),
            location=str(p),
        ) from None
    if isinstance(data, dict):
        data = data.get("clients")
    if not isinstance(data, list):
        raise UserError(
            Text("Tệp client phải là một danh sách.", "The clients file must hold a list."), location=str(p)
        )
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not item.get("client_id"):
            raise UserError(
                Text("Client thiếu client_id.", "Client without client_id."), location=f"{p}[{i}]"
            )
        category = str(item.get("category") or CARE_PROVIDER)
        if category not in CATEGORIES:
            raise UserError(
                Text(
                    "Loại tổ chức không hợp lệ: {c} (một trong {a})", "Unknown category: {c} (one of {a})"
                ).format(c=category[:40], a=", ".join(CATEGORIES)),
                location=f"{p}[{i}].category",
            )
        organization = item.get("organization")
        if organization is not None and not str(organization).startswith("Organization/"):
            raise UserError(
                Text(
                    "organization phải có dạng Organization/{id}.", "organization must be Organization/{id}."
                ),
                location=f"{p}[{i}].organization",
            )
        key = item.get("public_key")
        if key and not str(key).lstrip().startswith("-----BEGIN"):
            key = (p.parent / key).read_text(encoding="utf-8")
        out.append(
            Client(
                str(item["client_id"]),
                tuple(item.get("scopes") or ("system/*.read",)),
                secret=item.get("client_secret"),
                public_key=key,
                category=category,
                organization=str(organization) if organization is not None else None,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Scope:
    context: str
    resource: str
    perms: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> Scope | None:
        m = _SCOPE_RE.match(text)
        if not m:
            return None
        ctx, rtype, perm = m.groups()
        if perm == "read":
            perms = frozenset("rs")
        elif perm == "write":
            perms = frozenset("cud")
        elif perm == "*":
            perms = frozenset("cruds")
        else:
            perms = frozenset(perm)
        return cls(ctx, rtype, perms)

    def covers(self, other: Scope) -> bool:
        return (
            self.context == other.context
            and (self.resource == "*" or self.resource == other.resource)
            and other.perms <= self.perms
        )

    def allows(self, resource_type: str, perm: str) -> bool:
        return self.context == "system" and self.resource in ("*", resource_type) and perm in self.perms


def grant(requested: str | None, allowed: tuple[str, ...]) -> list[str]:
    """The requested scopes the client may have (all its scopes when it asks for none)."""
    allowed_scopes = [s for s in (Scope.parse(a) for a in allowed) if s]
    if not requested:
        return list(allowed)
    out = []
    for text in requested.split():
        scope = Scope.parse(text)
        if scope and any(a.covers(scope) for a in allowed_scopes):
            out.append(text)
    return out


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass
class Authority:
    """Issues and checks access tokens."""

    clients: dict[str, Client]
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    faults: ActiveFaults = field(default_factory=ActiveFaults)
    _seen_jti: dict[str, float] = field(default_factory=dict)

    @property
    def _lifetime_bound(self) -> bool:
        """False under the `token-without-exp-accepted` fault: tokens are issued and taken without `exp`."""
        return not self.faults.token_without_exp_accepted

    def token(self, form: dict[str, str], basic: tuple[str, str] | None, token_url: str) -> dict[str, Any]:
        if form.get("grant_type") != "client_credentials":
            raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials")
        client = self._authenticate(form, basic, token_url)
        scopes = grant(form.get("scope"), client.scopes)
        if not scopes:
            raise OAuthError("invalid_scope", "none of the requested scopes is allowed for this client")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": token_url,
            "sub": client.client_id,
            "scope": " ".join(scopes),
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "jti": uuid.uuid4().hex,
        }
        answer: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": TOKEN_LIFETIME,
            "scope": claims["scope"],
        }
        if not self._lifetime_bound:
            del claims["exp"], answer["expires_in"]
        return {"access_token": jwt.encode(claims, self.secret, algorithm="HS256"), **answer}

    def _authenticate(self, form: dict[str, str], basic: tuple[str, str] | None, token_url: str) -> Client:
        if form.get("client_assertion_type") == ASSERTION_TYPE and form.get("client_assertion"):
            return self._check_assertion(form["client_assertion"], token_url)
        client_id, secret = basic if basic else (form.get("client_id", ""), form.get("client_secret", ""))
        client = self.clients.get(client_id)
        if (
            client is None
            or not client.secret
            or not secret
            or not secrets.compare_digest(client.secret, secret)
        ):
            raise OAuthError("invalid_client", "client authentication failed", 401)
        return client

    def _check_assertion(self, assertion: str, token_url: str) -> Client:
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise OAuthError("invalid_client", "client assertion is not a JWT", 401) from None
        client = self.clients.get(str(unverified.get("iss", "")))
        if client is None or not client.public_key:
            raise OAuthError("invalid_client", "unknown client or no registered key", 401)
        required = (
            ["exp", "iss", "sub", "jti", "aud"] if self._lifetime_bound else ["iss", "sub", "jti", "aud"]
        )
        try:
            claims = jwt.decode(
                assertion,
                client.public_key,
                algorithms=ASSERTION_ALGORITHMS,
                audience=token_url,
                options={"require": required},
            )
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_client", f"client assertion rejected: {exc}", 401) from None
        if claims["sub"] != claims["iss"]:
            raise OAuthError("invalid_client", "client assertion sub must equal iss", 401)
        now = time.time()
        expires = float(claims.get("exp", now + 300))
        if expires > now + 300:
            raise OAuthError("invalid_client", "client assertion lives longer than 5 minutes", 401)
        self._seen_jti = {k: v for k, v in self._seen_jti.items() if v > now}
        if claims["jti"] in self._seen_jti:
            raise OAuthError("invalid_client", "client assertion jti was already used", 401)
        self._seen_jti[claims["jti"]] = expires
        return client

    def check(self, authorization: str | None, token_url: str) -> tuple[str, list[Scope]] | None:
        """(client id, scopes) of a valid bearer token, else None.

        A token must carry `exp` (a token without one would be valid forever), be issued by this
        server's token endpoint (`iss`), and name a client that is still registered (`sub`)."""
        if not authorization or authorization[:7].lower() != "bearer ":
            return None
        required = ["exp", "iss", "sub"] if self._lifetime_bound else ["iss", "sub"]
        try:
            claims = jwt.decode(
                authorization[7:].strip(),
                self.secret,
                algorithms=["HS256"],
                issuer=token_url,
                options={"require": required},
            )
        except jwt.PyJWTError:
            return None
        subject = claims.get("sub")
        if not isinstance(subject, str) or subject not in self.clients:
            return None
        scopes = [s for s in (Scope.parse(t) for t in str(claims.get("scope", "")).split()) if s]
        return subject, scopes


class RateLimiter:
    """Token bucket per client key: `rate` requests per second, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """0 if allowed, else seconds to wait (for Retry-After)."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.rate))


def dumps_clients(clients: tuple[Client, ...]) -> bytes:
    return orjson.dumps([c.__dict__ for c in clients])


def clients_from_json(data: bytes) -> tuple[Client, ...]:
    return tuple(
        Client(
            c["client_id"],
            tuple(c["scopes"]),
            c.get("secret"),
            c.get("public_key"),
            c.get("category", CARE_PROVIDER),
            c.get("organization"),
        )
        for c in orjson.loads(data)
    )
