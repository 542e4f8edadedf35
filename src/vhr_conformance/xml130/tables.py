"""XML 130 table definitions, kept as data (``tables/<standard>.yaml``) so that a new decision
amending the tables is a new data file, not new code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from vhr_conformance.i18n import Text, UserError

TABLES_DIR = Path(__file__).parent / "tables"
DEFAULT_STANDARD = "3176"
FORMATS = {"date", "datetime", "birth", "decimal", "int"}
_FIELD_RE = re.compile(r"^(?P<name>[A-Z0-9_]+)\s+(?P<type>[CN])(?P<len>\d+)(?P<rest>(\s+\S+)*)\s*$")


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One column of a table: its rules and how sure we are of them."""

    name: str
    order: int
    type: str  # "C" string, "N" number
    max_len: int
    required: str | None = None  # "E" error when missing, "W" warning (unconfirmed), None optional
    fmt: str | None = None
    codes: str | None = None
    multi: bool = False
    conf: str = "S"  # S/P checked as errors, U as warnings

    @property
    def confirmed(self) -> bool:
        return self.conf in ("S", "P")


@dataclass(frozen=True, slots=True)
class TableDef:
    """One XML table (XML1 … XML14): root and record element names and its ordered fields."""

    code: str
    title: str
    root: str
    record: str
    repeating: bool
    conf: str
    fields: tuple[FieldDef, ...]
    list_tag: str | None = None  # element between root and records in repeating tables
    by_name: dict[str, FieldDef] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Standard:
    """All tables of one standard version plus its code lists."""

    standard: str
    title: str
    effective: str
    tables: dict[str, TableDef]
    codes: dict[str, frozenset[str]]
    codes_unconfirmed: frozenset[str]
    codes_since: dict[str, dict[str, str]]

    def table(self, code: str) -> TableDef | None:
        return self.tables.get(code)


def parse_field(line: str, order: int, default_conf: str) -> FieldDef:
    """Read one field line of the notation described at the top of ``4750.yaml``."""
    m = _FIELD_RE.match(line.strip())
    if not m:
        raise UserError(
            Text("Dòng định nghĩa trường sai: {l}", "Bad field definition line: {l}").format(l=line)
        )
    opts: dict[str, str] = {}
    multi = False
    for tok in m["rest"].split():
        if tok == "multi":
            multi = True
            continue
        key, sep, value = tok.partition("=")
        if not sep or key not in {"req", "fmt", "codes", "conf"}:
            raise UserError(Text("Tùy chọn trường lạ: {t}", "Unknown field option: {t}").format(t=tok))
        opts[key] = value
    if opts.get("fmt") and opts["fmt"] not in FORMATS:
        raise UserError(Text("Định dạng lạ: {f}", "Unknown format: {f}").format(f=opts["fmt"]))
    return FieldDef(
        name=m["name"],
        order=order,
        type=m["type"],
        max_len=int(m["len"]),
        required=opts.get("req"),
        fmt=opts.get("fmt"),
        codes=opts.get("codes"),
        multi=multi,
        conf=opts.get("conf", default_conf),
    )


def _table(code: str, raw: dict) -> TableDef:
    conf = raw.get("conf", "S")
    fields = tuple(parse_field(line, i + 1, conf) for i, line in enumerate(raw["fields"]))
    t = TableDef(
        code=code,
        title=raw.get("title", code),
        root=raw["root"],
        record=raw["record"],
        repeating=bool(raw.get("repeating", False)),
        conf=conf,
        fields=fields,
        list_tag=raw.get("list"),
    )
    t.by_name.update({f.name: f for f in fields})
    return t


def _raw(standard: str) -> dict:
    path = TABLES_DIR / f"{standard}.yaml"
    if not path.is_file():
        known = ", ".join(available_standards())
        raise UserError(
            Text(
                "Không có định nghĩa bảng cho {s} (có: {k})", "No table definitions for {s} (known: {k})"
            ).format(s=standard, k=known)
        )
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def available_standards() -> list[str]:
    return sorted(p.stem for p in TABLES_DIR.glob("*.yaml"))


@cache
def load_standard(standard: str = DEFAULT_STANDARD) -> Standard:
    """Load a standard version, resolving ``extends`` (code lists and field lines override)."""
    raw = _raw(standard)
    if raw.get("extends"):
        base = load_standard(str(raw["extends"]))
        tables = dict(base.tables)
        for code, lines in (raw.get("fields") or {}).items():
            old = tables[code]
            fields = list(old.fields)
            for line in lines:
                new = parse_field(line, 0, old.conf)
                idx = next((i for i, f in enumerate(fields) if f.name == new.name), None)
                if idx is None:
                    fields.append(FieldDef(**{**_asdict(new), "order": len(fields) + 1}))
                else:
                    fields[idx] = FieldDef(**{**_asdict(new), "order": fields[idx].order})
            t = TableDef(
                old.code,
                old.title,
                old.root,
                old.record,
                old.repeating,
                old.conf,
                tuple(fields),
                old.list_tag,
            )
            t.by_name.update({f.name: f for f in fields})
            tables[code] = t
        codes = dict(base.codes)
        unconfirmed = set(base.codes_unconfirmed)
        since = dict(base.codes_since)
    else:
        tables = {code: _table(code, t) for code, t in raw["tables"].items()}
        codes, unconfirmed, since = {}, set(), {}
    codes.update({k: frozenset(str(c) for c in v) for k, v in (raw.get("codes") or {}).items()})
    unconfirmed.update(raw.get("codes_unconfirmed") or [])
    since.update(
        {k: {str(c): str(d) for c, d in v.items()} for k, v in (raw.get("codes_since") or {}).items()}
    )
    for t in tables.values():
        for f in t.fields:
            if f.codes and f.codes not in codes:
                raise UserError(
                    Text("Bảng mã {c} chưa định nghĩa", "Code list {c} not defined").format(c=f.codes)
                )
    return Standard(
        standard=str(raw["standard"]),
        title=raw.get("title", ""),
        effective=str(raw.get("effective", "")),
        tables=tables,
        codes=codes,
        codes_unconfirmed=frozenset(unconfirmed),
        codes_since=since,
    )


def _asdict(f: FieldDef) -> dict:
    return {s: getattr(f, s) for s in FieldDef.__slots__}
