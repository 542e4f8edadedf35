"""Starting and stopping the reference server: in a background thread (tests, suites) or as the
`vhr serve` process (optionally several worker processes sharing one SQLite file)."""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
import uvicorn

from vhr_conformance.i18n import Text, UserError
from vhr_conformance.server.app import create_app
from vhr_conformance.server.auditevents import AUDIT_LOG_FILE
from vhr_conformance.server.auth import DEFAULT_CLIENTS, Client, clients_from_json, dumps_clients
from vhr_conformance.server.faults import ActiveFaults
from vhr_conformance.server.model import DEFAULT_AUDIT_RETENTION_S, ServerConfig
from vhr_conformance.server.service import FhirApp

ENV_CONFIG = "VHR_SERVER_CONFIG"


def _loop_and_http() -> tuple[str, str]:
    """uvloop + httptools when installed (much faster), else asyncio + h11."""
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    try:
        import httptools  # noqa: F401

        http = "httptools"
    except ImportError:
        http = "h11"
    return loop, http


def make_config(
    db: str = ":memory:",
    faults: Iterable[str] = (),
    auth: str = "none",
    latency_ms: int = 1500,
    max_body_bytes: int = 20 * 1024 * 1024,
    rate_limit: float | None = None,
    rate_burst: float | None = None,
    clients: tuple[Client, ...] | None = None,
    base_url: str | None = None,
    validate: bool = True,
    token_secret: str | None = None,
    audit_retention_s: float = DEFAULT_AUDIT_RETENTION_S,
) -> ServerConfig:
    if auth not in ("none", "oauth"):
        raise UserError(
            Text("--auth phải là 'none' hoặc 'oauth'.", "--auth must be none or oauth."), location="--auth"
        )
    if db != ":memory:":
        parent = Path(db).expanduser().resolve().parent
        if not parent.is_dir():
            raise UserError(
                Text("Thư mục của CSDL không tồn tại.", "The database folder does not exist."), location=db
            )
    return ServerConfig(
        db=db,
        auth=auth,
        faults=ActiveFaults.parse(faults),
        latency_ms=latency_ms,
        max_body_bytes=max_body_bytes,
        rate_limit=rate_limit,
        rate_burst=rate_burst,
        clients=tuple(DEFAULT_CLIENTS if clients is None else clients),
        token_secret=token_secret or secrets.token_urlsafe(32),
        base_url=base_url,
        validate=validate,
        audit_retention_s=audit_retention_s,
    )


def config_to_env(config: ServerConfig) -> str:
    data: dict[str, Any] = dict(config.__dict__)
    data["faults"] = sorted(config.faults.names)
    data["clients"] = orjson.loads(dumps_clients(config.clients))
    return orjson.dumps(data).decode()


def config_from_env() -> ServerConfig:
    data = orjson.loads(os.environ[ENV_CONFIG])
    data["faults"] = ActiveFaults.of(data["faults"])
    data["clients"] = clients_from_json(orjson.dumps(data["clients"]))
    return ServerConfig(**data)


def app_from_env() -> Any:
    """Application factory for worker processes (`uvicorn --factory`)."""
    return create_app(config_from_env())


