"""`vhr push` with every scheme of the shared client auth, from nothing but a `vhr.toml`, and its
tokens renewed before they expire."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from vhr_conformance.cli import app
from vhr_conformance.client.auth import AuthConfig
from vhr_conformance.i18n import UserError
from vhr_conformance.listen.push import Pusher, PushOptions, load_bundles
from vhr_conformance.server import ReferenceServer, auth
from vhr_conformance.server.auth import DEFAULT_CLIENTS, Client

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
PUBLIC_PEM = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


@pytest.fixture(autouse=True)
def _no_vhr_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("VHR_")]:
        monkeypatch.delenv(name)


def _push(tmp_path: Path, folder: Path, toml: str) -> str:
    path = tmp_path / "vhr.toml"
    path.write_text(toml, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["push", str(folder), "--config", str(path), "--limit", "1", "--corrections", "0"]
    )
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result.output


def test_push_with_a_bearer_token_named_in_vhr_toml(
    bundles_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ReferenceServer(auth="oauth") as srv:
        got = httpx.post(
            srv.base_url + "/auth/token",
            data={"grant_type": "client_credentials", "scope": "system/*.*"},
            auth=("vhr-test-admin", "vhr-test-admin-secret"),
        )
        monkeypatch.setenv("PUSH_TOKEN", got.json()["access_token"])
        toml = f'[target]\nurl = "{srv.base_url}"\n[auth]\nmode = "bearer"\ntoken_env = "PUSH_TOKEN"\n'
        output = _push(tmp_path, bundles_dir, toml)
        assert "sent: 1" in output and "rejected: 0" in output
        monkeypatch.setenv("PUSH_TOKEN", "not-a-token")
        path = tmp_path / "vhr.toml"
        refused = CliRunner().invoke(app, ["push", str(bundles_dir), "--config", str(path), "--limit", "1"])
    assert refused.exit_code == 1 and "HTTP 401" in refused.output


def test_push_as_a_smart_backend_client_named_in_vhr_toml(bundles_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "backend.pem").write_bytes(PRIVATE_PEM)
    clients = (*DEFAULT_CLIENTS, Client("backend", ("system/*.*",), public_key=PUBLIC_PEM))
    with ReferenceServer(auth="oauth", clients=clients) as srv:
        toml = (
            f'[target]\nurl = "{srv.base_url}"\n[auth]\nmode = "smart-backend"\nclient_id = "backend"\n'
            'private_key_file = "backend.pem"\nscope = "system/*.*"\n'
        )
        output = _push(tmp_path, bundles_dir, toml)
    assert "sent: 1" in output and "rejected: 0" in output


def test_an_unknown_client_stops_the_push_with_a_located_error(bundles_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "backend.pem").write_bytes(PRIVATE_PEM)
    with ReferenceServer(auth="oauth") as srv:  # no client "backend" registered
        (tmp_path / "vhr.toml").write_text(
            f'[target]\nurl = "{srv.base_url}"\n[auth]\nmode = "smart-backend"\nclient_id = "backend"\n'
            'private_key_file = "backend.pem"\n',
            encoding="utf-8",
        )
        result = CliRunner().invoke(app, ["push", str(bundles_dir), "--config", str(tmp_path / "vhr.toml")])
    error = result.exception
    assert isinstance(error, UserError) and str(error.location).endswith("/auth/token")
    assert "token endpoint refused" in error.text.en and error.text.vi != error.text.en


def test_the_token_is_renewed_before_it_expires(bundles_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A push longer than one token lifetime: the second bundle goes with a new token, the first
    token being refused by then."""
    monkeypatch.setattr(auth, "TOKEN_LIFETIME", 2)
    bundles = load_bundles(bundles_dir, limit=2)
    with ReferenceServer(auth="oauth") as srv:
        creds = AuthConfig(
            mode="client-credentials", client_id="vhr-test-admin", client_secret="vhr-test-admin-secret"
        )
        pusher = Pusher(
            PushOptions(target=srv.base_url, folder=bundles_dir, auth="client-credentials", credentials=creds)
        )
        try:
            pusher.authenticate()
            first_token = pusher.tokens.token()
            assert pusher.send(*bundles[0]) is not None
            time.sleep(2.5)
            stale = httpx.get(srv.base_url + "/Patient", headers={"Authorization": f"Bearer {first_token}"})
            assert stale.status_code == 401
            assert pusher.send(*bundles[1]) is not None, pusher.log.rejected
        finally:
            pusher.close()
    assert pusher.log.sent == [bundles[0][0], bundles[1][0]] and not pusher.log.rejected
