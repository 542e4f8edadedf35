"""`vhr audit` recovers what was planted in a synthetic store, at the stated rates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from vhr_conformance.audit.engine import AuditOptions, run_audit
from vhr_conformance.audit.facts import fold, presence, present
from vhr_conformance.audit.plant import PlantRates, plant
from vhr_conformance.cli import app

RATES = PlantRates(invalid=0.04, duplicates=0.08, orphans=0.03, late=0.2, stale=0.1)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("store")
    return out, plant(out, patients=120, seed=5, rates=RATES)


@pytest.fixture(scope="module")
def audited(store: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder, truth = store
    now = dt.datetime.fromisoformat(truth["now"])
    return run_audit(AuditOptions([folder], tmp_path_factory.mktemp("audit"), workers=2, now=now))


def test_invalid_resources_at_the_planted_rate(
    store: tuple[Path, dict[str, Any]], audited: dict[str, Any]
) -> None:
    _, truth = store
    assert audited["invalidResources"] == len(truth["invalid"])
    assert 0 < len(truth["invalid"]) <= RATES.invalid * truth["resources"]
    assert {e["resource"] for e in audited["invalidExamples"]} <= set(truth["invalid"])
    assert audited["topRules"][0]["resources"] == len(truth["invalid"])


def test_duplicates_precision_and_recall(
    store: tuple[Path, dict[str, Any]],
    audited: dict[str, Any],
    record_property: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, truth = store
    planted = {tuple(g) for g in truth["duplicates"]}
    found = {tuple(g) for g in audited["duplicatePatients"]["probableGroups"]}
    assert planted, "the store must hold duplicates"
    precision = len(planted & found) / len(found)
    recall = len(planted & found) / len(planted)
    figures = (
        f"linkage on {len(planted)} planted duplicate pairs: precision {precision:.3f}, recall {recall:.3f}"
    )
    record_property("linkage", figures)  # reported in junit.xml, and on the terminal
    with capsys.disabled():
        print(f"\n{figures}")
    assert precision >= 0.9 and recall >= 0.9, figures
    same = {tuple(g["patients"]) for g in audited["duplicatePatients"]["sameCccd"]}
    assert same <= planted


def test_orphans_and_late_encounters_exactly(
    store: tuple[Path, dict[str, Any]], audited: dict[str, Any]
) -> None:
    _, truth = store
    assert sorted({o["source"] for o in audited["orphanReferences"]}) == sorted(set(truth["orphans"]))
    assert sorted(e["encounter"] for e in audited["lateEncounters"]) == sorted(truth["late"])


def test_freshness_and_completeness(store: tuple[Path, dict[str, Any]], audited: dict[str, Any]) -> None:
    _, truth = store
    assert sum(audited["freshness"].values()) == audited["resources"]
    # stale: every planted record, plus encounters stamped after an end more than a year back and
    # copies of stale patients, counted here from the files themselves
    now = dt.datetime.fromisoformat(truth["now"])
    old, rows = set(), 0
    for path in (store[0]).glob("*.ndjson"):
        for line in path.read_text(encoding="utf-8").splitlines():
            res = json.loads(line)
            updated = dt.datetime.fromisoformat(res["meta"]["lastUpdated"])
            if (now - updated).total_seconds() > 365 * 86400:
                old.add(f"{res['resourceType']}/{res['id']}")
                rows += 1
    assert set(truth["stale"]) <= old and audited["freshness"]["> 1 y"] == rows
    dup_copies = {g[-1] for g in truth["duplicates"]}  # a duplicate copies its original's meta
    assert all(k.startswith("Encounter/") or k in dup_copies for k in old - set(truth["stale"]))
    fills = [v for paths in audited["mustSupportFill"].values() for v in paths.values()]
    assert fills and all(0.0 <= v <= 1.0 for v in fills) and any(v == 1.0 for v in fills)
    share = audited["basicHealthInformation"]["share"]
    assert (
        audited["basicHealthInformation"]["patients"]
        == 120 + len(truth["duplicates"])
        == 120 + round(120 * RATES.duplicates)
    )
    assert all(v is None or 0 <= v <= 1 for v in share.values())


def test_one_and_two_processes_agree(
    store: tuple[Path, dict[str, Any]], audited: dict[str, Any], tmp_path: Path
) -> None:
    folder, truth = store
    single = run_audit(
        AuditOptions([folder], tmp_path, workers=1, now=dt.datetime.fromisoformat(truth["now"]))
    )
    for key in (
        "records",
        "invalidResources",
        "mustSupportFill",
        "duplicatePatients",
        "orphanReferences",
        "lateEncounters",
        "freshness",
        "basicHealthInformation",
    ):
        assert single[key] == audited[key], key


def test_dask_local_cluster_gives_the_same_audit(
    store: tuple[Path, dict[str, Any]], audited: dict[str, Any], tmp_path: Path
) -> None:
    """The facts stage as Dask tasks on a LocalCluster (2 worker processes): the same audit.json."""
    pytest.importorskip("distributed")
    folder, truth = store
    options = AuditOptions(
        [folder],
        tmp_path,
        now=dt.datetime.fromisoformat(truth["now"]),
        dask_local=2,
        dask_timeout_s=300,  # bounded: the stage gives up (a UserError) rather than hang
    )
    on_dask = run_audit(options)
    assert on_dask["records"] == truth["resources"] > 0
    assert on_dask == audited
    assert json.loads((tmp_path / "audit.json").read_text(encoding="utf-8")) == json.loads(
        json.dumps(audited)
    )


def test_dask_options_are_checked(tmp_path: Path) -> None:
    (tmp_path / "Patient.ndjson").write_text('{"resourceType": "Patient", "id": "a"}\n', encoding="utf-8")
    runner = CliRunner()
    both = runner.invoke(
        app,
        [
            "audit",
            "run",
            "--ndjson",
            str(tmp_path),
            "--out",
            str(tmp_path / "o"),
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--dask-local",
            "2",
        ],
    )
    assert both.exit_code != 0 and "--dask-local" in str(both.exception or both.output)
    pytest.importorskip("distributed")
    from vhr_conformance.i18n import UserError

    with pytest.raises(UserError) as err:  # nothing listens on port 9: a located, bilingual error
        run_audit(AuditOptions([tmp_path], tmp_path / "o", scheduler="tcp://127.0.0.1:9", dask_connect_s=2))
    assert err.value.location == "tcp://127.0.0.1:9" and "Dask" in err.value.text.vi


def test_a_scheduler_without_workers_is_a_located_error(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    from vhr_conformance.i18n import UserError

    (tmp_path / "Patient.ndjson").write_text('{"resourceType": "Patient", "id": "a"}\n', encoding="utf-8")
    with distributed.LocalCluster(
        n_workers=0, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        with pytest.raises(UserError) as err:
            run_audit(AuditOptions([tmp_path], tmp_path / "o", scheduler=address, dask_connect_s=2))
    assert err.value.location == address and "worker" in err.value.text.en


def test_broken_lines_are_counted_with_their_location(tmp_path: Path) -> None:
    (tmp_path / "Patient.ndjson").write_text(
        '{"resourceType": "Patient", "id": "a"}\n{not json\n[1]\n', encoding="utf-8"
    )
    result = run_audit(AuditOptions([tmp_path], tmp_path / "out", workers=1))
    assert result["records"] == 3 and result["unparsable"] == 2
    lines = sorted(e["line"] for e in result["invalidExamples"] if e["resource"] is None)
    assert lines == [2, 3]


def test_cli_writes_json_and_html(store: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    folder, _ = store
    result = CliRunner().invoke(
        app, ["audit", "run", "--ndjson", str(folder), "--out", str(tmp_path), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    for key in (
        "resources",
        "invalidResources",
        "duplicatePatients",
        "orphanReferences",
        "mustSupportFill",
        "lateEncounters",
    ):
        assert key in data
    stages = json.loads((tmp_path / "audit-stages.json").read_text(encoding="utf-8"))
    assert stages["records"] == data["records"] and stages["mode"] == "processes:1"
    assert set(stages["stages"]) == {"facts", "aggregate"}
    assert all(v["wallSeconds"] > 0 and v["cpuSeconds"] > 0 for v in stages["stages"].values())
    html = (tmp_path / "audit.html").read_text(encoding="utf-8")
    assert "<svg" in html and "đúng – đủ – sạch – sống" in html


def test_helpers() -> None:
    assert fold("Nguyễn Thị Ánh Đào") == "nguyen thi anh dao"
    obs = {"resourceType": "Observation", "valueQuantity": {"value": 1}, "code": {"coding": []}}
    assert present(obs, "Observation.value[x]") and not present(obs, "Observation.code.coding")
    assert not present(obs, "Observation.subject")
    # presence walks shared prefixes once: the same answers as one path at a time
    bp = {
        "resourceType": "Observation",
        "component": [{"code": {"text": "sys"}, "valueQuantity": {"value": 120}}, {"code": {"text": "dia"}}],
    }
    paths = [
        "Observation.component",
        "Observation.component.code",
        "Observation.component.value[x]",
        "Observation.component.dataAbsentReason",
        "Observation.code",
        "Observation.code.text",
    ]
    assert presence(bp, paths) == [present(bp, p) for p in paths] == [True, True, True, False, False, False]


def test_target_by_bulk_export_and_resume(tmp_path: Path) -> None:
    from vhr_conformance.audit.export import ExportOptions, fetch
    from vhr_conformance.paths import fixtures_path
    from vhr_conformance.server import ReferenceServer

    with ReferenceServer(load=fixtures_path() / "coverage") as srv:
        first = fetch(ExportOptions(srv.base_url, tmp_path / "export"))
        assert first["mode"] == "bulk-export" and first["files"]
        # a second call with the same state file resumes: nothing is downloaded again
        again = fetch(ExportOptions(srv.base_url, tmp_path / "export"))
        assert again["status"] == first["status"] and again["files"] == first["files"]
        result = CliRunner().invoke(
            app, ["audit", "run", "--target", srv.base_url, "--out", str(tmp_path / "a"), "--workers", "1"]
        )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "a" / "audit.json").read_text(encoding="utf-8"))
    assert data["byType"]["Patient"]["resources"] > 0 and data["invalidResources"] == 0
    assert data["source"] == {"mode": "bulk-export"}  # the QUAL verdicts judge a whole store, not a sample
    assert "<svg" in (tmp_path / "a" / "audit.html").read_text(encoding="utf-8")


def test_paged_search_when_export_is_missing(tmp_path: Path) -> None:
    import httpx

    from vhr_conformance.audit.export import ExportOptions, fetch

    patients = [{"resourceType": "Patient", "id": f"p{i}"} for i in range(7)]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("$export"):
            return httpx.Response(404)
        start = int(request.url.params.get("_offset", "0"))
        page = patients[start : start + 3]
        links = (
            [{"relation": "next", "url": f"http://fhir.test/Patient?_offset={start + 3}"}]
            if start + 3 < 7
            else []
        )
        body = {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": links,
            "entry": [{"resource": p} for p in page],
        }
        return httpx.Response(200, json=body)

    transport = httpx.MockTransport(handler)
    original = httpx.Client.__init__

    def patched(self: httpx.Client, *args: Any, **kwargs: Any) -> None:
        kwargs["transport"] = transport
        original(self, *args, **kwargs)

    httpx.Client.__init__ = patched  # type: ignore[method-assign]
    try:
        got = fetch(ExportOptions("http://fhir.test", tmp_path, types=["Patient"], sample=5))
    finally:
        httpx.Client.__init__ = original  # type: ignore[method-assign]
    assert got == {"mode": "paged-search", "sample": 5, "counts": {"Patient": 5}}
    assert len((tmp_path / "Patient-search.ndjson").read_text(encoding="utf-8").splitlines()) == 5


def test_vhr_audit_takes_its_options_directly(store: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """`vhr audit --ndjson DIR` is `vhr audit run --ndjson DIR` (the issue's spelling)."""
    import subprocess
    import sys

    from vhr_conformance.cli import with_default_subcommand

    assert with_default_subcommand(["audit", "--ndjson", "d"]) == ["audit", "run", "--ndjson", "d"]
    assert with_default_subcommand(["audit", "plant", "--out", "x"]) == ["audit", "plant", "--out", "x"]
    assert with_default_subcommand(["audit", "--help"]) == ["audit", "--help"]
    folder, _ = store
    vhr = str(Path(sys.executable).with_name("vhr"))
    done = subprocess.run(
        [vhr, "audit", "--ndjson", str(folder), "--out", str(tmp_path), "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "audit.json").is_file() and (tmp_path / "audit.html").is_file()
