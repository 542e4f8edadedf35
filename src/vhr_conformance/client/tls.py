"""Which certificates the harness trusts, and how a TLS failure is told apart from other transport trouble.

Verification always stays on. A vendor with a private CA (and `vhr run` with its throwaway CA for
the embedded server) names a PEM bundle; it then replaces the public roots, so the harness trusts
exactly that bundle. Processes the harness starts (the load engine) learn it from `VHR_CA_BUNDLE`.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

from vhr_conformance.i18n import Text, UserError

CA_BUNDLE_ENV = "VHR_CA_BUNDLE"


def check_bundle(path: str | Path, location: str = "--vhr-ca-bundle") -> str:
    """The bundle's path if it holds at least one usable certificate, else a user error."""
    p = Path(path)
    if not p.is_file():
        raise UserError(
            Text("Không tìm thấy tệp CA {p}", "CA bundle {p} not found").format(p=p), location=location
        )
    try:
        ssl.create_default_context(cafile=str(p))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise UserError(
            Text("Tệp CA {p} không đọc được: {e}", "CA bundle {p} is not a PEM certificate file: {e}").format(
                p=p, e=exc
            ),
            location=location,
        ) from None
    return str(p)


def verify_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """A verifying client context (TLS ≥ 1.2): the given bundle, else `VHR_CA_BUNDLE`, else the public roots."""
    path = ca_bundle or os.environ.get(CA_BUNDLE_ENV) or None
    if path:
        ctx = ssl.create_default_context(cafile=path)
    else:
        import certifi

        ctx = ssl.create_default_context(cafile=certifi.where())
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def tls_cause(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind a transport exception (httpx wraps it), if there is one."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, ssl.SSLError):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


def untrusted_text(url: str, error: ssl.SSLError) -> Text:
    """What to tell the user when a certificate does not verify."""
    reason = getattr(error, "verify_message", None) or getattr(error, "reason", None) or str(error)
    return Text(
        "Chứng chỉ TLS của {u} không được tin cậy ({r}): máy chủ phải dùng chứng chỉ hợp lệ; "
        "CA riêng thì chỉ định bằng --ca-bundle / --vhr-ca-bundle.",
        "The TLS certificate of {u} is not trusted ({r}): the server must present a valid certificate; "
        "for a private CA name it with --ca-bundle / --vhr-ca-bundle.",
    ).format(u=url, r=reason)
