"""`vhr init`: write a commented `vhr.toml` for a vendor (see `vhr_conformance.vendor_config`)."""

from __future__ import annotations

from pathlib import Path

import typer

from vhr_conformance.i18n import Text
from vhr_conformance.vendor_config import AUTH_MODES, CONFIG_NAME, write_template


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        path: Path = typer.Option(Path(CONFIG_NAME), "--path", help="Tệp cần ghi / file to write"),
        target: str = typer.Option(
            "https://fhir.example.vn/r4", "--target", help="URL gốc FHIR / FHIR base URL"
        ),
        auth: str = typer.Option("client-credentials", "--auth", help=" | ".join(AUTH_MODES)),
        force: bool = typer.Option(False, "--force", help="Ghi đè tệp có sẵn / overwrite an existing file"),
    ) -> None:
        """Tạo tệp cấu hình vhr.toml / write a vhr.toml configuration file."""
        written = write_template(path, url=target, mode=auth, force=force)
        typer.echo(
            Text(
                "Đã ghi {p}: điền [vendor] và nơi chứa bí mật, rồi chạy `vhr doctor` và `vhr run`.",
                "Wrote {p}: fill in [vendor] and where the secrets are, then run `vhr doctor` and `vhr run`.",
            )
            .format(p=written)
            .in_lang()
        )
