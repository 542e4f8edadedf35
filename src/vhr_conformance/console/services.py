"""What the console does, once, for both the pages and the JSON API: every action checks the
caller's role and organisation here (server side) and writes one audit entry."""

from __future__ import annotations

import datetime as dt
import re
import shlex
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, load_only, object_session

from vhr_conformance.console import security
from vhr_conformance.console.db import aware
from vhr_conformance.console.models import (
    ROLES,
    AuditEntry,
    Certificate,
    Endpoint,
    Organisation,
    Run,
    System,
    User,
    now,
)
from vhr_conformance.console.models import Attestation as AttestationRow
from vhr_conformance.evidence.attestations import DECISIONS, Attestation, Review
from vhr_conformance.evidence.certificate import certify, verify_certificate
from vhr_conformance.evidence.keys import SigningKey, TrustedKey
from vhr_conformance.i18n import Text
from vhr_conformance.vendor_config import AUTH_MODES

MAX_DEADLINE_S = 6 * 3600
_SCOPE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,40}")
LOGIN_WINDOW_S = 300.0
LOGIN_MAX_FAILURES = 5
MIN_PASSWORD = 10


class Refused(Exception):
    """An action the caller may not do or that cannot be done; `status` is the HTTP status."""

    def __init__(self, status: int, text: Text) -> None:
        self.status = status
        self.text = text
        super().__init__(text.both())


FORBIDDEN = Text("Bạn không có quyền thực hiện việc này.", "You are not allowed to do this.")
NOT_FOUND = Text("Không tìm thấy.", "Not found.")


def audit(
    s: Session, actor: User | str | None, action: str, subject: str, detail: str = "", address: str = ""
) -> None:
    name = actor.name if isinstance(actor, User) else (actor or "anonymous")
    s.add(
        AuditEntry(actor=name, action=action, subject=subject, detail=detail or None, address=address or None)
    )


def need(user: User | None, *roles: str) -> User:
    if user is None:
        raise Refused(401, Text("Cần đăng nhập.", "Please log in."))
    if roles and user.role not in roles:
        raise Refused(403, FORBIDDEN)
    return user


def sees_org(user: User, org_id: int) -> bool:
    return user.role in ("ministry", "reviewer") or user.organisation_id == org_id


def get_system(s: Session, user: User, system_id: int) -> System:
    system = s.get(System, system_id)
    if system is None:
        raise Refused(404, NOT_FOUND)
    if not sees_org(user, system.organisation_id):
        raise Refused(403, FORBIDDEN)
    return system


def get_run(s: Session, user: User, run_id: int) -> Run:
    run = s.get(Run, run_id)
    if run is None:
        raise Refused(404, NOT_FOUND)
    if not sees_org(user, run.system.organisation_id):
        raise Refused(403, FORBIDDEN)
    return run


def _required(value: str | None, vi: str, en: str, limit: int = 200) -> str:
    value = (value or "").strip()
    if not value:
        raise Refused(400, Text("Thiếu {f}.", "{f_en} is missing.").format(f=vi, f_en=en))
    if len(value) > limit:
        raise Refused(
            400,
            Text("{f} quá dài (tối đa {n}).", "{f_en} is too long (at most {n}).").format(
                f=vi, f_en=en, n=limit
            ),
        )
    return value


# ---------------------------------------------------------------- users and login


def login_blocked(s: Session, name: str, address: str) -> bool:
    """At most LOGIN_MAX_FAILURES failed log-ins per name and per address in LOGIN_WINDOW_S,
    counted in the audit log, so every web process and host shares the count."""
    since = now() - dt.timedelta(seconds=LOGIN_WINDOW_S)
    failed = select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "login-failed", AuditEntry.at >= since
    )
    by_name = s.scalar(failed.where(AuditEntry.subject == f"user:{name}")) or 0
    by_address = s.scalar(failed.where(AuditEntry.address == address)) if address else 0
    return max(by_name, by_address or 0) >= LOGIN_MAX_FAILURES


