"""`vhr.toml`: one vendor configuration, checked with located bilingual errors; secrets stay out of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vhr_conformance.cli import app
from vhr_conformance.i18n import UserError
from vhr_conformance.runconfig import RunConfig, build
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


def test_errors_name_the_line_of_the_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path, '# vendor\n[target]\nurl = "https://x.vn"\n\n[auth]\nclient_id = "a"\nmodee = "x"\n'
    )
    with pytest.raises(UserError) as err:
        load_config(path)
    assert err.value.location == f"{path}:7 [auth].modee"
    broken = _write(tmp_path, '[target]\nurl = "https://x.vn"\nca_bundle = \n')
    with pytest.raises(UserError) as err:
        load_config(broken)
    assert str(err.value.location).startswith(f"{broken}:3:")


def test_one_run_configuration_flags_win_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("VHR_CLIENT_ID", "VHR_CLIENT_SECRET", "VHR_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ADMIN_SECRET", "s3cr3t")
    path = _write(
        tmp_path,
        '[target]\nurl = "https://x.vn/fhir/"\n[auth]\nmode = "client-credentials"\nclient_id = "abc"\n'
        'client_secret_env = "ADMIN_SECRET"\n[run]\nlevel = "SHALL"\nonly = ["PAT"]\ntimeout = 5\n'
        '[load]\nworkload = "standard"\nduration = "20s"\nusers = 4\n[vendor]\norganisation = "BV"\n',
    )
    rc = build(path)
    assert rc.target == "https://x.vn/fhir" and rc.auth.mode == "client-credentials"
    assert (rc.auth.client_id, rc.auth.client_secret) == ("abc", "s3cr3t")
    assert (rc.level, rc.only, rc.timeout) == ("SHALL", ("PAT",), 5.0)
    assert (rc.load.duration, rc.load.users, rc.vendor.organisation) == ("20s", 4, "BV")
    flags = build(
        path, target="https://y.vn", auth="none", level="MAY", only="API,SEC", users=9, organisation="X"
    )
    assert flags.target == "https://y.vn" and flags.auth.mode == "none"
    assert (flags.level, flags.only, flags.load.users, flags.vendor.organisation) == (
        "MAY",
        ("API", "SEC"),
        9,
        "X",
    )
    # xdist workers get the same object back from the controller
    assert RunConfig.from_wire(rc.to_wire()) == rc
    # the one scheme naming: an unknown scheme is refused where it was given
    with pytest.raises(UserError) as err:
        build(path, auth="oauth2")
    assert err.value.location == "--auth" and "client-credentials" in err.value.render()


def test_no_target_means_the_embedded_server_and_no_vendor_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    path = _write(tmp_path, '[auth]\nmode = "client-credentials"\nclient_secret_env = "NOT_SET_ANYWHERE"\n')
    rc = build(path)
    assert rc.target is None and rc.auth.mode == "none"


def test_push_and_xml_compare_take_target_and_credentials_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`vhr push` and `vhr xml compare` name target and credentials as every other command."""
    for name in ("VHR_CLIENT_ID", "VHR_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ADMIN_SECRET", "vhr-test-admin-secret")
    root = Path(__file__).resolve().parents[1]
    bundle = next((root / "fixtures" / "coverage").glob("*.json"))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / bundle.name).write_bytes(bundle.read_bytes())
    with ReferenceServer(auth="oauth") as srv:
        path = _write(
            tmp_path,
            f'[target]\nurl = "{srv.base_url}"\n[auth]\nmode = "client-credentials"\n'
            'client_id = "vhr-test-admin"\nclient_secret_env = "ADMIN_SECRET"\n',
        )
        runner = CliRunner()
        pushed = runner.invoke(
            app, ["push", str(folder), "--config", str(path), "--limit", "1", "--corrections", "0"]
        )
        assert pushed.exit_code == 0, pushed.output
        assert "rejected: 0" in pushed.output and "sent: 1" in pushed.output
        monkeypatch.setenv("ADMIN_SECRET", "wrong")
        refused = runner.invoke(
            app, ["push", str(folder), "--config", str(path), "--limit", "1", "--corrections", "0"]
        )
        assert refused.exit_code != 0
        made = runner.invoke(app, ["xml", "generate", "--out", str(tmp_path / "xml"), "--count", "1"])
        assert made.exit_code == 0, made.output
        monkeypatch.setenv("ADMIN_SECRET", "vhr-test-admin-secret")
        compared = runner.invoke(app, ["xml", "compare", str(tmp_path / "xml"), "--config", str(path)])
        assert compared.exit_code in (0, 1) and "1 encounters compared" in compared.output, compared.output


