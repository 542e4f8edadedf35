"""`vhr run --audit`: the store's own data audited inside a conformance run.

The runner calls :func:`audit_for_run` before the suites write anything, so the audit measures the
vendor's data, not the harness's fixtures. It reads the target by `$export` (paged search where
`$export` is missing) and/or NDJSON folders into a temporary folder (the store's records never enter
the report folder, which goes into the evidence bundle), writes `audit/audit.json` and `audit.html`
into the report folder, and `audit/verdicts.json`: the QUAL-2xx verdicts with their figures and
worst examples by key. The suite `suites/test_audit.py` turns each verdict into the criterion's case
(:func:`judge`), so the verdicts go into results.json, the HTML report and JUnit like any other.
When the store cannot be read (a broken `$export`, a hostile answer), the reason is recorded and each
QUAL-2xx criterion is not tested, saying why: never a pass.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import httpx
import orjson

from vhr_conformance.i18n import Text, UserError

VERDICTS_FILE = "verdicts.json"
FOLD_SCHEMA = "https://vhr-conformance.org/schemas/audit-verdicts/1"


class _Empty(Exception):
    """The store holds no resource: every QUAL-2xx criterion has nothing to judge."""

    def __init__(self, location: str) -> None:
        self.location = location


def audit_for_run(
    report_dir: Path,
    *,
    target: str | None,
    ndjson: list[Path],
    auth: str = "none",
    auth_config: str | None = None,
    ca_bundle: str | None = None,
    sample: int = 1000,
    workers: int = 0,
    credentials: Any = None,
) -> Path:
    """Audit the store into `report_dir/audit`; returns the verdicts file the suites read."""
    from vhr_conformance.audit.engine import AuditOptions, ndjson_files, run_audit
    from vhr_conformance.audit.verdicts import audit_verdicts

    if ndjson:
        ndjson_files(ndjson)  # a missing path the user named is a usage error, before anything is read

    out = report_dir / "audit"
    out.mkdir(parents=True, exist_ok=True)
    fold: dict[str, Any] = {"schema": FOLD_SCHEMA, "target": target, "ndjson": [str(p) for p in ndjson]}
    with tempfile.TemporaryDirectory(prefix="vhr-run-audit-") as tmp:
        try:
            sources = list(ndjson)
            source: dict[str, Any] = {"mode": "ndjson"}
            if target:
                source = _read(
                    target, Path(tmp) / "export", auth, auth_config, ca_bundle, sample, credentials
                )
                sources.append(Path(tmp) / "export")
                if ndjson:
                    source["alsoNdjson"] = True
            if not any(p.is_file() or any(p.rglob("*.ndjson*")) for p in sources if p.exists()):
                raise _Empty(target or "--audit-ndjson")
            options = AuditOptions(sources, out, workers=workers or (os.cpu_count() or 1), source=source)
            audit = run_audit(options)
        except _Empty as empty:
            fold["empty"] = empty.location
        except UserError as err:
            fold["error"] = {"vi": err.text.vi, "en": err.text.en, "location": err.location}
        else:
            fold["audit"] = "audit/audit.json"
            fold["source"] = source
            fold["verdicts"] = [v.as_json() for v in audit_verdicts(audit)]
    path = out / VERDICTS_FILE
    path.write_bytes(orjson.dumps(fold, option=orjson.OPT_INDENT_2))
    return path


def _read(
    target: str,
    dest: Path,
    auth: str,
    auth_config: str | None,
    ca_bundle: str | None,
    sample: int,
    credentials: Any = None,
) -> dict[str, Any]:
    """The target's data on disk; a transport failure or an answer that is not JSON is the target's,
    said as a located user error like the export's own checks."""
    from vhr_conformance.audit.export import read_target

    try:
        return read_target(
            target,
            dest,
            auth=auth,
            auth_config=auth_config,
            ca_bundle=ca_bundle,
            sample=sample,
            credentials=credentials,
        )
    except (httpx.HTTPError, ValueError) as exc:
        raise UserError(
            Text("Không đọc được dữ liệu của máy chủ: {e}", "Cannot read the target's data: {e}").format(
                e=f"{type(exc).__name__}: {exc}"
            ),
            location=target,
        ) from None


def run_args(
    report_dir: Path, target: str | None, ndjson: list[Path], credentials: Any, ca_bundle: Path | str | None
) -> list[str]:
    """The pytest options of `vhr run --audit`: the audit is made here (with the run's resolved
    credentials and CA bundle), the suites read its verdicts."""
    path = audit_for_run(
        report_dir,
        target=target,
        ndjson=ndjson,
        credentials=credentials,
        ca_bundle=str(ca_bundle) if ca_bundle else None,
    )
    return ["--vhr-audit", str(path)]


def judge(verdicts_file: str, criterion: str) -> tuple[str, Text]:
    """The state of one QUAL-2xx criterion in a run and the text its case reports (figures, threshold,
    worst examples, where the audit is), from the verdicts file of :func:`audit_for_run`."""
    try:
        fold = orjson.loads(Path(verdicts_file).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise UserError(
            Text(
                "Không đọc được kết quả kiểm tra dữ liệu: {e}", "Cannot read the audit's verdicts: {e}"
            ).format(e=exc),
            location=verdicts_file,
        ) from None
    if not isinstance(fold, dict) or fold.get("schema") != FOLD_SCHEMA:
        raise UserError(
            Text("Không phải tệp kết luận của vhr run --audit.", "Not a verdicts file of vhr run --audit."),
            location=verdicts_file,
        )
    error = fold.get("error")
    if isinstance(error, dict):
        return "not-tested", Text(
            f"Không kiểm tra được dữ liệu của kho ({error.get('location')}): {error.get('vi')}",
            f"The store's data could not be audited ({error.get('location')}): {error.get('en')}",
        )
    if fold.get("empty"):
        return "not-tested", Text(
            f"Kho không có tài nguyên nào ({fold['empty']}): không có gì để đánh giá.",
            f"The store holds no resource ({fold['empty']}): nothing to judge.",
        )
    found = next((v for v in fold.get("verdicts") or [] if v.get("criterion") == criterion), None)
    if found is None:
        raise UserError(
            Text("Tệp kết luận thiếu {c}.", "The verdicts file lacks {c}.").format(c=criterion),
            location=verdicts_file,
        )
    where = Path(verdicts_file).parent / "audit.html"
    vi, en = str(found["message"]["vi"]), str(found["message"]["en"])
    examples = [str(e) for e in found.get("examples") or []]
    if examples:
        vi += " Ví dụ: " + "; ".join(examples) + "."
        en += " Examples: " + "; ".join(examples) + "."
    source = fold.get("source") or {}
    how = {"bulk-export": "$export", "paged-search": "tìm kiếm phân trang / paged search"}.get(
        str(source.get("mode")), "NDJSON"
    )
    vi += f" (Kiểm tra dữ liệu của kho qua {how}: {where})"
    en += f" (Audit of the store's data by {how}: {where})"
    return str(found["state"]), Text(vi, en)
