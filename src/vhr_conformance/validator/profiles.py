"""Layer 3: profile constraints (constraint StructureDefinitions, including extensions).

A profile snapshot is compiled once into a tree of :class:`PNode` keyed by JSON name, pruned to
the nodes that add something over the base definition (tighter cardinality, fixed/pattern values,
bindings, type and target restrictions, new invariants, slicing, must-support). Validation walks
only that pruned tree, so an unconstrained branch of the instance costs nothing here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from vhr_conformance.validator.bindings import check_binding, member_of
from vhr_conformance.validator.fhirpath import EvalEnv, seq
from vhr_conformance.validator.invariants import check_invariants
from vhr_conformance.validator.messages import M
from vhr_conformance.validator.run import Context, Run
from vhr_conformance.validator.schema import Elem
from vhr_conformance.validator.values import (
    SD_BASE,
    choice_rename,
    compare,
    equal,
    parse_max,
    pattern,
    show,
    type_code,
)

_MISSING = object()
ADDITIONAL_BINDING = frozenset(
    {
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.binding.additional",
        "http://hl7.org/fhir/tools/StructureDefinition/additional-binding",
    }
)
_EXT_CALL = re.compile(r"extension\('([^']*)'\)")
_OFTYPE = re.compile(r"ofType\(([A-Za-z]+)\)")


@dataclass(slots=True, eq=False)
class Slicing:
    discriminators: list[tuple[str, str]]
    rules: str
    ordered: bool


@dataclass(slots=True, eq=False)
class PNode:
    path: str
    name: str
    min: int = 0
    max: int | None = None
    check_min: bool = False
    check_max: bool = False
    fixed: Any = None
    fixed_kind: str | None = None  # fixed | pattern
    binding: tuple[str, str] | None = None
    type_code: str | None = None
    choice_keys: tuple[str, ...] | None = None  # allowed JSON keys of a [x] element
    type_profiles: tuple[str, ...] = ()
    targets: frozenset[str] | None = None
    target_profiles: tuple[str, ...] = ()  # constraint profiles a resolvable target must meet (one of)
    constraints: tuple[Any, ...] = ()
    must_support: bool = False
    slicing: Slicing | None = None
    slices: list[tuple[str, PNode]] = field(default_factory=list)
    children: dict[str, PNode] = field(default_factory=dict)
    active: bool = False
    primitive: bool = False
    expect_cache: dict[str, tuple[str, list[Any]] | None] = field(default_factory=dict)
    kids: tuple[PNode, ...] = ()  # the active children, the only ones the walk visits
    own_checks: bool = False  # any check on the value itself
    slice_index: Any = _MISSING  # (path, {value: slice number}) when slices are told apart by one string
    shallow: bool = False  # only counted (cardinality, must-support): no value checks below
    extra_bindings: list[tuple[str, str]] = field(default_factory=list)  # additional bindings (R5 style)
    deep: bool = False  # values need checks beyond counting (own value checks or active children)
    min_value: Any = None
    max_value: Any = None
    max_length: int | None = None
    aggregation: frozenset[str] | None = None  # contained/bundled only: the reference must be local
    choice_base: str | None = None  # a type slice (value[x]:valueQuantity): the choice's JSON name


@dataclass(slots=True, eq=False)
class Profile:
    url: str
    type: str
    root: PNode
    is_base: bool = False


class ProfileCompiler:
    """Compiles and caches profiles by canonical URL; validates instances against them."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._cache: dict[str, Profile | None] = {}
        self._building: set[str] = set()
        self._derives: dict[tuple[str, str], bool] = {}

    # ------------------------------------------------------------------ compile
    def derives_from(self, url: str, ancestor: str) -> bool:
        """Whether profile ``url`` is ``ancestor`` or constrains it (through baseDefinition), cached."""
        key = (url.split("|", 1)[0], ancestor)
        hit = self._derives.get(key)
        if hit is None:
            hit = False
            cur: str | None = key[0]
            for _ in range(12):
                if cur is None:
                    break
                if cur == ancestor:
                    hit = True
                    break
                sd = self.ctx.packages.get(cur)
                base = sd.get("baseDefinition") if isinstance(sd, dict) else None
                cur = base.split("|", 1)[0] if isinstance(base, str) else None
            self._derives[key] = hit
        return hit

    def get(self, url: str) -> Profile | None:
        url = url.split("|", 1)[0]
        hit = self._cache.get(url, _MISSING)
        if hit is not _MISSING and url not in self._building:
            return hit  # type: ignore[return-value]
        with self.ctx.schema.lock:
            if url in self._cache:
                return self._cache[url]
            self._building.add(url)
            try:
                return self._get(url)
            finally:
                self._building.discard(url)

    def _get(self, url: str) -> Profile | None:
        self._cache[url] = None
        sd = self.ctx.packages.get(url)
        prof: Profile | None = None
        if isinstance(sd, dict) and sd.get("resourceType") == "StructureDefinition":
            if sd.get("derivation") == "constraint" or (
                sd.get("snapshot") is None and sd.get("baseDefinition")
            ):
                elements = self.snapshot(sd, 0)
                if elements:
                    prof = self._compile(sd, elements)
            elif sd.get("kind") != "logical":
                prof = Profile(
                    url, sd.get("type", ""), PNode(sd.get("type", ""), sd.get("type", "")), is_base=True
                )
        self._cache[url] = prof
        return prof

    def snapshot(self, sd: dict[str, Any], depth: int) -> list[dict[str, Any]] | None:
        """The snapshot, or one merged from the differential onto the base (for diff-only profiles)."""
        snap = (sd.get("snapshot") or {}).get("element")
        if snap:
            return list(snap)
        diff = (sd.get("differential") or {}).get("element")
        base_url = sd.get("baseDefinition")
        if not diff or not base_url or depth > 8:
            return None
        base = self.ctx.packages.get(base_url)
        if not isinstance(base, dict):
            return None
        base_els = self.snapshot(base, depth + 1)
        if not base_els:
            return None
        out = [dict(e) for e in base_els]
        index = {(e.get("id") or e["path"]): i for i, e in enumerate(out)}
        expanded = {k.rsplit(".", 1)[0] for k in index if "." in k}
        for d in diff:
            did = d.get("id")
            if not did:
                did = d["path"] + (f":{d['sliceName']}" if d.get("sliceName") else "")
            did = choice_rename(did, index)
            if did in index:
                out[index[did]] = {**out[index[did]], **d, "id": did}
            elif "." in did and ":" not in did and did.rsplit(".", 1)[0] in expanded:
                continue  # names an element the base does not have: not a legal constraint, ignored
            else:
                out.append({**d, "id": did})
                index[did] = len(out) - 1
        return out

    def _compile(self, sd: dict[str, Any], elements: list[dict[str, Any]]) -> Profile:
        sd_type = sd.get("type", "")
        nodes: dict[str, PNode] = {}
        root: PNode | None = None
        for el in elements:
            eid: str = el.get("id") or el["path"]
            node = self._node(el, sd)
            nodes[eid] = node
            if root is None:
                root = node
                continue
            parent_id, last = eid.rsplit(".", 1) if "." in eid else ("", eid)
            if ":" in last:
                base_name, slice_name = last.split(":", 1)
                sliced = nodes.get(f"{parent_id}.{base_name}")
                if sliced is None:
                    continue
                if base_name.endswith("[x]") and slice_name.startswith(base_name[:-3]):
                    # a type "slice" of a choice: it constrains one concrete JSON key
                    node.name = slice_name
                    node.choice_keys = None
                    node.choice_base = base_name[:-3]
                    parent = nodes.get(parent_id)
                    if parent is not None:
                        parent.children[slice_name] = node
                    continue
                node.name = sliced.name
                sliced.slices.append((slice_name, node))
                continue
            parent = nodes.get(parent_id) or _ensure(nodes, parent_id)
            parent.children[node.name] = node
        assert root is not None
        _activate(root)
        return Profile(sd["url"], sd_type, root)

    def _node(self, el: dict[str, Any], sd: dict[str, Any]) -> PNode:
        path: str = el["path"]
        short = path.rsplit(".", 1)[-1]
        types = el.get("type") or []
        codes = [type_code(t, path, sd.get("kind", ""), sd.get("type", "")) for t in types]
        node = PNode(path, short[:-3] if short.endswith("[x]") else short)
        node.min = int(el.get("min", 0))
        node.max = parse_max(el.get("max"))
        base = el.get("base") or {}
        bmin = int(base.get("min", 0))
        bmax = parse_max(base.get("max")) if "max" in base else None
        is_slice = ":" in (el.get("id") or "").rsplit(".", 1)[-1]
        node.check_min = node.min > bmin or (is_slice and node.min > 0)
        node.check_max = node.max is not None and (bmax is None or node.max < bmax or is_slice)
        for k, val in el.items():
            if k.startswith("minValue"):
                node.min_value = val
            elif k.startswith("maxValue"):
                node.max_value = val
            elif k == "maxLength" and isinstance(val, int):
                node.max_length = val
            elif k.startswith("fixed"):
                node.fixed, node.fixed_kind = val, "fixed"
            elif k.startswith("pattern"):
                node.fixed, node.fixed_kind = val, "pattern"
        b = el.get("binding")
        for ext in seq((b or {}).get("extension")):
            if isinstance(ext, dict) and ext.get("url") in ADDITIONAL_BINDING:
                parts = {
                    x.get("url"): next((v for k, v in x.items() if k.startswith("value")), None)
                    for x in seq(ext.get("extension"))
                    if isinstance(x, dict)
                }
                if parts.get("purpose") in ("required", "extensible") and isinstance(
                    parts.get("valueSet"), str
                ):
                    node.extra_bindings.append((str(parts["purpose"]), str(parts["valueSet"])))
        if b and b.get("valueSet") and b.get("strength") in ("required", "extensible"):
            be = self.ctx.schema.base_elem(base.get("path", "")) if base.get("path") else None
            same = (
                be is not None
                and be.binding is not None
                and be.binding.strength == b["strength"]
                and (be.binding.value_set or "").split("|")[0] == b["valueSet"].split("|")[0]
            )
            if not same:
                node.binding = (b["strength"], b["valueSet"])
        if len(codes) == 1:
            node.type_code = codes[0]
            node.primitive = self.ctx.schema.is_primitive(codes[0])
        if short.endswith("[x]"):
            node.choice_keys = tuple(node.name + c[0].upper() + c[1:] for c in codes)
        profs: list[str] = []
        targets: set[str] = set()
        target_profiles: list[str] = []
        narrowed = False
        for t in types:
            profs.extend(seq(t.get("profile")))
            agg = {a for a in seq(t.get("aggregation")) if isinstance(a, str)}
            if agg and "referenced" not in agg:
                node.aggregation = frozenset(agg)
            for tp in seq(t.get("targetProfile")):
                typ = self.ctx.schema.profile_types.get(tp.split("|")[0])
                if typ is None:  # an unknown target profile: its type cannot be checked
                    targets.add("Resource")
                    continue
                targets.add(typ)
                if not tp.startswith(SD_BASE):
                    narrowed = True
                    target_profiles.append(tp.split("|")[0])
        node.type_profiles = tuple(p for p in profs if not p.startswith(SD_BASE + (node.type_code or "~")))
        if targets and narrowed and not targets & {"Resource", "DomainResource"}:
            node.targets = frozenset(targets)
        all_tps = [tp for t in types for tp in seq(t.get("targetProfile")) if isinstance(tp, str)]
        if target_profiles and len(target_profiles) == len(all_tps) and "Resource" not in targets:
            # every allowed target is a constraint profile: a target we can see must meet one of them
            node.target_profiles = tuple(target_profiles)
        node.must_support = bool(el.get("mustSupport"))
        sl = el.get("slicing")
        if sl:
            node.slicing = Slicing(
                [(d.get("type", "value"), d.get("path", "$this")) for d in sl.get("discriminator", ())],
                sl.get("rules", "open"),
                bool(sl.get("ordered")),
            )
        base_urls = self.ctx.schema.base_urls
        new = [
            c
            for c in el.get("constraint", ())
            if c.get("key") != "ele-1" and (c.get("source") or "") not in base_urls
        ]
        node.constraints = self.ctx.cc.compile_all(new, path)
        return node

    # ------------------------------------------------------------------ validate
    def validate(
        self, value: Any, url: str, loc: str, run: Run, *, explicit: bool, quiet_unknown: bool = False
    ) -> bool:
        """Check ``value`` against profile ``url``; return False when the profile is unknown."""
        prof = self.get(url)
        if prof is None:
            if not quiet_unknown:
                run.add(
                    "warning" if not explicit else "error",
                    "not-supported",
                    loc,
                    "profile-unknown",
                    M["profile-unknown"].format(url=url),
                )
            return False
        if isinstance(value, dict) and "resourceType" in value and value.get("resourceType") != prof.type:
            run.add(
                "error",
                "structure",
                loc,
                "profile-type",
                M["profile-type"].format(url=url, want=prof.type, got=value.get("resourceType")),
            )
            return True
        if prof.is_base:
            return True  # a base type's definition: the structure walk has judged the value already
        key = (id(value), prof.url, loc)
        if key in run.profiled:  # e.g. meta.profile and the Bundle profile's entry type profile
            return True
        run.profiled.add(key)
        env = run.env
        if (
            env is not None
            and isinstance(value, dict)
            and "resourceType" in value
            and value is not env.resource
        ):
            # a resource profiled from its container (e.g. Bundle.entry.resource): %resource is itself
            # a contained resource's %rootResource is its container; an entry's is itself
            inner = (
                ".contained[" in loc[loc.rfind(".resource") :] if ".resource" in loc else ".contained[" in loc
            )
            run.env = EvalEnv(
                value, env.resource if inner else value, env.member_of, env.resolve, env.conforms
            )
            try:
                self._check(value, prof.root, loc, run)
            finally:
                run.env = env
            return True
        self._check(value, prof.root, loc, run)
        return True

    def check_extension(self, obj: dict[str, Any], loc: str, run: Run, elem: Elem | None) -> None:
        """An Extension (the structure walk's hook): a URL, and the definition it names, which must be known."""
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
        known = self.validate(obj, url, loc, run, explicit=False, quiet_unknown=True)
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

    def _check(self, value: Any, node: PNode, loc: str, run: Run, type_hint: str | None = None) -> None:
        if node.own_checks:
            self._own(value, node, loc, run, type_hint)
        if not isinstance(value, dict):
            return
        for cnode in node.kids:
            if cnode.shallow:  # present and only counted: settle it here, without a call
                val = value.get(cnode.name)
                if val is not None:
                    if cnode.check_min or cnode.check_max:
                        self._counted(len(val) if isinstance(val, list) else 1, cnode, loc, run)
                    continue
            self._child(value, cnode, loc, run)

    def _own(self, value: Any, node: PNode, loc: str, run: Run, type_hint: str | None) -> None:
        """The checks a node makes on the value itself (fixed, ranges, bindings, targets, profiles)."""
        if node.fixed_kind is not None:
            if node.fixed_kind == "fixed":
                if not equal(value, node.fixed):
                    run.add(
                        "error",
                        "value",
                        loc,
                        "fixed-value",
                        M["fixed-value"].format(expected=show(node.fixed)),
                    )
            elif not pattern(value, node.fixed):
                run.add(
                    "error",
                    "value",
                    loc,
                    "pattern-value",
                    M["pattern-value"].format(expected=show(node.fixed)),
                )
        if node.min_value is not None or node.max_value is not None:
            self._range(value, node, loc, run)
        if node.max_length is not None and isinstance(value, str) and len(value) > node.max_length:
            run.add(
                "error", "value", loc, "max-length", M["max-length"].format(n=len(value), max=node.max_length)
            )
        if (node.binding is not None or node.extra_bindings) and "terminology" in run.layers:
            tc = node.type_code or type_hint or ("code" if isinstance(value, str) else "CodeableConcept")
            for strength, vs in ([node.binding] if node.binding else []) + node.extra_bindings:
                check_binding(self.ctx.terminology, value, tc, strength, vs, loc, run)
        if node.targets is not None and isinstance(value, dict):
            ref = value.get("reference")
            if isinstance(ref, str):
                m = re.search(r"(?:^|/)([A-Z][A-Za-z]+)/[^/]+(?:/_history/[^/]+)?$", ref)
                if m and m.group(1) not in node.targets:
                    run.add(
                        "error",
                        "structure",
                        f"{loc}.reference",
                        "reference-target",
                        M["reference-target"].format(got=m.group(1), allowed=", ".join(sorted(node.targets))),
                    )
        if node.target_profiles and isinstance(value, dict):
            ref = value.get("reference")
            if isinstance(ref, str) and (run.in_bundle or ref[:1] == "#"):  # only local targets are seen
                self._target_profiles(ref, node.target_profiles, loc, run)
        if (
            node.aggregation is not None
            and isinstance(value, dict)
            and isinstance(value.get("reference"), str)
        ):
            self._aggregation(value["reference"], node.aggregation, loc, run)
        if node.type_profiles and node.type_code != "Extension" and isinstance(value, dict):
            profs = list(node.type_profiles)
            rt = value.get("resourceType")
            if rt is not None:  # several profiles: the value must meet the one for its type
                profs = [
                    p for p in profs if self.ctx.schema.profile_types.get(p.split("|")[0], rt) == rt
                ] or profs[:1]
            if len(profs) == 1:
                self.validate(value, profs[0], loc, run, explicit=False)
            else:
                self._any_profile(value, profs, loc, run)
        if node.constraints and "invariants" in run.layers:
            check_invariants(value, node.constraints, loc, run)

    def _target_profiles(self, ref: str, profiles: tuple[str, ...], loc: str, run: Run) -> None:
        """targetProfile: a target found in the Bundle or among the contained resources must meet one.

        A target that claims a suitable profile in ``meta.profile`` is judged where it stands (its
        own findings are already reported there); one outside the instance is not judged.
        """
        env = run.env
        target: Any = None
        if ref.startswith("#"):
            root = env.root if env is not None else None
            for c in seq(root.get("contained")) if isinstance(root, dict) else ():
                if isinstance(c, dict) and c.get("id") == ref[1:]:
                    target = c
        elif run.in_bundle and env is not None and env.resolve is not None:
            target = env.resolve(ref)
        if not isinstance(target, dict):
            return
        rt = target.get("resourceType")
        meta = target.get("meta")
        claimed = (
            [u for u in seq(meta.get("profile")) if isinstance(u, str)] if isinstance(meta, dict) else []
        )
        if any(self.derives_from(c.split("|")[0], p) for c in claimed for p in profiles):
            return
        candidates = [p for p in profiles if self.ctx.schema.profile_types.get(p) in (rt, None)]
        known = [p for p in candidates if self.get(p) is not None]
        if not known:
            return  # the base layer reports a wrong type; unknown profiles cannot be judged
        key = (id(target), "|".join(known), "target-profile")
        if key in run.profiled:
            return
        run.profiled.add(key)
        for p in known:
            trial = run.trial()
            self.validate(target, p, "target", trial, explicit=False)
            if not any(i.severity in ("error", "fatal") for i in trial.issues):
                return
        run.add(
            "error",
            "structure",
            f"{loc}.reference",
            "reference-target-profile",
            M["reference-target-profile"].format(ref=ref, profiles=", ".join(known)),
        )

    def _aggregation(self, ref: str, agg: frozenset[str], loc: str, run: Run) -> None:
        """ElementDefinition.type.aggregation without 'referenced': the target must be contained or bundled."""
        if ref.startswith("#"):
            if "contained" not in agg:
                run.add(
                    "error",
                    "structure",
                    f"{loc}.reference",
                    "reference-aggregation",
                    M["reference-aggregation"].format(ref=ref, allowed=", ".join(sorted(agg))),
                )
            return  # whether the contained resource exists is checked by the base layer
        env = run.env
        if (
            "bundled" in agg
            and run.in_bundle
            and env is not None
            and env.resolve is not None
            and env.resolve(ref) is not None
        ):
            return
        run.add(
            "error",
            "not-found",
            f"{loc}.reference",
            "reference-aggregation",
            M["reference-aggregation"].format(ref=ref, allowed=", ".join(sorted(agg))),
        )

    def _any_profile(self, value: Any, profs: list[str], loc: str, run: Run) -> None:
        """Several allowed profiles: conforming to one is enough; else report against the first."""
        first: list[Any] | None = None
        for p in profs:
            trial = run.trial(share_profiled=False)
            self.validate(value, p, loc, trial, explicit=False)
            if not any(i.severity in ("error", "fatal") for i in trial.issues):
                run.issues.extend(trial.issues)
                return
            if first is None:
                first = trial.issues
        run.issues.extend(first or ())

    def _range(self, value: Any, node: PNode, loc: str, run: Run) -> None:
        v = value.get("value") if isinstance(value, dict) else value
        for limit, rule, below in ((node.min_value, "min-value", True), (node.max_value, "max-value", False)):
            if limit is None:
                continue
            lim = limit.get("value") if isinstance(limit, dict) else limit
            if isinstance(limit, dict) and isinstance(v, str):
                lim = _relative_date(limit, -1 if below else 1)  # minValueDuration: no earlier than now - d
                if lim is None:
                    continue
            cmp = compare(v, lim)
            if cmp is None:
                continue
            if (below and cmp < 0) or (not below and cmp > 0):
                run.add("error", "value", loc, rule, M[rule].format(value=v, limit=lim))

    def _child(self, obj: dict[str, Any], cnode: PNode, loc: str, run: Run) -> None:
        name = cnode.name
        if cnode.choice_keys is None:
            val = obj.get(name)
            if val is None:
                if cnode.primitive and obj.get("_" + name) is not None:
                    ext = obj["_" + name]
                    n = len(ext) if isinstance(ext, list) else 1
                else:
                    n = 0
            else:
                n = len(val) if isinstance(val, list) else 1
            # Most nodes only need a count: locations are built only when there is more to check.
            if n and not cnode.deep and not cnode.check_min and not cnode.check_max:
                return
            if n == 0 and cnode.choice_base is not None and cnode.must_support:
                # a type slice (value[x]:valueQuantity) nests in its choice: when no value[x] of any
                # type is present, the choice's own absence is the finding, not each type's
                self._counted(0, cnode, loc, run, ms=_choice_present(obj, cnode.choice_base))
                return
            self._counted(n, cnode, loc, run)
            if n == 0 or val is None or not cnode.deep:
                return
            if isinstance(val, list):
                items = [(f"{loc}.{name}[{i}]", v) for i, v in enumerate(val)]
            else:
                items = [(f"{loc}.{name}", val)]
            hint = None
        else:
            items, hint, disallowed = self._choice_items(obj, cnode, loc, run)
            n = len(items) + disallowed
            self._counted(n, cnode, loc, run)
            if n == 0 or not cnode.deep:
                return
        if cnode.slicing is not None and cnode.slices:
            self._slices(items, cnode, loc, run)
        else:
            if (
                hint is not None
                and hint[:1].isupper()
                and self.ctx.schema.is_primitive(hint[0].lower() + hint[1:])
            ):
                hint = hint[0].lower() + hint[1:]
            for sub, v in items:
                if v is not None:
                    self._check(v, cnode, sub, run, hint)

    def _choice_items(
        self, obj: dict[str, Any], cnode: PNode, loc: str, run: Run
    ) -> tuple[list[tuple[str, Any]], str | None, int]:
        assert cnode.choice_keys is not None
        items: list[tuple[str, Any]] = []
        hint: str | None = None
        disallowed = 0
        for k, v in obj.items():
            if k[:1] == "_" and k[1:] not in obj:
                k, v = k[1:], None  # a primitive choice carried only by its extension
            if k.startswith(cnode.name) and k[len(cnode.name) :][:1].isupper():
                if k not in cnode.choice_keys:
                    disallowed += 1
                    run.add(
                        "error",
                        "structure",
                        f"{loc}.{k}",
                        "type-not-allowed",
                        M["type-not-allowed"].format(
                            type=k[len(cnode.name) :], path=cnode.path, allowed=", ".join(cnode.choice_keys)
                        ),
                    )
                else:
                    items.append((f"{loc}.{k}", v))
                    hint = k[len(cnode.name) :]
        return items, hint, disallowed

    def _counted(self, n: int, cnode: PNode, loc: str, run: Run, ms: bool = True) -> None:
        """Cardinality and must-support, which need only the number of values.

        Must-support absence is reported for the children of present elements only (the walk never
        descends into absent ones), so an absent parent is one finding, not one per descendant.
        """
        if cnode.check_min and n < cnode.min:
            run.add(
                "error",
                "required",
                f"{loc}.{cnode.name}",
                "cardinality-min",
                M["cardinality-min"].format(path=cnode.path, min=cnode.min, n=n),
            )
        if cnode.check_max and cnode.max is not None and n > cnode.max:
            run.add(
                "error",
                "structure",
                f"{loc}.{cnode.name}",
                "cardinality-max",
                M["cardinality-max"].format(path=cnode.path, max=cnode.max, n=n),
            )
        if n == 0 and ms and cnode.must_support and cnode.min == 0:
            where = f"{loc}.{cnode.name}"
            if (where, cnode.path) not in run.ms_seen:
                run.ms_seen.add((where, cnode.path))
                run.add(
                    "information",
                    "informational",
                    where,
                    "must-support",
                    M["must-support"].format(path=cnode.path),
                )

    def _slices(self, items: list[tuple[str, Any]], cnode: PNode, loc: str, run: Run) -> None:
        assert cnode.slicing is not None
        counts = [0] * len(cnode.slices)
        last_slice = -1
        for sub, v in items:
            if v is None:
                continue
            index = cnode.slice_index
            if index is _MISSING:
                index = cnode.slice_index = _slice_index(cnode)
            if index is not None:  # one value discriminator with plain string values: a dict look-up
                path, table = index
                hits = [
                    table[g] for g in self._eval_path([v], path, run) if isinstance(g, str) and g in table
                ]
                hit = min(hits) if hits else -1
            else:
                hit = -1
                for si, (_name, snode) in enumerate(cnode.slices):
                    if self._matches(v, snode, cnode.slicing, run):
                        hit = si
                        break
            if hit < 0:
                if cnode.slicing.rules == "closed":
                    run.add(
                        "error", "structure", sub, "slice-closed", M["slice-closed"].format(path=cnode.path)
                    )
                self._check(v, cnode, sub, run)
                continue
            if cnode.slicing.ordered and hit < last_slice:
                run.add("error", "structure", sub, "slice-order", M["slice-order"].format(path=cnode.path))
            last_slice = max(last_slice, hit)
            counts[hit] += 1
            self._check(v, cnode, sub, run)
            self._check(v, cnode.slices[hit][1], sub, run)
        for si, (name, snode) in enumerate(cnode.slices):
            n = counts[si]
            if n < snode.min:
                run.add(
                    "error",
                    "required",
                    f"{loc}.{cnode.name}",
                    "cardinality-min",
                    M["cardinality-min"].format(path=f"{cnode.path}:{name}", min=snode.min, n=n),
                )
            if snode.max is not None and n > snode.max:
                run.add(
                    "error",
                    "structure",
                    f"{loc}.{cnode.name}",
                    "cardinality-max",
                    M["cardinality-max"].format(path=f"{cnode.path}:{name}", max=snode.max, n=n),
                )

    # ------------------------------------------------------------------ discriminators
    def _matches(self, value: Any, snode: PNode, slicing: Slicing, run: Run) -> bool:
        for dtype, dpath in slicing.discriminators:
            got = self._eval_path([value], dpath, run)
            if dtype in ("value", "pattern"):
                expected = _expected(snode, dpath)
                if expected is None:
                    continue
                kind, values = expected
                if kind == "binding":
                    vs = values[0]
                    if not any(member_of(self.ctx.terminology, g, vs) for g in got):
                        return False
                    continue
                if not any(pattern(g, e) if kind == "pattern" else equal(g, e) for g in got for e in values):
                    return False
            elif dtype == "exists":
                target = _walk_node(snode, dpath)
                if target is None:
                    continue
                want = target.min >= 1 if target.max != 0 else False
                if bool(got) != want:
                    return False
            elif dtype in ("type", "profile"):
                target = _walk_node(snode, dpath) or snode
                if dtype == "type":
                    want_types = {target.type_code} if target.type_code else set()
                else:
                    want_types = {self.ctx.schema.profile_types.get(p, "") for p in target.type_profiles}
                if not want_types:
                    continue
                if not any(
                    g.get("resourceType") in want_types
                    if isinstance(g, dict) and "resourceType" in g
                    else any(_json_type_matches(g, t) for t in want_types)
                    for g in got
                ):
                    return False
        return True

    def _eval_path(self, values: list[Any], path: str, run: Run) -> list[Any]:
        for seg in _split_path(path):
            if seg == "$this":
                continue
            out: list[Any] = []
            m = _EXT_CALL.fullmatch(seg)
            if m:
                for v in values:
                    if isinstance(v, dict):
                        out.extend(
                            e
                            for e in seq(v.get("extension"))
                            if isinstance(e, dict) and e.get("url") == m.group(1)
                        )
            elif seg == "resolve()":
                env = run.env
                for v in values:
                    ref = v.get("reference") if isinstance(v, dict) else None
                    if isinstance(ref, str) and env is not None and env.resolve is not None:
                        hit = env.resolve(ref)
                        if hit is not None:
                            out.append(hit)
            elif _OFTYPE.fullmatch(seg):
                out = values
            else:
                for v in values:
                    if not isinstance(v, dict):
                        continue
                    x = v.get(seg)
                    if x is None:
                        for k, xv in v.items():
                            if k.startswith(seg) and k[len(seg) :][:1].isupper():
                                x = xv
                                break
                    if isinstance(x, list):
                        out.extend(x)
                    elif x is not None:
                        out.append(x)
            values = out
        return values


