"""Synthetic Vietnamese patients for the VHR profiles: seeded, deterministic, fast.

Public API (see docs/conventions.md): :func:`generate_patients`, :func:`coverage_cohort`,
:func:`negative_cases`, :func:`fixtures_dir`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from vhr_conformance.generator.build import DEFAULT_OPTIONS, REFERENCE_NOW, Options, PatientBuilder, Spec
from vhr_conformance.generator.world import build_world

GENERATOR_VERSION = "0.1.0"

__all__ = [
    "GENERATOR_VERSION",
    "REFERENCE_NOW",
    "Options",
    "coverage_cohort",
    "document_bundle",
    "fixtures_dir",
    "generate_patient",
    "generate_patients",
    "negative_cases",
]


def generate_patient(
    seed: int,
    index: int,
    now: datetime = REFERENCE_NOW,
    spec: Spec | None = None,
    options: Options = DEFAULT_OPTIONS,
) -> dict:
    """Patient number ``index`` of cohort ``seed`` as a transaction Bundle (pure function of its inputs)."""
    return PatientBuilder(build_world(), seed, index, now, spec, options).build()


def generate_patients(
    count: int,
    seed: int = 0,
    *,
    start: int = 0,
    now: datetime = REFERENCE_NOW,
    options: Options = DEFAULT_OPTIONS,
) -> Iterator[dict]:
    """Yield ``count`` transaction Bundles, patients ``start`` … ``start+count-1`` of cohort ``seed``.

    Lazy: memory stays flat however many patients are drawn.
    """
    world = build_world()
    for index in range(start, start + count):
        yield PatientBuilder(world, seed, index, now, None, options).build()


def document_bundle(transaction: dict) -> dict:
    """The health-record summary as a document Bundle, from a patient's transaction Bundle."""
    from vhr_conformance.generator.document import to_document

    return to_document(transaction)


def coverage_cohort(seed: int = 0, now: datetime = REFERENCE_NOW) -> list[dict]:
    """The smallest cohort (as transaction Bundles) that exercises what the IG asks for."""
    from vhr_conformance.generator.coverage import build_coverage_cohort

    return [bundle for _, bundle in build_coverage_cohort(seed, now)]


def negative_cases(seed: int = 0) -> list[tuple[dict, dict]]:
    """Invalid resources, each breaking exactly one named rule: ``(resource, manifest entry)``."""
    from vhr_conformance.generator.negative import build_negative_cases

    return build_negative_cases(seed)


def fixtures_dir() -> Path:
    """The checked-in fixtures (``VHR_FIXTURES_DIR``, the checkout's ``fixtures/``, else the wheel's copy)."""
    from vhr_conformance.paths import fixtures_path

    return fixtures_path()
