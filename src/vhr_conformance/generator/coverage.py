"""The coverage cohort and the computation of what a cohort covers against what the IG asks.

What the IG asks is read from the built package: must-support elements of every VHR profile
(snapshots, slices resolved by their discriminators), every code of each required ValueSet of
ours, every search parameter of the CapabilityStatement. :func:`coverage_report` measures a
cohort against that list; the cohort is built so the report has no gap where coverage is
feasible, and a test checks it, so the claim is computed rather than written by hand.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from vhr_conformance.generator.build import REFERENCE_NOW, EncounterSpec, PatientBuilder, Spec
from vhr_conformance.generator.document import submissions, to_document
from vhr_conformance.generator.terminology import IGResources, load_ig
from vhr_conformance.generator.world import World, build_world
from vhr_conformance.names import CANONICAL

# A required ValueSet with more codes than this cannot be exhausted by a small cohort.
FEASIBLE_CODES = 100
# Search parameters whose values the server assigns (no value exists before the data is stored).
SERVER_ASSIGNED = frozenset(("_id", "_lastUpdated"))


# --- what the IG asks ------------------------------------------------------------------------


@dataclass(slots=True)
class Requirements:
    must_support: dict[str, list[str]]  # profile URL → element ids
    required_codes: dict[str, tuple[str, list[str]]]  # ValueSet URL → (CodeSystem URL, codes)
    search_params: dict[str, list[tuple[str, str, bool]]]  # type → [(name, expression, faithful)]
    profiles: dict[str, dict]  # profile URL → StructureDefinition
    # Core ValueSets bound (required) on must-support elements of our profiles: reported, not
    # required, since exhausting every status code (entered-in-error…) is not realistic data.
    core_required_codes: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    core_binding_sites: dict[str, list[tuple[str, str]]] = field(
        default_factory=dict
    )  # VS → (profile, element)


def _vs_codes(ig: IGResources, vs: dict) -> tuple[str, list[str]] | None:
    compose = vs.get("compose", {})
    for inc in compose.get("include", []):
        system = inc.get("system", "")
        if inc.get("concept"):
            return system, [c["code"] for c in inc["concept"]]
        view = ig.code_systems.get(system)
        if view is not None:
            return system, list(view.codes)
    return None


def _get_sp(url: str) -> dict | None:
    try:
        from vhr_conformance.ig import load_vhr_packages

        sp = load_vhr_packages().get(url)
    except Exception:
        sp = None
    return sp or load_ig().search_parameters.get(url)


def _core_vs_codes(vs_url: str) -> tuple[str, list[str]] | None:
    """Codes of a core ValueSet that includes one whole CodeSystem (no filters), else None."""
    try:
        from vhr_conformance.ig import load_vhr_packages

        pkgs = load_vhr_packages()
        vs = pkgs.get(vs_url)
    except Exception:
        return None
    includes = (vs or {}).get("compose", {}).get("include", [])
    if len(includes) != 1 or includes[0].get("filter") or includes[0].get("valueSet"):
        return None
    inc = includes[0]
    if inc.get("concept"):
        return inc["system"], [c["code"] for c in inc["concept"]]
    cs = pkgs.get(inc.get("system", ""))
    if not cs:
        return None
    codes: list[str] = []

    def walk(concepts: list[dict]) -> None:
        for c in concepts:
            codes.append(c["code"])
            walk(c.get("concept", []))

    walk(cs.get("concept", []))
    return (inc["system"], codes) if codes else None


def _sp_expression(name: str, definition: str, rtype: str) -> tuple[str, bool] | None:
    """The FHIRPath of a declared search parameter restricted to ``rtype``.

    Returns ``(expression, matches_definition)``; the flag is False when the cited definition
    has no expression for this resource type and the core ``{type}-{name}`` one was used.
    """
    if name in ("_id", "_lastUpdated", "_tag", "_profile"):
        return {
            "_id": "id",
            "_lastUpdated": "meta.lastUpdated",
            "_tag": "meta.tag",
            "_profile": "meta.profile",
        }[name], True
    for url, faithful in ((definition, True), (f"http://hl7.org/fhir/SearchParameter/{rtype}-{name}", False)):
        sp = _get_sp(url)
        if sp is None:
            continue
        expr = sp.get("expression") or ""
        parts = [p.strip() for p in expr.split("|")]
        mine = [p for p in parts if p.startswith((rtype + ".", f"({rtype}."))]
        if mine:
            return " | ".join(mine), faithful
    return None


@lru_cache(maxsize=1)
def requirements() -> Requirements:
    """Everything the IG asks a complete cohort to exercise."""
    ig = load_ig()
    ms: dict[str, list[str]] = {}
    profiles: dict[str, dict] = {}
    bound: dict[str, tuple[str, list[str]]] = {}
    core: dict[str, tuple[str, list[str]]] = {}
    sites: dict[str, list[tuple[str, str]]] = {}
    for url, sd in sorted(ig.structure_definitions.items()):
        if not url.startswith(CANONICAL) or (sd.get("kind") != "resource" and sd.get("type") != "Extension"):
            continue
        for el in sd.get("snapshot", {}).get("element", []):
            b = el.get("binding", {})
            vs_url = (b.get("valueSet") or "").split("|")[0]
            if b.get("strength") != "required" or not vs_url:
                continue
            if vs_url.startswith(CANONICAL) and vs_url not in bound:
                vs = ig.value_sets.get(vs_url)
                codes = _vs_codes(ig, vs) if vs else None
                if codes:
                    bound[vs_url] = codes
            elif not vs_url.startswith(CANONICAL) and el.get("mustSupport"):
                if vs_url not in core:
                    codes = _core_vs_codes(vs_url)
                    if codes and len(codes[1]) <= FEASIBLE_CODES:
                        core[vs_url] = codes
                if vs_url in core:
                    sites.setdefault(vs_url, []).append((url, el["id"]))
        if sd.get("type") == "Extension" or sd.get("derivation") != "constraint":
            continue
        profiles[url] = sd
        ms[url] = [el["id"] for el in sd.get("snapshot", {}).get("element", []) if el.get("mustSupport")]
    params: dict[str, list[tuple[str, str, bool]]] = {}
    for cs in ig.capability_statements:
        for rest in cs.get("rest", []):
            for res in rest.get("resource", []):
                for sp in res.get("searchParam", []):
                    found = _sp_expression(sp["name"], sp.get("definition", ""), res["type"])
                    if found:
                        params.setdefault(res["type"], []).append((sp["name"], *found))
    return Requirements(ms, bound, params, profiles, core, sites)


# --- navigating instances by element id ------------------------------------------------------


def _children(node: Any, name: str) -> list[Any]:
    if not isinstance(node, dict):
        return []
    if name.endswith("[x]"):
        stem = name[:-3]
        out: list[Any] = []
        for k, v in node.items():
            if k.startswith(stem) and len(k) > len(stem) and k[len(stem)].isupper():
                out.extend(v if isinstance(v, list) else [v])
        return out
    v = node.get(name)
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _matches(value: Any, pattern: Any) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(_matches(value.get(k), pv) for k, pv in pattern.items())
    if isinstance(pattern, list):
        vals = value if isinstance(value, list) else [value]
        return all(any(_matches(v, p) for v in vals) for p in pattern)
    return value == pattern


def _fixed(el: dict) -> Any:
    for k, v in el.items():
        if k.startswith(("fixed", "pattern")):
            return v
    return None


def _strip_slices(eid: str) -> str:
    return re.sub(r":[^.]+", "", eid)


class ProfileIndex:
    """Element lookup and slice predicates of one StructureDefinition snapshot."""

    def __init__(self, sd: dict, ig: IGResources) -> None:
        self.ig = ig
        self.elements = {el["id"]: el for el in sd.get("snapshot", {}).get("element", [])}
        self.by_stripped: dict[str, list[dict]] = {}
        for eid, el in self.elements.items():
            self.by_stripped.setdefault(_strip_slices(eid), []).append(el)

    def slice_predicate(self, slice_id: str, name: str) -> Any:
        el = self.elements.get(slice_id, {})
        if name in ("extension", "modifierExtension"):
            urls = [p for t in el.get("type", []) for p in t.get("profile", [])]
            return lambda item: isinstance(item, dict) and item.get("url") in urls
        base_id = slice_id.rsplit(":", 1)[0]
        slicing = self.elements.get(base_id, {}).get("slicing", {})
        checks = []
        for d in slicing.get("discriminator", []):
            path, kind = d.get("path", "$this"), d.get("type")
            if kind == "type" or kind == "profile":
                target = self.elements.get(f"{slice_id}.{path}") if path != "$this" else el
                profs = [p for t in (target or {}).get("type", []) for p in t.get("profile", [])]
                types = set()
                for p in profs:
                    sd = self.ig.structure_definitions.get(p)
                    types.add(sd["type"] if sd else p.rsplit("/", 1)[-1])
                checks.append((path, "type", types))
                continue
            if path == "$this":
                want = _fixed(el)
            else:
                target = self.elements.get(f"{slice_id}.{path}")
                if target is None:  # nested slices (e.g. core bp: code.coding:SBPCode.code)
                    cands = self.by_stripped.get(_strip_slices(f"{slice_id}.{path}"), [])
                    cands = [c for c in cands if c["id"].startswith(slice_id + ".") and _fixed(c) is not None]
                    target = cands[0] if cands else None
                want = _fixed(target) if target else None
            if want is not None:
                checks.append((path, "value", want))

        def pred(item: Any) -> bool:
            for path, kind, want in checks:
                vals = [item]
                if path != "$this":
                    for seg in path.split("."):
                        vals = [c for v in vals for c in _children(v, seg)]
                if kind == "type":
                    if not any(isinstance(v, dict) and v.get("resourceType") in want for v in vals):
                        return False
                elif not any(_matches(v, want) for v in vals):
                    return False
            return bool(checks)

        return pred

    def nodes(self, resource: dict, element_id: str) -> list[Any]:
        """The values an element id designates in an instance (slices filtered)."""
        segs = element_id.split(".")
        nodes: list[Any] = [resource]
        prefix = segs[0]
        for seg in segs[1:]:
            name, _, slc = seg.partition(":")
            prefix = f"{prefix}.{seg}"
            if slc and name.endswith("[x]"):  # type slice of a choice: the JSON key is the slice name
                nodes = [c for n in nodes for c in _children(n, slc)]
            else:
                nodes = [c for n in nodes for c in _children(n, name)]
                if slc:
                    pred = self.slice_predicate(prefix, name)
                    nodes = [n for n in nodes if pred(n)]
            if not nodes:
                return []
        return nodes

    def present(self, resource: dict, element_id: str) -> bool:
        return bool(self.nodes(resource, element_id))


# --- the report ------------------------------------------------------------------------------


@dataclass(slots=True)
class CoverageReport:
    """What a cohort covers of the IG's asks, and what it misses."""

    must_support_total: int = 0
    must_support_missing: list[str] = field(default_factory=list)  # "profile-id: element id"
    codes_total: int = 0
    codes_missing: dict[str, list[str]] = field(default_factory=dict)  # VS id → codes
    codes_infeasible: dict[str, int] = field(default_factory=dict)  # VS id → codes covered
    search_total: int = 0
    search_missing: list[str] = field(default_factory=list)  # "Type.name"
    search_server_assigned: list[str] = field(default_factory=list)
    # Declared with a definition that has no expression for the type (an IG defect to report).
    search_definition_mismatch: list[str] = field(default_factory=list)
    # Must-support elements that a patient cohort cannot carry, with the reason.
    must_support_not_applicable: dict[str, str] = field(default_factory=dict)
    core_codes: dict[str, str] = field(default_factory=dict)  # informational: VS id → "covered/total"
    edge_cases: dict[str, bool] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return (
            not self.must_support_missing
            and not self.codes_missing
            and not self.search_missing
            and all(self.edge_cases.values())
        )

    def to_dict(self) -> dict:
        return {
            "complete": self.complete,
            "mustSupport": {"total": self.must_support_total, "missing": self.must_support_missing},
            "requiredCodes": {
                "total": self.codes_total,
                "missing": self.codes_missing,
                "infeasible": self.codes_infeasible,
            },
            "searchParameters": {
                "total": self.search_total,
                "missing": self.search_missing,
                "serverAssigned": self.search_server_assigned,
                "definitionMismatch": self.search_definition_mismatch,
            },
            "mustSupportNotApplicable": self.must_support_not_applicable,
            "coreRequiredCodesInformational": self.core_codes,
            "edgeCases": self.edge_cases,
        }