def _choice_present(obj: dict[str, Any], base: str) -> bool:
    """Whether any type of choice element ``base`` (``value`` → valueX, _valueX) is in ``obj``."""
    n = len(base)
    for k in obj:
        if k[:1] == "_":
            k = k[1:]
        if k.startswith(base) and k[n : n + 1].isupper():
            return True
    return False


def _slice_index(cnode: PNode) -> tuple[str, dict[str, int]] | None:
    """A look-up table when one value/pattern discriminator selects slices by a plain string."""
    sl = cnode.slicing
    if sl is None or len(sl.discriminators) != 1 or sl.discriminators[0][0] not in ("value", "pattern"):
        return None
    path = sl.discriminators[0][1]
    table: dict[str, int] = {}
    for si, (_name, snode) in enumerate(cnode.slices):
        exp = _expected(snode, path)
        if exp is None or exp[0] == "binding" or not exp[1] or not all(isinstance(x, str) for x in exp[1]):
            return None
        for x in exp[1]:
            table.setdefault(x, si)
    return path, table


def _ensure(nodes: dict[str, PNode], eid: str) -> PNode:
    """Create the missing ancestors of a differential element that dives into a data type."""
    node = nodes.get(eid)
    if node is not None:
        return node
    last = eid.rsplit(".", 1)[-1].split(":", 1)[0]
    node = PNode(
        eid.split(":", 1)[0] if ":" not in eid.rsplit(".", 1)[-1] else eid,
        last[:-3] if last.endswith("[x]") else last,
    )
    nodes[eid] = node
    if "." in eid:
        parent = _ensure(nodes, eid.rsplit(".", 1)[0])
        parent.children[node.name] = node
    return node


