"""Load users verify the target's certificate against the trusted CA bundle, like the suites."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vhr_conformance.runner.tlscerts import make_tls_files
from vhr_conformance.server import ReferenceServer

# Run in a child process: importing locust monkey-patches the whole interpreter with gevent.
PROBE = """
import sys
from geventhttpclient import HTTPClient, URL
from vhr_conformance.load.user import VhrUser, verified_ssl_context
assert VhrUser.insecure is False
url = URL(sys.argv[1] + "/metadata")
client = HTTPClient.from_url(url, ssl_context_factory=verified_ssl_context, insecure=False)
try:
    print("status", client.get(url.request_uri).status_code)
except Exception as exc:
    print("refused", type(exc).__name__)
"""


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    files = make_tls_files(tmp_path_factory.mktemp("tls"))
    with ReferenceServer(tls=files.server) as srv:
        yield srv, files


def _probe(base_url: str, ca_bundle: Path | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "VHR_CA_BUNDLE"}
    if ca_bundle is not None:
        env["VHR_CA_BUNDLE"] = str(ca_bundle)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, base_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_trusted_ca_bundle_lets_load_users_in(tls_server: tuple[Any, Any]) -> None:
    srv, files = tls_server
    assert srv.base_url.startswith("https://")
    assert _probe(srv.base_url, files.ca) == "status 200"


def test_untrusted_certificate_is_refused(tls_server: tuple[Any, Any]) -> None:
    srv, _files = tls_server
    assert _probe(srv.base_url, None).startswith("refused")
