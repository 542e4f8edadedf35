"""Workload and SLO files (``loadtests/workloads/*.yaml``, ``loadtests/slo.yaml``).

Both are plain data so that the CLI, the Locust processes (master and workers) and the tests read
them the same way, and so that a vendor can tune the mix or the thresholds without touching Python.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vhr_conformance.durations import parse_duration
from vhr_conformance.i18n import Text, UserError
from vhr_conformance.yamlsrc import Located, Path_, load_located

# The request groups of the VHR workload; statistics, SLOs and workload weights all use them.
OPERATIONS: dict[str, Text] = {
    "submit-transaction": Text(
        "Cơ sở gửi bundle giao dịch một lượt khám", "facility submits an encounter transaction bundle"
    ),
    "patient-lookup": Text("Tìm người bệnh theo số CCCD", "patient lookup by CCCD identifier"),
    "patient-everything": Text("Hồ sơ sức khỏe: Patient/$everything", "health record: Patient/$everything"),
    "encounter-search": Text(
        "Tìm lượt khám theo người bệnh và khoảng ngày", "encounter search by patient and date range"
    ),
    "observation-search": Text("Tìm kết quả quan sát của người bệnh", "observation search for a patient"),
}
ALL_GROUPS = "*"

# One duration grammar for every command (250ms, 15s, 5m, 1h30m, bare numbers): `vhr_conformance.durations`.


# ---------------------------------------------------------------- helpers for located checks


def _need_mapping(doc: Located, value: Any, path: Path_) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise doc.error(path, Text("Cần một ánh xạ (khóa: giá trị)", "expected a mapping (key: value)"))
    return value


def _no_unknown(doc: Located, value: dict[str, Any], path: Path_, allowed: set[str]) -> None:
    for key in value:
        if key not in allowed:
            raise doc.error(
                (*path, key),
                Text("Khóa không được hỗ trợ: {k}", "unsupported key: {k}").format(k=key),
                Text("Các khóa hợp lệ: {a}", "valid keys: {a}").format(a=", ".join(sorted(allowed))),
            )


def _number(doc: Located, value: Any, path: Path_, *, minimum: float = 0.0, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise doc.error(
            path, Text("Cần một số, nhận được {v!r}", "expected a number, got {v!r}").format(v=value)
        )
    if integer and int(value) != value:
        raise doc.error(path, Text("Cần một số nguyên", "expected an integer"))
    if value < minimum:
        raise doc.error(path, Text("Giá trị phải ≥ {m}", "value must be ≥ {m}").format(m=minimum))
    return float(value)


def _duration(doc: Located, value: Any, path: Path_, default_unit: str = "s") -> float:
    try:
        seconds = parse_duration(value, default_unit)
    except ValueError:
        raise doc.error(
            path,
            Text(
                "Thời lượng không hợp lệ: {v!r} (ví dụ 500ms, 2s, 1m)",
                "invalid duration: {v!r} (e.g. 500ms, 2s, 1m)",
            ).format(v=value),
        ) from None
    if seconds < 0:
        raise doc.error(path, Text("Thời lượng không được âm", "duration must not be negative"))
    return seconds


def _fraction(doc: Located, value: Any, path: Path_) -> float:
    """``1%``, ``0.5 %`` or ``0.01`` → 0.01."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            number = float(value.strip()[:-1]) / 100
        except ValueError:
            number = -1.0
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise doc.error(
            path,
            Text(
                "Cần tỷ lệ 0–1 hoặc phần trăm (ví dụ 1%), nhận được {v!r}",
                "expected a ratio 0–1 or a percentage (e.g. 1%), got {v!r}",
            ).format(v=value),
        )
    return number


def _rate(doc: Located, value: Any, path: Path_) -> float:
    """``5/s``, ``300/m`` or a bare number of requests per second."""
    text = str(value).strip()
    factor = 1.0
    if isinstance(value, str):
        for suffix, per in (("/s", 1.0), ("/m", 1 / 60), ("/min", 1 / 60)):
            if text.endswith(suffix):
                text, factor = text[: -len(suffix)].strip(), per
                break
    try:
        number = float(text) * factor
    except ValueError:
        number = -1.0
    if isinstance(value, bool) or number < 0:
        raise doc.error(
            path,
            Text(
                "Cần một thông lượng (ví dụ 5/s), nhận được {v!r}",
                "expected a throughput (e.g. 5/s), got {v!r}",
            ).format(v=value),
        )
    return number


def _text(doc: Located, value: Any, path: Path_) -> Text:
    if isinstance(value, str):
        return Text(value, value)
    mapping = _need_mapping(doc, value, path)
    _no_unknown(doc, mapping, path, {"vi", "en"})
    if not isinstance(mapping.get("vi"), str) or not isinstance(mapping.get("en"), str):
        raise doc.error(path, Text("Cần cả 'vi' và 'en'", "both 'vi' and 'en' are required"))
    return Text(mapping["vi"], mapping["en"])


