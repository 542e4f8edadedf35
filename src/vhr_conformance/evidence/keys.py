"""Ed25519 keys that sign evidence bundles and certificates, and the trust list that says whose they are.

A signer's key pair: the private key in a PEM file (mode 0600, never in a bundle) and a *trust
entry* (JSON: name, role, public key) to hand to whoever verifies. A trust list is a JSON file
holding trust entries (or a single entry, or a PEM public key, whose role is then "vendor").
The role decides what a valid signature means: "ministry" (run by the ministry) or "vendor"
(self-attested).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vhr_conformance.i18n import Text, UserError

ROLES = ("ministry", "vendor")
MAX_KEY_FILE = 256 * 1024


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signer_record(key: SigningKey | None) -> dict[str, str] | None:
    """The signer as the bundle's signature will name it, for the report's header (the report is
    written before the bundle is signed); None: unsigned."""
    if key is None:
        return None
    return {"name": key.name, "role": key.role, "keyId": key_id(key.public)}


def public_b64(public: Ed25519PublicKey) -> str:
    return base64.b64encode(
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()


@dataclass(frozen=True)
class TrustedKey:
    name: str
    role: str
    public: Ed25519PublicKey

    @property
    def id(self) -> str:
        return key_id(self.public)

    def entry(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role, "keyId": self.id, "publicKey": public_b64(self.public)}


@dataclass(frozen=True)
class SigningKey:
    name: str
    role: str
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def sign(self, data: bytes) -> dict[str, str]:
        """A detached signature record over `data`."""
        return {
            "algorithm": "Ed25519",
            "keyId": key_id(self.public),
            "name": self.name,
            "role": self.role,
            "publicKey": public_b64(self.public),
            "signature": base64.b64encode(self.private.sign(data)).decode(),
        }


def generate(out: Path, name: str, role: str, force: bool = False) -> tuple[Path, Path]:
    """Write `out` (private PEM, 0600) and `out`.trust.json (the public trust entry)."""
    if role not in ROLES:
        raise UserError(
            Text("Vai trò phải là {r}.", "The role must be one of {r}.").format(r=", ".join(ROLES)),
            location="--role",
        )
    trust = out.with_name(out.name + ".trust.json")
    for path in (out, trust):
        if path.exists() and not force:
            raise UserError(
                Text(
                    "Tệp đã tồn tại; thêm --force để ghi đè.",
                    "The file exists; pass --force to overwrite it.",
                ),
                location=str(path),
            )
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # The comment lines before the PEM block carry who the key is; PEM readers skip them.
    header = b"# vhr-signing-key " + orjson.dumps({"name": name, "role": role}) + b"\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(header + pem)
    trust.write_bytes(
        orjson.dumps(TrustedKey(name, role, private.public_key()).entry(), option=orjson.OPT_INDENT_2)
    )
    return out, trust


def _read(path: Path, where: str) -> bytes:
    try:
        if path.stat().st_size > MAX_KEY_FILE:
            raise UserError(Text("Tệp khóa quá lớn.", "The key file is too large."), location=where)
        return path.read_bytes()
    except OSError as exc:
        raise UserError(
            Text("Không đọc được tệp khóa: {e}", "Cannot read the key file: {e}").format(
                e=exc.strerror or exc
            ),
            location=where,
        ) from None


def load_signing_key(path: Path) -> SigningKey:
    raw = _read(path, str(path))
    name, role = path.stem, "vendor"
    first = raw.split(b"\n", 1)[0]
    if first.startswith(b"# vhr-signing-key "):
        try:
            meta = orjson.loads(first[len(b"# vhr-signing-key ") :])
        except orjson.JSONDecodeError:
            meta = {}
        if isinstance(meta, dict):
            name = str(meta.get("name") or name)
            role = str(meta.get("role")) if meta.get("role") in ROLES else role
    start = raw.find(b"-----BEGIN")
    try:
        private = serialization.load_pem_private_key(raw[start:] if start >= 0 else raw, password=None)
    except (ValueError, TypeError) as exc:
        raise UserError(
            Text("Không phải khóa riêng PEM: {e}", "Not a PEM private key: {e}").format(e=exc),
            location=str(path),
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise UserError(Text("Khóa phải là Ed25519.", "The key must be Ed25519."), location=str(path))
    return SigningKey(name, role, private)


def _public_from_b64(value: str, where: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(value, validate=True))
    except (ValueError, TypeError) as exc:
        raise UserError(
            Text("Khóa công khai không hợp lệ: {e}", "Invalid public key: {e}").format(e=exc), location=where
        ) from None


def load_trust(paths: list[Path]) -> list[TrustedKey]:
    """Trusted keys from trust-list JSON files, single trust entries or PEM public keys."""
    keys: list[TrustedKey] = []
    for path in paths:
        raw = _read(path, str(path))
        if raw.lstrip().startswith(b"-----BEGIN"):
            try:
                public = serialization.load_pem_public_key(raw)
            except ValueError as exc:
                raise UserError(
                    Text("Không phải khóa công khai PEM: {e}", "Not a PEM public key: {e}").format(e=exc),
                    location=str(path),
                ) from None
            if not isinstance(public, Ed25519PublicKey):
                raise UserError(Text("Khóa phải là Ed25519.", "The key must be Ed25519."), location=str(path))
            keys.append(TrustedKey(path.stem, "vendor", public))
            continue
        try:
            data: Any = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UserError(
                Text("Danh sách tin cậy không phải JSON: {e}", "The trust list is not JSON: {e}").format(
                    e=exc
                ),
                location=str(path),
            ) from None
        entries = (
            data if isinstance(data, list) else data.get("keys", [data]) if isinstance(data, dict) else None
        )
        if not isinstance(entries, list):
            raise UserError(
                Text("Danh sách tin cậy không hợp lệ.", "Invalid trust list."), location=str(path)
            )
        for i, entry in enumerate(entries):
            where = f"{path}[{i}]"
            if not isinstance(entry, dict) or entry.get("role") not in ROLES or not entry.get("publicKey"):
                raise UserError(
                    Text(
                        "Mỗi mục cần name, role (ministry|vendor) và publicKey.",
                        "Each entry needs name, role (ministry|vendor) and publicKey.",
                    ),
                    location=where,
                )
            keys.append(
                TrustedKey(
                    str(entry.get("name", "")),
                    str(entry["role"]),
                    _public_from_b64(entry["publicKey"], where),
                )
            )
    return keys


@dataclass(frozen=True)
class SignatureCheck:
    """`status`: trusted (a trusted key signed it), untrusted (valid, unknown key), invalid, unsigned."""

    status: str
    signer: TrustedKey | None = None
    claimed_name: str = ""
    claimed_role: str = ""
    key_id: str = ""

    def describe(self) -> Text:
        if self.status == "trusted" and self.signer is not None:
            if self.signer.role == "ministry":
                return Text(
                    "Do Bộ Y tế thực hiện (ký bởi {n}, khóa {k}).",
                    "Run by the ministry (signed by {n}, key {k}).",
                ).format(n=self.signer.name, k=self.key_id)
            return Text(
                "Nhà cung cấp tự đánh giá (ký bởi {n}, khóa {k}).",
                "Self-attested by the vendor (signed by {n}, key {k}).",
            ).format(n=self.signer.name, k=self.key_id)
        if self.status == "untrusted":
            return Text(
                "Chữ ký hợp lệ nhưng khóa {k} ({n}) không có trong danh sách tin cậy: KHÔNG tin cậy.",
                "Valid signature, but key {k} ({n}) is not in the trust list: NOT trusted.",
            ).format(k=self.key_id, n=self.claimed_name or "?")
        if self.status == "invalid":
            return Text(
                "Chữ ký không khớp nội dung: tệp đã bị sửa sau khi ký.",
                "The signature does not match the content: it was changed after signing.",
            )
        return Text(
            "Chưa ký — chỉ kiểm tra toàn vẹn, không tin cậy: không biết ai đã tạo gói này.",
            "Unsigned — integrity only, not trusted: nothing says who made it.",
        )


def check_signature(data: bytes, record: dict[str, Any] | None, trust: list[TrustedKey]) -> SignatureCheck:
    if not record:
        return SignatureCheck("unsigned")
    try:
        public = _public_from_b64(str(record.get("publicKey", "")), "signature")
        signature = base64.b64decode(str(record.get("signature", "")), validate=True)
    except (UserError, ValueError):
        return SignatureCheck("invalid", claimed_name=str(record.get("name", "")))
    kid = key_id(public)
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return SignatureCheck("invalid", claimed_name=str(record.get("name", "")), key_id=kid)
    for key in trust:
        if key.id == kid:
            return SignatureCheck("trusted", key, key_id=kid)
    return SignatureCheck(
        "untrusted",
        claimed_name=str(record.get("name", "")),
        claimed_role=str(record.get("role", "")),
        key_id=kid,
    )
