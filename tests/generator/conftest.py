"""Shared, session-scoped cohorts so each test module does not regenerate them."""

from __future__ import annotations

import pytest

from vhr_conformance.generator import coverage_cohort, generate_patients


@pytest.fixture(scope="session")
def cohort200() -> list[dict]:
    return list(generate_patients(200, seed=7))


@pytest.fixture(scope="session")
def coverage() -> list[dict]:
    """The coverage cohort (shared: tests that mutate it must deep-copy first)."""
    return coverage_cohort()
