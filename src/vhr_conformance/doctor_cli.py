"""`vhr doctor --target URL`: the target's reachability, TLS, token, metadata and clock in seconds."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.table import Table

from vhr_conformance.doctor import FAIL, PASS, SKIP, WARN, diagnose
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.runconfig import AUTH_CONFIG_HELP, AUTH_HELP, CA_BUNDLE_HELP, CONFIG_HELP, build

console = Console()

_STYLE = {PASS: "green", WARN: "yellow", FAIL: "bold red", SKIP: "dim"}
_WORDS = {
    PASS: Text("đạt", "pass"),
    WARN: Text("lưu ý", "warn"),
    FAIL: Text("không đạt", "fail"),
    SKIP: Text("bỏ qua", "skip"),
}
_VERDICT = {
    "PASS": Text("ĐẠT", "PASS"),
    "FAIL": Text("KHÔNG ĐẠT", "FAIL"),
    "ERROR": Text("LỖI — không dùng được máy chủ", "ERROR — the target cannot be used"),
}


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor(
        target: str = typer.Option(None, "--target", help="URL gốc FHIR / FHIR base URL (else vhr.toml)"),
        auth: str = typer.Option(None, "--auth", help=AUTH_HELP + " (else vhr.toml)"),
        auth_config: Path = typer.Option(None, "--auth-config", help=AUTH_CONFIG_HELP),
        ca_bundle: Path | None = typer.Option(None, "--ca-bundle", help=CA_BUNDLE_HELP),
        output: str = typer.Option("text", "--format", help="text | json"),
        config: Path = typer.Option(None, "--config", help=CONFIG_HELP),
    ) -> None:
        """Kiểm tra nhanh kết nối tới máy chủ / quick check that the target can be tested."""
        rc = build(
            config, target=target, auth=auth, auth_config=auth_config, ca_bundle=ca_bundle, command="doctor"
        )
        if not rc.target:
            raise UserError(
                Text(
                    "Thiếu --target (hoặc [target].url trong vhr.toml).",
                    "--target is missing (or [target].url in vhr.toml).",
                ),
                location="--target",
            )
        diag = diagnose(rc.target, verify=rc.verify(), tokens=rc.tokens(timeout=5.0))
        if output == "json":
            typer.echo(orjson.dumps(diag.to_json(), option=orjson.OPT_INDENT_2).decode())
        else:
            table = Table(title=f"vhr doctor — {diag.target}")
            table.add_column("Kiểm tra / check")
            table.add_column("Kết quả / verdict")
            table.add_column("Chi tiết / details", overflow="fold")
            for check in diag.checks:
                table.add_row(
                    check.name.in_lang(),
                    f"[{_STYLE[check.verdict]}]{_WORDS[check.verdict].in_lang()}[/]",
                    check.message.in_lang(),
                )
            console.print(table)
            said = _VERDICT[diag.verdict]
            verdict = Text(f"Kết luận: {said.vi}", f"Verdict: {said.en}")
            console.print(f"{verdict.in_lang()} ({diag.seconds:.1f} s)")
        raise typer.Exit(diag.exit_code())
