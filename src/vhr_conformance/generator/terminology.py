"""Codes the generator reads from the VHR IG package (never from vietnam-provinces at run time).

The IG owns the administrative units, ethnic groups and XML 130 code lists; reading them from the
built package keeps generated data consistent with what the validator checks. Loaded once per
process and cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import orjson

from vhr_conformance.i18n import Text, UserError
from vhr_conformance.names import canonical


def cs_url(cs_id: str) -> str:
    return canonical("CodeSystem", cs_id)


def profile_url(profile_id: str) -> str:
    return canonical("StructureDefinition", profile_id)


def ext_url(ext_id: str) -> str:
    return canonical("StructureDefinition", ext_id)


def ig_dir() -> Path:
    """The built IG package folder (the IG stage's API: environment, checkout or wheel)."""
    from vhr_conformance.ig import ig_package_dir

    return ig_package_dir()


@dataclass(slots=True)
class CodeSystemView:
    """Codes of one CodeSystem in file order, their displays and string properties."""

    url: str
    codes: list[str] = field(default_factory=list)
    display: dict[str, str] = field(default_factory=dict)
    props: dict[str, dict[str, str]] = field(default_factory=dict)

    def __contains__(self, code: str) -> bool:
        return code in self.display


def _flatten(concepts: list[dict], view: CodeSystemView) -> None:
    for c in concepts:
        code = c["code"]
        view.codes.append(code)
        view.display[code] = c.get("display", code)
        props: dict[str, str] = {}
        for p in c.get("property", ()):
            for key, val in p.items():
                if key.startswith("value"):
                    props[p["code"]] = str(val)
        if props:
            view.props[code] = props
        if c.get("concept"):
            _flatten(c["concept"], view)


@dataclass(slots=True)
class IGResources:
    """Every CodeSystem and StructureDefinition of the VHR package, by canonical URL."""

    folder: Path
    code_systems: dict[str, CodeSystemView]
    structure_definitions: dict[str, dict]
    value_sets: dict[str, dict]
    capability_statements: list[dict]
    search_parameters: dict[str, dict]

    def cs(self, cs_id: str) -> CodeSystemView | None:
        return self.code_systems.get(cs_url(cs_id))

    def require_cs(self, cs_id: str) -> CodeSystemView:
        view = self.cs(cs_id)
        if view is None or not view.codes:
            raise UserError(
                Text(
                    "Gói IG VHR thiếu CodeSystem {id}; hãy dựng lại profiles (make profiles).",
                    "The VHR IG package lacks CodeSystem {id}; rebuild the profiles (make profiles).",
                ).format(id=cs_id),
                location=str(self.folder),
            )
        return view


@lru_cache(maxsize=4)
def load_ig(folder: str | None = None) -> IGResources:
    """Read the package JSON once; missing package → bilingual :class:`UserError`."""
    path = Path(folder) if folder else ig_dir()
    if not path.is_dir():
        raise UserError(
            Text(
                "Không tìm thấy gói IG VHR đã dựng; bộ sinh dữ liệu cần mã tỉnh/xã từ đó.",
                "Built VHR IG package not found; the generator needs its province/commune codes.",
            ),
            location=str(path),
            hint=Text(
                "Chạy `make profiles` hoặc đặt VHR_IG_PACKAGE.", "Run `make profiles` or set VHR_IG_PACKAGE."
            ),
        )
    code_systems: dict[str, CodeSystemView] = {}
    sds: dict[str, dict] = {}
    vss: dict[str, dict] = {}
    caps: list[dict] = []
    sps: dict[str, dict] = {}
    for file in sorted(path.glob("*.json")):
        if file.name in ("package.json", ".index.json"):
            continue
        try:
            res = orjson.loads(file.read_bytes())
        except orjson.JSONDecodeError:
            continue
        if not isinstance(res, dict):
            continue
        rt = res.get("resourceType")
        url = res.get("url", "")
        if rt == "CodeSystem":
            view = CodeSystemView(url)
            _flatten(res.get("concept", []), view)
            code_systems[url] = view
        elif rt == "StructureDefinition":
            sds[url] = res
        elif rt == "ValueSet":
            vss[url] = res
        elif rt == "CapabilityStatement":
            caps.append(res)
        elif rt == "SearchParameter":
            sps[url] = res
    return IGResources(path, code_systems, sds, vss, caps, sps)
