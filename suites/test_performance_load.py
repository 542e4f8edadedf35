"""Performance under load (VHR-PERF-003 SLO thresholds, VHR-PERF-004 capacity), verified by a load run.

With `vhr run --with-load` (plugin option `--vhr-load`) the load stage runs against the same target
after every other case (PERF cases run last, and this module after test_performance.py), writing to
`<report-dir>/load/`; each PERF threshold result (VHR-PERF-101…) is folded into its catalogue
criterion as evidence. Without a load run both criteria are not tested, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from vhr_conformance.i18n import Text
from vhr_conformance.outcome import check, not_tested
from vhr_conformance.pytest_plugin import HarnessError, VhrState, criterion
from vhr_conformance.runner import withload


@pytest.fixture(scope="session")
def load_run(request: pytest.FixtureRequest, vhr: VhrState) -> withload.LoadOutcome:
    spec = request.config.getoption("vhr_load", None)
    if not spec:
        not_tested(
            Text(
                "Lượt chạy này không có kiểm thử tải: chạy vhr run (mặc định có tải) hoặc vhr run --with-load.",
                "This run had no load test: run vhr run (load included by default) or vhr run --with-load.",
            )
        )
    outcome = withload.run_load_for(spec, vhr.options.run_config, vhr.options.report_dir)
    for name in ("report.html", "timeline.svg"):
        path = outcome.load_dir / name
        if path.is_file():
            try:
                import allure

                allure.attach.file(
                    str(path),
                    name=f"load {name}",
                    attachment_type=allure.attachment_type.HTML
                    if name.endswith("html")
                    else allure.attachment_type.SVG,
                )
            except ImportError:  # pragma: no cover - allure-pytest is a dependency
                pass
    return outcome


def _judge(
    outcome: withload.LoadOutcome, cid: str, record_property: Callable[[str, Any], None], missing: Text
) -> None:
    if outcome.summary is None:
        raise HarnessError(
            f"load run ended with exit code {outcome.code} and no summary in {outcome.load_dir}"
        )
    results = outcome.for_criterion(cid)
    if not results:
        not_tested(missing)
    for r in results:
        record_property(r["id"], f"{r['status']}: {withload.result_line(r)}")
    aborted = bool(outcome.summary.get("aborted"))
    state = withload.fold(results, aborted)
    lines = "\n".join(withload.result_line(r) for r in results)
    partial = " (partial run / dở dang)" if outcome.summary.get("partial") else ""
    record_property(
        "vhr_note",
        f"load verdict {outcome.summary.get('verdict')}{partial}; {outcome.load_dir / 'report.html'}\n{lines}",
    )
    if state == "skip":
        not_tested(
            Text(
                f"Không ngưỡng nào đủ mẫu để đánh giá{partial}; chạy tải lâu hơn (--load-duration).\n{lines}",
                f"No threshold had enough samples to be judged{partial}; run the load longer (--load-duration).\n{lines}",
            )
        )
    stopped = f", aborted early: {outcome.summary['aborted']}" if aborted else ""
    check(
        state == "pass",
        Text(
            f"Kết luận tải {outcome.summary.get('verdict')}{partial}{stopped}; báo cáo {outcome.load_dir / 'report.html'}\n{lines}",
            f"Load verdict {outcome.summary.get('verdict')}{partial}{stopped}; report {outcome.load_dir / 'report.html'}\n{lines}",
        ),
    )


@criterion("VHR-PERF-003")
def test_slo_thresholds_under_load(
    load_run: withload.LoadOutcome, record_property: Callable[[str, Any], None]
) -> None:
    _judge(
        load_run,
        "VHR-PERF-003",
        record_property,
        Text(
            "Lượt tải không có ngưỡng SLO nào cho VHR-PERF-003.",
            "The load run has no SLO threshold for VHR-PERF-003.",
        ),
    )


@criterion("VHR-PERF-004")
def test_capacity(load_run: withload.LoadOutcome, record_property: Callable[[str, Any], None]) -> None:
    _judge(
        load_run,
        "VHR-PERF-004",
        record_property,
        Text(
            "Chưa đo công suất: dùng vhr run --with-load --load-shape capacity.",
            "Capacity not measured: use vhr run --with-load --load-shape capacity.",
        ),
    )
