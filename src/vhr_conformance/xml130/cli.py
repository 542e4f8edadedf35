"""``vhr xml validate | to-fhir | generate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape

from vhr_conformance.i18n import Text, UserError
from vhr_conformance.inputs import InputProblem, read_input, walk
from vhr_conformance.runconfig import (
    AUTH_CONFIG_HELP,
    AUTH_HELP,
    CA_BUNDLE_HELP,
    CONFIG_HELP,
    RunConfig,
    build,
)
from vhr_conformance.xml130.issues import XmlIssue, count
from vhr_conformance.xml130.tables import DEFAULT_STANDARD, available_standards
from vhr_conformance.xml130.validate import validate_source

console = Console()
xml_app = typer.Typer(
    name="xml",
    help="XML 130 (4750/3176): kiểm tra, chuyển sang FHIR, sinh dữ liệu / validate, convert to FHIR, generate.",
    no_args_is_help=True,
)
SEV_STYLE = {"fatal": "bold red", "error": "red", "warning": "yellow", "information": "cyan"}


def _files(paths: list[Path]) -> tuple[list[Path], list[XmlIssue]]:
    """The XML files to read, and a fatal issue for each folder or entry that cannot be read."""
    files: list[Path] = []
    problems: list[XmlIssue] = []
    for p in paths:
        if not p.exists() and not p.is_symlink():
            raise UserError(Text("Không tìm thấy {p}", "{p} not found").format(p=p), location=str(p))
        if not p.is_dir():
            files.append(p)
            continue
        for f, problem in walk(p, lambda q: q.suffix.lower() == ".xml"):
            if problem is None:
                files.append(f)
            else:
                problems.append(
                    XmlIssue("fatal", "exception", "ENVELOPE", "XML130-ENV-000", problem.text, None, str(f))
                )
    if not files and not problems:
        raise UserError(
            Text("Không có tệp .xml nào trong {p}", "No .xml files in {p}").format(
                p=", ".join(map(str, paths))
            )
        )
    return files, problems


def _output_file(path: Path, option: str) -> Path:
    """A file the command will write: refused cleanly if it is a folder or its parent cannot be made."""
    if path.is_dir():
        raise UserError(
            Text("{o} phải là một tệp, không phải thư mục", "{o} must be a file, not a folder").format(
                o=option
            ),
            location=str(path),
        )
    _output_dir(path.parent, option)
    return path


def _output_dir(path: Path, option: str) -> Path:
    """A folder the command will write into: refused cleanly if it is a file or cannot be created."""
    if path.exists() and not path.is_dir():
        raise UserError(
            Text("{o} phải là một thư mục, không phải tệp", "{o} must be a folder, not a file").format(
                o=option
            ),
            location=str(path),
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            Text("Không tạo được thư mục {o}: {e}", "cannot create the {o} folder: {e}").format(
                o=option, e=exc.strerror or exc
            ),
            location=str(exc.filename or path),
        ) from None
    return path


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise UserError(
            Text("Không ghi được tệp: {e}", "cannot write the file: {e}").format(e=exc.strerror or exc),
            location=str(path),
        ) from None


def _standard(standard: str) -> str:
    if standard not in available_standards():
        raise UserError(
            Text("Phiên bản không hỗ trợ: {s} (có: {k})", "Unsupported standard {s} (known: {k})").format(
                s=standard, k=", ".join(available_standards())
            )
        )
    return standard


def _print_issue(i: XmlIssue) -> None:
    style = SEV_STYLE.get(i.severity, "")
    console.print(
        f"[{style}]{i.severity:<11}[/] {escape(i.where())} [dim]{i.rule}[/]\n"
        f"            {escape(i.text.in_lang())}",
        highlight=False,
    )


@xml_app.command("validate")
def validate_cmd(
    paths: list[Path] = typer.Argument(..., help="Tệp hoặc thư mục XML / XML files or directories"),
    standard: str = typer.Option(DEFAULT_STANDARD, "--standard", help="4750 | 3176"),
    json_out: Path | None = typer.Option(None, "--json", help="Ghi báo cáo JSON / write a JSON report"),
    show_info: bool = typer.Option(False, "--info", help="Hiện cả thông tin / also show information issues"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Chỉ in tổng kết / summary only"),
) -> None:
    """Kiểm tra tệp XML 130 / validate XML 130 envelope files. Exit 1 when any error is found."""
    std = _standard(standard)
    if json_out is not None:
        _output_file(json_out, "--json")
    files, unreadable = _files(paths)
    totals = dict.fromkeys(("fatal", "error", "warning", "information"), 0)
    n_enc = n_bad = 0
    reports: list[dict[str, Any]] = []
    for issue in unreadable:
        totals["fatal"] += 1
        _print_issue(issue)
        reports.append({"file": issue.file, "ok": False, "issues": [issue.to_dict()], "encounters": []})
    for f in files:
        rep = validate_source(f, name=str(f), standard=std)
        issues = list(rep.all_issues())
        for k, v in count(issues).items():
            totals[k] += v
        n_enc += len(rep.encounters)
        n_bad += sum(not e.ok for e in rep.encounters)
        if not quiet:
            for i in issues:
                if i.severity != "information" or show_info:
                    _print_issue(i)
        if json_out:
            reports.append(
                {
                    "file": rep.file,
                    "ok": rep.ok,
                    "issues": [i.to_dict() for i in rep.issues],
                    "encounters": [
                        {
                            "ma_lk": e.ma_lk,
                            "index": e.index,
                            "ok": e.ok,
                            "issues": [i.to_dict() for i in e.issues],
                        }
                        for e in rep.encounters
                    ],
                }
            )
    if json_out:
        _write(json_out, orjson.dumps({"standard": std, "files": reports}, option=orjson.OPT_INDENT_2))
    failed = totals["fatal"] + totals["error"] > 0
    console.print(
        Text(
            "{f} tệp, {e} hồ sơ ({b} có lỗi): {x} lỗi nghiêm trọng, {r} lỗi, {w} cảnh báo",
            "{f} files, {e} encounters ({b} with errors): {x} fatal, {r} errors, {w} warnings",
        )
        .format(
            f=len(files) + len(unreadable),
            e=n_enc,
            b=n_bad,
            x=totals["fatal"],
            r=totals["error"],
            w=totals["warning"],
        )
        .in_lang(),
        style="red" if failed else "green",
        highlight=False,
    )
    if failed:
        # SystemExit, not typer.Exit: the root CLI runs click with standalone_mode=False, where
        # typer.Exit's code would be returned and lost.
        raise SystemExit(1)


@xml_app.command("to-fhir")
def to_fhir_cmd(
    paths: list[Path] = typer.Argument(..., help="Tệp hoặc thư mục XML / XML files or directories"),
    out: Path = typer.Option(..., "--out", help="Thư mục kết quả / output directory"),
    standard: str = typer.Option(DEFAULT_STANDARD, "--standard", help="4750 | 3176"),
    strict: bool = typer.Option(False, "--strict", help="Bỏ qua hồ sơ có lỗi / skip encounters with errors"),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Ghi đè Bundle đã có trong --out / replace Bundles already in --out"
    ),
) -> None:
    """Chuyển XML 130 sang Bundle FHIR / convert XML 130 to one FHIR transaction Bundle per encounter.

    Nothing is overwritten silently: two encounters with the same MA_LK get distinct file names
    (both listed in the conversion report), and a Bundle already in --out is kept unless --overwrite."""
    from vhr_conformance.xml130.convert import convert_file

    std = _standard(standard)
    files, unreadable = _files(paths)
    _output_dir(out, "--out")
    written = skipped = normalised = meaning = 0
    for issue in unreadable:
        skipped += 1
        _print_issue(issue)
    unmapped: dict[str, int] = {}
    per_encounter = []
    used: set[str] = set()
    renamed: list[dict[str, str]] = []
    for f in files:
        for res in convert_file(f, standard=std):
            counts = count(res.issues)
            entry = {
                "file": str(f),
                "index": res.index,
                "ma_lk": res.ma_lk,
                "bundle": None,
                "errors": counts["fatal"] + counts["error"],
                "warnings": counts["warning"],
                "unmapped": res.unmapped,
                "normalised": [n.as_dict() for n in res.normalised],
            }
            per_encounter.append(entry)
            normalised += len(res.normalised)
            meaning += sum(n.changes_meaning for n in res.normalised)
            if res.bundle is None or (strict and not res.ok):
                skipped += 1
                for i in res.issues:
                    if i.is_error:
                        _print_issue(i)
                continue
            base = name = _safe(res.ma_lk or f"{f.stem}-{res.index}")
            n = 1
            while name in used:  # same MA_LK twice in this conversion: keep both, say so
                n += 1
                name = f"{base}-{n}"
            if name != base:
                renamed.append({"ma_lk": res.ma_lk or "", "file": str(f), "bundle": f"{name}.json"})
            used.add(name)
            target = out / f"{name}.json"
            if target.exists() and not overwrite:
                raise UserError(
                    Text(
                        "Tệp đã có từ lần chuyển trước; thêm --overwrite để ghi đè, hoặc chọn --out khác.",
                        "The file exists from an earlier conversion; pass --overwrite to replace it, or another --out.",
                    ),
                    location=str(target),
                )
            _write(target, orjson.dumps(res.bundle, option=orjson.OPT_INDENT_2))
            entry["bundle"] = f"{name}.json"
            written += 1
            for u in res.unmapped:
                unmapped[u] = unmapped.get(u, 0) + 1
    report = {
        "standard": std,
        "written": written,
        "skipped": skipped,
        "unmapped": [{"field": k, "encounters": v} for k, v in sorted(unmapped.items())],
        "normalised": normalised,
        "meaning_changed": meaning,
        "duplicate_ma_lk": renamed,
        "encounters": per_encounter,
    }
    _write(out / "conversion-report.json", json.dumps(report, ensure_ascii=False, indent=2).encode("utf-8"))
    console.print(
        Text(
            "Đã ghi {w} Bundle, bỏ qua {s}; {u} trường có dữ liệu chưa ánh xạ; {n} giá trị được chuẩn hóa,"
            " {c} trong đó đổi nghĩa (xem conversion-report.json)",
            "Wrote {w} Bundles, skipped {s}; {u} fields with data left unmapped; {n} values normalised,"
            " {c} of them changing meaning (see conversion-report.json)",
        )
        .format(w=written, s=skipped, u=len(unmapped), n=normalised, c=meaning)
        .in_lang(),
        highlight=False,
    )
    if skipped:
        raise SystemExit(1)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:120]


@xml_app.command("generate")
def generate_cmd(
    out: Path = typer.Option(..., "--out", help="Thư mục kết quả / output directory"),
    count_: int = typer.Option(10, "--count", help="Số hồ sơ mô phỏng / number of synthetic encounters"),
    seed: int = typer.Option(130, "--seed"),
    from_fixtures: Path | None = typer.Option(
        None,
        "--from-fixtures",
        help="Thư mục Bundle FHIR cần tạo bản XML / FHIR Bundles to render as XML twins",
    ),
    from_generator: int = typer.Option(
        0,
        "--from-generator",
        help="Tạo bản XML cho N người bệnh của bộ sinh FHIR / XML twins of N generated patients",
    ),
    negative: bool = typer.Option(False, "--negative", help="Thêm ca âm tính / also write negative cases"),
) -> None:
    """Sinh tệp XML 130 mô phỏng / write synthetic XML 130 envelopes (and XML twins of FHIR fixtures)."""
    from vhr_conformance.xml130 import synth

    _output_dir(out, "--out")
    n = 0
    if from_fixtures is not None:
        if not from_fixtures.is_dir():
            raise UserError(
                Text("Không tìm thấy thư mục {p}", "Directory {p} not found").format(p=from_fixtures)
            )
        for f in sorted(from_fixtures.glob("*.json")):
            try:
                bundle = orjson.loads(f.read_bytes())
            except orjson.JSONDecodeError as exc:
                raise UserError(
                    Text("JSON sai trong {f}: {e}", "Bad JSON in {f}: {e}").format(f=f, e=exc)
                ) from None
            if bundle.get("resourceType") != "Bundle":
                continue
            for k, (ma_lk, data) in enumerate(synth.bundle_to_envelopes(bundle), 1):
                (out / f"{f.stem}-{k:02d}-{_safe(ma_lk)}.xml").write_bytes(data)
                n += 1
    elif from_generator > 0:
        from vhr_conformance.generator import generate_patients

        for p, bundle in enumerate(generate_patients(from_generator, seed=seed)):
            for k, (ma_lk, data) in enumerate(synth.bundle_to_envelopes(bundle), 1):
                (out / f"patient-{p:05d}-{k:02d}-{_safe(ma_lk)}.xml").write_bytes(data)
                n += 1
    else:
        for i, data in enumerate(synth.synthetic_envelopes(count_, seed=seed), 1):
            (out / f"synthetic-{i:05d}.xml").write_bytes(data)
            n += 1
    if negative:
        neg = out / "negative"
        neg.mkdir(exist_ok=True)
        manifest = []
        for case in synth.negative_cases(seed):
            (neg / f"{case.name}.xml").write_bytes(case.data)
            manifest.append(
                {
                    "file": f"{case.name}.xml",
                    "rule": case.rule,
                    "location": case.location,
                    "description": case.description,
                }
            )
        (neg / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    console.print(Text("Đã ghi {n} tệp vào {o}", "Wrote {n} files to {o}").format(n=n, o=out).in_lang())


@xml_app.command("compare")
def compare_cmd(
    paths: list[Path] = typer.Argument(..., help="Tệp hoặc thư mục XML / XML files or directories"),
    fhir: Path | None = typer.Option(
        None, "--fhir", help="Tệp/thư mục JSON FHIR của nhà cung cấp / vendor FHIR JSON file or dir"
    ),
    server: str | None = typer.Option(
        None,
        "--target",
        "--server",
        help="URL gốc FHIR của nhà cung cấp / vendor FHIR base URL (else vhr.toml)",
    ),
    auth: str | None = typer.Option(None, "--auth", help=AUTH_HELP + " (else vhr.toml)"),
    auth_config: Path | None = typer.Option(None, "--auth-config", help=AUTH_CONFIG_HELP),
    ca_bundle: Path | None = typer.Option(None, "--ca-bundle", help=CA_BUNDLE_HELP),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
    standard: str = typer.Option(DEFAULT_STANDARD, "--standard", help="4750 | 3176"),
    json_out: Path | None = typer.Option(
        None, "--json", help="Ghi các khác biệt ra JSON / write differences as JSON"
    ),
) -> None:
    """So FHIR của nhà cung cấp với XML 130 / check a vendor's FHIR against its XML 130 (MAP criteria)."""
    from vhr_conformance.xml130.convert import convert_file
    from vhr_conformance.xml130.fidelity import compare, criteria_results, fetch_vendor

    std = _standard(standard)
    if json_out is not None:
        _output_file(json_out, "--json")
    files, unreadable = _files(paths)
    for issue in unreadable:
        _print_issue(issue)
    if fhir is not None and server is not None:
        raise UserError(
            Text("Cần đúng một trong --fhir hoặc --target", "Give exactly one of --fhir or --target")
        )
    rc = None
    if fhir is None:  # the vendor's server: named here or in vhr.toml, with the credentials of every command
        rc = build(
            config,
            target=server,
            auth=auth,
            auth_config=auth_config,
            ca_bundle=ca_bundle,
            command="xml compare",
        )
        if not rc.target:
            raise UserError(
                Text("Cần đúng một trong --fhir hoặc --target", "Give exactly one of --fhir or --target")
            )
        server = rc.target
    if fhir is not None and not fhir.exists():
        raise UserError(Text("Không tìm thấy {p}", "{p} not found").format(p=fhir))
    vendor: list[dict] = []
    vendor_files: list[tuple[Path, InputProblem | None]] = []
    if fhir is not None:
        vendor_files = (
            list(walk(fhir, lambda q: q.suffix.lower() == ".json")) if fhir.is_dir() else [(fhir, None)]
        )
    for f, problem in vendor_files:
        try:
            if problem is not None:
                raise problem
            doc = orjson.loads(read_input(f))
        except InputProblem as exc:  # named, like the XML side; the comparison goes on without it
            unreadable.append(
                XmlIssue("fatal", "exception", "FHIR", "XML130-ENV-000", exc.text, None, str(f))
            )
            _print_issue(unreadable[-1])
            continue
        except orjson.JSONDecodeError as exc:
            raise UserError(
                Text("JSON sai trong {f}: {e}", "Bad JSON in {f}: {e}").format(f=f, e=exc),
                location=f"{f}:{exc.lineno}:{exc.colno}",
            ) from None
        vendor.extend(doc if isinstance(doc, list) else [doc])
    results = []
    n_diff = 0
    vendor_http: _BoundedVendor | None = None
    for f in files:
        for conv in convert_file(f, standard=std):
            if conv.bundle is None:
                continue
            if server is not None and rc is not None:
                if vendor_http is None:
                    vendor_http = _BoundedVendor(rc)
                vendor = fetch_vendor(server, conv.ma_lk, client=vendor_http)
            diffs = compare(conv.bundle, vendor, conv.ma_lk)
            n_diff += len(diffs)
            verdict = criteria_results(diffs)
            for d in diffs:
                console.print(
                    f"[red]{d.criterion}[/] {escape(conv.ma_lk)} {escape(d.text.in_lang())}", highlight=False
                )
            results.append(
                {
                    "file": str(f),
                    "ma_lk": conv.ma_lk,
                    "criteria": verdict,
                    "differences": [d.to_dict() for d in diffs],
                }
            )
    if vendor_http is not None:
        vendor_http.close()
    if json_out:
        _write(json_out, json.dumps(results, ensure_ascii=False, indent=2).encode("utf-8"))
    console.print(
        Text("{e} hồ sơ so sánh, {d} khác biệt", "{e} encounters compared, {d} differences")
        .format(e=len(results), d=n_diff)
        .in_lang(),
        style="red" if n_diff else "green",
        highlight=False,
    )
    if n_diff or unreadable:
        raise SystemExit(1)


