"""The embedded reference server as a default target for `vhr run` and the project's own tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def start_embedded(faults: Iterable[str] = (), auth: str = "none", **kwargs: Any) -> Any:
    """Start a ReferenceServer on a free loopback port with an empty in-memory store; the caller stops it."""
    from vhr_conformance.server import ReferenceServer

    return ReferenceServer(port=0, db=":memory:", faults=list(faults), auth=auth, **kwargs).start()
