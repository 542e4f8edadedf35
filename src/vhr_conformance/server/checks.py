"""Checks on what a client writes: the profile validator (loaded lazily), duplicate JSON keys,
the references a resource holds, and scrubbing personal data out of error messages."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import orjson

from vhr_conformance.server import errors as E
from vhr_conformance.server.errors import operation_outcome

log = logging.getLogger("vhr.server")


def personal_strings(resource: Any) -> set[str]:
    """Values in a submitted resource that identify a person (never echoed in errors)."""
    found: set[str] = set()

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif (
            isinstance(node, str)
            and key
            in (
                "value",
                "family",
                "given",
                "text",
                "line",
                "birthDate",
                "name",
                "city",
                "display",
            )
            and len(node) >= 3
        ):
            found.add(node)

    walk(resource)
    return found


def scrub(outcome: dict[str, Any], resource: Any) -> dict[str, Any]:
    """Remove submitted personal values from an OperationOutcome's texts."""
    secrets_ = sorted(personal_strings(resource), key=len, reverse=True)
    if not secrets_:
        return outcome
    raw = orjson.dumps(outcome).decode()
    for s in secrets_:
        escaped = orjson.dumps(s).decode()[1:-1]
        raw = raw.replace(escaped, "***")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return operation_outcome("error", "invalid", E.INVALID)


class Validation:
    """The project's validator, loaded lazily (compiling the profiles takes a moment)."""

    def __init__(self) -> None:
        self._validator: Any = None
        self._to_oo: Callable[[Any], dict[str, Any]] | None = None
        self.available = True
        # The validator compiles profiles lazily and is not safe to call from several threads at
        # once; it is CPU-bound under the GIL anyway, so serialising it costs nothing.
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._validator is not None or not self.available:
            return
        from vhr_conformance.validator import Validator, to_operation_outcome

        self._validator = Validator.default()
        self._to_oo = to_operation_outcome

    def warm(self) -> None:
        try:
            with self._lock:
                self._load()
        except Exception:  # warming is best-effort; a real write will report the problem
            log.exception("validator warm-up failed")

    def check(self, resource: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """(has errors, OperationOutcome with every issue)."""
        with self._lock:
            self._load()
            if self._validator is None:
                return False, {"resourceType": "OperationOutcome", "issue": []}
            issues = self._validator.validate(resource)
        bad = any(getattr(i, "severity", "") in ("error", "fatal") for i in issues)
        assert self._to_oo is not None
        return bad, self._to_oo(issues)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def duplicate_key(body: bytes) -> str | None:
    """The first key repeated inside one JSON object of `body` (already known to be valid JSON).

    orjson keeps the last value silently; the standard decoder's pairs hook sees every member."""
    if b'"' not in body:
        return None
    try:
        json.loads(body, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as dup:
        return dup.key
    except ValueError:  # orjson accepted it, so this cannot happen; never turn it into a 500
        return None
    return None
