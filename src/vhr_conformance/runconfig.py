"""One typed run configuration: `vhr.toml` and the command's flags, resolved once per command.

Every command that reads the file (run, doctor, load, push, xml compare, listen) builds a
:class:`RunConfig` with :func:`build`, naming itself: it sees only the keys :data:`COMMAND_KEYS`
declares for it (the table of docs/vendor-config.md); the pytest plugin and the load stage take that object rather than reading the
same options again from their own flags and environment variables. A flag wins over the file;
the credentials are resolved here once (from the environment or a file, never the file's text).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from vhr_conformance.client.auth import AuthConfig
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.vendor_config import AUTH_MODES, SECTIONS, VendorConfig, load_config

# Every command names the scheme the same way; `oauth` is the older spelling of `vhr push`.
AUTH_HELP = "none | bearer | client-credentials | smart-backend"
AUTH_CONFIG_HELP = (
    "Tệp YAML/JSON: token_url, client_id, bí mật / YAML/JSON file: token_url, client_id, secrets "
    "(else the VHR_* variables and vhr.toml [auth])"
)
CA_BUNDLE_HELP = "Tệp PEM CA tin cậy / PEM CA bundle to trust (private CA); verification stays on"
CONFIG_HELP = "vhr.toml của nhà cung cấp / vendor configuration (default ./vhr.toml, $VHR_CONFIG)"
ALIASES = {"oauth": "client-credentials"}

# What each command reads of vhr.toml: a whole `section` or one `section.key`. The rest of the file
# is invisible to it, so the table of docs/vendor-config.md is what the code does. generate,
# validate and xml to-fhir read nothing: their inputs and output folders belong to one invocation
# (and chain by folder), and the IG is the national one unless `--ig` names another.
COMMAND_KEYS: dict[str, tuple[str, ...]] = {
    "run": ("target", "auth", "run", "load", "vendor", "signing"),
    "doctor": ("target", "auth"),
    "load": ("target", "auth", "load"),
    "push": ("target", "auth"),
    "xml compare": ("target", "auth"),
    "listen": ("auth.mode", "listen", "vendor", "signing"),  # vendor, signing: its evidence bundle
    "generate": (),
    "validate": (),
    "xml to-fhir": (),
}
LISTEN_MODES = ("none", "client-credentials")


@dataclass(frozen=True)
class LoadSettings:
    """`[load]` of vhr.toml, overridden by `vhr load` / `vhr run --load-*` flags."""

    workload: str = "standard"
    duration: str | None = None
    users: int | None = None
    slo: Path | None = None


@dataclass(frozen=True)
class ListenSettings:
    """`[listen]` of vhr.toml under `vhr listen`'s flags; `mode` is the scheme demanded of senders."""

    host: str = "127.0.0.1"
    port: int = 8090
    duration: str | None = None
    tls: tuple[Path, Path] | None = None  # (certificate, key), PEM
    report_dir: Path | None = None
    mode: str = "none"


@dataclass(frozen=True)
class VendorInfo:
    organisation: str | None = None
    product: str | None = None
    version: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return asdict(self)


@dataclass(frozen=True)
class RunConfig:
    """What one command runs with. `target` None means the embedded reference server."""

    target: str | None = None
    auth: AuthConfig = field(default_factory=AuthConfig)
    ca_bundle: str | None = None  # a checked PEM bundle trusted instead of the public roots
    level: str = "MAY"
    only: tuple[str, ...] = ()
    xml: Path | None = None
    deadline: str | None = None
    timeout: float = 15.0
    seed: int | None = None
    ig: str | None = None
    load: LoadSettings = field(default_factory=LoadSettings)
    listen: ListenSettings = field(default_factory=ListenSettings)
    vendor: VendorInfo = field(default_factory=VendorInfo)
    sign_key: Path | None = None
    attestations: Path | None = None  # the attestation file (YAML) judged with the run
    config_path: Path | None = None

    def verify(self) -> Any:
        """The verifying TLS context every client of the target uses."""
        from vhr_conformance.client.tls import verify_context

        return verify_context(self.ca_bundle)

    def tokens(self, timeout: float | None = None) -> Any:
        """A token provider for the target with these credentials and this CA bundle."""
        from vhr_conformance.client import TokenProvider

        return TokenProvider(
            self.auth, discover_base=self.target, timeout=timeout or self.timeout, verify=self.verify()
        )

    def with_target(self, target: str, auth: AuthConfig | None = None) -> RunConfig:
        return replace(self, target=target.rstrip("/"), auth=auth or self.auth)

    def to_wire(self) -> dict[str, Any]:
        """For pytest-xdist workers (an in-memory channel, never a file): credentials included."""
        data = asdict(self)
        data["only"] = list(self.only)
        for key in ("xml", "sign_key", "config_path"):
            data[key] = str(data[key]) if data[key] is not None else None
        data["load"]["slo"] = str(self.load.slo) if self.load.slo else None
        data["listen"]["tls"] = [str(p) for p in self.listen.tls] if self.listen.tls else None
        data["listen"]["report_dir"] = str(self.listen.report_dir) if self.listen.report_dir else None
        return data

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> RunConfig:
        def path(value: Any) -> Path | None:
            return Path(value) if value else None

        load = dict(data["load"], slo=path(data["load"].get("slo")))
        tls = data["listen"].get("tls")
        listen = dict(
            data["listen"],
            tls=(Path(tls[0]), Path(tls[1])) if tls else None,
            report_dir=path(data["listen"].get("report_dir")),
        )
        return cls(
            **{
                **data,
                "auth": AuthConfig(**data["auth"]),
                "only": tuple(data["only"]),
                "xml": path(data["xml"]),
                "sign_key": path(data["sign_key"]),
                "config_path": path(data["config_path"]),
                "load": LoadSettings(**load),
                "listen": ListenSettings(**listen),
                "vendor": VendorInfo(**data["vendor"]),
            }
        )


