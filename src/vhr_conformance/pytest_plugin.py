"""pytest plugin of the VHR conformance suites (entry point `pytest11: vhr_conformance`).

It loads in every pytest run of this environment, so it does nothing beyond registering its
options and the `criterion` marker unless `--vhr-target` is given (or `vhr run` hands it its
:class:`~vhr_conformance.runconfig.RunConfig` through :class:`RunConfigCarrier`). When active it checks the
tests against the criteria catalogue at collection, maps each case to a state of the outcome model
(:mod:`vhr_conformance.outcome`: pass, fail, not-tested, not-applicable, error), captures
evidence, and writes every report format at the end of the session.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
from _pytest.outcomes import Skipped

from vhr_conformance import __version__
from vhr_conformance.catalogue import LEVELS, Catalogue, level_in_scope, load_catalogue
from vhr_conformance.client import AUTH_MODES, AuthConfig, EvidenceLog, InfrastructureError
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.outcome import (
    STATE_TEXT,
    CriterionFailed,
    NotApplicable,
    NotTested,
    State,
)
from vhr_conformance.reports.model import CaseResult, RunResult
from vhr_conformance.runconfig import RunConfig

MARKER = "criterion"
EVIDENCE_PER_FAILURE = 8


# The first version's name for "not applicable"; kept so code written against it still imports.
Omitted = NotApplicable


class HarnessError(Exception):
    """The harness itself could not run a check (bad fixture data, missing IG, …): result `error`."""


def omit(reason: Text) -> NoReturn:
    """Thin alias of :func:`vhr_conformance.outcome.not_applicable`."""
    raise NotApplicable(reason)


def skip_missing(reason: Text) -> NoReturn:
    """Thin alias of :func:`vhr_conformance.outcome.not_tested`: say which data or capability was missing."""
    raise NotTested(reason)


def criterion(*ids: str) -> pytest.MarkDecorator:
    """`@criterion("VHR-API-003")`: the criteria a test (or a parameter set) verifies."""
    return pytest.mark.criterion(*ids)


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class VhrOptions:
    target: str
    auth: AuthConfig
    ig: str | None
    level: str
    seed: int
    report_dir: Path
    run_id: str
    timeout: float
    retries: int
    cleanup: bool
    partial: bool
    catalogue_path: str | None
    only: list[str]
    max_body_mb: float
    rate_limit: float | None
    seed_limit: int
    ca_bundle: str | None = None  # PEM bundle the harness trusts instead of the public roots
    run_config: RunConfig = field(default_factory=RunConfig)  # what the command resolved once
    audit: str | None = None  # the store's audit for the QUAL-2xx criteria (`vhr run --audit`)
    load: dict[str, Any] | None = None  # the `--vhr-load` spec the PERF criteria run with

    def verify(self) -> Any:
        """The verifying TLS context every client of the target uses."""
        from vhr_conformance.client.tls import verify_context

        return verify_context(self.ca_bundle)

    def public(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "auth": self.auth.public(),
            "ig": self.ig,
            "level": self.level,
            "seed": self.seed,
            "timeout": self.timeout,
            "retries": self.retries,
            "cleanup": self.cleanup,
            "partial": self.partial,
            "only": self.only,
            "maxBodyMb": self.max_body_mb,
            "rateLimit": self.rate_limit,
            "seedLimit": self.seed_limit,
            "caBundle": self.ca_bundle,
            "audit": self.audit,
            "load": self.load,
            "config": str(self.run_config.config_path) if self.run_config.config_path else None,
        }


@dataclass
class VhrState:
    options: VhrOptions
    catalogue: Catalogue
    started: str = field(default_factory=now_iso)
    started_monotonic: float = field(default_factory=time.monotonic)
    evidence: EvidenceLog = field(default_factory=EvidenceLog)
    cases: dict[str, CaseResult] = field(default_factory=dict)
    cleanup_leftovers: list[str] = field(default_factory=list)
    pending_cleanup: list[str] = field(default_factory=list)  # xdist: refs a worker leaves to the controller
    ig_info: dict[str, Any] = field(default_factory=dict)
    run: RunResult | None = None
    report_paths: dict[str, Path] = field(default_factory=dict)
    planned: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (nodeid, name, criteria) to run
    interrupted: str = ""  # set by `interrupt()`: why the run is stopping early
    attestations: dict[str, dict[str, Any]] | None = None  # --vhr-attestations: per criterion


def interrupt(reason: Text) -> None:
    """Mark the active run as interrupted (signal, deadline) before pytest unwinds it."""
    state = _STATE_BY_RUN.get("current")
    if state is not None and not state.interrupted:
        state.interrupted = reason.both()


STATE = pytest.StashKey[VhrState]()
_STATE_BY_RUN: dict[str, VhrState] = {}


def get_state(config: pytest.Config) -> VhrState | None:
    return config.stash.get(STATE, None)


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("vhr", "VHR conformance / kiểm thử tuân thủ VHR")
    g.addoption(
        "--vhr-target", default=None, help="Base URL of the FHIR server under test (activates the plugin)"
    )
    g.addoption("--vhr-auth", default="none", choices=AUTH_MODES, help="Authentication mode")
    g.addoption(
        "--vhr-auth-config",
        default=None,
        help="YAML/JSON file with token_url, client_id, secrets (else VHR_* env vars)",
    )
    g.addoption("--vhr-ig", default=None, help="IG package folder or .tgz (default: the VHR IG)")
    g.addoption(
        "--vhr-level",
        default="MAY",
        choices=LEVELS,
        help="Highest level in scope: SHALL, SHOULD (+SHALL) or MAY (all)",
    )
    g.addoption(
        "--vhr-seed",
        default=None,
        type=int,
        help="Seed for data chosen or made by the suites (default: the checked-in fixtures')",
    )
    g.addoption("--vhr-report-dir", default=None, help="Report folder (default reports/<run-id>)")
    g.addoption("--vhr-run-id", default=None, help="Run id (default: UTC time + random)")
    g.addoption(
        "--vhr-ca-bundle",
        default=None,
        help="PEM CA bundle to trust for an https target instead of the public roots (private CA); verification stays on",
    )
    g.addoption("--vhr-timeout", default=15.0, type=float, help="Per-request timeout in seconds")
    g.addoption(
        "--vhr-retries", default=2, type=int, help="Retries of idempotent requests on transport errors"
    )
    g.addoption(
        "--vhr-cleanup",
        default=True,
        action=argparse_bool(),
        help="Delete what the run created (default yes)",
    )
    g.addoption(
        "--vhr-partial",
        default=False,
        action="store_true",
        help="Running a subset: skip the every-criterion-has-a-test check",
    )
    g.addoption(
        "--vhr-only",
        default=None,
        help="Comma list of areas (API) or criteria (VHR-API-003) to run; implies --vhr-partial",
    )
    g.addoption(
        "--vhr-max-body-mb",
        default=20.0,
        type=float,
        help="Request size limit the target declares (MB); SEC-006 sends more",
    )
    g.addoption(
        "--vhr-rate-limit",
        default=None,
        type=float,
        help="Rate limit the target declares (requests/s); SEC-007 exceeds it",
    )
    g.addoption(
        "--vhr-seed-limit", default=0, type=int, help="Upload only the first N coverage bundles (0 = all)"
    )
    g.addoption(
        "--vhr-catalogue", default=None, help="Criteria catalogue YAML (default suites/criteria.yaml)"
    )
    g.addoption(
        "--vhr-xml",
        default=None,
        help="XML 130 file or folder: MAP criteria compare the target's FHIR with their conversion",
    )
    g.addoption(
        "--vhr-xml-twins",
        default=False,
        action="store_true",
        help="Embedded server: load our conversion first (of --vhr-xml, else of XML twins of the coverage fixtures)",
    )
    g.addoption(
        "--vhr-attestations",
        default=None,
        help="Attestation file (YAML, docs/evidence.md); without it every attestation criterion is missing",
    )
    g.addoption(
        "--vhr-attestation-trust",
        default=[],
        action="append",
        help="Trust list of the reviewers whose signed reviews count (repeatable)",
    )
    g.addoption(
        "--vhr-audit",
        default=None,
        help="The store's audit (written by `vhr run --audit`): the QUAL-2xx criteria are judged on it",
    )
    g.addoption(
        "--vhr-load",
        default=None,
        help='Load run after the suites (VHR-PERF-003/004), JSON: {"duration", "workload", "shape", "users", "slo"}',
    )


def argparse_bool() -> Any:
    import argparse

    return argparse.BooleanOptionalAction


def _seed(value: int | None) -> int:
    if value is not None:
        return int(value)
    from vhr_conformance.seed import default_seed

    return default_seed()


def _subset(config: pytest.Config) -> bool:
    """Running chosen files, node ids or -k/-m selections: not every criterion can have its test."""
    if getattr(config.option, "keyword", "") or getattr(config.option, "markexpr", ""):
        return True
    return any("::" in str(a) or str(a).endswith(".py") for a in config.args)


WIRE_KEY = "vhr_run_config"


class RunConfigCarrier:
    """How `vhr run` hands its one :class:`~vhr_conformance.runconfig.RunConfig` to the plugin
    (``pytest.main(plugins=[RunConfigCarrier(cfg)])``); xdist workers get it through workerinput."""

    def __init__(self, run_config: RunConfig) -> None:
        self.run_config = run_config


def _from_flags(config: pytest.Config) -> RunConfig:
    """A plain `pytest --vhr-target URL …` run: the same object, built from the plugin's flags."""
    ca_bundle = config.getoption("vhr_ca_bundle")
    if ca_bundle:
        from vhr_conformance.client.tls import check_bundle

        ca_bundle = check_bundle(ca_bundle)
    return RunConfig(
        target=str(config.getoption("vhr_target")).rstrip("/"),
        auth=AuthConfig.load(config.getoption("vhr_auth"), config.getoption("vhr_auth_config")),
        ca_bundle=ca_bundle,
        level=config.getoption("vhr_level"),
        only=tuple(x.strip() for x in str(config.getoption("vhr_only") or "").split(",") if x.strip()),
        timeout=float(config.getoption("vhr_timeout")),
        seed=config.getoption("vhr_seed"),
        ig=config.getoption("vhr_ig"),
    )


