"""`vhr listen` (the harness as the VHR receiving endpoint) and `vhr push` (the sample sender)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vhr_conformance.i18n import Text, UserError
from vhr_conformance.listen.push import BAD_MODES, DEFAULT_CLIENT, PushOptions, push
from vhr_conformance.listen.recorder import SCENARIOS, ScenarioConfig, parse_scenarios
from vhr_conformance.listen.session import (
    SESSION_SUBDIR,
    Listener,
    SessionReport,
    check_session_name,
    find_session,
    sender_catalogue,
)
from vhr_conformance.runconfig import AUTH_CONFIG_HELP, AUTH_HELP, CA_BUNDLE_HELP, CONFIG_HELP, RunConfig

console = Console()
_COLOURS = {
    "pass": "green",
    "fail": "red",
    "error": "magenta",
    "not-tested": "yellow",
    "not-applicable": "dim",
    "attestation": "cyan",
}


def parse_duration(text: str) -> float:
    """`90`, `90s`, `5m`, `1h30m` → seconds (the one grammar of `vhr_conformance.durations`)."""
    from vhr_conformance.durations import duration_option

    return duration_option(text, "--duration")


class _Terminated(Exception):
    """SIGTERM (container stop, systemd, CI cancel) during the wait: end the session like Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def _wait(listener: Listener, deadline: float | None) -> None:
    """Print each exchange as it arrives until the deadline, Ctrl-C or SIGTERM."""
    shown = 0
    warned = False
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if _main_thread() else None
    try:
        while deadline is None or time.monotonic() < deadline:
            records = listener.session.snapshot()
            for rec in records[shown:]:
                colour = "green" if rec.status < 300 else "yellow" if rec.status in (429, 503) else "red"
                console.print(f"[{colour}]{escape(rec.summary())}[/]", highlight=False)
            shown = len(records)
            if listener.session.journal_error and not warned:
                warned = True
                console.print(
                    "[red]"
                    + escape(
                        Text(
                            "Nhật ký phiên ngừng ghi: {e}; báo cáo vẫn được viết khi phiên kết thúc",
                            "the session journal stopped: {e}; the report is still written when the session ends",
                        )
                        .format(e=listener.session.journal_error)
                        .in_lang()
                    )
                    + "[/]",
                    highlight=False,
                )
            time.sleep(0.2)
    except KeyboardInterrupt:
        console.print("Kết thúc phiên / session ended (Ctrl-C)")
    except _Terminated:
        console.print("Kết thúc phiên / session ended (SIGTERM)")
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def listen(
    ctx: typer.Context,
    host: str = typer.Option(
        None, "--host", help="Địa chỉ lắng nghe / bind address (else vhr.toml [listen], 127.0.0.1)"
    ),
    port: int = typer.Option(
        None, "--port", help="Cổng (0 = tự chọn) / port (0 = any free port; else vhr.toml [listen], 8090)"
    ),
    auth: str = typer.Option(
        None,
        "--auth",
        help="none | client-credentials (oauth): tokens required of the sender (else vhr.toml [auth].mode)",
    ),
    config: Path = typer.Option(None, "--config", help=CONFIG_HELP),
    session: str = typer.Option("session", "--session", help="Tên phiên / session name"),
    duration: str | None = typer.Option(
        None, "--duration", help="Thời lượng, ví dụ 10m / how long, e.g. 10m (else vhr.toml [listen])"
    ),
    until_ctrl_c: bool = typer.Option(
        False, "--until-ctrl-c", help="Chạy tới khi nhấn Ctrl-C (mặc định) / until Ctrl-C (default)"
    ),
    scenario: list[str] = typer.Option(
        [], "--scenario", help="throttle | reject-invalid | outage (lặp lại được / repeatable)"
    ),
    retry_after: int = typer.Option(
        2, "--retry-after", help="Retry-After (giây) của 429/503 / seconds sent with 429/503"
    ),
    throttle_every: int = typer.Option(
        3, "--throttle-every", help="throttle: 1 trên N yêu cầu ghi / one write in N"
    ),
    outage_seconds: float = typer.Option(
        10.0, "--outage-seconds", help="outage: độ dài (giây) / window length (s)"
    ),
    max_body: int = typer.Option(
        20 * 1024 * 1024, "--max-body", help="Giới hạn kích thước yêu cầu (byte) / size limit (bytes)"
    ),
    report_dir: Path | None = typer.Option(
        None, "--report-dir", help="Thư mục báo cáo / report folder (default reports/listen-<session>-<time>)"
    ),
    tls: tuple[Path, Path] | None = typer.Option(
        None, "--tls", help="CERT KEY (PEM): phục vụ HTTPS / serve HTTPS"
    ),
    load: Path | None = typer.Option(
        None,
        "--load",
        help="Nạp sẵn Bundle JSON (dữ liệu đã có trên nền tảng) / preload JSON bundles (data already on the platform)",
    ),
    list_scenarios: bool = typer.Option(
        False, "--list-scenarios", help="Liệt kê kịch bản rồi thoát / list scenarios and exit"
    ),
    sign_key: Path | None = typer.Option(
        None, "--sign-key", help="Khóa riêng Ed25519 ký gói bằng chứng / key that signs the evidence bundle"
    ),
    attestations: Path | None = typer.Option(
        None,
        "--attestations",
        help="Tệp xác nhận YAML của hệ thống gửi / the sender's attestation file (docs/evidence.md)",
    ),
    trust: list[Path] = typer.Option(
        [], "--trust", help="Khóa người thẩm định / trusted reviewers' keys: their signed reviews count"
    ),
) -> None:
    """Đóng vai nền tảng VHR nhận dữ liệu, ghi lại và chấm hệ thống gửi / stand in as the VHR endpoint,
    record what a sending system does and report on the sender criteria.

    `vhr listen report SESSION` rebuilds the report of a session from its journal (e.g. one killed).
    """
    if ctx.invoked_subcommand is not None:
        return
    if list_scenarios:
        table = Table("scenario", "mô tả / description")
        for name, text in SCENARIOS.items():
            table.add_row(name, text.both("\n"))
        console.print(table)
        return
    if duration and until_ctrl_c:
        raise UserError(
            Text(
                "Chọn --duration hoặc --until-ctrl-c, không cả hai.",
                "Give --duration or --until-ctrl-c, not both.",
            ),
            location="--duration",
        )
    from vhr_conformance.runconfig import build

    rc = build(
        config,
        auth=auth,
        duration=duration,
        host=host,
        port=port,
        tls=tls,
        report_dir=report_dir,
        sign_key=sign_key,
        attestations=attestations,
        command="listen",
    )
    host, port, tls, report_dir = rc.listen.host, rc.listen.port, rc.listen.tls, rc.listen.report_dir
    duration = None if until_ctrl_c else rc.listen.duration
    auth = "oauth" if rc.listen.mode == "client-credentials" else "none"
    if retry_after < 0 or throttle_every < 1 or outage_seconds < 0 or max_body < 1024:
        raise UserError(
            Text("Giá trị kịch bản hoặc giới hạn không hợp lệ.", "Invalid scenario or limit value."),
            location="--retry-after/--throttle-every/--outage-seconds/--max-body",
        )
    from vhr_conformance.server.cli import check_port, check_tls_pair

    check_port(port)
    if tls is not None:
        check_tls_pair(tls[0], tls[1])
    if load is not None and not load.is_dir():
        raise UserError(Text("--load phải là một thư mục.", "--load must be a folder."), location=str(load))
    seconds = parse_duration(duration) if duration else None
    check_session_name(session)
    scenarios = ScenarioConfig(parse_scenarios(scenario), throttle_every, retry_after, outage_seconds)
    out = report_dir or Path("reports") / f"listen-{session}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    signer, attested = _evidence_inputs(rc.sign_key, rc.attestations, trust, out)
    listener = Listener(
        host=host,
        port=port,
        auth=auth,
        session=session,
        scenarios=scenarios,
        max_body_bytes=max_body,
        tls=(str(tls[0]), str(tls[1])) if tls else None,
        load=load,
        journal=out / SESSION_SUBDIR,
    )
    listener.start()
    try:
        console.print(
            f"vhr listen → [bold]{listener.base_url}[/]  auth={auth}  scenarios={','.join(scenarios.names) or '-'}"
            f"  session={session}",
            highlight=False,
        )
        if auth == "oauth":
            console.print(
                f"token: {listener.base_url}/auth/token (client credentials; test client {DEFAULT_CLIENT[0]})",
                highlight=False,
            )
        console.print(
            Text(
                "Mỗi trao đổi được ghi bền vào {j}; `vhr listen report {o}` dựng lại báo cáo nếu phiên bị dừng đột ngột",
                "each exchange is kept durably in {j}; `vhr listen report {o}` rebuilds the report if the session is killed",
            )
            .format(j=out / SESSION_SUBDIR, o=out)
            .in_lang(),
            highlight=False,
            markup=False,
        )
        console.print(
            "Đang chờ hệ thống gửi / waiting for the sending system "
            + (f"for {seconds:.0f} s" if seconds else "(Ctrl-C to end)")
        )
        _wait(listener, time.monotonic() + seconds if seconds else None)
        report = listener.finish(out, attestations=attested)
    finally:
        listener.server.stop()
    _print_results(report)
    _write_evidence(out, signer, report, rc.vendor.to_json())
    sys.exit(report.run.exit_code())


