"""TLS in `vhr run`: the embedded server over https with a throwaway CA, and VHR-SEC-001 judging
the handshake, the TLS version, plain http, and certificates the harness does not trust."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vhr_conformance.client import FhirClient, InfrastructureError
from vhr_conformance.client.tls import verify_context
from vhr_conformance.outcome import ExitCode
from vhr_conformance.runner.tlscerts import make_tls_files
from vhr_conformance.server import ReferenceServer


def _vhr(*args: str, tmpdir: Path | None = None) -> subprocess.CompletedProcess[str]:
    code = "import sys; from vhr_conformance.cli import main; sys.argv = ['vhr', *sys.argv[1:]]; main()"
    env = {**os.environ, "TMPDIR": str(tmpdir)} if tmpdir else None
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, check=False, env=env
    )


def _cases(report: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((report / "results.json").read_text(encoding="utf-8"))
    return {c["nodeid"].rsplit("::", 1)[-1]: c for c in data["cases"]}


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    files = make_tls_files(tmp_path_factory.mktemp("tls"))
    with ReferenceServer(tls=files.server) as srv:
        yield srv, files


def test_embedded_tls_run_passes_sec_001(tmp_path: Path) -> None:
    out, scratch = tmp_path / "r", tmp_path / "scratch"
    scratch.mkdir()
    proc = _vhr("run", "--only", "SEC", "--report-dir", str(out), "--quiet", tmpdir=scratch)
    # the reference server attests audit (SEC-008) and consent (SEC-009), awaiting review, which
    # does not hold a run back: every SHALL of the area is judged (docs/evidence.md)
    assert proc.returncode == ExitCode.PASS, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert not [g for g in results["notTested"] if g["level"] == "SHALL"], results["notTested"]
    attested = {c["id"]: c["attestation"]["status"] for c in results["criteria"] if c.get("attestation")}
    assert attested["VHR-SEC-008"] == attested["VHR-SEC-009"] == "attested"
    # the embedded server's access log is kept with the run's evidence, as AuditEvents
    events = [json.loads(x) for x in (out / "audit-log.ndjson").read_text(encoding="utf-8").splitlines()]
    assert events and {e["resourceType"] for e in events} == {"AuditEvent"}
    assert any(e["outcome"] != "0" and "refused" in e["outcomeDesc"] for e in events)  # the 401/403 probes
    assert "https://127.0.0.1:" in proc.stdout
    cases = _cases(out)
    tls = cases["test_tls"]
    assert tls["state"] == "pass", tls
    assert "certificate verified" in tls["message"] and tls["message"].startswith(("TLSv1.2", "TLSv1.3"))
    # OAuth2 (token endpoint, scopes) works over the same https origin
    assert cases["test_no_token_401"]["state"] == "pass" and cases["test_scope_enforced"]["state"] == "pass"
    assert not list(scratch.glob("vhr-tls-*")), "the throwaway key folder is left behind"


def test_no_embedded_tls_leaves_sec_001_not_tested(tmp_path: Path) -> None:
    # Plain http on loopback: TLS could not be judged, so SEC-001 is not tested (never omitted
    # as if it did not apply) and the run cannot exit 0.
    out = tmp_path / "r"
    proc = _vhr("run", "--only", "VHR-SEC-001", "--no-embedded-tls", "--report-dir", str(out), "--quiet")
    assert proc.returncode == ExitCode.INCOMPLETE, proc.stdout[-2000:] + proc.stderr[-2000:]
    case = _cases(out)["test_tls"]
    assert case["state"] == "not-tested" and "https" in case["message"], case


def test_untrusted_certificate_fails_sec_001(tmp_path: Path, tls_server: Any) -> None:
    srv, _files = tls_server
    other_ca = make_tls_files(tmp_path / "other").ca  # a CA that did not sign the server's certificate
    out = tmp_path / "r"
    proc = _vhr(
        "run",
        "--target",
        srv.base_url,
        "--ca-bundle",
        str(other_ca),
        "--only",
        "VHR-SEC-001",
        "--report-dir",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr and "VHR-SEC-001" in proc.stdout
    tls = _cases(out)["test_tls"]
    assert tls["state"] == "fail", tls
    assert "không được tin cậy" in tls["message"] and "is not trusted" in tls["message"], tls["message"]


def test_trusted_private_ca_passes_sec_001(tmp_path: Path, tls_server: Any) -> None:
    srv, files = tls_server
    out = tmp_path / "r"
    proc = _vhr(
        "run",
        "--target",
        srv.base_url,
        "--ca-bundle",
        str(files.ca),
        "--only",
        "VHR-SEC-001",
        "--report-dir",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert _cases(out)["test_tls"]["state"] == "pass"


def test_plain_http_elsewhere_fails_sec_001(tmp_path: Path) -> None:
    """SEC-001 judges the URL itself: plain http anywhere but loopback fails, without a connection."""
    import subprocess
    import sys

    from vhr_conformance.catalogue import suites_dir

    out = tmp_path / "r"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(suites_dir()),
        "-p",
        "no:cacheprovider",
        "-q",
        "-o",
        "addopts=",
    ]
    cmd += [
        "--vhr-target",
        "http://vhr-target.invalid",
        "--vhr-only",
        "VHR-SEC-001",
        "--vhr-report-dir",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 1, proc.stdout[-2000:]
    tls = _cases(out)["test_tls"]
    assert tls["state"] == "fail" and "not served over https" in tls["message"]


def test_vhr_run_stops_at_a_host_that_does_not_resolve(tmp_path: Path) -> None:
    """`vhr run` asks the doctor first: a mistyped host stops at once (ERROR), never a pass."""
    proc = _vhr(
        "run", "--target", "http://vhr-target.invalid", "--report-dir", str(tmp_path / "r"), "--quiet"
    )
    assert proc.returncode == 3 and "vhr doctor" in proc.stdout


def test_client_names_an_untrusted_certificate(tls_server: Any, tmp_path: Path) -> None:
    srv, files = tls_server
    with FhirClient(srv.base_url, retries=2, verify=verify_context(str(files.ca))) as ok:
        assert ok.get("metadata").status == 200
    other = make_tls_files(tmp_path / "o").ca
    with FhirClient(srv.base_url, retries=2, verify=verify_context(str(other))) as bad:
        with pytest.raises(InfrastructureError, match="is not trusted") as err:
            bad.get("metadata")
        assert "không được tin cậy" in str(err.value)
        assert len(bad.evidence.take()) == 1  # a certificate failure is not retried


def test_throwaway_certificate_names_loopback_hosts_and_is_short_lived(tmp_path: Path) -> None:
    from cryptography import x509

    files = make_tls_files(tmp_path)
    leaf = x509.load_pem_x509_certificates(files.cert.read_bytes())[0]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1"}
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days <= 1
    assert files.key.stat().st_mode & 0o077 == 0
    ctx = verify_context(str(files.ca))
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname


def test_bad_ca_bundle_is_a_user_error(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate", encoding="utf-8")
    proc = _vhr("run", "--target", "https://127.0.0.1:9", "--ca-bundle", str(bogus), "--only", "VHR-SEC-001")
    assert proc.returncode == 2 and "--ca-bundle" in proc.stderr and "Traceback" not in proc.stderr
