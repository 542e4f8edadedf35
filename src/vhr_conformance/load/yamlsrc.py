"""YAML loading that remembers where every value came from.

Workload and SLO files are edited by hand; an error must point at the line and the key that is
wrong (``slo.yaml:12:10 thresholds[2].max``), in both languages, never with a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vhr_conformance.i18n import Text, UserError

Path_ = tuple[str | int, ...]


@dataclass
class Located:
    """A parsed YAML document plus the source position of every node, keyed by its path."""

    source: str
    data: Any
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path_) -> str:
        """``file:line:col dotted.path`` for error messages (nearest known parent if needed)."""
        probe = path
        while probe not in self.marks and probe:
            probe = probe[:-1]
        line, col = self.marks.get(probe, (1, 1))
        return f"{self.source}:{line}:{col} {dotted(path) or '<root>'}"

    def error(self, path: Path_, text: Text, hint: Text | None = None) -> UserError:
        return UserError(text, location=self.where(path), hint=hint)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _convert(node: yaml.Node, path: Path_, marks: dict[Path_, tuple[int, int]], src: str) -> Any:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in out:
                line = key_node.start_mark.line + 1
                raise UserError(
                    Text("Khóa bị lặp: {k}", "duplicate key: {k}").format(k=key),
                    location=f"{src}:{line}:{key_node.start_mark.column + 1} {dotted((*path, key))}",
                )
            out[key] = _convert(value_node, (*path, key), marks, src)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), marks, src) for i, item in enumerate(node.value)]
    # Scalars: let the safe constructor resolve ints, floats, bools, null.
    return yaml.SafeLoader("").construct_object(node, deep=True)


def load_located(path: Path) -> Located:
    """Parse ``path``; unreadable files and YAML syntax errors become located :class:`UserError`."""
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(
            Text("Không đọc được tệp: {e}", "cannot read file: {e}").format(e=exc.strerror or exc),
            location=src,
        ) from None
    return parse_located(text, src)


def parse_located(text: str, src: str) -> Located:
    """Parse YAML text named ``src`` (used in messages)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{src}:{mark.line + 1}:{mark.column + 1}" if mark else src
        problem = getattr(exc, "problem", None) or str(exc)
        raise UserError(
            Text("YAML không hợp lệ: {p}", "invalid YAML: {p}").format(p=problem), location=where
        ) from None
    marks: dict[Path_, tuple[int, int]] = {}
    data = None if node is None else _convert(node, (), marks, src)
    return Located(src, data, marks)
