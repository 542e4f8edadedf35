"""YAML loading that remembers where every value came from, within limits.

Workload and SLO files are edited by hand; an error must point at the line and the key that is
wrong (``slo.yaml:12:10 thresholds[2].max``), in both languages, never with a traceback.

Every YAML file a user hands the harness (SLO, workload, auth config, OAuth clients) goes through
here, so hostile or broken ones are refused before they cost anything: a size cap read before
parsing, binary and invalid UTF-8 refused with the offending position, and caps on aliases, depth
and the number of nodes once aliases are expanded (an alias bomb is a few hundred bytes that
expand to billions of nodes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vhr_conformance.i18n import Text, UserError
from vhr_conformance.inputs import InputProblem, is_stream, read_input

Path_ = tuple[str | int, ...]

MAX_BYTES = 2 * 1024 * 1024  # hand-written configuration; the largest checked-in file is a few KB
MAX_ALIASES = 100
MAX_DEPTH = 64
MAX_NODES = 200_000  # after alias expansion


def _limit_error(src: str, mark: Any, text: Text) -> UserError:
    where = f"{src}:{mark.line + 1}:{mark.column + 1}" if mark is not None else src
    return UserError(text, location=where)


class _LimitedLoader(yaml.SafeLoader):
    """The safe loader, refusing too many aliases or too deep a document while composing."""

    src = "<yaml>"

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _limit_error(
                    self.src,
                    self.peek_event().start_mark,
                    Text("Quá nhiều bí danh YAML (tối đa {n})", "too many YAML aliases (at most {n})").format(
                        n=MAX_ALIASES
                    ),
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _limit_error(
                    self.src,
                    self.peek_event().start_mark,
                    Text(
                        "YAML lồng quá sâu (tối đa {n} mức)", "YAML nested too deep (at most {n} levels)"
                    ).format(n=MAX_DEPTH),
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


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


class _Converter:
    """Node tree to plain data, counting nodes as aliases are expanded and bounding the depth."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.marks: dict[Path_, tuple[int, int]] = {}
        self.nodes = 0
        self.scalars = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, path: Path_) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _limit_error(
                self.src,
                node.start_mark,
                Text(
                    "YAML quá lớn khi mở rộng bí danh (quá {n} nút)",
                    "YAML too large once aliases are expanded (over {n} nodes)",
                ).format(n=MAX_NODES),
            )
        if len(path) > MAX_DEPTH:
            raise _limit_error(
                self.src,
                node.start_mark,
                Text(
                    "YAML lồng quá sâu (tối đa {n} mức)", "YAML nested too deep (at most {n} levels)"
                ).format(n=MAX_DEPTH),
            )
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in out:
                    line = key_node.start_mark.line + 1
                    raise UserError(
                        Text("Khóa bị lặp: {k}", "duplicate key: {k}").format(k=key),
                        location=f"{self.src}:{line}:{key_node.start_mark.column + 1} {dotted((*path, key))}",
                    )
                out[key] = self.convert(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        # Scalars: let the safe constructor resolve ints, floats, bools, null.
        try:
            return self.scalars.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:  # e.g. a date 2024-13-45
            problem = getattr(exc, "problem", None) or str(exc)
            raise _limit_error(
                self.src,
                node.start_mark,
                Text("YAML không hợp lệ: {p}", "invalid YAML: {p}").format(p=problem),
            ) from None


def read_text_file(path: Path, max_bytes: int = MAX_BYTES) -> str:
    """A configuration file's text: bounded size, no binary, valid UTF-8, else a located error."""
    src = str(path)
    if is_stream(path):  # e.g. `--auth-config <(vault read …)`: read once, with a bounded wait
        try:
            raw = read_input(path, max_bytes=max_bytes)
        except InputProblem as exc:
            raise UserError(exc.text, location=src) from None
    else:
        try:
            with path.open("rb") as fh:
                raw = fh.read(max_bytes + 1)
        except OSError as exc:
            raise UserError(
                Text("Không đọc được tệp: {e}", "cannot read file: {e}").format(e=exc.strerror or exc),
                location=src,
            ) from None
    if len(raw) > max_bytes:
        raise UserError(
            Text(
                "Tệp quá lớn (hơn {n} KB) cho một tệp cấu hình",
                "file too large for a configuration file (over {n} KB)",
            ).format(n=max_bytes // 1024),
            location=src,
        )
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise UserError(
            Text(
                "Tệp nhị phân, không phải văn bản (byte 0 ở vị trí {i})",
                "binary file, not text (a NUL byte at offset {i})",
            ).format(i=nul),
            location=_offset_location(src, raw, nul),
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(
            Text(
                "Tệp không phải UTF-8 hợp lệ (byte 0x{b:02x} ở vị trí {i})",
                "file is not valid UTF-8 (byte 0x{b:02x} at offset {i})",
            ).format(b=raw[exc.start], i=exc.start),
            location=_offset_location(src, raw, exc.start),
        ) from None
    return text.removeprefix("\ufeff")


def _offset_location(src: str, raw: bytes, offset: int) -> str:
    line = raw.count(b"\n", 0, offset) + 1
    col = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return f"{src}:{line}:{col}"


def load_plain(path: Path) -> Any:
    """Parse a user's YAML (or JSON, a subset) file into plain data, with every limit applied."""
    return load_located(path).data


def load_located(path: Path) -> Located:
    """Parse ``path``; unreadable files and YAML syntax errors become located :class:`UserError`."""
    return parse_located(read_text_file(path), str(path))


def _problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):  # a control character the YAML reader refuses
        return f"character U+{exc.character:04X} is not allowed"
    return str(getattr(exc, "problem", None) or exc)


def _where(src: str, text: str, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return f"{src}:{mark.line + 1}:{mark.column + 1}"
    position = getattr(exc, "position", None)
    if isinstance(position, int):
        line = text.count("\n", 0, position) + 1
        return f"{src}:{line}:{position - (text.rfind(chr(10), 0, position) + 1) + 1}"
    return src


def parse_located(text: str, src: str) -> Located:
    """Parse YAML text named ``src`` (used in messages)."""
    if len(text) > MAX_BYTES:
        raise UserError(
            Text("Văn bản YAML quá lớn (hơn {n} KB)", "YAML text too large (over {n} KB)").format(
                n=MAX_BYTES // 1024
            ),
            location=src,
        )
    loader: _LimitedLoader | None = None
    try:
        loader = _LimitedLoader(text)  # the reader checks every character here already
        loader.src = src
        node = loader.get_single_node()
    except RecursionError:
        raise UserError(Text("YAML lồng quá sâu", "YAML nested too deep"), location=src) from None
    except yaml.YAMLError as exc:
        raise UserError(
            Text("YAML không hợp lệ: {p}", "invalid YAML: {p}").format(p=_problem(exc)),
            location=_where(src, text, exc),
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    conv = _Converter(src)
    data = None if node is None else conv.convert(node, ())
    return Located(src, data, conv.marks)
