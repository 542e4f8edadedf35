"""Invariants layer: evaluate compiled ElementDefinition constraints on a focus value.

Used by the structure walk (base definitions) and the profile layer (constraints a profile adds);
both hand over the compiled constraints and the run, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vhr_conformance.validator.fhirpath import Constraint, EvalEnv, FhirPathError
from vhr_conformance.validator.messages import M
from vhr_conformance.validator.run import Run


def check_invariants(
    focus: Any, constraints: Iterable[Constraint], loc: str, run: Run, skip: set[str] | None = None
) -> None:
    """Evaluate each constraint on ``focus`` at ``loc``; a failure is reported at the constraint's severity."""
    env = run.env or EvalEnv(
        focus if isinstance(focus, dict) else {}, focus if isinstance(focus, dict) else {}
    )
    best_practice = run.policy.best_practice
    for c in constraints:
        if skip and c.key in skip:
            continue
        if c.best_practice and not best_practice:
            continue  # off by default, as the HL7 reference outcomes show (Policy.best_practice)
        try:
            native = c.native
            ok = native(focus, env) if native is not None else c.evaluate(focus, env)
        except RecursionError:
            raise
        except Exception as exc:  # FhirPathError, or a native check meeting data it did not expect
            _harness_error(c, exc, loc, run)
            continue
        if not ok:
            if run.bad and run.depends_on_malformed(loc, c.expression):
                continue  # it failed because a value it reads is malformed, already reported
            sev = c.severity if c.severity in ("error", "warning") else "error"
            if c.best_practice:
                sev = "warning"
            run.add(sev, "invariant", loc, c.key, M["invariant"].format(key=c.key, human=c.human))


def _harness_error(c: Constraint, exc: Exception, loc: str, run: Run) -> None:
    """Report an unevaluable invariant once; stay quiet when invalid data below it is the cause."""
    marker = f"{c.key}|{c.expression}"
    if marker in run.harness_reported:
        return
    run.harness_reported.add(marker)
    prefix = (loc + ".", loc + "[")
    if any(i.severity in ("error", "fatal") and i.location.startswith(prefix) for i in run.issues):
        return  # the engine choked on data already reported as invalid: not the harness's fault
    err = str(exc) if isinstance(exc, FhirPathError) else f"{type(exc).__name__}: {exc}"
    run.add(
        "error",
        "exception",
        loc,
        "harness-fhirpath",
        M["harness-fhirpath"].format(key=c.key, expr=c.expression, err=err[:200]),
    )
