"""Fixtures: a small folder of coverage bundles and a helper that runs one listening session over
real HTTP on loopback (the listener in a background thread, the sample client in the test)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vhr_conformance.generator import fixtures_dir
from vhr_conformance.listen import Listener, PushLog, PushOptions, ScenarioConfig, SessionReport, push

# A facility's submissions (one encounter per transaction, declaring vhr-bundle-transaction) and a
# whole-history coverage bundle (two encounters); each has Conditions and Observations.
BUNDLES = (
    "submissions/patient-00-very-old-encounter-2.json",
    "submissions/patient-01-newborn-encounter-1.json",
    "coverage/patient-46-p46.json",
)
SMALL_LIMIT = 150_000  # bytes: above every bundle used here, so `oversize` is the only one over it


@pytest.fixture(scope="session")
def bundles_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bundles")
    for i, name in enumerate(BUNDLES):
        shutil.copy(fixtures_dir() / name, folder / f"{i:02d}-{Path(name).name}")
    return folder


Run = Callable[..., tuple[SessionReport, PushLog]]


@pytest.fixture
def run_session(bundles_dir: Path, tmp_path: Path) -> Run:
    """Listen, push once (or `sends` times), finish; returns the report and the client's log."""

    def run(
        bad: str | None = None,
        scenarios: tuple[str, ...] = (),
        auth: str = "oauth",
        corrections: int = 1,
        sends: int = 1,
        limit: int | None = None,
        attestations: dict[str, dict[str, Any]] | None = None,
    ) -> tuple[SessionReport, PushLog]:
        config = ScenarioConfig(names=scenarios, throttle_every=3, retry_after_s=1, outage_s=1.2)
        with Listener(auth=auth, session="t", scenarios=config, max_body_bytes=SMALL_LIMIT) as lst:
            log = PushLog()
            for _ in range(sends):
                log = push(
                    PushOptions(
                        target=lst.base_url,
                        folder=bundles_dir,
                        auth=auth,
                        bad=bad,
                        corrections=corrections,
                        backoff_s=0.05,
                        max_retries=4,
                        max_body_bytes=SMALL_LIMIT,
                        limit=limit,
                    )
                )
            report = lst.finish(tmp_path / "report", attestations=attestations)
        return report, log

    return run


def states(report: SessionReport) -> dict[str, str]:
    return {c.criteria[0]: c.state for c in report.run.cases}


def messages(report: SessionReport) -> dict[str, str]:
    return {c.criteria[0]: c.message for c in report.run.cases}
