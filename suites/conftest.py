"""Shared fixtures of the VHR suites and their parametrisation from the IG in use.

Parameters come from the IG's CapabilityStatement (resources, interactions, search parameters with
expectations) and StructureDefinitions (profiles, must-support), and from the generator's negative
cases, so another IG gives other tests. Each test function names its own criterion.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from vhr_conformance.client import FhirClient, TokenProvider
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.igmodel import IgModel, load_ig
from vhr_conformance.outcome import CriterionFailed, NotTested, not_tested
from vhr_conformance.pytest_plugin import VhrState, get_state
from vhr_conformance.runner.checks import search_all
from vhr_conformance.seed import (
    SeedData,
    Tracker,
    coverage_bundles,
    document_bundles,
    load_negative_cases,
    upload,
    upload_documents,
)


def _ig_for(config: pytest.Config) -> IgModel | None:
    try:
        return load_ig(config.getoption("vhr_ig", None))
    except UserError as exc:
        if get_state(config) is not None:
            raise pytest.UsageError(exc.render()) from None
        return None


def _marker_args(metafunc: pytest.Metafunc, name: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    marker = metafunc.definition.get_closest_marker(name)
    return (marker.args, dict(marker.kwargs)) if marker else ((), {})


def _levels(kwargs: dict[str, Any]) -> tuple[str, ...]:
    """The IG expectations a test takes (`levels=("SHALL",)`); every level when not given."""
    return tuple(kwargs.get("levels", ("SHALL", "SHOULD", "MAY")))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise from the IG. The criterion is always the test function's own marker: the
    selection markers (`interaction`, `search_params`, ...) only say which part of the IG a test
    covers, so no case is mapped to a criterion here."""
    names = metafunc.fixturenames
    wanted = {
        "interaction",
        "search_req",
        "resource_type",
        "profile_url",
        "negative_case",
        "date_search",
        "search_combo",
    }
    if not wanted & set(names):
        return
    ig = _ig_for(metafunc.config)
    resources = list(ig.resources.values()) if ig else []
    if "interaction" in names:
        (code,), _ = _marker_args(metafunc, "interaction_code")
        params = [
            pytest.param((r.type, code, r.interactions[code]), id=f"{r.type}-{code}")
            for r in resources
            if code in r.interactions
        ]
        metafunc.parametrize("interaction", params)
    if "search_req" in names:
        _, kw = _marker_args(metafunc, "search_params")
        params = [
            pytest.param(sp, id=f"{r.type}-{sp.name}")
            for r in resources
            for sp in r.search
            if sp.expectation in _levels(kw)
        ]
        metafunc.parametrize("search_req", params)
    if "search_combo" in names:
        _, kw = _marker_args(metafunc, "search_params")
        params = [
            pytest.param((r.type, exp, combo), id=f"{r.type}-{'+'.join(combo)}")
            for r in resources
            for exp, combo in r.combinations
            if exp in _levels(kw)
        ]
        # None: the IG declares no combination at these levels (the test says not-applicable).
        metafunc.parametrize("search_combo", params or [pytest.param(None, id="none-declared")])
    if "date_search" in names:
        params = [
            pytest.param((sp, prefix), id=f"{r.type}-{sp.name}-{prefix}")
            for r in resources
            for sp in r.search
            if sp.type == "date"
            for prefix in ("ge", "le", "gt", "lt")
        ]
        metafunc.parametrize("date_search", params)
    if "resource_type" in names:
        params = [pytest.param(r.type, id=r.type) for r in resources]
        metafunc.parametrize("resource_type", params)
    if "profile_url" in names:
        profiles = [(r.type, p) for r in resources for p in r.profiles]
        params = [pytest.param((t, p), id=p.rsplit("/", 1)[-1]) for t, p in profiles]
        metafunc.parametrize("profile_url", params)
    if "negative_case" in names:
        _, kw = _marker_args(metafunc, "negative_cases")
        params = [
            pytest.param((res, item), id=f"{item.get('rule')}-{item['file'].rsplit('/', 1)[-1]}")
            for res, item in load_negative_cases()
            if _negative_selected(item, kw)
        ]
        metafunc.parametrize("negative_case", params)


def _negative_selected(item: dict[str, Any], kw: dict[str, Any]) -> bool:
    """`negative_cases(errors=True|False, rules="prefix", exclude="prefix")`: which generator cases a test takes."""
    rule = str(item.get("rule", ""))
    is_error = item.get("severity", "error") == "error"
    if "errors" in kw and bool(kw["errors"]) != is_error:
        return False
    if kw.get("rules") and not rule.startswith(kw["rules"]):
        return False
    return not (kw.get("exclude") and rule.startswith(kw["exclude"]))


