"""A listening session: the reference server in recording mode, then the per-criterion report.

The vendor's system talks to a real reference server (same validation, auth, conditional
creates as `vhr serve`); the recorder in front of it keeps every exchange. When the session ends
the listener looks at what the platform now holds (over HTTP, with its own internal key) and
judges the recording against the catalogue's sender criteria, writing the same report formats as
`vhr run` plus the redacted exchange log.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import orjson

from vhr_conformance import __version__
from vhr_conformance.catalogue import Catalogue, load_catalogue
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.listen.evaluate import SessionFacts, evaluate
from vhr_conformance.listen.push import DEFAULT_CLIENT
from vhr_conformance.listen.recorder import (
    INTERNAL_HEADER,
    Journal,
    RecordingApp,
    ScenarioConfig,
    Session,
    read_journal,
)
from vhr_conformance.reports.model import CaseResult, RunResult
from vhr_conformance.reports.writer import sha256_tree, write_reports
from vhr_conformance.server import ReferenceServer

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_session_name(name: str) -> str:
    if not _NAME.match(name):
        raise UserError(
            Text(
                "Tên phiên chỉ gồm chữ, số, . _ - (tối đa 64).",
                "A session name has letters, digits, . _ - only (up to 64).",
            ),
            location="--session",
        )
    return name


def sender_catalogue(path: str | None = None) -> Catalogue:
    """The catalogue restricted to sender criteria (the listener judges nothing else)."""
    cat = load_catalogue(path)
    return replace(cat, criteria={k: c for k, c in cat.criteria.items() if c.actor == "sender"})


def _ig_info() -> dict[str, Any]:
    try:
        from vhr_conformance.ig import ig_package_dir

        folder = ig_package_dir()
        meta = json.loads((folder / "package.json").read_text(encoding="utf-8"))
        return {"id": meta.get("name"), "version": meta.get("version"), "sha256": sha256_tree(folder)}
    except (OSError, ValueError, ImportError):
        return {"id": None, "version": None, "sha256": None}


@dataclass
class SessionReport:
    run: RunResult
    paths: dict[str, Path]


class Listener:
    """`with Listener(...) as lst: <client sends to lst.base_url>; report = lst.finish(dir)`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        auth: str = "none",
        session: str = "session",
        scenarios: ScenarioConfig | None = None,
        max_body_bytes: int = 20 * 1024 * 1024,
        tls: tuple[str, str] | None = None,
        load: Path | None = None,
        journal: Path | None = None,
    ) -> None:
        """``journal``: a folder where the session is kept durably as it happens (the exchanges,
        fsynced one by one, and the platform's SQLite database), so `vhr listen report` can rebuild
        the report of a session that was killed."""
        self.name = check_session_name(session)
        self.auth = auth
        self.max_body_bytes = max_body_bytes
        self.scenarios = scenarios or ScenarioConfig()
        self.journal_dir = journal
        self.rebuilt: dict[str, Any] | None = None  # set by `resume`: where the records came from
        self.target_url: str | None = None
        log: Journal | None = None
        db = ":memory:"
        if journal is not None:
            _new_session_folder(journal)
            db = str(journal / PLATFORM_DB)
            log = Journal(journal / JOURNAL_FILE)
        self.server = ReferenceServer(
            host=host, port=port, db=db, auth=auth, max_body_bytes=max_body_bytes, tls=tls, load=load
        )  # what the platform already holds before the session
        self.session = Session(self.scenarios, max_body_bytes, journal=log)
        self.server.app = RecordingApp(self.server.app, self.session)
        self._finished: SessionReport | None = None

    @classmethod
    def resume(cls, folder: Path) -> Listener:
        """A finished-or-killed session from its journal folder, ready for :meth:`finish`.

        The platform is the session's own SQLite database, served again on a free loopback port
        for the look-ups the criteria need; the exchanges are the journal's.
        """
        meta = read_meta(folder)
        pid = meta.get("pid")
        if not meta.get("finished") and isinstance(pid, int) and pid != os.getpid() and _alive(pid):
            raise UserError(
                Text(
                    "Phiên vẫn đang chạy (tiến trình {p}); hãy kết thúc nó trước.",
                    "The session is still running (process {p}); end it first.",
                ).format(p=pid),
                location=str(folder),
            )
        db = folder / PLATFORM_DB
        if not db.is_file():
            raise UserError(
                Text("Thiếu cơ sở dữ liệu của phiên.", "The session's database is missing."), location=str(db)
            )
        records, torn = read_journal(folder / JOURNAL_FILE)
        sc = meta.get("scenarios") or {}
        lst = cls.__new__(cls)
        lst.name = check_session_name(str(meta.get("session", "session")))
        lst.auth = str(meta.get("auth", "none"))
        lst.max_body_bytes = int(meta.get("maxBodyBytes", 20 * 1024 * 1024))
        lst.scenarios = ScenarioConfig(
            tuple(sc.get("names") or ()),
            int(sc.get("throttleEvery", 3)),
            int(sc.get("retryAfterS", 2)),
            float(sc.get("outageS", 10.0)),
        )
        lst.journal_dir = None
        lst.target_url = str(meta.get("baseUrl") or "") or None
        lst.rebuilt = {
            "journal": str(folder / JOURNAL_FILE),
            "sessionFinished": bool(meta.get("finished")),
            "unreadableLines": torn,
        }
        lst.server = ReferenceServer(port=0, db=str(db), auth=lst.auth, max_body_bytes=lst.max_body_bytes)
        lst.session = Session(lst.scenarios, lst.max_body_bytes)
        lst.session.started_iso = str(meta.get("started") or lst.session.started_iso)
        lst.session.records = records
        lst._finished = None
        return lst

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def start(self) -> Listener:
        self.server.start()
        if self.journal_dir is not None:
            self.target_url = self.base_url
            write_meta(self.journal_dir, self._meta(finished=False))
        return self

    def _meta(self, finished: bool) -> dict[str, Any]:
        return {
            "v": 1,
            "session": self.name,
            "auth": self.auth,
            "maxBodyBytes": self.max_body_bytes,
            "scenarios": {
                "names": list(self.scenarios.names),
                "throttleEvery": self.scenarios.throttle_every,
                "retryAfterS": self.scenarios.retry_after_s,
                "outageS": self.scenarios.outage_s,
            },
            "started": self.session.started_iso,
            "baseUrl": self.target_url,
            "pid": os.getpid(),
            "finished": finished,
            "harnessVersion": __version__,
        }

    def __enter__(self) -> Listener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    # ------------------------------------------------------------------ platform look-ups
    def _internal_client(self) -> httpx.Client:
        # verify=False: this talks to its own loopback server, whose certificate may be self-signed.
        client = httpx.Client(
            base_url=self.base_url,
            timeout=30.0,
            verify=False,
            headers={INTERNAL_HEADER: self.session.internal_key, "Accept": "application/fhir+json"},
        )
        if self.auth == "oauth":
            r = client.post(
                "/auth/token",
                data={"grant_type": "client_credentials", "scope": "system/*.*"},
                auth=DEFAULT_CLIENT,
            )
            r.raise_for_status()
            client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        return client

    def _facts(self, client: httpx.Client) -> SessionFacts:
        from vhr_conformance.validator import Validator

        validator = Validator.default()

        def count(rtype: str, identifier: str) -> int:
            r = client.get(f"/{rtype}", params={"identifier": identifier, "_summary": "count"})
            r.raise_for_status()
            return int(r.json().get("total", 0))

        cache: dict[tuple[str, str], bool] = {}

        def exists(rtype: str, rid: str) -> bool:
            if (rtype, rid) not in cache:
                cache[(rtype, rid)] = client.get(f"/{rtype}/{rid}").status_code == 200
            return cache[(rtype, rid)]

        def validate(bundle: dict[str, Any]) -> list[str]:
            issues = validator.validate(bundle)
            return [f"{i.location}: {i.text.en}" for i in issues if i.severity in ("error", "fatal")]

        return SessionFacts(self.auth, self.max_body_bytes, count, exists, validate)

    # ------------------------------------------------------------------ the end of a session
    def evaluate(self) -> list[CaseResult]:
        """Judge what was received so far (the server must still run)."""
        client = self._internal_client()
        try:
            return evaluate(self.session.snapshot(), self._facts(client), self.name)
        finally:
            client.close()

    def finish(
        self,
        report_dir: Path,
        catalogue_path: str | None = None,
        attestations: dict[str, dict[str, Any]] | None = None,
    ) -> SessionReport:
        """Evaluate, stop the server and write every report format into `report_dir`;
        `attestations` (evidence.attestations.for_run) judge the sender's attestation criteria."""
        if self._finished is not None:
            return self._finished
        started = datetime.now(UTC).isoformat(timespec="seconds")
        if self.rebuilt is not None:
            self.server.start()
        cases = self.evaluate()
        self.server.stop()
        records = self.session.snapshot()
        if self.session.journal is not None:
            self.session.journal.close()
        run = RunResult(
            run_id=f"listen-{self.name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}",
            target=self.target_url or self.base_url,  # the endpoint the client under test sent to (a URI)
            started=datetime.fromisoformat(self.session.started_iso)
            .astimezone(UTC)
            .isoformat(timespec="seconds"),
            finished=datetime.now(UTC).isoformat(timespec="seconds"),
            level="MAY",
            seed=0,
            options={
                "mode": "listen",
                "session": self.name,
                "auth": self.auth,
                "maxBodyBytes": self.max_body_bytes,
                "scenarios": list(self.scenarios.names),
                "retryAfterS": self.scenarios.retry_after_s,
                "throttleEvery": self.scenarios.throttle_every,
                "outageS": self.scenarios.outage_s,
                "requests": len(records),
                "evaluated": started,
                **({"rebuiltFrom": self.rebuilt} if self.rebuilt is not None else {}),
                **({"journalError": self.session.journal_error} if self.session.journal_error else {}),
            },
            ig=_ig_info(),
            harness_version=__version__,
            cases=cases,
            catalogue=sender_catalogue(catalogue_path),
            attestations=attestations,
        )
        run.aggregate()
        if self.journal_dir is not None:  # before the manifest hashes the folder
            write_meta(self.journal_dir, self._meta(finished=True))
        report_dir.mkdir(parents=True, exist_ok=True)
        with (report_dir / "exchanges.jsonl").open("wb") as fh:
            for rec in records:
                fh.write(orjson.dumps(rec.to_evidence()) + b"\n")
        write_junit(run, report_dir / "junit.xml")
        write_allure(run, report_dir / "allure-results")
        paths = write_reports(run, report_dir)
        paths["junit"] = report_dir / "junit.xml"
        paths["allure"] = report_dir / "allure-results"
        paths["exchanges"] = report_dir / "exchanges.jsonl"
        self._finished = SessionReport(run, paths)
        return self._finished


