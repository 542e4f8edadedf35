"""The ``vhr`` command line. Each stage registers its own commands from its own module."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console
from rich.markup import escape as rich_escape

from vhr_conformance import __version__, cli_i18n
from vhr_conformance.i18n import UserError

app = typer.Typer(
    name="vhr",
    help="vhr-conformance — kiểm thử tuân thủ nền tảng hồ sơ sức khỏe điện tử (VHR, HL7 FHIR R4) / "
    "conformance test harness for Vietnam's electronic health record platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)

# Modules that expose ``register(app)``; each stage owns its own commands.
COMMAND_MODULES = [
    "vhr_conformance.setup_cli",
    "vhr_conformance.generator.cli",
    "vhr_conformance.load.cli",
    "vhr_conformance.xml130.cli",
    "vhr_conformance.server.cli",
    "vhr_conformance.validator.cli",
    "vhr_conformance.profiles_cli",
    "vhr_conformance.runner.cli",
    "vhr_conformance.listen.cli",
    "vhr_conformance.doctor_cli",
    "vhr_conformance.diff_cli",
    "vhr_conformance.vendor_cli",
    "vhr_conformance.evidence.cli",
    "vhr_conformance.audit.cli",
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vhr-conformance {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Phiên bản / version"
    ),
) -> None:
    """Entry point of every command."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)

cli_i18n.install()  # VHR_LANG for Click's and Typer's own strings and for our help texts


def main() -> None:
    """Run the CLI; user errors print a bilingual message, never a traceback.

    Standalone mode lets click report usage errors and keep each command's exit code; only our
    own :class:`UserError` and interrupts escape it.
    """
    cli_i18n.install()
    try:
        app()
    except UserError as exc:
        # soft_wrap: never break a path or a location across lines (users copy them).
        err.print("[bold red]Lỗi / Error:[/]", rich_escape(exc.render()), highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("Đã hủy / Interrupted")
        sys.exit(130)
