"""Verdicts of the QUAL criteria on a store's own data, from its audit.json.

Each criterion (VHR-QUAL-201 … 208 of ``suites/criteria.yaml``, which gives its level; thresholds in
``qual-thresholds.yaml``, the harness's proposal since the sources give no figure) compares one
figure of the audit with its threshold and says pass, fail or not-tested, with a bilingual message
stating the figure and the threshold, and the worst examples by key (never a record's content). Not-tested when the figure's denominator is empty (no resources, no
patients, no encounters) or the audit lacks it. Data read by paged search is a sample: a defect
found in it is evidence, but its absence from the sample is not, so a criterion that would pass on
a sample is not-tested instead; orphan references cannot be judged on a sample at all (the targets
of its references need not be in it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vhr_conformance.audit.engine import BHI_CHECKS
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.outcome import State

AUDIT_SCHEMA = "https://vhr-conformance.org/schemas/audit/1"
THRESHOLDS_FILE = "qual-thresholds.yaml"
BHI_ITEMS = (*BHI_CHECKS, "bloodGroup")  # the items audit.json's basicHealthInformation.share holds


@dataclass(frozen=True)
class AuditVerdict:
    criterion: str
    level: str
    state: State
    message: Text
    figures: dict[str, Any] = field(default_factory=dict)
    examples: tuple[str, ...] = ()  # the worst records by key (Type/id), at most MAX_EXAMPLES

    def as_json(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "level": self.level,
            "state": str(self.state),
            "message": {"vi": self.message.vi, "en": self.message.en},
            "figures": self.figures,
            "examples": list(self.examples),
        }


class _Missing(Exception):
    """A figure the rule needs is not in the audit (an older or partial audit.json)."""

    def __init__(self, name: str) -> None:
        self.name = name


def _pct(share: float) -> str:
    return f"{share * 100:.2f} %"


def _figure(audit: dict[str, Any], *path: str) -> Any:
    node: Any = audit
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise _Missing(".".join(path))
        node = node[key]
    return node


def load_thresholds(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """The thresholds file (the package's own by default), checked: every rule's keys, shares in [0, 1].
    Levels are not in it: a criterion's level is the catalogue's."""
    where = str(path) if path else THRESHOLDS_FILE
    try:
        text = (
            path.read_text(encoding="utf-8")
            if path
            else resources.files("vhr_conformance.audit")
            .joinpath(THRESHOLDS_FILE)
            .read_text(encoding="utf-8")
        )
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(
            Text("Không đọc được tệp ngưỡng: {e}", "Cannot read the thresholds file: {e}").format(e=exc),
            location=where,
        ) from None
    if not isinstance(data, dict):
        raise UserError(
            Text("Tệp ngưỡng phải là một ánh xạ.", "The thresholds file must be a mapping."), where
        )
    for criterion, rule in RULES.items():
        entry = data.get(criterion)
        if not isinstance(entry, dict):
            raise UserError(
                Text("Thiếu ngưỡng của {c}.", "The thresholds of {c} are missing.").format(c=criterion), where
            )
        for key in rule.keys:
            _check_threshold(entry.get(key), key, f"{where}: {criterion}.{key}")
    unknown = sorted(set(data["VHR-QUAL-203"]["min_share"]) - set(BHI_ITEMS))
    if unknown:
        raise UserError(
            Text(
                "Mục thông tin sức khỏe cơ bản không có: {u} (có: {k}).",
                "Unknown basic-health-information items: {u} (known: {k}).",
            ).format(u=", ".join(unknown), k=", ".join(BHI_ITEMS)),
            f"{where}: VHR-QUAL-203.min_share",
        )
    return data


def _check_threshold(value: Any, key: str, where: str) -> None:
    values = value.values() if isinstance(value, dict) and value else [value]
    for v in values:
        ok = isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
        if ok and key.endswith(("share", "fill")):
            ok = v <= 1
        if not ok:
            raise UserError(
                Text(
                    "Ngưỡng không hợp lệ: {v} (cần số ≥ 0; tỷ lệ trong [0, 1]).",
                    "Invalid threshold: {v} (a number ≥ 0 is needed; shares within [0, 1]).",
                ).format(v=value),
                where,
            )


# ------------------------------------------------------------------ the rules
# Each returns (state, message, figures); `sample` is True when the data was read by paged search.
Outcome = tuple[State, Text, dict[str, Any]]


_SAMPLE = Text(
    " — nhưng dữ liệu chỉ là mẫu (tìm kiếm phân trang): mẫu không có lỗi không chứng minh kho không có lỗi; "
    "chạy lại với $export hoặc --ndjson của toàn bộ kho.",
    " — but the data is a sample (paged search): a sample without the defect does not show the store is "
    "without it; run again with $export or --ndjson of the whole store.",
)


def _judged(ok: bool, sample: bool, msg: Text, figures: dict[str, Any]) -> Outcome:
    if not ok:
        return State.FAIL, msg, figures
    if sample:
        return State.NOT_TESTED, Text(msg.vi + _SAMPLE.vi, msg.en + _SAMPLE.en), figures
    return State.PASS, msg, figures


def _none(what: Text) -> Outcome:
    return (
        State.NOT_TESTED,
        Text(
            f"Không có {what.vi} trong dữ liệu: không đánh giá được.",
            f"No {what.en} in the data: nothing to judge.",
        ),
        {},
    )


def _valid(audit: dict[str, Any], t: dict[str, Any], sample: bool) -> Outcome:
    records, invalid = int(_figure(audit, "records")), int(_figure(audit, "invalidResources"))
    if not records:
        return _none(Text("bản ghi", "records"))
    share, need = (records - invalid) / records, float(t["min_valid_share"])
    msg = Text(
        f"{_pct(share)} bản ghi hợp lệ ({invalid} / {records} không hợp lệ); ngưỡng ≥ {_pct(need)}.",
        f"{_pct(share)} of records valid ({invalid} of {records} invalid); threshold ≥ {_pct(need)}.",
    )
    return _judged(share >= need, sample, msg, {"validShare": round(share, 4), "invalid": invalid})


def _fill(audit: dict[str, Any], t: dict[str, Any], sample: bool) -> Outcome:
    fill = _figure(audit, "mustSupportFill")
    cells = [(p, e, float(v)) for p, els in fill.items() for e, v in els.items()]
    if not cells:
        return _none(Text("phần tử must-support", "must-support element"))
    mean, need = sum(v for *_, v in cells) / len(cells), float(t["min_mean_fill"])
    worst = ", ".join(
        f"{p.rsplit('/', 1)[-1]} {e} {_pct(v)}" for p, e, v in sorted(cells, key=lambda c: c[2])[:3]
    )
    msg = Text(
        f"Tỷ lệ điền trung bình {_pct(mean)} trên {len(cells)} phần tử must-support; ngưỡng ≥ {_pct(need)} "
        f"(thấp nhất: {worst}).",
        f"Mean fill {_pct(mean)} over {len(cells)} must-support elements; threshold ≥ {_pct(need)} "
        f"(lowest: {worst}).",
    )
    return _judged(mean >= need, sample, msg, {"meanFill": round(mean, 4), "elements": len(cells)})


def _bhi(audit: dict[str, Any], t: dict[str, Any], sample: bool) -> Outcome:
    if not int(_figure(audit, "basicHealthInformation", "patients")):
        return _none(Text("người bệnh", "patient"))
    share = _figure(audit, "basicHealthInformation", "share")
    parts_vi, parts_en, short, figures = [], [], [], {}
    for item, need in t["min_share"].items():
        got = share.get(item)
        if got is None:
            raise _Missing(f"basicHealthInformation.share.{item}")
        figures[item] = got
        parts_vi.append(f"{item} {_pct(got)} (ngưỡng ≥ {_pct(need)})")
        parts_en.append(f"{item} {_pct(got)} (threshold ≥ {_pct(need)})")
        if got < need:
            short.append(item)
    msg = Text(
        "Người bệnh có thông tin sức khỏe cơ bản: " + "; ".join(parts_vi) + ".",
        "Patients with the basic health information: " + "; ".join(parts_en) + ".",
    )
    return _judged(not short, sample, msg, figures | {"belowThreshold": short})


def _same_cccd(audit: dict[str, Any], t: dict[str, Any], sample: bool) -> Outcome:
    if not int(_figure(audit, "basicHealthInformation", "patients")):
        return _none(Text("người bệnh", "patient"))
    groups = _figure(audit, "duplicatePatients", "sameCccd")
    most = int(t["max_groups"])
    first = ", ".join(groups[0]["patients"]) if groups else ""
    msg = Text(
        f"{len(groups)} nhóm người bệnh trùng số CCCD; tối đa {most}"
        + (f" (ví dụ: {first})." if first else "."),
        f"{len(groups)} groups of Patients sharing a CCCD; at most {most}"
        + (f" (e.g. {first})." if first else "."),
    )
    return _judged(len(groups) <= most, sample, msg, {"groups": len(groups)})


def _probable(audit: dict[str, Any], t: dict[str, Any], sample: bool) -> Outcome:
    patients = int(_figure(audit, "basicHealthInformation", "patients"))
    if not patients:
        return _none(Text("người bệnh", "patient"))
    groups = _figure(audit, "duplicatePatients", "probableGroups")
    # the records beyond the first of each group are the extra ones a clean register would not hold
    extra = sum(len(g) - 1 for g in groups)
    share, most = extra / patients, float(t["max_patient_share"])
    msg = Text(
        f"{len(groups)} nhóm nghi trùng, {extra} bản ghi thừa trên {patients} người bệnh ({_pct(share)}); "
        f"ngưỡng ≤ {_pct(most)}.",
        f"{len(groups)} probable duplicate groups, {extra} extra records of {patients} patients ({_pct(share)}); "
        f"threshold ≤ {_pct(most)}.",
    )
    return _judged(share <= most, sample, msg, {"groups": len(groups), "extraRecords": extra})


def _orphans(audit: dict[str, Any], t: dict[str, Any], sample: bool) -> Outcome:
    if sample:
        return (
            State.NOT_TESTED,
            Text(
                "Dữ liệu chỉ là mẫu (tìm kiếm phân trang): đích của tham chiếu có thể nằm ngoài mẫu; chạy lại với "
                "$export hoặc --ndjson của toàn bộ kho.",
                "The data is a sample (paged search): a reference's target may lie outside it; run again with "
                "$export or --ndjson of the whole store.",
            ),
            {},
        )
    resources_n = int(_figure(audit, "resources"))
    if not resources_n:
        return _none(Text("tài nguyên", "resources"))
    orphans = _figure(audit, "orphanReferences")
    sources = len({o["source"] for o in orphans})
    share, most = sources / resources_n, float(t["max_orphan_share"])
    msg = Text(
        f"{sources} tài nguyên ({_pct(share)}) có tham chiếu không tới đích ({len(orphans)} tham chiếu); "
        f"ngưỡng ≤ {_pct(most)}.",
        f"{sources} resources ({_pct(share)}) hold a dangling reference ({len(orphans)} references); "
        f"threshold ≤ {_pct(most)}.",
    )
    return _judged(share <= most, sample, msg, {"resources": sources, "references": len(orphans)})


def _late(audit: dict[str, Any], t: dict[str, Any], sample: bool) -> Outcome:
    share = _figure(audit, "lateShare")
    if share is None:
        return _none(Text("lượt khám (Encounter)", "encounters"))
    late, most = len(_figure(audit, "lateEncounters")), float(t["max_late_share"])
    msg = Text(
        f"{late} lượt khám ({_pct(share)}) ghi nhận muộn hơn 24 giờ sau khi kết thúc; ngưỡng ≤ {_pct(most)}.",
        f"{late} encounters ({_pct(share)}) recorded more than 24 hours after they ended; "
        f"threshold ≤ {_pct(most)}.",
    )
    return _judged(float(share) <= most, sample, msg, {"late": late, "lateShare": share})


def _fresh(audit: dict[str, Any], t: dict[str, Any], sample: bool) -> Outcome:
    freshness = _figure(audit, "freshness")
    total = sum(int(v) for v in freshness.values())
    if not total:
        return _none(Text("tài nguyên", "resources"))
    known = 1 - int(freshness.get("unknown", 0)) / total
    stale = int(freshness.get("> 1 y", 0)) / total
    need, most = float(t["min_known_share"]), float(t["max_stale_share"])
    msg = Text(
        f"{_pct(known)} tài nguyên có meta.lastUpdated (ngưỡng ≥ {_pct(need)}); {_pct(stale)} cập nhật lần cuối "
        f"hơn 1 năm trước (ngưỡng ≤ {_pct(most)}).",
        f"{_pct(known)} of resources carry meta.lastUpdated (threshold ≥ {_pct(need)}); {_pct(stale)} last "
        f"updated more than a year ago (threshold ≤ {_pct(most)}).",
    )
    figures = {"knownShare": round(known, 4), "staleShare": round(stale, 4)}
    return _judged(known >= need and stale <= most, sample, msg, figures)


@dataclass(frozen=True)
class _Rule:
    judge: Callable[[dict[str, Any], dict[str, Any], bool], Outcome]
    keys: tuple[str, ...]
    title: Text


RULES: dict[str, _Rule] = {
    "VHR-QUAL-201": _Rule(
        _valid, ("min_valid_share",), Text("Đúng: tài nguyên hợp lệ", "Correct: valid resources")
    ),
    "VHR-QUAL-202": _Rule(
        _fill, ("min_mean_fill",), Text("Đủ: phần tử must-support", "Complete: must-support")
    ),
    "VHR-QUAL-203": _Rule(
        _bhi, ("min_share",), Text("Đủ: thông tin sức khỏe cơ bản", "Complete: basic health information")
    ),
    "VHR-QUAL-204": _Rule(_same_cccd, ("max_groups",), Text("Sạch: trùng CCCD", "Clean: shared CCCD")),
    "VHR-QUAL-205": _Rule(
        _probable, ("max_patient_share",), Text("Sạch: nghi trùng người bệnh", "Clean: probable duplicates")
    ),
    "VHR-QUAL-206": _Rule(
        _orphans, ("max_orphan_share",), Text("Sạch: tham chiếu treo", "Clean: dangling references")
    ),
    "VHR-QUAL-207": _Rule(_late, ("max_late_share",), Text("Sống: gửi muộn", "Live: late encounters")),
    "VHR-QUAL-208": _Rule(
        _fresh, ("min_known_share", "max_stale_share"), Text("Sống: độ mới", "Live: freshness")
    ),
}


MAX_EXAMPLES = 5


def _examples(criterion: str, audit: dict[str, Any]) -> tuple[str, ...]:
    """The worst records behind a figure, by key only (the audit holds no content, CCCD masked)."""
    dup = audit.get("duplicatePatients") or {}
    rows: list[str]
    if criterion == "VHR-QUAL-201":
        rows = [
            f"{e.get('resource')} ({', '.join(e.get('rules') or [])})"
            for e in audit.get("invalidExamples") or []
        ]
    elif criterion == "VHR-QUAL-202":
        cells = [(p, e, v) for p, els in (audit.get("mustSupportFill") or {}).items() for e, v in els.items()]
        rows = [
            f"{p.rsplit('/', 1)[-1]} {e} {_pct(float(v))}" for p, e, v in sorted(cells, key=lambda c: c[2])
        ]
    elif criterion == "VHR-QUAL-204":
        rows = [f"{g.get('cccd')}: {', '.join(g.get('patients') or [])}" for g in dup.get("sameCccd") or []]
    elif criterion == "VHR-QUAL-205":
        rows = [", ".join(g) for g in dup.get("probableGroups") or []]
    elif criterion == "VHR-QUAL-206":
        rows = [
            f"{o.get('source')}.{o.get('path')} → {o.get('reference')}"
            for o in audit.get("orphanReferences") or []
        ]
    elif criterion == "VHR-QUAL-207":
        late = sorted(audit.get("lateEncounters") or [], key=lambda e: -float(e.get("hours") or 0))
        rows = [f"{e.get('encounter')} +{e.get('hours')} h" for e in late]
    else:
        rows = []
    return tuple(rows[:MAX_EXAMPLES])


def audit_verdicts(
    audit: dict[str, Any], thresholds: dict[str, dict[str, Any]] | None = None
) -> list[AuditVerdict]:
    """Per-criterion verdicts of one audit.json (as loaded), in criterion order."""
    if not isinstance(audit, dict) or audit.get("schema") != AUDIT_SCHEMA:
        raise UserError(
            Text(
                "Không phải audit.json của vhr audit (schema {s}).",
                "Not an audit.json written by vhr audit (schema {s}).",
            ).format(s=AUDIT_SCHEMA),
            location="audit.json",
        )
    limits = thresholds if thresholds is not None else load_thresholds()
    from vhr_conformance.catalogue import load_catalogue

    catalogue = load_catalogue()
    source = audit.get("source") or {}
    sample = isinstance(source, dict) and source.get("mode") == "paged-search"
    out: list[AuditVerdict] = []
    for criterion, rule in RULES.items():
        entry = limits[criterion]
        try:
            state, message, figures = rule.judge(audit, entry, sample)
        except _Missing as missing:
            state, figures = State.NOT_TESTED, {}
            message = Text(
                f"audit.json thiếu số liệu {missing.name}: chạy lại vhr audit bằng phiên bản hiện tại.",
                f"audit.json lacks the figure {missing.name}: run vhr audit again with the current version.",
            )
        level = catalogue.criteria[criterion].level
        examples = _examples(criterion, audit) if state is State.FAIL else ()
        out.append(AuditVerdict(criterion, level, state, message, figures, examples))
    return out


def verdicts_from_file(path: Path, thresholds: Path | None = None) -> list[AuditVerdict]:
    """`audit_verdicts` of an audit.json on disk, with a located error for a file that is not one."""
    import orjson

    try:
        audit = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise UserError(
            Text("Không đọc được audit.json: {e}", "Cannot read audit.json: {e}").format(e=exc),
            location=str(path),
        ) from None
    try:
        return audit_verdicts(audit, load_thresholds(thresholds))
    except UserError as err:
        if err.location == "audit.json":
            raise UserError(err.text, location=str(path)) from None
        raise
