"""Issue 13's Done-when, on bundles of real runs of `vhr run` against the embedded reference server.

Each run is short (`--only CAP --no-load`, about 15 s) and runs in a subprocess, as a user would.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vhr_conformance.cli import app
from vhr_conformance.evidence.bundle import write_bundle
from vhr_conformance.evidence.certificate import certify
from vhr_conformance.evidence.fingerprint import Harness
from vhr_conformance.evidence.keys import generate, key_id, load_signing_key, load_trust
from vhr_conformance.evidence.verify import EXIT_CODES, verify_bundle
from vhr_conformance.i18n import UserError
from vhr_conformance.paths import suites_path

VHR = [sys.executable, "-c", "from vhr_conformance.cli import main; main()"]


def _vhr(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("VHR_")}, **(env or {})}
    return subprocess.run(
        [*VHR, *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("keys")
    out: dict[str, Path] = {}
    for name, role in (("ministry", "ministry"), ("stranger", "vendor")):
        out[name], out[name + "-trust"] = generate(base / f"{name}.pem", f"Người ký {name}", role)
    return out


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> Path:
    """The report folder of a real, signed, passing `vhr run --only CAP`."""
    base = tmp_path_factory.mktemp("run")
    done = _vhr(
        [
            "run",
            "--only",
            "CAP",
            "--no-load",
            "--quiet",
            "--report-dir",
            "r",
            "--sign-key",
            str(keys["ministry"]),
        ],
        base,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (base / "r" / "evidence.zip").is_file()
    return base / "r"


@pytest.fixture(scope="module")
def reference() -> Harness:
    return Harness.current()


def _copy_with(bundle: Path, dest: Path, member: str, data: bytes) -> Path:
    with zipfile.ZipFile(bundle) as zf:
        items = {i.filename: zf.read(i) for i in zf.infolist()}
    items[member] = data
    with zipfile.ZipFile(dest, "w") as zf:
        for name, content in items.items():
            zf.writestr(name, content)
    return dest


def test_a_real_run_bundle_verifies(real_run: Path, keys: dict[str, Path]) -> None:
    done = CliRunner().invoke(
        app, ["verify", str(real_run / "evidence.zip"), "--trust", str(keys["ministry-trust"])]
    )
    assert done.exit_code == 0, done.output
    assert "ĐÃ XÁC MINH / VERIFIED" in done.output and "Run by the ministry" in done.output


def test_any_byte_of_any_file_changed_is_named(
    real_run: Path, keys: dict[str, Path], reference: Harness, tmp_path: Path
) -> None:
    bundle = real_run / "evidence.zip"
    trust = load_trust([keys["ministry-trust"]])
    with zipfile.ZipFile(bundle) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
    assert {"manifest.json", "manifest.sig.json", "report/results.json", "report/junit.xml"} <= set(members)
    checked = 0
    for name, data in members.items():
        for at in sorted({0, len(data) // 2, max(len(data) - 1, 0)}):
            if not data:
                continue
            changed = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]
            result = verify_bundle(_copy_with(bundle, tmp_path / "x.zip", name, changed), trust, reference)
            assert result.status == "failed", (name, at)
            assert any(name in p.en and name in p.vi for p in result.problems), (
                name,
                at,
                [p.en for p in result.problems],
            )
            checked += 1
    assert checked >= len(members)  # every file, at its start, middle and end
    one = _copy_with(bundle, tmp_path / "y.zip", "report/results.json", members["report/results.json"] + b" ")
    done = CliRunner().invoke(app, ["verify", str(one), "--trust", str(keys["ministry-trust"])])
    assert done.exit_code == EXIT_CODES["failed"] == 1 and "report/results.json" in done.output


def test_a_run_with_an_edited_suite_is_named_by_the_unmodified_install(
    tmp_path: Path, keys: dict[str, Path], reference: Harness
) -> None:
    edited = tmp_path / "suites"
    shutil.copytree(suites_path(), edited, ignore=shutil.ignore_patterns("__pycache__"))
    victim = edited / "test_capability.py"
    source = victim.read_text(encoding="utf-8")
    hook = '    resp = fhir.get("metadata")\n'
    assert hook in source
    victim.write_text(
        source.replace(hook, "    return\n" + hook, 1), encoding="utf-8"
    )  # CAP-001 can no longer fail
    done = _vhr(
        [
            "run",
            "--only",
            "CAP",
            "--no-load",
            "--quiet",
            "--report-dir",
            "r",
            "--sign-key",
            str(keys["ministry"]),
        ],
        tmp_path,
        env={"VHR_SUITES_DIR": str(edited)},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    bundle = tmp_path / "r" / "evidence.zip"
    result = verify_bundle(bundle, load_trust([keys["ministry-trust"]]), reference)
    assert result.status == "failed"
    assert any("suites/test_capability.py" in p.en for p in result.problems), [p.en for p in result.problems]
    cli = CliRunner().invoke(app, ["verify", str(bundle), "--trust", str(keys["ministry-trust"])])
    assert cli.exit_code == 1 and "suites/test_capability.py" in cli.output
    assert "Bộ kiểm thử đã chạy khác" in cli.output and "harness that ran differs" in cli.output


def test_a_bundle_signed_by_an_untrusted_key_is_untrusted(
    real_run: Path, keys: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "r"
    shutil.copytree(real_run, folder)
    (folder / "evidence.zip").unlink()
    packed = CliRunner().invoke(app, ["pack", str(folder), "--sign-key", str(keys["stranger"])])
    assert packed.exit_code == 0, packed.output
    done = CliRunner().invoke(
        app, ["verify", str(folder / "evidence.zip"), "--trust", str(keys["ministry-trust"])]
    )
    assert done.exit_code == EXIT_CODES["untrusted"] == 6
    assert "KHÔNG tin cậy" in done.output and "NOT trusted" in done.output and "UNTRUSTED" in done.output


def test_an_unsigned_bundle_says_integrity_only(
    real_run: Path, keys: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "r"
    shutil.copytree(real_run, folder)
    (folder / "evidence.zip").unlink()
    assert CliRunner().invoke(app, ["pack", str(folder)]).exit_code == 0
    done = CliRunner().invoke(
        app, ["verify", str(folder / "evidence.zip"), "--trust", str(keys["ministry-trust"])]
    )
    assert done.exit_code == EXIT_CODES["unsigned"] == 7
    assert (
        "integrity only, not trusted" in done.output and "chỉ kiểm tra toàn vẹn, không tin cậy" in done.output
    )


def test_certify_refuses_a_real_incomplete_run(tmp_path: Path, keys: dict[str, Path]) -> None:
    # VHR-SEC-001 (TLS) cannot be judged over plain http: the run is INCOMPLETE.
    done = _vhr(
        [
            "run",
            "--only",
            "CAP,VHR-SEC-001,VHR-BHI-009",
            "--no-embedded-tls",
            "--no-load",
            "--quiet",
            "--report-dir",
            "r",
            "--sign-key",
            str(keys["ministry"]),
        ],
        tmp_path,
    )
    assert done.returncode == 5, done.stdout[-2000:] + done.stderr[-2000:]
    assert "VHR-SEC-001" in done.stdout
    assert "VHR-BHI-009 [SHOULD, attested]" in done.stdout and "awaiting review" in done.stdout
    refused = CliRunner().invoke(
        app,
        [
            "certify",
            str(tmp_path / "r" / "evidence.zip"),
            "--key",
            str(keys["ministry"]),
            "--trust",
            str(keys["ministry-trust"]),
            "--out",
            str(tmp_path / "c"),
        ],
    )
    assert isinstance(refused.exception, UserError) and not (tmp_path / "c").exists()
    assert "INCOMPLETE" in refused.exception.render()


def _pass_bundle(folder: Path, key: Path) -> Path:
    folder.mkdir(parents=True)
    results = {"runId": "R1", "verdict": "PASS", "exitCode": 0, "scope": {"partial": False}, "options": {}}
    (folder / "results.json").write_text(json.dumps(results), encoding="utf-8")
    return write_bundle(folder, sign_key=load_signing_key(key))


def test_certify_issues_and_verify_checks_expiry_and_revocation(
    tmp_path: Path, keys: dict[str, Path], reference: Harness
) -> None:
    bundle = _pass_bundle(tmp_path / "r", keys["ministry"])
    trust = ["--trust", str(keys["ministry-trust"])]
    issued = CliRunner().invoke(
        app, ["certify", str(bundle), "--key", str(keys["ministry"]), *trust, "--out", str(tmp_path / "c")]
    )
    assert issued.exit_code == 0, issued.output
    cert = next((tmp_path / "c").glob("certificate-*.json"))
    assert CliRunner().invoke(app, ["verify", str(cert), *trust]).exit_code == 0
    cid = json.loads(cert.read_text(encoding="utf-8"))["certificate"]["id"]
    revocations = tmp_path / "revoked.json"
    revocations.write_text(
        json.dumps({"revoked": [{"id": cid, "reason": "key compromise"}]}), encoding="utf-8"
    )
    revoked = CliRunner().invoke(app, ["verify", str(cert), *trust, "--revocations", str(revocations)])
    assert revoked.exit_code == 1 and "revoked" in revoked.output, revoked.output
    old = certify(
        bundle,
        load_signing_key(keys["ministry"]),
        load_trust([keys["ministry-trust"]]),
        tmp_path / "old",
        valid_days=30,
        reference=reference,
        now=dt.datetime.now(dt.UTC) - dt.timedelta(days=31),
    )
    expired = CliRunner().invoke(app, ["verify", str(old["json"]), *trust])
    assert expired.exit_code == 1 and "expired" in expired.output, expired.output


@pytest.mark.parametrize(
    ("status", "by_trusted", "issued"),
    [
        ("accepted", True, True),
        ("accepted", False, False),
        ("attested", True, False),
        ("missing", True, False),
    ],
)
def test_a_certificate_needs_every_shall_attestation_accepted(
    tmp_path: Path, keys: dict[str, Path], reference: Harness, status: str, by_trusted: bool, issued: bool
) -> None:
    ministry = load_signing_key(keys["ministry"])
    reviewer = ministry.public if by_trusted else load_signing_key(keys["stranger"]).public
    row = {
        "id": "VHR-SEC-008",
        "level": "SHALL",
        "verification": "attestation",
        "inScope": True,
        "attestation": {"status": status, "review": {"check": "trusted", "keyId": key_id(reviewer)}},
    }
    folder = tmp_path / "r"
    folder.mkdir()
    results = {
        "runId": "R1",
        "verdict": "PASS",
        "scope": {"partial": False},
        "options": {},
        "criteria": [row],
    }
    (folder / "results.json").write_text(json.dumps(results), encoding="utf-8")
    bundle = write_bundle(folder, sign_key=ministry)
    trust = load_trust([keys["ministry-trust"]])
    if issued:
        assert certify(bundle, ministry, trust, tmp_path / "c", reference=reference)["json"].is_file()
        return
    with pytest.raises(UserError) as err:
        certify(bundle, ministry, trust, tmp_path / "c", reference=reference)
    assert "VHR-SEC-008" in err.value.text.en and "not accepted by a trusted reviewer" in err.value.text.en
