"""Attestations: what a person states for a criterion the harness cannot test, and the review of it.

An attestation file (YAML) lists, per attestation criterion of the catalogue, the statement (vi and
en), who attests, the date and attached documents (hashed, so the evidence bundle pins them). A
reviewer adds the decision later (`vhr attest review`): accepted or rejected with a reason, signed
with the reviewer's Ed25519 key over the attestation's canonical content, so an edited statement
or a changed document voids the review.

States per attestation criterion: ``missing`` (no statement), ``attested`` (stated, not yet
reviewed), ``accepted``, ``rejected``. A SHALL attestation that is missing keeps a run INCOMPLETE;
a rejected one fails it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import orjson
import yaml

from vhr_conformance.evidence.keys import SigningKey, TrustedKey, check_signature
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.paths import PACKAGE_DIR
from vhr_conformance.reports.model import ATTESTATION_MISSING, missing_attestation

MAX_FILE_BYTES = 1024 * 1024
DECISIONS = ("accepted", "rejected")


@dataclass
class Review:
    decision: str
    reason: str
    reviewer: str
    date: str
    signature: dict[str, Any] | None = None


@dataclass
class Attestation:
    criterion: str
    statement: Text
    attested_by: str
    date: str
    documents: dict[str, str] = field(default_factory=dict)  # file name (relative) → sha256
    review: Review | None = None

    def content(self) -> bytes:
        """What a review signs: everything the attester stated, documents by hash."""
        return orjson.dumps(
            {
                "criterion": self.criterion,
                "statement": {"vi": self.statement.vi, "en": self.statement.en},
                "attestedBy": self.attested_by,
                "date": self.date,
                "documents": self.documents,
            },
            option=orjson.OPT_SORT_KEYS,
        )

    def review_payload(self, review: Review) -> bytes:
        return self.content() + orjson.dumps(
            {
                "decision": review.decision,
                "reason": review.reason,
                "reviewer": review.reviewer,
                "date": review.date,
            },
            option=orjson.OPT_SORT_KEYS,
        )


@dataclass
class AttestationSet:
    path: Path
    items: dict[str, Attestation]
    raw: dict[str, Any]
    # `not_attested:` criteria the attester says, with the reason, they cannot attest (still missing)
    declined: dict[str, Text] = field(default_factory=dict)


def _error(path: Path, where: str, text: Text) -> UserError:
    return UserError(text, location=f"{path} {where}".strip())


def _no_aliases(text: str, path: Path) -> None:
    """Anchors and aliases have no use here and are how YAML bombs grow: refuse them."""
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
                raise _error(
                    path,
                    f"(line {token.start_mark.line + 1})",
                    Text(
                        "Không dùng neo/bí danh YAML (& và *).",
                        "YAML anchors and aliases (& and *) are not allowed.",
                    ),
                )
    except yaml.YAMLError as exc:
        raise _error(path, "", Text("YAML không hợp lệ: {e}", "Invalid YAML: {e}").format(e=exc)) from None


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_attestations(path: Path, criteria: dict[str, Any]) -> AttestationSet:
    """Read and check an attestation file against the catalogue's criteria (id → Criterion)."""
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise _error(
            path,
            "",
            Text("Không đọc được tệp xác nhận: {e}", "Cannot read the attestation file: {e}").format(e=exc),
        ) from None
    if len(raw_bytes) > MAX_FILE_BYTES:
        raise _error(
            path, "", Text("Tệp xác nhận quá lớn (> 1 MB).", "The attestation file is too large (> 1 MB).")
        )
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(
            path, "", Text("Tệp không phải UTF-8 (byte {p}).", "Not UTF-8 (byte {p}).").format(p=exc.start)
        ) from None
    _no_aliases(text, path)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:  # the parser's errors (the scanner's are _no_aliases')
        mark = getattr(exc, "problem_mark", None)
        where = f"(line {mark.line + 1})" if mark is not None else ""
        raise _error(path, where, Text("YAML không hợp lệ: {e}", "Invalid YAML: {e}").format(e=exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("attestations", []), list):
        raise _error(path, "", Text("Cần khóa attestations: danh sách.", "Expected attestations: a list."))
    items: dict[str, Attestation] = {}
    for i, entry in enumerate(data.get("attestations") or []):
        where = f"attestations[{i}]"
        if not isinstance(entry, dict):
            raise _error(path, where, Text("Mỗi mục phải là một ánh xạ.", "Each entry must be a mapping."))
        cid = str(entry.get("criterion", ""))
        crit = criteria.get(cid)
        if crit is None:
            raise _error(
                path,
                where,
                Text("Tiêu chí không có trong danh mục: {c}", "Unknown criterion: {c}").format(c=cid),
            )
        if getattr(crit, "verification", "") != "attestation":
            raise _error(
                path,
                where,
                Text(
                    "{c} được kiểm thử tự động, không nhận xác nhận.",
                    "{c} is tested automatically, not attested.",
                ).format(c=cid),
            )
        if cid in items:
            raise _error(path, where, Text("{c} xuất hiện hai lần.", "{c} appears twice.").format(c=cid))
        statement = entry.get("statement")
        if not isinstance(statement, dict) or not statement.get("vi") or not statement.get("en"):
            raise _error(
                path,
                where + ".statement",
                Text(
                    "Cần nội dung xác nhận bằng cả tiếng Việt (vi) và tiếng Anh (en).",
                    "A statement needs vi and en.",
                ),
            )
        who = str(entry.get("attested_by") or "").strip()
        if not who:
            raise _error(
                path, where + ".attested_by", Text("Thiếu người xác nhận.", "Who attests is missing.")
            )
        date = entry.get("date")
        try:
            day = date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date))
        except ValueError:
            raise _error(
                path, where + ".date", Text("Ngày phải có dạng YYYY-MM-DD.", "The date must be YYYY-MM-DD.")
            ) from None
        documents: dict[str, str] = {}
        for name in entry.get("documents") or []:
            doc = (path.parent / str(name)).resolve()
            if not doc.is_file():
                raise _error(
                    path,
                    where + ".documents",
                    Text("Không tìm thấy tài liệu {d}", "Document not found: {d}").format(d=name),
                )
            documents[str(name)] = sha256_file(doc)
        review = None
        rv = entry.get("review")
        if isinstance(rv, dict):
            if rv.get("decision") not in DECISIONS:
                raise _error(
                    path, where + ".review.decision", Text("accepted hoặc rejected.", "accepted or rejected.")
                )
            review = Review(
                str(rv["decision"]),
                str(rv.get("reason", "")),
                str(rv.get("reviewer", "")),
                str(rv.get("date", "")),
                rv.get("signature") if isinstance(rv.get("signature"), dict) else None,
            )
        items[cid] = Attestation(
            cid, Text(str(statement["vi"]), str(statement["en"])), who, day.isoformat(), documents, review
        )
    declined: dict[str, Text] = {}
    if not isinstance(data.get("not_attested", []), list):
        raise _error(path, "not_attested", Text("Cần một danh sách.", "Expected a list."))
    for i, entry in enumerate(data.get("not_attested") or []):
        where = f"not_attested[{i}]"
        cid = str(entry.get("criterion", "")) if isinstance(entry, dict) else ""
        reason = entry.get("reason") if isinstance(entry, dict) else None
        known = getattr(criteria.get(cid), "verification", "") == "attestation"
        if not known or cid in items or cid in declined:
            raise _error(
                path,
                where,
                Text(
                    "Không phải tiêu chí xác nhận, hoặc đã được xác nhận: {c}",
                    "Not an attestation criterion, or already attested: {c}",
                ).format(c=cid or "—"),
            )
        if not isinstance(reason, dict) or not reason.get("vi") or not reason.get("en"):
            raise _error(
                path, where + ".reason", Text("Cần lý do bằng vi và en.", "A reason needs vi and en.")
            )
        declined[cid] = Text(str(reason["vi"]), str(reason["en"]))
    return AttestationSet(path, items, data, declined)


