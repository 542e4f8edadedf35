"""Static checks of a FHIRPath expression against the FHIR R4 model, before any data is seen.

FHIRPath lets an engine report *semantic* errors when it knows the model (FHIRPath §6.3 and
"Type safety and strict evaluation" §10): a path that names no element of its input's type, a
leading type name that cannot be the context's type, ordered functions (``skip``, ``first``, an
indexer...) on the unordered results of ``children()``/``descendants()`` (FHIRPath §5.8). FHIRPath
on FHIR R4 also names a choice element by its base name only (``value``, not ``valueQuantity``;
FHIR §2.1.9.1.1: the type-suffixed names are not FHIRPath names).

``check`` infers the possible types of each step from fhirpathpy's R4 model tables; where a type
cannot be known (after ``resolve()``, on ``%variables``, after most functions) it stops checking,
so it only reports what is certainly wrong. Evaluation itself stays lenient (the validator runs
the expressions authors wrote); this module serves callers that want the strict verdict.
"""

from __future__ import annotations

from typing import Any

from fhirpathpy.models import models

from vhr_conformance.validator.fhirpath import FhirPathError, parse_strict

_MODEL = models["r4"]
_PATH2TYPE: dict[str, str] = _MODEL["path2Type"]
_CHOICES: dict[str, list[str]] = _MODEL["choiceTypePaths"]
_ELSEWHERE: dict[str, str] = _MODEL["pathsDefinedElsewhere"]
_PARENT: dict[str, str] = _MODEL["type2Parent"]
_BACKBONES = frozenset(
    k.rsplit(".", i)[0] for k in _PATH2TYPE for i in range(1, k.count(".")) if k.count(".") > 1
)
_OPEN = frozenset({"Resource", "DomainResource"})  # a contained/entry resource may be any type
_ORDERED = frozenset({"skip", "take", "first", "last", "tail"})
_KEEPS_TYPE = frozenset({"where", "first", "last", "single", "tail", "skip", "take", "distinct", "trace"})
_ITERATING = frozenset({"where", "select", "all", "exists", "repeat"})

Types = frozenset[str] | None  # None: unknown, nothing is checked from here


