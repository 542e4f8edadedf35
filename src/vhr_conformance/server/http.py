"""The HTTP side of the server, around the interactions: content negotiation, authentication,
rate and size limits, `Prefer` handling, conditional reads, and the fault switches that act on
the wire (content type, truncated JSON). Which handler answers a request is :mod:`.endpoints`."""

from __future__ import annotations

import contextvars
import email.utils
import gzip
import re
import zlib
from collections.abc import Callable
from datetime import datetime

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from vhr_conformance.i18n import Text
from vhr_conformance.server import errors as E
from vhr_conformance.server.errors import FhirError, operation_outcome
from vhr_conformance.server.model import Caller, Result
from vhr_conformance.server.routing import BodyKind
from vhr_conformance.server.service import FhirApp

JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
GZIP_MIN_SIZE = 1024
_GZIP_OK: contextvars.ContextVar[bool] = contextvars.ContextVar("vhr_gzip_ok", default=False)


class HttpLayer:
    """Turns interaction results into responses and requests into callers and bodies."""

    def __init__(self, fhir: FhirApp) -> None:
        self.fhir = fhir
        self.cfg = fhir.config

    def begin(self, request: Request) -> None:
        """Per-request set-up: the header dict, whether gzip may be used, the base URL."""
        # one pass over the raw headers instead of a scan per lookup (hot path)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}
        request.scope["vhr.headers"] = headers
        _GZIP_OK.set("gzip" in headers.get("accept-encoding", ""))
        if not self.fhir.base_url:
            self.fhir.set_base_url(f"{request.url.scheme}://{hdr(request, 'host', 'localhost')}")

    def response(self, result: Result, request: Request | None = None, prefer: str | None = None) -> Response:
        body = result.body
        headers = dict(result.headers)
        status = result.status
        if (
            prefer
            and not self.fhir.faults.ignore_prefer
            and status < 300
            and request is not None
            and request.method in ("POST", "PUT")
        ):
            if prefer == "minimal":
                body = b""
            elif prefer == "OperationOutcome":
                body = operation_outcome(
                    "information", "informational", Text("Đã xử lý yêu cầu.", "The request was processed.")
                )
        if isinstance(body, dict):
            body = orjson.dumps(body)
        return self.raw(status, body or b"", headers)

    def raw(self, status: int, body: bytes, headers: dict[str, str]) -> Response:
        ctype = (
            "text/plain; charset=utf-8"
            if self.fhir.faults.wrong_content_type
            else "application/fhir+json; charset=utf-8"
        )
        if self.fhir.faults.truncated_json and len(body) > 2:
            body = body[: len(body) // 2]
        if status == 204:
            body = b""
        elif len(body) >= GZIP_MIN_SIZE and _GZIP_OK.get():
            body = gzip.compress(body, compresslevel=5)
            headers = {**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return Response(body, status, headers=headers, media_type=None if status == 204 else ctype)

    def error(self, err: FhirError) -> Response:
        return self.raw(err.status, orjson.dumps(err.operation_outcome()), err.headers)

    async def body(self, request: Request) -> bytes:
        faults = self.fhir.faults
        limit = (
            self.cfg.max_body_bytes if not (faults.no_size_limit or faults.per_string_size_limit) else 1 << 40
        )
        length = hdr(request, "content-length")
        if length and length.isdigit() and int(length) > limit:
            raise FhirError(413, "too-costly", E.TOO_LARGE.format(n=limit))
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise FhirError(413, "too-costly", E.TOO_LARGE.format(n=limit))
            chunks.append(chunk)
        body = b"".join(chunks)
        if faults.per_string_size_limit and re.search(rb'"[^"]{%d,}"' % self.cfg.max_body_bytes, body):
            raise FhirError(413, "too-costly", E.TOO_LARGE.format(n=self.cfg.max_body_bytes))
        encoding = (hdr(request, "content-encoding") or "").strip().lower()
        if encoding in ("gzip", "x-gzip") and body:
            try:
                decoder = zlib.decompressobj(wbits=31)
                body = decoder.decompress(body, limit + 1)  # a gzip bomb stops at the limit
            except zlib.error:
                raise FhirError(400, "structure", E.BAD_JSON.format(err="gzip")) from None
            if len(body) > limit:
                raise FhirError(413, "too-costly", E.TOO_LARGE.format(n=limit))
        elif encoding not in ("", "identity"):
            raise FhirError(
                415, "not-supported", E.UNSUPPORTED_MEDIA.format(c="Content-Encoding " + encoding[:30])
            )
        return body

    async def read_body(self, request: Request, kind: BodyKind) -> bytes:
        """The body of a POST or PUT, within the limits, of the media type the route takes."""
        body = await self.body(request)
        if kind == "any":
            return body
        ctype = hdr(request, "content-type")
        is_form = (ctype or "").startswith("application/x-www-form-urlencoded")
        if not (kind == "fhir-or-form" and (is_form or not body)) and not content_type_ok(ctype):
            raise FhirError(415, "not-supported", E.UNSUPPORTED_MEDIA.format(c=(ctype or "")[:60]))
        return body

    def caller(self, request: Request) -> Caller:
        address = request.client.host if request.client else None
        if self.cfg.auth != "oauth":
            return Caller(None, address, None)
        checked = self.fhir.authority.check(hdr(request, "authorization"), self.fhir.token_url)
        if checked is None:
            anonymous_read = self.fhir.faults.anonymous_read and request.method in ("GET", "HEAD")
            if self.fhir.faults.no_authentication or anonymous_read:
                return Caller("anonymous", address, None)
            raise FhirError(
                401,
                "login",
                E.UNAUTHENTICATED,
                headers={
                    "WWW-Authenticate": f'Bearer realm="{self.fhir.base_url or "vhr"}", error="invalid_token"'
                },
            )
        return Caller(checked[0], address, checked[1], self.fhir.authority.clients.get(checked[0]))

    def rate(self, key: str) -> None:
        if self.fhir.limiter is None or self.fhir.faults.no_rate_limit:
            return
        wait = self.fhir.limiter.take(key)
        if wait:
            raise FhirError(
                429, "throttled", E.RATE_LIMITED.format(s=wait), headers={"Retry-After": str(wait)}
            )

    def not_modified(self, request: Request, res: Result) -> Response | None:
        """Conditional read: 304 when If-None-Match names the current version or the resource has
        not changed since If-Modified-Since."""
        stored = res.stored
        if stored is None or res.status != 200 or self.fhir.faults.no_etag:
            return None
        inm = hdr(request, "if-none-match")
        if inm:
            wanted = {t.strip().removeprefix("W/").strip('"') for t in inm.split(",")}
            if str(stored.version) in wanted or "*" in wanted:
                return Response(status_code=304, headers=self.fhir.headers(stored))
            return None
        ims = hdr(request, "if-modified-since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
                changed = datetime.fromisoformat(stored.last_updated).replace(microsecond=0)
            except (TypeError, ValueError):
                return None
            if since.tzinfo is not None and changed <= since:
                return Response(status_code=304, headers=self.fhir.headers(stored))
        return None

    async def offload(self, fn: Callable[[], Result]) -> Result:
        """Run a write off the event loop when the database is a file, so reads continue while it
        validates and fsyncs (an in-memory database has one connection: run it inline)."""
        if self.fhir.store.memory:
            return fn()
        return await run_in_threadpool(fn)

    async def write(self, fn: Callable[[], Result]) -> Result:
        """One interaction in one write transaction (reads inside it see its own state)."""

        def run() -> Result:
            with self.fhir.store.transaction():
                return fn()

        return await self.offload(run)


def accept_ok(accept: str | None, fmt: str | None) -> bool:
    if fmt:
        return fmt.split(";")[0].strip() in ("json", *JSON_TYPES)
    if not accept:
        return True
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in ("*/*", "application/*", *JSON_TYPES):
            return True
    return False


def content_type_ok(ctype: str | None) -> bool:
    return bool(ctype) and ctype.split(";")[0].strip().lower() in JSON_TYPES  # type: ignore[union-attr]


def hdr(request: Request, name: str, default: str | None = None) -> str | None:
    """A request header (lower-case name) from the dict built once per request."""
    cached = request.scope.get("vhr.headers")
    if cached is None:
        return request.headers.get(name, default)
    return cached.get(name, default)


def prefer_return(header: str | None) -> str | None:
    if not header:
        return None
    for part in header.split(";"):
        for item in part.split(","):
            k, _, v = item.strip().partition("=")
            if k == "return":
                return v.strip('"')
    return None
