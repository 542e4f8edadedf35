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
from vhr_conformance.runner.catalogue import suites_dir

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
    states = {c["id"]: c["state"] for c in data["criteria"]}
    assert states == {
        "VHR-AAA-001": "pass",
        "VHR-AAA-002": "fail",
        "VHR-AAA-003": "omit",
        "VHR-AAA-004": "skip",
        "VHR-BBB-005": "error",
        "VHR-BBB-006": "attestation",
    }
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
    labels = [json.loads(p.read_text())["labels"] for p in (out / "allure-results").glob("*-result.json")]
    flat = {(lab["name"], lab["value"]) for ls in labels for lab in ls}
    assert ("epic", "Nhóm thử / Test area") in flat and ("severity", "critical") in flat
    assert any(n == "feature" and v.startswith("VHR-AAA-002") for n, v in flat)
    assert manifest["ig"]["id"] == "vhr.conformance.ig" and len(manifest["ig"]["sha256"]) == 64


def test_harness_error_has_its_own_exit_code(pytester: pytest.Pytester) -> None:
    _setup(pytester, SUITE.replace('assert n == 1, "vendor broke it"', "pass"))
    assert _run(pytester).ret == 3


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
