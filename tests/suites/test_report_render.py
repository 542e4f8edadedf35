"""The HTML report renders in headless Chromium: summary visible, the filter script ran, screenshot kept."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from vhr_conformance.catalogue import load_catalogue
from vhr_conformance.reports import CaseResult, RunResult, write_reports

ARTEFACTS = Path(__file__).resolve().parents[2] / "reports" / "test-artefacts"


def _browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _run() -> RunResult:
    cat = load_catalogue()
    cases = []
    for i, crit in enumerate(c for c in cat.criteria.values() if c.automated):
        state = ("pass", "pass", "pass", "fail", "not-tested", "not-applicable", "error")[i % 7]
        evidence = (
            [
                {
                    "method": "GET",
                    "url": "http://127.0.0.1:1/Patient/x",
                    "request_headers": {"Authorization": "***"},
                    "request_body": "",
                    "status": 404,
                    "response_headers": {},
                    "response_body": '{"resourceType":"OperationOutcome"}',
                    "elapsed_ms": 3.0,
                }
            ]
            if state == "fail"
            else []
        )
        cases.append(
            CaseResult(
                f"suites/test_x.py::test_{i}",
                f"test_{i}",
                [crit.id],
                state,
                "expected 404, got 200 — Nguyễn" if state == "fail" else "",
                0.01,
                evidence,
            )
        )
    run = RunResult(
        "render-test",
        "http://127.0.0.1:1",
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T00:00:30+00:00",
        "MAY",
        1,
        {},
        {"id": "vhr.conformance.ig", "version": "0.1.0"},
        "0.1.0",
        cases,
        cat,
    )
    run.aggregate()
    return run


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = _browser()
    if browser is None:
        pytest.skip("Chromium is not installed (Debian package `chromium`): cannot render the HTML report")
    paths = write_reports(_run(), tmp_path)
    url = paths["html"].as_uri()
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
    dom = subprocess.run(
        [*flags, "--dump-dom", url], capture_output=True, text=True, timeout=90, check=False
    ).stdout
    assert 'id="summary"' in dom and "Tổng hợp theo mức / Summary by level" in dom
    assert 'id="verdict"' in dom and "KHÔNG ĐẠT / FAILED" in dom
    shown = dom.split('id="shown">', 1)[1].split("<", 1)[0]
    assert int(shown) > 0, "the filter script did not run"
    shot = tmp_path / "report.png"
    subprocess.run(
        [*flags, "--window-size=1280,1600", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert shot.is_file() and shot.stat().st_size > 20_000
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTEFACTS / "report-screenshot.png")
