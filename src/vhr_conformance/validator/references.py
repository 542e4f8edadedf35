"""References layer: Reference and canonical values, their targets, and resolution inside Bundles.

The structure walk hands every Reference, every canonical with target types and every Bundle entry
to a :class:`References` built over the loaded packages; references met inside a Bundle are kept in
the run and resolved against the Bundle's entries once it has been walked (R4 Bundle, "Resolving
references in Bundles").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from vhr_conformance.validator.fhirpath import seq
from vhr_conformance.validator.messages import M
from vhr_conformance.validator.run import Context, RefUse, Run
from vhr_conformance.validator.schema import Elem

_REF_RE = re.compile(
    r"(?:(?:https?://\S+/)?[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?"
    r"|urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|urn:oid:[0-2](?:\.(?:0|[1-9][0-9]*))+|#[A-Za-z0-9\-.]*|[a-z][a-z0-9+.\-]*:\S+)"
)
_RESTFUL_URL = re.compile(r"/([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$")
_TYPE_IN_REF = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?$")


class References:
    """Reference checks over the loaded packages (resource type names, canonical resources)."""

    def __init__(self, ctx: Context) -> None:
        self._packages = ctx.packages
        self._resource_types = ctx.schema.resource_types

    def check_reference(self, obj: dict[str, Any], loc: str, run: Run, elem: Elem | None) -> None:
        """A Reference: its format, its target type, a contained target present; Bundle ones kept for later."""
        ref = obj.get("reference")
        if not isinstance(ref, str):
            return
        if _REF_RE.fullmatch(ref) is None:
            _format_issue(ref, loc, run)
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
            if typ not in self._resource_types:
                _format_issue(ref, loc, run)  # Type/id with a type R4 does not have
                return
            if targets and typ not in targets:
                self._target_issue(typ, targets, loc, run)
        if run.in_bundle and "references" in run.layers:
            run.refs.append(RefUse(f"{loc}.reference", ref, targets))

    def check_canonical(self, url: str, targets: frozenset[str], loc: str, run: Run) -> None:
        """A canonical that resolves (loaded packages, or a Bundle entry's ``url``) must name an allowed type."""
        if url.startswith("#"):
            found: Any = None
            env = run.env
            for c in seq(env.root.get("contained")) if env is not None else ():
                if isinstance(c, dict) and c.get("id") == url[1:]:
                    found = c
        else:
            found = self._packages.get(url.split("|", 1)[0])
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
        return any(e.url == base for t in targets for _pkg, e in self._packages.entries(t))

    def _target_issue(self, got: str, targets: frozenset[str], loc: str, run: Run) -> None:
        run.add(
            "error",
            "structure",
            f"{loc}.reference",
            "reference-target",
            M["reference-target"].format(got=got, allowed=", ".join(sorted(targets))),
        )

    def check_bundle(self, bundle: dict[str, Any], loc: str, run: Run, uses: list[RefUse]) -> None:
        """Once a Bundle is walked: duplicate fullUrls, and each reference met inside it resolved."""
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

    def check_entry(self, obj: dict[str, Any], loc: str, run: Run, elem: Elem | None) -> None:
        """Bundle.entry.fullUrl: absolute, and agreeing with the resource's type and id."""
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
                if m.group(1) in self._resource_types and (m.group(1), m.group(2)) != (rt, rid):
                    run.add(
                        "error",
                        "invalid",
                        f"{loc}.fullUrl",
                        "bundle-fullurl-id",
                        M["bundle-fullurl-id"].format(url=fu, rt=rt, id=rid),
                    )

    def check_links(self, obj: dict[str, Any], loc: str, run: Run, elem: Elem | None) -> None:
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


def _format_issue(ref: str, loc: str, run: Run) -> None:
    run.add("error", "value", f"{loc}.reference", "reference-format", M["reference-format"].format(ref=ref))


def bundle_resolver(bundle: dict[str, Any]) -> Callable[[str], dict[str, Any] | None]:
    """``resolve()`` inside a Bundle: a reference to the entry it names."""
    index = _bundle_index(bundle)

    def resolve(ref: str) -> dict[str, Any] | None:
        hit = _resolve_in_index(index, ref, None)
        return hit[1] if hit else None

    return resolve


def _versioned_dup(bundle: dict[str, Any], a: int, b: int) -> bool:
    entries = bundle.get("entry") or []
    ra = (entries[a] or {}).get("resource") if isinstance(entries[a], dict) else None
    rb = (entries[b] or {}).get("resource") if isinstance(entries[b], dict) else None
    va = ((ra or {}).get("meta") or {}).get("versionId") if isinstance(ra, dict) else None
    vb = ((rb or {}).get("meta") or {}).get("versionId") if isinstance(rb, dict) else None
    return bool(va and vb and va != vb) or bundle.get("type") == "history"


def bundle_canonicals(bundle: dict[str, Any]) -> dict[str, Any]:
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
