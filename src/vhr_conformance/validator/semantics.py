"""Rules of the FHIR specification that span two resources, which no invariant can express.

Each check looks up the other resource (a Measure, a SearchParameter) in the loaded packages and
says nothing when it is not loaded: offline, an unknown canonical is not evidence of an error.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from vhr_conformance.validator.fhirpath import seq
from vhr_conformance.validator.messages import M

if TYPE_CHECKING:
    from vhr_conformance.validator.engine import Run, Validator

MEASURE_SCORING = "http://terminology.hl7.org/CodeSystem/measure-scoring"
# A type name leading a FHIRPath union branch: ``Organization.name | Organization.alias``
_LEADING_TYPE = re.compile(r"(?:^|\|)\s*\(?\s*([A-Z][A-Za-z]+)\s*\.")


def _loaded(v: Validator, url: Any, resource_type: str) -> dict[str, Any] | None:
    if not isinstance(url, str) or not url:
        return None
    res = v.packages.get(url.split("|", 1)[0])
    return res if isinstance(res, dict) and res.get("resourceType") == resource_type else None


def check_measure_report(v: Validator, report: dict[str, Any], loc: str, run: Run) -> None:
    """A cohort Measure has no score: its reports carry populations only (Measure.scoring, R4)."""
    measure = _loaded(v, report.get("measure"), "Measure")
    if measure is None:
        return
    scoring = measure.get("scoring")
    codes = {c.get("code") for c in seq(scoring.get("coding")) if isinstance(c, dict) and c.get("system") == MEASURE_SCORING} \
        if isinstance(scoring, dict) else set()
    if "cohort" not in codes:
        return
    for i, group in enumerate(seq(report.get("group"))):
        if isinstance(group, dict) and "measureScore" in group:
            run.add("error", "business-rule", f"{loc}.group[{i}].measureScore", "measure-cohort-score",
                    M["measure-cohort-score"].format(measure=report["measure"]))


def check_search_parameter(v: Validator, sp: dict[str, Any], loc: str, run: Run) -> None:
    """The expression starts from the parameter's base types; a derived parameter narrows its origin."""
    bases = {b for b in seq(sp.get("base")) if isinstance(b, str)}
    if not bases:
        return
    expr = sp.get("expression")
    if isinstance(expr, str) and not bases & {"Resource", "DomainResource"}:
        stray = sorted({t for t in _LEADING_TYPE.findall(expr) if t in v.schema.resource_types and t not in bases})
        if stray:
            run.add("error", "invalid", f"{loc}.expression", "searchparameter-expression-base",
                    M["searchparameter-expression-base"].format(types=", ".join(stray), bases=", ".join(sorted(bases))))
    origin = _loaded(v, sp.get("derivedFrom"), "SearchParameter")
    if origin is None:
        return
    allowed = {b for b in seq(origin.get("base")) if isinstance(b, str)}
    if allowed & {"Resource", "DomainResource"}:
        return
    for b in sorted(bases - allowed):
        run.add("error", "invalid", f"{loc}.base", "searchparameter-derived-base",
                M["searchparameter-derived-base"].format(base=b, origin=sp["derivedFrom"]))
