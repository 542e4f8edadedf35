"""Severity policy: which findings are reported, and how severe, beyond what the rules themselves say.

The defaults follow the HL7 validator's defaults (docs/validator.md lists every deliberate
difference): best-practice invariants are off, a display that does not match the code system is an
error. A :class:`Policy` is passed per call, so one compiled validator serves callers with
different needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from vhr_conformance.i18n import Text, UserError

DISPLAY_LEVELS = ("error", "warning", "information", "ignore")


@dataclass(frozen=True, slots=True)
class Policy:
    """``best_practice``: evaluate invariants marked best practice (as warnings);
    ``suppress``: rule ids (or shell patterns such as ``questionnaire-*``) never reported;
    ``display``: severity of ``display-mismatch`` (``ignore`` drops it)."""

    best_practice: bool = False
    suppress: frozenset[str] = field(default_factory=frozenset)
    display: str = "error"

    def __post_init__(self) -> None:
        if self.display not in DISPLAY_LEVELS:
            raise UserError(
                Text(
                    "Mức cho tên hiển thị sai phải là một trong {v}.",
                    "The display-mismatch level must be one of {v}.",
                ).format(v=", ".join(DISPLAY_LEVELS)),
                location=self.display,
            )
        object.__setattr__(self, "suppress", frozenset(self.suppress))

    def suppressed(self, rule: str) -> bool:
        """True when ``rule`` is switched off by an exact id or a pattern."""
        if rule in self.suppress:
            return True
        return any(fnmatchcase(rule, p) for p in self.suppress if any(ch in p for ch in "*?["))


DEFAULT_POLICY = Policy()
