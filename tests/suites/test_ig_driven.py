"""The suites follow the IG in use: another CapabilityStatement gives other test cases."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from vhr_conformance.catalogue import suites_dir
from vhr_conformance.ig import ig_package_dir
from vhr_conformance.igmodel import load_ig


def _collect(*args: str) -> list[str]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(suites_dir()),
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "--vhr-target",
            "http://127.0.0.1:9",
            "--vhr-partial",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=suites_dir().parent,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return [line for line in proc.stdout.splitlines() if "::" in line]


def test_another_ig_changes_the_tests(tmp_path: Path) -> None:
    pkg = tmp_path / "package"
    shutil.copytree(ig_package_dir(), pkg)
    cs_file = next(
        p
        for p in pkg.glob("CapabilityStatement-*.json")
        if json.loads(p.read_text())["kind"] == "requirements"
    )
    cs = json.loads(cs_file.read_text(encoding="utf-8"))
    rest = cs["rest"][0]
    rest["resource"] = [r for r in rest["resource"] if r["type"] != "Coverage"]
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    patient["searchParam"].append(
        {
            "name": "address-city",
            "type": "string",
            "definition": "http://hl7.org/fhir/SearchParameter/individual-address-city",
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation",
                    "valueCode": "SHALL",
                }
            ],
        }
    )
    cs_file.write_text(json.dumps(cs), encoding="utf-8")
    model = load_ig(str(pkg))
    assert "Coverage" not in model.resources and "address-city" in {
        s.name for s in model.resources["Patient"].search
    }
    default = _collect()
    other = _collect("--vhr-ig", str(pkg))
    assert any("Coverage" in n for n in default) and not any("Coverage" in n for n in other)
    assert any("Patient-address-city" in n for n in other) and not any(
        "Patient-address-city" in n for n in default
    )
