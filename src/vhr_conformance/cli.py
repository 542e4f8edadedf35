"""The ``vhr`` command line. Each stage registers its own commands from its own module."""

from __future__ import annotations

import importlib
import os
import sys

import typer
from rich.console import Console
from rich.markup import escape as rich_escape

from vhr_conformance import __version__, cli_i18n
from vhr_conformance.i18n import Text, UserError

DEBUG_ENV = "VHR_DEBUG"

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
    "vhr_conformance.generator_cli",
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
    "vhr_conformance.reports.cli",
    "vhr_conformance.audit.cli",
    "vhr_conformance.console.cli",
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

# Command groups whose main sub-command may be left out: `vhr audit --ndjson D` is `vhr audit run --ndjson D`.
DEFAULT_SUBCOMMANDS = {"audit": "run"}


def with_default_subcommand(argv: list[str]) -> list[str]:
    """Insert a group's default sub-command when the group is followed directly by an option."""
    if len(argv) >= 2 and argv[0] in DEFAULT_SUBCOMMANDS and argv[1].startswith("-") and argv[1] != "--help":
        return [argv[0], DEFAULT_SUBCOMMANDS[argv[0]], *argv[1:]]
    return argv


def main() -> None:
    """Run the CLI; user errors print a bilingual message, never a traceback.

    Standalone mode lets click report usage errors and keep each command's exit code; only our
    own :class:`UserError` and interrupts escape it. Anything else (an unwritable path, a bug) still
    ends in a bilingual line, never a traceback, unless `VHR_DEBUG` asks for one.
    """
    cli_i18n.install()
    sys.argv[1:] = with_default_subcommand(sys.argv[1:])
    try:
        app()
    except UserError as exc:
        # soft_wrap: never break a path or a location across lines (users copy them).
        err.print("[bold red]Lỗi / Error:[/]", rich_escape(exc.render()), highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("Đã hủy / Interrupted")
        sys.exit(130)
    except OSError as exc:  # a file or folder the command could not read or write
        where = f"[{exc.filename}] " if exc.filename else ""
        text = Text("Lỗi hệ thống tệp: {e}", "file system error: {e}").format(e=exc.strerror or exc)
        err.print(
            "[bold red]Lỗi / Error:[/]", rich_escape(where + text.in_lang()), highlight=False, soft_wrap=True
        )
        sys.exit(2)
    except Exception as exc:  # a bug of ours: say so in both languages; the traceback on request
        if os.environ.get(DEBUG_ENV):
            raise
        text = Text(
            "Lỗi nội bộ của vhr-conformance ({t}: {e}); đặt {env}=1 để xem chi tiết và báo lỗi",
            "internal error of vhr-conformance ({t}: {e}); set {env}=1 for the traceback and report it",
        ).format(t=type(exc).__name__, e=str(exc)[:500], env=DEBUG_ENV)
        err.print("[bold red]Lỗi / Error:[/]", rich_escape(text.in_lang()), highlight=False, soft_wrap=True)
        sys.exit(3)


if __name__ == "__main__":
    main()
