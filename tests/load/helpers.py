"""Helpers of the load tests: start the fake FHIR app, run `vhr load` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
VHR_MAIN = "import sys; from vhr_conformance.cli import main; sys.argv[0] = 'vhr'; main()"
CCCD = "http://fhir.hl7.org.vn/core/sid/cccd"


def start_fake(tmp: Path, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    port_file = tmp / f"port-{time.monotonic_ns()}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.load.fakefhir", str(port_file)], cwd=ROOT, env={**os.environ, **env}
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text():
            url = f"http://127.0.0.1:{port_file.read_text()}"
            try:
                httpx.get(f"{url}/_hits", timeout=1)
                return proc, url
            except httpx.HTTPError:
                pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("fake FHIR server did not start")


def load_env(coverage: Path) -> dict[str, str]:
    return {**os.environ, "VHR_LOAD_COVERAGE_DIR": str(coverage), "VHR_LANG": "en"}


def run_vhr_load(args: list[str], coverage: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", VHR_MAIN, "load", *args],
        cwd=ROOT,
        env=load_env(coverage),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def vhr_load_inproc(args: list[str], coverage: Path) -> tuple[int, str]:
    """``vhr load ARGS`` in this process (the CLI side never imports Locust, so this is safe);
    returns the exit code and what it printed. Saves an interpreter start per run."""
    import typer
    from typer.testing import CliRunner

    from vhr_conformance.load.cli import register

    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, args, env={"VHR_LOAD_COVERAGE_DIR": str(coverage), "VHR_LANG": "en"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output
