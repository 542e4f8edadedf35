"""The one duration grammar of every command."""

from __future__ import annotations

import pytest

from vhr_conformance.durations import duration_option, parse_duration
from vhr_conformance.i18n import UserError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("15s", 15),
        ("5m", 300),
        ("1h30m", 5400),
        ("1h30m15s", 5415),
        ("1.5h", 5400),
        ("1d", 86400),
        ("90", 90),
        (" 2M ", 120),
        ("1m500ms", 60.5),
    ],
)
def test_accepted(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "m", "5x", "5m1h", "1h1h", "-5s", "1h 30", "1,5h", "abc"])
def test_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_bare_numbers_take_the_callers_unit() -> None:
    assert parse_duration(500, "ms") == 0.5 and parse_duration("2", "m") == 120
    with pytest.raises(ValueError):
        parse_duration(True)


def test_option_errors_are_bilingual_and_located() -> None:
    with pytest.raises(UserError) as err:
        duration_option("soon", "--deadline")
    assert (
        err.value.location == "--deadline"
        and "không hợp lệ" in err.value.text.vi
        and "Invalid" in err.value.text.en
    )
    with pytest.raises(UserError):
        duration_option("0s")
    assert duration_option("0s", allow_zero=True) == 0
