"""Time and memory bounds on every exchange with the target.

A hostile or broken target must not be able to keep the harness waiting or fill its memory: a
gzip answer of 1 MB can expand to gigabytes, a server can drip one byte a second (so no read ever
times out) or hang after the headers. Three mechanisms close this:

- the socket layer (:class:`BoundedBackend`) cuts every read and connect at the request's deadline
  and gives up when bytes arrive slower than a minimum rate, headers included;
- the body is read raw and decoded here, chunk by chunk, with zlib's ``max_length`` so that no
  single chunk can expand past the cap (httpx's own decoders expand a chunk whole);
- the caller keeps only the capped body and a short prefix for the evidence.
"""

from __future__ import annotations

import os
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore

from vhr_conformance.i18n import Text

MB = 1024 * 1024
MAX_BODY_ENV = "VHR_MAX_RESPONSE_MB"
DEFAULT_MAX_BODY_MB = 32.0
# Content codings the harness asks for and decodes itself, each bounded.
ACCEPT_ENCODING = "gzip, deflate"


def _env_mb(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class Limits:
    """Every bound one client applies (seconds, bytes, bytes per second)."""

    max_body_bytes: int = int(DEFAULT_MAX_BODY_MB * MB)  # on the wire, before decoding
    max_decoded_bytes: int = int(DEFAULT_MAX_BODY_MB * MB)  # after content decoding
    request_deadline: float = 60.0  # one attempt: connect, headers and the whole body
    retry_window: float = 90.0  # all attempts of one request, back-off included
    min_rate: float = 1024.0  # bytes per second, judged once a response has been arriving this long:
    rate_window: float = 10.0
    max_paged_bytes: int = 4 * int(DEFAULT_MAX_BODY_MB * MB)  # all pages of one search together
    paging_deadline: float = 300.0  # following `next` links of one search

    @classmethod
    def from_env(cls, **overrides: Any) -> Limits:
        """The defaults, with `VHR_MAX_RESPONSE_MB` as the size cap (four times that over all the pages
        of a search) unless given here."""
        mb = _env_mb(MAX_BODY_ENV, DEFAULT_MAX_BODY_MB)
        base: dict[str, Any] = {
            "max_body_bytes": int(mb * MB),
            "max_decoded_bytes": int(mb * MB),
            "max_paged_bytes": 4 * int(mb * MB),
        }
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base)


_run_deadline: float | None = None


def set_run_deadline(seconds: float | None) -> None:
    """Give every client of this process (FHIR and token requests) a deadline ``seconds`` from now.

    The hook for a run deadline: set it once when the run starts, and every `FhirClient`, whenever
    it was created, cuts its requests in flight at that instant and sends none after it (`None`
    lifts it, e.g. to give the clean-up its own time with `FhirClient.set_deadline`).
    """
    global _run_deadline
    _run_deadline = None if seconds is None else time.monotonic() + max(0.0, seconds)


def run_deadline() -> float | None:
    """The process-wide run deadline (time.monotonic()), if one is set."""
    return _run_deadline


def mb_text(n: int) -> str:
    return f"{n / MB:g}"


class BoundExceeded(Exception):
    """A bound was hit; carries the bilingual finding."""

    def __init__(self, text: Text) -> None:
        self.text = text
        # (status, headers, evidence prefix) when the response had begun: the evidence shows it
        self.partial: tuple[int, Any, str] | None = None
        super().__init__(text.both())


def body_too_large(limit: int, decoded: bool) -> Text:
    if decoded:
        return Text(
            "Phần thân sau khi giải nén vượt quá {n} MB; đã dừng đọc",
            "the body exceeded {n} MB once decompressed; reading stopped",
        ).format(n=mb_text(limit))
    return Text("Phần thân vượt quá {n} MB; đã dừng đọc", "the body exceeded {n} MB; reading stopped").format(
        n=mb_text(limit)
    )


# ----------------------------------------------------------------------------- the socket layer
class Budget:
    """The clock and byte count of the attempt in flight on this thread."""

    def __init__(self, deadline: float, min_rate: float, rate_window: float) -> None:
        self.created = time.monotonic()
        self.deadline = deadline  # time.monotonic()
        self.min_rate = min_rate
        self.rate_window = rate_window
        self.first_byte: float | None = None
        self.received = 0
        self.reason: Text | None = None

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def clamp(self, timeout: float | None) -> float:
        """The socket timeout to use now: never past the deadline."""
        left = self.remaining()
        if left <= 0:
            self.reason = Text(
                "Hết thời hạn của yêu cầu", "the request ran past its deadline"
            )  # the caller words the finding with the figures
            raise httpcore.ReadTimeout("deadline")
        return left if timeout is None else min(timeout, left)

    def count(self, n: int) -> None:
        now = time.monotonic()
        if self.first_byte is None:
            self.first_byte = now
        self.received += n
        span = now - self.first_byte
        if self.min_rate > 0 and span >= self.rate_window and self.received / span < self.min_rate:
            self.reason = Text(
                "Dữ liệu đến quá chậm ({r:.0f} byte/giây, tối thiểu {m:.0f})",
                "data arrived too slowly ({r:.0f} bytes/s, minimum {m:.0f})",
            ).format(r=self.received / span, m=self.min_rate)
            raise httpcore.ReadTimeout("slow transfer")


