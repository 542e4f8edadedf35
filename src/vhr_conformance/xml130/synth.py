"""Producing XML 130 envelopes: from plain table rows, from FHIR transaction Bundles (so each
generated FHIR fixture has its XML twin), synthetic encounters for tests and benchmarks, and
negative cases that each break one rule. All data is synthetic."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from vhr_conformance.vn import admin, bhyt
from vhr_conformance.xml130.tables import DEFAULT_STANDARD, Standard, load_standard

Rows = dict[str, list[dict[str, str]]]  # table code → rows (field → value)


def render_table(code: str, rows: list[dict[str, str]], std: Standard | None = None) -> bytes:
    """The UTF-8 table XML that goes, base64-encoded, into NOIDUNGFILE. Every defined field is
    written in definition order (empty when no value), as facility software does."""
    std = std or load_standard()
    t = std.tables[code]
    out = ['<?xml version="1.0" encoding="utf-8"?>\n']
    recs = []
    for row in rows:
        parts = [f"<{t.record}>\n"]
        for f in t.fields:
            v = row.get(f.name, "")
            parts.append(f"<{f.name}>{escape(v)}</{f.name}>\n")
        extra = [k for k in row if k not in t.by_name]
        parts.extend(f"<{k}>{escape(row[k])}</{k}>\n" for k in extra)
        parts.append(f"</{t.record}>\n")
        recs.append("".join(parts))
    body = "".join(recs)
    if t.record == t.root:
        out.append(body)
    elif t.list_tag:
        out.append(f"<{t.root}>\n<{t.list_tag}>\n{body}</{t.list_tag}>\n</{t.root}>\n")
    else:
        out.append(f"<{t.root}>\n{body}</{t.root}>\n")
    return "".join(out).encode("utf-8")


def render_envelope(
    encounters: Iterable[Rows],
    macskcb: str,
    ngaylap: str,
    std: Standard | None = None,
    tamper: Callable[[str, bytes], bytes] | None = None,
) -> bytes:
    """A GIAMDINHHS envelope holding one HOSO per encounter. ``tamper`` may rewrite a table's
    decoded bytes (used to build negative cases)."""
    std = std or load_standard()
    hoso = []
    for enc in encounters:
        files = []
        for code in sorted(enc, key=_table_sort):
            data = render_table(code, enc[code], std)
            if tamper:
                data = tamper(code, data)
            b64 = base64.b64encode(data).decode("ascii")
            files.append(
                f"<FILEHOSO>\n<LOAIHOSO>{code}</LOAIHOSO>\n<NOIDUNGFILE>{b64}</NOIDUNGFILE>\n</FILEHOSO>\n"
            )
        hoso.append("<HOSO>\n" + "".join(files) + "</HOSO>\n")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<GIAMDINHHS>\n'
        f"<THONGTINDONVI>\n<MACSKCB>{escape(macskcb)}</MACSKCB>\n</THONGTINDONVI>\n"
        f"<THONGTINHOSO>\n<NGAYLAP>{ngaylap}</NGAYLAP>\n<SOLUONGHOSO>{len(hoso)}</SOLUONGHOSO>\n"
        "<DANHSACHHOSO>\n" + "".join(hoso) + "</DANHSACHHOSO>\n</THONGTINHOSO>\n"
        "<CHUKYDONVI></CHUKYDONVI>\n</GIAMDINHHS>\n"
    ).encode("utf-8")


def _table_sort(code: str) -> int:
    return int(code[3:]) if code[3:].isdigit() else 99


# ---- synthetic encounters (no dependency on the FHIR generator) --------------------------------
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE_M = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Thành"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Thanh", "Mai", "Kim"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Hùng", "Khánh", "Long", "Nam", "Phúc", "Sơn", "Tuấn"]
GIVEN_F = ["Anh", "Chi", "Dung", "Hà", "Hoa", "Lan", "Linh", "Mai", "Nga", "Thảo", "Trang", "Yến"]
# (ICD-10 code, text) pairs present in WHO 2019
DIAGNOSES = [
    ("J18.9", "Viêm phổi"),
    ("I10", "Tăng huyết áp vô căn"),
    ("E11.9", "Đái tháo đường típ 2"),
    ("K29.7", "Viêm dạ dày"),
    ("J06.9", "Nhiễm trùng hô hấp trên cấp"),
    ("A09", "Tiêu chảy nhiễm trùng"),
    ("M54.5", "Đau thắt lưng"),
    ("N39.0", "Nhiễm trùng đường tiết niệu"),
    ("J45.9", "Hen phế quản"),
    ("K35.8", "Viêm ruột thừa cấp"),
    ("I20.9", "Cơn đau thắt ngực"),
    ("E78.5", "Tăng lipid máu"),
]
DRUGS = [
    ("40.17", "Paracetamol", "500mg", "Viên", "1.01", Decimal("500")),
    ("40.123", "Amoxicilin", "500mg", "Viên", "1.01", Decimal("1200")),
    ("40.677", "Metformin", "850mg", "Viên", "1.01", Decimal("650")),
    ("40.491", "Amlodipin", "5mg", "Viên", "1.01", Decimal("350")),
    ("40.911", "Natri clorid 0,9%", "500ml", "Chai", "2.15", Decimal("9800")),
]
SERVICES = [
    ("02.1900.0001", "Khám Nội", Decimal("34500")),
    ("18.0001.0028", "Chụp X-quang ngực thẳng", Decimal("65400")),
    ("22.0120.1370", "Tổng phân tích tế bào máu ngoại vi", Decimal("46200")),
    ("23.0075.1494", "Định lượng Glucose", Decimal("21500")),
    ("21.0014.0001", "Điện tim thường", Decimal("32800")),
]
LABS = [
    ("2345-7", "Glucose", "mmol/L", (4.0, 9.5)),
    ("718-7", "Hemoglobin", "g/L", (110.0, 160.0)),
    ("2160-0", "Creatinine", "umol/L", (50.0, 120.0)),
    ("6690-2", "Bạch cầu", "10*9/L", (4.0, 12.0)),
]
LEGACY_PROVINCES = ["01", "24", "31", "38", "48", "79", "92", "30", "36", "46"]


def _pick_group(rng: random.Random, age: int) -> str:
    """A beneficiary group of QĐ 1351 (vn.bhyt) the age allows, weighted as the FHIR generator
    draws them (generator.tables.BHYT_GROUPS: TE under 6 only, HT from 55…)."""
    from vhr_conformance.generator.tables import BHYT_GROUPS, BHYT_MINORITY_ONLY  # data only

    pairs = [
        (code, share)
        for code, (share, lo, hi) in BHYT_GROUPS.items()
        if lo <= age <= hi and code in bhyt.groups() and code not in BHYT_MINORITY_ONLY  # MA_DANTOC 01
    ]
    return rng.choices([c for c, _ in pairs], [w for _, w in pairs])[0]


def _fmt_money(d: Decimal) -> str:
    return format(d.quantize(Decimal("0.01")).normalize(), "f")


def _cccd(rng: random.Random, prov: str, year: int, male: bool) -> str:
    century = year // 100 - 19
    return f"0{prov}{century * 2 + (0 if male else 1)}{year % 100:02d}{rng.randrange(10**6):06d}"


@dataclass(frozen=True, slots=True)
class SynthOptions:
    macskcb: str = "01013"
    xml4: bool = True
    xml5: bool = True


def synthetic_encounter(rng: random.Random, n: int, opts: SynthOptions = SynthOptions()) -> Rows:
    """One plausible encounter (all tables consistent, passes every rule)."""
    male = rng.random() < 0.5
    year = rng.randint(1935, 2022)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    prov = rng.choice(LEGACY_PROVINCES)
    name = " ".join(
        [
            rng.choice(FAMILY),
            rng.choice(MIDDLE_M if male else MIDDLE_F),
            rng.choice(GIVEN_M if male else GIVEN_F),
        ]
    )
    inpatient = rng.random() < 0.4
    start_day = rng.randint(1, 20)
    vao = f"2026{rng.randint(1, 6):02d}{start_day:02d}{rng.randint(7, 16):02d}{rng.choice(['00', '15', '30', '45'])}"
    days = rng.randint(2, 7) if inpatient else 0
    ra_day = start_day + days
    ra = f"{vao[:6]}{ra_day:02d}{(int(vao[8:10]) + (0 if inpatient else 2)):02d}{vao[10:]}"
    ma_lk = f"{opts.macskcb}.{vao[:8]}.{n:06d}"
    main, main_text = rng.choice(DIAGNOSES)
    secondary = rng.sample([d for d in DIAGNOSES if d[0] != main], rng.randint(0, 3))
    group = bhyt.groups()[_pick_group(rng, 2026 - year)]
    level = rng.choice(sorted(group.levels))  # only a level the group carries (QĐ 1351)
    card = f"{group.code}{level}{prov}{rng.randrange(10**10):010d}"
    rate = bhyt.rates()[level]  # what the fund pays of each row, by the card's level
    home = admin.successor(prov) or prov  # residence: the 2025 province of the birth province
    communes = admin.communes_of(home)
    commune = rng.choice(communes) if communes else ""
    xml2, xml3, xml4, xml5 = [], [], [], []
    total = Decimal(0)
    for i, (code, tname, strength, unit, route, price) in enumerate(rng.sample(DRUGS, rng.randint(1, 4)), 1):
        qty = Decimal(rng.randint(1, 30))
        tt = qty * price
        total += tt
        xml2.append(
            {
                "MA_LK": ma_lk,
                "STT": str(i),
                "MA_THUOC": code,
                "MA_NHOM": "4",
                "TEN_THUOC": tname,
                "DON_VI_TINH": unit,
                "HAM_LUONG": strength,
                "DUONG_DUNG": route,
                "LIEU_DUNG": f"1 {unit.lower()}/lần, 2 lần/ngày",
                "CACH_DUNG": "Sau ăn",
                "SO_DANG_KY": f"VD-{rng.randint(10000, 39999)}-{rng.randint(17, 25)}",
                "PHAM_VI": "1",
                "TYLE_TT_BH": "100",
                "SO_LUONG": str(qty),
                "DON_GIA": _fmt_money(price),
                "THANH_TIEN_BV": _fmt_money(tt),
                "THANH_TIEN_BH": _fmt_money(tt),
                "MUC_HUONG": str(rate),
                "MA_KHOA": "K01",
                "MA_BAC_SI": f"BS{rng.randint(1000, 9999)}",
                "NGAY_YL": vao,
                "NGAY_TH_YL": vao,
                "NGUON_CTRA": "1",
            }
        )
    for i, (code, sname, price) in enumerate(rng.sample(SERVICES, rng.randint(1, 3)), 1):
        qty = Decimal(1)
        total += price
        done = f"{vao[:10]}{min(59, int(vao[10:]) + 10):02d}"
        xml3.append(
            {
                "MA_LK": ma_lk,
                "STT": str(i),
                "MA_DICH_VU": code,
                "MA_NHOM": "1",
                "TEN_DICH_VU": sname,
                "DON_VI_TINH": "Lần",
                "PHAM_VI": "1",
                "SO_LUONG": str(qty),
                "DON_GIA_BV": _fmt_money(price),
                "DON_GIA_BH": _fmt_money(price),
                "TYLE_TT_DV": "100",
                "TYLE_TT_BH": "100",
                "THANH_TIEN_BV": _fmt_money(price * qty),
                "THANH_TIEN_BH": _fmt_money(price * qty),
                "MUC_HUONG": str(rate),
                "MA_KHOA": "K01",
                "MA_BAC_SI": f"BS{rng.randint(1000, 9999)}",
                "MA_BENH": main,
                "NGAY_YL": vao,
                "NGAY_TH_YL": done,
                "NGAY_KQ": done,
            }
        )
    if opts.xml4:
        for i, (loinc, lname, unit, (lo, hi)) in enumerate(rng.sample(LABS, rng.randint(1, 3)), 1):
            xml4.append(
                {
                    "MA_LK": ma_lk,
                    "STT": str(i),
                    "MA_DICH_VU": "22.0120.1370",
                    "MA_CHI_SO": loinc,
                    "TEN_CHI_SO": lname,
                    "GIA_TRI": f"{rng.uniform(lo, hi):.1f}",
                    "DON_VI_DO": unit,
                    "NGAY_KQ": f"{vao[:10]}{min(59, int(vao[10:]) + 10):02d}",
                    "MA_BS_DOC_KQ": "BS1001",
                }
            )
    if opts.xml5:
        xml5.append(
            {
                "MA_LK": ma_lk,
                "STT": "1",
                "DIEN_BIEN_LS": "Tỉnh, tiếp xúc tốt",
                "THOI_DIEM_DBLS": vao,
                "NGUOI_THUC_HIEN": "BS1001",
            }
        )
    weight = f"{rng.uniform(8 if year > 2015 else 40, 25 if year > 2015 else 80):.1f}"
    xml1 = {
        "MA_LK": ma_lk,
        "STT": "1",
        "MA_BN": f"BN{n:08d}",
        "HO_TEN": name,
        "SO_CCCD": _cccd(rng, f"{int(prov):02d}", year, male),
        "NGAY_SINH": f"{year}{month:02d}{day:02d}0000",
        "GIOI_TINH": "1" if male else "2",
        "MA_QUOCTICH": "000",
        "MA_DANTOC": "01",
        "MA_NGHE_NGHIEP": "00000",
        "DIA_CHI": "Số 1 phố Tổng hợp, Hà Nội",
        "DIEN_THOAI": f"09{rng.randrange(10**8):08d}",
        "MATINH_CU_TRU": home if commune else "",
        "MAXA_CU_TRU": commune,
        "MA_THE_BHYT": card,
        "MA_DKBD": opts.macskcb,
        "GT_THE_TU": "20260101",
        "GT_THE_DEN": "20261231",
        "LY_DO_VV": "Khám bệnh",
        "CHAN_DOAN_VAO": main_text,
        "CHAN_DOAN_RV": main_text,
        "MA_BENH_CHINH": main,
        "MA_BENH_KT": ";".join(c for c, _ in secondary),
        "MA_DOITUONG_KCB": "1.1",
        "MA_TAI_NAN": "0",
        "NGAY_VAO": vao,
        "NGAY_VAO_NOI_TRU": vao if inpatient else "",
        "NGAY_RA": ra,
        "SO_NGAY_DTRI": str(days + 1 if inpatient else 0),
        "KET_QUA_DTRI": "1" if inpatient else "2",
        "MA_LOAI_RV": "1",
        "NGAY_TTOAN": ra,
        "T_THUOC": _fmt_money(sum((Decimal(r["THANH_TIEN_BV"]) for r in xml2), Decimal(0))),
        "T_VTYT": "0",
        "T_TONGCHI_BV": _fmt_money(total),
        "T_TONGCHI_BH": _fmt_money(total),
        "T_BNTT": "0",
        "T_BNCCT": _fmt_money(total * (100 - rate) / 100),
        "T_BHTT": _fmt_money(total * rate / 100),
        "T_NGUONKHAC": "0",
        "T_BHTT_GDV": "0",
        "NAM_QT": vao[:4],
        "THANG_QT": str(int(vao[4:6])),
        "MA_LOAI_KCB": "03" if inpatient else "01",
        "MA_KHOA": "K01",
        "MA_CSKCB": opts.macskcb,
        "CAN_NANG": weight,
        "MA_HSBA": f"HS{n:08d}",
    }
    rows: Rows = {"XML1": [xml1], "XML2": xml2, "XML3": xml3}
    if xml4:
        rows["XML4"] = xml4
    if xml5:
        rows["XML5"] = xml5
    return rows


def synthetic_envelopes(count: int, seed: int = 130, opts: SynthOptions = SynthOptions()) -> list[bytes]:
    """``count`` one-encounter envelope files (deterministic for a seed)."""
    rng = random.Random(seed)
    out = []
    for n in range(1, count + 1):
        rows = synthetic_encounter(rng, n, opts)
        out.append(render_envelope([rows], opts.macskcb, rows["XML1"][0]["NGAY_RA"][:8]))
    return out


# ---- negative cases: each breaks one rule -------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NegativeCase:
    name: str
    rule: str
    location: str
    description: str
    data: bytes


def _mut(rows: Rows, table: str, field: str, value: str, index: int = 0) -> Rows:
    new = {k: [dict(r) for r in v] for k, v in rows.items()}
    new[table][index][field] = value
    return new


def negative_cases(seed: int = 7) -> list[NegativeCase]:
    """Envelopes that each break exactly one rule, with the rule id and location expected."""
    rng = random.Random(seed)
    base = synthetic_encounter(rng, 1)
    # a base with two drug rows so STT and amount rules have something to break
    while len(base["XML2"]) < 2:
        base = synthetic_encounter(rng, 1)
    x1 = base["XML1"][0]
    mac, day = x1["MA_CSKCB"], x1["NGAY_RA"][:8]

    def env(rows: Rows, tamper: Callable[[str, bytes], bytes] | None = None) -> bytes:
        return render_envelope([rows], mac, day, tamper=tamper)

    def total_with(rows: Rows) -> Rows:
        t = sum((Decimal(r["THANH_TIEN_BV"]) for c in ("XML2", "XML3") for r in rows[c]), Decimal(0))
        return _mut(rows, "XML1", "T_TONGCHI_BV", _fmt_money(t))

    d0 = base["XML2"][0]
    wrong_tt = _mut(base, "XML2", "THANH_TIEN_BV", _fmt_money(Decimal(d0["THANH_TIEN_BV"]) + 1000))
    cccd = x1["SO_CCCD"]
    swapped_sex = "2" if x1["GIOI_TINH"] == "1" else "1"
    before = f"{int(x1['NGAY_VAO'][:4]) - 1}{x1['NGAY_VAO'][4:]}"
    cases = [
        (
            "ma-lk-mismatch",
            "XML130-X-001",
            "XML2/CHI_TIET_THUOC[1]/MA_LK",
            "XML2 row with another MA_LK",
            env(_mut(base, "XML2", "MA_LK", x1["MA_LK"] + "X")),
        ),
        (
            "stt-gap",
            "XML130-X-002",
            "XML2/CHI_TIET_THUOC[2]/STT",
            "XML2 STT 1, 3",
            env(_mut(base, "XML2", "STT", "3", 1)),
        ),
        (
            "total-mismatch",
            "XML130-X-003",
            "XML1/TONG_HOP/T_TONGCHI_BV",
            "T_TONGCHI_BV off by 5000",
            env(_mut(base, "XML1", "T_TONGCHI_BV", _fmt_money(Decimal(x1["T_TONGCHI_BV"]) + 5000))),
        ),
        (
            "line-amount",
            "XML130-X-004",
            "XML2/CHI_TIET_THUOC[1]/THANH_TIEN_BV",
            "THANH_TIEN_BV ≠ SO_LUONG × DON_GIA",
            env(total_with(wrong_tt)),
        ),
        (
            "discharge-before-admission",
            "XML130-X-005",
            "XML1/TONG_HOP/NGAY_RA",
            "NGAY_RA a year before NGAY_VAO",
            env(_mut(_mut(base, "XML1", "NGAY_RA", before), "XML1", "NGAY_TTOAN", before)),
        ),
        (
            "order-outside-stay",
            "XML130-X-006",
            "XML2/CHI_TIET_THUOC[1]/NGAY_YL",
            "NGAY_YL a year before admission",
            env(_mut(_mut(base, "XML2", "NGAY_YL", before), "XML2", "NGAY_TH_YL", before)),
        ),
        (
            "icd-malformed",
            "XML130-ICD-001",
            "XML1/TONG_HOP/MA_BENH_CHINH",
            "MA_BENH_CHINH not ICD-10 shaped",
            env(_mut(base, "XML1", "MA_BENH_CHINH", "12345")),
        ),
        (
            "facility-code",
            "XML130-ID-001",
            "XML1/TONG_HOP/MA_NOI_DEN",
            "MA_NOI_DEN of 4 letters",
            env(_mut(base, "XML1", "MA_NOI_DEN", "ABCD")),
        ),
        (
            "bhyt-format",
            "vhr-bhyt-1",
            "XML1/TONG_HOP/MA_THE_BHYT",
            "MA_THE_BHYT of 14 characters",
            env(_mut(base, "XML1", "MA_THE_BHYT", x1["MA_THE_BHYT"][:14])),
        ),
        (
            "bhyt-group",
            "vhr-bhyt-2",
            "XML1/TONG_HOP/MA_THE_BHYT",
            "MA_THE_BHYT with group ZZ (not in QĐ 1351/QĐ-BHXH)",
            env(_mut(base, "XML1", "MA_THE_BHYT", "ZZ" + x1["MA_THE_BHYT"][2:])),
        ),
        (
            "bhyt-province",
            "vhr-bhyt-4",
            "XML1/TONG_HOP/MA_THE_BHYT",
            "MA_THE_BHYT with province digits 03",
            env(_mut(base, "XML1", "MA_THE_BHYT", x1["MA_THE_BHYT"][:3] + "03" + x1["MA_THE_BHYT"][5:])),
        ),
        (
            "cccd-prefix",
            "vhr-cccd-2",
            "XML1/TONG_HOP/SO_CCCD",
            "SO_CCCD starting 003 (inside 001–096, but no province has code 03)",
            env(_mut(base, "XML1", "SO_CCCD", "003" + cccd[3:])),
        ),
        (
            "commune-province",
            "VN-ADDR-001",
            "XML1/TONG_HOP/MATINH_CU_TRU",
            "MATINH_CU_TRU another province than MAXA_CU_TRU's",
            env(_mut(base, "XML1", "MATINH_CU_TRU", "79" if x1["MATINH_CU_TRU"] != "79" else "01")),
        ),
        (
            "ethnicity-code",
            "XML130-CODE-003",
            "XML1/TONG_HOP/MA_DANTOC",
            "MA_DANTOC 60 (no ethnic group)",
            env(_mut(base, "XML1", "MA_DANTOC", "60")),
        ),
        (
            "province-code",
            "XML130-ADDR-001",
            "XML1/TONG_HOP/MATINH_CU_TRU",
            "MATINH_CU_TRU 99 (no province)",
            env(_mut(base, "XML1", "MATINH_CU_TRU", "99")),
        ),
        (
            "cccd-length",
            "vhr-cccd-1",
            "XML1/TONG_HOP/SO_CCCD",
            "SO_CCCD of 11 digits",
            env(_mut(base, "XML1", "SO_CCCD", cccd[:11])),
        ),
        (
            "cccd-sex",
            "vhr-cccd-3",
            "XML1/TONG_HOP/SO_CCCD",
            "GIOI_TINH swapped against SO_CCCD",
            env(_mut(base, "XML1", "GIOI_TINH", swapped_sex)),
        ),
        (
            "cccd-year",
            "vhr-cccd-4",
            "XML1/TONG_HOP/SO_CCCD",
            "SO_CCCD digits 5–6 not the birth year",
            env(_mut(base, "XML1", "SO_CCCD", cccd[:4] + f"{(int(cccd[4:6]) + 1) % 100:02d}" + cccd[6:])),
        ),
        (
            "required-missing",
            "XML130-FLD-001",
            "XML1/TONG_HOP/HO_TEN",
            "HO_TEN empty",
            env(_mut(base, "XML1", "HO_TEN", "")),
        ),
        (
            "too-long",
            "XML130-FLD-004",
            "XML1/TONG_HOP/MA_BENH_CHINH",
            "MA_BENH_CHINH of 8 characters",
            env(_mut(base, "XML1", "MA_BENH_CHINH", "J18.9999")),
        ),
        (
            "bad-date",
            "XML130-FLD-005",
            "XML1/TONG_HOP/NGAY_VAO",
            "NGAY_VAO with month 13",
            env(_mut(base, "XML1", "NGAY_VAO", x1["NGAY_VAO"][:4] + "13" + x1["NGAY_VAO"][6:])),
        ),
        (
            "bad-code",
            "XML130-FLD-006",
            "XML1/TONG_HOP/GIOI_TINH",
            "GIOI_TINH 4",
            env(_mut(base, "XML1", "GIOI_TINH", "4")),
        ),
        (
            "bad-base64",
            "XML130-ENV-004",
            "ENVELOPE/HOSO[1]/FILEHOSO/NOIDUNGFILE",
            "NOIDUNGFILE of XML3 not base64",
            env(base).replace(
                b"<LOAIHOSO>XML3</LOAIHOSO>\n<NOIDUNGFILE>", b"<LOAIHOSO>XML3</LOAIHOSO>\n<NOIDUNGFILE>!!"
            ),
        ),
        (
            "table-not-xml",
            "XML130-ENV-005",
            "XML3",
            "XML3 content truncated",
            env(base, tamper=lambda c, d: d[: len(d) // 2] if c == "XML3" else d),
        ),
        (
            "table-latin1",
            "XML130-ENV-003",
            "XML5",
            "XML5 declared and encoded as ISO-8859-1",
            env(
                base,
                tamper=lambda c, d: (
                    d.replace(b'encoding="utf-8"', b'encoding="iso-8859-1"') if c == "XML5" else d
                ),
            ),
        ),
        ("malformed-envelope", "XML130-ENV-001", "ENVELOPE", "envelope cut in the middle", env(base)[:-40]),
        (
            "wrong-root",
            "XML130-ENV-002",
            "ENVELOPE/GIAMDINH",
            "root element renamed",
            env(base).replace(b"GIAMDINHHS>", b"GIAMDINH>"),
        ),
    ]
    return [NegativeCase(*c) for c in cases]


# ---- FHIR → XML: the XML twin of a transaction Bundle --------------------------------------------
def bundle_to_rows(bundle: dict[str, Any]) -> list[Rows]:
    """The XML 130 tables of each Encounter of a generator transaction Bundle (see
    :func:`vhr_conformance.xml130.mapping.bundle_to_rows`)."""
    from vhr_conformance.xml130.mapping import bundle_to_rows as to_rows

    return to_rows(bundle)


def bundle_to_envelopes(bundle: dict[str, Any], std: str = DEFAULT_STANDARD) -> list[tuple[str, bytes]]:
    """``(MA_LK, envelope)`` per Encounter of the Bundle: its XML twins, one file per encounter as
    facilities send them (an envelope belongs to one facility, a patient's encounters do not)."""
    out = []
    for rows in bundle_to_rows(bundle):
        x1 = rows["XML1"][0]
        day = (x1.get("NGAY_RA") or x1.get("NGAY_VAO") or "")[:8]
        out.append(
            (x1.get("MA_LK", ""), render_envelope([rows], x1.get("MA_CSKCB", ""), day, load_standard(std)))
        )
    return out