# ---------------------------------------------------------------- workload


@dataclass(frozen=True)
class CapacityPlan:
    """How ``--shape capacity`` climbs: add ``step_users`` every ``step_duration`` up to ``max_users``."""

    start_users: int = 2
    step_users: int = 2
    step_duration: float = 5.0
    max_users: int = 100


@dataclass(frozen=True)
class Workload:
    """The operation mix of one simulated user, its think time and the data it uses."""

    name: str
    description: Text
    weights: dict[str, float]
    think_min: float
    think_max: float
    pool_size: int = 50
    pool_seed: int = 20261125
    encounter_window_days: int = 365
    observation_category: str | None = "vital-signs"
    validate_sample: float = 0.05
    validate_queue: int = 200
    steps: int = 4
    capacity: CapacityPlan = field(default_factory=CapacityPlan)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["description"] = {"vi": self.description.vi, "en": self.description.en}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Workload:
        data = dict(data)
        data["description"] = Text(**data["description"])
        data["capacity"] = CapacityPlan(**data["capacity"])
        return cls(**data)


def workloads_dir() -> Path:
    return loadtests_dir() / "workloads"


def loadtests_dir() -> Path:
    """``loadtests/`` of the project (``VHR_LOADTESTS`` overrides, for installed copies)."""
    from vhr_conformance.paths import loadtests_path

    return loadtests_path()


def resolve_workload_path(name: str) -> Path:
    """A workload is a name in ``loadtests/workloads`` or a path to a YAML file."""
    candidate = Path(name)
    if candidate.suffix in {".yaml", ".yml"} or "/" in name:
        return candidate
    path = workloads_dir() / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in workloads_dir().glob("*.yaml"))
        raise UserError(
            Text("Không có workload tên {n!r}", "no workload named {n!r}").format(n=name),
            location="--workload",
            hint=Text("Có sẵn: {k}", "available: {k}").format(k=", ".join(known) or "-"),
        )
    return path


def load_workload(name: str) -> Workload:
    path = resolve_workload_path(name)
    return parse_workload(load_located(path), default_name=path.stem)


def parse_workload(doc: Located, default_name: str = "workload") -> Workload:
    root = _need_mapping(doc, doc.data, ())
    _no_unknown(
        doc,
        root,
        (),
        {"name", "description", "think_time", "operations", "pool", "validation", "steps", "capacity"},
    )
    ops = _need_mapping(doc, root.get("operations"), ("operations",))
    weights: dict[str, float] = {}
    window = 365
    category: str | None = "vital-signs"
    for op, spec in ops.items():
        path = ("operations", op)
        if op not in OPERATIONS:
            raise doc.error(
                path,
                Text("Thao tác không xác định: {o}", "unknown operation: {o}").format(o=op),
                Text("Các thao tác: {a}", "operations: {a}").format(a=", ".join(OPERATIONS)),
            )
        if isinstance(spec, int | float) and not isinstance(spec, bool):
            spec = {"weight": spec}
        spec = _need_mapping(doc, spec, path)
        _no_unknown(doc, spec, path, {"weight", "date_range_days", "category"})
        weights[op] = _number(doc, spec.get("weight", 1), (*path, "weight"))
        if "date_range_days" in spec:
            window = int(
                _number(doc, spec["date_range_days"], (*path, "date_range_days"), minimum=1, integer=True)
            )
        if "category" in spec:
            category = None if spec["category"] in (None, "") else str(spec["category"])
    if not any(weights.values()):
        raise doc.error(
            ("operations",),
            Text("Cần ít nhất một thao tác có trọng số > 0", "at least one operation needs a weight > 0"),
        )

    think = root.get("think_time", {"min": "0.5s", "max": "1.5s"})
    if not isinstance(think, dict):
        think = {"min": think, "max": think}
    _no_unknown(doc, think, ("think_time",), {"min", "max"})
    think_min = _duration(doc, think.get("min", 0), ("think_time", "min"))
    think_max = _duration(doc, think.get("max", think_min), ("think_time", "max"))
    if think_max < think_min:
        raise doc.error(("think_time", "max"), Text("max phải ≥ min", "max must be ≥ min"))

    pool = _need_mapping(doc, root.get("pool", {}), ("pool",))
    _no_unknown(doc, pool, ("pool",), {"size", "seed"})
    validation = _need_mapping(doc, root.get("validation", {}), ("validation",))
    _no_unknown(doc, validation, ("validation",), {"sample", "queue"})
    cap = _need_mapping(doc, root.get("capacity", {}), ("capacity",))
    _no_unknown(doc, cap, ("capacity",), {"start_users", "step_users", "step_duration", "max_users"})
    plan = CapacityPlan(
        start_users=int(
            _number(doc, cap.get("start_users", 2), ("capacity", "start_users"), minimum=1, integer=True)
        ),
        step_users=int(
            _number(doc, cap.get("step_users", 2), ("capacity", "step_users"), minimum=1, integer=True)
        ),
        step_duration=_duration(doc, cap.get("step_duration", "5s"), ("capacity", "step_duration")),
        max_users=int(
            _number(doc, cap.get("max_users", 100), ("capacity", "max_users"), minimum=1, integer=True)
        ),
    )
    if plan.step_duration <= 0:
        raise doc.error(("capacity", "step_duration"), Text("Phải lớn hơn 0", "must be greater than 0"))
    description = _text(doc, root["description"], ("description",)) if "description" in root else Text("", "")
    return Workload(
        name=str(root.get("name", default_name)),
        description=description,
        weights=weights,
        think_min=think_min,
        think_max=think_max,
        pool_size=int(_number(doc, pool.get("size", 50), ("pool", "size"), minimum=1, integer=True)),
        pool_seed=int(_number(doc, pool.get("seed", 20261125), ("pool", "seed"), integer=True)),
        encounter_window_days=window,
        observation_category=category,
        validate_sample=_fraction(doc, validation.get("sample", 0.05), ("validation", "sample")),
        validate_queue=int(
            _number(doc, validation.get("queue", 200), ("validation", "queue"), minimum=1, integer=True)
        ),
        steps=int(_number(doc, root.get("steps", 4), ("steps",), minimum=1, integer=True)),
        capacity=plan,
    )


