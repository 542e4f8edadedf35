"""Hostile and broken YAML files are refused quickly with a located, bilingual error."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from vhr_conformance.i18n import UserError
from vhr_conformance.load.config import load_slo
from vhr_conformance.yamlsrc import MAX_ALIASES, MAX_BYTES, load_located, load_plain, parse_located

ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def refused(path: Path) -> UserError:
    start = time.monotonic()
    with pytest.raises(UserError) as info:
        load_located(path)
    assert time.monotonic() - start < 2
    return info.value


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    p = tmp_path / "slo.yaml"
    p.write_text(ALIAS_BOMB)
    err = refused(p)
    assert "once aliases are expanded" in err.render() and "mở rộng bí danh" in err.render()
    assert err.location and err.location.startswith(f"{p}:")


def test_alias_bomb_through_load_slo(tmp_path: Path) -> None:
    p = tmp_path / "slo.yaml"
    p.write_text("thresholds: " + ALIAS_BOMB.replace("\n", "\n  ").replace("a: &a", "\n  a: &a", 1))
    with pytest.raises(UserError):
        load_slo(p)


def test_too_many_aliases(tmp_path: Path) -> None:
    p = tmp_path / "x.yaml"
    p.write_text("a: &a 1\nb: [" + ",".join(["*a"] * (MAX_ALIASES + 1)) + "]\n")
    assert "too many YAML aliases" in refused(p).render()


def test_deep_nesting(tmp_path: Path) -> None:
    p = tmp_path / "deep.yaml"
    p.write_text("[" * 100000 + "]" * 100000)
    assert "nested too deep" in refused(p).render()


def test_deep_through_chained_aliases(tmp_path: Path) -> None:
    lines = ["a0: &a0 [1]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 90)]
    p = tmp_path / "chain.yaml"
    p.write_text("\n".join(lines) + "\n")
    assert "nested too deep" in refused(p).render()


def test_binary_file_names_the_offset(tmp_path: Path) -> None:
    p = tmp_path / "bin.yaml"
    p.write_bytes(b"a: 1\nb: \x00\x01\x02")
    err = refused(p)
    assert "binary file" in err.render() and err.location == f"{p}:2:4"


def test_invalid_utf8_is_located(tmp_path: Path) -> None:
    p = tmp_path / "latin1.yaml"
    p.write_bytes("name: ok\nten: Nguy\u1ec5n\n".encode() + b"x: caf\xe9\n")
    err = refused(p)
    assert "not valid UTF-8 (byte 0xe9" in err.render() and err.location == f"{p}:3:7"


def test_huge_file_refused_before_parsing(tmp_path: Path) -> None:
    p = tmp_path / "huge.yaml"
    p.write_bytes(b"# " + b"x" * (MAX_BYTES + 10))
    assert "file too large" in refused(p).render()


def test_huge_text_refused() -> None:
    with pytest.raises(UserError, match="too large"):
        parse_located("a: " + "x" * (MAX_BYTES + 1), "t.yaml")


def test_missing_and_folder(tmp_path: Path) -> None:
    assert "cannot read file" in refused(tmp_path / "none.yaml").render()
    assert "cannot read file" in refused(tmp_path).render()


def test_bad_scalar_is_located(tmp_path: Path) -> None:
    p = tmp_path / "ts.yaml"
    p.write_text("when: 2024-13-45\n")
    err = refused(p)
    assert err.location == f"{p}:1:7"


def test_ordinary_yaml_with_a_bom_and_aliases_still_loads(tmp_path: Path) -> None:
    p = tmp_path / "ok.yaml"
    p.write_text("\ufeffbase: &b {x: 1}\nother: *b\n", encoding="utf-8")
    assert load_plain(p) == {"base": {"x": 1}, "other": {"x": 1}}


def test_control_character_is_located() -> None:
    with pytest.raises(UserError) as info:
        parse_located("a: 1\nb: x\x1fy\n", "c.yaml")
    assert "U+001F is not allowed" in info.value.render() and info.value.location == "c.yaml:2:5"
