"""Patient identity (area PAT): CCCD and BHYT search, conditional create, Unicode NFC/NFD."""

from __future__ import annotations

import random
import unicodedata
from typing import Any

from vhr_conformance.client import FhirClient
from vhr_conformance.fhirutil import parse_location
from vhr_conformance.i18n import Text
from vhr_conformance.names import SID_BHYT, SID_CCCD
from vhr_conformance.outcome import check, not_tested
from vhr_conformance.pytest_plugin import VhrState, criterion
from vhr_conformance.runner import search as fs
from vhr_conformance.runner.checks import (
    NOT_THERE,
    check_all_returned,
    check_status,
    created_id,
    ids_of,
    read_back,
    search_all,
    seeded_or_skip,
    short,
    status_text,
    write_templates,
)
from vhr_conformance.runner.fresh import cccd_of, fresh_copy
from vhr_conformance.seed import SeedData, Tracker


def _names(res: dict[str, Any]) -> list[Any]:
    """The values Patient.name searches on (family, given, text of every name)."""
    return [n for n in res.get("name") or [] if isinstance(n, dict)]


def _fresh_patient(vhr: VhrState, seed: SeedData, salt: str) -> dict[str, Any]:
    template = write_templates(seed, "Patient", vhr.options.seed)[0]
    return fresh_copy(
        template, random.Random(f"{vhr.options.seed}:{vhr.options.run_id}:{salt}"), vhr.options.run_id
    )


NO_CCCD = Text(
    "Không người bệnh thử nào có CCCD: cần dữ liệu phủ (fixtures/coverage) có định danh CCCD.",
    "No test patient has a CCCD: the coverage fixtures (fixtures/coverage) must carry CCCD identifiers.",
)


@criterion("VHR-PAT-002")
def test_search_by_cccd(fhir: FhirClient, seed: SeedData) -> None:
    """By `identifier`, the IG's SHALL parameter of Patient, with the CCCD system (a SHALL path)."""
    pats = [(s, cccd_of(s.sent)) for s in seeded_or_skip(seed, "Patient") if cccd_of(s.sent)]
    if not pats:
        not_tested(NO_CCCD)
    for s, number in pats[:5]:
        found = search_all(fhir, "Patient", [("identifier", f"{SID_CCCD}|{number}")])
        got = sorted(ids_of(found))
        check(
            got == [s.id],
            Text(
                "Patient?identifier=cccd|{n} trả về {g}, cần đúng [{i}].",
                "Patient?identifier=cccd|{n} returned {g}, expected exactly [{i}].",
            ).format(n=number, g=short(got), i=s.id),
        )


@criterion("VHR-PAT-008")
def test_search_by_bhyt(fhir: FhirClient, seed: SeedData) -> None:
    for s in seeded_or_skip(seed, "Patient"):
        card = next((i["value"] for i in s.sent.get("identifier", []) if i.get("system") == SID_BHYT), None)
        if card:
            found = search_all(fhir, "Patient", [("identifier", f"{SID_BHYT}|{card}")])
            check_all_returned(
                found,
                lambda r, c=card: any(
                    i.get("system") == SID_BHYT and i.get("value") == c for i in r.get("identifier") or []
                ),
                f"Patient?identifier=bhyt|{card}",
            )
            check(
                s.id in ids_of(found),
                Text(
                    "Patient?identifier=bhyt|{c} không trả về Patient/{i} ({n} kết quả).",
                    "Patient?identifier=bhyt|{c} did not return Patient/{i} ({n} results).",
                ).format(c=card, i=s.id, n=len(found)),
            )
            return
    not_tested(
        Text(
            "Không người bệnh thử nào có định danh BHYT: cần dữ liệu phủ có thẻ BHYT.",
            "No test patient carries a BHYT identifier: the coverage fixtures must carry BHYT cards.",
        )
    )


@criterion("VHR-PAT-003")
def test_conditional_create_on_cccd(
    vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker
) -> None:
    body = _fresh_patient(vhr, seed, "conditional")
    number = cccd_of(body)
    if not number:
        not_tested(NO_CCCD)
    cond = {"If-None-Exist": f"identifier={SID_CCCD}|{number}"}
    first = fhir.post("Patient", body, headers=cond)
    loc1 = parse_location(first.headers.get("location"))
    if loc1:
        tracker.add("Patient", loc1[1])
    check_status(first, (201,), "POST Patient + If-None-Exist (#1)")
    second = fhir.post("Patient", body, headers=cond)
    loc2 = parse_location(second.headers.get("location"))
    if loc2 and second.status == 201:
        tracker.add("Patient", loc2[1])
    check_status(second, (200,), "POST Patient + If-None-Exist (#2, same CCCD)")
    found = search_all(fhir, "Patient", [("identifier", f"{SID_CCCD}|{number}")])
    check(
        len(found) == 1,
        Text(
            "Sau hai lần tạo có điều kiện, {n} người bệnh mang CCCD {c}.",
            "{n} patients hold CCCD {c} after two conditional creates.",
        ).format(n=len(found), c=number),
    )


def _nfd_patient(
    vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker, salt: str
) -> tuple[str, str]:
    body = _fresh_patient(vhr, seed, salt)
    family = "Nguyễn Thị Phượng Đỗ"
    body["name"] = [dict(body.get("name", [{}])[0], family=unicodedata.normalize("NFD", family))]
    body["name"][0].pop("text", None)
    resp = fhir.post("Patient", body)
    what = "POST Patient (NFD)"
    if resp.status not in NOT_THERE:
        check(
            resp.status < 400 or resp.status >= 500,
            Text(
                "{w}: người bệnh hợp lệ có họ dạng NFD bị từ chối ({s}).",
                "{w}: a valid patient with an NFD family name was refused ({s}).",
            ).format(w=what, s=status_text(resp)),
        )
    rid = created_id(resp, "Patient", what)
    tracker.add("Patient", rid)
    return rid, family


@criterion("VHR-PAT-005")
def test_nfc_nfd_search(vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker) -> None:
    rid, family = _nfd_patient(vhr, fhir, seed, tracker, "nfd-search")
    for form in ("NFC", "NFD"):
        query = unicodedata.normalize(form, family).split()[0]
        found = search_all(fhir, "Patient", [("name", query)])
        check_all_returned(
            found, lambda r, q=query: fs.matches("string", _names(r), q), f"Patient?name={query!a}"
        )
        check(
            rid in ids_of(found),
            Text(
                "Patient?name={q!a} ({f}) không tìm thấy người bệnh lưu dạng NFD (Patient/{i}).",
                "Patient?name={q!a} ({f}) did not find the NFD-stored patient (Patient/{i}).",
            ).format(q=query, f=form, i=rid),
        )


@criterion("VHR-PAT-006")
def test_names_stored_nfc(vhr: VhrState, fhir: FhirClient, seed: SeedData, tracker: Tracker) -> None:
    rid, family = _nfd_patient(vhr, fhir, seed, tracker, "nfd-store")
    got = (read_back(fhir, "Patient", rid).get("name") or [{}])[0].get("family", "")
    check(
        got == unicodedata.normalize("NFC", family),
        Text(
            "Họ được trả về là {g!a}, cần dạng NFC.", "The family name came back as {g!a}, expected NFC."
        ).format(g=got),
    )
