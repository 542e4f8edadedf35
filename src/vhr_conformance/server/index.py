"""Turning resource values into search-index rows, and search values into comparable forms.

String values are stored folded (NFD, combining marks removed, đ→d, casefold) so `nguyen`
finds "Nguyễn" whether the client sent NFC or NFD. Dates become half-open ranges of epoch seconds
at the precision they were written with, which is what the FHIR prefixes compare.
"""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from vhr_conformance.fhirutil import reference_values
from vhr_conformance.server.capability import SearchParam

_DATE_RE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a string (Vietnamese đ/Đ folded to d)."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d").replace("Đ", "D").casefold()


def lower_only(text: str) -> str:
    """Case-insensitive but accent-sensitive form (used by the `accent-sensitive-search` fault)."""
    return unicodedata.normalize("NFC", text).casefold()


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def date_range(value: str) -> tuple[float, float] | None:
    """Half-open [low, high) range in epoch seconds covered by a FHIR date/dateTime/instant."""
    m = _DATE_RE.match(value.strip())
    if not m:
        return None
    year, month, day, hh, mi, ss, frac, tz = m.groups()
    tzinfo = UTC
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        tzinfo = timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))
    try:
        y = int(year)
        if month is None:
            lo = datetime(y, 1, 1, tzinfo=tzinfo)
            hi = datetime(y + 1, 1, 1, tzinfo=tzinfo)
        elif day is None:
            mo = int(month)
            lo = datetime(y, mo, 1, tzinfo=tzinfo)
            hi = lo + timedelta(days=monthrange(y, mo)[1])
        elif hh is None:
            lo = datetime(y, int(month), int(day), tzinfo=tzinfo)
            hi = lo + timedelta(days=1)
        else:
            lo = datetime(y, int(month), int(day), int(hh), int(mi), int(ss or 0), tzinfo=tzinfo)
            if ss is None:
                hi = lo + timedelta(minutes=1)
            elif frac:
                lo = lo + timedelta(seconds=float("0." + frac))
                hi = lo + timedelta(seconds=10 ** -len(frac))
            else:
                hi = lo + timedelta(seconds=1)
    except ValueError:
        return None
    return lo.timestamp(), hi.timestamp()


def split_reference(ref: str, base_url: str = "") -> tuple[str | None, str]:
    """`Patient/1`, `http://base/Patient/1` or `Patient/1/_history/2` → ("Patient", "1")."""
    if base_url and ref.startswith(base_url.rstrip("/") + "/"):
        ref = ref[len(base_url.rstrip("/")) + 1 :]
    parts = ref.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return parts[-2], parts[-1]
    return None, parts[-1]


class Rows:
    """Index rows of one resource, grouped by table."""

    __slots__ = ("date", "number", "ref", "string", "token")

    def __init__(self) -> None:
        self.token: list[tuple[str, str | None, str]] = []
        self.string: list[tuple[str, str, str, str]] = []
        self.date: list[tuple[str, float, float]] = []
        self.ref: list[tuple[str, str | None, str]] = []
        self.number: list[tuple[str, float, str | None, str | None]] = []


def _token_values(value: Any) -> list[tuple[str | None, str]]:
    if isinstance(value, bool):
        return [(None, "true" if value else "false")]
    if isinstance(value, (str, int, float)):
        return [(None, str(value))]
    if not isinstance(value, dict):
        return []
    out: list[tuple[str | None, str]] = []
    if "coding" in value or ("text" in value and "code" not in value and "value" not in value):
        for coding in value.get("coding") or []:
            if isinstance(coding, dict) and coding.get("code"):
                out.append((coding.get("system"), str(coding["code"])))
        return out
    if "code" in value:  # Coding, Quantity-as-token
        return [(value.get("system"), str(value["code"]))]
    if "value" in value:  # Identifier or ContactPoint
        system = value.get("system")
        if isinstance(system, str) and ":" not in system:
            system = None  # ContactPoint.system is a code (phone, email), not a namespace
        return [(system, str(value["value"]))]
    return out


def _string_values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, dict):
        return []
    out: list[str] = []
    for key in (
        "text",
        "family",
        "given",
        "prefix",
        "suffix",
        "line",
        "city",
        "district",
        "state",
        "postalCode",
        "country",
        "name",
        "value",
    ):
        item = value.get(key)
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, list):
            out.extend(x for x in item if isinstance(x, str))
    return out


def _date_values(value: Any) -> list[tuple[float, float]]:
    if isinstance(value, str):
        rng = date_range(value)
        return [rng] if rng else []
    if isinstance(value, dict):
        if "start" in value or "end" in value:  # Period: open ends are unbounded
            lo = date_range(value["start"]) if isinstance(value.get("start"), str) else None
            hi = date_range(value["end"]) if isinstance(value.get("end"), str) else None
            return [(lo[0] if lo else float("-inf"), hi[1] if hi else float("inf"))]
        if "event" in value:  # Timing
            return [r for e in value["event"] if isinstance(e, str) and (r := date_range(e))]
    return []


def index_resource(resource: dict[str, Any], params: dict[str, SearchParam], base_url: str = "") -> Rows:
    """Evaluate every indexed search parameter on `resource`."""
    rows = Rows()
    for param in params.values():
        for ext in param.extractors:
            try:
                values = ext.fn(resource)
            except Exception:  # a value fhirpathpy cannot evaluate is simply not indexed
                continue
            for value in values:
                if param.type in ("token", "uri"):
                    for system, code in _token_values(value):
                        rows.token.append((param.code, system, code))
                elif param.type == "string":
                    for text in _string_values(value):
                        rows.string.append((param.code, fold(text), lower_only(text), nfc(text)))
                elif param.type == "date":
                    for lo, hi in _date_values(value):
                        rows.date.append((param.code, lo, hi))
                elif param.type == "reference":
                    for ref in reference_values(value):
                        rtype, rid = split_reference(ref, base_url)
                        if ext.target and rtype not in (None, ext.target):
                            continue
                        rows.ref.append((param.code, rtype or ext.target, rid))
                elif param.type in ("number", "quantity"):
                    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                        rows.number.append((param.code, float(value), None, None))
                    elif isinstance(value, dict) and isinstance(value.get("value"), (int, float, Decimal)):
                        rows.number.append(
                            (
                                param.code,
                                float(value["value"]),
                                value.get("system"),
                                value.get("code") or value.get("unit"),
                            )
                        )
    return rows
