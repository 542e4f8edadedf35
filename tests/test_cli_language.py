"""VHR_LANG reaches the CLI framework's own strings and our "vi / en" help texts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vhr_conformance.cli_i18n import pick_half, translate_message, translator

VHR = str(Path(sys.executable).with_name("vhr"))


def _vhr(lang: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VHR_LANG": lang, "COLUMNS": "200", "TERM": "dumb"}
    return subprocess.run([VHR, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_help_in_vietnamese_only() -> None:
    out = _vhr("vi", "doctor", "--help").stdout
    assert "Cách dùng:" in out and "Tùy chọn" in out and "Hiện hướng dẫn này rồi thoát." in out
    assert "Usage:" not in out and "Show this message" not in out and "FHIR base URL" not in out


def test_help_in_english_only() -> None:
    out = _vhr("en", "doctor", "--help").stdout
    assert "Usage:" in out and "Options" in out and "FHIR base URL" in out
    assert "Cách dùng" not in out and "URL gốc FHIR" not in out


def test_default_is_both() -> None:
    out = _vhr("both", "doctor", "--help").stdout
    assert "Cách dùng: / Usage:" in out and "URL gốc FHIR" in out and "FHIR base URL" in out


def test_usage_errors_follow_the_language() -> None:
    vi = _vhr("vi", "doctor", "--bogus")
    assert (
        vi.returncode == 2 and "Không có tùy chọn --bogus" in vi.stderr and "No such option" not in vi.stderr
    )
    en = _vhr("en", "doctor", "--bogus")
    assert "No such option: --bogus" in en.stderr and "Không có" not in en.stderr


@pytest.mark.parametrize(
    ("message", "vi"),
    [
        ("No such option: --x (Possible options: --xy, --xz)", "Không có tùy chọn --x (có: --xy, --xz)"),
        ("Missing option '--target'.", "Thiếu tùy chọn '--target'."),
        ("Invalid value for '--users': 'ten' is not a valid integer.", "Giá trị không hợp lệ cho '--users'"),
        ("Got unexpected extra argument (b)", "Thừa đối số (b)"),
        ("Something else entirely", "Something else entirely"),
    ],
)
def test_error_patterns(message: str, vi: str) -> None:
    assert translate_message(message, "vi").startswith(vi)
    assert translate_message(message, "en") == message


def test_pick_half_only_splits_two_part_texts() -> None:
    assert pick_half("Thư mục kết quả / output directory", "vi") == "Thư mục kết quả"
    assert pick_half("Thư mục kết quả / output directory", "en") == "output directory"
    assert pick_half("a / b / c", "vi") == "a / b / c"
    assert pick_half("only one language", "en") == "only one language"
    assert translator("both")("Options") == "Tùy chọn / Options"
