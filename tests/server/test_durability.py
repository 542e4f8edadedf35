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
PER_TX = 3  # observations per transaction, plus the patient


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(db: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "vhr_conformance.server", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/metadata", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("server did not start: " + (proc.stderr.read() if proc.stderr else b"").decode()[-2000:])


def _bundle(k: int) -> dict:
    pu = f"urn:uuid:00000000-0000-4000-8000-{k:012d}"
    entries = [{"fullUrl": pu, "resource": patient(identifier=[{"system": SYS, "value": str(k)}]),
                "request": {"method": "POST", "url": "Patient"}}]
    for j in range(PER_TX):
        entries.append({"resource": {
            "resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
            "identifier": [{"system": SYS, "value": f"{k}-{j}"}],
            "subject": {"reference": pu}, "valueQuantity": {"value": 150 + j, "unit": "cm"},
        }, "request": {"method": "POST", "url": "Observation"}})
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
    deadline = time.monotonic() + 20
    while len(acked) < 15 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: other transactions are in flight
    proc.wait()
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) >= 15

    proc = _start(db, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=FHIR, timeout=10) as c:
            patients = c.get(f"/Patient?identifier={SYS}|&_count=1000&_elements=identifier").json()
            present = {int(e["resource"]["identifier"][0]["value"]) for e in patients.get("entry", [])}
            obs = c.get("/Observation?_count=1000&_elements=identifier").json()
            per_tx: dict[int, int] = {}
            for e in obs.get("entry", []):
                k = int(e["resource"]["identifier"][0]["value"].split("-")[0])
                per_tx[k] = per_tx.get(k, 0) + 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"durability: sent {len(sent)}, acknowledged {len(acked)}, present after restart {len(present)}, "
          f"in flight at kill {len(sent) - len(acked)}")
    assert acked <= present, f"acknowledged but lost: {sorted(acked - present)}"
    assert present <= sent
    for k in present | set(per_tx):
        assert k in present and per_tx.get(k) == PER_TX, f"transaction {k} is partial"
