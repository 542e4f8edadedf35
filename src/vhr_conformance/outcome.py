"""The outcome model shared by `vhr run`, `vhr listen`, `vhr load` and every report.

A verdict is a claim about evidence. Per criterion the harness says one of:

- ``pass``: judged on evidence, and the evidence satisfied the requirement;
- ``fail``: judged, and the target broke the requirement;
- ``not-tested``: in scope, but an input or capability the run needed was missing (the message
  says which, and how to supply it); never counts as a pass;
- ``not-applicable``: the IG itself makes the requirement conditional and the condition does not
  hold (e.g. a SHOULD/MAY interaction the target does not declare);
- ``error``: the harness or the infrastructure could not judge;
- ``attestation``: judged by a person, not by the harness: stated by the attester, awaiting review.

An attestation criterion takes its state from its attestation (:func:`attestation_state`):
missing → not-tested, attested (not yet reviewed) → attestation, accepted by a trusted reviewer →
pass, rejected → fail. It then counts in the run verdict like an automated criterion, except that
a SHALL in state ``attestation`` does not keep the run INCOMPLETE (it was attested; the review is
the certificate's business).

Per run: PASS (every in-scope SHALL judged and passed), FAIL, INCOMPLETE (nothing failed, but an
in-scope SHALL was not tested or errored), INTERRUPTED (signal or deadline), ERROR (the harness
could not run). PASS is the only exit code 0.

Suites raise through :func:`fail`, :func:`check`, :func:`not_tested` and :func:`not_applicable`
so that every message is bilingual (Vietnamese first) and free of pytest's introspection text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import NoReturn

from _pytest.outcomes import Skipped

from vhr_conformance.i18n import Text


class State(StrEnum):
    """The state of one case or one criterion."""

    PASS = "pass"
    FAIL = "fail"
    NOT_TESTED = "not-tested"
    NOT_APPLICABLE = "not-applicable"
    ERROR = "error"
    ATTESTATION = "attestation"


class Verdict(StrEnum):
    """The verdict of a whole run."""

    PASS = "PASS"
    FAIL = "FAIL"
    INCOMPLETE = "INCOMPLETE"
    INTERRUPTED = "INTERRUPTED"
    ERROR = "ERROR"


class ExitCode(IntEnum):
    """Process exit codes of `vhr run`, `vhr listen` and `vhr load`; PASS is the only 0.

    2 stays what click and every `vhr` command already use for bad input (USAGE), so a CI gate can
    tell "the run was not complete" (5) from "the command line was wrong" (2).
    """

    PASS = 0
    FAIL = 1
    USAGE = 2
    ERROR = 3
    INTERRUPTED = 4
    INCOMPLETE = 5


EXIT_OF = {
    Verdict.PASS: ExitCode.PASS,
    Verdict.FAIL: ExitCode.FAIL,
    Verdict.INCOMPLETE: ExitCode.INCOMPLETE,
    Verdict.INTERRUPTED: ExitCode.INTERRUPTED,
    Verdict.ERROR: ExitCode.ERROR,
}

STATE_TEXT = {
    State.PASS: Text("Đạt", "Pass"),
    State.FAIL: Text("Không đạt", "Fail"),
    State.NOT_TESTED: Text("Chưa kiểm thử", "Not tested"),
    State.NOT_APPLICABLE: Text("Không áp dụng", "Not applicable"),
    State.ERROR: Text("Lỗi hạ tầng", "Error"),
    State.ATTESTATION: Text("Cần xác nhận", "Attestation"),
}

VERDICT_TEXT = {
    Verdict.PASS: Text("ĐẠT", "PASSED"),
    Verdict.FAIL: Text("KHÔNG ĐẠT", "FAILED"),
    Verdict.INCOMPLETE: Text("CHƯA ĐẦY ĐỦ", "INCOMPLETE"),
    Verdict.INTERRUPTED: Text("BỊ NGẮT", "INTERRUPTED"),
    Verdict.ERROR: Text("LỖI HẠ TẦNG", "HARNESS ERROR"),
}

PARTIAL_SCOPE = Text("phạm vi một phần", "partial scope")
PARTIAL_SCOPE_NOTE = Text(
    "Phạm vi đã được thu hẹp ({why}): kết quả chỉ nói về các tiêu chí đã chọn, không phải là chấp nhận toàn bộ IG.",
    "Scope narrowed on purpose ({why}): the verdict covers the chosen criteria only, never acceptance of the whole IG.",
)


def criterion_state(case_states: Iterable[str]) -> State:
    """A criterion's state from its cases (the rule of docs/suites.md).

    Any fail → fail; else any error → error; else any not-tested → not-tested; else pass when at
    least one case passed (the others not applicable); all not applicable → not applicable. A
    criterion with no case is not tested (out of a narrowed scope too: nothing judged it). So a
    passing side case never hides a main case that could not be judged.
    """
    present = {State(s) for s in case_states}
    for state in (State.FAIL, State.ERROR, State.NOT_TESTED, State.PASS, State.NOT_APPLICABLE):
        if state in present:
            return state
    return State.NOT_TESTED


#: An attestation's status (docs/evidence.md) → the criterion's state.
ATTESTATION_STATES = {
    "missing": State.NOT_TESTED,
    "attested": State.ATTESTATION,
    "accepted": State.PASS,
    "rejected": State.FAIL,
}


def attestation_state(status: str) -> State:
    """The state of an attestation criterion from its attestation's status (unknown: missing)."""
    return ATTESTATION_STATES.get(status, State.NOT_TESTED)


