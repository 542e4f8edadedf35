"""`vhr doctor --target URL`: the target's reachability, TLS, token, metadata and clock in seconds."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.table import Table

from vhr_conformance.doctor import FAIL, PASS, SKIP, WARN, diagnose

console = Console()

_STYLE = {PASS: "green", WARN: "yellow", FAIL: "bold red", SKIP: "dim"}
_WORDS = {PASS: "đạt / pass", WARN: "lưu ý / warn", FAIL: "không đạt / fail", SKIP: "bỏ qua / skip"}
_VERDICT = {
    "PASS": "ĐẠT / PASS",
    "FAIL": "KHÔNG ĐẠT / FAIL",
    "ERROR": "LỖI — không dùng được máy chủ / ERROR — the target cannot be used",
}


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor(
        target: str = typer.Option(..., "--target", help="URL gốc FHIR / FHIR base URL"),
        auth: str = typer.Option("none", "--auth", help="none | bearer | client-credentials | smart-backend"),
        auth_config: Path = typer.Option(
            None, "--auth-config", help="YAML/JSON: token_url, client_id, secrets"
        ),
        ca_bundle: Path = typer.Option(None, "--ca-bundle", help="PEM CA bundle to trust (private CA)"),
        output: str = typer.Option("text", "--format", help="text | json"),
    ) -> None:
        """Kiểm tra nhanh kết nối tới máy chủ / quick check that the target can be tested."""
        from vhr_conformance.client import AuthConfig, TokenProvider
        from vhr_conformance.client.tls import check_bundle, verify_context

        bundle = check_bundle(ca_bundle, "--ca-bundle") if ca_bundle else None
        verify = verify_context(bundle)
        auth_cfg = AuthConfig.load(auth, str(auth_config) if auth_config else None)
        tokens = TokenProvider(auth_cfg, discover_base=target.rstrip("/"), timeout=5.0, verify=verify)
        diag = diagnose(target.rstrip("/"), verify=verify, tokens=tokens)
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
                    f"[{_STYLE[check.verdict]}]{_WORDS[check.verdict]}[/]",
                    check.message.in_lang(),
                )
            console.print(table)
            console.print(f"Kết luận / verdict: {_VERDICT[diag.verdict]} ({diag.seconds:.1f} s)")
        raise typer.Exit(diag.exit_code())
