"""`vhr load --auth client-credentials`: each Locust process renews its OAuth token before it expires,
so a run longer than one token lifetime sees no 401."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vhr_conformance.server import ReferenceServer, auth

LIFETIME_S = 3  # the server's tokens for this test; the run lasts several lifetimes


def _load(base_url: str, out: Path, client_id: str, secret: str, auth_mode: str) -> tuple[int, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VHR_")}
    env.update({"VHR_CLIENT_ID": client_id, "VHR_CLIENT_SECRET": secret})
    cmd = [str(Path(sys.executable).with_name("vhr")), "load", "--target", base_url, "--auth", auth_mode]
    cmd += ["--duration", "10s", "--users", "2", "--report-dir", str(out), "--run-id", "refresh"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    summary = out / "refresh" / "load" / "summary.json"
    assert summary.is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    return done.returncode, json.loads(summary.read_text(encoding="utf-8"))


@pytest.fixture
def short_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "TOKEN_LIFETIME", LIFETIME_S)


def test_tokens_are_renewed_during_the_run(short_tokens: None, tmp_path: Path) -> None:
    with ReferenceServer(auth="oauth") as srv:
        _code, summary = _load(
            srv.base_url, tmp_path, "vhr-test-admin", "vhr-test-admin-secret", "client-credentials"
        )
    totals = summary["totals"]
    assert summary["elapsed_s"] > 2 * LIFETIME_S
    assert totals["requests"] > 10
    assert totals["failures"] == 0, summary.get("groups")


def test_wrong_credentials_stop_before_the_run(tmp_path: Path) -> None:
    with ReferenceServer(auth="oauth") as srv:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VHR_")}
        env.update({"VHR_CLIENT_ID": "vhr-test-admin", "VHR_CLIENT_SECRET": "wrong"})
        cmd = [str(Path(sys.executable).with_name("vhr")), "load", "--target", srv.base_url]
        cmd += ["--auth", "client-credentials", "--duration", "3s", "--report-dir", str(tmp_path)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "token" in done.stderr.lower()


def test_target_credentials_and_settings_from_vhr_toml(short_tokens: None, tmp_path: Path) -> None:
    """`vhr load` with nothing but a vhr.toml: target, scheme, the secret's variable and the load
    settings come from the file; the Locust processes renew tokens with those same credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VHR_")}
    env["LOAD_SECRET"] = "vhr-test-admin-secret"
    with ReferenceServer(auth="oauth") as srv:
        (tmp_path / "vhr.toml").write_text(
            f'[target]\nurl = "{srv.base_url}"\n[auth]\nmode = "client-credentials"\n'
            'client_id = "vhr-test-admin"\nclient_secret_env = "LOAD_SECRET"\n'
            '[load]\nduration = "8s"\nusers = 2\n',
            encoding="utf-8",
        )
        cmd = [str(Path(sys.executable).with_name("vhr")), "load", "--report-dir", "out", "--run-id", "toml"]
        done = subprocess.run(
            cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
        )
    summary_path = tmp_path / "out" / "toml" / "load" / "summary.json"
    assert summary_path.is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    plan = json.loads((summary_path.parent / "plan.json").read_text(encoding="utf-8"))
    assert plan["target"] == srv.base_url and plan["users"] == 2 and plan["duration"] == 8.0
    assert "vhr-test-admin-secret" not in json.dumps(plan)  # the secret never lands in a file
    assert summary["elapsed_s"] > 2 * LIFETIME_S
    assert summary["totals"]["requests"] > 10 and summary["totals"]["failures"] == 0, summary.get("groups")