@dataclass(frozen=True)
class Judged:
    """What the run verdict needs of one criterion."""

    level: str
    state: str
    in_scope: bool = True
    automated: bool = True


def run_verdict(criteria: Iterable[Judged], *, ran: bool = True, interrupted: bool = False) -> Verdict:
    """PASS only when every in-scope SHALL criterion was judged and passed (or the IG made it not
    applicable); an attestation criterion counts by its :func:`attestation_state`, and a SHALL one
    that is attested, pending review, does not hold the run back. Any in-scope fail (a rejected
    attestation too) fails the run. An interruption wins over everything, since the rest was never
    run; a run with no case at all is the harness's error."""
    if interrupted:
        return Verdict.INTERRUPTED
    if not ran:
        return Verdict.ERROR
    rows = [c for c in criteria if c.in_scope]
    if any(c.state == State.FAIL for c in rows):
        return Verdict.FAIL
    shall = [c for c in rows if c.level == "SHALL"]
    done = (State.PASS, State.NOT_APPLICABLE)
    if any(c.state not in done and (c.automated or c.state != State.ATTESTATION) for c in shall):
        return Verdict.INCOMPLETE
    return Verdict.PASS


class CriterionFailed(AssertionError):
    """The target broke the requirement; the message is bilingual."""

    def __init__(self, text: Text) -> None:
        self.text = text
        super().__init__(text.both(" / "))


class NotTested(Skipped):
    """In scope, but the run lacked an input or capability to judge it (the message says which)."""

    def __init__(self, text: Text) -> None:
        self.text = text
        super().__init__(msg=text.both(), allow_module_level=False)


class NotApplicable(Skipped):
    """The IG makes the requirement conditional and the condition does not hold for this target."""

    def __init__(self, text: Text) -> None:
        self.text = text
        super().__init__(msg=text.both(), allow_module_level=False)


def fail(text: Text) -> NoReturn:
    """The target broke the requirement: say what was observed, in both languages."""
    raise CriterionFailed(text)


def check(condition: object, text: Text) -> None:
    """`fail(text)` unless `condition` holds."""
    if not condition:
        raise CriterionFailed(text)


def not_tested(text: Text) -> NoReturn:
    """Stop the case as `not-tested`: name the missing input and how to supply it."""
    raise NotTested(text)


def not_applicable(text: Text) -> NoReturn:
    """Stop the case as `not-applicable`: name the IG condition that does not hold."""
    raise NotApplicable(text)
