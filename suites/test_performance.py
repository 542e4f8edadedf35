"""Performance seen during the conformance run (area PERF). Load and capacity are measured by loadtests/."""

from __future__ import annotations

from vhr_conformance.client import FhirClient
from vhr_conformance.i18n import Text
from vhr_conformance.outcome import check
from vhr_conformance.pytest_plugin import VhrState, criterion
from vhr_conformance.runner.checks import require_judged, short

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
    require_judged(
        len(times),
        Text(
            "Không có yêu cầu GET nào có phản hồi để đo độ trễ (máy chủ không trả lời?).",
            "No answered GET request to measure latency from (does the target answer?).",
        ),
    )
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    check(
        p95 < P95_LIMIT_MS,
        Text(
            "p95 của {n} yêu cầu GET là {p:.0f} ms (giới hạn {l:.0f} ms).",
            "p95 of {n} GET requests is {p:.0f} ms (limit {l:.0f} ms).",
        ).format(n=len(times), p=p95, l=P95_LIMIT_MS),
    )


@criterion("VHR-PERF-002")
def test_no_server_errors(vhr: VhrState, fhir: FhirClient) -> None:
    for _ in range(PROBES):  # valid searches of our own, on top of everything the run sent
        fhir.get("Patient", params={"_count": "1"})
    errors = vhr.evidence.server_errors
    check(
        not errors,
        Text(
            "{n} yêu cầu của lượt chạy nhận phản hồi 5xx, ví dụ {e}.",
            "{n} requests of the run got a 5xx answer, e.g. {e}.",
        ).format(n=len(errors), e=short(errors, 3)),
    )
