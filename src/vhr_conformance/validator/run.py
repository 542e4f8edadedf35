"""What the validator's layers share: the compiled definitions (:class:`Context`) and one call's state (:class:`Run`).

The layers (structure, invariants, terminology, profiles, references, questionnaires, definitions,
VN rules) are built over a :class:`Context`, never over the whole ``Validator``, and record their
findings in a :class:`Run`; so a layer depends on these two types and on the value helpers, not on
the engine that drives it or on another layer's internals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vhr_conformance.i18n import Text
from vhr_conformance.validator.issues import Issue
from vhr_conformance.validator.policy import DEFAULT_POLICY, Policy

if TYPE_CHECKING:
    from vhr_conformance.fhirpkg import PackageSet
    from vhr_conformance.validator.fhirpath import ConstraintCompiler, EvalEnv
    from vhr_conformance.validator.schema import Schema
    from vhr_conformance.validator.terminology import Terminology

ALL_LAYERS = frozenset({"invariants", "terminology", "profiles", "references", "vn"})
STRUCTURE_ONLY: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Context:
    """The compiled, read-only definitions of a package set: what a layer may consult.

    One per ``Validator``, shared by every call and thread (each part guards its own lazy caches).
    """

    packages: PackageSet
    schema: Schema
    terminology: Terminology
    cc: ConstraintCompiler


@dataclass(slots=True)
class RefUse:
    """A reference met inside a Bundle, resolved once the whole Bundle has been walked."""

    location: str
    ref: str
    targets: frozenset[str] | None


@dataclass(slots=True)
class Run:
    """State of one ``validate`` call (or of a scratch trial inside one)."""

    layers: frozenset[str]
    issues: list[Issue] = field(default_factory=list)
    env: EvalEnv | None = None
    refs: list[RefUse] = field(default_factory=list)
    in_bundle: bool = False
    harness_reported: set[str] = field(default_factory=set)
    ms_seen: set[tuple[str, str]] = field(default_factory=set)
    profiled: set[tuple[int, str, str]] = field(default_factory=set)  # (id(value), profile, location) done
    policy: Policy = DEFAULT_POLICY
    canonicals: dict[str, Any] = field(default_factory=dict)  # canonical url -> resource, in Bundles
    # Locations of malformed values: what depends on them is not judged again (no cascades)
    bad: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, severity: str, code: str, loc: str, rule: str, text: Text) -> None:
        if self.bad and loc in self.bad and not rule.startswith("type-"):
            return  # the value is malformed: that one error says it; range, binding, … would be noise
        self.issues.append(Issue(severity, code, loc, rule, text))

    def trial(self, *, share_profiled: bool = True) -> Run:
        """A scratch run in the same scope and policy, whose findings the caller weighs before keeping any.

        ``share_profiled`` shares the set of (value, profile) pairs already judged, so a trial does
        not judge them again; a trial that must judge afresh (``conformsTo()``, one of several
        allowed profiles) starts with its own.
        """
        return Run(
            self.layers,
            env=self.env,
            in_bundle=self.in_bundle,
            profiled=self.profiled if share_profiled else set(),
            policy=self.policy,
        )

    def malformed(self, loc: str, names: tuple[str, ...]) -> None:
        """Record a malformed value at ``loc``; ``names`` are the element names an invariant would use."""
        self.bad[loc] = names

    def depends_on_malformed(self, loc: str, expression: str) -> bool:
        """Whether an invariant at ``loc`` mentions an element below it whose value is malformed."""
        for where, names in self.bad.items():
            below = where.startswith(loc) and where[len(loc) : len(loc) + 1] in (".", "[")
            if below and any(re.search(rf"\b{re.escape(n)}\b", expression) for n in names):
                return True
        return False
