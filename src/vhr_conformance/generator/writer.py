"""Stream a cohort to disk: one transaction Bundle per patient and/or NDJSON per resource type.

Work is cut into fixed blocks of patient indices; blocks are generated (in worker processes when
``jobs > 1``) and written strictly in index order, so the files are byte-identical whatever the
job count. Only a bounded window of blocks is in flight, which keeps memory flat.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

import orjson

from vhr_conformance.generator.build import DEFAULT_OPTIONS, REFERENCE_NOW, Options, PatientBuilder
from vhr_conformance.generator.document import to_document
from vhr_conformance.generator.world import build_world

BLOCK = 100
FORMATS = ("bundle", "ndjson", "both")
_URN = re.compile(rb'"urn:uuid:([0-9a-f-]{36})"')
# Resources shared by many patients: written once to NDJSON.
_SHARED = frozenset(("Organization", "Practitioner"))


@dataclass(slots=True)
class BlockResult:
    """Serialised output of one block of patients."""

    start: int
    bundles: list[bytes] = field(default_factory=list)
    documents: list[bytes] = field(default_factory=list)
    ndjson: list[list[tuple[str, str, bytes]]] = field(
        default_factory=list
    )  # per patient: (type, uuid, line)
    resources: int = 0


def ndjson_lines(bundle: dict) -> list[tuple[str, str, bytes]]:
    """Resources of a transaction Bundle with ids and ``Type/id`` references, one JSON line each."""
    types: dict[bytes, bytes] = {}
    for e in bundle["entry"]:
        uid = e["fullUrl"][9:]
        types[uid.encode()] = e["resource"]["resourceType"].encode()
    out = []
    for e in bundle["entry"]:
        res = e["resource"]
        uid = e["fullUrl"][9:]
        raw = orjson.dumps({"resourceType": res["resourceType"], "id": uid, **res})
        raw = _URN.sub(
            lambda m: (
                b'"' + types[m.group(1)] + b"/" + m.group(1) + b'"' if m.group(1) in types else m.group(0)
            ),
            raw,
        )
        out.append((res["resourceType"], uid, raw))
    return out


def generate_block(
    seed: int,
    start: int,
    stop: int,
    fmt: str,
    documents: bool,
    now: datetime = REFERENCE_NOW,
    pretty: bool = False,
    options: Options = DEFAULT_OPTIONS,
) -> BlockResult:
    """Generate and serialise patients ``start`` … ``stop-1`` (runs in a worker process)."""
    world = build_world()
    result = BlockResult(start)
    opt = orjson.OPT_INDENT_2 if pretty else 0
    for index in range(start, stop):
        bundle = PatientBuilder(world, seed, index, now, None, options).build()
        result.resources += len(bundle["entry"])
        if fmt in ("bundle", "both"):
            result.bundles.append(orjson.dumps(bundle, option=opt))
            if documents:
                result.documents.append(orjson.dumps(to_document(bundle), option=opt))
        if fmt in ("ndjson", "both"):
            result.ndjson.append(ndjson_lines(bundle))
    return result


def _blocks(count: int, start: int) -> list[tuple[int, int]]:
    return [(i, min(i + BLOCK, start + count)) for i in range(start, start + count, BLOCK)]


def _results(
    seed: int,
    count: int,
    start: int,
    fmt: str,
    documents: bool,
    jobs: int,
    now: datetime,
    pretty: bool,
    options: Options = DEFAULT_OPTIONS,
) -> Iterator[BlockResult]:
    blocks = _blocks(count, start)
    if jobs <= 1:
        for a, b in blocks:
            yield generate_block(seed, a, b, fmt, documents, now, pretty, options)
        return
    window = jobs * 3
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        pending = []
        it = iter(blocks)
        for a, b in it:
            pending.append(pool.submit(generate_block, seed, a, b, fmt, documents, now, pretty, options))
            if len(pending) >= window:
                break
        while pending:
            fut = pending.pop(0)
            nxt = next(it, None)
            if nxt is not None:
                pending.append(
                    pool.submit(generate_block, seed, nxt[0], nxt[1], fmt, documents, now, pretty, options)
                )
            yield fut.result()


@dataclass(slots=True)
class WriteStats:
    patients: int = 0
    resources: int = 0
    files: int = 0


def write_cohort(
    out: Path,
    count: int,
    seed: int = 0,
    *,
    fmt: str = "bundle",
    jobs: int = 1,
    start: int = 0,
    documents: bool = False,
    now: datetime = REFERENCE_NOW,
    pretty: bool = False,
    progress: Callable[[int], None] | None = None,
    options: Options = DEFAULT_OPTIONS,
) -> WriteStats:
    """Write ``count`` patients under ``out``: ``bundles/``, ``documents/``, ``ndjson/<Type>.ndjson``."""
    out.mkdir(parents=True, exist_ok=True)
    stats = WriteStats()
    bdir = out / "bundles"
    ddir = out / "documents"
    if fmt in ("bundle", "both"):
        bdir.mkdir(exist_ok=True)
        if documents:
            ddir.mkdir(exist_ok=True)
    handles: dict[str, IO[bytes]] = {}
    seen_shared: set[str] = set()
    try:
        for block in _results(seed, count, start, fmt, documents, jobs, now, pretty, options):
            n = max(len(block.bundles), len(block.ndjson))
            for k in range(n):
                index = block.start + k
                if block.bundles:
                    (bdir / f"patient-{index:07d}.json").write_bytes(block.bundles[k])
                    stats.files += 1
                if block.documents:
                    (ddir / f"patient-{index:07d}.json").write_bytes(block.documents[k])
                    stats.files += 1
                if block.ndjson:
                    for rtype, uid, line in block.ndjson[k]:
                        if rtype in _SHARED:
                            if uid in seen_shared:
                                continue
                            seen_shared.add(uid)
                        fh = handles.get(rtype)
                        if fh is None:
                            (out / "ndjson").mkdir(exist_ok=True)
                            fh = handles[rtype] = open(out / "ndjson" / f"{rtype}.ndjson", "wb")  # noqa: SIM115
                            stats.files += 1
                        fh.write(line)
                        fh.write(b"\n")
            stats.patients += n
            stats.resources += block.resources
            if progress:
                progress(n)
    finally:
        for fh in handles.values():
            fh.close()
    return stats
