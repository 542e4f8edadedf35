"""Dates, times and decimals as FHIRPath defines them, where fhirpathpy differs from the spec.

- Comparison (FHIRPath §6.1, §6.2): component by component from the year; seconds and milliseconds
  are one precision; when one value stops before the other and all shared components are equal the
  result is empty (unknown), not false. Two values with a time part are compared in UTC when both
  carry a timezone; when only one does the result is empty.
- Arithmetic (§6.6.4): adding a time-valued quantity keeps the input's precision and timezone
  (fhirpathpy moves the result to UTC); above milliseconds the decimal part of the quantity is
  ignored; months and years are calendar months and years, the day clamped to the month's end.
- ``lowBoundary``/``highBoundary``/``precision`` (FHIRPath 2.1 §5.9): the least and greatest value a
  value of limited precision may stand for, brought to a requested precision.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

_DATE_RE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?)?)?)?"
    r"T?(Z|[+-]\d{2}:\d{2})?$"
)
_TIME_RE = re.compile(r"T?(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$")

# Digits of precision per component (FHIRPath precision(): @2014 is 4, ...T10:30:00.000 is 17).
_DATE_DIGITS = (4, 6, 8, 10, 12, 14, 17)
_TIME_DIGITS = (2, 4, 6, 9)
MAX_DECIMAL_PRECISION = 28  # Python's default decimal context: beyond it a boundary is not exact


@dataclass(frozen=True, slots=True)
class Temporal:
    """A Date, DateTime or Time split into its components (None = beyond its precision)."""

    kind: str  # "Date" | "DateTime" | "Time"
    parts: tuple[int | None, ...]  # year, month, day, hour, minute, second (Time: hour, minute, second)
    millis: int | None
    tz: int | None  # minutes east of UTC, None when absent

    @property
    def count(self) -> int:
        """How many components are present (milliseconds count as one more)."""
        n = sum(p is not None for p in self.parts)
        return n + (self.millis is not None)

    @property
    def has_time(self) -> bool:
        return self.kind == "Time" or self.parts[3] is not None

    def render(self) -> str:
        p = self.parts
        if self.kind == "Time":
            out = f"{p[0]:02d}"
            if p[1] is not None:
                out += f":{p[1]:02d}"
            if p[2] is not None:
                out += f":{p[2]:02d}"
            if self.millis is not None:
                out += f".{self.millis:03d}"
            return out
        out = f"{p[0]:04d}"
        for i, sep in ((1, "-"), (2, "-"), (3, "T"), (4, ":"), (5, ":")):
            if p[i] is None:
                break
            out += f"{sep}{p[i]:02d}"
        if self.millis is not None:
            out += f".{self.millis:03d}"
        if self.has_time and self.tz is not None:
            out += _tz_text(self.tz)
        return out


def _tz_text(minutes: int) -> str:
    if minutes == 0:
        return "Z"
    sign = "+" if minutes > 0 else "-"
    m = abs(minutes)
    return f"{sign}{m // 60:02d}:{m % 60:02d}"


def _tz_minutes(text: str | None) -> int | None:
    if text is None:
        return None
    if text == "Z":
        return 0
    sign = 1 if text[0] == "+" else -1
    return sign * (int(text[1:3]) * 60 + int(text[4:6]))


def _millis(frac: str | None) -> int | None:
    return None if frac is None else int((frac + "00")[:3])


def parse(text: str, kind: str | None = None) -> Temporal | None:
    """Parse a date/dateTime/instant (``kind`` Date or DateTime) or a time value."""
    if kind == "Time" or (kind is None and (text.startswith("T") or (len(text) > 2 and text[2] == ":"))):
        m = _TIME_RE.match(text)
        if m is None:
            return None
        h, mi, s, frac = m.groups()
        return Temporal("Time", (int(h), _int(mi), _int(s)), _millis(frac), None)
    m = _DATE_RE.match(text)
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    parts = (int(y), _int(mo), _int(d), _int(h), _int(mi), _int(s))
    if kind is None:
        kind = "DateTime" if h is not None or "T" in text else "Date"
    return Temporal(kind, parts, _millis(frac), _tz_minutes(tz))


def _int(v: str | None) -> int | None:
    return None if v is None else int(v)


def _utc(t: Temporal) -> Temporal:
    """The same instant with UTC components (only when it has a time part and a timezone)."""
    if not t.has_time or t.tz in (None, 0) or t.kind == "Time":
        return t
    y, mo, d, h, mi, s = t.parts
    base = dt.datetime(y or 1, mo or 1, d or 1, h or 0, mi or 0, s or 0)
    u = base - dt.timedelta(minutes=t.tz or 0)
    vals = (u.year, u.month, u.day, u.hour, u.minute, u.second)
    return Temporal(
        t.kind, tuple(v if p is not None else None for v, p in zip(vals, t.parts, strict=True)), t.millis, 0
    )


def compare(a: Temporal, b: Temporal) -> int | None:
    """-1, 0, 1, or None when precision or timezone make the order unknown."""
    if (a.kind == "Time") != (b.kind == "Time"):
        return None
    if a.has_time and b.has_time and (a.tz is None) != (b.tz is None):
        return None
    a, b = _utc(a), _utc(b)
    n = len(a.parts)
    for i in range(n):
        x, y = a.parts[i], b.parts[i]
        if x is None and y is None:
            return 0
        if x is None or y is None:
            return None
        if i == n - 1:  # seconds and milliseconds are one precision
            xs = Decimal(x) + Decimal(a.millis or 0) / 1000
            ys = Decimal(y) + Decimal(b.millis or 0) / 1000
            return (xs > ys) - (xs < ys)
        if x != y:
            return -1 if x < y else 1
    return 0


def equivalent(a: Temporal, b: Temporal) -> bool:
    """``~``: same precision and equal; a difference in precision is simply not equivalent
    (seconds and milliseconds being one precision)."""
    if sum(p is not None for p in a.parts) != sum(p is not None for p in b.parts):
        return False
    c = compare(a, b)
    return c == 0


# --------------------------------------------------------------------------- arithmetic

_CALENDAR = {
    "year": "year", "years": "year", "'a'": "year",
    "month": "month", "months": "month", "'mo'": "month",
    "week": "week", "weeks": "week", "'wk'": "week",
    "day": "day", "days": "day", "'d'": "day",
    "hour": "hour", "hours": "hour", "'h'": "hour",
    "minute": "minute", "minutes": "minute", "'min'": "minute",
    "second": "second", "seconds": "second", "'s'": "second",
    "millisecond": "millisecond", "milliseconds": "millisecond", "'ms'": "millisecond",
}  # fmt: skip
_CALENDAR.update({f"'{word}'": unit for word, unit in list(_CALENDAR.items()) if not word.startswith("'")})
_SECONDS = {"week": 604800, "day": 86400, "hour": 3600, "minute": 60, "second": 1}


def time_unit(unit: str | None) -> str | None:
    """The calendar unit a quantity's unit names (calendar keyword or UCUM code), else None."""
    if unit is None:
        return None
    return _CALENDAR.get(unit) or _CALENDAR.get(f"'{unit}'")


