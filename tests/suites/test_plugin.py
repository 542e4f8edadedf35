"""The pytest plugin on a tiny suite: result states, catalogue checks, exit codes, every report format.

The tiny suite needs no server: its tests pass, fail, skip, omit or raise infrastructure errors on
purpose, so the mapping to pass/fail/skip/omit/error can be checked exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from vhr_conformance import fhirpkg
from vhr_conformance.catalogue import suites_dir
from vhr_conformance.outcome import ExitCode

pytest_plugins = ["pytester"]
# pytester points HOME at a temporary folder; keep the real FHIR package cache reachable.
REAL_CACHE = str(fhirpkg.cache_root())

CATALOGUE = {
    "version": "0.0.1",
    "sources": {"SRC": {"vi": "Nguồn thử", "en": "Test source"}},
    "areas": {
        "AAA": {"title": {"vi": "Nhóm thử", "en": "Test area"}},
        "BBB": {"title": {"vi": "Nhóm hai", "en": "Second area"}},
    },
    "criteria": [
        {
            "id": f"VHR-{area}-{n:03d}",
            "level": level,
            "actor": "server",
            "verification": verification,
            "title": {"vi": f"Tiêu chí {n}", "en": f"Criterion {n}"},
            "description": {"vi": "Mô tả thử", "en": "Test description"},
            "sources": [{"ref": "SRC"}],
        }
        for area, n, level, verification in [
            ("AAA", 1, "SHALL", "automated"),
            ("AAA", 2, "SHALL", "automated"),
            ("AAA", 3, "SHOULD", "automated"),
            ("AAA", 4, "MAY", "automated"),
            ("BBB", 5, "SHALL", "automated"),
            ("BBB", 6, "SHALL", "attestation"),
        ]
    ],
}

SUITE = """
import pytest
from vhr_conformance.client import InfrastructureError
from vhr_conformance.i18n import Text
from vhr_conformance.pytest_plugin import criterion, omit, skip_missing

@criterion("VHR-AAA-001")
def test_passes():
    assert 1 + 1 == 2

@criterion("VHR-AAA-002")
@pytest.mark.parametrize("n", [1, 2])
def test_fails_once(n):
    assert n == 1, "vendor broke it"

@criterion("VHR-AAA-003")
def test_omitted():
    omit(Text("không khai báo", "not declared"))

@criterion("VHR-AAA-004")
def test_skipped():
    skip_missing(Text("thiếu dữ liệu X", "no data X"))

@criterion("VHR-BBB-005")
def test_infrastructure():
    raise InfrastructureError("connection refused")
