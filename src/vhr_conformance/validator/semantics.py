"""Rules of the FHIR specification that span two resources, which no invariant can express.

Each check looks up the other resource (a Measure, a SearchParameter) in the loaded packages and
says nothing when it is not loaded: offline, an unknown canonical is not evidence of an error.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from vhr_conformance.names import LOINC, SNOMED
from vhr_conformance.validator.fhirpath import seq
from vhr_conformance.validator.messages import M

if TYPE_CHECKING:
    from vhr_conformance.validator.run import Context, Run

MEASURE_SCORING = "http://terminology.hl7.org/CodeSystem/measure-scoring"
# A type name leading a FHIRPath union branch: ``Organization.name | Organization.alias``
_LEADING_TYPE = re.compile(r"(?:^|\|)\s*\(?\s*([A-Z][A-Za-z]+)\s*\.")


def _loaded(v: Context, url: Any, resource_type: str) -> dict[str, Any] | None:
    if not isinstance(url, str) or not url:
        return None
    res = v.packages.get(url.split("|", 1)[0])
    return res if isinstance(res, dict) and res.get("resourceType") == resource_type else None


def check_measure_report(v: Context, report: dict[str, Any], loc: str, run: Run) -> None:
    """A cohort Measure has no score: its reports carry populations only (Measure.scoring, R4)."""
    measure = _loaded(v, report.get("measure"), "Measure")
    if measure is None:
        return
    scoring = measure.get("scoring")
    codes = (
        {
            c.get("code")
            for c in seq(scoring.get("coding"))
            if isinstance(c, dict) and c.get("system") == MEASURE_SCORING
        }
        if isinstance(scoring, dict)
        else set()
    )
    if "cohort" not in codes:
        return
    for i, group in enumerate(seq(report.get("group"))):
        if isinstance(group, dict) and "measureScore" in group:
            run.add(
                "error",
                "business-rule",
                f"{loc}.group[{i}].measureScore",
                "measure-cohort-score",
                M["measure-cohort-score"].format(measure=report["measure"]),
            )


def check_search_parameter(v: Context, sp: dict[str, Any], loc: str, run: Run) -> None:
    """The expression starts from the parameter's base types; a derived parameter narrows its origin."""
    bases = {b for b in seq(sp.get("base")) if isinstance(b, str)}
    if not bases:
        return
    expr = sp.get("expression")
    if isinstance(expr, str) and not bases & {"Resource", "DomainResource"}:
        stray = sorted(
            {t for t in _LEADING_TYPE.findall(expr) if t in v.schema.resource_types and t not in bases}
        )
        if stray:
            run.add(
                "error",
                "invalid",
                f"{loc}.expression",
                "searchparameter-expression-base",
                M["searchparameter-expression-base"].format(
                    types=", ".join(stray), bases=", ".join(sorted(bases))
                ),
            )
    origin = _loaded(v, sp.get("derivedFrom"), "SearchParameter")
    if origin is None:
        return
    allowed = {b for b in seq(origin.get("base")) if isinstance(b, str)}
    if allowed & {"Resource", "DomainResource"}:
        return
    for b in sorted(bases - allowed):
        run.add(
            "error",
            "invalid",
            f"{loc}.base",
            "searchparameter-derived-base",
            M["searchparameter-derived-base"].format(base=b, origin=sp["derivedFrom"]),
        )


# FHIR R4 observation-vitalsigns: an Observation carrying one of these codes SHALL conform to the
# matching core vital-signs profile. LOINC is the specification's table; the SNOMED CT equivalents
# are honoured as the HL7 validator does.
VITAL_SIGNS_LOINC = {
    "85353-1": "vitalspanel",
    "9279-1": "resprate",
    "8867-4": "heartrate",
    "2708-6": "oxygensat",
    "8310-5": "bodytemp",
    "8302-2": "bodyheight",
    "9843-4": "headcircum",
    "29463-7": "bodyweight",
    "39156-5": "bmi",
    "85354-9": "bp",
}
VITAL_SIGNS_SNOMED = {
    "86290005": "resprate",
    "364075005": "heartrate",
    "103228002": "oxygensat",
    "276885007": "bodytemp",
    "50373000": "bodyheight",
    "363812007": "headcircum",
    "27113001": "bodyweight",
    "60621009": "bmi",
    "75367002": "bp",
}
_VS_BY_SYSTEM = {LOINC: VITAL_SIGNS_LOINC, SNOMED: VITAL_SIGNS_SNOMED}
_CORE_SD = "http://hl7.org/fhir/StructureDefinition/"


def vital_sign_profiles(obs: dict[str, Any]) -> list[str]:
    """Core vital-signs profiles an Observation must meet because of its codes."""
    code = obs.get("code")
    if not isinstance(code, dict):
        return []
    out: list[str] = []
    for c in seq(code.get("coding")):
        if isinstance(c, dict):
            table = _VS_BY_SYSTEM.get(c.get("system"))  # type: ignore[arg-type]
            pid = table.get(c.get("code")) if table is not None else None  # type: ignore[arg-type]
            if pid is not None and _CORE_SD + pid not in out:
                out.append(_CORE_SD + pid)
    return out