# ---------------------------------------------------------------- SLO thresholds

DEFAULT_CRITERION = "VHR-PERF-003"  # catalogue: "meets the SLO thresholds of the standard workload"
CAPACITY_CRITERION = "VHR-PERF-004"  # catalogue: "states the maximum requests per second that keep the SLO"
LATENCY_METRICS = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99, "max": 1.0}
METRICS = (*LATENCY_METRICS, "avg", "error_rate", "throughput")


@dataclass(frozen=True)
class Threshold:
    """One SLO: ``metric`` of ``group`` compared with ``limit`` — each becomes a PERF criterion."""

    id: str
    title: Text
    metric: str  # p50 | p90 | p95 | p99 | max | avg (ms) | error_rate (ratio) | throughput (req/s)
    group: str  # an operation name or "*" for every request
    limit: float
    comparator: str  # "<=" (latency, error rate) or ">=" (throughput)
    level: str = "SHALL"
    criterion: str = DEFAULT_CRITERION  # the catalogue criterion this threshold is evidence for

    @property
    def unit(self) -> str:
        return {"error_rate": "ratio", "throughput": "req/s"}.get(self.metric, "ms")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["title"] = {"vi": self.title.vi, "en": self.title.en}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Threshold:
        data = dict(data)
        data["title"] = Text(**data["title"])
        return cls(**data)


