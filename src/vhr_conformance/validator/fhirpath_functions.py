"""FHIRPath functions and operators fhirpathpy lacks or evaluates differently from the spec.

Each entry takes the engine context and the engine's items (nodes keep the element's FHIR type),
and is installed in our function table only: fhirpathpy itself is not changed. What belongs
upstream is listed in docs/fhirpath.md.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from decimal import Decimal
from functools import cmp_to_key
from typing import Any, cast

from fhirpathpy.engine.invocations import invocation_registry
from fhirpathpy.engine.nodes import FP_DateTime, FP_Quantity, FP_Time, FP_TimeBase, ResourceNode
from fhirpathpy.engine.util import get_data, is_true

from vhr_conformance.names import UCUM
from vhr_conformance.validator import fhirpath_temporal as tmp
from vhr_conformance.validator.fhirpath_types import type_of
from vhr_conformance.validator.fhirpath_ucum import canonical, product_unit, reduce

Fn = Callable[..., Any]
_BASE: dict[str, dict[str, Any]] = cast(dict[str, dict[str, Any]], invocation_registry)

_TEMPORAL_TYPES = {"date": "Date", "dateTime": "DateTime", "instant": "DateTime", "time": "Time"}
_QUANTITY_TYPES = frozenset(
    {"Quantity", "Age", "Distance", "Duration", "Count", "SimpleQuantity", "MoneyQuantity"}
)


def temporal(item: Any) -> tmp.Temporal | None:
    """The date/time an item holds: a literal or computed value, or a FHIR date/time element."""
    if isinstance(item, FP_Time):
        return tmp.parse(item.asStr, "Time")
    if isinstance(item, FP_DateTime):
        return tmp.parse(item.asStr, "DateTime" if "T" in item.asStr else "Date")
    if isinstance(item, ResourceNode) and isinstance(item.data, str):
        ns, name = type_of(item)
        kind = _TEMPORAL_TYPES.get(name) if ns == "FHIR" else None
        if kind is not None:  # a dateTime holding only a date is still a DateTime (boundaries)
            return tmp.parse(item.data, kind)
    return None


def to_value(t: tmp.Temporal) -> Any:
    text = t.render()
    return FP_Time(text) if t.kind == "Time" else FP_DateTime(text)


def quantity(item: Any) -> FP_Quantity | None:
    """A Quantity literal, or a FHIR Quantity element with a value (its UCUM code as the unit)."""
    data = get_data(item)
    if isinstance(data, FP_Quantity):
        return data
    if isinstance(item, ResourceNode) and isinstance(data, dict) and "value" in data:
        ns, name = type_of(item)
        if ns == "FHIR" and name in _QUANTITY_TYPES:
            code = data.get("code") if data.get("system") == UCUM else None
            unit = code or data.get("unit")
            value = data["value"]
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
                return None
            return FP_Quantity(Decimal(str(value)), f"'{unit}'" if unit else "'1'")
    return None


_DEFINITE = {"week": "wk", "day": "d", "hour": "h", "minute": "min", "second": "s", "millisecond": "ms"}


def _ucum_unit(q: FP_Quantity) -> str | None:
    """The UCUM form of a quantity's unit: calendar keywords from a week down are definite
    durations (FHIRPath §6.1.1); ``year``/``month`` have none (None)."""
    unit = q.unit
    if unit is not None and not unit.startswith("'"):
        u = tmp.time_unit(unit)
        return _DEFINITE.get(u or "") if u not in ("year", "month") else None
    return (unit or "'1'").strip("'")


def quantity_compare(a: FP_Quantity, b: FP_Quantity) -> tuple[bool, int | None]:
    """(known, order): order is None when the units cannot be compared (a calendar year or month
    against anything but calendar years and months; different dimensions); known is False when a
    unit is outside what :mod:`fhirpath_ucum` reads (then fhirpathpy decides)."""
    va, vb = Decimal(str(a.value)), Decimal(str(b.value))
    cal = {"year": 12, "month": 1}
    ca = tmp.time_unit(a.unit) if a.unit and not a.unit.startswith("'") else None
    cb = tmp.time_unit(b.unit) if b.unit and not b.unit.startswith("'") else None
    if ca in cal or cb in cal:
        if ca in cal and cb in cal:
            x, y = va * cal[ca], vb * cal[cb]
            return True, (x > y) - (x < y)
        return True, None
    ka, kb = canonical(va, _ucum_unit(a)), canonical(vb, _ucum_unit(b))
    if ka is None or kb is None:
        return False, None
    if ka[1] != kb[1]:
        return True, None
    return True, (ka[0] > kb[0]) - (ka[0] < kb[0])


# --------------------------------------------------------------------------- comparison


def collapse(xs: list[Any]) -> list[Any]:
    """One item per primitive: fhirpathpy yields a FHIR primitive that has both a value and an
    extension (``birthDate`` + ``_birthDate``) as two items; the second is dropped here."""
    if len(xs) < 2:
        return xs
    out: list[Any] = []
    for x in xs:
        if (
            out
            and isinstance(x, ResourceNode)
            and isinstance(x.data, dict)
            and "extension" in x.data
            and isinstance(out[-1], ResourceNode)
            and not isinstance(out[-1].data, dict)
            and x.propName == out[-1].propName
        ):
            continue
        out.append(x)
    return out


def _no_value(item: Any) -> bool:
    """A FHIR primitive that has only an extension (``_value`` without ``value``): no value."""
    if not isinstance(item, ResourceNode) or not isinstance(item.data, dict) or "resourceType" in item.data:
        return False
    ns, name = type_of(item)
    return ns == "FHIR" and name[:1].islower() and set(item.data) <= {"extension", "id"}


def _single(xs: list[Any]) -> Any | None:
    """The one value an operator works on; a primitive without a value counts as empty."""
    xs = [x for x in collapse(xs) if not _no_value(x)]
    return xs[0] if len(xs) == 1 else None


def _comparison(op: str, test: Callable[[int], bool]) -> Fn:
    base = _BASE[op]["fn"]

    def fn(ctx: Any, xs: list[Any], ys: list[Any]) -> Any:
        x, y = _single(xs), _single(ys)
        if (x is None and xs and all(_no_value(i) for i in collapse(xs))) or (
            y is None and ys and all(_no_value(i) for i in collapse(ys))
        ):
            return []  # an operand with an extension but no value: empty, like a missing one
        if x is not None and y is not None:
            ta, tb = temporal(x), temporal(y)
            if ta is not None and tb is not None:
                if (ta.kind == "Time") != (tb.kind == "Time"):  # a time of day is never a date
                    return [op == "!="] if op in ("=", "!=") else []
                c = tmp.compare(ta, tb)
                return [] if c is None else [test(c)]
            qa, qb = quantity(x), quantity(y)
            if qa is not None and qb is not None:
                known, c = quantity_compare(qa, qb)
                if known:
                    if c is None:  # not comparable: = is false, the others empty (§6.1.1, §6.2)
                        return [op == "!="] if op in ("=", "!=") and _ucum_unit(qa) and _ucum_unit(qb) else []
                    return [test(c)]
                return base(ctx, [qa], [qb])
        return base(ctx, xs, ys)

    return fn


def _equivalence(negate: bool) -> Fn:
    base = _BASE["~"]["fn"]

    def item_equiv(ctx: Any, a: Any, b: Any) -> bool:
        ta, tb = temporal(a), temporal(b)
        if ta is not None and tb is not None:
            return tmp.equivalent(ta, tb)
        return is_true(base(ctx, [a], [b]))

    def fn(ctx: Any, xs: list[Any], ys: list[Any]) -> bool:
        """``~`` on collections: same size and every item has an equivalent, in any order."""
        if not xs and not ys:
            result = True
        elif len(xs) != len(ys):
            result = False
        else:
            pool = list(ys)
            result = True
            for a in xs:
                for i, b in enumerate(pool):
                    if item_equiv(ctx, a, b):
                        del pool[i]
                        break
                else:
                    result = False
                    break
        return result != negate

    return fn


# --------------------------------------------------------------------------- arithmetic


def _arith(op: str) -> Fn:
    base = _BASE[op]["fn"]
    sign = 1 if op == "+" else -1

    def fn(ctx: Any, xs: list[Any], ys: list[Any]) -> Any:
        x, y = _single(xs), _single(ys)
        if x is not None and y is not None:
            t = temporal(x)
            q = quantity(y)
            if t is not None and q is not None:
                unit = tmp.time_unit(q.unit)
                if unit is None or q.unit in ("'a'", "'mo'"):
                    # UCUM 'a' and 'mo' are mean lengths of a year and a month, not calendar ones
                    raise ValueError(f"cannot add {q} to a date/time: not a calendar duration")
                return [to_value(tmp.add(t, sign * Decimal(str(q.value)), unit))]
        return base(ctx, xs, ys)

    return fn


def _mul_div(op: str) -> Fn:
    """``*`` and ``/`` also on quantities (§6.6.2, §6.6.3): values multiply, units combine."""
    base = _BASE[op]["fn"]
    divide = op == "/"

    def fn(ctx: Any, xs: list[Any], ys: list[Any]) -> Any:
        x, y = _single(xs), _single(ys)
        if x is None or y is None:
            if len(collapse(xs)) > 1 or len(collapse(ys)) > 1:
                raise ValueError(f"'{op}' on a collection of more than one item")
            return []
        qa, qb = quantity(x), quantity(y)
        if qa is None and qb is None:
            a, b = get_data(x), get_data(y)
            if not _number(a) or not _number(b):
                raise ValueError(f"'{op}' needs numbers or quantities")
            return base(ctx, a, b)
        if qa is None:
            a = get_data(x)
            if not _number(a) or divide:
                raise ValueError(f"'{op}' of a number by a quantity")
            qa = FP_Quantity(Decimal(str(a)), "'1'")
        if qb is None:
            b = get_data(y)
            if not _number(b):
                raise ValueError(f"'{op}' of a quantity by a non-number")
            qb = FP_Quantity(Decimal(str(b)), "'1'")
        ua, ub = _ucum_unit(qa), _ucum_unit(qb)
        if ua is None or ub is None:
            raise ValueError("calendar years and months cannot be multiplied or divided")
        va, vb = Decimal(str(qa.value)), Decimal(str(qb.value))
        if divide and vb == 0:
            return []
        value = va / vb if divide else va * vb
        return FP_Quantity(value, f"'{product_unit(ua, ub, divide)}'")

    return fn


def _number(v: Any) -> bool:
    return isinstance(v, int | Decimal | float) and not isinstance(v, bool)


# --------------------------------------------------------------------------- strings


def _one_string(coll: list[Any], fn: str) -> str | None:
    """The single string input of a string function: empty gives None, else an error (§5.6)."""
    coll = collapse(coll)
    if not coll:
        return None
    if len(coll) > 1:
        raise ValueError(f"{fn}() expects a single string, got {len(coll)} items")
    v = get_data(coll[0])
    if not isinstance(v, str):
        raise ValueError(f"{fn}() expects a string, got {type_of(coll[0])[1]}")
    return v


def _string_fn(name: str, op: Callable[..., Any]) -> Fn:
    def fn(ctx: Any, coll: list[Any], *args: Any) -> Any:
        s = _one_string(coll, name)
        if s is None or any(isinstance(a, list) for a in args):  # an empty argument: empty result
            return []
        return op(s, *args)

    return fn


def _matches(s: str, rx: str) -> bool:
    return re.search(rx, s, re.DOTALL) is not None


def _matches_full(s: str, rx: str) -> bool:
    return re.fullmatch(rx, s, re.DOTALL) is not None


def _replace_matches(s: str, rx: str, sub: str) -> str:
    if rx == "":
        return s  # an empty pattern matches nothing worth replacing (suite: unchanged input)
    return re.sub(rx, re.sub(r"\$(\d+)", r"\\\1", sub), s, flags=re.DOTALL)


def _index_of(s: str, sub: str) -> int:
    return s.find(sub)


def _escape(s: str, target: str) -> Any:
    if target == "html":
        return html.escape(s, quote=True).replace("&#x27;", "&#39;")
    if target == "json":
        return json.dumps(s)[1:-1]
    return []


def _unescape(s: str, target: str) -> Any:
    if target == "html":
        return html.unescape(s)
    if target == "json":
        return _JSON_ESCAPE.sub(_json_char, s)
    return []


_JSON_ESCAPE = re.compile(r'\\(u[0-9a-fA-F]{4}|["\\/bfnrt])')
_JSON_CHARS = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _json_char(m: re.Match[str]) -> str:
    code = m.group(1)
    return chr(int(code[1:], 16)) if code[0] == "u" else _JSON_CHARS[code]


def _to_string(ctx: Any, coll: list[Any]) -> Any:
    """toString() (§5.5.8): booleans as ``true``/``false``, decimals with their own digits."""
    if len(coll) != 1:
        return [] if not coll else _BASE["toString"]["fn"](ctx, coll)
    v = get_data(coll[0])
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        return format(v, "f")
    t = temporal(coll[0])
    if t is not None:
        return t.render()
    return _BASE["toString"]["fn"](ctx, coll)


# --------------------------------------------------------------------------- collections


def _sort(ctx: Any, coll: list[Any], *keys: Callable[[Any], list[Any]]) -> list[Any]:
    """sort([key, ...]) (FHIRPath 2.1 §5.x): by each key in turn; a key written ``-expr`` sorts
    descending. Without keys, the items themselves in ascending order."""

    def key_values(item: Any) -> list[tuple[Any, bool]]:
        if not keys:
            return [(get_data(item), False)]
        out = []
        for k in keys:
            r = k(item)
            desc = False
            if len(r) == 1 and isinstance(r[0], Descending):
                desc, r = True, r[0].values
            out.append((get_data(r[0]) if r else None, desc))
        return out

    def cmp(a: list[tuple[Any, bool]], b: list[tuple[Any, bool]]) -> int:
        for (x, desc), (y, _) in zip(a, b, strict=True):
            if x == y:
                continue
            if x is None:  # an empty key sorts after every value
                c = 1
            elif y is None:
                c = -1
            else:
                c = -1 if x < y else 1
            return -c if desc else c
        return 0

    decorated = [(key_values(i), i) for i in coll]

    def by_keys(p: tuple[list[tuple[Any, bool]], Any], q: tuple[list[tuple[Any, bool]], Any]) -> int:
        return cmp(p[0], q[0])

    decorated.sort(key=cmp_to_key(by_keys))
    return [i for _, i in decorated]


class Descending:
    """What ``-expr`` evaluates to inside sort(): the key's values, to be ordered descending."""

    __slots__ = ("values",)

    def __init__(self, values: list[Any]) -> None:
        self.values = values


