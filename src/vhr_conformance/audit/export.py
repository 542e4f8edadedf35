"""Reading a store's data from its FHIR API: Bulk Data `$export`, or paged search where it is missing.

`$export` follows the Bulk Data Access IG: kick-off with ``Prefer: respond-async`` (202 and a
``Content-Location``), polling the status URL while it answers 202 (honouring ``Retry-After``),
then downloading each NDJSON file of the manifest, streamed to disk with a size cap. The job's
status URL and the files already downloaded are kept in ``export-state.json``, so an interrupted
audit resumes where it stopped instead of starting a new export. A server without `$export`
(404, 405, 501) is read by paged search per resource type, up to a sample size per type.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from vhr_conformance.i18n import Text, UserError

FHIR_JSON = "application/fhir+json"
STATE_FILE = "export-state.json"
MAX_FILE_BYTES = 4 * 1024**3
MAX_POLL_WAIT_S = 120.0


@dataclass
class ExportOptions:
    target: str
    out_dir: Path
    token: Any = None  # a client TokenProvider, or None
    verify: Any = True
    types: list[str] = field(default_factory=list)
    sample: int = 1000  # per type, for the paged-search fallback
    deadline_s: float = 3600.0
    timeout_s: float = 30.0
    sleep: Any = time.sleep


def _headers(opts: ExportOptions, accept: str = FHIR_JSON) -> dict[str, str]:
    headers = {"Accept": accept}
    token = opts.token.token() if opts.token is not None and getattr(opts.token, "enabled", False) else None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _same_origin(base: str, url: str) -> bool:
    a, b = urlsplit(base), urlsplit(url)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def _state(opts: ExportOptions) -> dict[str, Any]:
    path = opts.out_dir / STATE_FILE
    if path.is_file():
        try:
            data = orjson.loads(path.read_bytes())
            if isinstance(data, dict) and data.get("target") == opts.target:
                return data
        except orjson.JSONDecodeError:
            pass
    return {"target": opts.target, "status": None, "files": {}}


def _save(opts: ExportOptions, state: dict[str, Any]) -> None:
    tmp = opts.out_dir / (STATE_FILE + ".part")
    tmp.write_bytes(orjson.dumps(state, option=orjson.OPT_INDENT_2))
    tmp.replace(opts.out_dir / STATE_FILE)


def fetch(opts: ExportOptions) -> dict[str, Any]:
    """Fill `opts.out_dir` with NDJSON of the target's data; returns how it was read."""
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    state = _state(opts)
    with httpx.Client(verify=opts.verify, timeout=opts.timeout_s, follow_redirects=False) as http:
        if not state.get("status"):
            params = {"_type": ",".join(opts.types)} if opts.types else {}
            headers = {**_headers(opts), "Prefer": "respond-async"}
            resp = http.get(opts.target.rstrip("/") + "/$export", params=params, headers=headers)
            if resp.status_code in (404, 405, 501):
                return _paged_search(opts, http)
            if resp.status_code != 202 or not resp.headers.get("content-location"):
                raise UserError(
                    Text(
                        "Khởi động $export thất bại: HTTP {s} (cần 202 và Content-Location).",
                        "$export kick-off failed: HTTP {s} (202 with Content-Location expected).",
                    ).format(s=resp.status_code),
                    location=opts.target + "/$export",
                )
            state["status"] = resp.headers["content-location"]
            if not _same_origin(opts.target, state["status"]):
                raise UserError(
                    Text("URL trạng thái khác nguồn gốc máy chủ.", "The status URL is on another origin."),
                    location=state["status"],
                )
            _save(opts, state)
        manifest = _poll(opts, http, state["status"], started)
        for item in manifest.get("output", []) or []:
            url, rtype = str(item.get("url", "")), str(item.get("type", "Resource"))
            if not url or url in state["files"]:
                continue  # downloaded by an earlier attempt
            if not _same_origin(opts.target, url):
                raise UserError(
                    Text(
                        "Tệp xuất nằm ở nguồn gốc khác: không tải.",
                        "An export file is on another origin: not fetched.",
                    ),
                    location=url,
                )
            name = f"{rtype}-{hashlib.sha256(url.encode()).hexdigest()[:12]}.ndjson"
            size = _download(opts, http, url, opts.out_dir / name, manifest.get("requiresAccessToken", True))
            state["files"][url] = {"file": name, "type": rtype, "bytes": size}
            _save(opts, state)
    return {"mode": "bulk-export", "status": state["status"], "files": state["files"]}


