"""The Faker provider gives consistent Vietnamese identifiers, repeatable under seed_instance."""

from __future__ import annotations

import re

from faker import Faker

from vhr_conformance.faker_provider import VhrProvider


def _fake(seed: int) -> Faker:
    fake = Faker("vi_VN")
    fake.add_provider(VhrProvider)
    fake.seed_instance(seed)
    return fake


def test_identifiers_have_their_shape_and_repeat_under_a_seed() -> None:
    a, b = _fake(11), _fake(11)
    first = [a.cccd() for _ in range(5)]
    assert first == [b.cccd() for _ in range(5)]
    assert all(re.fullmatch(r"\d{12}", c) for c in first)
    assert len(set(first)) == 5
    assert re.fullmatch(r"[A-Z]{2}\d{13}|\d{10}", a.bhyt())  # the 15-character card or the 10-digit code


def test_cccd_agrees_with_its_holder() -> None:
    patient = _fake(3).vhr_patient()
    cccd = next(i["value"] for i in patient["identifier"] if i["system"].endswith("/sid/cccd"))
    year = int(patient["birthDate"][:4])
    century_sex = int(cccd[3])
    assert cccd[4:6] == f"{year % 100:02d}"
    assert (century_sex // 2) == (year // 100 - 19)  # 0/1 → 1900s, 2/3 → 2000s
    assert (century_sex % 2 == 1) == (patient["gender"] == "female")


def test_addresses_and_names_are_vietnamese() -> None:
    fake = _fake(5)
    assert "," in fake.vn_address_2025()
    assert len(fake.vn_full_name().split()) >= 2
