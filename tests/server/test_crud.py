"""Instance and type interactions over HTTP: create, read, vread, update, delete, history, headers."""

from __future__ import annotations

import gzip

import httpx

from vhr_conformance.server import ReferenceServer

from .conftest import CCCD, patient


def test_metadata_is_instance_capability_statement(client: httpx.Client, server: ReferenceServer) -> None:
    r = client.get("/metadata")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/fhir+json")
    cs = r.json()
    assert cs["resourceType"] == "CapabilityStatement"
    assert cs["kind"] == "instance"
    assert cs["fhirVersion"] == "4.0.1"
    assert cs["implementation"]["url"] == server.base_url
    types = {res["type"] for res in cs["rest"][0]["resource"]}
    assert "Patient" in types
    # every declared search parameter is one the server compiled
    for res in cs["rest"][0]["resource"]:
        support = server.fhir.caps.support(res["type"])
        for sp in res.get("searchParam", []):
            assert sp["name"] in ("_id", "_lastUpdated") or sp["name"] in support.params


def test_served_capability_statement_is_valid_fhir(server: ReferenceServer) -> None:
    from vhr_conformance.validator import Validator

    for auth in ("none", "oauth"):
        with ReferenceServer(auth=auth, validate=False) as srv:
            cs = httpx.get(srv.base_url + "/metadata").json()
        errors = [i for i in Validator.default().validate(cs) if i.severity in ("error", "fatal")]
        assert not errors, [(i.rule, i.location) for i in errors]
        assert ("security" in cs["rest"][0]) == (auth == "oauth")
        assert "patchFormat" not in cs  # the server does not implement PATCH


def test_head_is_get_without_body(client: httpx.Client) -> None:
    r = client.head("/metadata")
    assert r.status_code == 200 and r.content == b""


def test_create_read_vread_update_delete(client: httpx.Client, server: ReferenceServer) -> None:
    r = client.post("/Patient", json=patient())
    assert r.status_code == 201
    loc = r.headers["location"]
    assert loc.startswith(server.base_url + "/Patient/") and loc.endswith("/_history/1")
    assert r.headers["etag"] == 'W/"1"'
    assert "last-modified" in r.headers
    created = r.json()
    pid = created["id"]
    assert created["meta"]["versionId"] == "1"

    r = client.get(f"/Patient/{pid}")
    assert r.status_code == 200 and r.json()["name"][0]["family"] == "Nguyễn"
    assert r.headers["etag"] == 'W/"1"'

    upd = dict(created, gender="female")
    r = client.put(f"/Patient/{pid}", json=upd, headers={"If-Match": 'W/"1"'})
    assert r.status_code == 200 and r.json()["meta"]["versionId"] == "2"
    assert r.headers["etag"] == 'W/"2"'

    r = client.put(f"/Patient/{pid}", json=upd, headers={"If-Match": 'W/"1"'})
    assert r.status_code == 412
    assert r.json()["resourceType"] == "OperationOutcome"

    assert client.get(f"/Patient/{pid}/_history/1").json()["gender"] == "male"
    assert client.get(f"/Patient/{pid}/_history/2").json()["gender"] == "female"
    assert client.get(f"/Patient/{pid}/_history/9").status_code == 404

    hist = client.get(f"/Patient/{pid}/_history").json()
    assert hist["type"] == "history" and hist["total"] == 2
    assert [e["resource"]["meta"]["versionId"] for e in hist["entry"]] == ["2", "1"]

    assert client.delete(f"/Patient/{pid}").status_code == 204
    r = client.get(f"/Patient/{pid}")
    assert r.status_code == 410
    assert client.get(f"/Patient/{pid}/_history").json()["total"] == 3
    assert client.get("/Patient/does-not-exist").status_code == 404


def test_update_as_create_and_id_checks(client: httpx.Client) -> None:
    r = client.put("/Patient/chosen-id-1", json=patient(id="chosen-id-1"))
    assert r.status_code == 201 and r.headers["location"].endswith("/Patient/chosen-id-1/_history/1")
    assert client.put("/Patient/chosen-id-1", json=patient(id="other")).status_code == 400
    assert client.put("/Patient/chosen-id-1", json=patient()).status_code == 400
    assert client.post("/Patient", json={"resourceType": "Observation", "status": "final"}).status_code == 400


