"""Score of our FHIRPath engine on the official HL7 FHIRPath R4 suite, by group.

Reads ``../shared/fhirpath-tests`` (or the folder given); prints per group passed/scored on JSON
input and the XML-only tests (run on a conversion of their XML input), then the total over the
tests whose input exists in JSON (or that need none).
Usage: ``python benchmarks/fhirpath_suite.py [FOLDER] [--failures] [--markdown] [--no-validator]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vhr_conformance.validator.fhirpath_suite import FAIL, NO_JSON, PASS, XML_PASS, score, validator_conforms

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
        print("| group | passed | scored | XML-only: passed / run |")
        print("| --- | ---: | ---: | ---: |")
    for name, g in groups.items():
        scored = g[PASS] + g[FAIL]
        if args.markdown:
            print(f"| {name} | {g[PASS]} | {scored} | {g[XML_PASS]} / {g[NO_JSON]} |")
        else:
            print(f"{name:32} {g[PASS]:4}/{scored:<4} xml-only {g[XML_PASS]}/{g[NO_JSON]}")
    if args.failures:
        for o in res.outcomes:
            if o.status == FAIL:
                print(
                    f"FAIL{' (xml)' if o.xml else ''} {o.case.group}/{o.case.name}: {o.case.expression.strip()[:100]!r} -> {o.detail}"
                )
    xp, xn = res.xml_passed
    print(f"total {res.passed}/{res.scored} = {100 * res.ratio:.1f} % (tests with JSON input or none)")
    print(f"XML-only inputs (converted to JSON): {xp}/{xn}")
    ref = score(args.folder, conforms, prefer_xml=True)
    print(
        f"every test on its XML input where it names one (the suite's reference data): {ref.passed + ref.xml_passed[0]}/{ref.scored + ref.xml_passed[1]}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
