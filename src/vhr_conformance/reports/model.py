"""Results of a run: per test case, aggregated per criterion, and the run verdict.

The states and the rules are those of :mod:`vhr_conformance.outcome`: a criterion's state comes
from its cases by :func:`~vhr_conformance.outcome.criterion_state` (fail, then error, then
not-tested, then pass, then not-applicable; no case in scope is not-tested), the run verdict by
:func:`~vhr_conformance.outcome.run_verdict`. Attestation criteria have no cases: their state
comes from the run's attestation file by :func:`~vhr_conformance.outcome.attestation_state`
(missing → not-tested, attested → attestation, accepted → pass, rejected → fail), and the row
carries the attestation itself (`attestation`: status, by, date, statement, reason, reviewer).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from vhr_conformance.catalogue import Catalogue, Criterion, level_in_scope
from vhr_conformance.i18n import Text
from vhr_conformance.outcome import (
    EXIT_OF,
    PARTIAL_SCOPE,
    PARTIAL_SCOPE_NOTE,
    VERDICT_TEXT,
    ExitCode,
    Judged,
    State,
    Verdict,
    attestation_state,
    criterion_state,
    run_verdict,
)

CASE_STATES = (State.PASS, State.FAIL, State.NOT_TESTED, State.NOT_APPLICABLE, State.ERROR)
STATES = tuple(str(s) for s in CASE_STATES)
# Names of the first version, still accepted on input so a case recorded by older code keeps its meaning.
_LEGACY = {"skip": State.NOT_TESTED, "omit": State.NOT_APPLICABLE}

EXIT_OK = int(ExitCode.PASS)
EXIT_CRITERIA_FAILED = int(ExitCode.FAIL)
EXIT_HARNESS_ERROR = int(ExitCode.ERROR)

_NO_CASE = Text(
    "Không ca kiểm thử nào của tiêu chí này đã chạy.",
    "No test case of this criterion ran.",
)


def normal_state(state: str) -> str:
    """The outcome-model name of a case state (old `skip`/`omit` included)."""
    return str(_LEGACY[state] if state in _LEGACY else State(state))


@dataclass
class CaseResult:
    nodeid: str
    name: str
    criteria: list[str]
    state: str
    message: str = ""
    duration_s: float = 0.0
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state = normal_state(self.state)


@dataclass
class CriterionResult:
    criterion: Criterion
    state: str
    cases: list[CaseResult]
    in_scope: bool
    attestation: dict[str, Any] | None = None  # attestation criteria: what was attested and its review

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATES, 0)
        for c in self.cases:
            out[c.state] += 1
        return out

    def not_tested_reasons(self) -> list[str]:
        """Why it was not judged, in the not-tested (or erring) cases' own words: they say what was missing."""
        reasons = [c.message for c in self.cases if c.state in (State.NOT_TESTED, State.ERROR) and c.message]
        if not reasons and self.attestation is not None:
            text = self.attestation.get("text") or {}
            return [Text(str(text.get("vi", "")), str(text.get("en", ""))).both()]
        return list(dict.fromkeys(reasons)) or [_NO_CASE.both()]


#: What an attestation criterion shows when the run recorded no attestation for it.
ATTESTATION_MISSING = Text(
    "Chưa có xác nhận nào được ghi: thêm vào tệp xác nhận (--attestations).",
    "No attestation recorded: add it to the attestation file (--attestations).",
)


def missing_attestation(text: Text = ATTESTATION_MISSING) -> dict[str, Any]:
    """The `attestation` field of a criterion row without a statement (docs/evidence.md); the
    attestation module fills the same fields for a recorded one."""
    return {
        "status": "missing",
        "by": None,
        "date": None,
        "statement": None,
        "documents": {},
        "reason": "",
        "reviewer": None,
        "reviewDate": None,
        "review": None,
        "text": {"vi": text.vi, "en": text.en},
    }


