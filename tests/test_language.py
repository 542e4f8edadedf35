"""One Vietnamese voice (issue 18, docs/glossary.md): the Vietnamese a user reads keeps one tone-mark
style, the glossary's terms, and no English words.

Scanned: the ``vi`` side of every ``Text(...)`` in ``src/`` (by AST: the first argument or ``vi=``,
the literal parts of an f-string) and the Vietnamese half of other bilingual constants ("vi / en":
CLI help), the ``vi`` fields of ``suites/criteria.yaml``, and the Vietnamese lines of ``README.md``
and ``docs/*.md``; every other Vietnamese string constant of ``src/`` and every docs line for the
tone-mark style alone. Each offence is reported with its file and line. Official names carried as
data (the IG's commune list, ``*.json``) are not scanned: they are spelled as their source spells them.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The style of docs/glossary.md: the traditional one ("hòa, hủy, xóa, thỏa, tùy", as in "sức khỏe"
# of the Ministry's own texts). In an open syllable (no final consonant) of glide + vowel (oa, oe,
# uy), the mark sits on the glide; the modern style puts it on the vowel ("hoà, huỷ"). After "q",
# "u" belongs to the onset and "quý" is the same in both styles.
_MODERN = re.compile(r"(?<!q)(?:o[àáảãạ]|o[èéẻẽẹ]|u[ỳýỷỹỵ])(?!\w)", re.IGNORECASE)

# Terms the glossary replaces, as (wrong phrase, the glossary's term).
_TERMS = [
    ("bệnh nhân", "người bệnh"),
    ("dữ liệu tổng hợp", "dữ liệu mô phỏng"),
    ("người bệnh tổng hợp", "người bệnh mô phỏng"),
    ("hồ sơ tổng hợp", "hồ sơ mô phỏng"),
    ("xml 130 tổng hợp", "xml 130 mô phỏng"),
    ("hạt giống ngẫu nhiên", "seed"),
    ("tham chiếu mồ côi", "tham chiếu tới tài nguyên không tồn tại"),
    ("tỉ lệ", "tỷ lệ"),
    ("lí do", "lý do"),
]

# English words that have no place in a Vietnamese sentence ("in", "to", "can", "may", "no" are
# left out: they are Vietnamese words too, in = print, can thiệp, may mắn, no đủ). Technical names (FHIR, CCCD, BHYT,
# URL, JSON, token, resource and element names, codes) are not words of this list, and a word in
# backticks, quotes, braces or a path is a name, not prose (see _prose).
_ENGLISH = frozenset(
    [
        "the",
        "and",
        "or",
        "of",
        "on",
        "for",
        "with",
        "without",
        "from",
        "by",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "not",
        "see",
        "report",
        "reports",
        "warning",
        "warnings",
        "error",
        "errors",
        "passed",
        "failed",
        "pass",
        "fail",
        "skipped",
        "tested",
        "untested",
        "patient",
        "patients",
        "encounter",
        "encounters",
        "value",
        "values",
        "field",
        "fields",
        "table",
        "header",
        "headers",
        "check",
        "checks",
        "run",
        "runs",
        "result",
        "results",
        "test",
        "tests",
        "file",
        "files",
        "found",
        "missing",
        "invalid",
        "valid",
        "expected",
        "got",
        "should",
        "must",
        "cannot",
        "which",
        "when",
        "where",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "please",
        "only",
        "also",
        "more",
        "less",
        "than",
        "per",
        "each",
        "every",
        "all",
        "any",
        "none",
        "some",
        "item",
        "items",
        "line",
        "lines",
        "page",
        "pages",
        "status",
        "total",
        "summary",
        "details",
    ]
)
# Technical terms allowed in Vietnamese text although they look like English words.
ALLOW = frozenset(
    [
        "FHIR",
        "CCCD",
        "BHYT",
        "BHXH",
        "URL",
        "URI",
        "JSON",
        "NDJSON",
        "XML",
        "HTML",
        "CSV",
        "YAML",
        "HTTP",
        "HTTPS",
        "REST",
        "API",
        "OAuth",
        "SMART",
        "token",
        "TLS",
        "JWT",
        "ID",
        "IG",
        "SQL",
        "SQLite",
        "UTF-8",
        "NFC",
        "NFD",
        "HL7",
        "LOINC",
        "ICD",
        "ICD-10",
        "SNOMED",
        "ATC",
        "ISO",
        "seed",
        "Locust",
        "pytest",
        "JUnit",
        "TestReport",
        "allure",
        "Patient",
        "Encounter",
    ]
)
_VI_CHARS = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _prose(text: str) -> str:
    """The running text: code spans, quoted names, placeholders, paths and URLs removed."""
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\bvhr(?: [a-z][a-z-]*)+", " ", text)  # command names: vhr run, vhr xml validate
    text = re.sub(r"--[\w-]+", " ", text)  # option names: --only, --level
    text = re.sub(r"[\w-]+(?:\s*\|\s*[\w-]+)+", " ", text)  # option values: error | warning
    text = re.sub(r"[\w.-]+\s*=\s*\S*", " ", text)  # key = value
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"'[^']*'|\"[^\"]*\"|“[^”]*”", " ", text)
    return re.sub(r"\S*(?:[/\\=_:<>]|\.\w)\S*", " ", text)  # paths, URLs, dotted names, key=value


def offences(text: str, style_only: bool = False) -> list[str]:
    """What is wrong with one Vietnamese text (empty when nothing); ``style_only``: tone marks only."""
    text = unicodedata.normalize("NFC", text)
    out = [f"kiểu bỏ dấu mới '{m.group(0)}' / modern tone mark" for m in _MODERN.finditer(text)]
    if style_only:
        return out
    low = text.lower()
    out += [f"'{bad}' → '{good}'" for bad, good in _TERMS if bad in low]
    words = _WORD.findall(_prose(text))
    out += [
        f"từ tiếng Anh '{w}' / English word"
        for w in words
        if w.lower() in _ENGLISH and w not in ALLOW and not w.isupper()
    ]
    return out


# Function words decide the language of a docs line, which may name Vietnamese places in English.
_VI_FUNCTION = frozenset(
    [
        "và",
        "của",
        "là",
        "không",
        "các",
        "được",
        "có",
        "cho",
        "trong",
        "với",
        "một",
        "những",
        "này",
        "để",
        "khi",
        "theo",
        "từ",
        "đã",
        "tại",
        "hoặc",
        "thì",
        "mà",
        "bị",
        "nếu",
        "phải",
        "nào",
        "đều",
        "cũng",
        "về",
        "sẽ",
        "đó",
        "vào",
        "ra",
        "chưa",
        "hay",
        "như",
        "người",
        "nơi",
    ]
)
_EN_FUNCTION = frozenset(
    [
        "the",
        "and",
        "of",
        "is",
        "are",
        "in",
        "on",
        "to",
        "for",
        "with",
        "by",
        "from",
        "when",
        "where",
        "who",
        "a",
        "an",
        "it",
        "its",
        "that",
        "this",
        "be",
        "as",
        "at",
        "or",
    ]
)


def is_vietnamese(text: str) -> bool:
    """A text is Vietnamese when Vietnamese function words outnumber English ones, or, with no
    English function word, when half its words carry Vietnamese letters; English sentences about
    Vietnamese names stay English."""
    words = [w.lower() for w in _WORD.findall(_prose(text))]
    vi, en = sum(w in _VI_FUNCTION for w in words), sum(w in _EN_FUNCTION for w in words)
    marked = sum(bool(_VI_CHARS.search(w)) for w in words)
    return marked > 0 and (vi > en or (en == 0 and marked * 2 >= len(words)))


# ---- the three sources -------------------------------------------------------------------------
def _literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}" for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left), _literal(node.right)
        return None if left is None or right is None else left + right
    return None


_TEXT_NAMES = {"Text", "T"}  # i18n.Text, and the alias some modules import it as


def _call_name(f: ast.expr) -> str:
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def text_calls(path: Path) -> Iterator[tuple[int, str]]:
    """(line, vi) of every ``Text(vi, en)`` call in one Python file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if _call_name(f) not in _TEXT_NAMES:
            continue
        arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "vi"), None)
        vi = _literal(arg) if arg is not None else None
        if vi:
            yield node.lineno, vi


