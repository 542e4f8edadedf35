"""Mapping fidelity (area MAP): does the target's FHIR say the same thing as the facility's XML 130?

Given XML 130 files (`--vhr-xml DIR`, `vhr run --xml DIR`), each encounter is converted by our
documented mapping (docs/xml130.md), the target's resources for its MA_LK are read back, and each
MAP criterion fails with the differences (XML field, FHIR path, expected, actual) as evidence.
Against the embedded reference server without XML (`--vhr-xml-twins`, set by `vhr run`), the XML
files are twins of the coverage submissions and our conversion is what the server is loaded with.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vhr_conformance.client import FhirClient
from vhr_conformance.i18n import Text
from vhr_conformance.outcome import check, not_tested
from vhr_conformance.pytest_plugin import VhrState, criterion
from vhr_conformance.runner import mapping
from vhr_conformance.seed import Tracker, coverage_bundles, upload


@pytest.fixture(scope="session")
def map_run(
    request: pytest.FixtureRequest, vhr: VhrState, fhir: FhirClient, tracker: Tracker
) -> mapping.MappingRun:
    from vhr_conformance.xml130.fidelity import fetch_vendor

    xml = request.config.getoption("vhr_xml", None)
    load_ours = request.config.getoption("vhr_xml_twins", False)
    if xml:
        files = mapping.xml_files(Path(xml))
        run = mapping.MappingRun("xml", mapping.convert_files(files), mapping.file_hashes(files))
    elif load_ours:
        bundles = coverage_bundles(vhr.options.seed)
        if vhr.options.seed_limit > 0:
            bundles = bundles[: vhr.options.seed_limit]
        worker = getattr(request.config, "workerinput", {}).get(
            "workerid"
        )  # xdist: each worker its own MA_LKs
        suffix = "." + vhr.options.run_id.rsplit("-", 1)[-1] + (f".{worker}" if worker else "")
        run = mapping.MappingRun("twins", mapping.convert_twins(mapping.twin_envelopes(bundles, suffix)))
    else:
        not_tested(
            Text(
                "Không có tệp XML 130 của cơ sở: cung cấp bằng vhr run --xml DIR (pytest: --vhr-xml DIR) để so "
                "sánh với FHIR của máy chủ.",
                "No XML 130 files of the facility: supply them with vhr run --xml DIR (pytest: --vhr-xml DIR) "
                "to compare the target's FHIR with.",
            )
        )
    if load_ours:  # the embedded reference server: what it holds is our conversion
        for enc in (e for e in run.encounters if e.bundle is not None):
            loaded = upload(fhir, [(enc.source, enc.bundle or {})], vhr.options.run_id, tracker)
            status, problem = loaded.bundles[0][1], loaded.bundles[0][2]
            if status != 200 or problem:
                enc.problem = f"not loaded: HTTP {status} {problem[:200]}"
    client = mapping.HttpxLike(fhir)
    mapping.compare_all(run, lambda ma_lk: fetch_vendor(vhr.options.target, ma_lk, client=client))
    out = vhr.options.report_dir / "mapping.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(run.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    return run


def _failure_text(diffs: list[dict[str, Any]], judged: int) -> Text:
    """The differences of a failed MAP criterion, each in its own language (all are in mapping.json)."""
    shown = diffs[: mapping.SHOWN_DIFFERENCES]
    more = f"\n  … +{len(diffs) - len(shown)} (mapping.json)" if len(diffs) > len(shown) else ""

    def lines(lang: str) -> str:
        return "".join(f"\n  MA_LK {d['ma_lk']}: {(d.get('text') or {}).get(lang, '')}" for d in shown) + more

    return Text(
        f"{len(diffs)} khác biệt trên {judged} hồ sơ:" + lines("vi"),
        f"{len(diffs)} differences over {judged} encounters:" + lines("en"),
    )


@pytest.mark.parametrize("cid", [pytest.param(c, id=c, marks=criterion(c)) for c in mapping.CRITERIA])
def test_mapping_fidelity(
    cid: str, map_run: mapping.MappingRun, record_property: Callable[[str, Any], None]
) -> None:
    if not any(e.bundle for e in map_run.encounters):
        not_tested(
            Text(
                "Các tệp XML không có hồ sơ nào chuyển đổi được.",
                "The XML files hold no convertible encounter.",
            )
        )
    state, diffs, judged = map_run.verdict(cid)
    if state == "skip":
        not_tested(
            Text(
                "Không tìm thấy lượt khám nào theo MA_LK trên máy chủ, không so sánh được.",
                "No encounter was found by its MA_LK on the target: nothing could be compared.",
            )
        )
    if diffs:
        try:
            import allure

            allure.attach(
                json.dumps(diffs, ensure_ascii=False, indent=1),
                name=f"{cid} differences",
                attachment_type=allure.attachment_type.JSON,
            )
        except ImportError:  # pragma: no cover - allure-pytest is a dependency
            pass
    record_property("vhr_note", f"{judged} hồ sơ so sánh / encounters compared ({map_run.mode})")
    check(state == "pass", _failure_text(diffs, judged))
