"""Mapping fidelity inside `vhr run` (area MAP): the XML 130 stage's comparison as catalogue criteria.

The facility's XML 130 files (`--vhr-xml DIR`) are converted by our one documented mapping; the
target's resources for each MA_LK are read back and compared fact by fact
(:mod:`vhr_conformance.xml130.fidelity`). Against the embedded reference server with no XML
(`--vhr-xml-twins`), the XML files are the twins of the coverage submissions and our conversion is
what gets loaded, so a clean server passes every MAP criterion and a faulty one shows where.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vhr_conformance.i18n import Text, UserError
from vhr_conformance.xml130 import mapping as field_map

# the MAP criteria (catalogue ids), in catalogue order: those the mapping's fields are checked by
CRITERIA = field_map.CRITERIA
SHOWN_DIFFERENCES = 12  # per failed criterion in the message; mapping.json has them all


@dataclass
class Encounter:
    """One XML encounter: its conversion and what the comparison found."""

    source: str
    ma_lk: str
    bundle: dict[str, Any] | None
    problem: str = ""  # why it could not be converted or compared
    results: dict[str, str] = field(default_factory=dict)  # catalogue id → pass|fail|skip
    differences: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class MappingRun:
    mode: str  # "xml" (facility files) or "twins" (embedded server)
    encounters: list[Encounter] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # XML file → sha256: what exactly was compared

    def verdict(self, criterion: str) -> tuple[str, list[dict[str, Any]], int]:
        """(state, differences, encounters judged) of one catalogue criterion over every encounter."""
        states = [e.results[criterion] for e in self.encounters if criterion in e.results]
        diffs = [d for e in self.encounters for d in e.differences if d["criterion"] == criterion]
        judged = sum(1 for s in states if s in ("pass", "fail"))
        if "fail" in states:
            return "fail", diffs, judged
        return ("pass" if judged else "skip"), diffs, judged

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "files": self.files,
            "criteria": {cid: self.verdict(cid)[0] for cid in CRITERIA},
            "encounters": [
                {
                    "source": e.source,
                    "ma_lk": e.ma_lk,
                    "problem": e.problem,
                    "results": e.results,
                    "differences": e.differences,
                }
                for e in self.encounters
            ],
        }


def xml_files(path: Path) -> list[Path]:
    """The XML 130 envelopes named by `--vhr-xml` (a file, or every *.xml below a folder)."""
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".xml")
        if files:
            return files
    raise UserError(
        Text("Không tìm thấy tệp XML 130 trong {p}", "No XML 130 file found in {p}").format(p=path),
        location="--vhr-xml",
    )


def file_hashes(files: Iterable[Path]) -> dict[str, str]:
    from vhr_conformance.reports.writer import sha256_file

    return {str(f): sha256_file(f) for f in files}


def convert_files(files: Iterable[Path]) -> list[Encounter]:
    """Our conversion of every encounter of the files; an unconvertible one is kept with its reason."""
    from vhr_conformance.xml130.convert import convert_file

    out = []
    for f in files:
        for conv in convert_file(f):
            errors = [i for i in conv.issues if i.is_error]
            if conv.bundle is None:
                why = "; ".join(f"{i.location}: {i.rule}" for i in errors[:3]) or "no XML1 / MA_LK"
                out.append(Encounter(f.name, conv.ma_lk, None, problem=f"not converted ({why})"))
            else:
                out.append(Encounter(f.name, conv.ma_lk, conv.bundle))
    return out


def twin_envelopes(bundles: Iterable[tuple[str, dict[str, Any]]], suffix: str) -> list[tuple[str, bytes]]:
    """XML twins of transaction Bundles (one envelope per encounter). Every MA_LK gets ``suffix``
    so the conversion loaded next never meets the original submission of the same encounter."""
    from vhr_conformance.xml130.synth import bundle_to_rows, render_envelope

    out = []
    for name, bundle in bundles:
        for rows in bundle_to_rows(bundle):
            for table in rows.values():
                for row in table:
                    if row.get("MA_LK"):
                        row["MA_LK"] += suffix
            x1 = rows["XML1"][0]
            day = (x1.get("NGAY_RA") or x1.get("NGAY_VAO") or "")[:8]
            out.append((f"{name}#{x1.get('MA_LK')}", render_envelope([rows], x1.get("MA_CSKCB", ""), day)))
    return out


def convert_twins(envelopes: Iterable[tuple[str, bytes]]) -> list[Encounter]:
    from vhr_conformance.xml130.convert import convert_source

    out = []
    for name, data in envelopes:
        for conv in convert_source(data, name=name):
            if conv.bundle is not None:
                out.append(Encounter(name, conv.ma_lk, conv.bundle))
    return out


class HttpxLike:
    """`fidelity.fetch_vendor` expects an httpx-style client; this one goes through the suites'
    FhirClient, so requests carry the run's auth, stay on the target's origin and are evidence."""

    class _Resp:
        def __init__(self, resp: Any) -> None:
            self.status_code = resp.status
            self._resp = resp

        def json(self) -> Any:
            body = self._resp.json
            if body is None:
                raise ValueError("not JSON")
            return body

    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self, url: str, params: Any = None) -> HttpxLike._Resp:
        return HttpxLike._Resp(self.client.get(url, params=params))

    def close(self) -> None:  # the suites own the client
        pass


def compare_all(run: MappingRun, fetch: Callable[[str], list[dict[str, Any]]]) -> None:
    """Read the target's resources for each MA_LK and compare them with our conversion."""
    from vhr_conformance.xml130.fidelity import compare, criteria_results

    for enc in run.encounters:
        if enc.bundle is None:
            continue
        try:
            vendor = fetch(enc.ma_lk)
        except UserError as exc:  # the target refused or garbled the read: the encounter is not found
            enc.problem = exc.render()
            vendor = []
        diffs = compare(enc.bundle, vendor, enc.ma_lk)
        enc.results = criteria_results(diffs)
        enc.differences = [{**d.to_dict(), "source": enc.source} for d in diffs]


def failure_message(criterion: str, diffs: list[dict[str, Any]], judged: int) -> str:
    """Bilingual message of a failed MAP criterion with its differences (XML field, FHIR path, values)."""
    lines = [
        f"{len(diffs)} khác biệt trên {judged} hồ sơ / {len(diffs)} differences over {judged} encounters:"
    ]
    for d in diffs[:SHOWN_DIFFERENCES]:
        lines.append(f"  MA_LK {d['ma_lk']}: {d['text']['en']}")
    if len(diffs) > SHOWN_DIFFERENCES:
        lines.append(f"  … +{len(diffs) - SHOWN_DIFFERENCES} (mapping.json)")
    return "\n".join(lines)