def bilingual_constants(path: Path) -> Iterator[tuple[int, str]]:
    """(line, vi) of the Vietnamese half of every other bilingual string constant ("vi / en"):
    CLI help, command docstrings, table titles."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    in_text = {
        id(a)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _call_name(node.func) in _TEXT_NAMES
        for a in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in in_text or not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        for line_no, line in enumerate(node.value.splitlines() or [""], node.lineno):
            if " / " in line:
                yield from ((line_no, part) for part in line.split(" / ") if is_vietnamese(part))


def vietnamese_constants(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every string constant with Vietnamese letters (CLI translations, tables):
    checked for the tone-mark style only, since they may mix in names and codes."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _VI_CHARS.search(node.value):
            yield node.lineno, node.value


_YAML_VI = re.compile(r"\bvi:\s*(\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'|[^,}\n]+)")


def yaml_vi(path: Path) -> Iterator[tuple[int, str]]:
    """(line, vi) of every ``vi:`` value of a YAML file (flow or block style)."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for m in _YAML_VI.finditer(line):
            yield n, m.group(1).strip().strip("\"'")


def doc_lines(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line, text, Vietnamese?) of a Markdown file, fenced code skipped: each table cell, and of a
    bilingual text "vi / en" (or "en / vi" in headings) each half."""
    fenced = False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        cells = line.split("|") if line.lstrip().startswith("|") else [line]
        # An English sentence may quote a Vietnamese label: quotes split it into segments too.
        for part in (seg for cell in cells for p in cell.split(" / ") for seg in re.split(r"[\"“”]", p)):
            yield n, part, is_vietnamese(part)


def _python_sources() -> list[Path]:
    return sorted(p for p in (ROOT / "src").rglob("*.py"))


def _docs() -> list[Path]:
    """README and docs; not the glossary, which quotes the forms it rejects."""
    return [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "glossary.md")]


def _scan() -> list[str]:
    found = []
    for path in _python_sources():
        for line, vi in [*text_calls(path), *bilingual_constants(path)]:
            found += [f"{path.relative_to(ROOT)}:{line}: {o}" for o in offences(vi)]
        for line, text in vietnamese_constants(path):
            found += [f"{path.relative_to(ROOT)}:{line}: {o}" for o in offences(text, style_only=True)]
    crit = ROOT / "suites" / "criteria.yaml"
    for line, vi in yaml_vi(crit):
        found += [f"{crit.relative_to(ROOT)}:{line}: {o}" for o in offences(vi)]
    for path in _docs():
        for line, text, vietnamese in doc_lines(path):
            # Any line keeps the tone-mark style (English lines name Vietnamese places too).
            problems = offences(text) if vietnamese else offences(text, style_only=True)
            found += [f"{path.relative_to(ROOT)}:{line}: {o}" for o in problems]
    return found


# ---- tests ---------------------------------------------------------------------------------------
def test_user_facing_vietnamese_keeps_one_voice() -> None:
    found = _scan()
    assert not found, "\n" + "\n".join(found)


def test_the_glossary_is_in_docs_and_states_the_style() -> None:
    glossary = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    for term in (
        "người bệnh",
        "dữ liệu mô phỏng",
        "tiêu chí",
        "bằng chứng",
        "không áp dụng",
        "chưa kiểm thử",
    ):
        assert term in glossary, term
    for verdict in ("đạt", "không đạt", "chưa đầy đủ", "bị gián đoạn"):
        assert verdict in glossary, verdict
    assert "hòa" in glossary and "hủy" in glossary  # the style chosen, shown


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Đã huỷ phiên làm việc", "modern"),
        ("Xoá tệp tạm", "modern"),
        ("Thoả mãn điều kiện", "modern"),
        ("Tuỳ chọn", "modern"),
        ("Sức khoẻ", "modern"),
        ("1 warnings", "english"),
        ("Không đạt (see report)", "english"),
        ("Danh sách bệnh nhân", "term"),
        ("Dữ liệu tổng hợp", "term"),
    ],
)
def test_the_scan_catches_each_kind_of_offence(text: str, kind: str) -> None:
    found = offences(text)
    assert found, text
    assert any({"modern": "kiểu bỏ dấu", "english": "tiếng Anh", "term": "→"}[kind] in f for f in found), (
        found
    )


@pytest.mark.parametrize(
    "text",
    [
        "Đã hủy phiên làm việc, xóa tệp tạm, thỏa mãn điều kiện, tùy chọn, sức khỏe",
        "Quý khách, hoàn thành, thuyết minh, khuyến nghị, ngoài",  # closed syllables, qu onset
        "Mã thẻ BHYT '{v}' không đúng định dạng FHIR JSON",
        "Đặt `VHR_LANG=en` để xem bản tiếng Anh",
        "Máy chủ trả về token hết hạn tại {url}",
    ],
)
def test_the_scan_accepts_the_chosen_style_and_technical_terms(text: str) -> None:
    assert offences(text) == [], offences(text)


def test_the_scan_reads_text_calls_with_their_lines(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        'from x import Text\n\nA = Text("Đã xoá", "Deleted")\nB = Text(vi=f"Có {n} lỗi", en="x")\n',
        encoding="utf-8",
    )
    assert list(text_calls(src)) == [(3, "Đã xoá"), (4, "Có {} lỗi")]
    assert offences("Đã xoá")


def test_the_scan_reads_yaml_vi_fields_and_vietnamese_doc_lines(tmp_path: Path) -> None:
    crit = tmp_path / "c.yaml"
    crit.write_text('a:\n  title: {vi: "Xoá bệnh nhân", en: "Delete"}\n', encoding="utf-8")
    assert [(n, v) for n, v in yaml_vi(crit)] == [(2, "Xoá bệnh nhân")]
    doc = tmp_path / "d.md"
    doc.write_text(
        "# Heading / Tiêu đề\n\nThe patients of Hòa Bình are counted here.\n\n"
        "Không đạt và có 1 warnings trong báo cáo.\n\n```\nxoá\n```\n| Đạt / Pass | Kết quả của lần chạy |\n",
        encoding="utf-8",
    )
    lines = [(n, t, vi) for n, t, vi in doc_lines(doc)]
    assert (3, "The patients of Hòa Bình are counted here.", False) in lines
    assert any(n == 5 and vi and offences(t) for n, t, vi in lines)
    assert not any(n == 8 for n, _, _ in lines)  # fenced code
    assert any(n == 10 and vi for n, _, vi in lines)


def test_english_citations_carry_no_vietnamese_clause_words() -> None:
    """A clause written in Vietnamese (the source's own words) has its English reading in
    ``clauses:`` of criteria.yaml, so the English source line of each criterion is English."""
    from vhr_conformance.catalogue import load_catalogue

    cat = load_catalogue(ROOT / "suites" / "criteria.yaml")
    bad = {
        cid: words
        for cid, c in cat.criteria.items()
        if (words := [w for w in _WORD.findall(_prose(c.source_text("en"))) if _VI_CHARS.search(w)])
    }
    assert not bad, bad
    vi_side = cat.criteria["VHR-QUAL-004"].source_text("vi")
    assert "dữ liệu sạch" in vi_side  # the Vietnamese side keeps the source's words
