"""A tiny FHIR-like ASGI app for the load tests (used until/unless the reference server is present).

It answers the five request groups of the VHR workload with small valid-looking JSON. ``FAKE_DELAY_MS``
adds latency to every response (to break a latency SLO), ``FAKE_INVALID=1`` returns patients that break a
required binding, ``FAKE_REDIRECT=1`` answers every request
with a redirect to another origin (to check that redirects are never followed). ``FAKE_EMPTY=1``
holds no patient until a transaction uploads it (then finds it and accepts its DELETE);
``FAKE_EMPTY=refuse`` also answers every upload 403.

    python -m tests.load.fakefhir PORT_FILE
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

DELAY = float(os.environ.get("FAKE_DELAY_MS", "0")) / 1000
REDIRECT = os.environ.get("FAKE_REDIRECT") == "1"
INVALID = os.environ.get("FAKE_INVALID") == "1"
TOKEN = os.environ.get(
    "FAKE_TOKEN", ""
)  # when set, every request needs "Authorization: Bearer <it>"  # patients with a gender outside the required binding
EMPTY = os.environ.get("FAKE_EMPTY", "")
FHIR = "application/fhir+json"
HITS: dict[str, int] = {}
UPLOADED: dict[str, str] = {}  # CCCD → patient id, in FAKE_EMPTY mode


def _bundle(kind: str, resources: list[dict]) -> dict:
    bundle: dict = {"resourceType": "Bundle", "type": kind, "total": len(resources)}
    if resources:  # FHIR JSON forbids empty arrays
        bundle["entry"] = [{"resource": r} for r in resources]
    return bundle


async def _common(request: Request) -> Response | None:
    HITS[request.url.path] = HITS.get(request.url.path, 0) + 1
    if TOKEN and request.headers.get("authorization") != f"Bearer {TOKEN}":
        return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401, media_type=FHIR)
    if DELAY:
        await asyncio.sleep(DELAY)
    if REDIRECT:
        return RedirectResponse("http://127.0.0.2:9/elsewhere", status_code=302)
    return None


async def transaction(request: Request) -> Response:
    if (early := await _common(request)) is not None:
        return early
    body = json.loads(await request.body())
    if EMPTY == "refuse":
        return JSONResponse({"resourceType": "OperationOutcome"}, status_code=403, media_type=FHIR)
    entries = []
    for n, entry in enumerate(body.get("entry", [])):
        resource = entry.get("resource") or {}
        response = {"status": "201 Created"}
        if EMPTY and resource.get("resourceType") == "Patient":
            pid = f"up{len(UPLOADED)}-{n}"
            for ident in resource.get("identifier", []):
                UPLOADED[ident["value"]] = pid
            response["location"] = f"Patient/{pid}/_history/1"
        entries.append({"response": response})
    return JSONResponse(
        {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}, media_type=FHIR
    )


async def patients(request: Request) -> Response:
    if (early := await _common(request)) is not None:
        return early
    ident = request.query_params.get("identifier", "")
    value = ident.split("|")[-1]
    if EMPTY:
        found = [{"resourceType": "Patient", "id": UPLOADED[value]}] if value in UPLOADED else []
    else:
        found = [{"resourceType": "Patient", "id": f"p{value[-4:]}"}] if value else []
    if INVALID:
        for patient in found:
            patient["gender"] = "robot"
    return JSONResponse(_bundle("searchset", found), media_type=FHIR)


async def everything(request: Request) -> Response:
    if (early := await _common(request)) is not None:
        return early
    pid = request.path_params["pid"]
    return JSONResponse(_bundle("searchset", [{"resourceType": "Patient", "id": pid}]), media_type=FHIR)


async def search(request: Request) -> Response:
    if (early := await _common(request)) is not None:
        return early
    return JSONResponse(_bundle("searchset", []), media_type=FHIR)


async def delete_patient(request: Request) -> Response:
    HITS["DELETE"] = HITS.get("DELETE", 0) + 1
    pid = request.path_params["pid"]
    for cccd in [c for c, p in UPLOADED.items() if p == pid]:
        del UPLOADED[cccd]
    return Response(status_code=204)


async def hits(request: Request) -> Response:
    return JSONResponse(HITS)


app = Starlette(
    routes=[
        Route("/", transaction, methods=["POST"]),
        Route("/Patient", patients),
        Route("/Patient/{pid}/$everything", everything),
        Route("/Patient/{pid}", delete_patient, methods=["DELETE"]),
        Route("/Encounter", search),
        Route("/Observation", search),
        Route("/_hits", hits),
    ]
)


def main() -> None:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    with open(sys.argv[1], "w") as fh:
        fh.write(str(port))
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
