"""The self-contained HTML report: one file, no external assets, readable offline, printed and filed as-is.

Rendered from Jinja2 templates (`templates/`, shipped as package data) with autoescape on: every
string that came from the target (evidence bodies and headers, messages, software names) is escaped.
The page opens with the header the ministry files (who and what was tested, who signed), the
failures with their observed messages, and the charts; `report.css` prints evidence whole.
`VHR_LANG=vi` or `en` renders one language; the default is both, Vietnamese first.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from vhr_conformance.i18n import Text, preferred_language
from vhr_conformance.outcome import STATE_TEXT, State, Verdict
from vhr_conformance.reports import charts
from vhr_conformance.reports.model import CriterionResult, RunResult

_STATE_LABEL = {str(state): (text.vi, text.en) for state, text in STATE_TEXT.items()}
_VERDICT_CLASS = {
    Verdict.PASS: "v-ok",
    Verdict.FAIL: "v-bad",
    Verdict.INCOMPLETE: "v-inc",
    Verdict.INTERRUPTED: "v-inc",
    Verdict.ERROR: "v-err",
}
_BAD = (State.FAIL, State.ERROR)
_LEVELS = ("SHALL", "SHOULD", "MAY")
_ATTESTATION = {
    "missing": Text("Chưa có xác nhận", "Not attested"),
    "attested": Text("Đã xác nhận, chờ thẩm định", "Attested, awaiting review"),
    "accepted": Text("Được chấp nhận", "Accepted"),
    "rejected": Text("Bị từ chối", "Rejected"),
}
_SIGNER = {
    "ministry": Text("Do Bộ Y tế thực hiện", "Run by the ministry"),
    "vendor": Text("Nhà cung cấp tự đánh giá", "Self-attested"),
}
UNSIGNED = Text("Chưa ký: không thể tin cậy", "Unsigned: cannot be trusted")
SIGNER_UNKNOWN = Text(
    "Báo cáo này không ghi người ký: xem gói bằng chứng", "Not stated in this report: see the evidence bundle"
)


def language(lang: str | None = None) -> str:
    """`vi`, `en` or `both` (VHR_LANG, as for the CLI)."""
    lang = (lang or preferred_language()).lower()
    return "vi" if lang.startswith("vi") else "en" if lang.startswith("en") else "both"


class _Words:
    """The template's language helpers: `t` plain text (both: "vi / en"), `tt` the same with the
    English half in a muted span, `x` for a :class:`Text`."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def t(self, vi: str, en: str, sep: str = " / ") -> str:
        return vi if self.lang == "vi" else en if self.lang == "en" else f"{vi}{sep}{en}"

    def tt(self, vi: str, en: str) -> Markup:
        if self.lang != "both":
            return Markup("{}").format(self.t(vi, en))
        return Markup('{} <span class="en">/ {}</span>').format(vi, en)

    def x(self, text: Text | None) -> str:
        return "" if text is None else self.t(text.vi, text.en)

    def state(self, state: str) -> str:
        vi, en = _STATE_LABEL.get(state, (state, state))
        return self.t(vi, en)


def evidence_text(ev: dict[str, Any]) -> str:
    """One recorded exchange as the reader sees it: request line, headers, body; status, headers, body."""
    lines = [f"{ev.get('method')} {ev.get('url')}"]
    lines += [f"{k}: {v}" for k, v in (ev.get("request_headers") or {}).items()]
    if ev.get("request_body"):
        lines += ["", str(ev["request_body"])]
    lines.append("")
    if ev.get("status") is None:
        lines.append(f"⚠ {ev.get('error')}")
    else:
        lines.append(f"HTTP {ev.get('status')}  ({float(ev.get('elapsed_ms') or 0):.0f} ms)")
        lines += [f"{k}: {v}" for k, v in (ev.get("response_headers") or {}).items()]
        if ev.get("response_body"):
            lines += ["", str(ev["response_body"])]
    return "\n".join(lines)


