"""Checks on constraint StructureDefinitions themselves (profiles and extensions being authored).

A profile whose differential names an element the type does not have, re-fixes an inherited
fixed value to something else, or binds a type that cannot carry codes is broken for everyone who
uses it; the HL7 validator finds these while generating the snapshot. We check the same rules on
the differential directly, and only where the answer is certain (unknown types are not reported).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vhr_conformance.validator.fhirpath import seq
from vhr_conformance.validator.messages import M
from vhr_conformance.validator.values import choice_rename, equal, pattern, show

if TYPE_CHECKING:
    from vhr_conformance.validator.profiles import ProfileCompiler
    from vhr_conformance.validator.run import Context, Run
    from vhr_conformance.validator.schema import Elem, TypeDef

# ElementDefinition.binding is only meaningful on these types (eld-11 and the HL7 validator's list)
BINDABLE = frozenset({"code", "Coding", "CodeableConcept", "CodeableReference", "Quantity", "string", "uri"})


class DefinitionChecker:
    """Differential checks of a constraint StructureDefinition against its type and base."""

    def __init__(self, ctx: Context, profiles: ProfileCompiler) -> None:
        self.ctx = ctx
        self.profiles = profiles  # the base profile's snapshot, as the profile layer builds it

    def check(self, sd: dict[str, Any], loc: str, run: Run) -> None:
        if sd.get("derivation") != "constraint":
            return
        diff = (sd.get("differential") or {}).get("element")
        sd_type = sd.get("type")
        if (
            not isinstance(diff, list)
            or not isinstance(sd_type, str)
            or not self.ctx.schema.is_base_type(sd_type)
        ):
            return
        base = self._base_elements(sd)
        ids: dict[str, int] = dict.fromkeys(base, 0) if base is not None else {}
        for i, el in enumerate(diff):
            if not isinstance(el, dict) or not isinstance(el.get("path"), str):
                continue
            where = f"{loc}.differential.element[{i}]"
            path: str = el["path"]
            if not self._path_ok(path, sd_type):
                run.add(
                    "error",
                    "structure",
                    where,
                    "sd-path-unknown",
                    M["sd-path-unknown"].format(path=path, type=sd_type),
                )
                continue
            self._discriminators(el, sd_type, where, run)
            if base is not None:
                self._fixed_conflict(el, base, ids, where, run)
            self._binding_type(el, base, where, run)

    # ------------------------------------------------------------------ element paths
    def _path_ok(self, path: str, sd_type: str) -> bool:
        """False only when the path certainly names no element of the type (choice renames allowed)."""
        parts = path.split(".")
        if parts[0] != sd_type:
            return False
        return self._walk([self.ctx.schema.type(sd_type)], parts[1:]) != []

    def _walk(self, tds: list[TypeDef | None], segs: list[str]) -> list[TypeDef | None] | None:
        """The types reached by element names ``segs``; [] when none has them, None when not judged."""
        for seg in segs:
            if any(td is None or td.abstract for td in tds):
                return None  # a primitive, an abstract Resource or a type we cannot see into
            nxt: list[TypeDef | None] = []
            for td in tds:
                assert td is not None
                e = td.elems.get(seg)
                name = seg[:-3] if seg.endswith("[x]") else seg
                if e is not None:
                    nxt.append(self._td_of(e))
                elif name in td.choices:  # value[x], or value as FHIRPath names the choice
                    nxt.extend(self._td_of(td.elems[k]) for k in td.choices[name] if k in td.elems)
            if not nxt:
                return []
            tds = nxt
        return tds

    def _discriminators(self, el: dict[str, Any], sd_type: str, where: str, run: Run) -> None:
        """Each discriminator path must name elements of the sliced element's type."""
        slicing = el.get("slicing")
        if not isinstance(slicing, dict):
            return
        codes = [t.get("code") for t in seq(el.get("type")) if isinstance(t, dict)]
        if codes and all(isinstance(c, str) for c in codes):
            tds: list[TypeDef | None] | None = [self.ctx.schema.type(str(c)) for c in codes]
        else:
            tds = self._walk([self.ctx.schema.type(sd_type)], el["path"].split(".")[1:])
        if not tds:
            return
        for j, d in enumerate(seq(slicing.get("discriminator"))):
            dpath = d.get("path") if isinstance(d, dict) else None
            if not isinstance(dpath, str) or "(" in dpath:
                continue  # extension('…'), resolve(), ofType(): not judged here
            segs = [x for x in dpath.split(".") if x != "$this"]
            if segs and self._walk(list(tds), segs) == []:
                run.add(
                    "error",
                    "structure",
                    f"{where}.slicing.discriminator[{j}]",
                    "sd-discriminator-path",
                    M["sd-discriminator-path"].format(dpath=dpath, path=el["path"]),
                )

    def _td_of(self, e: Elem) -> TypeDef | None:
        if e.inline is not None:
            return e.inline
        if e.prim is not None:
            return None
        return self.ctx.schema.type(e.type)

    # ------------------------------------------------------------------ base comparisons
    def _base_elements(self, sd: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
        base_url = sd.get("baseDefinition")
        base_sd = self.ctx.packages.get(base_url) if isinstance(base_url, str) else None
        if not isinstance(base_sd, dict):
            return None
        elements = self.profiles.snapshot(base_sd, 0)
        if not elements:
            return None
        return {str(e.get("id") or e.get("path")): e for e in elements if isinstance(e, dict)}

    def _fixed_conflict(
        self, el: dict[str, Any], base: dict[str, dict[str, Any]], ids: dict[str, int], where: str, run: Run
    ) -> None:

        mine = _value_of(el)
        if mine is None:
            return
        eid = el.get("id") or (el["path"] + (f":{el['sliceName']}" if el.get("sliceName") else ""))
        bel = base.get(choice_rename(str(eid), ids))
        theirs = _value_of(bel) if bel is not None else None
        if theirs is None:
            return
        (_mk, mval), (bkind, bval) = mine, theirs
        ok = equal(mval, bval) if bkind == "fixed" else pattern(mval, bval)
        if not ok:
            run.add(
                "error",
                "structure",
                where,
                "sd-fixed-conflict",
                M["sd-fixed-conflict"].format(path=el["path"], value=show(mval), base=show(bval)),
            )

    def _binding_type(
        self, el: dict[str, Any], base: dict[str, dict[str, Any]] | None, where: str, run: Run
    ) -> None:
        if not isinstance(el.get("binding"), dict):
            return
        types = el.get("type")
        if not types and base is not None:
            bel = base.get(str(el.get("id") or el["path"]))
            types = bel.get("type") if bel is not None else None
        codes = [t.get("code") for t in seq(types) if isinstance(t, dict)]
        if codes and all(
            isinstance(c, str) and c not in BINDABLE and not c.startswith("http") for c in codes
        ):
            run.add(
                "error",
                "structure",
                where,
                "sd-binding-type",
                M["sd-binding-type"].format(path=el["path"], types=", ".join(str(c) for c in codes)),
            )


def _value_of(el: dict[str, Any]) -> tuple[str, Any] | None:
    for k, val in el.items():
        if k.startswith("fixed") and k[5:6].isupper():
            return "fixed", val
        if k.startswith("pattern") and k[7:8].isupper():
            return "pattern", val
    return None
