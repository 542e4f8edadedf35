"""One typed run configuration: `vhr.toml` and the command's flags, resolved once per command.

Every command (run, load, push, xml compare, doctor) builds a :class:`RunConfig` with
:func:`build`; the pytest plugin and the load stage take that object rather than reading the
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
from vhr_conformance.vendor_config import AUTH_MODES, VendorConfig, load_config

# Every command names the scheme the same way; `oauth` is the older spelling of `vhr push`.
AUTH_HELP = "none | bearer | client-credentials | smart-backend"
AUTH_CONFIG_HELP = (
    "Tệp YAML/JSON: token_url, client_id, bí mật / YAML/JSON file: token_url, client_id, secrets "
    "(else the VHR_* variables and vhr.toml [auth])"
)
CA_BUNDLE_HELP = "Tệp PEM CA tin cậy / PEM CA bundle to trust (private CA); verification stays on"
CONFIG_HELP = "vhr.toml của nhà cung cấp / vendor configuration (default ./vhr.toml, $VHR_CONFIG)"
ALIASES = {"oauth": "client-credentials"}


@dataclass(frozen=True)
class LoadSettings:
    """`[load]` of vhr.toml, overridden by `vhr load` / `vhr run --load-*` flags."""

    workload: str = "standard"
    duration: str | None = None
    users: int | None = None
    slo: Path | None = None


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
        return data

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> RunConfig:
        def path(value: Any) -> Path | None:
            return Path(value) if value else None

        load = dict(data["load"], slo=path(data["load"].get("slo")))
        return cls(
            **{
                **data,
                "auth": AuthConfig(**data["auth"]),
                "only": tuple(data["only"]),
                "xml": path(data["xml"]),
                "sign_key": path(data["sign_key"]),
                "config_path": path(data["config_path"]),
                "load": LoadSettings(**load),
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
) -> RunConfig:
    """vhr.toml (see `vendor_config.find_config`) with the flags given (None = not given) on top.

    The file's auth applies only to the file's or the flag's target: without one the command runs
    against the embedded server, which brings its own test clients."""
    cfg = vendor if vendor is not None else load_config(config)
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
