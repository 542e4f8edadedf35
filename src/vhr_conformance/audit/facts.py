"""Per-resource facts, computed in worker processes: validity, references, must-support presence,
person keys for linkage, and timestamps. One flat JSON object per resource, so the aggregation
step reads them with DuckDB's JSON reader (out of core) instead of holding resources in memory."""

from __future__ import annotations

import unicodedata
from typing import Any

CCCD_SUFFIX = "/sid/cccd"
BHYT_SUFFIX = "/sid/bhyt"
PROVINCE_EXT = "vhr-address-province"


def fold(text: str) -> str:
    """Lower case without tone marks or diacritics (đ → d): 'Nguyễn Văn Ánh' → 'nguyen van anh'."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(ch for ch in text if unicodedata.category(ch) != "Mn").lower().split())


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _step(nodes: list[Any], part: str) -> list[Any]:
    """The values one path segment below `nodes` (``value[x]`` matches every typed key)."""
    nxt: list[Any] = []
    for node in nodes:
        if not isinstance(node, dict):
            continue
        if part.endswith("[x]"):
            stem = part[:-3]
            for key, value in node.items():
                if key.startswith(stem) and key[len(stem) : len(stem) + 1].isupper():
                    nxt.extend(_items(value))
        elif part in node:
            nxt.extend(_items(node[part]))
    return [n for n in nxt if n not in (None, "", [], {})]


def present(resource: dict[str, Any], path: str) -> bool:
    """Whether the element at a StructureDefinition path (``Patient.name.family``, ``value[x]``) has a value."""
    return presence(resource, [path])[0]


def presence(resource: dict[str, Any], paths: list[str]) -> list[bool]:
    """`present` of each path, walking each shared prefix (``Observation.component``) once."""
    below: dict[str, list[Any]] = {}
    out: list[bool] = []
    for path in paths:
        parts = path.split(".")[1:]
        nodes: list[Any] = [resource]
        for depth, part in enumerate(parts, 1):
            prefix = ".".join(parts[:depth])
            got = below.get(prefix)
            if got is None:
                got = below[prefix] = _step(nodes, part)
            nodes = got
            if not nodes:
                break
        out.append(bool(nodes))
    return out


def references(node: Any, path: str = "") -> list[list[str]]:
    """[element path, reference string] of every Reference.reference in the resource (outside `contained`)."""
    out: list[list[str]] = []
    _references(node, path, out)
    return out


def _references(node: Any, path: str, out: list[list[str]]) -> None:
    # only containers are walked: building a path for every primitive was most of this function's cost
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str) and path:
            out.append([path, ref])
        for key, value in node.items():
            if key != "contained" and isinstance(value, dict | list):
                _references(value, f"{path}.{key}" if path else key, out)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                _references(item, path, out)


def _identifier(resource: dict[str, Any], suffix: str) -> str | None:
    for ident in resource.get("identifier", []) or []:
        if isinstance(ident, dict) and str(ident.get("system", "")).endswith(suffix) and ident.get("value"):
            return str(ident["value"])
    return None


def person(resource: dict[str, Any]) -> dict[str, Any]:
    """The linkage keys of a Patient."""
    name = (resource.get("name") or [{}])[0] if isinstance(resource.get("name"), list) else {}
    text = name.get("text") or " ".join(
        [str(name.get("family", "")), *[str(g) for g in name.get("given", []) or []]]
    )
    province = None
    for address in resource.get("address", []) or []:
        for ext in address.get("extension", []) or [] if isinstance(address, dict) else []:
            if str(ext.get("url", "")).endswith(PROVINCE_EXT):
                province = (ext.get("valueCoding") or {}).get("code")
    return {
        "cccd": _identifier(resource, CCCD_SUFFIX),
        "bhyt": _identifier(resource, BHYT_SUFFIX),
        "name": fold(str(text)),
        "birth": resource.get("birthDate"),
        "gender": resource.get("gender"),
        "province": province,
    }
