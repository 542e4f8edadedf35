"""The client under hostile targets: every exchange ends within its bounds of time and memory.

Each test talks to a local server (127.0.0.1) that misbehaves one way, and checks the client
gives up with the named bound, in bounded time, without holding the hostile body in memory.
"""

from __future__ import annotations

import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from vhr_conformance.client import FhirClient, InfrastructureError
from vhr_conformance.client.bounds import MB, BodyReader, BoundedBackend, Limits, install_backend
from vhr_conformance.client.fhir import BoundError, DeadlineExceeded

from . import hostile


def gzip_of_zeros(size: int, layers: int = 1) -> bytes:
    """``size`` zero bytes gzipped ``layers`` times, built a block at a time."""
    data = b""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = [comp.compress(block) for _ in range(size // len(block))]
    data = b"".join(parts) + comp.flush()
    for _ in range(layers - 1):
        data = zlib.compress(data, 9, wbits=16 + zlib.MAX_WBITS)
    return data


@contextmanager
def peak_memory() -> Iterator[Callable[[], int]]:
    """The peak bytes Python allocated inside the block."""
    tracemalloc.start()
    try:
        yield lambda: tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(base: str, limits: Limits, **kw: Any) -> tuple[Exception, float, FhirClient]:
    client = FhirClient(
        base, limits=limits, retries=kw.pop("retries", 0), timeout=kw.pop("timeout", 15.0), **kw
    )
    start = time.monotonic()
    with pytest.raises(InfrastructureError) as info:
        client.get("Patient")
    return info.value, time.monotonic() - start, client


def test_the_bounded_backend_is_installed_under_httpx() -> None:
    """The backend is put in through httpx's pool attribute: pin it against the installed httpx."""
    transport = httpx.HTTPTransport()
    assert install_backend(transport)
    assert isinstance(transport._pool._network_backend, BoundedBackend)


def test_gzip_bomb_stops_at_the_decompressed_cap() -> None:
    bomb = gzip_of_zeros(512 * MB)
    assert len(bomb) < 1 * MB
    with hostile.hostile_server(hostile.body(bomb, content_encoding="gzip")) as base, peak_memory() as peak:
        exc, elapsed, client = run(base, Limits(max_decoded_bytes=8 * MB))
        assert peak() < 40 * MB
    assert isinstance(exc, BoundError)
    assert "the body exceeded 8 MB once decompressed" in str(exc) and "vượt quá 8 MB" in str(exc)
    assert elapsed < 10
    ex = client.evidence.current[-1]
    assert ex.status == 200 and "exceeded 8 MB" in (ex.error or "") and len(ex.response_body) < 5000


def test_nested_gzip_bomb_is_bounded_at_every_layer() -> None:
    """`Content-Encoding: gzip, gzip`: the outer layer's output is itself a bomb."""
    bomb = gzip_of_zeros(256 * MB, layers=2)
    server = hostile.hostile_server(hostile.body(bomb, content_encoding="gzip, gzip"))
    with server as base, peak_memory() as peak:
        exc, elapsed, _ = run(base, Limits(max_decoded_bytes=4 * MB))
        assert peak() < 30 * MB
    assert "exceeded 4 MB once decompressed" in str(exc) and elapsed < 10


def test_sixty_megabyte_body_stops_at_the_default_cap() -> None:
    with hostile.hostile_server(hostile.zeros(60 * MB)) as base, peak_memory() as peak:
        exc, elapsed, _ = run(base, Limits())
        assert peak() < 32 * MB * 2
    assert isinstance(exc, BoundError) and "the body exceeded 32 MB" in str(exc)
    assert elapsed < 20


def test_cap_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VHR_MAX_RESPONSE_MB", "2")
    with hostile.hostile_server(hostile.zeros(3 * MB)) as base:
        exc, _, _ = run(base, Limits.from_env())
    assert "the body exceeded 2 MB" in str(exc)


def test_a_body_under_the_caps_is_whole_and_decoded() -> None:
    payload = b'{"resourceType":"Patient","id":"p1","text":"' + b"x" * 300000 + b'"}'
    gz = zlib.compress(payload, 6, wbits=16 + zlib.MAX_WBITS)
    with hostile.hostile_server(hostile.body(gz, content_encoding="gzip")) as base:
        client = FhirClient(base, limits=Limits(max_decoded_bytes=1 * MB))
        resp = client.get("Patient/p1")
    assert resp.status == 200 and resp.content == payload and resp.resource_type == "Patient"
    assert len(client.evidence.current[-1].response_body) < 5000


@pytest.mark.parametrize("header_first", [True, False], ids=["body-drip", "header-drip"])
def test_a_byte_a_second_is_given_up_on(header_first: bool) -> None:
    with hostile.hostile_server(hostile.drip(header_first, interval=0.5)) as base:
        exc, elapsed, _ = run(base, Limits(min_rate=100, rate_window=2.0), timeout=15.0)
    assert isinstance(exc, BoundError) and "data arrived too slowly" in str(exc)
    assert elapsed < 5


def test_drip_within_the_rate_still_ends_at_the_request_deadline() -> None:
    with hostile.hostile_server(hostile.drip(True, interval=0.05)) as base:
        exc, elapsed, _ = run(base, Limits(min_rate=1, rate_window=1.0, request_deadline=2.0))
    assert "exceeded its 2 s deadline" in str(exc) and elapsed < 4


@pytest.mark.parametrize("after_headers", [False, True], ids=["no-answer", "hang-after-headers"])
def test_a_hanging_target_ends_at_the_request_deadline(after_headers: bool) -> None:
    with hostile.hostile_server(hostile.hang(after_headers)) as base:
        exc, elapsed, _ = run(base, Limits(request_deadline=1.5), timeout=30.0, retries=2)
    assert isinstance(exc, BoundError) and "deadline" in str(exc)
    assert 1.0 < elapsed < 3.5  # no retry after a deadline


def test_connection_reset_is_retried_then_reported() -> None:
    with hostile.hostile_server(hostile.reset) as base:
        exc, elapsed, client = run(base, Limits(), retries=2)
    assert not isinstance(exc, BoundError) and elapsed < 5
    assert client.evidence.infrastructure_retries == 2


def test_retries_stop_at_the_retry_window() -> None:
    with hostile.hostile_server(hostile.status(503)) as base:
        client = FhirClient(base, limits=Limits(retry_window=0.5), retries=50)
        start = time.monotonic()
        resp = client.get("metadata")
    assert resp.status == 503 and time.monotonic() - start < 2
    assert 1 <= client.evidence.infrastructure_retries < 5


def test_client_wide_deadline_cuts_the_request_in_flight_then_refuses_to_send() -> None:
    with hostile.hostile_server(hostile.hang()) as base:
        client = FhirClient(base, limits=Limits(request_deadline=30), timeout=30, retries=0)
        client.set_deadline(1.0)
        start = time.monotonic()
        with pytest.raises(BoundError) as first:
            client.get("Patient")
        assert time.monotonic() - start < 3 and "the run's deadline has passed" in str(first.value)
        sent = len(client.evidence.current)
        with pytest.raises(DeadlineExceeded) as second:
            client.get("Patient")
        assert "was not sent" in str(second.value) and len(client.evidence.current) == sent
        client.set_deadline(None)
        assert client.deadline is None


def test_body_reader_decodes_raw_deflate_and_refuses_garbage() -> None:
    payload = b"hello " * 100
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    reader = BodyReader("deflate", Limits())
    reader.feed(raw.compress(payload) + raw.flush())
    assert bytes(reader.body) == payload
    bad = BodyReader("gzip", Limits())
    with pytest.raises(Exception, match="could not be decompressed"):
        bad.feed(b"not gzip at all")


def _endless_pages(links: Any = None) -> httpx.MockTransport:
    """Every page links to a new next page, for ever (or carries the given `link` value)."""

    def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("page", "0"))
        link = links if links is not None else [{"relation": "next", "url": f"{BASE}/Patient?page={n + 1}"}]
        return httpx.Response(200, json={"resourceType": "Bundle", "link": link, "entry": [{"x": "y" * 900}]})

    return httpx.MockTransport(handler)


BASE = "https://fhir.example.test/fhir"


def test_endless_paging_stops_at_the_total_size() -> None:
    client = FhirClient(BASE, transport=_endless_pages(), limits=Limits(max_paged_bytes=20_000))
    with pytest.raises(BoundError, match="the result pages exceeded"):
        list(client.pages(client.get("Patient")))
    assert 15 < len(client.evidence.current) < 25


def test_endless_paging_stops_at_the_paging_deadline() -> None:
    client = FhirClient(BASE, transport=_endless_pages(), limits=Limits(paging_deadline=0.0))
    with pytest.raises(BoundError, match="paging exceeded 0 s after 1 pages"):
        list(client.pages(client.get("Patient")))


@pytest.mark.parametrize("links", ["next", [1, "x"], [{"relation": "next", "url": 7}]])
def test_malformed_links_are_findings_not_crashes(links: Any) -> None:
    client = FhirClient(BASE, transport=_endless_pages(links))
    try:
        pages = list(client.pages(client.get("Patient")))
    except AssertionError as exc:
        assert "not a URL" in str(exc)
    else:
        assert len(pages) == 1


def test_the_process_wide_run_deadline_reaches_every_client() -> None:
    from vhr_conformance.client import set_run_deadline

    with hostile.hostile_server(hostile.hang()) as base:
        made_before = FhirClient(base, limits=Limits(request_deadline=30), timeout=30, retries=0)
        try:
            set_run_deadline(1.0)
            made_after = FhirClient(base, limits=Limits(request_deadline=30), timeout=30, retries=0)
            start = time.monotonic()
            with pytest.raises(BoundError, match="the run's deadline has passed"):
                made_before.get("Patient")
            assert time.monotonic() - start < 3
            with pytest.raises(DeadlineExceeded):
                made_after.get("Patient")
        finally:
            set_run_deadline(None)
        assert made_after.effective_deadline() is None
