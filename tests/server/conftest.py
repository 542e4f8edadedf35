"""Fixtures: reference servers on free loopback ports, driven over real HTTP with httpx."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from vhr_conformance.server import ReferenceServer

CCCD = "http://fhir.hl7.org.vn/core/sid/cccd"
FHIR = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "identifier": [{"system": CCCD, "value": "001090012345"}],
    "name": [{"family": "Nguyễn", "given": ["Văn", "An"]}],
    "gender": "male",
    "birthDate": "1990-05-01",
}


def patient(**changes: Any) -> dict[str, Any]:
    res = copy.deepcopy(PATIENT)
    res.update(changes)
    return res


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    # Validation is exercised in its own module; here writes test the REST behaviour only.
    with ReferenceServer(port=0, db=":memory:", validate=False) as srv:
        yield srv


@pytest.fixture()
def client(server: ReferenceServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers=FHIR, timeout=20) as c:
        yield c
