"""The validation engine: one pass over the instance drives every layer.

The walk visits each JSON node once, looks its key up in the compiled :class:`TypeDef`, and runs
only the checks that apply there (primitive format, cardinality, invariants, bindings, type hooks).
Profiles (layer 3) are separate compiled trees applied after the base walk of a resource.

The layers are modules of their own, built over the narrow :class:`~.run.Context` (the compiled
definitions) and reporting into the :class:`~.run.Run` of the call: ``invariants``, ``bindings``
(terminology), ``references``, ``profiles``, ``questionnaire``, ``definitions``, ``semantics`` and
``vnrules``. This module only drives them: data-type hooks and resource-type checks are tables.
"""

from __future__ import annotations

import base64
import binascii
import functools
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from vhr_conformance.i18n import Text
from vhr_conformance.validator import semantics, vnrules
from vhr_conformance.validator.bindings import check_binding, check_coding, member_of
from vhr_conformance.validator.definitions import DefinitionChecker
from vhr_conformance.validator.fhirpath import ConstraintCompiler, EvalEnv, seq
from vhr_conformance.validator.invariants import check_invariants
from vhr_conformance.validator.issues import Issue
from vhr_conformance.validator.jsonlayer import parse_json
from vhr_conformance.validator.messages import M
from vhr_conformance.validator.policy import DEFAULT_POLICY, Policy
from vhr_conformance.validator.positions import SourceMap
from vhr_conformance.validator.profiles import ProfileCompiler
from vhr_conformance.validator.questionnaire import QuestionnaireChecker
from vhr_conformance.validator.references import References, bundle_canonicals, bundle_resolver
from vhr_conformance.validator.run import ALL_LAYERS, STRUCTURE_ONLY, Context, Run
from vhr_conformance.validator.schema import WHITESPACE_ONLY, Elem, Schema, TypeDef
from vhr_conformance.validator.terminology import Terminology
from vhr_conformance.validator.values import json_kind

if TYPE_CHECKING:
    from vhr_conformance.fhirpkg import PackageSet

__all__ = ["ALL_LAYERS", "STRUCTURE_ONLY", "Run", "Validator"]

_CONTAINER_KEYS = frozenset({"contained"})

# A data-type hook runs on every value of its type (by TypeDef path); a resource-type check once a
# resource of its type has been walked. Each is switched on by the layer it belongs to (None: always).
Hook = Callable[[dict[str, Any], str, Run, Elem | None], None]
ResourceCheck = Callable[[dict[str, Any], str, Run, tuple[str, ...]], None]  # … explicit profiles


def _without_profiles(check: Callable[[dict[str, Any], str, Run], None]) -> ResourceCheck:
    """A resource check that does not care which profiles the caller asked for."""
    return lambda obj, loc, run, _explicit: check(obj, loc, run)


