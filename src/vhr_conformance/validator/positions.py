"""Line and column of an issue's location in the JSON text it came from, computed lazily.

Validation works on parsed values (orjson keeps no positions), so positions come from a second,
cheap scan of the text, done only when somebody first asks where an issue is: a resource without
issues, or whose issues nobody places, costs nothing. Locations are the validator's FHIRPath-like
paths (``Bundle.entry[3].resource.name[0]``); a path the text does not hold (an absent required
element, a choice written as ``value[x]``) is placed at its nearest present ancestor, as the HL7
validator does.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Protocol

_TOKEN = re.compile(r'("(?:[^"\\]|\\.)*")\s*:|([{\[])|[}\]]|"(?:[^"\\]|\\.)*"|[^\s{}\[\]:,"]+')
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")

Path = tuple[str | int, ...]


class Locator(Protocol):
    def find(self, location: str) -> tuple[int, int] | None: ...


class Fixed:
    """A position known when the issue was made (JSON syntax errors)."""

    __slots__ = ("pos",)

    def __init__(self, line: int, col: int) -> None:
        self.pos = (line, col)

    def find(self, location: str) -> tuple[int, int] | None:
        return self.pos


class SourceMap:
    """Positions of every member and array item of one JSON text, built on first use."""

    # No lock: two threads building at once compute the same map, and the assignment is atomic.
    # Slots only, so issues pickle (worker processes) with their positions.
    __slots__ = ("_lines", "_pos", "_text")

    def __init__(self, text: str | bytes) -> None:
        self._text: str | bytes | None = text
        self._pos: dict[Path, int] | None = None
        self._lines: list[int] = []

    def find(self, location: str) -> tuple[int, int] | None:
        """(line, column), both from 1, of ``location``, or of its nearest ancestor present in the text."""
        if self._pos is None:
            self._build()
        pos = self._pos
        assert pos is not None
        path = to_path(location)
        while path not in pos:
            if not path:
                return None
            path = path[:-1]
        offset = pos[path]
        line = bisect.bisect_right(self._lines, offset - 1)
        start = self._lines[line - 1] + 1 if line else 0
        return line + 1, offset - start + 1

    def _build(self) -> None:
        text = self._text
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        text = text or ""
        if text.startswith("\ufeff"):
            text = " " + text[1:]  # keep offsets; the BOM is not a column of the content
        self._lines = [m.start() for m in re.finditer("\n", text)]
        self._pos = _scan(text)  # set last: a reader that sees it sees the lines too
        self._text = None  # the text is not needed any more


def to_path(location: str) -> Path:
    """``Patient.name[0].given`` -> ("name", 0, "given"): the root type name is not part of the JSON path."""
    if not location or location.startswith(("line ", "char ")):
        return ()
    out: list[str | int] = []
    for m in _SEGMENT.finditer(location.replace("[x]", "")):
        key, idx = m.group(1), m.group(2)
        out.append(int(idx) if idx is not None else key)
    return tuple(out[1:])


def _scan(text: str) -> dict[Path, int]:
    """One pass over the tokens; a member is placed at its key, an array item at its value.

    Commas and colons are never tokens (``finditer`` skips them in C): a key is matched with its
    colon, and an array's index counts the values that start in it.
    """
    pos: dict[Path, int] = {}
    stack: list[tuple[Path, bool, str, int]] = []
    path: Path = ()
    in_object = False
    key = ""
    index = -1
    started = False
    for m in _TOKEN.finditer(text):
        group = m.lastindex
        o = m.start()
        if group == 1:  # "key":
            tok = m.group(1)
            key = tok[1:-1] if "\\" not in tok else _decode(tok)
            pos.setdefault((*path, key), o)
            continue
        c = text[o]
        if group is None and (c == "}" or c == "]"):
            if stack:
                path, in_object, key, index = stack.pop()
            continue
        # a value starts here
        if not started:
            value_path: Path = ()
            pos[value_path] = o
            started = True
        elif in_object:
            value_path = (*path, key)
        else:
            index += 1
            value_path = (*path, index)
            pos.setdefault(value_path, o)
        if group == 2:  # { or [
            stack.append((path, in_object, key, index))
            path, in_object, key, index = value_path, c == "{", "", -1
    return pos


def _decode(tok: str) -> str:
    try:
        out = json.loads(tok)
    except ValueError:
        return tok[1:-1]
    return out if isinstance(out, str) else tok[1:-1]
