"""The HTTP client: redaction, truncation, retries only for idempotent requests, origin guard."""

from __future__ import annotations

import httpx
import pytest

from vhr_conformance.client import FhirClient, InfrastructureError, OffOriginError, redact_text
from vhr_conformance.client.auth import AuthConfig, TokenProvider

BASE = "https://fhir.example.test/fhir"


def _client(handler, **kw) -> FhirClient:
    return FhirClient(BASE, transport=httpx.MockTransport(handler), retries=2, **kw)


def test_secrets_never_reach_the_evidence() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400,
            json={"access_token": "abc.def.ghi", "detail": "x" * 10000},
            headers={"Set-Cookie": "session=s3cr3t"},
        )

    tokens = TokenProvider(AuthConfig(mode="bearer", token="tok-123456"))
    c = _client(handler, tokens=tokens, body_limit=500)
    c.post("Patient", {"resourceType": "Patient", "client_secret": "hunter2"})
    ex = c.evidence.current[-1]
    dumped = str(ex.to_dict())
    assert (
        "tok-123456" not in dumped
        and "hunter2" not in dumped
        and "s3cr3t" not in dumped
        and "abc.def.ghi" not in dumped
    )
    assert ex.request_headers["Authorization"] == "***"
    assert len(ex.response_body) < 700 and "cut" in ex.response_body


def test_redact_text_forms_and_jwts() -> None:
    jwt = "eyJhbGciOiJSUzM4NCJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    text = redact_text(f"grant_type=client_credentials&client_assertion={jwt}&scope=x Bearer abc")
    assert jwt not in text and "Bearer ***" in text and "scope=x" in text


def test_idempotent_requests_retry_and_count_as_infrastructure() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        raise httpx.ConnectError("refused", request=request)

    c = _client(handler)
    with pytest.raises(InfrastructureError):
        c.get("metadata")
    assert calls["n"] == 3 and c.evidence.infrastructure_retries == 2
    calls["n"] = 0
    with pytest.raises(InfrastructureError):
        c.post("Patient", {"resourceType": "Patient"})
    assert calls["n"] == 1, "a POST must never be retried"


def test_503_is_retried_then_returned() -> None:
    seq = iter([503, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(seq), json={"resourceType": "CapabilityStatement"})

    c = _client(handler)
    assert c.get("metadata").status == 200
    assert c.evidence.infrastructure_retries == 1


def test_origin_guard_on_redirects_and_paging() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/same"):
            return httpx.Response(302, headers={"Location": f"{BASE}/metadata"})
        if request.url.path.endswith("/away"):
            return httpx.Response(302, headers={"Location": "https://evil.example.test/steal"})
        if request.url.path.endswith("/Patient"):
            return httpx.Response(
                200,
                json={
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "entry": [],
                    "link": [{"relation": "next", "url": "http://fhir.example.test/fhir/Patient?page=2"}],
                },
            )
        return httpx.Response(200, json={"resourceType": "CapabilityStatement"})

    c = _client(handler)
    assert c.get("same").resource_type == "CapabilityStatement"
    with pytest.raises(OffOriginError):
        c.get("away")
    with pytest.raises(OffOriginError):  # http is another origin than https
        c.search_all("Patient", {})
    with pytest.raises(OffOriginError):
        c.get("https://evil.example.test/fhir/metadata")


def test_tls_verification_on_by_default() -> None:
    c = FhirClient(BASE)
    assert c._http._transport._pool._ssl_context.verify_mode.name == "CERT_REQUIRED"


def test_smart_backend_assertion_is_signed_for_the_token_url() -> None:
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    cfg = AuthConfig(mode="smart-backend", client_id="vendor-x", private_key_pem=pem, key_id="k1")
    assertion = TokenProvider(cfg).client_assertion("https://auth.example.test/token")
    claims = jwt.decode(
        assertion, key.public_key(), algorithms=["RS384"], audience="https://auth.example.test/token"
    )
    assert claims["iss"] == claims["sub"] == "vendor-x" and claims["exp"] - claims["iat"] <= 300
    assert jwt.get_unverified_header(assertion)["kid"] == "k1"
    assert "private_key" not in str(cfg.public())


def test_missing_credentials_are_a_user_error() -> None:
    from vhr_conformance.i18n import UserError

    with pytest.raises(UserError, match="VHR_CLIENT_SECRET"):
        AuthConfig.load("client-credentials", env={"VHR_CLIENT_ID": "x"})
