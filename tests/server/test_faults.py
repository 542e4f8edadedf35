"""Every fault really changes what the server does: the same probe gives a different observation
on a clean server and on a server with that one fault switched on."""

from __future__ import annotations

import ast
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import jwt
import pytest

from vhr_conformance.i18n import UserError
from vhr_conformance.server import ReferenceServer
from vhr_conformance.server import faults as faults_module
from vhr_conformance.server.faults import FAULTS, ActiveFaults, parse_faults

from .conftest import CCCD, FHIR, patient
from .test_validation import BAD_CCCD, bad_patient

Probe = Callable[[httpx.Client], Any]
SERVER_SRC = Path(faults_module.__file__).parent


def _create(c: httpx.Client, **kw: Any) -> httpx.Response:
    return c.post("/Patient", json=patient(**kw))


def _token(c: httpx.Client, cid: str) -> dict[str, str]:
    r = c.post(
        "/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(cid, f"{cid}-secret"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def p_paging(c: httpx.Client) -> tuple[Any, ...]:
    for _ in range(3):
        _create(c)
    page = c.get("/Patient?_count=2").json()
    nxt = next(lk["url"] for lk in page["link"] if lk["relation"] == "next")
    if urlparse(nxt).netloc != urlparse(str(c.base_url)).netloc:
        return "other host"
    return len(c.get(nxt).json().get("entry", []))


def p_non_atomic(c: httpx.Client) -> int:
    c.post(
        "/",
        json={
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"resource": patient(), "request": {"method": "POST", "url": "Patient"}},
                {
                    "resource": patient(id="p9"),
                    "request": {"method": "PUT", "url": "Patient/p9", "ifMatch": 'W/"3"'},
                },
            ],
        },
    )
    return c.get("/Patient?_summary=count").json()["total"]


def p_cond_create(c: httpx.Client) -> int:
    for _ in range(2):
        c.post("/Patient", json=patient(), headers={"If-None-Exist": f"identifier={CCCD}|001090012345"})
    return c.get("/Patient?_summary=count").json()["total"]


def p_update(c: httpx.Client) -> tuple[int, str]:
    res = _create(c).json()
    r = c.put(f"/Patient/{res['id']}", json=res, headers={"If-Match": 'W/"1"'})
    r2 = c.put(f"/Patient/{res['id']}", json=res, headers={"If-Match": 'W/"1"'})
    return r2.status_code, r.json()["meta"].get("versionId", "")


def p_slow(c: httpx.Client) -> bool:
    t = time.monotonic()
    c.get("/metadata")
    return time.monotonic() - t > 0.25


def p_delete(c: httpx.Client) -> int:
    pid = _create(c).json()["id"]
    c.delete(f"/Patient/{pid}")
    return c.get(f"/Patient/{pid}").status_code


def p_include(c: httpx.Client) -> int:
    pid = _create(c).json()["id"]
    c.post(
        "/Observation",
        json={
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "x"},
            "subject": {"reference": f"Patient/{pid}"},
        },
    )
    return len(c.get(f"/Observation?patient={pid}&_include=Observation:patient").json()["entry"])


def p_birthdate(c: httpx.Client) -> int:
    _create(c, birthDate="1990-01-01")
    _create(c, birthDate="2000-01-01")
    return c.get("/Patient?birthdate=1990").json()["total"]


def p_json(c: httpx.Client) -> bool:
    try:
        c.get("/metadata").json()
    except ValueError:
        return False
    return True


