"""Where the harness finds its data folders: the IG package, suites, load tests and fixtures.

One rule for every stage, so the same code works in a source checkout and from an installed
wheel: an environment variable wins; else the folder of the source checkout the package was
imported from; else the copy the wheel carries under ``vhr_conformance/_data/`` (written there
by ``setup.py`` at build time).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGED_DATA = PACKAGE_DIR / "_data"


@dataclass(frozen=True, slots=True)
class DataFolder:
    """A data folder of the project: its path in the checkout and the variable that overrides it."""

    relative: str  # path from the repository root, and from ``_data/`` in a wheel
    env: str
    marker: str  # a file that must be there for the folder to count

    def checkout_path(self) -> Path | None:
        """The folder in the source checkout this package was imported from, if any."""
        root = PACKAGE_DIR.parents[1]  # src/vhr_conformance -> repository root
        candidate = root / self.relative
        if (root / "pyproject.toml").is_file() and (candidate / self.marker).exists():
            return candidate
        return None

    def resolve(self) -> Path:
        """The folder to use (it may not exist: callers report that in their own words)."""
        if env := os.environ.get(self.env):
            return Path(env).expanduser()
        found = self.checkout_path()
        if found is not None:
            return found
        return PACKAGED_DATA / self.relative


IG_PACKAGE = DataFolder("profiles/package", "VHR_IG_PACKAGE", "package.json")
SUITES = DataFolder("suites", "VHR_SUITES_DIR", "criteria.yaml")
LOADTESTS = DataFolder("loadtests", "VHR_LOADTESTS", "locustfile.py")
FIXTURES = DataFolder("fixtures", "VHR_FIXTURES_DIR", "manifest.json")

#: Every folder a wheel must carry (setup.py copies these into ``_data/``).
SHIPPED = (IG_PACKAGE, SUITES, LOADTESTS, FIXTURES)


def ig_package_path() -> Path:
    return IG_PACKAGE.resolve()


def suites_path() -> Path:
    return SUITES.resolve()


def loadtests_path() -> Path:
    return LOADTESTS.resolve()


def fixtures_path() -> Path:
    return FIXTURES.resolve()
