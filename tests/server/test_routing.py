"""The route table: the most specific pattern wins whatever the order it is written in, and the
404 and 405 answers come from the table (over HTTP too, as FHIR OperationOutcomes)."""

from __future__ import annotations

import httpx
import pytest

from vhr_conformance.server import ReferenceServer
from vhr_conformance.server.endpoints import ROUTES
from vhr_conformance.server.errors import FhirError
from vhr_conformance.server.routing import Route, RouteTable

from .conftest import FHIR


def _table(*patterns: str) -> RouteTable[str]:
    return RouteTable(Route(p, {"GET": p}) for p in patterns)


@pytest.mark.parametrize("reverse", [False, True])
def test_literal_segments_win_over_placeholders_in_any_order(reverse: bool) -> None:
    patterns = ["/{type}/{id}", "/{type}/_history", "/Patient/{id}/$everything", "/{type}/{id}/$everything"]
    table = _table(*(reversed(patterns) if reverse else patterns))
    assert table.find("/Patient/_history") == (_route(table, "/{type}/_history"), {"type": "Patient"})
    route, args = table.find("/Patient/p1/$everything") or (None, {})
    assert route is not None and route.pattern == "/Patient/{id}/$everything" and args == {"id": "p1"}
    route, args = table.find("/Observation/o1/$everything") or (None, {})
    assert route is not None and route.pattern == "/{type}/{id}/$everything"
    assert args == {"type": "Observation", "id": "o1"}
    assert table.find("/Patient/p1/_history/1/x") is None


def _route(table: RouteTable[str], pattern: str) -> Route[str]:
    return next(r for r in table.routes if r.pattern == pattern)


def test_method_missing_on_a_matching_route_is_405_with_allow() -> None:
    table: RouteTable[str] = RouteTable([Route("/{type}/{id}", {"GET": "read", "DELETE": "delete"})])
    route, _ = table.find("/Patient/1") or (None, {})
    assert route is not None and table.handler(route, "DELETE") == "delete"
    with pytest.raises(FhirError) as err:
        table.handler(route, "POST")
    assert err.value.status == 405 and err.value.headers["Allow"] == "GET, DELETE, HEAD"
    assert table.not_found("/x/y/z/w/v").status == 404


def test_a_pattern_declared_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        _table("/{type}", "/{kind}")


def test_only_discovery_and_the_token_endpoint_are_public() -> None:
    assert {r.pattern for r in ROUTES.routes if r.public} == {
        "/auth/token",
        "/metadata",
        "/.well-known/smart-configuration",
    }


def test_http_answers_derived_from_the_table(client: httpx.Client) -> None:
    r = client.delete("/Patient/_history")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    assert r.json()["resourceType"] == "OperationOutcome"
    r = client.get("/Patient/p1/_history/1/extra")
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
    assert client.head("/metadata").status_code == 200


def test_unknown_paths_are_authenticated_first() -> None:
    """Only the public routes answer without a token: an unknown path says 401, not 404, so the
    table's shape is not probed anonymously."""
    with (
        ReferenceServer(auth="oauth", validate=False) as srv,
        httpx.Client(base_url=srv.base_url, headers=FHIR, timeout=30) as c,
    ):
        assert c.get("/no/such/path/here/at/all").status_code == 401
        assert c.get("/Patient").status_code == 401
        assert c.get("/metadata").status_code == 200
        assert c.get("/auth/token").status_code == 405
