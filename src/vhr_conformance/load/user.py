"""The VHR Locust user and the hooks that prepare each Locust process.

Imported by ``loadtests/locustfile.py`` (so ``locust -f loadtests/locustfile.py`` works on its
own) and by the engine behind ``vhr load``. Importing this module imports Locust, which
monkey-patches the standard library with gevent: never import it from the CLI process.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import gevent
import gevent.ssl
import orjson
from gevent.queue import Full, Queue
from locust import FastHttpUser, events, task
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from vhr_conformance.load import pool
from vhr_conformance.load.config import OPERATIONS, Workload, load_workload
from vhr_conformance.names import SID_CCCD

FHIR_JSON = "application/fhir+json"
TOKEN_ENV = "VHR_TOKEN"


class InvalidResource(Exception):
    """A sampled response that our validator rejects: counted as a failure of its request group."""


class RedirectRefused(Exception):
    """The target answered with a redirect; load is only ever sent to the given origin."""


@dataclass
class ValidationCounters:
    sampled: int = 0
    validated: int = 0
    invalid: int = 0
    dropped: int = 0  # queue full: the validator could not keep up
    unavailable: str = ""
    examples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "sampled": self.sampled,
            "validated": self.validated,
            "invalid": self.invalid,
            "dropped": self.dropped,
            "unavailable": self.unavailable,
            "examples": self.examples[:5],
        }


class Sampler:
    """Sends a sample of response bodies to a validator process, off the requests' timing."""

    def __init__(self, environment: Environment, rate: float, queue_size: int) -> None:
        self.environment = environment
        self.rate = rate
        self.queue: Queue = Queue(maxsize=queue_size)
        self.counters = ValidationCounters()
        self._proc: Any = None
        self._greenlet = gevent.spawn(self._run)

    def offer(self, method: str, group: str, body: bytes) -> None:
        if self.rate <= 0 or random.random() >= self.rate or self.counters.unavailable:
            return
        self.counters.sampled += 1
        try:
            self.queue.put_nowait((method, group, body))
        except Full:
            self.counters.dropped += 1

    def _run(self) -> None:
        from gevent import subprocess as gsubprocess

        try:
            self._proc = gsubprocess.Popen(
                [sys.executable, "-m", "vhr_conformance.load.validate_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            hello = json.loads(self._proc.stdout.readline() or b'{"ready": false, "reason": "no answer"}')
        except (OSError, ValueError) as exc:
            hello = {"ready": False, "reason": str(exc)}
        if not hello.get("ready"):
            self.counters.unavailable = hello.get("reason", "unavailable")
            return
        while True:
            method, group, body = self.queue.get()
            try:
                self._proc.stdin.write(b"%d\n" % len(body) + body)
                self._proc.stdin.flush()
                answer = json.loads(self._proc.stdout.readline())
            except (OSError, ValueError):
                self.counters.unavailable = "validator process ended"
                return
            self.counters.validated += 1
            if not answer.get("ok", True):
                self.counters.invalid += 1
                message = f"{group}: {answer.get('errors')} error(s), first: {answer.get('first')}"
                if len(self.counters.examples) < 5:
                    self.counters.examples.append(message)
                # The request was counted as a success: add the failure to the same group.
                self.environment.stats.log_error(
                    method, group, InvalidResource(answer.get("first", "invalid"))
                )

    def close(self) -> None:
        self._greenlet.kill(block=False)
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=2)
            except Exception:
                self._proc.kill()


@dataclass
class Runtime:
    """Everything a user needs, built once per Locust process before users start."""

    workload: Workload
    operations: list[str]
    weights: list[float]
    cccds: list[str]
    submissions: list[bytes]
    headers: dict[str, str]
    post_headers: dict[str, str]
    sampler: Sampler | None
    cum_weights: list[float]
    lookup_paths: dict[str, str]  # CCCD → /Patient?identifier=… (built once)
    encounter_dates: str  # "&date=ge…&date=le…" fixed for the run
    observation_filter: str
    patient_ids: dict[str, str | None] = field(default_factory=dict)
    next_submission: int = 0


RUNTIME: Runtime | None = None


class TokenRefresher:
    """OAuth tokens for one Locust process, swapped into the shared request headers before expiry.

    Every user of the process sends the same header dicts, so replacing the value there renews
    them all at once; a failed renewal keeps the current token and tries again shortly.
    """

    RETRY_S = 2.0

    def __init__(self, provider: Any) -> None:
        self.provider = provider
        self.targets: list[dict[str, str]] = []
        self.renewals = 0

    @classmethod
    def from_env(cls, target: str) -> TokenRefresher:
        from vhr_conformance.client.auth import AuthConfig, TokenProvider

        mode = os.environ.get("VHR_LOAD_AUTH_MODE", "client-credentials")
        config = AuthConfig.load(mode, os.environ.get("VHR_LOAD_AUTH_CONFIG") or None)
        return cls(TokenProvider(config, discover_base=target.rstrip("/") or None))

    def header(self) -> str:
        token = self.provider.token()
        if not token:
            raise RuntimeError("the token endpoint returned no access token")
        return f"Bearer {token}"

    def start(self, targets: list[dict[str, str]]) -> None:
        self.targets = targets
        gevent.spawn(self._loop)

    def _loop(self) -> None:
        while True:
            remaining = self.provider.expires_at - time.time()
            gevent.sleep(max(0.5, min(30.0, remaining / 2)))
            try:
                value = self.header()  # the provider renews when less than its margin is left
            except Exception as exc:  # keep the current token; the next try may succeed
                print(f"vhr load: token renewal failed ({type(exc).__name__}: {exc})", file=sys.stderr)
                gevent.sleep(self.RETRY_S)
                continue
            for target in self.targets:
                if target.get("Authorization") != value:
                    target["Authorization"] = value
                    self.renewals += 1


WORKER_VALIDATION: dict[str, dict[str, Any]] = {}  # on a master: worker id → its latest counters


@events.init_command_line_parser.add_listener
def _options(parser: LocustArgumentParser) -> None:
    parser.add_argument(
        "--vhr-workload",
        default=os.environ.get("VHR_LOAD_WORKLOAD", "standard"),
        help="Workload name in loadtests/workloads or a YAML path",
    )
    parser.add_argument(
        "--vhr-auth",
        default=os.environ.get("VHR_LOAD_AUTH", "none"),
        choices=["none", "bearer", "oauth"],
        help=f"Authentication: none, bearer with the token from ${TOKEN_ENV}, or oauth "
        "(client-credentials / smart-backend from $VHR_LOAD_AUTH_MODE, tokens refreshed before expiry)",
    )
    parser.add_argument(
        "--vhr-validate-sample",
        type=float,
        default=-1.0,
        help="Share of responses validated (0-1); -1 = the workload's value",
    )
    # Filled by `vhr load` so that workers on other machines need no files: the workload and
    # the CCCD pool travel from the master with the spawn message.
    parser.add_argument("--vhr-workload-json", default="", include_in_web_ui=False, help="(internal)")
    parser.add_argument("--vhr-cccds-json", default="", include_in_web_ui=False, help="(internal)")


def _opt(environment: Environment, name: str, default: Any) -> Any:
    opts = environment.parsed_options
    return getattr(opts, name, default) if opts is not None else default


def build_runtime(environment: Environment) -> Runtime:
    """Prepare the pools, headers and validation sampler for this process."""
    raw = _opt(environment, "vhr_workload_json", "")
    workload = (
        Workload.from_json(json.loads(raw))
        if raw
        else load_workload(_opt(environment, "vhr_workload", "standard"))
    )
    bundles: list[dict[str, Any]] = []
    cccds_raw = _opt(environment, "vhr_cccds_json", "")
    if cccds_raw:
        cccds = json.loads(cccds_raw)
    else:
        bundles = pool.fixture_bundles()
        cccds = pool.lookup_pool(bundles)
    if not bundles:
        bundles = pool.fixture_bundles()
    submissions = pool.submission_pool(
        workload.pool_size, workload.pool_seed, bundles, run_id=os.environ.get("VHR_LOAD_RUN_ID") or None
    )
    headers = {"Accept": FHIR_JSON}
    refresher: TokenRefresher | None = None
    auth_mode = _opt(environment, "vhr_auth", "none")
    if auth_mode == "bearer":
        token = os.environ.get(TOKEN_ENV, "")
        if not token:
            raise RuntimeError(f"--vhr-auth bearer needs the token in ${TOKEN_ENV}")
        headers["Authorization"] = f"Bearer {token}"
    elif auth_mode == "oauth":
        refresher = TokenRefresher.from_env(environment.host or os.environ.get("VHR_LOAD_AUTH_TARGET", ""))
        headers["Authorization"] = refresher.header()
    rate = float(_opt(environment, "vhr_validate_sample", -1.0))
    rate = workload.validate_sample if rate < 0 else rate
    sampler = Sampler(environment, rate, workload.validate_queue) if rate > 0 else None
    ops = [op for op in OPERATIONS if workload.weights.get(op, 0) > 0]
    if not submissions:
        ops = [op for op in ops if op != "submit-transaction"]
    if not cccds:
        ops = [op for op in ops if op == "submit-transaction"]
    if not ops:
        raise RuntimeError("no operation can run: the fixture pools are empty")
    weights = [workload.weights[op] for op in ops]
    today = date.today()
    start = today - timedelta(days=workload.encounter_window_days)
    category = workload.observation_category
    post_headers = {**headers, "Content-Type": FHIR_JSON}
    if refresher is not None:
        refresher.start([headers, post_headers])
    return Runtime(
        workload=workload,
        operations=ops,
        weights=weights,
        cccds=cccds,
        submissions=submissions,
        headers=headers,
        post_headers=post_headers,
        sampler=sampler,
        cum_weights=list(itertools.accumulate(weights)),
        lookup_paths={c: "/Patient?identifier=" + quote(f"{SID_CCCD}|{c}", safe="") for c in cccds},
        encounter_dates=f"&date=ge{start.isoformat()}&date=le{today.isoformat()}",
        observation_filter=f"&category={quote(category, safe='')}" if category else "",
    )


PREPARE_OPTIONS = ("vhr_workload", "vhr_workload_json", "vhr_cccds_json", "vhr_auth", "vhr_validate_sample")
PREPARED: dict[str, dict[str, Any]] = {}  # on a master: worker id → {"ok": bool, "error": str}
_runtime_key = ""


def _key(environment: Environment) -> str:
    return json.dumps([environment.host, *(str(_opt(environment, o, "")) for o in PREPARE_OPTIONS)])


def prepare(environment: Environment) -> None:
    """Build this process's runtime now (pools, validator process), before the measured run.

    ``test_start`` reuses it when the options did not change, so nothing is built while the
    clock runs."""
    global RUNTIME, _runtime_key
    key = _key(environment)
    if RUNTIME is not None and key == _runtime_key:
        return
    if RUNTIME is not None and RUNTIME.sampler is not None:
        RUNTIME.sampler.close()
    RUNTIME = build_runtime(environment)
    _runtime_key = key


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        return  # the master runs no users
    prepare(environment)


@events.init.add_listener
def _on_init(environment: Environment, runner: Any = None, **_: Any) -> None:
    """Distributed runs: the master sends ``vhr_prepare`` with the run's options before it starts
    the clock; each worker builds its runtime and answers ``vhr_prepared``."""
    if isinstance(runner, WorkerRunner):

        def on_prepare(environment: Environment, msg: Any, **_: Any) -> None:
            environment.host = msg.data.get("host") or environment.host
            if environment.parsed_options is not None:
                vars(environment.parsed_options).update(msg.data.get("options", {}))
            try:
                prepare(environment)
                answer = {"ok": True, "error": ""}
            except Exception as exc:  # reported to the master, which fails the run as a harness error
                answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            runner.send_message("vhr_prepared", answer)

        runner.register_message("vhr_prepare", on_prepare)
    elif isinstance(runner, MasterRunner):

        def on_prepared(environment: Environment, msg: Any, **_: Any) -> None:
            PREPARED[msg.node_id] = msg.data

        runner.register_message("vhr_prepared", on_prepared)


def prepare_message(environment: Environment) -> dict[str, Any]:
    return {"host": environment.host, "options": {o: _opt(environment, o, "") for o in PREPARE_OPTIONS}}


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_: Any) -> None:
    if (
        RUNTIME is not None
        and RUNTIME.sampler is not None
        and not isinstance(environment.runner, WorkerRunner)
    ):
        # Locally, give queued samples a moment to finish so the summary counts them.
        deadline = time.monotonic() + 2.0
        while not RUNTIME.sampler.queue.empty() and time.monotonic() < deadline:
            gevent.sleep(0.05)


