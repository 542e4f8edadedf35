"""The console's ASGI application (Starlette): server-rendered bilingual pages and a JSON API.

Pages work without JavaScript (forms, links, a meta refresh while a run is going). Every form
carries the session's CSRF token; the API takes the session cookie (with an `X-CSRF-Token`
header on writes) or a bearer token from `POST /api/login`. Jinja2 autoescapes everything, so
what came from a vendor's server (evidence bodies, headers, names) is shown as text.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

import orjson
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vhr_conformance.console import security, services
from vhr_conformance.console.db import aware, make_engine, migrate, sessions
from vhr_conformance.console.models import AuditEntry, Certificate, Organisation, Run, User
from vhr_conformance.console.services import Refused
from vhr_conformance.console.worker import LocalPool, Settings
from vhr_conformance.evidence.keys import SigningKey, TrustedKey, load_signing_key, load_trust
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.vendor_config import AUTH_MODES

TEMPLATES = Path(__file__).resolve().parent / "templates"
SIGN_KEY_ENV = "VHR_CONSOLE_SIGN_KEY"
TRUST_ENV = "VHR_CONSOLE_TRUST"
LANGS = ("vi", "en")

STATE_LABELS = {
    "pass": ("Đạt", "Pass"),
    "fail": ("Không đạt", "Fail"),
    "skip": ("Chưa kiểm", "Not tested"),
    "not-tested": ("Chưa kiểm", "Not tested"),
    "not-applicable": ("Không áp dụng", "Not applicable"),
    "error": ("Lỗi hạ tầng", "Error"),
    "attestation": ("Cần xác nhận", "Attestation"),
    "omit": ("Ngoài phạm vi", "Out of scope"),
    "PASS": ("ĐẠT", "PASS"),
    "FAIL": ("KHÔNG ĐẠT", "FAIL"),
    "INCOMPLETE": ("CHƯA ĐỦ", "INCOMPLETE"),
    "INTERRUPTED": ("BỊ NGẮT", "INTERRUPTED"),
    "ERROR": ("LỖI", "ERROR"),
    "queued": ("Đang chờ", "Queued"),
    "running": ("Đang chạy", "Running"),
    "finished": ("Đã xong", "Finished"),
    "valid": ("Còn hiệu lực", "Valid"),
    "expired": ("Hết hạn", "Expired"),
    "revoked": ("Đã thu hồi", "Revoked"),
    "invalid": ("Không hợp lệ", "Invalid"),
    "unknown": ("Không có", "Unknown"),
    "ministry": ("Bộ Y tế", "Ministry"),
    "reviewer": ("Thẩm định viên", "Reviewer"),
    "vendor": ("Nhà cung cấp", "Vendor"),
    "accepted": ("Chấp nhận", "Accepted"),
    "rejected": ("Từ chối", "Rejected"),
}


@dataclass
class Console:
    """Everything one console process shares: database, keys, workers, token signer."""

    engine: Engine
    sessions: sessionmaker[Session]
    settings: Settings
    trust: list[TrustedKey]
    local_workers: int = 0
    tokens: security.Tokens = field(default_factory=lambda: security.Tokens(security.session_secret()))
    pool: LocalPool | None = None


def keys_from_env() -> tuple[SigningKey | None, list[TrustedKey]]:
    """The console's ministry key (`VHR_CONSOLE_SIGN_KEY`, a PEM path) and the keys it trusts: its
    own, plus the trust lists named in `VHR_CONSOLE_TRUST` (paths separated by the OS separator)."""
    key = None
    trust: list[TrustedKey] = []
    if path := os.environ.get(SIGN_KEY_ENV):
        key = load_signing_key(Path(path))
        trust.append(TrustedKey(key.name, key.role, key.public))
    if paths := os.environ.get(TRUST_ENV):
        trust += load_trust([Path(p) for p in paths.split(os.pathsep) if p])
    return key, trust


class SecureHeaders:
    """Headers every answer carries: no framing, no sniffing, scripts and styles only from files of
    the console itself (no inline script runs, so nothing a vendor's server sent can be one)."""

    HEADERS: ClassVar[list[tuple[bytes, bytes]]] = [
        (
            b"content-security-policy",
            b"default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"cache-control", b"no-store"),
    ]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                present = {k.lower() for k, _ in message["headers"]}
                message["headers"] += [(k, v) for k, v in self.HEADERS if k not in present]
            await send(message)

        await self.app(scope, receive, add)


_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))


