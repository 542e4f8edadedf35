"""The outcome model shared by `vhr run`, `vhr listen`, `vhr load` and every report.

A verdict is a claim about evidence. Per criterion the harness says one of:

- ``pass``: judged on evidence, and the evidence satisfied the requirement;
- ``fail``: judged, and the target broke the requirement;
- ``not-tested``: in scope, but an input or capability the run needed was missing (the message
  says which, and how to supply it); never counts as a pass;
- ``not-applicable``: the IG itself makes the requirement conditional and the condition does not
  hold (e.g. a SHOULD/MAY interaction the target does not declare);
- ``error``: the harness or the infrastructure could not judge;
- ``attestation``: judged by a person, not by the harness.

Per run: PASS (every in-scope SHALL judged and passed), FAIL, INCOMPLETE (nothing failed, but an
in-scope SHALL was not tested or errored), INTERRUPTED (signal or deadline), ERROR (the harness
could not run). PASS is the only exit code 0.

Suites raise through :func:`fail`, :func:`check`, :func:`not_tested` and :func:`not_applicable`
so that every message is bilingual (Vietnamese first) and free of pytest's introspection text.
"""

from __future__ import annotations

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
    """Process exit codes of `vhr run`, `vhr listen` and `vhr load`; PASS is the only 0."""

    PASS = 0
    FAIL = 1
    INCOMPLETE = 2
    ERROR = 3
    INTERRUPTED = 4


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
