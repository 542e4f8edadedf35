"""Reading GIAMDINHHS envelopes: streamed (lxml iterparse, one HOSO in memory at a time), every
problem becomes a located issue instead of an exception."""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from vhr_conformance.i18n import Text
from vhr_conformance.inputs import InputProblem, is_stream, read_input
from vhr_conformance.xml130.issues import XmlIssue
from vhr_conformance.xml130.tables import DEFAULT_STANDARD, Standard, TableDef, load_standard

ROOT = "GIAMDINHHS"
# A decoded table bigger than this is refused (an encounter's XML2/XML3 is a few hundred KB at most).
MAX_TABLE_BYTES = 32 * 1024 * 1024
_ENC_RE = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _line(element: Any) -> int:
    """The element's line in the source (0 when lxml does not know it)."""
    return int(getattr(element, "sourceline", 0) or 0)


@dataclass(slots=True)
class Record:
    """One row of a table (XML1 has one, XML2… many): values by field name, with source lines."""

    table: str
    index: int
    tag: str
    path: str
    line: int
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    nested: list[tuple[str, int]] = field(default_factory=list)
    duplicates: list[tuple[str, int]] = field(default_factory=list)

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def loc(self, name: str) -> str:
        return f"{self.path}/{name}"


@dataclass(slots=True)
class Table:
    code: str
    root_tag: str
    line: int  # line of the FILEHOSO in the envelope
    records: list[Record] = field(default_factory=list)


@dataclass(slots=True)
class Encounter:
    """One HOSO: the tables of one encounter, and the issues met while reading them."""

    file: str
    index: int
    line: int
    macskcb: str = ""
    ngaylap: str = ""
    tables: dict[str, Table] = field(default_factory=dict)
    issues: list[XmlIssue] = field(default_factory=list)

    @property
    def xml1(self) -> Record | None:
        t = self.tables.get("XML1")
        return t.records[0] if t and t.records else None

    @property
    def ma_lk(self) -> str:
        r = self.xml1
        return r.get("MA_LK") if r else ""

    def records(self, code: str) -> list[Record]:
        t = self.tables.get(code)
        return t.records if t else []


def _issue(sev: str, code: str, loc: str, rule: str, text: Text, line: int | None, file: str) -> XmlIssue:
    return XmlIssue(sev, code, loc, rule, text, line, file)


def _secure_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


_PARSER = _secure_parser()