def lang_of(request: Request) -> str:
    lang = request.query_params.get("lang")
    if lang in LANGS:
        request.session["lang"] = lang
    return str(request.session.get("lang") or "vi")


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = lang_of(request)
    if "csrf" not in request.session:
        request.session["csrf"] = security.new_csrf()

    def t(vi: str, en: str) -> str:
        return vi if lang == "vi" else en

    def label(key: str | None) -> str:
        vi, en = STATE_LABELS.get(str(key), (str(key or "—"), str(key or "—")))
        return t(vi, en)

    def text(value: Text | dict[str, Any] | None) -> str:
        if value is None:
            return ""
        if isinstance(value, Text):
            return value.in_lang(lang)
        return str(value.get(lang) or value.get("en") or "")

    def switch(other: str) -> str:
        """This very page in another language (its query kept, e.g. the certificate id)."""
        query = {k: v for k, v in request.query_params.items() if k != "lang"}
        return f"{request.url.path}?{urlencode({**query, 'lang': other})}"

    flash = request.session.pop("flash", None)
    html = _env.get_template(name).render(
        switch=switch,
        request=request,
        user=ctx.pop("user", None),
        lang=lang,
        t=t,
        label=label,
        text=text,
        csrf=request.session["csrf"],
        flash=Text(*flash) if flash else None,
        path=request.url.path,
        **ctx,
    )
    return HTMLResponse(html, status_code=status)


def flash(request: Request, text: Text) -> None:
    request.session["flash"] = [text.vi, text.en]


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def session_user(request: Request, s: Session) -> User | None:
    uid = request.session.get("uid")
    user = s.get(User, uid) if isinstance(uid, int) else None
    return user if _current(user, request.session.get("pw")) else None


def _current(user: User | None, credential: object) -> bool:
    """An active account whose password did not change since the session or token was made."""
    return (
        user is not None
        and user.active
        and isinstance(credential, str)
        and security.same(credential, security.stamp(user.password_hash))
    )


def bearer_user(request: Request, s: Session) -> User | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    read = console_of(request).tokens.read(header[7:].strip())
    user = s.get(User, read[0]) if read is not None else None
    return user if read is not None and _current(user, read[1]) else None


async def form_of(request: Request) -> dict[str, str]:
    """The posted form, refused unless its CSRF token is the session's."""
    form = await request.form()
    data = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    if not security.same(data.get("csrf"), request.session.get("csrf")):
        raise Refused(
            403,
            Text(
                "Phiên biểu mẫu không hợp lệ (CSRF); tải lại trang.",
                "Invalid form session (CSRF); reload the page.",
            ),
        )
    return data


def _int(value: str | None, what: Text) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        raise Refused(
            400,
            Text("{w}: cần một số nguyên.", "{w_en}: a whole number is needed.").format(
                w=what.vi, w_en=what.en
            ),
        ) from None


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


Handler = Callable[[Request, Session, User | None], Awaitable[Response]]


def page(handler: Handler, login: bool = True) -> Callable[[Request], Awaitable[Response]]:
    """A page: a database session, the logged-in user (or a redirect to the login page), refusals
    rendered as a bilingual error page with their status."""

    async def endpoint(request: Request) -> Response:
        with console_of(request).sessions() as s:
            user = session_user(request, s)
            if login and user is None:
                return RedirectResponse("/login", status_code=303)
            try:
                return await handler(request, s, user)
            except Refused as exc:
                s.rollback()
                return render(request, "error.html", exc.status, user=user, error=exc.text)

    return endpoint


def api(handler: Handler, login: bool = True) -> Callable[[Request], Awaitable[Response]]:
    """An API route: bearer token or session cookie (writes by cookie need X-CSRF-Token)."""

    async def endpoint(request: Request) -> Response:
        with console_of(request).sessions() as s:
            try:
                user = bearer_user(request, s)
                if user is None:
                    user = session_user(request, s)
                    if (
                        login
                        and user is not None
                        and request.method != "GET"
                        and not security.same(
                            request.headers.get("x-csrf-token"), request.session.get("csrf")
                        )
                    ):
                        raise Refused(403, Text("Thiếu X-CSRF-Token.", "X-CSRF-Token is missing."))
                if login and user is None:
                    raise Refused(401, Text("Cần đăng nhập.", "Please log in."))
                return await handler(request, s, user)
            except Refused as exc:
                s.rollback()
                return JSONResponse({"error": {"vi": exc.text.vi, "en": exc.text.en}}, status_code=exc.status)

    return endpoint


