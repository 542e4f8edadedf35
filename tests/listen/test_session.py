"""Session behaviour beyond the mutation proof: reports, redaction, platform look-ups, scenarios."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from vhr_conformance.listen import Listener, PushOptions, push
from vhr_conformance.listen.evaluate import CHECKS
from vhr_conformance.outcome import ExitCode, Verdict
from vhr_conformance.reports import sha256_file

from .conftest import Run, messages, states


def test_reports_in_every_format_hashed_and_free_of_secrets(run_session: Run) -> None:
    report, _ = run_session(bad="wrong-content-type", limit=1, corrections=0)
    folder = report.paths["html"].parent
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in ("report.html", "results.json", "testreport.json", "junit.xml", "exchanges.jsonl"):
        assert manifest["files"][name] == sha256_file(folder / name), name
    assert manifest["options"]["mode"] == "listen"
    results = json.loads((folder / "results.json").read_text())
    assert {c["id"] for c in results["criteria"]} >= set(CHECKS)
    assert all(c["actor"] == "sender" for c in results["criteria"])
    junit = ET.parse(folder / "junit.xml").getroot().find("testsuite")
    assert junit is not None and junit.get("tests") == str(len(CHECKS)) and junit.get("failures") == "1"
    allure = [json.loads(p.read_text()) for p in (folder / "allure-results").glob("*-result.json")]
    assert {a["status"] for a in allure if "VHR-API-101" in a["fullName"]} == {"failed"}
    assert any(p.name.endswith("-attachment.json") for p in (folder / "allure-results").iterdir())
    testreport = json.loads((folder / "testreport.json").read_text())
    assert testreport["resourceType"] == "TestReport" and testreport["result"] == "fail"
    log = (folder / "exchanges.jsonl").read_text()
    rows = [json.loads(line) for line in log.splitlines()]
    assert any(r["url"] == "/auth/token" for r in rows)
    # Neither the bearer tokens nor the client secret reach the files filed with the ministry.
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "eyJ" not in text and "vhr-test-admin-secret" not in text, path


def test_resending_without_conditions_duplicates_patients_on_the_platform(run_session: Run) -> None:
    report, _ = run_session(bad="plain-create", auth="none", corrections=0, sends=2, limit=1)
    assert states(report)["VHR-PAT-101"] == "fail"
    assert "holds 2 Patients" in messages(report)["VHR-PAT-101"]


def test_well_behaved_resend_keeps_one_patient(run_session: Run) -> None:
    report, _ = run_session(auth="none", corrections=0, sends=2, limit=1)
    assert states(report)["VHR-PAT-101"] == "pass"
    assert states(report)["VHR-SEC-101"] == "not-applicable"  # no auth in force: nothing to check


def test_outage_is_waited_out(run_session: Run) -> None:
    report, log = run_session(scenarios=("outage",), limit=1, corrections=0)
    assert states(report)["VHR-API-102"] == "pass", messages(report)
    assert log.retries >= 1 and not log.gave_up and log.sent


def test_unprovoked_rules_are_skipped_not_passed(run_session: Run) -> None:
    report, _ = run_session(limit=1, corrections=0)
    got = states(report)
    assert got["VHR-API-102"] == got["VHR-API-103"] == got["VHR-KCB-103"] == "not-tested"
    # SHALL criteria not exercised are not proven, but nothing failed: INCOMPLETE, not FAILED
    assert report.run.verdict() == Verdict.INCOMPLETE and report.run.exit_code() == ExitCode.INCOMPLETE
    data = json.loads(report.paths["json"].read_text(encoding="utf-8"))
    assert {"VHR-API-102", "VHR-API-103"} <= {g["id"] for g in data["notTested"]}
    junit = report.paths["junit"].read_text(encoding="utf-8")
    assert "CHƯA ĐẦY ĐỦ / INCOMPLETE" in junit and "[not-tested]" in junit


def test_exchange_log_keeps_order_status_and_scenario(run_session: Run) -> None:
    report, _ = run_session(bad="no-backoff", scenarios=("throttle",), limit=1, corrections=0)
    rows = [json.loads(line) for line in report.paths["exchanges"].read_text().splitlines()]
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    throttled = [r for r in rows if r["scenario"] == "throttle"]
    assert (
        throttled and throttled[0]["status"] == 429 and throttled[0]["response_headers"]["retry-after"] == "1"
    )


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (EC, one day)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_https_listener(bundles_dir: Path, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    with Listener(auth="oauth", session="tls", tls=(str(cert), str(key))) as lst:
        assert lst.base_url.startswith("https://")
        log = push(
            PushOptions(
                target=lst.base_url,
                folder=bundles_dir,
                auth="oauth",
                limit=1,
                corrections=0,
                ca_file=str(cert),
            )
        )
        report = lst.finish(tmp_path / "report")
    assert log.sent and states(report)["VHR-SEC-101"] == states(report)["VHR-QUAL-101"] == "pass"


def test_preloaded_platform_data_counts_for_duplicates(bundles_dir: Path, tmp_path: Path) -> None:
    first = sorted(bundles_dir.iterdir())[0]
    preload = tmp_path / "platform"
    preload.mkdir()
    (preload / first.name).write_bytes(first.read_bytes())
    with Listener(session="preload", load=preload) as lst:
        push(PushOptions(target=lst.base_url, folder=first, bad="plain-create", corrections=0))
        report = lst.finish(tmp_path / "report")
    assert "holds 2 Patients" in messages(report)["VHR-PAT-101"]
