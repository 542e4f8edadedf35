"""The audit pipeline: NDJSON → per-resource facts (worker processes) → DuckDB → audit.json.

Memory stays bounded whatever the size of the store: lines are read in chunks, at most a few chunks
are in flight, each worker writes its facts to a file, and DuckDB aggregates those files on disk.
"""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import os
import resource
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from vhr_conformance.audit.facts import PresencePlan, person, references
from vhr_conformance.i18n import Text, UserError

CHUNK_LINES = 2000
DUCKDB_MEMORY = "512MB"  # DuckDB spills to its temp directory beyond this: the aggregation stays bounded
LATE_AFTER_HOURS = 24
FRESHNESS_BUCKETS = ((1, "≤ 1 d"), (7, "≤ 7 d"), (30, "≤ 30 d"), (365, "≤ 1 y"))
BHI_CHECKS = {  # Decision 3074's basic health information, by the resources that carry it
    "allergies": "AllergyIntolerance",
    "conditions": "Condition",
    "immunizations": "Immunization",
    "familyHistory": "FamilyMemberHistory",
}
BLOOD_GROUP_LOINC = ("882-1", "883-9", "10331-7")


@dataclass
class AuditOptions:
    sources: list[Path]
    out_dir: Path
    workers: int = max(1, (os.cpu_count() or 1))
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    sample_examples: int = 5
    scheduler: str | None = None  # address of a running Dask scheduler (tcp://host:8786)
    dask_local: int = 0  # > 0: a Dask LocalCluster of that many worker processes on 127.0.0.1
    dask_timeout_s: float = 3600.0  # the whole facts stage on Dask, from connecting to the last chunk
    dask_connect_s: float = 30.0  # reaching the scheduler (a cluster may be slow to answer)
    duckdb_memory: str = DUCKDB_MEMORY
    # how the data was read: ndjson, bulk-export, or paged-search with its sample size per type (a
    # sample cannot show that something is absent, so the QUAL verdicts need to know)
    source: dict[str, Any] = field(default_factory=lambda: {"mode": "ndjson"})


def ndjson_files(sources: list[Path]) -> list[Path]:
    files: list[Path] = []
    for src in sources:
        if src.is_file():
            files.append(src)
        elif src.is_dir():
            files += sorted(
                p for p in src.rglob("*") if p.is_file() and p.name.endswith((".ndjson", ".ndjson.gz"))
            )
        else:
            raise UserError(Text("Không tìm thấy {p}", "Not found: {p}").format(p=src), location=str(src))
    if not files:
        raise UserError(
            Text("Không có tệp .ndjson nào.", "No .ndjson file found."), location=", ".join(map(str, sources))
        )
    return files


Chunk = tuple[str, int, bytes]  # (file, number of its first line, up to CHUNK_LINES whole lines)


def chunks(files: list[Path], size: int = CHUNK_LINES) -> Iterator[Chunk]:
    """The files cut into chunks of `size` lines, each one bytes object: the driver neither splits nor
    pickles lines one by one (a chunk crosses to a worker as one buffer); the worker splits it."""
    for path in files:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as fh:
            first = 1
            while lines := list(itertools.islice(fh, size)):
                yield str(path), first, b"".join(lines)
                first += len(lines)


def chunk_lines(chunk: Chunk) -> Iterator[tuple[str, int, bytes]]:
    """(file, line number, line) of the non-blank lines of a chunk, numbered as in the file."""
    file, first, blob = chunk
    for number, line in enumerate(blob.split(b"\n"), first):
        if line.strip():
            yield file, number, line


# ------------------------------------------------------------------ worker side
_STATE: dict[str, Any] = {}
_INIT_LOCK = threading.Lock()


def _init_worker() -> None:
    from vhr_conformance.igmodel import load_ig
    from vhr_conformance.validator import Validator

    ig = load_ig(None)
    _STATE["validator"] = Validator.default()
    _STATE["ig"] = ig
    _STATE["default_profile"] = {t: r.profiles[0] for t, r in ig.resources.items() if r.profiles}


