"""Value helpers shared by the validator's layers: how FHIR JSON values compare, match and print.

They depend on nothing else in the validator except the FHIRPath date arithmetic, so every layer
(structure, profiles, definitions, questionnaires) can use them without importing another layer.
"""

from __future__ import annotations

from typing import Any

import orjson

SD_BASE = "http://hl7.org/fhir/StructureDefinition/"
FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
# FHIRPath system types of primitive ``value`` elements → the FHIR type their JSON carries
SYSTEM_TYPE_MAP = {
    "http://hl7.org/fhirpath/System.String": "string",
    "http://hl7.org/fhirpath/System.Boolean": "boolean",
    "http://hl7.org/fhirpath/System.Integer": "integer",
    "http://hl7.org/fhirpath/System.Decimal": "decimal",
    "http://hl7.org/fhirpath/System.Date": "date",
    "http://hl7.org/fhirpath/System.DateTime": "dateTime",
    "http://hl7.org/fhirpath/System.Time": "time",
}


def json_kind(value: Any) -> str:
    """The JSON type of a parsed value, as messages name it (``boolean`` before ``number``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def type_code(t: dict[str, Any], path: str, sd_kind: str, sd_type: str) -> str:
    """The FHIR type of an ElementDefinition.type entry (system types mapped back; ``Resource.id`` is ``id``)."""
    code: str = t.get("code", "")
    if code.startswith("http://hl7.org/fhirpath/System."):
        for ext in t.get("extension", ()):
            if ext.get("url") == FHIR_TYPE_EXT:
                code = ext.get("valueUrl") or ext.get("valueUri") or code
                break
        else:
            code = SYSTEM_TYPE_MAP.get(code, "string")
        if sd_kind == "resource" and path == f"{sd_type}.id":
            code = "id"
    return code


def parse_max(value: str | None) -> int | None:
    """ElementDefinition.max as a number; None for ``*``, absent or unreadable."""
    if value is None or value == "*":
        return None
    try:
        return int(value)
    except ValueError:
        return None


def choice_rename(eid: str, index: dict[str, int]) -> str:
    """``Observation.valueQuantity`` (old-style renamed choice) → ``Observation.value[x]:valueQuantity``."""
    parts = eid.split(".")
    for i in range(1, len(parts)):
        seg = parts[i]
        if ":" in seg or seg.endswith("[x]"):
            continue
        parent = ".".join(parts[:i])
        for j in range(len(seg) - 1, 0, -1):
            if seg[j].isupper() and f"{parent}.{seg[:j]}[x]" in index:
                parts[i] = f"{seg[:j]}[x]:{seg}"
                break
    return ".".join(parts)


def compare(a: Any, b: Any) -> int | None:
    """-1/0/1 for numbers, dates, dateTimes and times of the same kind; None when incomparable."""
    if isinstance(a, bool) or isinstance(b, bool):
        return None
    if isinstance(a, int | float) and isinstance(b, int | float):
        return (a > b) - (a < b)
    if isinstance(a, str) and isinstance(b, str):
        if ":" in a and "-" not in a and ":" in b and "-" not in b:  # time
            return (a > b) - (a < b)
        # imported here: the FHIRPath engine is heavy and most validations never compare dates
        from vhr_conformance.validator.fhirpath import compare_datetimes

        le, ge = compare_datetimes(a, b), compare_datetimes(b, a)
        if le is None or ge is None:
            return None
        return 0 if (le and ge) else (-1 if le else 1)
    return None


def equal(a: Any, b: Any) -> bool:
    """FHIR value equality: booleans are not numbers, 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return bool(a == b)


def pattern(value: Any, pat: Any) -> bool:
    """Whether ``value`` meets a pattern[x]: every member of the pattern is present and equal."""
    if isinstance(pat, dict):
        if isinstance(value, list):
            return any(pattern(v, pat) for v in value)
        if not isinstance(value, dict):
            return False
        return all(k in value and pattern(value[k], pv) for k, pv in pat.items())
    if isinstance(pat, list):
        vals = value if isinstance(value, list) else [value]
        return all(any(pattern(v, p) for v in vals) for p in pat)
    return equal(value, pat)


def show(v: Any) -> str:
    """A value as JSON for a message, cut at 160 characters."""
    s = orjson.dumps(v).decode() if not isinstance(v, str) else v
    return s if len(s) < 160 else s[:159] + "…"
