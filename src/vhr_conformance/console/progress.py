"""A pytest plugin a worker hands to its `vhr run` subprocess (through `PYTEST_PLUGINS`) so the
run page can show done/total cases per area: it writes the planned cases per area once
collection has settled the scope, then one line per finished case.

The files go to `VHR_CONSOLE_PROGRESS` (a folder outside the report, so the evidence bundle is
exactly what `vhr run` alone writes). A case counts as done when its call phase reports, or its
set-up did not pass: the rule of `vhr run`'s own progress bars. The area of a case is its first
criterion's, as there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from vhr_conformance.pytest_plugin import get_state, item_criteria

FOLDER_ENV = "VHR_CONSOLE_PROGRESS"
PLANNED = "planned.json"
DONE = "done.ndjson"
MODULE = __name__


def _folder() -> Path | None:
    value = os.environ.get(FOLDER_ENV)
    return Path(value) if value else None


_area_of: dict[str, str] = {}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = get_state(config)
    folder = _folder()
    if state is None or folder is None:
        return
    totals: dict[str, int] = {}
    for item in items:
        ids = item_criteria(item)
        area = state.catalogue.criteria[ids[0]].area if ids and ids[0] in state.catalogue.criteria else "?"
        _area_of[item.nodeid] = area
        totals[area] = totals.get(area, 0) + 1
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (PLANNED + ".tmp")
    tmp.write_bytes(orjson.dumps(totals))
    tmp.replace(folder / PLANNED)  # never read half-written


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    folder = _folder()
    if folder is None or report.nodeid not in _area_of:
        return
    if report.when == "call":
        status: str = report.outcome  # passed | failed | skipped
    elif report.when == "setup" and report.outcome != "passed":
        status = "skipped" if report.outcome == "skipped" else "broken"
    else:
        return
    line = orjson.dumps({"area": _area_of[report.nodeid], "status": status}) + b"\n"
    with (folder / DONE).open("ab") as fh:
        fh.write(line)


def read(folder: Path) -> dict[str, dict[str, int]]:
    """{area: {"total": planned, "done": finished, <status>: count}}, areas in catalogue order of
    their ids; empty until collection is over."""
    out: dict[str, dict[str, int]] = {}
    try:
        planned: Any = orjson.loads((folder / PLANNED).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        planned = {}
    if isinstance(planned, dict):
        for area, total in planned.items():
            if isinstance(total, int):
                out[str(area)] = {"total": total, "done": 0}
    try:
        lines = (folder / DONE).read_bytes().splitlines()
    except OSError:
        lines = []
    for raw in lines:
        try:
            row = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue  # the line being written: counted at the next beat
        if not isinstance(row, dict):
            continue
        counts = out.setdefault(str(row.get("area")), {"total": 0, "done": 0})
        status = str(row.get("status"))
        counts["done"] += 1
        counts[status] = counts.get(status, 0) + 1
    return dict(sorted(out.items()))
