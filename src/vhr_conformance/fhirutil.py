"""Small FHIR helpers every stage needs on JSON resources: references and identifiers.

Written once here so the server's referential-integrity check, the generator's document builder,
the suites and the sender checks of `vhr listen` walk references and read identifiers the same
way. They take untrusted JSON: anything that is not the expected shape is skipped, never raised on.
"""

from __future__ import annotations

import re
from typing import Any

_LOCATION = re.compile(
    r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/([A-Za-z0-9\-.]{1,64}))?/?$"
)


def reference_values(value: Any) -> list[str]:
    """The reference one element value holds: a Reference's ``reference``, or a canonical (a string)."""
    if isinstance(value, dict):
        ref = value.get("reference")
        return [ref] if isinstance(ref, str) else []
    if isinstance(value, str):
        return [value]
    return []


def located_references(node: Any, path: str, *, contained: bool = False) -> list[tuple[str, str]]:
    """(FHIRPath-like location, reference) of every ``Reference.reference`` under ``node``, in
    document order; contained resources are skipped unless ``contained`` (they resolve locally)."""
    out: list[tuple[str, str]] = []
    _located(node, path, contained, out)
    return out


def _located(node: Any, path: str, contained: bool, out: list[tuple[str, str]]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference" and isinstance(v, str):
                out.append((f"{path}.reference", v))
            elif isinstance(v, dict | list) and (contained or k != "contained"):
                _located(v, f"{path}.{k}", contained, out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _located(v, f"{path}[{i}]", contained, out)


def references(node: Any) -> list[str]:
    """Every ``Reference.reference`` string under ``node``, contained resources included, in document order."""
    return [ref for _, ref in located_references(node, "", contained=True)]


def identifier_value(resource: dict[str, Any], system: str) -> str | None:
    """The value of the resource's first identifier of ``system`` that has one."""
    idents = resource.get("identifier")
    for ident in idents if isinstance(idents, list) else []:
        if isinstance(ident, dict) and ident.get("system") == system and ident.get("value"):
            return str(ident["value"])
    return None


def parse_location(location: str | None) -> tuple[str, str, str | None] | None:
    """(type, id, version or None) of a ``Location`` / ``Content-Location`` header or a
    ``response.location``, absolute or relative, query string ignored; None when it names no resource."""
    if not location:
        return None
    m = _LOCATION.search(location.split("?", 1)[0])
    return (m.group(1), m.group(2), m.group(3)) if m else None
