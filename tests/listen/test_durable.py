"""`vhr listen` keeps each exchange durably as it completes: kill -9 loses none, and
`vhr listen report` rebuilds the session's report; the console never shows a query-string secret."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from vhr_conformance.i18n import UserError
from vhr_conformance.listen import Listener, PushOptions, ScenarioConfig, push
from vhr_conformance.listen.push import DEFAULT_CLIENT
from vhr_conformance.listen.recorder import Recorded, journal_line, read_journal, record_from_journal
from vhr_conformance.listen.session import JOURNAL_FILE, find_session

CMD = [sys.executable, "-c", "from vhr_conformance.cli import main; main()"]
SCENARIO = ["--scenario", "throttle", "--retry-after", "1", "--report-dir"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/metadata", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the listener did not start")


def test_kill_9_loses_no_completed_exchange_and_the_report_is_rebuilt(
    bundles_dir: Path, tmp_path: Path
) -> None:
    port = _free_port()
    out = tmp_path / "listen-k9-20260101T000000Z"  # as the default --report-dir names it
    listener = subprocess.Popen(
        [
            *CMD,
            "listen",
            "--port",
            str(port),
            "--auth",
            "oauth",
            "--session",
            "k9",
            "--until-ctrl-c",
            *SCENARIO,
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_up(port)
        log = push(
            PushOptions(
                target=f"http://127.0.0.1:{port}", folder=bundles_dir, auth="oauth", limit=2, backoff_s=0.05
            )
        )
        assert log.ok()
        base = f"http://127.0.0.1:{port}"
        token = httpx.post(
            f"{base}/auth/token", data={"grant_type": "client_credentials"}, auth=DEFAULT_CLIENT, timeout=10
        ).json()["access_token"]
        answered = []
        for k in range(5):  # each answered before the kill: each must be in the journal
            r = httpx.get(
                f"{base}/Patient",
                params={"_id": f"marker-{k}", "client_secret": "hunter2"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            answered.append((k, r.status_code))
        httpx.get(f"{base}/metadata", params={"access_token": "tok-s3cr3t"}, timeout=10)
        time.sleep(0.5)  # the console polls every 0.2 s
        listener.send_signal(signal.SIGKILL)
        output, _ = listener.communicate(timeout=30)
    finally:
        if listener.poll() is None:
            listener.kill()
    assert (
        token not in output
        and "hunter2" not in output
        and "tok-s3cr3t" not in output
        and "client_secret=***" in output
    )
    assert not (out / "results.json").exists()  # killed: no report of its own

    rebuilt = subprocess.run(
        [*CMD, "listen", "report", str(out)], capture_output=True, text=True, timeout=120
    )
    assert rebuilt.returncode in (0, 1, 5), (
        rebuilt.stdout + rebuilt.stderr
    )  # PASS, FAIL or INCOMPLETE: a verdict, not an error
    assert "the session was stopped before its end" in rebuilt.stdout
    exchanges = [orjson.loads(x) for x in (out / "exchanges.jsonl").read_text().splitlines()]
    urls = [e["url"] for e in exchanges]
    for k, status in answered:
        (hit,) = [e for e in exchanges if f"marker-{k}" in e["url"]]
        assert hit["status"] == status
    assert all("hunter2" not in u and "tok-s3cr3t" not in u for u in urls)
    assert len(exchanges) >= log.retries + len(log.sent) + 5
    results = json.loads((out / "results.json").read_text())
    by_id = {c["id"]: c["state"] for c in results["criteria"]}
    assert by_id["VHR-SEC-101"] == by_id["VHR-API-102"] == by_id["VHR-QUAL-101"] == "pass"
    assert results["options"]["rebuiltFrom"]["sessionFinished"] is False
    journal = (out / "session" / JOURNAL_FILE).read_bytes()
    assert b"hunter2" not in journal and b"tok-s3cr3t" not in journal and token.encode() not in journal
    assert find_session("k9", tmp_path) == find_session(str(out)) == out / "session"


def test_the_rebuilt_report_matches_the_live_one(bundles_dir: Path, tmp_path: Path) -> None:
    config = ScenarioConfig(names=("throttle",), throttle_every=3, retry_after_s=1, outage_s=1.0)
    live_dir = tmp_path / "live"
    with Listener(auth="oauth", session="same", scenarios=config, journal=live_dir / "session") as lst:
        push(PushOptions(target=lst.base_url, folder=bundles_dir, auth="oauth", backoff_s=0.05, limit=2))
        live = lst.finish(live_dir)
    again = Listener.resume(live_dir / "session").finish(tmp_path / "again")
    assert {c.criteria[0]: (c.state, c.message) for c in again.run.cases} == {
        c.criteria[0]: (c.state, c.message) for c in live.run.cases
    }
    assert again.run.options["rebuiltFrom"]["sessionFinished"] is True
    assert again.run.target == live.run.target


def test_a_torn_last_line_is_named_not_fatal(tmp_path: Path) -> None:
    rec = Recorded(
        1, 0.5, "2026-01-01T00:00:00+07:00", "POST", "/", "", {"authorization": "Bearer abc"}, b"{}"
    )
    rec.status = 200
    path = tmp_path / JOURNAL_FILE
    line = journal_line(rec)
    path.write_bytes(line + line[: len(line) // 2])
    records, bad = read_journal(path)
    assert len(records) == 1 and bad == [2]
    assert records[0].header("authorization") == "Bearer ***" and records[0].body == b"{}"


def test_journal_keeps_what_criteria_read_and_redacts_token_forms() -> None:
    form = b"grant_type=client_credentials&client_secret=hunter2&scope=system/*.*"
    rec = Recorded(3, 1.0, "x", "POST", "/auth/token", "a=1", {"content-type": "x", "cookie": "c=1"}, form)
    back = record_from_journal(orjson.loads(journal_line(rec)))
    assert b"hunter2" not in back.body and b"grant_type=client_credentials" in back.body
    assert back.headers == {"content-type": "x", "cookie": "***"} and back.query == "a=1"


def test_a_running_or_foreign_folder_is_refused(tmp_path: Path, bundles_dir: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        find_session(str(tmp_path / "nothing"), tmp_path)
    folder = tmp_path / "s"
    with Listener(session="busy", journal=folder) as lst:
        meta = json.loads((folder / "session.json").read_text())
        meta["pid"] = os.getppid()  # a live process other than this one
        (folder / "session.json").write_text(json.dumps(meta))
        with pytest.raises(UserError, match="still running"):
            Listener.resume(folder)
        lst.server.stop()
    with pytest.raises(UserError, match="another session"):
        Listener(session="again", journal=folder)


def test_sigterm_ends_the_session_with_its_report(tmp_path: Path) -> None:
    port = _free_port()
    out = tmp_path / "rep"
    listener = subprocess.Popen(
        [
            *CMD,
            "listen",
            "--port",
            str(port),
            "--session",
            "term",
            "--until-ctrl-c",
            "--report-dir",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_up(port)
        listener.send_signal(signal.SIGTERM)
        output, _ = listener.communicate(timeout=60)
    finally:
        if listener.poll() is None:
            listener.kill()
    assert "session ended (SIGTERM)" in output and (out / "results.json").is_file()
    assert json.loads((out / "session" / "session.json").read_text())["finished"] is True