def run_config_of(config: pytest.Config) -> RunConfig | None:
    """The run's configuration: from `vhr run`, from the xdist controller, else from the flags."""
    wire = getattr(config, "workerinput", {}).get(WIRE_KEY)
    if wire:
        return RunConfig.from_wire(wire)
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, RunConfigCarrier):
            return plugin.run_config
    return _from_flags(config) if config.getoption("vhr_target", None) else None


def _options(config: pytest.Config, rc: RunConfig) -> VhrOptions:
    shared = getattr(config, "workerinput", {})  # xdist workers share the controller's run id and folder
    run_id = shared.get("vhr_run_id") or config.getoption("vhr_run_id") or new_run_id()
    report_dir = Path(
        shared.get("vhr_report_dir") or config.getoption("vhr_report_dir") or Path("reports") / run_id
    )
    target = rc.target or ""
    if not target.startswith(("http://", "https://")):
        raise UserError(
            Text(
                "URL máy chủ phải bắt đầu bằng http:// hoặc https://",
                "Target URL must start with http:// or https://",
            ),
            location="--vhr-target",
        )
    return VhrOptions(
        target=target,
        auth=rc.auth,
        ig=rc.ig,
        level=rc.level,
        seed=_seed(rc.seed),
        report_dir=report_dir,
        run_id=run_id,
        timeout=rc.timeout,
        retries=int(config.getoption("vhr_retries")),
        cleanup=bool(config.getoption("vhr_cleanup")),
        partial=bool(config.getoption("vhr_partial")) or bool(rc.only) or _subset(config),
        catalogue_path=config.getoption("vhr_catalogue"),
        only=list(rc.only),
        max_body_mb=float(config.getoption("vhr_max_body_mb")),
        rate_limit=config.getoption("vhr_rate_limit"),
        seed_limit=int(config.getoption("vhr_seed_limit")),
        ca_bundle=rc.ca_bundle,
        run_config=rc,
        audit=config.getoption("vhr_audit"),
        load=_load_spec(config.getoption("vhr_load")),
    )


