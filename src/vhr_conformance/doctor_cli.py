"""`vhr doctor --target URL`: the target's reachability, TLS, token, metadata and clock in seconds."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.table import Table

from vhr_conformance.doctor import FAIL, PASS, SKIP, WARN, diagnose
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.vendor_config import load_config

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
        target: str = typer.Option(None, "--target", help="URL gốc FHIR / FHIR base URL (else vhr.toml)"),
        auth: str = typer.Option(None, "--auth", help="none | bearer | client-credentials | smart-backend"),
        auth_config: Path = typer.Option(
            None, "--auth-config", help="YAML/JSON: token_url, client_id, secrets"
        ),
        ca_bundle: Path | None = typer.Option(
            None, "--ca-bundle", help="PEM CA bundle to trust (private CA)"
        ),
        output: str = typer.Option("text", "--format", help="text | json"),
        config: Path = typer.Option(None, "--config", help="vhr.toml (default ./vhr.toml, $VHR_CONFIG)"),
    ) -> None:
        """Kiểm tra nhanh kết nối tới máy chủ / quick check that the target can be tested."""
        from vhr_conformance.client import AuthConfig, TokenProvider
        from vhr_conformance.client.tls import check_bundle, verify_context

        vendor = load_config(config)
        target = target or vendor.target.url or ""
        if not target:
            raise UserError(
                Text(
                    "Thiếu --target (hoặc [target].url trong vhr.toml).",
                    "--target is missing (or [target].url in vhr.toml).",
                ),
                location="--target",
            )
        ca_bundle = ca_bundle or vendor.target.ca_bundle
        bundle = check_bundle(ca_bundle, "--ca-bundle") if ca_bundle else None
        verify = verify_context(bundle)
        mode = auth or vendor.auth.mode
        env = {**os.environ, **vendor.auth_env()} if not auth_config else None
        auth_cfg = AuthConfig.load(mode, str(auth_config) if auth_config else None, env=env)
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
