"""The vendor's configuration file, `vhr.toml`: one place for what every command needs.

`vhr init` writes a commented template. Every command reads the file (``--config PATH``, else
``$VHR_CONFIG``, else ``./vhr.toml`` when present); a flag given on the command line wins over the
file. Secrets never live in the file: it names the environment variable or the file that holds
each one, so the file can be committed and shared.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from vhr_conformance.i18n import Text, UserError

CONFIG_NAME = "vhr.toml"
CONFIG_ENV = "VHR_CONFIG"
MAX_CONFIG_BYTES = 1024 * 1024
AUTH_MODES = ("none", "bearer", "client-credentials", "smart-backend")
LEVELS = ("SHALL", "SHOULD", "MAY")


@dataclass
class TargetSection:
    url: str | None = None
    ca_bundle: Path | None = None


@dataclass
class AuthSection:
    mode: str = "none"
    token_url: str | None = None
    client_id: str | None = None
    scope: str | None = None
    key_id: str | None = None
    algorithm: str | None = None
    # where the secrets are: an environment variable or a file, never the value itself
    client_secret_env: str | None = None
    client_secret_file: Path | None = None
    token_env: str | None = None
    private_key_file: Path | None = None


@dataclass
class RunSection:
    level: str | None = None
    only: list[str] = field(default_factory=list)
    xml: Path | None = None
    deadline: str | None = None
    timeout: float | None = None


@dataclass
class LoadSection:
    workload: str | None = None
    duration: str | None = None
    users: int | None = None
    slo: Path | None = None


@dataclass
class ListenSection:
    """`vhr listen`: where the harness stands in as the platform for a sending system."""

    host: str | None = None
    port: int | None = None
    duration: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    report_dir: Path | None = None


@dataclass
class VendorSection:
    organisation: str | None = None
    product: str | None = None
    version: str | None = None
    attestations: Path | None = None  # the attestation file (YAML) of run and listen


@dataclass
class SigningSection:
    key_file: Path | None = None


@dataclass
class VendorConfig:
    """The parsed file; `path` is None when no file was found (every value then at its default)."""

    path: Path | None = None
    target: TargetSection = field(default_factory=TargetSection)
    auth: AuthSection = field(default_factory=AuthSection)
    run: RunSection = field(default_factory=RunSection)
    load: LoadSection = field(default_factory=LoadSection)
    listen: ListenSection = field(default_factory=ListenSection)
    vendor: VendorSection = field(default_factory=VendorSection)
    signing: SigningSection = field(default_factory=SigningSection)

    def auth_env(self) -> dict[str, str]:
        """The credentials as the `VHR_*` variables `client.AuthConfig.load` reads, secrets resolved."""
        a = self.auth
        env: dict[str, str] = {}
        plain = {
            "VHR_TOKEN_URL": a.token_url,
            "VHR_CLIENT_ID": a.client_id,
            "VHR_SCOPE": a.scope,
            "VHR_KEY_ID": a.key_id,
            "VHR_KEY_ALG": a.algorithm,
        }
        env.update({k: v for k, v in plain.items() if v})
        where = f"{self.path or CONFIG_NAME} [auth]"
        if a.client_secret_env:
            env["VHR_CLIENT_SECRET"] = _from_env(a.client_secret_env, where + ".client_secret_env")
        if a.client_secret_file:
            env["VHR_CLIENT_SECRET"] = _from_file(a.client_secret_file, where + ".client_secret_file")
        if a.token_env:
            env["VHR_TOKEN"] = _from_env(a.token_env, where + ".token_env")
        if a.private_key_file:
            env["VHR_PRIVATE_KEY_FILE"] = str(a.private_key_file)
        return env

    def public(self) -> dict[str, Any]:
        """What a report may show of the configuration (names of secret sources, never secrets)."""

        def plain(section: Any) -> dict[str, Any]:
            return {f.name: _jsonable(getattr(section, f.name)) for f in fields(section)}

        return {
            "path": str(self.path) if self.path else None,
            "target": plain(self.target),
            "auth": plain(self.auth),
            "run": plain(self.run),
            "load": plain(self.load),
            "listen": plain(self.listen),
            "vendor": plain(self.vendor),
            "signing": plain(self.signing),
        }


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def _from_env(name: str, where: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise UserError(
            Text("Biến môi trường {n} chưa được đặt.", "The environment variable {n} is not set.").format(
                n=name
            ),
            location=where,
        )
    return value


def _from_file(path: Path, where: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            Text("Không đọc được tệp bí mật {p}: {e}", "Cannot read the secret file {p}: {e}").format(
                p=path, e=exc
            ),
            location=where,
        ) from None


SECTIONS: dict[str, type] = {
    "target": TargetSection,
    "auth": AuthSection,
    "run": RunSection,
    "load": LoadSection,
    "listen": ListenSection,
    "vendor": VendorSection,
    "signing": SigningSection,
}
# Keys that would put a secret into the file, and what to write instead.
SECRET_KEYS = {
    "client_secret": "client_secret_env / client_secret_file",
    "token": "token_env",
    "private_key": "private_key_file",
    "password": "client_secret_env",
}


def find_config(explicit: Path | str | None = None) -> Path | None:
    """The configuration file to read: the one named, else $VHR_CONFIG, else ./vhr.toml if present."""
    if explicit:
        return Path(explicit).expanduser()
    if env := os.environ.get(CONFIG_ENV):
        return Path(env).expanduser()
    here = Path.cwd() / CONFIG_NAME
    return here if here.is_file() else None


def load_config(explicit: Path | str | None = None) -> VendorConfig:
    """Read and check the file (see :func:`find_config`); no file gives the defaults."""
    path = find_config(explicit)
    if path is None:
        return VendorConfig()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(
            Text("Không đọc được tệp cấu hình: {e}", "Cannot read the configuration file: {e}").format(
                e=exc.strerror or exc
            ),
            location=str(path),
        ) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise UserError(
            Text("Tệp cấu hình quá lớn (> 1 MB).", "The configuration file is too large (> 1 MB)."),
            location=str(path),
        )
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UserError(
            Text(
                "Tệp cấu hình không phải UTF-8 (byte {p}).", "The configuration file is not UTF-8 (byte {p})."
            ).format(p=exc.start),
            location=str(path),
        ) from None
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        raise UserError(
            Text(
                "Tệp cấu hình không đúng cú pháp TOML: {e}", "The configuration file is not valid TOML: {e}"
            ).format(e=exc),
            location=f"{path}:{at.group(1)}:{at.group(2)}" if at else str(path),
        ) from None
    return parse_config(data, path, raw.decode("utf-8"))


def _line_of(text: str, section: str, key: str | None = None) -> int | None:
    """The line of `[section]` (or of `key` in it) in the file's text, for located errors."""
    header = re.compile(r"^\s*\[\s*" + re.escape(section) + r"\s*\]\s*(#.*)?$")
    assign = re.compile(r"^\s*" + re.escape(key or "") + r"\s*=") if key else None
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("["):
            inside = bool(header.match(line))
            if inside and assign is None:
                return number
        elif inside and assign is not None and assign.match(line):
            return number
    return None