def _evidence_title(ev: dict[str, Any]) -> str:
    status = ev.get("status")
    return f"{ev.get('method')} {ev.get('url')} → {status if status is not None else '⚠'}"


def _shown_cases(row: CriterionResult) -> list[dict[str, Any]]:
    """The cases a criterion shows (a lone passing case, or every case that did not pass), with
    the anchors the failures summary links to."""
    out = []
    for i, case in enumerate(row.cases):
        if case.state == State.PASS and len(row.cases) > 1:
            continue
        out.append(
            {
                "case": case,
                "anchor": f"case-{row.criterion.id}-{i}",
                "evidence": [
                    {
                        "anchor": f"ev-{row.criterion.id}-{i}-{j}",
                        "title": _evidence_title(ev),
                        "text": evidence_text(ev),
                    }
                    for j, ev in enumerate(case.evidence)
                ],
            }
        )
    return out


def _sources(row: CriterionResult) -> list[dict[str, str]]:
    """The criterion's own sources (citation and clause) as the catalogue states them; none invented."""
    c = row.criterion
    out = []
    for i, (cite_en, clause_en) in enumerate(c.sources):
        cite_vi = c.sources_vi[i] if i < len(c.sources_vi) else cite_en
        clause_vi = c.clauses_vi[i] if i < len(c.clauses_vi) and c.clauses_vi[i] else clause_en
        out.append(
            {
                "cite_vi": cite_vi,
                "cite_en": cite_en,
                "clause_vi": clause_vi,
                "clause_en": clause_en,
            }
        )
    return out


def _attestation(row: CriterionResult) -> dict[str, Any] | None:
    """The row's attestation record when the run has one (rows without the field render without it)."""
    att = getattr(row, "attestation", None)
    if not isinstance(att, dict) or not att.get("status"):
        return None
    status = str(att["status"])
    label = _ATTESTATION.get(status, Text(status, status))
    raw = att.get("statement")
    statement: dict[str, Any] = raw if isinstance(raw, dict) else {}
    said = att.get("text")
    note = said if isinstance(said, dict) else {}
    return {
        "status": status,
        "label": label,
        "by": att.get("by"),
        "date": att.get("date"),
        "statement_vi": str(statement.get("vi") or ""),
        "statement_en": str(statement.get("en") or ""),
        "reason": att.get("reason"),
        # what the status means for this row (no statement recorded, why not attested, review check)
        "note_vi": str(note.get("vi") or ""),
        "note_en": str(note.get("en") or ""),
    }


def _words_of(value: Any, keys: tuple[str, ...]) -> str:
    """A fact the target reported, as one line: an object's `keys` joined, or the value itself."""
    if isinstance(value, dict):
        return " ".join(str(value[k]) for k in keys if value.get(k) not in (None, ""))
    return "" if value is None else str(value)


def identity_facts(target: dict[str, Any]) -> dict[str, str]:
    """The target's identity (doctor's `Diagnosis.identity()`) as display strings, whatever shape
    the target's CapabilityStatement gave its parts."""
    return {
        "address": _words_of(target.get("address"), ()),
        "software": _words_of(target.get("software"), ("name", "version")),
        "implementation": _words_of(target.get("implementation"), ("description", "url")),
        "fhirVersion": _words_of(target.get("fhirVersion"), ()),
        "tls": _words_of(target.get("tlsCertificateSha256"), ()),
        "tlsVersion": _words_of(target.get("tlsVersion"), ()),
    }


