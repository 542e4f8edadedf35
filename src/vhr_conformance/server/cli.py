"""`vhr serve`: run the reference VHR FHIR server."""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vhr_conformance.durations import duration_option
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.server.auth import load_clients
from vhr_conformance.server.faults import FAULTS
from vhr_conformance.server.model import DEFAULT_AUDIT_RETENTION
from vhr_conformance.server.runner import make_config, serve_forever

console = Console()
err_console = Console(stderr=True)


def scan_load_folder(folder: Path) -> tuple[int, list[tuple[str, Text, bool]]]:
    """(JSON files found, problems) under a `--load` folder, before the server loads it.

    The loader skips invalid JSON and JSON that is not a loadable resource; this names each such
    file, and each folder it cannot list, so nothing is dropped silently. A problem marked fatal
    (True) would stop or hang the loader itself — an unreadable file, a dangling link, a FIFO, a
    folder named `*.json` — so the server must not start with it.
    """
    problems: list[tuple[str, Text, bool]] = []

    def unreadable(exc: OSError) -> None:
        problems.append(
            (
                str(exc.filename or folder),
                Text("Không đọc được thư mục: {e}", "cannot read the folder: {e}").format(
                    e=exc.strerror or exc
                ),
                False,  # the loader's glob passes over it (silently: hence this line)
            )
        )

    found = 0
    for root, dirs, files in os.walk(folder, onerror=unreadable):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if d.endswith(".json")]:
            if not name.endswith(".json"):
                continue
            found += 1
            path = Path(root) / name
            problem = _load_file_problem(path)
            if problem is not None:
                problems.append((str(path), *problem))
    return found, problems


def _load_file_problem(path: Path) -> tuple[Text, bool] | None:
    if path.is_dir():
        return Text("Một thư mục tên *.json", "a folder named *.json"), True
    if not path.is_file():  # the loader would block on a FIFO, fail on a dangling link
        return Text("Không phải tệp thường", "not a regular file"), True
    try:
        data: Any = orjson.loads(path.read_bytes())
    except OSError as exc:
        return Text("Không đọc được tệp: {e}", "cannot read the file: {e}").format(
            e=exc.strerror or exc
        ), True
    except orjson.JSONDecodeError as exc:
        return Text(
            "JSON không hợp lệ ở dòng {l}, cột {c}: {e}", "invalid JSON at line {l}, column {c}: {e}"
        ).format(l=exc.lineno, c=exc.colno, e=exc.msg), False
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        return Text(
            "Không phải tài nguyên FHIR (thiếu resourceType)", "not a FHIR resource (no resourceType)"
        ), False
    if data["resourceType"] == "Bundle" and data.get("type") not in ("transaction", "batch"):
        return Text(
            "Bundle loại {t} không được nạp (chỉ transaction hoặc batch)",
            "a Bundle of type {t} is not loaded (only transaction or batch)",
        ).format(t=data.get("type")), False
    return None


def check_port(port: int, option: str = "--port") -> int:
    if not 0 <= port <= 65535:
        raise UserError(
            Text("Cổng phải trong khoảng 0–65535.", "The port must be within 0–65535."),
            location=f"{option} {port}",
        )
    return port


SQLITE_MAGIC = b"SQLite format 3\x00"


def check_db(db: str) -> None:
    """An existing `--db` file must be an SQLite database (or empty): never overwrite another file."""
    if db == ":memory:":
        return
    path = Path(db)
    if not path.exists():
        return  # created by the server (which checks its folder)
    if not path.is_file():
        raise UserError(Text("--db phải là một tệp.", "--db must be a file."), location=db)
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise UserError(
            Text("Không đọc được --db: {e}", "cannot read --db: {e}").format(e=exc.strerror or exc),
            location=db,
        ) from None
    if head and head != SQLITE_MAGIC:
        raise UserError(
            Text("--db không phải cơ sở dữ liệu SQLite.", "--db is not an SQLite database."), location=db
        )


