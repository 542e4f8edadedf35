"""Authentication for the target: none, a bearer token, OAuth2 client credentials, SMART backend services.

Secrets come from environment variables or a config file (YAML/JSON), never from the command line,
so they do not land in shell history, process lists or the run manifest.
"""

from __future__ import annotations

import os
import ssl
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import orjson

from vhr_conformance.client.bounds import (
    ACCEPT_ENCODING,
    MB,
    BodyReader,
    BoundExceeded,
    Budget,
    Limits,
    budget_scope,
    install_backend,
    run_deadline,
)
from vhr_conformance.client.tls import verify_context
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.yamlsrc import parse_located, read_text_file

AUTH_MODES = ("none", "bearer", "client-credentials", "smart-backend")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(scheme)


def read_config_file(path: Path) -> Any:
    """A YAML or JSON file a user wrote, with the limits of :mod:`yamlsrc` (size, binary, UTF-8,
    aliases, depth); every problem is a located bilingual error."""
    text = read_text_file(path)
    if path.suffix.lower() != ".json":
        return parse_located(text, str(path)).data
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:  # orjson also refuses nesting deeper than 1024
        line, col = exc.lineno, exc.colno
        raise UserError(
            Text("JSON không hợp lệ: {e}", "invalid JSON: {e}").format(e=exc.msg),
            location=f"{path}:{line}:{col}",
        ) from None


@dataclass
class AuthConfig:
    """Where credentials come from. Values are read lazily from env vars or the config file."""

    mode: str = "none"
    token: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    private_key_pem: str | None = None
    key_id: str | None = None
    algorithm: str = "RS384"
    scope: str = "system/*.read system/*.write"
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, mode: str, config_file: str | None = None, env: dict[str, str] | None = None) -> AuthConfig:
        env = dict(os.environ if env is None else env)
        if mode not in AUTH_MODES:
            raise UserError(
                Text(
                    "Chế độ xác thực không hợp lệ: {m} (chọn {all}).",
                    "Unknown auth mode: {m} (choose {all}).",
                ).format(m=mode, all=", ".join(AUTH_MODES)),
                location="--vhr-auth",
            )
        data: dict[str, Any] = {}
        if config_file:
            path = Path(config_file).expanduser()
            data = read_config_file(path) or {}
            if not isinstance(data, dict):
                raise UserError(
                    Text("Tệp cấu hình phải là một đối tượng.", "Config file must be a mapping."),
                    location=str(path),
                )

        def pick(key: str, env_name: str) -> str | None:
            return env.get(env_name) or data.get(key)

        key_pem = pick("private_key", "VHR_PRIVATE_KEY")
        key_file = pick("private_key_file", "VHR_PRIVATE_KEY_FILE")
        if not key_pem and key_file:  # bounded, UTF-8, and a FIFO (`<(vault read …)`) waited on, not hung on
            key_pem = read_text_file(Path(str(key_file)).expanduser(), max_bytes=64 * 1024)
        cfg = cls(
            mode=mode,
            token=pick("token", "VHR_TOKEN"),
            token_url=pick("token_url", "VHR_TOKEN_URL"),
            client_id=pick("client_id", "VHR_CLIENT_ID"),
            client_secret=pick("client_secret", "VHR_CLIENT_SECRET"),
            private_key_pem=key_pem,
            key_id=pick("key_id", "VHR_KEY_ID"),
            algorithm=pick("algorithm", "VHR_KEY_ALG") or "RS384",
            scope=pick("scope", "VHR_SCOPE") or "system/*.read system/*.write",
            extra={
                "limited_token": pick("limited_token", "VHR_LIMITED_TOKEN"),
                "limited_client_id": pick("limited_client_id", "VHR_LIMITED_CLIENT_ID"),
                "limited_client_secret": pick("limited_client_secret", "VHR_LIMITED_CLIENT_SECRET"),
                "limited_scope": pick("limited_scope", "VHR_LIMITED_SCOPE") or "system/*.read",
            },
        )
        cfg.check()
        return cfg

    def check(self) -> None:
        missing: list[str] = []
        if self.mode == "bearer" and not self.token:
            missing.append("VHR_TOKEN / token")
        if self.mode == "client-credentials":
            missing += [
                n
                for n, v in (
                    ("VHR_CLIENT_ID / client_id", self.client_id),
                    ("VHR_CLIENT_SECRET / client_secret", self.client_secret),
                )
                if not v
            ]
        if self.mode == "smart-backend":
            missing += [
                n
                for n, v in (
                    ("VHR_CLIENT_ID / client_id", self.client_id),
                    ("VHR_PRIVATE_KEY_FILE / private_key_file", self.private_key_pem),
                )
                if not v
            ]
        if missing:
            raise UserError(
                Text(
                    "Thiếu thông tin xác thực cho chế độ {m}: {x}",
                    "Missing credentials for auth mode {m}: {x}",
                ).format(m=self.mode, x=", ".join(missing)),
                location="--vhr-auth",
            )

    def public(self) -> dict[str, Any]:
        """What may be written to the manifest: never a secret."""
        return {
            "mode": self.mode,
            "token_url": self.token_url,
            "client_id": self.client_id,
            "scope": self.scope,
            "key_id": self.key_id,
            "algorithm": self.algorithm if self.mode == "smart-backend" else None,
        }


