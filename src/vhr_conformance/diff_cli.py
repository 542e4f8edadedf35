"""`vhr diff A B`: which criteria changed verdict between two runs (results.json or run folders).

Meant for CI and for a vendor's second attempt: the table lists every criterion whose state
differs, and the exit code is 1 when a criterion that passed in A does not pass in B.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from vhr_conformance.i18n import Text, UserError

console = Console()


def load_results(path: Path) -> dict[str, Any]:
    """The results.json of a run, given the file or its run folder."""
    file = path / "results.json" if path.is_dir() else path
    try:
        data = orjson.loads(file.read_bytes())
    except OSError as exc:
        raise UserError(
            Text("Không đọc được kết quả: {e}", "Cannot read the results: {e}").format(e=exc.strerror or exc),
            location=str(file),
        ) from None
    except orjson.JSONDecodeError as exc:
        raise UserError(
            Text("Tệp kết quả không phải JSON: {e}", "The results file is not JSON: {e}").format(e=exc),
            location=str(file),
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("criteria"), list):
        raise UserError(
            Text(
                "Không phải results.json của `vhr run` (thiếu danh sách criteria).",
                "Not a results.json of `vhr run` (no criteria list).",
            ),
            location=str(file),
        )
    return data


def _states(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(c.get("id")): c for c in data["criteria"] if isinstance(c, dict) and c.get("id")}


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per criterion whose state (or presence) differs, in catalogue order of B then A."""
    sa, sb = _states(a), _states(b)
    rows = []
    for cid in list(dict.fromkeys([*sb, *sa])):
        before, after = sa.get(cid), sb.get(cid)
        old = before.get("state") if before else None
        new = after.get("state") if after else None
        if old == new:
            continue
        crit = after or before or {}
        rows.append(
            {
                "id": cid,
                "level": crit.get("level"),
                "title": crit.get("title") or {},
                "before": old,
                "after": new,
                "regression": old == "pass" and new != "pass",
            }
        )
    return rows


def register(app: typer.Typer) -> None:
    @app.command("diff")
    def diff(
        before: Path = typer.Argument(..., help="results.json hoặc thư mục lần chạy A / run A"),
        after: Path = typer.Argument(..., help="results.json hoặc thư mục lần chạy B / run B"),
        output: str = typer.Option("text", "--format", help="text | json"),
    ) -> None:
        """So sánh kết luận giữa hai lần chạy / compare the verdicts of two runs."""
        a, b = load_results(before), load_results(after)
        rows = compare(a, b)
        regressions = [r["id"] for r in rows if r["regression"]]
        if output == "json":
            payload = {
                "before": a.get("runId"),
                "after": b.get("runId"),
                "changes": rows,
                "regressions": regressions,
            }
            typer.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
        else:
            table = Table(title=f"vhr diff — {a.get('runId')} → {b.get('runId')}")
            for head in ("Tiêu chí / criterion", "Mức / level", "A", "B", "Tiêu đề / title"):
                table.add_column(head, overflow="fold")
            for r in rows:
                style = "bold red" if r["regression"] else ("green" if r["after"] == "pass" else "")
                title = Text(str(r["title"].get("vi", "")), str(r["title"].get("en", ""))).in_lang()
                table.add_row(
                    r["id"],
                    str(r["level"] or ""),
                    str(r["before"] or "—"),
                    f"[{style}]{r['after'] or '—'}[/]",
                    title,
                )
            console.print(table)
            console.print(
                Text(
                    "{n} tiêu chí đổi kết luận, {r} tiêu chí thụt lùi (đạt → không đạt).",
                    "{n} criteria changed verdict, {r} regressed (pass → not pass).",
                )
                .format(n=len(rows), r=len(regressions))
                .in_lang()
            )
        raise typer.Exit(1 if regressions else 0)