@dataclass(frozen=True)
class SloSet:
    """The thresholds plus how they are applied during the run."""

    thresholds: tuple[Threshold, ...]
    abort_on_breach: bool = False
    grace: float = 5.0  # no early abort before this many seconds
    check_every: float = 2.0
    min_requests: int = 20  # fewer samples in a group → the criterion is skipped, not judged

    def to_json(self) -> dict[str, Any]:
        return {
            "thresholds": [t.to_json() for t in self.thresholds],
            "abort_on_breach": self.abort_on_breach,
            "grace": self.grace,
            "check_every": self.check_every,
            "min_requests": self.min_requests,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SloSet:
        return cls(
            thresholds=tuple(Threshold.from_json(t) for t in data["thresholds"]),
            abort_on_breach=data["abort_on_breach"],
            grace=data["grace"],
            check_every=data["check_every"],
            min_requests=data["min_requests"],
        )


def default_slo_path() -> Path:
    return loadtests_dir() / "slo.yaml"


def load_slo(path: Path | None = None) -> SloSet:
    return parse_slo(load_located(path or default_slo_path()))


# Same pattern as the criteria catalogue (suites/criteria.schema.json) so results merge as criteria.
_ID = re.compile(r"^VHR-PERF-[0-9]{3}$")
_CRITERION = re.compile(r"^VHR-[A-Z]{2,5}-[0-9]{3}$")


def parse_slo(doc: Located) -> SloSet:
    root = _need_mapping(doc, doc.data, ())
    _no_unknown(
        doc, root, (), {"version", "abort_on_breach", "grace", "check_every", "min_requests", "thresholds"}
    )
    if root.get("version", 1) != 1:
        raise doc.error(("version",), Text("Chỉ hỗ trợ version: 1", "only version: 1 is supported"))
    items = root.get("thresholds")
    if not isinstance(items, list) or not items:
        raise doc.error(
            ("thresholds",),
            Text("Cần một danh sách ngưỡng không rỗng", "expected a non-empty list of thresholds"),
        )
    seen: set[str] = set()
    out: list[Threshold] = []
    for i, item in enumerate(items):
        path: Path_ = ("thresholds", i)
        item = _need_mapping(doc, item, path)
        _no_unknown(doc, item, path, {"id", "title", "metric", "group", "max", "min", "level", "criterion"})
        ident = item.get("id")
        if not isinstance(ident, str) or not _ID.match(ident):
            raise doc.error(
                (*path, "id"),
                Text(
                    "id phải có dạng VHR-PERF-123, nhận được {v!r}",
                    "id must look like VHR-PERF-123, got {v!r}",
                ).format(v=ident),
            )
        if ident in seen:
            raise doc.error((*path, "id"), Text("id bị lặp: {v}", "duplicate id: {v}").format(v=ident))
        seen.add(ident)
        metric = item.get("metric")
        if metric not in METRICS:
            raise doc.error(
                (*path, "metric"),
                Text("Chỉ số không xác định: {v!r}", "unknown metric: {v!r}").format(v=metric),
                Text("Các chỉ số: {a}", "metrics: {a}").format(a=", ".join(METRICS)),
            )
        group = str(item.get("group", ALL_GROUPS))
        if group != ALL_GROUPS and group not in OPERATIONS:
            raise doc.error(
                (*path, "group"),
                Text("Nhóm yêu cầu không xác định: {v!r}", "unknown request group: {v!r}").format(v=group),
                Text("Các nhóm: * , {a}", "groups: * , {a}").format(a=", ".join(OPERATIONS)),
            )
        bound = "min" if metric == "throughput" else "max"
        wrong = "max" if bound == "min" else "min"
        if wrong in item:
            raise doc.error(
                (*path, wrong),
                Text("Chỉ số {m} dùng '{b}', không dùng '{w}'", "metric {m} takes '{b}', not '{w}'").format(
                    m=metric, b=bound, w=wrong
                ),
            )
        if bound not in item:
            raise doc.error(path, Text("Thiếu '{b}'", "missing '{b}'").format(b=bound))
        raw = item[bound]
        if metric == "throughput":
            limit = _rate(doc, raw, (*path, bound))
        elif metric == "error_rate":
            limit = _fraction(doc, raw, (*path, bound))
        else:
            limit = _duration(doc, raw, (*path, bound), default_unit="ms") * 1000.0
        level = str(item.get("level", "SHALL"))
        if level not in {"SHALL", "SHOULD", "MAY"}:
            raise doc.error(
                (*path, "level"),
                Text("level phải là SHALL, SHOULD hoặc MAY", "level must be SHALL, SHOULD or MAY"),
            )
        criterion = str(item.get("criterion", DEFAULT_CRITERION))
        if not _CRITERION.match(criterion):
            raise doc.error(
                (*path, "criterion"),
                Text(
                    "criterion phải là mã tiêu chí VHR-…, nhận được {v!r}",
                    "criterion must be a VHR-… criterion id, got {v!r}",
                ).format(v=criterion),
            )
        default_title = _default_title(metric, group, bound, raw)
        title = _text(doc, item["title"], (*path, "title")) if "title" in item else default_title
        out.append(
            Threshold(ident, title, metric, group, limit, ">=" if bound == "min" else "<=", level, criterion)
        )
    grace = _duration(doc, root.get("grace", "5s"), ("grace",))
    every = _duration(doc, root.get("check_every", "2s"), ("check_every",))
    if every <= 0:
        raise doc.error(("check_every",), Text("Phải lớn hơn 0", "must be greater than 0"))
    abort = root.get("abort_on_breach", False)
    if not isinstance(abort, bool):
        raise doc.error(("abort_on_breach",), Text("Cần true hoặc false", "expected true or false"))
    min_requests = int(_number(doc, root.get("min_requests", 20), ("min_requests",), integer=True))
    return SloSet(tuple(out), abort, grace, every, min_requests)


def _default_title(metric: str, group: str, bound: str, raw: object) -> Text:
    who_vi = "mọi yêu cầu" if group == ALL_GROUPS else group
    who_en = "all requests" if group == ALL_GROUPS else group
    if metric == "throughput":
        return Text(f"Thông lượng của {who_vi} ≥ {raw}", f"throughput of {who_en} ≥ {raw}")
    if metric == "error_rate":
        return Text(f"Tỷ lệ lỗi của {who_vi} ≤ {raw}", f"error rate of {who_en} ≤ {raw}")
    return Text(f"Độ trễ {metric} của {who_vi} ≤ {raw}", f"{metric} latency of {who_en} ≤ {raw}")
