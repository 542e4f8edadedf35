"""The workload's patients on the target: checked before a load run, seeded when missing.

The users look up only the pool patients the target holds, so a target loaded with part of the
fixtures (e.g. `vhr run --vhr-seed-limit`) still gets every read operation exercised.

The read operations of the workload (CCCD lookup, `$everything`, encounter and observation
searches) look up the patients of the coverage fixtures. Against a target that holds none of them
every lookup answers an empty Bundle quickly and the other reads never run, so their thresholds
would "pass" or be judged on nothing. Before the run we ask the target for a few of those patients;
when it holds none, we upload the fixture bundles that carry them (tagged HTEST, like the suites'
seed) and delete what we created afterwards. When that is not possible, the thresholds over those
operations are `not-tested`, with the reason, so the load verdict cannot be PASS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from vhr_conformance.i18n import Text
from vhr_conformance.load import pool
from vhr_conformance.names import SID_CCCD

# Request groups whose requests are about the pool's patients.
PATIENT_GROUPS = ("patient-lookup", "patient-everything", "encounter-search", "observation-search")
PROBES = 200  # CCCDs asked at most before the run (the standard pool has 40): the workload uses those held
PARALLEL = 8  # concurrent probes and deletes, so a slow target does not hold the run up for minutes
SEED_PATIENTS = 5  # patients uploaded to a target that holds none: the users look these few up


@dataclass
class Dataset:
    """What the target held before the run, what we added, and why any group cannot be judged."""

    held: list[str] = field(
        default_factory=list
    )  # CCCDs of the pool the target holds: the users look these up
    probed: int = 0
    seeded: list[str] = field(default_factory=list)  # "Type/id" we created, deleted after the run
    held_before: int = 0  # of the probed CCCDs, held before any upload
    problem: Text | None = None  # set when the workload's patients are not on the target
    leftovers: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "heldBefore": self.held_before,
            "held": len(self.held),
            "probed": self.probed,
            "seeded": len(self.seeded),
            "problem": {"vi": self.problem.vi, "en": self.problem.en} if self.problem else None,
            "cleanupLeftovers": self.leftovers,
        }


def _held(client: Any, cccd: str) -> bool:
    resp = client.get("Patient?identifier=" + quote(f"{SID_CCCD}|{cccd}", safe=""))
    if resp.status != 200:
        return False
    body = resp.json if isinstance(resp.json, dict) else {}
    return any((e.get("resource") or {}).get("resourceType") == "Patient" for e in body.get("entry") or [])


def _probe(client: Any, cccds: list[str]) -> tuple[list[str], int]:
    """The pool's CCCDs the target holds, and how many were asked (every one, concurrently: a target
    loaded with part of the fixtures holds some and not others, so no sample can stand for all)."""
    from concurrent.futures import ThreadPoolExecutor

    asked = cccds[:PROBES]
    with ThreadPoolExecutor(PARALLEL) as workers:
        held = [c for c, ok in zip(asked, workers.map(lambda c: _held(client, c), asked), strict=True) if ok]
    return held, len(asked)


def _created(resp: Any) -> list[str]:
    from vhr_conformance.fhirutil import parse_location

    refs = []
    body = resp.json if isinstance(resp.json, dict) else {}
    for entry in body.get("entry") or []:
        parsed = parse_location((entry.get("response") or {}).get("location"))
        if parsed:
            refs.append(f"{parsed[0]}/{parsed[1]}")
    return refs


def prepare(client: Any, cccds: list[str], bundles: list[dict[str, Any]], *, seed: bool = True) -> Dataset:
    """Probe the target for the pool's patients and, when it holds none, upload the bundles that
    carry them. Transport errors are the harness's problem and are said as such."""
    from vhr_conformance.client import InfrastructureError

    data = Dataset()
    if not cccds:
        data.problem = Text(
            "Không có người bệnh nào trong bộ dữ liệu tải (fixtures/coverage).",
            "The workload has no patients (fixtures/coverage is empty).",
        )
        return data
    try:
        data.held, data.probed = _probe(client, cccds)
        data.held_before = len(data.held)
        if data.held or not seed:
            if not data.held:
                data.problem = _missing(data.probed)
            return data
        wanted = set(cccds[:SEED_PATIENTS])
        for bundle in bundles:
            if bundle.get("type") != "transaction" or not wanted & set(pool.cccds_of(bundle)):
                continue
            resp = client.post("", bundle)
            if resp.status not in (200, 201):
                data.problem = Text(
                    "Máy chủ không giữ người bệnh nào của bộ tải và từ chối nạp dữ liệu (HTTP {s}): "
                    "hãy nạp fixtures/coverage trước (vhr run sẽ tự nạp).",
                    "The target holds none of the workload's patients and refused their upload (HTTP {s}): "
                    "load fixtures/coverage first (vhr run seeds them).",
                ).format(s=resp.status)
                return data
            data.seeded.extend(_created(resp))
        uploaded, _ = _probe(client, cccds[:SEED_PATIENTS])
        if not uploaded:
            data.problem = _missing(data.probed)
        data.held = uploaded
    except (InfrastructureError, AssertionError, ValueError) as exc:
        data.problem = Text(
            "Không kiểm tra/nạp được dữ liệu người bệnh của bộ tải: {e}",
            "Could not check or upload the workload's patients: {e}",
        ).format(e=exc)
    return data


def _missing(probed: int) -> Text:
    return Text(
        "Máy chủ không giữ người bệnh nào của bộ tải ({n} CCCD đã hỏi): hãy nạp fixtures/coverage "
        "(vhr run tự nạp) hoặc cho phép nạp dữ liệu.",
        "The target holds none of the workload's patients ({n} CCCDs asked): load fixtures/coverage "
        "(vhr run seeds them) or allow their upload.",
    ).format(n=probed)


def cleanup(client: Any, data: Dataset, rounds: int = 3) -> None:
    """Delete what `prepare` uploaded: concurrent deletes, repeated for those a reference still
    blocked (a Patient before its Encounters), so a slow target is not kept waiting for minutes."""
    from concurrent.futures import ThreadPoolExecutor

    from vhr_conformance.client import InfrastructureError

    def delete(ref: str) -> str | None:
        try:
            resp = client.delete(ref)
        except (InfrastructureError, AssertionError) as exc:
            return f"{ref}: {exc}"
        return None if resp.status in (200, 202, 204, 404, 410) else f"{ref}: HTTP {resp.status}"

    pending = list(reversed(data.seeded))
    left: list[str] = []
    with ThreadPoolExecutor(PARALLEL) as workers:
        for _ in range(rounds):
            left = [msg for msg in workers.map(delete, pending) if msg]
            pending = [msg.split(":", 1)[0] for msg in left]
            if not pending:
                break
    data.leftovers = left


def not_tested_groups(summary: dict[str, Any], data: Dataset) -> dict[str, Any]:
    """The summary with every threshold over the pool's patients `not-tested` when the target did
    not hold them, and the verdict recomputed by the same rule."""
    from vhr_conformance.load import slo

    summary["dataset"] = data.to_json()
    if data.problem is None:
        return summary
    for r in summary.get("results", []):
        if r.get("group") in PATIENT_GROUPS:
            r["status"] = slo.NOT_TESTED
            r["message"] = {"vi": data.problem.vi, "en": data.problem.en}
    if not summary.get("aborted"):  # an early abort stays a failure
        summary["verdict"] = slo.verdict(summary.get("results", []))
    return summary
