"""``vhr validate``: validate files, folders, NDJSON and stdin; text, JSON lines or OperationOutcome."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from vhr_conformance.i18n import Text, UserError
from vhr_conformance.inputs import InputProblem, read_input, read_stdin, walk
from vhr_conformance.validator.issues import SEVERITY_RANK, Issue, to_operation_outcome
from vhr_conformance.validator.policy import Policy

console = Console()

_SEV_STYLE = {"fatal": "bold red", "error": "red", "warning": "yellow", "information": "cyan"}


FORMATS = ("text", "json", "outcome")
# Files that live beside FHIR resources in a folder but are not resources: package manifests, and
# the reports other `vhr` commands write into their output folders (so an output folder of one
# command is a valid input of `vhr validate`). Named explicitly, they are validated.
_NOT_FHIR = frozenset(
    {
        "package.json",
        ".index.json",
        "package-lock.json",
        "conversion-report.json",  # vhr xml to-fhir
        "coverage-report.json",  # vhr fixtures
        "manifest.json",  # vhr fixtures, report folders
        "truth.json",  # vhr audit plant
        "export-state.json",  # vhr audit run --target
    }
)
FAIL_ON = ("error", "warning", "information")
err_console = Console(stderr=True)


@dataclass
class Result:
    """Issues of one validated unit: a file, or one line of an NDJSON file."""

    source: str
    line: int | None
    issues: list[Issue]


def _fhir_file(path: Path) -> bool:
    return path.suffix.lower() in (".json", ".ndjson", ".jsonl") and path.name not in _NOT_FHIR


def _expand(paths: list[str]) -> Iterator[tuple[str, bytes | None, Path | None, InputProblem | None]]:
    """(name, data, path, problem) per unit; unreadable files and folders come as problems, in place."""
    for p in paths:
        if p == "-":
            try:
                yield "<stdin>", read_stdin(), None, None
            except InputProblem as exc:
                yield "<stdin>", None, None, exc
            continue
        path = Path(p)
        if path.is_dir():
            found = list(walk(path, _fhir_file))
            if not found:
                raise UserError(
                    Text(
                        "Thư mục không có tệp .json/.ndjson nào.", "The folder holds no .json/.ndjson file."
                    ),
                    location=p,
                )
            for f, problem in found:
                yield str(f), None, f, problem
        elif path.exists() or path.is_symlink():
            yield str(path), None, path, None
        else:
            raise UserError(Text("Không tìm thấy tệp hoặc thư mục.", "File or folder not found."), location=p)


def _unreadable(name: str, problem: InputProblem) -> Result:
    """A file or folder that could not be read, reported like a validation result so none is missed."""
    issue = Issue("fatal", "exception", "(file)", "input-read", problem.text)
    return Result(name, None, [issue])


def _looks_ndjson(data: bytes) -> bool:
    lines = [ln for ln in data.splitlines() if ln.strip()]
    if len(lines) < 2:
        return False
    try:
        first = orjson.loads(lines[0])
    except orjson.JSONDecodeError:
        return False
    return isinstance(first, dict) and "resourceType" in first


def _validate_unit(
    validator: Any, name: str, data: bytes, ndjson: bool, profiles: list[str], policy: Policy
) -> list[Result]:
    if not ndjson:
        issues = validator.validate(data, profiles=profiles or None, policy=policy)
        if not (
            any(i.severity == "fatal" and i.rule == "json-syntax" for i in issues) and _looks_ndjson(data)
        ):
            return [Result(name, None, issues)]
    out = []
    for n, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        issues = validator.validate(line, profiles=profiles or None, policy=policy)
        out.append(Result(name, n, issues))
    return out


def _load_validator(igs: list[str]) -> Any:
    from vhr_conformance.validator import Validator

    if not igs:
        return Validator.default()
    from vhr_conformance import fhirpkg

    return Validator.for_packages(fhirpkg.PackageSet.with_dependencies(*igs))


def validate_cmd(
    paths: list[str] | None = typer.Argument(
        None, help="Tệp, thư mục, NDJSON hoặc '-' (stdin) / files, folders, NDJSON or '-' (stdin)"
    ),
    profile: list[str] = typer.Option(
        [], "--profile", help="URL hồ sơ cần kiểm tra thêm / profile canonical URL to check too"
    ),
    ig: list[str] = typer.Option(
        [], "--ig", help="Gói IG khác (thư mục, .tgz hoặc name#version) / another IG package"
    ),
    fmt: str = typer.Option("text", "--format", help="text | json | outcome"),
    fail_on: str = typer.Option(
        "error", "--fail-on", help="error | warning: mức gây mã thoát 1 / severity that makes exit code 1"
    ),
    best_practice: bool = typer.Option(
        False,
        "--best-practice",
        help="Báo cả các ràng buộc thực hành tốt (dom-6…) dạng cảnh báo / also report best-practice invariants (dom-6…) as warnings",
    ),
    suppress: list[str] = typer.Option(
        [],
        "--suppress",
        help="Bỏ qua quy tắc (lặp lại được, cho phép mẫu như 'questionnaire-*') / rule id to leave out (repeatable, patterns allowed)",
    ),
    display: str = typer.Option(
        "error",
        "--display-mismatch",
        help="error | warning | information | ignore: mức cho tên hiển thị sai / severity of a display that does not match its code",
    ),
) -> None:
    """Kiểm tra tài nguyên FHIR theo R4 và IG VHR / validate FHIR resources against R4 and the VHR IG.

    Exit code 0: nothing at or above --fail-on; 1: issues found; 2: usage error.
    """
    try:
        code = _run(paths, profile, ig, fmt, fail_on, Policy(best_practice, frozenset(suppress), display))
    except UserError as exc:
        err_console.print(f"Lỗi / Error: {exc.render()}", markup=False, highlight=False)
        code = 2
    sys.exit(code)


def _run(
    paths: list[str] | None, profile: list[str], ig: list[str], fmt: str, fail_on: str, policy: Policy
) -> int:
    if not paths:
        raise UserError(
            Text(
                "Cần ít nhất một PATH (tệp, thư mục hoặc '-').",
                "At least one PATH is required (file, folder or '-').",
            )
        )
    if fmt not in FORMATS:
        raise UserError(
            Text("--format phải là một trong {v}.", "--format must be one of {v}.").format(
                v=", ".join(FORMATS)
            ),
            location=fmt,
        )
    if fail_on not in FAIL_ON:
        raise UserError(
            Text("--fail-on phải là một trong {v}.", "--fail-on must be one of {v}.").format(
                v=", ".join(FAIL_ON)
            ),
            location=fail_on,
        )
    validator = _load_validator(ig)
    results: list[Result] = []
    for name, data, path, problem in _expand(paths):
        if problem is None and data is None and path is not None:
            try:
                data = read_input(path)
            except InputProblem as exc:
                problem = exc
        if problem is not None or data is None:
            results.append(
                _unreadable(name, problem or InputProblem(name, Text("Không có dữ liệu", "no data")))
            )
            continue
        ndjson = name.lower().endswith((".ndjson", ".jsonl"))
        results.extend(_validate_unit(validator, name, data, ndjson, list(profile), policy))
    threshold = SEVERITY_RANK[fail_on]
    failing = any(SEVERITY_RANK[i.severity] <= threshold for r in results for i in r.issues)
    if fmt == "json":
        for r in results:
            for i in r.issues:
                # line in the file (an NDJSON record is one line), column within it
                row = {"file": r.source, "line": r.line or i.line, "col": i.col, **i.as_dict()}
                sys.stdout.write(orjson.dumps(row).decode() + "\n")
    elif fmt == "outcome":
        if len(results) == 1:
            doc: dict[str, Any] = to_operation_outcome(results[0].issues)
        else:
            doc = {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [
                    {
                        "fullUrl": _source_uri(r),
                        "resource": to_operation_outcome(r.issues),
                    }
                    for r in results
                ],
            }
        sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _print_text(results)
    return 1 if failing else 0


def _source_uri(r: Result) -> str:
    base = "urn:vhr:stdin" if r.source == "<stdin>" else Path(r.source).resolve().as_uri()
    return f"{base}#line={r.line}" if r.line is not None else base


def _print_text(results: list[Result]) -> None:
    table = Table(show_lines=False, title="Kết quả kiểm tra / Validation results")
    table.add_column("Tệp / File", overflow="fold")
    table.add_column("Mức / Severity")
    table.add_column("Vị trí / Location", overflow="fold")
    table.add_column("Quy tắc / Rule", overflow="fold")
    table.add_column("Nội dung / Message", overflow="fold")
    counts = {s: 0 for s in SEVERITY_RANK}
    for r in results:
        src = f"{r.source}:{r.line}" if r.line is not None else r.source
        for i in sorted(r.issues, key=lambda x: SEVERITY_RANK[x.severity]):
            counts[i.severity] += 1
            loc = f"line {r.line}: {i.location}" if r.line is not None else i.location
            if i.position is not None and not i.location.startswith("line "):
                loc += f" ({r.line or i.line}:{i.col})"
            table.add_row(src, f"[{_SEV_STYLE[i.severity]}]{i.severity}[/]", loc, i.rule, i.text.both("\n"))
    if table.row_count:
        console.print(table)
    console.print(
        f"{len(results)} tài nguyên / resources — "
        f"fatal {counts['fatal']}, error {counts['error']}, warning {counts['warning']}, information {counts['information']}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_cmd)
