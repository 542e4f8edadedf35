"""The coverage claim is computed from the IG and the cohort, and can fail."""

from __future__ import annotations

import copy

from vhr_conformance.generator.coverage import coverage_report, requirements


def test_ig_asks_are_read_from_the_package() -> None:
    req = requirements()
    assert any(u.endswith("/vhr-patient") for u in req.must_support)
    assert sum(len(v) for v in req.must_support.values()) > 100
    assert any(u.endswith("/vhr-form-of-care") for u in req.required_codes)
    assert "Patient" in req.search_params and any(
        n == "identifier" for n, _, _ in req.search_params["Patient"]
    )


def test_coverage_cohort_is_complete(coverage: list[dict]) -> None:
    cohort = coverage
    rep = coverage_report(cohort)
    assert rep.complete, rep.to_dict()
    assert rep.must_support_total > 100 and rep.codes_total > 100 and rep.search_total > 30
    # Smallest: one patient per ethnic group is the floor (one ethnicity per person).
    assert len(cohort) == len(
        requirements().required_codes[
            next(u for u in requirements().required_codes if u.endswith("/vhr-ethnicity"))
        ][1]
    )


def test_report_detects_gaps(coverage: list[dict]) -> None:
    cohort = coverage
    partial = cohort[:-1]
    rep = coverage_report(partial)
    assert not rep.complete
    assert "vhr-ethnicity" in rep.codes_missing
    # Strip every MA_LK identifier: the must-support check and the search-parameter check notice.
    stripped = copy.deepcopy(cohort)
    for b in stripped:
        for e in b["entry"]:
            if e["resource"]["resourceType"] == "Encounter":
                e["resource"]["identifier"] = []
    rep = coverage_report(stripped)
    assert any("vhr-encounter: Encounter.identifier:maLk" in m for m in rep.must_support_missing)
    assert "Encounter.ma-lk" in rep.search_missing


def test_edge_cases_present(coverage: list[dict]) -> None:
    from vhr_conformance.generator.coverage import edge_cases

    found = edge_cases([b["entry"][0]["resource"] for b in coverage])
    assert found and all(found.values()), found
    assert len(found) >= 8
