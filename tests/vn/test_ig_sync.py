"""One definition: the IG's invariants and code systems are exactly what the shared data renders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vhr_conformance import vn
from vhr_conformance.vn import admin, bhyt, fsh
from vhr_conformance.xml130.codelists import CODE_SYSTEMS, code_lists

PACKAGE = Path(__file__).resolve().parents[2] / "profiles" / "package"


def _load(name: str) -> dict[str, Any]:
    path = PACKAGE / name
    if not path.is_file():
        pytest.skip("IG package not built")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_committed_fsh_is_the_rendering_of_the_data() -> None:
    assert fsh.FSH_FILE.read_text(encoding="utf-8") == fsh.render(), (
        "run `python -m vhr_conformance.vn.fsh` then profiles/build.py"
    )


def test_built_profiles_carry_the_rendered_invariants() -> None:
    want = {i.key: i for i in fsh.invariants()}
    seen: dict[str, set[str]] = {}
    for sd_name in ("vhr-patient", "vhr-coverage-bhyt", "vhr-practitioner"):
        sd = _load(f"StructureDefinition-{sd_name}.json")
        for el in sd["snapshot"]["element"]:
            for c in el.get("constraint", []):
                if c["key"] in want:
                    inv = want[c["key"]]
                    assert c["expression"] == inv.expression, c["key"]
                    assert c["severity"] == inv.severity, c["key"]
                    assert c["human"] == f"{inv.vi} / {inv.en}"
                    seen.setdefault(c["key"], set()).add(sd_name)
    assert set(seen) == set(want)
    for key in ("vhr-bhyt-1", "vhr-bhyt-2", "vhr-bhyt-3", "vhr-bhyt-4", "vhr-bhyt-5"):
        assert seen[key] >= {"vhr-patient", "vhr-coverage-bhyt"}, key


def test_code_systems_are_the_data() -> None:
    groups = _load("CodeSystem-vhr-bhyt-beneficiary-group.json")
    assert groups["content"] == "complete"
    assert [c["code"] for c in groups["concept"]] == list(bhyt.groups())
    levels = _load("CodeSystem-vhr-bhyt-benefit-level.json")
    assert [c["code"] for c in levels["concept"]] == list(bhyt.levels())
    ethnicity = _load("CodeSystem-vhr-ethnicity.json")
    assert {c["code"]: c["display"] for c in ethnicity["concept"]} == vn.ethnic_groups()
    legacy = _load("CodeSystem-vhr-province-legacy.json")
    assert [c["code"] for c in legacy["concept"]] == [p.code for p in admin.legacy_provinces()]
    for c in legacy["concept"]:
        succ = next(p["valueCode"] for p in c["property"] if p["code"] == "successor")
        assert succ == admin.successor(c["code"]), c["code"]
    provinces = _load("CodeSystem-vhr-province.json")
    assert {c["code"] for c in provinces["concept"]} == admin.current_codes()


def test_xml130_code_lists_and_ig_code_systems_are_one_list() -> None:
    lists = code_lists("3176")
    assert set(CODE_SYSTEMS) <= set(lists)
    for name, cl in lists.items():
        assert cl.conf in ("S", "U")
        if cl.code_system is None:
            continue
        cs = _load(f"CodeSystem-{cl.code_system}.json")
        assert {c["code"] for c in cs["concept"]} == set(cl.codes), name
    assert lists["ma_doituong_kcb"].conf == "U" and lists["gioi_tinh"].conf == "S"
    assert lists["ma_loai_kcb"].since["11"] == "20260801"
    # 4750 predates the 11–16 forms of care
    assert not {"11", "16"} & code_lists("4750")["ma_loai_kcb"].codes
