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
    return PresencePlan(paths).evaluate(resource)


class PresencePlan:
    """The must-support paths of a profile compiled once into their distinct prefixes, parents
    first, so that judging a resource does no string work: each prefix is one `_step` from its
    parent's values (the per-resource split and join of every path was half of `presence`'s cost)."""

    def __init__(self, paths: list[str]) -> None:
        index: dict[str, int] = {}
        self.steps: list[tuple[int, str]] = []  # (parent prefix, -1 for the resource; segment)
        self.targets: list[int] = []  # per path, its last prefix (-1: the resource itself)
        for path in paths:
            parent = -1
            parts = path.split(".")[1:]
            for depth, part in enumerate(parts, 1):
                prefix = ".".join(parts[:depth])
                if prefix not in index:
                    index[prefix] = len(self.steps)
                    self.steps.append((parent, part))
                parent = index[prefix]
            self.targets.append(parent)

    def evaluate(self, resource: dict[str, Any]) -> list[bool]:
        values: list[list[Any]] = []
        root = [resource]
        for parent, part in self.steps:
            nodes = root if parent < 0 else values[parent]
            values.append(_step(nodes, part) if nodes else nodes)
        return [bool(root if t < 0 else values[t]) for t in self.targets]


def references(node: Any, path: str = "") -> list[list[str]]:
    """[element path, reference string] of every Reference.reference in the resource (outside `contained`)."""
    out: list[list[str]] = []
    _references(node, path, out)
    return out


def _references(node: Any, path: str, out: list[list[str]]) -> None:
    # Only containers are walked (building a path for every primitive was most of this function's
    # cost), and by exact type (`type(x) is dict`: parsed JSON holds no subclasses), which halves it.
    if type(node) is dict:
        ref = node.get("reference")
        if type(ref) is str and path:
            out.append([path, ref])
        for key, value in node.items():
            kind = type(value)
            if (kind is dict or kind is list) and key != "contained":
                _references(value, f"{path}.{key}" if path else key, out)
    elif type(node) is list:
        for item in node:
            kind = type(item)
            if kind is dict or kind is list:
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