def _clock(name: str, cls: type) -> Fn:
    """now()/today()/timeOfDay() as date/time values (fhirpathpy returns their text)."""
    base = _BASE[name]["fn"]

    def fn(ctx: Any, coll: list[Any]) -> Any:
        v = base(ctx, coll)
        v = v[0] if isinstance(v, list) and len(v) == 1 else v
        return cls(v) if isinstance(v, str) else v

    return fn


def _single_fn(ctx: Any, coll: list[Any]) -> list[Any]:
    if len(coll) > 1:
        raise ValueError(f"single() on {len(coll)} items")
    return coll


def _not_fn(ctx: Any, coll: list[Any]) -> Any:
    if len(coll) > 1:
        raise ValueError(f"not() on {len(coll)} items")
    return _BASE["not"]["fn"](ctx, coll)


def _iif(ctx: Any, data: list[Any], cond: Fn, ok: Fn, fail: Fn | None = None) -> Any:
    """iif (§5.5.1): the criterion must be a single Boolean (or empty); the input at most one item."""
    if len(data) > 1:
        raise ValueError("iif() on more than one item")
    c = cond(data)
    if len(c) > 1 or (c and not isinstance(get_data(c[0]), bool)):
        raise ValueError("iif() criterion is not a Boolean")
    if c and get_data(c[0]) is True:
        return ok(data)
    return fail(data) if fail is not None else []


