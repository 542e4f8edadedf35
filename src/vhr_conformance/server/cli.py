"""`vhr serve`: run the reference VHR FHIR server."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from vhr_conformance.i18n import Text, UserError
from vhr_conformance.server.auth import load_clients
from vhr_conformance.server.faults import FAULTS
from vhr_conformance.server.runner import make_config, serve_forever

console = Console()


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Địa chỉ lắng nghe / bind address"),
    port: int = typer.Option(8080, "--port", help="Cổng / port"),
    db: str = typer.Option(":memory:", "--db", help="Tệp SQLite hoặc :memory: / SQLite file or :memory:"),
    auth: str = typer.Option("none", "--auth", help="none | oauth"),
    tls: tuple[Path, Path] | None = typer.Option(None, "--tls", help="CERT KEY (PEM)"),
    fault: list[str] = typer.Option(
        [], "--fault", help="Bật lỗi giả lập (lặp lại được) / switch on a fault (repeatable)"
    ),
    latency_ms: int = typer.Option(
        1500, "--latency-ms", help="Độ trễ của slow-responses / delay of slow-responses"
    ),
    load: Path | None = typer.Option(
        None, "--load", help="Nạp các bundle JSON trong thư mục / load JSON bundles from a folder"
    ),
    clients: Path | None = typer.Option(
        None, "--clients", help="Tệp YAML/JSON các client OAuth / OAuth clients file"
    ),
    rate_limit: float | None = typer.Option(
        None,
        "--rate-limit",
        help="Yêu cầu/giây mỗi client (mặc định tắt) / requests per second per client (off by default)",
    ),
    max_body: int = typer.Option(
        20 * 1024 * 1024, "--max-body", help="Giới hạn kích thước yêu cầu (byte) / request size limit (bytes)"
    ),
    workers: int = typer.Option(
        1, "--workers", help="Số tiến trình (cần --db là tệp) / worker processes (need a file --db)"
    ),
    base_url: str | None = typer.Option(None, "--base-url", help="URL gốc công khai / public base URL"),
    list_faults: bool = typer.Option(
        False, "--list-faults", help="Liệt kê lỗi giả lập rồi thoát / list faults and exit"
    ),
) -> None:
    """Chạy máy chủ FHIR tham chiếu VHR / run the reference VHR FHIR server."""
    if list_faults:
        table = Table("fault", "mô tả / description")
        for name, f in FAULTS.items():
            table.add_row(name, f.text.both("\n"))
        console.print(table)
        return
    if tls is not None:
        for p in tls:
            if not p.is_file():
                raise UserError(Text("Không tìm thấy tệp TLS.", "TLS file not found."), location=str(p))
    if load is not None and not load.is_dir():
        raise UserError(Text("--load phải là một thư mục.", "--load must be a folder."), location=str(load))
    config = make_config(
        db=db,
        faults=fault,
        auth=auth,
        latency_ms=latency_ms,
        max_body_bytes=max_body,
        rate_limit=rate_limit,
        clients=load_clients(clients) if clients else None,
        base_url=base_url,
    )
    scheme = "https" if tls else "http"
    console.print(
        f"vhr serve → {scheme}://{host}:{port}  db={db}  auth={auth}  faults={','.join(sorted(config.faults)) or '-'}",
        highlight=False,
    )
    serve_forever(
        config,
        host,
        port,
        workers=workers,
        tls=(str(tls[0]), str(tls[1])) if tls else None,
        load=str(load) if load else None,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