def parse_table(
    code: str, data: bytes, tdef: TableDef | None, env_line: int, file: str, issues: list[XmlIssue]
) -> Table | None:
    """Parse one decoded table XML into records; returns None (with an issue) when unreadable."""
    loc = f"{code}"
    m = _ENC_RE.match(data[:200])
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or (
        m and m.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8")
    ):
        issues.append(
            _issue(
                "error",
                "structure",
                loc,
                "XML130-ENV-003",
                Text(
                    "Bảng {c} không mã hóa UTF-8 (khai báo {e})",
                    "Table {c} is not UTF-8 encoded (declared {e})",
                ).format(c=code, e=(m.group(1).decode("ascii") if m else "UTF-16")),
                env_line,
                file,
            )
        )
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return None
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        issues.append(
            _issue(
                "error",
                "structure",
                loc,
                "XML130-ENV-005",
                Text(
                    "Nội dung bảng {c} không phải XML hợp lệ: {m}",
                    "Table {c} content is not well-formed XML: {m}",
                ).format(c=code, m=exc.msg),
                exc.lineno or None,
                file,
            )
        )
        return None
    table = Table(code=code, root_tag=root.tag if isinstance(root.tag, str) else "", line=env_line)
    if tdef is not None and table.root_tag != tdef.root:
        sev = "error" if tdef.conf in ("S", "P") else "warning"
        note = "" if sev == "error" else " (chưa xác nhận / unconfirmed)"
        issues.append(
            _issue(
                sev,
                "structure",
                f"{code}/{table.root_tag}",
                "XML130-ENV-013",
                Text(
                    "Phần tử gốc của {c} là {a}, mong đợi {b}" + note,
                    "Root element of {c} is {a}, expected {b}" + note,
                ).format(c=code, a=table.root_tag, b=tdef.root),
                _line(root),
                file,
            )
        )
    rec_tag = tdef.record if tdef else None
    elems = [root] if rec_tag == root.tag else list(root.iter(rec_tag)) if rec_tag else []
    if not elems:
        # record element not found under the expected name: take every element whose children are leaves
        elems = [e for e in root.iter() if isinstance(e.tag, str) and len(e) and all(len(c) == 0 for c in e)]
        if elems and tdef is not None:
            issues.append(
                _issue(
                    "warning",
                    "structure",
                    f"{code}/{elems[0].tag}",
                    "XML130-ENV-013",
                    Text(
                        "Bản ghi của {c} tên {a}, mong đợi {b}", "Records of {c} are named {a}, expected {b}"
                    ).format(c=code, a=elems[0].tag, b=tdef.record),
                    _line(elems[0]),
                    file,
                )
            )
    repeating = tdef.repeating if tdef else len(elems) > 1
    for i, e in enumerate(elems, 1):
        path = f"{code}/{e.tag}[{i}]" if repeating else f"{code}/{e.tag}"
        rec = Record(table=code, index=i, tag=e.tag, path=path, line=_line(e))
        for c in e.iterchildren(etree.Element):  # elements only: no comments, no PIs
            name = c.tag
            if len(c):
                rec.nested.append((name, _line(c)))
                continue
            if name in rec.values:
                rec.duplicates.append((name, _line(c)))
                continue
            rec.values[name] = (c.text or "").strip()
            rec.lines[name] = _line(c)
            rec.order.append(name)
        table.records.append(rec)
    return table