@functools.lru_cache(maxsize=4096)
def _split_path(path: str) -> tuple[str, ...]:
    return tuple(_split_path_uncached(path))


def _split_path_uncached(path: str) -> list[str]:
    out: list[str] = []
    depth = 0
    cur = ""
    for ch in path:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "." and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


def _walk_node(node: PNode, path: str) -> PNode | None:
    for seg in _split_path(path):
        if seg == "$this" or _OFTYPE.fullmatch(seg):
            continue
        m = _EXT_CALL.fullmatch(seg)
        if m:
            ext = node.children.get("extension")
            if ext is None:
                return None
            nxt = next((s for _n, s in ext.slices if m.group(1) in s.type_profiles), None)
            if nxt is None:
                return None
            node = nxt
            continue
        child = node.children.get(seg)
        if child is None:
            child = next(
                (c for k, c in node.children.items() if k.startswith(seg) and k[len(seg) :][:1].isupper()),
                None,
            )
        if child is None:
            return None
        node = child
    return node


def _expected(snode: PNode, path: str) -> tuple[str, list[Any]] | None:
    """What a value/pattern discriminator expects in this slice: fixed/pattern values or a binding."""
    cache = snode.expect_cache
    if path in cache:
        return cache[path]
    segs = [s for s in _split_path(path) if s != "$this" and not _OFTYPE.fullmatch(s)]
    cache[path] = hit = _expected_at(snode, segs)
    return hit