@events.report_to_master.add_listener
def _report(client_id: str, data: dict[str, Any]) -> None:
    if RUNTIME is not None and RUNTIME.sampler is not None:
        data["vhr_validation"] = RUNTIME.sampler.counters.to_json()


@events.worker_report.add_listener
def _worker_report(client_id: str, data: dict[str, Any]) -> None:
    if "vhr_validation" in data:
        WORKER_VALIDATION[client_id] = data["vhr_validation"]


def validation_summary() -> dict[str, Any]:
    """Counters of this process, or on a master the sum of the latest report of each worker."""
    if WORKER_VALIDATION:
        total: dict[str, Any] = {
            "sampled": 0,
            "validated": 0,
            "invalid": 0,
            "dropped": 0,
            "unavailable": "",
            "examples": [],
        }
        for report in WORKER_VALIDATION.values():
            for key in ("sampled", "validated", "invalid", "dropped"):
                total[key] += report.get(key, 0)
            total["unavailable"] = total["unavailable"] or report.get("unavailable", "")
            total["examples"] = (total["examples"] + report.get("examples", []))[:5]
        return total
    if RUNTIME is not None and RUNTIME.sampler is not None:
        return RUNTIME.sampler.counters.to_json()
    return ValidationCounters(unavailable="validation disabled (sample 0)").to_json()


