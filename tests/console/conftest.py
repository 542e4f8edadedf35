"""A console on a fresh SQLite file in a temporary folder, with a ministry key and users."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from cryptography.fernet import Fernet
from starlette.testclient import TestClient

from vhr_conformance.console import security, services
from vhr_conformance.console.app import create_app
from vhr_conformance.console.db import make_engine, sessions
from vhr_conformance.console.worker import Settings
from vhr_conformance.evidence.keys import SigningKey, TrustedKey, generate, load_signing_key

PASSWORD = "correct horse battery"
USERS = {
    "bo-yte": ("ministry", None),
    "tham-dinh": ("reviewer", None),
    "vendor-a": ("vendor", "Công ty A"),
    "vendor-b": ("vendor", "Công ty B"),
}


@dataclass
class Env:
    app: object
    url: str
    data: Path
    key: SigningKey
    trust: list[TrustedKey]
    settings: Settings

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://127.0.0.1")  # type: ignore[arg-type]

    def sessions(self):  # type: ignore[no-untyped-def]
        return sessions(make_engine(self.url))()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login", data={"csrf": token, "name": name, "password": password}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/").text)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    # argon2id still, with cheap parameters: the tests hash a password per user and per login.
    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setenv("VHR_CONSOLE_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("VHR_CONSOLE_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("VHR_CONSOLE_SIGN_KEY", raising=False)
    pem, _trust = generate(tmp_path / "ministry.pem", "Bộ Y tế — thử", "ministry")
    key = load_signing_key(pem)
    trust = [TrustedKey(key.name, key.role, key.public)]
    url = f"sqlite:///{tmp_path / 'console.db'}"
    settings = Settings(data_dir=tmp_path / "data", sign_key=key)
    app = create_app(url, settings=settings, sign_key=key, trust=trust)
    with sessions(make_engine(url))() as s:
        for name, (role, org) in USERS.items():
            services.create_user(s, "test", name, role, org, PASSWORD)
    yield Env(app, url, tmp_path / "data", key, trust, settings)
