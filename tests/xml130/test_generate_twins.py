"""``vhr generate --format xml130``: every generated encounter gets its XML 130 twin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vhr_conformance import cli
from vhr_conformance.xml130.validate import validate_source


def test_generate_xml130_writes_one_valid_envelope_per_encounter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "sys.argv",
        ["vhr", "generate", "-n", "4", "--seed", "11", "--format", "xml130", "--out", str(tmp_path)],
    )
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code in (0, None)

    encounters: set[str] = set()
    for bundle_file in sorted((tmp_path / "bundles").glob("*.json")):
        bundle = json.loads(bundle_file.read_text())
        for entry in bundle["entry"]:
            res = entry["resource"]
            if res["resourceType"] == "Encounter":
                ids = [
                    i["value"] for i in res.get("identifier", []) if i.get("system", "").endswith("/ma-lk")
                ]
                encounters.update(ids)
    assert encounters, "the generated patients have encounters"

    found: set[str] = set()
    for xml_file in sorted((tmp_path / "xml130").glob("*.xml")):
        report = validate_source(xml_file)
        assert report.ok, [str(i) for i in report.all_issues() if i.is_error]
        found.update(e.ma_lk for e in report.encounters)
    assert found == encounters


def test_synthetic_cards_fit_their_group_and_age() -> None:
    """`vhr xml generate`: each card's group is one of QĐ 1351 the age allows, at a level it carries."""
    import random as _random

    from vhr_conformance.vn import bhyt, check_bhyt
    from vhr_conformance.xml130.synth import synthetic_encounter

    rng = _random.Random(18)
    groups = set()
    for n in range(300):
        rows = synthetic_encounter(rng, n)
        x1 = rows["XML1"][0]
        card = bhyt.parse(x1["MA_THE_BHYT"])
        assert card is not None and check_bhyt(x1["MA_THE_BHYT"]) == [], x1["MA_THE_BHYT"]
        age = 2026 - int(x1["NGAY_SINH"][:4])
        assert (card.group == "TE") == (age < 6), (card.group, age)
        assert card.group != "HT" or age >= 55
        rate = str(bhyt.rates()[card.level])
        assert [r["MUC_HUONG"] for r in rows["XML2"] + rows["XML3"]] == [rate] * (
            len(rows["XML2"]) + len(rows["XML3"])
        )
        groups.add(card.group)
    assert len(groups) >= 8
