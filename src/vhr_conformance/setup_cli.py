"""``vhr setup``: put the FHIR core package into the standard package cache."""

from __future__ import annotations

import typer
from rich.console import Console

from vhr_conformance import fhirpkg

console = Console()


def setup(
    force: bool = typer.Option(
        False, "--force", help="Tải lại kể cả khi đã có / fetch again even if present"
    ),
) -> None:
    """Tải gói lõi hl7.fhir.r4.core 4.0.1 vào bộ đệm FHIR / fetch the FHIR R4 core package into the cache."""
    path, fetched = fhirpkg.ensure_core_package(force=force)
    state = "đã tải / fetched" if fetched else "đã có / already present"
    console.print(f"{fhirpkg.CORE_ID}#{fhirpkg.CORE_VERSION}: {state} → {path}")


def register(app: typer.Typer) -> None:
    app.command("setup")(setup)
