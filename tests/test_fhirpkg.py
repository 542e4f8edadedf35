"""The core package cache and the package loader."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from vhr_conformance import fhirpkg
from vhr_conformance.i18n import UserError


def test_core_package_is_cached_and_complete() -> None:
    path = fhirpkg.verify_core_package()
    assert (path / "StructureDefinition-Patient.json").is_file()


def test_core_package_loads_and_indexes_by_url() -> None:
    core = fhirpkg.load_package(f"{fhirpkg.CORE_ID}#{fhirpkg.CORE_VERSION}")
    assert core.name == fhirpkg.CORE_ID
    patient = core.get("http://hl7.org/fhir/StructureDefinition/Patient")
    assert patient is not None and patient["type"] == "Patient"
    assert sum(1 for _ in core.resources("ValueSet")) > 1000


def test_missing_cache_gives_bilingual_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FHIR_PACKAGE_CACHE", str(tmp_path))
    with pytest.raises(UserError) as info:
        fhirpkg.verify_core_package()
    assert "vhr setup" in info.value.render()
    assert info.value.text.vi != info.value.text.en


def test_corrupt_manifest_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FHIR_PACKAGE_CACHE", str(tmp_path))
    pkg = fhirpkg.core_package_dir()
    pkg.mkdir(parents=True)
    (pkg / "package.json").write_text("{not json")
    with pytest.raises(UserError, match="corrupt"):
        fhirpkg.verify_core_package()


def _write_pkg(folder: Path) -> None:
    (folder / "package.json").write_text(json.dumps({"name": "demo.pkg", "version": "1.0.0"}))
    (folder / "ValueSet-x.json").write_text(
        json.dumps({"resourceType": "ValueSet", "id": "x", "url": "http://example.org/ValueSet/x"})
    )


def test_loads_folder_and_tgz(tmp_path: Path) -> None:
    folder = tmp_path / "p" / "package"
    folder.mkdir(parents=True)
    _write_pkg(folder)
    pkg = fhirpkg.load_package(tmp_path / "p")
    assert pkg.get("http://example.org/ValueSet/x")["id"] == "x"

    tgz = tmp_path / "demo.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(folder, arcname="package")
    assert fhirpkg.load_package(tgz).name == "demo.pkg"


def test_not_a_package_is_a_located_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(io.BytesIO(b"nope").getvalue())
    with pytest.raises(UserError) as info:
        fhirpkg.load_package(bad)
    assert info.value.location == str(bad)