def _narrow(c: httpx.Client, scope: str, cid: str = "vhr-test-admin") -> dict[str, str]:
    """A token of the admin client asking for fewer scopes than it may have."""
    r = c.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(cid, f"{cid}-secret"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def _linked(c: httpx.Client) -> tuple[str, str]:
    """An Organization, a Patient managed by it and an Observation and Encounter about the Patient."""
    org = c.post("/Organization", json={"resourceType": "Organization", "name": "Bệnh viện A"}).json()["id"]
    pid = _create(c, managingOrganization={"reference": f"Organization/{org}"}).json()["id"]
    subject = {"reference": f"Patient/{pid}"}
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": subject}
    c.post("/Observation", json=obs)
    enc = {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"}, "subject": subject}
    c.post("/Encounter", json=enc)
    return pid, org


def _types(resp: httpx.Response) -> list[str]:
    body = resp.json()
    out = [str((e.get("resource") or {}).get("resourceType")) for e in body.get("entry", [])]
    for e in body.get("entry", []):  # batch-response entries carry search Bundles
        inner = e.get("resource") or {}
        out += [str((x.get("resource") or {}).get("resourceType")) for x in inner.get("entry", [])]
    return sorted(set(out))


def p_scope_include(c: httpx.Client) -> list[str]:
    _linked(c)
    narrow = _narrow(c, "system/Encounter.read")
    return _types(c.get("/Encounter?_include=Encounter:patient&_include=*", headers=narrow))


def p_scope_revinclude(c: httpx.Client) -> list[str]:
    pid, _ = _linked(c)
    narrow = _narrow(c, "system/Patient.read")
    return _types(c.get(f"/Patient?_id={pid}&_revinclude=*", headers=narrow))


def p_scope_chain(c: httpx.Client) -> int:
    _linked(c)
    narrow = _narrow(c, "system/Encounter.read")
    return c.get("/Encounter?patient:Patient.identifier=001090012345", headers=narrow).status_code


def p_scope_batch(c: httpx.Client) -> list[str]:
    pid, _ = _linked(c)
    narrow = _narrow(c, "system/Patient.read")
    entries = [{"request": {"method": "GET", "url": f"Observation?patient={pid}"}}]
    batch = {"resourceType": "Bundle", "type": "batch", "entry": entries}
    return _types(c.post("/", json=batch, headers=narrow))


def p_scope_everything(c: httpx.Client) -> list[str]:
    pid, _ = _linked(c)
    return _types(c.get(f"/Patient/{pid}/$everything", headers=_narrow(c, "system/Patient.read")))


def p_scope_history(c: httpx.Client) -> int:
    _linked(c)
    return c.get("/_history", headers=_narrow(c, "system/Patient.read")).status_code


def p_scope_export(c: httpx.Client) -> list[str]:
    _linked(c)
    narrow = {**_narrow(c, "system/Patient.read"), "Prefer": "respond-async"}
    status = c.get("/$export", headers=narrow).headers["content-location"]
    return sorted(o["type"] for o in c.get(status, headers=narrow).json()["output"])


def p_export_owner(c: httpx.Client) -> tuple[int, int, int]:
    _linked(c)
    status = c.get("/$export?_type=Patient", headers={"Prefer": "respond-async"}).headers["content-location"]
    other = _token(c, "vhr-test-reader")
    files = c.get(status).json()["output"]
    return (
        c.get(status, headers=other).status_code,
        c.get(files[0]["url"], headers=other).status_code,
        c.delete(status, headers=other).status_code,
    )


def p_token_exp(c: httpx.Client) -> bool:
    token = _token(c, "vhr-test-reader")["Authorization"].split()[1]
    return "exp" in jwt.decode(token, options={"verify_signature": False})


PROBES: dict[str, tuple[dict[str, Any], Probe]] = {
    "no-capability-statement": ({}, lambda c: c.get("/metadata").status_code),
    "wrong-fhir-version": ({}, lambda c: c.get("/metadata").json()["fhirVersion"]),
    "ignore-shall-search-param": ({}, p_birthdate),
    "accent-sensitive-search": ({}, lambda c: (_create(c), c.get("/Patient?name=nguyen").json()["total"])[1]),
    "drop-identifiers-on-write": ({}, lambda c: "identifier" in _create(c).json()),
    "accept-invalid-resources": (
        {"validate": True},
        lambda c: c.post("/Patient", json=bad_patient()).status_code,
    ),
    "non-atomic-transaction": ({}, p_non_atomic),
    "conditional-create-duplicates": ({}, p_cond_create),
    "no-etag": ({}, lambda c: "etag" in _create(c).headers),
    "wrong-content-type": ({}, lambda c: c.get("/metadata").headers["content-type"].split(";")[0]),
    "status-200-on-create": ({}, lambda c: _create(c).status_code),
    "status-200-on-missing": ({}, lambda c: c.get("/Patient/missing").status_code),
    "leak-personal-data-in-errors": (
        {"validate": True},
        lambda c: BAD_CCCD in c.post("/Patient", json=bad_patient()).text,
    ),
    "no-authentication": ({"auth": "oauth", "anonymous": True}, lambda c: c.get("/Patient").status_code),
    "ignore-scopes": (
        {"auth": "oauth"},
        lambda c: c.post("/Patient", json=patient(), headers=_token(c, "vhr-test-reader")).status_code,
    ),
    "broken-paging-links": ({}, p_paging),
    "paging-link-other-host": ({}, p_paging),
    "slow-responses": ({"latency_ms": 300}, p_slow),
    "random-5xx": ({}, lambda c: {c.get("/Patient").status_code for _ in range(12)}),
    "truncated-json": ({}, p_json),
    "stale-last-updated": ({}, lambda c: _create(c).json()["meta"]["lastUpdated"][:4] == "2001"),
    "ignore-if-match": ({}, p_update),
    "no-location-header": ({}, lambda c: "location" in _create(c).headers),
    "ignore-count": (
        {},
        lambda c: ([_create(c) for _ in range(3)], len(c.get("/Patient?_count=1").json()["entry"]))[1],
    ),
    "ignore-include": ({}, p_include),
    "deleted-still-readable": ({}, p_delete),
    "version-not-incremented": ({}, p_update),
    "ignore-prefer": (
        {},
        lambda c: c.post("/Patient", json=patient(), headers={"Prefer": "return=minimal"}).content,
    ),
    "no-size-limit": (
        {"max_body_bytes": 2000},
        lambda c: (
            _create(c, text={"status": "generated", "div": "<div>" + "x" * 3000 + "</div>"}).status_code
        ),
    ),
    "no-rate-limit": (
        {"rate_limit": 1, "rate_burst": 1},
        lambda c: {c.get("/Patient").status_code for _ in range(4)},
    ),
    "no-smart-configuration": (
        {"auth": "oauth"},
        lambda c: c.get("/.well-known/smart-configuration").status_code,
    ),
    "summary-count-returns-entries": (
        {},
        lambda c: (_create(c), "entry" in c.get("/Patient?_summary=count").json())[1],
    ),
    "scope-bypass-include": ({"auth": "oauth"}, p_scope_include),
    "scope-bypass-revinclude": ({"auth": "oauth"}, p_scope_revinclude),
    "scope-bypass-chain": ({"auth": "oauth"}, p_scope_chain),
    "scope-bypass-batch": ({"auth": "oauth"}, p_scope_batch),
    "scope-bypass-everything": ({"auth": "oauth"}, p_scope_everything),
    "scope-bypass-history": ({"auth": "oauth"}, p_scope_history),
    "scope-bypass-export": ({"auth": "oauth"}, p_scope_export),
    "export-not-bound-to-client": ({"auth": "oauth"}, p_export_owner),
    "token-without-exp-accepted": ({"auth": "oauth"}, p_token_exp),
    "anonymous-read": ({"auth": "oauth", "anonymous": True}, lambda c: c.get("/Patient").status_code),
    "no-patient-everything": (
        {},
        lambda c: c.get(f"/Patient/{_create(c).json()['id']}/$everything").status_code,
    ),
    "validate-accepts-anything": (
        {"validate": True},
        lambda c: sorted(
            i["severity"] for i in c.post("/Patient/$validate", json=bad_patient()).json().get("issue", [])
        ),
    ),
    "per-string-size-limit": (  # a body of many short strings over the limit
        {"max_body_bytes": 2000},
        lambda c: (
            _create(c, identifier=[{"system": "urn:x", "value": f"v{i:05d}"} for i in range(100)]).status_code
        ),
    ),
}


def test_every_fault_has_a_probe_and_a_bilingual_description() -> None:
    assert set(PROBES) == set(FAULTS)
    assert len(FAULTS) >= 20 and "accent-sensitive-search" in FAULTS
    for name, fault in FAULTS.items():
        assert name == fault.name and name == name.lower() and " " not in name
        assert fault.text.vi and fault.text.en and fault.text.vi != fault.text.en


def test_unknown_fault_is_a_user_error() -> None:
    with pytest.raises(UserError) as err:
        parse_faults(["no-etag,no-such-fault"])
    assert "no-such-fault" in err.value.text.vi and "no-such-fault" in err.value.text.en
    assert err.value.location == "--fault"


def test_active_faults_has_one_attribute_per_catalogue_name() -> None:
    """The catalogue is derived from ActiveFaults: each public name switches exactly its own
    attribute, and the names read back unchanged."""
    attributes = {f.name for f in dataclasses.fields(ActiveFaults)}
    assert attributes == {name.replace("-", "_") for name in FAULTS}
    assert ActiveFaults().names == frozenset()
    for name in FAULTS:
        on = ActiveFaults.parse([name])
        assert on.names == {name}
        assert [a for a in attributes if getattr(on, a)] == [name.replace("-", "_")]
    with pytest.raises(TypeError):
        ActiveFaults.of(["no-such-fault"])  # unchecked names never become a silent switch


def test_server_code_asks_faults_by_attribute() -> None:
    """No module of the server tests a fault by its kebab-case name (``"no-etag" in faults``):
    an attribute is checked by mypy, a string is not."""
    found = []
    for path in sorted(SERVER_SRC.glob("*.py")):
        if path.name == "faults.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in FAULTS:
                found.append(f"{path.name}:{node.lineno} {node.value}")
    assert not found, found


def _observe(faults: list[str], kwargs: dict[str, Any], probe: Probe) -> Any:
    kw = {"validate": False, **kwargs}
    anonymous = kw.pop("anonymous", False)
    with (
        ReferenceServer(faults=faults, **kw) as srv,
        httpx.Client(base_url=srv.base_url, headers=FHIR, timeout=30) as c,
    ):
        if kw.get("auth") == "oauth" and not anonymous:
            c.headers.update(_token(c, "vhr-test-admin"))
        return probe(c)


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_changes_behaviour(name: str) -> None:
    kwargs, probe = PROBES[name]
    clean = _observe([], kwargs, probe)
    faulty = _observe([name], kwargs, probe)
    assert clean != faulty, f"{name}: same observation {clean!r} with and without the fault"
