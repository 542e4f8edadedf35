"""The HTML report as a document: hostile input stays inert, the header says who and what was
tested and who signed, failures come first, sources are the criterion's own, one language on
request, attestation and load charts where the run has them."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from lxml import html as lhtml

from tests.reports.conftest import evidence, make_run
from tests.test_language import offences
from vhr_conformance.evidence.keys import SigningKey, key_id, signer_record
from vhr_conformance.reports import RunResult, write_reports
from vhr_conformance.reports.charts import _ticks
from vhr_conformance.reports.html import render_html
from vhr_conformance.reports.model import Provenance
from vhr_conformance.reports.pdf import chromium

HOSTILE = (
    '</pre><script>alert("x")</script><img src=x onerror="alert(1)">" onmouseover="alert(2)" \'><b>bold</b>'
)


def _doc(html: str) -> Any:
    return lhtml.fromstring(html)


def _text(node: Any) -> str:
    return re.sub(r"\s+", " ", node.text_content()).strip()


def test_hostile_evidence_renders_inert() -> None:
    ev = evidence("VHR-SEC-005", HOSTILE)
    ev["url"] = f"https://vendor.example/fhir/Patient?x={HOSTILE}"
    ev["response_headers"] = {f"X-Evil{HOSTILE}": HOSTILE}
    run = make_run({"VHR-SEC-005": [ev]}, messages={"VHR-SEC-005": HOSTILE})
    run.provenance = Provenance(
        target={"url": run.target, "software": {"name": HOSTILE, "version": HOSTILE}, "address": HOSTILE},
        vendor={"organisation": HOSTILE, "product": HOSTILE, "version": "1"},
        signer={"name": HOSTILE, "role": "vendor", "keyId": "x"},
    )
    html = render_html(run)
    doc = _doc(html)
    scripts = doc.xpath("//script")
    assert [s.get("type") for s in scripts] == ["application/json", None]  # only our own two
    assert "alert" not in scripts[1].text and "alert" not in scripts[0].text
    assert not doc.xpath("//img") and not doc.xpath("//@onerror") and not doc.xpath("//@onmouseover")
    assert not doc.xpath("//b[text()='bold']")
    box = doc.xpath("//pre[@class='ev']")[0]
    assert HOSTILE in box.text_content()  # shown as text, whole
    assert HOSTILE in _text(doc.get_element_by_id("vendor-org"))
    assert "<script>alert" not in html
    json.loads(scripts[0].text)  # the run data stays parseable JSON


def _signed(role: str | None) -> RunResult:
    run = make_run({"VHR-SEC-005": [evidence("VHR-SEC-005", "{}")]})
    key = SigningKey(
        "Bộ Y tế — Cục CNTT" if role == "ministry" else "Công ty A", role or "", Ed25519PrivateKey.generate()
    )
    run.provenance = Provenance(
        target={
            "url": run.target,
            "software": {"name": "HIS-A server", "version": "4.2.1"},
            "implementation": "Bệnh viện Đa khoa A",  # as the doctor records it
            "fhirVersion": "4.0.1",
            "tlsCertificateSha256": "c" * 64,
            "tlsVersion": "TLSv1.3",
            "address": "203.0.113.7",
        },
        vendor={"organisation": "Công ty Phần mềm A", "product": "HIS-A", "version": "4.2.1"},
        harness_fingerprint="f" * 64,
        signer=signer_record(key if role else None),
    )
    return run


@pytest.mark.parametrize(
    ("role", "label"),
    [
        ("ministry", "Do Bộ Y tế thực hiện / Run by the ministry"),
        ("vendor", "Nhà cung cấp tự đánh giá / Self-attested"),
        (None, "Chưa ký: không thể tin cậy / Unsigned: cannot be trusted"),
    ],
)
def test_the_header_names_vendor_product_version_target_and_signer(role: str | None, label: str) -> None:
    run = _signed(role)
    doc = _doc(render_html(run))
    header = _text(doc.xpath("//header")[0])
    for fact in (
        "Công ty Phần mềm A",
        "HIS-A 4.2.1",
        "HIS-A server 4.2.1",
        "Bệnh viện Đa khoa A",
        "FHIR 4.0.1",
        "203.0.113.7",
        "c" * 64,
        "f" * 64,
        "vhr.conformance.ig#0.1.0",
        run.started,
        run.finished,
    ):
        assert fact in header, fact
    signer = _text(doc.get_element_by_id("signer"))
    assert signer.startswith(label)
    if role:
        assert run.provenance and run.provenance.signer
        assert run.provenance.signer["keyId"] in signer and run.provenance.signer["name"] in signer


def test_the_signer_is_the_key_sign_key_will_sign_with() -> None:
    key = SigningKey("Bộ Y tế", "ministry", Ed25519PrivateKey.generate())
    assert signer_record(key) == {"name": "Bộ Y tế", "role": "ministry", "keyId": key_id(key.public)}
    assert signer_record(None) is None


def test_a_report_without_provenance_does_not_claim_a_signer() -> None:
    signer = _text(_doc(render_html(make_run({}))).get_element_by_id("signer"))
    assert "gói bằng chứng" in signer and "Unsigned" not in signer and "ministry" not in signer


def test_failures_come_first_with_their_messages_and_links_to_their_evidence() -> None:
    run = make_run(
        {
            "VHR-API-001": [evidence("VHR-API-001", "a")],
            "VHR-SEC-005": [evidence("VHR-SEC-005", "b"), evidence("VHR-SEC-005", "c")],
        },
        messages={"VHR-SEC-005": "lộ CCCD 012345678901 trong OperationOutcome"},
    )
    html = render_html(run)
    doc = _doc(html)
    main = doc.xpath("//main")[0]
    assert main[0].get("id") == "failures" and main[1].get("id") == "areas-chart"
    items = doc.xpath("//section[@id='failures']/ol/li")
    assert [i.xpath(".//a[@class='cid']")[0].text for i in items] == ["VHR-API-001", "VHR-SEC-005"]
    assert "lộ CCCD 012345678901 trong OperationOutcome" in _text(items[1])
    links = [a.get("href")[1:] for a in items[1].xpath(".//div[@class='evlinks']/a")]
    assert len(links) == 2
    for anchor in links:  # each link lands on the evidence box of that failure
        target = doc.get_element_by_id(anchor)
        assert target.getnext().tag == "pre" and target.xpath("ancestor::details[@id='VHR-SEC-005']")
    assert doc.get_element_by_id("VHR-SEC-005").get("open") is not None


def test_the_area_chart_counts_states_per_area() -> None:
    run = make_run({"VHR-SEC-005": [evidence("VHR-SEC-005", "{}")]}, passing=("VHR-SEC-001", "VHR-CAP-001"))
    chart = _doc(render_html(run)).get_element_by_id("areas-chart")
    titles = [t.text for t in chart.xpath(".//rect/title")]
    assert (
        "SEC: Không đạt / Fail 1" in titles
        and "SEC: Đạt / Pass 1" in titles
        and "CAP: Đạt / Pass 1" in titles
    )


def _source_items(doc: Any, cid: str) -> list[str]:
    return [_text(li) for li in doc.get_element_by_id(cid).xpath(".//ul[@class='sources']/li")]


def test_each_criterion_shows_its_own_sources_with_clauses_and_no_other() -> None:
    run = make_run({})
    doc = _doc(render_html(run))
    for row in run.criteria:
        c = row.criterion
        items = _source_items(doc, c.id)
        assert len(items) == len(c.sources), c.id
        for item, (cite_en, clause_en), cite_vi, clause_vi in zip(
            items, c.sources, c.sources_vi, c.clauses_vi or ("",) * len(c.sources), strict=True
        ):
            assert cite_vi in item and cite_en in item, c.id
            if clause_en:
                assert clause_en in item and (clause_vi or clause_en) in item, c.id
    # VHR-CAP-003 cites the FHIR REST specification only: no law is attached to it
    cap3 = " ".join(_source_items(doc, "VHR-CAP-003"))
    assert "3.1.0.1.10 content types" in cap3 and "Luật" not in cap3 and "Law" not in cap3


def test_vhr_lang_vi_gives_a_summary_without_english_prose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VHR_LANG", "vi")
    run = _signed("vendor")
    html = render_html(run)
    doc = _doc(html)
    assert doc.get("lang") == "vi"
    parts = [
        doc.xpath("//header")[0],
        doc.get_element_by_id("failures"),
        doc.get_element_by_id("areas-chart"),
    ]
    summary = doc.get_element_by_id("summary")
    parts += [summary, summary.getnext(), summary.getnext().getnext()]
    for node in parts:
        for el in node.xpath(
            ".//*[contains(@class,'msg') or contains(@class,'evlinks') or contains(@class,'fp')]"
        ):
            el.getparent().remove(el)  # observed data quoted as the target sent it, not our prose
        text = _text(node)
        english = [o for o in offences(text) if "English" in o]
        assert english == [], (english, text[:500])
    for phrase in (
        "Failures",
        "Summary by level",
        "Run by",
        "Self-attested",
        "Organisation",
        "(exit",
        "/ Fail",
    ):
        assert phrase not in html.split("<style>")[0] + html.split("</style>")[1], phrase
    monkeypatch.setenv("VHR_LANG", "en")
    en = render_html(run)
    assert "Summary by level" in en and "Tổng hợp theo mức" not in en and "Self-attested" in en


def test_the_default_is_both_languages_vietnamese_first() -> None:
    html = render_html(make_run({"VHR-SEC-005": [evidence("VHR-SEC-005", "{}")]}), lang="both")
    assert "Tổng hợp theo mức / Summary by level" in html and "KHÔNG ĐẠT / FAILED" in html


def test_an_attestation_on_a_row_is_shown_and_a_missing_one_says_so() -> None:
    run = make_run({})
    row = next(r for r in run.criteria if not r.criterion.automated)
    row.attestation = {
        "status": "rejected",
        "by": "Nguyễn Văn Kiểm <kiem@example.vn>",
        "date": "2026-01-02",
        "statement": {"vi": "Nhật ký truy cập lưu 5 năm", "en": "Access logs are kept 5 years"},
        "reason": "Thiếu bằng chứng <script>x</script>",
    }
    doc = _doc(render_html(run))
    block = doc.get_element_by_id(row.criterion.id).xpath(".//div[contains(@class,'att')]")[0]
    text = _text(block)
    assert (
        "Bị từ chối / Rejected" in text
        and "Nguyễn Văn Kiểm <kiem@example.vn>" in text
        and "2026-01-02" in text
    )
    assert "Nhật ký truy cập lưu 5 năm" in text and "Access logs are kept 5 years" in text
    assert "Thiếu bằng chứng <script>x</script>" in text and not block.xpath(".//script")
    other = next(r for r in run.criteria if not r.criterion.automated and r is not row)
    missing = doc.get_element_by_id(other.criterion.id).xpath(".//div[contains(@class,'att')]")
    assert missing and "No attestation recorded" in _text(missing[0]), "a missing attestation is said"


def _load_summary() -> dict[str, Any]:
    timeline = [
        {"t": float(t), "users": 30, "rps": 25.0 + t, "fail_per_s": 0.0, "p95_ms": 40.0 + 30 * t}
        for t in range(1, 13)
    ]
    results = [
        {"id": "VHR-PERF-101", "criterion": "VHR-PERF-003", "level": "SHALL", "status": "pass", "metric": "p95",
         "group": "patient-lookup", "comparator": "<=", "threshold": 500.0, "measured": 120.0, "unit": "ms",
         "samples": 60, "title": {"vi": "Tra cứu: p95 ≤ 500 ms", "en": "Lookup: p95 ≤ 500 ms"}},
        {"id": "VHR-PERF-107", "criterion": "VHR-PERF-003", "level": "SHALL", "status": "pass", "metric": "p99",
         "group": "*", "comparator": "<=", "threshold": 3000.0, "measured": 300.0, "unit": "ms",
         "samples": 300, "title": {"vi": "Mọi yêu cầu: p99 ≤ 3 s", "en": "All requests: p99 ≤ 3 s"}},
        {"id": "VHR-PERF-109", "criterion": "VHR-PERF-003", "level": "SHALL", "status": "pass", "metric": "throughput",
         "group": "*", "comparator": ">=", "threshold": 5.0, "measured": 30.0, "unit": "req/s",
         "samples": 300, "title": {"vi": "Thông lượng ≥ 5", "en": "Throughput ≥ 5"}},
    ]  # fmt: skip
    capacity = {
        "steps": [
            {"users": 2, "seconds": 4.0, "throughput": 8.0, "p95_ms": 30.0, "verdict": "pass"},
            {"users": 4, "seconds": 4.0, "throughput": 15.0, "p95_ms": 90.0, "verdict": "pass"},
            {"users": 6, "seconds": 4.0, "throughput": 14.0, "p95_ms": 900.0, "verdict": "fail"},
        ],
        "best": {"users": 4, "seconds": 4.0, "throughput": 15.0, "p95_ms": 90.0, "verdict": "pass"},
        "stopped_by": "slo-breach",
    }
    return {"workload": "standard", "shape": "capacity", "users": 6, "elapsed_s": 12.0, "verdict": "PASS",
            "timeline": timeline, "results": results, "capacity": capacity}  # fmt: skip


def test_a_run_with_load_charts_latency_throughput_and_capacity_against_the_slos(tmp_path: Path) -> None:
    (tmp_path / "load").mkdir()
    (tmp_path / "load" / "summary.json").write_text(json.dumps(_load_summary()), encoding="utf-8")
    paths = write_reports(make_run({}), tmp_path)
    doc = _doc(paths["html"].read_text(encoding="utf-8"))
    latency = doc.get_element_by_id("load-latency")
    svg_text = [t.text for t in latency.xpath(".//text")]
    assert "VHR-PERF-101 p95 patient-lookup <= 500 ms" in svg_text  # drawn: within the scale
    assert "p95 latency over time" in _text(latency) and "Độ trễ p95" in _text(latency)
    note = _text(latency.xpath(".//div[@class='note']")[0])
    assert "VHR-PERF-107 p99 <= 3000 ms" in note  # 3 s is above a 400 ms curve: listed, not drawn falsely
    path = latency.xpath(".//path")[0].get("d")
    assert path.startswith("M") and path.count("L") == 11  # one point a second
    throughput = doc.get_element_by_id("load-throughput")
    assert "VHR-PERF-109 throughput >= 5 req/s" in [t.text for t in throughput.xpath(".//text")]
    capacity = doc.get_element_by_id("load-capacity")
    bars = capacity.xpath(".//rect[title]")
    assert [b.get("fill") for b in bars] == ["#1a7f37", "#1a7f37", "#cf222e"]
    heights = [float(b.get("height")) for b in bars]
    assert heights[1] > heights[2] > heights[0] > 0
    assert "15.0 req/s @ 4" in _text(capacity) and "slo-breach" in _text(capacity)
    rows = doc.get_element_by_id("slo-results").xpath(".//tr")
    assert len(rows) == 4


def test_a_run_without_load_has_no_load_section(tmp_path: Path) -> None:
    doc = _doc(write_reports(make_run({}), tmp_path)["html"].read_text(encoding="utf-8"))
    assert not doc.xpath("//*[@id='load']") and not doc.xpath("//*[@id='load-latency']")


@pytest.mark.parametrize(
    ("top", "last"), [(0.0, 1.0), (7.0, 8.0), (380.0, 400.0), (0.045, 0.06), (3000.0, 3000.0)]
)
def test_ticks_cover_the_data_with_round_steps(top: float, last: float) -> None:
    ticks = _ticks(top)
    assert ticks[0] == 0.0 and ticks[-1] == pytest.approx(last) and ticks[-1] >= top


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (Debian package `chromium`)")
def test_nothing_is_wider_than_an_a4_page_in_print(tmp_path: Path) -> None:
    """Laid out for print at the width of A4 within its margins (186 mm ≈ 703 px), no element
    overflows the page, where it would be cut off on paper."""
    run = make_run({"VHR-SEC-005": [evidence("VHR-SEC-005", "x" * 5000)]}, passing=("VHR-CAP-001",))
    (tmp_path / "load").mkdir()
    (tmp_path / "load" / "summary.json").write_text(json.dumps(_load_summary()), encoding="utf-8")
    html = write_reports(run, tmp_path)["html"].read_text(encoding="utf-8")
    probe = (
        "<script>window.addEventListener('load',function(){var W=document.documentElement.clientWidth,out=[];"
        "document.querySelectorAll('body *').forEach(function(e){var r=e.getBoundingClientRect();"
        "if(r.width>0&&r.right>W+1)out.push(e.tagName+'.'+e.className+'#'+e.id+'@'+Math.round(r.right));});"
        "var d=document.createElement('div');d.id='wide';d.textContent=W+':'+out.join('|');"
        "document.body.appendChild(d);});</script></body>"
    )
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", probe), encoding="utf-8")
    dom = subprocess.run(
        [str(chromium()), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'profile'}", "--blink-settings=mediaTypeOverride=print",
         "--window-size=703,1000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    ).stdout  # fmt: skip
    found = re.search(r'<div id="wide">([^<]*)</div>', dom)
    assert found, "the probe did not run"
    width, _, wide = found.group(1).partition(":")
    assert int(width) > 600 and wide == "", wide
