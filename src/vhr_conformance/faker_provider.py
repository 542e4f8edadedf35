"""Vietnamese health identifiers for Faker users: ``fake.add_provider(VhrProvider)``.

>>> from faker import Faker
>>> fake = Faker("vi_VN"); fake.add_provider(VhrProvider); fake.seed_instance(7)
>>> fake.cccd()  # 12 digits whose province, century/sex and year agree with the person

Each call draws one synthetic person from the harness's own generator (so a CCCD agrees with the
birth date, sex and province of the same person, and addresses use the 2025 administrative
units), seeded from Faker's random generator: `seed_instance` makes the sequence repeatable.
Needs the optional dependency: ``pip install 'vhr-conformance[faker]'``.
"""

from __future__ import annotations

from typing import Any

from faker.providers import BaseProvider

from vhr_conformance.generator import generate_patient

CCCD_SUFFIX = "/sid/cccd"
BHYT_SUFFIX = "/sid/bhyt"


class VhrProvider(BaseProvider):
    """`vhr_patient`, `vhr_bundle`, `cccd`, `bhyt`, `vn_full_name`, `vn_address_2025`."""

    def vhr_bundle(self) -> dict[str, Any]:
        """A whole synthetic patient record as a VHR transaction Bundle."""
        seed = self.generator.random.getrandbits(31)
        index = self.generator.random.randrange(1_000_000)
        return generate_patient(seed, index)

    def vhr_patient(self) -> dict[str, Any]:
        """A VHR Patient resource (identifiers, name, address, ethnicity…)."""
        for entry in self.vhr_bundle().get("entry", []):
            resource = entry.get("resource") or {}
            if resource.get("resourceType") == "Patient":
                return dict(resource)
        raise RuntimeError("the generator made a bundle without a Patient")  # pragma: no cover

    def _identifier(self, patient: dict[str, Any], suffix: str) -> str:
        for ident in patient.get("identifier", []) or []:
            if str(ident.get("system", "")).endswith(suffix):
                return str(ident.get("value", ""))
        return ""

    def cccd(self) -> str:
        """A 12-digit citizen identity number consistent with its (synthetic) holder."""
        return self._identifier(self.vhr_patient(), CCCD_SUFFIX)

    def bhyt(self) -> str:
        """The social-insurance number on a synthetic health-insurance card."""
        while True:
            value = self._identifier(self.vhr_patient(), BHYT_SUFFIX)
            if value:
                return value

    def vn_full_name(self) -> str:
        names = self.vhr_patient().get("name") or [{}]
        return str(names[0].get("text", ""))

    def vn_address_2025(self) -> str:
        """A full address line in the 34 provinces and communes of the 2025 reorganisation."""
        addresses = self.vhr_patient().get("address") or [{}]
        return str(addresses[0].get("text", ""))
