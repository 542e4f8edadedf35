"""The committed IG package: complete, indexed, consistent with docs/conventions.md."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from vhr_conformance import fhirpkg, ig
from vhr_conformance.i18n import UserError

from .conftest import PROFILES_DIR

VN_SIDS = ["cccd", "cmnd", "bhyt", "bhxh", "ma-cskcb", "ma-lk", "cchn", "passport"]


def test_manifest_and_loader(package: fhirpkg.FhirPackage) -> None:
    assert package.name == "vhr.conformance.ig"
    assert package.version == "0.1.0"
    assert package.canonical == "https://vhr-conformance.org/fhir"
    assert package.manifest["fhirVersions"] == ["4.0.1"]
    assert package.dependencies == {"hl7.fhir.r4.core": "4.0.1"}


def test_index_lists_every_file_exactly(package: fhirpkg.FhirPackage) -> None:
    root = package.root
    index = json.loads((root / ".index.json").read_text(encoding="utf-8"))
    assert index["index-version"] == 1
    files = sorted(p.name for p in root.glob("*.json") if p.name not in ("package.json", ".index.json"))
    assert [f["filename"] for f in index["files"]] == files
    for row in index["files"]:
        res = json.loads((root / row["filename"]).read_text(encoding="utf-8"))
        assert row["resourceType"] == res["resourceType"]
        assert row["id"] == res["id"]
        for key in ("url", "version", "kind", "type"):
            assert row.get(key) == (res.get(key) if isinstance(res.get(key), str) else None), (row, key)


@pytest.mark.parametrize("pid", ig.PROFILE_IDS)
def test_every_profile_present_with_snapshot(by_type: dict[str, Any], pid: str) -> None:
    sd = by_type["StructureDefinition"][pid]
    assert sd["url"] == ig.PROFILE_URLS[pid] == f"https://vhr-conformance.org/fhir/StructureDefinition/{pid}"
    assert sd["kind"] == "resource" and sd["derivation"] == "constraint"
    assert sd["fhirVersion"] == "4.0.1"
    assert len(sd["snapshot"]["element"]) > len(sd["differential"]["element"])


def test_every_structure_definition_has_snapshot(by_type: dict[str, Any]) -> None:
    sds = by_type["StructureDefinition"]
    assert len(sds) == len(ig.PROFILE_IDS) + len(ig.EXTENSION_IDS)
    for sd in sds.values():
        assert sd["snapshot"]["element"][0]["path"] == sd["type"]


def test_vital_sign_profiles_derive_from_core(by_type: dict[str, Any]) -> None:
    sds = by_type["StructureDefinition"]
    assert (
        sds["vhr-observation-body-height"]["baseDefinition"]
        == "http://hl7.org/fhir/StructureDefinition/bodyheight"
    )
    assert (
        sds["vhr-observation-body-weight"]["baseDefinition"]
        == "http://hl7.org/fhir/StructureDefinition/bodyweight"
    )
    assert (
        sds["vhr-observation-blood-pressure"]["baseDefinition"]
        == "http://hl7.org/fhir/StructureDefinition/bp"
    )


@pytest.mark.parametrize("eid", ig.EXTENSION_IDS)
def test_extensions(by_type: dict[str, Any], vhr_packages: fhirpkg.PackageSet, eid: str) -> None:
    sd = by_type["StructureDefinition"][eid]
    assert sd["type"] == "Extension" and sd["url"] == ig.EXTENSION_URLS[eid]
    value = next(e for e in sd["snapshot"]["element"] if e["path"] == "Extension.value[x]")
    codes = [t["code"] for t in value["type"]]
    if eid == "vhr-bhyt-registered-facility":
        assert codes == ["Identifier"]
    else:
        assert codes == ["Coding"]
        binding = value["binding"]["valueSet"]
        assert vhr_packages.get(binding) is not None, binding


@pytest.mark.parametrize("cid", ig.CODESYSTEM_IDS)
def test_code_systems_have_matching_value_sets(by_type: dict[str, Any], cid: str) -> None:
    cs = by_type["CodeSystem"][cid]
    vs = by_type["ValueSet"][cid]
    assert cs["url"] == ig.CODESYSTEM_URLS[cid]
    assert vs["url"] == f"https://vhr-conformance.org/fhir/ValueSet/{cid}"
    assert vs["compose"]["include"] == [{"system": cs["url"]}]
    codes = [c["code"] for c in cs["concept"]]
    assert len(codes) == len(set(codes)) == cs.get("count", len(codes))


def _codes(cs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["code"]: c for c in cs["concept"]}


def _prop(concept: dict[str, Any], code: str) -> Any:
    return next(p for p in concept["property"] if p["code"] == code)


def test_terminology_counts(by_type: dict[str, Any]) -> None:
    cs = by_type["CodeSystem"]
    assert len(cs["vhr-ethnicity"]["concept"]) == 54
    assert _codes(cs["vhr-ethnicity"])["01"]["display"] == "Kinh"
    assert _codes(cs["vhr-ethnicity"])["54"]["display"] == "Rơ-măm"
    assert len(cs["vhr-province"]["concept"]) == 34
    assert len(cs["vhr-commune"]["concept"]) == 3321
    assert len(cs["vhr-province-legacy"]["concept"]) == 63
    assert sorted(_codes(cs["vhr-gender-xml130"])) == ["1", "2", "3"]
    assert len(cs["vhr-patient-category"]["concept"]) == 27
    assert len(cs["vhr-form-of-care"]["concept"]) == 16
    assert "00000" in _codes(cs["vhr-occupation"])
    assert sorted(_codes(cs["vhr-blood-group"])) == sorted(
        f"{g}{r}" for g in ("A", "B", "AB", "O") for r in "+-"
    )


def test_commune_and_legacy_properties_point_to_2025_provinces(by_type: dict[str, Any]) -> None:
    cs = by_type["CodeSystem"]
    provinces = _codes(cs["vhr-province"])
    assert all(re.fullmatch(r"\d{2}", p) for p in provinces)
    per_province: dict[str, int] = {}
    for code, concept in _codes(cs["vhr-commune"]).items():
        assert re.fullmatch(r"\d{5}", code)
        prov = _prop(concept, "province")["valueCode"]
        assert prov in provinces
        per_province[prov] = per_province.get(prov, 0) + 1
    assert set(per_province) == set(provinces)  # every province has communes
    assert _prop(_codes(cs["vhr-commune"])["00070"], "province")["valueCode"] == "01"  # Hoàn Kiếm, Hà Nội
    successors = {c: _prop(x, "successor")["valueCode"] for c, x in _codes(cs["vhr-province-legacy"]).items()}
    assert set(successors.values()) == set(provinces)  # each 2025 province succeeds at least one old one
    assert successors["02"] == "08" and successors["74"] == "79" and successors["95"] == "96"


def test_cccd_prefix_invariant_lists_exactly_the_legacy_codes(by_type: dict[str, Any]) -> None:
    patient = by_type["StructureDefinition"]["vhr-patient"]
    expr = next(
        c["expression"]
        for e in patient["snapshot"]["element"]
        for c in e.get("constraint", [])
        if c["key"] == "vhr-cccd-2"
    )
    group = re.search(r"\^0\(([0-9|]+)\)", expr)
    assert group is not None
    assert sorted(group.group(1).split("|")) == sorted(_codes(by_type["CodeSystem"]["vhr-province-legacy"]))


def test_naming_systems(by_type: dict[str, Any]) -> None:
    systems = by_type["NamingSystem"]
    assert len(systems) == len(VN_SIDS)
    for sid in VN_SIDS:
        ns = systems[f"vhr-ns-{sid}"]
        preferred = [u["value"] for u in ns["uniqueId"] if u.get("preferred")]
        aliases = [u["value"] for u in ns["uniqueId"] if not u.get("preferred")]
        assert preferred == [f"http://fhir.hl7.org.vn/core/sid/{sid}"]
        assert aliases == [f"http://fhir.ehealth.gov.vn/core/sid/{sid}"]
    assert systems["vhr-ns-cmnd"]["status"] == "retired"


def test_examples_are_tagged_test_data_and_claim_a_vhr_profile(examples: list[dict[str, Any]]) -> None:
    claimed = set()
    for res in examples:
        tags = {(t["system"], t["code"]) for t in res["meta"]["tag"]}
        assert ("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST") in tags
        claimed.update(res["meta"]["profile"])
    assert set(ig.PROFILE_URLS.values()) <= claimed


def test_ig_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    assert ig.ig_package_dir() == PROFILES_DIR / "package"
    assert ig.load_vhr_packages() is ig.load_vhr_packages()
    cs = ig.capability_statement()
    cs["kind"] = "changed"
    assert ig.capability_statement()["kind"] == "requirements"
    monkeypatch.setenv("VHR_IG_PACKAGE", str(tmp_path / "nowhere"))
    with pytest.raises(UserError) as err:
        ig.ig_package_dir()
    assert "make profiles" in err.value.render()
