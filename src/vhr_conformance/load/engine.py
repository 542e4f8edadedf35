"""The load engine: one process that drives Locust as a library and writes the reports.

``vhr load`` starts it as ``python -m vhr_conformance.load.engine PLAN.json`` so that gevent's
monkey-patching stays out of the CLI (and out of pytest). Locally it runs a ``LocalRunner``; with
``processes > 1`` or ``--master`` it runs Locust's ``MasterRunner`` and the users run in worker
processes (``locust -f loadtests/locustfile.py --worker``), so distribution is Locust's own.

Exit codes: 0 every SLO met, 1 an SLO failed, 3 harness error, 130 interrupted (partial report).
"""

from __future__ import annotations

# Locust first: it monkey-patches the standard library with gevent.
import locust  # noqa: F401  isort: skip

import contextlib
import importlib.util
import json
import logging
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from locust import argument_parser, events, runners
from locust.env import Environment
from locust.html import get_html_report
from locust.stats import StatsCSVFileWriter, stats_history

from vhr_conformance.load import report, slo, user
from vhr_conformance.load.config import SloSet, Workload

log = logging.getLogger("vhr.load")

EXIT_PASS, EXIT_FAIL, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 3, 130


def runner_of(environment: Environment) -> runners.Runner:
    """The environment's runner, which exists once the engine has created it."""
    if environment.runner is None:
        raise RuntimeError("the Locust runner was not created")
    return environment.runner


def snapshot(environment: Environment, elapsed: float) -> slo.Snapshot:
    """Our plain-data view of Locust's statistics, grouped by request name (the operation)."""
    groups: dict[str, slo.GroupStats] = {}
    for (name, _method), entry in list(runner_of(environment).stats.entries.items()):
        stats = groups.setdefault(name, slo.GroupStats())
        stats.merge(
            slo.GroupStats(
                entry.num_requests,
                entry.num_failures,
                float(entry.total_response_time),
                dict(entry.response_times),
            )
        )
    return slo.Snapshot(groups, elapsed)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load_locustfile(path: str) -> list[type]:
    """Import the locustfile (registering its hooks) and return its concrete User classes."""
    from locust.user import User

    spec = importlib.util.spec_from_file_location("vhr_locustfile", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["vhr_locustfile"] = module
    spec.loader.exec_module(module)
    classes = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, User) and v is not User and not getattr(v, "abstract", False)
    ]
    if not classes:
        raise RuntimeError(f"no User class in {path}")
    return classes


def _options(plan: dict[str, Any]) -> Any:
    parser = argument_parser.get_empty_argument_parser(add_help=False)
    argument_parser.setup_parser_arguments(parser)
    events.init_command_line_parser.fire(parser=parser)
    opts = parser.parse_args([])
    opts.headless = not plan["web"]
    opts.host = plan["target"]
    opts.num_users = plan["users"]
    opts.spawn_rate = plan["spawn_rate"]
    opts.vhr_workload_json = json.dumps(plan["workload"])
    opts.vhr_cccds_json = json.dumps(plan["cccds"]) if plan.get("cccds") else ""
    opts.vhr_auth = plan["auth"]
    opts.vhr_validate_sample = plan["validate_sample"]
    return opts