def not_applicable(profile_id: str, element_id: str) -> str | None:
    """Why a must-support element cannot appear in patient data, or None if it can.

    Kept deliberately narrow: each entry is a structural impossibility, not a gap to hide.
    """
    if profile_id == "vhr-operationoutcome":
        return "server output, not patient data / dữ liệu do máy chủ trả về"
    if profile_id in ("vhr-observation-body-height", "vhr-observation-body-weight") and (
        element_id.startswith("Observation.component")
    ):
        return "a single measurement has no components (core vitalsigns base element)"
    if profile_id == "vhr-observation-blood-pressure" and element_id.startswith("Observation.value[x]"):
        return "the panel's values are in its components (core bp profile)"
    return None


def _resources(bundles: Iterable[dict]) -> Iterator[dict]:
    for b in bundles:
        yield b
        for e in b.get("entry", []):
            yield e["resource"]


def _codings(node: Any, out: dict[str, set[str]]) -> None:
    if isinstance(node, dict):
        system, code = node.get("system"), node.get("code")
        if isinstance(system, str) and isinstance(code, str):
            out.setdefault(system, set()).add(code)
        for v in node.values():
            if isinstance(v, (dict, list)):
                _codings(v, out)
    elif isinstance(node, list):
        for v in node:
            _codings(v, out)


