"""`vhr run`'s load phase takes `[load]` of vhr.toml (as `vhr load` does) and records what it ran."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_run_perf_takes_the_load_settings_from_vhr_toml(tmp_path: Path) -> None:
    config = tmp_path / "vhr.toml"
    config.write_text('[load]\nduration = "3s"\nusers = 2\n', encoding="utf-8")
    out = tmp_path / "r"
    code = "import sys; from vhr_conformance.cli import main; sys.argv = ['vhr', *sys.argv[1:]]; main()"
    args = ["run", "--only", "PERF", "--config", str(config), "--report-dir", str(out), "--quiet"]
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, check=False
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    plan_path = out / "load" / "plan.json"
    assert plan_path.is_file(), proc.stdout[-2000:] + proc.stderr[-2000:]
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    assert (plan["users"], plan["duration"], plan["workload"]["name"]) == (2, 3.0, "standard")
    options = json.loads((out / "results.json").read_text(encoding="utf-8"))["options"]
    assert options["load"] == {
        "duration": "3s",
        "workload": "standard",
        "shape": "constant",
        "users": 2,
        "spawn_rate": 15.0,
    }
    assert options["config"] == str(config.resolve())
