"""Functions and operators our layer adds or corrects over fhirpathpy, each from the text of the
FHIRPath specification (N1 2.0.0, and 2.1.0 for sort, boundaries, precision, escape)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from vhr_conformance.validator.fhirpath import FhirPathError, compile_path, evaluate


def ev(expr: str, data: Any = None) -> list[Any]:
    return evaluate(data, expr)


def text(expr: str) -> list[str]:
    """Results as FHIRPath writes them (dates and times keep their own text)."""
    return [getattr(v, "asStr", None) or str(v) for v in ev(expr)]


# §6.1/§6.2: "If one value is specified to a different level of precision than the other, the result
# is empty"; seconds and milliseconds are a single precision.
@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("@2012-04-15 = @2012-04-15T10:00:00", []),
        ("@2012-04-15 < @2012-04-16T10:00:00", [True]),
        ("@2012-04 = @2012-04-15", []),
        ("@2012-04 < @2012-05-15", [True]),
        ("@2012-04-15T10:00:00 = @2012-04-15T10:00:00.000", [True]),
        ("@2012-04-15T15:00:00Z = @2012-04-15T22:00:00+07:00", [True]),
        ("@2012-04-15T15:00:00Z = @2012-04-15T10:00:00", []),
        ("@T10:00 = @2012-04-15", [False]),
        ("@2012-04-15T10:00:00 ~ @2012-04-15T10:00:00.0", [True]),
        ("@2012-04-15 ~ @2012-04-15T10:00:00", [False]),
        ("now() > today()", []),
    ],
)
def test_date_time_comparison_at_precision(expr: str, want: list[Any]) -> None:
    assert ev(expr) == want


def test_fhir_date_elements_compare_as_dates() -> None:
    p = {"resourceType": "Patient", "birthDate": "1990-05-14"}
    assert ev("birthDate < @1990-05-15", p) == [True]
    assert ev("birthDate = @1990-05-14T10:00:00", p) == []
    assert ev("birthDate != @T10:00", p) == [True]


# §6.6.4 (date/time arithmetic): the result keeps the input's precision and timezone; calendar
# months clamp to the month's end; UCUM 'a' and 'mo' are not calendar durations.
@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("@2020-01-31 + 1 month", "2020-02-29"),
        ("@2019-12-25 + 7 days", "2020-01-01"),
        ("@2020-03-01 - 1 day", "2020-02-29"),
        ("@2020-01-01T23:30:00.000+07:00 + 45 minutes", "2020-01-02T00:15:00.000+07:00"),
        ("@2020-01-01T00:00:00+07:00 + 1.9 seconds", "2020-01-01T00:00:01+07:00"),
        ("@2020 + 13 months", "2021"),
        ("@T23:00 + 2 hours", "01:00"),
        ("@2020-01-01 + 1 'month'", "2020-02-01"),
    ],
)
def test_date_arithmetic_keeps_precision_and_timezone(expr: str, want: str) -> None:
    assert text(expr) == [want]


@pytest.mark.parametrize("expr", ["@2020-01-01 + 1 'mo'", "@2020-01-01 + 1 'a'", "@2020-01-01 + 1 'cm'"])
def test_date_arithmetic_refuses_non_calendar_units(expr: str) -> None:
    with pytest.raises(FhirPathError):
        ev(expr)


# FHIRPath 2.1 lowBoundary/highBoundary: "the least/greatest possible value of the input to the
# specified precision"; an unknown timezone gives the earliest (+14:00) / latest (-12:00) one.
@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("2.50.lowBoundary(4)", "2.4950"),
        ("2.50.highBoundary(4)", "2.5050"),
        ("3.lowBoundary(1)", "2.5"),
        ("(-2.5).lowBoundary(3)", "-2.550"),
        ("2.5.lowBoundary(-1)", None),
        ("@2021-02.highBoundary(8)", "2021-02-28"),
        ("@2020-02.highBoundary(8)", "2020-02-29"),
        ("@2020-02.lowBoundary(8)", "2020-02-01"),
        ("@2020-06-01T10:30.lowBoundary(17)", "2020-06-01T10:30:00.000+14:00"),
        ("@2020-06-01T10:30+07:00.highBoundary(17)", "2020-06-01T10:30:59.999+07:00"),
        ("@T10.highBoundary(9)", "10:59:59.999"),
    ],
)
def test_boundaries(expr: str, want: str | None) -> None:
    assert text(expr) == ([] if want is None else [want])


@pytest.mark.parametrize(
    ("expr", "want"),
    [("1.50.precision()", 2), ("@2020-06.precision()", 6), ("@2020-06-01T10:30:00.5.precision()", 17)],
)
def test_precision(expr: str, want: int) -> None:
    assert ev(expr) == [want]


def test_decimal_literals_stay_decimal() -> None:
    assert ev("1.0") == [Decimal("1.0")]
    assert ev("1.0.toString()") == ["1.0"]
    assert ev("true.toString()") == ["true"]
    assert ev("1.0.convertsToBoolean()") == [True]


def test_sort_by_keys_with_descending_marker() -> None:
    data = {
        "resourceType": "Patient",
        "name": [
            {"family": "B", "given": ["y"]},
            {"family": "A", "given": ["z"]},
            {"family": "B", "given": ["x"]},
        ],
    }
    assert ev("(3 | 1 | 2).sort()") == [1, 2, 3]
    assert ev("(3 | 1 | 2).sort(-$this)") == [3, 2, 1]
    assert ev("name.sort(family, -given.first()).given", data) == ["z", "y", "x"]
    assert ev("('b' | 'a').sort(-$this)") == ["b", "a"]


# §5.6: string functions on an empty input give empty; on a non-string or several items, an error.
@pytest.mark.parametrize("fn", ["startsWith('a')", "endsWith('a')", "contains('a')", "matches('a')"])
def test_string_functions_propagate_empty(fn: str) -> None:
    assert ev(f"{{}}.{fn}") == []
    assert ev(f"'abc'.{fn.split('(')[0]}({{}})") == []
    with pytest.raises(FhirPathError):
        ev(f"(1).{fn}")


def test_validator_dialect_keeps_hl7_string_tests() -> None:
    # In invariants, the HL7 validator gives false for a string test on a missing value.
    c = compile_path("fullUrl.contains('/_history/').not()", "validator")
    assert c({"request": {}}) == [True]
    assert compile_path("fullUrl.contains('/_history/').not()")({"request": {}}) == []


def test_string_extras() -> None:
    assert ev("'http://x/Library/y'.matchesFull('.*Library.*')") == [True]
    assert ev("'http://x/Library/y'.matchesFull('Library')") == [False]
    assert ev("'a<b'.escape('html')") == ["a&lt;b"]
    assert ev("'a&amp;b'.unescape('html')") == ["a&b"]
    assert ev("'x\\ny'.escape('json')") == ["x\\ny"]


# §4.5 singleton evaluation: a single non-Boolean operand of a logical operator counts as true.
def test_logic_on_singletons() -> None:
    assert ev("(true and 'foo')") == [True]
    assert ev("false or 1") == [True]
    assert ev("{} and false") == [False]
    assert ev("{} implies false") == []
    with pytest.raises(FhirPathError):
        ev("(true | false) and true")


def test_iif_single_and_not_check_their_input() -> None:
    with pytest.raises(FhirPathError):
        ev("iif('x', 1, 2)")
    with pytest.raises(FhirPathError):
        ev("(1 | 2).iif(true, 1, 2)")
    with pytest.raises(FhirPathError):
        ev("(1 | 2).single()")
    with pytest.raises(FhirPathError):
        ev("(true | false).not()")
    assert ev("iif({}, 1, 2)") == [2]


def test_quantity_comparison_with_fhir_quantity_elements() -> None:
    obs = {
        "resourceType": "Observation",
        "valueQuantity": {
            "value": 185,
            "unit": "lbs",
            "system": "http://unitsofmeasure.org",
            "code": "[lb_av]",
        },
    }
    assert ev("value < 200 '[lb_av]'", obs) == [True]
    assert ev("6 days < 1 week") == [True]
    assert ev("1 year = 1 'a'") == []  # calendar year vs UCUM mean year: not comparable
    assert ev("(-5.5 'mg').abs() = 5.5 'mg'") == [True]


def test_collection_equivalence_ignores_order() -> None:
    assert ev("(1 | 2 | 3) ~ (3 | 2 | 1)") == [True]
    assert ev("(1 | 2) ~ (1 | 2 | 3)") == [False]


def test_fhir_environment_variables() -> None:
    assert ev("%ucum") == ["http://unitsofmeasure.org"]
    assert ev("%`vs-administrative-gender`") == ["http://hl7.org/fhir/ValueSet/administrative-gender"]
    assert ev("%`ext-patient-birthTime`") == ["http://hl7.org/fhir/StructureDefinition/patient-birthTime"]
    with pytest.raises(FhirPathError):
        ev("%nosuchvariable")


def test_syntax_errors_and_time_zones_in_time_literals_are_refused() -> None:
    with pytest.raises(FhirPathError):
        compile_path("2 + 2 /")
    with pytest.raises(FhirPathError):
        compile_path("@T14:34:28Z")


# §9 operator precedence: is/as bind tighter than |, comparisons, equality and the logical operators.
@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("(1 | 1 is Integer).count()", [2]),
        ("1 + 1 is Integer", [True]),
        ("true and 1 is Integer", [True]),
        ("'a' = 'a' and 'b' is String", [True]),
    ],
)
def test_type_operators_bind_tighter_than_union_and_logic(expr: str, want: list[Any]) -> None:
    assert ev(expr) == want


def test_json_null_placeholders_are_not_items() -> None:
    # FHIR JSON §2.6.2: a null in a primitive array only keeps the index of an extension in "_given".
    p = {
        "resourceType": "Patient",
        "name": [{"given": [None, "James"], "_given": [{"extension": [{"url": "u", "valueString": "x"}]}]}],
    }
    assert ev("name.given.count()", p) == [2]
    assert ev("name.given.select($this.hasValue())", p) == [False, True]


def test_this_after_an_iterating_function_is_the_outer_one() -> None:
    data = {"resourceType": "Patient", "id": "x", "name": [{"family": "A"}, {"family": "B"}]}
    assert ev("name.where(family = 'A').family.subsetOf($this.name.family)", data) == [True]


# §6.6.2/§6.6.3: quantities multiply and divide, units combining; equality holds across
# commensurable UCUM units; comparable() tells whether two units share a dimension.
@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("2.0 'cm' * 2.0 'm' = 0.040 'm2'", [True]),
        ("4.0 'g' / 2.0 'm' = 2 'g/m'", [True]),
        ("1.0 'm' / 1.0 'm' = 1 '1'", [True]),
        ("3 'mg' * 2 = 6 'mg'", [True]),
        ("1 'kg' = 1000 'g'", [True]),
        ("1 'cm' < 1 '[in_i]'", [True]),
        ("1 'kg.m/s2' = 1000 'g.m/s2'", [True]),
        ("1 'cm' = 1 's'", [False]),
        ("1 'cm'.comparable(1 '[in_i]')", [True]),
        ("1 'cm'.comparable(1 's')", [False]),
        ("1 'mL'.comparable(1 'cm3')", [True]),
        ("2 'm' / 0 = 1 'm'", []),
    ],
)
def test_quantity_unit_algebra(expr: str, want: list[Any]) -> None:
    assert ev(expr) == want


def test_partial_datetime_literals() -> None:
    # FHIRPath §4.1.3: a DateTime literal may stop after the year, month or day with a T.
    assert ev("@2015T.is(DateTime)") == [True]
    assert ev("@2015-02T.is(DateTime)") == [True]
    assert ev("@2015-02-04T.is(DateTime)") == [True]
    assert ev("@2015-02-04.is(DateTime)") == [False]
    assert ev("@2015T < @2016T") == [True]
    assert ev("@2015-02-04T = @2015-02-04T10:00") == []
