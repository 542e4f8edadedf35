"""The VHR implementation guide as seen by the rest of the harness.

The guide is authored in FSH under ``profiles/`` and built with SUSHI into the committed folder
``profiles/package/`` (see ``docs/profiles.md``). Running the harness never needs Node: every
stage reads that folder through this module. ``VHR_IG_PACKAGE`` points to another built package
(folder or ``.tgz``), e.g. to test a newer draft of the guide.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

from vhr_conformance import fhirpkg
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.names import canonical
from vhr_conformance.paths import ig_package_path

PACKAGE_ID = "vhr.conformance.ig"
PACKAGE_VERSION = "0.1.0"

PROFILE_IDS: tuple[str, ...] = (
    "vhr-patient",
    "vhr-organization",
    "vhr-practitioner",
    "vhr-encounter",
    "vhr-condition-encounter-diagnosis",
    "vhr-condition-problem",
    "vhr-allergyintolerance",
    "vhr-immunization",
    "vhr-observation-body-height",
    "vhr-observation-body-weight",
    "vhr-observation-blood-pressure",
    "vhr-observation-blood-group",
    "vhr-observation-lab-result",
    "vhr-observation-smoking-status",
    "vhr-observation-alcohol-use",
    "vhr-medicationrequest",
    "vhr-procedure",
    "vhr-familymemberhistory",
    "vhr-coverage-bhyt",
    "vhr-composition-health-record",
    "vhr-bundle-document",
    "vhr-bundle-transaction",
    "vhr-operationoutcome",
)
EXTENSION_IDS: tuple[str, ...] = (
    "vhr-ethnicity",
    "vhr-occupation",
    "vhr-address-province",
    "vhr-address-commune",
    "vhr-bhyt-beneficiary-group",
    "vhr-bhyt-benefit-level",
    "vhr-bhyt-registered-facility",
    "vhr-encounter-form-of-care",
    "vhr-encounter-patient-category",
    "vhr-encounter-treatment-result",
    "vhr-encounter-discharge-type",
)
CODESYSTEM_IDS: tuple[str, ...] = (
    "vhr-ethnicity",
    "vhr-province",
    "vhr-commune",
    "vhr-province-legacy",
    "vhr-bhyt-beneficiary-group",
    "vhr-bhyt-benefit-level",
    "vhr-gender-xml130",
    "vhr-treatment-result",
    "vhr-discharge-type",
    "vhr-form-of-care",
    "vhr-patient-category",
    "vhr-visit-reason",
    "vhr-accident-type",
    "vhr-anaesthesia-method",
    "vhr-living-area",
    "vhr-blood-group",
    "vhr-occupation",
    "vhr-health-record-section",
)


PROFILE_URLS: dict[str, str] = {pid: canonical("StructureDefinition", pid) for pid in PROFILE_IDS}
EXTENSION_URLS: dict[str, str] = {eid: canonical("StructureDefinition", eid) for eid in EXTENSION_IDS}
CODESYSTEM_URLS: dict[str, str] = {cid: canonical("CodeSystem", cid) for cid in CODESYSTEM_IDS}
CAPABILITY_STATEMENT_URL = canonical("CapabilityStatement", "vhr-server")


def ig_package_dir() -> Path:
    """The built VHR package (``VHR_IG_PACKAGE`` or the committed ``profiles/package/``)."""
    path = ig_package_path()
    if not (
        path.is_file() or (path / "package.json").is_file() or (path / "package" / "package.json").is_file()
    ):
        raise UserError(
            Text("Không tìm thấy gói IG VHR đã dựng.", "The built VHR IG package was not found."),
            location=str(path),
            hint=Text(
                "Chạy `make profiles` để dựng gói, hoặc đặt VHR_IG_PACKAGE trỏ tới một gói (thư mục hoặc .tgz).",
                "Run `make profiles` to build it, or set VHR_IG_PACKAGE to a package folder or .tgz.",
            ),
        )
    return path


@functools.cache
def _load(path: str) -> fhirpkg.PackageSet:
    return fhirpkg.PackageSet.with_dependencies(path)


def load_vhr_packages() -> fhirpkg.PackageSet:
    """Core R4 plus the VHR guide, loaded once per process (per package location)."""
    return _load(str(ig_package_dir().resolve()))


def load_vhr_package() -> fhirpkg.FhirPackage:
    """The VHR guide alone (no core), e.g. to list its contents."""
    return fhirpkg.load_package(ig_package_dir())


@functools.cache
def _capability(path: str) -> dict[str, Any]:
    pkg = fhirpkg.load_package(path)
    res = pkg.get(CAPABILITY_STATEMENT_URL)
    if res is None:
        raise UserError(
            Text(
                "Gói IG không có CapabilityStatement vhr-server.",
                "The IG package has no vhr-server CapabilityStatement.",
            ),
            location=path,
        )
    return res


def capability_statement() -> dict[str, Any]:
    """The VHR server CapabilityStatement (a fresh copy: callers may modify it)."""
    return copy.deepcopy(_capability(str(ig_package_dir().resolve())))
