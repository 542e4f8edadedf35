"""`vhr doctor`: each check judged from what the target did, ERROR fast when the target cannot be used."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from vhr_conformance.cli import app
from vhr_conformance.client import AuthConfig, TokenProvider
from vhr_conformance.client.tls import verify_context
from vhr_conformance.doctor import FAIL, PASS, WARN, diagnose
from vhr_conformance.runner.tlscerts import make_tls_files
from vhr_conformance.server import ReferenceServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _verdicts(diag: Any) -> dict[str, str]:
    return {c.name.en: c.verdict for c in diag.checks}


def test_closed_port_is_an_error_at_reachability() -> None:
    diag = diagnose(f"http://127.0.0.1:{_free_port()}")
    assert diag.verdict == "ERROR"
    assert _verdicts(diag)["Network reachability"] == FAIL
    assert "Token endpoint and token" not in _verdicts(diag)  # nothing after the blocking check
    result = CliRunner().invoke(
        app, ["doctor", "--target", f"http://127.0.0.1:{_free_port()}", "--format", "json"]
    )
    assert result.exit_code == 3, result.output


def test_not_a_url() -> None:
    diag = diagnose("fhir.example.vn/r4")
    assert diag.verdict == "ERROR" and _verdicts(diag) == {"Target URL": FAIL}


@pytest.fixture(scope="module")
def tls_oauth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    files = make_tls_files(tmp_path_factory.mktemp("tls"))
    with ReferenceServer(tls=files.server, auth="oauth") as srv:
        yield srv, files.ca


def test_reference_server_with_tls_and_token(tls_oauth_server: tuple[Any, Path]) -> None:
    srv, ca = tls_oauth_server
    verify = verify_context(str(ca))
    cfg = AuthConfig.load(
        "client-credentials",
        env={"VHR_CLIENT_ID": "vhr-test-admin", "VHR_CLIENT_SECRET": "vhr-test-admin-secret"},
    )
    diag = diagnose(
        srv.base_url, verify=verify, tokens=TokenProvider(cfg, discover_base=srv.base_url, verify=verify)
    )
    verdicts = _verdicts(diag)
    # the throwaway certificate lives one day: verified, with a warning that it expires soon
    assert verdicts["TLS and certificate"] == WARN
    assert "expires in" in next(c for c in diag.checks if c.name.en == "TLS and certificate").message.en
    assert verdicts["CapabilityStatement (/metadata)"] == PASS
    assert verdicts["Token endpoint and token"] == PASS, diag.to_json()
    assert diag.verdict == "PASS"
    tls = next(c for c in diag.checks if c.name.en == "TLS and certificate")
    assert len(tls.facts["sha256"]) == 64 and tls.facts["version"] in ("TLSv1.2", "TLSv1.3")


def test_untrusted_certificate_blocks(tls_oauth_server: tuple[Any, Path]) -> None:
    srv, _ca = tls_oauth_server
    diag = diagnose(srv.base_url)  # public roots: the throwaway CA is not among them
    assert diag.verdict == "ERROR" and _verdicts(diag)["TLS and certificate"] == FAIL
    assert "--ca-bundle" in next(c for c in diag.checks if c.verdict == FAIL).message.en


def test_wrong_secret_blocks_at_token(tls_oauth_server: tuple[Any, Path]) -> None:
    srv, ca = tls_oauth_server
    verify = verify_context(str(ca))
    cfg = AuthConfig.load(
        "client-credentials", env={"VHR_CLIENT_ID": "vhr-test-admin", "VHR_CLIENT_SECRET": "not-the-secret"}
    )
    diag = diagnose(
        srv.base_url, verify=verify, tokens=TokenProvider(cfg, discover_base=srv.base_url, verify=verify)
    )
    assert _verdicts(diag)["Token endpoint and token"] == FAIL and diag.verdict == "ERROR"


class _NotFhir(BaseHTTPRequestHandler):
    """A web server that is not a FHIR server, with a clock two hours fast."""

    def do_GET(self) -> None:
        body = b"<html>hello</html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def date_time_string(self, timestamp: float | None = None) -> str:
        import time

        return super().date_time_string(time.time() + 7200)

    def log_message(self, *args: Any) -> None:
        pass


def test_web_server_that_is_not_fhir() -> None:
    server = HTTPServer(("127.0.0.1", 0), _NotFhir)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        diag = diagnose(f"http://127.0.0.1:{server.server_port}/r4")
    finally:
        server.shutdown()
    verdicts = _verdicts(diag)
    assert verdicts["CapabilityStatement (/metadata)"] == FAIL
    assert verdicts["Clock skew"] == WARN
    assert diag.verdict == "FAIL"
    assert "404" in next(c for c in diag.checks if c.verdict == FAIL).message.en


def test_silent_server_is_an_error_not_a_hang() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections, never answers
    try:
        diag = diagnose(f"http://127.0.0.1:{listener.getsockname()[1]}")
    finally:
        listener.close()
    assert diag.verdict == "ERROR"
    assert _verdicts(diag)["CapabilityStatement (/metadata)"] == FAIL


def _vhr(*args: str, lang: str = "both", cwd: Path | None = None) -> Any:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("VHR_")}
    env |= {"VHR_LANG": lang, "COLUMNS": "200", "TERM": "dumb"}
    vhr = str(Path(sys.executable).with_name("vhr"))
    return subprocess.run(
        [vhr, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_unreachable_target_answers_error_and_stops_vhr_run_at_preflight(tmp_path: Path) -> None:
    """Done-when of issue 14: `vhr doctor --target http://127.0.0.1:1` is ERROR (exit 3), and
    `vhr run` against it stops before the suites (no case run, no results)."""
    doctor = _vhr("doctor", "--target", "http://127.0.0.1:1", lang="en")
    assert doctor.returncode == 3, doctor.stdout + doctor.stderr
    assert "ERROR — the target cannot be used" in doctor.stdout and "Traceback" not in doctor.stderr
    run = _vhr("run", "--target", "http://127.0.0.1:1", "--report-dir", str(tmp_path / "r"), lang="en")
    assert run.returncode == 3, run.stdout[-2000:] + run.stderr[-2000:]
    assert "stopped before the suites" in run.stdout + run.stderr
    assert not list(tmp_path.rglob("results.json")) and "Traceback" not in run.stderr


def test_vhr_lang_applies_to_the_table(tmp_path: Path) -> None:
    """`VHR_LANG=vi|en`: the doctor table's title, headers and cells show one language."""
    vi = _vhr("doctor", "--target", "http://127.0.0.1:1", lang="vi").stdout
    assert "Kiểm tra" in vi and "không đạt" in vi and "Kết luận: LỖI" in vi
    assert "check" not in vi and "fail" not in vi.replace("http", "") and "Verdict" not in vi
    en = _vhr("doctor", "--target", "http://127.0.0.1:1", lang="en").stdout
    assert "check" in en and "fail" in en and "Kiểm tra" not in en and "không đạt" not in en
    both = _vhr("doctor", "--target", "http://127.0.0.1:1").stdout
    assert "Kiểm tra / check" in both
