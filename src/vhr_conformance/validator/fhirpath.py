"""Layer 4: invariants (``constraint`` in snapshots), and the FHIRPath engine they run on.

The engine (``compile_path``/``evaluate``) is fhirpathpy's parser and evaluator with our context,
function table and syntax-tree rewrites (types: fhirpath_types, functions: fhirpath_functions,
dates: fhirpath_temporal, units: fhirpath_ucum; docs/fhirpath.md). Added here: ``resolve()`` across
contained resources, Bundle entries, %resource and %rootResource, hasValue, htmlChecks, memberOf,
conformsTo, the FHIR environment variables, and the validator's dialect.

Each distinct expression is parsed once. An evaluation costs tens of microseconds, so the hottest
core invariants have an equivalent native implementation keyed by (key, expression): the native
function is used only when the snapshot carries exactly the expression it was written for. ele-1
is never evaluated: the structural layer checks "a value or children" directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fhirpathpy.engine import do_eval as fp_do_eval
from fhirpathpy.engine.invocations.constants import constants as fp_constants
from fhirpathpy.engine.nodes import FP_Type, ResourceNode
from fhirpathpy.engine.util import get_data, process_user_invocation_table
from fhirpathpy.models import models

from vhr_conformance.names import LOINC, SNOMED, UCUM
from vhr_conformance.validator.fhirpath_functions import FUNCTIONS, collapse, rewrite
from vhr_conformance.validator.fhirpath_types import TYPE_FUNCTIONS, qualified

SKIP_KEYS = frozenset({"ele-1"})


def seq(value: Any) -> list[Any] | tuple[()]:
    """The value when it is a JSON array, else nothing: instance data may hold any JSON type."""
    return value if isinstance(value, list) else ()


# FHIRPath gives an empty result when data is missing; the HL7 validator then fails the invariant.
EMPTY_PASSES = False
NativeFn = Callable[[Any, "EvalEnv"], bool]


class EvalEnv:
    """What an invariant may look at beyond its focus: %resource, %rootResource and helper hooks."""

    __slots__ = ("_places", "conforms", "member_of", "resolve", "resource", "root")

    def __init__(
        self,
        resource: dict[str, Any],
        root: dict[str, Any],
        member_of: Callable[[Any, str], bool | None] | None = None,
        resolve: Callable[[str], dict[str, Any] | None] | None = None,
        conforms: Callable[[Any, str], bool | None] | None = None,
    ) -> None:
        self.resource = resource
        self.root = root
        self.conforms = conforms
        self.member_of = member_of
        self.resolve = resolve
        self._places: dict[int, Place] | None = None

    def places(self) -> dict[int, Place]:
        """Where each JSON object under %rootResource (and %resource) sits, built on first use."""
        if self._places is None:
            self._places = {}
            _index_places(self.root, Place(None, None, None), self._places)
            if id(self.resource) not in self._places:
                _index_places(self.resource, Place(None, None, None), self._places)
        return self._places


@dataclass(slots=True, frozen=True)
class Place:
    """The resource an object belongs to, that resource's container (when it is contained) and the
    fullUrl of the Bundle entry that holds it (when in a Bundle)."""

    resource: dict[str, Any] | None
    container: dict[str, Any] | None
    full_url: str | None


def _index_places(node: Any, owner: Place, out: dict[int, Place], contained_in: Any = None) -> None:
    if isinstance(node, list):
        for v in node:
            if isinstance(v, dict | list):
                _index_places(v, owner, out, contained_in)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("resourceType"), str):
        place = Place(node, contained_in, owner.full_url)
        out[id(node)] = place
        for k, v in node.items():
            if isinstance(v, dict | list):
                _index_places(v, place, out, node if k == "contained" else None)
        return
    fu = node.get("fullUrl")
    place = (
        owner
        if not (isinstance(fu, str) and "resource" in node)
        else Place(owner.resource, owner.container, fu)
    )
    out[id(node)] = place
    for v in node.values():
        if isinstance(v, dict | list):
            _index_places(v, place, out)


@dataclass(slots=True, eq=False)
class Constraint:
    key: str
    severity: str
    human: str
    expression: str
    base: str
    native: NativeFn | None
    compiled: CompiledPath | None
    error: str | None  # why the expression cannot be evaluated (compile failure)
    best_practice: bool = False
    guards: tuple[Callable[[Any], bool], ...] = ()

    def evaluate(self, focus: Any, env: EvalEnv) -> bool:
        """True when satisfied. Raises :class:`FhirPathError` when the engine cannot evaluate it."""
        if self.native is not None:
            return self.native(focus, env)
        if self.guards and isinstance(focus, dict):
            for g in self.guards:
                if g(focus):
                    return True
        if self.compiled is None:
            raise FhirPathError(self.error or "cannot compile")
        # A resource goes in as plain JSON: its type comes from resourceType, and only then does a
        # leading type name (``Organization.endpoint``) select it rather than nothing.
        node = (
            focus
            if isinstance(focus, dict) and "resourceType" in focus
            else ResourceNode.create_node(focus, self.base)
        )
        result = self.compiled(node, env)
        if not result:
            return EMPTY_PASSES
        if len(result) == 1 and isinstance(result[0], bool):
            return result[0]
        return all(bool(r) for r in result)


class FhirPathError(Exception):
    """An expression the engine could not evaluate."""


_CURRENT_ENV: list[EvalEnv | None] = [None]


# --------------------------------------------------------------------------- added functions


def _has_value(coll: list[Any]) -> bool:
    return len(coll) == 1 and coll[0] is not None and not isinstance(coll[0], dict | list)


_SCRIPT_RE = re.compile(r"<\s*(script|form|base|link|xlink|input|frame|iframe|object|embed|applet)\b", re.I)
_EVENT_RE = re.compile(r"\son[a-z]+\s*=", re.I)


def html_ok(div: Any) -> bool:
    """The txt-1 rules in code: no active content, no event attributes, only the xhtml div."""
    if not isinstance(div, str):
        return True
    return _SCRIPT_RE.search(div) is None and _EVENT_RE.search(div) is None


def _html_checks(coll: list[Any]) -> bool:
    return all(html_ok(x) for x in coll)


def resolve_fn(ctx: Any, coll: list[Any]) -> list[Any]:
    """resolve() (FHIR §2.1.9.1.4): each Reference (or reference string) to the resource it names.

    ``#id`` names a resource contained in the resource that holds the reference (``#`` alone: that
    resource itself, or the container of a contained one), wherever the invariant's focus is, so a
    Bundle-level invariant reaches the contained resources of its entries. Other references go to
    the validator's resolver (Bundle entries; relative ones also against the entry's fullUrl)."""
    env = _CURRENT_ENV[0]
    out: list[Any] = []
    if env is None:
        return out
    for item in coll:
        data = get_data(item)
        ref = data.get("reference") if isinstance(data, dict) else data
        if not isinstance(ref, str) or not ref:
            continue
        place = env.places().get(id(data)) if isinstance(data, dict) else None
        hit = _resolve_ref(env, ref, place)
        if hit is not None:
            out.append(ResourceNode.create_node(hit))
    return out


def _resolve_ref(env: EvalEnv, ref: str, place: Place | None) -> dict[str, Any] | None:
    if ref.startswith("#"):
        if place is None or place.resource is None:  # a bare string: it belongs to %resource
            place = env.places().get(id(env.resource)) or Place(env.resource, None, None)
        host = place.container or place.resource or env.resource
        if ref == "#":
            return host
        for c in seq(host.get("contained")):
            if isinstance(c, dict) and c.get("id") == ref[1:]:
                return c
        return None
    if env.resolve is None:
        return None
    hit = env.resolve(ref)
    if hit is None and place is not None and place.full_url and "://" in place.full_url and "://" not in ref:
        m = re.match(r"(.*/)[A-Z][A-Za-z]+/[^/]+$", place.full_url)
        if m is not None:
            hit = env.resolve(m.group(1) + ref)
    return hit


def _member_of(coll: list[Any], vs: str) -> list[bool]:
    env = _CURRENT_ENV[0]
    if env is None or env.member_of is None or not coll:
        return []
    res = env.member_of(coll[0], vs)
    return [] if res is None else [res]


def _conforms_to(coll: list[Any], url: str) -> list[bool]:
    """conformsTo(url): the validator checks the focus against that profile (no errors = true)."""
    env = _CURRENT_ENV[0]
    if len(coll) != 1 or not isinstance(coll[0], dict) or env is None or env.conforms is None:
        return []
    res = env.conforms(coll[0], url)
    if res is None:
        raise FhirPathError(f"conformsTo: profile {url} is not loaded")
    return [res]


# Added functions that only need plain data (fhirpathpy's user-function convention).
_USER_FUNCTIONS: dict[str, dict[str, Any]] = {
    "hasValue": {"fn": _has_value},
    "htmlChecks": {"fn": _html_checks},
    "memberOf": {"fn": _member_of, "arity": {1: ["String"]}},
    "conformsTo": {"fn": _conforms_to, "arity": {1: ["String"]}},
}
_MODEL = models["r4"]
_TABLE: dict[str, Any] = {
    **process_user_invocation_table(_USER_FUNCTIONS),
    **FUNCTIONS,
    **TYPE_FUNCTIONS,
    "resolve": {"fn": resolve_fn},
}


def _string_test(name: str, op: Callable[[str, str], bool]) -> dict[str, Any]:
    """A string test as the HL7 validator evaluates it in invariants: false, not empty, when the
    input is not a single string; the argument must still be one string when given."""

    def fn(ctx: Any, coll: list[Any], arg: Any) -> Any:
        items = collapse(coll)
        value = get_data(items[0]) if len(items) == 1 else None
        if not isinstance(value, str) or not isinstance(arg, str):
            return False
        return op(value, arg)

    return {"fn": fn, "arity": {1: [["String"]]}}


_VALIDATOR_TABLE: dict[str, Any] = {
    **_TABLE,
    "startsWith": _string_test("startsWith", str.startswith),
    "endsWith": _string_test("endsWith", str.endswith),
    "contains": _string_test("contains", lambda s, sub: sub in s),
    "matches": _string_test("matches", lambda s, rx: re.search(rx, s, re.DOTALL) is not None),
}


def result_type(node: Any) -> str:
    """The FHIRPath type of one result item, qualified (``FHIR.date``, ``System.Integer``)."""
    return qualified(node)


# --------------------------------------------------------------------------- engine


class _Variables(dict[str, Any]):
    """Environment variables: the ones given, plus those FHIR defines by name pattern
    (``%sct``, ``%loinc``, ``%ucum``, ``%vs-[name]``, ``%ext-[name]``)."""

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or (isinstance(name, str) and _fhir_variable(name) is not None)

    def __missing__(self, name: str) -> Any:
        value = _fhir_variable(name)
        if value is None:
            raise KeyError(name)
        return value


def _fhir_variable(name: str) -> str | None:
    fixed = {
        "sct": SNOMED,
        "loinc": LOINC,
        "ucum": UCUM,
    }
    if name in fixed:
        return fixed[name]
    if name.startswith("vs-") and len(name) > 3:
        return "http://hl7.org/fhir/ValueSet/" + name[3:]
    if name.startswith("ext-") and len(name) > 4:
        return "http://hl7.org/fhir/StructureDefinition/" + name[4:]
    return None


def _plain(node: Any) -> Any:
    """A result node as plain data (what fhirpathpy's own evaluate returns)."""
    data = get_data(node)
    if isinstance(data, dict) and not isinstance(data, FP_Type):
        return {k: _plain_value(v) for k, v in data.items()}
    return data


def _plain_value(v: Any) -> Any:
    if isinstance(v, list):
        return [_plain_value(x) for x in v]
    return _plain(v)


class CompiledPath:
    """One parsed FHIRPath expression, evaluated with our function table and environment.

    fhirpathpy's own ``compile`` hands user functions plain data only; the type functions need the
    nodes (which carry the element's type), so evaluation builds the engine context here."""

    __slots__ = ("_table", "_tree", "expression")

    def __init__(self, expression: str, dialect: str = "spec") -> None:
        self.expression = expression
        self._table = _VALIDATOR_TABLE if dialect == "validator" else _TABLE
        tree = parse_strict(expression)
        try:
            self._tree = tree["children"][0]
            rewrite(self._tree)
        except Exception as exc:  # the parser raises bare Exceptions
            raise FhirPathError(f"{type(exc).__name__}: {exc}") from None

    def nodes(
        self, data: Any, env: EvalEnv | None = None, variables: dict[str, Any] | None = None
    ) -> list[Any]:
        """The result as engine nodes (typed), for callers that need FHIRPath types."""
        fp_constants.reset()
        root = data if isinstance(data, list) else ([] if data is None else [data])
        names = _Variables(context=data)
        if env is not None:
            names["resource"] = env.resource
            names["rootResource"] = env.root
        elif isinstance(data, dict):
            names["resource"] = names["rootResource"] = data
        if variables:
            names.update(variables)
        ctx: dict[str, Any] = {
            "dataRoot": root,
            "vars": names,
            "model": _MODEL,
            "userInvocationTable": self._table,
        }
        ctx["traceFn"] = _no_trace
        ctx["$this"] = root  # outside any function, $this is the input (FHIRPath §5.1)
        saved = _CURRENT_ENV[0]
        _CURRENT_ENV[0] = env
        try:
            out = fp_do_eval(ctx, root, self._tree)
        except FhirPathError:
            raise
        except RecursionError:
            raise
        except Exception as exc:  # fhirpathpy raises bare Exceptions
            raise FhirPathError(f"{type(exc).__name__}: {exc}") from None
        finally:
            _CURRENT_ENV[0] = saved
        return out if isinstance(out, list) else [out]

    def __call__(
        self, data: Any, env: EvalEnv | None = None, variables: dict[str, Any] | None = None
    ) -> list[Any]:
        """The result as plain values; extension-only placeholders of primitives are dropped."""
        return self.plain(self.nodes(data, env, variables))

    @staticmethod
    def plain(nodes: list[Any]) -> list[Any]:
        out = []
        for n in nodes:
            v = _plain(n)
            if isinstance(v, dict) and list(v) == ["extension"]:
                continue
            out.append(v)
        return out


_CACHE: dict[tuple[str, str], CompiledPath] = {}
_CACHE_MAX = 8192


def compile_path(expression: str, dialect: str = "spec") -> CompiledPath:
    """Parse once (strictly: a syntax error raises :class:`FhirPathError`), then reuse.

    ``dialect="validator"`` is the spec with one difference, the HL7 validator's: startsWith,
    endsWith, contains and matches give false (not empty) when the input is not one string, so
    that ``fullUrl.contains('/_history/').not()`` holds on an entry without fullUrl, as the
    reference validator judges it. Invariants are evaluated in that dialect."""
    hit = _CACHE.get((expression, dialect))
    if hit is None:
        if len(_CACHE) >= _CACHE_MAX:  # callers with open-ended expressions cannot grow it forever
            _CACHE.clear()
        hit = _CACHE[expression, dialect] = CompiledPath(expression, dialect)
    return hit


def evaluate(
    data: Any, expression: str, env: EvalEnv | None = None, variables: dict[str, Any] | None = None
) -> list[Any]:
    """Evaluate ``expression`` on ``data`` (a resource or element as JSON)."""
    return compile_path(expression)(data, env, variables)


def _no_trace(*args: Any) -> None:
    return None


# --------------------------------------------------------------------------- native invariants


def _ext_1(x: Any, env: EvalEnv) -> bool:
    has_ext = bool(x.get("extension"))
    has_val = any(k.startswith(("value", "_value")) for k in x)
    return has_ext != has_val


def _dom_2(x: Any, env: EvalEnv) -> bool:
    return not any(isinstance(c, dict) and c.get("contained") for c in seq(x.get("contained")))


def _dom_4(x: Any, env: EvalEnv) -> bool:
    for c in seq(x.get("contained")):
        meta = c.get("meta") if isinstance(c, dict) else None
        if isinstance(meta, dict) and ("versionId" in meta or "lastUpdated" in meta):
            return False
    return True


def _dom_5(x: Any, env: EvalEnv) -> bool:
    for c in seq(x.get("contained")):
        meta = c.get("meta") if isinstance(c, dict) else None
        if isinstance(meta, dict) and meta.get("security"):
            return False
    return True


def _dom_6(x: Any, env: EvalEnv) -> bool:
    text = x.get("text")
    return isinstance(text, dict) and "div" in text


def _collect_refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, str):
                if v.startswith("#") and k != "div":
                    out.add(v)
            else:
                _collect_refs(v, out)
    elif isinstance(node, list):
        for v in node:
            if isinstance(v, str):
                if v.startswith("#"):
                    out.add(v)
            else:
                _collect_refs(v, out)


