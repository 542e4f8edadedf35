"""XML 130 (QĐ 130/QĐ-BYT as amended by 4750 and 3176): validation, conversion to FHIR,
XML twins of FHIR fixtures and mapping fidelity. See docs/xml130.md."""

from vhr_conformance.xml130.issues import XmlIssue
from vhr_conformance.xml130.tables import DEFAULT_STANDARD, load_standard
from vhr_conformance.xml130.validate import FileReport, validate_source

__all__ = ["DEFAULT_STANDARD", "FileReport", "XmlIssue", "load_standard", "validate_source"]
