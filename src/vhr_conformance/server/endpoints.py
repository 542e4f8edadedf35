"""Which handler answers which request: the route table of the FHIR REST API, and the request
pipeline that admits a request (fault switches, negotiation, authentication, rate limit, body)
before its handler turns it into one interaction.

The table is the one description of the server's paths: the 404 and 405 answers come from it
(:mod:`.routing`), and so does the order of checks — a public route (``/metadata``, the token
endpoint) needs no token; every other path, known or not, is authenticated first.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response

from vhr_conformance.server import bulk
from vhr_conformance.server import errors as E
from vhr_conformance.server.auth import OAuthError
from vhr_conformance.server.errors import FhirError
from vhr_conformance.server.http import HttpLayer, accept_ok, hdr, prefer_return
from vhr_conformance.server.model import Caller, Result
from vhr_conformance.server.routing import Route, RouteTable
from vhr_conformance.server.service import FhirApp

log = logging.getLogger("vhr.server")


@dataclass(slots=True)
class Call:
    """One admitted request, as its handler sees it."""

    request: Request
    caller: Caller
    params: list[tuple[str, str]]  # the query string
    args: dict[str, str]  # the route's placeholders: type, id, vid, job, file
    body: bytes  # POST/PUT only; b"" otherwise
    prefer: str | None  # Prefer: return=…
    strict: bool  # Prefer: handling=strict


Handler = Callable[["Endpoints", Call], Awaitable[Response]]


class Endpoints:
    """The ASGI endpoint of one server: admits each request and runs its route's handler."""

    def __init__(self, fhir: FhirApp) -> None:
        self.fhir = fhir
        self.http = HttpLayer(fhir)

    async def __call__(self, request: Request) -> Response:
        fhir, http, faults = self.fhir, self.http, self.fhir.faults
        http.begin(request)
        caller: Caller | None = None
        found: tuple[Route[Handler], dict[str, str]] | None = None
        try:
            if faults.slow_responses:
                await asyncio.sleep(fhir.config.latency_ms / 1000.0)
            path = request.url.path
            if faults.random_5xx and path != "/metadata" and fhir.rng.random() < 1 / 3:
                raise FhirError(503, "transient", E.INTERNAL)
            found = ROUTES.find(path)
            route = found[0] if found else None
            params = parse_qsl(request.url.query, keep_blank_values=True)
            if (route is None or route.negotiate) and not accept_ok(
                hdr(request, "accept"), dict(params).get("_format")
            ):
                raise FhirError(
                    406, "not-supported", E.NOT_ACCEPTABLE.format(a=(hdr(request, "accept") or "")[:60])
                )
            if route is not None and route.public:
                caller = Caller(None, request.client.host if request.client else None, None)
            else:
                caller = http.caller(request)
                http.rate(caller.client or caller.address or "?")
            if found is None:
                raise ROUTES.not_found(path)
            method = "GET" if request.method == "HEAD" else request.method  # uvicorn drops HEAD bodies
            handler = ROUTES.handler(found[0], method)
            body = await http.read_body(request, found[0].body) if method in ("POST", "PUT") else b""
            prefer = hdr(request, "prefer") or ""
            call = Call(
                request, caller, params, found[1], body, prefer_return(prefer), "handling=strict" in prefer
            )
            return await handler(self, call)
        except FhirError as err:
            if err.status in (401, 403, 429):
                address = request.client.host if request.client else None
                args = found[1] if found else {}
                fhir.audit_refused(caller, address, request.method, request.url.path, args, err.status)
            return http.error(err)
        except Exception:
            log.exception("unexpected error")
            return http.error(FhirError(500, "exception", E.INTERNAL))

    # ------------------------------------------------------------------ public
    async def token(self, call: Call) -> Response:
        """The OAuth token endpoint (client credentials), rate-limited per address."""
        request = call.request
        self.http.rate(request.client.host if request.client else "?")
        form = dict(parse_qsl(call.body.decode("utf-8", "replace"), keep_blank_values=True))
        basic = None
        auth = hdr(request, "authorization", "") or ""
        if auth[:6].lower() == "basic ":
            try:
                cid, _, sec = base64.b64decode(auth[6:]).decode().partition(":")
                basic = (cid, sec)
            except (ValueError, UnicodeDecodeError):
                basic = ("", "")
        try:
            if self.fhir.config.auth != "oauth":
                raise OAuthError("invalid_request", "this server runs without authorization", 400)
            token = self.fhir.authority.token(form, basic, self.fhir.token_url)
        except OAuthError as err:
            return Response(
                orjson.dumps({"error": err.error, "error_description": err.description}),
                err.status,
                media_type="application/json",
                headers={"Cache-Control": "no-store"},
            )
        return Response(
            orjson.dumps(token),
            media_type="application/json",
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    async def metadata(self, call: Call) -> Response:
        return self.http.raw(200, self.fhir.rest.capability(), {})

    async def smart_configuration(self, call: Call) -> Response:
        return Response(orjson.dumps(self.fhir.rest.smart_configuration()), media_type="application/json")

    # ------------------------------------------------------------------ system level
    async def bundle(self, call: Call) -> Response:
        bundle = self.fhir.parse_resource(call.body)
        return self.http.response(
            await self.http.offload(lambda: self.fhir.bundles.bundle(call.caller, bundle, call.prefer))
        )

    async def system_history(self, call: Call) -> Response:
        return self.http.response(self.fhir.rest.history(call.caller, None, None, call.params))

    async def export_system(self, call: Call) -> Response:
        return await self._export(call, patient_level=False)

    async def export_patient(self, call: Call) -> Response:
        return await self._export(call, patient_level=True)

    async def _export(self, call: Call, patient_level: bool) -> Response:
        if "respond-async" not in (hdr(call.request, "prefer") or ""):
            raise FhirError(400, "invalid", bulk.NEED_ASYNC)
        url = str(call.request.url)
        res = await self.http.offload(
            lambda: self.fhir.operations.export(call.caller, call.params, url, patient_level)
        )
        return Response(status_code=202, headers=res.headers)

    def _job_owner(self, call: Call) -> Any:
        """A job is its starter's: any other client is told it does not exist."""
        return bulk.ANY_OWNER if self.fhir.faults.export_not_bound_to_client else call.caller.client

    async def export_manifest(self, call: Call) -> Response:
        return Response(
            bulk.manifest(self.fhir.store, call.args["job"], self._job_owner(call)),
            media_type="application/json",
        )

    async def export_delete(self, call: Call) -> Response:
        job, owner = call.args["job"], self._job_owner(call)

        def delete_job() -> Result:
            bulk.delete(self.fhir.store, job, owner)
            return Result(202)

        await self.http.offload(delete_job)
        return Response(status_code=202)

    async def export_file(self, call: Call) -> Response:
        name = call.args["file"]
        if not name.endswith(".ndjson"):
            raise FhirError(405, "not-supported", E.METHOD_NOT_ALLOWED)
        body = bulk.file_body(
            self.fhir.store, call.args["job"], name[: -len(".ndjson")], self._job_owner(call)
        )
        return Response(body, media_type="application/fhir+ndjson")

    # ------------------------------------------------------------------ type level
    async def search(self, call: Call) -> Response:
        return self.http.response(
            self.fhir.searches.search(call.caller, call.args["type"], call.params, call.strict)
        )

    async def search_post(self, call: Call) -> Response:
        form = parse_qsl(call.body.decode("utf-8", "replace"), keep_blank_values=True) if call.body else []
        return self.http.response(
            self.fhir.searches.search(call.caller, call.args["type"], [*call.params, *form], call.strict)
        )

    async def create(self, call: Call) -> Response:
        fhir, rtype = self.fhir, call.args["type"]
        resource = fhir.parse_resource(call.body)
        inx = hdr(call.request, "if-none-exist")
        res = await self.http.write(lambda: fhir.rest.create(call.caller, rtype, resource, inx, in_tx=True))
        return self.http.response(res, call.request, call.prefer)

    async def conditional_update(self, call: Call) -> Response:
        if not call.request.url.query:
            raise FhirError(405, "not-supported", E.METHOD_NOT_ALLOWED)
        fhir, rtype = self.fhir, call.args["type"]
        q = urlencode([(k, v) for k, v in call.params if k != "_format"])
        resource = fhir.parse_resource(call.body)
        res = await self.http.write(
            lambda: fhir.rest.conditional_update(call.caller, rtype, q, resource, in_tx=True)
        )
        return self.http.response(res, call.request, call.prefer)

    async def conditional_delete(self, call: Call) -> Response:
        query = call.request.url.query
        if not query:
            raise FhirError(405, "not-supported", E.METHOD_NOT_ALLOWED)
        rtype = call.args["type"]
        return self.http.response(
            await self.http.write(
                lambda: self.fhir.rest.conditional_delete(call.caller, rtype, query, in_tx=True)
            )
        )

    async def type_history(self, call: Call) -> Response:
        return self.http.response(self.fhir.rest.history(call.caller, call.args["type"], None, call.params))

    async def validate(self, call: Call) -> Response:
        return self.http.response(self.fhir.operations.validate(call.caller, call.args["type"], call.body))

    # ------------------------------------------------------------------ instance level
    async def read(self, call: Call) -> Response:
        res = self.fhir.rest.read(call.caller, call.args["type"], call.args["id"])
        return self.http.not_modified(call.request, res) or self.http.response(res)

    async def update(self, call: Call) -> Response:
        fhir, rtype, rid = self.fhir, call.args["type"], call.args["id"]
        resource = fhir.parse_resource(call.body)
        if_match = hdr(call.request, "if-match")
        res = await self.http.write(
            lambda: fhir.rest.update(call.caller, rtype, rid, resource, if_match, in_tx=True)
        )
        return self.http.response(res, call.request, call.prefer)

    async def delete(self, call: Call) -> Response:
        rtype, rid = call.args["type"], call.args["id"]
        return self.http.response(
            await self.http.write(lambda: self.fhir.rest.delete(call.caller, rtype, rid, in_tx=True))
        )

    async def everything(self, call: Call) -> Response:
        if self.fhir.faults.no_patient_everything:
            raise ROUTES.not_found(call.request.url.path)
        return self.http.response(self.fhir.operations.everything(call.caller, call.args["id"], call.params))

    async def instance_history(self, call: Call) -> Response:
        return self.http.response(
            self.fhir.rest.history(call.caller, call.args["type"], call.args["id"], call.params)
        )

    async def vread(self, call: Call) -> Response:
        a = call.args
        return self.http.response(self.fhir.rest.vread(call.caller, a["type"], a["id"], a["vid"]))


E_ = Endpoints  # short name for the handlers in the table below
ROUTES: RouteTable[Handler] = RouteTable(
    [
        Route("/auth/token", {"POST": E_.token}, public=True, negotiate=False, body="any"),
        Route("/metadata", {"GET": E_.metadata}, public=True),
        Route("/.well-known/smart-configuration", {"GET": E_.smart_configuration}, public=True),
        Route("/", {"POST": E_.bundle}),
        Route("/_history", {"GET": E_.system_history}),
        Route("/$export", {"GET": E_.export_system, "POST": E_.export_system}),
        Route("/Patient/$export", {"GET": E_.export_patient, "POST": E_.export_patient}),
        # bulk files and manifests negotiate their own types
        Route("/_export/{job}", {"GET": E_.export_manifest, "DELETE": E_.export_delete}, negotiate=False),
        Route("/_export/{job}/{file}", {"GET": E_.export_file}, negotiate=False),
        Route(
            "/{type}",
            {
                "GET": E_.search,
                "POST": E_.create,
                "PUT": E_.conditional_update,
                "DELETE": E_.conditional_delete,
            },
        ),
        Route("/{type}/_search", {"POST": E_.search_post}, body="fhir-or-form"),
        Route("/{type}/_history", {"GET": E_.type_history}),
        Route("/{type}/$validate", {"POST": E_.validate}),
        Route("/{type}/{id}", {"GET": E_.read, "PUT": E_.update, "DELETE": E_.delete}),
        Route("/Patient/{id}/$everything", {"GET": E_.everything, "POST": E_.everything}),
        Route("/{type}/{id}/$validate", {"POST": E_.validate}),
        Route("/{type}/{id}/_history", {"GET": E_.instance_history}),
        Route("/{type}/{id}/_history/{vid}", {"GET": E_.vread}),
    ]
)
"""The server's REST API: path pattern → handler per method (HEAD is served as GET)."""
