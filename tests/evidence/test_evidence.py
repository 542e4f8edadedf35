"""Evidence bundles, signatures, `vhr verify` and certificates, as docs/evidence.md states them."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vhr_conformance.cli import app
from vhr_conformance.evidence.bundle import write_bundle
from vhr_conformance.evidence.certificate import certify, verify_certificate
from vhr_conformance.evidence.fingerprint import Harness
from vhr_conformance.evidence.keys import generate, load_signing_key, load_trust
from vhr_conformance.evidence.verify import verify_bundle
from vhr_conformance.i18n import UserError
from vhr_conformance.paths import suites_path


def _report(folder: Path, verdict: str = "PASS", only: list[str] | None = None) -> Path:
    folder.mkdir(parents=True)
    results = {
        "runId": "R1",
        "verdict": verdict,
        "exitCode": 0 if verdict == "PASS" else 2,
        "target": "https://x.vn",
        "ig": {"id": "vhr.conformance.ig", "version": "0.1.0"},
        "options": {"only": only or []},
    }
    (folder / "results.json").write_text(json.dumps(results), encoding="utf-8")
    (folder / "report.html").write_text("<html>ok</html>", encoding="utf-8")
    (folder / "exchanges.ndjson").write_text('{"status": 200}\n', encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("keys")
    out: dict[str, Path] = {}
    for name, role in (("ministry", "ministry"), ("vendor", "vendor"), ("stranger", "vendor")):
        out[name], out[name + "-trust"] = generate(base / f"{name}.pem", f"Người ký {name}", role)
    return out


@pytest.fixture(scope="module")
def reference() -> Harness:
    return Harness.current()


def _rewrite(bundle: Path, member: str, data: bytes) -> None:
    with zipfile.ZipFile(bundle) as zf:
        items = {i.filename: zf.read(i) for i in zf.infolist()}
    items[member] = data
    with zipfile.ZipFile(bundle, "w") as zf:
        for name, content in items.items():
            zf.writestr(name, content)


def test_signed_bundle_verifies_and_says_who_signed(
    tmp_path: Path, keys: dict[str, Path], reference: Harness
) -> None:
    bundle = write_bundle(_report(tmp_path / "r"), sign_key=load_signing_key(keys["ministry"]))
    trust = load_trust([keys["ministry-trust"], keys["vendor-trust"]])
    result = verify_bundle(bundle, trust, reference)
    assert result.status == "verified", [p.en for p in result.problems]
    assert "Run by the ministry" in result.signature.describe().en
    vendor_signed = write_bundle(_report(tmp_path / "v"), sign_key=load_signing_key(keys["vendor"]))
    assert "Self-attested" in verify_bundle(vendor_signed, trust, reference).signature.describe().en


def test_any_changed_byte_is_named(tmp_path: Path, keys: dict[str, Path], reference: Harness) -> None:
    bundle = write_bundle(_report(tmp_path / "r"), sign_key=load_signing_key(keys["ministry"]))
    _rewrite(bundle, "report/report.html", b"<html>0k</html>")
    result = verify_bundle(bundle, load_trust([keys["ministry-trust"]]), reference)
    assert result.status == "failed"
    assert any("report/report.html" in p.en for p in result.problems)


def test_edited_manifest_breaks_the_signature(
    tmp_path: Path, keys: dict[str, Path], reference: Harness
) -> None:
    bundle = write_bundle(_report(tmp_path / "r"), sign_key=load_signing_key(keys["ministry"]))
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    manifest["run"]["verdict"] = "PASS"
    manifest["vendor"] = {"organisation": "someone else"}
    _rewrite(bundle, "manifest.json", json.dumps(manifest).encode())
    result = verify_bundle(bundle, load_trust([keys["ministry-trust"]]), reference)
    assert result.signature.status == "invalid" and result.status == "failed"


def test_added_file_is_named(tmp_path: Path, keys: dict[str, Path], reference: Harness) -> None:
    bundle = write_bundle(_report(tmp_path / "r"), sign_key=load_signing_key(keys["ministry"]))
    _rewrite(bundle, "report/extra.txt", b"hello")
    result = verify_bundle(bundle, load_trust([keys["ministry-trust"]]), reference)
    assert any("report/extra.txt" in p.en for p in result.problems)


def test_untrusted_and_unsigned_are_never_verified(
    tmp_path: Path, keys: dict[str, Path], reference: Harness
) -> None:
    trust = load_trust([keys["ministry-trust"]])
    stranger = write_bundle(_report(tmp_path / "s"), sign_key=load_signing_key(keys["stranger"]))
    assert verify_bundle(stranger, trust, reference).status == "untrusted"
    unsigned = write_bundle(_report(tmp_path / "u"))
    assert verify_bundle(unsigned, trust, reference).status == "unsigned"
    result = CliRunner().invoke(app, ["verify", str(unsigned), "--trust", str(keys["ministry-trust"])])
    assert result.exit_code == 7 and "integrity only, not trusted" in result.output, result.output
    assert "chỉ kiểm tra toàn vẹn, không tin cậy" in result.output
    foreign = CliRunner().invoke(app, ["verify", str(stranger), "--trust", str(keys["ministry-trust"])])
    assert foreign.exit_code == 6 and "KHÔNG tin cậy" in foreign.output and "NOT trusted" in foreign.output


def test_edited_suite_is_named_against_the_reference_install(
    tmp_path: Path, keys: dict[str, Path], reference: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited = tmp_path / "suites"
    shutil.copytree(suites_path(), edited, ignore=shutil.ignore_patterns("__pycache__"))
    victim = sorted(edited.glob("test_*.py"))[0]
    victim.write_text(
        "def test_nothing():\n    return\n" + victim.read_text(encoding="utf-8"), encoding="utf-8"
    )
    monkeypatch.setenv("VHR_SUITES_DIR", str(edited))
    bundle = write_bundle(_report(tmp_path / "r"), sign_key=load_signing_key(keys["ministry"]))
    monkeypatch.delenv("VHR_SUITES_DIR")
    result = verify_bundle(bundle, load_trust([keys["ministry-trust"]]), reference)
    assert result.status == "failed"
    assert any(f"suites/{victim.name}" in p.en for p in result.problems), [p.en for p in result.problems]


def test_unsafe_member_names_are_refused(tmp_path: Path, keys: dict[str, Path], reference: Harness) -> None:
    bundle = write_bundle(_report(tmp_path / "r"))
    _rewrite(bundle, "../evil.txt", b"x")
    assert any("Unsafe" in p.en for p in verify_bundle(bundle, [], reference).problems)


def test_certificate_for_a_pass_bundle(tmp_path: Path, keys: dict[str, Path], reference: Harness) -> None:
    trust = load_trust([keys["ministry-trust"]])
    bundle = write_bundle(_report(tmp_path / "r"), sign_key=load_signing_key(keys["vendor"]))
    paths = certify(
        bundle,
        load_signing_key(keys["ministry"]),
        trust,
        tmp_path / "certs",
        valid_days=30,
        reference=reference,
    )
    html = paths["html"].read_text(encoding="utf-8")
    assert "Chứng nhận" in html and "certificate" in html.lower()
    assert verify_certificate(paths["json"], trust, {}).status == "verified"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    expired = verify_certificate(paths["json"], trust, {}, now=later)
    assert expired.status == "failed" and any("expired" in p.en for p in expired.problems)
    cid = json.loads(paths["json"].read_text(encoding="utf-8"))["certificate"]["id"]
    revoked = verify_certificate(paths["json"], trust, {cid: "key compromise"})
    assert revoked.status == "failed" and any("revoked" in p.en for p in revoked.problems)
    document = json.loads(paths["json"].read_text(encoding="utf-8"))
    document["certificate"]["expires"] = "2099-01-01T00:00:00+00:00"
    paths["json"].write_text(json.dumps(document), encoding="utf-8")
    assert verify_certificate(paths["json"], trust, {}).signature.status == "invalid"


@pytest.mark.parametrize(
    ("verdict", "only", "partial"),
    [("INCOMPLETE", None, False), ("FAIL", None, False), ("PASS", ["CAP"], True), ("PASS", None, True)],
)
def test_no_certificate_without_a_whole_pass(
    tmp_path: Path,
    keys: dict[str, Path],
    reference: Harness,
    verdict: str,
    only: list[str] | None,
    partial: bool,
) -> None:
    folder = _report(tmp_path / "r", verdict, only)
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    results["scope"] = {"partial": partial}
    (folder / "results.json").write_text(json.dumps(results), encoding="utf-8")
    bundle = write_bundle(folder, sign_key=load_signing_key(keys["ministry"]))
    with pytest.raises(UserError):
        certify(
            bundle,
            load_signing_key(keys["ministry"]),
            load_trust([keys["ministry-trust"]]),
            tmp_path / "c",
            reference=reference,
        )


def test_only_a_ministry_key_certifies(tmp_path: Path, keys: dict[str, Path], reference: Harness) -> None:
    bundle = write_bundle(_report(tmp_path / "r"), sign_key=load_signing_key(keys["ministry"]))
    with pytest.raises(UserError):
        certify(
            bundle,
            load_signing_key(keys["vendor"]),
            load_trust([keys["ministry-trust"]]),
            tmp_path / "c",
            reference=reference,
        )


def test_private_key_file_is_private(keys: dict[str, Path]) -> None:
    assert keys["ministry"].stat().st_mode & 0o077 == 0
    assert load_signing_key(keys["ministry"]).name == "Người ký ministry"
