"""Compile StructureDefinitions into trees of fast element checkers.

A snapshot is walked once per type, never per resource: each type becomes a :class:`TypeDef` whose
``elems`` map a JSON key (``valueQuantity``, ``birthDate``) straight to an :class:`Elem` holding its
cardinality, type, precompiled primitive check, binding, reference targets and constraints.
Types compile lazily on first use, so a validator only pays for what it meets.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vhr_conformance.i18n import Text
from vhr_conformance.validator.values import SD_BASE, json_kind, parse_max, type_code

if TYPE_CHECKING:
    from vhr_conformance.validator.fhirpath import Constraint, ConstraintCompiler

REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/regex"


# --------------------------------------------------------------------------- primitive types


@dataclass(slots=True)
class Prim:
    """A primitive type: the JSON kind it must have and a precompiled value check."""

    name: str
    kind: str  # str | bool | int | num
    regex: re.Pattern[str] | None
    extra: Callable[[Any], Text | None] | None = None

    def check(self, value: Any) -> Text | None:
        """Return a message when ``value`` is not a valid JSON representation of this type."""
        kind = self.kind
        if kind == "str":
            if not isinstance(value, str):
                return _WRONG_JSON.format(type=self.name, want="string", got=json_kind(value))
            if not value:
                return _EMPTY_STRING
            # isprintable() is C-fast and true for nearly every value; only then is the regex needed
            if not value.isprintable() and self.name != "xhtml" and _CONTROL.search(value) is not None:
                return _control_message(value)
        elif kind == "bool":
            if not isinstance(value, bool):
                return _WRONG_JSON.format(type=self.name, want="boolean", got=json_kind(value))
            return None
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                return _WRONG_JSON.format(type=self.name, want="integer", got=json_kind(value))
        elif kind == "num":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return _WRONG_JSON.format(type=self.name, want="number", got=json_kind(value))
            return None
        if self.regex is not None and kind == "str" and self.regex.fullmatch(value) is None:
            return _BAD_FORMAT.format(type=self.name, value=_short(value))
        if self.extra is not None:
            return self.extra(value)
        return None


def _short(value: Any, n: int = 60) -> str:
    s = str(value)
    return s if len(s) <= n else s[: n - 1] + "…"


_WRONG_JSON = Text(
    "Kiểu JSON sai cho {type}: cần {want}, nhận {got}.",
    "Wrong JSON type for {type}: expected {want}, found {got}.",
)
_EMPTY_STRING = Text(
    "Giá trị chuỗi rỗng không được phép (FHIR cấm chuỗi rỗng).",
    "Empty string values are not allowed (FHIR forbids empty strings).",
)
_BAD_FORMAT = Text(
    "Giá trị '{value}' không đúng định dạng {type}.",
    "Value '{value}' is not a valid {type}.",
)


# Below U+0020 only tab, line feed and carriage return may appear in FHIR text (R4 datatypes, string)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# A string of whitespace only would be trimmed to nothing: the spec says strings SHOULD have content.
# This exact object marks the finding as a warning (engine), never an invalid value.
WHITESPACE_ONLY = Text(
    "Chuỗi chỉ gồm khoảng trắng; chuỗi FHIR nên có nội dung khác khoảng trắng.",
    "The string is whitespace only; FHIR strings should contain non-whitespace content.",
)
_OID = re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+")
_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _control_message(value: str) -> Text:
    m = _CONTROL.search(value)
    assert m is not None
    return Text(
        "Chuỗi chứa ký tự điều khiển U+{cp:04X} tại vị trí {at} (FHIR chỉ cho phép tab, CR, LF dưới U+0020).",
        "The string contains the control character U+{cp:04X} at position {at} "
        "(below U+0020 FHIR allows only tab, CR and LF).",
    ).format(cp=ord(m.group()), at=m.start() + 1)


def _uri_checks(value: Any) -> Text | None:
    """``urn:oid:`` and ``urn:uuid:`` URIs must be a valid OID or a lowercase UUID (the spec's oid/uuid types)."""
    base = value
    if value[:1] in "uU" and value[:4].lower() == "urn:":
        if value[4:8].lower() == "oid:" and _OID.fullmatch(base) is None:
            return Text(
                "'{v}' bắt đầu bằng urn:oid: nhưng không phải OID hợp lệ.",
                "'{v}' starts with urn:oid: but is not a valid OID.",
            ).format(v=_short(value))
        if value[4:9].lower() == "uuid:" and _UUID.fullmatch(base) is None:
            return Text(
                "'{v}' bắt đầu bằng urn:uuid: nhưng không phải UUID hợp lệ viết thường.",
                "'{v}' starts with urn:uuid: but is not a valid lowercase UUID.",
            ).format(v=_short(value))
    return None


def _canonical_checks(value: Any) -> Text | None:
    """A canonical is a URI with an optional ``|version``; the URI part follows the uri rules."""
    return _uri_checks(value.split("|", 1)[0])


def _valid_calendar(value: str) -> Text | None:
    """Regexes accept 2023-02-30; a real calendar does not."""
    if len(value) >= 10:
        try:
            _dt.date(int(value[0:4]), int(value[5:7]), int(value[8:10]))
        except ValueError:
            return Text("Ngày '{v}' không tồn tại.", "Date '{v}' does not exist.").format(v=_short(value))
    return None


def _int_range(lo: int, name: str) -> Callable[[Any], Text | None]:
    def check(value: Any) -> Text | None:
        if value < lo or value > 2147483647:
            return Text(
                "Giá trị {v} nằm ngoài miền của {t}.", "Value {v} is outside the range of {t}."
            ).format(v=value, t=name)
        return None

    return check


def _base64(value: Any) -> Text | None:
    compact = "".join(value.split())
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return _BAD_FORMAT.format(type="base64Binary", value=_short(value))
    return None


def _string_checks(value: Any) -> Text | None:
    if len(value) > 1048576:
        return Text("Chuỗi dài quá 1 MB.", "String is longer than 1 MB.")
    if value[0].isspace() and value.isspace():
        return WHITESPACE_ONLY
    return None


XHTML_NS = "http://www.w3.org/1999/xhtml"
# The HTML 4 formatting subset FHIR narrative allows (no scripts, forms, frames, objects or styles).
XHTML_ELEMENTS = frozenset(
    [
        "p",
        "br",
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "a",
        "span",
        "b",
        "em",
        "i",
        "strong",
        "small",
        "big",
        "tt",
        "dfn",
        "q",
        "var",
        "abbr",
        "acronym",
        "cite",
        "blockquote",
        "hr",
        "address",
        "bdo",
        "kbd",
        "sub",
        "sup",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "pre",
        "table",
        "caption",
        "colgroup",
        "col",
        "thead",
        "tr",
        "tfoot",
        "tbody",
        "th",
        "td",
        "code",
        "samp",
        "img",
        "map",
        "area",
    ]
)


def _xhtml(value: Any) -> Text | None:
    """Narrative div: well-formed XHTML, a root div, allowed elements only, no event attributes."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(value)
    except ElementTree.ParseError as exc:
        return Text("XHTML không hợp lệ: {e}", "Invalid XHTML: {e}").format(e=exc)
    if root.tag != f"{{{XHTML_NS}}}div":
        return Text(
            "Phần tử gốc của narrative phải là <div> trong namespace XHTML.",
            "The narrative root must be a <div> in the XHTML namespace.",
        )
    for el in root.iter():
        tag = el.tag
        name = tag.split("}", 1)[1] if isinstance(tag, str) and tag.startswith("{") else tag
        if not isinstance(name, str) or name not in XHTML_ELEMENTS:
            return Text(
                "Tên phần tử không được phép trong XHTML: '{n}'.",
                "Element name not allowed in the XHTML: '{n}'.",
            ).format(n=name)
        for attr in el.attrib:
            if attr.lower().startswith("on"):
                return Text(
                    "Thuộc tính sự kiện không được phép trong XHTML: '{a}'.",
                    "Event attribute not allowed in the XHTML: '{a}'.",
                ).format(a=attr)
    return None


# Python-safe replacements for spec regexes that backtrack badly or that we check in code.
_REGEX_OVERRIDE: dict[str, str | None] = {
    "string": None,
    "markdown": None,
    "base64Binary": None,
    "xhtml": None,
    "code": r"[^\s]+( [^\s]+)*",
    "uri": r"\S*",
    "url": r"\S*",
    "canonical": r"\S*",
}
_KIND = {"boolean": "bool", "integer": "int", "positiveInt": "int", "unsignedInt": "int", "decimal": "num"}
_EXTRA: dict[str, Callable[[Any], Text | None]] = {
    "date": _valid_calendar,
    "dateTime": _valid_calendar,
    "instant": _valid_calendar,
    "integer": _int_range(-2147483648, "integer"),
    "positiveInt": _int_range(1, "positiveInt"),
    "unsignedInt": _int_range(0, "unsignedInt"),
    "base64Binary": _base64,
    "string": _string_checks,
    "markdown": _string_checks,
    "xhtml": _xhtml,
    "uri": _uri_checks,
    "url": _uri_checks,
    "canonical": _canonical_checks,
}


# --------------------------------------------------------------------------- element model


@dataclass(slots=True)
class Binding:
    strength: str
    value_set: str | None


@dataclass(slots=True, eq=False)
class Elem:
    """One JSON key of a type: everything needed to check its values without the snapshot."""

    name: str
    path: str
    min: int
    max: int | None
    array: bool
    type: str
    prim: Prim | None
    inline: TypeDef | None  # backbone element or contentReference
    choice: str | None
    constraints: tuple[Constraint, ...]
    binding: Binding | None
    targets: frozenset[str] | None
    modifier: bool = False
    simple: bool = False  # a primitive whose only check is its format: validated inline by the walker
    td: TypeDef | None = None  # resolved complex type (cached by the walker)
    merged: tuple[Constraint, ...] | None = None  # element + type constraints, de-duplicated by key
    is_resource: bool = False

    def __post_init__(self) -> None:
        b = self.binding
        coded = (
            b is not None
            and self.prim is not None
            and self.prim.name == "code"
            and b.strength in ("required", "extensible")
        )
        # a canonical with target types is looked up after its format check (engine)
        targeted = self.targets is not None and self.prim is not None and self.prim.name == "canonical"
        self.simple = self.prim is not None and not self.constraints and not coded and not targeted
        self.is_resource = self.type in ("Resource", "DomainResource")


@dataclass(slots=True, eq=False)
class TypeDef:
    """A compiled complex type, resource or backbone element."""

    name: str
    path: str
    kind: str
    elems: dict[str, Elem] = field(default_factory=dict)
    required: list[tuple[str, int, tuple[str, ...]]] = field(default_factory=list)
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    constraints: tuple[Constraint, ...] = ()
    maxes: list[Elem] = field(default_factory=list)
    abstract: bool = False
    url: str = ""


class Schema:
    """All base types of a package set, compiled lazily."""

    def __init__(self, packages: Any, constraints: ConstraintCompiler) -> None:
        self.packages = packages
        self.cc = constraints
        self.types: dict[str, TypeDef] = {}
        self.prims: dict[str, Prim] = {}
        self.lock = threading.RLock()
        self._compiling: set[str] = set()
        self._sd_by_type: dict[str, str] = {}  # type name -> canonical URL of its base definition
        self.resource_types: set[str] = set()
        self.profile_types: dict[str, str] = {}  # any SD url -> its type
        for _pkg, entry in packages.entries("StructureDefinition"):
            if entry.url:
                self.profile_types[entry.url] = entry.type or ""
        for url, typ in list(self.profile_types.items()):
            if url == SD_BASE + typ:
                self._sd_by_type[typ] = url
        self.base_urls = frozenset(self._sd_by_type.values())
        for _pkg, entry in packages.entries("StructureDefinition"):
            if entry.kind == "resource" and entry.url == SD_BASE + (entry.type or ""):
                self.resource_types.add(entry.type or "")

    def is_base_type(self, name: str) -> bool:
        """Whether the packages define type ``name`` by a base StructureDefinition (``SD_BASE`` + name)."""
        return name in self._sd_by_type

    def base_elem(self, path: str) -> Elem | None:
        """The compiled base element for an ElementDefinition ``base.path`` (e.g. ``Identifier.type``)."""
        segs = path.split(".")
        td = self.type(segs[0])
        for seg in segs[1:-1]:
            if td is None:
                return None
            e = td.elems.get(seg)
            td = e.inline if e is not None else None
        if td is None or len(segs) < 2:
            return None
        last = segs[-1]
        e = td.elems.get(last)
        if e is not None:
            return e
        if last.endswith("[x]"):
            return next((x for x in td.elems.values() if x.path == path), None)
        return None

    # -- primitives
    def prim(self, name: str) -> Prim | None:
        p = self.prims.get(name)
        if p is not None:
            return p
        url = self._sd_by_type.get(name)
        sd = self.packages.get(url) if url else None
        if sd is None or sd.get("kind") != "primitive-type":
            return None
        regex: str | None = None
        for e in sd.get("snapshot", {}).get("element", ()):
            if e.get("path") == f"{name}.value":
                for t in e.get("type", ()):
                    for ext in t.get("extension", ()):
                        if ext.get("url") == REGEX_EXT:
                            regex = ext.get("valueString")
        if name in _REGEX_OVERRIDE:
            regex = _REGEX_OVERRIDE[name]
        # Java regex semantics: \s is ASCII whitespace only (a no-break space is not whitespace)
        p = Prim(
            name, _KIND.get(name, "str"), re.compile(regex, re.ASCII) if regex else None, _EXTRA.get(name)
        )
        self.prims[name] = p
        return p

    def is_primitive(self, name: str) -> bool:
        return self.prim(name) is not None

    # -- complex types and resources
    def type(self, name: str) -> TypeDef | None:
        td = self.types.get(name)
        if td is not None and name not in self._compiling:
            return td
        with self.lock:  # compile once; other threads wait instead of seeing a half-built TypeDef
            td = self.types.get(name)
            if td is not None:
                return td
            return self._compile_type(name)

    def _compile_type(self, name: str) -> TypeDef | None:
        url = self._sd_by_type.get(name)
        if url is None:
            return None
        sd = self.packages.get(url)
        if sd is None or sd.get("kind") in ("primitive-type", "logical"):
            return None
        td = self.compile_sd(sd)
        return td

    def compile_sd(self, sd: dict[str, Any]) -> TypeDef:
        """Compile one specialization StructureDefinition into its TypeDef tree."""
        elements = sd.get("snapshot", {}).get("element", [])
        sd_kind = sd.get("kind", "")
        sd_type = sd.get("type", "")
        by_parent: dict[str, list[dict[str, Any]]] = {}
        for e in elements:
            p = e["path"]
            if "." in p and ":" not in e.get("id", ""):
                by_parent.setdefault(p.rsplit(".", 1)[0], []).append(e)
        root = elements[0] if elements else {"path": sd_type}
        td = TypeDef(sd_type, sd_type, sd_kind, abstract=bool(sd.get("abstract")), url=sd.get("url", ""))
        self.types[sd_type] = td  # registered before children compile: recursive types
        self._compiling.add(sd_type)
        try:
            inline: dict[str, TypeDef] = {sd_type: td}
            pending_refs: list[tuple[Elem, str]] = []
            self._fill(td, root, by_parent, sd_kind, sd_type, inline, pending_refs, is_root=True)
            for elem, ref in pending_refs:
                elem.inline = inline.get(ref)
        finally:
            self._compiling.discard(sd_type)
        return td

    def _fill(
        self,
        td: TypeDef,
        el: dict[str, Any],
        by_parent: dict[str, list[dict[str, Any]]],
        sd_kind: str,
        sd_type: str,
        inline: dict[str, TypeDef],
        pending: list[tuple[Elem, str]],
        is_root: bool = False,
    ) -> None:
        td.constraints = self.cc.compile_all(el.get("constraint", ()), td.path)
        for child in by_parent.get(el["path"], ()):
            path = child["path"]
            short = path.rsplit(".", 1)[1]
            mn = int(child.get("min", 0))
            mx = parse_max(child.get("max"))
            base_max = (child.get("base") or {}).get("max", child.get("max"))
            array = base_max != "1" and base_max != "0"
            if mx == 0:
                continue  # prohibited in the base: treat as unknown
            binding = None
            b = child.get("binding")
            if b and b.get("strength"):
                binding = Binding(b["strength"], b.get("valueSet"))
            types = child.get("type") or []
            cref = child.get("contentReference")
            constraints = self.cc.compile_all(child.get("constraint", ()), path)
            modifier = bool(child.get("isModifier"))
            if short.endswith("[x]"):
                base = short[:-3]
                keys = []
                for t in types:
                    code = type_code(t, path, sd_kind, sd_type)
                    key = base + code[0].upper() + code[1:]
                    keys.append(key)
                    td.elems[key] = Elem(
                        key,
                        path,
                        mn,
                        mx,
                        False,
                        code,
                        self.prim(code),
                        None,
                        base,
                        constraints,
                        binding,
                        self._targets(t),
                        modifier,
                    )
                td.choices[base] = tuple(keys)
                if mn > 0:
                    td.required.append((base, mn, tuple(keys)))
                continue
            if cref:
                elem = Elem(
                    short,
                    path,
                    mn,
                    mx,
                    array,
                    "BackboneElement",
                    None,
                    None,
                    None,
                    (),
                    binding,
                    None,
                    modifier,
                )
                pending.append((elem, cref.lstrip("#").split("#")[-1]))
            elif len(types) > 1:  # only in odd logical models; take the first
                code = type_code(types[0], path, sd_kind, sd_type)
                elem = Elem(
                    short,
                    path,
                    mn,
                    mx,
                    array,
                    code,
                    self.prim(code),
                    None,
                    None,
                    constraints,
                    binding,
                    None,
                    modifier,
                )
            else:
                code = type_code(types[0], path, sd_kind, sd_type) if types else "Element"
                if code in ("BackboneElement", "Element") and by_parent.get(path):
                    sub = TypeDef(code, path, "backbone")
                    inline[path] = sub
                    self._fill(sub, child, by_parent, sd_kind, sd_type, inline, pending)
                    elem = Elem(
                        short, path, mn, mx, array, code, None, sub, None, (), binding, None, modifier
                    )
                else:
                    elem = Elem(
                        short,
                        path,
                        mn,
                        mx,
                        array,
                        code,
                        self.prim(code),
                        None,
                        None,
                        constraints,
                        binding,
                        self._targets(types[0]) if types else None,
                        modifier,
                    )
            td.elems[short] = elem
            if mn > 0:
                td.required.append((short, mn, (short,)))
            if mx is not None and array:
                td.maxes.append(elem)

    def _targets(self, t: dict[str, Any]) -> frozenset[str] | None:
        """Resource types a Reference or canonical may point at (None: any)."""
        if t.get("code") not in ("Reference", "canonical"):
            return None
        profs = t.get("targetProfile") or []
        out = set()
        for p in profs:
            typ = self.profile_types.get(p.split("|")[0])
            if typ is None or typ in ("Resource", "DomainResource"):
                return None
            out.add(typ)
        return frozenset(out) if out else None