def _round(ctx: Any, coll: list[Any], digits: Any = 0) -> Any:
    return _BASE["round"]["fn"](ctx, coll, 0 if digits == [] else digits)


def _abs(ctx: Any, coll: list[Any]) -> Any:
    q = quantity(coll[0]) if len(coll) == 1 else None
    if q is not None:
        return FP_Quantity(abs(Decimal(str(q.value))), q.unit)
    return _BASE["abs"]["fn"](ctx, coll)


def _to_bool(ctx: Any, coll: list[Any]) -> Any:
    """toBoolean (§5.5.3) also for decimals: 1.0 is true, 0.0 false."""
    coll = collapse(coll)
    if len(coll) == 1:
        v = get_data(coll[0])
        if isinstance(v, Decimal):
            return True if v == 1 else False if v == 0 else []
    return _BASE["toBoolean"]["fn"](ctx, coll)


def _converts_to_bool(ctx: Any, coll: list[Any]) -> Any:
    coll = collapse(coll)
    if len(coll) != 1:
        return []
    return _to_bool(ctx, coll) != []


def _logic_operand(xs: list[Any]) -> bool | None:
    """An operand of and/or/xor/implies by singleton evaluation (§4.5): a single Boolean is itself,
    any other single item is true, empty is unknown; more than one item is an error."""
    xs = collapse(xs)
    if not xs:
        return None
    if len(xs) > 1:
        raise ValueError(f"a logical operand has {len(xs)} items")
    v = get_data(xs[0])
    return v if isinstance(v, bool) else True


