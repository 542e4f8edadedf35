"""Attestation files: checked against the catalogue, documents hashed, reviews signed and voided by edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from vhr_conformance.catalogue import load_catalogue
from vhr_conformance.evidence.attestations import add_review, load_attestations, states
from vhr_conformance.evidence.keys import generate, load_signing_key, load_trust
from vhr_conformance.i18n import UserError

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
    ],
)
def test_bad_files_are_located_errors(tmp_path: Path, body: str, words: str) -> None:
    with pytest.raises(UserError) as err:
        load_attestations(_file(tmp_path, body), CRITERIA)
    assert words in err.value.text.en and "attestations.yaml" in str(err.value.location)