MsCounts = dict[str, list[Any]]  # profile → [resources, [count of resources with a value, per path]]


def _plan(profile: str) -> PresencePlan | None:
    """The compiled must-support paths of a profile (None when it has none), once per worker."""
    plans: dict[str, PresencePlan | None] = _STATE.setdefault("plans", {})
    if profile not in plans:
        paths = _STATE["ig"].must_support_paths(profile)
        plans[profile] = PresencePlan(paths) if paths else None
    return plans[profile]


def _facts(file: str, line: int, raw: bytes, ms: MsCounts) -> dict[str, Any]:
    """One record's facts; its must-support presence is added to the chunk's counts `ms` (summed per
    profile in the worker: per-record presence lists were 40 % of the facts' bytes)."""
    try:
        resource = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return {"kind": "unparsable", "file": file, "line": line, "rules": ["json"], "error": str(exc)[:200]}
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return {"kind": "unparsable", "file": file, "line": line, "rules": ["resourceType-missing"]}
    rtype = str(resource["resourceType"])
    rid = str(resource.get("id") or "")
    issues = _STATE["validator"].validate(resource)
    errors = sorted({i.rule for i in issues if i.severity in ("error", "fatal")})
    meta = resource.get("meta") or {}
    profiles = meta.get("profile") or [] if isinstance(meta, dict) else []
    profile = str(profiles[0]) if profiles else _STATE["default_profile"].get(rtype)
    plan = _plan(str(profile)) if profile else None
    if plan is not None:
        counts = ms.setdefault(str(profile), [0, [0] * len(plan.targets)])
        counts[0] += 1
        filled = counts[1]
        for i, has in enumerate(plan.evaluate(resource)):
            if has:
                filled[i] += 1
    fact: dict[str, Any] = {
        "kind": "resource",
        "file": file,
        "line": line,
        "type": rtype,
        "id": rid,
        "key": f"{rtype}/{rid}",
        "profile": profile,
        "valid": not errors,
        "rules": errors,
        "lastUpdated": meta.get("lastUpdated") if isinstance(meta, dict) else None,
        "refs": references(resource),
    }
    if rtype == "Patient":
        fact["person"] = person(resource)
    if rtype == "Encounter":
        fact["periodEnd"] = (resource.get("period") or {}).get("end")
    if rtype == "Observation":
        codes = [c.get("code") for c in (resource.get("code") or {}).get("coding", []) or []]
        fact["bloodGroup"] = any(c in BLOOD_GROUP_LOINC for c in codes)
    return fact


def facts_bytes(chunk: Chunk) -> tuple[int, bytes]:
    """The facts of one chunk as NDJSON bytes, and its number of records: the unit of work of every
    mode (processes or Dask). The chunk's must-support counts close it, one line per profile."""
    if "validator" not in _STATE:
        with _INIT_LOCK:  # a Dask worker may run several tasks on threads: compile the validator once
            if "validator" not in _STATE:
                _init_worker()
    ms: MsCounts = {}
    dumps = orjson.dumps
    out = [dumps(_facts(file, line, raw, ms)) for file, line, raw in chunk_lines(chunk)]
    records = len(out)
    ig = _STATE["ig"]
    for profile, (n, filled) in ms.items():
        fact = {"kind": "ms", "profile": profile, "msN": n, "msPaths": ig.must_support_paths(profile)}
        out.append(dumps(fact | {"msCounts": filled}))
    out.append(b"")
    return records, b"\n".join(out)


def process_chunk(chunk: Chunk, out: str) -> int:
    """Facts of one chunk into `out` (NDJSON); returns the number of records."""
    records, data = facts_bytes(chunk)
    with open(out, "wb") as fh:
        fh.write(data)
    return records