"""


def _setup(pytester: pytest.Pytester, suite: str = SUITE) -> Path:
    (pytester.path / "criteria.schema.json").write_text(
        (suites_dir() / "criteria.schema.json").read_text(encoding="utf-8")
    )
    (pytester.path / "criteria.yaml").write_text(
        yaml.safe_dump(CATALOGUE, allow_unicode=True), encoding="utf-8"
    )
    pytester.makepyfile(test_tiny=suite)
    return pytester.path / "out"


def _run(pytester: pytest.Pytester, *extra: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(
        "--vhr-target",
        "http://127.0.0.1:9",
        "--vhr-catalogue",
        str(pytester.path / "criteria.yaml"),
        "--vhr-report-dir",
        str(pytester.path / "out"),
        "-p",
        "no:cacheprovider",
        *extra,
    )


def test_states_reports_and_exit_code(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FHIR_PACKAGE_CACHE", REAL_CACHE)
    out = _setup(pytester)
    result = _run(pytester)
    assert result.ret == 1  # a SHALL criterion failed
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "FAIL" and data["exitCode"] == 1
    states = {c["id"]: c["state"] for c in data["criteria"]}
    assert states == {
        "VHR-AAA-001": "pass",
        "VHR-AAA-002": "fail",
        "VHR-AAA-003": "not-applicable",
        "VHR-AAA-004": "not-tested",
        "VHR-BBB-005": "error",
        "VHR-BBB-006": "not-tested",  # an attestation criterion without an attestation file: missing
    }
    attestation = next(c for c in data["criteria"] if c["id"] == "VHR-BBB-006")["attestation"]
    assert attestation["status"] == "missing" and "No attestation recorded" in attestation["text"]["en"]
    skip_case = next(c for c in data["cases"] if c["criteria"] == ["VHR-AAA-004"])
    assert "no data X" in skip_case["message"] and "thiếu dữ liệu X" in skip_case["message"]
    assert data["summary"]["SHALL"]["pass_rate"] == 0.5
    html = (out / "report.html").read_text(encoding="utf-8")
    assert (
        "VHR-AAA-002" in html
        and "Không đạt / Fail" in html
        and "<script>" in html
        and "http" not in html.split("<style>")[0][:0]
    )
    report = json.loads((out / "testreport.json").read_text(encoding="utf-8"))
    assert report["resourceType"] == "TestReport" and report["result"] == "fail"
    from vhr_conformance.validator import Validator

    errors = [i for i in Validator.default().validate(report) if i.severity in ("fatal", "error")]
    assert not errors, [(i.location, i.text.en) for i in errors]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"report.html", "results.json", "testreport.json", "junit.xml"} <= set(manifest["files"])
    assert any(k.startswith("allure-results/") for k in manifest["files"])
    assert "secret" not in json.dumps(manifest["options"])
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert 'name="criteria" value="VHR-AAA-001"' in junit
    # testcases carry the criterion id and its bilingual title, not the Python name
    assert 'name="VHR-AAA-002 Tiêu chí 2 / Criterion 2 [1]"' in junit and 'classname="VHR.AAA"' in junit
    assert 'name="test_passes"' not in junit and 'name="vhr.verdict" value="FAIL"' in junit
    labels = [json.loads(p.read_text())["labels"] for p in (out / "allure-results").glob("*-result.json")]
    flat = {(lab["name"], lab["value"]) for ls in labels for lab in ls}
    assert ("epic", "Nhóm thử / Test area") in flat and ("severity", "critical") in flat
    assert any(n == "feature" and v.startswith("VHR-AAA-002") for n, v in flat)
    names = {json.loads(p.read_text())["name"] for p in (out / "allure-results").glob("*-result.json")}
    assert "VHR-AAA-002 Tiêu chí 2 / Criterion 2 [2]" in names and "test_passes" not in names
    assert "VHR-AAA-002 [SHALL] Tiêu chí 2 / Criterion 2" in result.stdout.str()
    assert manifest["ig"]["id"] == "vhr.conformance.ig" and len(manifest["ig"]["sha256"]) == 64


def test_error_or_not_tested_shall_is_incomplete_never_pass(pytester: pytest.Pytester) -> None:
    # Nothing failed; a SHALL criterion errored and another was not tested: INCOMPLETE, not 0.
    out = _setup(pytester, SUITE.replace('assert n == 1, "vendor broke it"', "pass"))
    assert _run(pytester).ret == ExitCode.INCOMPLETE
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "INCOMPLETE"
    gaps = {g["id"]: g for g in data["notTested"]}
    assert set(gaps) == {"VHR-BBB-005", "VHR-AAA-004", "VHR-BBB-006"}  # BBB-006: no attestation recorded
    assert any("No attestation recorded" in r for r in gaps["VHR-BBB-006"]["reasons"])
    assert any("no data X" in r and "thiếu dữ liệu X" in r for r in gaps["VHR-AAA-004"]["reasons"])
    report = json.loads((out / "testreport.json").read_text(encoding="utf-8"))
    assert report["result"] == "pending"
    assert report["score"] == 100.0  # over judged criteria: AAA-001, AAA-002
    assert "VHR-AAA-004 (MAY, not-tested): thiếu dữ liệu X / no data X" in report["text"]["div"]
    skipped = next(t for t in report["test"] if t["name"] == "VHR-AAA-004")
    assert skipped["action"][0]["assert"]["result"] == "skip" and "[not-tested]" in skipped["description"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "CHƯA ĐẦY ĐỦ / INCOMPLETE" in html and 'id="not-tested"' in html and "no data X" in html


ONLY_PASS = """
from vhr_conformance.i18n import Text
from vhr_conformance.outcome import check, not_applicable, not_tested
from vhr_conformance.pytest_plugin import criterion

@criterion("VHR-AAA-001")
def test_main():
    not_tested(Text("thiếu máy chủ thứ hai", "no second server: give --second URL"))

@criterion("VHR-AAA-001")
def test_side():
    check(True, Text("không", "no"))

@criterion("VHR-AAA-002")
def test_na():
    not_applicable(Text("không khai báo", "not declared"))

@criterion("VHR-AAA-002")
def test_pass_two():
    check(True, Text("không", "no"))

@criterion("VHR-AAA-003")
def test_only_na():
    not_applicable(Text("không khai báo", "not declared"))

@criterion("VHR-AAA-004")
def test_fail():
    check(False, Text("máy chủ trả 500", "the server answered 500"))

