"""What harness ran: the sha256 of every file it is made of, rolled into one fingerprint.

The files are the package's code and data, the suites and criteria, the IG package, the fixtures
and the load tests, each under a stable logical name (``package/…``, ``suites/…``, ``ig/…``,
``fixtures/…``, ``loadtests/…``), so an installed wheel and a checkout of the same commit give
the same fingerprint, and a comparison can name the file that differs.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from vhr_conformance import __version__
from vhr_conformance.paths import PACKAGE_DIR, fixtures_path, ig_package_path, loadtests_path, suites_path

_SKIP_DIRS = {"__pycache__", ".pytest_cache", "node_modules", "_data", ".mypy_cache", ".ruff_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}
CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _walk(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).parts
        if any(part in _SKIP_DIRS for part in rel) or not path.is_file() or path.suffix in _SKIP_SUFFIXES:
            continue
        yield path


def harness_roots() -> dict[str, Path]:
    """Logical prefix → folder of each part of the harness in use."""
    ig = ig_package_path()
    if ig.is_dir() and (ig / "package" / "package.json").is_file():
        ig = ig / "package"
    return {
        "package": PACKAGE_DIR,
        "suites": suites_path(),
        "ig": ig,
        "fixtures": fixtures_path(),
        "loadtests": loadtests_path(),
    }


def harness_files() -> dict[str, str]:
    """Logical name → sha256 of every file of the harness."""
    out: dict[str, str] = {}
    for prefix, root in harness_roots().items():
        for path in _walk(root):
            name = prefix + "/" + (path.name if root.is_file() else path.relative_to(root).as_posix())
            out[name] = sha256_file(path)
    return out


def roll_up(files: dict[str, str]) -> str:
    """One sha256 over the sorted (name, sha256) pairs: equal exactly when every file is equal."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\t{files[name]}\n".encode())
    return digest.hexdigest()


def distributions() -> dict[str, str]:
    """Name → version of every installed distribution."""
    out: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            out[str(name)] = str(dist.version)
    return dict(sorted(out.items(), key=lambda kv: kv[0].lower()))


def git_commit() -> dict[str, Any] | None:
    """The commit of the source checkout the package runs from (and whether it has local changes)."""
    root = PACKAGE_DIR.parents[1]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if head.returncode != 0:
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


@dataclass
class Harness:
    fingerprint: str
    files: dict[str, str]

    @classmethod
    def current(cls) -> Harness:
        files = harness_files()
        return cls(roll_up(files), files)

    def describe(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "version": __version__,
            "files": self.files,
            "distributions": distributions(),
            "git": git_commit(),
            "python": sys.version.split()[0],
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
        }


def compare(theirs: dict[str, str], ours: dict[str, str]) -> dict[str, list[str]]:
    """Files that differ between two harnesses: changed, only in theirs, only in ours."""
    return {
        "changed": sorted(n for n in theirs.keys() & ours.keys() if theirs[n] != ours[n]),
        "added": sorted(theirs.keys() - ours.keys()),
        "missing": sorted(ours.keys() - theirs.keys()),
    }