def _apply(values: list[Any], segs: list[str]) -> list[Any]:
    for rest in segs:
        nxt: list[Any] = []
        for v in values:
            x = v.get(rest) if isinstance(v, dict) else None
            if isinstance(x, list):
                nxt.extend(x)
            elif x is not None:
                nxt.append(x)
        values = nxt
    return values


def _child_named(node: PNode, seg: str) -> PNode | None:
    m = _EXT_CALL.fullmatch(seg)
    if m:
        ext = node.children.get("extension")
        return next((s for _n, s in ext.slices if m.group(1) in s.type_profiles), None) if ext else None
    return node.children.get(seg) or next(
        (c for k, c in node.children.items() if k.startswith(seg) and k[len(seg) :][:1].isupper()), None
    )


def _expected_at(node: PNode, segs: list[str]) -> tuple[str, list[Any]] | None:
    if node.fixed_kind is not None:
        vals = _apply([node.fixed], segs)
        return ("pattern" if node.fixed_kind == "pattern" else "fixed", vals) if vals else None
    if not segs:
        synth = _synth(node)
        if synth is not None:
            return ("pattern", [synth])
        if node.binding is not None:
            return ("binding", [node.binding[1]])
        return None
    seg = segs[0]
    if seg == "url" and "url" not in node.children and node.type_profiles:
        return ("fixed", [node.type_profiles[0]])
    nxt = _child_named(node, seg)
    if nxt is None:
        if seg == "url" and node.type_profiles:
            return ("fixed", [node.type_profiles[0]])
        return None
    found: list[tuple[str, list[Any]]] = []
    r = _expected_at(nxt, segs[1:])
    if r is not None:
        found.append(r)
    for _n, sl in nxt.slices:
        r = _expected_at(sl, segs[1:])
        if r is not None:
            found.append(r)
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    kinds = {k for k, _ in found}
    if "binding" in kinds and len(kinds) > 1:
        found = [f for f in found if f[0] != "binding"]
    kind = "pattern" if any(k == "pattern" for k, _ in found) else found[0][0]
    return (kind, [v for _, vals in found for v in vals])


