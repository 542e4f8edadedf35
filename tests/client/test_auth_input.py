"""Auth config files and authorization servers that are broken or hostile give located errors."""

from __future__ import annotations

import time
import zlib
from pathlib import Path

import orjson
import pytest

from vhr_conformance.client.auth import AuthConfig, TokenProvider
from vhr_conformance.i18n import UserError

from . import hostile
from .test_bounds import gzip_of_zeros


def alias_bomb(levels: int = 8, width: int = 10) -> str:
    """Each anchor lists the previous one ``width`` times: ``width ** levels`` nodes once expanded."""
    lines = ["a0: &a0 [" + ",".join(["x"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_auth_config_alias_bomb(tmp_path: Path) -> None:
    p = tmp_path / "auth.yaml"
    p.write_text(alias_bomb())
    start = time.monotonic()
    with pytest.raises(UserError, match="aliases"):
        AuthConfig.load("client-credentials", str(p))
    assert time.monotonic() - start < 2


@pytest.mark.parametrize(
    ("name", "content", "needle", "where"),
    [
        ("auth.yaml", b"client_id: a\x00b\n", "binary file", ":1:13"),
        ("auth.yaml", b"client_id: caf\xe9\n", "not valid UTF-8", ":1:15"),
        ("auth.json", b"[" * 5000 + b"]" * 5000, "invalid JSON", ":"),
        ("auth.json", b'{"client_id": }', "invalid JSON", ":1:"),
        ("auth.yaml", b"- just\n- a list\n", "must be a mapping", ""),
    ],
)
def test_bad_auth_config_files(tmp_path: Path, name: str, content: bytes, needle: str, where: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(UserError) as info:
        AuthConfig.load("client-credentials", str(p))
    assert needle in info.value.render() and (info.value.location or "").startswith(str(p) + where)


def _provider(base: str) -> TokenProvider:
    cfg = AuthConfig(mode="client-credentials", token_url=base + "/token", client_id="a", client_secret="b")
    return TokenProvider(cfg, timeout=1.0)


@pytest.mark.parametrize(
    ("behaviour", "needle"),
    [
        (hostile.hang(), "ReadTimeout"),
        (hostile.body(gzip_of_zeros(64 * 1024 * 1024), content_encoding="gzip"), "exceeded 1 MB"),
        (hostile.body(b"not json"), "without an access_token"),
        (hostile.body(b'{"access_token": 12}'), "without an access_token"),
        (hostile.reset, "Cannot reach the authorization server"),
    ],
    ids=["hang", "gzip-bomb", "not-json", "no-token", "reset"],
)
def test_hostile_token_endpoint(behaviour: hostile.Behaviour, needle: str) -> None:
    with hostile.hostile_server(behaviour) as base:
        start = time.monotonic()
        with pytest.raises(UserError) as info:
            _provider(base).token()
    assert needle in info.value.render() and time.monotonic() - start < 7


def test_token_endpoint_gzip_answer_is_decoded() -> None:
    body = zlib.compress(b'{"access_token": "tok", "expires_in": "x"}', wbits=16 + zlib.MAX_WBITS)
    with hostile.hostile_server(hostile.body(body, content_encoding="gzip")) as base:
        assert _provider(base).token() == "tok"


def test_auth_config_from_a_fifo_is_read_or_given_up_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--vhr-auth-config <(vault read …)` is a FIFO: read once when written, a clear error when never."""
    import os
    import threading

    monkeypatch.setenv("VHR_FIFO_WAIT", "0.5")
    fifo = tmp_path / "auth.yaml"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(UserError, match=r"no data after 0\.5 s") as info:
        AuthConfig.load("client-credentials", str(fifo))
    assert time.monotonic() - start < 3 and info.value.location == str(fifo)

    def writer() -> None:
        with fifo.open("wb") as fh:
            fh.write(b"client_id: a\nclient_secret: b\ntoken_url: http://127.0.0.1:9/token\n")

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    cfg = AuthConfig.load("client-credentials", str(fifo))
    t.join(5)
    assert cfg.client_id == "a" and cfg.client_secret == "b"


def test_private_key_file_is_bounded(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\n" + b"A" * 100_000)
    with pytest.raises(UserError, match="file too large"):
        AuthConfig.load("smart-backend", None, env={"VHR_CLIENT_ID": "a", "VHR_PRIVATE_KEY_FILE": str(key)})


def test_a_discovered_token_endpoint_off_the_targets_origin_gets_no_credentials() -> None:
    elsewhere = orjson.dumps({"token_endpoint": "http://attacker.example/steal"})
    with hostile.hostile_server(hostile.body(elsewhere)) as base:
        cfg = AuthConfig(mode="client-credentials", client_id="a", client_secret="hunter2")
        with pytest.raises(UserError, match="off its origin") as info:
            TokenProvider(cfg, discover_base=base, timeout=2.0).token()
    assert "set token_url" in info.value.render()


def test_a_relative_token_endpoint_on_the_same_origin_is_used() -> None:
    both = orjson.dumps({"token_endpoint": "/fhir/token", "access_token": "tok", "expires_in": 60})
    with hostile.hostile_server(hostile.body(both)) as base:
        cfg = AuthConfig(mode="client-credentials", client_id="a", client_secret="b")
        provider = TokenProvider(cfg, discover_base=base, timeout=2.0)
        assert provider.token() == "tok" and provider.config.token_url == base + "/token"