def edge_cases(patients: list[dict], now: datetime = REFERENCE_NOW) -> dict[str, bool]:
    """Which of the required edge cases the cohort's Patients exhibit."""
    today = now.date().isoformat()

    def age(p: dict) -> float:
        b = p.get("birthDate", today)
        return (int(today[:4]) - int(b[:4])) + (int(today[5:7]) - int(b[5:7])) / 12

    names = [p["name"][0] for p in patients if p.get("name")]
    texts = [n.get("text", "") for n in names]
    folded: dict[str, set[str]] = {}
    for t in texts:
        nfc = unicodedata.normalize("NFC", t)
        plain = "".join(c for c in unicodedata.normalize("NFD", nfc) if not unicodedata.combining(c))
        folded.setdefault(plain.replace("Đ", "D").replace("đ", "d").lower(), set()).add(nfc)
    return {
        "very-old (>= 100 years)": any(age(p) >= 100 for p in patients),
        "newborn (< 28 days)": any(p.get("birthDate", "") >= _minus_days(now, 28) for p in patients),
        "one-letter given name": any(len(g) == 1 for n in names for g in n.get("given", [])[-1:]),
        "names differing only by diacritics": any(len(v) > 1 for v in folded.values()),
        "NFD-encoded name": any(unicodedata.normalize("NFC", t) != t for t in texts),
        "deceased": any("deceasedDateTime" in p or p.get("deceasedBoolean") is True for p in patients),
        "gender unknown (GIOI_TINH 3)": any(p.get("gender") == "unknown" for p in patients),
        "no BHYT": any(
            not any(i.get("system", "").endswith("/bhyt") for i in p.get("identifier", []))
            and not p.get("managingOrganization")
            for p in patients
        ),
    }