def _dom_3(x: Any, env: EvalEnv) -> bool:
    contained = seq(x.get("contained"))
    if not contained:
        return True
    refs: set[str] = set()
    _collect_refs(x, refs)
    for c in contained:
        if not isinstance(c, dict):
            continue
        cid = c.get("id")
        if "#" + str(cid) in refs:
            continue
        inner: set[str] = set()
        _collect_refs(c, inner)
        if "#" in inner:
            continue
        return False
    return True


def _per_1(x: Any, env: EvalEnv) -> bool:
    s, e = x.get("start"), x.get("end")
    if not isinstance(s, str) or not isinstance(e, str):
        return True
    return compare_datetimes(s, e) is not False


def _ref_2(x: Any, env: EvalEnv) -> bool:
    return bool(x.get("reference") or x.get("identifier") or x.get("display") or x.get("extension"))


def _qty_3(x: Any, env: EvalEnv) -> bool:
    return "code" not in x or "system" in x


def _rng_2(x: Any, env: EvalEnv) -> bool:
    lo, hi = x.get("low"), x.get("high")
    if not isinstance(lo, dict) or not isinstance(hi, dict):
        return True
    a, b = lo.get("value"), hi.get("value")
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return a <= b
    return True


def _cpt_2(x: Any, env: EvalEnv) -> bool:
    return "value" not in x or "system" in x


