"""The committed fixtures are exactly what the generator produces."""

from __future__ import annotations

import hashlib

import orjson

from vhr_conformance.generator import GENERATOR_VERSION, fixtures_dir
from vhr_conformance.generator.fixtures import FIXTURE_SEED, check_fixtures


def test_committed_fixtures_match_a_fresh_generation() -> None:
    diffs = check_fixtures()
    assert not diffs, "fixtures/ is stale, run `make fixtures`:\n" + "\n".join(diffs[:20])


def test_manifest_hashes_and_negative_manifest_shape() -> None:
    root = fixtures_dir()
    manifest = orjson.loads((root / "manifest.json").read_bytes())
    assert manifest["seed"] == FIXTURE_SEED and manifest["generatorVersion"] == GENERATOR_VERSION
    for f in manifest["files"]:
        assert hashlib.sha256((root / f["path"]).read_bytes()).hexdigest() == f["sha256"], f["path"]
    neg = orjson.loads((root / "negative" / "manifest.json").read_bytes())
    for entry in neg:
        assert {"file", "resourceType", "rule", "location", "description"} <= entry.keys()
        assert entry["description"]["vi"] and entry["description"]["en"]
        assert (root / "negative" / entry["file"]).is_file()
    assert len(list((root / "coverage").glob("*.json"))) >= 54
