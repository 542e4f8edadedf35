"""The validation engine: one pass over the instance drives every layer.

The walk visits each JSON node once, looks its key up in the compiled :class:`TypeDef`, and runs
only the checks that apply there (primitive format, cardinality, invariants, bindings, type hooks).
Profiles (layer 3) are separate compiled trees applied after the base walk of a resource.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from vhr_conformance.i18n import Text
from vhr_conformance.validator import semantics, vnrules
from vhr_conformance.validator.fhirpath import ConstraintCompiler, EvalEnv, FhirPathError, seq
from vhr_conformance.validator.issues import Issue
from vhr_conformance.validator.jsonlayer import parse_json
from vhr_conformance.validator.messages import M
from vhr_conformance.validator.policy import DEFAULT_POLICY, Policy
from vhr_conformance.validator.positions import SourceMap
from vhr_conformance.validator.schema import WHITESPACE_ONLY, Elem, Schema, TypeDef
from vhr_conformance.validator.terminology import ICD10_SYSTEMS, Terminology

ALL_LAYERS = frozenset({"invariants", "terminology", "profiles", "references", "vn"})
STRUCTURE_ONLY: frozenset[str] = frozenset()

_REF_RE = re.compile(
    r"(?:(?:https?://\S+/)?[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?"
    r"|urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|urn:oid:[0-2](?:\.(?:0|[1-9][0-9]*))+|#[A-Za-z0-9\-.]*|[a-z][a-z0-9+.\-]*:\S+)"
)
_RESTFUL_URL = re.compile(r"/([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$")
_TYPE_IN_REF = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?$")
_CONTAINER_KEYS = frozenset({"contained"})
_DEFINITION_TYPES = frozenset(
    {"StructureDefinition", "MeasureReport", "SearchParameter"}
)  # checked beyond structure


@dataclass(slots=True)
class RefUse:
    location: str
    ref: str
    targets: frozenset[str] | None


@dataclass(slots=True)
class Run:
    """State of one ``validate`` call."""

    layers: frozenset[str]
    issues: list[Issue] = field(default_factory=list)
    env: EvalEnv | None = None
    refs: list[RefUse] = field(default_factory=list)
    in_bundle: bool = False
    harness_reported: set[str] = field(default_factory=set)
    ms_seen: set[tuple[str, str]] = field(default_factory=set)
    profiled: set[tuple[int, str, str]] = field(default_factory=set)  # (id(value), profile, location) done
    policy: Policy = DEFAULT_POLICY
    canonicals: dict[str, Any] = field(default_factory=dict)  # canonical url -> resource, in Bundles
    # Locations of malformed values: what depends on them is not judged again (no cascades)
    bad: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, severity: str, code: str, loc: str, rule: str, text: Text) -> None:
        if self.bad and loc in self.bad and not rule.startswith("type-"):
            return  # the value is malformed: that one error says it; range, binding, … would be noise
        self.issues.append(Issue(severity, code, loc, rule, text))

    def malformed(self, loc: str, names: tuple[str, ...]) -> None:
        """Record a malformed value at ``loc``; ``names`` are the element names an invariant would use."""
        self.bad[loc] = names

    def depends_on_malformed(self, loc: str, expression: str) -> bool:
        """Whether an invariant at ``loc`` mentions an element below it whose value is malformed."""
        for where, names in self.bad.items():
            below = where.startswith(loc) and where[len(loc) : len(loc) + 1] in (".", "[")
            if below and any(re.search(rf"\b{re.escape(n)}\b", expression) for n in names):
                return True
        return False


class Validator:
    """Compiled validator for a package set: compile once, validate many (thread-safe reads)."""

    _default: Validator | None = None
    _default_lock = threading.Lock()

    def __init__(self, packages: Any) -> None:
        self.packages = packages
        self.cc = ConstraintCompiler()
        self.schema = Schema(packages, self.cc)
        self.terminology = Terminology(packages)
        self._hooks: dict[str, Callable[[dict[str, Any], str, Run, Elem | None], None]] = {
            "Coding": self._hook_coding,
            "Reference": self._hook_reference,
            "Extension": self._hook_extension,
            "Address": self._hook_address,
            "Attachment": self._hook_attachment,
            "Bundle.entry": self._hook_entry,
            "Bundle": self._hook_bundle,
        }
        self._globals: dict[str, tuple[str, ...]] | None = None
        from vhr_conformance.validator.profiles import ProfileCompiler

        self.profiles = ProfileCompiler(self)
        from vhr_conformance.validator.questionnaire import QuestionnaireChecker

        self.questionnaires = QuestionnaireChecker(self)
        from vhr_conformance.validator.definitions import DefinitionChecker

        self.definitions = DefinitionChecker(self)
        self._element_td: TypeDef | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def for_packages(cls, packages: Any) -> Validator:
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
        refs_start = len(run.refs)
        saved_bundle = run.in_bundle
        saved_canonicals = run.canonicals
        if rt == "Bundle":
            run.in_bundle = True
            run.env.resolve = self._bundle_resolver(obj)
            run.canonicals = {**saved_canonicals, **_bundle_canonicals(obj)}
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
                if rt == "Observation":
                    self._vital_signs(obj, loc, run, explicit)
            if rt in _DEFINITION_TYPES and "profiles" in run.layers:
                if rt == "StructureDefinition":
                    self.definitions.check(obj, loc, run)
                elif rt == "MeasureReport":
                    semantics.check_measure_report(self, obj, loc, run)
                else:
                    semantics.check_search_parameter(self, obj, loc, run)
            if rt == "QuestionnaireResponse" and "profiles" in run.layers:
                self.questionnaires.check(obj, loc, run)
            if rt == "Bundle" and "references" in run.layers:
                self._check_bundle_refs(obj, loc, run, run.refs[refs_start:])
                del run.refs[refs_start:]
        finally:
            run.env = saved_env
            run.in_bundle = saved_bundle
            run.canonicals = saved_canonicals

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
            trial = Run(
                run.layers, env=run.env, in_bundle=run.in_bundle, profiled=run.profiled, policy=run.policy
            )
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
                M["wrong-json-type"].format(name=loc.rsplit(".", 1)[-1], type=td.name, got=_kind(obj)),
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
        if hook is not None:
            hook(obj, loc, run, elem)
        if extra and "invariants" in run.layers:
            self._invariants(obj, extra, loc, run)

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
                self._canonical_target(item, e.targets, loc, run)
            if e.constraints and "invariants" in run.layers:
                self._invariants(item, e.constraints, loc, run)
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

    # ------------------------------------------------------------------ invariants
    def _invariants(
        self, focus: Any, constraints: Iterable[Any], loc: str, run: Run, skip: set[str] | None = None
    ) -> None:
        env = run.env or EvalEnv(
            focus if isinstance(focus, dict) else {}, focus if isinstance(focus, dict) else {}
        )
        best_practice = run.policy.best_practice
        for c in constraints:
            if skip and c.key in skip:
                continue
            if c.best_practice and not best_practice:
                continue  # off by default, as the HL7 reference outcomes show (Policy.best_practice)
            try:
                native = c.native
                ok = native(focus, env) if native is not None else c.evaluate(focus, env)
            except RecursionError:
                raise
            except Exception as exc:  # FhirPathError, or a native check meeting data it did not expect
                self._harness_error(c, exc, loc, run)
                continue
            if not ok:
                if run.bad and run.depends_on_malformed(loc, c.expression):
                    continue  # it failed because a value it reads is malformed, already reported
                sev = c.severity if c.severity in ("error", "warning") else "error"
                if c.best_practice:
                    sev = "warning"
                run.add(sev, "invariant", loc, c.key, M["invariant"].format(key=c.key, human=c.human))

    def _harness_error(self, c: Any, exc: Exception, loc: str, run: Run) -> None:
        """Report an unevaluable invariant once; stay quiet when invalid data below it is the cause."""
        marker = f"{c.key}|{c.expression}"
        if marker in run.harness_reported:
            return
        run.harness_reported.add(marker)
        prefix = (loc + ".", loc + "[")
        if any(i.severity in ("error", "fatal") and i.location.startswith(prefix) for i in run.issues):
            return  # the engine choked on data already reported as invalid: not the harness's fault
        err = str(exc) if isinstance(exc, FhirPathError) else f"{type(exc).__name__}: {exc}"
        run.add(
            "error",
            "exception",
            loc,
            "harness-fhirpath",
            M["harness-fhirpath"].format(key=c.key, expr=c.expression, err=err[:200]),
        )

    def _conforms(self, value: Any, url: str, run: Run) -> bool | None:
        """For FHIRPath conformsTo(): validate ``value`` against ``url`` in a scratch run."""
        if self.profiles.get(url) is None:
            return None
        trial = Run(run.layers, env=run.env, in_bundle=run.in_bundle, policy=run.policy)
        if isinstance(value, dict) and "resourceType" in value:
            self._resource(value, "conformsTo", trial, None)
        self.profiles.validate(value, url, "conformsTo", trial, explicit=True)
        return not any(i.severity in ("error", "fatal") for i in trial.issues)

    def _member_of(self, value: Any, vs: str) -> bool | None:
        if isinstance(value, str):
            return self.terminology.contains(vs, None, value)
        if isinstance(value, dict):
            codings = value.get("coding") if "coding" in value else [value]
            results = [
                self.terminology.contains(vs, c.get("system"), c["code"])
                for c in seq(codings)
                if isinstance(c, dict) and isinstance(c.get("code"), str)
            ]
            if any(r is True for r in results):
                return True
            if results and all(r is False for r in results):
                return False
        return None

    # ------------------------------------------------------------------ terminology
    def _binding(self, value: Any, e: Elem, loc: str, run: Run, type_name: str) -> None:
        b = e.binding
        assert b is not None
        if b.strength not in ("required", "extensible") or not b.value_set:
            return
        self.check_binding(value, type_name, b.strength, b.value_set, loc, run)

    def check_binding(self, value: Any, type_name: str, strength: str, vs: str, loc: str, run: Run) -> None:
        """Check a code/Coding/CodeableConcept against a ValueSet; used by base and profile layers."""
        if run.bad and any(b.startswith(loc + ".") for b in run.bad):
            return  # a malformed code or system inside was reported; membership would only repeat it
        term = self.terminology
        if type_name == "code" and isinstance(value, str):
            pairs: list[tuple[str | None, str]] = [(None, value)]
        elif type_name == "Coding" and isinstance(value, dict):
            pairs = [(value.get("system"), value["code"])] if isinstance(value.get("code"), str) else []
        elif type_name == "Quantity" and isinstance(value, dict):
            if not isinstance(value.get("code"), str):
                return
            pairs = [(value.get("system"), value["code"])]
        elif type_name == "CodeableConcept" and isinstance(value, dict):
            pairs = [
                (c.get("system"), c["code"])
                for c in seq(value.get("coding"))
                if isinstance(c, dict) and isinstance(c.get("code"), str)
            ]
        else:
            return
        exp = term.expand(vs)
        if exp is None:
            return
        if not pairs:
            if strength == "required" and type_name == "CodeableConcept" and exp.complete and not exp.open:
                run.add("error", "code-invalid", loc, "binding-required", M["binding-no-code"].format(vs=vs))
            return
        results = [exp.contains(s, c) for s, c in pairs]
        if any(r is True for r in results) or any(r is None for r in results):
            return
        shown = ", ".join(f"{s}#{c}" if s else c for s, c in pairs)
        if strength == "required":
            run.add(
                "error",
                "code-invalid",
                loc,
                "binding-required",
                M["binding-required"].format(code=shown, vs=vs),
            )
        else:
            run.add(
                "warning",
                "code-invalid",
                loc,
                "binding-extensible",
                M["binding-extensible"].format(code=shown, vs=vs),
            )

    def _hook_coding(self, obj: dict[str, Any], loc: str, run: Run, elem: Elem | None) -> None:
        if "terminology" not in run.layers:
            return
        system, code = obj.get("system"), obj.get("code")
        if not isinstance(system, str) or not isinstance(code, str):
            return
        if system in ICD10_SYSTEMS:
            if "vn" in run.layers and not self.terminology.icd10_known(code):
                run.add(
                    "warning", "code-invalid", f"{loc}.code", "VN-ICD-001", M["VN-ICD-001"].format(code=code)
                )
            return
        cs = self.terminology.code_system(system)
        if cs is None or not cs.complete:
            return
        if not cs.has(code):
            run.add(
                "error",
                "code-invalid",
                f"{loc}.code",
                "code-unknown",
                M["code-unknown"].format(code=code, system=system),
            )
            return
        display = obj.get("display")
        if isinstance(display, str):
            expected = cs.display.get(code)
            level = run.policy.display
            if (
                level != "ignore"
                and expected
                and display.strip().lower() != expected.lower()
                and display not in cs.designations.get(code, ())
            ):
                run.add(  # an error by default, as in the HL7 validator (Policy.display)
                    level,
                    "code-invalid",
                    f"{loc}.display",
                    "display-mismatch",
                    M["display-mismatch"].format(display=display, code=code, expected=expected),
                )

    # ------------------------------------------------------------------ references
    def _hook_reference(self, obj: dict[str, Any], loc: str, run: Run, elem: Elem | None) -> None:
        ref = obj.get("reference")
        if not isinstance(ref, str):
            return
        if _REF_RE.fullmatch(ref) is None:
            run.add(
                "error",
                "value",
                f"{loc}.reference",
                "reference-format",
                M["reference-format"].format(ref=ref),
            )
            return
        targets = elem.targets if elem is not None else None
        if ref.startswith("#"):
            env = run.env
            if env is not None and ref != "#":
                found = None
                for c in seq(env.root.get("contained")):
                    if isinstance(c, dict) and c.get("id") == ref[1:]:
                        found = c
                        break
                if found is None:
                    run.add(
                        "error",
                        "not-found",
                        f"{loc}.reference",
                        "reference-contained",
                        M["reference-contained"].format(ref=ref),
                    )
                elif targets and found.get("resourceType") not in targets:
                    self._target_issue(str(found.get("resourceType")), targets, loc, run)
            return
        m = _TYPE_IN_REF.search(ref)
        if m is not None:
            typ = m.group(1)
            if typ not in self.schema.resource_types:
                run.add(
                    "error",
                    "value",
                    f"{loc}.reference",
                    "reference-format",
                    M["reference-format"].format(ref=ref),
                )
                return
            if targets and typ not in targets:
                self._target_issue(typ, targets, loc, run)
        if run.in_bundle and "references" in run.layers:
            run.refs.append(RefUse(f"{loc}.reference", ref, targets))

    def _canonical_target(self, url: str, targets: frozenset[str], loc: str, run: Run) -> None:
        """A canonical that resolves (loaded packages, or a Bundle entry's ``url``) must name an allowed type."""
        if url.startswith("#"):
            found: Any = None
            env = run.env
            for c in seq(env.root.get("contained")) if env is not None else ():
                if isinstance(c, dict) and c.get("id") == url[1:]:
                    found = c
        else:
            found = self.packages.get(url.split("|", 1)[0])
            if found is None and run.in_bundle:
                found = run.canonicals.get(url.split("|", 1)[0])
        typ = found.get("resourceType") if isinstance(found, dict) else None
        if isinstance(typ, str) and typ not in targets and not self._canonical_of_type(url, targets):
            run.add(
                "error",
                "structure",
                loc,
                "canonical-target",
                M["canonical-target"].format(url=url, got=typ, allowed=", ".join(sorted(targets))),
            )

    def _canonical_of_type(self, url: str, targets: frozenset[str]) -> bool:
        """Whether some loaded resource of an allowed type has this canonical URL (packages that give
        a CodeSystem and its ValueSet one URL); only asked on the rare path of a mismatch."""
        base = url.split("|", 1)[0]
        return any(e.url == base for t in targets for _pkg, e in self.packages.entries(t))

    def _target_issue(self, got: str, targets: frozenset[str], loc: str, run: Run) -> None:
        run.add(
            "error",
            "structure",
            f"{loc}.reference",
            "reference-target",
            M["reference-target"].format(got=got, allowed=", ".join(sorted(targets))),
        )

    def _bundle_resolver(self, bundle: dict[str, Any]) -> Callable[[str], dict[str, Any] | None]:
        index = _bundle_index(bundle)

        def resolve(ref: str) -> dict[str, Any] | None:
            hit = _resolve_in_index(index, ref, None)
            return hit[1] if hit else None

        return resolve

    def _check_bundle_refs(self, bundle: dict[str, Any], loc: str, run: Run, uses: list[RefUse]) -> None:
        index = _bundle_index(bundle)
        seen: dict[str, int] = {}
        for i, entry in enumerate(seq(bundle.get("entry"))):
            if isinstance(entry, dict) and isinstance(entry.get("fullUrl"), str):
                fu = entry["fullUrl"]
                if fu in seen and not _versioned_dup(bundle, seen[fu], i):
                    run.add(
                        "error",
                        "invalid",
                        f"{loc}.entry[{i}].fullUrl",
                        "bundle-fullurl-duplicate",
                        M["bundle-fullurl-duplicate"].format(url=fu),
                    )
                seen[fu] = i
        btype = bundle.get("type")
        strict = btype in ("document", "message")  # these must be self-contained
        same_id: dict[str, int] = {}
        for entry in seq(bundle.get("entry")):
            res = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(res, dict) and isinstance(res.get("id"), str):
                key = f"{res.get('resourceType')}/{res['id']}"
                same_id[key] = same_id.get(key, 0) + 1
        for use in uses:
            hit = _resolve_in_index(index, use.ref, _entry_url_for(bundle, use.location, loc))
            if hit is None:
                if use.ref.startswith("urn:") or strict:
                    run.add(
                        "error",
                        "not-found",
                        use.location,
                        "reference-unresolved",
                        M["reference-unresolved"].format(ref=use.ref),
                    )
                continue
            if "/_history/" not in use.ref and same_id.get(use.ref, 0) > 1:
                run.add(
                    "error",
                    "structure",
                    use.location,
                    "reference-ambiguous",
                    M["reference-ambiguous"].format(ref=use.ref),
                )
            typ = hit[1].get("resourceType")
            if use.targets and typ not in use.targets:
                run.add(
                    "error",
                    "structure",
                    use.location,
                    "reference-target",
                    M["reference-target"].format(got=typ, allowed=", ".join(sorted(use.targets))),
                )

    # ------------------------------------------------------------------ extensions
    def _hook_extension(self, obj: dict[str, Any], loc: str, run: Run, elem: Elem | None) -> None:
        url = obj.get("url")
        if not isinstance(url, str):
            return
        if elem is not None and elem.name == "extension" and "/" not in url and ":" not in url:
            return  # a sub-extension of a complex extension: its parent's definition governs it
        if ":" not in url:
            run.add("error", "value", f"{loc}.url", "extension-url", M["extension-url"])
            return
        if "profiles" not in run.layers:
            return
        known = self.profiles.validate(obj, url, loc, run, explicit=False, quiet_unknown=True)
        if not known:
            if elem is not None and elem.name == "modifierExtension":
                run.add(
                    "error",
                    "structure",
                    loc,
                    "modifier-extension-unknown",
                    M["modifier-extension-unknown"].format(url=url),
                )
            elif url.startswith("http://hl7.org/fhir/"):
                # HL7's own extensions outside R4 core (the extensions pack) exist but are not loaded
                run.add(
                    "warning",
                    "structure",
                    loc,
                    "extension-unknown",
                    M["extension-not-loaded"].format(url=url),
                )
            else:  # as the HL7 validator: an extension nobody can check is not accepted silently
                run.add(
                    "error", "structure", loc, "extension-unknown", M["extension-unknown"].format(url=url)
                )

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

    def _hook_entry(self, obj: dict[str, Any], loc: str, run: Run, elem: Elem | None) -> None:
        fu = obj.get("fullUrl")
        if isinstance(fu, str) and ":" not in fu:
            run.add(
                "error",
                "value",
                f"{loc}.fullUrl",
                "bundle-fullurl-absolute",
                M["bundle-fullurl-absolute"].format(url=fu),
            )
        elif isinstance(fu, str) and not fu.startswith("urn:") and f"{loc}.fullUrl" not in run.bad:
            # "The fullUrl SHALL NOT disagree with the id in the resource" (R4 Bundle.entry.fullUrl)
            res = obj.get("resource")
            m = _RESTFUL_URL.search(fu)
            if isinstance(res, dict) and isinstance(res.get("id"), str) and m is not None:
                rt, rid = res.get("resourceType"), res["id"]
                if m.group(1) in self.schema.resource_types and (m.group(1), m.group(2)) != (rt, rid):
                    run.add(
                        "error",
                        "invalid",
                        f"{loc}.fullUrl",
                        "bundle-fullurl-id",
                        M["bundle-fullurl-id"].format(url=fu, rt=rt, id=rid),
                    )

    def _hook_bundle(self, obj: dict[str, Any], loc: str, run: Run, elem: Elem | None) -> None:
        self._links_unique(obj, loc, run)

    def _links_unique(self, obj: dict[str, Any], loc: str, run: Run) -> None:
        """Bundle.link: a relation names one link of the Bundle (self, next, … each at most once)."""
        links = obj.get("link")
        if not isinstance(links, list) or len(links) < 2:
            return
        seen: set[str] = set()
        for i, link in enumerate(links):
            rel = link.get("relation") if isinstance(link, dict) else None
            if not isinstance(rel, str):
                continue
            if rel in seen:
                run.add(
                    "error",
                    "invalid",
                    f"{loc}.link[{i}].relation",
                    "bundle-link-repeated",
                    M["bundle-link-repeated"].format(rel=rel, where=f"{loc}.link"),
                )
            seen.add(rel)

    # ------------------------------------------------------------------ VN rules
    def _hook_address(self, obj: dict[str, Any], loc: str, run: Run, elem: Elem | None) -> None:
        if "vn" in run.layers:
            vnrules.check_address(self, obj, loc, run)


def _versioned_dup(bundle: dict[str, Any], a: int, b: int) -> bool:
    entries = bundle.get("entry") or []
    ra = (entries[a] or {}).get("resource") if isinstance(entries[a], dict) else None
    rb = (entries[b] or {}).get("resource") if isinstance(entries[b], dict) else None
    va = ((ra or {}).get("meta") or {}).get("versionId") if isinstance(ra, dict) else None
    vb = ((rb or {}).get("meta") or {}).get("versionId") if isinstance(rb, dict) else None
    return bool(va and vb and va != vb) or bundle.get("type") == "history"


def _bundle_canonicals(bundle: dict[str, Any]) -> dict[str, Any]:
    """Conformance resources carried in a Bundle, by canonical URL (canonical references resolve to them)."""
    out: dict[str, Any] = {}
    for entry in seq(bundle.get("entry")):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(res, dict) and isinstance(res.get("url"), str):
            out.setdefault(res["url"], res)
    return out


def _bundle_index(bundle: dict[str, Any]) -> dict[str, tuple[int, dict[str, Any]]]:
    index: dict[str, tuple[int, dict[str, Any]]] = {}
    for i, entry in enumerate(seq(bundle.get("entry"))):
        if not isinstance(entry, dict):
            continue
        res = entry.get("resource")
        if not isinstance(res, dict):
            continue
        fu = entry.get("fullUrl")
        if isinstance(fu, str):
            index.setdefault(fu, (i, res))
        rt, rid = res.get("resourceType"), res.get("id")
        if isinstance(rt, str) and isinstance(rid, str):
            index.setdefault(f"{rt}/{rid}", (i, res))
            vid = (res.get("meta") or {}).get("versionId") if isinstance(res.get("meta"), dict) else None
            if isinstance(vid, str):
                index.setdefault(f"{rt}/{rid}/_history/{vid}", (i, res))
    return index


def _entry_url_for(bundle: dict[str, Any], location: str, bundle_loc: str) -> str | None:
    prefix = bundle_loc + ".entry["
    if not location.startswith(prefix):
        return None
    try:
        idx = int(location[len(prefix) : location.index("]", len(prefix))])
        entry = bundle["entry"][idx]
    except (ValueError, IndexError, KeyError, TypeError):
        return None
    fu = entry.get("fullUrl") if isinstance(entry, dict) else None
    return fu if isinstance(fu, str) else None


def _resolve_in_index(
    index: dict[str, tuple[int, dict[str, Any]]], ref: str, entry_url: str | None
) -> tuple[int, dict[str, Any]] | None:
    hit = index.get(ref)
    if hit is not None:
        return hit
    if "://" not in ref and not ref.startswith("urn:") and entry_url and "://" in entry_url:
        m = re.match(r"(.*/)[A-Z][A-Za-z]+/[^/]+$", entry_url)
        if m:
            hit = index.get(m.group(1) + ref)
            if hit is not None:
                return hit
    if "://" in ref:
        m2 = _TYPE_IN_REF.search(ref)
        if m2 is not None:
            tail = ref[m2.start() :].lstrip("/")
            hit = index.get(tail)
            if hit is not None and not any(
                k.startswith("http") and k.endswith(tail) and k != ref for k in index
            ):
                return hit
    return None


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _default_packages() -> Any:
    from vhr_conformance import fhirpkg

    try:
        from vhr_conformance import ig  # type: ignore[attr-defined]

        return ig.load_vhr_packages()
    except (ImportError, AttributeError):
        return fhirpkg.PackageSet.with_dependencies()
    except Exception as exc:  # IG present but broken: say so, still validate against core
        import warnings

        warnings.warn(f"VHR IG could not be loaded, validating against core only: {exc}", stacklevel=2)
        return fhirpkg.PackageSet.with_dependencies()
