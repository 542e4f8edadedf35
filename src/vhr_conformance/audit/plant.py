"""A dataset with planted defects at stated rates, and the truth of what was planted.

Ground truth for `vhr audit`: synthetic patients from the generator, exported as NDJSON with
`meta.lastUpdated`, then broken on purpose — invalid resources (a code outside a required
binding), duplicate persons (a second Patient with a typo or without tone marks, with or without
the same CCCD), dangling references, encounters submitted later than 24 h, stale records — each at
its rate, seeded. `truth.json` lists exactly what was planted so tests can measure recovery.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from vhr_conformance.audit.facts import fold
from vhr_conformance.generator import generate_patients
from vhr_conformance.generator.writer import ndjson_lines


@dataclass
class PlantRates:
    invalid: float = 0.05  # share of resources made invalid
    duplicates: float = 0.05  # share of patients given a duplicate record
    orphans: float = 0.02  # share of resources with a reference sent nowhere
    late: float = 0.10  # share of encounters recorded more than 24 h after they ended
    stale: float = 0.10  # share of resources last updated more than a year ago


def _typo(name: str, rng: random.Random) -> str:
    """A realistic variant of a Vietnamese name: tone marks dropped, or one letter doubled."""
    if rng.random() < 0.5:
        return " ".join(w.capitalize() for w in fold(name).split())
    words = name.split()
    i = rng.randrange(len(words))
    w = words[i]
    j = rng.randrange(len(w))
    words[i] = w[: j + 1] + w[j] + w[j + 1 :]
    return " ".join(words)


BATCH_PATIENTS = 1000  # patients broken and written at a time: memory stays flat for a million resources


def plant(
    out: Path, patients: int, seed: int = 0, rates: PlantRates | None = None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Write the store into `out` (one NDJSON file per type, and `truth.json`); returns the truth.

    Patients are drawn lazily and broken batch by batch, each batch at the stated rates, so the
    planted counts are the rates of each batch summed and memory does not grow with `patients`.
    """
    rates = rates or PlantRates()
    now = now or dt.datetime(2026, 6, 30, 12, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    rng = random.Random(seed)
    truth: dict[str, Any] = {
        "rates": asdict(rates),
        "patients": patients,
        "invalid": [],
        "duplicates": [],
        "orphans": [],
        "late": [],
        "stale": [],
        "resources": 0,
    }
    out.mkdir(parents=True, exist_ok=True)
    written: set[str] = set()  # types whose file this call created (the first batch truncates it)
    batch: list[dict[str, Any]] = []
    for drawn, bundle in enumerate(generate_patients(patients, seed), 1):
        for _rtype, _rid, raw in ndjson_lines(bundle):
            batch.append(orjson.loads(raw))
        if drawn % BATCH_PATIENTS == 0 or drawn == patients:
            _break(batch, rates, rng, now, truth)
            _append(out, batch, written)
            truth["resources"] += len(batch)
            batch = []
    truth["now"] = now.isoformat()
    (out / "truth.json").write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2))
    return truth


def _append(out: Path, resources: list[dict[str, Any]], written: set[str]) -> None:
    by_type: dict[str, list[bytes]] = {}
    for res in resources:
        by_type.setdefault(res["resourceType"], []).append(orjson.dumps(res))
    for rtype, lines in by_type.items():
        with (out / f"{rtype}.ndjson").open("ab" if rtype in written else "wb") as fh:
            written.add(rtype)
            fh.write(b"\n".join(lines) + b"\n")


def _break(
    resources: list[dict[str, Any]],
    rates: PlantRates,
    rng: random.Random,
    now: dt.datetime,
    truth: dict[str, Any],
) -> None:
    """Plant the defects of one batch in place (twins are appended to `resources`) and record them."""

    def pick(pool: list[dict[str, Any]], rate: float) -> set[int]:
        """Exactly round(rate × len(pool)) members, so the planted rate is the stated one."""
        return {id(r) for r in rng.sample(pool, round(rate * len(pool)))} if pool else set()

    def timed(res: dict[str, Any]) -> bool:
        return res["resourceType"] == "Encounter" and bool((res.get("period") or {}).get("end"))

    stale = pick([r for r in resources if not timed(r)], rates.stale)
    late = pick([r for r in resources if timed(r)], rates.late)
    for res in resources:  # timestamps first: the live dimension
        key = f"{res['resourceType']}/{res['id']}"
        meta = res.setdefault("meta", {})
        if timed(res):
            end = dt.datetime.fromisoformat(res["period"]["end"])
            hours = rng.uniform(30, 96) if id(res) in late else rng.uniform(0.5, 20)
            meta["lastUpdated"] = (end + dt.timedelta(hours=hours)).isoformat(timespec="seconds")
            if id(res) in late:
                truth["late"].append(key)
            continue
        days = rng.uniform(400, 900) if id(res) in stale else rng.uniform(0.05, 60)
        meta["lastUpdated"] = (now - dt.timedelta(days=days)).isoformat(timespec="seconds")
        if id(res) in stale:
            truth["stale"].append(key)
    twins = pick([r for r in resources if r["resourceType"] == "Patient"], rates.duplicates)
    extra: list[dict[str, Any]] = []
    for res in resources:
        if id(res) not in twins:
            continue
        twin = orjson.loads(orjson.dumps(res))
        twin["id"] = f"{res['id']}-dup"
        for name in twin.get("name", []) or []:
            if name.get("text"):
                name["text"] = _typo(name["text"], rng)
        others = [i for i in twin.get("identifier", []) if not str(i.get("system", "")).endswith("/cccd")]
        if (
            others and rng.random() < 0.5
        ):  # registered again by the insurance card only: the records only look alike
            twin["identifier"] = others
        extra.append(twin)
        truth["duplicates"].append(sorted([f"Patient/{res['id']}", f"Patient/{twin['id']}"]))
    resources += extra
    breakable = [r for r in resources if r["resourceType"] == "Patient" or isinstance(r.get("status"), str)]
    broken = pick(breakable, rates.invalid)

    def subject(res: dict[str, Any]) -> dict[str, Any] | None:
        ref = res.get("subject") or res.get("patient")
        return ref if isinstance(ref, dict) and str(ref.get("reference", "")).startswith("Patient/") else None

    dangling = pick([r for r in resources if subject(r)], rates.orphans)
    for res in resources:
        key = f"{res['resourceType']}/{res['id']}"
        if id(res) in broken:
            if res["resourceType"] == "Patient":
                res["gender"] = "not-a-gender"
            else:
                res["status"] = "not-a-status"
            truth["invalid"].append(key)
        ref = subject(res)
        if id(res) in dangling and ref is not None:
            ref["reference"] = f"Patient/missing-{rng.randrange(10**9)}"
            truth["orphans"].append(key)
