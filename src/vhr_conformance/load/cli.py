"""``vhr load``: load and capacity test of a FHIR endpoint with the VHR workload and SLO verdict.

This process never imports Locust (gevent monkey-patching would leak into the CLI and the test
runner). It checks the options, starts the embedded reference server when no target is given,
writes the run plan and runs the engine in a child process, forwarding Ctrl-C so the engine can
write a partial report.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.table import Table

from vhr_conformance.durations import duration_option
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.load import dataset, pool
from vhr_conformance.load.config import load_slo, load_workload, loadtests_dir
from vhr_conformance.outcome import ExitCode
from vhr_conformance.runconfig import (
    AUTH_CONFIG_HELP,
    CA_BUNDLE_HELP,
    CONFIG_HELP,
    RunConfig,
    auth_env,
    build,
)

console = Console(stderr=True)

DEFAULT_DURATION = 30.0  # seconds: a load run is bounded unless the user asks for more
EXIT_NAMES = {int(code): code.name.lower() for code in ExitCode}
ENGINE_INTERRUPTED = 130  # the engine's own code for a run stopped by a signal (partial report)


class Shape(StrEnum):
    constant = "constant"
    steps = "steps"
    capacity = "capacity"


class Auth(StrEnum):
    none = "none"
    bearer = "bearer"
    client_credentials = "client-credentials"
    smart_backend = "smart-backend"


def engine_auth(auth: str) -> str:
    """What Locust processes do: nothing, send the fixed $VHR_TOKEN, or fetch and refresh OAuth tokens."""
    return {"none": "none", "bearer": "bearer"}.get(auth, "oauth")


@dataclass
class LoadOptions:
    """Everything ``vhr load`` accepts; also the programmatic entry (``vhr run --with-load``).

    `config` is the command's one :class:`~vhr_conformance.runconfig.RunConfig` (target, resolved
    credentials, CA bundle, workload, duration, users, SLO file); the rest drives the engine."""

    config: RunConfig = field(default_factory=RunConfig)
    spawn_rate: float = 10.0
    report_dir: Path = Path("reports")
    run_id: str | None = None
    processes: int = 1
    master: bool = False
    expect_workers: int = 1
    master_bind_host: str = "127.0.0.1"
    master_port: int = 5557
    shape: str = "constant"
    web: bool = False
    web_port: int = 8089
    validate_sample: float | None = None
    faults: list[str] = field(default_factory=list)
    latency_ms: int | None = None
    locustfile: Path | None = None
    abort_on_breach: bool | None = None  # None: as slo.yaml says
    quiet: bool = False
    seed_data: bool = True  # upload the workload's patients when a target holds none of them


def _check_target(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UserError(
            Text(
                "URL đích không hợp lệ: {u!r} (cần http:// hoặc https://)",
                "invalid target URL: {u!r} (need http:// or https://)",
            ).format(u=url),
            location="--target",
        )
    if parts.query or parts.fragment:
        raise UserError(
            Text(
                "URL đích không được có truy vấn hay fragment",
                "the target URL must not have a query or fragment",
            ),
            location="--target",
        )
    return url.rstrip("/")


def _start_embedded(faults: list[str], latency_ms: int | None) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "vhr_conformance.load.target"]
    for fault in faults:
        cmd += ["--fault", fault]
    if latency_ms is not None:
        cmd += ["--latency-ms", str(latency_ms)]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    line = proc.stdout.readline() if proc.stdout else ""
    try:
        info = json.loads(line)
    except ValueError:
        proc.kill()
        raise UserError(
            Text(
                "Không khởi động được máy chủ tham chiếu nhúng", "the embedded reference server did not start"
            ),
            location="--target",
            hint=Text("Dùng --target URL để chỉ định máy chủ", "use --target URL to name a server"),
        ) from None
    return proc, info["base_url"].rstrip("/")


def _stop(proc: subprocess.Popen[Any] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=10)
    except (subprocess.TimeoutExpired, OSError):
        proc.kill()
        proc.wait()


def exit_code(engine_code: int, summary: dict[str, Any] | None) -> int:
    """`vhr load`'s :class:`~vhr_conformance.outcome.ExitCode` from the engine's code and the
    verdict it wrote: PASS 0 only when every SHALL threshold was judged and met."""
    from vhr_conformance.load.slo import EXIT_OF_VERDICT

    if engine_code == ENGINE_INTERRUPTED or engine_code == ExitCode.INTERRUPTED:
        return int(ExitCode.INTERRUPTED)
    if engine_code not in (0, 1) or summary is None:
        return int(ExitCode.ERROR)
    return int(EXIT_OF_VERDICT.get(str(summary.get("verdict")), ExitCode.ERROR))


def _target_client(rc: RunConfig) -> Any:
    from vhr_conformance.client import FhirClient

    return FhirClient(
        rc.target or "", tokens=rc.tokens(timeout=30.0), timeout=30.0, retries=1, verify=rc.verify()
    )


def run_load(opts: LoadOptions) -> int:
    """Run one load test and return its :class:`~vhr_conformance.outcome.ExitCode`."""
    rc = opts.config
    seconds = duration_option(rc.load.duration) if rc.load.duration else DEFAULT_DURATION
    if rc.load.users is not None and rc.load.users < 1:
        raise UserError(Text("Số người dùng phải ≥ 1", "the number of users must be ≥ 1"), location="--users")
    if opts.spawn_rate <= 0:
        raise UserError(
            Text("Tốc độ tạo người dùng phải > 0", "the spawn rate must be > 0"), location="--spawn-rate"
        )
    if opts.processes < 1:
        raise UserError(
            Text("Số tiến trình phải ≥ 1", "the number of processes must be ≥ 1"), location="--processes"
        )
    if not 0 <= (opts.validate_sample if opts.validate_sample is not None else 0) <= 1:
        raise UserError(
            Text("Tỷ lệ kiểm tra phải trong 0–1", "the validation sample must be within 0–1"),
            location="--validate-sample",
        )
    workload = load_workload(rc.load.workload)
    slos = load_slo(rc.load.slo)
    if opts.abort_on_breach is not None:
        slos = dataclasses.replace(slos, abort_on_breach=opts.abort_on_breach)
    locustfile = (opts.locustfile or loadtests_dir() / "locustfile.py").resolve()
    if not locustfile.is_file():
        raise UserError(
            Text("Không tìm thấy locustfile: {p}", "locustfile not found: {p}").format(p=locustfile),
            location="--locustfile",
        )
    if rc.target and (opts.faults or opts.latency_ms is not None):
        raise UserError(
            Text(
                "--fault/--latency-ms chỉ dùng với máy chủ nhúng",
                "--fault/--latency-ms apply only to the embedded server",
            ),
            location="--fault",
        )
    run_id = opts.run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = (opts.report_dir / run_id / "load").resolve()
    users = rc.load.users or (workload.capacity.max_users if opts.shape == "capacity" else 10)

    server: subprocess.Popen[str] | None = None
    client = None
    data = dataset.Dataset()
    if rc.target:
        rc = rc.with_target(_check_target(rc.target))
    else:
        server, embedded = _start_embedded(opts.faults, opts.latency_ms)
        rc = rc.with_target(embedded)
    target = rc.target or ""
    cccds = pool.lookup_pool(pool.fixture_bundles())
    try:
        if server is None:  # a vendor target: does it hold the workload's patients?
            client = _target_client(rc)
            data = dataset.prepare(client, cccds, pool.fixture_bundles(), seed=opts.seed_data)
            if not opts.quiet and (data.seeded or data.problem):
                console.print(
                    data.problem.in_lang()
                    if data.problem
                    else Text(
                        "Đã nạp {n} tài nguyên người bệnh của bộ tải (sẽ xóa sau)",
                        "uploaded {n} resources of the workload's patients (deleted afterwards)",
                    )
                    .format(n=len(data.seeded))
                    .in_lang(),
                    highlight=False,
                )
        engine_env = _engine_env(rc)
        engine_env["VHR_LOAD_RUN_ID"] = run_id  # submissions carry the run's tag, removed afterwards
        mode = "master" if opts.master else ("processes" if opts.processes > 1 else "local")
        plan = {
            "run_id": run_id,
            "target": target,
            "embedded": server is not None,
            "faults": opts.faults,
            "locustfile": str(locustfile),
            "workload": workload.to_json(),
            "slo": slos.to_json(),
            "cccds": data.held or cccds,
            "users": users,
            "users_given": rc.load.users is not None,
            "spawn_rate": opts.spawn_rate,
            "duration": seconds,
            "shape": opts.shape,
            "mode": mode,
            "processes": opts.processes,
            "expect_workers": opts.expect_workers,
            "master_bind_host": opts.master_bind_host if opts.master else "127.0.0.1",
            "master_port": opts.master_port if opts.master else 0,
            "web": opts.web,
            "web_port": opts.web_port,
            "auth": engine_auth(rc.auth.mode),
            "validate_sample": -1.0 if opts.validate_sample is None else opts.validate_sample,
            "progress_every": 0 if opts.quiet else 5,
            "out_dir": str(out_dir),
        }
        out_dir.mkdir(parents=True, exist_ok=True)
        plan_path = out_dir / "plan.json"
        plan_path.write_text(json.dumps(plan, ensure_ascii=False, indent=2), encoding="utf-8")
        if not opts.quiet:
            console.print(
                f"[bold]vhr load[/] {target} · workload {workload.name} · {opts.shape} · {users} users · "
                f"{seconds:g}s · {mode}{f' ×{opts.processes}' if mode == 'processes' else ''} → {out_dir}",
                highlight=False,
            )
        engine = subprocess.Popen(
            [sys.executable, "-m", "vhr_conformance.load.engine", str(plan_path)],
            start_new_session=True,
            env=engine_env,
        )
        code = _wait_forwarding_ctrl_c(engine)
    finally:
        submissions_left: list[str] = []
        if client is not None:
            dataset.cleanup(client, data)
            submissions_left = _remove_submissions(client, run_id, workload, opts.quiet)
            client.close()
        _stop(server)
    summary_path = out_dir / "summary.json"
    summary = None
    if summary_path.is_file():
        summary = dataset.not_tested_groups(json.loads(summary_path.read_text(encoding="utf-8")), data)
        summary["submissionLeftovers"] = submissions_left
        summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if not opts.quiet:
            _print_summary(summary)
    return exit_code(code, summary)


def _remove_submissions(client: Any, run_id: str, workload: Any, quiet: bool) -> list[str]:
    """Delete what the run's transactions created on a vendor target; what is left is named."""
    from vhr_conformance.load.cleanup import remove_submissions

    types = pool.submission_types(pool.submission_pool(1, workload.pool_seed, pool.fixture_bundles()))
    deleted, leftovers = remove_submissions(client, run_id, types)
    if not quiet and (deleted or leftovers):
        console.print(
            Text(
                "Đã xóa {d} tài nguyên do tải tạo ra; còn lại {n}",
                "deleted {d} resources the load created; {n} left",
            )
            .format(d=deleted, n=len(leftovers))
            .in_lang(),
            highlight=False,
        )
    return leftovers