def _load_charts(load: dict[str, Any] | None) -> dict[str, Any] | None:
    """The load run's charts, or None for a run without load data."""
    if not load or not isinstance(load, dict):
        return None
    results = [r for r in load.get("results") or [] if isinstance(r, dict)]
    summary = {**load, "results": results}
    out: dict[str, Any] = {
        "shape": load.get("shape"),
        "users": load.get("users"),
        "elapsed": load.get("elapsed_s"),
        "workload": load.get("workload"),
        "verdict": load.get("verdict"),
        "latency": charts.latency_chart(summary) if load.get("timeline") else None,
        "throughput": charts.throughput_chart(summary) if load.get("timeline") else None,
        "capacity": None,
        "results": results,
    }
    capacity = load.get("capacity")
    if isinstance(capacity, dict) and capacity.get("steps"):
        floors = [
            float(r["threshold"])
            for r in results
            if r.get("metric") == "throughput" and (r.get("group") or "*") == "*" and r.get("threshold")
        ]
        out["capacity"] = charts.capacity_chart(capacity, max(floors) if floors else None)
        out["capacity_info"] = capacity
    return out


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("vhr_conformance.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["state_colours"] = charts.STATE_COLOURS
    return env


def render_html(
    run: RunResult, load: dict[str, Any] | None = None, lang: str | None = None, print_css: bool = True
) -> str:
    """The report of `run`; `load` is the load run's summary.json when the run had load.

    `print_css=False` leaves the print stylesheet out: the tests print that page to show that
    without it evidence boxes are clipped on paper."""
    mode = language(lang)
    words = _Words(mode)
    summary = run.summary()
    verdict = run.verdict()
    areas: list[dict[str, Any]] = []
    area_counts: dict[str, dict[str, int]] = {}
    for area, title in run.catalogue.areas.items():
        rows = [r for r in run.criteria if r.criterion.area == area]
        if not rows:
            continue
        in_scope = [r for r in rows if r.in_scope]
        counts = {st: sum(1 for r in in_scope if r.state == st) for st in _STATE_LABEL}
        if in_scope:
            area_counts[area] = counts
        areas.append(
            {
                "id": area,
                "title": title,
                "counts": counts,
                "in_scope": bool(in_scope),
                "failed": sum(1 for r in rows if r.state == State.FAIL),
                "rows": [
                    {
                        "row": r,
                        "open": r.state in _BAD,
                        "cases": _shown_cases(r),
                        "sources": _sources(r),
                        "attestation": _attestation(r),
                    }
                    for r in rows
                ],
            }
        )
    by_id = {item["row"].criterion.id: item for a in areas for item in a["rows"]}
    failures = sorted(
        (by_id[r.criterion.id] for r in run.criteria if r.state in _BAD),
        key=lambda item: (_LEVELS.index(item["row"].criterion.level), item["row"].criterion.id),
    )
    prov = run.provenance
    signer = prov.signer if prov is not None else None
    if prov is None:
        signed = {"status": "unknown", "label": SIGNER_UNKNOWN}
    elif signer is None:
        signed = {"status": "unsigned", "label": UNSIGNED}
    else:
        role = signer.get("role", "vendor")
        signed = {"status": role, "label": _SIGNER.get(role, _SIGNER["vendor"]), **signer}
    meta = {"runId": run.run_id, "verdict": str(verdict), "exitCode": run.exit_code(), "summary": summary}
    return (
        _env()
        .get_template("report.html")
        .render(
            run=run,
            w=words,
            lang=mode,
            html_lang="en" if mode == "en" else "vi",
            summary=summary,
            levels=_LEVELS,
            states=list(_STATE_LABEL),
            verdict_class=_VERDICT_CLASS[verdict],
            verdict_text=run.verdict_text(),
            exit_code=run.exit_code(),
            scope=run.scope_text(),
            gaps=run.not_tested(),
            areas=areas,
            area_chart=charts.area_chart(area_counts),
            failures=failures,
            prov=prov,
            vendor={k: _words_of(v, ()) for k, v in (prov.vendor if prov else {}).items()},
            ident=identity_facts(prov.target if prov else {}),
            signed=signed,
            load=_load_charts(load),
            meta=meta,
            print_css=print_css,
        )
    )
