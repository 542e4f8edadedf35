"""The data a load run uses, prepared before the first request.

Two pools: CCCD numbers of patients the target already holds (read from the coverage fixtures that
the embedded reference server is loaded with), and serialized transaction bundles to submit
(pre-generated with the generator library, falling back to the coverage fixtures). Nothing is
generated or serialized while users run: the hot path only indexes into lists of bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vhr_conformance.names import SID_CCCD


def coverage_dir() -> Path | None:
    """``$VHR_LOAD_COVERAGE_DIR``, else ``fixtures/coverage`` through the generator's public API,
    else next to the project."""
    import os

    if env := os.environ.get("VHR_LOAD_COVERAGE_DIR"):
        return Path(env)
    try:
        from vhr_conformance.generator import fixtures_dir

        path = Path(fixtures_dir()) / "coverage"
        if path.is_dir():
            return path
    except Exception:  # the generator may not be installed on a remote worker
        pass
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "fixtures" / "coverage").is_dir():
            return parent / "fixtures" / "coverage"
    return None


def fixture_bundles(directory: Path | None = None) -> list[dict[str, Any]]:
    """The coverage bundles on disk; without them, the generator's coverage cohort in memory."""
    directory = directory or coverage_dir()
    if directory is None or not any(directory.glob("*.json")):
        try:
            from vhr_conformance.generator import coverage_cohort

            return list(coverage_cohort())
        except Exception:
            return []
    out = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("resourceType") == "Bundle":
            out.append(data)
    return out


def cccds_of(bundle: dict[str, Any]) -> list[str]:
    """CCCD values of the Patient resources inside a bundle."""
    found = []
    for entry in bundle.get("entry", []) or []:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") != "Patient":
            continue
        for ident in resource.get("identifier", []) or []:
            if ident.get("system") == SID_CCCD and isinstance(ident.get("value"), str):
                found.append(ident["value"])
    return found


def lookup_pool(bundles: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for bundle in bundles:
        for cccd in cccds_of(bundle):
            seen.setdefault(cccd, None)
    return list(seen)


def submission_pool(
    size: int, seed: int, fallback: list[dict[str, Any]], run_id: str | None = None
) -> list[bytes]:
    """``size`` serialized transaction bundles: freshly generated patients when the generator is
    available (so submissions create new records), else the coverage fixtures recycled. With a
    `run_id`, every resource carries the run's tag, so `load.cleanup` can remove them afterwards."""
    bundles: list[dict[str, Any]] = []
    try:
        from vhr_conformance.generator import generate_patients

        bundles = [
            b for b in _as_bundles(generate_patients(size, seed=seed)) if b.get("type") == "transaction"
        ]
    except Exception:
        bundles = []
    if not bundles:
        bundles = [b for b in fallback if b.get("type") == "transaction"]
    if run_id:
        from vhr_conformance.names import tag_with_run

        bundles = [json.loads(json.dumps(b)) for b in bundles[:size]]  # copies: fixtures stay untouched
        for bundle in bundles:
            for entry in bundle.get("entry", []) or []:
                if isinstance(entry.get("resource"), dict):
                    tag_with_run(entry["resource"], run_id)
    return [json.dumps(b, ensure_ascii=False, separators=(",", ":")).encode() for b in bundles[:size]]


def submission_types(submissions: list[bytes]) -> list[str]:
    """The resource types the submissions create (what a clean-up must search)."""
    types: dict[str, None] = {}
    for raw in submissions:
        for entry in json.loads(raw).get("entry", []) or []:
            rtype = (entry.get("resource") or {}).get("resourceType")
            if rtype:
                types[rtype] = None
    return list(types)


def _as_bundles(generated: Any) -> list[dict[str, Any]]:
    """Accept what ``generate_patients`` returns: bundles, or objects exposing ``bundle``/``to_bundle()``."""
    out = []
    for item in generated:
        if isinstance(item, dict):
            out.append(item)
        elif hasattr(item, "bundle"):
            out.append(item.bundle() if callable(item.bundle) else item.bundle)
        elif hasattr(item, "to_bundle"):
            out.append(item.to_bundle())
    return out
