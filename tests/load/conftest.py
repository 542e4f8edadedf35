"""Fixtures for the load tests: a synthetic patient pool and a tiny FHIR-like server process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import CCCD, start_fake


@pytest.fixture(scope="session")
def coverage_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five transaction bundles with a Patient and a CCCD each (synthetic, test-only)."""
    path = tmp_path_factory.mktemp("coverage")
    for i in range(5):
        patient = {
            "resourceType": "Patient",
            "identifier": [{"system": CCCD, "value": f"00120000{i:04d}"}],
            "meta": {
                "tag": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"}]
            },
        }
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": f"urn:uuid:00000000-0000-4000-8000-00000000000{i}",
                    "resource": patient,
                    "request": {"method": "POST", "url": "Patient"},
                }
            ],
        }
        (path / f"patient-{i}.json").write_text(json.dumps(bundle), encoding="utf-8")
    return path


@pytest.fixture
def fake_server(tmp_path: Path) -> Iterator[str]:
    proc, url = start_fake(tmp_path)
    yield url
    proc.terminate()
    proc.wait(timeout=10)
