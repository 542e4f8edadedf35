"""Shared fixtures of the IG tests: the committed package, its examples and negative cases."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from vhr_conformance import fhirpkg, ig

PROFILES_DIR = Path(__file__).resolve().parents[2] / "profiles"
NEGATIVE_DIR = PROFILES_DIR / "negative"


def load_build_module() -> ModuleType:
    """profiles/build.py is a script, not part of the package: import it by path."""
    if "vhr_ig_build" in sys.modules:
        return sys.modules["vhr_ig_build"]
    spec = importlib.util.spec_from_file_location("vhr_ig_build", PROFILES_DIR / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["vhr_ig_build"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def package() -> fhirpkg.FhirPackage:
    return fhirpkg.load_package(PROFILES_DIR / "package")


@pytest.fixture(scope="session")
def by_type(package: fhirpkg.FhirPackage) -> dict[str, dict[str, dict[str, Any]]]:
    """resourceType → id → resource."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for entry in package.entries:
        out.setdefault(entry.resource_type, {})[entry.id or ""] = package.read(entry)
    return out


@pytest.fixture(scope="session")
def examples(package: fhirpkg.FhirPackage) -> list[dict[str, Any]]:
    return [package.read(e) for e in package.entries if e.resource_type not in fhirpkg.CONFORMANCE_TYPES]


@pytest.fixture(scope="session")
def negative_manifest() -> list[dict[str, Any]]:
    return json.loads((NEGATIVE_DIR / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def vhr_packages() -> fhirpkg.PackageSet:
    return ig.load_vhr_packages()