def test_bad_json_and_media_types(client: httpx.Client) -> None:
    r = client.post("/Patient", content=b"{not json")
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
    r = client.post("/Patient", content=b"<Patient/>", headers={"Content-Type": "application/fhir+xml"})
    assert r.status_code == 415
    assert client.get("/metadata", headers={"Accept": "application/fhir+xml"}).status_code == 406
    assert client.get("/metadata?_format=xml").status_code == 406
    assert client.get("/metadata", headers={"Accept": "application/json"}).status_code == 200
    assert client.get("/metadata", headers={"Accept": "text/html,*/*;q=0.8"}).status_code == 200


def test_prefer_return(client: httpx.Client) -> None:
    r = client.post("/Patient", json=patient(), headers={"Prefer": "return=minimal"})
    assert r.status_code == 201 and r.content == b"" and r.headers["location"]
    r = client.post("/Patient", json=patient(), headers={"Prefer": "return=OperationOutcome"})
    assert r.status_code == 201 and r.json()["resourceType"] == "OperationOutcome"
    r = client.post("/Patient", json=patient(), headers={"Prefer": "return=representation"})
    assert r.json()["resourceType"] == "Patient"


def test_gzip(server: ReferenceServer) -> None:
    with httpx.Client() as raw:
        r = raw.get(server.base_url + "/metadata", headers={"Accept-Encoding": "gzip"})
        assert r.headers.get("content-encoding") == "gzip"
        assert r.json()["resourceType"] == "CapabilityStatement"
        req = raw.build_request("GET", server.base_url + "/metadata", headers={"Accept-Encoding": "gzip"})
        stream = raw.send(req, stream=True)
        body = b"".join(stream.iter_raw())
        assert gzip.decompress(body).startswith(b"{")


def test_conditional_create_and_update(client: httpx.Client) -> None:
    ident = f"{CCCD}|079190000001"
    body = patient(identifier=[{"system": CCCD, "value": "079190000001"}])
    r1 = client.post("/Patient", json=body, headers={"If-None-Exist": f"identifier={ident}"})
    r2 = client.post("/Patient", json=body, headers={"If-None-Exist": f"identifier={ident}"})
    assert r1.status_code == 201 and r2.status_code == 200
    assert r1.json()["id"] == r2.json()["id"]
    assert client.get(f"/Patient?identifier={ident}").json()["total"] == 1

    r = client.put(f"/Patient?identifier={ident}", json=dict(body, gender="female"))
    assert r.status_code == 200 and r.json()["id"] == r1.json()["id"] and r.json()["meta"]["versionId"] == "2"
    other = f"{CCCD}|079190000002"
    r = client.put(
        f"/Patient?identifier={other}", json=patient(identifier=[{"system": CCCD, "value": "079190000002"}])
    )
    assert r.status_code == 201


def test_type_and_system_history(client: httpx.Client) -> None:
    client.post("/Organization", json={"resourceType": "Organization", "name": "Bệnh viện A"})
    h = client.get("/Organization/_history").json()
    assert h["type"] == "history" and h["total"] >= 1
    assert all(e["resource"]["resourceType"] == "Organization" for e in h["entry"])
    assert client.get("/_history?_count=1").json()["total"] >= 2


def test_unknown_type_and_route(client: httpx.Client) -> None:
    assert client.get("/NotAType/1").status_code == 404
    assert client.get("/Patient/1/bogus/x/y").status_code == 404


def test_text_is_stored_nfc(client: httpx.Client) -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    r = client.post("/Patient", json=patient(name=[{"family": nfd}]))
    back = client.get(f"/Patient/{r.json()['id']}").json()
    assert back["name"][0]["family"] == unicodedata.normalize("NFC", nfd) != nfd


def test_conditional_read(client: httpx.Client) -> None:
    r = client.post("/Patient", json=patient())
    pid, etag, modified = r.json()["id"], r.headers["etag"], r.headers["last-modified"]
    assert client.get(f"/Patient/{pid}", headers={"If-None-Match": etag}).status_code == 304
    assert client.get(f"/Patient/{pid}", headers={"If-None-Match": 'W/"0"'}).status_code == 200
    assert client.get(f"/Patient/{pid}", headers={"If-Modified-Since": modified}).status_code == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get(f"/Patient/{pid}", headers={"If-Modified-Since": old}).status_code == 200


def test_gzip_request_body(client: httpx.Client) -> None:
    import orjson

    body = gzip.compress(orjson.dumps(patient()))
    r = client.post("/Patient", content=body, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 201 and r.json()["name"][0]["family"] == "Nguyễn"
    assert (
        client.post("/Patient", content=b"not gzip", headers={"Content-Encoding": "gzip"}).status_code == 400
    )
    assert client.post("/Patient", content=b"{}", headers={"Content-Encoding": "br"}).status_code == 415