def login(s: Session, name: str, password: str, address: str) -> User:
    name = (name or "").strip()
    if login_blocked(s, name, address):
        audit(s, name, "login-blocked", f"user:{name}", address=address)
        s.commit()
        raise Refused(
            429,
            Text(
                "Quá nhiều lần đăng nhập sai; thử lại sau vài phút.",
                "Too many failed logins; try again in a few minutes.",
            ),
        )
    user = s.scalar(select(User).where(User.name == name))
    if user is None or not user.active or not security.check_password(user.password_hash, password or ""):
        audit(s, name or "?", "login-failed", f"user:{name}", address=address)
        s.commit()
        raise Refused(401, Text("Sai tên hoặc mật khẩu.", "Wrong name or password."))
    audit(s, user, "login", f"user:{user.name}", address=address)
    s.commit()
    return user


def _check_password_rule(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise Refused(
            400,
            Text("Mật khẩu cần ít nhất {n} ký tự.", "The password needs at least {n} characters.").format(
                n=MIN_PASSWORD
            ),
        )


def create_user(
    s: Session, actor: User | str, name: str, role: str, org_name: str | None, password: str
) -> User:
    """A new account; `actor` is a ministry user, or a name for the command line (`cli`)."""
    if isinstance(actor, User):
        need(actor, "ministry")
    name = _required(name, "tên người dùng", "User name", 100)
    if role not in ROLES:
        raise Refused(400, Text("Vai trò phải là {r}.", "The role must be {r}.").format(r=" | ".join(ROLES)))
    _check_password_rule(password)
    org: Organisation | None = None
    if role == "vendor":
        org_name = _required(
            org_name, "tổ chức (--org) của nhà cung cấp", "The vendor's organisation (--org)"
        )
        org = s.scalar(select(Organisation).where(Organisation.name == org_name))
        if org is None:
            org = Organisation(name=org_name)
            s.add(org)
            audit(s, actor, "create-organisation", f"organisation:{org_name}")
    if s.scalar(select(User).where(User.name == name)) is not None:
        raise Refused(409, Text("Người dùng {n} đã có.", "The user {n} already exists.").format(n=name))
    user = User(name=name, role=role, organisation=org, password_hash=security.hash_password(password))
    s.add(user)
    audit(s, actor, "create-user", f"user:{name}", f"role={role} org={org_name or ''}")
    s.commit()
    return user


def list_users(s: Session, actor: User) -> list[User]:
    need(actor, "ministry")
    return list(s.scalars(select(User).order_by(User.name)))


def get_account(s: Session, actor: User, user_id: int) -> User:
    need(actor, "ministry")
    target = s.get(User, user_id)
    if target is None:
        raise Refused(404, NOT_FOUND)
    return target


def set_active(s: Session, actor: User, user_id: int, active: bool) -> User:
    """Disable (or enable again) an account: a disabled user can no longer log in, and its
    sessions and tokens stop working at the next request. Nobody disables themselves, so the
    ministry never locks itself out by a slip."""
    target = get_account(s, actor, user_id)
    if target.id == actor.id and not active:
        raise Refused(400, Text("Không tự khóa tài khoản của mình.", "You cannot disable your own account."))
    if target.active != active:
        target.active = active
        audit(s, actor, "enable-user" if active else "disable-user", f"user:{target.name}")
        s.commit()
    return target


def reset_password(s: Session, actor: User, user_id: int, password: str) -> User:
    target = get_account(s, actor, user_id)
    _check_password_rule(password)
    target.password_hash = security.hash_password(password)
    audit(s, actor, "reset-password", f"user:{target.name}")
    s.commit()
    return target


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "organisation": user.organisation.name if user.organisation else None,
        "active": user.active,
    }


def create_organisation(s: Session, user: User, name: str) -> Organisation:
    need(user, "ministry")
    name = _required(name, "tên tổ chức", "Organisation name")
    if s.scalar(select(Organisation).where(Organisation.name == name)) is not None:
        raise Refused(409, Text("Tổ chức {n} đã có.", "The organisation {n} already exists.").format(n=name))
    org = Organisation(name=name)
    s.add(org)
    audit(s, user, "create-organisation", f"organisation:{name}")
    s.commit()
    return org


# ---------------------------------------------------------------- systems, endpoints, runs


