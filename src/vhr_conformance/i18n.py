"""Bilingual (Vietnamese first, English second) user-facing texts.

Every message a user can see is a :class:`Text` so that reports, CLI output and
OperationOutcomes can show either language or both without re-wording.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Text:
    """A message in Vietnamese and English."""

    vi: str
    en: str

    def format(self, **values: object) -> Text:
        return Text(self.vi.format(**values), self.en.format(**values))

    def both(self, sep: str = " / ") -> str:
        return f"{self.vi}{sep}{self.en}"

    def in_lang(self, lang: str | None = None) -> str:
        lang = (lang or preferred_language()).lower()
        if lang.startswith("vi"):
            return self.vi
        if lang.startswith("en"):
            return self.en
        return self.both()

    def __str__(self) -> str:
        return self.in_lang()


def preferred_language() -> str:
    """`VHR_LANG` = vi | en | both (default both: many readers are Vietnamese first)."""
    return os.environ.get("VHR_LANG", "both")


class UserError(Exception):
    """An error caused by the user's input or environment, shown without a traceback."""

    def __init__(self, text: Text, location: str | None = None, hint: Text | None = None) -> None:
        self.text = text
        self.location = location
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        where = f"[{self.location}] " if self.location else ""
        msg = f"{where}{self.text.in_lang()}"
        if self.hint is not None:
            msg += f"\n  → {self.hint.in_lang()}"
        return msg