def _att_1(x: Any, env: EvalEnv) -> bool:
    return "data" not in x or "contentType" in x


def _txt_1(x: Any, env: EvalEnv) -> bool:
    return html_ok(x)


def _txt_2(x: Any, env: EvalEnv) -> bool:
    div = x if isinstance(x, str) else None
    if div is None:
        return True
    return bool(re.sub(r"<[^>]*>", "", div).strip()) or "<img" in div


def _sqty_1(x: Any, env: EvalEnv) -> bool:
    return "comparator" not in x


def _obs_6(x: Any, env: EvalEnv) -> bool:
    return "dataAbsentReason" not in x or not any(k.startswith("value") for k in x)


def _obs_7(x: Any, env: EvalEnv) -> bool:
    comps = x.get("component")
    code = x.get("code")
    if not comps or not isinstance(code, dict):
        return True
    own = {(c.get("system"), c.get("code")) for c in seq(code.get("coding")) if isinstance(c, dict)}
    for comp in comps:
        cc = comp.get("code") if isinstance(comp, dict) else None
        if isinstance(cc, dict):
            for c in seq(cc.get("coding")):
                if isinstance(c, dict) and (c.get("system"), c.get("code")) in own:
                    return False
    return True


def _obs_3(x: Any, env: EvalEnv) -> bool:
    return bool(x.get("low") or x.get("high") or x.get("text"))