def _evidence_inputs(
    sign_key: Path | None, attestations: Path | None, trust: list[Path], out: Path
) -> tuple[Any, dict[str, dict[str, Any]] | None]:
    """The signing key and the attestations of a session, checked before it starts."""
    from vhr_conformance.evidence.attestations import for_run
    from vhr_conformance.evidence.keys import load_signing_key

    signer = load_signing_key(sign_key) if sign_key is not None else None
    attested = for_run(attestations, trust, sender_catalogue().criteria, out) if attestations else None
    return signer, attested


def _write_evidence(
    out: Path, signer: Any, report: SessionReport, vendor: dict[str, Any] | None = None
) -> None:
    """The session's evidence bundle, like `vhr run`'s (docs/evidence.md)."""
    from vhr_conformance.evidence.bundle import write_evidence

    path, said = write_evidence(
        out,
        signer,
        kind="listen",
        target={"url": report.run.target, "role": "listener"},
        vendor=vendor,
        options=report.run.options,
    )
    console.print(said.both(), highlight=False, markup=False, style=None if path else "red")


def _attestation_text(row: Any) -> str:
    """An attestation criterion's status in words (docs/evidence.md), for the results table."""
    text = (row.attestation or {}).get("text") or {}
    return f"{text['vi']} / {text['en']}" if text.get("vi") and text.get("en") else ""