def _poll(opts: ExportOptions, http: httpx.Client, status_url: str, started: float) -> dict[str, Any]:
    while True:
        if time.monotonic() - started > opts.deadline_s:
            raise UserError(
                Text("$export chưa xong trước hạn chót.", "$export did not finish before the deadline."),
                location=status_url,
            )
        resp = http.get(status_url, headers=_headers(opts))
        if resp.status_code == 202:
            wait = resp.headers.get("retry-after", "")
            delay = float(wait) if wait.replace(".", "", 1).isdigit() else 1.0
            opts.sleep(min(max(delay, 0.2), MAX_POLL_WAIT_S))
            continue
        if resp.status_code != 200:
            raise UserError(
                Text("Trạng thái $export: HTTP {s}", "$export status: HTTP {s}").format(s=resp.status_code),
                location=status_url,
            )
        try:
            manifest = resp.json()
        except ValueError:
            raise UserError(
                Text("Manifest không phải JSON.", "The manifest is not JSON."), location=status_url
            ) from None
        if not isinstance(manifest, dict):
            raise UserError(Text("Manifest không hợp lệ.", "Invalid manifest."), location=status_url)
        return manifest


def _download(opts: ExportOptions, http: httpx.Client, url: str, dest: Path, needs_token: bool) -> int:
    headers = (
        _headers(opts, "application/fhir+ndjson") if needs_token else {"Accept": "application/fhir+ndjson"}
    )
    part = dest.with_name(dest.name + ".part")
    size = 0
    with http.stream("GET", url, headers=headers) as resp:
        if resp.status_code != 200:
            raise UserError(
                Text("Tải tệp xuất thất bại: HTTP {s}", "Export file download failed: HTTP {s}").format(
                    s=resp.status_code
                ),
                location=url,
            )
        with part.open("wb") as fh:
            for block in resp.iter_bytes():
                size += len(block)
                if size > MAX_FILE_BYTES:
                    raise UserError(Text("Tệp xuất quá lớn.", "The export file is too large."), location=url)
                fh.write(block)
    part.replace(dest)
    return size


def _paged_search(opts: ExportOptions, http: httpx.Client) -> dict[str, Any]:
    """No `$export`: read up to `sample` resources of each type by search, following `next` links."""
    types = opts.types or _declared_types(opts, http)
    counts: dict[str, int] = {}
    for rtype in types:
        url: str | None = f"{opts.target.rstrip('/')}/{rtype}?_count=100"
        got = 0
        with (opts.out_dir / f"{rtype}-search.ndjson").open("wb") as fh:
            while url and got < opts.sample:
                resp = http.get(url, headers=_headers(opts))
                if resp.status_code != 200:
                    break
                try:
                    body = resp.json()
                except ValueError:
                    break  # not JSON: the pages read so far are the sample
                if not isinstance(body, dict):
                    break
                for entry in body.get("entry", []) or []:
                    resource = entry.get("resource")
                    if (
                        isinstance(resource, dict)
                        and resource.get("resourceType") == rtype
                        and got < opts.sample
                    ):
                        fh.write(orjson.dumps(resource) + b"\n")
                        got += 1
                nxt = next(
                    (lk.get("url") for lk in body.get("link", []) or [] if lk.get("relation") == "next"), None
                )
                url = nxt if nxt and _same_origin(opts.target, nxt) else None
        counts[rtype] = got
    return {"mode": "paged-search", "sample": opts.sample, "counts": counts}


def _declared_types(opts: ExportOptions, http: httpx.Client) -> list[str]:
    resp = http.get(opts.target.rstrip("/") + "/metadata", headers=_headers(opts))
    try:
        cs = resp.json()
    except ValueError:
        cs = {}
    types = [
        str(r.get("type"))
        for rest in cs.get("rest", []) or []
        for r in rest.get("resource", []) or []
        if r.get("type")
    ]
    if not types:
        raise UserError(
            Text("Không biết loại tài nguyên nào để đọc.", "No resource type to read."),
            location=opts.target + "/metadata",
        )
    return types


def read_target(
    target: str,
    out_dir: Path,
    *,
    auth: str = "none",
    auth_config: str | None = None,
    ca_bundle: str | None = None,
    sample: int = 1000,
    credentials: Any = None,
) -> dict[str, Any]:
    """`fetch` with the client's own authentication and TLS settings (what `vhr audit run --target` and
    `vhr run --audit` take); returns the audit's `source` figure. `credentials`: an `AuthConfig`
    already resolved (`vhr run`'s RunConfig), instead of `auth`/`auth_config`."""
    from vhr_conformance.client import AuthConfig, TokenProvider
    from vhr_conformance.client.tls import check_bundle, verify_context

    verify = verify_context(check_bundle(ca_bundle, "--ca-bundle") if ca_bundle else None)
    config = credentials if credentials is not None else AuthConfig.load(auth, auth_config)
    tokens = TokenProvider(config, discover_base=target, verify=verify)
    got = fetch(ExportOptions(target.rstrip("/"), out_dir, token=tokens, verify=verify, sample=sample))
    return {"mode": got["mode"]} | ({"sample": got["sample"]} if "sample" in got else {})