_DT_RE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def compare_datetimes(a: str, b: str) -> bool | None:
    """a <= b at their shared precision; None when precision makes it undecidable (FHIRPath empty)."""
    ma, mb = _DT_RE.match(a), _DT_RE.match(b)
    if not ma or not mb:
        return None
    ta, tb = ma.groups(), mb.groups()
    if (ta[7] is None) != (tb[7] is None) and ta[3] and tb[3]:
        # different timezone presence: compare naively on the date part
        ta, tb = ta[:3] + (None,) * 5, tb[:3] + (None,) * 5
    if ta[3] and tb[3] and ta[7] and tb[7] and ta[7] != tb[7]:
        import datetime as dt

        def _to(t: tuple[Any, ...]) -> dt.datetime:
            tz = (
                dt.UTC
                if t[7] == "Z"
                else dt.timezone(
                    (1 if t[7][0] == "+" else -1) * dt.timedelta(hours=int(t[7][1:3]), minutes=int(t[7][4:6]))
                )
            )
            return dt.datetime(
                int(t[0]), int(t[1]), int(t[2]), int(t[3]), int(t[4]), int(t[5] or 0), tzinfo=tz
            )

        try:
            return _to(ta) <= _to(tb)
        except ValueError:
            return None
    for i in range(7):
        x, y = ta[i], tb[i]
        if x is None or y is None:
            if x is None and y is None:
                return True
            return None
        if i == 6:
            x, y = float("0." + x), float("0." + y)
        else:
            x, y = int(x), int(y)
        if x != y:
            return x < y
    return True


