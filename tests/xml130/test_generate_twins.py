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