async def json_body(request: Request) -> dict[str, Any]:
    # Only application/json: a cross-site form cannot send it without a CORS preflight.
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise Refused(
            415, Text("Cần Content-Type: application/json.", "Content-Type: application/json is needed.")
        )
    try:
        data = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError as exc:
        raise Refused(400, Text("JSON không hợp lệ: {e}", "Invalid JSON: {e}").format(e=exc)) from None
    if not isinstance(data, dict):
        raise Refused(400, Text("Cần một đối tượng JSON.", "A JSON object is needed."))
    return data


# ---------------------------------------------------------------- pages


async def login_page(request: Request, s: Session, user: User | None) -> Response:
    if request.method == "POST":
        form = await form_of(request)
        try:
            who = services.login(
                s,
                form.get("name", ""),
                form.get("password", ""),
                client_address(request),
            )
        except Refused as exc:
            return render(request, "login.html", exc.status, error=exc.text)
        lang = request.session.get("lang")
        request.session.clear()  # a fresh session (and CSRF token) at every login
        request.session.update(
            {
                "uid": who.id,
                "pw": security.stamp(who.password_hash),
                "csrf": security.new_csrf(),
                **({"lang": lang} if lang else {}),
            }
        )
        return RedirectResponse("/", status_code=303)
    return render(request, "login.html", user=user)


async def logout(request: Request, s: Session, user: User | None) -> Response:
    await form_of(request)
    services.audit(s, user, "logout", f"user:{user.name if user else '?'}")
    s.commit()
    lang = request.session.get("lang")
    request.session.clear()
    if lang:  # the language is the reader's, not the account's: it outlives the session
        request.session["lang"] = lang
    return RedirectResponse("/login", status_code=303)


