"""Kill -9 during a stream of transactions: after a restart every acknowledged transaction is
there in full and no transaction is there in part."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from .conftest import FHIR, patient

SYS = "urn:vhr-test:durability"
# acknowledged transactions before the kill; raise it (e.g. VHR_DURABILITY_ACKED=500) for a longer run
MIN_ACKED = int(os.environ.get("VHR_DURABILITY_ACKED", "15"))
PER_TX = 3  # observations per transaction, plus the patient


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(db: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "vhr_conformance.server", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/metadata", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError(
        "server did not start: " + (proc.stderr.read() if proc.stderr else b"").decode()[-2000:]
    )


def _all(c: httpx.Client, query: str) -> list[dict]:
    """Every match of a search, following the next links."""
    out: list[dict] = []
    url: str | None = query + "&_count=500"
    while url:
        page = c.get(url).json()
        out += [e["resource"] for e in page.get("entry", [])]
        url = next((lk["url"] for lk in page["link"] if lk["relation"] == "next"), None)
    return out


def _bundle(k: int) -> dict:
    pu = f"urn:uuid:00000000-0000-4000-8000-{k:012d}"
    entries = [
        {
            "fullUrl": pu,
            "resource": patient(identifier=[{"system": SYS, "value": str(k)}]),
            "request": {"method": "POST", "url": "Patient"},
        }
    ]
    for j in range(PER_TX):
        entries.append(
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
                    "identifier": [{"system": SYS, "value": f"{k}-{j}"}],
                    "subject": {"reference": pu},
                    "valueQuantity": {"value": 150 + j, "unit": "cm"},
                },
                "request": {"method": "POST", "url": "Observation"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def test_kill_9_keeps_acknowledged_transactions_whole(tmp_path: Path) -> None:
    db = tmp_path / "vhr.db"
    port = _free_port()
    proc = _start(db, port)
    acked: set[int] = set()
    sent: set[int] = set()
    lock = threading.Lock()
    stop = threading.Event()
    counter = iter(range(10**6))

    def stream() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=FHIR, timeout=10) as c:
            while not stop.is_set():
                with lock:
                    k = next(counter)
                    sent.add(k)
                try:
                    r = c.post("/", json=_bundle(k))
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    with lock:
                        acked.add(k)

    threads = [threading.Thread(target=stream) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20 + MIN_ACKED / 10
    while len(acked) < MIN_ACKED and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: other transactions are in flight
    proc.wait()
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) >= MIN_ACKED

    proc = _start(db, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=FHIR, timeout=10) as c:
            present = {int(r["identifier"][0]["value"]) for r in _all(c, f"/Patient?identifier={SYS}|")}
            per_tx: dict[int, int] = {}
            for r in _all(c, "/Observation?_elements=identifier"):
                k = int(r["identifier"][0]["value"].split("-")[0])
                per_tx[k] = per_tx.get(k, 0) + 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(
        f"durability: sent {len(sent)}, acknowledged {len(acked)}, present after restart {len(present)}, "
        f"in flight at kill {len(sent) - len(acked)}"
    )
    assert acked <= present, f"acknowledged but lost: {sorted(acked - present)}"
    assert present <= sent
    for k in present | set(per_tx):
        assert k in present and per_tx.get(k) == PER_TX, f"transaction {k} is partial"
