"""`vhr run`: run the conformance suites against a target, or the embedded reference server."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vhr_conformance.catalogue import LEVELS, load_catalogue, suites_dir
from vhr_conformance.client.auth import AuthConfig
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.outcome import STATE_TEXT, ExitCode, State
from vhr_conformance.pytest_plugin import get_state, interrupt, new_run_id, summary_lines
from vhr_conformance.runconfig import AUTH_CONFIG_HELP, AUTH_HELP, RunConfig
from vhr_conformance.runconfig import build as build_run_config
from vhr_conformance.runner.withload import ACCEPTANCE_DURATION, ACCEPTANCE_USERS, acceptance_load

console = Console()

# Test clients of the embedded server in `--embedded-auth oauth` mode (public test values).
EMBEDDED_ADMIN = ("vhr-test-admin", "vhr-test-admin-secret")
EMBEDDED_READER = ("vhr-test-reader", "vhr-test-reader-secret")


class _Progress:
    """A pytest plugin that shows one progress bar per criteria area."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}
        self.area_of: dict[str, str] = {}
        self.failed: dict[str, int] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        state = get_state(config)
        if state is None:
            return
        from vhr_conformance.pytest_plugin import item_criteria

        counts: dict[str, int] = {}
        for item in items:
            ids = item_criteria(item)
            area = state.catalogue.criteria[ids[0]].area if ids else "?"
            self.area_of[item.nodeid] = area
            counts[area] = counts.get(area, 0) + 1
        for area in state.catalogue.areas:
            if area in counts:
                title = state.catalogue.areas[area].in_lang()
                self.tasks[area] = self.progress.add_task(f"{area:5} {title}", total=counts[area])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            area = self.area_of.get(report.nodeid)
            if area in self.tasks:
                self.progress.advance(self.tasks[area])


def _summary_table(run: Any) -> Table:
    t = Table(title="VHR — kết quả theo mức / results by level")
    states = [str(st) for st in State]
    for col in ("Mức / Level", *(STATE_TEXT[State(st)].both() for st in states), "Tỷ lệ đạt / Pass rate"):
        t.add_column(col, justify="right")
    colour = {"fail": "red", "error": "magenta", "not-tested": "yellow"}
    s = run.summary()
    for level in LEVELS:
        r = s[level]
        rate = "—" if r["pass_rate"] is None else f"{r['pass_rate'] * 100:.1f}%"
        cells = [f"[{colour[st]}]{r[st]}[/]" if r[st] and st in colour else str(r[st]) for st in states]
        t.add_row(level, *cells, rate)
    return t


