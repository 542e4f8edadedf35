"""`vhr verify`: is this evidence bundle (or certificate) what it claims to be?

A bundle is *verified* only when every file hashes to the manifest, nothing was added or removed,
the signature is valid and made by a trusted key, and the harness that made it is, file for file,
the harness doing the verifying (the ministry's own install is the reference). Every difference
is named. Unsigned and untrusted bundles are never reported as trusted.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from vhr_conformance.evidence.bundle import MANIFEST, REPORT_PREFIX, SCHEMA, SIGNATURE
from vhr_conformance.evidence.fingerprint import Harness, compare
from vhr_conformance.evidence.keys import SignatureCheck, TrustedKey, check_signature
from vhr_conformance.i18n import Text, UserError

MAX_MEMBERS = 100_000
MAX_MEMBER_BYTES = 2 * 1024**3
MAX_MANIFEST_BYTES = 64 * 1024**2
LISTED = 20  # differences named one by one before "and N more"

#: Exit codes of `vhr verify` per status (docs/evidence.md): only a verified subject is 0, and a CI
#: gate can tell a tampered or foreign subject (1) from a valid signature by an unknown key (6) and
#: from an unsigned bundle whose files are intact (7). 2 stays click's usage error.
EXIT_CODES = {"verified": 0, "failed": 1, "untrusted": 6, "unsigned": 7}


@dataclass
class Verification:
    subject: str
    problems: list[Text] = field(default_factory=list)
    notes: list[Text] = field(default_factory=list)
    signature: SignatureCheck = field(default_factory=lambda: SignatureCheck("unsigned"))
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """verified | untrusted | unsigned | failed."""
        if self.problems or self.signature.status == "invalid":
            return "failed"
        if self.signature.status == "trusted":
            return "verified"
        return self.signature.status

    @property
    def ok(self) -> bool:
        return self.status == "verified"

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "status": self.status,
            "signature": {
                "status": self.signature.status,
                "keyId": self.signature.key_id,
                "text": {"vi": self.signature.describe().vi, "en": self.signature.describe().en},
            },
            "problems": [{"vi": p.vi, "en": p.en} for p in self.problems],
            "notes": [{"vi": n.vi, "en": n.en} for n in self.notes],
        }


def _name_list(names: list[str]) -> str:
    shown = ", ".join(names[:LISTED])
    return shown + (f" (+{len(names) - LISTED})" if len(names) > LISTED else "")


def _safe_name(name: str) -> bool:
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts and "\\" not in name and name == p.as_posix()


_RECORD_KEYS = {"algorithm", "keyId", "name", "role", "publicKey", "signature"}


def _signature_record_problems(raw: bytes, record: dict[str, Any], check: SignatureCheck) -> list[Text]:
    """The signature covers manifest.json only; its own file must still be exactly what the signer
    wrote (the same bytes, its own key id, the signer the trust list names), so that no byte of
    any file of a bundle can change unnoticed."""
    if check.status == "invalid":
        return [
            Text(
                "{m} hoặc {s} đã bị sửa sau khi ký: chữ ký không khớp.",
                "{m} or {s} changed after signing: the signature does not match.",
            ).format(m=MANIFEST, s=SIGNATURE)
        ]
    edited = Text("{s} đã bị sửa: {w}", "{s} was edited: {w}")
    if orjson.dumps(record, option=orjson.OPT_INDENT_2) != raw or set(record) != _RECORD_KEYS:
        return [edited.format(s=SIGNATURE, w="bytes / các byte")]
    if record.get("algorithm") != "Ed25519" or record.get("keyId") != check.key_id:
        return [edited.format(s=SIGNATURE, w="algorithm, keyId")]
    signer = check.signer
    if signer is not None and (record.get("name"), record.get("role")) != (signer.name, signer.role):
        return [
            Text(
                "{s} ghi người ký {n} ({r}), danh sách tin cậy ghi khóa {k} là {tn} ({tr}).",
                "{s} names the signer {n} ({r}); the trust list names key {k} {tn} ({tr}).",
            ).format(
                s=SIGNATURE,
                n=record.get("name"),
                r=record.get("role"),
                k=check.key_id,
                tn=signer.name,
                tr=signer.role,
            )
        ]
    return []


def verify_bundle(path: Path, trust: list[TrustedKey], reference: Harness | None = None) -> Verification:
    result = Verification(subject=str(path))
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise UserError(
            Text("Không mở được gói bằng chứng: {e}", "Cannot open the evidence bundle: {e}").format(e=exc),
            location=str(path),
        ) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            result.problems.append(Text("Gói có quá nhiều tệp.", "The bundle holds too many files."))
            return result
        members = {i.filename: i for i in infos if not i.is_dir()}
        unsafe = [n for n in members if not _safe_name(n)]
        if unsafe:
            result.problems.append(
                Text("Tên tệp không an toàn trong gói: {n}", "Unsafe file names in the bundle: {n}").format(
                    n=_name_list(unsafe)
                )
            )
            return result
        if MANIFEST not in members or members[MANIFEST].file_size > MAX_MANIFEST_BYTES:
            result.problems.append(Text("Gói không có manifest.json.", "The bundle has no manifest.json."))
            return result
        manifest_bytes = zf.read(MANIFEST)
        try:
            manifest = orjson.loads(manifest_bytes)
        except orjson.JSONDecodeError:
            result.problems.append(Text("manifest.json không phải JSON.", "manifest.json is not JSON."))
            return result
        if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
            result.problems.append(
                Text("manifest.json không đúng lược đồ.", "manifest.json has the wrong schema.")
            )
            return result
        result.manifest = manifest
        signature: dict[str, Any] | None = None
        raw_signature = b""
        if SIGNATURE in members and members[SIGNATURE].file_size <= MAX_MANIFEST_BYTES:
            raw_signature = zf.read(SIGNATURE)
            try:
                loaded = orjson.loads(raw_signature)
                signature = loaded if isinstance(loaded, dict) else None
            except orjson.JSONDecodeError:
                signature = None
            if signature is None:
                result.problems.append(
                    Text(
                        "{s} không phải bản ghi chữ ký: đã bị sửa.",
                        "{s} is not a signature record: it was edited.",
                    ).format(s=SIGNATURE)
                )
        result.signature = check_signature(manifest_bytes, signature, trust)
        if signature is not None:
            result.problems += _signature_record_problems(raw_signature, signature, result.signature)

        listed: dict[str, str] = manifest.get("files") or {}
        changed, missing = [], []
        for name, expected in listed.items():
            info = members.get(name)
            if info is None:
                missing.append(name)
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                changed.append(name)
                continue
            digest = hashlib.sha256()
            with zf.open(info) as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
            if digest.hexdigest() != expected:
                changed.append(name)
        extra = sorted(n for n in members if n not in listed and n not in (MANIFEST, SIGNATURE))
        if changed:
            result.problems.append(
                Text(
                    "Tệp bị sửa sau khi đóng gói: {n}", "Files changed after the bundle was made: {n}"
                ).format(n=_name_list(changed))
            )
        if missing:
            result.problems.append(
                Text(
                    "Tệp có trong manifest nhưng thiếu trong gói: {n}", "Files listed but missing: {n}"
                ).format(n=_name_list(missing))
            )
        if extra:
            result.problems.append(
                Text(
                    "Tệp thêm vào không có trong manifest: {n}",
                    "Files added that the manifest does not list: {n}",
                ).format(n=_name_list(extra))
            )
    harness = manifest.get("harness") or {}
    if reference is not None:
        theirs = harness.get("files") or {}
        if harness.get("fingerprint") != reference.fingerprint or theirs != reference.files:
            diff = compare(theirs, reference.files)
            parts = []
            if diff["changed"]:
                parts.append(f"changed/khác: {_name_list(diff['changed'])}")
            if diff["added"]:
                parts.append(f"only in the bundle/chỉ có trong gói: {_name_list(diff['added'])}")
            if diff["missing"]:
                parts.append(f"missing from the bundle/thiếu trong gói: {_name_list(diff['missing'])}")
            result.problems.append(
                Text(
                    "Bộ kiểm thử đã chạy khác bộ kiểm thử tham chiếu (dấu vân tay {a} ≠ {b}): {d}",
                    "The harness that ran differs from the reference harness (fingerprint {a} ≠ {b}): {d}",
                ).format(
                    a=str(harness.get("fingerprint", "?"))[:16],
                    b=reference.fingerprint[:16],
                    d="; ".join(parts),
                )
            )
        else:
            result.notes.append(
                Text("Dấu vân tay bộ kiểm thử khớp: {f}", "Harness fingerprint matches: {f}").format(
                    f=reference.fingerprint[:16]
                )
            )
    if str(manifest.get("run", {}).get("id") or "") and not any(n.startswith(REPORT_PREFIX) for n in listed):
        result.problems.append(Text("Gói không chứa báo cáo nào.", "The bundle holds no report."))
    return result
