"""The criteria catalogue (`suites/criteria.yaml`), schema-checked at load.

Every verdict the harness gives is traced to a criterion of this file, and every criterion to a
Vietnamese legal or technical source, so a failed check always says which rule it broke.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from vhr_conformance.i18n import Text, UserError

LEVELS = ("SHALL", "SHOULD", "MAY")


def suites_dir() -> Path:
    """The `suites/` folder: `VHR_SUITES_DIR`, the checkout's, else the wheel's copy."""
    from vhr_conformance.paths import suites_path

    return suites_path()


def level_in_scope(level: str, max_level: str) -> bool:
    """SHALL ⊂ SHOULD ⊂ MAY: `--vhr-level SHOULD` covers SHALL and SHOULD."""
    return LEVELS.index(level) <= LEVELS.index(max_level)


@dataclass(frozen=True)
class Criterion:
    id: str
    area: str
    level: str
    actor: str
    verification: str
    title: Text
    description: Text
    sources: tuple[tuple[str, str], ...]  # (full citation in English, clause in English)
    sources_vi: tuple[str, ...]
    clauses_vi: tuple[str, ...] = ()  # the clauses as written (Vietnamese for Vietnamese sources)
    input: str = ""  # a run input it is judged on ("audit"); without it the criterion is out of scope

    @property
    def automated(self) -> bool:
        return self.verification == "automated"

    def source_text(self, lang: str = "en") -> str:
        if lang == "vi":
            cites, clauses = self.sources_vi, self.clauses_vi or tuple(cl for _, cl in self.sources)
        else:
            cites, clauses = tuple(s for s, _ in self.sources), tuple(cl for _, cl in self.sources)
        return "; ".join(f"{c} ({cl})" if cl else c for c, cl in zip(cites, clauses, strict=True))


@dataclass(frozen=True)
class Catalogue:
    version: str
    areas: dict[str, Text]
    criteria: dict[str, Criterion]
    path: Path

    def area_of(self, criterion_id: str) -> str:
        return self.criteria[criterion_id].area

    def automated(self) -> list[Criterion]:
        return [c for c in self.criteria.values() if c.automated]


def _fail(msg: Text, path: Path) -> UserError:
    return UserError(msg, location=str(path))


def load_catalogue(path: str | os.PathLike[str] | None = None) -> Catalogue:
    """Read, schema-validate and index the catalogue; bilingual errors on any problem."""
    return _load(str(Path(path) if path else suites_dir() / "criteria.yaml"))


@lru_cache(maxsize=8)
def _load(path_str: str) -> Catalogue:
    path = Path(path_str)
    schema_path = path.with_name("criteria.schema.json")
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise _fail(
            Text("Không đọc được danh mục tiêu chí: {e}", "Cannot read the criteria catalogue: {e}").format(
                e=exc
            ),
            path,
        ) from None
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path)
    )
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path)
        raise _fail(
            Text(
                "Danh mục tiêu chí sai cấu trúc tại {w}: {m}", "Criteria catalogue invalid at {w}: {m}"
            ).format(w=where, m=first.message),
            path,
        )
    sources = data.get("sources", {})
    clauses = data.get("clauses", {})  # Vietnamese clause → its English reading
    areas = {k: Text(v["title"]["vi"], v["title"]["en"]) for k, v in data["areas"].items()}
    criteria: dict[str, Criterion] = {}
    for raw in data["criteria"]:
        cid = raw["id"]
        area = cid.split("-")[1]
        if cid in criteria:
            raise _fail(Text("Mã tiêu chí trùng: {i}", "Duplicate criterion id: {i}").format(i=cid), path)
        if area not in areas:
            raise _fail(
                Text(
                    "Tiêu chí {i} thuộc nhóm chưa khai báo {a}", "Criterion {i} is in undeclared area {a}"
                ).format(i=cid, a=area),
                path,
            )
        unknown = [s["ref"] for s in raw["sources"] if s["ref"] not in sources]
        if unknown:
            raise _fail(
                Text(
                    "Tiêu chí {i} dẫn nguồn chưa khai báo: {s}", "Criterion {i} cites undeclared sources: {s}"
                ).format(i=cid, s=", ".join(unknown)),
                path,
            )
        criteria[cid] = Criterion(
            id=cid,
            area=area,
            level=raw["level"],
            actor=raw["actor"],
            verification=raw["verification"],
            title=Text(raw["title"]["vi"], raw["title"]["en"]),
            description=Text(raw["description"]["vi"], raw["description"]["en"]),
            sources=tuple(
                (sources[s["ref"]]["en"], clauses.get(s.get("clause", ""), s.get("clause", "")))
                for s in raw["sources"]
            ),
            sources_vi=tuple(sources[s["ref"]]["vi"] for s in raw["sources"]),
            clauses_vi=tuple(s.get("clause", "") for s in raw["sources"]),
            input=raw.get("input", ""),
        )
    return Catalogue(version=data["version"], areas=areas, criteria=criteria, path=path)


def render_markdown(cat: Catalogue) -> str:
    """`docs/criteria.md`: the catalogue as a readable table per area (generated, do not edit)."""
    lines = [
        "# Danh mục tiêu chí / Criteria catalogue",
        "",
        f"Generated from `suites/criteria.yaml` (version {cat.version}) by "
        "`python -m vhr_conformance.catalogue`; do not edit by hand.",
        "",
        f"{len(cat.criteria)} criteria: "
        + ", ".join(f"{lv} {sum(1 for c in cat.criteria.values() if c.level == lv)}" for lv in LEVELS)
        + f"; {sum(1 for c in cat.criteria.values() if not c.automated)} by attestation.",
        "",
    ]
    for area, title in cat.areas.items():
        rows = [c for c in cat.criteria.values() if c.area == area]
        lines += [
            f"## {area} — {title.vi} / {title.en}",
            "",
            "| id | level | actor | verified | title (vi / en) | source |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for c in rows:
            lines.append(
                f"| {c.id} | {c.level} | {c.actor} | {c.verification}{f' (--{c.input})' if c.input else ''} "
                f"| {c.title.vi} / {c.title.en} | "
                f"{c.source_text('en').replace('|', '/')} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_markdown(load_catalogue()))
