"""Writes every report format of a run into `reports/<run-id>/` and a manifest hashing them all."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson

from vhr_conformance.reports.html import render_html
from vhr_conformance.reports.model import RunResult

_TR_RESULT = {"pass": "pass", "fail": "fail", "skip": "skip", "omit": "skip", "error": "error"}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_tree(root: Path) -> str:
    """Hash of a folder (file names and contents, sorted): identifies an unpacked IG package."""
    h = hashlib.sha256()
    for p in sorted(x for x in root.rglob("*") if x.is_file()):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


def test_report(run: RunResult) -> dict[str, Any]:
    """A FHIR R4 TestReport: one test per criterion in scope, one action per case."""
    summary = run.summary()
    overall = {0: "pass", 1: "fail", 3: "fail"}[run.exit_code()]
    shall = summary["SHALL"]
    tests = []
    for row in run.criteria:
        if not row.in_scope or not row.cases:
            continue
        tests.append(
            {
                "name": row.criterion.id,
                "description": f"{row.criterion.title.vi} / {row.criterion.title.en}",
                "action": [
                    {
                        "assert": {
                            "result": _TR_RESULT[c.state],
                            "message": (f"[{c.state}] {c.nodeid}" + (f": {c.message[:900]}" if c.message else "")),
                        }
                    }
                    for c in row.cases
                ],
            }
        )
    return {
        "resourceType": "TestReport",
        "id": run.run_id,
        "meta": {"tag": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"}]},
        "identifier": {"system": "https://vhr-conformance.org/fhir/run-id", "value": run.run_id},
        "name": "VHR conformance run",
        "status": "completed",
        "testScript": {"display": f"vhr-conformance suites, criteria catalogue {run.catalogue.version}"},
        "result": overall,
        "score": round(100.0 * (shall["pass_rate"] or 0.0), 2),
        "tester": f"vhr-conformance {run.harness_version}",
        "issued": run.finished,
        "participant": [{"type": "server", "uri": run.target}],
        "test": tests,
    }


def write_reports(run: RunResult, out_dir: Path, extra_files: list[Path] | None = None) -> dict[str, Path]:
    """Write HTML, results.json, TestReport and the manifest. JUnit and Allure are written by pytest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "html": out_dir / "report.html",
        "json": out_dir / "results.json",
        "testreport": out_dir / "testreport.json",
    }
    paths["html"].write_text(render_html(run), encoding="utf-8")
    paths["json"].write_bytes(orjson.dumps(run.to_json(), option=orjson.OPT_INDENT_2))
    paths["testreport"].write_bytes(orjson.dumps(test_report(run), option=orjson.OPT_INDENT_2))
    files = {}
    for p in sorted(x for x in out_dir.rglob("*") if x.is_file() and x.name != "manifest.json"):
        files[p.relative_to(out_dir).as_posix()] = sha256_file(p)
    manifest = {
        "runId": run.run_id,
        "harness": {"name": "vhr-conformance", "version": run.harness_version},
        "ig": run.ig,
        "catalogue": {"version": run.catalogue.version, "sha256": sha256_file(run.catalogue.path)},
        "seed": run.seed,
        "target": run.target,
        "level": run.level,
        "options": run.options,
        "started": run.started,
        "finished": run.finished,
        "exitCode": run.exit_code(),
        "files": files,
    }
    paths["manifest"] = out_dir / "manifest.json"
    paths["manifest"].write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return paths
