"""Test data on the target: upload the coverage fixtures (tagged HTEST + run id), remember what was
created, and delete it all at the end.

The suites never assume data already on the target: they bring their own, as a facility would,
one transaction Bundle per patient, and compare what the server returns with what was sent.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from vhr_conformance.client import FhirClient, InfrastructureError
from vhr_conformance.fhirutil import parse_location
from vhr_conformance.names import tag_with_run


@dataclass
class Seeded:
    type: str
    id: str
    version: str | None
    sent: dict[str, Any]  # as sent, with urn:uuid references rewritten to Type/id
    source: str
    created: bool  # False when a conditional create matched something already there


@dataclass
class Tracker:
    """Everything the run created on the target, deleted in reverse order at the end."""

    refs: list[str] = field(default_factory=list)

    def add(self, rtype: str, rid: str) -> None:
        ref = f"{rtype}/{rid}"
        if ref not in self.refs:
            self.refs.append(ref)

    def cleanup(self, client: FhirClient) -> list[str]:
        """Delete in reverse creation order, retrying leftovers once (references may block)."""
        pending = list(reversed(self.refs))
        for _round in range(2):
            left = []
            for ref in pending:
                try:
                    resp = client.delete(ref)
                except (InfrastructureError, AssertionError) as exc:
                    left.append(f"{ref}: {exc}")
                    continue
                if resp.status not in (200, 202, 204, 404, 410):
                    left.append(f"{ref}: HTTP {resp.status}")
            pending = [x.split(":", 1)[0] for x in left]
            if not pending:
                self.refs.clear()
                return []
        self.refs.clear()
        return left


@dataclass
class SeedData:
    resources: list[Seeded] = field(default_factory=list)
    bundles: list[tuple[str, int, str]] = field(default_factory=list)  # (file, status, problem)
    documents: list[tuple[str, int, str]] = field(default_factory=list)
    started_iso: str = ""

    def of_type(self, rtype: str) -> list[Seeded]:
        return [s for s in self.resources if s.type == rtype]

    def by_ref(self) -> dict[str, Seeded]:
        return {f"{s.type}/{s.id}": s for s in self.resources}

    def with_profile(self, profile: str) -> list[Seeded]:
        return [s for s in self.resources if profile in ((s.sent.get("meta") or {}).get("profile") or [])]


def default_seed() -> int:
    """The seed of the checked-in fixtures (so a default run uses them as they are), else 0."""
    try:
        from vhr_conformance.generator import fixtures_dir

        return int(orjson.loads((fixtures_dir() / "manifest.json").read_bytes()).get("seed", 0))
    except (ImportError, OSError, ValueError, TypeError):
        return 0


def coverage_bundles(seed: int) -> list[tuple[str, dict[str, Any]]]:
    """The coverage fixtures: the checked-in files when the seed matches theirs, else generated."""
    from vhr_conformance.generator import coverage_cohort, fixtures_dir

    folder = fixtures_dir() / "coverage"
    manifest = fixtures_dir() / "manifest.json"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    file_seed = None
    if manifest.is_file():
        try:
            file_seed = orjson.loads(manifest.read_bytes()).get("seed")
        except orjson.JSONDecodeError:
            file_seed = None
    if files and (file_seed is None or int(file_seed) == seed):
        return [(p.name, orjson.loads(p.read_bytes())) for p in files]
    return [(f"generated-{seed}-{i:03d}", b) for i, b in enumerate(coverage_cohort(seed))]


def _standalone(node: Any) -> Any:
    """A copy where every reference into its transaction (`urn:`) keeps only its display."""
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str) and node["reference"].startswith("urn:"):
            return {k: v for k, v in node.items() if k == "display"} or None
        out = {k: _standalone(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v is not None}
    if isinstance(node, list):
        return [x for x in (_standalone(v) for v in node) if x is not None]
    return node


def standalone_templates(seed: int, rtype: str, limit: int = 5) -> list[dict[str, Any]]:
    """Resources of `rtype` from the coverage fixtures that can be written on their own (their
    references into the transaction reduced to a display): what a write test sends when the
    target did not take the fixtures' transactions, so its own verdict does not hang on that."""
    out: list[dict[str, Any]] = []
    for _, bundle in coverage_bundles(seed):
        for entry in bundle.get("entry", []) or []:
            res = entry.get("resource")
            if isinstance(res, dict) and res.get("resourceType") == rtype:
                out.append(_standalone(res))
                if len(out) >= limit:
                    return out
    return out


