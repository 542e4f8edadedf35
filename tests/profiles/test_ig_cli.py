"""``vhr profiles``: lists the package, filters by type, prints JSON, reports bad input bilingually."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from vhr_conformance import ig
from vhr_conformance.cli import app
from vhr_conformance.i18n import UserError

from .conftest import PROFILES_DIR, load_build_module

runner = CliRunner()


def test_json_listing_by_type() -> None:
    result = runner.invoke(app, ["profiles", "--type", "StructureDefinition", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["package"] == "vhr.conformance.ig#0.1.0"
    ids = {r["id"] for r in data["resources"]}
    assert ids == set(ig.PROFILE_IDS) | set(ig.EXTENSION_IDS)
    kinds = {r["id"]: r["kind"] for r in data["resources"]}
    assert kinds["vhr-ethnicity"] == "extension" and kinds["vhr-patient"] == "profile of Patient"


def test_table_lists_every_type() -> None:
    result = runner.invoke(app, ["profiles"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for word in (
        "StructureDefinition (34)",
        "CodeSystem (18)",
        "CapabilityStatement (1)",
        "vhr-commune",
        "3321 codes",
    ):
        assert word in result.output


def test_unknown_type_is_a_user_error() -> None:
    result = runner.invoke(app, ["profiles", "--type", "Nope"])
    assert isinstance(result.exception, UserError)
    assert "Nope" in result.exception.render()


def test_other_package_from_tgz(tmp_path: Path) -> None:
    tgz = load_build_module().write_tgz(PROFILES_DIR / "package", tmp_path / "ig.tgz")
    result = runner.invoke(app, ["profiles", "--package", str(tgz), "--type", "NamingSystem", "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["resources"]) == 8


def test_help_is_bilingual() -> None:
    result = runner.invoke(app, ["profiles", "--help"])
    assert "Liệt kê" in result.output and "list the contents" in result.output


def test_rules_listing() -> None:
    result = runner.invoke(app, ["profiles", "--rules", "--json"])
    assert result.exit_code == 0, result.output
    rules = {r["key"]: r for r in json.loads(result.output)["rules"]}
    assert set(rules) == {
        "vhr-cccd-1",
        "vhr-cccd-2",
        "vhr-cccd-3",
        "vhr-cccd-4",
        "vhr-cccd-5",
        "vhr-bhyt-1",
        "vhr-bhyt-2",
        "vhr-bhyt-3",
        "vhr-bhyt-4",
        "vhr-bhyt-5",
        "vhr-bhyt-6",
        "vhr-bhyt-7",
        "vhr-enc-1",
        "vhr-pat-1",
    }
    assert rules["vhr-bhyt-1"]["where"] == [
        "vhr-coverage-bhyt: Coverage.identifier:bhyt",
        "vhr-patient: Patient.identifier:bhyt",
    ]
    table = runner.invoke(app, ["profiles", "--rules"], env={"COLUMNS": "200"})
    assert "vhr-enc-1" in table.output and "Encounter" in table.output