def limited_provider(
    config: AuthConfig,
    discover_base: str | None,
    timeout: float = 10.0,
    verify: bool | ssl.SSLContext | None = None,
) -> TokenProvider | None:
    """Credentials with a narrower scope (read-only), to check the server enforces scopes."""
    extra = config.extra
    if extra.get("limited_token"):
        return TokenProvider(
            AuthConfig(mode="bearer", token=extra["limited_token"]), discover_base, timeout, verify
        )
    if extra.get("limited_client_id") and extra.get("limited_client_secret"):
        cfg = AuthConfig(
            mode="client-credentials",
            token_url=config.token_url,
            client_id=extra["limited_client_id"],
            client_secret=extra["limited_client_secret"],
            scope=extra.get("limited_scope") or "system/*.read",
        )
        return TokenProvider(cfg, discover_base, timeout, verify)
    return None


class TokenProvider:
    """Gets and caches an access token for the configured mode."""

    def __init__(
        self,
        config: AuthConfig,
        discover_base: str | None = None,
        timeout: float = 10.0,
        verify: bool | ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self.discover_base = discover_base
        self.timeout = timeout
        # None/True: the named CA bundle (VHR_CA_BUNDLE) or the public roots; verification stays on
        self.verify: bool | ssl.SSLContext = verify_context() if verify is None or verify is True else verify
        self._token: str | None = config.token if config.mode == "bearer" else None
        self._expires = float("inf") if self._token else 0.0

    @property
    def enabled(self) -> bool:
        return self.config.mode != "none"

    @property
    def expires_at(self) -> float:
        """When the cached token expires (epoch seconds; 0 before the first token)."""
        return self._expires

    def token(self) -> str | None:
        if not self.enabled:
            return None
        if self._token and time.time() < self._expires - 30:
            return self._token
        self._token, lifetime = self._fetch()
        self._expires = time.time() + lifetime
        return self._token

    def _token_url(self) -> str:
        if self.config.token_url:
            return self.config.token_url
        if not self.discover_base:
            raise UserError(Text("Thiếu token_url.", "token_url is missing."), location="--vhr-auth-config")
        url = self.discover_base.rstrip("/") + "/.well-known/smart-configuration"
        status, body = self._call("GET", url)
        endpoint = body.get("token_endpoint") if isinstance(body, dict) else None
        if status != 200 or not isinstance(endpoint, str) or not endpoint:
            raise UserError(
                Text(
                    "Không tìm được token_endpoint ({s}); hãy đặt token_url.",
                    "No token_endpoint found ({s}); set token_url.",
                ).format(s=status),
                location=url,
            )
        endpoint = urljoin(url, endpoint)
        if _origin(endpoint) != _origin(self.discover_base):
            # The credentials would go wherever the target says: only where the user said so.
            raise UserError(
                Text(
                    "token_endpoint do máy chủ đích công bố ({e}) nằm ngoài origin của nó; không gửi thông tin "
                    "xác thực tới đó. Nếu tin cậy, hãy đặt token_url trong tệp cấu hình xác thực.",
                    "the token_endpoint the target announces ({e}) is off its origin; no credentials are sent "
                    "there. If you trust it, set token_url in the auth config file.",
                ).format(e=endpoint),
                location=url,
            )
        self.config.token_url = endpoint
        return self.config.token_url

    def _call(self, method: str, url: str, **kw: Any) -> tuple[int, Any]:
        """One bounded exchange with the authorization server: (status, parsed JSON or None).

        The same bounds as the FHIR client (deadline, transfer rate, 1 MB body), so a hostile token
        endpoint cannot hang or bloat the run either.
        """
        limits = Limits(max_body_bytes=MB, max_decoded_bytes=MB, request_deadline=max(self.timeout * 2, 5.0))
        transport = httpx.HTTPTransport(verify=self.verify)
        install_backend(transport)
        ends = [time.monotonic() + limits.request_deadline, run_deadline() or float("inf")]
        budget = Budget(min(ends), limits.min_rate, limits.rate_window)
        try:
            with httpx.Client(transport=transport, timeout=self.timeout) as http, budget_scope(budget):
                kw.setdefault("headers", {})["Accept-Encoding"] = ACCEPT_ENCODING
                with http.stream(method, url, **kw) as raw:
                    reader = BodyReader(raw.headers.get("content-encoding", ""), limits)
                    for chunk in raw.iter_raw():
                        reader.feed(chunk)
                    status = raw.status_code
        except (httpx.HTTPError, BoundExceeded) as exc:
            reason = exc.text if isinstance(exc, BoundExceeded) else (budget.reason or None)
            detail = reason.both() if reason else f"{type(exc).__name__}: {exc}"
            raise UserError(
                Text(
                    "Không liên lạc được máy chủ cấp quyền: {e}", "Cannot reach the authorization server: {e}"
                ).format(e=detail),
                location=url,
            ) from None
        try:
            return status, orjson.loads(bytes(reader.body)) if reader.body else None
        except orjson.JSONDecodeError:
            return status, None

    def _fetch(self) -> tuple[str, float]:
        url = self._token_url()
        form = {"grant_type": "client_credentials", "scope": self.config.scope}
        auth: tuple[str, str] | None = None
        if self.config.mode == "client-credentials":
            auth = (self.config.client_id or "", self.config.client_secret or "")
        else:
            form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            form["client_assertion"] = self.client_assertion(url)
        status, body = self._call("POST", url, data=form, auth=auth)
        if status != 200:
            raise UserError(
                Text(
                    "Máy chủ cấp token từ chối ({s}).", "The token endpoint refused the request ({s})."
                ).format(s=status),
                location=url,
            )
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise UserError(
                Text(
                    "Máy chủ cấp token trả lời không có access_token.",
                    "The token endpoint answered without an access_token.",
                ),
                location=url,
            )
        try:
            lifetime = float(body.get("expires_in", 300))
        except (TypeError, ValueError):
            lifetime = 300.0
        return token, lifetime if lifetime == lifetime and lifetime > 0 else 300.0

    def client_assertion(self, token_url: str) -> str:
        """A signed JWT as SMART Backend Services asks (iss = sub = client id, aud = token URL)."""
        import jwt

        now = int(time.time())
        claims = {
            "iss": self.config.client_id,
            "sub": self.config.client_id,
            "aud": token_url,
            "exp": now + 300,
            "iat": now,
            "jti": uuid.uuid4().hex,
        }
        headers = {"kid": self.config.key_id} if self.config.key_id else None
        return jwt.encode(
            claims, self.config.private_key_pem or "", algorithm=self.config.algorithm, headers=headers
        )
