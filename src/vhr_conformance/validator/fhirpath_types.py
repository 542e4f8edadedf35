"""The FHIRPath type system on FHIR data: ``is``, ``as``, ``ofType`` and ``type()``.

FHIRPath (N1 §6.3, §10) has two namespaces: ``System`` (Boolean, String, Integer, Decimal, Date,
DateTime, Time, Quantity) for literals and computed values, and the model's, ``FHIR`` (resources,
data types, and the FHIR primitives ``boolean``, ``string``, ``code``...), for data read from a
resource. A type name without a namespace is looked up in the model first, then in System. A value
is of a type when it is that type or a subtype of it (``Patient`` is a ``DomainResource`` is a
``Resource``; ``code`` is a ``string``; ``Age`` is a ``Quantity``).

fhirpathpy types a node from the path it was reached by, so a resource that did not come through a
path (the input itself, a ``resolve()`` result, a Bundle entry's resource given as plain JSON) is an
untyped ``System.Object`` there: ``subject.resolve() is Patient`` was false on valid data. Here a JSON
object carrying ``resourceType`` is always of that resource type, wherever it came from.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fhirpathpy.engine.nodes import FP_DateTime, FP_Quantity, FP_Time, ResourceNode
from fhirpathpy.models import models

_MODEL = models["r4"]
_PARENT: dict[str, str] = _MODEL["type2Parent"]
# FHIR.boolean and System.Boolean are distinct types (the spec keeps the namespaces apart).
SYSTEM_TYPES = frozenset(
    {"Any", "Boolean", "String", "Integer", "Decimal", "Date", "DateTime", "Time", "Quantity"}
)
FHIR_TYPES = frozenset(_PARENT) | frozenset(_PARENT.values())

Type = tuple[str, str]  # (namespace, name)


def _system_of_value(value: Any) -> Type:
    if isinstance(value, bool):
        return ("System", "Boolean")
    if isinstance(value, int):
        return ("System", "Integer")
    if isinstance(value, Decimal | float):
        return ("System", "Decimal")
    if isinstance(value, str):
        return ("System", "String")
    if isinstance(value, FP_Time):
        return ("System", "Time")
    if isinstance(value, FP_DateTime):
        # One class holds both: a Date literal has no time part.
        return ("System", "DateTime" if "T" in str(getattr(value, "asStr", value)) else "Date")
    if isinstance(value, FP_Quantity):
        return ("System", "Quantity")
    if isinstance(value, dict):
        rt = value.get("resourceType")
        if isinstance(rt, str):
            return ("FHIR", rt)
        if set(value) == {"name", "namespace"}:
            return ("System", "SimpleTypeInfo")  # what type() itself returns
    return ("System", "Any")


def type_of(item: Any) -> Type:
    """The (namespace, name) of one collection item."""
    if isinstance(item, ResourceNode):
        data = item.data
        if isinstance(data, dict):
            rt = data.get("resourceType")
            if isinstance(rt, str):
                return ("FHIR", rt)
        path = item.path
        if not path:
            return _system_of_value(data)
        if path.startswith("System."):
            return ("System", path[7:])
        if "." not in path:
            return ("FHIR", path)
        return ("FHIR", "BackboneElement")
    return _system_of_value(item)


def _lookup(spec: Any) -> list[Type]:
    """Where a type specifier may point: qualified, or unqualified (model first, then System)."""
    name = getattr(spec, "name", None)
    namespace = getattr(spec, "namespace", None)
    if isinstance(spec, str):
        namespace, _, name = spec.rpartition(".")
        namespace = namespace or None
    if not isinstance(name, str):
        return []
    name = name.strip("`")
    if namespace:  # a qualified name that does not exist simply matches nothing
        return [(namespace, name)]
    out: list[Type] = []
    if name in FHIR_TYPES:
        out.append(("FHIR", name))
    if name in SYSTEM_TYPES:
        out.append(("System", name))
    if not out:
        raise ValueError(f"unknown type: {name}")
    return out


def is_a(actual: Type, wanted: Type) -> bool:
    """``actual`` is ``wanted`` or one of its subtypes."""
    ns, name = actual
    if ns != wanted[0]:
        return False
    if ns == "System":
        return name == wanted[1] or wanted[1] == "Any"
    seen = 0
    cur: str | None = name
    while cur and seen < 32:
        if cur == wanted[1]:
            return True
        cur = _PARENT.get(cur)
        seen += 1
    return False


def conforms(item: Any, spec: Any, exact_primitives: bool = False) -> bool:
    """``item is spec``. With ``exact_primitives`` (``as``/``ofType``), a FHIR primitive must be of
    exactly the named type: the official suite has ``Patient.gender.is(string)`` true but
    ``Patient.gender.as(string)`` empty (code specialises string; as/ofType do not cross that)."""
    actual = type_of(item)
    wanted = _lookup(spec)
    if exact_primitives and actual[0] == "FHIR" and actual[1][:1].islower():
        return actual in wanted
    return any(is_a(actual, w) for w in wanted)


def _singleton(coll: list[Any], op: str) -> Any | None:
    if not coll:
        return None
    if len(coll) > 1:
        raise ValueError(f"'{op}' expects a single item, got {len(coll)}")
    return coll[0]


def is_fn(ctx: Any, coll: list[Any], spec: Any) -> list[bool]:
    item = _singleton(coll, "is")
    return [] if item is None else [conforms(item, spec)]


def as_fn(ctx: Any, coll: list[Any], spec: Any) -> list[Any]:
    item = _singleton(coll, "as")
    return [item] if item is not None and conforms(item, spec, exact_primitives=True) else []


def of_type_fn(ctx: Any, coll: list[Any], spec: Any) -> list[Any]:
    _lookup(spec)  # an unknown type is an error even on an empty input
    return [x for x in coll if conforms(x, spec, exact_primitives=True)]


def type_fn(ctx: Any, coll: list[Any]) -> list[dict[str, str]]:
    """type(): a SimpleTypeInfo (namespace, name) per item (FHIRPath §10.2)."""
    return [dict(zip(("namespace", "name"), type_of(x), strict=True)) for x in coll]


def qualified(item: Any) -> str:
    ns, name = type_of(item)
    return f"{ns}.{name}"


# Entries for the engine's function table: these get the engine nodes, not plain data.
TYPE_FUNCTIONS: dict[str, dict[str, Any]] = {
    "is": {"fn": is_fn, "arity": {1: ["TypeSpecifier"]}},
    "as": {"fn": as_fn, "arity": {1: ["TypeSpecifier"]}},
    "isOp": {"fn": is_fn, "arity": {2: ["Any", "TypeSpecifier"]}},
    "asOp": {"fn": as_fn, "arity": {2: ["Any", "TypeSpecifier"]}},
    "ofType": {"fn": of_type_fn, "arity": {1: ["TypeSpecifier"]}},
    "type": {"fn": type_fn, "arity": {0: []}},
}

__all__ = ["TYPE_FUNCTIONS", "conforms", "is_a", "qualified", "type_of"]