def create_system(s: Session, user: User, org_id: int | None, product: str, version: str) -> System:
    need(user, "ministry", "vendor")
    if user.role == "vendor":
        if org_id not in (None, user.organisation_id):
            raise Refused(403, FORBIDDEN)
        org_id = user.organisation_id
    org = s.get(Organisation, org_id) if org_id is not None else None
    if org is None:
        raise Refused(400, Text("Chọn một tổ chức.", "Choose an organisation."))
    product = _required(product, "tên sản phẩm", "Product name")
    version = _required(version, "phiên bản", "Version", 100)
    if s.scalar(
        select(System).where(
            System.organisation_id == org.id, System.product == product, System.version == version
        )
    ):
        raise Refused(409, Text("Hệ thống này đã đăng ký.", "This system is already registered."))
    system = System(organisation=org, product=product, version=version)
    s.add(system)
    s.flush()
    audit(s, user, "create-system", f"system:{system.id}", f"{org.name} / {product} {version}")
    s.commit()
    return system


def create_endpoint(
    s: Session,
    user: User,
    system_id: int,
    base_url: str,
    auth_mode: str,
    token_url: str = "",
    client_id: str = "",
    scope: str = "",
    secret: str = "",
) -> Endpoint:
    need(user, "ministry", "vendor")
    system = get_system(s, user, system_id)
    base_url = _required(base_url, "địa chỉ FHIR", "FHIR base URL", 500)
    if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).netloc:
        raise Refused(
            400, Text("Địa chỉ FHIR phải là URL http(s).", "The FHIR base URL must be an http(s) URL.")
        )
    if auth_mode not in AUTH_MODES:
        raise Refused(
            400,
            Text("Kiểu xác thực phải là {m}.", "The auth mode must be {m}.").format(m=" | ".join(AUTH_MODES)),
        )
    ep = Endpoint(
        system=system,
        base_url=base_url,
        auth_mode=auth_mode,
        token_url=token_url.strip() or None,
        client_id=client_id.strip() or None,
        scope=scope.strip() or None,
        secret_encrypted=security.encrypt(secret) if secret else None,
    )
    s.add(ep)
    s.flush()
    audit(s, user, "create-endpoint", f"endpoint:{ep.id}", f"system:{system.id} {base_url} auth={auth_mode}")
    s.commit()
    return ep


def start_run(
    s: Session,
    user: User,
    system_id: int | None,
    endpoint_id: int | None,
    embedded: bool,
    only: str = "",
    deadline_s: int = 1800,
) -> Run:
    need(user, "ministry", "vendor")
    if endpoint_id is not None and not embedded:
        ep = s.get(Endpoint, endpoint_id)
        if ep is None:
            raise Refused(404, NOT_FOUND)
        get_system(s, user, ep.system_id)
        system_id = ep.system_id
    elif not embedded:
        raise Refused(
            400,
            Text("Chọn một địa chỉ FHIR hoặc máy chủ nhúng.", "Choose an endpoint or the embedded server."),
        )
    if system_id is None:
        raise Refused(400, Text("Chọn một hệ thống.", "Choose a system."))
    system = get_system(s, user, system_id)
    if not 10 <= deadline_s <= MAX_DEADLINE_S:
        raise Refused(
            400,
            Text("Thời hạn phải từ 10 đến {m} giây.", "The deadline must be 10 to {m} seconds.").format(
                m=MAX_DEADLINE_S
            ),
        )
    only = only.strip()
    # Area or criterion ids only (e.g. "SEC,VHR-CAP-001"): never something `vhr run` could read as an option.
    if only and not all(_SCOPE_PART.fullmatch(part.strip()) for part in only.split(",")):
        raise Refused(400, Text("Phạm vi --only không hợp lệ.", "Invalid --only scope."))
    run = Run(
        system=system,
        endpoint_id=None if embedded else endpoint_id,
        embedded=embedded,
        only=only or None,
        status="queued",
        requested_by=user.name,
        deadline_s=deadline_s,
    )
    s.add(run)
    s.flush()
    audit(
        s,
        user,
        "start-run",
        f"run:{run.id}",
        f"system:{system.id} {'embedded' if embedded else f'endpoint:{endpoint_id}'} only={only}",
    )
    s.commit()
    return run


