"""QUAL verdicts on a store's own data: each criterion compares its audit.json figure with its threshold."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from vhr_conformance.audit.engine import AuditOptions, run_audit
from vhr_conformance.audit.plant import PlantRates, plant
from vhr_conformance.audit.verdicts import (
    RULES,
    audit_verdicts,
    load_thresholds,
    verdicts_from_file,
)
from vhr_conformance.i18n import UserError
from vhr_conformance.outcome import State


def _audit(**over: Any) -> dict[str, Any]:
    """A small audit.json by hand: 1,000 records of which 100 Patients and 50 Encounters."""
    base: dict[str, Any] = {
        "schema": "https://vhr-conformance.org/schemas/audit/1",
        "source": {"mode": "ndjson"},
        "records": 1000,
        "resources": 1000,
        "invalidResources": 10,
        "mustSupportFill": {"p/a": {"A.x": 1.0, "A.y": 0.6}},
        "basicHealthInformation": {
            "patients": 100,
            "share": {"conditions": 0.9, "immunizations": 0.8, "bloodGroup": 0.85, "allergies": 0.1},
        },
        "duplicatePatients": {"sameCccd": [], "probableGroups": [["Patient/a", "Patient/b"]]},
        "orphanReferences": [{"source": "Observation/o", "path": "subject", "reference": "Patient/z"}],
        "lateEncounters": [{"encounter": "Encounter/e", "hours": 30.0}],
        "lateShare": 0.02,
        "freshness": {"≤ 1 d": 500, "≤ 1 y": 300, "> 1 y": 195, "unknown": 5},
    }
    base.update(over)
    return base


def _states(audit: dict[str, Any], thresholds: dict[str, Any] | None = None) -> dict[str, State]:
    return {v.criterion: v.state for v in audit_verdicts(audit, thresholds)}


def test_every_criterion_judged_at_its_threshold() -> None:
    # 99.0 % valid ≥ 99 %; mean fill 80 % ≥ 80 %; 1 extra record of 100 = 1 % ≤ 1 %; 1 of 1000 orphaned
    # = 0.1 % ≤ 0.1 %; late 2 % ≤ 5 %; known 99.5 %, stale 19.5 %: every threshold is met at the boundary
    states = _states(_audit())
    assert set(states) == set(RULES) and all(s is State.PASS for s in states.values()), states
    assert _states(_audit(invalidResources=11))["VHR-QUAL-201"] is State.FAIL
    assert _states(_audit(mustSupportFill={"p/a": {"A.x": 1.0, "A.y": 0.58}}))["VHR-QUAL-202"] is State.FAIL
    low = _audit()
    low["basicHealthInformation"]["share"]["immunizations"] = 0.79
    assert _states(low)["VHR-QUAL-203"] is State.FAIL
    cccd = _audit(
        duplicatePatients={
            "sameCccd": [{"cccd": "0", "patients": ["Patient/a", "Patient/b"]}],
            "probableGroups": [["Patient/a", "Patient/b"]],
        }
    )
    assert _states(cccd)["VHR-QUAL-204"] is State.FAIL
    two = _audit(
        duplicatePatients={"sameCccd": [], "probableGroups": [["Patient/a", "Patient/b", "Patient/c"]]}
    )
    assert _states(two)["VHR-QUAL-205"] is State.FAIL
    orphans = [{"source": f"Observation/{i}", "path": "subject", "reference": "Patient/z"} for i in range(2)]
    assert _states(_audit(orphanReferences=orphans))["VHR-QUAL-206"] is State.FAIL
    assert _states(_audit(lateShare=0.051))["VHR-QUAL-207"] is State.FAIL
    assert (
        _states(_audit(freshness={"≤ 1 d": 489, "> 1 y": 500, "unknown": 11}))["VHR-QUAL-208"] is State.FAIL
    )
    assert _states(_audit(freshness={"≤ 1 d": 499, "> 1 y": 501, "unknown": 0}))["VHR-QUAL-208"] is State.FAIL


def test_messages_state_the_figure_and_the_threshold_in_both_languages() -> None:
    verdicts = {v.criterion: v for v in audit_verdicts(_audit(invalidResources=50))}
    valid = verdicts["VHR-QUAL-201"]
    assert valid.state is State.FAIL and valid.level == "SHOULD"  # the catalogue's level
    assert "95.00 %" in valid.message.vi and "99.00 %" in valid.message.vi and "ngưỡng" in valid.message.vi
    assert "95.00 %" in valid.message.en and "threshold" in valid.message.en
    assert valid.as_json()["figures"] == {"validShare": 0.95, "invalid": 50}
    assert verdicts["VHR-QUAL-204"].level == "SHALL"
    assert not valid.examples  # the fixture lists no invalid example
    dup = _audit(
        duplicatePatients={
            "sameCccd": [{"cccd": "•••123", "patients": ["Patient/a", "Patient/b"]}],
            "probableGroups": [["Patient/a", "Patient/b"]],
            "byProvince": {},
        }
    )
    cccd = next(v for v in audit_verdicts(dup) if v.criterion == "VHR-QUAL-204")
    assert cccd.state is State.FAIL and cccd.as_json()["examples"] == ["•••123: Patient/a, Patient/b"]
    passed = next(v for v in audit_verdicts(_audit()) if v.criterion == "VHR-QUAL-207")
    assert passed.state is State.PASS and not passed.examples  # examples only where something failed


def test_nothing_to_judge_is_not_tested() -> None:
    empty = _audit(
        records=0,
        resources=0,
        invalidResources=0,
        mustSupportFill={},
        basicHealthInformation={"patients": 0, "share": {}},
        lateShare=None,
        lateEncounters=[],
        orphanReferences=[],
        freshness={"unknown": 0},
    )
    assert set(_states(empty).values()) == {State.NOT_TESTED}
    partial = _audit()
    del partial["lateShare"]
    verdict = next(v for v in audit_verdicts(partial) if v.criterion == "VHR-QUAL-207")
    assert verdict.state is State.NOT_TESTED and "lateShare" in verdict.message.en


def test_a_sample_shows_defects_but_not_their_absence() -> None:
    sample = {"mode": "paged-search", "sample": 1000}
    clean = _states(_audit(source=sample))
    assert clean["VHR-QUAL-206"] is State.NOT_TESTED  # a reference's target may be outside the sample
    assert all(s is State.NOT_TESTED for s in clean.values())
    broken = _states(_audit(source=sample, invalidResources=500, lateShare=0.5))
    assert broken["VHR-QUAL-201"] is State.FAIL and broken["VHR-QUAL-207"] is State.FAIL


def test_thresholds_come_from_the_data_file(tmp_path: Path) -> None:
    limits = load_thresholds()
    assert set(RULES) <= set(limits)
    stricter = copy.deepcopy(limits)
    stricter["VHR-QUAL-207"]["max_late_share"] = 0.01
    assert _states(_audit(), stricter)["VHR-QUAL-207"] is State.FAIL
    bad = copy.deepcopy(limits)
    bad["VHR-QUAL-201"]["min_valid_share"] = 1.5
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_thresholds(path)
    assert (
        err.value.location == f"{path}: VHR-QUAL-201.min_valid_share"
        and "ngưỡng" in err.value.text.vi.lower()
    )
    bad["VHR-QUAL-201"]["min_valid_share"] = 0.99
    bad["VHR-QUAL-203"]["min_share"]["bloodgroup"] = 0.5  # a typo of bloodGroup
    path.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(UserError, match="bloodgroup"):
        load_thresholds(path)
    del bad["VHR-QUAL-203"]["min_share"]["bloodgroup"]
    del bad["VHR-QUAL-204"]
    path.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(UserError, match="VHR-QUAL-204"):
        load_thresholds(path)


def test_not_an_audit_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    path.write_text('{"resourceType": "Bundle"}', encoding="utf-8")
    with pytest.raises(UserError) as err:
        verdicts_from_file(path)
    assert err.value.location == str(path)
    path.write_text("{nope", encoding="utf-8")
    with pytest.raises(UserError):
        verdicts_from_file(path)


def test_planted_store_and_clean_store(tmp_path: Path) -> None:
    """A store planted above the thresholds fails the criteria it breaks; the same store unbroken passes."""
    rates = PlantRates(invalid=0.05, duplicates=0.05, orphans=0.02, late=0.2, stale=0.1)
    truth = plant(tmp_path / "dirty", patients=60, seed=3, rates=rates)
    now = dt.datetime.fromisoformat(truth["now"])
    dirty = run_audit(AuditOptions([tmp_path / "dirty"], tmp_path / "a1", workers=1, now=now))
    states = _states(dirty)
    for criterion in ("VHR-QUAL-201", "VHR-QUAL-205", "VHR-QUAL-206", "VHR-QUAL-207"):
        assert states[criterion] is State.FAIL, (criterion, states)
    none = PlantRates(invalid=0, duplicates=0, orphans=0, late=0, stale=0)
    plant(tmp_path / "clean", patients=60, seed=3, rates=none)
    clean = run_audit(AuditOptions([tmp_path / "clean"], tmp_path / "a2", workers=1, now=now))
    verdicts = audit_verdicts(clean)
    for v in verdicts:
        if v.criterion in ("VHR-QUAL-201", "VHR-QUAL-204", "VHR-QUAL-205", "VHR-QUAL-206", "VHR-QUAL-207"):
            assert v.state is State.PASS, (v.criterion, v.message.en)
    assert verdicts_from_file(tmp_path / "a2" / "audit.json") == verdicts


def test_cli_prints_the_verdicts(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from vhr_conformance.cli import app

    path = tmp_path / "audit.json"
    path.write_text(json.dumps(_audit(invalidResources=50)), encoding="utf-8")
    result = CliRunner().invoke(app, ["audit", "verdicts", str(path), "--json"])
    assert result.exit_code == 0, result.output
    got = {v["criterion"]: v["state"] for v in json.loads(result.output)}
    assert got["VHR-QUAL-201"] == "fail" and got["VHR-QUAL-207"] == "pass"
    text = CliRunner().invoke(app, ["audit", "verdicts", str(path)], env={"VHR_LANG": "en"})
    assert text.exit_code == 0 and "VHR-QUAL-201 SHOULD fail" in text.output and "95.00 %" in text.output
