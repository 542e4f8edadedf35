"""The audit's HTML report: figures first, charts where people would rather look than read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

_TEMPLATE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>Kiểm tra chất lượng dữ liệu / Data-quality audit</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#1b1f24}h1{font-size:22px}h2{font-size:17px;border-bottom:2px solid #0b4f6c}
.en{color:#57606a}table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #d0d7de;padding:3px 8px;font-size:13px;text-align:left}
th{background:#eef1f4}.kpi{display:inline-block;margin:0 18px 12px 0;padding:8px 12px;border:1px solid #d0d7de;border-radius:6px}
.kpi b{display:block;font-size:20px}.bar{fill:#0b4f6c}.small{font-size:11px}
@media print{details{display:block}summary{display:none}}
</style></head><body>
<h1>Kiểm tra chất lượng dữ liệu <span class="en">/ Data-quality audit</span></h1>
<p>đúng – đủ – sạch – sống <span class="en">/ correct – complete – clean – live</span> · {{ a.generated }}</p>
<div>
<span class="kpi"><b>{{ a.records }}</b>bản ghi / records</span>
<span class="kpi"><b>{{ pct(a.validShare) }}</b>hợp lệ / valid</span>
<span class="kpi"><b>{{ a.duplicatePatients.probableGroups|length }}</b>nhóm trùng người bệnh / duplicate-patient groups</span>
<span class="kpi"><b>{{ a.orphanReferences|length }}</b>tham chiếu không tới đích / dangling references</span>
<span class="kpi"><b>{{ pct(a.lateShare) }}</b>lượt khám gửi muộn &gt; 24 h / encounters late</span>
</div>

<h2>Đúng / Correct</h2>
<table><tr><th>Loại / type</th><th>Số lượng / resources</th><th>Không hợp lệ / invalid</th></tr>
{% for t, row in a.byType.items() %}<tr><td>{{ t }}</td><td>{{ row.resources }}</td><td>{{ row.invalid }}</td></tr>{% endfor %}
</table>
<table><tr><th>Quy tắc bị vi phạm nhiều nhất / most broken rules</th><th>Tài nguyên / resources</th></tr>
{% for r in a.topRules %}<tr><td>{{ r.rule }}</td><td>{{ r.resources }}</td></tr>{% endfor %}</table>

<h2>Đủ / Complete</h2>
<p>Tỷ lệ có dữ liệu của phần tử must-support <span class="en">/ must-support fill rate</span></p>
{% for profile, paths in a.mustSupportFill.items() %}
<details><summary>{{ profile.rsplit('/', 1)[-1] }}</summary><table>
{% for path, share in paths.items() %}<tr><td>{{ path }}</td>
<td style="background:hsl({{ (share * 120)|round|int }},70%,80%)">{{ pct(share) }}</td></tr>{% endfor %}
</table></details>
{% endfor %}
<table><tr><th>Thông tin sức khỏe cơ bản (QĐ 3074) / basic health information</th><th>Người bệnh có / patients with</th></tr>
{% for k, v in a.basicHealthInformation.share.items() %}<tr><td>{{ k }}</td><td>{{ pct(v) }}</td></tr>{% endfor %}</table>

<h2>Sạch / Clean</h2>
<p>{{ a.duplicatePatients.method }}</p>
{{ bars(a.duplicatePatients.byProvince, "Nhóm trùng theo tỉnh / duplicate groups by province")|safe }}
<table><tr><th>Nhóm / group</th></tr>{% for g in a.duplicatePatients.probableGroups[:20] %}<tr><td>{{ g|join(", ") }}</td></tr>{% endfor %}</table>
<table><tr><th>Nguồn / source</th><th>Phần tử / element</th><th>Tham chiếu / reference</th></tr>
{% for o in a.orphanReferences[:20] %}<tr><td>{{ o.source }}</td><td>{{ o.path }}</td><td>{{ o.reference }}</td></tr>{% endfor %}</table>

<h2>Sống / Live</h2>
{{ bars(a.freshness, "Thời gian từ lần cập nhật cuối / age of the last update")|safe }}
</body></html>
"""


def _pct(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f} %"


def _bars(data: dict[str, int], title: str) -> str:
    """A horizontal bar chart as inline SVG (no script, prints as it shows)."""
    from html import escape

    items = list(data.items())
    if not items:
        return ""
    top = max(v for _, v in items) or 1
    height = 22 * len(items) + 30
    parts = [
        f'<svg width="560" height="{height}" role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="14" class="small">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = 24 + i * 22
        width = 360 * value / top
        parts.append(f'<text x="0" y="{y + 14}" class="small">{escape(str(label))}</text>')
        parts.append(f'<rect class="bar" x="120" y="{y}" width="{width:.1f}" height="16"></rect>')
        parts.append(f'<text x="{124 + width:.1f}" y="{y + 13}" class="small">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def write_html(result: dict[str, Any], path: Path) -> Path:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.from_string(_TEMPLATE).render(a=result, pct=_pct, bars=_bars)
    path.write_text(html, encoding="utf-8")
    return path
