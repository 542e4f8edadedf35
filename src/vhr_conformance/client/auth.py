"""Authentication for the target: none, a bearer token, OAuth2 client credentials, SMART backend services.

Secrets come from environment variables or a config file (YAML/JSON), never from the command line,
so they do not land in shell history, process lists or the run manifest.
"""

from __future__ import annotations

import json
import os
import ssl
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from vhr_conformance.client.tls import verify_context
from vhr_conformance.i18n import Text, UserError

AUTH_MODES = ("none", "bearer", "client-credentials", "smart-backend")


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
            try:
                text = path.read_text(encoding="utf-8")
                data = (json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)) or {}
            except (OSError, ValueError, yaml.YAMLError) as exc:
                raise UserError(
                    Text(
                        "Không đọc được tệp cấu hình xác thực: {e}", "Cannot read the auth config file: {e}"
                    ).format(e=exc),
                    location=str(path),
                ) from None
            if not isinstance(data, dict):
                raise UserError(
                    Text("Tệp cấu hình phải là một đối tượng.", "Config file must be a mapping."),
                    location=str(path),
                )

        def pick(key: str, env_name: str) -> str | None:
            return env.get(env_name) or data.get(key)

        key_pem = pick("private_key", "VHR_PRIVATE_KEY")
        key_file = pick("private_key_file", "VHR_PRIVATE_KEY_FILE")
        if not key_pem and key_file:
            try:
                key_pem = Path(key_file).expanduser().read_text(encoding="utf-8")
            except OSError as exc:
                raise UserError(
                    Text("Không đọc được khóa riêng: {e}", "Cannot read the private key: {e}").format(e=exc),
                    location=key_file,
                ) from None
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
        resp = httpx.get(url, timeout=self.timeout, verify=self.verify)
        resp.raise_for_status()
        self.config.token_url = str(resp.json()["token_endpoint"])
        return self.config.token_url

    def _fetch(self) -> tuple[str, float]:
        url = self._token_url()
        form = {"grant_type": "client_credentials", "scope": self.config.scope}
        auth: tuple[str, str] | None = None
        if self.config.mode == "client-credentials":
            auth = (self.config.client_id or "", self.config.client_secret or "")
        else:
            form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            form["client_assertion"] = self.client_assertion(url)
        resp = httpx.post(url, data=form, auth=auth, timeout=self.timeout, verify=self.verify)
        if resp.status_code != 200:
            raise UserError(
                Text(
                    "Máy chủ cấp token từ chối ({s}).", "The token endpoint refused the request ({s})."
                ).format(s=resp.status_code),
                location=url,
            )
        body = resp.json()
        return str(body["access_token"]), float(body.get("expires_in", 300))

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
