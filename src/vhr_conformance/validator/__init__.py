"""The VHR validation engine: JSON, structure, profiles, invariants, terminology, references, VN rules.

Use :meth:`Validator.default` (core + VHR IG, compiled once per process) and
``validator.validate(resource, profiles=None) -> list[Issue]``.
"""

from vhr_conformance.validator.engine import ALL_LAYERS, STRUCTURE_ONLY, Validator
from vhr_conformance.validator.issues import Issue, has_errors, to_operation_outcome
from vhr_conformance.validator.policy import DEFAULT_POLICY, Policy

__all__ = [
    "ALL_LAYERS",
    "DEFAULT_POLICY",
    "STRUCTURE_ONLY",
    "Issue",
    "Policy",
    "Validator",
    "has_errors",
    "to_operation_outcome",
]
