"""`vhr audit --ndjson DIR`: the data-quality audit of a store's own data; `vhr audit plant`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from vhr_conformance.i18n import Text

console = Console()


def register(app: typer.Typer) -> None:
    audit = typer.Typer(help="Kiểm tra chất lượng dữ liệu / data-quality audit", no_args_is_help=True)
    app.add_typer(audit, name="audit")

    @audit.command("run")
    def run(
        ndjson: list[Path] = typer.Option(
            [], "--ndjson", help="Tệp/thư mục NDJSON / NDJSON files or folders"
        ),
        target: str = typer.Option(
            None, "--target", help="URL gốc FHIR: đọc bằng $export / FHIR base URL ($export)"
        ),
        auth: str = typer.Option("none", "--auth", help="none | bearer | client-credentials | smart-backend"),
        auth_config: Path = typer.Option(
            None, "--auth-config", help="YAML/JSON: token_url, client_id, secrets"
        ),
        ca_bundle: Path = typer.Option(None, "--ca-bundle", help="PEM CA bundle (private CA)"),
        sample: int = typer.Option(
            1000, "--sample", help="Không có $export: số tài nguyên mỗi loại / per type"
        ),
        out: Path = typer.Option(Path("reports/audit"), "--out", help="Thư mục kết quả / output folder"),
        workers: int = typer.Option(
            0, "--workers", help="Số tiến trình (0 = số lõi) / processes (0 = cores)"
        ),
        now: str = typer.Option(
            None, "--now", help="Mốc thời gian đo độ mới (ISO) / reference time for freshness"
        ),
        scheduler: str = typer.Option(
            None,
            "--scheduler",
            help="Địa chỉ bộ lập lịch Dask (tcp://host:8786) / Dask scheduler address",
        ),
        dask_local: int = typer.Option(
            0,
            "--dask-local",
            help="Chạy trên cụm Dask cục bộ N tiến trình (127.0.0.1) / Dask LocalCluster of N processes",
        ),
    ) -> None:
        """Đo đúng – đủ – sạch – sống / measure correct, complete, clean, live."""
        import os

        from vhr_conformance.audit.engine import AuditOptions, run_audit

        if out.exists() and not out.is_dir():
            from vhr_conformance.i18n import UserError

            raise UserError(Text("--out phải là thư mục.", "--out must be a folder."), location=str(out))
        sources = list(ndjson)
        source: dict[str, object] = {"mode": "ndjson"}
        if target:
            from vhr_conformance.audit.export import read_target

            source = read_target(
                target,
                out / "export",
                auth=auth,
                auth_config=str(auth_config) if auth_config else None,
                ca_bundle=str(ca_bundle) if ca_bundle else None,
                sample=sample,
            )
            console.print(f"{source['mode']}: {out / 'export'}", highlight=False)
            sources.append(out / "export")
            if ndjson:
                source["alsoNdjson"] = True
        if not sources:
            from vhr_conformance.i18n import UserError

            raise UserError(
                Text("Cần --ndjson hoặc --target.", "--ndjson or --target is needed."),
                location="vhr audit run",
            )
        if scheduler and dask_local:
            from vhr_conformance.i18n import UserError

            raise UserError(
                Text(
                    "Chọn --scheduler hoặc --dask-local, không cả hai.",
                    "Pick --scheduler or --dask-local, not both.",
                ),
                location="vhr audit run",
            )
        if dask_local < 0:
            from vhr_conformance.i18n import UserError

            raise UserError(Text("Cần số dương.", "A positive number is needed."), location="--dask-local")
        options = AuditOptions(
            sources,
            out,
            workers=workers or (os.cpu_count() or 1),
            scheduler=scheduler,
            dask_local=dask_local,
            source=source,
        )
        if now:
            import datetime as dt

            from vhr_conformance.i18n import UserError

            try:
                options.now = dt.datetime.fromisoformat(now)
            except ValueError:
                raise UserError(
                    Text("Thời điểm không hợp lệ.", "Invalid instant."), location="--now"
                ) from None
            if options.now.tzinfo is None:
                options.now = options.now.replace(tzinfo=dt.UTC)
        result = run_audit(options)
        console.print(
            Text(
                "{n} bản ghi · {i} không hợp lệ · {d} nhóm trùng · {o} tham chiếu treo · {l} lượt khám muộn → {p}",
                "{n} records · {i} invalid · {d} duplicate groups · {o} dangling references · {l} late encounters → {p}",
            )
            .format(
                n=result["records"],
                i=result["invalidResources"],
                d=len(result["duplicatePatients"]["probableGroups"]),
                o=len(result["orphanReferences"]),
                l=len(result["lateEncounters"]),
                p=out / "audit.html",
            )
            .in_lang(),
            highlight=False,
            soft_wrap=True,
        )

    @audit.command("plant")
    def plant_cmd(
        out: Path = typer.Option(..., "--out", help="Thư mục kết quả / output folder"),
        patients: int = typer.Option(200, "--patients"),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """Sinh dữ liệu mô phỏng có lỗi cài sẵn / write a dataset with planted defects (and truth.json)."""
        from vhr_conformance.audit.plant import plant

        truth = plant(out, patients, seed)
        console.print(
            Text("Đã ghi {n} tài nguyên vào {p}", "Wrote {n} resources to {p}")
            .format(n=truth["resources"], p=out)
            .in_lang()
        )

    @audit.command("verdicts")
    def verdicts_cmd(
        audit_json: Path = typer.Argument(
            ..., help="audit.json của vhr audit run / written by vhr audit run"
        ),
        thresholds: Path = typer.Option(
            None, "--thresholds", help="Tệp ngưỡng YAML / thresholds file (default: the package's)"
        ),
        as_json: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
    ) -> None:
        """Kết luận tiêu chí QUAL trên dữ liệu của kho / QUAL criteria verdicts on the store's data."""
        import orjson

        from vhr_conformance.audit.verdicts import verdicts_from_file

        verdicts = verdicts_from_file(audit_json, thresholds)
        if as_json:
            typer.echo(orjson.dumps([v.as_json() for v in verdicts], option=orjson.OPT_INDENT_2).decode())
            return
        for v in verdicts:
            console.print(
                f"{v.criterion} {v.level:<6} {v.state!s:<10} {v.message.in_lang()}",
                highlight=False,
                soft_wrap=True,
            )
