"""HTTP client for the target FHIR server: auth, evidence capture, retries, origin guard."""

from vhr_conformance.client.auth import AUTH_MODES, AuthConfig, TokenProvider
from vhr_conformance.client.bounds import Limits, run_deadline, set_run_deadline
from vhr_conformance.client.evidence import EvidenceLog, Exchange, redact_headers, redact_text
from vhr_conformance.client.fhir import (
    FHIR_JSON,
    BoundError,
    DeadlineExceeded,
    FhirClient,
    InfrastructureError,
    OffOriginError,
    Response,
)

__all__ = [
    "AUTH_MODES",
    "FHIR_JSON",
    "AuthConfig",
    "BoundError",
    "DeadlineExceeded",
    "EvidenceLog",
    "Exchange",
    "FhirClient",
    "InfrastructureError",
    "Limits",
    "OffOriginError",
    "Response",
    "TokenProvider",
    "redact_headers",
    "redact_text",
    "run_deadline",
    "set_run_deadline",
]
