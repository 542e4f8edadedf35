"""The native checks the harness runs and the IG's FHIRPath text (what any other validator runs)
give the same answer, on cases built from the rules: every century/sex digit, several CCCD
identifiers, malformed and partial dates, every benefit level of every group."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from vhr_conformance.names import SID_BHYT, SID_CCCD
from vhr_conformance.validator import vnrules
from vhr_conformance.validator.fhirpath import NATIVE, EvalEnv, compile_path
from vhr_conformance.vn import bhyt, fsh

INVARIANTS = {i.key: i for i in fsh.invariants()}


def _agree(key: str, foci: list[dict[str, Any]]) -> None:
    expr = INVARIANTS[key].expression
    native = NATIVE[(key, expr)]
    slow = compile_path(expr, "validator")  # the engine, as the validator runs invariants without natives
    for focus in foci:
        res = slow(focus, EvalEnv(focus, focus))
        fhirpath = res[0] if res else False  # empty fails, as the HL7 validator does
        assert native(focus, EvalEnv(focus, focus)) == fhirpath, (key, focus)


def _patient(ids: list[str], birth: str | None, gender: str | None) -> dict[str, Any]:
    p: dict[str, Any] = {"resourceType": "Patient"}
    if ids:
        p["identifier"] = [{"system": SID_CCCD, "value": v} for v in ids] + [
            {"system": SID_BHYT, "value": "HC4010123456789"}
        ]
    if birth is not None:
        p["birthDate"] = birth
    if gender is not None:
        p["gender"] = gender
    return p


def _patients() -> list[dict[str, Any]]:
    out = []
    births = [
        "1990-05-14", "1990", "1990-05", "2003-01-02", "2101-07-01", "1850-01-01", "19x0-01-01",
        "1990-13-01", "2025-06-30", "2025-07-01", "2026-01-15", "2025-13-45", "2025", None,
    ]  # fmt: skip
    genders = ["male", "female", "other", "unknown", None]
    for birth, gender, digit in itertools.product(births, genders, "0123456789"):
        yy = birth[2:4] if birth and birth[:4].isdigit() else "90"
        one = f"001{digit}{yy}123456"
        out.append(_patient([one], birth, gender))
        out.append(_patient([one, f"079{digit}{yy}654321"], birth, gender))  # two agreeing numbers
        out.append(_patient([f"030{digit}{yy}123456"], birth, gender))  # an abolished province
        out.append(_patient([f"003{digit}{yy}123456"], birth, gender))  # no province at all
    for birth, gender in itertools.product(births, genders):
        out.append(_patient(["001090123456", "001190123456"], birth, gender))  # disagreeing sex digits
        out.append(_patient(["001090123456", "001085123456"], birth, gender))  # disagreeing years
        out.append(_patient(["00109012345", "001090123456"], birth, gender))  # one malformed
        out.append(_patient([], birth, gender))
    return out


@pytest.mark.parametrize("key", ["vhr-cccd-3", "vhr-cccd-4", "vhr-cccd-5"])
def test_patient_level_cccd_rules(key: str) -> None:
    _agree(key, _patients())


def test_two_cccd_identifiers_evaluate_and_are_each_judged() -> None:
    ok = _patient(["001090123456", "079090654321"], "1990-05-14", "male")
    bad = _patient(["001090123456", "079190654321"], "1990-05-14", "male")
    for key in ("vhr-cccd-3", "vhr-cccd-4"):
        native = NATIVE[(key, INVARIANTS[key].expression)]
        assert native(ok, EvalEnv(ok, ok)) is True
    assert vnrules._cccd_3(bad, EvalEnv(bad, bad)) is False


def _identifiers() -> list[dict[str, Any]]:
    values = [
        "001090123456", "003090123456", "00109012345", "0010901234567", "ABCDEFGHIJKL", "", "097090123456",
        "0120878811", "HS4010120878811", "hs4010120878811", "HS6010120878811", "ZZ4010123456789",
        "HS4030123456789", "QN5970123456789", "QN1010123456789", "CA5980123456789", "HC40101234",
    ]  # fmt: skip
    for g in bhyt.groups():
        for level in "12345":
            values.append(f"{g}{level}010123456789")
            values.append(f"{g}{level}990123456789")
    out: list[dict[str, Any]] = []
    for system in (SID_CCCD, SID_BHYT, "http://example.org/other"):
        out.extend({"system": system, "value": v} for v in values)
        out.append({"system": system})  # no value
    return out


@pytest.mark.parametrize(
    "key", ["vhr-cccd-1", "vhr-cccd-2", "vhr-bhyt-1", "vhr-bhyt-2", "vhr-bhyt-3", "vhr-bhyt-4", "vhr-bhyt-5"]
)
def test_identifier_level_rules(key: str) -> None:
    _agree(key, _identifiers())


def test_birth_date_not_in_future_skips_malformed_dates() -> None:
    import datetime as dt

    expr = vnrules.PAT_1
    native = NATIVE[("vhr-pat-1", expr)]
    slow = compile_path(expr, "validator")
    today = dt.date.today()
    dates = [
        "1990-05-14", "1990", "1990-05", "2990", "2990-01-01", "19x0", "1990-13-01", "", today.isoformat(),
        f"{today.year + 1}", f"{today.year}-{today.month:02d}", (today + dt.timedelta(days=1)).isoformat(),
    ]  # fmt: skip
    for d in dates:
        focus = {"resourceType": "Patient", "birthDate": d}
        res = slow(focus, EvalEnv(focus, focus))
        assert native(focus, EvalEnv(focus, focus)) == (res[0] if res else False), d
    bad = {"resourceType": "Patient", "birthDate": "19x0"}
    assert native(bad, EvalEnv(bad, bad)) is True  # the primitive check reports it, once


def test_coverage_extensions_match_the_card() -> None:
    def cov(card: str | None, group: str | None, level: str | None) -> dict[str, Any]:
        c: dict[str, Any] = {"resourceType": "Coverage", "extension": []}
        if card is not None:
            c["identifier"] = [{"system": SID_BHYT, "value": card}]
        for url, code in ((fsh.EXT_GROUP, group), (fsh.EXT_LEVEL, level)):
            if code is not None:
                c["extension"].append({"url": url, "valueCoding": {"code": code}})
        return c

    foci = [
        cov(card, group, level)
        for card in ("HC4010123456789", "CN3010123456789", "0123456789", "001190123456", "HC40101234", None)
        for group in ("HC", "CN", "ZZ", "QN", "TE", None)
        for level in ("1", "2", "3", "4", "5", "6", None)
    ]
    _agree("vhr-bhyt-6", foci)
    _agree("vhr-bhyt-7", foci)
    native = NATIVE[("vhr-bhyt-6", INVARIANTS["vhr-bhyt-6"].expression)]
    for focus, ok in ((cov("HC4010123456789", "HC", "4"), True), (cov("HC4010123456789", "CN", "4"), False)):
        assert native(focus, EvalEnv(focus, focus)) is ok
    # a level outside 1–5 is the binding's error, not this rule's
    bad_level = cov("HC4010123456789", "HC", "6")
    assert native(bad_level, EvalEnv(bad_level, bad_level)) is True


def test_2021_card_level_must_fit_the_group_extension() -> None:
    native = NATIVE[("vhr-bhyt-7", INVARIANTS["vhr-bhyt-7"].expression)]
    for g in bhyt.groups().values():
        for level in "12345":
            c = {
                "resourceType": "Coverage",
                "identifier": [{"system": SID_BHYT, "value": "0123456789"}],
                "extension": [
                    {"url": fsh.EXT_GROUP, "valueCoding": {"code": g.code}},
                    {"url": fsh.EXT_LEVEL, "valueCoding": {"code": level}},
                ],
            }
            want = level in g.levels or not g.levels_confirmed
            assert native(c, EvalEnv(c, c)) is want, (g.code, level)