def _synth(node: PNode, depth: int = 0) -> Any:
    """A pattern implied by fixed/pattern values below ``node`` (and its required slices)."""
    if node.fixed_kind is not None:
        return node.fixed
    if depth > 6:
        return None
    out: dict[str, Any] = {}
    for name, child in node.children.items():
        parts = []
        p = _synth(child, depth + 1)
        if p is not None:
            parts.append(p)
        for _n, s in child.slices:
            if s.min >= 1:
                sp = _synth(s, depth + 1)
                if sp is not None:
                    parts.append(sp)
        if len(parts) == 1 and not child.slices:
            out[name] = parts[0]
        elif parts:
            out[name] = parts
    return out or None


def _activate(node: PNode) -> bool:
    active = bool(
        node.check_min
        or node.check_max
        or node.fixed_kind
        or node.extra_bindings
        or node.min_value is not None
        or node.max_value is not None
        or node.max_length is not None
        or node.binding
        or node.type_profiles
        or node.targets
        or node.target_profiles
        or node.aggregation
        or node.constraints
        or node.must_support
        or node.slicing
        or node.choice_keys
    )
    own = bool(
        node.fixed_kind
        or node.binding
        or node.extra_bindings
        or node.type_profiles
        or node.targets
        or node.target_profiles
        or node.constraints
        or node.aggregation
        or node.min_value is not None
        or node.max_value is not None
        or node.max_length is not None
    )
    deep = own
    node.own_checks = own
    for c in node.children.values():
        if _activate(c):
            active = True
            deep = True
    for _n, s in node.slices:
        _activate(s)
        active = True
        deep = True
    node.active = active
    node.deep = deep or bool(node.slicing)
    node.kids = tuple(c for c in node.children.values() if c.active)
    node.shallow = not node.deep and node.choice_keys is None
    return active


