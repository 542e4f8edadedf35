"""Loading of the rule data files (``vn/data/*.json``): facts kept as data with their source and
confidence, so that a new decision changes a data file, not the code of every consumer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from vhr_conformance.i18n import Text

DATA_DIR = Path(__file__).parent / "data"
CONFIDENCE = ("P", "S", "U")  # primary legal text, secondary source, unconfirmed


@cache
def load(name: str) -> dict[str, Any]:
    """One data file, parsed once per process."""
    data: dict[str, Any] = json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True, slots=True)
class Finding:
    """One Vietnamese rule broken by a value.

    ``rule`` is the shared key (the FHIR invariant key, e.g. ``vhr-bhyt-3``), used as is by the
    FHIR validator and by ``vhr xml validate`` so both read the same; ``confirmed`` False means the
    rule rests on an unconfirmed fact and is reported as a warning marked so.
    """

    rule: str
    text: Text
    confirmed: bool = True
    part: str = ""  # which part of the value: "prefix", "century-sex", "birth-year", "group"…
    enforced: bool = True  # False: a confirmed rule reported as a warning for now (see its data)

    @property
    def severity(self) -> str:
        return "error" if self.confirmed and self.enforced else "warning"