def _documented_keys() -> dict[str, tuple[str, ...]]:
    """The table "Which command reads what" of docs/vendor-config.md, as `runconfig.COMMAND_KEYS`."""
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "vendor-config.md").read_text(encoding="utf-8")
    table = text.split("## Which command reads what", 1)[1].split("\n\n", 2)[2]
    rows: dict[str, tuple[str, ...]] = {}
    for line in table.splitlines()[2:]:  # after the header row and its rule
        if not line.startswith("| `vhr "):
            break
        command, reads = (cell.strip() for cell in line.strip("|").split("|"))
        keys = re.findall(r"`\[(\w+)\](?:\.(\w+))?`", reads)
        rows[command.strip("`")[4:]] = tuple(f"{s}.{k}" if k else s for s, k in keys)
    return rows


def test_the_documented_table_is_what_each_command_declares() -> None:
    from vhr_conformance.runconfig import COMMAND_KEYS

    assert _documented_keys() == COMMAND_KEYS
    commands = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert {name.split()[0] for name in COMMAND_KEYS} <= commands


def test_a_command_sees_only_the_keys_it_declares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every section set in the file; each command's RunConfig shows exactly its declared ones."""
    monkeypatch.setenv("VHR_TOKEN", "tok")
    (tmp_path / "key.pem").write_text("k", encoding="utf-8")
    path = _write(
        tmp_path,
        '[target]\nurl = "https://x.vn/fhir"\n[auth]\nmode = "bearer"\n[run]\nlevel = "SHALL"\n'
        '[load]\nusers = 7\n[listen]\nport = 9911\n[vendor]\norganisation = "BV"\n'
        '[signing]\nkey_file = "key.pem"\n',
    )
    seen = {
        "target": lambda rc: rc.target == "https://x.vn/fhir",
        "auth": lambda rc: rc.auth.mode == "bearer",
        "run": lambda rc: rc.level == "SHALL",
        "load": lambda rc: rc.load.users == 7,
        "listen": lambda rc: rc.listen.port == 9911,
        "vendor": lambda rc: rc.vendor.organisation == "BV",
        "signing": lambda rc: rc.sign_key == tmp_path.resolve() / "key.pem",
    }
    from vhr_conformance.runconfig import COMMAND_KEYS

    for command, keys in COMMAND_KEYS.items():
        if command == "listen":  # it demands a scheme of senders; bearer is not one it can issue
            with pytest.raises(UserError) as err:
                build(path, command=command)
            assert "[auth].mode" in str(err.value.location)
            rc = build(path, command=command, auth="none")
        else:
            rc = build(path, command=command)
        got = {section for section, check in seen.items() if check(rc)}
        assert got == {k.split(".")[0] for k in keys if k != "auth.mode"}, command


def test_run_load_flags_over_the_file_over_the_acceptance_load(tmp_path: Path) -> None:
    from vhr_conformance.runner.withload import ACCEPTANCE_DURATION, ACCEPTANCE_USERS, acceptance_load

    path = _write(tmp_path, '[load]\nduration = "4s"\nusers = 3\nslo = "slo.yaml"\n')
    from_file = acceptance_load(build(path).load, "constant")
    assert (from_file.duration, from_file.users, from_file.slo) == ("4s", 3, tmp_path.resolve() / "slo.yaml")
    flags = acceptance_load(build(path, duration="6s", users=5).load, "constant")
    assert (flags.duration, flags.users) == ("6s", 5)
    neither = acceptance_load(build(_write(tmp_path, "")).load, "constant")
    assert (neither.duration, neither.users, neither.workload) == (
        ACCEPTANCE_DURATION,
        ACCEPTANCE_USERS,
        "standard",
    )
    assert acceptance_load(build(path).load, "capacity").users is None  # the workload's own steps


def test_listen_settings_flags_over_the_file_and_bad_values_located(tmp_path: Path) -> None:
    (tmp_path / "c.pem").write_text("c", encoding="utf-8")
    path = _write(
        tmp_path,
        '[auth]\nmode = "client-credentials"\n[listen]\nhost = "0.0.0.0"\nport = 9000\nduration = "2m"\n'
        'tls_cert = "c.pem"\ntls_key = "k.pem"\nreport_dir = "out"\n',
    )
    rc = build(path, command="listen")
    base = tmp_path.resolve()
    assert rc.listen == rc.listen.__class__(
        host="0.0.0.0",
        port=9000,
        duration="2m",
        tls=(base / "c.pem", base / "k.pem"),
        report_dir=base / "out",
        mode="client-credentials",
    )
    flags = build(path, command="listen", host="127.0.0.1", port=0, duration="5s", auth="none")
    assert (flags.listen.host, flags.listen.port, flags.listen.duration, flags.listen.mode) == (
        "127.0.0.1",
        0,
        "5s",
        "none",
    )
    assert RunConfig.from_wire(rc.to_wire()) == rc
    for text, command, where in (
        ('[listen]\ntls_cert = "c.pem"\n', "listen", "[listen].tls_key"),
        ('[listen]\nduration = "soon"\n', "listen", "[listen].duration"),
        ('[load]\nduration = "soon"\n', "run", "[load].duration"),
        ("[load]\nusers = 0\n", "load", "[load].users"),
    ):
        with pytest.raises(UserError) as err:
            build(_write(tmp_path, text), command=command)
        assert where in str(err.value.location) and err.value.text.vi != err.value.text.en
