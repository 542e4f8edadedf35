"""`vhr run` composes: a vhr.toml, a doctor first, valid --only, a JSON summary, reruns, an evidence bundle."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from vhr_conformance.server import ReferenceServer

VHR = str(Path(sys.executable).with_name("vhr"))


def _vhr(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("VHR_")}, **(env or {})}
    return subprocess.run(
        [VHR, *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=300, check=False
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_target_stops_at_the_doctor(tmp_path: Path) -> None:
    done = _vhr(["run", "--target", f"http://127.0.0.1:{_closed_port()}"], tmp_path)
    assert done.returncode == 3, done.stdout[-1500:] + done.stderr[-1500:]
    assert "vhr doctor" in done.stdout and not (tmp_path / "reports").exists()


def test_unknown_only_is_a_usage_error_listing_the_areas(tmp_path: Path) -> None:
    done = _vhr(["run", "--only", "nope,PAT"], tmp_path)
    assert done.returncode == 2 and "nope" in done.stderr and "CAP, SEC, PAT" in done.stderr


def test_json_summary_evidence_bundle_and_rerun(tmp_path: Path) -> None:
    done = _vhr(["run", "--only", "CAP", "--no-load", "--format", "json", "--report-dir", "r1"], tmp_path)
    summary: dict[str, Any] = json.loads(done.stdout)
    assert summary["verdict"] == "PASS" and summary["exitCode"] == done.returncode == 0
    assert (tmp_path / summary["evidenceBundle"]).is_file()
    results = tmp_path / "r1" / "results.json"
    nothing = _vhr(["run", "--rerun-failed", str(results)], tmp_path)
    assert nothing.returncode == 0 and "Nothing to rerun" in nothing.stdout
    data = json.loads(results.read_text(encoding="utf-8"))
    victim = next(c for c in data["criteria"] if c["area"] == "CAP" and c["level"] == "SHALL")
    victim["state"] = "fail"
    results.write_text(json.dumps(data), encoding="utf-8")
    again = _vhr(
        ["run", "--rerun-failed", str(results), "--no-load", "--report-dir", "r2", "--format", "json"],
        tmp_path,
    )
    rerun = json.loads((tmp_path / "r2" / "results.json").read_text(encoding="utf-8"))
    assert rerun["options"]["only"] == [victim["id"]], again.stderr[-1500:]


def test_vendor_config_alone_drives_a_run(tmp_path: Path) -> None:
    with ReferenceServer(auth="oauth") as srv:
        (tmp_path / "vhr.toml").write_text(
            f'[target]\nurl = "{srv.base_url}"\n[auth]\nmode = "client-credentials"\nclient_id = "vhr-test-admin"\n'
            'client_secret_env = "ADMIN_SECRET"\n[run]\nonly = ["CAP"]\n'
            '[vendor]\norganisation = "Bệnh viện Thử nghiệm"\nproduct = "HIS"\nversion = "1.0"\n',
            encoding="utf-8",
        )
        done = _vhr(
            ["run", "--no-load", "--report-dir", "r"], tmp_path, {"ADMIN_SECRET": "vhr-test-admin-secret"}
        )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    import zipfile

    with zipfile.ZipFile(tmp_path / "r" / "evidence.zip") as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["vendor"] == {"organisation": "Bệnh viện Thử nghiệm", "product": "HIS", "version": "1.0"}
    assert manifest["target"]["software"]["name"]
    assert "vhr-test-admin-secret" not in json.dumps(manifest)