MISSING = ATTESTATION_MISSING
#: The attestation file of the embedded reference server (our own code), used by `vhr run` without --target.
REFERENCE_FILE = PACKAGE_DIR / "server" / "attestations.yaml"
#: Where a run's report folder keeps the attestation file and its documents (so the bundle holds them).
REPORT_FOLDER = "attestations"


@dataclass(frozen=True)
class AttestationState:
    criterion: str
    state: str  # missing | attested | accepted | rejected
    text: Text
    item: Attestation | None = None
    review_check: str = ""  # how the review's signature checked: trusted | untrusted | invalid | unsigned
    review_key: str = ""

    def record(self) -> dict[str, Any]:
        """The `attestation` field of the criterion's report row (docs/evidence.md)."""
        item, review = self.item, self.item.review if self.item else None
        if item is None:
            return {**missing_attestation(self.text), "status": self.state}
        return {
            "status": self.state,
            "by": item.attested_by,
            "date": item.date,
            "statement": {"vi": item.statement.vi, "en": item.statement.en},
            "documents": dict(item.documents),
            "reason": review.reason if review and self.state == "rejected" else "",
            "reviewer": review.reviewer if review else None,
            "reviewDate": review.date if review else None,
            "review": {"check": self.review_check, "keyId": self.review_key} if review else None,
            "text": {"vi": self.text.vi, "en": self.text.en},
        }


