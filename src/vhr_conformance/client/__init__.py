"""HTTP client for the target FHIR server: auth, evidence capture, retries, origin guard."""

from vhr_conformance.client.auth import AUTH_MODES, AuthConfig, TokenProvider
from vhr_conformance.client.evidence import EvidenceLog, Exchange, redact_headers, redact_text
from vhr_conformance.client.fhir import (
    FHIR_JSON,
    FhirClient,
    InfrastructureError,
    OffOriginError,
    Response,
)

__all__ = [
    "AUTH_MODES",
    "FHIR_JSON",
    "AuthConfig",
    "EvidenceLog",
    "Exchange",
    "FhirClient",
    "InfrastructureError",
    "OffOriginError",
    "Response",
    "TokenProvider",
    "redact_headers",
    "redact_text",
]