class ReferenceServer:
    """The reference VHR FHIR server on a loopback port, in a background thread.

    >>> with ReferenceServer(port=0, db=":memory:", faults=["no-etag"]) as srv:
    ...     httpx.get(srv.base_url + "/metadata")
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str = ":memory:",
        faults: Iterable[str] = (),
        auth: str = "none",
        latency_ms: int = 1500,
        max_body_bytes: int = 20 * 1024 * 1024,
        rate_limit: float | None = None,
        rate_burst: float | None = None,
        clients: tuple[Client, ...] | None = None,
        load: str | Path | None = None,
        validate: bool = True,
        tls: tuple[str, str] | None = None,
        audit_retention_s: float = DEFAULT_AUDIT_RETENTION_S,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.load = load
        self.config = make_config(
            db,
            faults,
            auth,
            latency_ms,
            max_body_bytes,
            rate_limit,
            rate_burst,
            clients,
            validate=validate,
            audit_retention_s=audit_retention_s,
        )
        self.starlette = create_app(self.config)
        # What the thread serves: the server itself, or a wrapper around it (e.g. `vhr listen`'s recorder).
        self.app: Any = self.starlette
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    @property
    def fhir(self) -> FhirApp:
        """The server's state (store, capabilities) for tests that look inside."""
        fhir: FhirApp = self.starlette.state.fhir
        return fhir

    def start(self) -> ReferenceServer:
        # IPPROTO_TCP explicitly: asyncio then sets TCP_NODELAY on accepted connections (with
        # protocol 0 it does not, and delayed ACKs add ~40 ms to small responses).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise UserError(
                Text("Không mở được cổng: {e}", "Cannot bind the port: {e}").format(e=exc),
                location=f"{self.host}:{self.port}",
            ) from None
        self.port = sock.getsockname()[1]
        scheme = "https" if self.tls else "http"
        self.base_url = f"{scheme}://{self.host}:{self.port}"
        self.fhir.set_base_url(self.base_url)
        if self.load:
            self.fhir.load_directory(self.load)
        loop, http = _loop_and_http()
        cfg = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            loop="asyncio",
            http=http,
            lifespan="on",
            ssl_certfile=self.tls[0] if self.tls else None,
            ssl_keyfile=self.tls[1] if self.tls else None,
        )
        del loop  # uvloop's policy is process-wide; a background thread keeps the default loop
        self._server = uvicorn.Server(cfg)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"vhr-server-{self.port}"
        )
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise UserError(
                    Text("Máy chủ tham chiếu không khởi động được.", "The reference server did not start.")
                )
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def save_audit_log(self, folder: Path) -> Text:
        """Write the access log as AuditEvents into `folder` (the embedded server of `vhr run` does
        so into the report folder once stopped, so the log outlives its in-memory database and
        travels in the evidence bundle). Call it before `stop()`, which closes the database.
        → the line to print; a failure is said, never raised."""
        path = folder / AUDIT_LOG_FILE
        try:
            count = self.fhir.audit_events.write_ndjson(path)
        except (OSError, sqlite3.Error) as exc:
            return Text("Không ghi được nhật ký truy cập: {e}", "The access log was not written: {e}").format(
                e=exc
            )
        return Text(
            "Nhật ký truy cập: {n} AuditEvent trong {p}", "Access log: {n} AuditEvents in {p}"
        ).format(n=count, p=path)

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _print_loaded(fhir: FhirApp, folder: str, files: int, count: int) -> None:
    """What --load did, naming every file it did not load and why (never silently)."""
    print(f"đã nạp / loaded {files} files, {count} entries from {folder}", flush=True)
    for where, why in fhir.load_skipped:
        print(f"  không nạp / not loaded {where}: {why.vi} / {why.en}", flush=True)


def serve_forever(
    config: ServerConfig,
    host: str,
    port: int,
    workers: int = 1,
    tls: tuple[str, str] | None = None,
    load: str | None = None,
) -> None:
    """Run `vhr serve` in the foreground until interrupted."""
    loop, http = _loop_and_http()
    scheme = "https" if tls else "http"
    ssl: dict[str, Any] = {"ssl_certfile": tls[0], "ssl_keyfile": tls[1]} if tls else {}
    if config.base_url is None and port:
        config.base_url = f"{scheme}://{host}:{port}"
    if load and config.db != ":memory:":  # file DB: load once, then every worker sees it
        loader = create_app(config)
        loader.state.fhir.set_base_url(config.base_url or f"{scheme}://{host}:{port}")
        files, count = loader.state.fhir.load_directory(load)
        loader.state.fhir.store.close()
        _print_loaded(loader.state.fhir, load, files, count)
    if workers > 1:
        if config.db == ":memory:":
            raise UserError(
                Text("Nhiều worker cần --db là một tệp.", "Several workers need --db to be a file."),
                location="--workers",
            )
        os.environ[ENV_CONFIG] = config_to_env(config)
        uvicorn.run(
            "vhr_conformance.server.runner:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop=loop,
            http=http,
            log_level="warning",
            access_log=False,
            **ssl,
        )
        return
    app = create_app(config)
    if load and config.db == ":memory:":
        app.state.fhir.set_base_url(config.base_url or f"{scheme}://{host}:{port}")
        files, count = app.state.fhir.load_directory(load)
        _print_loaded(app.state.fhir, load, files, count)
    uvicorn.run(app, host=host, port=port, loop=loop, http=http, log_level="warning", access_log=False, **ssl)
