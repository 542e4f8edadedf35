"""The wheel is a complete tool: installed into a fresh venv and run from an empty folder, with no
source checkout in reach, `vhr profiles`, `vhr run` and `vhr load` find the IG package, the suites,
the load tests and the fixtures it carries: a plain full `vhr run` passes against the embedded
server, and `vhr run --target URL` against a `vhr serve` needs nothing but a `vhr.toml`.

The fresh venv reuses the third-party packages of the running environment through a `.pth` line
(its own `.pth` files, among them the editable install of this checkout, are not processed), so
only `vhr_conformance` comes from the wheel and the test needs no download of dependencies.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], cwd: Path, timeout: float, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VHR_") and k != "PYTHONPATH"}
    env["HOME"] = os.environ.get("HOME", str(base))  # the FHIR package cache stays where `vhr setup` put it
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(base / "dist")],
        base,
        600,
        env,
    )
    if built.returncode != 0 and "Could not find a version" in built.stderr + built.stdout:
        pytest.skip("setuptools for the build could not be fetched from PyPI")
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((base / "dist").glob("vhr_conformance-*.whl"))
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = _run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], base, 60, env
    )
    Path(purelib.stdout.strip(), "shared-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    inst = _run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], base, 300, env)
    assert inst.returncode == 0, inst.stderr[-3000:]
    work = base / "empty"
    work.mkdir()
    return env_dir, work, env


def test_package_comes_from_the_wheel(installed: tuple[Path, Path, dict[str, str]]) -> None:
    env_dir, work, env = installed
    where = _run(
        [str(env_dir / "bin" / "python"), "-c", "import vhr_conformance as v; print(v.__file__)"],
        work,
        60,
        env,
    )
    assert str(env_dir) in where.stdout and str(ROOT) not in where.stdout, where.stdout + where.stderr


def _results(folder: Path, out: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    found = list(folder.glob("*/results.json"))
    assert len(found) == 1, out.stdout[-3000:] + out.stderr[-3000:]
    data: dict[str, Any] = json.loads(found[0].read_text(encoding="utf-8"))
    return data


def test_profiles_and_a_full_run_pass_from_an_empty_folder(
    installed: tuple[Path, Path, dict[str, str]],
) -> None:
    """Done-when of issue 14: `vhr run`, plain and full (suites and the short load), PASSes against
    the embedded server from the wheel alone."""
    env_dir, work, env = installed
    vhr = str(env_dir / "bin" / "vhr")
    prof = _run([vhr, "profiles"], work, 120, env)
    assert prof.returncode == 0 and "vhr.conformance.ig" in prof.stdout, (
        prof.stdout[-2000:] + prof.stderr[-2000:]
    )
    run = _run([vhr, "run", "--quiet"], work, 900, env)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    data = _results(work / "reports", run)
    assert run.returncode == 0 and data["verdict"] == "PASS", run.stdout[-3000:] + run.stderr[-3000:]
    assert not data["scope"]["partial"] and len(data["cases"]) > 100
    shall = [c for c in data["criteria"] if c["inScope"] and c["level"] == "SHALL"]
    assert shall and not [c["id"] for c in shall if c["state"] in ("fail", "error", "not-tested")]
    assert [c for c in shall if c["area"] == "PERF" and c["state"] == "pass"]  # the load ran and passed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, server: subprocess.Popen[str]) -> None:
    for _ in range(200):
        if server.poll() is not None:
            raise AssertionError(f"vhr serve ended: {server.communicate()[1][-2000:]}")
        try:
            with urllib.request.urlopen(url + "/metadata", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"vhr serve does not answer at {url}")


def test_run_against_a_target_with_only_a_vhr_toml(
    installed: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    """Done-when of issue 14: `vhr run --target URL` works with only a vhr.toml for the rest (the
    credentials' scheme and names, the scope), against a server started with the installed `vhr serve`."""
    env_dir, _work, env = installed
    vhr = str(env_dir / "bin" / "vhr")
    url = f"http://127.0.0.1:{_free_port()}"
    server = subprocess.Popen(
        [vhr, "serve", "--port", url.rsplit(":", 1)[1], "--auth", "oauth"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(url, server)
        vendor = tmp_path / "vendor"
        vendor.mkdir()
        (vendor / "vhr.toml").write_text(
            f'[target]\nurl = "{url}"\n'
            '[auth]\nmode = "client-credentials"\nclient_id = "vhr-test-admin"\n'
            'client_secret_env = "HARNESS_SECRET"\nscope = "system/*.*"\n'
            '[run]\nonly = ["CAP", "PAT"]\n[vendor]\norganisation = "Bệnh viện thử"\n',
            encoding="utf-8",
        )
        secret = {**env, "HARNESS_SECRET": "vhr-test-admin-secret"}
        run = _run([vhr, "run", "--target", url, "--quiet", "--no-load"], vendor, 600, secret)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    data = _results(vendor / "reports", run)
    assert data["target"] == url and data["options"]["auth"]["mode"] == "client-credentials"
    judged = [c for c in data["criteria"] if c["inScope"] and c["level"] == "SHALL"]
    assert {c["area"] for c in judged} == {"CAP", "PAT"}, judged
    assert all(c["state"] == "pass" for c in judged), [(c["id"], c["state"]) for c in judged]


def test_load_from_an_empty_folder(installed: tuple[Path, Path, dict[str, str]]) -> None:
    env_dir, work, env = installed
    load = _run(
        [
            str(env_dir / "bin" / "vhr"),
            "load",
            "--duration",
            "3s",
            "--users",
            "2",
            "--report-dir",
            str(work / "load"),
        ],
        work,
        180,
        env,
    )
    assert "Traceback" not in load.stderr, load.stderr[-3000:]
    assert list((work / "load").rglob("*.json")), load.stdout[-2000:] + load.stderr[-2000:]
