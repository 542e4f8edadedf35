"""Scope enforcement on every path that can return other types, bulk-export jobs owned by their
client, and access tokens that must carry exp, this server's iss and a registered sub."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from vhr_conformance.server import ReferenceServer
from vhr_conformance.server.auth import Client

from .conftest import FHIR, patient

CLIENTS = (
    Client("admin", ("system/*.*",), secret="s3cret-admin"),
    Client("other", ("system/*.read",), secret="s3cret-other"),
)


@pytest.fixture(scope="module")
def srv() -> Iterator[ReferenceServer]:
    with ReferenceServer(auth="oauth", clients=CLIENTS, validate=False) as s:
        yield s


def _headers(srv: ReferenceServer, scope: str | None = None, cid: str = "admin") -> dict[str, str]:
    data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    r = httpx.post(srv.base_url + "/auth/token", data=data, auth=(cid, f"s3cret-{cid}"))
    assert r.status_code == 200, r.text
    return {**FHIR, "Authorization": "Bearer " + r.json()["access_token"]}


@pytest.fixture(scope="module")
def data(srv: ReferenceServer) -> dict[str, str]:
    """Organization ← Patient ← Observation, Encounter (about the patient, by the organization)."""
    h = _headers(srv)
    base = srv.base_url

    def post(res: dict[str, Any]) -> str:
        r = httpx.post(f"{base}/{res['resourceType']}", json=res, headers=h)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    org = post({"resourceType": "Organization", "name": "Bệnh viện B"})
    pid = post(patient(managingOrganization={"reference": f"Organization/{org}"}))
    subject = {"reference": f"Patient/{pid}"}
    obs = post({"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": subject})
    enc = post(
        {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"code": "AMB"},
            "subject": subject,
            "serviceProvider": {"reference": f"Organization/{org}"},
        }
    )
    return {"org": org, "pid": pid, "obs": obs, "enc": enc}


def _types(body: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for e in body.get("entry", []):
        res = e.get("resource") or {}
        out.add(str(res.get("resourceType")))
        out |= {str((x.get("resource") or {}).get("resourceType")) for x in res.get("entry", [])}
    return out - {"None"}


def test_include_and_revinclude_drop_other_types(srv: ReferenceServer, data: dict[str, str]) -> None:
    base, pid = srv.base_url, data["pid"]
    admin = _headers(srv)
    full = httpx.get(f"{base}/Patient?_id={pid}&_revinclude=*", headers=admin).json()
    assert {"Observation", "Encounter"} <= _types(full)  # `*` finds whatever points at the match
    narrow = _headers(srv, "system/Patient.read")
    for query in (f"_id={pid}&_revinclude=*", f"_id={pid}&_revinclude=Observation:patient"):
        assert _types(httpx.get(f"{base}/Patient?{query}", headers=narrow).json()) == {"Patient"}
        form = {**narrow, "Content-Type": "application/x-www-form-urlencoded"}
        assert _types(httpx.post(f"{base}/Patient/_search", content=query, headers=form).json()) == {
            "Patient"
        }
    enc_only = _headers(srv, "system/Encounter.rs")
    q = f"_id={data['enc']}&_include=*&_include=Encounter:patient&_include:iterate=Patient:organization"
    assert _types(httpx.get(f"{base}/Encounter?{q}", headers=admin).json()) >= {"Patient", "Organization"}
    assert _types(httpx.get(f"{base}/Encounter?{q}", headers=enc_only).json()) == {"Encounter"}
    both = _headers(srv, "system/Encounter.read system/Patient.read")
    assert _types(httpx.get(f"{base}/Encounter?{q}", headers=both).json()) == {"Encounter", "Patient"}


def test_chain_and_has_through_a_type_outside_the_scopes_are_refused(
    srv: ReferenceServer, data: dict[str, str]
) -> None:
    q = "/Encounter?patient:Patient.identifier=001090012345"
    assert httpx.get(srv.base_url + q, headers=_headers(srv)).json()["total"] >= 1
    r = httpx.get(srv.base_url + q, headers=_headers(srv, "system/Encounter.read"))
    assert r.status_code == 403 and r.json()["resourceType"] == "OperationOutcome"
    ok = _headers(srv, "system/Encounter.read system/Patient.rs")
    assert httpx.get(srv.base_url + q, headers=ok).status_code == 200
    has = f"/Patient?_has:Observation:patient:_id={data['obs']}"
    found = httpx.get(srv.base_url + has, headers=_headers(srv)).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [data["pid"]]
    assert httpx.get(srv.base_url + has, headers=_headers(srv, "system/Patient.read")).status_code == 403


def test_batch_and_transaction_gets_are_checked(srv: ReferenceServer, data: dict[str, str]) -> None:
    narrow = _headers(srv, "system/Patient.read")
    entries = [
        {"request": {"method": "GET", "url": f"Patient/{data['pid']}"}},
        {"request": {"method": "GET", "url": f"Observation/{data['obs']}"}},
        {"request": {"method": "GET", "url": f"Observation?patient={data['pid']}"}},
        {"request": {"method": "GET", "url": f"Patient?_id={data['pid']}&_revinclude=*"}},
    ]
    for btype in ("batch", "transaction"):
        bundle = {"resourceType": "Bundle", "type": btype, "entry": entries}
        r = httpx.post(srv.base_url + "/", json=bundle, headers=narrow)
        if btype == "transaction":  # one refused entry fails the whole transaction
            assert r.status_code == 403
            continue
        body = r.json()
        assert _types(body) == {"Patient", "Bundle"}  # the search entries answer Bundles of Patients
        statuses = [e["response"]["status"][:3] for e in body["entry"]]
        assert statuses == ["200", "403", "403", "200"]


def test_everything_history_and_export_keep_to_the_scopes(srv: ReferenceServer, data: dict[str, str]) -> None:
    base, narrow = srv.base_url, _headers(srv, "system/Patient.read")
    everything = httpx.get(f"{base}/Patient/{data['pid']}/$everything", headers=narrow).json()
    assert _types(everything) == {"Patient"}
    assert httpx.get(f"{base}/_history", headers=narrow).status_code == 403
    assert httpx.get(f"{base}/Observation/_history", headers=narrow).status_code == 403
    assert _types(httpx.get(f"{base}/Patient/_history", headers=narrow).json()) == {"Patient"}
    kick = httpx.get(
        f"{base}/$export?_type=Patient,Observation", headers={**narrow, "Prefer": "respond-async"}
    )
    assert kick.status_code == 202
    manifest = httpx.get(kick.headers["content-location"], headers=narrow).json()
    assert [o["type"] for o in manifest["output"]] == ["Patient"]


def test_export_job_belongs_to_its_client(srv: ReferenceServer, data: dict[str, str]) -> None:
    owner, other = _headers(srv), _headers(srv, cid="other")
    kick = httpx.get(srv.base_url + "/$export?_type=Patient", headers={**owner, "Prefer": "respond-async"})
    status = kick.headers["content-location"]
    manifest = httpx.get(status, headers=owner).json()
    file_url = manifest["output"][0]["url"]
    assert httpx.get(status, headers=other).status_code == 404
    assert httpx.get(file_url, headers=other).status_code == 404
    assert httpx.delete(status, headers=other).status_code == 404
    assert httpx.get(file_url, headers=owner).status_code == 200  # still there for its owner
    assert httpx.delete(status, headers=owner).status_code == 202
    assert httpx.get(status, headers=owner).status_code == 404


def _forged(srv: ReferenceServer, **claims: Any) -> dict[str, str]:
    now = int(time.time())
    body = {
        "iss": srv.base_url + "/auth/token",
        "sub": "admin",
        "scope": "system/*.*",
        "exp": now + 60,
        **claims,
    }
    body = {k: v for k, v in body.items() if v is not None}
    token = jwt.encode(body, srv.fhir.authority.secret, algorithm="HS256")  # signed with the server's own key
    return {**FHIR, "Authorization": f"Bearer {token}"}


def test_access_tokens_need_exp_our_issuer_and_a_known_client(srv: ReferenceServer) -> None:
    url = srv.base_url + "/Patient"
    assert httpx.get(url, headers=_forged(srv)).status_code == 200  # the control: a well-formed token
    assert httpx.get(url, headers=_forged(srv, exp=None)).status_code == 401
    assert httpx.get(url, headers=_forged(srv, sub="nobody")).status_code == 401
    assert httpx.get(url, headers=_forged(srv, iss="https://elsewhere.invalid/token")).status_code == 401
    assert httpx.get(url, headers=_forged(srv, exp=int(time.time()) - 10)).status_code == 401
    issued = _headers(srv)["Authorization"].split()[1]
    assert "exp" in jwt.decode(issued, options={"verify_signature": False})


KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def _assertion(srv: ReferenceServer, **over: Any) -> dict[str, str]:
    now = int(time.time())
    claims = {
        "iss": "backend",
        "sub": "backend",
        "aud": srv.base_url + "/auth/token",
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
        **over,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return {
        "grant_type": "client_credentials",
        "scope": "system/*.read",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": jwt.encode(claims, KEY, algorithm="RS384"),
    }


@pytest.mark.parametrize("faults", [[], ["token-without-exp-accepted"]], ids=["clean", "fault"])
def test_assertion_without_exp(faults: list[str]) -> None:
    clients = (Client("backend", ("system/*.read",), public_key=PUBLIC_PEM),)
    with ReferenceServer(auth="oauth", clients=clients, validate=False, faults=faults) as s:
        url = s.base_url + "/auth/token"
        assert httpx.post(url, data=_assertion(s)).status_code == 200
        assert httpx.post(url, data=_assertion(s, sub="someone-else")).status_code == 401
        assert httpx.post(url, data=_assertion(s, iss="nobody", sub="nobody")).status_code == 401
        no_exp = httpx.post(url, data=_assertion(s, exp=None))
        assert no_exp.status_code == (200 if faults else 401)


def _vhr(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from vhr_conformance.cli import main; sys.argv = ['vhr', *sys.argv[1:]]; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("faults", [[], ["token-without-exp-accepted"]], ids=["clean", "fault"])
def test_sec019_probe_forges_assertions_with_smart_backend(faults: list[str], tmp_path: Path) -> None:
    """The suite's assertion probes (only possible with the run's own key) pass on the clean server
    and fail when it takes an assertion without exp."""
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(
        KEY.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    clients = (Client("backend", ("system/*.read",), public_key=PUBLIC_PEM),)
    with ReferenceServer(auth="oauth", clients=clients, validate=False, faults=faults) as s:
        cfg = tmp_path / "auth.json"
        cfg.write_text(
            json.dumps(
                {
                    "client_id": "backend",
                    "private_key_file": str(key_file),
                    "token_url": s.base_url + "/auth/token",
                    "scope": "system/*.read",
                }
            ),
            encoding="utf-8",
        )
        out = tmp_path / "r"
        proc = _vhr(
            "run",
            *("--target", s.base_url, "--auth", "smart-backend", "--auth-config", str(cfg)),
            *("--only", "VHR-SEC-019", "--report-dir", str(out), "--quiet"),
        )
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    states = {c["nodeid"].split("::")[-1]: c["state"] for c in data["cases"]}
    assert states == {"test_tokens_bounded_and_bound_to_client": "fail" if faults else "pass"}, (
        proc.stdout[-1500:] + proc.stderr[-1500:]
    )
    if faults:
        case = next(c for c in data["cases"] if "tokens_bounded" in c["nodeid"])
        assert "exp" in json.dumps(case, ensure_ascii=False)
