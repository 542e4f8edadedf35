"""The 12-digit personal identification number (CCCD, số định danh cá nhân).

Layout (domain notes §2, [P]): ``PPP`` = ``0`` + the pre-2025 code of the province where the birth
was registered (never changes), one digit for century and sex (1900s: 0 male, 1 female; 2000s: 2/3;
2100s: 4/5; 2200s: 6/7; 2300s: 8/9), two digits for the last two digits of the birth year, six
random digits; no check digit. Keys are the FHIR invariants': vhr-cccd-1 … vhr-cccd-4.
"""

from __future__ import annotations

import re

from vhr_conformance.i18n import Text
from vhr_conformance.vn._data import Finding
from vhr_conformance.vn.admin import current_codes, legacy_codes, merger_date

TWELVE = re.compile(r"^[0-9]{12}$")
FULL_DATE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
FIRST_CENTURY = 1900  # digit 0/1
LAST_CENTURY = 2300  # digit 8/9
SEXES = ("male", "female")


def century_sex_digit(year: int, sex: str) -> int | None:
    """The 4th digit a person of that birth year and sex (``male``/``female``) carries."""
    century = year // 100 * 100
    if not FIRST_CENTURY <= century <= LAST_CENTURY:
        return None
    return (century - FIRST_CENTURY) // 100 * 2 + (1 if sex == "female" else 0)


def _after_merger(birth_date: str) -> bool:
    """A full ISO date on or after the 2025 merger (a partial date cannot say)."""
    return FULL_DATE.match(birth_date) is not None and birth_date >= merger_date()


def prefix_ok(value: str) -> bool:
    """vhr-cccd-2: ``0`` + one of the 63 pre-2025 province codes."""
    return value[:1] == "0" and value[1:3] in legacy_codes()


def check_cccd(
    value: str, birth_year: int | None = None, sex: str | None = None, birth_date: str | None = None
) -> list[Finding]:
    """Every rule the number breaks, given what is known of its holder.

    ``sex`` is ``male``, ``female`` or None (unknown, other): with no sex only the century half of
    the 4th digit is judged. ``birth_date`` (full ISO date, when known) lets vhr-cccd-5 judge the
    prefix of a birth after the 2025 merger. A malformed number gives vhr-cccd-1 alone: the later
    rules read digits that are not there, and repeating the error under other keys would mislead.
    """
    if not TWELVE.match(value):
        return [
            Finding(
                "vhr-cccd-1",
                Text("Số CCCD '{v}' phải gồm đúng 12 chữ số", "CCCD '{v}' must be exactly 12 digits").format(
                    v=value
                ),
                part="shape",
            )
        ]
    out: list[Finding] = []
    if not prefix_ok(value):
        out.append(
            Finding(
                "vhr-cccd-2",
                Text(
                    "Số CCCD: 3 số đầu '{p}' không phải 0 và mã một trong 63 tỉnh trước 2025",
                    "CCCD: first 3 digits '{p}' are not 0 and one of the 63 pre-2025 province codes",
                ).format(p=value[:3]),
                part="prefix",
            )
        )
    elif birth_date and _after_merger(birth_date) and value[1:3] not in current_codes():
        out.append(
            Finding(
                "vhr-cccd-5",
                Text(
                    "Số CCCD: người sinh ngày {b} (sau khi sáp nhập tỉnh 01/07/2025) mang mã tỉnh {p} "
                    "của tỉnh đã sáp nhập",
                    "CCCD: a person born {b} (after the 2025-07-01 province merger) carries the code {p} "
                    "of a merged-away province",
                ).format(b=birth_date, p=value[:3]),
                confirmed=False,
                part="prefix",
            )
        )
    if birth_year is None:
        return out
    digit = int(value[3])
    if sex in SEXES:
        expected = century_sex_digit(birth_year, sex)
        if expected != digit:
            out.append(
                Finding(
                    "vhr-cccd-3",
                    Text(
                        "Số CCCD: chữ số thứ 4 '{d}' không khớp giới tính và thế kỷ sinh (sinh năm {y}: {e})",
                        "CCCD: 4th digit '{d}' does not match sex and birth century (born {y}: {f})",
                    ).format(
                        d=digit,
                        y=birth_year,
                        e="không có chữ số hợp lệ" if expected is None else f"phải là {expected}",
                        f="no digit is valid" if expected is None else f"must be {expected}",
                    ),
                    part="century-sex",
                )
            )
    else:
        male = century_sex_digit(birth_year, "male")
        if male is None or digit // 2 != male // 2:
            out.append(
                Finding(
                    "vhr-cccd-3",
                    Text(
                        "Số CCCD: chữ số thứ 4 '{d}' không khớp thế kỷ sinh {y}",
                        "CCCD: 4th digit '{d}' does not match birth century of {y}",
                    ).format(d=digit, y=birth_year),
                    part="century-sex",
                )
            )
    if value[4:6] != f"{birth_year % 100:02d}":
        out.append(
            Finding(
                "vhr-cccd-4",
                Text(
                    "Số CCCD: chữ số 5–6 '{a}' khác 2 số cuối năm sinh {y}",
                    "CCCD: digits 5–6 '{a}' differ from the last two digits of birth year {y}",
                ).format(a=value[4:6], y=birth_year),
                part="birth-year",
            )
        )
    return out
