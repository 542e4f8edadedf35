"""The console: schema, login, CSRF, roles, secrets at rest, escaping, runs, attestations, certificates."""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from starlette.testclient import TestClient

from tests.console.conftest import PASSWORD, Env, csrf_of, login
from vhr_conformance.console import security, services, worker
from vhr_conformance.console.app import create_app
from vhr_conformance.console.db import make_engine, migrate
from vhr_conformance.console.models import AuditEntry, Base, Endpoint, Organisation, Run, System, User
from vhr_conformance.console.worker import command_for, reap_stale, verdict_of, work_once
from vhr_conformance.evidence.attestations import Attestation, Review
from vhr_conformance.evidence.bundle import write_bundle
from vhr_conformance.evidence.fingerprint import Harness
from vhr_conformance.evidence.keys import check_signature
from vhr_conformance.evidence.verify import verify_bundle
from vhr_conformance.i18n import Text
from vhr_conformance.outcome import EXIT_OF, Judged, Verdict, criterion_state, run_verdict


def _system(env: Env, org: str, product: str = "HIS", version: str = "1.0") -> int:
    with env.sessions() as s:
        o = s.scalar(select(Organisation).where(Organisation.name == org))
        assert o is not None
        system = System(organisation=o, product=product, version=version)
        s.add(system)
        s.commit()
        return system.id


