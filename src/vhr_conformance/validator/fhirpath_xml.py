"""FHIR R4 XML to the JSON form our engine reads (FHIR §2.6.1 XML, §2.6.2 JSON), for the test
inputs of the FHIRPath suite that exist only in XML.

The two forms differ in what XML leaves to the model: which elements repeat (JSON arrays), the
JSON type of a primitive (boolean, number, string), where a resource sits inline (``contained``,
``Bundle.entry.resource``). Cardinality comes from the core StructureDefinitions' snapshots,
element types from fhirpathpy's R4 model. A primitive's ``id`` and extensions go to ``_name``
(arrays aligned with ``null`` placeholders); the narrative ``div`` stays XHTML text.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path
from typing import Any

from fhirpathpy.models import models

from vhr_conformance import fhirpkg

FHIR_NS = "{http://hl7.org/fhir}"
XHTML_NS = "{http://www.w3.org/1999/xhtml}"
_MODEL = models["r4"]
_PATH2TYPE: dict[str, str] = _MODEL["path2Type"]
_ELSEWHERE: dict[str, str] = _MODEL["pathsDefinedElsewhere"]
_CHOICES: dict[str, list[str]] = _MODEL["choiceTypePaths"]
_NUMBER = frozenset({"integer", "unsignedInt", "positiveInt", "decimal"})
_RESOURCE_SLOTS = frozenset({"Resource", "DomainResource"})


@lru_cache(maxsize=1)
def _repeats() -> frozenset[str]:
    """Element paths (type-relative, as in the snapshots) whose max is not 1."""
    out: set[str] = set()
    for sd in fhirpkg.PackageSet.with_dependencies().resources("StructureDefinition"):
        if sd.get("derivation") != "specialization":
            continue
        for el in sd.get("snapshot", {}).get("element", []):
            if el.get("max") not in ("0", "1"):
                out.add(str(el.get("path", "")))
    return frozenset(out)


def _repeating(path: str) -> bool:
    if path in _repeats():
        return True
    for base, suffixes in _CHOICES.items():  # valueString is value[x]: never repeating in R4
        if path.startswith(base) and path[len(base) :] in suffixes:
            return f"{base}[x]" in _repeats()
    return False


def _local(tag: str) -> str:
    return tag.split("}", 1)[1] if "}" in tag else tag


def _primitive(text: str, ftype: str) -> Any:
    if ftype == "boolean":
        return text == "true"
    if ftype in _NUMBER:
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _resource(el: ET.Element) -> dict[str, Any]:
    rt = _local(el.tag)
    out: dict[str, Any] = {"resourceType": rt}
    _children(el, rt, out)
    return out


def _children(el: ET.Element, type_path: str, out: dict[str, Any]) -> None:
    groups: dict[str, list[ET.Element]] = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue  # a comment
        groups.setdefault(_local(child.tag), []).append(child)
    for name, items in groups.items():
        path = _ELSEWHERE.get(f"{type_path}.{name}", f"{type_path}.{name}")
        ftype = _PATH2TYPE.get(path, path)
        if ftype.startswith("System."):
            ftype = "string"
        many = _repeating(f"{type_path}.{name}") or _repeating(path) or len(items) > 1
        values: list[Any] = []
        extras: list[Any] = []
        for item in items:
            v, extra = _value(item, name, ftype)
            values.append(v)
            extras.append(extra)
        if any(v is not None for v in values):
            out[name] = values if many else values[0]
        if any(e is not None for e in extras):
            out["_" + name] = extras if many else extras[0]


def _value(item: ET.Element, name: str, ftype: str) -> tuple[Any, Any]:
    """(JSON value, the ``_name`` object of a primitive or None)."""
    if name == "div" and item.tag.startswith(XHTML_NS):
        ET.register_namespace("", "http://www.w3.org/1999/xhtml")
        text = ET.tostring(item, encoding="unicode", short_empty_elements=True).strip()
        return text, None
    if ftype in _RESOURCE_SLOTS or (name in ("contained", "resource") and len(item) == 1):
        inner = next((c for c in item if isinstance(c.tag, str)), None)
        return (_resource(inner) if inner is not None else None), None
    if ftype[:1].islower() and ftype not in ("xhtml",):  # a FHIR primitive
        value = item.get("value")
        extra: dict[str, Any] = {}
        if item.get("id") is not None:
            extra["id"] = item.get("id")
        exts = [
            _complex(e, "Extension") for e in item if isinstance(e.tag, str) and _local(e.tag) == "extension"
        ]
        if exts:
            extra["extension"] = exts
        return (None if value is None else _primitive(value, ftype)), (extra or None)
    return _complex(item, ftype), None


def _complex(item: ET.Element, ftype: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr in ("id", "url"):
        if item.get(attr) is not None:
            out[attr] = item.get(attr)
    _children(item, ftype, out)
    return out


def read(path: Path) -> dict[str, Any]:
    """The resource in a FHIR XML file, as FHIR JSON."""
    return _resource(ET.parse(path).getroot())
