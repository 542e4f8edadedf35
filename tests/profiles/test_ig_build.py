"""The committed package is exactly what a fresh build produces, and its .tgz loads with our loader."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest

from vhr_conformance import fhirpkg

from .conftest import NEGATIVE_DIR, PROFILES_DIR, load_build_module


def _tree(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.is_file())


def _sushi_available() -> bool:
    """A build needs SUSHI: installed in profiles/node_modules, or installable with npm."""
    return (
        (PROFILES_DIR / "node_modules" / ".bin" / "sushi").exists()
        or bool(shutil.which("npm") and shutil.which("node"))
        or bool(shutil.which("sushi"))
    )


@pytest.mark.skipif(not _sushi_available(), reason="Node.js/npm/SUSHI absent: cannot rebuild the IG package")
def test_fresh_build_matches_committed_package(tmp_path: Path) -> None:
    build = load_build_module()
    out, negatives = tmp_path / "package", tmp_path / "negative"
    try:
        build.build(out, negatives=negatives)
    except build.BuildError as exc:  # a real failure (SUSHI errors, PyPI unreachable): say why
        pytest.fail(str(exc))
    committed = PROFILES_DIR / "package"
    for fresh, kept in ((out, committed), (negatives, NEGATIVE_DIR)):
        assert _tree(fresh) == _tree(kept), "file list differs: run `make profiles` and commit profiles/"
        _, mismatch, errors = filecmp.cmpfiles(fresh, kept, _tree(fresh), shallow=False)
        assert mismatch == [] and errors == [], (
            f"stale files {mismatch}: run `make profiles` and commit profiles/"
        )


def test_tgz_is_reproducible_and_loads(tmp_path: Path) -> None:
    build = load_build_module()
    committed = PROFILES_DIR / "package"
    first = build.write_tgz(committed, tmp_path / "a.tgz")
    second = build.write_tgz(committed, tmp_path / "b.tgz")
    assert first.read_bytes() == second.read_bytes()
    pkg = fhirpkg.load_package(first)
    folder = fhirpkg.load_package(committed)
    assert (pkg.name, pkg.version) == ("vhr.conformance.ig", "0.1.0")
    assert [(e.filename, e.url) for e in pkg.entries] == [(e.filename, e.url) for e in folder.entries]
    patient = pkg.get("https://vhr-conformance.org/fhir/StructureDefinition/vhr-patient")
    assert patient is not None and patient["snapshot"]["element"]
    # the .tgz also resolves as an IG on top of core
    ps = fhirpkg.PackageSet.with_dependencies(first)
    assert ps.get("http://hl7.org/fhir/StructureDefinition/Patient") is not None
    assert ps.get("https://vhr-conformance.org/fhir/CodeSystem/vhr-commune") is not None


def test_admin_unit_generation_from_wheel_data() -> None:
    """Codes are zero-padded, sorted and linked; bad source data stops the build."""
    build = load_build_module()
    successors = sorted({int(s) for _, _, s in build.LEGACY_PROVINCES})
    data = [
        {
            "code": code,
            "name": f"Tỉnh {code}",
            "division_type": "tỉnh",
            "wards": [
                {"code": code * 1000 + 7 - i, "name": f"Xã {i}", "division_type": "xã"} for i in range(2)
            ],
        }
        for code in reversed(successors)
    ]
    province, commune, legacy = build.admin_unit_code_systems(data)
    assert [c["code"] for c in province["concept"]][:2] == ["01", "04"]
    assert commune["concept"][0]["code"] == "01006"
    assert commune["concept"][0]["property"][0] == {"code": "province", "valueCode": "01"}
    assert commune["count"] == 2 * len(successors) and legacy["count"] == 63
    with pytest.raises(build.BuildError):
        build.admin_unit_code_systems(data[1:])  # a successor province is missing
    data[0]["wards"].append(dict(data[0]["wards"][0]))
    with pytest.raises(build.BuildError):
        build.admin_unit_code_systems(data)  # duplicate commune code