_current = threading.local()


def current_budget() -> Budget | None:
    return getattr(_current, "budget", None)


class budget_scope:
    """Make ``budget`` the one the sockets of this thread obey until the block ends."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget

    def __enter__(self) -> Budget:
        self._saved = current_budget()
        _current.budget = self.budget
        return self.budget

    def __exit__(self, *exc: object) -> None:
        _current.budget = self._saved


class _BoundedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        budget = current_budget()
        if budget is None:
            return self._inner.read(max_bytes, timeout)
        data = self._inner.read(max_bytes, budget.clamp(timeout))
        budget.count(len(data))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        budget = current_budget()
        self._inner.write(buffer, budget.clamp(timeout) if budget else timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        budget = current_budget()
        inner = self._inner.start_tls(
            ssl_context, server_hostname, budget.clamp(timeout) if budget else timeout
        )
        return _BoundedStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class BoundedBackend(httpcore.NetworkBackend):
    """httpcore's sync backend with every connect and read cut at the thread's budget."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        budget = current_budget()
        stream = self._inner.connect_tcp(
            host, port, budget.clamp(timeout) if budget else timeout, local_address, socket_options
        )
        return _BoundedStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _BoundedStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install_backend(transport: Any) -> bool:
    """Put :class:`BoundedBackend` under an ``httpx.HTTPTransport``; False if its layout is unknown.

    httpx does not take a network backend as an argument, so the pool's attribute is replaced; a
    test pins this against the installed httpx.
    """
    pool = getattr(transport, "_pool", None)
    if pool is None or not hasattr(pool, "_network_backend"):
        return False
    if not isinstance(pool._network_backend, BoundedBackend):
        pool._network_backend = BoundedBackend(pool._network_backend)
    return True


# ----------------------------------------------------------------------------- the body
class _Layer:
    """One content coding, decoded with bounded output per call."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._raw_deflate = False
        self._d = self._new()

    def _new(self) -> Any:
        if self.coding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self.coding == "deflate":  # RFC 9110 says zlib-wrapped; some servers send raw deflate
            return zlib.decompressobj(-zlib.MAX_WBITS if self._raw_deflate else zlib.MAX_WBITS)
        raise ValueError(self.coding)

    def feed(self, data: bytes, budget: int) -> bytes:
        """Decode ``data``; at most ``budget + 1`` bytes come out, so overflow is seen, never stored."""
        out = bytearray()
        while data and len(out) <= budget:
            try:
                piece = self._d.decompress(data, budget + 1 - len(out))
            except zlib.error:
                if self.coding == "deflate" and not self._raw_deflate and not out:
                    self._raw_deflate = True
                    self._d = self._new()
                    continue
                raise
            out += piece
            if self._d.unconsumed_tail:
                data = self._d.unconsumed_tail
                continue
            if self._d.eof and self._d.unused_data:  # a second gzip member follows
                data = self._d.unused_data
                self._d = self._new()
                continue
            break
        return bytes(out)


class BodyReader:
    """Accumulates a response body under the wire and decoded caps."""

    def __init__(self, content_encoding: str, limits: Limits) -> None:
        self.limits = limits
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        self.undecodable = any(c not in ("gzip", "x-gzip", "deflate") for c in codings)
        # Codings apply in the order listed, so they are removed in reverse.
        self.layers = [] if self.undecodable else [_Layer(c) for c in reversed(codings)]
        self.wire = 0
        self.body = bytearray()

    def feed(self, chunk: bytes) -> None:
        self.wire += len(chunk)
        if self.wire > self.limits.max_body_bytes:
            raise BoundExceeded(body_too_large(self.limits.max_body_bytes, decoded=False))
        cap = self.limits.max_decoded_bytes
        data = chunk
        try:
            for layer in self.layers:
                data = layer.feed(data, cap - len(self.body) if layer is self.layers[-1] else cap)
                if len(data) > cap:
                    raise BoundExceeded(body_too_large(cap, decoded=True))
        except zlib.error as exc:
            raise BoundExceeded(
                Text("Không giải nén được phần thân: {e}", "the body could not be decompressed: {e}").format(
                    e=exc
                )
            ) from None
        if len(self.body) + len(data) > cap:
            raise BoundExceeded(body_too_large(cap, decoded=bool(self.layers)))
        self.body += data
