"""Data quality of the store's own data (VHR-QUAL-2xx), judged on the audit `vhr run --audit` made
before the suites (`vhr_conformance.audit.fold`). Without `--audit` these criteria are out of the
run's scope and their cases are not collected (pytest_plugin), so they never fail a run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from vhr_conformance.audit.fold import judge
from vhr_conformance.catalogue import load_catalogue
from vhr_conformance.i18n import Text
from vhr_conformance.outcome import fail, not_tested
from vhr_conformance.pytest_plugin import criterion, get_state


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "audit_criterion" not in metafunc.fixturenames:
        return
    state = get_state(metafunc.config)
    cat = state.catalogue if state is not None else load_catalogue()
    ids = [c.id for c in cat.criteria.values() if c.input == "audit"]
    metafunc.parametrize("audit_criterion", [pytest.param(c, marks=criterion(c), id=c) for c in ids])


def test_store_quality(
    audit_criterion: str, request: pytest.FixtureRequest, record_property: Callable[[str, Any], None]
) -> None:
    verdicts = request.config.getoption("vhr_audit")
    if not verdicts:  # only reached when the plugin's scope rule is bypassed (a hand-run pytest)
        not_tested(
            Text(
                "Cần vhr run --audit (hoặc --audit-ndjson THƯ_MỤC) để đánh giá dữ liệu của kho.",
                "vhr run --audit (or --audit-ndjson DIR) is needed to judge the store's data.",
            )
        )
    state, text = judge(str(verdicts), audit_criterion)
    if state == "fail":
        fail(text)
    if state != "pass":
        not_tested(text)
    record_property("vhr_note", text.both())