def _load_spec(spec: str | None) -> dict[str, Any] | None:
    if not spec:
        return None
    try:
        data = json.loads(spec)
    except ValueError as exc:
        raise UserError(
            Text("--vhr-load không phải JSON: {e}", "--vhr-load is not JSON: {e}").format(e=exc),
            location="--vhr-load",
        ) from None
    if not isinstance(data, dict):
        raise UserError(
            Text("--vhr-load phải là một đối tượng JSON.", "--vhr-load must be a JSON object."),
            location="--vhr-load",
        )
    return data


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "criterion(*ids): VHR criteria this test verifies (VHR-<AREA>-<NNN>)")
    try:
        rc = run_config_of(config)
        if rc is None:
            return
        opts = _options(config, rc)
        catalogue = load_catalogue(opts.catalogue_path)
    except UserError as exc:
        raise pytest.UsageError(exc.render()) from None
    state = VhrState(options=opts, catalogue=catalogue)
    if config.getoption("vhr_attestations") and not hasattr(config, "workerinput"):
        from vhr_conformance.evidence.attestations import for_run

        try:  # the file and its documents go into the report folder, so the evidence bundle holds them
            state.attestations = for_run(
                Path(config.getoption("vhr_attestations")),
                [Path(p) for p in config.getoption("vhr_attestation_trust")],
                catalogue.criteria,
                opts.report_dir,
            )
        except UserError as exc:
            raise pytest.UsageError(exc.render()) from None
    config.stash[STATE] = state
    _STATE_BY_RUN["current"] = state
    opts.report_dir.mkdir(parents=True, exist_ok=True)
    worker = getattr(config, "workerinput", {}).get("workerid")
    log_name = f"exchanges-{worker}.ndjson" if worker else "exchanges.ndjson"
    state.evidence.sink = (opts.report_dir / log_name).open("w", encoding="utf-8")
    # Runs before pytest's junitxml and allure-pytest configure, which then write into the report folder.
    if hasattr(config.option, "xmlpath") and not config.option.xmlpath:
        config.option.xmlpath = str(opts.report_dir / "junit.xml")
    if hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        config.option.allure_report_dir = str(opts.report_dir / "allure-results")
        config.option.clean_alluredir = not hasattr(config, "workerinput")


