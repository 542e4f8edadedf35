"""Certificates: the ministry's signed statement that a PASS bundle met the IG, for a limited time.

`certify` refuses anything but an intact PASS bundle made by the reference harness. The
certificate is one JSON file (the statement and its Ed25519 signature over the statement's
canonical bytes), with an HTML rendering and, where headless Chromium is installed, a PDF.
`verify_certificate` checks the signature (a ministry key of the trust list), the validity
period and the revocation list the ministry publishes.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zipfile
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, select_autoescape

from vhr_conformance.evidence.bundle import REPORT_PREFIX, bundle_sha256
from vhr_conformance.evidence.fingerprint import Harness
from vhr_conformance.evidence.keys import SigningKey, TrustedKey, check_signature
from vhr_conformance.evidence.verify import Verification, verify_bundle
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.reports.pdf import print_pdf

SCHEMA = "https://vhr-conformance.org/schemas/certificate/1"


def canonical(statement: dict[str, Any]) -> bytes:
    return orjson.dumps(statement, option=orjson.OPT_SORT_KEYS)


def certify(
    bundle: Path,
    key: SigningKey,
    trust: list[TrustedKey],
    out_dir: Path,
    valid_days: int = 365,
    reference: Harness | None = None,
    now: dt.datetime | None = None,
    reviewed: dict[str, str] | None = None,
) -> dict[str, Path]:
    """Issue the certificate of `bundle`; a UserError says why when it cannot be issued.

    `reviewed`: SHALL attestation criteria of this run accepted outside the bundle (the console's
    reviews, whose signatures the caller checked against `trust`), criterion → reviewer; they are
    named in the certificate."""
    if key.role != "ministry":
        raise UserError(
            Text("Chỉ khóa của Bộ Y tế mới cấp chứng nhận.", "Only a ministry key issues certificates."),
            location="--key",
        )
    check = verify_bundle(bundle, trust, reference or Harness.current())
    if check.problems or check.signature.status == "invalid":
        raise UserError(
            Text("Gói bằng chứng không toàn vẹn: {p}", "The evidence bundle is not intact: {p}").format(
                p="; ".join(p.en for p in check.problems) or check.signature.describe().en
            ),
            location=str(bundle),
        )
    manifest = check.manifest
    verdict = str((manifest.get("run") or {}).get("verdict") or "")
    if verdict != "PASS":
        raise UserError(
            Text(
                "Chỉ cấp chứng nhận cho lần chạy ĐẠT; lần chạy này: {v}.",
                "A certificate is only issued for a PASS run; this run: {v}.",
            ).format(v=verdict or "?"),
            location=str(bundle),
        )
    run_info = manifest.get("run") or {}
    if (run_info.get("scope") or {}).get("partial") or (run_info.get("options") or {}).get("only"):
        raise UserError(
            Text(
                "Lần chạy có phạm vi một phần (--only, --level): không cấp chứng nhận cho toàn bộ IG.",
                "The run had a partial scope (--only, --level): no certificate for the whole IG.",
            ),
            location=str(bundle),
        )
    unreviewed = [c for c in unaccepted_attestations(bundle, trust) if c not in (reviewed or {})]
    if unreviewed:
        raise UserError(
            Text(
                "Tiêu chí xác nhận bắt buộc chưa được người thẩm định tin cậy chấp nhận: {c}.",
                "SHALL attestations not accepted by a trusted reviewer: {c}.",
            ).format(c=", ".join(unreviewed)),
            location=str(bundle),
            hint=Text(
                "Thẩm định bằng `vhr attest review`, chạy lại với --attestations và --trust.",
                "Review them with `vhr attest review`, then run again with --attestations and --trust.",
            ),
        )
    now = now or dt.datetime.now(dt.UTC)
    target = manifest.get("target") or {}
    statement = {
        "schema": SCHEMA,
        "id": str(uuid.uuid4()),
        "issued": now.isoformat(timespec="seconds"),
        "expires": (now + dt.timedelta(days=valid_days)).isoformat(timespec="seconds"),
        "result": verdict,
        "ig": (manifest.get("run") or {}).get("ig"),
        "harnessFingerprint": (manifest.get("harness") or {}).get("fingerprint"),
        "harnessVersion": (manifest.get("harness") or {}).get("version"),
        "target": {"url": target.get("url"), "software": target.get("software")},
        "vendor": manifest.get("vendor") or {},
        "run": {
            "id": (manifest.get("run") or {}).get("id"),
            "finished": (manifest.get("run") or {}).get("finished"),
        },
        "attestationReviews": dict(sorted((reviewed or {}).items())),
        "bundle": {
            "sha256": bundle_sha256(bundle),
            "signature": check.signature.status,
            "signer": check.signature.key_id,
        },
    }
    document = {"certificate": statement, "signature": key.sign(canonical(statement))}
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / f"certificate-{statement['id']}.json"}
    paths["json"].write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    paths["html"] = out_dir / f"certificate-{statement['id']}.html"
    paths["html"].write_text(render_html(statement, key), encoding="utf-8")
    pdf = print_pdf(paths["html"])
    if pdf is not None:
        paths["pdf"] = pdf
    return paths


def unaccepted_attestations(bundle: Path, trust: list[TrustedKey]) -> list[str]:
    """In-scope SHALL attestation criteria of the bundle's results.json that are not accepted by a
    key of `trust`. The run's verdict lets a statement awaiting review pass; a certificate does
    not: it is the ministry's word, so each review must be one the certifying trust list knows.
    (The bundle is intact and made by the reference harness, so the statuses are the harness's.)"""
    try:
        with zipfile.ZipFile(bundle) as zf:
            results = orjson.loads(zf.read(REPORT_PREFIX + "results.json"))
    except (KeyError, OSError, zipfile.BadZipFile, orjson.JSONDecodeError):
        return []  # no results in the bundle: nothing to hold against it here
    trusted = {key.id for key in trust}
    out = []
    for row in results.get("criteria") or [] if isinstance(results, dict) else []:
        if not isinstance(row, dict) or row.get("verification") != "attestation":
            continue
        if not row.get("inScope") or row.get("level") != "SHALL":
            continue
        att = row.get("attestation") or {}
        review = att.get("review") or {}
        if att.get("status") != "accepted" or review.get("keyId") not in trusted:
            out.append(str(row.get("id")))
    return out


_TEMPLATE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Chứng nhận tuân thủ VHR / VHR conformance certificate</title>
<style>
body { font-family: "Noto Sans", "DejaVu Sans", sans-serif; margin: 2.5cm; color: #111; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h1 small { display: block; font-size: 0.6em; color: #444; }
table { border-collapse: collapse; width: 100%; margin-top: 1.5em; }
th, td { border: 1px solid #999; padding: 0.4em 0.6em; text-align: left; vertical-align: top; word-break: break-all; }
th { width: 35%; background: #f2f2f2; } .en { color: #555; }
@page { size: A4; margin: 1.5cm; }
</style></head><body>
<h1>Chứng nhận tuân thủ nền tảng hồ sơ sức khỏe điện tử
<small>Conformance certificate — Vietnam electronic health record platform (HL7 FHIR R4)</small></h1>
<p>Hệ thống dưới đây đã đạt mọi tiêu chí bắt buộc (SHALL) trong phạm vi của hướng dẫn triển khai.<br>
<span class="en">The system below met every in-scope SHALL criterion of the implementation guide.</span></p>
<table>
<tr><th>Mã chứng nhận / Certificate id</th><td>{{ c.id }}</td></tr>
<tr><th>Tổ chức / Organisation</th><td>{{ c.vendor.organisation or "—" }}</td></tr>
<tr><th>Sản phẩm, phiên bản / Product, version</th><td>{{ c.vendor.product or "—" }} {{ c.vendor.version or "" }}</td></tr>
<tr><th>Phần mềm máy chủ / Server software</th><td>{{ (c.target.software or {}).get("name") or "—" }} {{ (c.target.software or {}).get("version") or "" }}</td></tr>
<tr><th>Địa chỉ / Endpoint</th><td>{{ c.target.url or "—" }}</td></tr>
<tr><th>Hướng dẫn triển khai / Implementation guide</th><td>{{ (c.ig or {}).get("id") or "—" }} {{ (c.ig or {}).get("version") or "" }}</td></tr>
<tr><th>Kết quả / Result</th><td>ĐẠT / {{ c.result }}</td></tr>
<tr><th>Cấp ngày / Issued</th><td>{{ c.issued }}</td></tr>
<tr><th>Hiệu lực đến / Valid until</th><td>{{ c.expires }}</td></tr>
<tr><th>Dấu vân tay bộ kiểm thử / Harness fingerprint</th><td>{{ c.harnessFingerprint }} ({{ c.harnessVersion }})</td></tr>
<tr><th>Lần chạy / Run</th><td>{{ c.run.id }} — {{ c.run.finished }}</td></tr>
<tr><th>Gói bằng chứng (sha256) / Evidence bundle</th><td>{{ c.bundle.sha256 }}</td></tr>
<tr><th>Ký bởi / Signed by</th><td>{{ signer }} (Ed25519, {{ key_id }})</td></tr>
</table>
<p class="en">Verify: <code>vhr verify certificate-{{ c.id }}.json --trust ministry.trust.json</code></p>
</body></html>
"""


def render_html(statement: dict[str, Any], key: SigningKey) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    from vhr_conformance.evidence.keys import key_id

    return env.from_string(_TEMPLATE).render(c=statement, signer=key.name, key_id=key_id(key.public))


def load_revocations(paths: list[Path]) -> dict[str, str]:
    """Certificate id → reason, from the revocation list files the ministry publishes."""
    out: dict[str, str] = {}
    for path in paths:
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise UserError(
                Text("Không đọc được danh sách thu hồi: {e}", "Cannot read the revocation list: {e}").format(
                    e=exc
                ),
                location=str(path),
            ) from None
        entries = data.get("revoked", []) if isinstance(data, dict) else data
        if not isinstance(entries, list):
            raise UserError(
                Text("Danh sách thu hồi không hợp lệ.", "Invalid revocation list."), location=str(path)
            )
        for entry in entries:
            if isinstance(entry, str):
                out[entry] = ""
            elif isinstance(entry, dict) and entry.get("id"):
                out[str(entry["id"])] = str(entry.get("reason", ""))
    return out


def verify_certificate(
    path: Path, trust: list[TrustedKey], revoked: dict[str, str], now: dt.datetime | None = None
) -> Verification:
    result = Verification(subject=str(path))
    try:
        document = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise UserError(
            Text("Không đọc được chứng nhận: {e}", "Cannot read the certificate: {e}").format(e=exc),
            location=str(path),
        ) from None
    statement = document.get("certificate") if isinstance(document, dict) else None
    if not isinstance(statement, dict) or statement.get("schema") != SCHEMA:
        raise UserError(Text("Không phải chứng nhận VHR.", "Not a VHR certificate."), location=str(path))
    result.manifest = statement
    result.signature = check_signature(canonical(statement), document.get("signature"), trust)
    if (
        result.signature.status == "trusted"
        and result.signature.signer
        and result.signature.signer.role != "ministry"
    ):
        result.problems.append(
            Text(
                "Chứng nhận không do khóa của Bộ Y tế ký.", "The certificate is not signed by a ministry key."
            )
        )
    now = now or dt.datetime.now(dt.UTC)
    try:
        expires = dt.datetime.fromisoformat(str(statement.get("expires")))
    except ValueError:
        result.problems.append(Text("Ngày hết hạn không hợp lệ.", "Invalid expiry date."))
    else:
        if expires <= now:
            result.problems.append(
                Text("Chứng nhận đã hết hạn ngày {d}.", "The certificate expired on {d}.").format(
                    d=expires.date()
                )
            )
    cid = str(statement.get("id"))
    if cid in revoked:
        result.problems.append(
            Text("Chứng nhận đã bị thu hồi: {r}", "The certificate was revoked: {r}").format(
                r=revoked[cid] or "—"
            )
        )
    if statement.get("result") != "PASS":
        result.problems.append(
            Text("Chứng nhận không ghi kết quả ĐẠT.", "The certificate does not state PASS.")
        )
    return result