def add(t: Temporal, value: Decimal, unit: str) -> Temporal:
    """``t + value unit``; the result keeps t's precision and timezone."""
    u = _CALENDAR[unit]
    if t.kind == "Time":
        return _add_time(t, value, u)
    y, mo, d, h, mi, s = t.parts
    if u in ("year", "month"):
        months = int(value) * (12 if u == "year" else 1)
        if mo is None:  # year precision: whole years only
            return replace(t, parts=(y + int(months / 12), *t.parts[1:]))  # type: ignore[operator]
        total = (y or 0) * 12 + (mo - 1) + months
        ny, nm = divmod(total, 12)
        nd = None if d is None else min(d, calendar.monthrange(ny, nm + 1)[1])
        return replace(t, parts=(ny, nm + 1, nd, h, mi, s))
    if u == "millisecond":
        delta = dt.timedelta(milliseconds=int(value))
    else:
        delta = dt.timedelta(seconds=int(value) * _SECONDS[u])
    if d is None:  # month or year precision: a day-based duration cannot move it
        return t
    base = dt.datetime(y or 1, mo or 1, d, h or 0, mi or 0, s or 0, (t.millis or 0) * 1000)
    r = base + delta
    vals = (r.year, r.month, r.day, r.hour, r.minute, r.second)
    parts = tuple(v if p is not None else None for v, p in zip(vals, t.parts, strict=True))
    return replace(t, parts=parts, millis=None if t.millis is None else r.microsecond // 1000)


def _add_time(t: Temporal, value: Decimal, u: str) -> Temporal:
    h, mi, s = t.parts
    if u in ("year", "month", "week", "day"):
        return t
    ms = (int(value) if u == "millisecond" else int(value) * _SECONDS[u] * 1000) + (
        ((h or 0) * 3600 + (mi or 0) * 60 + (s or 0)) * 1000 + (t.millis or 0)
    )
    ms %= 86_400_000
    vals = (ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60)
    parts = tuple(v if p is not None else None for v, p in zip(vals, t.parts, strict=True))
    return replace(t, parts=parts, millis=None if t.millis is None else ms % 1000)


# --------------------------------------------------------------------------- boundaries


def precision(t: Temporal) -> int:
    digits = _TIME_DIGITS if t.kind == "Time" else _DATE_DIGITS
    return digits[t.count - 1]


def boundary(t: Temporal, digits: int | None, high: bool) -> Temporal | None:
    """The least (or greatest) value ``t`` may stand for, to ``digits`` of precision."""
    table = _TIME_DIGITS if t.kind == "Time" else _DATE_DIGITS
    if t.kind == "Date" and digits is None:
        digits = 8
    digits = table[-1] if digits is None else digits
    if digits not in table or (t.kind == "Date" and digits > 8):
        return None
    keep = table.index(digits) + 1  # components in the result
    if t.kind == "Time":
        lo = (0, 0, 0)
        hi = (23, 59, 59)
        tvals = [p if p is not None else (hi[i] if high else lo[i]) for i, p in enumerate(t.parts)]
        ms = t.millis if t.millis is not None else (999 if high else 0)
        parts = tuple(v if i < keep else None for i, v in enumerate(tvals))
        return Temporal("Time", parts, ms if keep == 4 else None, None)
    y, mo, d, h, mi, s = t.parts
    mo2 = mo if mo is not None else (12 if high else 1)
    d2 = d if d is not None else (calendar.monthrange(y or 1, mo2)[1] if high else 1)
    vals: list[int | None] = [
        y,
        mo2,
        d2,
        *(
            p if p is not None else (hv if high else 0)
            for p, hv in zip((h, mi, s), (23, 59, 59), strict=True)
        ),
    ]
    ms = t.millis if t.millis is not None else (999 if high else 0)
    parts = tuple(v if i < keep else None for i, v in enumerate(vals))
    has_time = keep > 3
    tz = t.tz
    if has_time and tz is None:  # unknown timezone: the earliest / latest offset in use
        tz = -12 * 60 if high else 14 * 60
    kind = "DateTime" if has_time or t.kind == "DateTime" else "Date"
    return Temporal(kind, parts, ms if keep == 7 else None, tz if has_time else None)


def decimal_places(v: Decimal | int) -> int:
    if isinstance(v, int):
        return 0
    exp = v.as_tuple().exponent
    return -exp if isinstance(exp, int) and exp < 0 else 0


def decimal_boundary(v: Decimal | int, digits: int | None, high: bool) -> Decimal | None:
    """Boundary of a decimal: the value ± half a unit of its last digit. Toward zero the result is
    cut to ``digits`` places, away from zero it is rounded half up (so a requested precision
    coarser than the value's own does not invent a digit); a negative value mirrors a positive."""
    digits = 8 if digits is None else digits
    if digits < 0 or digits > MAX_DECIMAL_PRECISION:
        return None
    d = Decimal(v)
    if d < 0:
        r = decimal_boundary(-d if isinstance(v, Decimal) else -v, digits, not high)
        return None if r is None else -r
    half = Decimal(5).scaleb(-(decimal_places(v) + 1))
    q = Decimal(1).scaleb(-digits)
    if high:
        return (d + half).quantize(q, rounding=ROUND_HALF_UP)
    return (d - half).quantize(q, rounding=ROUND_DOWN)