# ---------------------------------------------------------------------- the session folder
JOURNAL_FILE = "journal.jsonl"
META_FILE = "session.json"
PLATFORM_DB = "platform.sqlite"


def _new_session_folder(folder: Path) -> None:
    if (folder / JOURNAL_FILE).exists() or (folder / META_FILE).exists():
        raise UserError(
            Text(
                "Thư mục đã chứa một phiên khác; chọn --report-dir khác.",
                "The folder already holds another session; choose another --report-dir.",
            ),
            location=str(folder),
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            Text("Không tạo được thư mục phiên: {e}", "cannot create the session folder: {e}").format(
                e=exc.strerror or exc
            ),
            location=str(exc.filename or folder),
        ) from None


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    """Replace the session's description atomically (a kill leaves the old or the new one whole)."""
    tmp = folder / f".{META_FILE}.tmp"
    with tmp.open("wb") as fh:
        fh.write(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / META_FILE)


def read_meta(folder: Path) -> dict[str, Any]:
    path = folder / META_FILE
    try:
        meta = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise UserError(
            Text("Không phải thư mục phiên (thiếu {f}): {e}", "not a session folder (no {f}): {e}").format(
                f=META_FILE, e=exc.strerror or exc
            ),
            location=str(folder),
        ) from None
    except orjson.JSONDecodeError as exc:
        raise UserError(
            Text("{f} hỏng: {e}", "{f} is damaged: {e}").format(f=META_FILE, e=exc.msg), location=str(path)
        ) from None
    if not isinstance(meta, dict):
        raise UserError(Text("{f} hỏng.", "{f} is damaged.").format(f=META_FILE), location=str(path))
    return meta


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def find_session(ref: str, reports: Path = Path("reports")) -> Path:
    """The session folder for `vhr listen report REF`: a report folder, its `session/` folder, or a
    session name (its newest `reports/listen-<name>-*` folder)."""
    path = Path(ref)
    for candidate in (path, path / SESSION_SUBDIR):
        if (candidate / META_FILE).is_file():
            return candidate
    if _NAME.match(ref):
        found = sorted(
            (
                p / SESSION_SUBDIR
                for p in reports.glob(f"listen-{ref}-*")
                if (p / SESSION_SUBDIR / META_FILE).is_file()
            ),
            key=lambda p: p.parent.name,
        )
        if found:
            return found[-1]
    raise UserError(
        Text(
            "Không tìm thấy phiên {r} (thư mục báo cáo, thư mục phiên hoặc tên phiên trong {d}).",
            "Session {r} not found (a report folder, a session folder or a session name under {d}).",
        ).format(r=ref, d=reports),
        location=ref,
    )


