"""Every verdict of the suites is raised through the outcome helpers with a Vietnamese and an
English message: no bare `assert` (pytest would print its introspection in English), no raw
`AssertionError`, no `pytest.fail/skip`; each criterion is named on its test, not in conftest."""

from __future__ import annotations

import ast
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from vhr_conformance.catalogue import suites_dir
from vhr_conformance.i18n import Text
from vhr_conformance.outcome import CriterionFailed, NotApplicable, NotTested
from vhr_conformance.runner import checks

SOURCES = [*sorted(suites_dir().glob("*.py")), Path(checks.__file__)]
FORBIDDEN_CALLS = {("pytest", "fail"), ("pytest", "skip"), ("pytest", "xfail"), ("pytest", "exit")}
OLD_HELPERS = {"omit", "skip_missing"}  # the plugin's pre-outcome helpers: skip without a state


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.name}:{getattr(node, 'lineno', '?')}"


def _offences(path: Path) -> list[str]:
    out = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Assert):
            out.append(f"{_where(path, node)}: bare assert")
        elif isinstance(node, ast.Name) and node.id == "AssertionError":
            out.append(f"{_where(path, node)}: AssertionError")
        elif isinstance(node, ast.Call):
            f = node.func
            if (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and (f.value.id, f.attr) in FORBIDDEN_CALLS
            ):
                out.append(f"{_where(path, node)}: {f.value.id}.{f.attr}()")
            if isinstance(f, ast.Name) and f.id in OLD_HELPERS:
                out.append(f"{_where(path, node)}: {f.id}()")
    return out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_bare_assertions(path: Path) -> None:
    offences = _offences(path)
    assert not offences, (
        "raise through vhr_conformance.outcome (check/fail/not_tested/not_applicable): " + "; ".join(offences)
    )


def test_scanner_catches_each_forbidden_form(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pytest\n"
        "def t(x):\n"
        "    assert x, 'english'\n"
        "    raise AssertionError('english')\n"
        "    pytest.skip('english')\n"
        "    omit(None)\n",
        encoding="utf-8",
    )
    kinds = sorted(o.split(": ", 1)[1] for o in _offences(bad))
    assert kinds == sorted(["bare assert", "AssertionError", "pytest.skip()", "omit()"])