def _where(file: str, text: str | None, section: str, key: str | None = None) -> str:
    """`vhr.toml:12 [auth].mode`: the file, the line when it can be found, the section and key."""
    line = _line_of(text, section, key) if text else None
    name = f"[{section}]" + (f".{key}" if key else "")
    return f"{file}:{line} {name}" if line else f"{file} {name}"


def parse_config(data: dict[str, Any], path: Path, text: str | None = None) -> VendorConfig:
    cfg = VendorConfig(path=path.resolve())
    base = path.resolve().parent
    for name, value in data.items():
        where = _where(str(path), text, name)
        if name not in SECTIONS:
            raise UserError(
                Text("Mục không hợp lệ [{n}] (có: {all}).", "Unknown section [{n}] (known: {all}).").format(
                    n=name, all=", ".join(SECTIONS)
                ),
                location=where,
            )
        if not isinstance(value, dict):
            raise UserError(
                Text("[{n}] phải là một bảng.", "[{n}] must be a table.").format(n=name), location=where
            )
        setattr(cfg, name, _section(SECTIONS[name], value, base, str(path), name, text))
    _check_values(cfg, str(path), text)
    return cfg


def _section(cls: type, values: dict[str, Any], base: Path, file: str, name: str, text: str | None) -> Any:
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        where = _where(file, text, name, key)
        if key in SECRET_KEYS:
            raise UserError(
                Text(
                    "Không ghi bí mật vào tệp cấu hình; dùng {alt}.",
                    "Do not put secrets in the configuration file; use {alt}.",
                ).format(alt=SECRET_KEYS[key]),
                location=where,
            )
        if key not in known:
            raise UserError(
                Text("Khóa không hợp lệ {k} (có: {all}).", "Unknown key {k} (known: {all}).").format(
                    k=key, all=", ".join(known)
                ),
                location=where,
            )
        kwargs[key] = _coerce(str(known[key].type), value, base, where)
    return cls(**kwargs)


