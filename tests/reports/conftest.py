"""Runs to render: a failing run whose evidence is long (hundreds of lines, unbroken tokens,
Vietnamese), built from the real catalogue, so the report is the one a vendor would print."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from vhr_conformance.catalogue import load_catalogue
from vhr_conformance.reports import CaseResult, RunResult

FAILING = ("VHR-SEC-005", "VHR-PAT-001", "VHR-API-001", "VHR-CAP-001")
NAMES = ("Nguyễn Thị Hòa", "Trần Văn Thủy", "Lê Hoàng Khải", "Phạm Quốc Tuấn")


def long_body(cid: str, lines: int = 220) -> str:
    """A response body of `lines` numbered lines (unique per criterion), one of them a 3 000-character
    token with no place to break, the others carrying Vietnamese names."""
    out = []
    for i in range(lines):
        if i == lines // 2:
            out.append(f"{cid}-TOKEN-" + "".join(f"{(i * 7 + k) % 97:02d}" for k in range(1500)))
        else:
            name = NAMES[i % len(NAMES)]
            out.append(
                f'{cid} dòng {i:04d}: {{"hoTen": "{name}", "soCCCD": "0{i:011d}", "ghiChu": "người bệnh"}}'
            )
    return "\n".join(out)


def evidence(cid: str, body: str) -> dict[str, Any]:
    return {
        "method": "GET",
        "url": f"https://vendor.example/fhir/Patient?identifier={cid}",
        "request_headers": {"Authorization": "***", "Accept": "application/fhir+json"},
        "request_body": "",
        "status": 200,
        "response_headers": {"Content-Type": "application/fhir+json"},
        "response_body": body,
        "elapsed_ms": 12.0,
    }


def make_run(
    failing: dict[str, list[dict[str, Any]]],
    messages: dict[str, str] | None = None,
    passing: tuple[str, ...] = ("VHR-CAP-002",),
) -> RunResult:
    """A run of the real catalogue: `failing` criteria fail with that evidence, `passing` pass."""
    cat = load_catalogue()
    cases = [
        CaseResult(
            f"suites/test_paper.py::test_{cid.lower().replace('-', '_')}",
            cid,
            [cid],
            "fail",
            (messages or {}).get(cid, f"{cid}: mong đợi 403, nhận 200 kèm dữ liệu người bệnh"),
            0.02,
            evs,
        )
        for cid, evs in failing.items()
    ]
    cases += [
        CaseResult(f"suites/test_paper.py::test_ok_{i}", cid, [cid], "pass") for i, cid in enumerate(passing)
    ]
    run = RunResult(
        "paper-test",
        "https://vendor.example/fhir",
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T00:10:00+00:00",
        "MAY",
        1,
        {},
        {"id": "vhr.conformance.ig", "version": "0.1.0"},
        "0.1.0",
        cases,
        cat,
    )
    run.aggregate()
    return run


@pytest.fixture
def failing_run() -> Callable[..., RunResult]:
    return make_run