def _literal(node: ast.expr) -> str | None:
    """The constant text of a str literal or f-string (its fixed parts), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left), _literal(node.right)
        return None if left is None and right is None else (left or "") + (right or "")
    return None


def _vietnamese(text: str) -> bool:
    """Vietnamese text carries letters with diacritics (ă â đ ê ô ơ ư and the five tones)."""
    return any(unicodedata.category(c).startswith("L") and ord(c) > 127 for c in text)


def _texts(path: Path) -> list[tuple[str, ast.Call]]:
    return [
        (_where(path, node), node)
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Text"
    ]


def _text_offences(path: Path) -> list[str]:
    bad = []
    for where, call in _texts(path):
        if len(call.args) != 2 or call.keywords:
            bad.append(f"{where}: Text needs (vi, en) positionally")
            continue
        vi, en = (_literal(a) for a in call.args)
        if vi is None or en is None:
            continue  # built from other Texts' halves (e.g. f"{what.vi} …"): checked where those are made
        if not vi.strip() or not en.strip():
            bad.append(f"{where}: empty half")
        elif vi.strip() == en.strip():
            bad.append(f"{where}: the same text twice ({en[:40]!r})")
        elif not _vietnamese(vi):
            bad.append(f"{where}: the first half is not Vietnamese ({vi[:40]!r})")
    return bad


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_text_has_both_languages(path: Path) -> None:
    bad = _text_offences(path)
    assert not bad, "; ".join(bad)


def test_text_scanner_catches_one_language(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        'Text("Patient not found", "Patient not found")\n'
        'Text("No data", "No test data")\n'
        'Text("", "x")\n'
        'Text(vi="Không có", en="None")\n'
        'Text("Không có dữ liệu {t}.", "No {t} data.")\n',
        encoding="utf-8",
    )
    assert [o.split(": ", 1)[1].split(" (")[0] for o in _text_offences(bad)] == [
        "the same text twice",
        "the first half is not Vietnamese",
        "empty half",
        "Text needs",
    ]


def test_criteria_are_named_on_the_tests_not_in_conftest() -> None:
    conftest = suites_dir() / "conftest.py"
    calls = [
        _where(conftest, n)
        for n in ast.walk(_tree(conftest))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "criterion"
    ]
    assert not calls, f"conftest attaches criteria to cases: {calls}"
    for path in sorted(suites_dir().glob("test_*.py")):
        body = _tree(path).body
        # a module may parametrize its tests from the catalogue in its own pytest_generate_tests,
        # marking each case with criterion(...) there: the criterion is still named in the module
        generated = {
            arg.arg
            for node in body
            if isinstance(node, ast.FunctionDef)
            and node.name == "pytest_generate_tests"
            and "criterion(" in ast.unparse(node)
            for call in ast.walk(node)
            if isinstance(call, ast.Call) and ast.unparse(call.func).endswith("parametrize")
            for arg in [ast.arg(arg=str(ast.literal_eval(call.args[0])))]
            if call.args and isinstance(call.args[0], ast.Constant)
        }
        for node in body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names = {ast.unparse(d) for d in node.decorator_list}
                src = " ".join(names)
                params = {a.arg for a in node.args.args}
                assert "criterion(" in src or "parametrize" in src or params & generated, (
                    f"{path.name}::{node.name} names no criterion"
                )


# ----------------------------------------------------------------- the helpers at run time
class FakeResponse:
    def __init__(self, status: int, body: Any = None, ctype: str = "application/fhir+json") -> None:
        self.status = status
        self._body = body
        self.content_type = ctype
        self.headers: dict[str, str] = {}

    @property
    def json(self) -> Any:
        return self._body

    def text(self) -> str:
        return "" if self._body is None else str(self._body)


def _both(exc: CriterionFailed | NotTested | NotApplicable) -> Text:
    text = exc.text
    assert text.vi.strip() and text.en.strip() and text.vi != text.en and _vietnamese(text.vi), text
    return text


OO = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid"}]}


def test_check_status_states_what_was_observed() -> None:
    with pytest.raises(CriterionFailed) as err:
        checks.check_status(FakeResponse(500, {"resourceType": "Patient"}), (200,), "GET Patient/1")  # type: ignore[arg-type]
    text = _both(err.value)
    assert "GET Patient/1" in text.en and "HTTP 500" in text.en and "200" in text.en
    assert "+ where" not in str(err.value)


def test_rejection_needs_a_real_refusal() -> None:
    for status in (404, 405, 501):  # a missing endpoint is not a rejection of invalid data
        with pytest.raises(NotTested) as nt:
            checks.check_rejected(
                FakeResponse(status, "<html>Cannot POST</html>", "text/html"), "POST Patient"
            )  # type: ignore[arg-type]
        assert f"HTTP {status}" in _both(nt.value).en
    with pytest.raises(CriterionFailed) as err:
        checks.check_rejected(FakeResponse(201, {"resourceType": "Patient"}), "POST Patient")  # type: ignore[arg-type]
    assert "HTTP 201" in _both(err.value).en
    with pytest.raises(CriterionFailed) as err:
        checks.check_rejected(FakeResponse(400, "<html>bad</html>", "text/html"), "POST Patient")  # type: ignore[arg-type]
    assert "OperationOutcome" in _both(err.value).en
    checks.check_rejected(FakeResponse(422, OO), "POST Patient")  # type: ignore[arg-type]


def test_zero_items_compared_is_not_tested() -> None:
    with pytest.raises(NotTested) as nt:
        checks.require_judged(0, Text("Không có gì để so.", "Nothing to compare."))
    _both(nt.value)
    checks.require_judged(1, Text("Không có gì để so.", "Nothing to compare."))


def test_undeclared_optional_is_not_applicable_and_shall_is_tested() -> None:
    with pytest.raises(NotApplicable) as na:
        checks.gate("SHOULD", False, "Patient vread")
    assert "SHOULD" in _both(na.value).en
    checks.gate("SHALL", False, "Patient read")  # SHALL: tested whatever the target declares
    checks.gate("MAY", True, "Patient delete")


def test_bundle_entries_refuses_a_non_bundle_bilingually() -> None:
    with pytest.raises(CriterionFailed) as err:
        checks.bundle_entries({"resourceType": "OperationOutcome"})
    _both(err.value)