def auth_env(auth: AuthConfig) -> dict[str, str]:
    """Resolved credentials as the `VHR_*` variables `AuthConfig.load` reads: how a child process
    (a Locust process of `vhr load`) gets the very credentials its parent resolved."""
    names = {
        "VHR_TOKEN": auth.token,
        "VHR_TOKEN_URL": auth.token_url,
        "VHR_CLIENT_ID": auth.client_id,
        "VHR_CLIENT_SECRET": auth.client_secret,
        "VHR_PRIVATE_KEY": auth.private_key_pem,
        "VHR_KEY_ID": auth.key_id,
        "VHR_KEY_ALG": auth.algorithm,
        "VHR_SCOPE": auth.scope,
    }
    return {k: v for k, v in names.items() if v}


def auth_mode(value: str, location: str = "--auth") -> str:
    """The one scheme naming; an unknown one is a usage error that lists the valid ones."""
    mode = ALIASES.get(value, value)
    if mode not in AUTH_MODES:
        raise UserError(
            Text(
                "Chế độ xác thực không hợp lệ: {m} (chọn {all}).", "Unknown auth mode: {m} (choose {all})."
            ).format(m=value, all=", ".join(AUTH_MODES)),
            location=location,
        )
    return mode


def credentials(
    vendor: VendorConfig,
    mode: str,
    auth_config: Path | str | None,
    location: str = "--auth",
    default_env: dict[str, str] | None = None,
) -> AuthConfig:
    """The credentials of `mode`: an `--auth-config` file, else the environment and vhr.toml's
    `[auth]` (its secrets from the variables or files it names); `default_env` fills what none of
    them names (a command's public test client)."""
    mode = auth_mode(mode, location)
    env: dict[str, str] = {**(default_env or {}), **os.environ} if not auth_config else dict(os.environ)
    if vendor.path is not None and not auth_config and mode != "none":
        env.update(vendor.auth_env())
    try:
        return AuthConfig.load(mode, str(auth_config) if auth_config else None, env=env)
    except UserError as exc:
        if exc.location == "--vhr-auth":  # AuthConfig speaks the plugin's flag name
            exc = UserError(exc.text, location=location, hint=exc.hint)
        raise exc from None


def build(
    config: Path | str | None = None,
    *,
    target: str | None = None,
    auth: str | None = None,
    auth_config: Path | str | None = None,
    ca_bundle: Path | str | None = None,
    level: str | None = None,
    only: str | None = None,
    xml: Path | None = None,
    deadline: str | None = None,
    timeout: float | None = None,
    seed: int | None = None,
    ig: str | None = None,
    workload: str | None = None,
    duration: str | None = None,
    users: int | None = None,
    slo: Path | None = None,
    sign_key: Path | None = None,
    attestations: Path | None = None,
    organisation: str | None = None,
    product: str | None = None,
    version: str | None = None,
    vendor: VendorConfig | None = None,
    default_env: dict[str, str] | None = None,
    command: str = "run",
    host: str | None = None,
    port: int | None = None,
    tls: tuple[Path, Path] | None = None,
    report_dir: Path | None = None,
) -> RunConfig:
    """vhr.toml (see `vendor_config.find_config`) with the flags given (None = not given) on top,
    as `command` sees the file (:data:`COMMAND_KEYS`).

    The file's auth applies only to the file's or the flag's target: without one the command runs
    against the embedded server, which brings its own test clients. `host`, `port`, `tls`,
    `report_dir` (and `duration`) are `vhr listen`'s; that command sends nothing, so it resolves
    no credentials: `auth` is the scheme it demands of senders."""
    cfg = view(vendor if vendor is not None else load_config(config), command)
    if command == "listen":
        flags = {"host": host, "port": port, "duration": duration, "tls": tls, "report_dir": report_dir}
        return _listen(cfg, flags, auth, sign_key, attestations)
    url = target or cfg.target.url
    mode = auth or (cfg.auth.mode if url else "none")
    bundle = ca_bundle or cfg.target.ca_bundle
    checked = None
    if bundle is not None:
        from vhr_conformance.client.tls import check_bundle

        checked = check_bundle(
            bundle, location="--ca-bundle" if ca_bundle else f"{cfg.path} [target].ca_bundle"
        )
    wanted = only if only is not None else ",".join(cfg.run.only)
    _check_load(cfg, duration, users)
    return RunConfig(
        target=url.rstrip("/") if url else None,
        auth=credentials(cfg, mode, auth_config, default_env=default_env),
        ca_bundle=checked,
        level=level or cfg.run.level or "MAY",
        only=tuple(x.strip() for x in wanted.split(",") if x.strip()),
        xml=xml or cfg.run.xml,
        deadline=deadline or cfg.run.deadline,
        timeout=timeout if timeout is not None else (cfg.run.timeout or 15.0),
        seed=seed,
        ig=ig,
        load=LoadSettings(
            workload=workload or cfg.load.workload or "standard",
            duration=duration or cfg.load.duration,
            users=users if users is not None else cfg.load.users,
            slo=slo or cfg.load.slo,
        ),
        vendor=VendorInfo(
            organisation=organisation or cfg.vendor.organisation,
            product=product or cfg.vendor.product,
            version=version or cfg.vendor.version,
        ),
        sign_key=sign_key or cfg.signing.key_file,
        attestations=attestations or cfg.vendor.attestations,
        config_path=cfg.path,
    )


