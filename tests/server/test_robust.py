"""Hostile and absurd input: duplicate JSON keys, oversized search requests, control characters,
and a property-based fuzz of the search parser (never a 500, never a traceback)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote, urlencode

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vhr_conformance.server import ReferenceServer

from .conftest import FHIR, patient


@pytest.fixture(scope="module")
def srv() -> Iterator[ReferenceServer]:
    with ReferenceServer(port=0, db=":memory:", validate=False) as s:
        with httpx.Client(base_url=s.base_url, headers=FHIR, timeout=30) as c:
            for family in ("Nguyễn", "Trần", "Lê"):
                c.post("/Patient", json=patient(name=[{"family": family}]))
        yield s


@pytest.fixture()
def c(srv: ReferenceServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=srv.base_url, headers=FHIR, timeout=30) as client:
        yield client


def _refused(r: httpx.Response, status: int = 400) -> None:
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert body["resourceType"] == "OperationOutcome"
    text = body["issue"][0]["diagnostics"]
    assert " / " in text or "\n" in text or body["issue"][0]["details"]["extension"]  # bilingual


def test_duplicate_json_key_is_refused(c: httpx.Client) -> None:
    raw = b'{"resourceType": "Patient", "gender": "male", "gender": "female"}'
    _refused(c.post("/Patient", content=raw))
    nested = b'{"resourceType": "Patient", "name": [{"family": "A", "family": "B"}]}'
    r = c.post("/Patient", content=nested)
    _refused(r)
    assert "family" in r.json()["issue"][0]["details"]["text"]
    bundle = (
        b'{"resourceType": "Bundle", "type": "batch", "entry": [{"request": {"method": "GET",'
        b' "url": "Patient", "url": "Observation"}}]}'
    )
    _refused(c.post("/", content=bundle))
    # the same members once each are fine
    assert c.post("/Patient", content=b'{"resourceType": "Patient", "gender": "male"}').status_code == 201


@pytest.mark.parametrize(
    "query",
    [
        "_sort=" + ",".join(["birthdate"] * 1000),
        "_offset=" + "1" + "0" * 21,
        "_count=" + "9" * 30,
        "_count=" + "1" + "0" * 10,
        "&".join(["name=nguyen"] * 5000),
        "_id=" + ",".join(str(i) for i in range(5000)),
        "name:contains=%00",
        "name=%01abc",
        "identifier=a%7F",
    ],
    ids=[
        "sort-1000",
        "offset-1e21",
        "count-1e30",
        "count-1e10",
        "name-5000",
        "id-values-5000",
        "contains-nul",
        "control-char",
        "del-char",
    ],
)
def test_absurd_search_input_is_400(c: httpx.Client, query: str) -> None:
    _refused(c.get("/Patient?" + query))
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    _refused(c.post("/Patient/_search", content=query, headers=form))


def test_sane_bounds_still_work(c: httpx.Client) -> None:
    assert c.get("/Patient?_count=5000").json()["link"][0]["url"].endswith("_count=1000")  # clamped
    deep = c.get("/Patient?_offset=1000000").json()
    assert deep["total"] >= 3 and "entry" not in deep  # past the end: an empty page
    assert c.get("/Patient?_sort=family,-birthdate,_id").status_code == 200
    assert c.get("/Patient?" + "&".join(["name=nguyen"] * 20)).json()["total"] == 1
    assert c.get("/Patient?name:contains=guy").json()["total"] == 1


KEYS = st.sampled_from(
    [
        "name",
        "family",
        "identifier",
        "birthdate",
        "gender",
        "_id",
        "_lastUpdated",
        "_count",
        "_offset",
        "_sort",
        "_summary",
        "_elements",
        "_include",
        "_revinclude",
        "_include:iterate",
        "name:contains",
        "name:exact",
        "gender:not",
        "identifier:missing",
        "organization.name",
        "general-practitioner:Practitioner.name",
        "_has:Observation:patient:code",
    ]
)
VALUE_CHARS = st.characters(codec="utf-8", exclude_categories=["Cs"])
VALUES = st.one_of(
    st.text(VALUE_CHARS, max_size=40),
    st.sampled_from(["ge2020", "lt1990-01", "eq", "*", "|", "a|b|c", "Patient:*", "-", ",", "\\,", "9" * 25]),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pairs=st.lists(st.tuples(st.one_of(KEYS, st.text(VALUE_CHARS, max_size=20)), VALUES), max_size=8),
    raw=st.text(VALUE_CHARS, max_size=60),
    junk=st.binary(max_size=40),
    rtype=st.sampled_from(["Patient", "Observation", "Encounter"]),
)
def test_fuzz_search_parser_never_500(
    c: httpx.Client, pairs: list[tuple[str, str]], raw: str, junk: bytes, rtype: str
) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for query in (
        urlencode(pairs),
        quote(raw, safe="=&,:|"),
        "name=" + quote(junk),  # bytes that need not be UTF-8
    ):
        for r in (c.get(f"/{rtype}?{query}"), c.post(f"/{rtype}/_search", content=query, headers=form)):
            assert r.status_code < 500, (query, r.status_code, r.text[:300])
            assert "Traceback" not in r.text
            body = orjson.loads(r.content)
            assert body["resourceType"] in ("Bundle", "OperationOutcome"), query
