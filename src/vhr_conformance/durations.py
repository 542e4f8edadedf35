"""One duration grammar for every command and file: `250ms`, `15s`, `5m`, `1h30m`, `1d`, `1.5h`, or a
bare number in the caller's default unit. Units may be combined from the largest to the smallest."""

from __future__ import annotations

import re

from vhr_conformance.i18n import Text, UserError

UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|d|h|m|s)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
EXAMPLES = "250ms, 15s, 5m, 1h30m"


def parse_duration(value: object, default_unit: str = "s") -> float:
    """Seconds; ValueError on anything else (bools, negative numbers, units out of order or repeated)."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(value)
        return float(value) * UNIT_SECONDS[default_unit]
    text = str(value).strip().lower().replace(" ", "")
    if _NUMBER.fullmatch(text):
        return float(text) * UNIT_SECONDS[default_unit]
    order = list(UNIT_SECONDS)
    total, pos, last = 0.0, 0, -1
    for match in _PART.finditer(text):
        if match.start() != pos:
            raise ValueError(value)
        rank = order.index(match.group(2))
        if rank <= last:  # "5m1h" or "1h1h": not a duration anyone means
            raise ValueError(value)
        total += float(match.group(1)) * UNIT_SECONDS[match.group(2)]
        pos, last = match.end(), rank
    if pos != len(text) or last < 0:
        raise ValueError(value)
    return total


def duration_option(value: str, option: str = "--duration", allow_zero: bool = False) -> float:
    """A command-line duration, or a bilingual error naming the option."""
    try:
        seconds = parse_duration(value)
    except ValueError:
        raise UserError(
            Text("Thời lượng không hợp lệ: {v!r} (ví dụ {e})", "Invalid duration: {v!r} (e.g. {e})").format(
                v=value, e=EXAMPLES
            ),
            location=option,
        ) from None
    if seconds <= 0 and not (allow_zero and seconds == 0):
        raise UserError(
            Text("Thời lượng phải lớn hơn 0", "The duration must be greater than 0"), location=option
        )
    return seconds