def view(cfg: VendorConfig, command: str) -> VendorConfig:
    """The file as `command` sees it: the sections and keys it declares, every other at its default."""
    wanted = COMMAND_KEYS[command]
    seen = VendorConfig(path=cfg.path)
    for name in SECTIONS:
        section = getattr(cfg, name)
        if name in wanted:
            setattr(seen, name, section)
            continue
        keys = {k.split(".", 1)[1] for k in wanted if k.startswith(name + ".")}
        if keys:
            setattr(seen, name, replace(getattr(seen, name), **{k: getattr(section, k) for k in keys}))
    return seen


def listen_mode(value: str, location: str = "--auth") -> str:
    """The scheme `vhr listen` demands of senders: it issues client-credentials tokens or none."""
    mode = auth_mode(value, location)
    if mode not in LISTEN_MODES:
        raise UserError(
            Text(
                "vhr listen cấp token theo client-credentials: chế độ là `none` (không xác thực) hoặc "
                "client-credentials, không phải {m}.",
                "vhr listen issues client-credentials tokens: the mode is none or client-credentials, not {m}.",
            ).format(m=mode),
            location=location,
        )
    return mode


def _listen(
    cfg: VendorConfig,
    flags: dict[str, Any],
    auth: str | None,
    sign_key: Path | None,
    attestations: Path | None = None,
) -> RunConfig:
    """`vhr listen`'s configuration: each flag given, else `[listen]`, else the defaults."""
    where = f"{cfg.path} [listen]"
    file = cfg.listen
    if (file.tls_cert is None) != (file.tls_key is None):
        raise UserError(
            Text("Cần cả tls_cert và tls_key.", "Give both tls_cert and tls_key."),
            location=where + (".tls_key" if file.tls_key is None else ".tls_cert"),
        )
    file_tls = (file.tls_cert, file.tls_key) if file.tls_cert and file.tls_key else None
    if file.duration is not None:  # a bad value is located in the file, before anything starts
        from vhr_conformance.durations import duration_option

        duration_option(file.duration, where + ".duration")
    mode = listen_mode(auth, "--auth") if auth else listen_mode(cfg.auth.mode, f"{cfg.path} [auth].mode")
    given: dict[str, Any] = {"host": file.host, "port": file.port, "duration": file.duration, "tls": file_tls}
    given |= {"report_dir": file.report_dir}
    given |= {k: v for k, v in flags.items() if v is not None}
    settings = ListenSettings(**{k: v for k, v in given.items() if v is not None}, mode=mode)
    return RunConfig(
        listen=settings,
        vendor=VendorInfo(
            organisation=cfg.vendor.organisation, product=cfg.vendor.product, version=cfg.vendor.version
        ),
        sign_key=sign_key or cfg.signing.key_file,
        attestations=attestations or cfg.vendor.attestations,
        config_path=cfg.path,
    )


def _check_load(cfg: VendorConfig, duration: str | None, users: int | None) -> None:
    """`[load]` values a flag does not replace, checked where they are written, before anything starts."""
    where = f"{cfg.path} [load]"
    if duration is None and cfg.load.duration is not None:
        from vhr_conformance.durations import duration_option

        duration_option(cfg.load.duration, where + ".duration")
    if users is None and cfg.load.users is not None and cfg.load.users < 1:
        raise UserError(
            Text("Số người dùng phải ≥ 1", "the number of users must be ≥ 1"), location=where + ".users"
        )
