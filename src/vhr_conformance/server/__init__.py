"""The embedded reference VHR FHIR server with fault injection (`vhr serve`)."""

from vhr_conformance.server.faults import FAULTS, ActiveFaults, Fault
from vhr_conformance.server.runner import ReferenceServer

__all__ = ["FAULTS", "ActiveFaults", "Fault", "ReferenceServer"]