def _print_results(report: SessionReport) -> None:
    table = Table(title="VHR — hệ thống gửi / sending system")
    for col in ("Tiêu chí / Criterion", "Mức / Level", "Kết quả / Result", "Chi tiết / Detail"):
        table.add_column(col)
    by_id = {c.criteria[0]: c for c in report.run.cases}
    for row in report.run.criteria:
        case = by_id.get(row.criterion.id)
        colour = _COLOURS.get(row.state, "white")
        table.add_row(
            row.criterion.id,
            row.criterion.level,
            f"[{colour}]{row.state}[/]",
            escape((case.message if case else _attestation_text(row) or row.criterion.title.en)[:110]),
        )
    console.print(table)
    console.print(f"Kết luận / verdict: {report.run.verdict_text().both()}", highlight=False)
    console.print(f"Báo cáo / report: [bold]{escape(str(report.paths['html']))}[/]")


def report_cmd(
    session: str = typer.Argument(
        ...,
        help="Thư mục báo cáo, thư mục phiên hoặc tên phiên / report folder, session folder or session name",
    ),
    report_dir: Path = typer.Option(
        None, "--report-dir", help="Nơi ghi báo cáo (mặc định thư mục của phiên) / where to write the report"
    ),
) -> None:
    """Dựng lại báo cáo của một phiên từ nhật ký / rebuild a session's report from its journal."""
    folder = find_session(session)
    listener = Listener.resume(folder)
    rebuilt = listener.rebuilt or {}
    if rebuilt.get("unreadableLines"):
        console.print(
            Text("Bỏ qua các dòng nhật ký không đọc được: {n}", "journal lines that could not be read: {n}")
            .format(n=", ".join(map(str, rebuilt["unreadableLines"])))
            .in_lang(),
            highlight=False,
            markup=False,
        )
    out = report_dir or folder.parent
    try:
        report = listener.finish(out)
    finally:
        listener.server.stop()
    console.print(
        Text(
            "Đã dựng lại từ {n} trao đổi ({s})",
            "rebuilt from {n} exchanges ({s})",
        )
        .format(
            n=len(listener.session.records),
            s=Text("phiên đã kết thúc", "the session had finished").in_lang()
            if rebuilt.get("sessionFinished")
            else Text("phiên bị dừng trước khi kết thúc", "the session was stopped before its end").in_lang(),
        )
        .in_lang(),
        highlight=False,
        markup=False,
    )
    _print_results(report)
    # a rebuilt session's bundle is unsigned: `vhr pack --sign-key` signs it
    _write_evidence(out, None, report)
    sys.exit(report.run.exit_code())