# ------------------------------------------------------------------ driver
def collect_facts(options: AuditOptions, work: Path) -> int:
    files = ndjson_files(options.sources)
    if options.scheduler or options.dask_local > 0:
        from vhr_conformance.audit.distributed import collect_facts_dask

        return collect_facts_dask(options, work, chunks(files), facts_bytes)
    total = 0
    pending: set[Future[int]] = set()
    workers = max(1, options.workers)
    if workers == 1:
        for n, batch in enumerate(chunks(files)):
            total += process_chunk(batch, str(work / f"facts-{n:06d}.ndjson"))
        return total
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) as pool:
        for n, batch in enumerate(chunks(files)):
            pending.add(pool.submit(process_chunk, batch, str(work / f"facts-{n:06d}.ndjson")))
            if len(pending) >= 2 * workers:  # bounded memory: never more than a few chunks in flight
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                total += sum(f.result() for f in done)
        total += sum(f.result() for f in pending)
    return total


FACT_COLUMNS = {
    "kind": "VARCHAR",
    "file": "VARCHAR",
    "line": "BIGINT",
    "type": "VARCHAR",
    "id": "VARCHAR",
    "key": "VARCHAR",
    "profile": "VARCHAR",
    "valid": "BOOLEAN",
    "rules": "VARCHAR[]",
    "lastUpdated": "VARCHAR",
    "refs": "VARCHAR[][]",
    "msN": "BIGINT",
    "msPaths": "VARCHAR[]",
    "msCounts": "BIGINT[]",
    "person": "STRUCT(cccd VARCHAR, bhyt VARCHAR, name VARCHAR, birth VARCHAR, gender VARCHAR, province VARCHAR)",
    "periodEnd": "VARCHAR",
    "bloodGroup": "BOOLEAN",
}


