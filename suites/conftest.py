"""Shared fixtures of the VHR suites and their parametrisation from the IG in use.

Parameters come from the IG's CapabilityStatement (resources, interactions, search parameters with
expectations) and StructureDefinitions (profiles, must-support), and from the generator's negative
cases, so another IG gives other tests. Criteria are attached per parameter set.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from vhr_conformance.client import FhirClient, TokenProvider
from vhr_conformance.i18n import UserError
from vhr_conformance.pytest_plugin import VhrState, criterion, get_state
from vhr_conformance.runner.igmodel import IgModel, load_ig
from vhr_conformance.runner.seed import (
    SeedData,
    Tracker,
    coverage_bundles,
    document_bundles,
    load_negative_cases,
    upload,
    upload_documents,
)

# Which interaction of the CapabilityStatement is verified by which criterion.
INTERACTION_CRITERIA = {
    "read": "VHR-API-001",
    "vread": "VHR-API-002",
    "create": "VHR-API-003",
    "update": "VHR-API-004",
    "delete": "VHR-API-005",
    "history-instance": "VHR-API-006",
}


def _ig_for(config: pytest.Config) -> IgModel | None:
    try:
        return load_ig(config.getoption("vhr_ig", None))
    except UserError as exc:
        if get_state(config) is not None:
            raise pytest.UsageError(exc.render()) from None
        return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
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
        params = [
            pytest.param(
                (r.type, code, exp), id=f"{r.type}-{code}", marks=criterion(INTERACTION_CRITERIA[code])
            )
            for r in resources
            for code, exp in r.interactions.items()
            if code in INTERACTION_CRITERIA
        ]
        metafunc.parametrize("interaction", params)
    if "search_req" in names:
        params = []
        for r in resources:
            for sp in r.search:
                crits = ["VHR-API-007" if sp.expectation == "SHALL" else "VHR-API-020"]
                if r.type == "Patient" and sp.name == "identifier":
                    crits.append("VHR-PAT-002")
                params.append(pytest.param(sp, id=f"{r.type}-{sp.name}", marks=criterion(*crits)))
        metafunc.parametrize("search_req", params)
    if "search_combo" in names:
        params = [
            pytest.param(
                (r.type, exp, combo),
                id=f"{r.type}-{'+'.join(combo)}",
                marks=criterion("VHR-API-007" if exp == "SHALL" else "VHR-API-020"),
            )
            for r in resources
            for exp, combo in r.combinations
        ]
        metafunc.parametrize("search_combo", params)
    if "date_search" in names:
        params = [
            pytest.param((sp, prefix), id=f"{r.type}-{sp.name}-{prefix}", marks=criterion("VHR-API-008"))
            for r in resources
            for sp in r.search
            if sp.type == "date"
            for prefix in ("ge", "le", "gt", "lt")
        ]
        metafunc.parametrize("date_search", params)
    if "resource_type" in names:
        marker = metafunc.definition.get_closest_marker("per_resource")
        crits = marker.args if marker else ()
        params = [pytest.param(r.type, id=r.type, marks=criterion(*crits)) for r in resources]
        metafunc.parametrize("resource_type", params)
    if "profile_url" in names:
        marker = metafunc.definition.get_closest_marker("per_profile")
        crits = marker.args if marker else ()
        profiles = [(r.type, p) for r in resources for p in r.profiles]
        params = [pytest.param((t, p), id=p.rsplit("/", 1)[-1], marks=criterion(*crits)) for t, p in profiles]
        metafunc.parametrize("profile_url", params)
    if "negative_case" in names:
        cases = load_negative_cases()
        params = []
        for res, item in cases:
            crits = ["VHR-API-018"]
            if str(item.get("rule", "")).startswith("vhr-cccd"):
                crits.append("VHR-PAT-007")
            if item.get("severity", "error") != "error":  # a warning must not block the data
                crits = ["VHR-KCB-002"] if str(item.get("rule", "")).startswith("VN-ICD") else ["VHR-API-018"]
            params.append(
                pytest.param(
                    (res, item),
                    id=f"{item.get('rule')}-{item['file'].rsplit('/', 1)[-1]}",
                    marks=criterion(*crits),
                )
            )
        metafunc.parametrize("negative_case", params)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "per_resource(*criteria): parametrise over the IG's resource types")
    config.addinivalue_line("markers", "per_profile(*criteria): parametrise over the IG's profiles")


# ------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def vhr(request: pytest.FixtureRequest) -> VhrState:
    state = get_state(request.config)
    if state is None:
        pytest.skip("no --vhr-target given / chưa chỉ định --vhr-target")
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
                found = fhir.search_all(rtype, [("_id", ",".join(chunk)), ("_count", "50")])
            except AssertionError:
                found = []
            for res in found:
                out[f"{rtype}/{res.get('id')}"] = res
            for rid in chunk:  # fall back to reads when _id search misses some
                if f"{rtype}/{rid}" not in out:
                    resp = fhir.get(f"{rtype}/{rid}")
                    if resp.status == 200 and isinstance(resp.json, dict):
                        out[f"{rtype}/{rid}"] = resp.json
    return out
