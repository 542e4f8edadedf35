"""Issues found in XML 130 files.

Same fields as the validator's ``Issue`` (severity, code, location, rule, text) so that reports
treat XML and FHIR findings alike; XML issues also carry the line and the file, which FHIRPath
locations do not need. :meth:`XmlIssue.to_issue` converts to the validator's type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vhr_conformance.i18n import Text

SEVERITIES = ("fatal", "error", "warning", "information")


@dataclass(slots=True)
class XmlIssue:
    """One finding. ``location`` is ``XML1/TONG_HOP/MA_BENH_CHINH`` (or ``ENVELOPE/...``);
    ``line`` is the line inside the decoded table (or the envelope for envelope issues)."""

    severity: str
    code: (
        str  # FHIR issue-type: structure, required, value, code-invalid, too-long, invariant, business-rule…
    )
    location: str
    rule: str
    text: Text
    line: int | None = None
    file: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity in ("fatal", "error")

    def where(self) -> str:
        parts = [p for p in (self.file, self.location) if p]
        where = ":".join(parts)
        if self.line:
            where += f" (dòng/line {self.line})"
        return where

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "location": self.location,
            "line": self.line,
            "file": self.file,
            "rule": self.rule,
            "text": {"vi": self.text.vi, "en": self.text.en},
        }

    def to_issue(self) -> Any:
        """The validator's ``Issue`` for this finding (line folded into the location)."""
        from vhr_conformance.validator import Issue  # imported late: another stage owns it

        loc = f"{self.location}@{self.line}" if self.line else self.location
        return Issue(severity=self.severity, code=self.code, location=loc, rule=self.rule, text=self.text)


def count(issues: list[XmlIssue]) -> dict[str, int]:
    out = dict.fromkeys(SEVERITIES, 0)
    for i in issues:
        out[i.severity] += 1
    return out
