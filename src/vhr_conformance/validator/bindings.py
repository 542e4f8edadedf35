"""Terminology layer: codes against their code systems, values against their bound ValueSets.

The structure walk calls :func:`check_coding` on every Coding and :func:`check_binding` where a base
element is bound; the profile layer calls :func:`check_binding` for the bindings it adds and
:func:`member_of` for binding discriminators. All three read only the compiled :class:`Terminology`.
"""

from __future__ import annotations

from typing import Any

from vhr_conformance.validator.fhirpath import seq
from vhr_conformance.validator.messages import M
from vhr_conformance.validator.run import Run
from vhr_conformance.validator.terminology import ICD10_SYSTEMS, Terminology


def member_of(term: Terminology, value: Any, vs: str) -> bool | None:
    """Whether a code, Coding or CodeableConcept is in ValueSet ``vs``; None when it cannot be told."""
    if isinstance(value, str):
        return term.contains(vs, None, value)
    if isinstance(value, dict):
        codings = value.get("coding") if "coding" in value else [value]
        results = [
            term.contains(vs, c.get("system"), c["code"])
            for c in seq(codings)
            if isinstance(c, dict) and isinstance(c.get("code"), str)
        ]
        if any(r is True for r in results):
            return True
        if results and all(r is False for r in results):
            return False
    return None


def check_binding(
    term: Terminology, value: Any, type_name: str, strength: str, vs: str, loc: str, run: Run
) -> None:
    """Check a code/Coding/Quantity/CodeableConcept against a ValueSet bound ``required`` or ``extensible``."""
    if run.bad and any(b.startswith(loc + ".") for b in run.bad):
        return  # a malformed code or system inside was reported; membership would only repeat it
    if type_name == "code" and isinstance(value, str):
        pairs: list[tuple[str | None, str]] = [(None, value)]
    elif type_name == "Coding" and isinstance(value, dict):
        pairs = [(value.get("system"), value["code"])] if isinstance(value.get("code"), str) else []
    elif type_name == "Quantity" and isinstance(value, dict):
        if not isinstance(value.get("code"), str):
            return
        pairs = [(value.get("system"), value["code"])]
    elif type_name == "CodeableConcept" and isinstance(value, dict):
        pairs = [
            (c.get("system"), c["code"])
            for c in seq(value.get("coding"))
            if isinstance(c, dict) and isinstance(c.get("code"), str)
        ]
    else:
        return
    exp = term.expand(vs)
    if exp is None:
        return
    if not pairs:
        if strength == "required" and type_name == "CodeableConcept" and exp.complete and not exp.open:
            run.add("error", "code-invalid", loc, "binding-required", M["binding-no-code"].format(vs=vs))
        return
    results = [exp.contains(s, c) for s, c in pairs]
    if any(r is True for r in results) or any(r is None for r in results):
        return
    shown = ", ".join(f"{s}#{c}" if s else c for s, c in pairs)
    if strength == "required":
        run.add(
            "error",
            "code-invalid",
            loc,
            "binding-required",
            M["binding-required"].format(code=shown, vs=vs),
        )
    else:
        run.add(
            "warning",
            "code-invalid",
            loc,
            "binding-extensible",
            M["binding-extensible"].format(code=shown, vs=vs),
        )


def check_coding(term: Terminology, obj: dict[str, Any], loc: str, run: Run) -> None:
    """A Coding's code must exist in a complete code system, with a display the system knows."""
    system, code = obj.get("system"), obj.get("code")
    if not isinstance(system, str) or not isinstance(code, str):
        return
    if system in ICD10_SYSTEMS:
        if "vn" in run.layers and not term.icd10_known(code):
            run.add("warning", "code-invalid", f"{loc}.code", "VN-ICD-001", M["VN-ICD-001"].format(code=code))
        return
    cs = term.code_system(system)
    if cs is None or not cs.complete:
        return
    if not cs.has(code):
        run.add(
            "error",
            "code-invalid",
            f"{loc}.code",
            "code-unknown",
            M["code-unknown"].format(code=code, system=system),
        )
        return
    display = obj.get("display")
    if isinstance(display, str):
        expected = cs.display.get(code)
        level = run.policy.display
        if (
            level != "ignore"
            and expected
            and display.strip().lower() != expected.lower()
            and display not in cs.designations.get(code, ())
        ):
            run.add(  # an error by default, as in the HL7 validator (Policy.display)
                level,
                "code-invalid",
                f"{loc}.display",
                "display-mismatch",
                M["display-mismatch"].format(display=display, code=code, expected=expected),
            )