def pytest_configure_node(node: Any) -> None:
    """xdist controller → worker: one run id and one report folder for the whole run."""
    state = get_state(node.config)
    if state is not None:
        node.workerinput["vhr_run_id"] = state.options.run_id
        node.workerinput["vhr_report_dir"] = str(state.options.report_dir)
        node.workerinput[WIRE_KEY] = state.options.run_config.to_wire()


# ----------------------------------------------------------------------------- collection
def item_criteria(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for mark in item.iter_markers(MARKER):
        ids.extend(str(a) for a in mark.args)
    return list(dict.fromkeys(ids))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    state = get_state(config)
    if state is None:
        return
    cat = state.catalogue
    problems: list[str] = []
    covered: set[str] = set()
    for item in items:
        ids = item_criteria(item)
        if not ids:
            problems.append(f"{item.nodeid}: không gắn tiêu chí / names no criterion")
        for cid in ids:
            if cid not in cat.criteria:
                problems.append(f"{item.nodeid}: tiêu chí không có trong danh mục / unknown criterion {cid}")
            covered.add(cid)
    if not state.options.partial:
        # Sender criteria are verified by `vhr listen` from what a client sends, not by these suites.
        missing = [c.id for c in cat.automated() if c.actor == "server" and c.id not in covered]
        if missing:
            problems.append(
                "tiêu chí tự động chưa có kiểm thử / automated criteria without a test: " + ", ".join(missing)
            )
    if problems:
        raise pytest.UsageError(
            "VHR catalogue check failed / kiểm tra danh mục thất bại:\n  " + "\n  ".join(problems)
        )
    keep, drop = [], []
    only = set(state.options.only)
    for item in items:
        ids = item_criteria(item)
        levels = [cat.criteria[c].level for c in ids]
        selected = not only or any(c in only or cat.criteria[c].area in only for c in ids)
        # a criterion judged on an input the run was not given (--vhr-audit) is out of its scope
        selected = selected and any(
            not cat.criteria[c].input or state.options.public().get(cat.criteria[c].input) for c in ids
        )
        if selected and any(level_in_scope(lv, state.options.level) for lv in levels):
            keep.append(item)
            for cid in ids:  # Allure labels: epic = area, feature = criterion, severity from the level
                crit = cat.criteria[cid]
                item.add_marker(pytest.mark.allure_label(cat.areas[crit.area].both(), label_type="epic"))
                item.add_marker(pytest.mark.allure_label(f"{cid} {crit.title.en}", label_type="feature"))
            top = min(levels, key=LEVELS.index)
            item.add_marker(
                pytest.mark.allure_label(
                    {"SHALL": "critical", "SHOULD": "normal", "MAY": "minor"}[top], label_type="severity"
                )
            )
            item.user_properties.append(("criteria", " ".join(ids)))
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    # Performance criteria summarise the exchanges of the whole run: keep them last.
    items.sort(key=lambda it: any(c.startswith("VHR-PERF-") for c in item_criteria(it)))
    for item in items:
        item.user_properties.append(("vhr_nodeid", item.nodeid))
    state.planned = [(it.nodeid, it.name, item_criteria(it)) for it in items]


# ----------------------------------------------------------------------------- running
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    state = get_state(item.config)
    if state is not None:
        state.evidence.take()
        state.evidence.context = item.nodeid


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    state = get_state(item.config)
    if state is not None:  # Allure shows the criterion and its bilingual title, not the Python name
        try:
            import allure

            allure.dynamic.title(case_title(state.catalogue, item_criteria(item), item.name))
        except Exception:  # allure-pytest absent or not recording: the title is cosmetic
            pass
    yield


def classify(excinfo: pytest.ExceptionInfo[BaseException] | None, outcome: str) -> str:
    """The outcome-model state of a case: a broken requirement (`CriterionFailed`, any
    AssertionError) fails, `NotApplicable` does not apply, `NotTested` and any other skip are not
    tested, and everything else (InfrastructureError, HarnessError, a bug) is the harness's error."""
    if outcome == "passed" or excinfo is None:
        return State.PASS
    value = excinfo.value
    if isinstance(value, NotApplicable):
        return State.NOT_APPLICABLE
    if isinstance(value, Skipped) or outcome == "skipped":
        return State.NOT_TESTED
    if isinstance(value, AssertionError) and not isinstance(value, InfrastructureError):
        return State.FAIL
    return State.ERROR


def _message(excinfo: pytest.ExceptionInfo[BaseException] | None, state: str) -> str:
    """The reason shown in reports, with any token or secret removed."""
    from vhr_conformance.client import redact_text

    return redact_text(_raw_message(excinfo, state))


def _note(item: pytest.Item) -> str:
    """What a case that did not fail says of itself (`record_property("vhr_note", text)`), e.g. the measured values."""
    from vhr_conformance.client import redact_text

    return redact_text("\n".join(str(v) for k, v in item.user_properties if k == "vhr_note"))[:4000]


def _raw_message(excinfo: pytest.ExceptionInfo[BaseException] | None, state: str) -> str:
    if excinfo is None:
        return ""
    value = excinfo.value
    text_of = getattr(value, "text", None)
    if isinstance(value, NotTested | NotApplicable | CriterionFailed) and isinstance(text_of, Text):
        return text_of.both()[:4000]
    if state in (State.NOT_TESTED, State.NOT_APPLICABLE):
        return str(getattr(value, "msg", value))
    if state == State.FAIL:
        text = str(value).strip() or excinfo.exconly()
        return text[:4000]
    return f"{type(value).__name__}: {value}"[:4000]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    state = get_state(item.config)
    if state is None:
        return
    rep: pytest.TestReport = outcome.get_result()
    if rep.when == "call" or (rep.when == "setup" and rep.outcome != "passed"):
        result = str(classify(call.excinfo, rep.outcome))
        exchanges = state.evidence.take()
        evidence = (
            [e.to_dict() for e in exchanges[-EVIDENCE_PER_FAILURE:]]
            if result in (State.FAIL, State.ERROR)
            else []
        )
        case = CaseResult(
            nodeid=item.nodeid,
            name=item.name,
            criteria=item_criteria(item),
            state=result,
            message=_message(call.excinfo, result) or _note(item),
            duration_s=round(rep.duration, 4),
            evidence=evidence,
        )
        # Travels with the report, so an xdist controller receives it too (reports are serialised with their attributes).
        rep.vhr_case = asdict(case)  # type: ignore[attr-defined]
        rep.user_properties.append(("vhr_state", result))
        if evidence:
            _allure_attach(evidence)
    elif rep.when == "teardown" and rep.outcome == "failed":
        rep.vhr_teardown_error = _message(call.excinfo, "error")  # type: ignore[attr-defined]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    state = _STATE_BY_RUN.get("current")  # this hook gets no config; one active VHR run per process
    if state is None:
        return
    data = getattr(report, "vhr_case", None)
    if isinstance(data, dict):
        state.cases[report.nodeid] = CaseResult(**data)
    teardown = getattr(report, "vhr_teardown_error", None)
    if teardown and report.nodeid in state.cases and state.cases[report.nodeid].state == State.PASS:
        # a failing clean-up is the harness's problem, not the vendor's
        state.cases[report.nodeid].state = State.ERROR
        state.cases[report.nodeid].message = teardown


def _allure_attach(evidence: list[dict[str, Any]]) -> None:
    import allure
    import orjson

    for i, ex in enumerate(evidence, 1):
        allure.attach(
            orjson.dumps(ex, option=orjson.OPT_INDENT_2).decode(),
            name=f"exchange {i}: {ex.get('method')} {ex.get('status')}",
            attachment_type=allure.attachment_type.JSON,
        )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = get_state(session.config)
    if state is None:
        return
    if state.evidence.sink is not None:
        state.evidence.sink.close()
        state.evidence.sink = None
    if session.config.option.collectonly:
        return
    worker = getattr(session.config, "workerinput", None)
    if worker is not None:  # an xdist worker hands its session-level facts to the controller through a file
        state.options.report_dir.mkdir(parents=True, exist_ok=True)
        (state.options.report_dir / f".worker-{worker.get('workerid', 'w')}.json").write_text(
            json.dumps(
                {
                    "cleanup_leftovers": state.cleanup_leftovers,
                    "pending_cleanup": state.pending_cleanup,
                    "infrastructure_retries": state.evidence.infrastructure_retries,
                    "ig": state.ig_info,
                }
            ),
            encoding="utf-8",
        )
        return
    pending: list[str] = []
    for part in sorted(state.options.report_dir.glob(".worker-*.json")):
        data = json.loads(part.read_text(encoding="utf-8"))
        state.cleanup_leftovers.extend(data.get("cleanup_leftovers", []))
        pending.extend(data.get("pending_cleanup", []))
        state.evidence.infrastructure_retries += int(data.get("infrastructure_retries", 0))
        state.ig_info = state.ig_info or data.get("ig") or {}
        part.unlink()
    if pending:
        state.cleanup_leftovers.extend(_controller_cleanup(state, pending))
    if not state.ig_info:
        try:
            from vhr_conformance.igmodel import load_ig

            state.ig_info = load_ig(state.options.ig).info()
        except UserError:
            pass
    from vhr_conformance.reports.writer import write_reports

    opts = state.options
    if exitstatus == pytest.ExitCode.INTERRUPTED and not state.interrupted:
        state.interrupted = Text("Ngắt bằng Ctrl-C (SIGINT)", "Interrupted by Ctrl-C (SIGINT)").both()
    if state.interrupted:
        _mark_not_run(state)
    run = RunResult(
        run_id=opts.run_id,
        target=opts.target,
        started=state.started,
        finished=now_iso(),
        level=opts.level,
        seed=opts.seed,
        options=opts.public(),
        ig=state.ig_info or {"id": None, "version": None, "sha256": None},
        harness_version=__version__,
        cases=list(state.cases.values()),
        catalogue=state.catalogue,
        cleanup_leftovers=state.cleanup_leftovers,
        infrastructure_retries=state.evidence.infrastructure_retries,
        only=opts.only,
        interrupted=state.interrupted,
        attestations=state.attestations,
    )
    run.aggregate()
    # trylast: pytest's JUnit and Allure writers are done, so they can be relabelled and the manifest hash them.
    xmlpath = getattr(session.config.option, "xmlpath", None)
    if xmlpath and Path(xmlpath).is_file():
        relabel_junit(Path(xmlpath), run)
    allure_dir = getattr(session.config.option, "allure_report_dir", None)
    if allure_dir and Path(allure_dir).is_dir():
        _allure_environment(Path(allure_dir), run)
    state.run = run
    state.report_paths = write_reports(run, opts.report_dir)
    # pytest's own codes stay for usage and internal errors; "no tests collected" (5, which would read
    # as INCOMPLETE) is the run's ERROR.
    if exitstatus in (0, 1, pytest.ExitCode.NO_TESTS_COLLECTED) or state.interrupted:
        session.exitstatus = run.exit_code()


def _mark_not_run(state: VhrState) -> None:
    """An interrupted run: every planned case that never reported is an `error` (never judged)."""
    why = Text("Không chạy: lượt chạy bị ngắt ({r}).", "Not run: the run was interrupted ({r}).").format(
        r=state.interrupted
    )
    for nodeid, name, criteria in state.planned:
        if nodeid not in state.cases:
            state.cases[nodeid] = CaseResult(nodeid, name, criteria, State.ERROR, why.both())


def case_title(catalogue: Catalogue, criteria: list[str], python_name: str) -> str:
    """`VHR-CAP-003 Tiêu đề / Title [params]`: what JUnit and Allure readers see instead of a Python name."""
    if not criteria:
        return python_name
    first = catalogue.criteria.get(criteria[0])
    title = f" {first.title.vi} / {first.title.en}" if first else ""
    more = f" (+{', '.join(criteria[1:])})" if len(criteria) > 1 else ""
    params = python_name[python_name.index("[") :] if "[" in python_name else ""
    return f"{criteria[0]}{title}{more} {params}".rstrip()


def relabel_junit(path: Path, run: RunResult) -> None:
    """Name each testcase by its criterion and bilingual title (the Python name stays as a property)
    and put the run verdict and scope on the test suite, so a CI dashboard shows what a ministry reads."""
    try:
        tree = ET.parse(path)
    except ET.ParseError:
        return
    root = tree.getroot()
    areas = run.catalogue.criteria
    for suite in root.iter("testsuite"):
        suite.set("name", "VHR conformance" + (" (phạm vi một phần / partial scope)" if run.partial else ""))
        props = suite.find("properties")
        if props is None:
            props = ET.Element("properties")
            suite.insert(0, props)
        scope = run.scope_text()
        facts = [
            ("vhr.verdict", str(run.verdict())),
            ("vhr.verdictText", run.verdict_text().both()),
            ("vhr.scope", scope.both() if scope else "toàn bộ / full"),
        ]
        if run.interrupted:
            facts.append(("vhr.interrupted", run.interrupted))
        for name, value in facts:
            ET.SubElement(props, "property", name=name, value=value)
        for case in suite.iter("testcase"):
            cprops = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
            criteria = cprops.get("criteria", "").split()
            if not criteria:
                continue
            python = f"{case.get('classname', '')}::{case.get('name', '')}"
            case.set("name", case_title(run.catalogue, criteria, case.get("name", "")))
            crit = areas.get(criteria[0])
            case.set("classname", f"VHR.{crit.area}" if crit else "VHR")
            holder = case.find("properties")
            if holder is not None:
                ET.SubElement(holder, "property", name="python", value=python)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _allure_environment(folder: Path, run: RunResult) -> None:
    """Allure shows `environment.properties` on its overview: the verdict and the scope go there."""
    scope = run.scope_text()
    lines = [
        f"verdict={run.verdict_text().both()}",
        f"scope={scope.both() if scope else 'toàn bộ / full'}",
        f"target={run.target}",
        f"run={run.run_id}",
    ]
    if run.interrupted:
        lines.append(f"interrupted={run.interrupted}")
    ig = run.ig or {}
    lines += [
        f"ig={ig.get('id')}#{ig.get('version')}",
        f"seed={run.seed}",
        f"harness={run.harness_version}",
    ]
    (folder / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Executor: who ran it; categories: a vendor's failure is not the harness's error, nor a gap in the run.
    executor = {"name": "vhr-conformance", "type": "vhr", "buildName": run.run_id, "reportName": "VHR"}
    (folder / "executor.json").write_text(json.dumps(executor, ensure_ascii=False), encoding="utf-8")
    categories = [
        {
            "name": "Không đạt: lỗi của hệ thống được kiểm thử / Failed: the target broke a requirement",
            "matchedStatuses": ["failed"],
        },
        {
            "name": "Lỗi bộ kiểm thử hoặc hạ tầng / Harness or infrastructure error",
            "matchedStatuses": ["broken"],
        },
        {
            "name": "Chưa kiểm thử hoặc không áp dụng / Not tested or not applicable",
            "matchedStatuses": ["skipped"],
        },
    ]
    (folder / "categories.json").write_text(
        json.dumps(categories, ensure_ascii=False, indent=2), encoding="utf-8"
    )


def _controller_cleanup(state: VhrState, refs: list[str]) -> list[str]:
    """Delete what the xdist workers created, once all of them are done."""
    if not state.options.cleanup:
        return [f"{r}: clean-up disabled / đã tắt dọn dẹp" for r in refs]
    from vhr_conformance.client import FhirClient, TokenProvider
    from vhr_conformance.seed import Tracker

    opts = state.options
    tokens = TokenProvider(opts.auth, discover_base=opts.target, timeout=opts.timeout, verify=opts.verify())
    with FhirClient(
        opts.target, tokens=tokens, timeout=opts.timeout, retries=opts.retries, verify=opts.verify()
    ) as client:
        return Tracker(list(dict.fromkeys(refs))).cleanup(client)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _STATE_BY_RUN.get("current") is get_state(config):
        _STATE_BY_RUN.pop("current", None)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = get_state(config)
    if state is None or state.run is None:
        return
    tr = terminalreporter
    tr.section("VHR conformance / kiểm thử tuân thủ VHR")
    for line in summary_lines(state.run):
        tr.write_line(line)
    tr.write_line(f"report / báo cáo: {state.report_paths.get('html')}")


def summary_lines(run: RunResult) -> list[str]:
    """The plain-text summary every console shows: counts per level, the verdict (with its scope),
    and in words what was not judged and what the user can do."""
    s = run.summary()
    names = {st: STATE_TEXT[State(st)].en.lower() for st in (*[str(x) for x in State],)}
    lines = []
    for level in LEVELS:
        row = s[level]
        rate = "—" if row["pass_rate"] is None else f"{row['pass_rate'] * 100:.1f}%"
        counts = "  ".join(f"{names[st]} {row[st]:3}" for st in names)
        lines.append(f"{level:6} criteria {row['total']:3}  {counts}  pass rate {rate}")
    text = run.verdict_text()
    lines.append(f"Kết luận / verdict: {text.vi} / {text.en} (exit {run.exit_code()})")
    scope = run.scope_text()
    if scope:
        lines += [scope.vi, scope.en]
    if run.interrupted:
        lines.append(f"Bị ngắt / interrupted: {run.interrupted}")
    failed = [r for r in run.criteria if r.state == State.FAIL]
    if failed:
        lines.append("Không đạt / failed:")
        lines += [
            f"  {r.criterion.id} [{r.criterion.level}] {r.criterion.title.vi} / {r.criterion.title.en}"
            for r in failed
        ]
    gaps = run.not_tested()
    if gaps:
        lines.append("Chưa được đánh giá và cách bổ sung / not judged, and what you can do:")
        for r in gaps:
            label = STATE_TEXT[State(r.state)]
            lines.append(
                f"  {r.criterion.id} [{r.criterion.level}, {label.vi} / {label.en}] "
                f"{r.criterion.title.vi} / {r.criterion.title.en}"
            )
            lines += [f"    → {m}" for m in r.not_tested_reasons()[:3]]
    return lines