def verified_ssl_context(cafile: str | None = None) -> Any:
    """Verify the target's certificate as the suites do: the CA bundle named by ``VHR_CA_BUNDLE``
    (a vendor's private CA, or the embedded server's throwaway one) instead of the public roots
    when set; TLS 1.2 at least. Locust's FastHttpUser does not verify by default."""
    ctx = gevent.ssl.create_default_context(cafile=os.environ.get("VHR_CA_BUNDLE") or cafile)
    ctx.minimum_version = gevent.ssl.TLSVersion.TLSv1_2
    return ctx


class VhrUser(FastHttpUser):
    """A mix of VHR traffic: facility submissions, CCCD lookups, health records and searches.

    One task draws the operation from the workload's weights, so the mix is data, not code.
    Requests are named by operation so statistics group by what the request does, not its URL.
    """

    # Redirects are never followed (geventhttpclient returns the 3xx as is): load goes only to
    # the origin we were given, and a redirect is counted as a failure of its request.
    max_redirects = 0
    insecure = False
    ssl_context_factory = staticmethod(verified_ssl_context)
    network_timeout = 30.0
    connection_timeout = 10.0

    def wait_time(self) -> float:
        rt = RUNTIME
        return random.uniform(rt.workload.think_min, rt.workload.think_max) if rt else 1.0

    @task
    def one_operation(self) -> None:
        rt = RUNTIME
        if rt is None:
            return
        op = random.choices(rt.operations, cum_weights=rt.cum_weights)[0]
        OPERATION_METHODS[op](self, rt)

    # -- the operations ------------------------------------------------------------------
    # The hot path avoids catch_response (it copies every response object): Locust already
    # records >= 400 and transport errors as failures; a redirect or an invalid body is added
    # afterwards as an error on the same request group.

    def _call(
        self, rt: Runtime, method: str, group: str, path: str, body: bytes | None = None
    ) -> bytes | None:
        resp = (
            self.client.request(  # Locust's annotation omits bytes, which FastHttpSession sends as they are
                method,
                path,
                data=body,  # type: ignore[arg-type]
                name=group,
                headers=rt.headers if body is None else rt.post_headers,
            )
        )
        status = resp.status_code
        if status != 200:
            if 300 <= status < 400:
                where = resp.headers.get("location", "") if resp.headers else ""
                self.environment.stats.log_error(
                    method, group, RedirectRefused(f"redirect {status} to {where!r} not followed")
                )
            return None
        content = resp.content or b""
        if rt.sampler is not None:
            rt.sampler.offer(method, group, content)
        return content

    def submit_transaction(self, rt: Runtime) -> None:
        body = rt.submissions[rt.next_submission % len(rt.submissions)]
        rt.next_submission += 1
        self._call(rt, "POST", "submit-transaction", "/", body)

    def _patient(self, rt: Runtime) -> str | None:
        """Query-string-ready id of a random pool patient, looked up by CCCD once per process."""
        cccd = random.choice(rt.cccds)
        if cccd not in rt.patient_ids:
            self.patient_lookup(rt, cccd)
        return rt.patient_ids.get(cccd)

    def patient_lookup(self, rt: Runtime, cccd: str | None = None) -> None:
        cccd = cccd or random.choice(rt.cccds)
        content = self._call(rt, "GET", "patient-lookup", rt.lookup_paths[cccd])
        if content is not None and cccd not in rt.patient_ids:
            try:
                entries = orjson.loads(content).get("entry") or []
                pid = next(
                    (
                        e["resource"]["id"]
                        for e in entries
                        if e.get("resource", {}).get("resourceType") == "Patient"
                    ),
                    None,
                )
            except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError):
                pid = None
            rt.patient_ids[cccd] = quote(pid, safe="") if pid else None

    def patient_everything(self, rt: Runtime) -> None:
        if pid := self._patient(rt):
            self._call(rt, "GET", "patient-everything", f"/Patient/{pid}/$everything")

    def encounter_search(self, rt: Runtime) -> None:
        if pid := self._patient(rt):
            self._call(rt, "GET", "encounter-search", f"/Encounter?patient={pid}{rt.encounter_dates}")

    def observation_search(self, rt: Runtime) -> None:
        if pid := self._patient(rt):
            self._call(rt, "GET", "observation-search", f"/Observation?patient={pid}{rt.observation_filter}")


OPERATION_METHODS = {
    "submit-transaction": VhrUser.submit_transaction,
    "patient-lookup": VhrUser.patient_lookup,
    "patient-everything": VhrUser.patient_everything,
    "encounter-search": VhrUser.encounter_search,
    "observation-search": VhrUser.observation_search,
}
