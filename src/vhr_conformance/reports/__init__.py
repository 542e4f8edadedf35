"""Report writers: HTML, JSON, FHIR TestReport, run manifest (JUnit and Allure come from pytest)."""

from vhr_conformance.reports.model import (
    EXIT_CRITERIA_FAILED,
    EXIT_HARNESS_ERROR,
    EXIT_OK,
    CaseResult,
    CriterionResult,
    RunResult,
)
from vhr_conformance.reports.writer import sha256_file, sha256_tree, test_report, write_reports

__all__ = [
    "EXIT_CRITERIA_FAILED",
    "EXIT_HARNESS_ERROR",
    "EXIT_OK",
    "CaseResult",
    "CriterionResult",
    "RunResult",
    "sha256_file",
    "sha256_tree",
    "test_report",
    "write_reports",
]