def aggregate(work: Path, options: AuditOptions) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(str(work / "audit.duckdb"))
    con.execute("SET preserve_insertion_order = false")
    # bounded: beyond the limit DuckDB spills to disk next to the database instead of growing
    con.execute("SET memory_limit = ?", [options.duckdb_memory])
    con.execute("SET temp_directory = ?", [str(work / "duckdb-tmp")])
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in FACT_COLUMNS.items()) + "}"
    pattern = str(work / "facts-*.ndjson").replace("'", "''")
    con.execute(
        f"CREATE TABLE facts AS SELECT * FROM read_json('{pattern}', format='newline_delimited', columns={columns})"
    )
    con.execute("CREATE TABLE res AS SELECT * FROM facts WHERE kind = 'resource'")

    def rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return con.execute(sql, params or []).fetchall()

    total = rows("SELECT count(*) FROM facts WHERE kind IN ('resource', 'unparsable')")[0][0]
    by_type = {
        t: {"resources": n, "invalid": bad}
        for t, n, bad in rows(
            "SELECT type, count(*), count(*) FILTER (NOT valid) FROM res GROUP BY 1 ORDER BY 1"
        )
    }
    unparsable = rows("SELECT count(*) FROM facts WHERE kind = 'unparsable'")[0][0]
    invalid = rows("SELECT count(*) FROM res WHERE NOT valid")[0][0] + unparsable
    by_profile = {
        p: {"resources": n, "invalid": bad}
        for p, n, bad in rows(
            "SELECT profile, count(*), count(*) FILTER (NOT valid) FROM res WHERE profile IS NOT NULL GROUP BY 1 ORDER BY 1"
        )
    }
    top_rules = [
        {"rule": r, "resources": n}
        for r, n in rows(
            "SELECT rule, count(*) n FROM (SELECT unnest(rules) AS rule FROM facts) GROUP BY 1 ORDER BY n DESC, rule LIMIT 20"
        )
    ]
    examples = [
        {"file": f, "line": ln, "resource": k, "rules": list(r or [])}
        for f, ln, k, r in rows(
            "SELECT file, line, key, rules FROM facts WHERE kind = 'unparsable' OR NOT valid ORDER BY file, line LIMIT ?",
            [options.sample_examples],
        )
    ]
    # complete: must-support fill per profile and element
    fill: dict[str, dict[str, float]] = {}
    for profile, path, share in rows(
        """SELECT profile, path, sum(filled) / sum(n)
           FROM (SELECT profile, msN AS n, unnest(msPaths) AS path, unnest(msCounts) AS filled
                 FROM facts WHERE kind = 'ms') GROUP BY 1, 2 ORDER BY 1, 2"""
    ):
        fill.setdefault(profile, {})[path] = round(float(share), 4)
    # the patients' basic health information (Decision 3074) present per person
    con.execute(
        """CREATE TABLE subj AS SELECT DISTINCT type, regexp_replace(r[2], '^.*Patient/', 'Patient/') AS patient
           FROM (SELECT type, unnest(refs) AS r FROM res)
           WHERE (r[1] IN ('patient', 'subject')) AND r[2] LIKE '%Patient/%'"""
    )
    patients = rows("SELECT count(*) FROM res WHERE type = 'Patient'")[0][0]
    bhi: dict[str, float | None] = {}
    for label, rtype in BHI_CHECKS.items():
        n = rows(
            "SELECT count(*) FROM res p WHERE p.type = 'Patient' AND EXISTS "
            "(SELECT 1 FROM subj s WHERE s.patient = p.key AND s.type = ?)",
            [rtype],
        )[0][0]
        bhi[label] = round(n / patients, 4) if patients else None
    blood = rows(
        "SELECT count(DISTINCT regexp_replace(r[2], '^.*Patient/', 'Patient/')) "
        "FROM (SELECT unnest(refs) AS r FROM res WHERE bloodGroup) WHERE r[1] = 'subject'"
    )[0][0]
    bhi["bloodGroup"] = round(blood / patients, 4) if patients else None
    # clean: duplicates and orphan references
    same_cccd = [
        {"cccd": mask_number(c), "patients": sorted(ids)}
        for c, ids in rows(
            "SELECT person.cccd, list(DISTINCT key) FROM res WHERE type = 'Patient' AND person.cccd IS NOT NULL "
            "GROUP BY 1 HAVING count(DISTINCT key) > 1 ORDER BY 1"
        )
    ]
    from vhr_conformance.audit.linkage import THRESHOLD, probable_pairs

    pairs = [(a, b) for a, b, _p in probable_pairs(con)]
    probable = _groups(
        [(a, b) for a, b in pairs] + [(g["patients"][0], p) for g in same_cccd for p in g["patients"]]
    )
    province_of = dict(rows("SELECT key, person.province FROM res WHERE type = 'Patient'"))
    by_province: dict[str, int] = {}
    for group in probable:
        prov = province_of.get(group[0]) or "?"
        by_province[prov] = by_province.get(prov, 0) + 1
    orphans = rows(
        """WITH r AS (SELECT key AS source, unnest(refs) AS ref FROM res)
           SELECT source, ref[1], ref[2] FROM r
           WHERE regexp_matches(ref[2], '^[A-Z][A-Za-z]+/[A-Za-z0-9\\-.]{1,64}$')
             AND ref[2] NOT IN (SELECT key FROM res) ORDER BY 1, 2"""
    )
    # live: freshness and late encounters
    now = options.now
    instants = [
        _parse_instant(v) for (v,) in rows("SELECT lastUpdated FROM res WHERE lastUpdated IS NOT NULL")
    ]
    ages = [(now - t).total_seconds() / 86400 for t in instants if t is not None]
    unreadable = len(instants) - len(ages)  # a lastUpdated that is no instant: unknown too
    freshness = {label: 0 for _, label in FRESHNESS_BUCKETS} | {"> 1 y": 0, "unknown": 0}
    for age in ages:
        label = next((lab for days, lab in FRESHNESS_BUCKETS if age <= days), "> 1 y")
        freshness[label] += 1
    freshness["unknown"] = rows("SELECT count(*) FROM res WHERE lastUpdated IS NULL")[0][0] + unreadable
    late = []
    for key, end, updated in rows(
        "SELECT key, periodEnd, lastUpdated FROM res WHERE type = 'Encounter' AND periodEnd IS NOT NULL "
        "AND lastUpdated IS NOT NULL"
    ):
        e, u = _parse_instant(end), _parse_instant(updated)
        if e is not None and u is not None and (u - e).total_seconds() > LATE_AFTER_HOURS * 3600:
            late.append({"encounter": key, "hours": round((u - e).total_seconds() / 3600, 1)})
    encounters = by_type.get("Encounter", {}).get("resources", 0)
    con.close()
    return {
        "schema": "https://vhr-conformance.org/schemas/audit/1",
        "generated": now.isoformat(timespec="seconds"),
        "source": dict(options.source),
        "records": total,
        "resources": total - unparsable,
        "unparsable": unparsable,
        "invalidResources": invalid,
        "validShare": round(1 - invalid / total, 4) if total else None,
        "byType": by_type,
        "byProfile": by_profile,
        "topRules": top_rules,
        "invalidExamples": examples,
        "mustSupportFill": fill,
        "basicHealthInformation": {"patients": patients, "share": bhi},
        "duplicatePatients": {
            "sameCccd": same_cccd,
            "probableGroups": probable,
            "byProvince": dict(sorted(by_province.items())),
            "method": f"same CCCD; or Splink (Fellegi-Sunter) match probability ≥ {THRESHOLD} on names without tone "
            "marks, given name, CCCD, BHYT, birth date and province, blocked on birth date and sex, CCCD or BHYT",
        },
        "orphanReferences": [{"source": s, "path": p, "reference": r} for s, p, r in orphans],
        "freshness": freshness,
        "lateEncounters": late,
        "lateShare": round(len(late) / encounters, 4) if encounters else None,
    }