def _engine_env(rc: RunConfig) -> dict[str, str]:
    """The engine's environment: the credentials the command resolved once, as the `VHR_*`
    variables of `client.AuthConfig` (never the command line, never a file), and the CA bundle.

    `bearer` passes the fixed ``$VHR_TOKEN``. OAuth modes fetch one token here first, so wrong
    credentials stop the run before it starts; each Locust process then fetches its own tokens
    with the same credentials and refreshes them before they expire (`load.user.TokenRefresher`)."""
    from vhr_conformance.client.tls import CA_BUNDLE_ENV

    env = dict(os.environ)
    if rc.ca_bundle:
        env[CA_BUNDLE_ENV] = rc.ca_bundle
    if rc.auth.mode == "none":
        return env
    token = rc.tokens().token()
    if not token:
        raise UserError(Text("Không lấy được mã truy cập", "no access token obtained"), location="--auth")
    env.update(auth_env(rc.auth))
    if rc.auth.mode != "bearer":
        env["VHR_LOAD_AUTH_MODE"] = rc.auth.mode
        env["VHR_LOAD_AUTH_TARGET"] = rc.target or ""
    return env


def _wait_forwarding_ctrl_c(engine: subprocess.Popen[Any]) -> int:
    """The engine runs in its own session; Ctrl-C here asks it to stop and write a partial report."""
    while True:
        try:
            return engine.wait()
        except KeyboardInterrupt:
            console.print("Đang dừng, ghi báo cáo dở dang… / stopping, writing a partial report…")
            with contextlib.suppress(ProcessLookupError):
                engine.send_signal(signal.SIGINT)


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table(title=f"PERF — {summary['run_id']}", show_lines=False)
    for col in ("id", "status", "measured", "threshold", "metric", "group"):
        table.add_column(col, no_wrap=col in {"id", "status"})
    colour = {"pass": "green", "fail": "red", "not-tested": "yellow"}

    def shown(value: float, unit: str) -> str:
        return f"{value * 100:.2f} %" if unit == "ratio" else f"{value:.4g} {unit}"

    for r in summary["results"]:
        unit = r["unit"]
        measured = "-" if r["measured"] is None else shown(r["measured"], unit)
        table.add_row(
            r["id"],
            f"[{colour.get(r['status'], 'white')}]{r['status']}[/]",
            measured,
            f"{r['comparator']} {shown(r['threshold'], unit)}",
            r["metric"],
            r["group"],
        )
    console.print(table)
    totals = summary["totals"]
    console.print(
        f"requests {totals['requests']} · failures {totals['failures']} · {totals['throughput']} req/s · "
        f"p95 {totals['p95_ms']} ms · validated {summary['validation'].get('validated', 0)} "
        f"(invalid {summary['validation'].get('invalid', 0)})",
        highlight=False,
    )
    if summary.get("capacity"):
        best = summary["capacity"].get("best")
        if best:
            console.print(
                f"[bold]Công suất / capacity:[/] {best['throughput']} req/s @ {best['users']} users "
                f"(dừng / stopped by {summary['capacity']['stopped_by']})"
            )
        else:
            console.print("[bold red]Không bước nào đạt mọi SLO / no step met every SLO[/]")
    state = {
        "pass": "[green]ĐẠT / PASS[/]",
        "incomplete": "[yellow]CHƯA ĐẦY ĐỦ / INCOMPLETE[/] (ngưỡng SHALL chưa kiểm thử / a SHALL threshold not tested)",
    }.get(summary["verdict"], "[red]KHÔNG ĐẠT / FAIL[/]")
    if summary.get("partial"):
        state += " [yellow](dở dang / partial)[/]"
    console.print(f"Kết luận / verdict: {state}")