_CONDITION_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def _con_5(x: Any, env: EvalEnv) -> bool:
    vs = x.get("verificationStatus")
    if not isinstance(vs, dict) or "clinicalStatus" not in x:
        return True
    return not any(
        isinstance(c, dict) and c.get("system") == _CONDITION_VER and c.get("code") == "entered-in-error"
        for c in seq(vs.get("coding"))
    )


def _not_home(x: Any, env: EvalEnv) -> bool:
    return not (isinstance(x, dict) and x.get("use") == "home")


def _org_1(x: Any, env: EvalEnv) -> bool:
    return bool(x.get("identifier") or x.get("name") or x.get("_name"))


def _vs_1(x: Any, env: EvalEnv) -> bool:
    return not isinstance(x, str) or len(x) >= 8


def _drt_1(x: Any, env: EvalEnv) -> bool:
    if "code" not in x:
        return True
    return x.get("system") == UCUM and "value" in x


def _entries(x: Any) -> list[dict[str, Any]]:
    return [e for e in seq(x.get("entry")) if isinstance(e, dict)]


def _bdl_2(x: Any, env: EvalEnv) -> bool:
    return x.get("type") == "searchset" or not any("search" in e for e in _entries(x))


def _bdl_3(x: Any, env: EvalEnv) -> bool:
    want = x.get("type") in ("batch", "transaction", "history")
    return all(("request" in e) == want for e in _entries(x))


def _bdl_4(x: Any, env: EvalEnv) -> bool:
    want = x.get("type") in ("batch-response", "transaction-response", "history")
    return all(("response" in e) == want for e in _entries(x))


def _bdl_7(x: Any, env: EvalEnv) -> bool:
    if x.get("type") == "history":
        return True
    keys = []
    for e in _entries(x):
        fu = e.get("fullUrl")
        if fu is None:
            continue
        res = e.get("resource")
        meta = res.get("meta") if isinstance(res, dict) else None
        vid = meta.get("versionId") if isinstance(meta, dict) else None
        keys.append(f"{fu}{vid if isinstance(vid, str) else ''}")
    return len(keys) == len(set(keys))


def _bdl_8(x: Any, env: EvalEnv) -> bool:
    fu = x.get("fullUrl")
    return not (isinstance(fu, str) and "/_history/" in fu)


def _present_key(x: dict[str, Any], name: str) -> bool:
    """The element is there (a value, or only an extension in ``_name``)."""
    return name in x or ("_" + name) in x


def _age_1(x: Any, env: EvalEnv) -> bool:
    v = x.get("value")
    number = isinstance(v, int | float) and not isinstance(v, bool)
    if "value" in x and not number and not isinstance(v, dict):
        return True  # a malformed value: the structural layer reports it, not this invariant
    value_empty = not _present_key(x, "value")
    code_ok = _present_key(x, "code") or value_empty
    system_ok = not _present_key(x, "system") or x.get("system") == UCUM
    return code_ok and system_ok and (value_empty or not number or v > 0)


_AIT_VER = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
_CON_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def _codings(x: Any, name: str) -> list[dict[str, Any]]:
    cc = x.get(name)
    return [c for c in seq(cc.get("coding")) if isinstance(c, dict)] if isinstance(cc, dict) else []


def _ait_entered_in_error(x: Any) -> bool:
    return any(
        c.get("system") == _AIT_VER and c.get("code") == "entered-in-error"
        for c in _codings(x, "verificationStatus")
    )


def _ait_1(x: Any, env: EvalEnv) -> bool:
    return _ait_entered_in_error(x) or _present_key(x, "clinicalStatus")


