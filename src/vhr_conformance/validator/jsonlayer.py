"""Layer 1: turn raw bytes into JSON, or into located fatal issues.

orjson parses (fast); its error carries line and column. orjson silently keeps the last of
duplicate keys, which FHIR forbids, so we compare the number of colons in the raw text with the
number in a re-serialisation (two C-speed passes) and only fall back to the slow stdlib decoder, with
a pairs hook, when they differ.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from vhr_conformance.i18n import Text
from vhr_conformance.validator.issues import Issue
from vhr_conformance.validator.positions import Fixed


class _DupDict(dict[str, Any]):
    """A dict that remembers which keys appeared more than once in the source text."""

    __slots__ = ("dups",)
    dups: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> _DupDict:
    out = _DupDict()
    dups: list[str] = []
    for k, v in pairs:
        if k in out:
            dups.append(k)
        out[k] = v
    out.dups = dups
    return out


def _find_dups(node: Any, path: str, found: list[tuple[str, str]]) -> None:
    if isinstance(node, dict):
        for k in getattr(node, "dups", ()):
            found.append((path, k))
        for k, v in node.items():
            _find_dups(v, f"{path}.{k}" if path else k, found)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _find_dups(v, f"{path}[{i}]", found)


def _line_col(data: bytes, pos: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, pos) + 1
    col = pos - (data.rfind(b"\n", 0, pos) + 1) + 1
    return line, col


def parse_json(data: bytes | bytearray | memoryview | str) -> tuple[Any, list[Issue]]:
    """Parse ``data``; return ``(value, issues)``. ``value`` is None when a fatal issue was found."""
    issues: list[Issue] = []
    if isinstance(data, str):
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError as exc:
            return None, [
                Issue(
                    "fatal",
                    "structure",
                    f"char {exc.start + 1}",
                    "json-encoding",
                    Text(
                        "Văn bản chứa ký tự không mã hóa được UTF-8 (surrogate đơn lẻ).",
                        "Text contains characters that cannot be encoded as UTF-8 (lone surrogate).",
                    ),
                )
            ]
    else:
        raw = bytes(data)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as uexc:
            line, col = _line_col(raw, uexc.start)
            return None, [
                Issue(
                    "fatal",
                    "structure",
                    f"line {line}, col {col}",
                    "json-encoding",
                    Text(
                        "Nội dung không phải UTF-8 hợp lệ (dòng {line}, cột {col}).",
                        "Content is not valid UTF-8 (line {line}, column {col}).",
                    ).format(line=line, col=col),
                    Fixed(line, col),
                )
            ]
        line, col = exc.lineno, exc.colno
        return None, [
            Issue(
                "fatal",
                "structure",
                f"line {line}, col {col}",
                "json-syntax",
                Text(
                    "JSON không hợp lệ tại dòng {line}, cột {col}: {msg}",
                    "Invalid JSON at line {line}, column {col}: {msg}",
                ).format(line=line, col=col, msg=exc.msg),
                Fixed(line, col),
            )
        ]
    # Every duplicate key adds at least one ':' to the raw text that the re-serialisation lacks;
    # string contents keep their colons (only a \u003a escape could hide one: take the slow path).
    if raw.count(b":") != orjson.dumps(value).count(b":") or b"\\u003" in raw:
        try:
            slow = json.loads(raw, object_pairs_hook=_pairs)
        except ValueError:  # pragma: no cover - orjson accepted it, so the stdlib will too
            slow = None
        found: list[tuple[str, str]] = []
        _find_dups(slow, "", found)
        root = value.get("resourceType") if isinstance(value, dict) else None
        for path, key in found:
            where = path if path else ""
            if isinstance(root, str):
                where = f"{root}.{where}" if where else root
            issues.append(
                Issue(
                    "error",
                    "structure",
                    where,
                    "json-duplicate-key",
                    Text(
                        "Khóa JSON '{key}' xuất hiện nhiều lần trong cùng một đối tượng.",
                        "JSON key '{key}' appears more than once in the same object.",
                    ).format(key=key),
                )
            )
    return value, issues
