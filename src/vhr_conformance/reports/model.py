"""Results of a run: per test case, aggregated per criterion, and the run verdict.

A criterion's state is derived from its cases: any `fail` wins (the vendor broke it), then any
`error` (we could not tell), then `pass`, then `skip`, then `omit`. Attestation criteria have no
cases and are listed as `attestation` for the reviewer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from vhr_conformance.runner.catalogue import Catalogue, Criterion, level_in_scope

STATES = ("pass", "fail", "skip", "omit", "error")
_PRECEDENCE = ("fail", "error", "pass", "skip", "omit")

EXIT_OK = 0
EXIT_CRITERIA_FAILED = 1
EXIT_HARNESS_ERROR = 3


@dataclass
class CaseResult:
    nodeid: str
    name: str
    criteria: list[str]
    state: str
    message: str = ""
    duration_s: float = 0.0
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CriterionResult:
    criterion: Criterion
    state: str
    cases: list[CaseResult]
    in_scope: bool

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATES, 0)
        for c in self.cases:
            out[c.state] += 1
        return out


@dataclass
class RunResult:
    run_id: str
    target: str
    started: str
    finished: str
    level: str
    seed: int
    options: dict[str, Any]
    ig: dict[str, Any]
    harness_version: str
    cases: list[CaseResult]
    catalogue: Catalogue
    cleanup_leftovers: list[str] = field(default_factory=list)
    infrastructure_retries: int = 0
    only: list[str] = field(default_factory=list)
    criteria: list[CriterionResult] = field(default_factory=list)

    def aggregate(self) -> None:
        by_crit: dict[str, list[CaseResult]] = {}
        for case in self.cases:
            for cid in case.criteria:
                by_crit.setdefault(cid, []).append(case)
        self.criteria = []
        for crit in self.catalogue.criteria.values():
            cases = by_crit.get(crit.id, [])
            in_scope = level_in_scope(crit.level, self.level) and (
                not self.only or crit.id in self.only or crit.area in self.only
            )
            if crit.automated and crit.actor == "sender" and not cases:
                in_scope, state = False, "omit"  # checked by `vhr listen`, not by a server run
            elif not crit.automated:
                state = "attestation"
            elif not cases:
                state = "omit" if not in_scope else "skip"
            else:
                present = {c.state for c in cases}
                state = next(s for s in _PRECEDENCE if s in present)
            self.criteria.append(CriterionResult(crit, state, cases, in_scope))

    def summary(self) -> dict[str, Any]:
        """Counts per level and state, pass rate over decided (pass+fail) in-scope criteria."""
        out: dict[str, Any] = {}
        for level in ("SHALL", "SHOULD", "MAY"):
            rows = [r for r in self.criteria if r.criterion.level == level and r.in_scope]
            counts: dict[str, Any] = {s: sum(1 for r in rows if r.state == s) for s in (*STATES, "attestation")}
            decided = counts["pass"] + counts["fail"]
            counts["total"] = len(rows)
            counts["pass_rate"] = round(counts["pass"] / decided, 4) if decided else None
            out[level] = counts
        out["cases"] = {s: sum(1 for c in self.cases if c.state == s) for s in STATES}
        out["cases"]["total"] = len(self.cases)
        return out

    def exit_code(self) -> int:
        """0 only when every in-scope automated SHALL criterion passed (or does not apply); 3 when the harness erred."""
        if not self.cases:  # nothing ran: the harness failed, whatever the criteria say
            return EXIT_HARNESS_ERROR
        shall = [r for r in self.criteria if r.in_scope and r.criterion.level == "SHALL" and r.criterion.automated]
        if any(r.state == "fail" for r in self.criteria if r.in_scope):
            return EXIT_CRITERIA_FAILED
        if any(c.state == "error" for c in self.cases):
            return EXIT_HARNESS_ERROR
        if any(r.state not in ("pass", "omit") for r in shall):  # omit: not applicable to this target
            return EXIT_CRITERIA_FAILED
        return EXIT_OK

    def failed_criteria(self) -> list[str]:
        return [r.criterion.id for r in self.criteria if r.state == "fail"]

    def to_json(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "target": self.target,
            "started": self.started,
            "finished": self.finished,
            "level": self.level,
            "seed": self.seed,
            "harnessVersion": self.harness_version,
            "ig": self.ig,
            "options": self.options,
            "exitCode": self.exit_code(),
            "summary": self.summary(),
            "cleanupLeftovers": self.cleanup_leftovers,
            "infrastructureRetries": self.infrastructure_retries,
            "criteria": [
                {
                    "id": r.criterion.id,
                    "area": r.criterion.area,
                    "level": r.criterion.level,
                    "actor": r.criterion.actor,
                    "verification": r.criterion.verification,
                    "inScope": r.in_scope,
                    "state": r.state,
                    "title": {"vi": r.criterion.title.vi, "en": r.criterion.title.en},
                    "counts": r.counts(),
                    "cases": [c.nodeid for c in r.cases],
                }
                for r in self.criteria
            ],
            "cases": [asdict(c) for c in self.cases],
        }
