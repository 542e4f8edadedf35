"""``vhr profiles``: list what the VHR implementation-guide package (or another package) holds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from vhr_conformance import fhirpkg, ig
from vhr_conformance.i18n import Text, UserError

console = Console()


def package_rows(pkg: fhirpkg.FhirPackage, resource_type: str | None = None) -> list[dict[str, Any]]:
    """One row per resource, sorted by type then id; titles come from the resources themselves."""
    rows: list[dict[str, Any]] = []
    for entry in pkg.entries:
        if resource_type and entry.resource_type.lower() != resource_type.lower():
            continue
        res = pkg.read(entry)
        rows.append(
            {
                "resourceType": entry.resource_type,
                "id": entry.id,
                "url": entry.url,
                "kind": _kind(res),
                "title": _title(res),
                "filename": entry.filename,
            }
        )
    rows.sort(
        key=lambda r: (
            r["resourceType"],
            r["kind"].split(" ")[0] if r["resourceType"] == "StructureDefinition" else "",
            r["id"] or "",
        )
    )
    return rows


def _title(res: dict[str, Any]) -> str:
    """The resource's title or name; for examples, the profile they claim."""
    for key in ("title", "name"):
        if isinstance(res.get(key), str):
            return res[key]
    claimed = (res.get("meta") or {}).get("profile") or []
    return ", ".join(p.rsplit("/", 1)[-1] for p in claimed if isinstance(p, str))


def _kind(res: dict[str, Any]) -> str:
    """A finer grouping than the resource type: profile vs extension, example vs definition."""
    rt = res.get("resourceType")
    if rt == "StructureDefinition":
        return "extension" if res.get("type") == "Extension" else f"profile of {res.get('type')}"
    if rt == "CodeSystem":
        return f"{res.get('count', len(res.get('concept') or []))} codes"
    if rt in ("ValueSet", "NamingSystem", "SearchParameter", "CapabilityStatement"):
        return "definition"
    return "example"


def package_rules(pkg: fhirpkg.FhirPackage) -> list[dict[str, Any]]:
    """The invariants the package itself adds (those in its differentials): key, severity, where, text."""
    rules: dict[str, dict[str, Any]] = {}
    for sd in pkg.resources("StructureDefinition"):
        for el in (sd.get("differential") or {}).get("element", []):
            for c in el.get("constraint", []):
                row = rules.setdefault(
                    c["key"],
                    {
                        "key": c["key"],
                        "severity": c.get("severity"),
                        "human": c.get("human", ""),
                        "expression": c.get("expression", ""),
                        "where": [],
                    },
                )
                row["where"].append(f"{sd['id']}: {el['id']}")
    return sorted(rules.values(), key=lambda r: r["key"])


def list_profiles(
    resource_type: str | None = typer.Option(
        None,
        "--type",
        "-t",
        help="Chỉ một loại tài nguyên (vd. StructureDefinition) / only this resource type",
    ),
    as_json: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
    package: Path | None = typer.Option(
        None, "--package", "-p", help="Gói khác (thư mục hoặc .tgz) / another package (folder or .tgz)"
    ),
    rules: bool = typer.Option(
        False, "--rules", help="Liệt kê các ràng buộc (invariant) / list the invariants"
    ),
) -> None:
    """Liệt kê nội dung gói IG VHR / list the contents of the VHR IG package."""
    pkg = fhirpkg.load_package(package) if package else ig.load_vhr_package()
    if rules:
        _print_rules(pkg, as_json)
        return
    rows = package_rows(pkg, resource_type)
    if resource_type and not rows:
        known = sorted({e.resource_type for e in pkg.entries})
        raise UserError(
            Text("Gói không có tài nguyên loại {t}.", "The package has no {t} resources.").format(
                t=resource_type
            ),
            location="--type",
            hint=Text("Các loại có trong gói: {k}", "Types in the package: {k}").format(k=", ".join(known)),
        )
    if as_json:
        out = {"package": f"{pkg.name}#{pkg.version}", "canonical": pkg.canonical, "resources": rows}
        typer.echo(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
        return
    counts = Counter(r["resourceType"] for r in rows)
    table = Table(title=f"{pkg.name}#{pkg.version} — {pkg.canonical or ''}", show_lines=False)
    table.add_column("Loại / type", style="cyan", no_wrap=True)
    table.add_column("id", style="bold")
    table.add_column("Nhóm / kind", style="magenta")
    table.add_column("Tiêu đề / title")
    last = None
    for r in rows:
        label = f"{r['resourceType']} ({counts[r['resourceType']]})" if r["resourceType"] != last else ""
        if r["resourceType"] != last and last is not None:
            table.add_section()
        last = r["resourceType"] if label else last
        table.add_row(label, r["id"] or "", r["kind"], r["title"])
    console.print(table)
    console.print(
        Text("{n} tài nguyên; thư mục: {p}", "{n} resources; folder: {p}")
        .format(n=len(rows), p=pkg.root)
        .both(),
        highlight=False,
    )


def _print_rules(pkg: fhirpkg.FhirPackage, as_json: bool) -> None:
    found = package_rules(pkg)
    if as_json:
        typer.echo(
            orjson.dumps(
                {"package": f"{pkg.name}#{pkg.version}", "rules": found}, option=orjson.OPT_INDENT_2
            ).decode()
        )
        return
    table = Table(title=f"{pkg.name}#{pkg.version} — invariants")
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("Mức / severity", style="magenta")
    table.add_column("Nơi áp dụng / where", style="cyan")
    table.add_column("Nội dung / text")
    for r in found:
        table.add_row(r["key"], r["severity"] or "", "\n".join(r["where"]), r["human"])
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("profiles")(list_profiles)
