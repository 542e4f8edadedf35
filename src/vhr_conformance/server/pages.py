"""Paged answers: the `_count`/`_offset` parameters, the paging links, and the searchset Bundle
assembled from stored JSON bytes (shared by search, history and $everything)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import orjson

from vhr_conformance.server import errors as E
from vhr_conformance.server.context import Context
from vhr_conformance.server.errors import FhirError
from vhr_conformance.server.search import DEFAULT_COUNT, MAX_COUNT, MAX_INTEGER
from vhr_conformance.server.store import Stored, new_id

_BUNDLE_PREFIX = new_id()[:12]  # bundle ids: unique per process without a urandom call each
_BUNDLE_SEQ = itertools.count(1)


def int_param(value: str | None, name: str) -> int:
    if value is None or value == "":
        return 0
    if not (value.isascii() and value.isdigit()):
        raise FhirError(400, "invalid", E.BAD_PARAM.format(p=name))
    if len(value) > 10 or int(value) > MAX_INTEGER:  # 10^21 would overflow SQLite's integers
        raise FhirError(400, "too-costly", E.TOO_BIG_NUMBER.format(p=name, n=MAX_INTEGER))
    return int(value)


def page_count(ctx: Context, value: str | None) -> int:
    if ctx.faults.ignore_count:
        return MAX_COUNT
    if value is None or value == "":
        return DEFAULT_COUNT
    return min(int_param(value, "_count"), MAX_COUNT)


def page_links(
    ctx: Context, path: str, used: list[tuple[str, str]], count: int, offset: int, total: int | None
) -> list[dict[str, str]]:
    base = f"{ctx.link_base()}/{path}"
    prefix = f"{base}?{urlencode(used)}&" if used else f"{base}?"

    def url(off: int) -> str:
        return f"{prefix}_count={count}&_offset={off}" if off else f"{prefix}_count={count}"

    links = [{"relation": "self", "url": url(offset)}, {"relation": "first", "url": url(0)}]
    if offset > 0:
        links.append({"relation": "previous", "url": url(max(0, offset - count))})
    if total is not None and count > 0 and offset + count < total:
        nxt = url(offset + count)
        if ctx.faults.broken_paging_links:
            nxt = f"{base}?{urlencode([('_getpages', new_id()), ('_count', str(count))])}"
        links.append({"relation": "next", "url": nxt})
    if total is not None and count > 0 and total > 0:
        links.append({"relation": "last", "url": url(((total - 1) // count) * count)})
    return links


def searchset_bytes(
    ctx: Context,
    btype: str,
    total: int | None,
    links: list[dict[str, str]],
    rows: list[Stored],
    included: list[Stored],
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None,
) -> bytes:
    """Assemble the Bundle from stored JSON bytes without re-parsing them (the hot path)."""
    head: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": f"{_BUNDLE_PREFIX}-{next(_BUNDLE_SEQ)}",
        "type": btype,
    }
    if total is not None:
        head["total"] = total
    head["link"] = links
    parts = []
    for mode, group in (("match", rows), ("include", included)):
        tail = b',"search":{"mode":"' + mode.encode() + b'"}}'
        for s in group:
            body = s.body or b"{}"
            if transform is not None:
                body = orjson.dumps(transform(orjson.loads(body)))
            parts.append(
                b'{"fullUrl":"' + f"{ctx.base_url}/{s.type}/{s.id}".encode() + b'","resource":' + body + tail
            )
    out = orjson.dumps(head)
    if not parts:
        return out
    return out[:-1] + b',"entry":[' + b",".join(parts) + b"]}"