def pytest_configure(config: pytest.Config) -> None:
    for line in (
        "interaction_code(code): parametrise over the IG's resource types with that interaction",
        "search_params(levels=...): parametrise over the IG's search parameters of those expectations",
        "negative_cases(errors=, rules=, exclude=): parametrise over the generator's negative cases",
    ):
        config.addinivalue_line("markers", line)


# ------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def vhr(request: pytest.FixtureRequest) -> VhrState:
    state = get_state(request.config)
    if state is None:
        not_tested(
            Text(
                "Chưa chỉ định máy chủ đích: dùng vhr run hoặc pytest suites/ --vhr-target URL.",
                "No target given: use vhr run, or pytest suites/ --vhr-target URL.",
            )
        )
    return state


@pytest.fixture(scope="session")
def ig(vhr: VhrState) -> IgModel:
    model = load_ig(vhr.options.ig)
    vhr.ig_info = model.info()
    return model


@pytest.fixture(scope="session")
def fhir(vhr: VhrState, ig: IgModel) -> Iterator[FhirClient]:
    opts = vhr.options
    verify = opts.verify()
    tokens = TokenProvider(opts.auth, discover_base=opts.target, timeout=opts.timeout, verify=verify)
    client = FhirClient(
        opts.target,
        tokens=tokens,
        timeout=opts.timeout,
        retries=opts.retries,
        evidence=vhr.evidence,
        verify=verify,
    )
    yield client
    client.close()


@pytest.fixture(scope="session")
def target_cs(fhir: FhirClient) -> dict[str, Any]:
    resp = fhir.get("metadata")
    body = resp.json
    return (
        body
        if resp.status == 200 and isinstance(body, dict) and body.get("resourceType") == "CapabilityStatement"
        else {}
    )


@pytest.fixture(scope="session")
def tracker(request: pytest.FixtureRequest, vhr: VhrState, fhir: FhirClient) -> Iterator[Tracker]:
    t = Tracker()
    yield t
    if hasattr(request.config, "workerinput"):
        # xdist: workers share conditionally created resources (facilities, practitioners); the
        # controller deletes everything once every worker is done.
        vhr.pending_cleanup.extend(t.refs)
    elif vhr.options.cleanup:
        vhr.cleanup_leftovers.extend(t.cleanup(fhir))
    else:
        vhr.cleanup_leftovers.extend(f"{r}: clean-up disabled / đã tắt dọn dẹp" for r in t.refs)


@pytest.fixture(scope="session")
def seed(vhr: VhrState, fhir: FhirClient, tracker: Tracker) -> SeedData:
    from vhr_conformance.pytest_plugin import now_iso

    started = now_iso()
    bundles = coverage_bundles(vhr.options.seed)
    if vhr.options.seed_limit > 0:
        bundles = bundles[: vhr.options.seed_limit]
    data = upload(fhir, bundles, vhr.options.run_id, tracker)
    if "Bundle" in load_ig(vhr.options.ig).resources:  # documents, when the IG has Bundle as a resource
        upload_documents(
            fhir,
            document_bundles(vhr.options.seed, 2 if vhr.options.seed_limit else 3),
            vhr.options.run_id,
            tracker,
            data,
        )
    data.started_iso = started
    return data


@pytest.fixture(scope="session")
def validator(ig: IgModel) -> Any:
    from vhr_conformance.validator import Validator

    return (
        Validator.default() if ig.package_id == "vhr.conformance.ig" else Validator.for_packages(ig.packages)
    )


@pytest.fixture(scope="session")
def server_copies(fhir: FhirClient, seed: SeedData) -> dict[str, dict[str, Any]]:
    """The server's current version of every seeded resource, fetched by `_id` in batches of 50."""
    out: dict[str, dict[str, Any]] = {}
    by_type: dict[str, list[str]] = {}
    for s in seed.resources:
        by_type.setdefault(s.type, []).append(s.id)
    for rtype, ids in by_type.items():
        for i in range(0, len(ids), 50):
            chunk = ids[i : i + 50]
            try:
                found = search_all(fhir, rtype, [("_id", ",".join(chunk)), ("_count", "50")])
            except (CriterionFailed, NotTested):  # no usable _id search: the reads below fetch each one
                found = []
            for res in found:
                out[f"{rtype}/{res.get('id')}"] = res
            for rid in chunk:  # fall back to reads when _id search misses some
                if f"{rtype}/{rid}" not in out:
                    resp = fhir.get(f"{rtype}/{rid}")
                    if resp.status == 200 and isinstance(resp.json, dict):
                        out[f"{rtype}/{rid}"] = resp.json
    return out