def _ait_2(x: Any, env: EvalEnv) -> bool:
    return not _ait_entered_in_error(x) or not _present_key(x, "clinicalStatus")


def _con_4(x: Any, env: EvalEnv) -> bool:
    if not any(k.startswith("abatement") and k[9:10].isupper() for k in x) and not any(
        k.startswith("_abatement") for k in x
    ):
        return True
    return any(
        c.get("system") == _CON_CLINICAL and c.get("code") in ("resolved", "remission", "inactive")
        for c in _codings(x, "clinicalStatus")
    )


NATIVE: dict[tuple[str, str], NativeFn] = {
    (
        "age-1",
        "(code.exists() or value.empty()) and (system.empty() or system = %ucum) and (value.empty() or value.hasValue().not() or value > 0)",
    ): _age_1,
    (
        "ait-1",
        "verificationStatus.coding.where(system = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification' and code = 'entered-in-error').exists() or clinicalStatus.exists()",
    ): _ait_1,
    (
        "ait-2",
        "verificationStatus.coding.where(system = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification' and code = 'entered-in-error').empty() or clinicalStatus.empty()",
    ): _ait_2,
    (
        "con-4",
        "abatement.empty() or clinicalStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-clinical' and (code='resolved' or code='remission' or code='inactive')).exists()",
    ): _con_4,
    ("bdl-2", "entry.search.empty() or (type = 'searchset')"): _bdl_2,
    (
        "bdl-3",
        "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))",
    ): _bdl_3,
    (
        "bdl-4",
        "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))",
    ): _bdl_4,
    (
        "bdl-7",
        "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()",
    ): _bdl_7,
    ("bdl-8", "fullUrl.contains('/_history/').not()"): _bdl_8,
    ("drt-1", "code.exists() implies ((system = %ucum) and value.exists())"): _drt_1,
    (
        "con-5",
        "verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-ver-status' and code='entered-in-error').empty() or clinicalStatus.empty()",
    ): _con_5,
    ("org-1", "(identifier.count() + name.count()) > 0"): _org_1,
    ("org-2", "where(use = 'home').empty()"): _not_home,
    ("org-3", "where(use = 'home').empty()"): _not_home,
    ("vs-1", "($this as dateTime).toString().length() >= 8"): _vs_1,
    ("ext-1", "extension.exists() != value.exists()"): _ext_1,
    ("dom-2", "contained.contained.empty()"): _dom_2,
    (
        "dom-3",
        "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()",
    ): _dom_3,
    ("dom-4", "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()"): _dom_4,
    ("dom-5", "contained.meta.security.empty()"): _dom_5,
    ("dom-6", "text.`div`.exists()"): _dom_6,
    ("per-1", "start.hasValue().not() or end.hasValue().not() or (start <= end)"): _per_1,
    (
        "ref-1",
        "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))",
    ): lambda x, env: _ref_1(x, env),
    ("qty-3", "code.empty() or system.exists()"): _qty_3,
    ("rng-2", "low.empty() or high.empty() or (low <= high)"): _rng_2,
    ("cpt-2", "value.empty() or system.exists()"): _cpt_2,
    ("att-1", "data.empty() or contentType.exists()"): _att_1,
    ("txt-1", "htmlChecks()"): _txt_1,
    ("txt-2", "htmlChecks()"): _txt_2,
    ("sqty-1", "comparator.empty()"): _sqty_1,
    ("obs-6", "dataAbsentReason.empty() or value.empty()"): _obs_6,
    (
        "obs-7",
        "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()",
    ): _obs_7,
    ("obs-3", "low.exists() or high.exists() or text.exists()"): _obs_3,
}


def _ref_1(x: Any, env: EvalEnv) -> bool:
    ref = x.get("reference")
    if not isinstance(ref, str) or not ref.startswith("#"):
        return True
    if ref == "#":
        return True
    ids = {c.get("id") for c in seq(env.root.get("contained")) if isinstance(c, dict)}
    return ref[1:] in ids


# --------------------------------------------------------------------------- guards
# A guard is a cheap test on the focus that proves the invariant true without evaluating it:
# a top-level disjunct ``x.empty()`` with x absent, ``x.exists()`` with x present, or an
# ``implies`` whose antecedent is a conjunction with a conjunct that is visibly false.

_IDENT = r"([a-z][A-Za-z0-9]*)"  # an element name: a capitalised leading name is a type filter
_EMPTY_PATH = re.compile(_IDENT + r"(?:\.[A-Za-z][A-Za-z0-9]*|\.where\((?:[^()]|\([^()]*\))*\))*\.empty\(\)")
_EXISTS_CHILD = re.compile(_IDENT + r"\.exists\(\)")
_EXISTS_PATH = re.compile(_IDENT + r"(?:\.[A-Za-z][A-Za-z0-9]*)*\.exists\(\)")
_EQ_LITERAL = re.compile(_IDENT + r" = '([^']*)'")


