"""The report on paper: Debian's headless Chromium prints the HTML, pypdf reads the PDF back, and
every line and token of every failure's evidence must be in it (issue 13: "the PDF of a failing run
shows every failure's evidence whole"). The same page without the print stylesheet loses text, so
the check is shown to catch a clipped evidence box."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.reports.conftest import FAILING, evidence, long_body, make_run
from vhr_conformance.reports import RunResult, write_reports
from vhr_conformance.reports.html import evidence_text, render_html
from vhr_conformance.reports.model import Provenance
from vhr_conformance.reports.pdf import chromium, print_pdf

ROOT = Path(__file__).resolve().parents[2]

needs_chromium = pytest.mark.skipif(
    chromium() is None, reason="Chromium is not installed (Debian package `chromium`): cannot print the PDF"
)


def _squash(text: str) -> str:
    """Text compared without layout: no whitespace (line wrapping), no soft hyphens, NFKC (a printed
    "fi" ligature reads back as one character)."""
    return unicodedata.normalize("NFKC", re.sub(r"[\s\u00ad]+", "", text))


def pdf_text(pdf: Path) -> str:
    return "".join(page.extract_text() or "" for page in PdfReader(pdf).pages)


def missing_evidence(run: RunResult, text: str) -> list[str]:
    """Lines of the failures' evidence (as the report shows it) that the PDF text lacks."""
    flat = _squash(text)
    out = []
    for row in run.criteria:
        if row.state not in ("fail", "error"):
            continue
        for case in row.cases:
            for ev in case.evidence:
                out += [line for line in evidence_text(ev).splitlines() if _squash(line) not in flat]
    return out


def _long_failing_run() -> RunResult:
    run = make_run({cid: [evidence(cid, long_body(cid))] for cid in FAILING})
    run.provenance = Provenance(
        target={"url": run.target, "software": {"name": "HIS Bệnh viện A", "version": "4.2.1"}},
        vendor={"organisation": "Công ty Phần mềm Y tế Hòa Bình", "product": "HIS-A", "version": "4.2.1"},
        harness_fingerprint="ab" * 32,
        signer={"name": "Bộ Y tế — Cục CNTT", "role": "ministry", "keyId": "0123456789abcdef"},
    )
    return run


def _print(run: RunResult, folder: Path, print_css: bool = True) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    html = folder / "report.html"
    html.write_text(render_html(run, print_css=print_css), encoding="utf-8")
    pdf = print_pdf(html)
    assert pdf is not None, "Chromium printed no PDF"
    return pdf_text(pdf)


@needs_chromium
def test_the_pdf_of_a_failing_run_shows_every_failures_evidence_whole(tmp_path: Path) -> None:
    run = _long_failing_run()
    bodies = [ev["response_body"] for row in run.criteria for c in row.cases for ev in c.evidence]
    assert len(bodies) == len(FAILING) and all(b.count("\n") >= 200 for b in bodies)
    text = _print(run, tmp_path)
    assert missing_evidence(run, text) == []
    flat = _squash(text)
    for cid in FAILING:  # the long token and the Vietnamese lines, named explicitly
        token = next(line for line in long_body(cid).splitlines() if "-TOKEN-" in line)
        assert _squash(token) in flat
        assert _squash(f'{cid} dòng 0219: {{"hoTen": "Phạm Quốc Tuấn"') in flat
    # the header a ministry files with it
    for fact in (
        "Công ty Phần mềm Y tế Hòa Bình",
        "HIS-A 4.2.1",
        "Do Bộ Y tế thực hiện",
        "Run by the ministry",
    ):
        assert _squash(fact) in flat, fact


@needs_chromium
def test_the_check_catches_a_clipped_evidence_box(tmp_path: Path) -> None:
    """Without the print stylesheet the screen style applies (max-height and a scroll bar): the
    printed box shows its first lines only, and the check names what is lost."""
    run = _long_failing_run()
    text = _print(run, tmp_path, print_css=False)
    lost = missing_evidence(run, text)
    assert lost, "a clipped evidence box went unnoticed"
    assert any("dòng 0219" in line for line in lost) and any("-TOKEN-" in line for line in lost)
    assert _squash("VHR-SEC-005 dòng 0000") in _squash(text)  # the top of the box did print


@needs_chromium
def test_vhr_report_pdf_prints_the_report_of_a_results_folder(tmp_path: Path) -> None:
    run = make_run({"VHR-SEC-005": [evidence("VHR-SEC-005", long_body("VHR-SEC-005", 40))]})
    write_reports(run, tmp_path)
    out = tmp_path / "filed.pdf"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "vhr_conformance.cli", "report", "pdf", str(tmp_path), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert missing_evidence(run, pdf_text(out)) == []


def test_write_reports_prints_the_pdf_beside_the_html_and_hashes_it(tmp_path: Path) -> None:
    run = make_run({"VHR-SEC-005": [evidence("VHR-SEC-005", "{}")]})
    paths = write_reports(run, tmp_path, pdf=True)
    manifest = (tmp_path / "manifest.json").read_text(encoding="utf-8")
    if chromium() is None:
        assert "pdf" not in paths and "report.pdf" not in manifest
    else:
        assert paths["pdf"] == tmp_path / "report.pdf" and paths["pdf"].read_bytes().startswith(b"%PDF")
        assert '"report.pdf"' in manifest


def test_without_chromium_vhr_report_pdf_says_so_in_both_languages(tmp_path: Path) -> None:
    write_reports(make_run({}), tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PATH": str(tmp_path / "no-bin")}
    proc = subprocess.run(
        [sys.executable, "-m", "vhr_conformance.cli", "report", "pdf", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 2
    assert "Chưa cài Chromium" in proc.stderr and "Chromium is not installed" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "report.pdf").exists()


def test_vhr_report_pdf_needs_a_results_folder(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "vhr_conformance.cli", "report", "pdf", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 2 and "report.html" in proc.stderr and str(tmp_path) in proc.stderr
