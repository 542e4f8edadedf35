"""Search over HTTP: every parameter type, modifiers, prefixes, paging, sorting, includes."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from vhr_conformance.server import ReferenceServer

from .conftest import CCCD, FHIR, patient

LOINC = "http://loinc.org"


@pytest.fixture(scope="module")
def data(server: ReferenceServer) -> Iterator[dict[str, Any]]:
    with httpx.Client(base_url=server.base_url, headers=FHIR) as c:
        ids: dict[str, Any] = {}
        people = [
            ("Nguyễn", ["Văn", "An"], "male", "1990-05-01", "001090000001"),
            ("Trần", ["Thị", "Bình"], "female", "1985-12-31", "001185000002"),
            ("Lê", ["Đức", "Cường"], "male", "2001-01-15", "001201000003"),
            ("Nguyen", ["Minh"], "male", "1990-07-20", "001090000004"),
            ("Phạm", ["Thu"], "female", "1970", "001170000005"),
        ]
        for family, given, gender, birth, cccd in people:
            r = c.post(
                "/Patient",
                json=patient(
                    name=[{"family": family, "given": given}],
                    gender=gender,
                    birthDate=birth,
                    identifier=[{"system": CCCD, "value": cccd}],
                ),
            )
            assert r.status_code == 201
            ids[cccd] = r.json()["id"]
        an = ids["001090000001"]
        for code, value, when in (
            ("29463-7", 60, "2024-01-10T08:00:00+07:00"),
            ("8302-2", 170, "2024-03-05"),
        ):
            r = c.post(
                "/Observation",
                json={
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": LOINC, "code": code}]},
                    "subject": {"reference": f"Patient/{an}"},
                    "effectiveDateTime": when,
                    "valueQuantity": {
                        "value": value,
                        "unit": "kg",
                        "system": "http://unitsofmeasure.org",
                        "code": "kg",
                    },
                },
            )
            assert r.status_code == 201
        org = c.post(
            "/Organization", json={"resourceType": "Organization", "name": "Bệnh viện Bạch Mai"}
        ).json()
        ids["org"] = org["id"]
        enc = c.post(
            "/Encounter",
            json={
                "resourceType": "Encounter",
                "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": {"reference": f"Patient/{an}"},
                "serviceProvider": {"reference": f"Organization/{org['id']}"},
                "period": {"start": "2024-01-10T07:00:00+07:00", "end": "2024-01-12T10:00:00+07:00"},
            },
        ).json()
        ids["enc"] = enc["id"]
        ids["an"] = an
        yield ids


def total(c: httpx.Client, q: str) -> int:
    r = c.get(q)
    assert r.status_code == 200, r.text
    return r.json()["total"]


def test_string_search_is_case_and_accent_insensitive(client: httpx.Client, data: dict[str, Any]) -> None:
    assert total(client, "/Patient?name=nguyen") == 2
    assert total(client, "/Patient?name=NGUYỄN") == 2
    nfd = unicodedata.normalize("NFD", "Nguyễn")
    assert total(client, "/Patient?" + str(httpx.QueryParams({"family": nfd}))) == 2
    assert total(client, "/Patient?name=duc") == 1  # đ folds to d
    assert total(client, "/Patient?name=ngu") == 2  # starts-with
    assert total(client, "/Patient?name:exact=Nguyễn") == 1
    assert total(client, "/Patient?name:contains=uyen") == 2
    assert total(client, "/Patient?name=binh,cuong") == 2


def test_token_search(client: httpx.Client, data: dict[str, Any]) -> None:
    assert total(client, f"/Patient?identifier={CCCD}|001090000001") == 1
    assert total(client, "/Patient?identifier=001090000001") == 1
    assert total(client, "/Patient?identifier=|001090000001") == 0  # has a system
    assert total(client, f"/Patient?identifier={CCCD}|") == 5
    assert total(client, "/Patient?gender=female") == 2
    assert total(client, "/Patient?gender:not=female") == 3
    assert total(client, f"/Observation?code={LOINC}|29463-7") == 1


def test_date_search_prefixes(client: httpx.Client, data: dict[str, Any]) -> None:
    assert total(client, "/Patient?birthdate=1990") == 2
    assert total(client, "/Patient?birthdate=1990-05") == 1
    assert total(client, "/Patient?birthdate=eq1990-05-01") == 1
    assert total(client, "/Patient?birthdate=ne1990-05-01") == 4
    assert total(client, "/Patient?birthdate=gt1990-05-01") == 2  # 1990-07-20, 2001
    assert total(client, "/Patient?birthdate=ge1990-05-01") == 3
    assert total(client, "/Patient?birthdate=lt1985-12-31") == 1  # 1970
    assert total(client, "/Patient?birthdate=le1985-12-31") == 2
    assert total(client, "/Patient?birthdate=sa1990") == 1
    assert total(client, "/Patient?birthdate=eb1985") == 1
    # 1970 (whole year) is not fully inside 1970-06, but overlaps it
    assert total(client, "/Patient?birthdate=1970-06") == 0
    assert total(client, "/Patient?birthdate=ge1990&birthdate=lt2000") == 2
    # time zones: 2024-01-10T08:00+07:00 is 01:00 UTC on 2024-01-10
    assert total(client, "/Observation?date=2024-01-10") == 1
    assert total(client, "/Encounter?date=ge2024-01-11") == 1  # period overlaps
    assert client.get("/Patient?birthdate=not-a-date").status_code == 400


def test_reference_and_chain(client: httpx.Client, data: dict[str, Any]) -> None:
    an = data["an"]
    assert total(client, f"/Observation?patient=Patient/{an}") == 2
    assert total(client, f"/Observation?patient={an}") == 2
    assert total(client, f"/Observation?patient={client.base_url}/Patient/{an}") == 2
    assert total(client, "/Observation?patient=nobody") == 0
    assert total(client, "/Observation?patient.identifier=001090000001") == 2
    assert total(client, "/Encounter?patient.name=nguyen") == 1


def test_id_and_last_updated(client: httpx.Client, data: dict[str, Any]) -> None:
    an = data["an"]
    assert total(client, f"/Patient?_id={an}") == 1
    last = client.get(f"/Patient/{an}").json()["meta"]["lastUpdated"]
    assert total(client, f"/Patient?_id={an}&_lastUpdated=ge{last[:10]}") == 1
    assert total(client, f"/Patient?_id={an}&_lastUpdated=lt2000-01-01") == 0


def test_paging_links_are_stable_and_absolute(
    client: httpx.Client, data: dict[str, Any], server: ReferenceServer
) -> None:
    first = client.get("/Patient?identifier=" + CCCD + "|&_count=2").json()
    assert first["total"] == 5 and len(first["entry"]) == 2
    seen = [e["resource"]["id"] for e in first["entry"]]
    links = {lk["relation"]: lk["url"] for lk in first["link"]}
    assert links["self"].startswith(server.base_url + "/Patient?")
    nxt = links.get("next")
    while nxt:
        assert nxt.startswith(server.base_url + "/")
        page = httpx.get(nxt, headers=FHIR).json()
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        nxt = {lk["relation"]: lk["url"] for lk in page["link"]}.get("next")
        prev = {lk["relation"]: lk["url"] for lk in page["link"]}.get("previous")
        assert prev
    assert len(seen) == len(set(seen)) == 5
    again = httpx.get(links["next"], headers=FHIR).json()
    assert [e["resource"]["id"] for e in again["entry"]] == seen[2:4]


def test_sort(client: httpx.Client, data: dict[str, Any]) -> None:
    asc = client.get("/Patient?identifier=" + CCCD + "|&_sort=birthdate").json()
    dates = [e["resource"]["birthDate"] for e in asc["entry"]]
    assert dates == sorted(dates)
    desc = client.get("/Patient?identifier=" + CCCD + "|&_sort=-birthdate").json()
    assert [e["resource"]["birthDate"] for e in desc["entry"]] == dates[::-1]
    fam = client.get("/Patient?identifier=" + CCCD + "|&_sort=family,-birthdate").json()
    # folded family names tie for Nguyen/Nguyễn; -birthdate breaks the tie
    assert [e["resource"]["name"][0]["family"] for e in fam["entry"]] == [
        "Lê",
        "Nguyen",
        "Nguyễn",
        "Phạm",
        "Trần",
    ]


def test_include_and_revinclude(client: httpx.Client, data: dict[str, Any]) -> None:
    b = client.get(
        f"/Encounter?_id={data['enc']}&_include=Encounter:service-provider&_include=Encounter:patient"
    ).json()
    modes = {(e["resource"]["resourceType"], e["search"]["mode"]) for e in b["entry"]}
    assert modes == {("Encounter", "match"), ("Organization", "include"), ("Patient", "include")}
    assert b["total"] == 1
    b = client.get(f"/Patient?_id={data['an']}&_revinclude=Observation:patient").json()
    kinds = [e["resource"]["resourceType"] for e in b["entry"]]
    assert kinds.count("Observation") == 2 and kinds[0] == "Patient"


def test_include_iterate(client: httpx.Client, data: dict[str, Any]) -> None:
    q = (
        f"/Observation?patient={data['an']}&_revinclude:iterate=Encounter:patient"
        "&_include=Observation:patient&_include:iterate=Encounter:service-provider"
    )
    b = client.get(q).json()
    kinds = sorted(e["resource"]["resourceType"] for e in b["entry"])
    assert kinds == ["Encounter", "Observation", "Observation", "Organization", "Patient"]
    assert b["total"] == 2


def test_summary_and_elements(client: httpx.Client, data: dict[str, Any]) -> None:
    b = client.get("/Patient?_summary=count").json()
    assert b["total"] >= 5 and "entry" not in b
    b = client.get(f"/Patient?_id={data['an']}&_elements=gender").json()
    res = b["entry"][0]["resource"]
    assert res["gender"] == "male" and "name" not in res and "birthDate" not in res
    assert any(t["code"] == "SUBSETTED" for t in res["meta"]["tag"])
    b = client.get(f"/Patient?_id={data['an']}&_summary=true").json()
    assert "birthDate" in b["entry"][0]["resource"]


def test_post_search(client: httpx.Client, data: dict[str, Any]) -> None:
    r = client.post(
        "/Patient/_search",
        content="name=nguyen&gender=male",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and r.json()["total"] == 2


def test_unknown_param_lenient_and_strict(client: httpx.Client, data: dict[str, Any]) -> None:
    r = client.get("/Patient?foo=bar&gender=female")
    assert r.status_code == 200 and r.json()["total"] == 2
    self_link = next(lk["url"] for lk in r.json()["link"] if lk["relation"] == "self")
    assert "foo" not in self_link
    assert client.get("/Patient?foo=bar", headers={"Prefer": "handling=strict"}).status_code == 400


def test_everything(client: httpx.Client, data: dict[str, Any]) -> None:
    b = client.get(f"/Patient/{data['an']}/$everything").json()
    kinds = sorted(e["resource"]["resourceType"] for e in b["entry"])
    assert kinds == ["Encounter", "Observation", "Observation", "Organization", "Patient"]
    assert client.get("/Patient/nobody/$everything").status_code == 404


def test_has_reverse_chain(client: httpx.Client) -> None:
    """`_has:Observation:patient:code=…` finds the patients some matching Observation points at."""
    p1 = client.post("/Patient", json=patient(name=[{"family": "Có"}])).json()["id"]
    client.post("/Patient", json=patient(name=[{"family": "Không"}]))
    coding = {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}
    obs = {"resourceType": "Observation", "status": "final", "code": coding}
    client.post("/Observation", json={**obs, "subject": {"reference": f"Patient/{p1}"}})
    found = client.get("/Patient?_has:Observation:patient:code=http://loinc.org|8867-4").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [p1]
    assert client.get("/Patient?_has:Observation:patient:code=0000-0").json()["total"] == 0
    assert client.get("/Patient?_has:Observation").status_code == 400