def _split_top(expr: str, op: str) -> list[str]:
    """Split at ``op`` (with spaces) where not inside parentheses or quotes."""
    parts: list[str] = []
    depth = 0
    quote = False
    start = 0
    i = 0
    token = f" {op} "
    while i < len(expr):
        ch = expr[i]
        if ch == "'" and (i == 0 or expr[i - 1] != "\\"):
            quote = not quote
        elif not quote:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif depth == 0 and expr.startswith(token, i):
                parts.append(expr[start:i])
                i += len(token)
                start = i
                continue
        i += 1
    parts.append(expr[start:])
    return [p.strip() for p in parts]


def _strip_parens(expr: str) -> str:
    expr = expr.strip()
    while expr.startswith("(") and expr.endswith(")") and len(_split_top(expr[1:-1], "or")) >= 1:
        depth = 0
        for i, ch in enumerate(expr):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and i < len(expr) - 1:
                return expr
        expr = expr[1:-1].strip()
    return expr


def _present(name: str) -> Callable[[dict[str, Any]], bool]:
    def present(x: dict[str, Any]) -> bool:
        if name in x or ("_" + name) in x:
            return True
        n = len(name)
        return any(k.startswith(name) and k[n : n + 1].isupper() for k in x)

    return present


def _absent(present: Callable[[dict[str, Any]], bool]) -> Callable[[Any], bool]:
    return lambda x: not present(x)


def _differs(name: str, lit: str) -> Callable[[Any], bool]:
    return lambda x: x.get(name) != lit and not isinstance(x.get(name), list)


def _guards(expr: str) -> tuple[Callable[[Any], bool], ...]:
    out: list[Callable[[Any], bool]] = []
    for d in _split_top(expr, "or"):
        d = _strip_parens(d)
        if len(_split_top(d, "and")) > 1 or len(_split_top(d, "xor")) > 1:
            continue
        m = _EMPTY_PATH.fullmatch(d)
        if m and "(" not in m.group(1):
            out.append(_absent(_present(m.group(1))))
            continue
        m = _EXISTS_CHILD.fullmatch(d)
        if m:
            out.append(_present(m.group(1)))
            continue
        imp = _split_top(d, "implies")
        if len(imp) == 2:
            for cons in _split_top(_strip_parens(imp[1]), "or"):
                m = _EXISTS_CHILD.fullmatch(_strip_parens(cons))
                if m:
                    out.append(_present(m.group(1)))
            for conj in _split_top(_strip_parens(imp[0]), "and"):
                conj = _strip_parens(conj)
                m = _EXISTS_PATH.fullmatch(conj)
                if m:
                    out.append(_absent(_present(m.group(1))))
                    continue
                m = _EMPTY_PATH.fullmatch(conj)
                if m and conj.count(".") == 1:
                    out.append(_present(m.group(1)))
                    continue
                m = _EQ_LITERAL.fullmatch(conj)
                if m:
                    out.append(_differs(m.group(1), m.group(2)))
    return tuple(out)


class _RaisingListener:
    """ANTLR error listener that turns the first syntax error into an exception."""

    def syntaxError(self, recognizer: Any, offending: Any, line: int, column: int, msg: str, e: Any) -> None:
        raise FhirPathError(f"syntax error at {line}:{column}: {msg}")

    def reportAmbiguity(self, *args: Any) -> None:
        return None

    def reportAttemptingFullContext(self, *args: Any) -> None:
        return None

    def reportContextSensitivity(self, *args: Any) -> None:
        return None


class _Tokens:
    """The lexer's tokens, with ``@2015T`` / ``@2015-02T`` / ``@2015-02-04T`` read as one DateTime
    literal (FHIRPath §4.1.3: a DateTime may stop at any precision; fhirpathpy's DATETIME rule
    stops before a T without a time, leaving an identifier ``T`` behind)."""

    def __init__(self, lexer: Any) -> None:
        self.lexer = lexer
        self.pending: Any = None

    def nextToken(self) -> Any:  # ANTLR's TokenSource protocol
        from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer

        tok = self.pending if self.pending is not None else self.lexer.nextToken()
        self.pending = None
        if tok.type == FHIRPathLexer.DATETIME and "T" not in tok.text:
            nxt = self.lexer.nextToken()
            if nxt.type == FHIRPathLexer.IDENTIFIER and nxt.text == "T" and nxt.start == tok.stop + 1:
                tok.text, tok.stop = tok.text + "T", nxt.stop
            else:
                self.pending = nxt
        return tok

    def __getattr__(self, name: str) -> Any:
        return getattr(self.lexer, name)


