"""A console on a fresh database (SQLite file; PostgreSQL too for the `any_env` tests), with a
ministry key and one user per role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from cryptography.fernet import Fernet
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.console.postgres import Server
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
    app: Starlette
    url: str
    data: Path
    key: SigningKey
    trust: list[TrustedKey]
    settings: Settings
    engine: Engine = field(init=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.url)

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://127.0.0.1")

    def sessions(self) -> Session:
        return sessions(self.engine)()


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


def _make(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    # argon2id still, with cheap parameters: the tests hash a password per user and per login.
    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setenv("VHR_CONSOLE_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("VHR_CONSOLE_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("VHR_CONSOLE_SIGN_KEY", raising=False)
    pem, _trust = generate(tmp_path / "ministry.pem", "Bộ Y tế — thử", "ministry")
    key = load_signing_key(pem)
    trust = [TrustedKey(key.name, key.role, key.public)]
    settings = Settings(data_dir=tmp_path / "data", sign_key=key)
    app = create_app(url, settings=settings, sign_key=key, trust=trust)
    out = Env(app, url, tmp_path / "data", key, trust, settings)
    with out.sessions() as s:
        for name, (role, org) in USERS.items():
            services.create_user(s, "test", name, role, org, PASSWORD)
    return out


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    server = Server()
    yield server
    server.stop()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    out = _make(f"sqlite:///{tmp_path / 'console.db'}", tmp_path, monkeypatch)
    yield out
    out.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_env(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """The same test on the embedded SQLite file and on a real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'console.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    out = _make(url, tmp_path, monkeypatch)
    yield out
    out.app.state.console.engine.dispose()
    out.engine.dispose()
