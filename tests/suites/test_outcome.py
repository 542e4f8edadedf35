"""The outcome model's rules, each from the text of issue 12 / docs/suites.md."""

from __future__ import annotations

import pytest

from vhr_conformance.i18n import Text
from vhr_conformance.outcome import (
    EXIT_OF,
    CriterionFailed,
    ExitCode,
    Judged,
    NotApplicable,
    NotTested,
    State,
    Verdict,
    check,
    criterion_state,
    fail,
    not_applicable,
    not_tested,
    run_verdict,
)
from vhr_conformance.pytest_plugin import omit, skip_missing

T = Text("lý do", "reason")


@pytest.mark.parametrize(
    ("cases", "expected"),
    [
        (["pass", "fail", "error", "not-tested"], State.FAIL),  # any fail → fail
        (["pass", "error", "not-tested"], State.ERROR),  # else any error → error
        (["pass", "not-tested"], State.NOT_TESTED),  # a passing side case never hides a not-tested one
        (["not-tested", "not-applicable"], State.NOT_TESTED),
        (["pass", "not-applicable"], State.PASS),  # pass only with one pass, the others n/a
        (["pass", "pass"], State.PASS),
        (["not-applicable", "not-applicable"], State.NOT_APPLICABLE),  # all n/a → n/a
        ([], State.NOT_TESTED),  # no case → not tested
    ],
)
def test_criterion_state_rule(cases: list[str], expected: State) -> None:
    assert criterion_state(cases) == expected


def test_run_verdicts_and_exit_codes() -> None:
    ok = Judged("SHALL", "pass")
    assert run_verdict([ok, Judged("SHALL", "not-applicable")]) == Verdict.PASS
    assert run_verdict([ok, Judged("MAY", "fail")]) == Verdict.FAIL  # any in-scope failure
    assert run_verdict([ok, Judged("SHALL", "not-tested")]) == Verdict.INCOMPLETE
    assert run_verdict([ok, Judged("SHALL", "error")]) == Verdict.INCOMPLETE
    assert run_verdict([ok, Judged("SHOULD", "not-tested")]) == Verdict.PASS  # only SHALL blocks PASS
    assert run_verdict([ok, Judged("SHALL", "not-tested", in_scope=False)]) == Verdict.PASS
    assert run_verdict([ok, Judged("SHALL", "attestation", automated=False)]) == Verdict.PASS
    assert run_verdict([Judged("SHALL", "fail")], interrupted=True) == Verdict.INTERRUPTED
    assert run_verdict([], ran=False) == Verdict.ERROR
    codes = {EXIT_OF[v] for v in Verdict}
    assert len(codes) == len(Verdict) and ExitCode.USAGE not in codes  # distinct, never a usage error
    assert [v for v in Verdict if EXIT_OF[v] == 0] == [Verdict.PASS]  # only PASS is 0


def test_helpers_raise_bilingual_outcomes() -> None:
    with pytest.raises(CriterionFailed) as failed:
        fail(T)
    assert str(failed.value) == "lý do / reason" and isinstance(failed.value, AssertionError)
    with pytest.raises(CriterionFailed):
        check(False, T)
    check(True, T)
    for helper, kind in ((not_tested, NotTested), (skip_missing, NotTested)):
        with pytest.raises(kind):
            helper(T)
    for helper, kind in ((not_applicable, NotApplicable), (omit, NotApplicable)):
        with pytest.raises(kind):
            helper(T)


def test_first_version_state_names_are_read_as_the_outcome_model() -> None:
    from vhr_conformance.reports.model import CaseResult

    assert CaseResult("a", "a", ["VHR-X-001"], "skip").state == "not-tested"
    assert CaseResult("a", "a", ["VHR-X-001"], "omit").state == "not-applicable"
    with pytest.raises(ValueError):
        CaseResult("a", "a", ["VHR-X-001"], "maybe")
