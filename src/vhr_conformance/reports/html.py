"""The self-contained HTML report: one file, no external assets, readable offline and filed as-is."""

from __future__ import annotations

import json
from html import escape

from vhr_conformance.outcome import STATE_TEXT, Verdict
from vhr_conformance.reports.model import CriterionResult, RunResult

_STATE_LABEL = {str(state): (text.vi, text.en) for state, text in STATE_TEXT.items()}
_VERDICT_CLASS = {
    Verdict.PASS: "v-ok",
    Verdict.FAIL: "v-bad",
    Verdict.INCOMPLETE: "v-inc",
    Verdict.INTERRUPTED: "v-inc",
    Verdict.ERROR: "v-err",
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#0b4f6c;color:#fff;padding:16px 24px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.9;font-size:13px}main{padding:16px 24px}
.verdict{display:inline-block;padding:4px 10px;border-radius:4px;font-weight:700;margin-top:8px}
.v-ok{background:#1a7f37}.v-bad{background:#cf222e}.v-err{background:#9a6700}.v-inc{background:#bc4c00}
.scope{display:inline-block;margin-left:8px;padding:4px 10px;border-radius:4px;background:#fff;color:#0b4f6c;font-weight:700}
.gaps{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px;margin:8px 0}
table{border-collapse:collapse;background:#fff;margin:8px 0 16px}th,td{border:1px solid #d0d7de;padding:4px 8px;font-size:13px;text-align:left;vertical-align:top}
th{background:#eef1f4}.st{font-weight:600;border-radius:3px;padding:1px 6px;white-space:nowrap}
.s-pass{background:#dafbe1;color:#116329}.s-fail{background:#ffebe9;color:#a40e26}.s-not-tested{background:#fff8c5;color:#7d4e00}
.s-not-applicable{background:#eaeef2;color:#57606a}.s-error{background:#fbefff;color:#8250df}.s-attestation{background:#ddf4ff;color:#0550ae}
.filters{position:sticky;top:0;background:#f6f7f9;padding:8px 0;border-bottom:1px solid #d0d7de;z-index:2}
.filters label{margin-right:10px;font-size:13px}.filters input[type=search]{padding:4px;width:260px}
section.area{margin-top:18px}section.area h2{font-size:18px;border-bottom:2px solid #0b4f6c;padding-bottom:4px}
details.crit{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:6px 0;padding:6px 10px}
details.crit summary{cursor:pointer;font-size:14px}.cid{font-family:ui-monospace,monospace;font-weight:700}
.en{color:#57606a}.lvl{font-size:11px;border:1px solid #8c959f;border-radius:3px;padding:0 4px;margin-left:4px}
.case{border-top:1px dashed #d0d7de;margin-top:6px;padding-top:6px;font-size:13px}
.msg{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:12px;background:#f6f8fa;padding:6px;border-radius:4px}
pre.ev{white-space:pre-wrap;word-break:break-all;font-size:11px;background:#0d1117;color:#e6edf3;padding:8px;border-radius:4px;max-height:360px;overflow:auto}
.hidden{display:none}
"""

_JS = """
(function(){
  var boxes=document.querySelectorAll('.filters input[type=checkbox]');
  var q=document.getElementById('q');
  function apply(){
    var on={};boxes.forEach(function(b){on[b.value]=b.checked;});
    var text=(q.value||'').toLowerCase();
    document.querySelectorAll('details.crit').forEach(function(d){
      var ok=on[d.dataset.state]&&on[d.dataset.level]&&(!text||d.textContent.toLowerCase().indexOf(text)>=0);
      d.classList.toggle('hidden',!ok);
    });
    document.querySelectorAll('section.area').forEach(function(s){
      s.classList.toggle('hidden',s.querySelectorAll('details.crit:not(.hidden)').length===0);
    });
    var n=document.querySelectorAll('details.crit:not(.hidden)').length;
    document.getElementById('shown').textContent=n;
  }
  boxes.forEach(function(b){b.addEventListener('change',apply);});q.addEventListener('input',apply);apply();
})();
"""


def _state(state: str) -> str:
    vi, en = _STATE_LABEL.get(state, (state, state))
    return f'<span class="st s-{escape(state)}">{escape(vi)} / {escape(en)}</span>'


def _evidence(ev: dict) -> str:
    lines = [f"{ev.get('method')} {ev.get('url')}"]
    lines += [f"{k}: {v}" for k, v in (ev.get("request_headers") or {}).items()]
    if ev.get("request_body"):
        lines += ["", ev["request_body"]]
    lines.append("")
    if ev.get("status") is None:
        lines.append(f"⚠ {ev.get('error')}")
    else:
        lines.append(f"HTTP {ev.get('status')}  ({ev.get('elapsed_ms', 0):.0f} ms)")
        lines += [f"{k}: {v}" for k, v in (ev.get("response_headers") or {}).items()]
        if ev.get("response_body"):
            lines += ["", ev["response_body"]]
    return f'<pre class="ev">{escape(chr(10).join(lines))}</pre>'


def _criterion(row: CriterionResult) -> str:
    c = row.criterion
    scope = "" if row.in_scope else ' <span class="lvl">ngoài phạm vi / out of scope</span>'
    parts = [
        f'<details class="crit" data-state="{row.state}" data-level="{c.level}" id="{c.id}"'
        f"{' open' if row.state in ('fail', 'error') else ''}>",
        f'<summary>{_state(row.state)} <span class="cid">{c.id}</span><span class="lvl">{c.level}</span>{scope} '
        f'{escape(c.title.vi)} <span class="en">/ {escape(c.title.en)}</span></summary>',
        f"<p>{escape(c.description.vi)}<br><span class=en>{escape(c.description.en)}</span></p>",
        f"<p><b>Nguồn / Source:</b> {escape(c.source_text('vi'))}<br><span class=en>{escape(c.source_text('en'))}</span></p>",
        f"<p><b>Tác nhân / Actor:</b> {escape(c.actor)} · <b>Kiểm chứng / Verification:</b> {escape(c.verification)}</p>",
    ]
    counts = row.counts()
    if row.cases:
        parts.append("<p>" + " · ".join(f"{_state(s)} {n}" for s, n in counts.items() if n) + "</p>")
    for case in row.cases:
        if case.state == "pass" and len(row.cases) > 1:
            continue
        parts.append(
            f'<div class="case">{_state(case.state)} <code>{escape(case.nodeid)}</code> ({case.duration_s:.2f} s)'
        )
        if case.message:
            parts.append(f'<div class="msg">{escape(case.message)}</div>')
        for ev in case.evidence:
            parts.append(_evidence(ev))
        parts.append("</div>")
    parts.append("</details>")
    return "\n".join(parts)


def _gaps(run: RunResult) -> str:
    """What was not judged and what the user can do, in the not-tested cases' own words."""
    rows = run.not_tested()
    if not rows:
        return ""
    items = "".join(
        f'<li><a href="#{r.criterion.id}" class="cid">{r.criterion.id}</a> <span class="lvl">{r.criterion.level}</span> '
        f"{_state(r.state)} {escape(r.criterion.title.vi)} <span class=en>/ {escape(r.criterion.title.en)}</span>"
        + "".join(f'<div class="msg">{escape(m)}</div>' for m in r.not_tested_reasons())
        + "</li>"
        for r in rows
    )
    return (
        '<section class="gaps" id="not-tested"><h2>Chưa được đánh giá và cách bổ sung / '
        "Not judged, and what you can do</h2><ul>" + items + "</ul></section>"
    )


def render_html(run: RunResult) -> str:
    summary = run.summary()
    code = run.exit_code()
    text = run.verdict_text()
    verdict = (_VERDICT_CLASS[run.verdict()], text.vi, text.en)
    rows = []
    for level in ("SHALL", "SHOULD", "MAY"):
        s = summary[level]
        rate = "—" if s["pass_rate"] is None else f"{s['pass_rate'] * 100:.1f}%"
        rows.append(
            f"<tr><td>{level}</td><td>{s['total']}</td><td>{s['pass']}</td><td>{s['fail']}</td><td>{s['not-tested']}</td>"
            f"<td>{s['not-applicable']}</td><td>{s['error']}</td><td>{s['attestation']}</td><td><b>{rate}</b></td></tr>"
        )
    cases = summary["cases"]
    area_rows = []
    for area, title in run.catalogue.areas.items():
        rows_a = [r for r in run.criteria if r.criterion.area == area and r.in_scope]
        if not rows_a:
            continue
        n = {st: sum(1 for r in rows_a if r.state == st) for st in _STATE_LABEL}
        area_rows.append(
            f'<tr><td><a href="#area-{area}">{area}</a></td><td>{escape(title.vi)} <span class="en">/ {escape(title.en)}</span></td>'
            + "".join(f"<td>{n[st]}</td>" for st in _STATE_LABEL)
            + "</tr>"
        )
    areas_html = []
    for area, title in run.catalogue.areas.items():
        crit_rows = [r for r in run.criteria if r.criterion.area == area]
        if not crit_rows:
            continue
        bad = sum(1 for r in crit_rows if r.state == "fail")
        areas_html.append(
            f'<section class="area" id="area-{area}"><h2>{area} — {escape(title.vi)} <span class="en">/ {escape(title.en)}</span>'
            f" <small>({len(crit_rows)} tiêu chí / criteria, {bad} không đạt / failed)</small></h2>"
            + "\n".join(_criterion(r) for r in crit_rows)
            + "</section>"
        )
    checkboxes = "".join(
        f'<label><input type="checkbox" value="{s}" checked> {_state(s)}</label>' for s in _STATE_LABEL
    ) + "".join(
        f'<label><input type="checkbox" value="{lv}" checked> {lv}</label>'
        for lv in ("SHALL", "SHOULD", "MAY")
    )
    leftovers = ""
    if run.cleanup_leftovers:
        leftovers = (
            "<h2>Dữ liệu chưa xóa được / Data that could not be deleted</h2><ul>"
            + "".join(f"<li><code>{escape(x)}</code></li>" for x in run.cleanup_leftovers)
            + "</ul>"
        )
    meta = json.dumps(
        {"runId": run.run_id, "verdict": str(run.verdict()), "exitCode": code, "summary": summary},
        ensure_ascii=False,
    )
    scope = run.scope_text()
    scope_html = (
        f'<div class="scope" id="scope">Phạm vi một phần / Partial scope</div><p>{escape(scope.vi)}<br>'
        f'<span style="opacity:.85">{escape(scope.en)}</span></p>'
        if scope
        else ""
    )
    interrupted = f"<p><b>Bị ngắt / Interrupted:</b> {escape(run.interrupted)}</p>" if run.interrupted else ""
    gaps = _gaps(run)
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Báo cáo kiểm thử tuân thủ VHR / VHR conformance report — {escape(run.run_id)}</title>
<style>{_CSS}</style></head>
<body>
<header><h1>Báo cáo kiểm thử tuân thủ VHR <span style="opacity:.8">/ VHR conformance report</span></h1>
<p>Hệ thống được kiểm thử / Target: <b>{escape(run.target)}</b> · Lượt chạy / Run: {escape(run.run_id)} ·
IG: {escape(str(run.ig.get("id")))}#{escape(str(run.ig.get("version")))} · Mức / Level: {escape(run.level)} · Seed: {run.seed}</p>
<p>Bắt đầu / Started: {escape(run.started)} · Kết thúc / Finished: {escape(run.finished)} · Harness {escape(run.harness_version)}</p>
<div class="verdict {verdict[0]}" id="verdict">{escape(verdict[1])} / {escape(verdict[2])} (exit {code})</div>
{scope_html}{interrupted}</header>
<main>
{gaps}
<h2 id="summary">Tổng hợp theo mức / Summary by level</h2>
<table><tr><th>Mức / Level</th><th>Tiêu chí / Criteria</th><th>Đạt / Pass</th><th>Không đạt / Fail</th><th>Chưa kiểm thử / Not tested</th>
<th>Không áp dụng / Not applicable</th><th>Lỗi / Error</th><th>Xác nhận / Attestation</th><th>Tỷ lệ đạt / Pass rate</th></tr>
{"".join(rows)}</table>
<p>Ca kiểm thử / Test cases: {cases["total"]} — đạt/pass {cases["pass"]}, không đạt/fail {cases["fail"]}, chưa kiểm thử/not tested {cases["not-tested"]},
không áp dụng/not applicable {cases["not-applicable"]}, lỗi/error {cases["error"]}. Thử lại hạ tầng / infrastructure retries: {run.infrastructure_retries}.</p>
<h2 id="areas">Theo nhóm tiêu chí / By area</h2>
<table><tr><th>Nhóm / Area</th><th></th>{"".join(f"<th>{_state(st)}</th>" for st in _STATE_LABEL)}</tr>
{"".join(area_rows)}</table>
{leftovers}
<div class="filters">{checkboxes}<input type="search" id="q" placeholder="Lọc / filter (VHR-PAT, CCCD, …)">
<span> Hiển thị / shown: <b id="shown">0</b></span></div>
{"".join(areas_html)}
</main>
<script type="application/json" id="run-data">{escape(meta)}</script>
<script>{_JS}</script>
</body></html>
"""
