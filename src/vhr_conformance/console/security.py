"""Passwords (argon2), secrets at rest (Fernet, key from `VHR_CONSOLE_KEY`), CSRF and API tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from vhr_conformance.i18n import Text, UserError

KEY_ENV = "VHR_CONSOLE_KEY"
TOKEN_MAX_AGE_S = 8 * 3600

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _key(required: bool) -> bytes | None:
    value = os.environ.get(KEY_ENV, "").strip()
    if not value:
        if not required:
            return None
        raise UserError(
            Text(
                "Thiếu khóa mã hóa {v}: không lưu được bí mật của máy chủ.",
                "The encryption key {v} is not set: server secrets cannot be stored.",
            ).format(v=KEY_ENV),
            location=KEY_ENV,
            hint=Text(
                "Tạo khóa: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'",
                "Make one: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'",
            ),
        )
    try:
        Fernet(value.encode())
    except ValueError:
        raise UserError(
            Text(
                "{v} không phải khóa Fernet (32 byte, base64 URL-safe).",
                "{v} is not a Fernet key (32 bytes, URL-safe base64).",
            ).format(v=KEY_ENV),
            location=KEY_ENV,
        ) from None
    return value.encode()


def encrypt(secret: str) -> bytes:
    key = _key(required=True)
    assert key is not None
    return Fernet(key).encrypt(secret.encode())


def decrypt(token: bytes) -> str:
    key = _key(required=True)
    assert key is not None
    try:
        return Fernet(key).decrypt(token).decode()
    except InvalidToken:
        raise UserError(
            Text(
                "Không giải mã được bí mật: {v} khác khóa đã dùng để mã hóa.",
                "Cannot decrypt the secret: {v} differs from the key it was encrypted with.",
            ).format(v=KEY_ENV),
            location=KEY_ENV,
        ) from None


def session_secret() -> str:
    """The key that signs session cookies and API tokens: derived from `VHR_CONSOLE_KEY`, so every
    web process of one deployment accepts the same sessions; random (sessions end at restart) without it."""
    key = _key(required=False)
    if key is None:
        return secrets.token_urlsafe(32)
    return base64.urlsafe_b64encode(hmac.digest(key, b"vhr-console session", hashlib.sha256)).decode()


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def stamp(password_hash: str) -> str:
    """A short fingerprint of the stored hash, carried by sessions and tokens: a password reset
    changes it, so the old sessions and tokens of that account stop working."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


class Tokens:
    """Bearer tokens for scripts: the user id and credential stamp signed with a timestamp,
    valid TOKEN_MAX_AGE_S."""

    def __init__(self, secret: str) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="vhr-console api token")

    def issue(self, user_id: int, credential: str) -> str:
        return self._s.dumps({"uid": user_id, "pw": credential})

    def read(self, token: str) -> tuple[int, str] | None:
        try:
            data = self._s.loads(token, max_age=TOKEN_MAX_AGE_S)
        except (BadSignature, SignatureExpired):
            return None
        if not isinstance(data, dict):
            return None
        uid, pw = data.get("uid"), data.get("pw")
        return (uid, pw) if isinstance(uid, int) and isinstance(pw, str) else None
