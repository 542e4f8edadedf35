"""OAuth2 (client credentials, SMART Backend Services), scopes, limits and the audit log."""

from __future__ import annotations

import gzip
import time
import uuid
from collections.abc import Iterator

import httpx
import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from vhr_conformance.server import ReferenceServer
from vhr_conformance.server.auth import Client

from .conftest import FHIR, patient

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
CLIENTS = (
    Client("admin", ("system/*.*",), secret="s3cret-admin"),
    Client("reader", ("system/*.read",), secret="s3cret-reader"),
    Client("backend", ("system/*.read", "system/Patient.write"), public_key=PUBLIC_PEM),
)


@pytest.fixture(scope="module")
def osrv() -> Iterator[ReferenceServer]:
    with ReferenceServer(auth="oauth", clients=CLIENTS, validate=False, max_body_bytes=50_000) as srv:
        yield srv


def token(srv: ReferenceServer, cid: str, secret: str, scope: str | None = None) -> httpx.Response:
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    return httpx.post(srv.base_url + "/auth/token", data=data, auth=(cid, secret))


def bearer(srv: ReferenceServer, cid: str, secret: str, scope: str | None = None) -> dict[str, str]:
    r = token(srv, cid, secret, scope)
    assert r.status_code == 200, r.text
    return {**FHIR, "Authorization": "Bearer " + r.json()["access_token"]}


def test_discovery(osrv: ReferenceServer) -> None:
    conf = httpx.get(osrv.base_url + "/.well-known/smart-configuration").json()
    assert conf["token_endpoint"] == osrv.base_url + "/auth/token"
    assert "private_key_jwt" in conf["token_endpoint_auth_methods_supported"]
    cs = httpx.get(osrv.base_url + "/metadata").json()
    sec = cs["rest"][0]["security"]
    assert sec["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"


def test_401_without_token_and_no_echo(osrv: ReferenceServer) -> None:
    r = httpx.get(osrv.base_url + "/Patient?name=Nguyễn", headers=FHIR)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "Nguy" not in r.text
    r = httpx.get(osrv.base_url + "/Patient", headers={**FHIR, "Authorization": "Bearer not-a-token"})
    assert r.status_code == 401


def test_client_credentials_and_scopes(osrv: ReferenceServer) -> None:
    assert token(osrv, "admin", "wrong").status_code == 401
    assert token(osrv, "reader", "s3cret-reader", "system/*.write").status_code == 400
    granted = token(osrv, "reader", "s3cret-reader", "system/Patient.read system/*.write").json()
    assert granted["scope"] == "system/Patient.read"

    admin = bearer(osrv, "admin", "s3cret-admin")
    r = httpx.post(osrv.base_url + "/Patient", json=patient(), headers=admin)
    assert r.status_code == 201
    pid = r.json()["id"]

    reader = bearer(osrv, "reader", "s3cret-reader")
    assert httpx.get(f"{osrv.base_url}/Patient/{pid}", headers=reader).status_code == 200
    r = httpx.post(osrv.base_url + "/Patient", json=patient(), headers=reader)
    assert r.status_code == 403 and r.json()["resourceType"] == "OperationOutcome"
    only_obs = bearer(osrv, "admin", "s3cret-admin", "system/Observation.read")
    assert httpx.get(f"{osrv.base_url}/Patient/{pid}", headers=only_obs).status_code == 403
    v2 = bearer(osrv, "admin", "s3cret-admin", "system/Patient.rs")
    assert httpx.get(f"{osrv.base_url}/Patient/{pid}", headers=v2).status_code == 200


def _assertion(srv: ReferenceServer, client_id: str = "backend", **over: object) -> str:
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": srv.base_url + "/auth/token",
        "exp": int(time.time()) + 240,
        "jti": uuid.uuid4().hex,
        **over,
    }
    return jwt.encode(claims, KEY, algorithm="RS384")


def test_backend_services_jwt_assertion(osrv: ReferenceServer) -> None:
    form = {
        "grant_type": "client_credentials",
        "scope": "system/Patient.write system/*.read",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }
    assertion = _assertion(osrv)
    r = httpx.post(osrv.base_url + "/auth/token", data={**form, "client_assertion": assertion})
    assert r.status_code == 200, r.text
    headers = {**FHIR, "Authorization": "Bearer " + r.json()["access_token"]}
    assert httpx.post(osrv.base_url + "/Patient", json=patient(), headers=headers).status_code == 201
    assert (
        httpx.post(
            osrv.base_url + "/Observation", json={"resourceType": "Observation"}, headers=headers
        ).status_code
        == 403
    )
    # replayed jti, wrong audience, foreign key
    assert (
        httpx.post(osrv.base_url + "/auth/token", data={**form, "client_assertion": assertion}).status_code
        == 401
    )
    bad_aud = _assertion(osrv, aud="https://elsewhere/token")
    assert (
        httpx.post(osrv.base_url + "/auth/token", data={**form, "client_assertion": bad_aud}).status_code
        == 401
    )
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {
            "iss": "backend",
            "sub": "backend",
            "aud": osrv.base_url + "/auth/token",
            "exp": int(time.time()) + 60,
            "jti": "x",
        },
        other,
        algorithm="RS384",
    )
    assert (
        httpx.post(osrv.base_url + "/auth/token", data={**form, "client_assertion": forged}).status_code
        == 401
    )


def test_request_size_limit(osrv: ReferenceServer) -> None:
    admin = bearer(osrv, "admin", "s3cret-admin")
    big = patient(text={"status": "generated", "div": "<div>" + "x" * 60_000 + "</div>"})
    r = httpx.post(osrv.base_url + "/Patient", json=big, headers=admin)
    assert r.status_code == 413 and r.json()["resourceType"] == "OperationOutcome"
    bomb = gzip.compress(orjson.dumps(big))  # small on the wire, too large once inflated
    assert len(bomb) < 50_000
    r = httpx.post(osrv.base_url + "/Patient", content=bomb, headers={**admin, "Content-Encoding": "gzip"})
    assert r.status_code == 413


def test_audit_log_records_access(osrv: ReferenceServer) -> None:
    admin = bearer(osrv, "admin", "s3cret-admin")
    pid = httpx.post(osrv.base_url + "/Patient", json=patient(), headers=admin).json()["id"]
    httpx.get(f"{osrv.base_url}/Patient/{pid}", headers=admin)
    rows = osrv.fhir.store.audit_rows(50)
    assert any(r["action"] == "read" and r["resource_id"] == pid and r["client"] == "admin" for r in rows)
    assert any(r["action"] == "create" and r["resource_id"] == pid for r in rows)


def test_rate_limit_429_with_retry_after() -> None:
    with (
        ReferenceServer(rate_limit=2, rate_burst=3, validate=False) as srv,
        httpx.Client(base_url=srv.base_url) as c,
    ):
        codes = [c.get("/Patient").status_code for _ in range(6)]
        assert codes[:3] == [200, 200, 200] and 429 in codes
        r = c.get("/Patient")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
