"""A declarative route table: path pattern + method → handler, with the 404 and 405 answers
derived from it (a path no pattern matches is not found; a pattern without the method is not
allowed, with ``Allow`` listing the methods it has).

Patterns are ``/``-separated segments, each a literal (``_history``, ``$everything``) or a
placeholder (``{id}``) standing for any one segment. When several patterns match a path, the one
with literals further left wins (``/{type}/_history`` over ``/{type}/{id}``), so the order the
table is written in does not matter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from vhr_conformance.server import errors as E
from vhr_conformance.server.errors import FhirError

H = TypeVar("H")

Method = Literal["GET", "POST", "PUT", "DELETE"]
"""The methods routes are written for; HEAD is answered as GET."""

BodyKind = Literal["fhir", "fhir-or-form", "any"]
"""What a POST or PUT body must be: FHIR JSON, FHIR JSON or a form (or empty), or anything."""


@dataclass(frozen=True)
class Route(Generic[H]):
    """One path pattern and its handler per method, with how requests to it are admitted."""

    pattern: str
    methods: Mapping[Method, H]
    public: bool = False  # no token needed and no per-client rate limit
    negotiate: bool = True  # the Accept header must allow FHIR JSON
    body: BodyKind = "fhir"
    segments: tuple[str, ...] = field(init=False)
    _literals: tuple[tuple[int, str], ...] = field(init=False, repr=False)
    _names: tuple[tuple[int, str], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        segments = tuple(s for s in self.pattern.split("/") if s)
        object.__setattr__(self, "segments", segments)
        object.__setattr__(
            self, "_literals", tuple((i, s) for i, s in enumerate(segments) if not _is_name(s))
        )
        object.__setattr__(self, "_names", tuple((i, s[1:-1]) for i, s in enumerate(segments) if _is_name(s)))

    def match(self, segs: list[str]) -> dict[str, str] | None:
        """The placeholders' values when `segs` (as many as the pattern has) fits, else None."""
        for i, literal in self._literals:
            if segs[i] != literal:
                return None
        return {name: segs[i] for i, name in self._names}

    @property
    def specificity(self) -> tuple[int, ...]:
        """Sort key: a literal segment (0) sorts before a placeholder (1), left to right."""
        return tuple(1 if _is_name(s) else 0 for s in self.segments)


class RouteTable(Generic[H]):
    """Routes kept most specific first: :meth:`find` the route for a path, then its
    :meth:`handler` for the method (or the 405); :meth:`not_found` when nothing fits."""

    def __init__(self, routes: Iterable[Route[H]]) -> None:
        self.routes = sorted(routes, key=lambda r: r.specificity)
        self._by_length: dict[int, list[Route[H]]] = {}
        seen = set()
        for r in self.routes:
            shape = tuple("{}" if _is_name(s) else s for s in r.segments)  # /{type} is /{kind}
            if shape in seen:
                raise ValueError(f"route pattern {r.pattern} is declared twice")
            seen.add(shape)
            self._by_length.setdefault(len(r.segments), []).append(r)

    def find(self, path: str) -> tuple[Route[H], dict[str, str]] | None:
        """The most specific route whose pattern fits `path`, with the placeholders' values."""
        segs = [s for s in path.split("/") if s]
        for route in self._by_length.get(len(segs), ()):
            args = route.match(segs)
            if args is not None:
                return route, args
        return None

    @staticmethod
    def handler(route: Route[H], method: str) -> H:
        """The route's handler for `method`; 405 (with ``Allow``) when it has none."""
        for name, handler in route.methods.items():
            if name == method:
                return handler
        raise FhirError(405, "not-supported", E.METHOD_NOT_ALLOWED, headers={"Allow": allow(route)})

    @staticmethod
    def not_found(path: str) -> FhirError:
        """The answer for a path no pattern fits."""
        return FhirError(404, "not-found", E.NOT_FOUND.format(what=path[:80]))


def _is_name(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def allow(route: Route[H]) -> str:
    """The ``Allow`` header for a route (GET implies HEAD)."""
    methods: list[str] = list(route.methods)
    if "GET" in methods:
        methods.append("HEAD")
    return ", ".join(methods)
