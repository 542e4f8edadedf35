"""The reference server's ASGI application: FHIR R4 REST over the SQLite store.

The pieces, each in its own module: :mod:`.model` (configuration, caller, result),
:mod:`.context` (shared state and checks), :mod:`.interactions`, :mod:`.searches`,
:mod:`.operations` and :mod:`.bundles` (what the server does), :mod:`.service` (one instance of
all that), :mod:`.http` (negotiation, auth, limits, `Prefer`), :mod:`.routing` and
:mod:`.endpoints` (the route table and its handlers). This module wires them into Starlette.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vhr_conformance.server.endpoints import Endpoints
from vhr_conformance.server.model import ServerConfig
from vhr_conformance.server.service import FhirApp


def create_app(config: ServerConfig) -> Starlette:
    """The Starlette application for `config` (state on ``app.state.fhir``)."""
    fhir = FhirApp(config)
    endpoints = Endpoints(fhir)

    async def endpoint(request: Request) -> Response:
        return await endpoints(request)

    # one catch-all route: the server's own table (endpoints.ROUTES) decides, so its 404 and 405
    # answers are FHIR OperationOutcomes
    route = Route("/{path:path}", endpoint, methods=["GET", "POST", "PUT", "DELETE", "HEAD"])

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if config.validate and not config.faults.accept_invalid_resources:
            loop = asyncio.get_running_loop()
            loop.run_in_executor(None, fhir.validation.warm)
        yield
        fhir.store.close()

    # gzip is applied by HttpLayer itself: a middleware costs every request a header scan
    app = Starlette(routes=[route], lifespan=lifespan)
    app.state.fhir = fhir
    return app
