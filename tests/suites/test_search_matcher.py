"""Client-side search matching used to check every returned entry."""

from __future__ import annotations

import unicodedata

from vhr_conformance.runner import search as fs


def test_fold_ignores_vietnamese_accents_and_case() -> None:
    assert fs.fold("Nguyễn Đỗ") == "nguyen do"
    assert fs.fold(unicodedata.normalize("NFD", "Phượng")) == fs.fold("PHUONG")


def test_string_match_is_prefix_and_accent_insensitive() -> None:
    vals = [{"family": "Nguyễn", "given": ["Thị", "Hà"]}]
    assert fs.matches("string", vals, "nguy")
    assert fs.matches("string", vals, "ha")
    assert not fs.matches("string", vals, "tran")
    assert fs.matches("string", vals, "Nguyễn", modifier="exact")
    assert not fs.matches("string", vals, "nguyen", modifier="exact")
    assert fs.matches("string", vals, "guy", modifier="contains")


def test_date_prefixes_follow_fhir_range_semantics() -> None:
    period = [{"start": "2025-10-13T13:45:00+07:00", "end": "2025-10-18T14:45:00+07:00"}]
    assert not fs.matches("date", period, "2025-10-13")
    assert fs.matches("date", period, "2025-10-13", "ge")
    assert not fs.matches("date", period, "2025-10-13", "le")
    assert fs.matches("date", period, "2025-10-14", "le")
    assert fs.matches("date", ["1990-05-01"], "1990-05-01")
    assert fs.query_value("date", period) == "ge2025-10-13"


def test_tokens_and_references() -> None:
    ident = [{"system": "http://fhir.hl7.org.vn/core/sid/cccd", "value": "001090000001"}]
    assert fs.matches("token", ident, "http://fhir.hl7.org.vn/core/sid/cccd|001090000001")
    assert not fs.matches("token", ident, "http://other|001090000001")
    assert fs.matches("token", [{"system": "phone", "value": "0912345678"}], "0912345678")
    assert fs.matches("reference", [{"reference": "Patient/abc"}], "Patient/abc")
    pat = {"resourceType": "Patient", "identifier": ident}
    assert fs.values(pat, "Patient.identifier | Practitioner.identifier") == ident
    obs = {"resourceType": "Observation", "subject": {"reference": "Patient/1"}}
    assert fs.values(obs, "Observation.subject.where(resolve() is Patient)") == [{"reference": "Patient/1"}]
