"""``vhr xml validate | to-fhir | generate``."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.markup import escape

from vhr_conformance.i18n import Text, UserError
from vhr_conformance.xml130.issues import XmlIssue, count
from vhr_conformance.xml130.tables import DEFAULT_STANDARD, available_standards
from vhr_conformance.xml130.validate import validate_source, xml_files

console = Console()
xml_app = typer.Typer(
    name="xml",
    help="XML 130 (4750/3176): kiểm tra, chuyển sang FHIR, sinh dữ liệu / validate, convert to FHIR, generate.",
    no_args_is_help=True,
)
SEV_STYLE = {"fatal": "bold red", "error": "red", "warning": "yellow", "information": "cyan"}


def _files(paths: list[Path]) -> list[Path]:
    for p in paths:
        if not p.exists():
            raise UserError(Text("Không tìm thấy {p}", "{p} not found").format(p=p))
    files = list(xml_files(paths))
    if not files:
        raise UserError(
            Text("Không có tệp .xml nào trong {p}", "No .xml files in {p}").format(
                p=", ".join(map(str, paths))
            )
        )
    return files


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
    files = _files(paths)
    totals = dict.fromkeys(("fatal", "error", "warning", "information"), 0)
    n_enc = n_bad = 0
    reports = []
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
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_bytes(orjson.dumps({"standard": std, "files": reports}, option=orjson.OPT_INDENT_2))
    failed = totals["fatal"] + totals["error"] > 0
    console.print(
        Text(
            "{f} tệp, {e} hồ sơ ({b} có lỗi): {x} lỗi nghiêm trọng, {r} lỗi, {w} cảnh báo",
            "{f} files, {e} encounters ({b} with errors): {x} fatal, {r} errors, {w} warnings",
        )
        .format(f=len(files), e=n_enc, b=n_bad, x=totals["fatal"], r=totals["error"], w=totals["warning"])
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
) -> None:
    """Chuyển XML 130 sang Bundle FHIR / convert XML 130 to one FHIR transaction Bundle per encounter."""
    from vhr_conformance.xml130.convert import convert_file

    std = _standard(standard)
    files = _files(paths)
    out.mkdir(parents=True, exist_ok=True)
    written = skipped = normalised = meaning = 0
    unmapped: dict[str, int] = {}
    per_encounter = []
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
            name = _safe(res.ma_lk or f"{f.stem}-{res.index}")
            (out / f"{name}.json").write_bytes(orjson.dumps(res.bundle, option=orjson.OPT_INDENT_2))
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
        "encounters": per_encounter,
    }
    (out / "conversion-report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
    )
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

    out.mkdir(parents=True, exist_ok=True)
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
        None, "--server", help="URL gốc FHIR của nhà cung cấp / vendor FHIR base URL"
    ),
    bearer: str | None = typer.Option(
        None, "--bearer", envvar="VHR_BEARER_TOKEN", help="Token truy cập / bearer token for --server"
    ),
    standard: str = typer.Option(DEFAULT_STANDARD, "--standard", help="4750 | 3176"),
    json_out: Path | None = typer.Option(
        None, "--json", help="Ghi các khác biệt ra JSON / write differences as JSON"
    ),
) -> None:
    """So FHIR của nhà cung cấp với XML 130 / check a vendor's FHIR against its XML 130 (MAP criteria)."""
    from vhr_conformance.xml130.convert import convert_file
    from vhr_conformance.xml130.fidelity import compare, criteria_results, fetch_vendor

    std = _standard(standard)
    files = _files(paths)
    if (fhir is None) == (server is None):
        raise UserError(
            Text("Cần đúng một trong --fhir hoặc --server", "Give exactly one of --fhir or --server")
        )
    if fhir is not None and not fhir.exists():
        raise UserError(Text("Không tìm thấy {p}", "{p} not found").format(p=fhir))
    vendor: list[dict] = []
    for f in [] if fhir is None else [fhir] if fhir.is_file() else sorted(fhir.rglob("*.json")):
        try:
            doc = orjson.loads(f.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise UserError(
                Text("JSON sai trong {f}: {e}", "Bad JSON in {f}: {e}").format(f=f, e=exc)
            ) from None
        vendor.extend(doc if isinstance(doc, list) else [doc])
    results = []
    n_diff = 0
    for f in files:
        for conv in convert_file(f, standard=std):
            if conv.bundle is None:
                continue
            if server is not None:
                vendor = fetch_vendor(
                    server, conv.ma_lk, headers={"Authorization": f"Bearer {bearer}"} if bearer else None
                )
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
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(
        Text("{e} hồ sơ so sánh, {d} khác biệt", "{e} encounters compared, {d} differences")
        .format(e=len(results), d=n_diff)
        .in_lang(),
        style="red" if n_diff else "green",
        highlight=False,
    )
    if n_diff:
        raise SystemExit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(xml_app, name="xml")
