"""Client-side evaluation of FHIR search: which values a SearchParameter selects from a resource,
how to build a query value from them, and whether a returned resource really matches.

A server that ignores a parameter returns everything; checking every returned entry against the
parameter's own FHIRPath expression is how the suites notice.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import fhirpathpy
from fhirpathpy.models import models as _models

from vhr_conformance.fhirutil import reference_values

_WHERE_RESOLVE = re.compile(r"\.where\(\s*resolve\(\)\s+is\s+([A-Za-z]+)\s*\)")
_CONTACT_SYSTEMS = frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"})
_STRING_PARTS = (
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
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form (FHIR string search): NFD, drop marks, đ→d, casefold."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return stripped.replace("đ", "d").replace("Đ", "D").casefold().strip()


@lru_cache(maxsize=512)
def _compiled(expression: str) -> tuple[Callable[..., list[Any]], str | None]:
    target = None
    m = _WHERE_RESOLVE.search(expression)
    if m:
        target = m.group(1)
        expression = _WHERE_RESOLVE.sub("", expression)
    return fhirpathpy.compile(expression, _models["r4"]), target


def values(resource: dict[str, Any], expression: str | None) -> list[Any]:
    """Values selected by a SearchParameter expression (`resolve()` filters become type prefixes)."""
    if not expression:
        return []
    out: list[Any] = []
    for part in _split_union(expression):
        part = part.strip()
        head = part.split(".", 1)[0].split("(", 1)[0]
        if (
            head
            and head[0].isupper()
            and head not in (resource.get("resourceType"), "Resource", "DomainResource")
        ):
            continue
        if head in ("Resource", "DomainResource"):
            part = resource.get("resourceType", "") + part[len(head) :]
        fn, target = _compiled(part)
        try:
            got = fn(resource)
        except Exception:  # an unsupported FHIRPath function only loses this branch
            continue
        if target:
            got = [
                v
                for v in got
                if isinstance(v, dict) and str(v.get("reference", "")).split("/")[-2:-1] == [target]
            ]
        out.extend(got)
    return out


def _split_union(expr: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth, quote = 0, False
    for ch in expr:
        if ch == "'":
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        if ch == "|" and depth == 0 and not quote:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


# ------------------------------------------------------------------ per type
def tokens(value: Any) -> list[tuple[str | None, str]]:
    if isinstance(value, bool):
        return [(None, "true" if value else "false")]
    if isinstance(value, str | int):
        return [(None, str(value))]
    if not isinstance(value, dict):
        return []
    if "coding" in value:
        return [t for c in value.get("coding", []) for t in tokens(c)]
    if "code" in value:
        return [(value.get("system"), str(value["code"]))]
    if "value" in value and isinstance(value["value"], str):
        if value.get("system") in _CONTACT_SYSTEMS:  # ContactPoint: token search is on the value only
            return [(None, value["value"])]
        return [(value.get("system"), value["value"])]
    return []


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        out: list[str] = []
        for key in _STRING_PARTS:
            v = value.get(key)
            if isinstance(v, str):
                out.append(v)
            elif isinstance(v, list):
                out.extend(x for x in v if isinstance(x, str))
        return out
    return []


def date_ranges(value: Any) -> list[tuple[str, str]]:
    """(low, high) day strings YYYY-MM-DD of a date, dateTime, instant or Period (local date part)."""
    if isinstance(value, str) and value[:4].isdigit():
        day = value[:10]
        low = day if len(day) == 10 else (day + "-01-01")[:10] if len(day) == 4 else day + "-01"
        high = day if len(day) == 10 else (day + "-12-31")[:10] if len(day) == 4 else day + "-31"
        return [(low, high)]
    if isinstance(value, dict) and ("start" in value or "end" in value):
        start = str(value.get("start") or "0001-01-01")[:10]
        end = str(value.get("end") or "9999-12-31")[:10]
        return [(start, end)]
    return []


def query_value(sp_type: str, vals: list[Any]) -> str | None:
    """A query value that the resource holding `vals` must match, or None if none can be built."""
    if sp_type == "token":
        for system, code in (t for v in vals for t in tokens(v)):
            return f"{system}|{code}" if system else code
    elif sp_type == "string":
        for s in (x for v in vals for x in strings(v)):
            word = s.strip().split()[0] if s.strip() else ""
            if word:
                return word[: max(3, min(len(word), 4))]
    elif sp_type == "date":
        ranges = [r for v in vals for r in date_ranges(v)]
        for low, high in ranges:
            if low == high:
                return low
        for low, _high in ranges:
            if low != "0001-01-01":
                return f"ge{low}"
    elif sp_type == "reference":
        for ref in (r for v in vals for r in reference_values(v)):
            if "/" in ref and not ref.startswith(("urn:", "#")):
                return "/".join(ref.rstrip("/").split("/")[-2:])
    elif sp_type in ("uri", "number"):
        for v in vals:
            if isinstance(v, str | int | float) and not isinstance(v, bool):
                return str(v)
    return None


def matches(
    sp_type: str, vals: list[Any], query: str, prefix: str = "eq", modifier: str | None = None
) -> bool:
    """Does a resource whose parameter values are `vals` satisfy `query` (with prefix/modifier)?"""
    if modifier == "missing":
        want_missing = query == "true"
        return (len(vals) == 0) == want_missing
    if sp_type == "token":
        qsys, qcode = query.split("|", 1) if "|" in query else (None, query)
        return any(
            (qsys is None or (qsys or None) == (s or None)) and c == qcode for v in vals for s, c in tokens(v)
        )
    if sp_type == "string":
        q = fold(query)
        cands = [x for v in vals for x in strings(v)]
        if modifier == "exact":
            return any(unicodedata.normalize("NFC", c) == unicodedata.normalize("NFC", query) for c in cands)
        if modifier == "contains":
            return any(q in fold(c) for c in cands)
        return any(fold(c).startswith(q) or any(w.startswith(q) for w in fold(c).split()) for c in cands)
    if sp_type == "date":
        # Day granularity of FHIR R4 prefix semantics: eq = the day contains the value's range;
        # gt/lt = the range above/below the day overlaps it; ge/le = gt/lt or contained.
        day = query[:10]
        for low, high in (r for v in vals for r in date_ranges(v)):
            inside = low == day and high == day
            ok = {
                "eq": inside,
                "ne": not inside,
                "gt": high > day,
                "lt": low < day,
                "ge": high > day or inside,
                "le": low < day or inside,
            }.get(prefix, False)
            if ok:
                return True
        return False
    if sp_type == "reference":
        return any(r.rstrip("/").endswith(query) for v in vals for r in reference_values(v))
    if sp_type in ("uri", "number"):
        return any(str(v) == query for v in vals)
    return True
