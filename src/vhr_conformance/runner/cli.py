"""`vhr run`: run the conformance suites against a target, or the embedded reference server."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vhr_conformance.i18n import Text, UserError
from vhr_conformance.pytest_plugin import get_state, new_run_id
from vhr_conformance.runner.catalogue import LEVELS, load_catalogue, suites_dir

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
    for col in (
        "Mức / Level",
        "Đạt / Pass",
        "Không đạt / Fail",
        "Bỏ qua / Skip",
        "Không áp dụng / Omit",
        "Lỗi / Error",
        "Xác nhận / Attestation",
        "Tỷ lệ đạt / Pass rate",
    ):
        t.add_column(col, justify="right")
    s = run.summary()
    for level in LEVELS:
        r = s[level]
        rate = "—" if r["pass_rate"] is None else f"{r['pass_rate'] * 100:.1f}%"
        t.add_row(
            level,
            str(r["pass"]),
            f"[red]{r['fail']}[/]" if r["fail"] else "0",
            str(r["skip"]),
            str(r["omit"]),
            f"[magenta]{r['error']}[/]" if r["error"] else "0",
            str(r["attestation"]),
            rate,
        )
    return t


def run_suites(target: str, args: list[str], progress: bool = True, terminal: bool = True) -> tuple[int, Any]:
    """Run pytest over the suites in-process; returns (exit code, VhrState)."""
    captured: dict[str, Any] = {}

    class _Grab:
        @pytest.hookimpl(trylast=True)
        def pytest_sessionfinish(self, session: pytest.Session) -> None:
            captured["state"] = get_state(session.config)

    argv = [str(suites_dir()), "-p", "no:cacheprovider", "--vhr-target", target, *args]
    plugins: list[Any] = [_Grab()]
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


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        target: str = typer.Option(
            None, "--target", help="URL máy chủ FHIR / FHIR base URL (default: embedded reference server)"
        ),
        report_dir: Path = typer.Option(
            None, "--report-dir", help="Thư mục báo cáo / report folder (default reports/<run-id>)"
        ),
        level: str = typer.Option("MAY", "--level", help="SHALL | SHOULD | MAY (all)"),
        fault: list[str] = typer.Option(
            [], "--fault", help="Lỗi giả lập của máy chủ nhúng / embedded-server fault"
        ),
        auth: str = typer.Option("none", "--auth", help="none | bearer | client-credentials | smart-backend"),
        auth_config: Path = typer.Option(
            None, "--auth-config", help="YAML/JSON: token_url, client_id, secrets"
        ),
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
        ca_bundle: Path = typer.Option(
            None,
            "--ca-bundle",
            help="Tệp PEM CA tin cậy cho --target https / PEM CA bundle "
            "to trust for an https --target (private CA); verification stays on",
        ),
        ig: str = typer.Option(None, "--ig", help="Gói IG / IG package (default: VHR IG)"),
        seed: int = typer.Option(None, "--seed", help="Seed (default: that of the checked-in fixtures)"),
        only: str = typer.Option(
            None, "--only", help="Nhóm hoặc tiêu chí / areas or criteria, e.g. API,VHR-SEC-005"
        ),
        timeout: float = typer.Option(15.0, "--timeout"),
        cleanup: bool = typer.Option(True, "--cleanup/--no-cleanup"),
        quiet: bool = typer.Option(False, "--quiet", help="Không hiện tiến độ / no progress bars"),
        workers: int = typer.Option(
            1,
            "--workers",
            min=1,
            help="Tiến trình song song (pytest-xdist) / parallel workers; "
            "each uploads its own test data; helps against remote targets",
        ),
        xml: Path = typer.Option(
            None,
            "--xml",
            help="Tệp/thư mục XML 130: tiêu chí MAP / XML 130 file or folder for the MAP criteria "
            "(embedded server without it: XML twins of the coverage fixtures)",
        ),
        with_load: bool = typer.Option(
            False,
            "--with-load",
            help="Chạy tải sau bộ kiểm thử / run the load after the suites (VHR-PERF-003/004)",
        ),
        load_duration: str = typer.Option(
            "15s", "--load-duration", help="Thời lượng tải / load duration, e.g. 15s, 2m"
        ),
        load_workload: str = typer.Option(
            "standard", "--load-workload", help="Kịch bản tải / workload (loadtests/workloads)"
        ),
        load_shape: str = typer.Option(
            "constant", "--load-shape", help="constant | steps | capacity (capacity verifies VHR-PERF-004)"
        ),
    ) -> None:
        """Chạy bộ kiểm thử tuân thủ / run the conformance suites."""
        if level not in LEVELS:
            raise UserError(
                Text("Mức không hợp lệ: {l}", "Invalid level: {l}").format(l=level), location="--level"
            )
        if ca_bundle is not None and not target:
            raise UserError(
                Text("--ca-bundle chỉ dùng với --target.", "--ca-bundle only applies with --target."),
                location="--ca-bundle",
            )
        if ca_bundle is not None:
            from vhr_conformance.client.tls import check_bundle

            check_bundle(ca_bundle, location="--ca-bundle")
        if fault and target:
            raise UserError(
                Text(
                    "--fault chỉ dùng với máy chủ nhúng (không có --target).",
                    "--fault only applies to the embedded server (no --target).",
                ),
                location="--fault",
            )
        load_catalogue()  # a broken catalogue or IG is a user error before anything starts
        from vhr_conformance.runner.igmodel import load_ig

        load_ig(ig)
        run_id = new_run_id()
        out = report_dir or Path("reports") / run_id
        args = [
            "--vhr-level",
            level,
            *(["--vhr-seed", str(seed)] if seed is not None else []),
            "--vhr-report-dir",
            str(out),
            "--vhr-run-id",
            run_id,
            "--vhr-timeout",
            str(timeout),
            "--vhr-cleanup" if cleanup else "--no-vhr-cleanup",
        ]
        if ig:
            args += ["--vhr-ig", ig]
        if only:
            args += ["--vhr-only", only]
        if workers > 1:
            args += ["-n", str(workers)]
        from vhr_conformance.runner.withload import run_args

        args += run_args(xml, not target, with_load, load_duration, load_workload, load_shape)
        srv = None
        tmp_config = None
        tls_dir: Path | None = None
        try:
            if ca_bundle is not None:
                args += ["--vhr-ca-bundle", str(ca_bundle)]
            if not target:
                from vhr_conformance.runner.embedded import start_embedded
                from vhr_conformance.server.faults import parse_faults

                faults = sorted(parse_faults(fault))
                tls = None
                if embedded_tls:
                    from vhr_conformance.runner.tlscerts import make_tls_files

                    tls_files = make_tls_files()
                    tls_dir, tls = tls_files.folder, tls_files.server
                    args += ["--vhr-ca-bundle", str(tls_files.ca)]
                srv = start_embedded(faults, auth="oauth" if embedded_auth == "oauth" else "none", tls=tls)
                target = srv.base_url
                console.print(
                    f"Máy chủ tham chiếu nhúng / embedded reference server: [bold]{target}[/]"
                    + (f" faults={','.join(faults)}" if faults else "")
                )
                if embedded_auth == "oauth":
                    fd, tmp_config = tempfile.mkstemp(suffix=".json", prefix="vhr-auth-")
                    with os.fdopen(fd, "w") as fh:
                        json.dump(
                            {
                                "client_id": EMBEDDED_ADMIN[0],
                                "client_secret": EMBEDDED_ADMIN[1],
                                "limited_client_id": EMBEDDED_READER[0],
                                "limited_client_secret": EMBEDDED_READER[1],
                                "scope": "system/*.*",
                            },
                            fh,
                        )
                    auth, auth_config = "client-credentials", Path(tmp_config)
            args += ["--vhr-auth", auth]
            if auth_config:
                args += ["--vhr-auth-config", str(auth_config)]
            console.print(f"Đang kiểm thử / testing [bold]{target}[/] (run {run_id})")
            started = time.monotonic()
            # Per-area progress needs the collected items, which an xdist controller never sees.
            code, state = run_suites(target, args, progress=not quiet and workers == 1)
        finally:
            if srv is not None:
                srv.stop()
            if tmp_config:
                Path(tmp_config).unlink(missing_ok=True)
            if tls_dir is not None:
                import shutil

                shutil.rmtree(tls_dir, ignore_errors=True)
        # sys.exit, not typer.Exit: the CLI runs click with standalone_mode=False, which swallows Exit codes.
        if state is None or state.run is None:
            sys.exit(code if code else 3)
        console.print(_summary_table(state.run))
        cases = state.run.summary()["cases"]
        console.print(f"Ca kiểm thử / cases: {cases['total']} in {time.monotonic() - started:.1f} s")
        failed = state.run.failed_criteria()
        if failed:
            console.print("[red]Không đạt / failed:[/] " + ", ".join(failed))
        if state.run.cleanup_leftovers:
            console.print(
                f"[yellow]Chưa xóa được / not deleted:[/] {len(state.run.cleanup_leftovers)} (xem báo cáo / see report)"
            )
        console.print(f"Báo cáo / report: [bold]{state.report_paths.get('html')}[/]")
        code_run = state.run.exit_code()
        if code not in (0, 1) and code_run == 0:  # collection errors, interruptions: never a pass
            code_run = 3
        sys.exit(code_run)
