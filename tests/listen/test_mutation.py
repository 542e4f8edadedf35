"""Mutation proof of the sender criteria: the well-behaved sample client passes every one of them,
and each bad mode fails exactly the criterion it breaks (over real HTTP on loopback)."""

from __future__ import annotations

import pytest

from vhr_conformance.listen import BAD_MODES
from vhr_conformance.listen.evaluate import CHECKS
from vhr_conformance.listen.session import sender_catalogue

from .conftest import Run, messages, states

# Scenarios a bad mode needs to show its misbehaviour (the platform must provoke it).
NEEDS = {"no-backoff": ("throttle",), "resend-rejected": ("reject-invalid",)}


def test_every_automated_sender_criterion_has_a_check_and_a_bad_mode() -> None:
    automated = {c.id for c in sender_catalogue().criteria.values() if c.automated}
    assert automated == set(CHECKS)
    assert {cid for cid, _ in BAD_MODES.values()} == automated


def test_good_client_passes_every_sender_criterion(run_session: Run) -> None:
    report, log = run_session(scenarios=("throttle", "reject-invalid"))
    got = states(report)
    assert got == dict.fromkeys(CHECKS, "pass"), messages(report)
    assert log.retries >= 1 and log.corrections == 1 and len(log.rejected) == 1  # provoked, handled, reported
    assert report.run.exit_code() == 0


@pytest.mark.parametrize("mode", list(BAD_MODES))
def test_bad_mode_fails_exactly_its_criterion(run_session: Run, mode: str) -> None:
    target = BAD_MODES[mode][0]
    report, _log = run_session(bad=mode, scenarios=NEEDS.get(mode, ()))
    got = states(report)
    failed = {cid for cid, state in got.items() if state == "fail"}
    assert failed == {target}, messages(report)
    case = next(c for c in report.run.cases if c.criteria == [target])
    assert case.evidence, "a failure carries the offending requests as evidence"
    assert report.run.exit_code() == 1
