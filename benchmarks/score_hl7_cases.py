"""Score the validator against the HL7 validator test cases in ``../shared/hl7-validator-cases``.

Prints verdict agreement (errors vs no errors) and exact error-count agreement with the Java
reference validator's outcomes. The cases are read in place, never copied into the project.
Usage: ``python benchmarks/score_hl7_cases.py [--verbose] [--module NAME] [--case NAME]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from vhr_conformance import fhirpkg
from vhr_conformance.validator import Validator
from vhr_conformance.validator.issues import Issue

CASES_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "hl7-validator-cases"


def _extra_package(root: Path, files: list[str]) -> fhirpkg.FhirPackage | None:
    entries = []
    for rel in files:
        path = root / rel
        try:
            res = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        if not isinstance(res, dict) or "resourceType" not in res:
            continue
        entries.append(fhirpkg.IndexEntry.for_resource(rel, res))
    if not entries:
        return None
    return fhirpkg.FhirPackage("cases.supporting", "0.0.0", root, {}, entries)


class Scorer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.core = fhirpkg.PackageSet.with_dependencies()
        self.base_validator = Validator.for_packages(self.core)

    def validator_for(self, supporting: list[str]) -> Validator:
        extra = _extra_package(self.root, supporting)
        if extra is None:
            return self.base_validator
        return Validator.for_packages(fhirpkg.PackageSet([*self.core.packages, extra]))

    def run_case(self, case: dict[str, Any]) -> list[tuple[str, int, int, list[Issue]]]:
        """(step, expected errors, our errors, our issues) for the base step and the profile step."""
        data = (self.root / case["file"]).read_bytes()
        out = []
        v = self.validator_for([*(case.get("supporting") or ()), *(case.get("profiles") or ())])
        issues = v.validate(data)
        out.append(("base", case["expected"]["errorCount"], _errors(issues), issues))
        prof = case.get("profile")
        if prof and prof.get("source") and prof.get("expected"):
            v2 = self.validator_for(
                [
                    *(case.get("supporting") or ()),
                    *(case.get("profiles") or ()),
                    prof["source"],
                    *(prof.get("supporting") or ()),
                ]
            )
            try:
                url = json.loads((self.root / prof["source"]).read_bytes()).get("url")
            except (OSError, ValueError):
                url = None
            issues2 = v2.validate(data, profiles=[url] if url else None)
            out.append(("profile", prof["expected"]["errorCount"], _errors(issues2), issues2))
        return out


def _errors(issues: list[Issue]) -> int:
    return sum(1 for i in issues if i.severity in ("error", "fatal"))


def score(
    root: Path = CASES_DIR, verbose: bool = False, module: str | None = None, only: str | None = None
) -> dict[str, Any]:
    cases = json.loads((root / "cases.json").read_bytes())["cases"]
    scorer = Scorer(root)
    total = verdict = exact = 0
    by_module: dict[str, list[int]] = {}
    for case in cases:
        if module and case.get("module") != module:
            continue
        if only and case["name"] != only:
            continue
        try:
            steps = scorer.run_case(case)
        except Exception as exc:  # a crash is a disagreement, and must be visible
            print(f"CRASH {case['name']}: {type(exc).__name__}: {exc}")
            steps = [("base", case["expected"]["errorCount"], -1, [])]
        for step, want, got, issues in steps:
            total += 1
            v_ok = (want == 0) == (got == 0)
            e_ok = want == got
            verdict += v_ok
            exact += e_ok
            m = by_module.setdefault(case.get("module", "?"), [0, 0, 0])
            m[0] += 1
            m[1] += v_ok
            m[2] += e_ok
            if verbose and not e_ok:
                print(
                    f"{'VERDICT' if not v_ok else 'count  '} {case['name']} [{step}] expected {want} errors, got {got}"
                )
                for i in issues:
                    if i.severity in ("error", "fatal"):
                        print(f"      {i.severity} {i.location} {i.rule}: {i.text.en[:150]}")
    return {"total": total, "verdict": verdict, "exact": exact, "modules": by_module}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--module")
    ap.add_argument("--case")
    args = ap.parse_args()
    if not (CASES_DIR / "cases.json").is_file():
        print(f"HL7 validator cases not found at {CASES_DIR}; skipping.")
        return 0
    res = score(CASES_DIR, args.verbose, args.module, args.case)
    t = res["total"] or 1
    for name, (n, v, e) in sorted(res["modules"].items()):
        print(f"  {name:14s} steps {n:3d}  verdict {v:3d}  exact {e:3d}")
    print(
        f"HL7 cases: {res['total']} steps; verdict agreement {res['verdict']}/{res['total']} ({100 * res['verdict'] / t:.1f}%); "
        f"exact error count {res['exact']}/{res['total']} ({100 * res['exact'] / t:.1f}%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