def _minus_days(now: datetime, days: int) -> str:
    from datetime import timedelta

    return (now.date() - timedelta(days=days)).isoformat()


def coverage_report(bundles: list[dict], now: datetime = REFERENCE_NOW) -> CoverageReport:
    """Measure a cohort (patient transaction Bundles) against :func:`requirements`.

    Documents and per-encounter submissions are derived from the bundles, as the writer does.
    """
    import fhirpathpy

    req = requirements()
    ig = load_ig()
    report = CoverageReport()
    all_bundles = list(bundles)
    derived = [to_document(b) for b in all_bundles]
    for b in all_bundles:
        derived.extend(submissions(b))
    resources = list(_resources(all_bundles + derived))
    by_profile: dict[str, list[dict]] = {}
    by_type: dict[str, list[dict]] = {}
    seen: set[int] = set()
    for r in resources:
        if id(r) in seen:
            continue
        seen.add(id(r))
        by_type.setdefault(r["resourceType"], []).append(r)
        for p in r.get("meta", {}).get("profile", []):
            by_profile.setdefault(p, []).append(r)
    for url, ids in req.must_support.items():
        index = ProfileIndex(req.profiles[url], ig)
        inst = by_profile.get(url, [])
        pid = url.rsplit("/", 1)[-1]
        for eid in ids:
            report.must_support_total += 1
            why = not_applicable(pid, eid)
            if why:
                report.must_support_not_applicable[f"{pid}: {eid}"] = why
            elif not any(index.present(r, eid) for r in inst):
                report.must_support_missing.append(f"{pid}: {eid}")
    used: dict[str, set[str]] = {}
    for r in resources:
        _codings(r, used)
    for vs_url, (system, codes) in sorted(req.required_codes.items()):
        vs_id = vs_url.rsplit("/", 1)[-1]
        have: set[str] = used.get(system, set())
        if len(codes) > FEASIBLE_CODES:
            report.codes_infeasible[vs_id] = len(have & set(codes))
            continue
        report.codes_total += len(codes)
        missing = [c for c in codes if c not in have]
        if missing:
            report.codes_missing[vs_id] = missing
    indexes = {url: ProfileIndex(sd, ig) for url, sd in req.profiles.items()}
    for vs_url, (_system, codes) in sorted(req.core_required_codes.items()):
        have = set()
        for prof, eid in req.core_binding_sites.get(vs_url, []):
            for r in by_profile.get(prof, []):
                for node in indexes[prof].nodes(r, eid):
                    have.update(_codes_of(node))
        report.core_codes[vs_url.rsplit("/", 1)[-1]] = f"{len(have & set(codes))}/{len(codes)}"
    for rtype, params in sorted(req.search_params.items()):
        for name, expr, faithful in params:
            report.search_total += 1
            key = f"{rtype}.{name}"
            if not faithful:
                report.search_definition_mismatch.append(key)
            if name in SERVER_ASSIGNED:
                report.search_server_assigned.append(key)
                continue
            try:
                fn = fhirpathpy.compile(_simplify(expr), _R4_MODEL)
            except Exception:
                report.search_missing.append(key)
                continue
            if not any(_has_value(fn, r) for r in by_type.get(rtype, [])):
                report.search_missing.append(key)
    patients = by_type.get("Patient", [])
    report.edge_cases = edge_cases(patients, now)
    cards: dict[str, int] = {}
    for r in by_type.get("Coverage", []):
        ref = r.get("beneficiary", {}).get("reference", "")
        cards[ref] = cards.get(ref, 0) + 1
    report.edge_cases["several BHYT cards"] = any(n > 1 for n in cards.values())
    return report


