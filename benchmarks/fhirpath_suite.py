"""Score of our FHIRPath engine on the official HL7 FHIRPath R4 suite, by group.

Reads ``../shared/fhirpath-tests`` (or the folder given); prints per group passed/scored and the
tests with no JSON input, then the total over the tests whose input exists in JSON (or need none).
Usage: ``python benchmarks/fhirpath_suite.py [FOLDER] [--failures] [--markdown] [--no-validator]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vhr_conformance.validator.fhirpath_suite import FAIL, NO_JSON, PASS, score, validator_conforms

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=ROOT.parent / "shared" / "fhirpath-tests")
    ap.add_argument("--failures", action="store_true", help="list each failing test and why")
    ap.add_argument("--markdown", action="store_true", help="print the by-group table as Markdown")
    ap.add_argument("--no-validator", action="store_true", help="do not load the validator for conformsTo()")
    args = ap.parse_args()
    if not (args.folder / "tests-fhir-r4.xml").is_file():
        print(f"no FHIRPath suite at {args.folder}", file=sys.stderr)
        return 2
    conforms = None
    if not args.no_validator:
        from vhr_conformance.validator import Validator

        conforms = validator_conforms(Validator.default())
    res = score(args.folder, conforms)
    groups = res.by_group()
    if args.markdown:
        print("| group | passed | scored | no JSON input |")
        print("| --- | ---: | ---: | ---: |")
    for name, g in groups.items():
        scored = g[PASS] + g[FAIL]
        if args.markdown:
            print(f"| {name} | {g[PASS]} | {scored} | {g[NO_JSON]} |")
        else:
            print(f"{name:32} {g[PASS]:4}/{scored:<4} no-json {g[NO_JSON]}")
    if args.failures:
        for o in res.outcomes:
            if o.status == FAIL:
                print(f"FAIL {o.case.group}/{o.case.name}: {o.case.expression.strip()[:100]!r} -> {o.detail}")
    no_json = sum(g[NO_JSON] for g in groups.values())
    print(
        f"total {res.passed}/{res.scored} = {100 * res.ratio:.1f} % (tests with JSON input; {no_json} XML-only)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
