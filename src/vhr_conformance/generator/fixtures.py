"""The checked-in fixture set: written by ``make fixtures``, verified by a test.

Everything under the generated folders comes from the generator with a fixed seed and reference
"now"; ``manifest.json`` lists each file with its sha256 so a consumer can tell the set is
intact, and :func:`check_fixtures` regenerates into a temporary folder and compares bytes.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import orjson

from vhr_conformance.generator import GENERATOR_VERSION, fixtures_dir
from vhr_conformance.generator.build import REFERENCE_NOW
from vhr_conformance.generator.coverage import write_coverage
from vhr_conformance.generator.negative import build_negative_cases

FIXTURE_SEED = 20260601
GENERATED_DIRS = ("coverage", "documents", "submissions", "negative")
GENERATED_FILES = ("manifest.json", "coverage-report.json")
_OPT = orjson.OPT_INDENT_2


def _ig_version() -> str:
    from vhr_conformance.generator.terminology import load_ig

    pkg = load_ig().folder / "package.json"
    try:
        meta = orjson.loads(pkg.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return "unknown"
    return f"{meta.get('name')}#{meta.get('version')}"


def write_fixtures(root: Path | None = None, seed: int = FIXTURE_SEED) -> list[Path]:
    """(Re)write every generated fixture under ``root`` (default: the repository's fixtures/)."""
    root = root or fixtures_dir()
    root.mkdir(parents=True, exist_ok=True)
    for d in GENERATED_DIRS:
        shutil.rmtree(root / d, ignore_errors=True)
    for f in GENERATED_FILES:
        (root / f).unlink(missing_ok=True)
    files = write_coverage(root, seed, REFERENCE_NOW)
    neg = root / "negative"
    neg.mkdir(parents=True, exist_ok=True)
    manifest = []
    for resource, entry in build_negative_cases(seed):
        p = neg / entry["file"]
        p.write_bytes(orjson.dumps(resource, option=_OPT) + b"\n")
        files.append(p)
        manifest.append(entry)
    p = neg / "manifest.json"
    p.write_bytes(orjson.dumps(manifest, option=_OPT) + b"\n")
    files.append(p)
    listing = [
        {"path": f.relative_to(root).as_posix(), "sha256": hashlib.sha256(f.read_bytes()).hexdigest()}
        for f in sorted(files)
    ]
    top = {
        "seed": seed,
        "generator": "vhr_conformance.generator",
        "generatorVersion": GENERATOR_VERSION,
        "igPackage": _ig_version(),
        "referenceNow": REFERENCE_NOW.isoformat(),
        "command": "make fixtures",
        "files": listing,
    }
    p = root / "manifest.json"
    p.write_bytes(orjson.dumps(top, option=_OPT) + b"\n")
    files.append(p)
    return files


def _tree(root: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for d in GENERATED_DIRS:
        for f in sorted((root / d).rglob("*")) if (root / d).is_dir() else []:
            if f.is_file():
                out[f.relative_to(root).as_posix()] = f.read_bytes()
    for name in GENERATED_FILES:
        if (root / name).is_file():
            out[name] = (root / name).read_bytes()
    return out


def check_fixtures(root: Path | None = None) -> list[str]:
    """Paths that differ between ``root`` and a fresh generation (empty list: identical)."""
    root = root or fixtures_dir()
    with tempfile.TemporaryDirectory(prefix="vhr-fixtures-") as tmp:
        fresh_root = Path(tmp)
        write_fixtures(fresh_root)
        fresh, have = _tree(fresh_root), _tree(root)
    diffs = [f"thiếu / missing: {p}" for p in sorted(fresh.keys() - have.keys())]
    diffs += [f"thừa / unexpected: {p}" for p in sorted(have.keys() - fresh.keys())]
    diffs += [f"khác / differs: {p}" for p in sorted(fresh.keys() & have.keys()) if fresh[p] != have[p]]
    return diffs
