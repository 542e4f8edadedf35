"""Writes every report format of a run into `reports/<run-id>/` and a manifest hashing them all."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path
from typing import Any

import orjson

from vhr_conformance.names import CANONICAL, HTEST
from vhr_conformance.outcome import State, Verdict
from vhr_conformance.reports.html import render_html
from vhr_conformance.reports.model import RunResult

# TestReport.test.action.assert.result has no "not tested" / "not applicable": both are `skip`,
# the message says which.
_TR_RESULT = {
    State.PASS: "pass",
    State.FAIL: "fail",
    State.NOT_TESTED: "skip",
    State.NOT_APPLICABLE: "skip",
    State.ERROR: "error",
}
# TestReport.result: pending while an in-scope SHALL was not judged (INCOMPLETE) or the run stopped early.
_TR_OVERALL = {
    Verdict.PASS: "pass",
    Verdict.FAIL: "fail",
    Verdict.INCOMPLETE: "pending",
    Verdict.INTERRUPTED: "pending",
    Verdict.ERROR: "fail",
}


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
    """A FHIR R4 TestReport: one test per criterion in scope, one action per case.

    `result` is pending for INCOMPLETE and INTERRUPTED runs; `score` is the share of passed
    criteria among those judged (pass or fail), so criteria never judged do not count as passes;
    those are listed as tests whose single action is `skip` with the reason. An attestation
    criterion is a test whose single action is its attestation (accepted pass, rejected fail,
    else skip)."""
    verdict = run.verdict()
    tests = []
    judged = passed = 0
    for row in run.criteria:
        if not row.in_scope or (not row.criterion.automated and row.attestation is None):
            continue
        judged += row.state in (State.PASS, State.FAIL)
        passed += row.state == State.PASS
        label = f"[{row.state}]"
        if row.attestation is not None:  # judged by a person: one action, its status and text
            text = row.attestation.get("text") or {}
            result = {State.PASS: "pass", State.FAIL: "fail"}.get(State(row.state), "skip")
            message = (
                f"[attestation: {row.attestation.get('status')}] {text.get('vi', '')} / {text.get('en', '')}"
            )
            actions = [{"assert": {"result": result, "message": message[:1000]}}]
        elif row.cases:
            actions = [
                {
                    "assert": {
                        "result": _TR_RESULT[State(c.state)],
                        "message": f"[{c.state}] {c.nodeid}" + (f": {c.message[:900]}" if c.message else ""),
                    }
                }
                for c in row.cases
            ]
        else:
            actions = [
                {"assert": {"result": "skip", "message": f"{label} " + " ".join(row.not_tested_reasons())}}
            ]
        tests.append(
            {
                "name": row.criterion.id,
                "description": f"{label} {row.criterion.title.vi} / {row.criterion.title.en}",
                "action": actions,
            }
        )
    status = "stopped" if verdict == Verdict.INTERRUPTED else "completed"
    scope = run.scope_text()
    name = "VHR conformance run" + (" (phạm vi một phần / partial scope)" if scope else "")
    # The IG defines no extension for these, so they go in the narrative a reader sees first.
    lines = [f"{run.verdict_text().both()} ({verdict})"]
    if scope:
        lines.append(scope.both())
    if run.interrupted:
        lines.append(f"Bị ngắt / Interrupted: {run.interrupted}")
    lines += [
        f"{r.criterion.id} ({r.criterion.level}, {r.state}): " + " ".join(r.not_tested_reasons())[:900]
        for r in run.not_tested()
    ]
    div = "".join(f"<p>{escape(line)}</p>" for line in lines)
    return {
        "resourceType": "TestReport",
        "id": run.run_id,
        "meta": {"tag": [dict(HTEST)]},
        "text": {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{div}</div>'},
        "identifier": {"system": f"{CANONICAL}/run-id", "value": run.run_id},
        "name": name,
        "status": status,
        "testScript": {"display": f"vhr-conformance suites, criteria catalogue {run.catalogue.version}"},
        "result": _TR_OVERALL[verdict],
        "score": round(100.0 * passed / judged, 2) if judged else 0.0,
        "tester": f"vhr-conformance {run.harness_version}",
        "issued": run.finished,
        "participant": [{"type": "server", "uri": run.target}],
        "test": tests,
    }


ATTESTATION_SUITE = "VHR attestations / xác nhận"


def junit_attestations(run: RunResult, path: Path) -> None:
    """Add one testcase per in-scope attestation criterion to a JUnit file (pytest has none for them):
    accepted passes, rejected fails with the reviewer's reason, missing and awaiting review are
    skipped with the status said; the attestation's facts are properties."""
    rows = [r for r in run.criteria if r.in_scope and r.attestation is not None]
    if not rows or not path.is_file():
        return
    try:
        tree = ET.parse(path)
    except ET.ParseError:
        return
    root = tree.getroot()
    if root.tag != "testsuites":
        holder = ET.Element("testsuites")
        holder.append(root)
        root = holder
        tree = ET.ElementTree(root)
    for old in [s for s in root.findall("testsuite") if s.get("name") == ATTESTATION_SUITE]:
        root.remove(old)  # written again (a rebuilt report): never twice
    suite = ET.SubElement(
        root,
        "testsuite",
        name=ATTESTATION_SUITE,
        tests=str(len(rows)),
        failures=str(sum(r.state == State.FAIL for r in rows)),
        errors="0",
        skipped=str(sum(r.state != State.FAIL and r.state != State.PASS for r in rows)),
        timestamp=run.finished,
    )
    for row in rows:
        att = row.attestation or {}
        crit = row.criterion
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"VHR.{crit.area}",
            name=f"{crit.id} {crit.title.vi} / {crit.title.en}",
            time="0",
        )
        props = ET.SubElement(case, "properties")
        facts = {
            "criteria": crit.id,
            "vhr.attestation.status": att.get("status"),
            "vhr.attestation.by": att.get("by"),
            "vhr.attestation.date": att.get("date"),
            "vhr.attestation.reviewer": att.get("reviewer"),
            "vhr.attestation.reason": att.get("reason"),
        }
        for name, value in facts.items():
            if value:
                ET.SubElement(props, "property", name=name, value=str(value))
        text = att.get("text") or {}
        message = f"[{att.get('status')}] {text.get('vi', '')} / {text.get('en', '')}"
        if row.state == State.FAIL:
            ET.SubElement(case, "failure", message=message[:500]).text = message
        elif row.state != State.PASS:
            ET.SubElement(case, "skipped", message=message[:500])
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _load_summary(out_dir: Path) -> dict[str, Any] | None:
    """The summary of the run's load stage (`<out_dir>/load/summary.json`, written by the load
    engine), for the report's charts."""
    path = out_dir / "load" / "summary.json"
    try:
        summary = orjson.loads(path.read_bytes()) if path.is_file() else None
    except (OSError, ValueError):
        return None  # an unreadable summary is already the PERF case's error; the charts are left out
    return summary if isinstance(summary, dict) else None


