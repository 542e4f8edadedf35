"""The evidence bundle of a run: one zip with the reports, the exchanges and a manifest that says
which harness ran, against what, for whom, when, and the sha256 of every file; optionally signed.

Layout of the zip: ``manifest.json``, ``manifest.sig.json`` (when signed: a detached Ed25519
signature over the exact bytes of manifest.json) and ``report/…`` (every file of the run's folder).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path
from typing import Any

import orjson

from vhr_conformance.evidence.fingerprint import Harness, sha256_file
from vhr_conformance.evidence.keys import SigningKey
from vhr_conformance.i18n import Text, UserError

SCHEMA = "https://vhr-conformance.org/schemas/evidence-bundle/1"
BUNDLE_NAME = "evidence.zip"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig.json"
REPORT_PREFIX = "report/"


def run_verdict(results: dict[str, Any]) -> str:
    """The run's verdict as results.json states it (older files: derived from the exit code)."""
    verdict = results.get("verdict")
    if isinstance(verdict, str) and verdict:
        return verdict.upper()
    if isinstance(verdict, dict) and verdict.get("verdict"):
        return str(verdict["verdict"]).upper()
    code = results.get("exitCode")
    return "PASS" if code == 0 else "FAIL" if code == 1 else "ERROR"


def build_manifest(
    report_dir: Path,
    *,
    kind: str = "run",
    target: dict[str, Any] | None = None,
    vendor: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    results_path = report_dir / "results.json"
    results: dict[str, Any] = {}
    if results_path.is_file():
        try:
            loaded = orjson.loads(results_path.read_bytes())
            results = loaded if isinstance(loaded, dict) else {}
        except orjson.JSONDecodeError:
            results = {}
    files = {
        REPORT_PREFIX + p.relative_to(report_dir).as_posix(): sha256_file(p)
        for p in sorted(report_dir.rglob("*"))
        if p.is_file() and p.name != BUNDLE_NAME
    }
    return {
        "schema": SCHEMA,
        "kind": kind,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "harness": Harness.current().describe(),
        "run": {
            "id": results.get("runId"),
            "started": results.get("started"),
            "finished": results.get("finished"),
            "verdict": run_verdict(results) if results else None,
            "exitCode": results.get("exitCode"),
            "scope": results.get("scope"),
            "ig": results.get("ig"),
            "options": options if options is not None else results.get("options"),
        },
        "target": target or {"url": results.get("target")},
        "vendor": vendor or {},
        "files": files,
    }


def write_bundle(
    report_dir: Path,
    *,
    sign_key: SigningKey | None = None,
    kind: str = "run",
    target: dict[str, Any] | None = None,
    vendor: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    out: Path | None = None,
) -> Path:
    """Write the bundle of `report_dir` (by default into it, as evidence.zip) and return its path."""
    if not report_dir.is_dir():
        raise UserError(
            Text("Không có thư mục báo cáo.", "The report folder does not exist."), location=str(report_dir)
        )
    manifest = build_manifest(report_dir, kind=kind, target=target, vendor=vendor, options=options)
    manifest_bytes = orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    out = out or report_dir / BUNDLE_NAME
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, manifest_bytes)
        if sign_key is not None:
            zf.writestr(SIGNATURE, orjson.dumps(sign_key.sign(manifest_bytes), option=orjson.OPT_INDENT_2))
        for name in manifest["files"]:
            zf.write(report_dir / name[len(REPORT_PREFIX) :], name)
    tmp.replace(out)
    return out


def write_evidence(
    report_dir: Path,
    sign_key: SigningKey | None,
    *,
    kind: str = "run",
    target: dict[str, Any] | None = None,
    vendor: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> tuple[Path | None, Text]:
    """The bundle `vhr run` and `vhr listen` write at their end, and the line that says so: a
    failure to write it is said, never hidden, and never changes the run's verdict."""
    try:
        path = write_bundle(
            report_dir, sign_key=sign_key, kind=kind, target=target, vendor=vendor, options=options
        )
    except (OSError, UserError) as exc:
        return None, Text(
            "Không ghi được gói bằng chứng: {e}", "The evidence bundle was not written: {e}"
        ).format(e=exc)
    who = (
        Text("ký bởi {n} ({r})", "signed by {n} ({r})").format(n=sign_key.name, r=sign_key.role)
        if sign_key is not None
        else Text("chưa ký — chỉ kiểm tra toàn vẹn, không tin cậy", "unsigned — integrity only, not trusted")
    )
    return path, Text(f"Gói bằng chứng: {path} — {who.vi}", f"Evidence bundle: {path} — {who.en}")


def bundle_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