async def dashboard(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    orgs = (
        list(s.scalars(select(Organisation).order_by(Organisation.name))) if user.role == "ministry" else []
    )
    return render(request, "dashboard.html", user=user, rows=services.dashboard(s, user), orgs=orgs)


async def systems_create(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    form = await form_of(request)
    org_id = int(form["organisation"]) if form.get("organisation", "").isdigit() else None
    system = services.create_system(s, user, org_id, form.get("product", ""), form.get("version", ""))
    return RedirectResponse(f"/systems/{system.id}", status_code=303)


async def system_page(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    system = services.get_system(s, user, int(request.path_params["id"]))
    runs = services.visible_runs(s, user, system.id)
    return render(request, "system.html", user=user, system=system, runs=runs, auth_modes=AUTH_MODES)


async def endpoint_create(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    form = await form_of(request)
    system_id = int(request.path_params["id"])
    try:
        services.create_endpoint(
            s,
            user,
            system_id,
            form.get("base_url", ""),
            form.get("auth_mode", "none"),
            form.get("token_url", ""),
            form.get("client_id", ""),
            form.get("scope", ""),
            form.get("secret", ""),
        )
    except UserError as exc:  # no VHR_CONSOLE_KEY: say so on the page
        raise Refused(400, exc.text) from None
    flash(request, Text("Đã thêm địa chỉ FHIR.", "Endpoint added."))
    return RedirectResponse(f"/systems/{system_id}", status_code=303)


async def run_create(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    form = await form_of(request)
    system_id = int(request.path_params["id"])
    target = form.get("target", "embedded")
    embedded = target == "embedded"
    endpoint_id = None if embedded else _int(target, Text("Địa chỉ", "Endpoint"))
    deadline = _int(form.get("deadline_s") or "1800", Text("Thời hạn", "Deadline"))
    run = services.start_run(s, user, system_id, endpoint_id, embedded, form.get("only", ""), deadline)
    return RedirectResponse(f"/runs/{run.id}", status_code=303)


async def listen_create(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    form = await form_of(request)
    system_id = int(request.path_params["id"])
    duration = _int(form.get("duration_s") or "300", Text("Thời lượng", "Duration"))
    run = services.start_listen(
        s, user, system_id, duration, form.get("auth", "none"), form.get("scenarios", "")
    )
    return RedirectResponse(f"/runs/{run.id}", status_code=303)


async def api_listen(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    data = await json_body(request)
    system, duration = data.get("system"), data.get("durationSeconds", 300)
    if not isinstance(system, int) or not isinstance(duration, int):
        raise Refused(
            400,
            Text(
                "Cần 'system' và 'durationSeconds' (số).",
                "'system' and 'durationSeconds' (numbers) are needed.",
            ),
        )
    scenarios = data.get("scenarios") or []
    names = ",".join(str(x) for x in scenarios) if isinstance(scenarios, list) else str(scenarios)
    run = services.start_listen(s, user, system, duration, str(data.get("auth") or "none"), names)
    return JSONResponse(services.run_json(run), status_code=201)


async def run_page(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    run = services.get_run(s, user, int(request.path_params["id"]))
    results = services.results_of(run)
    rows = services.criteria_rows(results)
    from vhr_conformance.console.models import Attestation as AttestationRow

    attestations = {
        a.criterion: a for a in s.scalars(select(AttestationRow).where(AttestationRow.run_id == run.id))
    }
    certs = list(
        s.scalars(select(Certificate).where(Certificate.run_id == run.id).order_by(Certificate.issued))
    )
    return render(
        request,
        "run.html",
        user=user,
        run=run,
        results=results,
        rows=rows,
        attestations=attestations,
        certs=certs,
        progress=services.progress_of(run),
        overall=services.overall_progress(services.progress_of(run)),
        cert_status=services.certificate_status,
        curl=services.as_curl,
    )


EVENT_PERIOD_S = 1.0
EVENT_LIMIT_S = 3 * 3600.0


async def run_events(request: Request, s: Session, user: User | None) -> Response:
    """Server-sent events: the run's status, outcome and per-area progress each second, until it
    finishes (or the client leaves, or EVENT_LIMIT_S passes)."""
    user = services.need(user)
    run_id = services.get_run(s, user, int(request.path_params["id"])).id
    factory = console_of(request).sessions

    async def events() -> AsyncIterator[bytes]:
        limit = time.monotonic() + EVENT_LIMIT_S
        last = b""
        while time.monotonic() < limit:
            with factory() as s2:
                run = s2.get(Run, run_id)
                if run is None:
                    return
                progress = services.progress_of(run)
                data = {
                    "id": run.id,
                    "status": run.status,
                    "outcome": run.verdict if run.status == "finished" else None,
                    "progress": progress,
                    "overall": services.overall_progress(progress),
                }
            payload = orjson.dumps(data)
            if payload != last:
                yield b"data: " + payload + b"\n\n"
                last = payload
            if data["status"] == "finished" or await request.is_disconnected():
                return
            await asyncio.sleep(EVENT_PERIOD_S)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"x-accel-buffering": "no"})


async def run_bundle(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    run = services.get_run(s, user, int(request.path_params["id"]))
    if run.bundle is None:
        raise Refused(404, Text("Lần chạy chưa có gói bằng chứng.", "The run has no evidence bundle yet."))
    services.audit(s, user, "download-bundle", f"run:{run.id}")
    s.commit()
    return Response(
        run.bundle,
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="evidence-run-{run.id}.zip"'},
    )


async def attest_create(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    form = await form_of(request)
    run_id = int(request.path_params["id"])
    services.attest(
        s, user, run_id, form.get("criterion", ""), form.get("statement_vi", ""), form.get("statement_en", "")
    )
    flash(request, Text("Đã gửi xác nhận.", "Attestation sent."))
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


async def review_create(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    form = await form_of(request)
    row = services.review(
        s,
        user,
        int(request.path_params["id"]),
        form.get("decision", ""),
        form.get("reason", ""),
        console_of(request).settings.sign_key,
    )
    flash(request, Text("Đã ghi quyết định thẩm định.", "Review recorded."))
    return RedirectResponse(
        "/reviews" if form.get("back") == "/reviews" else f"/runs/{row.run_id}", status_code=303
    )


async def reviews_page(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user, "reviewer", "ministry")
    return render(request, "reviews.html", user=user, pending=services.pending_attestations(s))


async def certificate_create(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    form = await form_of(request)
    c = console_of(request)
    run_id = int(request.path_params["id"])
    cert = services.issue_certificate(
        s,
        user,
        run_id,
        c.settings.sign_key,
        c.trust,
        _int(form.get("valid_days") or "365", Text("Số ngày", "Days")),
    )
    flash(request, Text("Đã cấp chứng nhận {i}.", "Certificate {i} issued.").format(i=cert.id))
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


async def certificate_revoke(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    form = await form_of(request)
    cert = services.revoke_certificate(s, user, request.path_params["id"], form.get("reason", ""))
    flash(request, Text("Đã thu hồi chứng nhận.", "Certificate revoked."))
    return RedirectResponse(f"/runs/{cert.run_id}", status_code=303)


async def certificate_file(request: Request, s: Session, user: User | None) -> Response:
    cert = s.get(Certificate, request.path_params["id"])
    if cert is None:
        raise Refused(404, services.NOT_FOUND)
    if request.path_params["kind"] == "json":
        return Response(cert.document, media_type="application/json")
    # The certificate's own page carries its print styles inline; it has no script either.
    csp = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    return HTMLResponse(cert.html, headers={"content-security-policy": csp})


async def check_page(request: Request, s: Session, user: User | None) -> Response:
    cert_id = request.query_params.get("id", "").strip()[:100]
    result = services.check_certificate(s, cert_id, console_of(request).trust) if cert_id else None
    return render(request, "check.html", user=user, cert_id=cert_id, result=result)


async def compare_page(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    what = Text("Lần chạy", "Run")
    a, b, rows = services.compare_runs(
        s, user, _int(request.query_params.get("a"), what), _int(request.query_params.get("b"), what)
    )
    changed = sum(1 for r in rows if r["changed"])
    return render(request, "compare.html", user=user, a=a, b=b, rows=rows, changed=changed)


async def admin_page(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user, "ministry")
    if request.method == "POST":
        form = await form_of(request)
        if form.get("form") == "organisation":
            services.create_organisation(s, user, form.get("name", ""))
            flash(request, Text("Đã thêm tổ chức.", "Organisation added."))
        else:
            services.create_user(
                s,
                user,
                form.get("name", ""),
                form.get("role", ""),
                form.get("org") or None,
                form.get("password", ""),
            )
            flash(request, Text("Đã thêm người dùng.", "User added."))
        return RedirectResponse("/admin", status_code=303)
    users = services.list_users(s, user)
    orgs = list(s.scalars(select(Organisation).order_by(Organisation.name)))
    return render(request, "admin.html", user=user, users=users, orgs=orgs)


async def user_active(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user, "ministry")
    form = await form_of(request)
    active = form.get("active") == "1"
    target = services.set_active(s, user, int(request.path_params["id"]), active)
    flash(
        request,
        (
            Text("Đã mở lại tài khoản {n}.", "Account {n} enabled.")
            if active
            else Text("Đã khóa tài khoản {n}.", "Account {n} disabled.")
        ).format(n=target.name),
    )
    return RedirectResponse("/admin", status_code=303)


async def user_password(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user, "ministry")
    form = await form_of(request)
    target = services.reset_password(s, user, int(request.path_params["id"]), form.get("password", ""))
    flash(request, Text("Đã đặt lại mật khẩu của {n}.", "Password of {n} reset.").format(n=target.name))
    return RedirectResponse("/admin", status_code=303)


async def audit_page(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user, "ministry")
    entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(500)))
    return render(request, "audit.html", user=user, entries=entries, aware=aware)


async def stylesheet(request: Request) -> Response:
    return Response((TEMPLATES / "console.css").read_text(encoding="utf-8"), media_type="text/css")


async def script(request: Request) -> Response:
    return Response((TEMPLATES / "console.js").read_text(encoding="utf-8"), media_type="text/javascript")


# ---------------------------------------------------------------- JSON API


async def api_login(request: Request, s: Session, user: User | None) -> Response:
    data = await json_body(request)
    who = services.login(
        s,
        str(data.get("name") or ""),
        str(data.get("password") or ""),
        client_address(request),
    )
    request.session.clear()
    credential = security.stamp(who.password_hash)
    request.session.update({"uid": who.id, "pw": credential, "csrf": security.new_csrf()})
    token = console_of(request).tokens.issue(who.id, credential)
    return JSONResponse({"token": token, "csrf": request.session["csrf"], "user": who.name, "role": who.role})


async def api_users(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user, "ministry")
    if request.method == "GET":
        return JSONResponse({"users": [services.user_json(u) for u in services.list_users(s, user)]})
    data = await json_body(request)
    org = data.get("organisation")
    made = services.create_user(
        s,
        user,
        str(data.get("name") or ""),
        str(data.get("role") or ""),
        str(org) if org else None,
        str(data.get("password") or ""),
    )
    return JSONResponse(services.user_json(made), status_code=201)


async def api_user(request: Request, s: Session, user: User | None) -> Response:
    """Change one account: `{"active": false}` disables it, `{"password": "…"}` resets its password."""
    user = services.need(user, "ministry")
    data = await json_body(request)
    user_id = int(request.path_params["id"])
    active, password = data.get("active"), data.get("password")
    if not isinstance(active, bool) and not isinstance(password, str):
        raise Refused(
            400,
            Text(
                "Cần 'active' (true/false) hoặc 'password'.", "'active' (true/false) or 'password' is needed."
            ),
        )
    target = services.get_account(s, user, user_id)
    if isinstance(password, str):
        target = services.reset_password(s, user, user_id, password)
    if isinstance(active, bool):
        target = services.set_active(s, user, user_id, active)
    return JSONResponse(services.user_json(target))


async def api_organisations(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    data = await json_body(request)
    org = services.create_organisation(s, user, str(data.get("name") or ""))
    return JSONResponse({"id": org.id, "name": org.name}, status_code=201)


async def api_systems(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    data = await json_body(request)
    org = data.get("organisation")
    system = services.create_system(
        s,
        user,
        org if isinstance(org, int) else None,
        str(data.get("product") or ""),
        str(data.get("version") or ""),
    )
    return JSONResponse(
        {
            "id": system.id,
            "organisation": system.organisation_id,
            "product": system.product,
            "version": system.version,
        },
        status_code=201,
    )


async def api_endpoints(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    data = await json_body(request)
    system_id = data.get("system")
    if not isinstance(system_id, int):
        raise Refused(400, Text("Cần 'system' (số).", "'system' (a number) is needed."))
    try:
        ep = services.create_endpoint(
            s,
            user,
            system_id,
            str(data.get("baseUrl") or ""),
            str(data.get("auth") or "none"),
            str(data.get("tokenUrl") or ""),
            str(data.get("clientId") or ""),
            str(data.get("scope") or ""),
            str(data.get("secret") or ""),
        )
    except UserError as exc:
        raise Refused(400, exc.text) from None
    return JSONResponse({"id": ep.id, "system": ep.system_id, "baseUrl": ep.base_url}, status_code=201)


async def api_runs(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    if request.method == "GET":
        return JSONResponse({"runs": [services.run_json(r) for r in services.visible_runs(s, user)]})
    data = await json_body(request)
    embedded = data.get("embedded") is True
    endpoint = data.get("endpoint")
    system = data.get("system")
    deadline = data.get("deadlineSeconds", 1800)
    run = services.start_run(
        s,
        user,
        system if isinstance(system, int) else None,
        endpoint if isinstance(endpoint, int) else None,
        embedded,
        str(data.get("only") or ""),
        deadline if isinstance(deadline, int) else -1,
    )
    return JSONResponse(services.run_json(run), status_code=201)


async def api_run(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    run = services.get_run(s, user, int(request.path_params["id"]))
    out = services.run_json(run)
    if run.status == "finished":
        out["criteria"] = [
            {"id": r.get("id"), "level": r.get("level"), "state": r.get("state")}
            for r in services.criteria_rows(services.results_of(run))
        ]
    return JSONResponse(out)


async def api_certificate_issue(request: Request, s: Session, user: User | None) -> Response:
    user = services.need(user)
    data = await json_body(request)
    c = console_of(request)
    days = data.get("validDays", 365)
    cert = services.issue_certificate(
        s,
        user,
        int(request.path_params["id"]),
        c.settings.sign_key,
        c.trust,
        days if isinstance(days, int) else -1,
    )
    return JSONResponse({"id": cert.id, "certificate": orjson.loads(cert.document)}, status_code=201)


async def api_certificate_check(request: Request, s: Session, user: User | None) -> Response:
    result = services.check_certificate(s, request.path_params["id"], console_of(request).trust)
    return JSONResponse(
        {
            "found": result.found,
            "status": result.status,
            "certificate": result.statement or None,
            "problems": [{"vi": p.vi, "en": p.en} for p in result.problems],
        },
        status_code=200 if result.found else 404,
    )


async def api_openapi(request: Request) -> Response:
    return Response((TEMPLATES / "openapi.json").read_bytes(), media_type="application/json")


def routes() -> list[Route]:
    return [
        Route("/login", page(login_page, login=False), methods=["GET", "POST"]),
        Route("/logout", page(logout), methods=["POST"]),
        Route("/", page(dashboard)),
        Route("/systems", page(systems_create), methods=["POST"]),
        Route("/systems/{id:int}", page(system_page)),
        Route("/systems/{id:int}/endpoints", page(endpoint_create), methods=["POST"]),
        Route("/systems/{id:int}/runs", page(run_create), methods=["POST"]),
        Route("/systems/{id:int}/listen", page(listen_create), methods=["POST"]),
        Route("/runs/{id:int}", page(run_page)),
        Route("/runs/{id:int}/evidence.zip", page(run_bundle)),
        Route("/runs/{id:int}/events", page(run_events)),
        Route("/runs/{id:int}/attestations", page(attest_create), methods=["POST"]),
        Route("/runs/{id:int}/certificate", page(certificate_create), methods=["POST"]),
        Route("/attestations/{id:int}/review", page(review_create), methods=["POST"]),
        Route("/reviews", page(reviews_page)),
        Route("/compare", page(compare_page)),
        Route("/certificates/{id}/revoke", page(certificate_revoke), methods=["POST"]),
        Route("/certificates/{id}.{kind:str}", page(certificate_file, login=False)),
        Route("/check", page(check_page, login=False)),
        Route("/admin", page(admin_page), methods=["GET", "POST"]),
        Route("/admin/users/{id:int}/active", page(user_active), methods=["POST"]),
        Route("/admin/users/{id:int}/password", page(user_password), methods=["POST"]),
        Route("/audit", page(audit_page)),
        Route("/static/console.css", stylesheet),
        Route("/static/console.js", script),
        Route("/api/login", api(api_login, login=False), methods=["POST"]),
        Route("/api/users", api(api_users), methods=["GET", "POST"]),
        Route("/api/users/{id:int}", api(api_user), methods=["POST"]),
        Route("/api/organisations", api(api_organisations), methods=["POST"]),
        Route("/api/systems", api(api_systems), methods=["POST"]),
        Route("/api/endpoints", api(api_endpoints), methods=["POST"]),
        Route("/api/runs", api(api_runs), methods=["GET", "POST"]),
        Route("/api/runs/{id:int}", api(api_run)),
        Route("/api/listen", api(api_listen), methods=["POST"]),
        Route("/api/runs/{id:int}/evidence", api(run_bundle_api)),
        Route("/api/runs/{id:int}/events", api(run_events)),
        Route("/api/runs/{id:int}/certificate", api(api_certificate_issue), methods=["POST"]),
        Route("/api/certificates/{id}", api(api_certificate_check, login=False)),
        Route("/api/openapi.json", api_openapi),
    ]


async def run_bundle_api(request: Request, s: Session, user: User | None) -> Response:
    return await run_bundle(request, s, user)


def create_app(
    db_url: str | None = None,
    *,
    settings: Settings | None = None,
    local_workers: int = 0,
    sign_key: SigningKey | None = None,
    trust: list[TrustedKey] | None = None,
) -> Starlette:
    """The application; migrates the database first. `local_workers` threads run queued runs
    inside this process (the embedded SQLite set-up); 0 leaves runs to `vhr console worker`."""
    engine = make_engine(db_url)
    migrate(engine)
    if sign_key is None and trust is None:
        sign_key, trust = keys_from_env()
    from vhr_conformance.console.db import data_dir

    settings = settings or Settings(data_dir=data_dir())
    if sign_key is not None:
        settings.sign_key = sign_key
    console = Console(engine, sessions(engine), settings, trust or [], local_workers)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if console.local_workers:
            console.pool = LocalPool(console.sessions, console.settings, console.local_workers)
            console.pool.start()
        yield
        if console.pool is not None:
            console.pool.close()

    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(SecureHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=security.session_secret(),
                session_cookie="vhr_console",
                same_site="strict",
                max_age=8 * 3600,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.console = console
    return app


__all__ = ["Console", "Run", "create_app"]
