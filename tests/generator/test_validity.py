"""Generated data validates against the VHR profiles; negative cases break exactly their rule."""

from __future__ import annotations

import pytest

from vhr_conformance.generator import document_bundle, negative_cases
from vhr_conformance.generator.document import submissions

validator_mod = pytest.importorskip(
    "vhr_conformance.validator",
    reason="the validator stage is not importable yet (vhr_conformance.validator)",
)


@pytest.fixture(scope="module")
def validator():  # type: ignore[no-untyped-def]
    return validator_mod.Validator.default()


def _errors(validator, resource: dict) -> list:  # type: ignore[no-untyped-def]
    return [i for i in validator.validate(resource) if i.severity in ("error", "fatal")]


def _fmt(issues: list) -> str:
    return "\n".join(f"{i.rule} @ {i.location}: {i.text.en}" for i in issues[:10])


def test_200_patient_cohort_has_no_validation_errors(validator, cohort200: list[dict]) -> None:  # type: ignore[no-untyped-def]
    """Each patient Bundle as a whole: every entry against its declared profile, plus references."""
    for k, bundle in enumerate(cohort200):
        errs = _errors(validator, bundle)
        assert not errs, f"patient {k}:\n{_fmt(errs)}"


def test_coverage_cohort_documents_and_submissions_validate(validator, coverage: list[dict]) -> None:  # type: ignore[no-untyped-def]
    for k, bundle in enumerate(coverage):
        for kind, b in (
            ("transaction", bundle),
            ("document", document_bundle(bundle)),
            *(("submission", s) for s in submissions(bundle)),
        ):
            errs = _errors(validator, b)
            assert not errs, f"coverage patient {k} {kind}:\n{_fmt(errs)}"


def test_each_negative_case_breaks_exactly_its_rule(validator) -> None:  # type: ignore[no-untyped-def]
    cases = negative_cases()
    assert len({m["rule"] for _, m in cases}) >= 12
    for resource, m in cases:
        levels = ("error", "fatal") if m["severity"] == "error" else ("error", "fatal", "warning")
        errs = [i for i in validator.validate(resource) if i.severity in levels and i.rule != "dom-6"]
        rules = {i.rule for i in errs} - set(m.get("alsoExpected", []))
        assert rules == {m["rule"]}, f"{m['file']}: expected only {m['rule']}, got\n{_fmt(errs)}"
        assert all(i.severity == m["severity"] for i in errs if i.rule == m["rule"]), m["file"]
        locations = [i.location for i in errs if i.rule == m["rule"]]
        assert m["location"] in locations, f"{m['file']}: {m['location']} not in {locations}"