def _relative_date(duration: dict[str, Any], sign: int) -> str | None:
    """Today shifted by a UCUM time Duration (a, mo, wk, d), as an ISO date; None for other units."""
    import datetime as dt

    amount, unit = duration.get("value"), duration.get("code") or duration.get("unit")
    if not isinstance(amount, int | float) or isinstance(amount, bool):
        return None
    today = dt.date.today()
    if unit in ("a", "mo"):
        months = int(amount * (12 if unit == "a" else 1)) * sign
        y, m = divmod(today.year * 12 + today.month - 1 + months, 12)
        return dt.date(y, m + 1, min(today.day, 28)).isoformat()
    days = {"wk": 7, "d": 1}.get(str(unit))
    if days is None:
        return None
    return (today + dt.timedelta(days=sign * amount * days)).isoformat()


def _json_type_matches(value: Any, type_code: str) -> bool:
    if type_code in ("string", "code", "uri", "url", "canonical", "id", "markdown", "date", "dateTime"):
        return isinstance(value, str)
    if type_code == "boolean":
        return isinstance(value, bool)
    if type_code in ("integer", "decimal", "positiveInt", "unsignedInt"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_code == "Quantity":
        return isinstance(value, dict) and ("value" in value or "unit" in value or "code" in value)
    if type_code == "CodeableConcept":
        return isinstance(value, dict) and ("coding" in value or "text" in value)
    if type_code == "Reference":
        return isinstance(value, dict) and (
            "reference" in value or "identifier" in value or "display" in value
        )
    if type_code == "Period":
        return isinstance(value, dict) and ("start" in value or "end" in value)
    return isinstance(value, dict)
