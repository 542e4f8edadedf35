"""Mapping fidelity: does a vendor's FHIR say the same thing as its XML 130?

Both sides are reduced to the same *facts* — one value per (MAP criterion, XML field, FHIR path)
for one MA_LK — and the facts are compared. The expected side is our conversion of the XML
(:mod:`vhr_conformance.xml130.convert`); the actual side is whatever resources the vendor holds
for that encounter (a Bundle of any type, or a list of resources). Criteria ids are proposed for
the suites catalogue in docs/xml130.md.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vhr_conformance.i18n import Text
from vhr_conformance.xml130 import mapping as m

# criterion id → (title vi, title en); the MAP criteria proposed to the suites owner
CRITERIA: dict[str, Text] = {
    "MAP-ENC-001": Text(
        "Có Encounter mang MA_LK của hồ sơ XML", "An Encounter carries the XML record's MA_LK"
    ),
    "MAP-ENC-002": Text(
        "Thời gian vào/ra viện trùng NGAY_VAO/NGAY_RA (giờ +07:00)",
        "Encounter period equals NGAY_VAO/NGAY_RA (+07:00 local time)",
    ),
    "MAP-ENC-003": Text(
        "Hình thức KCB, đối tượng, kết quả điều trị, loại ra viện trùng XML",
        "Form of care, patient category, treatment result and discharge type equal the XML",
    ),
    "MAP-ENC-004": Text("Cơ sở KCB của lượt KCB trùng MA_CSKCB", "The encounter's facility equals MA_CSKCB"),
    "MAP-PAT-001": Text("Số CCCD của người bệnh trùng SO_CCCD", "The patient's CCCD equals SO_CCCD"),
    "MAP-PAT-002": Text(
        "Họ tên (họ, tên đệm, tên) trùng HO_TEN theo thứ tự Việt Nam",
        "Name (family, middle, given) equals HO_TEN in Vietnamese order",
    ),
    "MAP-PAT-003": Text(
        "Ngày sinh trùng NGAY_SINH (kể cả ngày/tháng 00)",
        "Birth date equals NGAY_SINH (00 day/month included)",
    ),
    "MAP-PAT-004": Text(
        "Giới tính trùng GIOI_TINH (1 nam, 2 nữ, 3 chưa xác định)",
        "Gender equals GIOI_TINH (1 male, 2 female, 3 unknown)",
    ),
    "MAP-COV-001": Text(
        "Thẻ BHYT và hạn thẻ trùng MA_THE_BHYT, GT_THE_TU, GT_THE_DEN",
        "BHYT cards and validity equal MA_THE_BHYT, GT_THE_TU, GT_THE_DEN",
    ),
    "MAP-DIAG-001": Text(
        "Bệnh chính ICD-10 trùng MA_BENH_CHINH", "Main ICD-10 diagnosis equals MA_BENH_CHINH"
    ),
    "MAP-DIAG-002": Text(
        "Bệnh kèm theo ICD-10 trùng MA_BENH_KT", "Secondary ICD-10 diagnoses equal MA_BENH_KT"
    ),
    "MAP-MED-001": Text(
        "Mỗi dòng thuốc XML2 có MedicationRequest cùng mã, số lượng, ngày y lệnh",
        "Each XML2 drug row has a MedicationRequest with the same code, quantity and order date",
    ),
    "MAP-PROC-001": Text(
        "Mỗi dịch vụ XML3 có Procedure cùng mã và thời điểm thực hiện",
        "Each XML3 service has a Procedure with the same code and performed time",
    ),
    "MAP-OBS-001": Text(
        "Mỗi kết quả XML4 có Observation cùng mã LOINC và giá trị",
        "Each XML4 result has an Observation with the same LOINC code and value",
    ),
    "MAP-OBS-002": Text("Cân nặng trùng CAN_NANG", "Body weight equals CAN_NANG"),
}


@dataclass(frozen=True, slots=True)
class Difference:
    ma_lk: str
    criterion: str
    xml_field: str
    fhir_path: str
    expected: Any
    actual: Any

    @property
    def text(self) -> Text:
        return Text("{f} → {p}: mong đợi {e}, thực tế {a}", "{f} → {p}: expected {e}, got {a}").format(
            f=self.xml_field, p=self.fhir_path, e=_show(self.expected), a=_show(self.actual)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ma_lk": self.ma_lk,
            "criterion": self.criterion,
            "xml_field": self.xml_field,
            "fhir_path": self.fhir_path,
            "expected": _plain(self.expected),
            "actual": _plain(self.actual),
            "text": {"vi": self.text.vi, "en": self.text.en},
        }


def _plain(v: Any) -> Any:
    if isinstance(v, frozenset | set):
        return sorted(map(str, v))
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


def _show(v: Any) -> str:
    if v is None:
        return "∅"
    if isinstance(v, frozenset | set | tuple):
        return "[" + ", ".join(map(str, sorted(map(str, v)))) + "]"
    return str(v)


# ---- reading resources ---------------------------------------------------------------------
def resources_of(obj: dict[str, Any] | Iterable[dict[str, Any]]) -> list[tuple[set[str], dict[str, Any]]]:
    """``(keys, resource)`` for a Bundle or a list of resources; keys are what references use."""
    items: list[tuple[str | None, dict[str, Any]]] = []
    if isinstance(obj, dict) and obj.get("resourceType") == "Bundle":
        items = [(e.get("fullUrl"), e.get("resource") or {}) for e in obj.get("entry", []) or []]
    elif isinstance(obj, dict):
        items = [(None, obj)]
    else:
        for r in obj:
            if r.get("resourceType") == "Bundle":
                items.extend((e.get("fullUrl"), e.get("resource") or {}) for e in r.get("entry", []) or [])
            else:
                items.append((None, r))
    out = []
    for full, r in items:
        keys = set()
        if full:
            keys.add(full)
        if r.get("id"):
            keys.add(f"{r.get('resourceType')}/{r['id']}")
        out.append((keys, r))
    return out


def _resolves(ref: str, keys: set[str]) -> bool:
    if not ref:
        return False
    if ref in keys:
        return True
    # absolute URL of a relative id: https://server/fhir/Patient/1
    return any(k and "/" in k and not k.startswith("urn:") and ref.endswith("/" + k) for k in keys)


def _instant(v: str | None) -> str | None:
    """A dateTime as a UTC instant (so 14:30+07:00 equals 07:30Z); a date stays a date."""
    if not v:
        return None
    if len(v) <= 10:
        return v
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return v
    if dt.tzinfo is None:
        return v + " (no offset)"
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _name(s: str) -> str:
    return " ".join(unicodedata.normalize("NFC", s).split())


def _ext(res: dict[str, Any], eid: str) -> str | None:
    for e in res.get("extension", []) or []:
        if e.get("url") == m.ext_url(eid):
            return (e.get("valueCoding") or {}).get("code")
    return None


def _ident(res: dict[str, Any], system: str) -> str | None:
    for i in res.get("identifier", []) or []:
        if i.get("system") == system:
            return i.get("value")
    return None


def _codes(cc: dict[str, Any] | None, system: str | None = None) -> list[str]:
    return [
        c.get("code", "")
        for c in (cc or {}).get("coding", []) or []
        if system is None or c.get("system") == system
    ]


def _num(v: Any) -> str | None:
    if v is None:
        return None
    try:
        return format(float(v), "g")
    except (TypeError, ValueError):
        return str(v)


def facts(
    resources: dict[str, Any] | Iterable[dict[str, Any]], ma_lk: str
) -> dict[tuple[str, str, str], Any]:
    """The comparable facts for one MA_LK; {} when no Encounter carries that MA_LK."""
    items = resources_of(resources)
    enc_item = next(
        ((k, r) for k, r in items if r.get("resourceType") == "Encounter" and _ident(r, m.SID_MALK) == ma_lk),
        None,
    )
    if enc_item is None:
        return {}
    enc_keys, enc = enc_item
    out: dict[tuple[str, str, str], Any] = {
        ("MAP-ENC-001", "XML1.MA_LK", "Encounter.identifier[maLk].value"): ma_lk
    }

    def find(ref: str | None, rtype: str) -> dict[str, Any] | None:
        return next((r for k, r in items if r.get("resourceType") == rtype and _resolves(ref or "", k)), None)

    pat = find((enc.get("subject") or {}).get("reference"), "Patient")
    if pat is None:
        pats = [r for _, r in items if r.get("resourceType") == "Patient"]
        pat = pats[0] if len(pats) == 1 else None
    linked = [r for k, r in items if _resolves(((r.get("encounter") or {}).get("reference")) or "", enc_keys)]

    period = enc.get("period") or {}
    out[("MAP-ENC-002", "XML1.NGAY_VAO", "Encounter.period.start")] = _instant(period.get("start"))
    out[("MAP-ENC-002", "XML1.NGAY_RA", "Encounter.period.end")] = _instant(period.get("end"))
    for f, eid in (
        ("MA_LOAI_KCB", "vhr-encounter-form-of-care"),
        ("MA_DOITUONG_KCB", "vhr-encounter-patient-category"),
        ("KET_QUA_DTRI", "vhr-encounter-treatment-result"),
        ("MA_LOAI_RV", "vhr-encounter-discharge-type"),
    ):
        out[("MAP-ENC-003", f"XML1.{f}", f"Encounter.extension[{eid}].valueCoding.code")] = _ext(enc, eid)
    sp = enc.get("serviceProvider") or {}
    org = find(sp.get("reference"), "Organization")
    cskcb = _ident(org, m.SID_CSKCB) if org else ((sp.get("identifier") or {}).get("value"))
    out[("MAP-ENC-004", "XML1.MA_CSKCB", "Encounter.serviceProvider → Organization.identifier[cskcb]")] = (
        cskcb
    )

    if pat is not None:
        out[("MAP-PAT-001", "XML1.SO_CCCD", "Patient.identifier[cccd].value")] = _ident(pat, m.SID_CCCD)
        name = (pat.get("name") or [{}])[0]
        out[("MAP-PAT-002", "XML1.HO_TEN", "Patient.name.family")] = _name(name.get("family", "")) or None
        full = name.get("text") or " ".join([name.get("family", ""), *name.get("given", [])])
        out[("MAP-PAT-002", "XML1.HO_TEN", "Patient.name (family + given)")] = (
            _name(" ".join([name.get("family", ""), *name.get("given", [])])) or _name(full) or None
        )
        out[("MAP-PAT-003", "XML1.NGAY_SINH", "Patient.birthDate")] = pat.get("birthDate")
        out[("MAP-PAT-004", "XML1.GIOI_TINH", "Patient.gender")] = pat.get("gender")

    cards = {}
    day = (period.get("start") or "")[:10]
    for _, r in items:
        if r.get("resourceType") != "Coverage":
            continue
        cp = r.get("period") or {}
        if day and not ((cp.get("start") or "")[:10] <= day and (not cp.get("end") or day <= cp["end"][:10])):
            continue  # a card not valid on the encounter's first day is not one of its XML cards
        ben = (r.get("beneficiary") or {}).get("reference")
        if pat is not None and ben and not any(_resolves(ben, k) for k, p in items if p is pat):
            continue
        card = _ident(r, m.SID_BHYT)
        if card:
            p = r.get("period") or {}
            cards[card] = f"{card} {p.get('start', '')[:10]}..{p.get('end', '')[:10]}"
    out[
        ("MAP-COV-001", "XML1.MA_THE_BHYT/GT_THE_TU/GT_THE_DEN", "Coverage.identifier[bhyt], Coverage.period")
    ] = frozenset(cards.values()) or None

    diags = []
    for d in enc.get("diagnosis", []) or []:
        cond = find((d.get("condition") or {}).get("reference"), "Condition")
        if cond is not None:
            diags.append((d.get("rank", 999), [m.icd_norm(c) for c in _codes(cond.get("code"), m.ICD10)]))
    if not diags:  # no Encounter.diagnosis: take the Conditions that point at the encounter, in order
        diags = [
            (n, [m.icd_norm(c) for c in _codes(r.get("code"), m.ICD10)])
            for n, r in enumerate((r for r in linked if r.get("resourceType") == "Condition"), 1)
        ]
    diags.sort(key=lambda d: d[0])
    codes = [c[0] for _, c in diags if c]
    out[
        (
            "MAP-DIAG-001",
            "XML1.MA_BENH_CHINH",
            "Encounter.diagnosis[rank 1].condition → Condition.code[icd10]",
        )
    ] = codes[0] if codes else None
    out[
        ("MAP-DIAG-002", "XML1.MA_BENH_KT", "Encounter.diagnosis[rank > 1].condition → Condition.code[icd10]")
    ] = frozenset(codes[1:]) or None

    meds, procs, labs = [], [], []
    weight = None
    for r in linked:
        rt = r.get("resourceType")
        if rt == "MedicationRequest":
            code = next(iter(_codes(r.get("medicationCodeableConcept"))), "")
            qty = ((r.get("dispenseRequest") or {}).get("quantity") or {}).get("value")
            meds.append(f"{code} ×{_num(qty)} @{_instant(r.get('authoredOn'))}")
        elif rt == "Procedure":
            code = next(iter(_codes(r.get("code"))), "")
            start = (r.get("performedPeriod") or {}).get("start") or r.get("performedDateTime")
            if start and day and start[:10] < day:
                continue  # history (e.g. a past surgery recorded at this visit), not an XML3 service
            procs.append(f"{code} @{_instant(start)}")
        elif rt == "Observation":
            loinc = _codes(r.get("code"), m.LOINC)
            if "29463-7" in loinc:
                if weight is None:  # the first weight with a value (others may be data-absent)
                    weight = _num((r.get("valueQuantity") or {}).get("value"))
            elif (
                loinc
                and "882-1" not in loinc
                and "laboratory" in {c for cat in r.get("category", []) or [] for c in _codes(cat)}
            ):
                vq = r.get("valueQuantity") or {}
                value = _num(vq.get("value")) if vq else r.get("valueString")
                labs.append(f"{loinc[0]}={value} {vq.get('unit', '')}".strip())
    out[
        (
            "MAP-MED-001",
            "XML2.MA_THUOC/SO_LUONG/NGAY_YL",
            "MedicationRequest.medicationCodeableConcept.coding.code, dispenseRequest.quantity.value, authoredOn",
        )
    ] = tuple(sorted(meds)) or None
    out[
        ("MAP-PROC-001", "XML3.MA_DICH_VU/NGAY_TH_YL", "Procedure.code.coding.code, performedPeriod.start")
    ] = tuple(sorted(procs)) or None
    out[
        (
            "MAP-OBS-001",
            "XML4.MA_CHI_SO/GIA_TRI/DON_VI_DO",
            "Observation.code.coding[loinc].code, valueQuantity.value, valueQuantity.unit",
        )
    ] = tuple(sorted(labs)) or None
    out[("MAP-OBS-002", "XML1.CAN_NANG", "Observation[vhr-observation-body-weight].valueQuantity.value")] = (
        weight
    )
    return out


def compare(
    expected: dict[str, Any] | Iterable[dict[str, Any]],
    actual: dict[str, Any] | Iterable[dict[str, Any]],
    ma_lk: str | None = None,
) -> list[Difference]:
    """Differences between our conversion (``expected``) and the vendor's resources (``actual``)
    for one MA_LK (default: the MA_LK of the expected Encounter). Only facts the XML holds are
    compared: an empty XML field asks nothing of the vendor."""
    if ma_lk is None:
        ma_lk = (
            next(
                (
                    _ident(r, m.SID_MALK)
                    for _, r in resources_of(expected)
                    if r.get("resourceType") == "Encounter"
                ),
                None,
            )
            or ""
        )
    exp = facts(expected, ma_lk)
    act = facts(actual, ma_lk)
    if not act:
        return [
            Difference(ma_lk, "MAP-ENC-001", "XML1.MA_LK", "Encounter.identifier[maLk].value", ma_lk, None)
        ]
    diffs = []
    for key, want in exp.items():
        if want is None:
            continue
        got = act.get(key)
        if got != want:
            crit, field, path = key
            diffs.append(Difference(ma_lk, crit, field, path, want, got))
    return diffs


def criteria_results(diffs: list[Difference]) -> dict[str, str]:
    """pass/fail per MAP criterion from a list of differences (all criteria listed)."""
    failed = {d.criterion for d in diffs}
    if "MAP-ENC-001" in failed:  # no encounter found: nothing else could be compared
        return {c: ("fail" if c == "MAP-ENC-001" else "skip") for c in CRITERIA}
    return {c: ("fail" if c in failed else "pass") for c in CRITERIA}


# ---- reading a vendor's FHIR endpoint ----------------------------------------------------------
ENCOUNTER_INCLUDES = [
    ("_include", "Encounter:subject"),
    ("_include", "Encounter:service-provider"),
    ("_include", "Encounter:diagnosis"),
    ("_revinclude", "Condition:encounter"),
    ("_revinclude", "MedicationRequest:encounter"),
    ("_revinclude", "Procedure:encounter"),
    ("_revinclude", "Observation:encounter"),
]
MAX_PAGES = 20


def fetch_vendor(
    base_url: str,
    ma_lk: str,
    client: Any = None,
    headers: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The vendor's resources for one MA_LK, read from its FHIR endpoint: the Encounter by its
    MA_LK identifier with what it points to and what points to it, the patient's Coverages, and
    any referenced resource the server did not include (read one by one)."""
    import httpx

    from vhr_conformance.i18n import UserError

    own = client is None
    http = client or httpx.Client(
        timeout=30.0, headers={"Accept": "application/fhir+json", **(headers or {})}
    )
    base = base_url.rstrip("/")

    def get(url: str, params: Any = None) -> dict[str, Any] | None:
        try:
            r = http.get(url, params=params)
        except httpx.HTTPError as exc:
            raise UserError(
                Text("Không gọi được máy chủ FHIR {u}: {e}", "Cannot reach the FHIR server {u}: {e}").format(
                    u=url, e=exc
                )
            ) from None
        if r.status_code == 404 or r.status_code == 410:
            return None
        if r.status_code >= 400:
            raise UserError(
                Text("Máy chủ FHIR trả {s} cho {u}", "The FHIR server answered {s} to {u}").format(
                    s=r.status_code, u=url
                )
            )
        try:
            return r.json()
        except ValueError:
            raise UserError(
                Text(
                    "Máy chủ FHIR trả nội dung không phải JSON cho {u}",
                    "The FHIR server answered non-JSON to {u}",
                ).format(u=url)
            ) from None

    def search(url: str, params: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = get(url, params)
        for _ in range(MAX_PAGES):
            if not page:
                break
            out.extend(e.get("resource") or {} for e in page.get("entry", []) or [])
            nxt = next(
                (ln.get("url") for ln in page.get("link", []) or [] if ln.get("relation") == "next"), None
            )
            page = get(nxt) if nxt else None
        return out

    try:
        found = search(f"{base}/Encounter", [("identifier", f"{m.SID_MALK}|{ma_lk}"), *ENCOUNTER_INCLUDES])
        have = {f"{r.get('resourceType')}/{r.get('id')}" for r in found}
        encs = [r for r in found if r.get("resourceType") == "Encounter" and _ident(r, m.SID_MALK) == ma_lk]
        wanted: list[str] = []
        for enc in encs:
            wanted.append((enc.get("subject") or {}).get("reference", ""))
            wanted.append((enc.get("serviceProvider") or {}).get("reference", ""))
            wanted.extend(
                (d.get("condition") or {}).get("reference", "") for d in enc.get("diagnosis", []) or []
            )
        for ref in wanted:
            rel = ref.split(base + "/", 1)[-1] if ref.startswith(base) else ref
            if rel and rel.count("/") == 1 and not rel.startswith(("urn:", "http")) and rel not in have:
                res = get(f"{base}/{rel}")
                if res:
                    found.append(res)
                    have.add(rel)
        for enc in encs:  # a server that ignores _revinclude: ask for what points at the encounter
            for rtype in ("Condition", "MedicationRequest", "Procedure", "Observation"):
                if any(r.get("resourceType") == rtype for r in found):
                    continue
                for res in search(f"{base}/{rtype}", {"encounter": f"Encounter/{enc.get('id')}"}):
                    key = f"{rtype}/{res.get('id')}"
                    if key not in have:
                        found.append(res)
                        have.add(key)
        for pat in [r for r in found if r.get("resourceType") == "Patient"]:
            for cov in search(f"{base}/Coverage", {"beneficiary": f"Patient/{pat.get('id')}"}):
                if f"Coverage/{cov.get('id')}" not in have:
                    found.append(cov)
                    have.add(f"Coverage/{cov.get('id')}")
    finally:
        if own:
            http.close()
    return found