def _coerce(annotation: str, value: Any, base: Path, where: str) -> Any:
    def wrong(kind: Text) -> UserError:
        return UserError(
            Text(f"Cần {kind.vi}, nhận được {value!r}.", f"Expected {kind.en}, got {value!r}."),
            location=where,
        )

    if "Path" in annotation:
        if not isinstance(value, str) or not value:
            raise wrong(Text("một đường dẫn", "a path"))
        p = Path(value).expanduser()
        return p if p.is_absolute() else base / p
    if "list[str]" in annotation:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong(Text("một danh sách chuỗi", "a list of strings"))
        return value
    if "int" in annotation and "float" not in annotation:
        if not isinstance(value, int) or isinstance(value, bool):
            raise wrong(Text("một số nguyên", "an integer"))
        return value
    if "float" in annotation:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise wrong(Text("một số", "a number"))
        return float(value)
    if not isinstance(value, str):
        raise wrong(Text("một chuỗi", "a string"))
    return value


def _check_values(cfg: VendorConfig, file: str, text: str | None = None) -> None:
    if cfg.auth.mode not in AUTH_MODES:
        raise UserError(
            Text(
                "Chế độ xác thực không hợp lệ {m} (chọn {all}).", "Unknown auth mode {m} (choose {all})."
            ).format(m=cfg.auth.mode, all=", ".join(AUTH_MODES)),
            location=_where(file, text, "auth", "mode"),
        )
    if cfg.run.level is not None and cfg.run.level not in LEVELS:
        raise UserError(
            Text("Mức không hợp lệ {v} (chọn {all}).", "Unknown level {v} (choose {all}).").format(
                v=cfg.run.level, all=", ".join(LEVELS)
            ),
            location=_where(file, text, "run", "level"),
        )
    url = cfg.target.url
    if url is not None and not url.startswith(("http://", "https://")):
        raise UserError(
            Text(
                "URL phải bắt đầu bằng http:// hoặc https://", "The URL must start with http:// or https://"
            ),
            location=_where(file, text, "target", "url"),
        )


TEMPLATE = """\
# vhr-conformance — cấu hình của nhà cung cấp / vendor configuration
# Mọi lệnh (run, load, listen, push, xml compare, doctor) đọc tệp này; tham số dòng lệnh được ưu tiên.
# Every command reads this file; a command-line flag wins over it.
# Không ghi bí mật vào đây: chỉ ghi tên biến môi trường hoặc tệp chứa bí mật.
# Never write secrets here: name the environment variable or the file that holds them.

[target]
url = "{url}"                 # URL gốc FHIR R4 / FHIR R4 base URL
# ca_bundle = "private-ca.pem"   # CA riêng của máy chủ / the server's private CA (PEM)

[auth]
mode = "{mode}"               # none | bearer | client-credentials | smart-backend
# token_url = "https://auth.vendor.vn/token"   # mặc định: .well-known/smart-configuration
# client_id = "vhr-harness"
# client_secret_env = "VHR_CLIENT_SECRET"     # biến môi trường chứa bí mật / env var holding the secret
# private_key_file = "keys/harness.pem"       # smart-backend
# scope = "system/*.read system/*.write"

[run]
# level = "MAY"                 # SHALL | SHOULD | MAY
# only = ["PAT", "API"]         # thu hẹp phạm vi (phạm vi một phần) / narrows the scope (partial scope)
# xml = "xml130/"               # tệp XML 130 để so với FHIR (tiêu chí MAP) / XML 130 files for the MAP criteria
# deadline = "60m"

[load]
# workload = "standard"
# duration = "5m"
# users = 10
# slo = "slo.yaml"

[listen]                        # vhr listen: hệ thống gửi của bạn gửi tới đây / your sending system sends here
# host = "127.0.0.1"
# port = 8090
# duration = "10m"
# tls_cert = "listen-cert.pem"   # cùng với tls_key: phục vụ HTTPS / with tls_key: serve HTTPS
# tls_key = "listen-key.pem"
# report_dir = "reports/listen"

[vendor]
organisation = ""              # tổ chức / organisation
product = ""                   # sản phẩm / product
version = ""                   # phiên bản / version
# attestations = "attestations.yaml"  # tệp xác nhận (docs/evidence.md) / attestation file

[signing]
# key_file = "keys/signing.pem" # khóa ký gói bằng chứng / key that signs the evidence bundle
"""


def write_template(
    path: Path, url: str = "https://fhir.example.vn/r4", mode: str = "client-credentials", force: bool = False
) -> Path:
    if path.exists() and not force:
        raise UserError(
            Text("Tệp đã tồn tại; thêm --force để ghi đè.", "The file exists; pass --force to overwrite it."),
            location=str(path),
        )
    if path.is_dir():
        raise UserError(Text("Đây là một thư mục.", "This is a folder."), location=str(path))
    text = TEMPLATE.format(url=url, mode=mode)
    parse_config(tomllib.loads(text), path, text)  # the template itself must be valid
    path.write_text(text, encoding="utf-8")
    return path