def check_tls_pair(cert: Path, key: Path) -> None:
    """Refuse a `--tls CERT KEY` pair the server could not load, before it starts serving."""
    for p in (cert, key):
        if not p.is_file():
            raise UserError(Text("Không tìm thấy tệp TLS.", "TLS file not found."), location=str(p))
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise UserError(
            Text(
                "Chứng chỉ hoặc khóa TLS không dùng được (cần PEM, khóa khớp chứng chỉ): {e}",
                "the TLS certificate or key cannot be used (PEM, a key matching the certificate): {e}",
            ).format(e=exc),
            location=f"{cert} {key}",
        ) from None


def check_clients_file(path: Path) -> None:
    """Refuse a hostile or malformed `--clients` file with a located error before the server reads it."""
    from vhr_conformance.client.auth import read_config_file

    data = read_config_file(path)
    items = data.get("clients") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise UserError(
            Text("Tệp client phải là một danh sách.", "The clients file must hold a list."),
            location=str(path),
        )
    for i, item in enumerate(items):
        where = f"{path} clients[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("client_id"), str | int):
            raise UserError(Text("Client thiếu client_id.", "Client without client_id."), location=where)
        scopes = item.get("scopes")
        if scopes is not None and (
            not isinstance(scopes, list) or not all(isinstance(x, str) for x in scopes)
        ):
            raise UserError(
                Text("scopes phải là danh sách chuỗi.", "scopes must be a list of strings."),
                location=f"{where}.scopes",
            )
        for key in ("client_secret", "public_key", "category", "organization"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise UserError(
                    Text("{k} phải là chuỗi.", "{k} must be a string.").format(k=key),
                    location=f"{where}.{key}",
                )
        public_key = item.get("public_key")
        if public_key and not public_key.lstrip().startswith("-----BEGIN"):
            key_path = path.parent / public_key
            try:
                key_path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise UserError(
                    Text("Không đọc được khóa công khai: {e}", "cannot read the public key: {e}").format(
                        e=exc
                    ),
                    location=f"{where}.public_key {key_path}",
                ) from None


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
    audit_retention: str = typer.Option(
        DEFAULT_AUDIT_RETENTION,
        "--audit-retention",
        help="Thời hạn lưu nhật ký truy cập, ví dụ 3650d, 90d, 12h / how long the access log is kept, e.g. 3650d",
    ),
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
    check_port(port)
    check_db(db)
    if tls is not None:
        check_tls_pair(tls[0], tls[1])
    if load is not None and not load.is_dir():
        raise UserError(Text("--load phải là một thư mục.", "--load must be a folder."), location=str(load))
    if load is not None:
        found, problems = scan_load_folder(load)
        for where, text, _fatal in problems:
            err_console.print(
                f"[yellow]không nạp / not loaded[/] {escape(f'[{where}]')} {escape(text.in_lang())}",
                highlight=False,
                markup=True,
                soft_wrap=True,
            )
        blocking = [where for where, _text, fatal in problems if fatal]
        if blocking:
            raise UserError(
                Text(
                    "Bộ nạp không đọc được {n} mục (xem trên); hãy sửa hoặc bỏ chúng khỏi --load.",
                    "The loader cannot read {n} entries (see above); fix them or take them out of --load.",
                ).format(n=len(blocking)),
                location=blocking[0],
            )
        if problems:
            err_console.print(
                Text(
                    "{n}/{m} tệp JSON trong {d} không nạp được (xem trên)",
                    "{n} of {m} JSON files under {d} cannot be loaded (see above)",
                )
                .format(n=len(problems), m=found, d=load)
                .in_lang(),
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
    if clients is not None:
        check_clients_file(clients)
    config = make_config(
        db=db,
        faults=fault,
        auth=auth,
        latency_ms=latency_ms,
        max_body_bytes=max_body,
        rate_limit=rate_limit,
        clients=load_clients(clients) if clients else None,
        base_url=base_url,
        audit_retention_s=duration_option(audit_retention, "--audit-retention"),
    )
    scheme = "https" if tls else "http"
    console.print(
        f"vhr serve → {scheme}://{host}:{port}  db={db}  auth={auth}  faults={','.join(sorted(config.faults.names)) or '-'}",
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
