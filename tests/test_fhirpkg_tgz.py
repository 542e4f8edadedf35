"""`--ig X.tgz`: unsafe archives are refused with a located error and no unpack folder is left behind."""

from __future__ import annotations

import gc
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import orjson
import pytest

from vhr_conformance import fhirpkg
from vhr_conformance.i18n import UserError

MANIFEST = {"name": "test.pkg", "version": "1.0.0", "canonical": "http://example.org/fhir"}
VS = {"resourceType": "ValueSet", "id": "v", "url": "http://example.org/fhir/ValueSet/v", "status": "active"}


def tgz(path: Path, members: list[tuple[str, bytes | None, bytes]]) -> Path:
    """Write a .tgz of (name, content or None, type) members."""
    with tarfile.open(path, "w:gz") as tar:
        for name, content, kind in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.SYMTYPE:
                info.linkname = "/etc/passwd"
            data = content or b""
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return path


def good_members() -> list[tuple[str, bytes | None, bytes]]:
    return [
        ("package/package.json", orjson.dumps(MANIFEST), tarfile.REGTYPE),
        ("package/ValueSet-v.json", orjson.dumps(VS), tarfile.REGTYPE),
    ]


def ours() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob(f"vhr-pkg-{os.getpid()}-*")}


def test_a_good_tgz_loads_and_its_folder_goes_with_the_package(tmp_path: Path) -> None:
    before = ours()
    pkg = fhirpkg.load_package(tgz(tmp_path / "ok.tgz", good_members()))
    assert pkg.get(VS["url"]) == VS and len(ours() - before) == 1
    del pkg
    gc.collect()
    assert ours() == before


def test_the_folder_is_removed_at_exit(tmp_path: Path) -> None:
    path = tgz(tmp_path / "ok.tgz", good_members())
    code = (
        "import sys; from vhr_conformance import fhirpkg; "
        f"pkg = fhirpkg.load_package({str(path)!r}); print(pkg.root.parent, flush=True)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    folder = Path(out.stdout.strip())
    assert folder.name.startswith("vhr-pkg-") and not folder.exists()


def test_folders_of_killed_processes_are_removed_at_the_next_unpack(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    stale = Path(tempfile.mkdtemp(prefix=f"vhr-pkg-{proc.pid}-"))
    (stale / "x.json").write_text("{}")
    fhirpkg.load_package(tgz(tmp_path / "ok.tgz", good_members()))
    assert not stale.exists()


@pytest.mark.parametrize(
    ("member", "kind", "needle"),
    [
        ("../evil.json", tarfile.REGTYPE, "a '..' path leaving the package"),
        ("package/../../evil.json", tarfile.REGTYPE, "a '..' path leaving the package"),
        ("/tmp/evil.json", tarfile.REGTYPE, "an absolute path"),
        ("package/link.json", tarfile.SYMTYPE, "a link in the package"),
        ("package/fifo", tarfile.FIFOTYPE, "a special file"),
    ],
)
def test_unsafe_members_are_refused(tmp_path: Path, member: str, kind: bytes, needle: str) -> None:
    before = ours()
    path = tgz(tmp_path / "bad.tgz", [*good_members(), (member, b"{}", kind)])
    with pytest.raises(UserError) as info:
        fhirpkg.load_package(path)
    assert needle in info.value.render() and info.value.location == f"{path}!{member}"
    assert ours() == before and not (tmp_path / "evil.json").exists()


def test_truncated_and_corrupt_archives(tmp_path: Path) -> None:
    whole = tgz(tmp_path / "ok.tgz", good_members()).read_bytes()
    cut = tmp_path / "cut.tgz"
    cut.write_bytes(whole[: len(whole) // 2])
    flipped = tmp_path / "flip.tgz"
    flipped.write_bytes(whole[:20] + bytes(b ^ 0xFF for b in whole[20:60]) + whole[60:])
    for path in (cut, flipped):
        with pytest.raises(UserError) as info:
            fhirpkg.load_package(path)
        assert info.value.location == str(path)


def test_a_manifest_that_is_not_an_object(tmp_path: Path) -> None:
    path = tgz(tmp_path / "m.tgz", [("package/package.json", b"[1]", tarfile.REGTYPE)])
    with pytest.raises(UserError, match="must be a JSON object"):
        fhirpkg.load_package(path)


def test_an_index_cannot_name_files_outside_the_package(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_bytes(orjson.dumps({"resourceType": "ValueSet", "url": "http://x/secret"}))
    folder = tmp_path / "pkg" / "package"
    folder.mkdir(parents=True)
    (folder / "package.json").write_bytes(orjson.dumps(MANIFEST))
    (folder / "ValueSet-v.json").write_bytes(orjson.dumps(VS))
    index = {
        "files": [{"filename": "../../secret.json", "resourceType": "ValueSet", "url": "http://x/secret"}]
    }
    (folder / ".index.json").write_bytes(orjson.dumps(index))
    pkg = fhirpkg.load_package(tmp_path / "pkg")
    assert pkg.get("http://x/secret") is None and pkg.get(VS["url"]) == VS


def test_a_package_file_broken_after_indexing_is_a_located_error(tmp_path: Path) -> None:
    folder = tmp_path / "pkg" / "package"
    folder.mkdir(parents=True)
    (folder / "package.json").write_bytes(orjson.dumps(MANIFEST))
    (folder / "ValueSet-v.json").write_bytes(orjson.dumps(VS))
    pkg = fhirpkg.load_package(tmp_path / "pkg")
    (folder / "ValueSet-v.json").write_text('{"resourceType": ')
    with pytest.raises(UserError) as info:
        pkg.get(VS["url"])
    assert "not valid JSON" in info.value.render() and (info.value.location or "").startswith(
        str(folder / "ValueSet-v.json") + ":1:"
    )