def document_bundles(seed: int, limit: int = 3) -> list[tuple[str, dict[str, Any]]]:
    """Health-record summary documents: the checked-in ones when the seed matches, else generated."""
    try:
        from vhr_conformance.generator import coverage_cohort, document_bundle, fixtures_dir
    except ImportError:
        return []
    folder = fixtures_dir() / "documents"
    files = sorted(folder.glob("*.json"))[:limit] if folder.is_dir() else []
    if files and seed == default_seed():
        return [(p.name, orjson.loads(p.read_bytes())) for p in files]
    return [
        (f"document-{seed}-{i:03d}", document_bundle(b)) for i, b in enumerate(coverage_cohort(seed)[:limit])
    ]


def upload_documents(
    client: FhirClient, docs: list[tuple[str, dict[str, Any]]], run_id: str, tracker: Tracker, data: SeedData
) -> None:
    """POST document Bundles (stored as Bundle resources); a refusal is recorded, not fatal (Bundle create is optional)."""
    for name, original in docs:
        doc = copy.deepcopy(original)
        doc.pop("id", None)
        tag_with_run(doc, run_id)
        resp = client.post("Bundle", doc)
        loc = parse_location(resp.headers.get("location"))
        if resp.status != 201 or loc is None:
            data.documents.append((name, resp.status, resp.text()[:300]))
            continue
        tracker.add(loc[0], loc[1])
        doc["id"] = loc[1]
        data.resources.append(Seeded(loc[0], loc[1], loc[2], doc, name, True))
        data.documents.append((name, resp.status, ""))


def _rewrite_refs(node: Any, mapping: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            k: (mapping.get(v, v) if k == "reference" and isinstance(v, str) else _rewrite_refs(v, mapping))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(x, mapping) for x in node]
    return node


def upload(
    client: FhirClient, bundles: list[tuple[str, dict[str, Any]]], run_id: str, tracker: Tracker
) -> SeedData:
    """POST each transaction; record ids from the response locations; keep the sent copies."""
    data = SeedData()
    for name, original in bundles:
        bundle = copy.deepcopy(original)
        for entry in bundle.get("entry", []):
            if "resource" in entry:
                tag_with_run(entry["resource"], run_id)
        resp = client.post("", bundle)
        body = resp.json
        if resp.status != 200 or not isinstance(body, dict) or body.get("resourceType") != "Bundle":
            data.bundles.append((name, resp.status, resp.text()[:500]))
            continue
        answers = body.get("entry", [])
        if len(answers) != len(bundle.get("entry", [])):
            data.bundles.append(
                (
                    name,
                    resp.status,
                    f"{len(answers)} response entries for {len(bundle.get('entry', []))} requests",
                )
            )
            continue
        mapping: dict[str, str] = {}
        located: list[tuple[dict[str, Any], tuple[str, str, str | None] | None, str]] = []
        for entry, answer in zip(bundle["entry"], answers, strict=True):
            r = answer.get("response") or {}
            loc = parse_location(r.get("location"))
            if loc is None and isinstance(answer.get("resource"), dict):
                res = answer["resource"]
                loc = (
                    res.get("resourceType", ""),
                    res.get("id", ""),
                    (res.get("meta") or {}).get("versionId"),
                )
            status = str(r.get("status", ""))
            located.append((entry, loc, status))
            if loc and entry.get("fullUrl"):
                mapping[entry["fullUrl"]] = f"{loc[0]}/{loc[1]}"
        problem = ""
        for entry, loc, status in located:
            if loc is None:
                problem = f"entry {entry.get('fullUrl')} has no location"
                continue
            created = status.startswith("201")
            if created:
                tracker.add(loc[0], loc[1])
            sent = _rewrite_refs(entry["resource"], mapping)
            sent["id"] = loc[1]
            data.resources.append(Seeded(loc[0], loc[1], loc[2], sent, name, created))
        data.bundles.append((name, resp.status, problem))
    return data


def load_negative_cases(seed: int = 0) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Negative cases: `fixtures/negative/manifest.json` with its files, else made by the generator."""
    try:
        from vhr_conformance.generator import fixtures_dir, negative_cases
    except ImportError:
        return []
    folder: Path = fixtures_dir() / "negative"
    manifest = folder / "manifest.json"
    if manifest.is_file():
        raw = orjson.loads(manifest.read_bytes())
        items = raw.get("cases", raw) if isinstance(raw, dict) else raw
        out = []
        for item in items:
            path = folder / item["file"]
            if path.is_file():
                out.append((orjson.loads(path.read_bytes()), item))
        if out:
            return out
    return list(negative_cases(seed))
