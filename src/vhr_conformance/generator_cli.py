"""``vhr generate`` and ``vhr fixtures``: synthetic cohorts and the checked-in fixture set."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from vhr_conformance.generator.build import REFERENCE_NOW, Options
from vhr_conformance.i18n import Text, UserError

console = Console(stderr=True)


def _parse_now(value: str | None) -> datetime:
    if not value:
        return REFERENCE_NOW
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise UserError(
            Text(
                "Thời điểm --now không hợp lệ: {v} (cần dạng 2026-06-01T09:00).",
                "Invalid --now: {v} (expected e.g. 2026-06-01T09:00).",
            ).format(v=value),
            location="--now",
        ) from None


def generate(
    patients: int = typer.Option(100, "--patients", "-n", min=0, help="Số người bệnh / number of patients"),
    seed: int = typer.Option(0, "--seed", "-s", help="Giá trị khởi tạo bộ sinh số ngẫu nhiên / random seed"),
    out: Path = typer.Option(Path("generated"), "--out", "-o", help="Thư mục ra / output folder"),
    fmt: str = typer.Option("bundle", "--format", "-f", help="bundle | ndjson | both | xml130"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Số tiến trình / worker processes"),
    coverage: bool = typer.Option(False, "--coverage", help="Nhóm phủ tối thiểu / minimal coverage cohort"),
    documents: bool = typer.Option(
        False, "--documents", help="Ghi thêm Bundle tài liệu / also write document Bundles"
    ),
    start: int = typer.Option(
        0, "--start", min=0, help="Số thứ tự người bệnh đầu tiên / first patient index"
    ),
    now: str = typer.Option(None, "--now", help="Thời điểm tham chiếu / reference 'now' (ISO)"),
    pretty: bool = typer.Option(False, "--pretty", help="JSON thụt lề / indented JSON bundles"),
    post_merger_cccd: str = typer.Option(
        "successor",
        "--post-merger-cccd",
        help=(
            "Mã tỉnh đầu CCCD của trẻ sinh sau 01/07/2025: successor (tỉnh mới) | legacy (tỉnh cũ) / "
            "CCCD province prefix of babies born after 01/07/2025: successor (2025 province) | legacy"
        ),
    ),
) -> None:
    """Sinh người bệnh mô phỏng (tất định theo seed) / generate synthetic patients (deterministic per seed)."""
    from vhr_conformance.generator.build import POST_MERGER_CHOICES, Options
    from vhr_conformance.generator.writer import FORMATS, write_cohort

    if post_merger_cccd not in POST_MERGER_CHOICES:
        raise UserError(
            Text(
                "Giá trị --post-merger-cccd không hợp lệ: {v} (successor | legacy).",
                "Invalid --post-merger-cccd: {v} (successor | legacy).",
            ).format(v=post_merger_cccd),
            location="--post-merger-cccd",
        )
    options = Options(post_merger_cccd=post_merger_cccd)

    if fmt not in (*FORMATS, XML130):
        raise UserError(
            Text(
                "Định dạng không hợp lệ: {f} (bundle | ndjson | both | xml130).",
                "Unknown format: {f} (bundle | ndjson | both | xml130).",
            ).format(f=fmt),
            location="--format",
        )
    ref = _parse_now(now)
    if fmt == XML130:
        _write_xml130(out, patients, seed, start, ref, options)
        return
    if coverage:
        from vhr_conformance.generator.coverage import write_coverage

        files = write_coverage(out, seed, ref)
        console.print(f"Nhóm phủ / coverage cohort: {len(files)} → {out}")
        return
    from vhr_conformance.generator.world import build_world

    build_world()  # fail fast (missing IG package) before drawing a progress bar
    jobs = min(jobs, os.cpu_count() or 1, max(1, patients // 100))
    t0 = time.perf_counter()
    with Progress(
        TextColumn("[bold]Sinh / generating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("gen", total=patients)
        stats = write_cohort(
            out,
            patients,
            seed,
            fmt=fmt,
            jobs=jobs,
            start=start,
            documents=documents,
            now=ref,
            pretty=pretty,
            progress=lambda n: bar.advance(task, n),
            options=options,
        )
    dt = time.perf_counter() - t0
    console.print(
        f"{stats.patients} người bệnh / patients, {stats.resources} tài nguyên / resources, "
        f"{stats.files} tệp / files → {out} ({dt:.1f} s, {stats.patients / dt if dt else 0:.0f}/s)"
    )


XML130 = "xml130"


def _write_xml130(out: Path, patients: int, seed: int, start: int, now: datetime, options: Options) -> None:
    """Each patient's transaction Bundle and, beside it, the XML 130 envelope of each of its
    encounters (one file per encounter, as facilities send them): every XML has its FHIR twin."""
    import orjson

    from vhr_conformance.generator import generate_patients
    from vhr_conformance.xml130.synth import bundle_to_envelopes

    bundles_dir, xml_dir = out / "bundles", out / "xml130"
    bundles_dir.mkdir(parents=True, exist_ok=True)
    xml_dir.mkdir(parents=True, exist_ok=True)
    envelopes = 0
    with Progress(
        TextColumn("[bold]Sinh / generating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("gen", total=patients)
        for index, bundle in enumerate(
            generate_patients(patients, seed, start=start, now=now, options=options), start=start
        ):
            (bundles_dir / f"patient-{index:06d}.json").write_bytes(orjson.dumps(bundle))
            for ma_lk, envelope in bundle_to_envelopes(bundle):
                safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in ma_lk) or f"p{index}"
                (xml_dir / f"{safe}.xml").write_bytes(envelope)
                envelopes += 1
            bar.advance(task)
    console.print(f"{patients} người bệnh / patients, {envelopes} hồ sơ XML 130 / XML 130 envelopes → {out}")


def fixtures(
    check: bool = typer.Option(False, "--check", help="Chỉ so sánh / only compare with a fresh generation"),
) -> None:
    """Sinh lại fixtures/ (nhóm phủ, ca âm tính, manifest) / regenerate fixtures/."""
    from vhr_conformance.generator.fixtures import check_fixtures, write_fixtures

    if check:
        diffs = check_fixtures()
        if diffs:
            for d in diffs:
                console.print(f"[red]≠[/] {d}")
            raise UserError(
                Text(
                    "fixtures/ khác với bản sinh mới; chạy `make fixtures`.",
                    "fixtures/ differs from a fresh generation; run `make fixtures`.",
                )
            )
        console.print("fixtures/: khớp / up to date")
        return
    written = write_fixtures()
    console.print(f"fixtures/: {len(written)} tệp / files")


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
    app.command("fixtures")(fixtures)
