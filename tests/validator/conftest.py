"""Shared fixture: one compiled validator per test session (compiling is the expensive part)."""

from __future__ import annotations

import pytest

from vhr_conformance.validator import Validator


@pytest.fixture(scope="session")
def validator() -> Validator:
    return Validator.default()
