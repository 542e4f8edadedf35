"""Shared, session-scoped cohorts so each test module does not regenerate them."""

from __future__ import annotations

import pytest

from vhr_conformance.generator import generate_patients


@pytest.fixture(scope="session")
def cohort200() -> list[dict]:
    return list(generate_patients(200, seed=7))
