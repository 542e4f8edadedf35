"""Performance seen during the conformance run (area PERF). Load and capacity are measured by loadtests/."""

from __future__ import annotations

from vhr_conformance.client import FhirClient
from vhr_conformance.pytest_plugin import VhrState, criterion

P95_LIMIT_MS = 1000.0
SAMPLES = 5
PROBES = 25


@criterion("VHR-PERF-001")
def test_read_latency_p95(vhr: VhrState, fhir: FhirClient) -> None:
    for _ in range(SAMPLES):  # a few reads of our own so the check holds even for a partial run
        fhir.get("metadata")
    times = sorted(
        ms for method, status, ms in vhr.evidence.timings if method == "GET" and status is not None
    )
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    assert p95 < P95_LIMIT_MS, (
        f"p95 of {len(times)} GET requests is {p95:.0f} ms (limit {P95_LIMIT_MS:.0f} ms)"
    )


@criterion("VHR-PERF-002")
def test_no_server_errors(vhr: VhrState, fhir: FhirClient) -> None:
    for _ in range(PROBES):  # valid searches of our own, on top of everything the run sent
        fhir.get("Patient", params={"_count": "1"})
    errors = vhr.evidence.server_errors
    assert not errors, f"{len(errors)} requests of the run got a 5xx answer, e.g. {errors[:3]}"
