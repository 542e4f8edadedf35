"""Headless Chromium (Debian's `chromium`) printing an HTML file to PDF: the one place the run report,
`vhr report pdf` and the certificates print through, so they print the same way."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from vhr_conformance.i18n import Text

CHROMIUM_MISSING = Text(
    "Chưa cài Chromium (gói Debian `chromium`): không tạo được PDF; báo cáo HTML vẫn in được từ trình duyệt.",
    "Chromium is not installed (Debian package `chromium`): no PDF written; the HTML report still prints "
    "from a browser.",
)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def print_pdf(html: Path, pdf: Path | None = None, timeout: float = 90.0) -> Path | None:
    """The PDF of an HTML file (by default beside it, same name), or None when Chromium is not
    installed or printed nothing. A throwaway profile and no network services: the report is
    self-contained, and printing must not reach out."""
    browser = chromium()
    if browser is None:
        return None
    pdf = pdf or html.with_suffix(".pdf")
    pdf.unlink(missing_ok=True)  # a stale PDF must never pass for this one
    with tempfile.TemporaryDirectory(prefix="vhr-chromium-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf.resolve()}",
            html.resolve().as_uri(),
        ]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
    return pdf if pdf.is_file() and pdf.stat().st_size > 0 else None
