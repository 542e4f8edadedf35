"""HTTP client for the system under test.

Why not plain httpx: conformance evidence needs every exchange recorded (redacted), transport
trouble must be told apart from vendor failures, retries must never repeat a non-idempotent
request, and the harness must never be led off the target's origin by a redirect or paging link.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import orjson

from vhr_conformance.client.auth import TokenProvider
from vhr_conformance.client.bounds import (
    ACCEPT_ENCODING,
    BodyReader,
    BoundExceeded,
    Budget,
    Limits,
    budget_scope,
    install_backend,
    mb_text,
    run_deadline,
)
from vhr_conformance.client.evidence import EvidenceLog, Exchange, body_text, redact_headers, redact_text
from vhr_conformance.client.tls import tls_cause, untrusted_text, verify_context
from vhr_conformance.i18n import Text

FHIR_JSON = "application/fhir+json"
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUS = frozenset({502, 503, 504})
MAX_REDIRECTS = 5


class InfrastructureError(Exception):
    """The network or the harness failed; never counted as a vendor failure."""

    def __init__(self, message: str | Text) -> None:
        self.text = message if isinstance(message, Text) else None
        super().__init__(message.both() if isinstance(message, Text) else message)


class BoundError(InfrastructureError):
    """A bound of the harness (body size, deadline, transfer rate) ended the exchange.

    The case errors (it is never a pass) and the message says which bound, e.g. "the body exceeded 32 MB".
    """


class DeadlineExceeded(BoundError):
    """The client-wide deadline (the run's) has passed: no further request is sent."""


class OffOriginError(AssertionError):
    """The target sent us (redirect or paging link) to another origin: a vendor failure."""


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


@dataclass
class Response:
    """The parts of an HTTP response a test needs, with the body parsed lazily."""

    status: int
    headers: httpx.Headers = field(repr=False)
    content: bytes = field(repr=False)  # kept out of assertion messages; the evidence shows the body
    url: str = ""
    elapsed_ms: float = 0.0

    @property
    def json(self) -> Any:
        if not self.content:
            return None
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError:
            return None

    @property
    def resource_type(self) -> str | None:
        body = self.json
        return body.get("resourceType") if isinstance(body, dict) else None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


def _located(method: str, url: str, text: Text) -> Text:
    where = f"{method} {redact_text(url)}"
    return Text(f"{where}: {text.vi}", f"{where}: {text.en}")


class FhirClient:
    """A FHIR REST client bound to one base URL and one evidence log."""

    def __init__(
        self,
        base_url: str,
        *,
        tokens: TokenProvider | None = None,
        timeout: float = 15.0,
        retries: int = 2,
        verify: bool | ssl.SSLContext | None = None,
        evidence: EvidenceLog | None = None,
        body_limit: int = 4096,
        transport: httpx.BaseTransport | None = None,
        limits: Limits | None = None,
        deadline: float | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.retries = max(0, retries)
        self.evidence = evidence if evidence is not None else EvidenceLog()
        self.body_limit = body_limit
        self.limits = limits or Limits.from_env()
        # Client-wide deadline (time.monotonic()); see set_deadline. Read by every request.
        self.deadline: float | None = deadline
        if verify is None or verify is True:  # the named CA bundle (VHR_CA_BUNDLE) or the public roots
            verify = verify_context()
        if transport is None:
            transport = httpx.HTTPTransport(verify=verify)
            install_backend(transport)
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout), verify=verify, follow_redirects=False, transport=transport
        )
        self.origin = origin(self.base_url)

    def set_deadline(self, seconds: float | None) -> None:
        """End every request at most ``seconds`` from now (None: no client-wide deadline).

        Requests already in flight are cut at that instant (their sockets obey it); later ones raise
        :class:`DeadlineExceeded` without being sent. This is the hook for a run deadline.
        """
        self.deadline = None if seconds is None else time.monotonic() + max(0.0, seconds)

    def effective_deadline(self) -> float | None:
        """The earlier of this client's deadline and the process-wide run deadline (monotonic)."""
        ends = [d for d in (self.deadline, run_deadline()) if d is not None]
        return min(ends) if ends else None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FhirClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- core
    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url

    def same_origin(self, url: str) -> bool:
        return origin(url) == self.origin

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | str | None = None,
        params: dict[str, Any] | list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        token: str | None = None,
    ) -> Response:
        """Send one request; follow same-origin GET redirects; retry only idempotent methods."""
        method = method.upper()
        url = self.url(path)
        if not self.same_origin(url):
            raise OffOriginError(f"refusing to call {url}: not on the target's origin {self.base_url}")
        hdrs = {"Accept": FHIR_JSON}
        body: bytes | None = None
        if json is not None:
            body = orjson.dumps(json)
            hdrs["Content-Type"] = FHIR_JSON
        elif content is not None:
            body = content.encode("utf-8") if isinstance(content, str) else content
            hdrs.setdefault("Content-Type", FHIR_JSON)
        hdrs.update(headers or {})
        if auth and "Authorization" not in hdrs:
            bearer = token or (self.tokens.token() if self.tokens and self.tokens.enabled else None)
            if bearer:
                hdrs["Authorization"] = f"Bearer {bearer}"
        for _hop in range(MAX_REDIRECTS + 1):
            resp = self._send(method, url, body, hdrs, params)
            if resp.status in (301, 302, 303, 307, 308) and "location" in resp.headers:
                target = urljoin(url, resp.headers["location"])
                if not self.same_origin(target):
                    raise OffOriginError(f"redirect from {url} to another origin: {redact_text(target)}")
                if method not in ("GET", "HEAD"):
                    return resp
                url, params = target, None
                continue
            return resp
        raise OffOriginError(f"more than {MAX_REDIRECTS} redirects from {url}")

    def _send(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str], params: Any
    ) -> Response:
        attempts = 1 + (self.retries if method in IDEMPOTENT else 0)
        window_end = time.monotonic() + self.limits.retry_window
        last_error: str | None = None
        headers = {"Accept-Encoding": ACCEPT_ENCODING, **headers}
        for attempt in range(1, attempts + 1):
            self._check_deadline(method, url)
            start = time.perf_counter()
            ex = Exchange(
                method=method,
                url=redact_text(url),
                request_headers=redact_headers(headers),
                request_body=body_text(body, self.body_limit),
                attempts=attempt,
            )
            ends = [time.monotonic() + self.limits.request_deadline, window_end]
            deadline = self.effective_deadline()
            if deadline is not None:
                ends.append(deadline)
            budget = Budget(min(ends), self.limits.min_rate, self.limits.rate_window)
            try:
                with budget_scope(budget):
                    status, resp_headers, final_url, content = self._exchange(
                        method, url, body, headers, params
                    )
            except BoundExceeded as exc:
                ex.elapsed_ms = (time.perf_counter() - start) * 1000
                ex.error = exc.text.both()
                if exc.partial is not None:
                    ex.status, hdrs, ex.response_body = exc.partial
                    ex.response_headers = redact_headers(hdrs)
                self.evidence.add(ex)
                raise BoundError(_located(method, url, exc.text)) from None
            except httpx.HTTPError as exc:
                ex.elapsed_ms = (time.perf_counter() - start) * 1000
                bound = self._bound_reason(budget, exc)
                ex.error = bound.both() if bound else f"{type(exc).__name__}: {exc}"
                self.evidence.add(ex)
                last_error = ex.error
                cause = tls_cause(exc)
                if isinstance(cause, ssl.SSLCertVerificationError):  # retrying cannot help; say what to do
                    raise InfrastructureError(untrusted_text(redact_text(url), cause).both()) from exc
                if bound is not None:  # a deadline or a drip: retrying would only wait longer
                    raise BoundError(_located(method, url, bound)) from None
                if attempt < attempts and self._may_retry(attempt, window_end):
                    self.evidence.infrastructure_retries += 1
                    time.sleep(0.2 * attempt)
                    continue
                raise InfrastructureError(f"{method} {redact_text(url)}: {last_error}") from exc
            elapsed = (time.perf_counter() - start) * 1000
            ex.url = redact_text(final_url)
            ex.status = status
            ex.response_headers = redact_headers(resp_headers)
            ex.response_body = body_text(content[: self.body_limit * 4], self.body_limit)
            ex.elapsed_ms = elapsed
            self.evidence.add(ex)
            if status in RETRY_STATUS and attempt < attempts and self._may_retry(attempt, window_end):
                self.evidence.infrastructure_retries += 1
                time.sleep(0.2 * attempt)
                continue
            return Response(status, resp_headers, content, final_url, elapsed)
        raise InfrastructureError(f"{method} {url}: {last_error}")  # pragma: no cover - loop always returns

    def _exchange(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str], params: Any
    ) -> tuple[int, httpx.Headers, str, bytes]:
        """One attempt, the body streamed under the size caps."""
        request = self._http.build_request(method, url, content=body, headers=headers, params=params)
        raw = self._http.send(request, stream=True)
        try:
            # A response built in memory (test transports) arrives already read and decoded.
            whole = raw.is_stream_consumed
            reader = BodyReader("" if whole else raw.headers.get("content-encoding", ""), self.limits)
            try:
                for chunk in [raw.content] if whole else raw.iter_raw():
                    reader.feed(chunk)
            except BoundExceeded as exc:
                prefix = bytes(reader.body[: self.body_limit * 4])
                exc.partial = (raw.status_code, raw.headers, body_text(prefix, self.body_limit))
                raise
            return raw.status_code, raw.headers, str(raw.request.url), bytes(reader.body)
        finally:
            raw.close()

    def _check_deadline(self, method: str, url: str) -> None:
        deadline = self.effective_deadline()
        if deadline is not None and time.monotonic() >= deadline:
            raise DeadlineExceeded(
                _located(
                    method,
                    url,
                    Text(
                        "Đã quá thời hạn của lượt chạy; yêu cầu không được gửi",
                        "the run's deadline has passed; the request was not sent",
                    ),
                )
            )

    def _may_retry(self, attempt: int, window_end: float) -> bool:
        """Another attempt only if its back-off still ends inside the retry window and the deadline."""
        wake = time.monotonic() + 0.2 * attempt
        deadline = self.effective_deadline()
        return wake < window_end and (deadline is None or wake < deadline)

    def _bound_reason(self, budget: Budget, exc: httpx.HTTPError) -> Text | None:
        """Which bound ended a timed-out attempt, worded with its figures (None: an ordinary timeout)."""
        if not isinstance(exc, httpx.TimeoutException):
            return None
        if budget.reason is not None and budget.remaining() > 0:  # the rate check, before the deadline
            return budget.reason
        if budget.remaining() > 0.05:
            return None
        deadline = self.effective_deadline()
        if deadline is not None and budget.deadline >= deadline - 1e-6:
            return Text(
                "Đã quá thời hạn của lượt chạy; yêu cầu bị cắt",
                "the run's deadline has passed; the request was cut",
            )
        return Text(
            "Yêu cầu vượt thời hạn {s:g} giây (kết nối, tiêu đề và toàn bộ phần thân)",
            "the request exceeded its {s:g} s deadline (connect, headers and the whole body)",
        ).format(s=round(budget.deadline - budget.created, 1))

    # ----------------------------------------------------------------- FHIR helpers
    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, resource: Any, **kw: Any) -> Response:
        return self.request("POST", path, json=resource, **kw)

    def put(self, path: str, resource: Any, **kw: Any) -> Response:
        return self.request("PUT", path, json=resource, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.request("DELETE", path, **kw)

    def search(
        self, resource_type: str, params: list[tuple[str, str]] | dict[str, str], **kw: Any
    ) -> Response:
        return self.get(resource_type, params=params, **kw)

    def pages(self, first: Response, limit: int = 200) -> Iterator[dict[str, Any]]:
        """Yield each Bundle page, following `next` links, refusing links off the target's origin.

        Bounded in pages, in bytes over all pages (`Limits.max_paged_bytes`) and in time
        (`Limits.paging_deadline`): a target that pages for ever cannot hold the run.
        """
        page = first.json
        seen: set[str] = set()
        total = len(first.content)
        ends = time.monotonic() + self.limits.paging_deadline
        for _ in range(limit):
            if not isinstance(page, dict) or page.get("resourceType") != "Bundle":
                raise AssertionError(f"expected a Bundle page, got {type(page).__name__}")
            yield page
            links = page.get("link")
            nxt = next(
                (
                    link.get("url")
                    for link in (links if isinstance(links, list) else [])
                    if isinstance(link, dict) and link.get("relation") == "next"
                ),
                None,
            )
            if not nxt:
                return
            if not isinstance(nxt, str):
                raise AssertionError(f"a next link that is not a URL: {type(nxt).__name__}")
            if nxt in seen:
                raise AssertionError(f"paging loops back to {redact_text(nxt)}")
            seen.add(nxt)
            if not self.same_origin(nxt):
                raise OffOriginError(f"paging link leaves the target's origin: {redact_text(nxt)}")
            if time.monotonic() > ends:
                raise BoundError(
                    Text(
                        "Phân trang vượt {s:g} giây sau {n} trang",
                        "paging exceeded {s:g} s after {n} pages",
                    ).format(s=self.limits.paging_deadline, n=len(seen))
                )
            resp = self.get(nxt)
            if resp.status != 200:
                raise AssertionError(f"next page {redact_text(nxt)} answered {resp.status}")
            total += len(resp.content)
            if total > self.limits.max_paged_bytes:
                raise BoundError(
                    Text(
                        "Các trang kết quả vượt tổng {n} MB",
                        "the result pages exceeded {n} MB in total",
                    ).format(n=mb_text(self.limits.max_paged_bytes))
                )
            page = resp.json
        raise AssertionError(f"more than {limit} pages")

    def search_all(
        self, resource_type: str, params: list[tuple[str, str]] | dict[str, str]
    ) -> list[dict[str, Any]]:
        """Every `match` resource of a search over all pages."""
        first = self.search(resource_type, params)
        if first.status != 200:
            raise AssertionError(
                f"search {resource_type}?{params} answered {first.status}: {first.text()[:300]}"
            )
        out: list[dict[str, Any]] = []
        for page in self.pages(first):
            for entry in page.get("entry", []) or []:
                if (entry.get("search") or {}).get("mode", "match") == "match" and "resource" in entry:
                    out.append(entry["resource"])
        return out