def _worker(master_host: str, master_port: int, locustfile: Path | None, auth: str) -> int:
    """Join a master on another machine with Locust's own worker (no report files here)."""
    path = (locustfile or loadtests_dir() / "locustfile.py").resolve()
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(path),
        "--worker",
        "--master-host",
        master_host,
        "--master-port",
        str(master_port),
    ]
    # Each worker authenticates itself: $VHR_TOKEN (bearer), or OAuth credentials from its own
    # environment or --auth-config file, refreshed before expiry.
    env = {**os.environ, "VHR_LOAD_AUTH": engine_auth(auth)}
    if engine_auth(auth) == "oauth":
        env["VHR_LOAD_AUTH_MODE"] = auth
    return subprocess.call(cmd, env=env)


def load(
    target: str | None = typer.Option(
        None,
        "--target",
        help="URL gốc FHIR; bỏ trống = máy chủ tham chiếu nhúng / FHIR base URL; none = embedded reference server",
    ),
    workload: str | None = typer.Option(
        None,
        "--workload",
        help="Tên trong loadtests/workloads hoặc đường dẫn YAML / workload name or YAML path (default standard)",
    ),
    slo_file: Path | None = typer.Option(
        None, "--slo", help="Tệp SLO (mặc định loadtests/slo.yaml) / SLO file"
    ),
    users: int | None = typer.Option(
        None, "--users", help="Số người dùng đồng thời (mặc định 10) / concurrent users"
    ),
    spawn_rate: float = typer.Option(
        10.0, "--spawn-rate", help="Người dùng mới mỗi giây / users started per second"
    ),
    duration: str | None = typer.Option(
        None, "--duration", help="Thời lượng, ví dụ 15s, 5m (mặc định 30s) / run time"
    ),
    report_dir: Path = typer.Option(
        Path("reports"), "--report-dir", help="Thư mục báo cáo gốc / reports root"
    ),
    run_id: str | None = typer.Option(None, "--run-id", help="Mã lượt chạy (mặc định theo giờ UTC) / run id"),
    processes: int = typer.Option(
        1, "--processes", help="Số tiến trình worker cục bộ / local worker processes"
    ),
    master: bool = typer.Option(False, "--master", help="Làm master, chờ worker từ máy khác / act as master"),
    worker: bool = typer.Option(False, "--worker", help="Làm worker của một master / act as a worker"),
    master_host: str = typer.Option("127.0.0.1", "--master-host", help="Địa chỉ master (cho --worker)"),
    master_port: int = typer.Option(5557, "--master-port", help="Cổng master / master port"),
    master_bind_host: str = typer.Option(
        "127.0.0.1", "--master-bind-host", help="Giao diện master lắng nghe / master bind address"
    ),
    expect_workers: int = typer.Option(
        1, "--expect-workers", help="Số worker master chờ / workers the master waits for"
    ),
    shape: Shape = typer.Option(Shape.constant, "--shape", help="constant | steps | capacity"),
    web: bool = typer.Option(
        False, "--web", help="Mở giao diện web Locust (127.0.0.1:--web-port) để theo dõi / Locust web UI"
    ),
    web_port: int = typer.Option(8089, "--web-port"),
    auth: Auth | None = typer.Option(
        None, "--auth", help="none | bearer ($VHR_TOKEN) | client-credentials | smart-backend (else vhr.toml)"
    ),
    auth_config: Path | None = typer.Option(None, "--auth-config", help=AUTH_CONFIG_HELP),
    ca_bundle: Path | None = typer.Option(None, "--ca-bundle", help=CA_BUNDLE_HELP),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
    validate_sample: float | None = typer.Option(
        None, "--validate-sample", help="Tỷ lệ phản hồi được kiểm tra hợp lệ 0–1 / share validated"
    ),
    fault: list[str] = typer.Option(
        [], "--fault", help="Lỗi giả lập của máy chủ nhúng / embedded server fault"
    ),
    latency_ms: int | None = typer.Option(
        None, "--latency-ms", help="Độ trễ thêm của máy chủ nhúng / embedded server latency"
    ),
    locustfile: Path | None = typer.Option(None, "--locustfile", help="locustfile khác / another locustfile"),
    abort_on_breach: bool | None = typer.Option(
        None,
        "--abort-on-breach/--no-abort-on-breach",
        help="Dừng sớm khi vi phạm SLO (mặc định theo slo.yaml) / stop early on a breach",
    ),
    seed_data: bool = typer.Option(
        True,
        "--seed-data/--no-seed-data",
        help="Nạp người bệnh của bộ tải khi máy chủ chưa có (rồi xóa) / upload the workload's patients when the "
        "target holds none (deleted afterwards); without them the patient thresholds are not tested",
    ),
) -> None:
    """Kiểm thử tải và công suất với Locust, kết luận theo SLO / load and capacity test with an SLO verdict."""
    rc = build(
        config,
        target=target,
        auth=auth.value if auth else None,
        auth_config=auth_config,
        ca_bundle=ca_bundle,
        workload=workload,
        duration=duration,
        users=users,
        slo=slo_file,
        command="load",
    )
    if worker:
        if master:
            raise UserError(
                Text("Không thể vừa --master vừa --worker", "--master and --worker exclude each other"),
                location="--worker",
            )
        raise SystemExit(_worker(master_host, master_port, locustfile, rc.auth.mode))
    if master and processes > 1:
        raise UserError(
            Text(
                "--master dùng worker từ xa, không dùng --processes",
                "--master takes remote workers, not --processes",
            ),
            location="--processes",
        )
    code = run_load(
        LoadOptions(
            config=rc,
            spawn_rate=spawn_rate,
            report_dir=report_dir,
            run_id=run_id,
            processes=processes,
            master=master,
            expect_workers=expect_workers,
            master_bind_host=master_bind_host,
            master_port=master_port,
            shape=shape.value,
            web=web,
            web_port=web_port,
            validate_sample=validate_sample,
            faults=list(fault),
            latency_ms=latency_ms,
            locustfile=locustfile,
            abort_on_breach=abort_on_breach,
            seed_data=seed_data,
        )
    )
    # SystemExit, not typer.Exit: the CLI runs click with standalone_mode=False, which turns
    # typer.Exit into a return value and would lose the verdict's exit code.
    raise SystemExit(code)


def register(app: typer.Typer) -> None:
    app.command("load")(load)