class _VendorAnswer:
    """The two things `fetch_vendor` reads of an answer, from a bounded `FhirClient` response."""

    def __init__(self, status: int, content: bytes) -> None:
        self.status_code = status
        self._content = content

    def json(self) -> Any:
        return orjson.loads(self._content)  # JSONDecodeError is a ValueError, as fetch_vendor expects


class _BoundedVendor:
    """`fetch_vendor`'s HTTP client, through `FhirClient`: the vendor's endpoint gets the harness's
    bounds (size, decompression, deadline, transfer rate) and its origin guard on paging links."""

    def __init__(self, rc: RunConfig) -> None:
        from vhr_conformance.client import FhirClient

        tokens = rc.tokens(timeout=30.0) if rc.auth.mode != "none" else None
        self._client = FhirClient(rc.target or "", tokens=tokens, timeout=30.0, retries=1, verify=rc.verify())

    def get(self, url: str, params: Any = None) -> _VendorAnswer:
        import httpx

        from vhr_conformance.client import InfrastructureError, OffOriginError

        try:
            resp = self._client.get(url, params=params)
        except (InfrastructureError, OffOriginError) as exc:
            # fetch_vendor words transport trouble as a user error from httpx's exception type
            raise httpx.TransportError(str(exc)) from None
        finally:
            self._client.evidence.take()  # nothing keeps the exchanges here
        return _VendorAnswer(resp.status, resp.content)

    def close(self) -> None:
        self._client.close()


def register(app: typer.Typer) -> None:
    app.add_typer(xml_app, name="xml")
