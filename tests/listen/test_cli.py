"""The `vhr listen` / `vhr push` commands: argument checks and one end-to-end session."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from vhr_conformance.cli import app
from vhr_conformance.evidence.fingerprint import Harness
from vhr_conformance.evidence.keys import generate, load_trust
from vhr_conformance.evidence.verify import verify_bundle
from vhr_conformance.i18n import UserError
from vhr_conformance.listen.cli import parse_duration
from vhr_conformance.listen.recorder import parse_scenarios
from vhr_conformance.outcome import ExitCode


def _as_from_a_terminal() -> None:
    """Run in the child before exec: Ctrl-C acts as in a terminal even when the test runner was
    started in the background (which ignores SIGINT, and a child inherits that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_durations() -> None:
    assert parse_duration("90") == 90 and parse_duration("90s") == 90
    assert parse_duration("1h30m") == 5400 and parse_duration("2m") == 120
    for bad in ("", "abc", "0", "5x"):
        with pytest.raises(UserError) as exc:
            parse_duration(bad)
        assert "Invalid duration" in exc.value.render() or "greater than 0" in exc.value.render()


def test_scenarios_are_checked() -> None:
    assert parse_scenarios(["throttle,outage", "throttle"]) == ("throttle", "outage")
    with pytest.raises(UserError, match="Unknown scenario"):
        parse_scenarios(["flood"])


def test_bad_inputs_are_bilingual_user_errors() -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["listen", "--duration", "5s", "--until-ctrl-c"])
    assert isinstance(res.exception, UserError) and "not both" in res.exception.render()
    res = runner.invoke(app, ["push", "nowhere", "--target", "http://127.0.0.1:9", "--badly-behaved", "nope"])
    assert isinstance(res.exception, UserError)
    res = runner.invoke(app, ["push", "--list-bad-modes"])
    assert res.exit_code == 0 and "correction-as-new" in res.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_listen_and_push_end_to_end(bundles_dir: Path, tmp_path: Path) -> None:
    port = _free_port()
    out = tmp_path / "rep"
    key, trust = generate(tmp_path / "vendor.pem", "Nhà cung cấp A", "vendor")
    cmd = [sys.executable, "-c", "from vhr_conformance.cli import main; main()"]
    listener = subprocess.Popen(
        [
            *cmd,
            "listen",
            "--port",
            str(port),
            "--auth",
            "oauth",
            "--session",
            "cli",
            "--until-ctrl-c",
            "--scenario",
            "throttle",
            "--retry-after",
            "1",
            "--report-dir",
            str(out),
            "--sign-key",
            str(key),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_as_from_a_terminal,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/metadata", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        push = subprocess.run(
            [
                *cmd,
                "push",
                str(bundles_dir),
                "--target",
                f"http://127.0.0.1:{port}",
                "--auth",
                "oauth",
                "--limit",
                "1",
                "--backoff",
                "0.05",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert push.returncode == 0, push.stdout + push.stderr
        time.sleep(0.5)  # the live log polls every 0.2 s
        listener.send_signal(signal.SIGINT)  # what Ctrl-C does: end the session, judge, report
        output, _ = listener.communicate(timeout=60)
    finally:
        if listener.poll() is None:
            listener.kill()
    # API-103 not provoked: a SHALL criterion is not proven, nothing failed → INCOMPLETE
    assert listener.returncode == ExitCode.INCOMPLETE, output
    assert "INCOMPLETE" in output
    results = json.loads((out / "results.json").read_text())
    by_id = {c["id"]: c["state"] for c in results["criteria"]}
    assert by_id["VHR-SEC-101"] == by_id["VHR-API-102"] == by_id["VHR-QUAL-101"] == "pass"
    assert by_id["VHR-API-103"] == "not-tested"
    assert "POST / → 429 [throttle]" in output and "session ended (Ctrl-C)" in output
    # the session's evidence bundle, signed like a run's, verifies against the same install
    checked = verify_bundle(out / "evidence.zip", load_trust([trust]), Harness.current())
    assert checked.status == "verified", [p.en for p in checked.problems]
    assert checked.manifest["kind"] == "listen" and "report/exchanges.jsonl" in checked.manifest["files"]
    assert "evidence bundle" in output.lower() and "signed by Nhà cung cấp A" in output
