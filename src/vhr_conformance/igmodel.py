"""What the suites test, read from an IG package: resources, interactions, search parameters
(with their SHALL/SHOULD/MAY expectations), profiles and must-support elements.

The suites are parametrised from this model, never from a hand-written list, so pointing the
harness at another IG (`--vhr-ig`) changes the tests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from vhr_conformance import fhirpkg
from vhr_conformance.i18n import Text, UserError

EXPECTATION = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation"
COMBINATION = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-search-parameter-combination"


def expectation(element: dict[str, Any], default: str = "MAY") -> str:
    for ext in element.get("extension", []) or []:
        if ext.get("url") == EXPECTATION:
            return str(ext.get("valueCode", default))
    return default


@dataclass(frozen=True)
class SearchReq:
    resource_type: str
    name: str
    type: str
    expectation: str
    definition: str | None
    expression: str | None


@dataclass
class ResourceReq:
    type: str
    expectation: str
    profiles: list[str]
    interactions: dict[str, str]
    search: list[SearchReq]
    combinations: list[tuple[str, tuple[str, ...]]]
    search_include: list[str]
    search_revinclude: list[str]
    conditional_create: bool = False


@dataclass
class IgModel:
    package_id: str
    version: str
    path: Path
    sha256: str
    capability: dict[str, Any]
    resources: dict[str, ResourceReq]
    packages: fhirpkg.PackageSet
    # (resource type or None for the system level, operation name without `$`) → expectation
    operations: dict[tuple[str | None, str], str] = field(default_factory=dict)
    system_interactions: dict[str, str] = field(default_factory=dict)
    _ms_cache: dict[str, list[str]] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        return {
            "id": self.package_id,
            "version": self.version,
            "sha256": self.sha256,
            "path": str(self.path),
            "capabilityStatement": self.capability.get("url"),
        }

    def profile(self, url: str) -> dict[str, Any] | None:
        return self.packages.get(url) if hasattr(self.packages, "get") else None

    def must_support_paths(self, profile_url: str) -> list[str]:
        """Element paths flagged mustSupport (no slices, no root, no nested extension internals)."""
        if profile_url in self._ms_cache:
            return self._ms_cache[profile_url]
        sd = self.profile(profile_url) or {}
        out: list[str] = []
        for el in (sd.get("snapshot") or {}).get("element", []):
            path = el.get("path", "")
            if not el.get("mustSupport") or "." not in path or ":" in el.get("id", ""):
                continue
            if ".extension" in path or ".modifierExtension" in path:
                continue
            if path not in out:
                out.append(path)
        self._ms_cache[profile_url] = out
        return out

    def operation_level(self, name: str, rtype: str | None = None) -> str | None:
        """The IG's expectation of an operation (on `rtype`, else at the system level), or None when
        the IG does not name it."""
        name = name.lstrip("$")
        return self.operations.get((rtype, name)) or self.operations.get((None, name))

    def search_parameter(self, url: str | None) -> dict[str, Any] | None:
        return self.packages.get(url) if url else None


def _sha256_dir(path: Path) -> str:
    from vhr_conformance.reports.writer import sha256_file, sha256_tree

    return sha256_file(path) if path.is_file() else sha256_tree(path)


@lru_cache(maxsize=4)
def load_ig(source: str | None = None) -> IgModel:
    """Load the IG in use: `source` (folder/.tgz/name#version) or the VHR IG (`vhr_conformance.ig`)."""
    source = source or os.environ.get("VHR_SUITE_IG") or None
    try:
        if source:
            packages = fhirpkg.PackageSet.with_dependencies(source)
            path = Path(source)
            main = packages.packages[-1]
            caps = [c for c in main.resources("CapabilityStatement")]
            caps.sort(key=lambda c: c.get("kind") != "requirements")
            capability = caps[0] if caps else None
        else:
            from vhr_conformance import ig

            path = ig.ig_package_dir()
            packages = ig.load_vhr_packages()
            main = packages.packages[-1]
            capability = ig.capability_statement()
    except ImportError:
        raise UserError(
            Text(
                "Chưa có IG VHR (vhr_conformance.ig).",
                "The VHR IG module (vhr_conformance.ig) is not available.",
            ),
            location="--vhr-ig",
        ) from None
    if not capability:
        raise UserError(
            Text("IG không có CapabilityStatement.", "The IG has no CapabilityStatement."), location=str(path)
        )
    resources: dict[str, ResourceReq] = {}
    operations: dict[tuple[str | None, str], str] = {}
    system_interactions: dict[str, str] = {}
    for rest in capability.get("rest", []):
        if rest.get("mode", "server") != "server":
            continue
        for op in rest.get("operation", []) or []:
            operations[(None, str(op.get("name", "")).lstrip("$"))] = expectation(op)
        for i in rest.get("interaction", []) or []:
            system_interactions[str(i.get("code"))] = expectation(i)
        for res in rest.get("resource", []):
            rtype = res["type"]
            for op in res.get("operation", []) or []:
                operations[(rtype, str(op.get("name", "")).lstrip("$"))] = expectation(op)
            search = []
            for sp in res.get("searchParam", []):
                definition = sp.get("definition")
                spres = packages.get(definition) if definition else None
                search.append(
                    SearchReq(
                        rtype,
                        sp["name"],
                        sp.get("type", (spres or {}).get("type", "string")),
                        expectation(sp),
                        definition,
                        (spres or {}).get("expression"),
                    )
                )
            combos = []
            for ext in res.get("extension", []) or []:
                if ext.get("url") == COMBINATION:
                    exp = next(
                        (e.get("valueCode") for e in ext.get("extension", []) if e.get("url") == EXPECTATION),
                        "MAY",
                    )
                    names = tuple(
                        e.get("valueString") for e in ext.get("extension", []) if e.get("url") == "required"
                    )
                    combos.append((exp, names))
            resources[rtype] = ResourceReq(
                type=rtype,
                expectation=expectation(res, "SHALL"),
                profiles=[*res.get("supportedProfile", [])]
                + ([res["profile"]] if "vhr-" in str(res.get("profile", "")) else []),
                interactions={i["code"]: expectation(i) for i in res.get("interaction", [])},
                search=search,
                combinations=combos,
                search_include=list(res.get("searchInclude", [])),
                search_revinclude=list(res.get("searchRevInclude", [])),
                conditional_create=bool(res.get("conditionalCreate")),
            )
    return IgModel(
        package_id=main.name,
        version=main.version,
        path=path,
        sha256=_sha256_dir(path),
        capability=capability,
        resources=resources,
        packages=packages,
        operations=operations,
        system_interactions=system_interactions,
    )