@dataclass
class Provenance:
    """What the printed header states about who and what was tested, as the run knows it (`vhr run`
    hands it over; a report written without it says so rather than guessing).

    ``target`` is the doctor's identity of the target (url, address, TLS certificate, software,
    implementation, fhirVersion), ``vendor`` the organisation, product and version under test, and
    ``signer`` the name, role and key id of the key that signs the evidence bundle (None: unsigned)."""

    target: dict[str, Any] = field(default_factory=dict)
    vendor: dict[str, Any] = field(default_factory=dict)
    harness_fingerprint: str | None = None
    signer: dict[str, str] | None = None


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
    interrupted: str = ""  # why the run stopped early (signal, deadline); empty when it ran to its end
    provenance: Provenance | None = None  # the paper header's facts; not part of results.json
    # criterion id → its attestation row field (evidence.attestations.for_run); None: no file, all missing
    attestations: dict[str, dict[str, Any]] | None = None

    def aggregate(self) -> None:
        by_crit: dict[str, list[CaseResult]] = {}
        for case in self.cases:
            for cid in case.criteria:
                by_crit.setdefault(cid, []).append(case)
        self.criteria = []
        side = "sender" if self.options.get("mode") == "listen" else "server"
        for crit in self.catalogue.criteria.values():
            cases = by_crit.get(crit.id, [])
            in_scope = level_in_scope(crit.level, self.level) and (
                not self.only or crit.id in self.only or crit.area in self.only
            )
            attestation = None
            if crit.automated and crit.actor == "sender" and not cases:
                # checked by `vhr listen`, not by a server run: outside this run's scope
                in_scope, state = False, State.NOT_TESTED
            elif crit.input and not self.options.get(crit.input):
                # judged on an input the run was not given (`vhr run --audit`): outside its scope
                in_scope, state = False, State.NOT_TESTED
            elif not crit.automated:
                # a sender's attestation belongs to `vhr listen`, a server's to `vhr run`
                in_scope = in_scope and crit.actor == side
                attestation = (self.attestations or {}).get(crit.id) or missing_attestation()
                state = attestation_state(str(attestation.get("status")))
            else:
                state = criterion_state(c.state for c in cases)
            self.criteria.append(CriterionResult(crit, str(state), cases, in_scope, attestation))

    # ------------------------------------------------------------------ scope and verdict
    def scope_reasons(self) -> list[str]:
        """How the scope was narrowed on purpose (empty for a full run)."""
        why = []
        if self.only:
            why.append("--only " + ",".join(self.only))
        if self.level != "MAY":
            why.append(f"--level {self.level}")
        if self.options.get("partial") and not why:
            why.append("--vhr-partial")
        return why

    @property
    def partial(self) -> bool:
        return bool(self.scope_reasons())

    def scope_text(self) -> Text | None:
        why = self.scope_reasons()
        return PARTIAL_SCOPE_NOTE.format(why="; ".join(why)) if why else None

    def verdict(self) -> Verdict:
        return run_verdict(
            (Judged(r.criterion.level, r.state, r.in_scope, r.criterion.automated) for r in self.criteria),
            ran=bool(self.cases),
            interrupted=bool(self.interrupted),
        )

    def verdict_text(self) -> Text:
        """The verdict in words, marked "partial scope" when the scope was narrowed."""
        text = VERDICT_TEXT[self.verdict()]
        if self.partial:
            text = Text(f"{text.vi} ({PARTIAL_SCOPE.vi})", f"{text.en} ({PARTIAL_SCOPE.en})")
        return text

    def exit_code(self) -> int:
        """The verdict's :class:`~vhr_conformance.outcome.ExitCode`: 0 only for PASS."""
        return int(EXIT_OF[self.verdict()])

    def not_tested(self, levels: tuple[str, ...] = ("SHALL", "SHOULD", "MAY")) -> list[CriterionResult]:
        """In-scope criteria that were not judged (not tested or error; a missing attestation too),
        SHALL first."""
        rows = [
            r
            for r in self.criteria
            if r.in_scope and r.criterion.level in levels and r.state in (State.NOT_TESTED, State.ERROR)
        ]
        return sorted(rows, key=lambda r: ("SHALL", "SHOULD", "MAY").index(r.criterion.level))

    def summary(self) -> dict[str, Any]:
        """Counts per level and state, pass rate over judged (pass+fail) in-scope criteria."""
        out: dict[str, Any] = {}
        for level in ("SHALL", "SHOULD", "MAY"):
            rows = [r for r in self.criteria if r.criterion.level == level and r.in_scope]
            counts: dict[str, Any] = {
                s: sum(1 for r in rows if r.state == s) for s in (*STATES, "attestation")
            }
            decided = counts["pass"] + counts["fail"]
            counts["total"] = len(rows)
            counts["pass_rate"] = round(counts["pass"] / decided, 4) if decided else None
            out[level] = counts
        out["cases"] = {s: sum(1 for c in self.cases if c.state == s) for s in STATES}
        out["cases"]["total"] = len(self.cases)
        return out

    def failed_criteria(self) -> list[str]:
        return [r.criterion.id for r in self.criteria if r.state == State.FAIL]

    def to_json(self) -> dict[str, Any]:
        verdict = self.verdict()
        scope = self.scope_text()
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
            "verdict": str(verdict),
            "verdictText": {"vi": self.verdict_text().vi, "en": self.verdict_text().en},
            "exitCode": self.exit_code(),
            "scope": {
                "partial": self.partial,
                "narrowedBy": self.scope_reasons(),
                **({"note": {"vi": scope.vi, "en": scope.en}} if scope else {}),
            },
            "interrupted": self.interrupted or None,
            "notTested": [
                {
                    "id": r.criterion.id,
                    "level": r.criterion.level,
                    "state": r.state,
                    "title": {"vi": r.criterion.title.vi, "en": r.criterion.title.en},
                    "reasons": r.not_tested_reasons(),
                }
                for r in self.not_tested()
            ],
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
                    **({"attestation": r.attestation} if r.attestation is not None else {}),
                }
                for r in self.criteria
            ],
            "cases": [asdict(c) for c in self.cases],
        }