def _state(
    cid: str, item: Attestation | None, trust: list[TrustedKey], declined: Text | None = None
) -> AttestationState:
    if item is None and declined is not None:
        return AttestationState(
            cid,
            "missing",
            Text(f"Không được xác nhận: {declined.vi}", f"Not attested: {declined.en}"),
        )
    if item is None:
        return AttestationState(cid, "missing", MISSING)
    attested = Text("Đã xác nhận bởi {w} ngày {d}", "Attested by {w} on {d}").format(
        w=item.attested_by, d=item.date
    )
    review = item.review
    if review is None:
        return AttestationState(
            cid, "attested", Text(f"{attested.vi}; chờ thẩm định.", f"{attested.en}; awaiting review."), item
        )
    check = check_signature(item.review_payload(review), review.signature, trust)
    if check.status != "trusted":
        why = {
            "invalid": Text(
                "thẩm định của {r} không khớp chữ ký (nội dung hoặc tài liệu đã bị sửa sau khi thẩm định)",
                "the review by {r} does not verify (the statement or a document changed after the review)",
            ),
            "untrusted": Text(
                "thẩm định của {r} được ký bằng khóa {k} không có trong danh sách tin cậy (--trust)",
                "the review by {r} is signed by key {k}, which is not in the trust list (--trust)",
            ),
        }.get(check.status, Text("thẩm định của {r} không được ký", "the review by {r} is not signed"))
        why = why.format(r=review.reviewer or "?", k=check.key_id or "?")
        return AttestationState(
            cid,
            "attested",
            Text(
                f"{attested.vi}; {why.vi}: coi như chưa thẩm định.",
                f"{attested.en}; {why.en}: counted as not reviewed.",
            ),
            item,
            check.status,
            check.key_id,
        )
    if review.decision == "accepted":
        text = Text("Đã được {r} chấp nhận ngày {d}.", "Accepted by {r} on {d}.").format(
            r=review.reviewer, d=review.date
        )
    else:
        text = Text("Bị {r} từ chối ngày {d}: {why}", "Rejected by {r} on {d}: {why}").format(
            r=review.reviewer, d=review.date, why=review.reason or "—"
        )
    return AttestationState(cid, review.decision, text, item, check.status, check.key_id)


