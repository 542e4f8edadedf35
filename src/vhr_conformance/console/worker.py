"""Workers: take queued runs from the database, run `vhr run` as a subprocess under a deadline,
store its results.json, verdict and evidence bundle.

The queue is the `runs` table itself. A worker claims a run with one conditional UPDATE
(`status='queued'` → `'running'`), which only one worker can win on SQLite and on PostgreSQL, so
several workers on several hosts share one database. A running run carries a heartbeat; a run
whose worker stopped beating (crash, host lost) is marked finished/INTERRUPTED by the next worker
that looks, never left running or lost.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

import vhr_conformance
from vhr_conformance.console import progress, security
from vhr_conformance.console.db import aware
from vhr_conformance.console.models import Run, now
from vhr_conformance.evidence.bundle import bundle_sha256, run_verdict, write_bundle
from vhr_conformance.evidence.keys import SigningKey
from vhr_conformance.outcome import ExitCode, Verdict

HEARTBEAT_S = 2.0
STALE_AFTER_S = 60.0
GRACE_S = 20.0  # after SIGINT at the deadline, before SIGKILL
LOG_TAIL = 64 * 1024
LIVE_LOG = 16 * 1024
# Credentials a worker must not hand down to a run by accident: the run gets only its endpoint's.
_SCRUB = ("VHR_CONSOLE_KEY", "VHR_CLIENT_SECRET", "VHR_TOKEN", "VHR_CLIENT_ID", "VHR_TOKEN_URL", "VHR_SCOPE")


@dataclass
class Settings:
    data_dir: Path
    sign_key: SigningKey | None = None
    stale_after_s: float = STALE_AFTER_S
    heartbeat_s: float = HEARTBEAT_S
    extra_args: list[str] = field(default_factory=list)  # e.g. ["--no-embedded-tls"] in tests
    # Runs are batch work: below the web process in the scheduler's eyes, so pages keep answering
    # on a small machine while suites run (0: same priority).
    niceness: int = 10
    listen_host: str = "127.0.0.1"  # where client-mode sessions listen (the vendor must reach it)
    listen_public: str | None = None  # the base URL vendors are told, when a proxy fronts the listener


# The first step of every run's process: ask Linux to kill it when its worker dies (a crashed or
# killed worker must not leave a run going nobody records), then become the real command.
_DIE_WITH_WORKER = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(4)  # the worker is already gone: interrupted before it began\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def bound_to_worker(cmd: list[str]) -> list[str]:
    """`cmd` (its program an absolute path) such that the process ends when this one ends."""
    if not sys.platform.startswith("linux"):
        return cmd
    return [sys.executable, "-c", _DIE_WITH_WORKER, str(os.getpid()), *cmd]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def claim(sessions: sessionmaker[Session], name: str) -> int | None:
    """The id of the oldest queued run, now running under `name`; None when the queue is empty."""
    with sessions() as s:
        candidates = s.scalars(select(Run.id).where(Run.status == "queued").order_by(Run.id).limit(5)).all()
        for run_id in candidates:
            stamp = now()
            won = s.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == "queued")
                .values(status="running", worker=name, started=stamp, heartbeat=stamp)
            )
            s.commit()
            if won.rowcount == 1:  # type: ignore[attr-defined]
                return run_id
    return None


def reap_stale(sessions: sessionmaker[Session], stale_after_s: float) -> list[int]:
    """Runs whose worker stopped beating: finished, INTERRUPTED, with the reason."""
    limit = now() - dt.timedelta(seconds=stale_after_s)
    reaped: list[int] = []
    with sessions() as s:
        for run in s.scalars(select(Run).where(Run.status == "running")).all():
            beat = aware(run.heartbeat) or aware(run.started)
            if beat is not None and beat >= limit:
                continue
            done = s.execute(
                update(Run)
                .where(Run.id == run.id, Run.status == "running", Run.heartbeat == run.heartbeat)
                .values(
                    status="finished",
                    verdict=Verdict.INTERRUPTED.value,
                    finished=now(),
                    note=f"worker {run.worker} stopped answering (no heartbeat since {beat}) / "
                    f"tiến trình {run.worker} ngừng phản hồi",
                )
            )
            if done.rowcount == 1:  # type: ignore[attr-defined]
                reaped.append(run.id)
        s.commit()
    return reaped


def _tail(path: Path, size: int) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - size))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def listen_command(run: Run, report_dir: Path, settings: Settings, port: int) -> list[str]:
    """`vhr listen` for a client-mode session: on the console's listen host, for its duration."""
    cmd = [sys.executable, "-c", "from vhr_conformance.cli import main; main()", "listen"]
    cmd += ["--host", settings.listen_host, "--port", str(port), "--session", f"console-{run.id}"]
    cmd += [
        "--duration",
        f"{run.listen_s or 60}s",
        "--report-dir",
        str(report_dir),
        "--auth",
        run.listen_auth or "none",
    ]
    for name in (run.scenarios or "").split(","):
        if name:
            cmd += ["--scenario", name]
    return cmd


