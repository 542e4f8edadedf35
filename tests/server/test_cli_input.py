"""`vhr serve`: broken `--load` files are named, hostile `--clients` files refused with a located error."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from vhr_conformance.cli import app
from vhr_conformance.i18n import UserError
from vhr_conformance.server.cli import check_clients_file, scan_load_folder


def test_scan_names_every_file_the_loader_would_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = {"resourceType": "Bundle", "type": "transaction", "entry": []}
    (tmp_path / "ok.json").write_bytes(orjson.dumps(good))
    (tmp_path / "broken.json").write_text('{"resourceType": "Patient",')
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "doc.json").write_bytes(orjson.dumps({"resourceType": "Bundle", "type": "document"}))
    (tmp_path / "dangling.json").symlink_to(tmp_path / "nowhere")
    os.mkfifo(tmp_path / "pipe.json")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "in.json").write_bytes(orjson.dumps(good))
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "hidden.json").write_bytes(orjson.dumps(good))
    real = os.scandir

    def scandir(path: object) -> object:  # the tests run as root, where chmod cannot lock a folder
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    (tmp_path / "folder.json").mkdir()
    found, problems = scan_load_folder(tmp_path)
    named = {Path(p).name: t.en for p, t, _ in problems}
    fatal = {Path(p).name for p, _, f in problems if f}
    assert found == 8
    assert set(named) == {
        "broken.json",
        "list.json",
        "doc.json",
        "dangling.json",
        "pipe.json",
        "locked",
        "folder.json",
    }
    assert fatal == {"dangling.json", "pipe.json", "folder.json"}  # what would stop or hang the loader
    assert "invalid JSON at line 1" in named["broken.json"]
    assert "not a FHIR resource" in named["list.json"]
    assert "type document" in named["doc.json"]
    assert "not a regular file" in named["pipe.json"] and "not a regular file" in named["dangling.json"]
    assert "cannot read the folder: Permission denied" in named["locked"]


def test_serve_refuses_a_bad_clients_file_before_starting(tmp_path: Path) -> None:
    bomb = tmp_path / "clients.yaml"
    lines = ["a0: &a0 [" + ",".join(["x"] * 10) + "]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    bomb.write_text("\n".join(lines))
    res = CliRunner().invoke(app, ["serve", "--port", "0", "--clients", str(bomb)])
    assert isinstance(res.exception, UserError) and "aliases" in res.exception.render()


@pytest.mark.parametrize(
    ("content", "needle", "where"),
    [
        ("clients: {a: 1}", "must hold a list", ""),
        ("- {scopes: [x]}", "without client_id", " clients[0]"),
        ("- {client_id: a, scopes: system/*.read}", "list of strings", " clients[0].scopes"),
        ("- {client_id: a, client_secret: [1]}", "must be a string", " clients[0].client_secret"),
        ("- {client_id: a, public_key: missing.pem}", "cannot read the public key", " clients[0].public_key"),
    ],
)
def test_clients_file_shapes(tmp_path: Path, content: str, needle: str, where: str) -> None:
    p = tmp_path / "clients.yaml"
    p.write_text(content)
    with pytest.raises(UserError) as info:
        check_clients_file(p)
    assert needle in info.value.render() and (info.value.location or "").startswith(f"{p}{where}")


def test_a_good_clients_file_passes(tmp_path: Path) -> None:
    p = tmp_path / "clients.json"
    p.write_text('[{"client_id": "a", "scopes": ["system/*.read"], "client_secret": "s"}]')
    check_clients_file(p)


def test_a_tls_pair_that_cannot_be_loaded_is_refused_before_serving(tmp_path: Path) -> None:
    junk = tmp_path / "c.pem"
    junk.write_text("not a certificate")
    for cmd in (["serve", "--port", "0"], ["listen", "--port", "0", "--duration", "1s"]):
        res = CliRunner().invoke(app, [*cmd, "--tls", str(junk), str(junk)])
        assert (
            isinstance(res.exception, UserError)
            and "TLS certificate or key cannot be used" in res.exception.render()
        )


def test_a_port_out_of_range_and_a_db_that_is_not_sqlite_are_refused(tmp_path: Path) -> None:
    for cmd in (["serve", "--port", "99999"], ["listen", "--port", "-1", "--duration", "1s"]):
        res = CliRunner().invoke(app, cmd)
        assert isinstance(res.exception, UserError) and "within 0–65535" in res.exception.render()
    other = tmp_path / "notes.txt"
    other.write_text("precious")
    res = CliRunner().invoke(app, ["serve", "--port", "0", "--db", str(other)])
    assert isinstance(res.exception, UserError) and "not an SQLite database" in res.exception.render()
    assert other.read_text() == "precious"
    res = CliRunner().invoke(app, ["serve", "--port", "0", "--db", str(tmp_path)])
    assert isinstance(res.exception, UserError) and "--db must be a file" in res.exception.render()


def test_serve_does_not_start_on_a_folder_its_loader_would_hang_on(tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_bytes(
        orjson.dumps({"resourceType": "Bundle", "type": "transaction", "entry": []})
    )
    os.mkfifo(tmp_path / "pipe.json")
    res = CliRunner().invoke(app, ["serve", "--port", "0", "--load", str(tmp_path)])
    assert (
        isinstance(res.exception, UserError) and "The loader cannot read 1 entries" in res.exception.render()
    )
    assert res.exception.location == str(tmp_path / "pipe.json")
