"""`python -m vhr_conformance.server ARGS` runs `vhr serve ARGS` without importing the other
stages' commands (quicker start for subprocess servers: durability test, benchmark)."""

import sys

import typer

from vhr_conformance.i18n import UserError
from vhr_conformance.server.cli import serve


def main() -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(serve)
    try:
        app(standalone_mode=False)
    except UserError as exc:
        print(f"Lỗi / Error: {exc.render()}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