def _logic(op: Callable[[bool | None, bool | None], bool | None]) -> Fn:
    def fn(ctx: Any, xs: list[Any], ys: list[Any]) -> Any:
        r = op(_logic_operand(xs), _logic_operand(ys))
        return [] if r is None else r

    return fn


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _xor(a: bool | None, b: bool | None) -> bool | None:
    return None if a is None or b is None else a != b


def _implies(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is True:
        return True
    return None if a is None or b is None else False


# --------------------------------------------------------------------------- precision


def _boundary(high: bool) -> Fn:
    def fn(ctx: Any, coll: list[Any], digits: Any = None) -> Any:
        if not coll:
            return []
        if len(coll) > 1:
            raise ValueError("boundary of more than one item")
        digits = None if digits == [] else digits
        v = get_data(coll[0])
        if isinstance(v, int | Decimal) and not isinstance(v, bool):
            r = tmp.decimal_boundary(v, digits, high)
            return [] if r is None else r
        q = quantity(coll[0])
        if q is not None:
            r = tmp.decimal_boundary(Decimal(str(q.value)), digits, high)
            return [] if r is None else FP_Quantity(r, q.unit)
        t = temporal(coll[0])
        if t is not None:
            b = tmp.boundary(t, digits, high)
            return [] if b is None else to_value(b)
        return []

    return fn


def _precision(ctx: Any, coll: list[Any]) -> Any:
    if len(coll) != 1:
        return []
    v = get_data(coll[0])
    if isinstance(v, Decimal | int) and not isinstance(v, bool):
        return tmp.decimal_places(v)
    t = temporal(coll[0])
    return [] if t is None else tmp.precision(t)


def _comparable(ctx: Any, coll: list[Any], other: list[Any]) -> Any:
    """comparable(q): whether two quantities' units can be compared (same dimension)."""
    a = quantity(coll[0]) if len(coll) == 1 else None
    b = quantity(other[0]) if len(other) == 1 else None
    if a is None or b is None:
        return []
    ra, rb = reduce(_ucum_unit(a)), reduce(_ucum_unit(b))
    return ra is not None and rb is not None and ra[1] == rb[1]


def _scoped(fn: Fn) -> Fn:
    """An iterating function that leaves ``$this``/``$index``/``$total`` as it found them: after
    ``where(...)``, a later argument's ``$this`` is again the outer one (§5.1), not the last item
    fhirpathpy iterated over."""

    def wrapped(ctx: Any, *args: Any) -> Any:
        saved = {k: ctx[k] for k in ("$this", "$index", "$total") if k in ctx}
        try:
            return fn(ctx, *args)
        finally:
            for k in ("$this", "$index", "$total"):
                if k in saved:
                    ctx[k] = saved[k]
                else:
                    ctx.pop(k, None)

    return wrapped


def _scoped_base(name: str) -> dict[str, Any]:
    return {**_BASE[name], "fn": _scoped(_BASE[name]["fn"])}


FUNCTIONS: dict[str, dict[str, Any]] = {
    **{name: _scoped_base(name) for name in ("where", "select", "all", "exists", "repeat", "aggregate")},
    "=": {"fn": _comparison("=", lambda c: c == 0), "arity": {2: ["Any", "Any"]}, "nullable": True},
    "!=": {"fn": _comparison("!=", lambda c: c != 0), "arity": {2: ["Any", "Any"]}, "nullable": True},
    "<": {"fn": _comparison("<", lambda c: c < 0), "arity": {2: ["Any", "Any"]}, "nullable": True},
    ">": {"fn": _comparison(">", lambda c: c > 0), "arity": {2: ["Any", "Any"]}, "nullable": True},
    "<=": {"fn": _comparison("<=", lambda c: c <= 0), "arity": {2: ["Any", "Any"]}, "nullable": True},
    ">=": {"fn": _comparison(">=", lambda c: c >= 0), "arity": {2: ["Any", "Any"]}, "nullable": True},
    "~": {"fn": _equivalence(False), "arity": {2: ["Any", "Any"]}},
    "!~": {"fn": _equivalence(True), "arity": {2: ["Any", "Any"]}},
    "+": {"fn": _arith("+"), "arity": {2: ["Any", "Any"]}, "nullable": True},
    "*": {"fn": _mul_div("*"), "arity": {2: ["Any", "Any"]}},
    "/": {"fn": _mul_div("/"), "arity": {2: ["Any", "Any"]}},
    "-": {"fn": _arith("-"), "arity": {2: ["Any", "Any"]}, "nullable": True},
    "startsWith": {"fn": _string_fn("startsWith", str.startswith), "arity": {1: [["String"]]}},
    "endsWith": {"fn": _string_fn("endsWith", str.endswith), "arity": {1: [["String"]]}},
    "contains": {"fn": _string_fn("contains", lambda s, sub: sub in s), "arity": {1: [["String"]]}},
    "matches": {"fn": _string_fn("matches", _matches), "arity": {1: [["String"]]}},
    "matchesFull": {"fn": _string_fn("matchesFull", _matches_full), "arity": {1: [["String"]]}},
    "replaceMatches": {
        "fn": _string_fn("replaceMatches", _replace_matches),
        "arity": {2: [["String"], ["String"]]},
    },
    "indexOf": {"fn": _string_fn("indexOf", _index_of), "arity": {1: [["String"]]}},
    "replace": {
        "fn": _string_fn("replace", lambda s, a, b: s.replace(a, b)),
        "arity": {2: [["String"], ["String"]]},
    },
    "escape": {"fn": _string_fn("escape", _escape), "arity": {1: ["String"]}},
    "unescape": {"fn": _string_fn("unescape", _unescape), "arity": {1: ["String"]}},
    "toString": {"fn": _to_string},
    "sort": {"fn": _scoped(_sort), "variadic": "Expr"},
    "single": {"fn": _single_fn},
    "now": {"fn": _clock("now", FP_DateTime)},
    "today": {"fn": _clock("today", FP_DateTime)},
    "timeOfDay": {"fn": _clock("timeOfDay", FP_Time)},
    "not": {"fn": _not_fn},
    "iif": {"fn": _scoped(_iif), "arity": {2: ["Expr", "Expr"], 3: ["Expr", "Expr", "Expr"]}},
    "round": {"fn": _round, "arity": {0: [], 1: ["Number"]}},
    "abs": {"fn": _abs},
    "lowBoundary": {"fn": _boundary(False), "arity": {0: [], 1: [["Integer"]]}},
    "highBoundary": {"fn": _boundary(True), "arity": {0: [], 1: [["Integer"]]}},
    "precision": {"fn": _precision},
    "toBoolean": {"fn": _to_bool},
    "convertsToBoolean": {"fn": _converts_to_bool},
    "and": {"fn": _logic(_and), "arity": {2: ["Any", "Any"]}},
    "or": {"fn": _logic(_or), "arity": {2: ["Any", "Any"]}},
    "xor": {"fn": _logic(_xor), "arity": {2: ["Any", "Any"]}},
    "implies": {"fn": _logic(_implies), "arity": {2: ["Any", "Any"]}},
    "comparable": {"fn": _comparable, "arity": {1: ["Any"]}},
}

# --------------------------------------------------------------------------- syntax tree
# Node types of our own, put in place of fhirpathpy's where the spec needs a different evaluation.
# fhirpathpy dispatches on node type through its evaluator table; we only add new names to it, so
# its own evaluation of other callers' expressions is unchanged.


def _decimal_literal(ctx: Any, parent: Any, node: dict[str, Any]) -> list[Any]:
    """``1.0`` is a Decimal (fhirpathpy makes it the Integer 1, so ``1.0.is(Decimal)`` was false)."""
    return [Decimal(node["text"])]


def _partial_datetime(ctx: Any, parent: Any, node: dict[str, Any]) -> list[Any]:
    """``@2015T``: a DateTime known to the year (or month, or day) only."""
    text = str(node["text"])[1:]
    value = FP_DateTime(text[:-1])
    value.asStr = text  # the trailing T keeps it a DateTime, not a Date
    return [value]


def _descending(ctx: Any, parent: Any, node: dict[str, Any]) -> list[Any]:
    from fhirpathpy.engine import do_eval

    return [Descending(do_eval(ctx, parent, node["children"][0]))]


def _polarity(ctx: Any, parent: Any, node: dict[str, Any]) -> list[Any]:
    """Unary minus also negates a Quantity (``-5.5 'mg'``)."""
    from fhirpathpy.engine import do_eval

    inner = do_eval(ctx, parent, node["children"][0])
    if len(inner) == 1 and isinstance(get_data(inner[0]), FP_Quantity):
        q = get_data(inner[0])
        sign = -1 if node["terminalNodeText"][0] == "-" else 1
        return [FP_Quantity(sign * Decimal(str(q.value)), q.unit)]
    return _ORIGINAL_POLARITY(ctx, parent, node)


def _member(ctx: Any, parent: Any, node: dict[str, Any]) -> list[Any]:
    """Member navigation without JSON ``null``s: in FHIR JSON a null only holds the place of a
    primitive whose extension sits at the same index of the ``_name`` array (§2.6.2), so
    ``given: [null, "James"]`` with an extension on the first is two items, not three."""
    out: list[Any] = _ORIGINAL_MEMBER(ctx, parent, node)
    if not any(isinstance(x, ResourceNode) and x.data is None for x in out):
        return out
    kept = [x for x in out if not (isinstance(x, ResourceNode) and x.data is None)]
    # fhirpathpy lists the values, then the extensions: put each back at its array index.
    rank: dict[str, int] = {}

    def key(x: Any) -> tuple[int, int]:
        name = x.propName or "" if isinstance(x, ResourceNode) else ""
        index = x.index if isinstance(x, ResourceNode) and x.index is not None else -1
        base = name.rsplit("[", 1)[0] if index >= 0 else name
        return (rank.setdefault(base, len(rank)), index)

    return sorted(kept, key=key)


def _install_evaluators() -> None:
    from fhirpathpy.engine.evaluators import evaluators

    evaluators.setdefault("VhrDecimalLiteral", _decimal_literal)
    evaluators.setdefault("VhrDescending", _descending)
    evaluators.setdefault("VhrPartialDateTime", _partial_datetime)
    evaluators.setdefault("VhrPolarity", _polarity)
    evaluators.setdefault("VhrMember", _member)


def _original(kind: str) -> Fn:
    from fhirpathpy.engine.evaluators import evaluators

    fn: Fn = evaluators[kind]
    return fn


_ORIGINAL_POLARITY = _original("PolarityExpression")
_ORIGINAL_MEMBER = _original("MemberInvocation")
_install_evaluators()


# Binary operators below ``is``/``as`` in FHIRPath's precedence table (§9.1: ``is``/``as`` bind
# tighter than ``|``, comparisons, equality, membership and the logical operators).
_BELOW_TYPE_OPS = frozenset(
    {
        "UnionExpression",
        "InequalityExpression",
        "EqualityExpression",
        "MembershipExpression",
        "AndExpression",
        "OrExpression",
        "XorExpression",
        "ImpliesExpression",
    }
)


def _fix_type_precedence(node: dict[str, Any]) -> None:
    """fhirpathpy parses ``1 | 1 is Integer`` as ``(1 | 1) is Integer``; the spec reads
    ``1 | (1 is Integer)``. Rotate the tree so the type operator takes the right operand only."""
    while node.get("type") == "TypeExpression":
        left = node["children"][0]
        if left.get("type") not in _BELOW_TYPE_OPS:
            return
        inner = dict(node)  # the type test, now applied to the lower operator's right operand
        inner["children"] = [left["children"][1], node["children"][1]]
        node.clear()
        node.update(left)
        node["children"] = [left["children"][0], inner]
        _fix_type_precedence(inner)
        node = inner


def rewrite(node: dict[str, Any], in_sort: bool = False) -> None:
    """Swap in our node types (in place) in a tree fresh from fhirpathpy's parser."""
    _fix_type_precedence(node)
    kind = node.get("type")
    if kind == "NumberLiteral" and "." in str(node.get("text", "")):
        node["type"] = "VhrDecimalLiteral"
    elif kind == "DateTimeLiteral" and str(node.get("text", "")).endswith("T"):
        node["type"] = "VhrPartialDateTime"
    elif kind == "TimeLiteral" and re.search(r"(Z|[+-]\d{2}:?\d{2})$", str(node.get("text", ""))):
        raise ValueError(f"a Time literal has no timezone: {node.get('text')}")
    elif kind == "MemberInvocation":
        node["type"] = "VhrMember"
    elif kind == "PolarityExpression":
        node["type"] = "VhrDescending" if in_sort and node["terminalNodeText"][0] == "-" else "VhrPolarity"
    children: list[Any] = node.get("children") or []
    if kind == "Functn" and len(children) == 2 and children[0].get("text") == "sort":
        for param in children[1].get("children") or ():
            if isinstance(param, dict):
                rewrite(param, in_sort=True)
        return
    for child in children:
        if isinstance(child, dict):
            rewrite(child)


__all__ = ["FUNCTIONS", "Descending", "FP_TimeBase", "quantity", "rewrite", "temporal"]
