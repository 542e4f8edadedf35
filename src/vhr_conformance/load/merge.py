"""Bridge from a load run's ``summary.json`` to the conformance report's test cases.

For ``vhr run --with-load`` (owned by the suites): each PERF result of the load run becomes one
``CaseResult`` traced to the catalogue criterion it is evidence for (``criterion`` in the result,
``VHR-PERF-003`` by default, ``VHR-PERF-004`` for the capacity), so the report aggregates them like
any other case. A load run that produced no summary is one ``error`` case: the harness failed, the
target is not blamed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vhr_conformance.load.config import DEFAULT_CRITERION


def read_summary(load_dir: Path) -> dict[str, Any] | None:
    """``<load_dir>/summary.json`` or None when the run wrote none."""
    path = load_dir / "summary.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def perf_cases(load_dir: Path) -> list[Any]:
    """The load run in ``load_dir`` (``reports/<run-id>/load``) as ``reports.model.CaseResult``s."""
    from vhr_conformance.reports.model import CaseResult

    summary = read_summary(load_dir)
    if summary is None:
        return [
            CaseResult(
                nodeid="loadtests::summary",
                name="load run",
                criteria=[DEFAULT_CRITERION],
                state="error",
                message=f"Không có kết quả tải / no load summary in {load_dir}",
            )
        ]
    cases = []
    partial = " (dở dang / partial)" if summary.get("partial") else ""
    for result in summary["results"]:
        title, message = result["title"], result["message"]
        cases.append(
            CaseResult(
                nodeid=f"loadtests::{result['id']}",
                name=f"{result['id']} {title['vi']} / {title['en']}",
                criteria=[result.get("criterion", DEFAULT_CRITERION)],
                state=result["status"],
                message=f"{message['vi']} / {message['en']}{partial}",
                duration_s=float(summary.get("elapsed_s", 0.0)),
            )
        )
    return cases
