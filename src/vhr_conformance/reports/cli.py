"""`vhr report pdf`: the PDF of a run's report, for printing and filing (headless Chromium)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from vhr_conformance.i18n import Text, UserError
from vhr_conformance.reports.pdf import CHROMIUM_MISSING, chromium, print_pdf

console = Console()

report_app = typer.Typer(
    help="Báo cáo của một lần chạy / a run's report", no_args_is_help=True, add_completion=False
)


def _html_of(results: Path) -> Path:
    """The report.html of a results folder (or the HTML file itself), with a located error otherwise."""
    html = results / "report.html" if results.is_dir() else results
    if not html.is_file() or html.suffix.lower() not in (".html", ".htm"):
        raise UserError(
            Text(
                "Không tìm thấy report.html: hãy chỉ tới thư mục kết quả của một lần chạy (reports/<run-id>).",
                "No report.html here: give the results folder of a run (reports/<run-id>).",
            ),
            location=str(results),
        )
    return html


def pdf_cmd(
    results: Path = typer.Argument(
        ..., help="Thư mục kết quả (reports/<run-id>) hoặc report.html / results folder or report.html"
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Tệp PDF / PDF file (default: report.pdf beside report.html)"
    ),
) -> None:
    """In báo cáo ra PDF / print the report to PDF."""
    html = _html_of(results)
    if chromium() is None:
        raise UserError(CHROMIUM_MISSING, location="chromium")
    target = out or html.with_suffix(".pdf")
    if target.parent and not target.parent.is_dir():
        raise UserError(
            Text("Thư mục không tồn tại.", "The folder does not exist."), location=str(target.parent)
        )
    pdf = print_pdf(html, target)
    if pdf is None:
        console.print(
            Text(
                "Chromium không in được báo cáo ra PDF (hết thời gian hoặc lỗi trình duyệt).",
                "Chromium did not print the report to PDF (timeout or browser error).",
            ).in_lang(),
            highlight=False,
        )
        sys.exit(3)
    console.print(f"PDF: [bold]{pdf}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    report_app.command("pdf")(pdf_cmd)
    app.add_typer(report_app, name="report")
