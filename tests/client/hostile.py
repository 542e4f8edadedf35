"""A hostile HTTP server on 127.0.0.1: each connection is handed to a behaviour that misbehaves.

Every behaviour gives up by itself after ``lifetime`` seconds, so a test whose client failed to
bound itself still ends (and fails on its own elapsed-time assertion).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Behaviour = Callable[[socket.socket, float], None]


def read_request(conn: socket.socket) -> bytes:
    """Read until the end of the request headers (the tests send no request bodies)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def send_all(conn: socket.socket, data: bytes, stop: float) -> bool:
    """Send until done, the peer goes away or ``stop`` passes; True when everything went out."""
    view = memoryview(data)
    conn.settimeout(0.5)
    while view and time.monotonic() < stop:
        try:
            n = conn.send(view[: 1 << 16])
        except TimeoutError:
            continue
        except OSError:
            return False
        view = view[n:]
    return not view


@contextmanager
def hostile_server(behaviour: Behaviour, lifetime: float = 20.0) -> Iterator[str]:
    """Yield the base URL of a server that runs ``behaviour`` on every connection."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    done = threading.Event()
    stop = time.monotonic() + lifetime

    def handle(conn: socket.socket) -> None:
        with conn:
            try:
                read_request(conn)
                behaviour(conn, stop)
            except OSError:
                pass

    def serve() -> None:
        while not done.is_set() and time.monotonic() < stop:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/fhir"
    finally:
        done.set()
        thread.join(2)
        listener.close()


def head(status: int = 200, **headers: str | int) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def sleep_until(stop: float, seconds: float) -> None:
    time.sleep(max(0.0, min(seconds, stop - time.monotonic())))


def body(payload: bytes, **headers: str | int) -> Behaviour:
    def run(conn: socket.socket, stop: float) -> None:
        send_all(
            conn,
            head(200, content_type="application/fhir+json", content_length=len(payload), **headers) + payload,
            stop,
        )

    return run


def zeros(size: int) -> Behaviour:
    """A body of ``size`` bytes, produced as it is sent (the server holds 64 KiB at a time)."""

    def run(conn: socket.socket, stop: float) -> None:
        if not send_all(conn, head(200, content_type="application/fhir+json", content_length=size), stop):
            return
        block = b"0" * (1 << 16)
        sent = 0
        while sent < size and send_all(conn, block[: size - sent], stop):
            sent += len(block)

    return run


def drip(header_first: bool = True, interval: float = 1.0) -> Behaviour:
    """A byte every ``interval`` seconds: of the body (after whole headers) or of the headers."""

    def run(conn: socket.socket, stop: float) -> None:
        lead = head(200, content_type="application/fhir+json", content_length=100000)
        if header_first:
            send_all(conn, lead, stop)
            payload = b"{" + b" " * 99999
        else:
            payload = lead
        for i in range(len(payload)):
            if time.monotonic() >= stop or not send_all(conn, payload[i : i + 1], stop):
                return
            sleep_until(stop, interval)

    return run


def hang(after_headers: bool = False) -> Behaviour:
    def run(conn: socket.socket, stop: float) -> None:
        if after_headers:
            send_all(conn, head(200, content_type="application/fhir+json", content_length=1000), stop)
        while time.monotonic() < stop:
            sleep_until(stop, 0.2)

    return run


def reset(conn: socket.socket, stop: float) -> None:
    """Abort the connection: SO_LINGER 0 makes close() send RST."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def status(code: int) -> Behaviour:
    def run(conn: socket.socket, stop: float) -> None:
        send_all(conn, head(code, content_length=0, connection="close"), stop)

    return run