def start_listen(
    s: Session, user: User, system_id: int, duration_s: int, auth: str = "none", scenarios: str = ""
) -> Run:
    """Queue a client-mode session: a worker starts `vhr listen` for `duration_s`, the vendor's
    system pushes to the address the run page shows, and the session's report is the run's."""
    from vhr_conformance.listen.recorder import SCENARIOS

    need(user, "ministry", "vendor")
    system = get_system(s, user, system_id)
    if not 10 <= duration_s <= MAX_DEADLINE_S:
        raise Refused(
            400,
            Text("Thời lượng phải từ 10 đến {m} giây.", "The duration must be 10 to {m} seconds.").format(
                m=MAX_DEADLINE_S
            ),
        )
    if auth not in ("none", "oauth"):
        raise Refused(400, Text("Xác thực: 'none' hoặc 'oauth'.", "Authentication: none or oauth."))
    names = [n.strip() for n in scenarios.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise Refused(
            400,
            Text("Kịch bản không có: {u} (có: {k}).", "Unknown scenario: {u} (known: {k}).").format(
                u=", ".join(unknown), k=", ".join(SCENARIOS)
            ),
        )
    run = Run(
        system=system,
        kind="listen",
        embedded=False,
        status="queued",
        requested_by=user.name,
        listen_s=duration_s,
        listen_auth=auth,
        scenarios=",".join(names) or None,
        deadline_s=duration_s + 300,  # the session, then its report
    )
    s.add(run)
    s.flush()
    audit(
        s,
        user,
        "start-listen",
        f"run:{run.id}",
        f"system:{system.id} {duration_s}s auth={auth} {','.join(names)}",
    )
    s.commit()
    return run


def visible_runs(s: Session, user: User, system_id: int | None = None, limit: int = 100) -> list[Run]:
    q = select(Run).join(System).order_by(Run.id.desc()).limit(limit)
    if user.role == "vendor":
        q = q.where(System.organisation_id == user.organisation_id)
    if system_id is not None:
        q = q.where(Run.system_id == system_id)
    return list(s.scalars(q))


def run_json(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "system": run.system_id,
        "endpoint": run.endpoint_id,
        "embedded": run.embedded,
        "only": run.only,
        "status": run.status,
        "outcome": run.verdict if run.status == "finished" else None,
        "exitCode": run.exit_code,
        "runId": run.run_key,
        "igVersion": run.ig_version,
        "created": _iso(run.created),
        "started": _iso(run.started),
        "finished": _iso(run.finished),
        "bundleSha256": run.bundle_sha256,
        "note": run.note,
        "progress": progress_of(run),
        "overall": overall_progress(progress_of(run)),
        "kind": run.kind,
        "listenUrl": run.listen_url,
    }


def progress_of(run: Run) -> dict[str, dict[str, int]]:
    """Per area: planned cases (`total`, known once collection is over), finished ones (`done`)
    and their count per status, as the worker last recorded them."""
    if not run.progress:
        return {}
    data = orjson.loads(run.progress)
    return data if isinstance(data, dict) else {}


def overall_progress(progress: dict[str, dict[str, int]]) -> dict[str, int]:
    """Done and planned cases over every area."""
    return {
        "done": sum(a.get("done", 0) for a in progress.values()),
        "total": sum(a.get("total", 0) for a in progress.values()),
    }


def _iso(value: dt.datetime | None) -> str | None:
    v = aware(value)
    return v.isoformat(timespec="seconds") if v else None


_RESULTS_CACHE: OrderedDict[tuple[str, int, str, str], dict[str, Any]] = OrderedDict()
_RESULTS_CACHE_SIZE = 32
_cache_lock = threading.Lock()


def results_of(run: Run) -> dict[str, Any]:
    """The run's results.json. A finished run never changes, so its parsed results are kept for
    the next page (the large column is then not even read); the caller must not modify them."""
    session = object_session(run)
    bind = session.get_bind() if session is not None else None
    key = (
        (str(bind.engine.url) if bind is not None else "", run.id, str(run.created), str(run.finished))
        if run.status == "finished"
        else None
    )
    if key is not None:
        with _cache_lock:
            if key in _RESULTS_CACHE:
                _RESULTS_CACHE.move_to_end(key)
                return _RESULTS_CACHE[key]
    data = orjson.loads(run.results_json) if run.results_json else {}
    out = data if isinstance(data, dict) else {}
    if key is not None:
        with _cache_lock:
            _RESULTS_CACHE[key] = out
            while len(_RESULTS_CACHE) > _RESULTS_CACHE_SIZE:
                _RESULTS_CACHE.popitem(last=False)
    return out


_ORDER = {"fail": 0, "error": 1, "skip": 2, "not-tested": 2, "attestation": 3, "not-applicable": 4, "pass": 5}


def criteria_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """In-scope criteria, failures first, each with its cases (message and evidence)."""
    cases = {c.get("nodeid"): c for c in results.get("cases") or [] if isinstance(c, dict)}
    rows = []
    for crit in results.get("criteria") or []:
        if not isinstance(crit, dict) or not crit.get("inScope"):
            continue
        rows.append({**crit, "caseRows": [cases[n] for n in crit.get("cases") or [] if n in cases]})
    rows.sort(key=lambda r: (_ORDER.get(str(r.get("state")), 6), str(r.get("id"))))
    return rows


def as_curl(ev: dict[str, Any]) -> str:
    """The request of one exchange as a curl command line (shell-quoted; shown as text, never run)."""
    parts = ["curl", "-X", str(ev.get("method") or "GET"), shlex.quote(str(ev.get("url") or ""))]
    for k, v in (ev.get("request_headers") or {}).items():
        parts += ["-H", shlex.quote(f"{k}: {v}")]
    if ev.get("request_body"):
        parts += ["--data-binary", shlex.quote(str(ev["request_body"]))]
    return " ".join(parts)


# ---------------------------------------------------------------- attestations and reviews


def attest(
    s: Session, user: User, run_id: int, criterion: str, statement_vi: str, statement_en: str
) -> AttestationRow:
    need(user, "vendor", "ministry")
    run = get_run(s, user, run_id)
    wanted = {
        c.get("id") for c in results_of(run).get("criteria") or [] if c.get("verification") == "attestation"
    }
    if criterion not in wanted:
        raise Refused(
            400,
            Text(
                "{c} không phải tiêu chí cần xác nhận của lần chạy này.",
                "{c} is not an attestation criterion of this run.",
            ).format(c=criterion),
        )
    vi = _required(statement_vi, "nội dung (tiếng Việt)", "Statement (Vietnamese)", 5000)
    en = _required(statement_en, "nội dung (tiếng Anh)", "Statement (English)", 5000)
    row = s.scalar(
        select(AttestationRow).where(AttestationRow.run_id == run.id, AttestationRow.criterion == criterion)
    )
    if row is None:
        row = AttestationRow(run_id=run.id, criterion=criterion)
        s.add(row)
    # A new statement voids an earlier review: the review signed the old words.
    row.statement_vi, row.statement_en, row.attested_by, row.date = (
        vi,
        en,
        user.name,
        dt.date.today().isoformat(),
    )
    row.decision = row.reason = row.reviewer = row.review_date = row.review_signature = None
    s.flush()
    audit(s, user, "attest", f"attestation:{row.id}", f"run:{run.id} {criterion}")
    s.commit()
    return row


def review(
    s: Session, user: User, attestation_id: int, decision: str, reason: str, key: SigningKey | None
) -> AttestationRow:
    need(user, "reviewer", "ministry")
    row = s.get(AttestationRow, attestation_id)
    if row is None:
        raise Refused(404, NOT_FOUND)
    if decision not in DECISIONS:
        raise Refused(400, Text("Quyết định: accepted hoặc rejected.", "Decision: accepted or rejected."))
    if decision == "rejected" and not reason.strip():
        raise Refused(400, Text("Từ chối cần lý do.", "A rejection needs a reason."))
    if row.attested_by == user.name:
        raise Refused(
            403, Text("Không tự thẩm định xác nhận của mình.", "Nobody reviews their own attestation.")
        )
    item = Attestation(row.criterion, Text(row.statement_vi, row.statement_en), row.attested_by, row.date)
    rev = Review(decision, reason.strip(), user.name, dt.date.today().isoformat())
    row.decision, row.reason, row.reviewer, row.review_date = rev.decision, rev.reason, rev.reviewer, rev.date
    # Signed like `vhr attest review`, over the attestation's canonical content, so the review is
    # void if the statement changes; unsigned when the console has no key.
    row.review_signature = orjson.dumps(key.sign(item.review_payload(rev))).decode() if key else None
    audit(s, user, "review", f"attestation:{row.id}", f"{decision} {reason.strip()}")
    s.commit()
    return row


def pending_attestations(s: Session) -> list[AttestationRow]:
    return list(
        s.scalars(select(AttestationRow).where(AttestationRow.decision.is_(None)).order_by(AttestationRow.id))
    )


# ---------------------------------------------------------------- certificates


def _reviewed(s: Session, run: Run, trust: list[TrustedKey]) -> dict[str, str]:
    """This run's attestations accepted in the console by a review whose signature checks out
    against the trust list (an unsigned or edited review does not count), criterion → reviewer."""
    from vhr_conformance.evidence.keys import check_signature

    out: dict[str, str] = {}
    for row in s.scalars(select(AttestationRow).where(AttestationRow.run_id == run.id)):
        if row.decision != "accepted" or not row.review_signature or not row.reviewer:
            continue
        item = Attestation(row.criterion, Text(row.statement_vi, row.statement_en), row.attested_by, row.date)
        rev = Review(row.decision, row.reason or "", row.reviewer, row.review_date or "")
        check = check_signature(item.review_payload(rev), orjson.loads(row.review_signature), trust)
        if check.status == "trusted":
            out[row.criterion] = row.reviewer
    return out


def issue_certificate(
    s: Session, user: User, run_id: int, key: SigningKey | None, trust: list[TrustedKey], valid_days: int
) -> Certificate:
    need(user, "ministry")
    run = get_run(s, user, run_id)
    if key is None:
        raise Refused(
            400,
            Text(
                "Bảng điều khiển chưa có khóa ký của Bộ Y tế (VHR_CONSOLE_SIGN_KEY).",
                "The console has no ministry signing key (VHR_CONSOLE_SIGN_KEY).",
            ),
        )
    if run.bundle is None:
        raise Refused(400, Text("Lần chạy chưa có gói bằng chứng.", "The run has no evidence bundle yet."))
    if not 1 <= valid_days <= 5 * 366:
        raise Refused(400, Text("Hiệu lực từ 1 đến 1830 ngày.", "Validity must be 1 to 1830 days."))
    with tempfile.TemporaryDirectory(prefix="vhr-console-cert-") as tmp:
        bundle = Path(tmp) / "evidence.zip"
        bundle.write_bytes(run.bundle)
        from vhr_conformance.i18n import UserError

        try:
            paths = certify(
                bundle,
                key,
                trust,
                Path(tmp) / "out",
                valid_days=valid_days,
                reviewed=_reviewed(s, run, trust),
            )
        except UserError as exc:
            raise Refused(400, exc.text) from None
        document = paths["json"].read_text(encoding="utf-8")
        html = paths["html"].read_text(encoding="utf-8")
    statement = orjson.loads(document)["certificate"]
    cert = Certificate(
        id=statement["id"],
        run_id=run.id,
        document=document,
        html=html,
        issued=dt.datetime.fromisoformat(statement["issued"]),
        expires=dt.datetime.fromisoformat(statement["expires"]),
        issued_by=user.name,
    )
    s.add(cert)
    audit(s, user, "issue-certificate", f"certificate:{cert.id}", f"run:{run.id} valid_days={valid_days}")
    s.commit()
    return cert


def revoke_certificate(s: Session, user: User, cert_id: str, reason: str) -> Certificate:
    need(user, "ministry")
    cert = s.get(Certificate, cert_id)
    if cert is None:
        raise Refused(404, NOT_FOUND)
    reason = _required(reason, "lý do thu hồi", "The reason for revoking", 1000)
    if cert.revoked_at is None:
        cert.revoked_at, cert.revoked_reason = now(), reason
        audit(s, user, "revoke-certificate", f"certificate:{cert.id}", reason)
        s.commit()
    return cert


def certificate_status(cert: Certificate) -> str:
    if cert.revoked_at is not None:
        return "revoked"
    expires = aware(cert.expires)
    return "expired" if expires is not None and expires <= now() else "valid"


@dataclass
class CertificateCheck:
    found: bool
    status: str  # valid | expired | revoked | invalid | unknown
    statement: dict[str, Any]
    problems: list[Text]


def check_certificate(s: Session, cert_id: str, trust: list[TrustedKey]) -> CertificateCheck:
    """The public check: the stored certificate re-verified with `verify_certificate` (signature by a
    trusted ministry key, validity period, the console's own revocations)."""
    cert = s.get(Certificate, cert_id.strip()) if cert_id.strip() else None
    if cert is None:
        return CertificateCheck(False, "unknown", {}, [])
    revoked = {
        c.id: c.revoked_reason or ""
        for c in s.scalars(select(Certificate).where(Certificate.revoked_at.is_not(None)))
    }
    with tempfile.TemporaryDirectory(prefix="vhr-console-check-") as tmp:
        path = Path(tmp) / "certificate.json"
        path.write_text(cert.document, encoding="utf-8")
        result = verify_certificate(path, trust, revoked)
    status = certificate_status(cert)
    if result.signature.status != "trusted" or (status == "valid" and result.problems):
        status = "invalid"
    return CertificateCheck(True, status, result.manifest, result.problems)


# ---------------------------------------------------------------- dashboard


@dataclass(frozen=True)
class LastRun:
    id: int
    verdict: str | None
    ig_version: str | None


def dashboard(s: Session, user: User) -> list[dict[str, Any]]:
    """Each visible system: its last finished run's verdict and IG version, its certificate status.

    Three queries whatever the number of systems, and never the runs' results or bundles."""
    q = (
        select(System)
        .join(Organisation)
        .options(contains_eager(System.organisation))
        .order_by(Organisation.name, System.product, System.version)
    )
    if user.role == "vendor":
        q = q.where(System.organisation_id == user.organisation_id)
    systems = list(s.scalars(q))
    ids = [x.id for x in systems]
    last: dict[int, LastRun] = {}
    certs: dict[int, Certificate] = {}
    if ids:
        newest = (
            select(func.max(Run.id))
            .where(Run.system_id.in_(ids), Run.status == "finished")
            .group_by(Run.system_id)
        )
        for run_id, system_id, verdict, ig in s.execute(
            select(Run.id, Run.system_id, Run.verdict, Run.ig_version).where(Run.id.in_(newest))
        ):
            last[system_id] = LastRun(run_id, verdict, ig)
        for cert, system_id in s.execute(
            select(Certificate, Run.system_id)
            .join(Run)
            .where(Run.system_id.in_(ids))
            .options(
                load_only(Certificate.id, Certificate.revoked_at, Certificate.expires, Certificate.issued)
            )
            .order_by(Certificate.issued)
        ):
            certs[system_id] = cert
    rows = []
    for system in systems:
        last_run = last.get(system.id)
        cert_row = certs.get(system.id)
        rows.append(
            {
                "system": system,
                "run": last_run,
                "verdict": last_run.verdict if last_run else None,
                "ig": last_run.ig_version if last_run else None,
                "certificate": cert_row,
                "certStatus": certificate_status(cert_row) if cert_row else None,
            }
        )
    return rows


def compare_runs(s: Session, user: User, a_id: int, b_id: int) -> tuple[Run, Run, list[dict[str, Any]]]:
    """Two runs the caller may see, criterion by criterion: changed states first."""
    a, b = get_run(s, user, a_id), get_run(s, user, b_id)
    states: dict[str, dict[str, Any]] = {}
    for side, run in (("a", a), ("b", b)):
        for crit in results_of(run).get("criteria") or []:
            if isinstance(crit, dict) and crit.get("inScope"):
                row = states.setdefault(
                    str(crit.get("id")),
                    {"id": crit.get("id"), "level": crit.get("level"), "title": crit.get("title")},
                )
                row[side] = crit.get("state")
    rows = list(states.values())
    for row in rows:
        row["changed"] = row.get("a") != row.get("b")
    rows.sort(key=lambda r: (not r["changed"], str(r["id"])))
    return a, b, rows
