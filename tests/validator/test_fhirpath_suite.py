"""Our FHIRPath engine on the official HL7 FHIRPath R4 suite (read from ../shared; skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vhr_conformance.validator import Validator
from vhr_conformance.validator.fhirpath_suite import FAIL, NO_JSON, score, validator_conforms

SUITE = Path(__file__).resolve().parents[2].parent / "shared" / "fhirpath-tests"
# Reached 99.1 % (913/921) on 2026-12-04; the target is 95 %. A drop is a regression.
FLOOR = 0.98  # above the 95 % target, close to what is reached, so a regression shows


@pytest.mark.skipif(
    not (SUITE / "tests-fhir-r4.xml").is_file(), reason="../shared/fhirpath-tests not present"
)
def test_fhirpath_suite_score_stays_above_floor(validator: Validator) -> None:
    res = score(SUITE, validator_conforms(validator))
    assert res.scored > 900  # every test with a JSON input (or none) ran
    assert not any(o.status == NO_JSON for o in res.outcomes)  # XML-only inputs run converted
    xml_passed, xml_run = res.xml_passed
    assert xml_run >= 14 and xml_passed / xml_run >= FLOOR
    failing = [f"{o.case.group}/{o.case.name}: {o.detail}" for o in res.outcomes if o.status == FAIL]
    assert res.ratio >= FLOOR, failing
