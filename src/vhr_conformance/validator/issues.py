"""Validation issues and their FHIR OperationOutcome form.

An :class:`Issue` is the single currency of the validator: the suites, the reports, the CLI and
the reference server all consume the same objects, so they carry a stable ``rule`` id as well as a
bilingual text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from vhr_conformance.i18n import Text
from vhr_conformance.names import canonical
from vhr_conformance.validator.positions import Locator

LINE_EXT = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line"
COL_EXT = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col"

SEVERITIES = ("fatal", "error", "warning", "information")
SEVERITY_RANK = {"fatal": 0, "error": 1, "warning": 2, "information": 3}


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding: severity, FHIR issue-type ``code``, FHIRPath ``location``, ``rule`` id, ``text``."""

    severity: str
    code: str
    location: str
    rule: str
    text: Text
    # Where the JSON text put it (lazy: asked of the locator only when read); None for dict input
    where: Locator | None = field(default=None, compare=False, repr=False)

    @property
    def position(self) -> tuple[int, int] | None:
        """(line, column) in the source JSON text, both from 1, or None when there was no text."""
        return self.where.find(self.location) if self.where is not None else None

    @property
    def line(self) -> int | None:
        p = self.position
        return p[0] if p else None

    @property
    def col(self) -> int | None:
        p = self.position
        return p[1] if p else None

    def placed(self, where: Locator) -> Issue:
        """The same issue, located in a source text (kept if it already had a place)."""
        if self.where is not None:
            return self
        return Issue(self.severity, self.code, self.location, self.rule, self.text, where)

    def at_least(self, severity: str) -> bool:
        """True when this issue is as severe as ``severity`` or more."""
        return SEVERITY_RANK[self.severity] <= SEVERITY_RANK[severity]

    def relocated(self, prefix: str, old_root: str | None = None) -> Issue:
        """The same issue with its location moved under ``prefix`` (used for bundles and NDJSON)."""
        loc = self.location
        if old_root and (loc == old_root or loc.startswith(old_root + ".") or loc.startswith(old_root + "[")):
            loc = prefix + loc[len(old_root) :]
        elif not loc:
            loc = prefix
        else:
            loc = f"{prefix}.{loc}" if not loc.startswith(prefix) else loc
        return Issue(self.severity, self.code, loc, self.rule, self.text, self.where)

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "location": self.location,
            "rule": self.rule,
            "vi": self.text.vi,
            "en": self.text.en,
        }


def _not_fhirpath(location: str) -> bool:
    return location.startswith("line ") or location.startswith("char ")


def has_errors(issues: Iterable[Issue]) -> bool:
    return any(i.severity in ("fatal", "error") for i in issues)


def to_operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    """A FHIR R4 OperationOutcome; the English text is in ``details.text``, Vietnamese in a translation extension."""
    out: list[dict[str, Any]] = []
    for i in issues:
        pos = i.position
        out.append(
            {
                # the HL7 validator's own extensions for where in the source an issue is
                "extension": [
                    {"url": LINE_EXT, "valueInteger": pos[0]},
                    {"url": COL_EXT, "valueInteger": pos[1]},
                ]
                if pos
                else [],
                "severity": i.severity,
                "code": i.code,
                "details": {
                    "text": i.text.en,
                    "extension": [
                        {
                            "url": "http://hl7.org/fhir/StructureDefinition/translation",
                            "extension": [
                                {"url": "lang", "valueCode": "vi"},
                                {"url": "content", "valueString": i.text.vi},
                            ],
                        }
                    ],
                    "coding": [
                        {
                            "system": canonical("CodeSystem", "vhr-validation-rule"),
                            "code": i.rule,
                        }
                    ]
                    if i.rule
                    else [],
                },
                # JSON-layer locations ("line 3, col 7") are not FHIRPath: they go to diagnostics
                "diagnostics": f"{i.location}: {i.text.both()}"
                if _not_fhirpath(i.location)
                else i.text.both(),
                "expression": [i.location] if i.location and not _not_fhirpath(i.location) else [],
            }
        )
        if not out[-1]["extension"]:
            del out[-1]["extension"]
        if not out[-1]["details"]["coding"]:
            del out[-1]["details"]["coding"]
        if not out[-1]["expression"]:
            del out[-1]["expression"]
    if not out:
        out.append(
            {
                "severity": "information",
                "code": "informational",
                "details": {"text": "No issues detected / Không phát hiện vấn đề"},
            }
        )
    return {"resourceType": "OperationOutcome", "issue": out}
