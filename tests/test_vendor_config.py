"""`vhr.toml`: one vendor configuration, checked with located bilingual errors; secrets stay out of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vhr_conformance.cli import app
from vhr_conformance.i18n import UserError
from vhr_conformance.server import ReferenceServer
from vhr_conformance.vendor_config import load_config


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vhr.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_init_writes_a_valid_template_and_refuses_to_overwrite(tmp_path: Path) -> None:
    runner = CliRunner()
    path = tmp_path / "vhr.toml"
    first = runner.invoke(app, ["init", "--path", str(path), "--target", "https://fhir.benhvien.vn/r4"])
    assert first.exit_code == 0, first.output
    cfg = load_config(path)
    assert cfg.target.url == "https://fhir.benhvien.vn/r4" and cfg.auth.mode == "client-credentials"
    again = runner.invoke(app, ["init", "--path", str(path)])
    assert again.exit_code != 0 and "--force" in str(again.exception)


def test_paths_are_relative_to_the_file_and_secrets_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "secret.txt").write_text("s3cr3t\n", encoding="utf-8")
    path = _write(
        tmp_path,
        '[target]\nurl = "https://x.vn/fhir"\nca_bundle = "ca.pem"\n'
        '[auth]\nmode = "client-credentials"\nclient_id = "abc"\nclient_secret_file = "secret.txt"\n'
        'token_env = "MY_TOKEN"\n[run]\nonly = "PAT, API"\nlevel = "SHALL"\n',
    )
    monkeypatch.setenv("MY_TOKEN", "tok")
    cfg = load_config(path)
    assert cfg.target.ca_bundle == tmp_path.resolve() / "ca.pem"
    assert cfg.run.only == ["PAT", "API"]
    env = cfg.auth_env()
    assert (
        env["VHR_CLIENT_SECRET"] == "s3cr3t" and env["VHR_CLIENT_ID"] == "abc" and env["VHR_TOKEN"] == "tok"
    )
    assert "s3cr3t" not in json.dumps(cfg.public())


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ('[auth]\nclient_secret = "x"\n', "[auth].client_secret", "client_secret_env"),
        ("[nope]\na = 1\n", "[nope]", "Unknown section"),
        ('[run]\nlevel = "MUST"\n', "[run].level", "Unknown level"),
        ('[load]\nusers = "ten"\n', "[load].users", "an integer"),
        ('[target]\nurl = "ftp://x"\n', "[target].url", "http://"),
        ("[target\n", "vhr.toml", "not valid TOML"),
    ],
)
def test_bad_files_give_located_bilingual_errors(tmp_path: Path, text: str, where: str, words: str) -> None:
    with pytest.raises(UserError) as err:
        load_config(_write(tmp_path, text))
    rendered = err.value.text.both() + " " + str(err.value.location)
    assert where in rendered and words in rendered
    assert err.value.text.vi != err.value.text.en


def test_unset_secret_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    cfg = load_config(
        _write(tmp_path, '[auth]\nmode = "client-credentials"\nclient_secret_env = "NOT_SET_ANYWHERE"\n')
    )
    with pytest.raises(UserError) as err:
        cfg.auth_env()
    assert "NOT_SET_ANYWHERE" in err.value.render()


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vhr.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(UserError) as err:
        load_config(path)
    assert "UTF-8" in err.value.render()


def test_doctor_reads_target_and_credentials_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADMIN_SECRET", "vhr-test-admin-secret")
    with ReferenceServer(auth="oauth") as srv:
        path = _write(
            tmp_path,
            f'[target]\nurl = "{srv.base_url}"\n[auth]\nmode = "client-credentials"\n'
            'client_id = "vhr-test-admin"\nclient_secret_env = "ADMIN_SECRET"\n',
        )
        result = CliRunner().invoke(app, ["doctor", "--config", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    checks = {c["check"]["en"]: c["verdict"] for c in json.loads(result.output)["checks"]}
    assert checks["Token endpoint and token"] == "pass"