def _codes_of(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        if "coding" in node:
            return [c.get("code", "") for c in node["coding"] if isinstance(c, dict)]
        if "code" in node:
            return [node["code"]]
    return []


def _r4_model() -> dict | None:
    from fhirpathpy.models import models

    return models["r4"]


_R4_MODEL = _r4_model()


def _simplify(expr: str) -> str:
    """fhirpathpy cannot resolve() references; keep the path, drop the type test."""
    return re.sub(r"\.where\(resolve\(\) is \w+\)", "", expr)


def _has_value(fn: Any, resource: dict) -> bool:
    try:
        return bool(fn(resource))
    except Exception:
        return False


# --- the cohort ------------------------------------------------------------------------------

EDGE_NAMES = {
    "very-old": dict(age_days=104 * 365 + 40, family="Phạm", middle="Thị", given="Lành", sex="female"),
    "newborn": dict(age_days=3, family="Trần", middle="Gia", given="Bảo", sex="male"),
    "one-letter-given-name": dict(family="Lê", middle="Văn", given="A", sex="male", age_days=61 * 365),
    "diacritics-1": dict(family="Lê", middle="Thị", given="Hà", sex="female", age_days=35 * 365),
    "diacritics-2": dict(family="Lê", middle="Thị", given="Hạ", sex="female", age_days=36 * 365),
    "nfd-name": dict(
        family="Nguyễn", middle="Thị", given="Thu Hường", sex="female", nfd_name=True, age_days=28 * 365
    ),
    "deceased-in-hospital": dict(age_days=82 * 365, deceased=True, sex="male"),
    "deceased-outside": dict(age_days=77 * 365, deceased=True, sex="female"),
    "no-bhyt": dict(bhyt_cards=0, age_days=30 * 365, passport=True),
    "several-bhyt": dict(bhyt_cards=3, card_formats=["legacy", "bhxh", "cccd"], age_days=40 * 365),
    "gender-unknown": dict(recorded_gender="unknown", age_days=52 * 365 + 200),
}


def coverage_specs(world: World) -> list[tuple[str, Spec]]:
    """One Spec per patient: round-robin every code list over the smallest number of patients.

    The size is the largest per-patient code list that must be exhausted (one ethnicity each),
    or the number of edge cases if larger.
    """
    codes = world.codes
    eth = list(world.ethnicity)
    provinces = list(world.province)
    legacy = sorted(world.legacy)
    forms = list(codes["vhr-form-of-care"])
    cats = list(codes["vhr-patient-category"])
    results = [c for c in codes["vhr-treatment-result"] if c not in ("5", "8")]
    discharges = list(codes["vhr-discharge-type"])
    reasons = list(codes["vhr-visit-reason"])
    blood = list(world.blood)
    occs = list(world.occupations)
    n = max(len(eth), len(EDGE_NAMES))
    labels = list(EDGE_NAMES) + [f"p{k:02d}" for k in range(len(EDGE_NAMES), n)]
    specs: list[tuple[str, Spec]] = []
    for k, label in enumerate(labels):
        base = EDGE_NAMES.get(label, {})
        sp = Spec(**base)  # type: ignore[arg-type]
        if sp.age_days is None:
            sp.age_days = 365 * (1 + (k * 7) % 90) + k * 11
        sp.ethnicity = eth[k]
        sp.province = provinces[k % len(provinces)]
        sp.birth_legacy = next(
            (
                lg
                for lg in legacy[k % len(legacy) :] + legacy
                if world.legacy_successor.get(lg) == sp.province
            ),
            None,
        )
        sp.blood = blood[k % len(blood)]
        if occs:
            sp.occupation = occs[k % len(occs)]
        encs = []
        for j in range(2):
            slot = 2 * k + j
            encs.append(
                EncounterSpec(
                    form=forms[slot % len(forms)],
                    category=cats[slot % len(cats)],
                    result=results[slot % len(results)],
                    discharge=discharges[slot % len(discharges)],
                    reason=reasons[slot % len(reasons)],
                    labs=(slot % 5 == 0) or None,
                    days_ago=30 + 200 * j,
                )
            )
        if label == "deceased-in-hospital":
            encs[0].result, encs[0].discharge, encs[0].form = "5", "1", "03"
            encs[0].days_ago = 0
        if label == "deceased-outside":
            encs[0].result, encs[0].days_ago = "8", 0
        if label == "newborn":
            encs = [EncounterSpec(form="03", icd="P59.9", days_ago=1, category=cats[0])]
        sp.encounters = encs
        if k == len(EDGE_NAMES):
            sp.allergies, sp.surgeries, sp.past_disease, sp.family_history = 5, True, True, 2
            sp.link_history = True
            sp.passport = True
            encs[0].absent_vitals = True
        if k >= len(EDGE_NAMES):
            from vhr_conformance.generator import tables as T

            sp.smoking = T.SMOKING_STATUS[k % len(T.SMOKING_STATUS)][0]
            sp.alcohol = T.ALCOHOL_STATUS[k % len(T.ALCOHOL_STATUS)][0]
        specs.append((label, sp))
    _assign_groups(world, specs)
    return specs


def _assign_groups(world: World, specs: list[tuple[str, Spec]]) -> None:
    """Give every beneficiary group to a patient whose age allows it (greedy, youngest first)."""
    groups = sorted(world.bhyt_groups.items(), key=lambda kv: kv[1][3] - kv[1][2])
    free = [s for _, s in specs if s.bhyt_cards is None]
    for group, (_, _, lo, hi) in groups:
        for s in free:
            age = (s.age_days or 0) // 365
            if lo <= age <= hi:
                s.bhyt_groups = [group]
                s.card_formats = ["legacy"]
                free.remove(s)
                break


def build_coverage_cohort(seed: int = 0, now: datetime = REFERENCE_NOW) -> list[tuple[str, dict]]:
    world = build_world()
    out = []
    for k, (label, spec) in enumerate(coverage_specs(world)):
        out.append((f"{k:02d}-{label}", PatientBuilder(world, seed, 1_000_000 + k, now, spec).build()))
    return out


def write_coverage(
    out: Path, seed: int = 0, now: datetime = REFERENCE_NOW, with_report: bool = True
) -> list[Path]:
    """Write the coverage cohort: ``coverage/``, ``documents/``, ``submissions/`` and the report."""
    cohort = build_coverage_cohort(seed, now)
    files: list[Path] = []
    for sub in ("coverage", "documents", "submissions"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    opt = orjson.OPT_INDENT_2
    for name, bundle in cohort:
        p = out / "coverage" / f"patient-{name}.json"
        p.write_bytes(orjson.dumps(bundle, option=opt) + b"\n")
        files.append(p)
        p = out / "documents" / f"patient-{name}.json"
        p.write_bytes(orjson.dumps(to_document(bundle), option=opt) + b"\n")
        files.append(p)
        for j, sub_bundle in enumerate(submissions(bundle)):
            p = out / "submissions" / f"patient-{name}-encounter-{j + 1}.json"
            p.write_bytes(orjson.dumps(sub_bundle, option=opt) + b"\n")
            files.append(p)
    if with_report:
        rep = coverage_report([b for _, b in cohort], now)
        p = out / "coverage-report.json"
        p.write_bytes(orjson.dumps(rep.to_dict(), option=opt | orjson.OPT_SORT_KEYS) + b"\n")
        files.append(p)
    return files