def parse_strict(expr: str) -> dict[str, Any]:
    """fhirpathpy's syntax tree of ``expr``, parsed once; a syntax error raises (fhirpathpy's own
    parser silently recovers from them)."""
    from antlr4 import CommonTokenStream, InputStream, Token  # type: ignore[import-untyped]
    from antlr4.tree.Tree import ParseTreeWalker  # type: ignore[import-untyped]
    from fhirpathpy.parser.ASTPathListener import ASTPathListener
    from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
    from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

    lexer = FHIRPathLexer(InputStream(expr))
    lexer.removeErrorListeners()
    lexer.addErrorListener(_RaisingListener())
    parser = FHIRPathParser(CommonTokenStream(_Tokens(lexer)))
    parser.removeErrorListeners()
    parser.addErrorListener(_RaisingListener())
    parser.buildParseTrees = True
    tree = parser.expression()
    if parser.getCurrentToken().type != Token.EOF:
        raise FhirPathError(f"unexpected text after expression at {parser.getCurrentToken().column}")
    listener = ASTPathListener()
    ParseTreeWalker().walk(listener, tree)
    root: dict[str, Any] = listener.parentStack[0]
    return root


def syntax_check(expr: str) -> None:
    """Raise :class:`FhirPathError` when ``expr`` is not valid FHIRPath syntax."""
    parse_strict(expr)


_IMPLIES_MATCHES = re.compile(r"([a-zA-Z]+) = '([^']*)' implies ([a-zA-Z]+)\.matches\('((?:[^'\\]|\\.)*)'\)")


_NOT_FUTURE = re.compile(r"([a-zA-Z]+)\.exists\(\) implies \1 <= today\(\)")
_PERIOD_ORDER = re.compile(
    r"\(([a-zA-Z]+)\.start\.exists\(\) and \1\.end\.exists\(\)\) implies \1\.end >= \1\.start"
)


def _pattern_native(expr: str) -> NativeFn | None:
    """Compile common invariant shapes to Python (same answers as FHIRPath, empty counting as false):
    ``a = 'lit' implies b.matches('re')``, ``x.exists() implies x <= today()`` and
    ``(p.start.exists() and p.end.exists()) implies p.end >= p.start``."""
    m = _NOT_FUTURE.fullmatch(expr)
    if m is not None:
        name = m.group(1)

        def not_future(x: Any, env: EvalEnv) -> bool:
            v = x.get(name) if isinstance(x, dict) else None
            if not isinstance(v, str):
                return True
            import datetime as dt

            return compare_datetimes(v[:10] if "T" in v else v, dt.date.today().isoformat()) is True

        return not_future
    m = _PERIOD_ORDER.fullmatch(expr)
    if m is not None:
        pname = m.group(1)

        def ordered(x: Any, env: EvalEnv) -> bool:
            p = x.get(pname) if isinstance(x, dict) else None
            if (
                not isinstance(p, dict)
                or not isinstance(p.get("start"), str)
                or not isinstance(p.get("end"), str)
            ):
                return True
            return compare_datetimes(p["start"], p["end"]) is True

        return ordered
    m = _IMPLIES_MATCHES.fullmatch(expr)
    if m is None:
        return None
    field_a, literal, field_b, pattern = m.groups()
    try:
        rx = re.compile(pattern.replace("\\'", "'"))
    except re.error:
        return None

    def check(x: Any, env: EvalEnv) -> bool:
        if not isinstance(x, dict) or x.get(field_a) != literal:
            return True
        v = x.get(field_b)
        return isinstance(v, str) and rx.search(v) is not None  # no value: empty, which fails

    return check


# Core 4.0.1 expressions that contradict their own human text (published errata; the HL7
# validator evaluates the corrected form too).
ERRATA = {
    ("que-12", "enableWhen.count() > 2 implies enableBehavior.exists()"): (
        "enableWhen.count() > 1 implies enableBehavior.exists()"
    ),
}


class ConstraintCompiler:
    """Compiles constraint definitions once, sharing compiled expressions across elements."""

    def __init__(self) -> None:
        self._compiled: dict[str, tuple[Any, str | None]] = {}

    def compile_one(self, c: dict[str, Any], base: str) -> Constraint | None:
        key = c.get("key", "")
        expr = c.get("expression")
        if key in SKIP_KEYS or not expr:
            return None
        expr = ERRATA.get((key, expr), expr)
        best = any(
            e.get("url") == "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice"
            and e.get("valueBoolean")
            for e in c.get("extension", ())
        )
        native = NATIVE.get((key, expr)) or _pattern_native(expr)
        compiled: Any = None
        error: str | None = None
        if native is None:
            hit = self._compiled.get(expr)
            if hit is None:
                try:
                    hit = (compile_path(expr, "validator"), None)
                except Exception as exc:  # parser errors are plain Exceptions
                    hit = (None, f"{type(exc).__name__}: {exc}")
                self._compiled[expr] = hit
            compiled, error = hit
        return Constraint(
            key,
            c.get("severity", "error"),
            c.get("human", ""),
            expr,
            base,
            native,
            compiled,
            error,
            best,
            _guards(expr) if native is None else (),
        )

    def compile_all(self, defs: Any, base: str) -> tuple[Constraint, ...]:
        out = []
        for c in defs or ():
            k = self.compile_one(c, base)
            if k is not None:
                out.append(k)
        return tuple(out)
