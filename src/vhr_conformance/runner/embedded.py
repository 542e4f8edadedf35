"""The embedded reference server as a default target for `vhr run` and the project's own tests."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any


def start_embedded(faults: Iterable[str] = (), auth: str = "none", **kwargs: Any) -> Any:
    """Start a ReferenceServer on a free loopback port; the caller stops it (`.stop()`)."""
    from vhr_conformance.server import ReferenceServer

    srv = ReferenceServer(port=0, db=":memory:", faults=list(faults), auth=auth, **kwargs).start()
    _nodelay(srv)
    return srv


def _nodelay(srv: Any) -> None:
    """Set TCP_NODELAY on the listening socket so accepted connections inherit it (Linux).

    The server binds a socket with protocol 0, so asyncio does not set TCP_NODELAY on accepted
    connections; with the client's delayed ACK every response then waits ~40 ms. This is a
    best-effort workaround from outside; the server can fix it by binding with IPPROTO_TCP.
    """
    try:
        for server in getattr(srv._server, "servers", []) or []:
            for sock in server.sockets:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, OSError):
        pass
