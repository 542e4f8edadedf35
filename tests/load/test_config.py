"""Workload and SLO files: the shipped ones parse; mistakes give bilingual, located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from vhr_conformance.durations import duration_option, parse_duration
from vhr_conformance.i18n import UserError
from vhr_conformance.load.config import (
    load_slo,
    load_workload,
    parse_slo,
    parse_workload,
    workloads_dir,
)
from vhr_conformance.yamlsrc import load_located, parse_located


def slo_error(text: str) -> UserError:
    with pytest.raises(UserError) as info:
        parse_slo(parse_located(text, "slo.yaml"))
    return info.value


def test_shipped_files_parse() -> None:
    slos = load_slo()
    assert [t.id for t in slos.thresholds][:2] == ["VHR-PERF-101", "VHR-PERF-102"]
    lookup = slos.thresholds[0]
    assert (lookup.metric, lookup.group, lookup.limit, lookup.comparator) == (
        "p95",
        "patient-lookup",
        500.0,
        "<=",
    )
    names = sorted(p.stem for p in workloads_dir().glob("*.yaml"))
    assert "standard" in names
    for name in names:
        assert load_workload(name).weights


def test_units() -> None:
    assert parse_duration("15s") == 15 and parse_duration("5m") == 300 and parse_duration("250ms") == 0.25
    slos = parse_slo(
        parse_located(
            "thresholds:\n"
            "  - {id: VHR-PERF-011, metric: p99, max: 1.5s}\n"
            "  - {id: VHR-PERF-012, metric: error_rate, max: 0.5%}\n"
            "  - {id: VHR-PERF-013, metric: throughput, min: 120/m}\n"
            "  - {id: VHR-PERF-014, metric: avg, max: 40}\n",
            "slo.yaml",
        )
    )
    assert [t.limit for t in slos.thresholds] == [1500.0, 0.005, 2.0, 40.0]
    assert slos.thresholds[2].comparator == ">="


def test_error_is_located_and_bilingual() -> None:
    err = slo_error("thresholds:\n  - id: VHR-PERF-101\n    metric: p95\n    max: fast\n")
    assert err.location == "slo.yaml:4:10 thresholds[0].max"
    assert "Thời lượng không hợp lệ" in err.text.vi and "invalid duration" in err.text.en


@pytest.mark.parametrize(
    ("text", "where", "english"),
    [
        (
            "thresholds:\n  - {id: VHR-PERF-001, metric: p42, max: 1s}\n",
            "thresholds[0].metric",
            "unknown metric",
        ),
        (
            "thresholds:\n  - {id: VHR-PERF-001, metric: p95, group: login, max: 1s}\n",
            "thresholds[0].group",
            "unknown request group",
        ),
        (
            "thresholds:\n  - {id: VHR-PERF-001, metric: throughput, max: 5}\n",
            "thresholds[0].max",
            "takes 'min'",
        ),
        ("thresholds:\n  - {id: VHR-PERF-001, metric: p95}\n", "thresholds[0]", "missing 'max'"),
        ("thresholds:\n  - {id: VHR-LAT-001, metric: p95, max: 1s}\n", "thresholds[0].id", "VHR-PERF-123"),
        (
            "thresholds:\n  - {id: VHR-PERF-001, metric: p95, max: 1s}\n  - {id: VHR-PERF-001, metric: p99, max: 2s}\n",
            "thresholds[1].id",
            "duplicate id",
        ),
        (
            "thresholds:\n  - {id: VHR-PERF-001, metric: error_rate, max: 150%}\n",
            "thresholds[0].max",
            "ratio",
        ),
        (
            "thresholds:\n  - {id: VHR-PERF-001, metric: p95, max: 1s, colour: red}\n",
            "thresholds[0].colour",
            "unsupported key",
        ),
        ("thresholds: []\n", "thresholds", "non-empty"),
        (
            "thresholds:\n  - {id: VHR-PERF-001, metric: p95, max: 1s, criterion: speed}\n",
            "thresholds[0].criterion",
            "criterion id",
        ),
        (
            "abort_on_breach: maybe\nthresholds:\n  - {id: VHR-PERF-001, metric: p95, max: 1s}\n",
            "abort_on_breach",
            "true or false",
        ),
        ("thresholds:\n  - {id: VHR-PERF-001, metric: p95, max: 1s\n", "slo.yaml:3", "invalid YAML"),
    ],
)
def test_slo_mistakes(text: str, where: str, english: str) -> None:
    err = slo_error(text)
    assert err.location is not None and where in err.location
    assert english in err.text.en
    assert err.text.vi and err.text.vi != err.text.en


def test_workload_mistakes() -> None:
    with pytest.raises(UserError) as info:
        parse_workload(parse_located("operations:\n  patient-lookup: 1\n  delete-everything: 3\n", "w.yaml"))
    assert info.value.location == "w.yaml:3:22 operations.delete-everything"
    assert "unknown operation" in info.value.text.en and "Thao tác không xác định" in info.value.text.vi
    with pytest.raises(UserError) as info:
        parse_workload(
            parse_located("operations: {patient-lookup: 1}\nthink_time: {min: 2s, max: 1s}\n", "w.yaml")
        )
    assert "think_time.max" in (info.value.location or "")
    with pytest.raises(UserError) as info:
        parse_workload(parse_located("operations: {patient-lookup: 0}\n", "w.yaml"))
    assert "weight > 0" in info.value.text.en


def test_cli_inputs(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        duration_option("soon")
    assert info.value.location == "--duration"
    with pytest.raises(UserError) as info:
        load_workload("no-such-workload")
    assert info.value.location == "--workload" and "standard" in info.value.hint.en
    with pytest.raises(UserError) as info:
        load_located(tmp_path / "missing.yaml")
    assert "cannot read file" in info.value.text.en