SESSION_SUBDIR = "session"


# ---------------------------------------------------------------------- JUnit and Allure
_ALLURE_STATUS = {
    "pass": "passed",
    "fail": "failed",
    "not-tested": "skipped",
    "not-applicable": "skipped",
    "error": "broken",
}


def write_junit(run: RunResult, path: Path) -> None:
    """JUnit XML, one testcase per criterion case (CI systems read it)."""
    cases = run.cases
    suite = ET.Element(
        "testsuite",
        name=f"vhr listen {run.options.get('session')} — {run.verdict_text().both()}",
        tests=str(len(cases)),
        failures=str(sum(c.state == "fail" for c in cases)),
        errors=str(sum(c.state == "error" for c in cases)),
        skipped=str(sum(c.state in ("not-tested", "not-applicable") for c in cases)),
        timestamp=run.finished,
    )
    for case in cases:
        crit = run.catalogue.criteria.get(case.criteria[0])
        tc = ET.SubElement(
            suite,
            "testcase",
            classname=f"listen.{crit.area if crit else 'X'}",
            name=f"{case.criteria[0]} {crit.title.vi} / {crit.title.en}" if crit else case.nodeid,
            time=f"{case.duration_s:.3f}",
        )
        props = ET.SubElement(tc, "properties")
        ET.SubElement(props, "property", name="criteria", value=" ".join(case.criteria))
        if case.state == "fail":
            ET.SubElement(tc, "failure", message=case.message[:500]).text = case.message
        elif case.state == "error":
            ET.SubElement(tc, "error", message=case.message[:500]).text = case.message
        elif case.state in ("not-tested", "not-applicable"):
            ET.SubElement(tc, "skipped", message=f"[{case.state}] {case.message}"[:500])
    root = ET.Element("testsuites")
    root.append(suite)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def write_allure(run: RunResult, folder: Path) -> None:
    """allure-results: a result file per case, evidence as JSON attachments."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        if old.is_file():
            old.unlink()
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    for case in run.cases:
        cid = case.criteria[0]
        crit = run.catalogue.criteria.get(cid)
        attachments = []
        if case.evidence:
            source = f"{uuid.uuid4()}-attachment.json"
            (folder / source).write_bytes(orjson.dumps(case.evidence, option=orjson.OPT_INDENT_2))
            attachments.append({"name": "exchanges", "source": source, "type": "application/json"})
        labels = [
            {"name": "suite", "value": "vhr listen"},
            {"name": "feature", "value": f"{cid} {crit.title.en if crit else ''}"},
        ]
        if crit is not None:
            labels += [
                {"name": "epic", "value": run.catalogue.areas[crit.area].both()},
                {
                    "name": "severity",
                    "value": {"SHALL": "critical", "SHOULD": "normal", "MAY": "minor"}[crit.level],
                },
            ]
        result = {
            "uuid": str(uuid.uuid4()),
            "historyId": case.nodeid,
            "name": case.name,
            "fullName": case.nodeid,
            "status": _ALLURE_STATUS[case.state],
            "statusDetails": {"message": case.message},
            "stage": "finished",
            "start": now_ms,
            "stop": now_ms,
            "labels": labels,
            "attachments": attachments,
        }
        (folder / f"{result['uuid']}-result.json").write_bytes(
            orjson.dumps(result, option=orjson.OPT_INDENT_2)
        )