class Run:
    """One load run: start the runner, drive the shape, watch the SLOs, write every output."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.workload = Workload.from_json(plan["workload"])
        self.slos = SloSet.from_json(plan["slo"])
        self.out = Path(plan["out_dir"])
        self.out.mkdir(parents=True, exist_ok=True)
        self.stop_event = Event()
        self.interrupted = False
        self.aborted: dict[str, Any] | None = None
        self.timeline: list[dict[str, Any]] = []
        self.capacity: dict[str, Any] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.t0 = 0.0
        self.cpu0 = self.cpu_used = 0.0
        self.started = ""

    # -- setup ------------------------------------------------------------------------------

    def build(self) -> Environment:
        user_classes = _load_locustfile(self.plan["locustfile"])
        env = Environment(
            user_classes=user_classes,
            events=events,
            host=self.plan["target"],
            parsed_options=_options(self.plan),
            stop_timeout=2.0,
            locustfile=self.plan["locustfile"],
        )
        mode = self.plan["mode"]
        if mode == "local":
            env.create_local_runner()
        else:
            port = self.plan.get("master_port") or _free_port()
            env.create_master_runner(self.plan.get("master_bind_host", "127.0.0.1"), port)
            if mode == "processes":
                for _ in range(self.plan["processes"]):
                    self.workers.append(
                        subprocess.Popen(
                            [
                                sys.executable,
                                "-m",
                                "locust",
                                "-f",
                                self.plan["locustfile"],
                                "--worker",
                                "--master-host",
                                "127.0.0.1",
                                "--master-port",
                                str(port),
                                "--loglevel",
                                "WARNING",
                            ],
                            stdin=subprocess.DEVNULL,
                        )
                    )
        events.init.fire(environment=env, runner=env.runner, web_ui=None)
        if self.plan["web"]:
            env.create_web_ui("127.0.0.1", self.plan.get("web_port", 8089))
        return env

    def wait_for_workers(self, env: Environment) -> None:
        expected = (
            self.plan["processes"] if self.plan["mode"] == "processes" else self.plan.get("expect_workers", 1)
        )
        deadline = time.monotonic() + self.plan.get("worker_timeout", 60)
        runner = env.runner
        assert isinstance(runner, runners.MasterRunner)
        while len(runner.clients.ready) < expected:
            if time.monotonic() > deadline or self.stop_event.is_set():
                raise RuntimeError(f"only {len(runner.clients.ready)} of {expected} workers connected")
            if any(w.poll() is not None for w in self.workers):
                raise RuntimeError("a worker process exited before the run started")
            gevent.sleep(0.1)

    def prepare_workers(self, env: Environment) -> None:
        """Have every worker build its pools before the clock starts (see ``user.prepare``)."""
        runner = env.runner
        assert isinstance(runner, runners.MasterRunner)
        user.PREPARED.clear()
        runner.send_message("vhr_prepare", user.prepare_message(env))
        expected = len(runner.clients.ready)
        deadline = time.monotonic() + self.plan.get("worker_timeout", 60)
        while len(user.PREPARED) < expected:
            if time.monotonic() > deadline or self.stop_event.is_set():
                raise RuntimeError(f"only {len(user.PREPARED)} of {expected} workers prepared their data")
            gevent.sleep(0.05)
        failed = [a["error"] for a in user.PREPARED.values() if not a.get("ok")]
        if failed:
            raise RuntimeError(f"a worker could not prepare: {failed[0]}")

    # -- background greenlets -----------------------------------------------------------------

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def progress(self, elapsed: float, users: int, total: slo.GroupStats, p95_ms: float | None) -> None:
        """Every few seconds, one line of running figures on stderr (overwritten in place on a tty)."""
        every = float(self.plan.get("progress_every", 0) or 0)
        if every <= 0 or int(elapsed // every) == int((elapsed - 1.0) // every):
            return
        duration = float(self.plan["duration"])
        rate = total.requests / elapsed if elapsed > 0 else 0.0
        line = (
            f"[{elapsed:4.0f}s/{duration:.0f}s · còn / ETA {max(0.0, duration - elapsed):.0f}s] "
            f"người dùng / users {users} · yêu cầu / requests {total.requests} · lỗi / failures {total.failures} · "
            f"{rate:.1f} req/s · p95 {p95_ms if p95_ms is not None else '—'} ms"
        )
        if sys.stderr.isatty():
            sys.stderr.write("\r\x1b[2K" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def sample_timeline(self, env: Environment) -> None:
        """Every second: users, throughput and p95 of the last second (from snapshot deltas)."""
        previous = snapshot(env, self.elapsed())
        recent: list[slo.GroupStats] = []
        while True:
            gevent.sleep(1.0)
            now = snapshot(env, self.elapsed())
            delta = now.minus(previous)
            total = delta.group("*")
            recent = [*recent[-1:], total]  # p95 over the last 2 s smooths single-second noise
            window = slo.GroupStats()
            for part in recent:
                window.merge(part)
            cumulative = now.group("*")
            self.progress(now.elapsed, runner_of(env).user_count, cumulative, window.percentile(0.95))
            self.timeline.append(
                {
                    "t": round(now.elapsed, 2),
                    "users": runner_of(env).user_count,
                    "rps": round((total.requests - total.failures) / delta.elapsed, 2)
                    if delta.elapsed > 0
                    else 0.0,
                    "fail_per_s": round(total.failures / delta.elapsed, 2) if delta.elapsed > 0 else 0.0,
                    "p95_ms": window.percentile(0.95),
                }
            )
            previous = now

    def watch_slos(self, env: Environment) -> None:
        """Abort early when a latency or error-rate SLO is already broken (opt-in in slo.yaml)."""
        gevent.sleep(self.slos.grace)
        while not self.stop_event.is_set():
            results = slo.evaluate(self.slos, snapshot(env, self.elapsed()), final=False)
            broken = slo.breaches_for_abort(results)
            if broken:
                self.aborted = {"at": round(self.elapsed(), 2), "breaches": broken}
                self.stop_event.set()
                return
            gevent.sleep(self.slos.check_every)

    # -- shapes -----------------------------------------------------------------------------

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` of the run; False when the run must stop (Ctrl-C, abort, end)."""
        remaining = self.plan["duration"] - self.elapsed()
        self.stop_event.wait(max(0.0, min(seconds, remaining)))
        return not self.stop_event.is_set() and self.elapsed() < self.plan["duration"] - 0.01

    def shape_constant(self, env: Environment) -> None:
        runner_of(env).start(self.plan["users"], self.plan["spawn_rate"])
        self.wait(self.plan["duration"])

    def shape_steps(self, env: Environment) -> None:
        steps = max(1, self.workload.steps)
        hold = self.plan["duration"] / steps
        for i in range(1, steps + 1):
            users = max(1, round(self.plan["users"] * i / steps))
            runner_of(env).start(users, self.plan["spawn_rate"])
            if not self.wait(hold):
                return

    def shape_capacity(self, env: Environment) -> None:
        """Add users step by step; judge every SLO on each step's own window; stop at the first
        breach and keep the best step that met every threshold."""
        plan = self.workload.capacity
        limit = min(plan.max_users, self.plan["users"]) if self.plan.get("users_given") else plan.max_users
        users = plan.start_users
        steps: list[dict[str, Any]] = []
        self.capacity = {"steps": steps, "best": None, "stopped_by": "duration"}
        settle = min(1.0, plan.step_duration / 4)
        while True:
            runner_of(env).start(users, max(self.plan["spawn_rate"], users))
            if not self.wait(settle):
                break
            before = snapshot(env, self.elapsed())
            complete = self.wait(plan.step_duration - settle)
            window = snapshot(env, self.elapsed()).minus(before)
            results = slo.evaluate(self.slos, window)
            total = window.group("*")
            held = window.elapsed >= 0.9 * (plan.step_duration - settle)
            # A step holds when no latency or error-rate SLO broke; minimum throughput is a
            # property of the capacity found, judged on the best step at the end. A step cut
            # short (end of the run, Ctrl-C) is reported but not judged.
            if not held:
                verdict = "incomplete"
            elif slo.breaches_for_abort(results):
                verdict = "fail"
            elif not any(r["status"] == "pass" for r in results if r["metric"] != "throughput"):
                verdict = "inconclusive"  # too few samples to judge: climb on, but not a capacity
            else:
                verdict = "pass"
            step = {
                "users": users,
                "seconds": round(window.elapsed, 2),
                "throughput": round((total.requests - total.failures) / window.elapsed, 2)
                if window.elapsed > 0
                else 0.0,
                "p95_ms": total.percentile(0.95),
                "verdict": verdict,
                "results": results,
            }
            steps.append(step)
            if verdict == "pass" and (
                self.capacity["best"] is None or step["throughput"] > self.capacity["best"]["throughput"]
            ):
                self.capacity["best"] = step
            if verdict == "fail":
                self.capacity["stopped_by"] = "slo-breach"
                break
            if not complete:
                self.capacity["stopped_by"] = "interrupted" if self.interrupted else "duration"
                break
            if users >= limit:
                self.capacity["stopped_by"] = "max-users"
                break
            users = min(limit, users + plan.step_users)

    # -- main -------------------------------------------------------------------------------

    def execute(self) -> int:
        gevent.signal_handler(signal.SIGINT, self._interrupt)
        gevent.signal_handler(signal.SIGTERM, self._interrupt)
        env = self.build()
        try:
            if self.plan["mode"] == "local":
                user.prepare(env)
            else:
                self.wait_for_workers(env)
                self.prepare_workers(env)
        except RuntimeError as exc:
            print(f"vhr load: {exc}", file=sys.stderr)
            self._cleanup(env)
            return EXIT_ERROR
        csv_writer = StatsCSVFileWriter(
            env, [0.5, 0.9, 0.95, 0.99], str(self.out / "locust"), full_history=True
        )
        self.started = datetime.now(UTC).isoformat(timespec="seconds")
        self.cpu0 = self._cpu()
        self.t0 = time.monotonic()
        background = [
            gevent.spawn(csv_writer.stats_writer),
            gevent.spawn(stats_history, env.runner),
            gevent.spawn(self.sample_timeline, env),
        ]
        if self.slos.abort_on_breach and self.plan["shape"] != "capacity":
            background.append(gevent.spawn(self.watch_slos, env))
        shape = {"constant": self.shape_constant, "steps": self.shape_steps, "capacity": self.shape_capacity}
        try:
            shape[self.plan["shape"]](env)
        finally:
            self.stop_event.set()
        elapsed = self.elapsed()
        runner_of(env).stop()
        if self.plan["mode"] != "local":
            gevent.sleep(1.3)  # workers send their last statistics within one report interval
        final = snapshot(env, elapsed)
        self.cpu_used = self._cpu() - self.cpu0
        for g in background:
            g.kill(block=True)
        csv_writer.close_files()
        return self.finish(env, final)

    def finish(self, env: Environment, final: slo.Snapshot) -> int:
        if self.capacity is not None:
            best = self.capacity["best"]
            chosen = best or (self.capacity["steps"][0] if self.capacity["steps"] else None)
            results = chosen["results"] if chosen else slo.evaluate(self.slos, final)
            self.capacity["steps"] = [
                {k: v for k, v in s.items() if k != "results"} for s in self.capacity["steps"]
            ]
            if best is not None:
                self.capacity["best"] = {k: v for k, v in best.items() if k != "results"}
            results = [*results, slo.capacity_result(self.slos, self.capacity)]
        else:
            results = slo.evaluate(self.slos, final)
        verdict = slo.verdict(results)
        if self.aborted:
            verdict = "fail"
        (self.out / "report.html").write_text(
            get_html_report(env, show_download_link=False), encoding="utf-8"
        )
        (self.out / "timeline.svg").write_text(
            report.timeline_svg(self.timeline, title=self.plan["run_id"]), encoding="utf-8"
        )
        summary = report.summary(
            plan=self.plan,
            started=self.started,
            final=final,
            results=results,
            verdict=verdict,
            timeline=self.timeline,
            validation=user.validation_summary(),
            capacity=self.capacity,
            aborted=self.aborted,
            interrupted=self.interrupted,
            generator_cpu_s=round(self.cpu_used, 2),
            files=[*sorted(p.name for p in self.out.iterdir()), "summary.json"],
        )
        report.write_json(self.out / "summary.json", summary)
        self._cleanup(env)
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_PASS if verdict == "pass" else EXIT_FAIL

    def _cpu(self) -> float:
        """CPU seconds of this process and its local worker processes (what generating load costs)."""
        import psutil

        total = 0.0
        for pid in [None, *(w.pid for w in self.workers)]:
            try:
                times = psutil.Process(pid).cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
        return total

    def _interrupt(self) -> None:
        self.interrupted = True
        self.stop_event.set()

    def _cleanup(self, env: Environment) -> None:
        with contextlib.suppress(Exception):  # shutting down anyway
            runner_of(env).quit()
        if env.web_ui is not None:
            env.web_ui.stop()
        for w in self.workers:
            try:
                w.wait(timeout=5)
            except subprocess.TimeoutExpired:
                w.kill()
        if user.RUNTIME is not None and user.RUNTIME.sampler is not None:
            user.RUNTIME.sampler.close()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    plan = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    runners.WORKER_REPORT_INTERVAL = 1.0
    run = Run(plan)
    try:
        return run.execute()
    except KeyboardInterrupt:  # Ctrl-C before the run's own handler was installed
        return EXIT_INTERRUPTED
    except Exception as exc:  # the harness failed: never a verdict against the target
        logging.getLogger("vhr.load").exception("load engine failed: %s", exc)
        return EXIT_ERROR
    finally:
        for w in run.workers:  # never leave local workers behind, whatever happened
            if w.poll() is None:
                w.kill()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