def push_cmd(
    folder: Path = typer.Argument(
        None, help="Thư mục Bundle giao dịch / folder of transaction Bundles (e.g. fixtures/coverage)"
    ),
    target: str = typer.Option(
        None, "--target", help="URL gốc FHIR nhận dữ liệu / receiving FHIR base URL (else vhr.toml)"
    ),
    auth: str = typer.Option(
        None,
        "--auth",
        help=AUTH_HELP + " (oauth = client-credentials; else vhr.toml)",
    ),
    auth_config: Path = typer.Option(None, "--auth-config", help=AUTH_CONFIG_HELP),
    config: Path = typer.Option(None, "--config", help=CONFIG_HELP),
    badly_behaved: str = typer.Option(
        None, "--badly-behaved", help="Chế độ sai / bad mode (see --list-bad-modes)"
    ),
    limit: int = typer.Option(None, "--limit", help="Chỉ gửi N Bundle đầu / send only the first N bundles"),
    corrections: int = typer.Option(
        1, "--corrections", help="Gửi bản sửa cho N lượt khám / send N corrections"
    ),
    as_today: bool = typer.Option(
        True,
        "--as-today/--as-recorded",
        help="Dời thời gian như lượt khám hôm nay / replay as today's encounters",
    ),
    max_retries: int = typer.Option(5, "--max-retries"),
    backoff: float = typer.Option(
        1.0, "--backoff", help="Giãn cách cơ sở (giây, nhân đôi mỗi lần) / base backoff (s, doubles)"
    ),
    max_body: int = typer.Option(
        20 * 1024 * 1024, "--max-body", help="Giới hạn kích thước của nền tảng / platform size limit (bytes)"
    ),
    ca_file: Path = typer.Option(None, "--ca-bundle", "--ca-file", help=CA_BUNDLE_HELP),
    list_bad_modes: bool = typer.Option(
        False, "--list-bad-modes", help="Liệt kê chế độ sai rồi thoát / list bad modes and exit"
    ),
) -> None:
    """Máy khách mẫu gửi Bundle giao dịch tới VHR / sample client that sends transaction Bundles to VHR."""
    if list_bad_modes:
        table = Table("mode", "criterion", "mô tả / description")
        for name, (cid, text) in BAD_MODES.items():
            table.add_row(name, cid, text.both("\n"))
        console.print(table)
        return
    rc = _push_config(config, target, auth, auth_config, ca_file)
    if folder is None or not folder.exists():
        raise UserError(Text("Không tìm thấy thư mục.", "Folder not found."), location=str(folder or "DIR"))
    if (limit is not None and limit < 1) or corrections < 0 or max_retries < 0 or backoff < 0:
        raise UserError(
            Text("Giá trị không hợp lệ.", "Invalid value."),
            location="--limit/--corrections/--max-retries/--backoff",
        )
    opts = PushOptions(
        target=rc.target or "",
        folder=folder,
        auth=rc.auth.mode,
        credentials=rc.auth,
        bad=badly_behaved,
        limit=limit,
        corrections=corrections,
        as_today=as_today,
        max_retries=max_retries,
        backoff_s=backoff,
        max_body_bytes=max_body,
        ca_file=rc.ca_bundle,
    )
    log = push(opts)
    console.print(
        f"Đã gửi / sent: {len(log.sent)}  bị từ chối / rejected: {len(log.rejected)}  "
        f"bỏ cuộc / gave up: {len(log.gave_up)}  thử lại / retries: {log.retries}  "
        f"bản sửa / corrections: {log.corrections}",
        highlight=False,
    )
    for name, status, reason in log.rejected:
        console.print(f"[red]{escape(name)}: HTTP {status}[/] {escape(reason[:160])}", highlight=False)
    sys.exit(0 if log.ok() else 1)


def _push_config(
    config: Path | None, target: str | None, auth: str | None, auth_config: Path | None, ca: Path | None
) -> RunConfig:
    """`vhr push`'s target, scheme and credentials, as every command resolves them; without any
    credentials named, the reference server's public test client."""
    from vhr_conformance.runconfig import auth_mode, build

    defaults = {"VHR_CLIENT_ID": DEFAULT_CLIENT[0], "VHR_CLIENT_SECRET": DEFAULT_CLIENT[1]}
    rc = build(
        config,
        target=target,
        auth=auth_mode(auth, "--auth") if auth else None,
        auth_config=auth_config,
        ca_bundle=ca,
        default_env=defaults,
        command="push",
    )
    if not rc.target:
        raise UserError(
            Text(
                "Cần --target URL (hoặc [target].url trong vhr.toml).",
                "--target URL is required (or [target].url in vhr.toml).",
            ),
            location="--target",
        )
    return rc


def register(app: typer.Typer) -> None:
    # A group whose callback is the session itself, so `vhr listen --port …` is unchanged and
    # `vhr listen report SESSION` is a sub-command.
    listen_app = typer.Typer(add_completion=False)
    listen_app.callback(invoke_without_command=True)(listen)
    listen_app.command("report")(report_cmd)
    app.add_typer(listen_app, name="listen")
    app.command("push")(push_cmd)