class _Interrupts:
    """SIGINT, SIGTERM and the `--deadline` stop the run the same way: mark it INTERRUPTED, then let
    pytest unwind (KeyboardInterrupt), which tears the session fixtures down (the clean-up of what
    the run created) and writes the partial report. A second SIGINT aborts that; a second SIGTERM
    is ignored so the clean-up can finish."""

    def __init__(self) -> None:
        self.fired = False
        self.saved: dict[int, Any] = {}
        self.timer: threading.Timer | None = None

    def _stop(self, reason: Text) -> None:
        interrupt(reason)
        if not self.fired:
            self.fired = True
            raise KeyboardInterrupt

    def on_signal(self, signum: int, _frame: Any) -> None:
        if signum == signal.SIGTERM:
            if not self.fired:
                self._stop(Text("Nhận tín hiệu SIGTERM", "Received SIGTERM"))
            return
        if self.fired:
            raise KeyboardInterrupt
        self._stop(Text("Ngắt bằng Ctrl-C (SIGINT)", "Interrupted by Ctrl-C (SIGINT)"))

    def on_deadline(self, limit: str) -> None:
        interrupt(
            Text("Hết thời hạn --deadline {d}", "The --deadline {d} expired").format(d=limit)
        )  # the reason first, then the main thread is woken like by Ctrl-C (also out of a blocking call)
        if not self.fired:
            self.fired = True
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)

    def on_usr1(self, _signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    @contextmanager
    def installed(self, deadline_s: float | None, limit: str) -> Iterator[None]:
        for sig, handler in (
            (signal.SIGINT, self.on_signal),
            (signal.SIGTERM, self.on_signal),
            (signal.SIGUSR1, self.on_usr1),
        ):
            self.saved[sig] = signal.signal(sig, handler)
        if deadline_s is not None:
            self.timer = threading.Timer(deadline_s, self.on_deadline, args=(limit,))
            self.timer.daemon = True
            self.timer.start()
        try:
            yield
        finally:
            if self.timer is not None:
                self.timer.cancel()
            for signum, handler in self.saved.items():
                signal.signal(signum, handler)


def run_suites(
    target: str,
    args: list[str],
    progress: bool = True,
    terminal: bool = True,
    run_config: RunConfig | None = None,
) -> tuple[int, Any]:
    """Run pytest over the suites in-process; returns (exit code, VhrState). With `run_config` the
    plugin takes target, credentials, CA bundle, level, scope, timeout, seed and IG from it."""
    captured: dict[str, Any] = {}

    class _Grab:
        @pytest.hookimpl(trylast=True)
        def pytest_sessionfinish(self, session: pytest.Session) -> None:
            captured["state"] = get_state(session.config)

    argv = [str(suites_dir()), "-p", "no:cacheprovider", "--vhr-target", target, *args]
    plugins: list[Any] = [_Grab()]
    if run_config is not None:
        from vhr_conformance.pytest_plugin import RunConfigCarrier

        plugins.append(RunConfigCarrier(run_config))
    if progress:
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        plugins.append(_Progress(bar))
        with bar:
            # The terminal reporter would draw over the progress bars; its ini options go with it.
            code = pytest.main([*argv, "-o", "addopts=", "-p", "no:terminal"], plugins=plugins)
    elif terminal:
        code = pytest.main([*argv, "-q"], plugins=plugins)
    else:
        code = pytest.main([*argv, "-o", "addopts=", "-p", "no:terminal"], plugins=plugins)
    return int(code), captured.get("state")


def _check_only(only: str) -> None:
    """Unknown areas or criteria in --only are a usage error that lists the valid ones."""
    cat = load_catalogue()
    wanted = [x.strip() for x in only.split(",") if x.strip()]
    unknown = [x for x in wanted if x not in cat.areas and x not in cat.criteria]
    if unknown or not wanted:
        raise UserError(
            Text(
                "Không có nhóm/tiêu chí: {u}. Nhóm hợp lệ: {a} (hoặc mã tiêu chí, ví dụ VHR-API-003).",
                "No such area or criterion: {u}. Valid areas: {a} (or criterion ids such as VHR-API-003).",
            ).format(u=", ".join(unknown) or "—", a=", ".join(cat.areas)),
            location="--only",
        )


def _rerun_scope(results: Path) -> str:
    """The criteria of an earlier run that did not pass (failed, erred or not tested), as an --only list."""
    from vhr_conformance.diff_cli import load_results

    data = load_results(results)
    again = [
        str(c["id"])
        for c in data["criteria"]
        if isinstance(c, dict)
        and c.get("inScope", True)
        and c.get("state") in ("fail", "error", "not-tested", "skip")
        and c.get("verification", "automated") == "automated"
        and c.get("actor", "server") == "server"
    ]
    return ",".join(again)


def _embedded_auth() -> AuthConfig:
    """The embedded server's public test clients (`--embedded-auth oauth`): admin and reader."""
    return AuthConfig(
        mode="client-credentials",
        client_id=EMBEDDED_ADMIN[0],
        client_secret=EMBEDDED_ADMIN[1],
        scope="system/*.*",
        extra={
            "limited_token": None,
            "limited_client_id": EMBEDDED_READER[0],
            "limited_client_secret": EMBEDDED_READER[1],
            "limited_scope": "system/*.read",
        },
    )


def _preflight(rc: RunConfig, embedded: bool) -> dict[str, Any]:
    """`vhr doctor` before the suites: a target that does not answer stops the run in seconds (ERROR).

    Returns the target's identity (address, TLS certificate, software) for the evidence bundle."""
    from vhr_conformance.doctor import FAIL, N_META, N_REACH, N_URL, diagnose

    diag = diagnose(rc.target or "", verify=rc.verify(), tokens=rc.tokens(timeout=5.0))
    # Only "nothing answers here" stops the run: an untrusted certificate or plain http is the
    # vendor's failure, judged by VHR-SEC-001 in the run itself, and a token problem by SEC criteria.
    unusable = any(c.verdict == FAIL and c.name in (N_URL, N_REACH, N_META) for c in diag.checks)
    if unusable and not embedded:
        for check in diag.checks:
            if check.verdict == FAIL:
                console.print(
                    f"[bold red]✗[/] {check.name.in_lang()}: {check.message.in_lang()}", highlight=False
                )
        console.print(
            Text(
                "Không dùng được máy chủ: dừng trước khi chạy bộ kiểm thử (xem `vhr doctor`).",
                "The target cannot be used: stopped before the suites (see `vhr doctor`).",
            ).in_lang()
        )
        sys.exit(int(ExitCode.ERROR))
    return diag.identity()


def _write_evidence(
    report_dir: Path, signer: Any, identity: dict[str, Any], vendor: dict[str, Any], options: dict[str, Any]
) -> Path | None:
    """The run's evidence bundle (docs/evidence.md); a failure to write it is said, never hidden."""
    from vhr_conformance.evidence.bundle import write_evidence

    path, said = write_evidence(report_dir, signer, target=identity, vendor=vendor, options=options)
    console.print(said.both(), highlight=False, markup=False, style=None if path else "red")
    return path


def _paper_report(
    state: Any, out: Path, identity: dict[str, Any], vendor: dict[str, Any], signer: Any
) -> None:
    """The report again, now with what only the runner knows (target identity, vendor, harness
    fingerprint, the signer `--sign-key` will sign with), and its PDF when Chromium is installed."""
    from vhr_conformance.evidence.fingerprint import Harness
    from vhr_conformance.evidence.keys import signer_record
    from vhr_conformance.reports.model import Provenance
    from vhr_conformance.reports.pdf import CHROMIUM_MISSING
    from vhr_conformance.reports.writer import write_reports

    state.run.provenance = Provenance(
        target=identity,
        vendor=vendor,
        harness_fingerprint=Harness.current().fingerprint,
        signer=signer_record(signer),
    )
    state.report_paths = write_reports(state.run, out, pdf=True)
    console.print(f"Báo cáo / report: [bold]{state.report_paths.get('html')}[/]")
    if "pdf" in state.report_paths:
        console.print(f"PDF: [bold]{state.report_paths['pdf']}[/]")
    else:
        console.print(f"[yellow]{CHROMIUM_MISSING.in_lang()}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        target: str | None = typer.Option(
            None, "--target", help="URL máy chủ FHIR / FHIR base URL (default: embedded reference server)"
        ),
        report_dir: Path = typer.Option(
            None, "--report-dir", help="Thư mục báo cáo / report folder (default reports/<run-id>)"
        ),
        level: str = typer.Option(None, "--level", help="SHALL | SHOULD | MAY (all; default MAY)"),
        fault: list[str] = typer.Option(
            [], "--fault", help="Lỗi giả lập của máy chủ nhúng / embedded-server fault"
        ),
        auth: str = typer.Option(None, "--auth", help=AUTH_HELP + " (else vhr.toml)"),
        auth_config: Path | None = typer.Option(None, "--auth-config", help=AUTH_CONFIG_HELP),
        embedded_auth: str = typer.Option(
            "oauth",
            "--embedded-auth",
            help="oauth | none: the embedded server requires OAuth2 by default, so the 401/403 checks run",
        ),
        embedded_tls: bool = typer.Option(
            True,
            "--embedded-tls/--no-embedded-tls",
            help="Máy chủ nhúng dùng https với CA dùng một lần / the embedded server speaks https with a throwaway CA the "
            "harness trusts, so VHR-SEC-001 is really checked",
        ),
        ca_bundle: Path | None = typer.Option(
            None,
            "--ca-bundle",
            help="Tệp PEM CA tin cậy cho --target https / PEM CA bundle "
            "to trust for an https --target (private CA); verification stays on",
        ),
        ig: str = typer.Option(None, "--ig", help="Gói IG / IG package (default: VHR IG)"),
        seed: int = typer.Option(None, "--seed", help="Seed (default: that of the checked-in fixtures)"),
        only: str | None = typer.Option(
            None, "--only", help="Nhóm hoặc tiêu chí / areas or criteria, e.g. API,VHR-SEC-005"
        ),
        timeout: float = typer.Option(
            None, "--timeout", help="Giây cho mỗi yêu cầu / seconds per request (15)"
        ),
        cleanup: bool = typer.Option(True, "--cleanup/--no-cleanup"),
        quiet: bool = typer.Option(False, "--quiet", help="Không hiện tiến độ / no progress bars"),
        workers: int = typer.Option(
            1,
            "--workers",
            min=1,
            help="Tiến trình song song (pytest-xdist) / parallel workers; "
            "each uploads its own test data; helps against remote targets",
        ),
        xml: Path | None = typer.Option(
            None,
            "--xml",
            help="Tệp/thư mục XML 130: tiêu chí MAP / XML 130 file or folder for the MAP criteria "
            "(embedded server without it: XML twins of the coverage fixtures)",
        ),
        with_load: bool = typer.Option(
            True,
            "--with-load/--no-load",
            help="Chạy tải chuẩn ngắn sau bộ kiểm thử (mặc định) / run the short standard load after the suites "
            "(default; VHR-PERF-003/004). --no-load leaves them not tested: the run is at best INCOMPLETE",
        ),
        load_duration: str | None = typer.Option(
            None,
            "--load-duration",
            help=f"Thời lượng tải / load duration, e.g. 12s, 2m (else vhr.toml [load], {ACCEPTANCE_DURATION})",
        ),
        load_workload: str | None = typer.Option(
            None,
            "--load-workload",
            help="Kịch bản tải / workload (loadtests/workloads; else vhr.toml [load], standard)",
        ),
        load_shape: str = typer.Option(
            "constant", "--load-shape", help="constant | steps | capacity (capacity verifies VHR-PERF-004)"
        ),
        load_users: int | None = typer.Option(
            None,
            "--load-users",
            help="Người dùng đồng thời của tải / concurrent load users (else vhr.toml [load], "
            f"{ACCEPTANCE_USERS}: enough samples for every SLO in 12 s; the capacity shape climbs by the "
            "workload's own steps)",
        ),
        config: Path = typer.Option(
            None,
            "--config",
            help="vhr.toml của nhà cung cấp / vendor configuration (default ./vhr.toml, $VHR_CONFIG)",
        ),
        output: str = typer.Option(
            "text", "--format", help="text | json (tóm tắt JSON ra stdout / JSON summary on stdout)"
        ),
        rerun_failed: Path = typer.Option(
            None,
            "--rerun-failed",
            help="results.json của lần trước: chỉ chạy lại tiêu chí không đạt/lỗi/chưa kiểm thử / rerun only what "
            "failed, erred or was not tested in that run",
        ),
        sign_key: Path | None = typer.Option(
            None,
            "--sign-key",
            help="Khóa riêng Ed25519 ký gói bằng chứng / key that signs the evidence bundle",
        ),
        vendor_org: str = typer.Option(
            None, "--vendor-org", help="Tổ chức được kiểm thử / organisation tested"
        ),
        product: str = typer.Option(None, "--product", help="Sản phẩm / product tested"),
        product_version: str = typer.Option(None, "--product-version", help="Phiên bản / product version"),
        attestations: Path | None = typer.Option(
            None,
            "--attestations",
            help="Tệp xác nhận YAML / attestation file (docs/evidence.md; default for the embedded server: "
            "its own; without one every SHALL attestation keeps the run INCOMPLETE)",
        ),
        trust: list[Path] = typer.Option(
            [], "--trust", help="Khóa người thẩm định / trusted reviewers' keys: their signed reviews count"
        ),
        audit: bool = typer.Option(
            False,
            "--audit",
            help="Kiểm tra dữ liệu của chính kho ($export) trước bộ kiểm thử: tiêu chí VHR-QUAL-2xx / audit the "
            "target's own data ($export, else paged search) before the suites; without it QUAL-2xx are out of scope",
        ),
        audit_ndjson: list[Path] = typer.Option(
            [],
            "--audit-ndjson",
            help="Tệp/thư mục NDJSON của kho cho --audit / the store's NDJSON export to audit",
        ),
        deadline: str | None = typer.Option(
            None,
            "--deadline",
            help="Thời hạn cả lượt chạy / overall time limit, e.g. 30m: when it expires the run stops like on "
            "Ctrl-C (partial report marked INTERRUPTED, clean-up of the run's data, exit 4)",
        ),
    ) -> None:
        """Chạy bộ kiểm thử tuân thủ / run the conformance suites."""
        if output not in ("text", "json"):
            raise UserError(
                Text("--format là text hoặc json.", "--format is text or json."), location="--format"
            )
        if output == "json":
            console.file = sys.stderr  # stdout carries only the JSON summary
        if level is not None and level not in LEVELS:
            raise UserError(
                Text("Mức không hợp lệ: {l}", "Invalid level: {l}").format(l=level), location="--level"
            )
        rerun = _rerun_scope(rerun_failed) if rerun_failed is not None else None
        rc = build_run_config(
            config,
            target=target,
            auth=auth,
            auth_config=auth_config,
            ca_bundle=ca_bundle,
            level=level,
            only=rerun if rerun is not None else only,
            xml=xml,
            deadline=deadline,
            timeout=timeout,
            seed=seed,
            ig=ig,
            sign_key=sign_key,
            attestations=attestations,
            organisation=vendor_org,
            product=product,
            version=product_version,
            workload=load_workload,
            duration=load_duration,
            users=load_users,
        )
        rc = replace(rc, load=acceptance_load(rc.load, load_shape))  # what the load phase runs with
        target, only, deadline = rc.target, ",".join(rc.only) or None, rc.deadline
        signer = None
        if rc.sign_key is not None:
            from vhr_conformance.evidence.keys import load_signing_key

            signer = load_signing_key(rc.sign_key)
        if rerun_failed is not None and not rerun:
            console.print(
                Text(
                    "Không có tiêu chí nào cần chạy lại trong {p}.",
                    "Nothing to rerun in {p}: every criterion passed.",
                )
                .format(p=rerun_failed)
                .in_lang()
            )
            sys.exit(int(ExitCode.PASS))
        if only:
            _check_only(only)
        if rc.ca_bundle is not None and not target:
            raise UserError(
                Text("--ca-bundle chỉ dùng với --target.", "--ca-bundle only applies with --target."),
                location="--ca-bundle",
            )
        if fault and target:
            raise UserError(
                Text(
                    "--fault chỉ dùng với máy chủ nhúng (không có --target).",
                    "--fault only applies to the embedded server (no --target).",
                ),
                location="--fault",
            )
        deadline_s = None
        if deadline is not None:
            from vhr_conformance.durations import duration_option

            deadline_s = duration_option(deadline, "--deadline")
        catalogue = load_catalogue()  # a broken catalogue or IG is a user error before anything starts
        from vhr_conformance.igmodel import load_ig

        load_ig(ig)
        run_id = new_run_id()
        out = report_dir or Path("reports") / run_id
        # target, credentials, CA, level, scope, timeout, seed and IG travel in `rc`, not as flags
        args = ["--vhr-report-dir", str(out), "--vhr-run-id", run_id]
        args += ["--vhr-cleanup" if cleanup else "--no-vhr-cleanup"]
        if workers > 1:
            args += ["-n", str(workers)]
        from vhr_conformance.runner.withload import run_args

        lo = rc.load
        args += run_args(
            rc.xml,
            not target,
            with_load,
            lo.duration or ACCEPTANCE_DURATION,
            lo.workload,
            load_shape,
            lo.users,
            lo.slo,
        )
        from vhr_conformance.evidence.attestations import run_args as attestation_args

        args += attestation_args(rc.attestations, trust, not target, catalogue.criteria)
        srv = None
        tls_dir: Path | None = None
        stops = _Interrupts()
        state = None
        code = int(ExitCode.ERROR)
        started = time.monotonic()
        try:
            if not target:
                from vhr_conformance.runner.embedded import start_embedded
                from vhr_conformance.server.faults import parse_faults

                faults = sorted(parse_faults(fault))
                tls = None
                if embedded_tls:
                    from vhr_conformance.runner.tlscerts import make_tls_files

                    tls_files = make_tls_files()
                    tls_dir, tls = tls_files.folder, tls_files.server
                    rc = replace(rc, ca_bundle=str(tls_files.ca))
                srv = start_embedded(faults, auth="oauth" if embedded_auth == "oauth" else "none", tls=tls)
                target = srv.base_url
                console.print(
                    f"Máy chủ tham chiếu nhúng / embedded reference server: [bold]{target}[/]"
                    + (f" faults={','.join(faults)}" if faults else "")
                )
                rc = rc.with_target(target, _embedded_auth() if embedded_auth == "oauth" else None)
            identity = _preflight(rc, embedded=srv is not None)
            console.print(f"Đang kiểm thử / testing [bold]{target}[/] (run {run_id})")
            started = time.monotonic()
            # Per-area progress needs the collected items, which an xdist controller never sees.
            with stops.installed(deadline_s, deadline or ""):
                if audit or audit_ndjson:  # before the suites write anything: the vendor's own data
                    from vhr_conformance.audit.fold import run_args as audit_args

                    target_audited = target if audit else None
                    args += audit_args(out, target_audited, audit_ndjson, rc.auth, rc.ca_bundle)
                code, state = run_suites(target, args, progress=not quiet and workers == 1, run_config=rc)
        except KeyboardInterrupt:  # before or after pytest's own session (start-up, embedded server)
            code = int(ExitCode.INTERRUPTED)
        finally:
            if srv is not None:
                line = srv.save_audit_log(out)  # the log is kept with the run's evidence (VHR-SEC-008)
                console.print(line.both(), highlight=False, markup=False, soft_wrap=True)
                srv.stop()
            if tls_dir is not None:
                import shutil

                shutil.rmtree(tls_dir, ignore_errors=True)
        # sys.exit, not typer.Exit: the CLI runs click with standalone_mode=False, which swallows Exit codes.
        if state is None or state.run is None:
            # collection or usage problems of the harness itself, or stopped before any report
            sys.exit(int(ExitCode.INTERRUPTED) if stops.fired else int(ExitCode.ERROR))
        console.print(_summary_table(state.run))
        cases = state.run.summary()["cases"]
        console.print(f"Ca kiểm thử / cases: {cases['total']} in {time.monotonic() - started:.1f} s")
        for line in summary_lines(state.run)[len(LEVELS) :]:
            console.print(line, highlight=False, markup=False)
        from vhr_conformance.evidence.attestations import console_lines

        for line in console_lines(state.run):
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        if state.run.cleanup_leftovers:
            console.print(
                f"[yellow]Chưa xóa được / not deleted:[/] {len(state.run.cleanup_leftovers)} (xem báo cáo / see report)"
            )
        _paper_report(state, out, locals().get("identity") or {"url": target}, rc.vendor.to_json(), signer)
        code_run = state.run.exit_code()
        if code_run == 0 and code != 0:
            code_run = int(ExitCode.ERROR)  # pytest's own usage or internal errors: never a pass
        bundle = _write_evidence(
            out, signer, locals().get("identity") or {"url": target}, rc.vendor.to_json(), state.run.options
        )
        if output == "json":
            summary = {
                "runId": state.run.run_id,
                "target": state.run.target,
                "verdict": str(state.run.verdict()),
                "exitCode": code_run,
                "summary": state.run.summary(),
                "failed": state.run.failed_criteria(),
                "reports": {k: str(v) for k, v in state.report_paths.items()},
                "evidenceBundle": str(bundle) if bundle else None,
            }
            sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        sys.exit(code_run)