@criterion("VHR-BBB-005")
def test_five():
    check(True, Text("không", "no"))
"""


def test_passing_side_case_never_hides_a_not_tested_main_case(pytester: pytest.Pytester) -> None:
    out = _setup(pytester, ONLY_PASS)
    assert _run(pytester).ret == ExitCode.FAIL  # the MAY criterion failed
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    states = {c["id"]: c["state"] for c in data["criteria"]}
    assert states["VHR-AAA-001"] == "not-tested"  # pass + not-tested → not-tested
    assert states["VHR-AAA-002"] == "pass"  # pass + not-applicable → pass
    assert states["VHR-AAA-003"] == "not-applicable"  # all not-applicable
    assert states["VHR-AAA-004"] == "fail"
    fail_case = next(c for c in data["cases"] if c["criteria"] == ["VHR-AAA-004"])
    assert fail_case["message"] == "máy chủ trả 500 / the server answered 500"  # no pytest introspection


def test_partial_scope_is_said_everywhere(pytester: pytest.Pytester) -> None:
    out = _setup(pytester, ONLY_PASS.replace("check(False", "check(True"))
    attested = pytester.path / "attestations.yaml"
    attested.write_text(
        "attestations:\n  - criterion: VHR-BBB-006\n    statement: {vi: Có làm., en: It is done.}\n"
        "    attested_by: Nguyễn Văn A\n    date: 2026-12-01\n",
        encoding="utf-8",
    )
    result = _run(pytester, "--vhr-only", "BBB", "-rN", "--vhr-attestations", str(attested))
    assert result.ret == ExitCode.PASS  # BBB-006 attested, awaiting review: does not hold the run back
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert (
        data["verdict"] == "PASS"
        and data["scope"]["partial"]
        and data["scope"]["narrowedBy"] == ["--only BBB"]
    )
    assert "partial scope" in data["verdictText"]["en"] and "phạm vi một phần" in data["verdictText"]["vi"]
    assert "ĐẠT (phạm vi một phần) / PASSED (partial scope)" in (out / "report.html").read_text(
        encoding="utf-8"
    )
    assert "partial scope" in json.loads((out / "testreport.json").read_text(encoding="utf-8"))["name"]
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["scope"]["partial"] is True
    assert "partial scope" in (out / "junit.xml").read_text(encoding="utf-8")
    assert "partial scope" in (out / "allure-results" / "environment.properties").read_text(encoding="utf-8")
    categories = json.loads((out / "allure-results" / "categories.json").read_text(encoding="utf-8"))
    assert [c["matchedStatuses"] for c in categories] == [["failed"], ["broken"], ["skipped"]]
    assert json.loads((out / "allure-results" / "executor.json").read_text(encoding="utf-8"))["buildName"]
    assert "PASSED (partial scope)" in result.stdout.str()
    # the same suite with every area in scope is a full run
    _run(pytester)
    full = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert full["scope"]["partial"] is False and full["verdict"] == "INCOMPLETE"  # AAA-001 not tested


def test_no_case_is_harness_error(pytester: pytest.Pytester) -> None:
    out = _setup(pytester)
    result = _run(pytester, "--vhr-only", "VHR-BBB-006")
    assert result.ret == ExitCode.ERROR
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["verdict"] == "ERROR"


def test_level_filter_and_only(pytester: pytest.Pytester) -> None:
    out = _setup(pytester)
    _run(pytester, "--vhr-level", "SHALL", "--vhr-only", "AAA")
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    ran = {c for case in data["cases"] for c in case["criteria"]}
    assert ran == {"VHR-AAA-001", "VHR-AAA-002"}


def test_unknown_criterion_and_untested_criterion_are_usage_errors(pytester: pytest.Pytester) -> None:
    _setup(pytester, SUITE.replace('"VHR-AAA-001"', '"VHR-AAA-999"'))
    result = _run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stderr.str() + result.stdout.str()
    assert "VHR-AAA-999" in text and "VHR-AAA-001" in text


def test_plugin_is_inert_without_target(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_ok():\n    assert True\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == 0
    assert not (pytester.path / "reports").exists()


def test_xdist_workers_report_to_the_controller(pytester: pytest.Pytester) -> None:
    out = _setup(pytester)
    result = _run(pytester, "-n", "2")
    assert result.ret == 1
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert {c["id"]: c["state"] for c in data["criteria"]}["VHR-AAA-002"] == "fail"
    assert len(data["cases"]) == 6 and not list(out.glob(".worker-*.json"))
    assert any(
        k.startswith("allure-results/")
        for k in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    )
