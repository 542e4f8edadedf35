"""vhr-conformance: conformance and interoperability harness for Vietnam's VHR platform (FHIR R4)."""

__version__ = "0.1.0"
