"""SLO and workload files with random values: a located bilingual error or a result, never a crash."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from vhr_conformance.i18n import UserError
from vhr_conformance.load.config import default_slo_path, parse_slo, parse_workload, workloads_dir
from vhr_conformance.yamlsrc import parse_located

SLO: Any = yaml.safe_load(default_slo_path().read_text(encoding="utf-8"))
WORKLOADS: list[Any] = [
    yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(workloads_dir().glob("*.yaml"))
]

values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**20), 10**20),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.sampled_from(
            ["5s", "-1s", "0", "1e999", "nan", "150%", "5/s", "300/m", "0/s", "1h", "p95", "*", ".inf"]
        ),
    ),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=10,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(data: st.DataObject, doc: Any) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        if not path:
            return data.draw(values)
        target = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = data.draw(values)
    return doc


def _parse(text: str, parse: Any) -> None:
    try:
        parse(parse_located(text, "fuzz.yaml"))
    except UserError as exc:
        assert exc.text.vi and exc.text.en and (exc.location or "").startswith("fuzz.yaml")


@given(st.data())
def test_slo_with_random_values(data: st.DataObject) -> None:
    _parse(yaml.safe_dump(_mutate(data, SLO), allow_unicode=True), parse_slo)


@given(st.data())
def test_workload_with_random_values(data: st.DataObject) -> None:
    doc = data.draw(st.sampled_from(WORKLOADS))
    _parse(yaml.safe_dump(_mutate(data, doc), allow_unicode=True), parse_workload)


@given(st.text(max_size=200))
def test_any_text_as_slo(text: str) -> None:
    _parse(text, parse_slo)


def test_fixture_files_exist() -> None:
    assert Path(default_slo_path()).is_file() and WORKLOADS