class _Checker:
    def __init__(self, strict: bool, ordered: bool) -> None:
        self.strict = strict
        self.ordered = ordered

    def child(self, owner: str, name: str) -> frozenset[str]:
        """The types of element ``name`` of type ``owner``; empty when there is no such element."""
        cur: str | None = owner
        seen = 0
        while cur and seen < 16:
            path = f"{cur}.{name}"
            path = _ELSEWHERE.get(path, path)
            if path in _PATH2TYPE:
                return frozenset({_PATH2TYPE[path]})
            if path in _CHOICES:
                return frozenset(_PATH2TYPE.get(path + c, c) for c in _CHOICES[path])
            if path in _BACKBONES:
                return frozenset({path})
            cur = _PARENT.get(cur) or ("BackboneElement" if cur in _BACKBONES else None)
            seen += 1
        return frozenset()

    def member(self, types: Types, name: str, at_root: bool) -> Types:
        if types is None:
            return None
        if at_root and name[:1].isupper() and (name in _PARENT or name in _OPEN):
            hits = frozenset(t for t in types if _is_a(t, name) or _is_a(name, t))
            if not hits and self.strict:
                raise FhirPathError(f"the context is {', '.join(sorted(types))}, never {name}")
            return frozenset({name}) if hits else None
        out: set[str] = set()
        for t in types:
            if t in _OPEN or t.startswith("System.") or (t not in _PARENT and t not in _BACKBONES):
                return None  # a type whose elements are not known here
            base = _choice_base(t, name)
            if base is not None:  # fhirpathpy's tables list valueQuantity too: not a FHIRPath name
                raise FhirPathError(f"{t}.{name}: a choice element is named {base} in FHIRPath")
            out |= self.child(t, name)
        if not out:  # on none of the types the input may have (a choice: any of its types)
            if self.strict:
                raise FhirPathError(f"{' | '.join(sorted(types))} has no element {name}")
            return None
        return frozenset(out)

    def infer(self, node: dict[str, Any], types: Types, this: Types, root: bool) -> tuple[Types, bool]:
        """(types of the result, whether its order is defined) for ``node`` applied to ``types``."""
        kind = node.get("type")
        children = [c for c in node.get("children") or () if isinstance(c, dict)]
        if kind in ("TermExpression", "InvocationTerm", "ParenthesizedTerm") and children:
            return self.infer(children[0], types, this, root)
        if kind == "MemberInvocation":
            name = str(children[0].get("text", "")).strip("`")
            return self.member(types, name, root), True
        if kind == "ThisInvocation":
            return this, True
        if kind == "InvocationExpression" and len(children) == 2:
            left, ordered = self.infer(children[0], types, this, root)
            right, ordered2 = self.infer(children[1], left, this, False)
            fn = _function_name(children[1])
            if fn in _ORDERED and not ordered and self.ordered:
                raise FhirPathError(f"{fn}() needs an ordered input; children()/descendants() are unordered")
            return right, (ordered and ordered2) if fn not in _KEEPS_TYPE else ordered
        if kind == "FunctionInvocation":
            return self.function(children[0], types, this)
        if kind == "IndexerExpression" and len(children) == 2:
            coll, ordered = self.infer(children[0], types, this, root)
            self.infer(children[1], this, this, True)
            if not ordered and self.ordered:
                raise FhirPathError("an indexer needs an ordered input")
            return coll, ordered
        if kind == "TypeExpression" and len(children) == 2:
            self.infer(children[0], types, this, root)
            if node.get("terminalNodeText", [""])[0] == "as":
                return _type_named(children[1]), True
            return None, True
        for c in children:  # operators, literals: check the operands, the result is not typed here
            self.infer(c, types, this, root)
        return None, True

    def function(self, functn: dict[str, Any], types: Types, this: Types) -> tuple[Types, bool]:
        parts = [c for c in functn.get("children") or () if isinstance(c, dict)]
        name = str(parts[0].get("text", "")) if parts else ""
        params = (
            [p for p in (parts[1].get("children") or ()) if isinstance(p, dict)] if len(parts) > 1 else []
        )
        result: Types = None
        for p in params:
            if name in _ITERATING:
                r, _ = self.infer(p, types, types, True)
                if name == "select":
                    result = r
            elif name not in ("ofType", "as", "is"):
                self.infer(p, this, this, True)
        if name in _KEEPS_TYPE or name in ("where",):
            return types, True
        if name == "select":
            return result, True
        if name in ("ofType", "as") and params:
            return _type_named(params[0]), True
        if name == "extension":
            return frozenset({"Extension"}), True
        if name in ("children", "descendants"):
            return None, False
        return None, True


def _function_name(node: dict[str, Any]) -> str | None:
    if node.get("type") != "FunctionInvocation":
        return None
    functn = node["children"][0]
    ident = functn.get("children", [{}])[0]
    return str(ident.get("text", "")) if isinstance(ident, dict) else None


def _type_named(node: dict[str, Any]) -> Types:
    text = str(node.get("text") or "").strip("`")
    if not text:
        for c in node.get("children") or ():
            if isinstance(c, dict):
                return _type_named(c)
        return None
    ns, _, name = text.rpartition(".")
    if ns == "System":
        return None
    return frozenset({name}) if name in _PARENT else None


def _is_a(t: str, ancestor: str) -> bool:
    cur: str | None = t
    while cur:
        if cur == ancestor:
            return True
        cur = _PARENT.get(cur)
    return False


def _choice_base(owner: str, name: str) -> str | None:
    """``valueQuantity`` on a type whose ``value`` is a choice: the base name, else None."""
    for i in range(1, len(name)):
        if name[i].isupper():
            base = name[:i]
            path = f"{owner}.{base}"
            if path in _CHOICES and name[i:] in _CHOICES[path]:
                return base
    return None


def check(expression: str, context: str | None, *, strict: bool = False, ordered: bool = False) -> None:
    """Raise :class:`FhirPathError` when ``expression``, evaluated on a ``context`` (a resource or
    data type name), is certainly wrong for the model. ``strict`` adds unknown element names and
    impossible leading type names; ``ordered`` adds ordered functions on unordered collections."""
    tree = parse_strict(expression)["children"][0]
    types: Types = frozenset({context}) if context else None
    _Checker(strict, ordered).infer(tree, types, types, True)
