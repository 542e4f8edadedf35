"""The XML 130 reader under random and mutated envelopes: located issues, never a crash."""

from __future__ import annotations

import base64
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from vhr_conformance.i18n import Text
from vhr_conformance.xml130 import synth
from vhr_conformance.xml130.validate import validate_source

SEVERITIES = {"fatal", "error", "warning", "information"}
ENVELOPE = synth.synthetic_envelopes(1, seed=11)[0]
odd_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "-1",
            "0",
            "1e400",
            "99999999999999999999999",
            "20261345",
            "202613452561",
            "abc",
            "1.2.3",
            "NaN",
            "&amp;",
            "<x/>",
            "\u0000",
            "00000000",
            "2026-01-01",
            "1,5",
        ]
    ),
    st.integers(-(10**25), 10**25).map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)


def check(report: Any) -> None:
    issues = list(report.all_issues())
    for issue in issues:
        assert (
            issue.severity in SEVERITIES and isinstance(issue.text, Text) and issue.text.vi and issue.text.en
        )
        assert isinstance(issue.location, str) and issue.location and issue.rule
        issue.where()
        issue.to_dict()


@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    report = validate_source(data, name="fuzz.xml")
    check(report)
    assert not report.ok and any(i.severity in ("fatal", "error") for i in report.all_issues())


@given(st.data())
def test_mutated_envelope_bytes(data: st.DataObject) -> None:
    raw = bytearray(ENVELOPE)
    for _ in range(data.draw(st.integers(1, 5))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["flip", "drop", "dup", "cut", "tag"]))
        if op == "flip":
            raw[pos] = data.draw(st.integers(0, 255))
        elif op == "drop":
            del raw[pos : pos + data.draw(st.integers(1, 50))]
        elif op == "dup":
            raw[pos:pos] = raw[pos : pos + data.draw(st.integers(1, 200))]
        elif op == "cut":
            del raw[pos:]
        else:
            raw[pos:pos] = data.draw(
                st.sampled_from([b"<HOSO>", b"</HOSO>", b"<FILEHOSO>", b"<!--", b"&x;", b"<![CDATA["])
            )
        if not raw:
            break
    check(validate_source(bytes(raw), name="fuzz.xml"))


@settings(max_examples=max(10, settings.default.max_examples // 3))
@given(st.data())
def test_encounters_with_odd_field_values(data: st.DataObject) -> None:
    """Plausible envelopes whose fields take random values: the rules see dates, numbers and codes
    that do not parse."""
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    enc = synth.synthetic_encounter(rng, 1)
    for _ in range(data.draw(st.integers(1, 6))):
        table = data.draw(st.sampled_from(sorted(enc)))
        rows = enc[table]
        if not rows:
            continue
        row = rows[data.draw(st.integers(0, len(rows) - 1))]
        field = data.draw(
            st.sampled_from(sorted(row)) | st.text(min_size=1, max_size=8).filter(str.isidentifier)
        )
        row[field] = data.draw(odd_text)
    envelope = synth.render_envelope([enc], data.draw(odd_text), data.draw(odd_text))
    check(validate_source(envelope, name="fuzz.xml"))


@given(st.data())
def test_tables_with_mutated_bytes(data: st.DataObject) -> None:
    """The base64 tables themselves broken (bad XML, wrong encoding, garbage) inside a good envelope."""
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    enc = synth.synthetic_encounter(rng, 1)
    victim = data.draw(st.sampled_from(sorted(enc)))
    mutation = data.draw(st.sampled_from(["cut", "garbage", "utf16", "flip", "empty"]))

    def tamper(code: str, raw: bytes) -> bytes:
        if code != victim:
            return raw
        if mutation == "cut":
            return raw[: len(raw) // 2]
        if mutation == "garbage":
            return data.draw(st.binary(max_size=100))
        if mutation == "utf16":
            return raw.decode("utf-8").encode("utf-16")
        if mutation == "empty":
            return b""
        buf = bytearray(raw)
        buf[data.draw(st.integers(0, len(buf) - 1))] = data.draw(st.integers(0, 255))
        return bytes(buf)

    check(validate_source(synth.render_envelope([enc], "01001", "20260101", tamper=tamper), name="fuzz.xml"))


@given(st.binary(max_size=300))
def test_noidungfile_not_base64(payload: bytes) -> None:
    text = ENVELOPE.decode("utf-8")
    start = text.index("<NOIDUNGFILE>") + len("<NOIDUNGFILE>")
    end = text.index("</NOIDUNGFILE>")
    junk = base64.b64encode(payload).decode()[: max(1, len(payload) // 2)] + "@@"
    check(validate_source((text[:start] + junk + text[end:]).encode(), name="fuzz.xml"))
