"""`vhr console`: start the web application, create users, migrate the schema, run workers."""

from __future__ import annotations

import os
import threading

import typer

from vhr_conformance.i18n import Text, UserError


def register(app: typer.Typer) -> None:
    console = typer.Typer(
        help="Bảng điều khiển của Bộ Y tế (web) / the ministry's web console",
        invoke_without_command=True,
        no_args_is_help=False,
    )
    app.add_typer(console, name="console")

    @console.callback()
    def serve(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", "--host", help="Địa chỉ lắng nghe / listen address"),
        port: int = typer.Option(8130, "--port", help="Cổng / port"),
        db: str = typer.Option(
            None, "--db", help="URL cơ sở dữ liệu / database URL (default: embedded SQLite)"
        ),
        workers: int = typer.Option(
            1,
            "--workers",
            min=0,
            help="Luồng chạy trong tiến trình web / in-process workers (0: use `vhr console worker`)",
        ),
        listen_host: str = typer.Option(
            "127.0.0.1", "--listen-host", help="Địa chỉ của phiên nhận / where client-mode sessions listen"
        ),
        listen_public: str = typer.Option(
            None,
            "--listen-public",
            help="URL báo cho nhà cung cấp (qua proxy) / the address vendors are told",
        ),
    ) -> None:
        """Khởi động bảng điều khiển / start the console (127.0.0.1 by default)."""
        if ctx.invoked_subcommand is not None:
            return
        import uvicorn

        from vhr_conformance.console.app import create_app
        from vhr_conformance.console.db import data_dir
        from vhr_conformance.console.worker import Settings

        settings = Settings(data_dir=data_dir(), listen_host=listen_host, listen_public=listen_public)
        application = create_app(db, settings=settings, local_workers=workers)
        typer.echo(f"vhr console: http://{host}:{port}/")
        uvicorn.run(application, host=host, port=port, log_level="warning")

    @console.command("migrate")
    def migrate_cmd(db: str = typer.Option(None, "--db", help="URL cơ sở dữ liệu / database URL")) -> None:
        """Cập nhật lược đồ CSDL / bring the database schema up to date (Alembic)."""
        from vhr_conformance.console.db import make_engine, migrate

        engine = make_engine(db)
        migrate(engine)
        typer.echo(
            f"Đã cập nhật lược đồ / schema up to date: {engine.url.render_as_string(hide_password=True)}"
        )

    @console.command("add-user")
    def add_user(
        name: str = typer.Argument(..., help="Tên đăng nhập / login name"),
        role: str = typer.Option(..., "--role", help="ministry | reviewer | vendor"),
        org: str = typer.Option(None, "--org", help="Tổ chức (vendor) / organisation (vendors)"),
        password_env: str = typer.Option(
            ..., "--password-env", help="Biến môi trường chứa mật khẩu / variable holding the password"
        ),
        db: str = typer.Option(None, "--db", help="URL cơ sở dữ liệu / database URL"),
    ) -> None:
        """Tạo người dùng / create a user (the first administrator, scripts)."""
        from vhr_conformance.console import services
        from vhr_conformance.console.db import make_engine, migrate, sessions

        password = os.environ.get(password_env)
        if not password:
            raise UserError(
                Text("Biến {v} chưa đặt hoặc rỗng.", "The variable {v} is not set or empty.").format(
                    v=password_env
                ),
                location="--password-env",
            )
        engine = make_engine(db)
        migrate(engine)
        with sessions(engine)() as s:
            try:
                services.create_user(s, "cli", name, role, org, password)
            except services.Refused as exc:
                raise UserError(exc.text, location=name) from None
        typer.echo(f"Đã tạo / created: {name} ({role})")

    @console.command("worker")
    def worker_cmd(
        db: str = typer.Option(None, "--db", help="URL cơ sở dữ liệu / database URL"),
        once: bool = typer.Option(False, "--once", help="Chạy một lần chạy rồi thoát / one run, then exit"),
        listen_host: str = typer.Option(
            "127.0.0.1", "--listen-host", help="Địa chỉ của phiên nhận / where client-mode sessions listen"
        ),
        listen_public: str = typer.Option(
            None,
            "--listen-public",
            help="URL báo cho nhà cung cấp (qua proxy) / the address vendors are told",
        ),
    ) -> None:
        """Tiến trình chạy các lần kiểm thử trong hàng đợi / run queued runs from the database."""
        from vhr_conformance.console.app import keys_from_env
        from vhr_conformance.console.db import data_dir, make_engine, migrate, sessions
        from vhr_conformance.console.worker import Settings, loop, work_once

        engine = make_engine(db)
        migrate(engine)
        key, _trust = keys_from_env()
        settings = Settings(
            data_dir=data_dir(), sign_key=key, listen_host=listen_host, listen_public=listen_public
        )
        factory = sessions(engine)
        if once:
            work_once(factory, settings)
            return
        stop = threading.Event()
        try:
            loop(factory, settings, stop)
        except KeyboardInterrupt:
            stop.set()