def command_for(run: Run, report_dir: Path, settings: Settings) -> tuple[list[str], dict[str, str]]:
    """The `vhr run` command line and environment of one run (endpoint secrets decrypted here only)."""
    cmd = [sys.executable, "-c", "from vhr_conformance.cli import main; main()", "run", "--quiet"]
    cmd += ["--report-dir", str(report_dir)]
    if run.only:
        cmd += ["--only", run.only]
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    src = str(Path(vhr_conformance.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])])
    if not run.embedded and run.endpoint is not None:
        ep = run.endpoint
        cmd += ["--target", ep.base_url, "--auth", ep.auth_mode]
        plain = {"VHR_TOKEN_URL": ep.token_url, "VHR_CLIENT_ID": ep.client_id, "VHR_SCOPE": ep.scope}
        env.update({k: v for k, v in plain.items() if v})
        if ep.secret_encrypted:
            secret = security.decrypt(ep.secret_encrypted)
            env["VHR_TOKEN" if ep.auth_mode == "bearer" else "VHR_CLIENT_SECRET"] = secret
    cmd += settings.extra_args
    # done/total cases per area for the run page, written outside the report by our pytest plugin
    env["PYTEST_PLUGINS"] = ",".join(filter(None, [os.environ.get("PYTEST_PLUGINS"), progress.MODULE]))
    env[progress.FOLDER_ENV] = str(report_dir.parent / "progress")
    return cmd, env


def verdict_of(results: dict[str, Any] | None, code: int | None, interrupted: bool) -> Verdict:
    """The run's verdict as `vhr run` gave it: its results.json, else its exit code."""
    if interrupted:
        return Verdict.INTERRUPTED
    if not results:
        # No report at all: the harness could not run (a user error also exits 2, so the code alone
        # would read INCOMPLETE); killed by a signal: interrupted.
        return Verdict.INTERRUPTED if code is not None and code < 0 else Verdict.ERROR
    if results.get("verdict"):
        return Verdict(run_verdict(results))
    if code is not None and code in ExitCode._value2member_map_:
        return Verdict.__members__.get(ExitCode(code).name, Verdict.ERROR)  # a usage error is no verdict
    return Verdict.ERROR