def _groups(pairs: list[tuple[str, str]]) -> list[list[str]]:
    """Connected components of the duplicate pairs (union-find), each sorted, largest first."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        if a != b:
            parent[find(a)] = find(b)
    comps: dict[str, list[str]] = {}
    for x in list(parent):
        comps.setdefault(find(x), []).append(x)
    return sorted((sorted(c) for c in comps.values() if len(c) > 1), key=lambda c: (-len(c), c))


def mask_number(value: str) -> str:
    """A national number in a report: only its last 3 digits, so a group can be told apart without
    the report carrying the person's identifier (it is personal data)."""
    return "•" * max(0, len(value) - 3) + value[-3:]


def _parse_instant(value: Any) -> dt.datetime | None:
    try:
        text = str(value)
        parsed = dt.datetime.fromisoformat(text if len(text) > 10 else text + "T00:00:00+00:00")
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class _Stage:
    """Wall and CPU time of one stage; CPU counts this process and its finished child processes."""

    def __init__(self, log: dict[str, dict[str, float]], name: str) -> None:
        self.log, self.name = log, name

    @staticmethod
    def _cpu() -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    def __enter__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), self._cpu()

    def __exit__(self, *_exc: object) -> None:
        self.log[self.name] = {
            "wallSeconds": round(time.perf_counter() - self.wall, 2),
            "cpuSeconds": round(self._cpu() - self.cpu, 2),
        }


def run_audit(options: AuditOptions) -> dict[str, Any]:
    """The whole audit into `options.out_dir`: audit.json, audit.html, and audit-stages.json (the time
    each stage took: kept out of audit.json, whose figures depend on the data only)."""
    options.out_dir.mkdir(parents=True, exist_ok=True)
    stages: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="vhr-audit-", dir=options.out_dir) as tmp:
        work = Path(tmp)
        with _Stage(stages, "facts"):
            records = collect_facts(options, work)
        with _Stage(stages, "aggregate"):
            result = aggregate(work, options)
    (options.out_dir / "audit.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    from vhr_conformance.audit.html import write_html

    write_html(result, options.out_dir / "audit.html")
    mode = (
        f"dask:{options.scheduler or f'local-{options.dask_local}'}"
        if options.scheduler or options.dask_local
        else f"processes:{options.workers}"
    )
    (options.out_dir / "audit-stages.json").write_bytes(
        orjson.dumps({"records": records, "mode": mode, "stages": stages}, option=orjson.OPT_INDENT_2)
    )
    return result
