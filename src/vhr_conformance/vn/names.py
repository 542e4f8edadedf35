"""Splitting a Vietnamese full name (family name first) into family and given names.

XML 130 HO_TEN holds the full name as one string. The family name is usually its first word, but
not always: Tôn Thất, Âu Dương, Rơ Châm… are one family name of two words or more. The known ones
are ``data/family_names.json`` (with source and confidence); any other name keeps the first-word
rule. Ê-đê and other Central Highland names that put the clan name last are not handled here.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

from vhr_conformance.vn._data import load


@dataclass(frozen=True, slots=True)
class FamilyName:
    """One family name of several words, and how sure we are it is one."""

    name: str
    group: str
    conf: str
    note: str


def _key(words: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", w).casefold() for w in words)


@cache
def multi_word_family_names() -> dict[str, FamilyName]:
    """The listed family names of two words or more, by name."""
    return {
        n["name"]: FamilyName(n["name"], n.get("group", ""), n.get("conf", "U"), n.get("note", ""))
        for n in load("family_names")["names"]
    }


@cache
def _index() -> dict[tuple[str, ...], int]:
    """Casefolded NFC words of each listed name → its length in words; ambiguous ones left out."""
    ambiguous = {_key(n["name"].split()) for n in load("family_names").get("not_split", [])}
    out = {_key(n.split()): len(n.split()) for n in multi_word_family_names()}
    return {k: v for k, v in out.items() if k not in ambiguous}


def family_length(words: list[str]) -> int:
    """How many leading words of a full name form its family name (1 unless a listed name)."""
    index = _index()
    longest = max((len(k) for k in index), default=1)
    # A listed name only when at least one word remains for the given name; longest first.
    for n in range(min(longest, len(words) - 1), 1, -1):
        if _key(words[:n]) in index:
            return n
    return 1 if words else 0


def split_full_name(full: str) -> tuple[str, list[str]]:
    """``(family, [middle…, given])`` of a name written family name first."""
    words = full.split()
    n = family_length(words)
    return " ".join(words[:n]), words[n:]