def execute(sessions: sessionmaker[Session], run_id: int, settings: Settings) -> Verdict:
    """Run one claimed run to its end and store everything it produced."""
    folder = settings.data_dir / "runs" / str(run_id)
    report_dir = folder / "report"
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "log.txt"
    progress_dir = folder / "progress"
    with sessions() as s:
        run = s.get(Run, run_id)
        assert run is not None
        try:
            if run.kind == "listen":
                port = free_port(settings.listen_host)
                cmd = listen_command(run, report_dir, settings, port)
                env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
                run.listen_url = settings.listen_public or f"http://{settings.listen_host}:{port}"
            else:
                cmd, env = command_for(run, report_dir, settings)
        except Exception as exc:  # a missing key: the run cannot start, say why
            run.status, run.verdict, run.finished = "finished", Verdict.ERROR.value, now()
            run.note = str(exc)
            s.commit()
            return Verdict.ERROR
        deadline = time.monotonic() + run.deadline_s
        vendor = {
            "organisation": run.system.organisation.name,
            "product": run.system.product,
            "version": run.system.version,
        }
        run.report_dir = str(report_dir)
        run_kind = run.kind
        s.commit()
    interrupted = False
    code: int | None = None
    env["PYTHONUNBUFFERED"] = "1"  # the log is read while the run goes
    nice = shutil.which("nice")
    if settings.niceness and nice:
        cmd = [nice, "-n", str(settings.niceness), *cmd]
    cmd = bound_to_worker(cmd)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder)
        while True:
            try:
                code = proc.wait(timeout=settings.heartbeat_s)
                break
            except subprocess.TimeoutExpired:
                pass
            beat = {
                "heartbeat": now(),
                "progress": orjson.dumps(progress.read(progress_dir)).decode(),
                "log": _tail(log_path, LIVE_LOG),  # a listen session prints each push as it arrives
            }
            with sessions() as s:
                s.execute(update(Run).where(Run.id == run_id).values(**beat))
                s.commit()
            if time.monotonic() > deadline and not interrupted:
                interrupted = True
                proc.send_signal(signal.SIGINT)  # let pytest write its partial report
                try:
                    code = proc.wait(timeout=GRACE_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    code = proc.wait()
                break
    results: dict[str, Any] | None = None
    results_path = report_dir / "results.json"
    if results_path.is_file():
        try:
            loaded = orjson.loads(results_path.read_bytes())
            results = loaded if isinstance(loaded, dict) else None
        except orjson.JSONDecodeError:
            results = None
    verdict = verdict_of(results, code, interrupted)
    bundle: bytes | None = None
    digest: str | None = None
    note: str | None = f"deadline reached / hết hạn thời gian ({run.deadline_s} s)" if interrupted else None
    if report_dir.is_dir() and any(report_dir.iterdir()):
        path = write_bundle(report_dir, sign_key=settings.sign_key, vendor=vendor, kind=run_kind)
        bundle, digest = path.read_bytes(), bundle_sha256(path)
    tail = _tail(log_path, LOG_TAIL)
    with sessions() as s:
        run = s.get(Run, run_id)
        assert run is not None
        run.status, run.verdict, run.exit_code, run.finished = "finished", verdict.value, code, now()
        run.note = note
        run.log = tail
        run.progress = orjson.dumps(progress.read(progress_dir)).decode()
        if results is not None:
            run.results_json = orjson.dumps(results).decode()
            run.run_key = str(results.get("runId") or "") or None
            run.ig_version = str((results.get("ig") or {}).get("version") or "") or None
        run.bundle, run.bundle_sha256 = bundle, digest
        s.commit()
    return verdict


def work_once(sessions: sessionmaker[Session], settings: Settings, name: str | None = None) -> int | None:
    """Reap stale runs, then claim and execute one queued run; its id, or None when idle."""
    reap_stale(sessions, settings.stale_after_s)
    run_id = claim(sessions, name or worker_name())
    if run_id is not None:
        execute(sessions, run_id, settings)
    return run_id


def loop(
    sessions: sessionmaker[Session], settings: Settings, stop: threading.Event, poll_s: float = 1.0
) -> None:
    while not stop.is_set():
        try:
            idle = work_once(sessions, settings) is None
        except Exception as exc:  # a database hiccup must not end the worker; its run gets reaped
            print(f"vhr console worker: {type(exc).__name__}: {exc}", file=sys.stderr)
            idle = True
        if idle:
            stop.wait(poll_s)


class LocalPool:
    """Worker threads inside the web process (the embedded SQLite set-up); each run is a subprocess."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, size: int) -> None:
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(
                target=loop, args=(sessions, settings, self.stop), daemon=True, name=f"vhr-worker-{i}"
            )
            for i in range(size)
        ]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def close(self) -> None:
        self.stop.set()