class EnvelopeReader:
    """Iterate the encounters (HOSO) of one envelope file; file-level issues land in ``issues``."""

    def __init__(
        self, source: Path | bytes, name: str | None = None, standard: str = DEFAULT_STANDARD
    ) -> None:
        self.source = source
        self.name = name or (str(source) if isinstance(source, Path) else "<bytes>")
        self.std: Standard = load_standard(standard)
        self.issues: list[XmlIssue] = []
        self.macskcb = ""
        self.ngaylap = ""
        self.soluonghoso: str | None = None
        self.count = 0
        self.signed = False

    def _add(self, sev: str, code: str, loc: str, rule: str, text: Text, line: int | None) -> None:
        self.issues.append(_issue(sev, code, loc, rule, text, line, self.name))

    def _head(self) -> bytes:
        if isinstance(self.source, bytes):
            return self.source[:200]
        with self.source.open("rb") as fh:
            return fh.read(200)

    def __iter__(self) -> Iterator[Encounter]:
        if isinstance(self.source, Path) and is_stream(self.source):
            # A pipe or FIFO can be read only once (the head would be lost to the sniffing below)
            # and may have no writer: read it whole, with a bounded wait.
            try:
                self.source = read_input(self.source)
            except InputProblem as exc:
                self._add("fatal", "exception", "ENVELOPE", "XML130-ENV-000", exc.text, None)
                return
        try:
            head = self._head()
        except OSError as exc:
            self._add(
                "fatal",
                "exception",
                "ENVELOPE",
                "XML130-ENV-000",
                Text("Không đọc được tệp: {e}", "Cannot read file: {e}").format(e=exc.strerror or exc),
                None,
            )
            return
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            self._add(
                "fatal",
                "structure",
                "ENVELOPE",
                "XML130-ENV-003",
                Text("Tệp mã hóa UTF-16, phải là UTF-8", "File is UTF-16 encoded, must be UTF-8"),
                1,
            )
            return
        m = _ENC_RE.match(head)
        if m and m.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
            self._add(
                "error",
                "structure",
                "ENVELOPE",
                "XML130-ENV-003",
                Text(
                    "Tệp khai báo mã hóa {e}, phải là UTF-8", "File declares encoding {e}, must be UTF-8"
                ).format(e=m.group(1).decode("ascii")),
                1,
            )
        src = io.BytesIO(self.source) if isinstance(self.source, bytes) else str(self.source)
        ctx = etree.iterparse(
            src,
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
        )
        first = True
        try:
            for event, elem in ctx:
                if first:
                    first = False
                    if elem.tag != ROOT:
                        self._add(
                            "fatal",
                            "structure",
                            f"ENVELOPE/{elem.tag}",
                            "XML130-ENV-002",
                            Text(
                                "Phần tử gốc là {t}, phải là GIAMDINHHS",
                                "Root element is {t}, must be GIAMDINHHS",
                            ).format(t=elem.tag),
                            _line(elem),
                        )
                        return
                if event != "end":
                    continue
                tag = elem.tag
                if tag == "HOSO":
                    self.count += 1
                    yield self._hoso(elem, self.count)
                    elem.clear(keep_tail=False)
                    parent = elem.getparent()
                    while parent is not None and elem.getprevious() is not None:
                        del parent[0]
                elif tag == "MACSKCB":
                    self.macskcb = (elem.text or "").strip()
                elif tag == "NGAYLAP":
                    self.ngaylap = (elem.text or "").strip()
                    if not re.fullmatch(r"\d{8}", self.ngaylap):
                        self._add(
                            "error",
                            "value",
                            "ENVELOPE/THONGTINHOSO/NGAYLAP",
                            "XML130-ENV-010",
                            Text("NGAYLAP '{v}' không đúng yyyyMMdd", "NGAYLAP '{v}' is not yyyyMMdd").format(
                                v=self.ngaylap
                            ),
                            _line(elem),
                        )
                elif tag == "SOLUONGHOSO":
                    self.soluonghoso = (elem.text or "").strip()
                elif tag == "CHUKYDONVI":
                    self.signed = bool(len(elem) or (elem.text or "").strip())
        except etree.XMLSyntaxError as exc:
            self._add(
                "fatal",
                "structure",
                "ENVELOPE",
                "XML130-ENV-001",
                Text("Tệp không phải XML hợp lệ: {m}", "File is not well-formed XML: {m}").format(m=exc.msg),
                exc.lineno or None,
            )
            return
        except OSError as exc:
            self._add(
                "fatal",
                "exception",
                "ENVELOPE",
                "XML130-ENV-000",
                Text("Không đọc được tệp: {e}", "Cannot read file: {e}").format(e=exc),
                None,
            )
            return
        if first:
            self._add(
                "fatal", "structure", "ENVELOPE", "XML130-ENV-001", Text("Tệp rỗng", "File is empty"), None
            )
            return
        if not self.macskcb:
            self._add(
                "error",
                "required",
                "ENVELOPE/THONGTINDONVI/MACSKCB",
                "XML130-ENV-009",
                Text("Thiếu MACSKCB của đơn vị", "Facility MACSKCB is missing"),
                None,
            )
        if self.soluonghoso is not None and self.soluonghoso != str(self.count):
            self._add(
                "error",
                "business-rule",
                "ENVELOPE/THONGTINHOSO/SOLUONGHOSO",
                "XML130-ENV-008",
                Text(
                    "SOLUONGHOSO = {a} nhưng có {b} HOSO", "SOLUONGHOSO = {a} but the file holds {b} HOSO"
                ).format(a=self.soluonghoso, b=self.count),
                None,
            )
        if self.count == 0:
            self._add(
                "error",
                "required",
                "ENVELOPE/THONGTINHOSO/DANHSACHHOSO",
                "XML130-ENV-007",
                Text("Tệp không có HOSO nào", "File holds no HOSO"),
                None,
            )
        if not self.signed:
            self._add(
                "information",
                "informational",
                "ENVELOPE/CHUKYDONVI",
                "XML130-ENV-014",
                Text(
                    "Không có chữ ký đơn vị (CHUKYDONVI); chữ ký không được kiểm tra",
                    "No facility signature (CHUKYDONVI); signatures are not verified",
                ),
                None,
            )

    def _hoso(self, hoso: etree._Element, index: int) -> Encounter:
        enc = Encounter(
            file=self.name, index=index, line=_line(hoso), macskcb=self.macskcb, ngaylap=self.ngaylap
        )
        for fh in hoso.iter("FILEHOSO"):
            loai_el = fh.find("LOAIHOSO")
            body_el = fh.find("NOIDUNGFILE")
            loai = (loai_el.text or "").strip().upper() if loai_el is not None else ""
            line = _line(fh)
            where = f"ENVELOPE/HOSO[{index}]/FILEHOSO"
            if not loai:
                enc.issues.append(
                    _issue(
                        "error",
                        "required",
                        f"{where}/LOAIHOSO",
                        "XML130-ENV-006",
                        Text("Thiếu LOAIHOSO", "LOAIHOSO is missing"),
                        line,
                        self.name,
                    )
                )
                continue
            tdef = self.std.table(loai)
            if tdef is None:
                enc.issues.append(
                    _issue(
                        "warning",
                        "not-supported",
                        f"{where}/LOAIHOSO",
                        "XML130-ENV-006",
                        Text(
                            "Bảng {c} không có trong định nghĩa {s}; không kiểm tra",
                            "Table {c} is not in the {s} definitions; not checked",
                        ).format(c=loai, s=self.std.standard),
                        line,
                        self.name,
                    )
                )
            if loai in enc.tables:
                enc.issues.append(
                    _issue(
                        "error",
                        "structure",
                        f"{where}/LOAIHOSO",
                        "XML130-ENV-012",
                        Text(
                            "Bảng {c} xuất hiện hai lần trong một HOSO", "Table {c} appears twice in one HOSO"
                        ).format(c=loai),
                        line,
                        self.name,
                    )
                )
                continue
            raw = (body_el.text or "") if body_el is not None else ""
            if not raw.strip():
                enc.issues.append(
                    _issue(
                        "error",
                        "required",
                        f"{where}/NOIDUNGFILE",
                        "XML130-ENV-004",
                        Text("NOIDUNGFILE của {c} rỗng", "NOIDUNGFILE of {c} is empty").format(c=loai),
                        line,
                        self.name,
                    )
                )
                continue
            if len(raw) * 3 // 4 > MAX_TABLE_BYTES:
                enc.issues.append(
                    _issue(
                        "error",
                        "too-costly",
                        f"{where}/NOIDUNGFILE",
                        "XML130-ENV-011",
                        Text("Bảng {c} quá lớn (> {n} MB)", "Table {c} is too large (> {n} MB)").format(
                            c=loai, n=MAX_TABLE_BYTES // 2**20
                        ),
                        line,
                        self.name,
                    )
                )
                continue
            try:
                data = base64.b64decode("".join(raw.split()), validate=True)
            except (binascii.Error, ValueError) as exc:
                enc.issues.append(
                    _issue(
                        "error",
                        "structure",
                        f"{where}/NOIDUNGFILE",
                        "XML130-ENV-004",
                        Text(
                            "NOIDUNGFILE của {c} không phải base64 hợp lệ: {m}",
                            "NOIDUNGFILE of {c} is not valid base64: {m}",
                        ).format(c=loai, m=exc),
                        line,
                        self.name,
                    )
                )
                continue
            table = parse_table(loai, data, tdef, line, self.name, enc.issues)
            if table is not None:
                enc.tables[loai] = table
        if "XML1" not in enc.tables:
            enc.issues.append(
                _issue(
                    "error",
                    "required",
                    f"ENVELOPE/HOSO[{index}]",
                    "XML130-ENV-007",
                    Text("HOSO không có bảng XML1 đọc được", "HOSO has no readable XML1 table"),
                    enc.line,
                    self.name,
                )
            )
        return enc
