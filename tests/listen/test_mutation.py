"""Mutation proof of the sender criteria: the well-behaved sample client passes every one of them,
and each bad mode fails exactly the criterion it breaks (over real HTTP on loopback)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from vhr_conformance.evidence.attestations import for_run
from vhr_conformance.listen import BAD_MODES
from vhr_conformance.listen.evaluate import CHECKS
from vhr_conformance.listen.session import sender_catalogue
from vhr_conformance.outcome import Verdict

from .conftest import Run, messages, states

# Scenarios a bad mode needs to show its misbehaviour (the platform must provoke it).
NEEDS = {"no-backoff": ("throttle",), "resend-rejected": ("reject-invalid",)}


def test_every_automated_sender_criterion_has_a_check_and_a_bad_mode() -> None:
    automated = {c.id for c in sender_catalogue().criteria.values() if c.automated}
    assert automated == set(CHECKS)
    assert {cid for cid, _ in BAD_MODES.values()} == automated


def test_good_client_passes_every_sender_criterion(run_session: Run, tmp_path: Path) -> None:
    attested = tmp_path / "attestations.yaml"
    attested.write_text(
        "attestations:\n  - criterion: VHR-KCB-008\n"
        "    statement: {vi: Gửi trong 24 giờ., en: Sent within 24 hours.}\n"
        "    attested_by: Cơ sở KCB A\n    date: 2026-12-01\n",
        encoding="utf-8",
    )
    records = for_run(attested, [], sender_catalogue().criteria)
    report, log = run_session(scenarios=("throttle", "reject-invalid"), attestations=records)
    got = states(report)
    assert got == dict.fromkeys(CHECKS, "pass"), messages(report)
    assert log.retries >= 1 and log.corrections == 1 and len(log.rejected) == 1  # provoked, handled, reported
    assert report.run.exit_code() == 0
    # without the sender's attestation of VHR-KCB-008 (SHALL) the same session is INCOMPLETE
    bare = replace(report.run, attestations=None)
    bare.aggregate()
    gaps = [r.criterion.id for r in bare.not_tested(("SHALL",))]
    assert bare.verdict() == Verdict.INCOMPLETE and gaps == ["VHR-KCB-008"]


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
