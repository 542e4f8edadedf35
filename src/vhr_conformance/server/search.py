"""Compiling FHIR search parameters into SQL over the index tables, and running searches."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from vhr_conformance.server import errors as E
from vhr_conformance.server.capability import CONTROL_PARAMS, Capabilities, SearchParam
from vhr_conformance.server.errors import FhirError
from vhr_conformance.server.faults import ActiveFaults
from vhr_conformance.server.index import date_range, fold, lower_only, nfc, split_reference
from vhr_conformance.server.store import Store, Stored

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_TYPE_RE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
_PREFIX_RE = re.compile(r"^(eq|ne|gt|lt|ge|le|sa|eb|ap)(?=[-+\d])")
MAX_COUNT = 1000
DEFAULT_COUNT = 20
TOP = "\U0010ffff"
# Bounds on one search request, so absurd input is a 400 and never reaches SQLite's own limits
# (expression depth, integer range) as a 500.
MAX_PAIRS = 100  # name=value pairs in one query
MAX_VALUES = 200  # comma-separated values (OR) of one parameter
MAX_SORT_KEYS = 10
MAX_INTEGER = 10**9  # _count / _offset; larger _count values are refused, not clamped
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_bounds(pairs: list[tuple[str, str]]) -> None:
    """400 for a query too large or absurd to run: too many pairs, control characters (NUL would
    end the SQL pattern and match everyone), too many OR values."""
    if len(pairs) > MAX_PAIRS:
        raise FhirError(400, "too-costly", E.TOO_MANY.format(what="parameters", n=MAX_PAIRS))
    for key, value in pairs:
        if _CONTROL_RE.search(key) or _CONTROL_RE.search(value):
            raise FhirError(400, "invalid", E.CONTROL_CHAR.format(p=_CONTROL_RE.sub("?", key)[:64]))
        if value.count(",") >= MAX_VALUES and not key.startswith(("_elements", "_type")):
            raise FhirError(400, "too-costly", E.TOO_MANY.format(what=f"values of {key[:64]}", n=MAX_VALUES))


def split_values(value: str) -> list[str]:
    """Split on commas not escaped with a backslash (FHIR OR semantics)."""
    parts = re.split(r"(?<!\\),", value)
    return [p.replace("\\,", ",").replace("\\|", "|").replace("\\$", "$") for p in parts]


def split_token(value: str) -> tuple[str | None, str | None, bool]:
    """`system|code` → (system, code, has_bar); `|code` → ('', code); `code` → (None, code)."""
    m = re.search(r"(?<!\\)\|", value)
    if not m:
        return None, value.replace("\\|", "|"), False
    return value[: m.start()], value[m.end() :].replace("\\|", "|"), True


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def date_clause(
    prefix: str, lo: float, hi: float, lo_col: str = "lo", hi_col: str = "hi"
) -> tuple[str, list[float]]:
    """SQL comparing a stored range [lo_col, hi_col) with the search range [lo, hi) per FHIR prefix."""
    contained = (f"({lo_col} >= ? AND {hi_col} <= ?)", [lo, hi])
    if prefix == "eq":
        return contained
    if prefix == "ne":
        return "NOT " + contained[0], contained[1]
    if prefix == "gt":
        return f"({hi_col} > ?)", [hi]
    if prefix == "lt":
        return f"({lo_col} < ?)", [lo]
    if prefix == "ge":
        return f"({hi_col} > ? OR {contained[0]})", [hi, *contained[1]]
    if prefix == "le":
        return f"({lo_col} < ? OR {contained[0]})", [lo, *contained[1]]
    if prefix == "sa":
        return f"({lo_col} >= ?)", [hi]
    if prefix == "eb":
        return f"({hi_col} <= ?)", [lo]
    return f"({lo_col} < ? AND {hi_col} > ?)", [hi, lo]  # ap: overlaps


def parse_prefix(value: str) -> tuple[str, str]:
    m = _PREFIX_RE.match(value)
    if m:
        return m.group(1), value[2:]
    return "eq", value


@dataclass
class Query:
    """A compiled search: SQL restrictions on `resources r` plus what was understood."""

    where: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)
    used: list[tuple[str, str]] = field(default_factory=list)
    through: set[str] = field(default_factory=set)  # other types a chain filters on


class SearchCompiler:
    def __init__(self, caps: Capabilities, faults: ActiveFaults, base_url: str) -> None:
        self.caps = caps
        self.faults = faults
        self.base_url = base_url
        self._through: set[str] = set()

    def compile(self, rtype: str, pairs: Iterable[tuple[str, str]], strict: bool) -> Query:
        pairs = list(pairs)
        check_bounds(pairs)
        q = Query(where=["r.type = ?", "r.deleted = 0"], args=[rtype])
        self._through = q.through
        for key, value in pairs:
            name = key.split(":", 1)[0]
            if key in CONTROL_PARAMS or name in ("_include", "_revinclude"):
                continue
            if name == "birthdate" and self.faults.ignore_shall_search_param:
                q.used.append((key, value))  # echoed as if applied, but not applied
                continue
            clause = self.clause(rtype, key, value, strict)
            if clause is None:
                continue
            sql, args = clause
            if sql.startswith("r.rid IN (") and q.where[0] == "r.type = ?":
                # a selective index lookup exists: keep SQLite from scanning every resource of the type
                q.where[0] = "+r.type = ?"
            q.where.append(sql)
            q.args.extend(args)
            q.used.append((key, value))
        return q

    def _param(self, rtype: str, name: str) -> SearchParam | None:
        support = self.caps.support(rtype)
        if support is None:
            return None
        param = support.params.get(name)
        return param if param is not None and param.declared else None

    def clause(self, rtype: str, key: str, value: str, strict: bool) -> tuple[str, list[Any]] | None:
        """`r.rid IN (...)`-style SQL for one `key=value` pair, or None if ignored (lenient)."""
        if key.startswith("_has:"):
            return self._has(rtype, key, value, strict)
        # chained reference: subject:Patient.identifier=... / patient.name=...
        if "." in key.split(":", 1)[0] or (":" in key and "." in key.split(":", 1)[1]):
            return self._chain(rtype, key, value, strict)
        name, _, modifier = key.partition(":")
        if name == "_id":
            ids = split_values(value)
            return f"r.id IN ({','.join('?' * len(ids))})", ids
        if name == "_lastUpdated":
            return self._date_on_resource(value, name)
        param = self._param(rtype, name)
        if param is None:
            if strict:
                raise FhirError(400, "not-supported", E.UNSUPPORTED_PARAM.format(p=key))
            return None
        if modifier == "missing":
            table = _TABLE[param.type]
            sql = f"SELECT rid FROM {table} WHERE type = ? AND param = ?"
            if value == "true":
                return f"r.rid NOT IN ({sql})", [rtype, param.code]
            if value == "false":
                return f"r.rid IN ({sql})", [rtype, param.code]
            raise FhirError(400, "invalid", E.BAD_PARAM.format(p=key))
        sub, args = self.param_subquery(rtype, param, modifier, split_values(value), key)
        if param.type == "token" and modifier == "not":
            return f"r.rid NOT IN ({sub})", args
        return f"r.rid IN ({sub})", args

    def _date_on_resource(self, value: str, key: str) -> tuple[str, list[Any]]:
        ors = []
        args: list[Any] = []
        for v in split_values(value):
            prefix, raw = parse_prefix(v)
            rng = date_range(raw)
            if rng is None:
                raise FhirError(400, "invalid", E.BAD_PARAM.format(p=key))
            sql, a = date_clause(prefix, rng[0], rng[1], "r.lu", "(r.lu + 0.001)")
            ors.append(sql)
            args.extend(a)
        return "(" + " OR ".join(ors) + ")", args

    def param_subquery(
        self, rtype: str, param: SearchParam, modifier: str, values: list[str], key: str
    ) -> tuple[str, list[Any]]:
        """SELECT rid ... for the OR of `values` on one parameter."""
        kind = param.type
        head = f"SELECT rid FROM {_TABLE[kind]} WHERE type = ? AND param = ? AND ("
        args: list[Any] = [rtype, param.code]
        ors: list[str] = []
        for v in values:
            if kind in ("token", "uri"):
                if modifier not in ("", "not", "below") or (modifier == "below" and kind != "uri"):
                    raise FhirError(400, "not-supported", E.UNSUPPORTED_PARAM.format(p=key))
                if kind == "uri":
                    if modifier == "below":
                        ors.append("code LIKE ? ESCAPE '\\'")
                        args.append(_escape_like(v) + "%")
                    else:
                        ors.append("code = ?")
                        args.append(v)
                    continue
                system, code, has_bar = split_token(v)
                if not has_bar:
                    ors.append("code = ?")
                    args.append(code)
                elif system == "":
                    ors.append("(code = ? AND (system IS NULL OR system = ''))")
                    args.append(code)
                elif code == "":
                    ors.append("system = ?")
                    args.append(system)
                else:
                    ors.append("(code = ? AND system = ?)")
                    args.extend([code, system])
            elif kind == "string":
                accent_fault = self.faults.accent_sensitive_search
                if modifier == "exact":
                    ors.append("raw = ?")
                    args.append(nfc(v))
                elif modifier == "contains":
                    col, needle = ("lower", lower_only(v)) if accent_fault else ("norm", fold(v))
                    ors.append(f"{col} LIKE ? ESCAPE '\\'")
                    args.append("%" + _escape_like(needle) + "%")
                elif modifier == "":
                    col, needle = ("lower", lower_only(v)) if accent_fault else ("norm", fold(v))
                    if accent_fault:
                        ors.append("substr(lower, 1, ?) = ?")
                        args.extend([len(needle), needle])
                    else:
                        ors.append(f"({col} >= ? AND {col} < ?)")
                        args.extend([needle, needle + TOP])
                else:
                    raise FhirError(400, "not-supported", E.UNSUPPORTED_PARAM.format(p=key))
            elif kind == "date":
                if modifier:
                    raise FhirError(400, "not-supported", E.UNSUPPORTED_PARAM.format(p=key))
                prefix, raw = parse_prefix(v)
                rng = date_range(raw)
                if rng is None:
                    raise FhirError(400, "invalid", E.BAD_PARAM.format(p=key))
                sql, a = date_clause(prefix, rng[0], rng[1])
                ors.append(sql)
                args.extend(a)
            elif kind == "reference":
                target_type = modifier or None
                if modifier and not modifier[:1].isupper():
                    raise FhirError(400, "not-supported", E.UNSUPPORTED_PARAM.format(p=key))
                vtype, vid = split_reference(v, self.base_url)
                target_type = target_type or vtype
                if target_type:
                    ors.append("(tid = ? AND ttype = ?)")
                    args.extend([vid, target_type])
                else:
                    ors.append("tid = ?")
                    args.append(vid)
            elif kind in ("number", "quantity"):
                prefix, raw = parse_prefix(v)
                num_text, _, unit_part = raw.partition("|")
                try:
                    num = float(num_text)
                except ValueError:
                    raise FhirError(400, "invalid", E.BAD_PARAM.format(p=key)) from None
                decimals = len(num_text.split(".", 1)[1]) if "." in num_text else 0
                half = 0.5 * 10**-decimals
                sql = {
                    "eq": "(value >= ? AND value < ?)",
                    "ap": "(value >= ? AND value < ?)",
                    "ne": "NOT (value >= ? AND value < ?)",
                    "gt": "value > ?",
                    "lt": "value < ?",
                    "ge": "value >= ?",
                    "le": "value <= ?",
                    "sa": "value > ?",
                    "eb": "value < ?",
                }[prefix]
                qargs: list[Any] = (
                    [num - half, num + half]
                    if prefix in ("eq", "ne")
                    else ([num * 0.9, num * 1.1] if prefix == "ap" else [num])
                )
                if unit_part:
                    system, _, code = unit_part.partition("|")
                    if system:
                        sql += " AND system = ?"
                        qargs.append(system)
                    if code:
                        sql += " AND code = ?"
                        qargs.append(code)
                ors.append("(" + sql + ")")
                args.extend(qargs)
        return head + " OR ".join(ors) + ")", args

    def _chain(self, rtype: str, key: str, value: str, strict: bool) -> tuple[str, list[Any]] | None:
        first, _, rest = key.partition(".")
        name, _, type_mod = first.partition(":")
        param = self._param(rtype, name)
        if param is None or param.type != "reference":
            if strict:
                raise FhirError(400, "not-supported", E.UNSUPPORTED_PARAM.format(p=key))
            return None
        targets = [type_mod] if type_mod else list(param.targets)
        if len(targets) != 1:
            if strict:
                raise FhirError(400, "not-supported", E.UNSUPPORTED_PARAM.format(p=key))
            return None
        target = targets[0]
        self._through.add(target)
        inner = self.clause(target, rest, value, strict)
        if inner is None:
            return None
        inner_sql, inner_args = inner
        sql = (
            "r.rid IN (SELECT rid FROM ix_ref WHERE type = ? AND param = ? AND ttype = ? AND tid IN "
            f"(SELECT r.id FROM resources r WHERE r.type = ? AND r.deleted = 0 AND {inner_sql}))"
        )
        return sql, [rtype, param.code, target, target, *inner_args]

    def _has(self, rtype: str, key: str, value: str, strict: bool) -> tuple[str, list[Any]] | None:
        """Reverse chain `_has:Type:param:rest=value`: resources of `rtype` that some `Type`
        matching `rest=value` points at through its reference parameter `param` (`rest` may be
        another `_has:`)."""
        parts = key.split(":", 3)
        if len(parts) != 4 or not _TYPE_RE.match(parts[1]) or not parts[3]:
            raise FhirError(400, "invalid", E.BAD_PARAM.format(p=key[:64]))
        _, source, pname, rest = parts
        param = self._param(source, pname)
        if param is None or param.type != "reference" or (param.targets and rtype not in param.targets):
            if strict:
                raise FhirError(400, "not-supported", E.UNSUPPORTED_PARAM.format(p=key[:64]))
            return None
        self._through.add(source)
        inner = self.clause(source, rest, value, strict)
        if inner is None:
            return None
        inner_sql, inner_args = inner
        sql = (
            "r.id IN (SELECT x.tid FROM ix_ref x WHERE x.type = ? AND x.param = ? AND x.ttype = ? AND x.rid IN "
            f"(SELECT r.rid FROM resources r WHERE r.type = ? AND r.deleted = 0 AND {inner_sql}))"
        )
        return sql, [source, param.code, rtype, source, *inner_args]

    def order_by(self, rtype: str, sort: str | None) -> tuple[str, list[Any]]:
        if not sort:
            return "r.rid", []
        parts: list[str] = []
        args: list[Any] = []
        if sort.count(",") >= MAX_SORT_KEYS:
            raise FhirError(400, "too-costly", E.TOO_MANY.format(what="_sort keys", n=MAX_SORT_KEYS))
        for item in sort.split(","):
            item = item.strip()
            if not item:
                continue
            desc = item.startswith("-")
            name = item.lstrip("-")
            direction = "DESC" if desc else "ASC"
            if name == "_id":
                parts.append(f"r.id {direction}")
                continue
            if name == "_lastUpdated":
                parts.append(f"r.lu {direction}")
                continue
            param = self._param(rtype, name)
            if param is None:
                raise FhirError(400, "not-supported", E.UNSUPPORTED_PARAM.format(p=f"_sort={name}"))
            table = _TABLE[param.type]
            column = {
                "string": "norm",
                "date": "lo" if not desc else "hi",
                "token": "code",
                "uri": "code",
                "reference": "tid",
                "number": "value",
                "quantity": "value",
            }[param.type]
            agg = "MAX" if desc else "MIN"
            parts.append(
                f"(SELECT {agg}({column}) FROM {table} x WHERE x.rid = r.rid AND x.param = ?) IS NULL, "
                f"(SELECT {agg}({column}) FROM {table} x WHERE x.rid = r.rid AND x.param = ?) {direction}"
            )
            args.extend([param.code, param.code])
        parts.append("r.rid")
        return ", ".join(parts), args


_TABLE = {
    "token": "ix_token",
    "uri": "ix_token",
    "string": "ix_string",
    "date": "ix_date",
    "reference": "ix_ref",
    "number": "ix_number",
    "quantity": "ix_number",
}


def run_search(
    store: Store, query: Query, order: tuple[str, list[Any]], count: int, offset: int, want_total: bool = True
) -> tuple[int | None, list[Stored]]:
    where = " AND ".join(query.where)
    with store.lock:
        total = None
        rows = []
        if count > 0:
            rows = store.conn.execute(
                f"SELECT r.rid, r.type, r.id, r.version, r.last_updated, r.body FROM resources r WHERE {where} "
                f"ORDER BY {order[0]} LIMIT ? OFFSET ?",
                [*query.args, *order[1], count, offset],
            ).fetchall()
        if want_total:
            if 0 < len(rows) < count or (offset == 0 and count > 0 and not rows):
                total = offset + len(rows)  # a short page tells the total without counting
            else:
                total = store.conn.execute(
                    f"SELECT count(*) FROM resources r WHERE {where}", query.args
                ).fetchone()[0]
    return total, [Stored(r[0], r[1], r[2], r[3], r[4], False, r[5]) for r in rows]


def includes(
    store: Store, caps: Capabilities, matches: list[Stored], specs: list[str], rev: list[str]
) -> list[Stored]:
    """Resources named by `_include` (what matches point to) and `_revinclude` (what points to them)."""
    if not matches:
        return []
    seen = {m.rid for m in matches}
    found: list[int] = []
    rids = [m.rid for m in matches]
    with store.lock:
        for spec in specs:
            parts = spec.split(":")
            if len(parts) < 2:
                raise FhirError(400, "invalid", E.BAD_PARAM.format(p="_include"))
            src_type, pname = parts[0], parts[1]
            target = parts[2] if len(parts) > 2 else None
            marks = ",".join("?" * len(rids))
            sql = f"SELECT ttype, tid FROM ix_ref WHERE rid IN ({marks}) AND type = ?"
            args: list[Any] = [*rids, src_type]
            if pname != "*":
                sql += " AND param = ?"
                args.append(pname)
            if target:
                sql += " AND ttype = ?"
                args.append(target)
            pairs = [(t, i) for t, i in store.conn.execute(sql, args).fetchall() if t]
            found.extend(store.find_ids(pairs))
        by_type: dict[str, list[str]] = {}
        for m in matches:
            by_type.setdefault(m.type, []).append(m.id)
        for spec in rev:
            parts = ["*", "*"] if spec == "*" else spec.split(":")  # `*`: whatever points at a match
            if len(parts) < 2:
                raise FhirError(400, "invalid", E.BAD_PARAM.format(p="_revinclude"))
            src_type, pname = parts[0], parts[1]
            for ttype, ids in by_type.items():
                if len(parts) > 2 and parts[2] != ttype:
                    continue
                marks = ",".join("?" * len(ids))
                sql = f"SELECT DISTINCT x.rid FROM ix_ref x WHERE x.ttype = ? AND x.tid IN ({marks})"
                args = [ttype, *ids]
                if src_type != "*":
                    sql += " AND x.type = ?"
                    args.append(src_type)
                if pname != "*":
                    sql += " AND x.param = ?"
                    args.append(pname)
                found.extend(r[0] for r in store.conn.execute(sql, args).fetchall())
    ordered = []
    for rid in found:
        if rid not in seen:
            seen.add(rid)
            ordered.append(rid)
    bodies = store.bodies(ordered)
    return [bodies[r] for r in ordered if r in bodies and not bodies[r].deleted]
