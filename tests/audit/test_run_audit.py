"""`vhr run --audit`: the store's audit folded into a conformance run as the QUAL-2xx criteria."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import orjson
import pytest

from vhr_conformance.audit.fold import audit_for_run, judge
from vhr_conformance.audit.plant import plant
from vhr_conformance.catalogue import load_catalogue
from vhr_conformance.reports.model import RunResult
from vhr_conformance.server import ReferenceServer

AUDITED = [c.id for c in load_catalogue().criteria.values() if c.input == "audit"]


def _vhr(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from vhr_conformance.cli import main; sys.argv = ['vhr', *sys.argv[1:]]; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600, check=False
    )


def _criteria(out: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    cases = {c["nodeid"]: c for c in data["cases"]}
    rows = {c["id"]: c for c in data["criteria"]}
    for row in rows.values():
        row["messages"] = [cases[n]["message"] for n in row["cases"]]
    return rows


def test_the_catalogue_holds_every_audit_rule_and_only_those() -> None:
    from vhr_conformance.audit.verdicts import RULES

    cat = load_catalogue()
    assert list(RULES) == AUDITED
    for cid in AUDITED:
        crit = cat.criteria[cid]
        assert crit.area == "QUAL" and crit.automated and crit.actor == "server"
        # the sources give no figure: a tolerance is the harness's proposal, said so, and not a SHALL
        if cid != "VHR-QUAL-204":
            assert crit.level == "SHOULD" and "harness" in crit.description.en, cid
    assert [cid for cid in AUDITED if cat.criteria[cid].level == "SHALL"] == ["VHR-QUAL-204"]


def test_without_the_audit_the_criteria_are_out_of_scope_not_failures() -> None:
    cat = load_catalogue()

    def run(audit: str | None) -> RunResult:
        result = RunResult("r", "http://t", "", "", "MAY", 0, {"audit": audit}, {}, "", [], cat, only=[])
        result.aggregate()
        return result

    without = {r.criterion.id: r for r in run(None).criteria}
    assert all(not without[c].in_scope for c in AUDITED)
    assert not any(r.criterion.id in AUDITED for r in run(None).not_tested())
    with_audit = {r.criterion.id: r for r in run("verdicts.json").criteria}
    assert all(with_audit[c].in_scope and with_audit[c].state == "not-tested" for c in AUDITED)
    assert without["VHR-QUAL-001"].in_scope  # the "own fixtures" criteria stay as they are


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("planted")
    return folder, plant(folder, 40, seed=3)


def test_a_target_with_planted_defects_fails_the_right_criteria(
    planted: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    folder, truth = planted
    # written straight into the reference server's store: a store holds what it holds (invalid
    # records, dangling references); the audit, not the server's write checks, is to find the defects
    with ReferenceServer(port=0) as srv:
        store = srv.fhir.store
        with store.transaction():
            for path in sorted(folder.glob("*.ndjson")):
                for res in map(orjson.loads, path.read_bytes().splitlines()):
                    store.put(res["resourceType"], res["id"], res, "PUT")
        out = tmp_path / "run"
        proc = _vhr(
            "run",
            "--target",
            srv.base_url,
            "--audit",
            "--only",
            ",".join(AUDITED),
            "--no-load",
            "--quiet",
            "--report-dir",
            str(out),
        )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = _criteria(out)
    states = {c: rows[c]["state"] for c in AUDITED}
    # planted: invalid resources, same-CCCD and probable duplicates, dangling references
    for cid in ("VHR-QUAL-201", "VHR-QUAL-204", "VHR-QUAL-205", "VHR-QUAL-206"):
        assert states[cid] == "fail", (cid, rows[cid]["messages"])
    # the server stamps meta.lastUpdated on write, so every record is fresh
    assert states["VHR-QUAL-208"] == "pass", rows["VHR-QUAL-208"]["messages"]
    cccd = rows["VHR-QUAL-204"]["messages"][0]
    assert "Examples:" in cccd and "$export" in cccd
    assert any(key in cccd for pair in truth["duplicates"] for key in pair), cccd
    orphan = rows["VHR-QUAL-206"]["messages"][0]
    assert any(key in orphan for key in truth["orphans"]), orphan
    # JUnit carries the criteria; the report folder holds the audit, never the store's records
    junit = ET.parse(out / "junit.xml").getroot()
    failed = {c.get("name", "").split()[0] for c in junit.iter("testcase") if c.find("failure") is not None}
    assert {"VHR-QUAL-201", "VHR-QUAL-204", "VHR-QUAL-206"} <= failed
    assert (out / "audit" / "audit.json").is_file() and (out / "audit" / "audit.html").is_file()
    assert not list(out.rglob("*.ndjson*")) or all(
        p.name.startswith("exchanges") for p in out.rglob("*.ndjson*")
    )


def test_audit_ndjson_judges_the_export_as_the_audit_does(
    planted: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    from vhr_conformance.audit.engine import AuditOptions, run_audit
    from vhr_conformance.audit.verdicts import audit_verdicts

    folder, _truth = planted
    alone = run_audit(AuditOptions([folder], tmp_path / "alone", workers=1))
    expected = {v.criterion: str(v.state) for v in audit_verdicts(alone)}
    out = tmp_path / "run"
    proc = _vhr(
        "run", "--audit-ndjson", str(folder), "--only", ",".join(AUDITED), "--no-load", "--quiet",
        "--report-dir", str(out),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = _criteria(out)
    assert {c: rows[c]["state"] for c in AUDITED} == expected
    assert expected["VHR-QUAL-201"] == "fail" and expected["VHR-QUAL-206"] == "fail"


def test_a_store_that_cannot_be_read_is_not_tested_never_passed(tmp_path: Path) -> None:
    path = audit_for_run(tmp_path, target="http://127.0.0.1:9", ndjson=[])
    for cid in AUDITED:
        state, text = judge(str(path), cid)
        assert state == "not-tested" and "127.0.0.1:9" in text.en and text.vi != text.en
    with ReferenceServer(port=0) as srv:  # an empty store: nothing to judge
        empty = audit_for_run(tmp_path / "empty", target=srv.base_url, ndjson=[])
    state, text = judge(str(empty), "VHR-QUAL-204")
    assert state == "not-tested" and "no resource" in text.en


def test_a_missing_audit_folder_is_a_usage_error(tmp_path: Path) -> None:
    proc = _vhr("run", "--audit-ndjson", str(tmp_path / "nowhere"), "--only", "VHR-QUAL-201", "--no-load")
    assert proc.returncode == 2 and "nowhere" in proc.stderr and "Traceback" not in proc.stderr