def write_reports(
    run: RunResult, out_dir: Path, extra_files: list[Path] | None = None, pdf: bool = False
) -> dict[str, Path]:
    """Write HTML, results.json, TestReport and the manifest. JUnit and Allure are written by pytest.

    `pdf`: also print the HTML to `report.pdf` (headless Chromium; no `pdf` path when it is not
    installed), before the manifest, which hashes it with the rest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "html": out_dir / "report.html",
        "json": out_dir / "results.json",
        "testreport": out_dir / "testreport.json",
    }
    paths["html"].write_text(render_html(run, load=_load_summary(out_dir)), encoding="utf-8")
    if pdf:
        from vhr_conformance.reports.pdf import print_pdf

        printed = print_pdf(paths["html"])
        if printed is not None:
            paths["pdf"] = printed
    paths["json"].write_bytes(orjson.dumps(run.to_json(), option=orjson.OPT_INDENT_2))
    paths["testreport"].write_bytes(orjson.dumps(test_report(run), option=orjson.OPT_INDENT_2))
    junit_attestations(run, out_dir / "junit.xml")
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
        "verdict": str(run.verdict()),
        "exitCode": run.exit_code(),
        "scope": {"partial": run.partial, "narrowedBy": run.scope_reasons()},
        "interrupted": run.interrupted or None,
        "files": files,
    }
    paths["manifest"] = out_dir / "manifest.json"
    paths["manifest"].write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return paths