def states(
    criteria: dict[str, Any], aset: AttestationSet | None, trust: list[TrustedKey]
) -> dict[str, AttestationState]:
    """The state of every attestation criterion; a review counts only when its signature verifies
    and was made by a trusted key (anything else is reported, and counts as not reviewed)."""
    return {
        cid: _state(
            cid, aset.items.get(cid) if aset else None, trust, aset.declined.get(cid) if aset else None
        )
        for cid, crit in criteria.items()
        if getattr(crit, "verification", "") == "attestation"
    }


def _safe_relative(name: str) -> bool:
    p = PurePosixPath(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts and "\\" not in name


def for_run(
    path: Path, trust_files: list[Path], criteria: dict[str, Any], report_dir: Path | None = None
) -> dict[str, dict[str, Any]]:
    """Read an attestation file for a run or a session: the report-row field of every attestation
    criterion. With `report_dir`, the file and its documents are copied into its
    ``attestations/`` folder, so the evidence bundle holds them and their sha256."""
    from vhr_conformance.evidence.keys import load_trust

    aset = load_attestations(path, criteria)
    trust = load_trust(trust_files)
    if report_dir is not None:
        folder = report_dir / REPORT_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, folder / path.name)
        for item in aset.items.values():
            for name in item.documents:
                if _safe_relative(name):
                    (folder / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path.parent / name, folder / name)
    return {cid: st.record() for cid, st in states(criteria, aset, trust).items()}


def add_review(
    aset: AttestationSet,
    criterion: str,
    decision: str,
    reason: str,
    key: SigningKey,
    today: dt.date | None = None,
) -> Path:
    """Record the reviewer's signed decision for one criterion in the attestation file."""
    if decision not in DECISIONS:
        raise UserError(Text("accepted hoặc rejected.", "accepted or rejected."), location="--decision")
    if decision == "rejected" and not reason.strip():
        raise UserError(Text("Từ chối cần lý do.", "A rejection needs a reason."), location="--reason")
    item = aset.items.get(criterion)
    if item is None:
        raise UserError(
            Text("{c} chưa được xác nhận trong tệp.", "{c} is not attested in the file.").format(c=criterion),
            location=str(aset.path),
        )
    review = Review(decision, reason, key.name, (today or dt.date.today()).isoformat())
    review.signature = key.sign(item.review_payload(review))
    for entry in aset.raw.get("attestations") or []:
        if isinstance(entry, dict) and entry.get("criterion") == criterion:
            entry["review"] = {
                "decision": review.decision,
                "reason": review.reason,
                "reviewer": review.reviewer,
                "date": review.date,
                "signature": review.signature,
            }
    aset.path.write_text(yaml.safe_dump(aset.raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    item.review = review
    return aset.path


def run_args(file: Path | None, trust: list[Path], embedded: bool, criteria: dict[str, Any]) -> list[str]:
    """The pytest options of `vhr run` for its attestations: the file given, else, against the
    embedded reference server, that server's own file. Read now, so a bad file is a located error
    before anything starts. No file: every attestation criterion is missing."""
    path = file or (REFERENCE_FILE if embedded else None)
    if path is None:
        return []
    load_attestations(path, criteria)
    args = ["--vhr-attestations", str(path)]
    for trusted in trust:
        args += ["--vhr-attestation-trust", str(trusted)]
    return args


def console_lines(run: Any) -> list[str]:
    """What `vhr run` prints of the attestations that were stated (missing ones are listed with
    what was not judged): status, who, and a review that did not count, in both languages."""
    lines = []
    for row in run.criteria:
        att = row.attestation
        if not row.in_scope or att is None or att.get("status") == "missing":
            continue
        text = att.get("text") or {}
        lines.append(
            f"  {row.criterion.id} [{row.criterion.level}, {att.get('status')}] {text.get('vi', '')} / {text.get('en', '')}"
        )
    return ["Xác nhận / attestations:", *lines] if lines else []