class Validator:
    """Compiled validator for a package set: compile once, validate many (thread-safe reads)."""

    _default: Validator | None = None
    _default_lock = threading.Lock()

    def __init__(self, packages: PackageSet) -> None:
        self.packages = packages
        self.cc = ConstraintCompiler()
        self.schema = Schema(packages, self.cc)
        self.terminology = Terminology(packages)
        self.ctx = Context(packages, self.schema, self.terminology, self.cc)
        self.profiles = ProfileCompiler(self.ctx)
        self.questionnaires = QuestionnaireChecker(self.ctx)
        self.definitions = DefinitionChecker(self.ctx, self.profiles)
        self.references = References(self.ctx)
        self._member_of = functools.partial(member_of, self.terminology)
        self._hooks: dict[str, tuple[str | None, Hook]] = {
            "Coding": ("terminology", self._hook_coding),
            "Reference": (None, self.references.check_reference),
            "Extension": (None, self.profiles.check_extension),
            "Address": ("vn", self._hook_address),
            "Attachment": (None, self._hook_attachment),
            "Bundle.entry": (None, self.references.check_entry),
            "Bundle": (None, self.references.check_links),
        }
        self._type_checks: dict[str, tuple[tuple[str, ResourceCheck], ...]] = {
            "Observation": (("profiles", self._vital_signs),),
            "StructureDefinition": (("profiles", _without_profiles(self.definitions.check)),),
            "MeasureReport": (
                ("profiles", _without_profiles(functools.partial(semantics.check_measure_report, self.ctx))),
            ),
            "SearchParameter": (
                (
                    "profiles",
                    _without_profiles(functools.partial(semantics.check_search_parameter, self.ctx)),
                ),
            ),
            "QuestionnaireResponse": (("profiles", _without_profiles(self.questionnaires.check)),),
            # references met anywhere inside the Bundle, resolved against its entries
            "Bundle": (("references", self._bundle_references),),
        }
        self._globals: dict[str, tuple[str, ...]] | None = None
        self._element_td: TypeDef | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def for_packages(cls, packages: PackageSet) -> Validator:
        return cls(packages)

    @classmethod
    def default(cls) -> Validator:
        """Core + VHR IG (core only while the IG package is absent), compiled once per process."""
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls(_default_packages())
            return cls._default

    # ------------------------------------------------------------------ public API
    def validate(
        self,
        resource: dict[str, Any] | bytes | bytearray | str,
        profiles: Iterable[str] | None = None,
        *,
        layers: frozenset[str] = ALL_LAYERS,
        policy: Policy | None = None,
        best_practice: bool | None = None,
        suppress: Iterable[str] | None = None,
        display: str | None = None,
    ) -> list[Issue]:
        """Validate one resource (dict or raw JSON); ``profiles`` are canonical URLs to check too.

        ``policy`` (or its fields ``best_practice``, ``suppress``, ``display`` given one by one) sets
        the severity policy; the default is :data:`DEFAULT_POLICY` (HL7's defaults).
        """
        pol = policy or DEFAULT_POLICY
        if best_practice is not None or suppress is not None or display is not None:
            pol = Policy(
                pol.best_practice if best_practice is None else best_practice,
                pol.suppress if suppress is None else frozenset(suppress),
                pol.display if display is None else display,
            )
        run = Run(layers, policy=pol)
        issues = self._validate(resource, profiles, run)
        if pol.suppress:
            issues = [i for i in issues if not pol.suppressed(i.rule)]
        return issues

    def _validate(
        self, resource: dict[str, Any] | bytes | bytearray | str, profiles: Iterable[str] | None, run: Run
    ) -> list[Issue]:
        if isinstance(resource, dict):
            value: Any = resource
        else:
            value, issues = parse_json(resource)
            run.issues.extend(issues)
            if value is None:
                return run.issues
            found = self._walk(value, profiles, run)
            if found:  # positions are computed only if somebody reads them (Issue.position)
                smap = SourceMap(resource if isinstance(resource, str) else bytes(resource))
                found = [i.placed(smap) for i in found]
            return found
        return self._walk(value, profiles, run)

    def _walk(self, value: Any, profiles: Iterable[str] | None, run: Run) -> list[Issue]:
        if not isinstance(value, dict):
            run.add("fatal", "structure", "", "not-object", M["not-object"])
            return run.issues
        rt = value.get("resourceType")
        root = rt if isinstance(rt, str) and rt else "Resource"
        try:
            self._resource(value, root, run, None, tuple(profiles or ()))
        except RecursionError:
            run.add(
                "fatal",
                "structure",
                root,
                "too-deep",
                Text("Tài nguyên lồng quá sâu.", "Resource is nested too deeply."),
            )
        # The same finding reached by two routes (base and profile, two slices) is reported once.
        return list(dict.fromkeys(run.issues)) if len(run.issues) > 1 else run.issues

    # ------------------------------------------------------------------ walk
    def _resource(
        self, obj: Any, loc: str, run: Run, container: dict[str, Any] | None, explicit: tuple[str, ...] = ()
    ) -> None:
        if not isinstance(obj, dict):
            run.add("error", "structure", loc, "not-object", M["not-object"])
            return
        rt = obj.get("resourceType")
        if not isinstance(rt, str) or not rt:
            run.add("error", "required", loc, "resourceType-missing", M["resourceType-missing"])
            return
        td = self.schema.type(rt) if rt in self.schema.resource_types else None
        if td is None:
            run.add(
                "error", "structure", loc, "resourceType-unknown", M["resourceType-unknown"].format(rt=rt)
            )
            return
        if td.abstract:
            run.add(
                "error", "structure", loc, "resourceType-abstract", M["resourceType-abstract"].format(rt=rt)
            )
            return
        if "_id" in obj:
            run.add("error", "structure", f"{loc}._id", "resource-id-extension", M["resource-id-extension"])
        saved_env = run.env
        run.env = EvalEnv(
            obj,
            container if container is not None else obj,
            self._member_of,
            saved_env.resolve if saved_env is not None else None,  # resolve() inside a Bundle's entries
            lambda v, url: self._conforms(v, url, run),
        )
        saved_bundle = run.in_bundle
        saved_canonicals = run.canonicals
        saved_refs = run.refs
        if rt == "Bundle":  # a scope of its own: resolve(), canonicals and references met inside
            run.in_bundle = True
            run.env.resolve = bundle_resolver(obj)
            run.canonicals = {**saved_canonicals, **bundle_canonicals(obj)}
            run.refs = []
        try:
            self._complex(obj, td, loc, run, td.constraints)
            if "profiles" in run.layers:
                meta = obj.get("meta")
                if isinstance(meta, dict) and isinstance(meta.get("profile"), list):
                    for url in meta["profile"]:
                        if isinstance(url, str) and url:
                            self.profiles.validate(obj, url, loc, run, explicit=False)
                for url in explicit:  # asked for by the caller: an unknown one is an error
                    self.profiles.validate(obj, url, loc, run, explicit=True)
                for url in self.global_profiles().get(rt, ()):
                    self.profiles.validate(obj, url, loc, run, explicit=False)
            for layer, check in self._type_checks.get(rt, ()):
                if layer in run.layers:
                    check(obj, loc, run, explicit)
        finally:
            run.env = saved_env
            run.in_bundle = saved_bundle
            run.canonicals = saved_canonicals
            run.refs = saved_refs

    def _bundle_references(self, obj: dict[str, Any], loc: str, run: Run, explicit: tuple[str, ...]) -> None:
        self.references.check_bundle(obj, loc, run, run.refs)

    def global_profiles(self) -> dict[str, tuple[str, ...]]:
        """ImplementationGuide.global of the loaded IGs: every resource of the type must meet the profile."""
        if self._globals is None:
            found: dict[str, list[str]] = {}
            for ig in self.packages.resources("ImplementationGuide"):
                for g in seq(ig.get("global")):
                    if (
                        isinstance(g, dict)
                        and isinstance(g.get("type"), str)
                        and isinstance(g.get("profile"), str)
                    ):
                        urls = found.setdefault(g["type"], [])
                        if g["profile"] not in urls:
                            urls.append(g["profile"])
            self._globals = {k: tuple(v) for k, v in found.items()}
        return self._globals

    def _vital_signs(self, obj: dict[str, Any], loc: str, run: Run, explicit: tuple[str, ...]) -> None:
        """A vital-sign code obliges the core vital-signs profile, unless a profile in use derives from it."""
        required = semantics.vital_sign_profiles(obj)
        if not required:
            return
        meta = obj.get("meta")
        declared = (
            [u for u in seq(meta.get("profile")) if isinstance(u, str)] if isinstance(meta, dict) else []
        )
        for url in required:
            if any(self.profiles.derives_from(d, url) for d in (*declared, *explicit)):
                continue
            trial = run.trial()
            self.profiles.validate(obj, url, loc, trial, explicit=False, quiet_unknown=True)
            for i in trial.issues:
                if i.rule == "must-support":
                    continue  # must-support speaks to the profiles an author chose, not implied ones
                if i.severity in ("error", "fatal"):
                    # Warnings (the HL7 validator makes them errors): senders and the reference
                    # server accept vital signs under profiles of their own; the finding is advice.
                    i = Issue("warning", i.code, i.location, i.rule, i.text)
                run.issues.append(i)

    def _complex(
        self, obj: Any, td: TypeDef, loc: str, run: Run, extra: tuple[Any, ...], elem: Elem | None = None
    ) -> None:
        if not isinstance(obj, dict):
            run.add(
                "error",
                "structure",
                loc,
                "wrong-json-type",
                M["wrong-json-type"].format(name=loc.rsplit(".", 1)[-1], type=td.name, got=json_kind(obj)),
            )
            return
        if not obj or (len(obj) == 1 and "id" in obj):
            run.add("error", "invariant", loc, "ele-1", M["empty-object"])
            if not obj:
                return
        elems = td.elems
        is_resource = td.kind == "resource"
        for key, val in obj.items():
            e = elems.get(key)
            if e is None:
                if key == "resourceType" and is_resource:
                    continue
                if key[:1] == "_":
                    self._primitive_ext(obj, key, val, elems.get(key[1:]), td, loc, run)
                    continue
                run.add(
                    "error",
                    "structure",
                    f"{loc}.{key}",
                    "unknown-element",
                    M["unknown-element"].format(name=key, type=td.path),
                )
                continue
            if val is None:
                run.add("error", "structure", f"{loc}.{key}", "json-null", M["json-null"])
                continue
            if e.array:
                if not isinstance(val, list):
                    run.add(
                        "error", "structure", f"{loc}.{key}", "not-array", M["not-array"].format(name=key)
                    )
                    self._item(obj, key, val, e, f"{loc}.{key}", run, None)
                    continue
                if not val:
                    run.add("error", "structure", f"{loc}.{key}", "empty-array", M["empty-array"])
                    continue
                if e.simple:
                    check = e.prim.check  # type: ignore[union-attr]
                    for i, item in enumerate(val):
                        if item is None or check(item) is not None:  # report through the full path
                            self._item(obj, key, item, e, f"{loc}.{key}[{i}]", run, i)
                else:
                    for i, item in enumerate(val):
                        self._item(obj, key, item, e, f"{loc}.{key}[{i}]", run, i)
                if e.max is not None and len(val) > e.max:
                    run.add(
                        "error",
                        "structure",
                        f"{loc}.{key}",
                        "cardinality-max",
                        M["cardinality-max"].format(path=e.path, max=e.max, n=len(val)),
                    )
            else:
                if isinstance(val, list):
                    run.add("error", "structure", f"{loc}.{key}", "is-array", M["is-array"].format(name=key))
                    continue
                if e.simple and e.prim.check(val) is None:  # type: ignore[union-attr]
                    continue
                self._item(obj, key, val, e, f"{loc}.{key}", run, None)
        for name, mn, keys in td.required:
            n = 0
            for k in keys:
                v = obj.get(k)
                if v is None:
                    v = obj.get("_" + k)
                if v is not None:
                    n += len(v) if isinstance(v, list) else 1
            if n < mn:
                run.add(
                    "error",
                    "required",
                    f"{loc}.{name}",
                    "cardinality-min",
                    M["cardinality-min"].format(path=f"{td.path}.{name}", min=mn, n=n),
                )
        if td.choices:
            for base, keys in td.choices.items():
                present = [k for k in keys if k in obj]
                if len(present) > 1:
                    run.add(
                        "error",
                        "structure",
                        f"{loc}.{base}[x]",
                        "choice-multiple",
                        M["choice-multiple"].format(name=base, keys=", ".join(present)),
                    )
        hook = self._hooks.get(td.path)
        if hook is not None and (hook[0] is None or hook[0] in run.layers):
            hook[1](obj, loc, run, elem)
        if extra and "invariants" in run.layers:
            check_invariants(obj, extra, loc, run)

    def _item(
        self, parent: dict[str, Any], key: str, item: Any, e: Elem, loc: str, run: Run, index: int | None
    ) -> None:
        prim = e.prim
        if prim is not None:
            if item is None:
                if index is not None:
                    ext = parent.get("_" + key)
                    if isinstance(ext, list) and index < len(ext) and isinstance(ext[index], dict):
                        return
                run.add("error", "structure", loc, "json-null", M["json-null"])
                return
            msg = prim.check(item)
            if msg is WHITESPACE_ONLY:  # a SHOULD: advice, the value is still valid
                run.add("warning", "value", loc, "string-whitespace", msg)
                msg = None
            if msg is not None:
                run.add(
                    "error", "value" if isinstance(item, str) else "structure", loc, f"type-{prim.name}", msg
                )
                if prim.name != "xhtml" or not isinstance(item, str):
                    run.malformed(loc, (key, e.choice) if e.choice else (key,))
                    return  # a malformed value makes further checks noise; narrative rules (txt-1) still apply
            if e.binding is not None and "terminology" in run.layers and prim.name == "code":
                self._binding(item, e, loc, run, "code")
            if e.targets is not None and prim.name == "canonical" and "references" in run.layers:
                self.references.check_canonical(item, e.targets, loc, run)
            if e.constraints and "invariants" in run.layers:
                check_invariants(item, e.constraints, loc, run)
            return
        if item is None:
            run.add("error", "structure", loc, "json-null", M["json-null"])
            return
        if e.is_resource:
            container = run.env.root if (key in _CONTAINER_KEYS and run.env is not None) else None
            self._resource(item, loc, run, container)
            return
        td = e.td
        if td is None:
            td = e.inline or self.schema.type(e.type)
            if td is None:
                return
            e.td = td  # walks start after compilation finished (Schema.type holds the lock until then)
        merged = e.merged
        if merged is None:
            keys = {c.key for c in e.constraints}
            merged = e.merged = e.constraints + tuple(c for c in td.constraints if c.key not in keys)
        self._complex(item, td, loc, run, merged, e)
        if e.binding is not None and "terminology" in run.layers and isinstance(item, dict):
            self._binding(item, e, loc, run, e.type)

    def _primitive_ext(
        self, obj: dict[str, Any], key: str, val: Any, base: Elem | None, td: TypeDef, loc: str, run: Run
    ) -> None:
        where = f"{loc}.{key}"
        if base is None or base.prim is None:
            run.add(
                "error",
                "structure",
                where,
                "unknown-element",
                M["primitive-extension-orphan"].format(key=key),
            )
            return
        etd = self._element_td or self.schema.type("Element")
        self._element_td = etd
        items = val if isinstance(val, list) else [val]
        if isinstance(val, list) != base.array:
            run.add(
                "error", "structure", where, "primitive-extension", M["primitive-extension"].format(key=key)
            )
            return
        if base.array:
            values = obj.get(key[1:])
            if isinstance(values, list) and len(values) != len(val):
                run.add(
                    "error",
                    "structure",
                    where,
                    "primitive-array-align",
                    M["primitive-array-align"].format(name=key[1:]),
                )
        for i, item in enumerate(items):
            sub = f"{where}[{i}]" if base.array else where
            if item is None:
                if not base.array:
                    run.add("error", "structure", sub, "json-null", M["json-null"])
                continue
            if not isinstance(item, dict):
                run.add(
                    "error", "structure", sub, "primitive-extension", M["primitive-extension"].format(key=key)
                )
                continue
            if etd is not None:
                self._complex(item, etd, sub, run, etd.constraints)

    # ------------------------------------------------------------------ FHIRPath hooks
    def _conforms(self, value: Any, url: str, run: Run) -> bool | None:
        """For FHIRPath conformsTo(): validate ``value`` against ``url`` in a scratch run."""
        if self.profiles.get(url) is None:
            return None
        trial = run.trial(share_profiled=False)
        if isinstance(value, dict) and "resourceType" in value:
            self._resource(value, "conformsTo", trial, None)
        self.profiles.validate(value, url, "conformsTo", trial, explicit=True)
        return not any(i.severity in ("error", "fatal") for i in trial.issues)

    # ------------------------------------------------------------------ terminology
    def _binding(self, value: Any, e: Elem, loc: str, run: Run, type_name: str) -> None:
        b = e.binding
        assert b is not None
        if b.strength not in ("required", "extensible") or not b.value_set:
            return
        check_binding(self.terminology, value, type_name, b.strength, b.value_set, loc, run)

    def _hook_coding(self, obj: dict[str, Any], loc: str, run: Run, elem: Elem | None) -> None:
        check_coding(self.terminology, obj, loc, run)

    # ------------------------------------------------------------------ data-type hooks
    def _hook_attachment(self, obj: dict[str, Any], loc: str, run: Run, elem: Elem | None) -> None:
        data, size = obj.get("data"), obj.get("size")
        if isinstance(data, str) and isinstance(size, int) and not isinstance(size, bool):
            try:
                actual = len(base64.b64decode("".join(data.split()), validate=True))
            except (binascii.Error, ValueError):
                return  # the base64Binary check already reported it
            if actual != size:
                run.add(
                    "error",
                    "structure",
                    loc,
                    "attachment-size",
                    M["attachment-size"].format(size=size, actual=actual),
                )

    def _hook_address(self, obj: dict[str, Any], loc: str, run: Run, elem: Elem | None) -> None:
        vnrules.check_address(self.ctx, obj, loc, run)


def _default_packages() -> PackageSet:
    from vhr_conformance import fhirpkg, ig  # here: only Validator.default() needs the IG

    try:
        return ig.load_vhr_packages()
    except Exception as exc:  # IG package absent or broken: say so, still validate against core
        import warnings

        warnings.warn(f"VHR IG could not be loaded, validating against core only: {exc}", stacklevel=2)
        return fhirpkg.PackageSet.with_dependencies()
