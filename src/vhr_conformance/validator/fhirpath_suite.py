"""Scores our FHIRPath engine on the official HL7 FHIRPath test suite (``tests-fhir-r4.xml``).

Each expression is first checked against the model (:mod:`fhirpath_check`; strict where the test
says ``mode="strict"``), as an engine that knows the model reports semantic errors, then evaluated.

The suite is read from where it lies (``../shared/fhirpath-tests`` in this project's checkout), never
copied. Each test names an input resource file, an expression and the expected output (values with
their FHIRPath types), or says the expression is invalid. Tests are run on the JSON rendering of the
input when one exists; tests whose input exists only in XML run on its conversion
(:mod:`fhirpath_xml`) and are counted apart.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from vhr_conformance.validator import fhirpath_xml as fhir_xml
from vhr_conformance.validator.fhirpath import EvalEnv, FhirPathError, compile_path, result_type
from vhr_conformance.validator.fhirpath_check import check

PASS, FAIL, NO_JSON, XML_PASS = "pass", "fail", "no-json-input", "xml-pass"


@dataclass(slots=True)
class Case:
    group: str
    name: str
    inputfile: str | None
    expression: str
    invalid: str | None  # syntax | semantic | execution
    predicate: bool
    outputs: list[tuple[str | None, str]]
    strict: bool = False  # mode="strict": unknown names are semantic errors
    ordered: bool = False  # checkOrderedFunctions="true"


@dataclass(slots=True)
class Outcome:
    case: Case
    status: str
    detail: str = ""
    xml: bool = False  # run on the XML input converted to JSON (no JSON rendering exists)


@dataclass(slots=True)
class Score:
    outcomes: list[Outcome] = field(default_factory=list)

    def by_group(self) -> dict[str, dict[str, int]]:
        """Per group: passed and failed on JSON (or no) input, XML-only tests and how many of them passed."""
        out: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            g = out.setdefault(o.case.group, {PASS: 0, FAIL: 0, NO_JSON: 0, XML_PASS: 0})
            if o.xml or o.status == NO_JSON:
                g[NO_JSON] += 1
                g[XML_PASS] += o.status == PASS
            else:
                g[o.status] += 1
        return out

    def _json(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.xml and o.status != NO_JSON]

    @property
    def passed(self) -> int:
        return sum(o.status == PASS for o in self._json())

    @property
    def scored(self) -> int:
        """Tests that could run on JSON: the input exists in JSON, or the test needs no input."""
        return len(self._json())

    @property
    def xml_passed(self) -> tuple[int, int]:
        """(passed, run) of the tests whose input exists only in XML, run on its conversion."""
        xs = [o for o in self.outcomes if o.xml]
        return sum(o.status == PASS for o in xs), len(xs)

    @property
    def ratio(self) -> float:
        return self.passed / self.scored if self.scored else 0.0


def load_cases(xml_path: Path) -> list[Case]:
    root = ET.parse(xml_path).getroot()
    cases: list[Case] = []
    for group in root:
        for test in group:
            expr = test.find("expression")
            if expr is None or expr.text is None:
                continue
            cases.append(
                Case(
                    group.get("name", ""),
                    test.get("name", ""),
                    test.get("inputfile"),
                    expr.text,
                    expr.get("invalid"),
                    test.get("predicate") == "true",
                    [(o.get("type"), o.text or "") for o in test.findall("output")],
                    "strict" in (test.get("mode"), expr.get("mode")),
                    test.get("checkOrderedFunctions") == "true",
                )
            )
    return cases


def _input(folder: Path, name: str | None, cache: dict[str, Any]) -> Any:
    """The JSON rendering of the named input; None when the test has none; KeyError when only XML."""
    if name is None:
        return None
    json_name = name[:-4] + ".json" if name.endswith(".xml") else name
    if json_name not in cache:
        path = folder / json_name
        if not path.is_file():
            raise KeyError(name)
        cache[json_name] = json.loads(path.read_text(encoding="utf-8"))
    return cache[json_name]


def _same(kind: str | None, text: str, got: Any, got_type: str | None) -> bool:
    """One expected output (its suite type and text) against one result value and its type."""
    if kind == "boolean":
        return isinstance(got, bool) and got == (text == "true")
    if isinstance(got, bool):
        return kind is None and _text(got) == text
    if kind == "integer":
        return isinstance(got, int) and str(got) == text
    if kind == "decimal":
        try:
            return isinstance(got, Decimal | float | int) and Decimal(str(got)) == Decimal(text)
        except InvalidOperation:
            return False
    if kind in ("date", "dateTime", "time"):
        want = text[1:] if text.startswith("@") else text
        if kind == "time" and want.startswith("T"):
            want = want[1:]
        return _text(got) == want and got_type in (f"FHIR.{kind}", _SYSTEM.get(kind))
    if kind == "Quantity":
        return got_type in ("FHIR.Quantity", "System.Quantity") and _quantity_text(got) == text
    if kind in ("string", "code", "id", "uri"):
        return isinstance(got, str) and got == text
    if (
        kind is None and isinstance(got, Decimal | int) and not isinstance(got, bool)
    ):  # untyped numeric output: compare values
        try:
            return Decimal(got) == Decimal(text)
        except InvalidOperation:
            return False
    want = text[1:] if text.startswith("@") else text
    return _text(got) in (text, want, want[1:] if want.startswith("T") else want)


def _text(v: Any) -> str:
    """A value as FHIRPath writes it; dates and times keep the text they were made from."""
    as_str = getattr(v, "asStr", None)
    if isinstance(as_str, str):
        return as_str
    if isinstance(v, bool):
        return "true" if v else "false"
    if getattr(v, "unit", None) is not None and getattr(v, "value", None) is not None:
        return _quantity_text(v)
    return str(v)


_SYSTEM = {"date": "System.Date", "dateTime": "System.DateTime", "time": "System.Time"}


def _quantity_text(q: Any) -> str:
    unit = getattr(q, "unit", None)
    value = getattr(q, "value", None)
    if unit is None or value is None:
        return str(q)
    if not unit.startswith("'"):
        unit = f"'{unit}'"
    return f"{value} {unit}"


Conforms = Callable[[Any, str], "bool | None"]


def run_case(case: Case, data: Any, conforms: Conforms | None = None) -> Outcome:
    try:
        context = data.get("resourceType") if isinstance(data, dict) else None
        check(case.expression, context, strict=case.strict, ordered=case.ordered)  # semantic errors
        compiled = compile_path(case.expression)
        env = EvalEnv(data, data, conforms=conforms) if isinstance(data, dict) else None
        nodes = compiled.nodes(data, env)
        values = compiled.plain(nodes)
    except (FhirPathError, RecursionError) as exc:
        if case.invalid:
            return Outcome(case, PASS)
        return Outcome(case, FAIL, f"error: {str(exc)[:160]}")
    if case.invalid:
        return Outcome(case, FAIL, f"expected {case.invalid} error, got {values!r}"[:200])
    if case.predicate:
        values, types = [bool(values)], ["System.Boolean"]
    else:
        types = [result_type(n) for n in nodes if not _placeholder(n)]
    want = case.outputs
    if len(values) != len(want) or not all(
        _same(k, t, v, ty) for (k, t), v, ty in zip(want, values, types, strict=True)
    ):
        shown = [f"{ty}:{v}" for v, ty in zip(values, types, strict=False)]
        return Outcome(case, FAIL, f"expected {want}, got {shown}"[:240])
    return Outcome(case, PASS)


def _placeholder(node: Any) -> bool:
    data = getattr(node, "data", node)
    return isinstance(data, dict) and list(data) == ["extension"]


def validator_conforms(validator: Any) -> Conforms:
    """conformsTo() through a :class:`Validator`: no error against the profile; None when unknown."""

    def conforms(value: Any, url: str) -> bool | None:
        if validator.profiles.get(url) is None:
            return None
        issues = validator.validate(value, [url])
        return not any(i.severity in ("error", "fatal") for i in issues)

    return conforms


def score(folder: Path, conforms: Conforms | None = None, prefer_xml: bool = False) -> Score:
    """Run every test of ``folder/tests-fhir-r4.xml`` on the inputs in ``folder/input``;
    ``conforms`` backs conformsTo() (without it, those tests cannot pass). With ``prefer_xml`` every
    test named with an XML input runs on that input's conversion (the suite's reference data)."""
    cache: dict[str, Any] = {}
    result = Score()
    for case in load_cases(folder / "tests-fhir-r4.xml"):
        try:
            if prefer_xml and str(case.inputfile).endswith(".xml"):
                raise KeyError(case.inputfile)
            data = _input(folder / "input", case.inputfile, cache)
        except KeyError:
            xml_path = folder / "input" / str(case.inputfile)
            if not xml_path.is_file():
                result.outcomes.append(Outcome(case, NO_JSON))
                continue
            if case.inputfile not in cache:
                cache[str(case.inputfile)] = fhir_xml.read(xml_path)
            outcome = run_case(case, cache[str(case.inputfile)], conforms)
            outcome.xml = True
            result.outcomes.append(outcome)
            continue
        result.outcomes.append(run_case(case, data, conforms))
    return result
