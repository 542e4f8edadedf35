"""A throwaway PostgreSQL server (Debian's binaries) for the console's tests, on 127.0.0.1.

Started once per test session in a temporary folder with trust authentication; each test gets
its own database. As root, the server runs as the `postgres` system user (initdb refuses root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

CANDIDATES = ["/usr/local/bin", *sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin"))]


def binaries() -> dict[str, str] | None:
    for folder in CANDIDATES:
        found = {n: str(Path(folder) / n) for n in ("initdb", "pg_ctl")}
        if all(Path(p).is_file() for p in found.values()):
            return found
    found2 = {n: shutil.which(n) for n in ("initdb", "pg_ctl")}
    return {k: v for k, v in found2.items() if v} if all(found2.values()) else None  # type: ignore[misc]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self) -> None:
        bins = binaries()
        if bins is None:
            pytest.skip("PostgreSQL (Debian package postgresql) is not installed")
        try:
            import psycopg  # noqa: F401
        except ImportError:
            pytest.skip("the psycopg driver is not installed (pip install 'vhr-conformance[postgres]')")
        self.bins = bins
        self.folder = Path(tempfile.mkdtemp(prefix="vhr-console-pg-"))
        self.port = _free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        data = self.folder / "data"
        self._run(
            [bins["initdb"], "-D", str(data), "-U", "vhr", "--auth=trust", "-E", "UTF8", "--no-sync"], 120
        )
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off"
        self._run(
            [
                bins["pg_ctl"],
                "-D",
                str(data),
                "-o",
                opts,
                "-l",
                str(self.folder / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            90,
        )
        self.data = data
        self.count = 0

    def _run(self, cmd: list[str], timeout: float) -> None:
        done = subprocess.run([*self.prefix, *cmd], capture_output=True, timeout=timeout, check=False)
        if done.returncode != 0:
            pytest.skip(f"PostgreSQL could not start: {done.stderr.decode(errors='replace')[-400:]}")

    def new_database(self) -> str:
        import psycopg

        self.count += 1
        name = f"console_{os.getpid()}_{self.count}_{int(time.time())}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=vhr dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://vhr@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run(
            [
                *self.prefix,
                self.bins["pg_ctl"],
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "-w",
                "-t",
                "30",
                "stop",
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)
