"""Attestation files: checked against the catalogue, documents hashed, reviews signed and voided by edits."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pytest

from vhr_conformance.catalogue import load_catalogue
from vhr_conformance.evidence.attestations import (
    REFERENCE_FILE,
    add_review,
    for_run,
    load_attestations,
    run_args,
    states,
)
from vhr_conformance.evidence.bundle import write_bundle
from vhr_conformance.evidence.fingerprint import sha256_file
from vhr_conformance.evidence.keys import generate, load_signing_key, load_trust
from vhr_conformance.i18n import UserError
from vhr_conformance.outcome import Verdict
from vhr_conformance.reports.model import CaseResult, RunResult
from vhr_conformance.reports.writer import ATTESTATION_SUITE, write_reports

CRITERIA = load_catalogue().criteria
ATTESTED = sorted(c for c, v in CRITERIA.items() if v.verification == "attestation")
AUTOMATED = next(c for c, v in CRITERIA.items() if v.verification == "automated")


def _file(tmp_path: Path, body: str) -> Path:
    (tmp_path / "policy.pdf").write_bytes(b"%PDF-1.4 audit policy")
    path = tmp_path / "attestations.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def _entry(cid: str, docs: str = "[policy.pdf]") -> str:
    return (
        f"  - criterion: {cid}\n    statement: {{vi: Hệ thống ghi nhật ký truy cập., en: The system audits access.}}\n"
        f"    attested_by: Nguyễn Văn A\n    date: 2026-11-30\n    documents: {docs}\n"
    )


def test_states_from_missing_to_accepted(tmp_path: Path) -> None:
    path = _file(tmp_path, "attestations:\n" + _entry(ATTESTED[0]))
    aset = load_attestations(path, CRITERIA)
    assert len(aset.items[ATTESTED[0]].documents["policy.pdf"]) == 64
    before = states(CRITERIA, aset, [])
    assert before[ATTESTED[0]].state == "attested" and before[ATTESTED[1]].state == "missing"
    key_path, trust_path = generate(tmp_path / "reviewer.pem", "Thẩm định viên", "ministry")
    add_review(aset, ATTESTED[0], "accepted", "", load_signing_key(key_path))
    again = load_attestations(path, CRITERIA)
    assert states(CRITERIA, again, load_trust([trust_path]))[ATTESTED[0]].state == "accepted"
    # the same review by a key nobody trusts does not count
    assert states(CRITERIA, again, [])[ATTESTED[0]].state == "attested"
    # a changed document voids the review
    (tmp_path / "policy.pdf").write_bytes(b"%PDF-1.4 another policy")
    edited = load_attestations(path, CRITERIA)
    assert states(CRITERIA, edited, load_trust([trust_path]))[ATTESTED[0]].state == "attested"


def test_rejection_needs_a_reason_and_is_reported(tmp_path: Path) -> None:
    path = _file(tmp_path, "attestations:\n" + _entry(ATTESTED[0]))
    aset = load_attestations(path, CRITERIA)
    key_path, trust_path = generate(tmp_path / "r.pem", "Thẩm định viên", "ministry")
    with pytest.raises(UserError):
        add_review(aset, ATTESTED[0], "rejected", "  ", load_signing_key(key_path))
    add_review(aset, ATTESTED[0], "rejected", "no log retention", load_signing_key(key_path))
    st = states(CRITERIA, load_attestations(path, CRITERIA), load_trust([trust_path]))[ATTESTED[0]]
    assert st.state == "rejected" and "no log retention" in st.text.en


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("attestations:\n" + _entry(AUTOMATED), "tested automatically"),
        ("attestations:\n" + _entry("VHR-NOPE-001"), "Unknown criterion"),
        ("attestations:\n" + _entry(ATTESTED[0]) + _entry(ATTESTED[0]), "twice"),
        ("attestations:\n" + _entry(ATTESTED[0], "[missing.pdf]"), "Document not found"),
        (
            "attestations:\n  - criterion: " + ATTESTED[0] + "\n    statement: {vi: chỉ tiếng Việt}\n",
            "vi and en",
        ),
        ("a: &x [1]\nb: *x\n", "aliases"),
        (f"not_attested:\n  - criterion: {AUTOMATED}\n    reason: {{vi: a, en: b}}\n", "Not an attestation"),
        (
            "attestations:\n" + _entry(ATTESTED[0]) + f"not_attested:\n  - criterion: {ATTESTED[0]}\n",
            "already",
        ),
        (f"not_attested:\n  - criterion: {ATTESTED[0]}\n    reason: {{vi: chỉ}}\n", "reason needs vi and en"),
    ],
)
def test_bad_files_are_located_errors(tmp_path: Path, body: str, words: str) -> None:
    with pytest.raises(UserError) as err:
        load_attestations(_file(tmp_path, body), CRITERIA)
    assert words in err.value.text.en and "attestations.yaml" in str(err.value.location)


def test_parser_errors_are_located_too(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        load_attestations(_file(tmp_path, "- a\nb: c\n"), CRITERIA)
    assert "Invalid YAML" in err.value.text.en and "line 2" in str(err.value.location)


# ---------------------------------------------------------------- attestations in the run verdict
SERVER_SHALL = next(c for c in ATTESTED if CRITERIA[c].level == "SHALL" and CRITERIA[c].actor == "server")
SENDER_SHALL = next(c for c in ATTESTED if CRITERIA[c].level == "SHALL" and CRITERIA[c].actor == "sender")
PASSING = next(c for c, v in CRITERIA.items() if v.automated and v.actor == "server" and v.level == "SHALL")


def _run(attestations: dict[str, dict[str, Any]] | None, mode: str = "run") -> RunResult:
    """A run scoped to one passing automated SHALL criterion and the attestation criteria."""
    run = RunResult(
        run_id="R",
        target="https://x.vn",
        started="2026-12-04T00:00:00+00:00",
        finished="2026-12-04T00:01:00+00:00",
        level="MAY",
        seed=1,
        options={"mode": mode},
        ig={},
        harness_version="0",
        cases=[CaseResult("t::a", "a", [PASSING], "pass")],
        catalogue=load_catalogue(),
        only=[PASSING, *ATTESTED],
        attestations=attestations,
    )
    run.aggregate()
    return run


def _row(run: RunResult, cid: str) -> Any:
    return next(r for r in run.criteria if r.criterion.id == cid)


def _reviewed(tmp_path: Path, decision: str, reason: str = "") -> tuple[Path, Path]:
    path = _file(tmp_path, "attestations:\n" + _entry(SERVER_SHALL))
    key, trust = generate(tmp_path / "reviewer.pem", "Thẩm định viên Bộ Y tế", "ministry")
    add_review(load_attestations(path, CRITERIA), SERVER_SHALL, decision, reason, load_signing_key(key))
    return path, trust


def test_no_attestation_file_keeps_a_run_incomplete() -> None:
    run = _run(None)
    row = _row(run, SERVER_SHALL)
    assert row.in_scope and row.state == "not-tested" and row.attestation["status"] == "missing"
    assert run.verdict() == Verdict.INCOMPLETE
    gap = next(g for g in run.to_json()["notTested"] if g["id"] == SERVER_SHALL)
    assert any("No attestation recorded" in r and "Chưa có xác nhận" in r for r in gap["reasons"])
    # a sender's attestation is for `vhr listen`, outside a server run's scope
    assert not _row(run, SENDER_SHALL).in_scope


def test_attested_awaiting_review_does_not_hold_the_run_back(tmp_path: Path) -> None:
    path = _file(tmp_path, "attestations:\n" + "".join(_entry(c) for c in ATTESTED))
    run = _run(for_run(path, [], CRITERIA))
    row = _row(run, SERVER_SHALL)
    assert row.state == "attestation" and run.verdict() == Verdict.PASS
    field = run.to_json()["criteria"][[r.criterion.id for r in run.criteria].index(SERVER_SHALL)][
        "attestation"
    ]
    assert field["status"] == "attested" and field["by"] == "Nguyễn Văn A" and field["date"] == "2026-11-30"
    assert field["statement"] == {"vi": "Hệ thống ghi nhật ký truy cập.", "en": "The system audits access."}
    assert "awaiting review" in field["text"]["en"] and len(field["documents"]["policy.pdf"]) == 64


def test_accepted_passes_with_the_reviewer_named(tmp_path: Path) -> None:
    path, trust = _reviewed(tmp_path, "accepted")
    row = _row(_run(for_run(path, [trust], CRITERIA)), SERVER_SHALL)
    assert row.state == "pass" and row.attestation["status"] == "accepted"
    assert row.attestation["reviewer"] == "Thẩm định viên Bộ Y tế"
    assert row.attestation["review"]["check"] == "trusted"


def test_rejected_fails_with_the_reviewers_reason(tmp_path: Path) -> None:
    path, trust = _reviewed(tmp_path, "rejected", "nhật ký không được lưu giữ / no log retention")
    run = _run(for_run(path, [trust], CRITERIA))
    row = _row(run, SERVER_SHALL)
    assert row.state == "fail" and run.verdict() == Verdict.FAIL and SERVER_SHALL in run.failed_criteria()
    assert row.attestation["reason"] == "nhật ký không được lưu giữ / no log retention"


@pytest.mark.parametrize("how", ["statement", "document", "untrusted"])
def test_a_review_that_does_not_verify_counts_as_not_reviewed_and_is_said(tmp_path: Path, how: str) -> None:
    path, trust = _reviewed(tmp_path, "rejected", "no log retention")
    if how == "statement":
        path.write_text(
            path.read_text(encoding="utf-8").replace("audits access", "audits every access"), encoding="utf-8"
        )
    elif how == "document":
        (tmp_path / "policy.pdf").write_bytes(b"%PDF-1.4 a different policy")
    row = _row(_run(for_run(path, [] if how == "untrusted" else [trust], CRITERIA)), SERVER_SHALL)
    assert row.state == "attestation" and row.attestation["status"] == "attested"
    words = "not in the trust list" if how == "untrusted" else "does not verify"
    assert (
        words in row.attestation["text"]["en"] and "counted as not reviewed" in row.attestation["text"]["en"]
    )
    assert row.attestation["review"]["check"] == ("untrusted" if how == "untrusted" else "invalid")


def test_junit_and_bundle_carry_the_attestations(tmp_path: Path) -> None:
    path, trust = _reviewed(tmp_path, "rejected", "no log retention")
    out = tmp_path / "report"
    run = _run(for_run(path, [trust], CRITERIA, out))
    (out / "junit.xml").write_text('<?xml version="1.0"?><testsuites><testsuite name="pytest"/></testsuites>')
    write_reports(run, out)
    write_reports(run, out)  # written again: still one attestation suite
    suites = ET.parse(out / "junit.xml").getroot().findall("testsuite")
    ours = [s for s in suites if s.get("name") == ATTESTATION_SUITE]
    assert len(ours) == 1 and ours[0].get("failures") == "1"
    case = next(c for c in ours[0].iter("testcase") if c.get("name", "").startswith(SERVER_SHALL))
    failure = case.find("failure")
    assert failure is not None and "no log retention" in failure.get("message", "")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["vhr.attestation.status"] == "rejected" and props["vhr.attestation.by"] == "Nguyễn Văn A"
    report = json.loads((out / "testreport.json").read_text(encoding="utf-8"))
    test = next(t for t in report["test"] if t["name"] == SERVER_SHALL)
    assert test["action"][0]["assert"]["result"] == "fail" and "no log retention" in str(test["action"])
    bundle = write_bundle(out)
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert "report/attestations/attestations.yaml" in manifest["files"]
    assert manifest["files"]["report/attestations/policy.pdf"] == sha256_file(tmp_path / "policy.pdf")


def test_the_reference_server_attests_only_what_it_does() -> None:
    aset = load_attestations(REFERENCE_FILE, CRITERIA)
    found = states(CRITERIA, aset, [])
    server = {c for c in ATTESTED if CRITERIA[c].actor == "server"}
    assert set(aset.items) | set(aset.declined) == server  # every server attestation criterion is answered
    # audit (retention, refused requests, AuditEvent) and consent are built in the server now: both
    # are stated, with their limits, and await review like every statement of this file
    assert (
        found["VHR-SEC-008"].state == "attested"
        and "--audit-retention" in aset.items["VHR-SEC-008"].statement.en
    )
    assert (
        found["VHR-SEC-009"].state == "attested"
        and "written request" in aset.items["VHR-SEC-009"].statement.en
    )
    assert not aset.declined
    assert all(found[c].state == "attested" for c in aset.items)  # nobody reviewed them: never accepted
    assert run_args(None, [], True, CRITERIA) == ["--vhr-attestations", str(REFERENCE_FILE)]
    assert run_args(None, [], False, CRITERIA) == []  # a vendor target: every attestation missing


def test_listen_judges_the_senders_attestations(tmp_path: Path) -> None:
    path = _file(tmp_path, "attestations:\n" + _entry(SENDER_SHALL))
    run = _run(for_run(path, [], CRITERIA), mode="listen")
    assert _row(run, SENDER_SHALL).in_scope and _row(run, SENDER_SHALL).state == "attestation"
    assert not _row(run, SERVER_SHALL).in_scope