def _finished_run(env: Env, system_id: int, results: dict, bundle: bytes | None = None) -> int:
    with env.sessions() as s:
        run = Run(
            system_id=system_id,
            embedded=True,
            status="finished",
            verdict="FAIL",
            requested_by="test",
            results_json=orjson.dumps(results).decode(),
            bundle=bundle,
        )
        s.add(run)
        s.commit()
        return run.id


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_from_empty_matches_the_models(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    engine = make_engine(url)
    migrate(engine)
    migrate(engine)  # a second migrate is a no-op
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        tables = set(inspect(conn).get_table_names())
    assert {
        "organisations",
        "users",
        "systems",
        "endpoints",
        "runs",
        "attestations",
        "certificates",
        "audit_log",
    } <= tables
    assert "alembic_version" in tables


def test_login_password_hash_and_csrf(any_env: Env) -> None:
    c = any_env.client()
    assert c.get("/", follow_redirects=False).headers["location"] == "/login"
    token = csrf_of(c.get("/login").text)
    no_csrf = c.post("/login", data={"name": "bo-yte", "password": PASSWORD}, follow_redirects=False)
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    wrong = c.post("/login", data={"csrf": token, "name": "bo-yte", "password": "nope"})
    assert wrong.status_code == 401 and "Sai tên hoặc mật khẩu" in wrong.text
    login(c, "bo-yte")
    page = c.get("/")
    assert page.status_code == 200 and "Tổng quan các hệ thống" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    # A form posted without the session's token is refused even when logged in.
    assert c.post("/admin", data={"form": "organisation", "name": "X"}).status_code == 403
    with any_env.sessions() as s:
        stored = s.scalar(select(User.password_hash).where(User.name == "bo-yte"))
    assert stored and stored.startswith("$argon2id$") and PASSWORD not in stored


def test_login_rate_limit(any_env: Env) -> None:
    """Counted in the database: two web processes on one database share the count."""
    other = TestClient(create_app(any_env.url, settings=any_env.settings), base_url="http://127.0.0.1")
    clients = [any_env.client(), other, any_env.client(), other, any_env.client(), other]
    codes = []
    for c in clients:
        token = csrf_of(c.get("/login").text)
        codes.append(c.post("/login", data={"csrf": token, "name": "vendor-a", "password": "x"}).status_code)
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # Even the right password waits out the window.
    c = any_env.client()
    token = csrf_of(c.get("/login").text)
    assert c.post("/login", data={"csrf": token, "name": "vendor-a", "password": PASSWORD}).status_code == 429
    other.app.state.console.engine.dispose()  # type: ignore[attr-defined]


def test_language_switch(env: Env) -> None:
    c = env.client()
    assert "Đăng nhập" in c.get("/login").text
    en = c.get("/login?lang=en").text
    assert "Log in" in en and "Đăng nhập" not in en.split("<main")[1]
    assert '<html lang="en">' in c.get("/check").text  # remembered in the session
    # The switch keeps the page and its query (a certificate id), escaped.
    assert 'href="/check?id=abc+%3Cx%3E&amp;lang=vi"' in c.get("/check?id=abc <x>").text


def test_vendor_sees_only_its_organisation(any_env: Env) -> None:
    sys_a = _system(any_env, "Công ty A", "HIS-A")
    sys_b = _system(any_env, "Công ty B", "HIS-B")
    run_b = _finished_run(any_env, sys_b, {"criteria": [], "cases": []}, bundle=b"PK-not-for-a")
    a = any_env.client()
    csrf = login(a, "vendor-a")
    dash = a.get("/").text
    assert "HIS-A" in dash and "HIS-B" not in dash
    assert a.get(f"/systems/{sys_b}").status_code == 403
    assert a.get(f"/runs/{run_b}").status_code == 403
    assert a.get(f"/runs/{run_b}/evidence.zip").status_code == 403
    assert a.post(f"/systems/{sys_b}/runs", data={"csrf": csrf, "target": "embedded"}).status_code == 403
    assert a.post(f"/runs/{run_b}/certificate", data={"csrf": csrf, "valid_days": "30"}).status_code == 403
    assert a.get("/admin").status_code == 403 and a.get("/audit").status_code == 403
    api = any_env.client()
    token = api.post("/api/login", json={"name": "vendor-a", "password": PASSWORD}).json()["token"]
    bearer = {"authorization": f"Bearer {token}"}
    assert api.get(f"/api/runs/{run_b}", headers=bearer).status_code == 403
    assert api.get(f"/api/runs/{run_b}/evidence", headers=bearer).status_code == 403
    assert api.post("/api/runs", json={"embedded": True, "system": sys_b}, headers=bearer).status_code == 403
    assert api.post(f"/api/runs/{run_b}/certificate", json={}, headers=bearer).status_code == 403
    assert all(r["system"] != sys_b for r in api.get("/api/runs", headers=bearer).json()["runs"])
    # A vendor registers systems only in its own organisation, whatever it posts.
    with any_env.sessions() as s:
        b_id = s.scalar(select(Organisation.id).where(Organisation.name == "Công ty B"))
    assert (
        api.post(
            "/api/systems", json={"organisation": b_id, "product": "X", "version": "1"}, headers=bearer
        ).status_code
        == 403
    )
    # The session cookie alone does not write through the API: it needs the CSRF header.
    assert a.post("/api/runs", json={"embedded": True, "system": sys_a}).status_code == 403
    bad_scope = {"embedded": True, "system": sys_a, "only": "--target=https://elsewhere"}
    assert api.post("/api/runs", json=bad_scope, headers=bearer).status_code == 400
    assert (
        a.post(
            "/api/runs", json={"embedded": True, "system": sys_a}, headers={"x-csrf-token": csrf}
        ).status_code
        == 201
    )
    # Reviewers see every organisation but do not start runs or certify.
    r = any_env.client()
    login(r, "tham-dinh")
    assert r.get(f"/runs/{run_b}").status_code == 200
    assert (
        r.post(
            f"/systems/{sys_b}/runs", data={"csrf": csrf_of(r.get("/").text), "target": "embedded"}
        ).status_code
        == 403
    )


def test_endpoint_secret_is_encrypted_at_rest(env: Env, tmp_path: Path) -> None:
    sys_a = _system(env, "Công ty A")
    c = env.client()
    csrf = login(c, "vendor-a")
    secret = "s3cr3t-client-value-42"
    r = c.post(
        f"/systems/{sys_a}/endpoints",
        data={
            "csrf": csrf,
            "base_url": "https://fhir.example.vn/r4",
            "auth_mode": "client-credentials",
            "token_url": "https://fhir.example.vn/token",
            "client_id": "his-a",
            "secret": secret,
        },
    )
    assert r.status_code == 200 and "fhir.example.vn" in r.text and secret not in r.text
    raw = (
        sqlite3.connect(tmp_path / "console.db").execute("select secret_encrypted from endpoints").fetchall()
    )
    assert len(raw) == 1 and secret.encode() not in raw[0][0]
    dump = "\n".join(sqlite3.connect(tmp_path / "console.db").iterdump())
    assert secret not in dump
    with env.sessions() as s:
        ep = s.scalar(select(Endpoint))
        assert ep is not None and security.decrypt(ep.secret_encrypted or b"") == secret
        run = services.start_run(s, s.scalar(select(User).where(User.name == "vendor-a")), None, ep.id, False)  # type: ignore[arg-type]
        cmd, child_env = command_for(run, tmp_path / "r", env.settings)
    assert child_env["VHR_CLIENT_SECRET"] == secret and secret not in " ".join(cmd)
    assert "VHR_CONSOLE_KEY" not in child_env
    assert cmd[cmd.index("--target") + 1] == "https://fhir.example.vn/r4"


def test_secret_without_key_is_a_clear_error(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    sys_a = _system(env, "Công ty A")
    c = env.client()
    csrf = login(c, "vendor-a")
    monkeypatch.delenv("VHR_CONSOLE_KEY")
    r = c.post(
        f"/systems/{sys_a}/endpoints",
        data={"csrf": csrf, "base_url": "https://x.vn/fhir", "auth_mode": "bearer", "secret": "t"},
    )
    assert r.status_code == 400 and "VHR_CONSOLE_KEY" in r.text


HOSTILE = '<script>alert("owned")</script>'


def test_hostile_evidence_is_escaped(any_env: Env) -> None:
    with any_env.sessions() as s:  # registered like the page does, so the audit log carries the name
        vendor = s.scalar(select(User).where(User.name == "vendor-a"))
        assert vendor is not None
        sys_a = services.create_system(s, vendor, None, HOSTILE, "1.0").id
    results = {
        "target": HOSTILE,
        "criteria": [
            {
                "id": "VHR-CAP-001",
                "inScope": True,
                "state": "fail",
                "level": "SHALL",
                "title": {"vi": HOSTILE, "en": HOSTILE},
                "cases": ["t::a"],
            }
        ],
        "cases": [
            {
                "nodeid": "t::a",
                "name": "a",
                "state": "fail",
                "message": HOSTILE,
                "evidence": [
                    {
                        "method": "GET",
                        "url": "https://x/metadata",
                        "request_headers": {"x": HOSTILE},
                        "status": 200,
                        "response_headers": {"content-type": HOSTILE},
                        "response_body": HOSTILE + "<img src=x onerror=alert(1)>",
                    }
                ],
            }
        ],
    }
    results["criteria"].append(
        {
            "id": "VHR-SEC-008",
            "inScope": True,
            "state": "attestation",
            "level": "SHALL",
            "verification": "attestation",
            "title": {"vi": HOSTILE, "en": HOSTILE},
            "cases": [],
        }
    )
    run_id = _finished_run(any_env, sys_a, results)
    other = _finished_run(any_env, sys_a, results)
    c = any_env.client()
    csrf = login(c, "vendor-a")
    # What a vendor types is untrusted too: its attestation reaches the reviewers' pages.
    attested = c.post(
        f"/runs/{run_id}/attestations",
        data={"csrf": csrf, "criterion": "VHR-SEC-008", "statement_vi": HOSTILE, "statement_en": HOSTILE},
    )
    assert attested.status_code == 200
    pages = [c.get(f"/runs/{run_id}"), c.get("/"), c.get(f"/systems/{sys_a}")]
    pages.append(c.get(f"/compare?a={run_id}&b={other}"))
    reviewer = any_env.client()
    login(reviewer, "tham-dinh")
    pages += [reviewer.get("/reviews"), reviewer.get(f"/runs/{run_id}")]
    ministry = any_env.client()
    login(ministry, "bo-yte")
    pages += [ministry.get("/audit"), ministry.get("/")]
    for page in pages:
        assert page.status_code == 200, page.url
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, page.url
        assert "&lt;script&gt;" in page.text, page.url
    csp = c.get(f"/runs/{run_id}").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp  # no inline script ever runs


def test_full_embedded_run_matches_vhr_run_verifies_and_certifies(env: Env) -> None:
    """The whole suite on the embedded server, queued through the API and run by the web process's
    own worker thread while its pages answer: the outcome and every criterion's state are what the
    outcome model gives for the report `vhr run` wrote, the bundle passes `vhr verify`'s check, and
    its certificate checks out on the public page."""
    sys_a = _system(env, "Công ty A")
    app = create_app(env.url, settings=env.settings, local_workers=1, sign_key=env.key, trust=env.trust)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        token = c.post("/api/login", json={"name": "vendor-a", "password": PASSWORD}).json()["token"]
        bearer = {"authorization": f"Bearer {token}"}
        created = c.post("/api/runs", json={"embedded": True, "system": sys_a}, headers=bearer)
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]
        seen: set[str] = set()
        totals: list[dict[str, int]] = []
        limit = time.monotonic() + 900
        while time.monotonic() < limit:
            state = c.get(f"/api/runs/{run_id}", headers=bearer).json()
            seen.add(state["status"])
            if state["status"] == "running" and state["overall"]["total"]:
                totals.append(state["overall"])
            if state["status"] == "finished":
                break
            time.sleep(1)
        assert "running" in seen and state["status"] == "finished", seen
        assert totals and all(0 <= t["done"] <= t["total"] for t in totals)  # done/total while it ran
    body = c.get(f"/api/runs/{run_id}", headers=bearer).json()
    assert body["note"] is None, body

    bundle = c.get(f"/api/runs/{run_id}/evidence", headers=bearer)
    assert bundle.status_code == 200 and bundle.content[:2] == b"PK"
    path = env.data / "check.zip"
    path.write_bytes(bundle.content)
    check = verify_bundle(path, env.trust, Harness.current())
    assert check.ok and check.signature.status == "trusted", check.to_json()
    with zipfile.ZipFile(path) as zf:
        report = orjson.loads(zf.read("report/results.json"))
    # The outcome model over `vhr run`'s own report: case states → criterion states → verdict.
    cases = {case["nodeid"]: case["state"] for case in report["cases"]}
    for crit in report["criteria"]:
        if crit["inScope"] and crit["verification"] == "automated" and crit["cases"]:
            assert crit["state"] == criterion_state(cases[n] for n in crit["cases"]), crit["id"]
    expected = run_verdict(
        Judged(c["level"], c["state"], c["inScope"], c["verification"] == "automated")
        for c in report["criteria"]
    )
    assert body["outcome"] == expected.value == report["verdict"] == check.manifest["run"]["verdict"]
    assert body["exitCode"] == report["exitCode"] == EXIT_OF[expected]
    in_scope = {c["id"]: c["state"] for c in report["criteria"] if c["inScope"]}
    assert {row["id"]: row["state"] for row in body["criteria"]} == in_scope
    assert len(in_scope) > 100  # the whole catalogue, not a narrowed scope
    # Every planned case was counted done, area by area.
    assert body["overall"]["done"] == body["overall"]["total"] == len(report["cases"])
    assert all(a["done"] == a["total"] for a in body["progress"].values()), body["progress"]
    assert check.manifest["vendor"] == {"organisation": "Công ty A", "product": "HIS", "version": "1.0"}

    m = env.client()
    mtoken = m.post("/api/login", json={"name": "bo-yte", "password": PASSWORD}).json()["token"]

    def certify() -> Any:
        return m.post(
            f"/api/runs/{run_id}/certificate",
            json={"validDays": 30},
            headers={"authorization": f"Bearer {mtoken}"},
        )

    # A certificate is the ministry's word: SHALL attestations awaiting review hold it back until
    # the vendor attests in the console and a reviewer accepts (reviews signed by the console's key).
    shall_attested = [
        row["id"]
        for row in report["criteria"]
        if row.get("verification") == "attestation" and row.get("level") == "SHALL" and row.get("inScope")
    ]
    assert shall_attested, "the catalogue has SHALL attestation criteria"
    refused = certify()
    assert refused.status_code == 400 and shall_attested[0] in refused.text, refused.text
    v, r = env.client(), env.client()
    vcsrf, rcsrf = login(v, "vendor-a"), login(r, "tham-dinh")
    for crit in shall_attested:
        said = {"csrf": vcsrf, "criterion": crit, "statement_vi": "Đã thực hiện", "statement_en": "Done"}
        assert v.post(f"/runs/{run_id}/attestations", data=said).status_code == 200
    from vhr_conformance.console.models import Attestation as Row

    with env.sessions() as s:
        ids = [row.id for row in s.scalars(select(Row).where(Row.run_id == run_id))]
    for att_id in ids:
        accepted = {"csrf": rcsrf, "decision": "accepted", "reason": "đủ"}
        assert r.post(f"/attestations/{att_id}/review", data=accepted).status_code == 200
    issued = certify()
    assert expected is Verdict.PASS  # the reference server conforms: certify accepts only PASS
    assert issued.status_code == 201, issued.text
    cert_id = issued.json()["id"]
    public = env.client()
    page = public.get(f"/check?id={cert_id}")
    assert page.status_code == 200 and 'class="cert c-valid"' in page.text and "Công ty A" in page.text
    assert public.get(f"/api/certificates/{cert_id}").json()["status"] == "valid"


def _pass_bundle(env: Env) -> bytes:
    """An intact bundle of a PASS report with the whole scope, made by this harness."""
    report = env.data / "pass-report"
    report.mkdir(parents=True)
    (report / "results.json").write_bytes(
        orjson.dumps(
            {
                "runId": "20261204T000000Z-test",
                "exitCode": 0,
                "target": "https://127.0.0.1:1",
                "ig": {"id": "vhr.conformance.ig", "version": "0.1.0"},
                "options": {"only": []},
                "criteria": [],
                "cases": [],
            }
        )
    )
    return write_bundle(
        report, sign_key=env.key, vendor={"organisation": "Công ty A", "product": "HIS", "version": "1.0"}
    ).read_bytes()


def test_certificate_issue_public_check_and_revoke(any_env: Env) -> None:
    sys_a = _system(any_env, "Công ty A")
    run_id = _finished_run(any_env, sys_a, {"criteria": [], "cases": []}, bundle=_pass_bundle(any_env))
    m = any_env.client()
    csrf = login(m, "bo-yte")
    r = m.post(f"/runs/{run_id}/certificate", data={"csrf": csrf, "valid_days": "30"})
    assert r.status_code == 200 and "Đã cấp chứng nhận" in r.text
    with any_env.sessions() as s:
        from vhr_conformance.console.models import Certificate

        cert = s.scalar(select(Certificate))
        assert cert is not None
        cert_id = cert.id
    public = any_env.client()  # nobody logged in
    page = public.get(f"/check?id={cert_id}")
    assert page.status_code == 200 and 'class="cert c-valid"' in page.text and "Công ty A" in page.text
    assert public.get(f"/api/certificates/{cert_id}").json()["status"] == "valid"
    assert public.get("/check?id=no-such-id").text.count("c-unknown") == 1
    html = public.get(f"/certificates/{cert_id}.html")
    assert (
        html.status_code == 200
        and cert_id in html.text
        and "script-src" not in html.headers["content-security-policy"]
    )
    assert orjson.loads(public.get(f"/certificates/{cert_id}.json").content)["certificate"]["id"] == cert_id
    assert public.get("/api/certificates/no-such-id").status_code == 404
    assert (
        m.post(
            f"/certificates/{cert_id}/revoke", data={"csrf": csrf, "reason": "máy chủ đổi / server changed"}
        ).status_code
        == 200
    )
    after = public.get(f"/check?id={cert_id}").text
    assert "c-revoked" in after and "server changed" in after
    assert public.get(f"/api/certificates/{cert_id}").json()["status"] == "revoked"
    with any_env.sessions() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert "issue-certificate" in actions and "revoke-certificate" in actions and "login" in actions


def test_attestation_and_review(any_env: Env) -> None:
    sys_a = _system(any_env, "Công ty A")
    results = {
        "criteria": [
            {
                "id": "VHR-SEC-008",
                "inScope": True,
                "state": "attestation",
                "level": "SHALL",
                "verification": "attestation",
                "title": {"vi": "Nhật ký truy cập", "en": "Access log"},
                "cases": [],
            }
        ],
        "cases": [],
    }
    run_id = _finished_run(any_env, sys_a, results)
    v = any_env.client()
    csrf = login(v, "vendor-a")
    bad = v.post(
        f"/runs/{run_id}/attestations",
        data={"csrf": csrf, "criterion": "VHR-CAP-001", "statement_vi": "x", "statement_en": "x"},
    )
    assert bad.status_code == 400
    ok = v.post(
        f"/runs/{run_id}/attestations",
        data={
            "csrf": csrf,
            "criterion": "VHR-SEC-008",
            "statement_vi": "Có nhật ký",
            "statement_en": "Logs are kept",
        },
    )
    assert ok.status_code == 200 and "Logs are kept" not in ok.text and "Có nhật ký" in ok.text
    with any_env.sessions() as s:
        from vhr_conformance.console.models import Attestation as Row

        row = s.scalar(select(Row))
        assert row is not None
        att_id = row.id
    assert (
        v.post(f"/attestations/{att_id}/review", data={"csrf": csrf, "decision": "accepted"}).status_code
        == 403
    )
    r = any_env.client()
    rcsrf = login(r, "tham-dinh")
    assert "VHR-SEC-008" in r.get("/reviews").text
    assert (
        r.post(
            f"/attestations/{att_id}/review", data={"csrf": rcsrf, "decision": "rejected", "reason": ""}
        ).status_code
        == 400
    )
    assert (
        r.post(
            f"/attestations/{att_id}/review", data={"csrf": rcsrf, "decision": "accepted", "reason": "đủ"}
        ).status_code
        == 200
    )
    with any_env.sessions() as s:
        row = s.get(Row, att_id)
        assert row is not None and row.decision == "accepted" and row.reviewer == "tham-dinh"
        item = Attestation(row.criterion, Text(row.statement_vi, row.statement_en), row.attested_by, row.date)
        rev = Review(row.decision, row.reason or "", row.reviewer, row.review_date or "")
        assert (
            check_signature(
                item.review_payload(rev), orjson.loads(row.review_signature or "null"), any_env.trust
            ).status
            == "trusted"
        )


def test_a_silent_worker_leaves_its_run_interrupted(any_env: Env) -> None:
    sys_a = _system(any_env, "Công ty A")
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    with any_env.sessions() as s:
        run = Run(
            system_id=sys_a,
            embedded=True,
            status="running",
            requested_by="t",
            started=old,
            heartbeat=old,
            worker="gone:1",
        )
        fresh = Run(
            system_id=sys_a,
            embedded=True,
            status="running",
            requested_by="t",
            started=dt.datetime.now(dt.UTC),
            heartbeat=dt.datetime.now(dt.UTC),
        )
        s.add_all([run, fresh])
        s.commit()
        ids = run.id, fresh.id
    assert reap_stale(any_env.app.state.console.sessions, 60) == [ids[0]]  # type: ignore[attr-defined]
    with any_env.sessions() as s:
        gone, alive = s.get(Run, ids[0]), s.get(Run, ids[1])
        assert (
            gone is not None
            and gone.status == "finished"
            and gone.verdict == "INTERRUPTED"
            and "gone:1" in (gone.note or "")
        )
        assert alive is not None and alive.status == "running"


def test_verdict_comes_from_vhr_run() -> None:
    assert verdict_of({"exitCode": 0}, 0, False) is Verdict.PASS
    assert verdict_of({"exitCode": 5}, 5, False) is Verdict.INCOMPLETE
    assert verdict_of({"exitCode": 2}, 2, False) is Verdict.ERROR  # a usage error is no verdict
    assert verdict_of({"exitCode": 1}, 1, False) is Verdict.FAIL
    assert verdict_of({"verdict": "fail"}, 0, False) is Verdict.FAIL
    assert verdict_of(None, 2, False) is Verdict.ERROR  # a user error before any report
    assert verdict_of(None, -9, False) is Verdict.INTERRUPTED
    assert verdict_of({"exitCode": 0}, 0, True) is Verdict.INTERRUPTED


def test_add_user_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from vhr_conformance.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ADMIN_PW", "a long enough password")
    runner = CliRunner()
    ok = runner.invoke(
        app, ["console", "add-user", "admin", "--role", "ministry", "--password-env", "ADMIN_PW", "--db", url]
    )
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(
        app, ["console", "add-user", "admin", "--role", "ministry", "--password-env", "ADMIN_PW", "--db", url]
    )
    assert again.exit_code != 0 and "already exists" in str(again.exception)
    no_org = runner.invoke(
        app, ["console", "add-user", "v", "--role", "vendor", "--password-env", "ADMIN_PW", "--db", url]
    )
    assert no_org.exit_code != 0 and "--org" in str(no_org.exception)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select role from users where name='admin'").scalar() == "ministry"


def test_deadline_interrupts_the_run(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """At its deadline the run is interrupted (SIGINT, then kill) and stored as INTERRUPTED."""
    sys_a = _system(env, "Công ty A")
    with env.sessions() as s:
        run = Run(system_id=sys_a, embedded=True, status="queued", requested_by="t", deadline_s=1)
        s.add(run)
        s.commit()
        run_id = run.id

    def sleeper(run: Run, report_dir: Path, settings: object) -> tuple[list[str], dict[str, str]]:
        return [sys.executable, "-c", "import time; time.sleep(60)"], {}

    monkeypatch.setattr(worker, "command_for", sleeper)
    env.settings.heartbeat_s = 0.2
    started = time.monotonic()
    assert work_once(env.app.state.console.sessions, env.settings) == run_id  # type: ignore[attr-defined]
    assert time.monotonic() - started < 30
    with env.sessions() as s:
        done = s.get(Run, run_id)
        assert done is not None and done.status == "finished" and done.verdict == "INTERRUPTED"
        assert "deadline" in (done.note or "") and done.bundle is None


def test_compare_two_runs(any_env: Env) -> None:
    sys_a = _system(any_env, "Công ty A")
    sys_b = _system(any_env, "Công ty B")

    def results(cap: str) -> dict:
        crit = [
            {
                "id": "VHR-CAP-001",
                "inScope": True,
                "state": cap,
                "level": "SHALL",
                "title": {"vi": "a", "en": "a"},
            },
            {
                "id": "VHR-SEC-001",
                "inScope": True,
                "state": "pass",
                "level": "SHALL",
                "title": {"vi": "b", "en": "b"},
            },
        ]
        return {"criteria": crit, "cases": []}

    old, new = _finished_run(any_env, sys_a, results("fail")), _finished_run(any_env, sys_a, results("pass"))
    other = _finished_run(any_env, sys_b, results("pass"))
    c = any_env.client()
    login(c, "vendor-a")
    assert 'action="/compare"' in c.get(f"/systems/{sys_a}").text
    page = c.get(f"/compare?a={old}&b={new}&lang=en")
    assert page.status_code == 200 and "come first: 1" in page.text
    first_row = page.text.split("<tbody>")[1].split("</tr>")[0]
    assert "VHR-CAP-001" in first_row and "Fail" in first_row and "(changed)" in first_row
    assert c.get(f"/compare?a={old}&b={other}").status_code == 403
    assert c.get(f"/compare?a={old}&b=x").status_code == 400


def test_server_sent_events_follow_the_run(env: Env) -> None:
    sys_a = _system(env, "Công ty A")
    with env.sessions() as s:
        run = Run(
            system_id=sys_a,
            embedded=True,
            status="running",
            requested_by="t",
            progress='{"CAP": {"total": 3, "done": 2, "passed": 2}}',
        )
        s.add(run)
        s.commit()
        run_id = run.id

    def finish() -> None:
        time.sleep(1.5)
        with env.sessions() as s:
            done = s.get(Run, run_id)
            assert done is not None
            done.status, done.verdict = "finished", "PASS"
            done.progress = '{"CAP": {"total": 3, "done": 3, "passed": 3}}'
            s.commit()

    c = env.client()
    login(c, "vendor-a")
    page = c.get(f"/runs/{run_id}").text
    assert f'href="/runs/{run_id}/events"' in page and 'src="/static/console.js"' in page
    assert '<td data-k="done">2 / 3</td>' in page and '<td id="overall">2 / 3</td>' in page
    assert c.get("/static/console.js").headers["content-type"].startswith("text/javascript")
    thread = threading.Thread(target=finish)
    thread.start()
    with c.stream("GET", f"/runs/{run_id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = [orjson.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: ")]
    thread.join()
    assert events[0] == {
        "id": run_id,
        "status": "running",
        "outcome": None,
        "progress": {"CAP": {"total": 3, "done": 2, "passed": 2}},
        "overall": {"done": 2, "total": 3},
    }
    assert events[-1] == {
        "id": run_id,
        "status": "finished",
        "outcome": "PASS",
        "progress": {"CAP": {"total": 3, "done": 3, "passed": 3}},
        "overall": {"done": 3, "total": 3},
    }
    other = env.client()
    login(other, "vendor-b")
    assert other.get(f"/runs/{run_id}/events").status_code == 403


def test_concurrent_workers_claim_each_run_once(any_env: Env) -> None:
    sys_a = _system(any_env, "Công ty A")
    with any_env.sessions() as s:
        runs = [Run(system_id=sys_a, embedded=True, status="queued", requested_by="t") for _ in range(8)]
        s.add_all(runs)
        s.commit()
        ids = sorted(r.id for r in runs)
    factory = any_env.app.state.console.sessions
    claimed: list[int] = []
    lock = threading.Lock()

    def drain(name: str) -> None:
        while (run_id := worker.claim(factory, name)) is not None:
            with lock:
                claimed.append(run_id)

    threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(claimed) == ids  # every run once, none twice
    with any_env.sessions() as s:
        assert {r.status for r in s.scalars(select(Run))} == {"running"}


def test_client_mode_session_records_what_the_vendor_pushes(env: Env) -> None:
    """A `vhr listen` session from the console: the vendor pushes to the address the run shows;
    the session's verdict and bundle (kind listen) are stored like a run's."""
    import httpx

    sys_a = _system(env, "Công ty A")
    c = env.client()
    token = c.post("/api/login", json={"name": "vendor-a", "password": PASSWORD}).json()["token"]
    bearer = {"authorization": f"Bearer {token}"}
    bad = c.post(
        "/api/listen", json={"system": sys_a, "durationSeconds": 10, "scenarios": ["nope"]}, headers=bearer
    )
    assert bad.status_code == 400 and "nope" in bad.json()["error"]["en"]
    made = c.post("/api/listen", json={"system": sys_a, "durationSeconds": 12}, headers=bearer)
    assert made.status_code == 201, made.text
    run_id = made.json()["id"]
    thread = threading.Thread(target=work_once, args=(env.app.state.console.sessions, env.settings))  # type: ignore[attr-defined]
    thread.start()
    url = None
    limit = time.monotonic() + 60
    while time.monotonic() < limit and url is None:
        url = c.get(f"/api/runs/{run_id}", headers=bearer).json()["listenUrl"]
        time.sleep(0.2)
    assert url and url.startswith("http://127.0.0.1:")
    bundle = (Path(__file__).resolve().parents[2] / "fixtures" / "submissions").glob("*.json")
    body = next(iter(sorted(bundle))).read_bytes()
    pushed = None
    while time.monotonic() < limit and pushed is None:
        try:
            pushed = httpx.post(
                url, content=body, headers={"content-type": "application/fhir+json"}, timeout=10
            )
        except httpx.TransportError:
            time.sleep(0.3)  # the listener is still starting
    assert pushed is not None and pushed.status_code < 500
    page = env.client()
    login(page, "vendor-a")
    live = ""
    while time.monotonic() < limit and "POST" not in live:
        html = page.get(f"/runs/{run_id}").text
        live = html.split('id="pushes"', 1)[1] if 'id="pushes"' in html else ""
        time.sleep(0.5)
    assert "POST" in live  # the push shows while the session still runs
    assert c.get(f"/api/runs/{run_id}", headers=bearer).json()["status"] == "running"
    thread.join(timeout=120)
    run = c.get(f"/api/runs/{run_id}", headers=bearer).json()
    assert run["status"] == "finished" and run["kind"] == "listen"
    assert run["outcome"] in ("PASS", "FAIL", "INCOMPLETE"), run
    login(c, "vendor-a")
    assert url in c.get(f"/runs/{run_id}").text
    path = env.data / "listen.zip"
    path.write_bytes(c.get(f"/runs/{run_id}/evidence.zip").content)
    check = verify_bundle(path, env.trust)
    assert check.ok and check.manifest["kind"] == "listen", check.to_json()
    with zipfile.ZipFile(path) as zf:
        exchanges = [n for n in zf.namelist() if n.startswith("report/exchanges")]
        assert exchanges and b"POST" in zf.read(exchanges[0])


def test_openapi_documents_every_api_route(env: Env) -> None:
    spec = env.client().get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for route in env.app.routes:
        path = getattr(route, "path", "")
        if path.startswith("/api/"):
            documented = path.replace("{id:int}", "{id}")
            assert documented in spec["paths"], documented
            for method in route.methods - {"HEAD"}:  # type: ignore[attr-defined]
                assert method.lower() in spec["paths"][documented], (method, documented)


def test_ministry_manages_accounts_and_the_audit_log_records_it(any_env: Env) -> None:
    m = any_env.client()
    csrf = login(m, "bo-yte")
    made = m.post(
        "/admin",
        data={
            "csrf": csrf,
            "form": "user",
            "name": "vendor-c",
            "role": "vendor",
            "org": "Công ty C",
            "password": "ten chars at least",
        },
    )
    assert made.status_code == 200 and "vendor-c" in made.text and "Công ty C" in made.text
    short = m.post(
        "/admin",
        data={"csrf": csrf, "form": "user", "name": "x", "role": "reviewer", "password": "short"},
    )
    assert short.status_code == 400 and "10" in short.text
    with any_env.sessions() as s:
        ids = {u.name: u.id for u in s.scalars(select(User))}
    # The vendor logs in, then the ministry disables it: its session and its token stop working.
    v = any_env.client()
    login(v, "vendor-c", "ten chars at least")
    vtoken = v.post("/api/login", json={"name": "vendor-c", "password": "ten chars at least"}).json()["token"]
    vbearer = {"authorization": f"Bearer {vtoken}"}
    assert v.get("/api/runs", headers=vbearer).status_code == 200
    off = m.post(f"/admin/users/{ids['vendor-c']}/active", data={"csrf": csrf, "active": "0"})
    assert off.status_code == 200 and "Đã khóa tài khoản vendor-c" in off.text
    assert v.get("/", follow_redirects=False).headers["location"] == "/login"
    assert v.get("/api/runs", headers=vbearer).status_code == 401
    assert (
        v.post("/api/login", json={"name": "vendor-c", "password": "ten chars at least"}).status_code == 401
    )
    myself = m.post(f"/admin/users/{ids['bo-yte']}/active", data={"csrf": csrf, "active": "0"})
    assert myself.status_code == 400
    # A reset password ends the old sessions and tokens; the new one works, the old one does not.
    a = any_env.client()
    login(a, "vendor-a")
    atoken = a.post("/api/login", json={"name": "vendor-a", "password": PASSWORD}).json()["token"]
    mtoken = m.post("/api/login", json={"name": "bo-yte", "password": PASSWORD}).json()["token"]
    mbearer = {"authorization": f"Bearer {mtoken}"}
    reset = m.post(
        f"/api/users/{ids['vendor-a']}", json={"password": "a brand new password"}, headers=mbearer
    )
    assert reset.status_code == 200 and reset.json()["active"] is True
    assert a.get("/", follow_redirects=False).status_code == 303
    assert a.get("/api/runs", headers={"authorization": f"Bearer {atoken}"}).status_code == 401
    assert a.post("/api/login", json={"name": "vendor-a", "password": PASSWORD}).status_code == 401
    assert (
        a.post("/api/login", json={"name": "vendor-a", "password": "a brand new password"}).status_code == 200
    )
    # The API does what the page does: list, create, enable again.
    listed = m.get("/api/users", headers=mbearer).json()["users"]
    assert {k: v for k, v in next(u for u in listed if u["name"] == "vendor-c").items() if k != "id"} == {
        "name": "vendor-c",
        "role": "vendor",
        "organisation": "Công ty C",
        "active": False,
    }
    again = m.post(f"/api/users/{ids['vendor-c']}", json={"active": True}, headers=mbearer)
    assert again.status_code == 200 and again.json()["active"] is True
    created = m.post(
        "/api/users",
        json={"name": "tham-dinh-2", "role": "reviewer", "password": "reviewer password"},
        headers=mbearer,
    )
    assert created.status_code == 201 and created.json()["role"] == "reviewer"
    assert m.post("/api/users/99999", json={"active": False}, headers=mbearer).status_code == 404
    with any_env.sessions() as s:
        entries = [
            (e.actor, e.action, e.subject) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
    for entry in (
        ("bo-yte", "create-user", "user:vendor-c"),
        ("bo-yte", "create-organisation", "organisation:Công ty C"),
        ("bo-yte", "disable-user", "user:vendor-c"),
        ("bo-yte", "reset-password", "user:vendor-a"),
        ("bo-yte", "enable-user", "user:vendor-c"),
        ("bo-yte", "create-user", "user:tham-dinh-2"),
    ):
        assert entry in entries, entry
    audit_page = m.get("/audit").text
    assert "disable-user" in audit_page and "reset-password" in audit_page


def test_only_the_ministry_manages_accounts(any_env: Env) -> None:
    with any_env.sessions() as s:
        target = s.scalar(select(User.id).where(User.name == "vendor-b"))
    for name in ("vendor-a", "tham-dinh"):
        c = any_env.client()
        csrf = login(c, name)
        token = c.post("/api/login", json={"name": name, "password": PASSWORD}).json()["token"]
        bearer = {"authorization": f"Bearer {token}"}
        assert c.get("/admin").status_code == 403
        assert c.post(f"/admin/users/{target}/active", data={"csrf": csrf, "active": "0"}).status_code == 403
        assert (
            c.post(f"/admin/users/{target}/password", data={"csrf": csrf, "password": "x" * 12}).status_code
            == 403
        )
        user_form = {"csrf": csrf, "form": "user", "name": "e", "role": "ministry", "password": "x" * 12}
        assert c.post("/admin", data=user_form).status_code == 403
        assert c.get("/api/users", headers=bearer).status_code == 403
        body = {"name": "evil", "role": "ministry", "password": "x" * 12}
        assert c.post("/api/users", json=body, headers=bearer).status_code == 403
        assert c.post(f"/api/users/{target}", json={"active": False}, headers=bearer).status_code == 403
        assert c.post(f"/api/users/{target}", json={"password": "y" * 12}, headers=bearer).status_code == 403
    # A ministry form without the session's CSRF token changes nothing either.
    m = any_env.client()
    login(m, "bo-yte")
    assert m.post(f"/admin/users/{target}/active", data={"active": "0"}).status_code == 403
    with any_env.sessions() as s:
        names = {u.name for u in s.scalars(select(User))}
        still = s.get(User, target)
        assert still is not None and still.active and still.password_hash.startswith("$argon2id$")
        assert security.check_password(still.password_hash, PASSWORD)
    assert "evil" not in names and "e" not in names


def _children(pid: int) -> set[int]:
    """Direct children of a process, from Linux's /proc."""
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out |= {int(x) for x in task.read_text().split()}
        except OSError:
            continue
    return out


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc and relies on Linux's PDEATHSIG"
)
def test_a_killed_worker_process_takes_its_run_down_and_the_run_ends_interrupted(env: Env) -> None:
    """`vhr console worker` killed with SIGKILL in the middle of a run: the run's `vhr run` process
    dies with it, and the next worker that looks marks the run finished/INTERRUPTED, naming the dead
    worker. Nothing is left running, nothing is lost."""
    import os
    import signal
    import subprocess

    sys_a = _system(env, "Công ty A")
    with env.sessions() as s:
        run = Run(system_id=sys_a, embedded=True, status="queued", requested_by="t", deadline_s=600)
        s.add(run)
        s.commit()
        run_id = run.id
    src = str(Path(__file__).resolve().parents[2] / "src")
    child_env = {**os.environ, "PYTHONPATH": src, "VHR_CONSOLE_DATA": str(env.data)}
    cli = [sys.executable, "-c", "from vhr_conformance.cli import main; main()"]
    proc = subprocess.Popen(
        [*cli, "console", "worker", "--once", "--db", env.url],
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        running: set[int] = set()
        limit = time.monotonic() + 120
        while time.monotonic() < limit and not running:
            with env.sessions() as s:
                state = s.get(Run, run_id)
                assert state is not None
                if state.status == "running":
                    running = _children(proc.pid)
            assert proc.poll() is None, "the worker ended before it was killed"
            time.sleep(0.2)
        assert running, "the run never started"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        limit = time.monotonic() + 30
        while time.monotonic() < limit and any(Path(f"/proc/{pid}").exists() for pid in running):
            time.sleep(0.2)
        zombies = [pid for pid in running if Path(f"/proc/{pid}").exists()]
        assert not zombies, f"the run's process outlived its worker: {zombies}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    time.sleep(1.1)
    assert reap_stale(env.app.state.console.sessions, 1) == [run_id]  # type: ignore[attr-defined]
    with env.sessions() as s:
        done = s.get(Run, run_id)
        assert done is not None and done.status == "finished" and done.verdict == "INTERRUPTED"
        assert f":{proc.pid}:" in (done.note or "") and "stopped answering" in (done.note or "")


def test_vhr_console_starts_on_a_fresh_install(tmp_path: Path) -> None:
    """`vhr console` with nothing prepared (no database, no key): it makes the embedded SQLite
    file in its data folder, migrates it and serves the log-in page on 127.0.0.1."""
    import os
    import signal
    import socket
    import subprocess

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VHR_CONSOLE")}
    env.update(
        {"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"), "VHR_CONSOLE_DATA": str(tmp_path)}
    )
    cli = [sys.executable, "-c", "from vhr_conformance.cli import main; main()"]
    proc = subprocess.Popen(
        [*cli, "console", "--port", str(port), "--workers", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        answer = None
        limit = time.monotonic() + 60
        while time.monotonic() < limit and answer is None and proc.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/login", timeout=5)
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer is not None, (
            proc.stdout.read().decode() if proc.poll() is not None and proc.stdout else ""
        )
        assert answer.status_code == 200 and "Đăng nhập" in answer.text
        assert answer.headers["x-frame-options"] == "DENY"
        assert (tmp_path / "console.db").is_file()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
