"""Judging a recorded session against the sender criteria of the catalogue.

Each check reads only what the client sent (requests, their order and timing) and what the
platform holds afterwards (looked up over HTTP on the reference server), and gives one case per
criterion: `pass`, `fail` with the offending requests as evidence, `not-tested` when the session
never exercised the rule (e.g. no 429 was provoked: the message says what to send), or
`not-applicable` when it does not apply (no auth). A SHALL criterion left not tested makes the
session INCOMPLETE, never FAILED with zero failures (the outcome model's run verdict).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from urllib.parse import parse_qsl, quote

from vhr_conformance.fhirutil import identifier_value
from vhr_conformance.i18n import Text
from vhr_conformance.listen.recorder import Recorded
from vhr_conformance.names import CANONICAL, SID_CCCD, SID_MALK, SID_PASSPORT
from vhr_conformance.outcome import State
from vhr_conformance.reports.model import CaseResult

EXT = f"{CANONICAL}/StructureDefinition/"
FORM_OF_CARE = EXT + "vhr-encounter-form-of-care"
TREATMENT_RESULT = EXT + "vhr-encounter-treatment-result"
DISCHARGE_TYPE = EXT + "vhr-encounter-discharge-type"

FHIR_JSON = "application/fhir+json"
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
_LITERAL_REF = re.compile(r"^(?:https?://\S+/)?([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/\S+)?$")
# Search parameters that carry personal data (names, birth dates, contact, address) in a URL.
PERSONAL_PARAMS = frozenset(
    {
        "name",
        "family",
        "given",
        "phonetic",
        "birthdate",
        "death-date",
        "address",
        "address-city",
        "address-state",
        "address-postalcode",
        "address-country",
        "address-use",
        "phone",
        "email",
        "telecom",
    }
)
RESEND_STATUSES = frozenset({400, 422})
RETRY_STATUSES = frozenset({429, 503})
TOLERANCE_S = 0.1
TIMELY = timedelta(hours=24)
EVIDENCE_MAX = 5
NOT_TESTED = str(State.NOT_TESTED)
NOT_APPLICABLE = str(State.NOT_APPLICABLE)


@dataclass
class Verdict:
    """A check's outcome before it becomes a report case."""

    state: str
    message: str
    offenders: list[Recorded] = field(default_factory=list)


@dataclass
class SessionFacts:
    """What the checks need besides the records."""

    auth: str
    max_body_bytes: int
    count_identifier: Callable[[str, str], int]  # (resource type, "system|value") → resources held
    exists: Callable[[str, str], bool]  # (type, id) → the platform holds it
    validate: Callable[[dict[str, Any]], list[str]]  # bundle → error texts


def _media(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def _is_base(rec: Recorded) -> bool:
    return rec.path.strip("/") == ""


def _bundles(records: list[Recorded]) -> Iterator[tuple[Recorded, dict[str, Any]]]:
    """What each write carried, in order (retries included): a Bundle POSTed to [base] as is; a
    resource written to its own URL as a one-entry pseudo Bundle (type `single`), so the content
    checks judge the data of a client that does not use transactions too."""
    for rec in records:
        if rec.method not in ("POST", "PUT") or not rec.is_data:
            continue
        data = rec.json()
        if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
            continue
        if _is_base(rec):
            if data["resourceType"] == "Bundle":
                yield rec, data
            continue
        request: dict[str, Any] = {"method": rec.method, "url": rec.url().lstrip("/")}
        if rec.header("if-none-exist"):
            request["ifNoneExist"] = rec.header("if-none-exist")
        yield (
            rec,
            {"resourceType": "Bundle", "type": "single", "entry": [{"resource": data, "request": request}]},
        )


def _distinct(records: list[Recorded]) -> list[tuple[Recorded, dict[str, Any]]]:
    seen: set[str] = set()
    out = []
    for rec, b in _bundles(records):
        if rec.payload_key not in seen:
            seen.add(rec.payload_key)
            out.append((rec, b))
    return out


def _entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e for e in bundle.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)
    ]


def _accepted(records: list[Recorded]) -> set[str]:
    """Payloads the platform accepted at some attempt (a retry after 429 counts)."""
    return {r.payload_key for r in records if 200 <= r.status < 300}


def _of_type(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e for e in _entries(bundle) if e["resource"].get("resourceType") == rtype]


def _parse_dt(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _DATETIME.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of every leaf under `node`."""
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, dict | list):
                yield from _walk(v, f"{path}.{k}")
            else:
                yield path, k, v
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}[{i}]")


def _data(records: list[Recorded]) -> list[Recorded]:
    return [r for r in records if r.is_data]


def _writes(records: list[Recorded]) -> list[Recorded]:
    return [r for r in records if r.is_write]


# ---------------------------------------------------------------------- checks
def _say(vi: str, en: str) -> str:
    """A verdict message in both languages, written like the suites' case messages ("vi / en")."""
    return Text(vi, en).both()


_FAILED = _say("Không đạt", "Failed")
_NO_DATA_REQUEST = _say("Máy khách không gửi yêu cầu dữ liệu nào.", "The client sent no data request.")


def _judge(
    seen: int, problems: list[str], bad: list[Recorded], nothing_seen: str, all_good: str, lead: str = _FAILED
) -> Verdict:
    """The common ending of a check: not tested when the session never showed the behaviour, fail with
    the first problems as evidence, pass otherwise."""
    if seen == 0:
        return Verdict(NOT_TESTED, nothing_seen)
    if problems:
        return Verdict("fail", f"{lead}: " + "; ".join(problems[:5]), bad)
    return Verdict("pass", all_good)


def check_token_flow(records: list[Recorded], facts: SessionFacts) -> Verdict:
    if facts.auth != "oauth":
        return Verdict(
            NOT_APPLICABLE,
            _say(
                "Trình nghe chạy không có --auth oauth: không có luồng token để kiểm tra.",
                "The listener ran without --auth oauth: no token flow to check.",
            ),
        )
    data = _data(records)
    if not data:
        return Verdict(NOT_TESTED, _NO_DATA_REQUEST)
    tokens = [r for r in records if r.is_token and r.method == "POST" and r.status == 200]
    first_write = next((r for r in data if r.is_write), data[0])
    bad: list[Recorded] = []
    if not tokens or tokens[0].seq > first_write.seq:
        bad.append(first_write)
    bad += [
        r
        for r in data
        if r.status == 401 or not (r.header("authorization") or "").lower().startswith("bearer ")
    ]
    if bad:
        why = (
            _say("không lấy token trước lần ghi đầu tiên", "no token obtained before the first write")
            if not tokens or tokens[0].seq > first_write.seq
            else _say(
                "yêu cầu dữ liệu không có Bearer token hợp lệ", "data requests without a valid Bearer token"
            )
        )
        return Verdict("fail", f"{why}: {len(bad)} request(s)", bad)
    return Verdict(
        "pass",
        _say(
            f"Lấy token tại #{tokens[0].seq}; {len(data)} yêu cầu dữ liệu mang Bearer token hợp lệ.",
            f"Token obtained at #{tokens[0].seq}; {len(data)} data requests carried a valid Bearer token.",
        ),
    )


def check_content_type(records: list[Recorded], facts: SessionFacts) -> Verdict:
    writes = [r for r in _writes(records) if r.body and r.method in ("POST", "PUT")]
    if not writes:
        return Verdict(
            NOT_TESTED,
            _say("Máy khách không gửi POST/PUT có nội dung.", "The client sent no POST/PUT with a body."),
        )
    bad = [r for r in writes if _media(r.header("content-type")) != FHIR_JSON]
    if bad:
        got = sorted({_media(r.header("content-type")) or "(none)" for r in bad})
        return Verdict(
            "fail",
            _say(
                f"{len(bad)}/{len(writes)} lần ghi khai báo {', '.join(got)} thay vì {FHIR_JSON}.",
                f"{len(bad)} of {len(writes)} writes declared {', '.join(got)} instead of {FHIR_JSON}.",
            ),
            bad,
        )
    return Verdict(
        "pass",
        _say(f"{len(writes)} lần ghi khai báo {FHIR_JSON}.", f"{len(writes)} writes declared {FHIR_JSON}."),
    )


def check_valid_transactions(records: list[Recorded], facts: SessionFacts) -> Verdict:
    writes = [r for r in _writes(records) if r.body and r.is_data]
    if not writes:
        return Verdict(NOT_TESTED, _say("Máy khách không gửi dữ liệu.", "The client sent no data."))
    not_tx = [
        r
        for r in writes
        if not (
            r.method == "POST"
            and _is_base(r)
            and isinstance(r.json(), dict)
            and r.json().get("resourceType") == "Bundle"
            and r.json().get("type") == "transaction"
        )
    ]
    problems: list[str] = []
    bad = list(not_tx)
    if not_tx:
        problems.append(f"{len(not_tx)} write(s) are not a transaction Bundle POSTed to [base]")
    checked = 0
    for rec, bundle in _distinct(records):
        if bundle.get("type") != "transaction":
            continue
        checked += 1
        errors = facts.validate(bundle)  # against the profiles the Bundle and its entries declare
        if errors:
            bad.append(rec)
            problems.append(f"#{rec.seq}: {len(errors)} error(s), first: {errors[0]}")
    if bad:
        return Verdict("fail", f"{_FAILED}: " + "; ".join(problems[:6]), bad)
    return Verdict(
        "pass",
        _say(
            f"{checked} Bundle giao dịch khác nhau hợp lệ theo hồ sơ VHR.",
            f"{checked} distinct transaction Bundle(s) validate against the VHR profiles.",
        ),
    )


def _conditional_on(entry: dict[str, Any], system: str, value: str) -> bool:
    req = entry.get("request") or {}
    wanted = f"{system}|{value}"
    if req.get("method") == "POST":
        params = dict(parse_qsl(str(req.get("ifNoneExist") or "").split("?", 1)[-1]))
        return params.get("identifier") == wanted
    if req.get("method") == "PUT":
        url = str(req.get("url") or "")
        if "?" in url:
            return dict(parse_qsl(url.split("?", 1)[1])).get("identifier") == wanted
        return bool(_LITERAL_REF.match(url))  # an update of the id the platform assigned earlier
    return False


def check_patient_identity(records: list[Recorded], facts: SessionFacts) -> Verdict:
    problems: list[str] = []
    bad: list[Recorded] = []
    accepted: set[tuple[str, str]] = set()
    ok = _accepted(records)
    patients = 0
    for rec, bundle in _distinct(records):
        for entry in _of_type(bundle, "Patient"):
            patients += 1
            res = entry["resource"]
            system, value = next(
                ((s, v) for s in (SID_CCCD, SID_PASSPORT) if (v := identifier_value(res, s))), (None, None)
            )
            if system is None or value is None:
                problems.append(f"#{rec.seq}: a Patient without CCCD (or passport)")
                bad.append(rec)
                continue
            if not _conditional_on(entry, system, value):
                problems.append(
                    f"#{rec.seq}: Patient {system.rsplit('/', 1)[-1]} written without conditional "
                    "create/update on it"
                )
                bad.append(rec)
            if rec.payload_key in ok:
                accepted.add((system, value))
    if patients == 0:
        return Verdict(NOT_TESTED, _say("Máy khách không gửi Patient.", "The client sent no Patient."))
    for system, value in sorted(accepted):
        n = facts.count_identifier("Patient", f"{system}|{value}")
        if n > 1:
            problems.append(f"the platform now holds {n} Patients with the same {system.rsplit('/', 1)[-1]}")
    if problems:
        return Verdict("fail", f"{_FAILED}: " + "; ".join(dict.fromkeys(problems)), bad)
    return Verdict(
        "pass",
        _say(
            f"{patients} Patient đều có định danh và ghi có điều kiện; không có bản trùng.",
            f"{patients} Patient entries, all identified and conditional; no duplicates held.",
        ),
    )


def check_references(records: list[Recorded], facts: SessionFacts) -> Verdict:
    problems: list[str] = []
    bad: list[Recorded] = []
    count = 0
    for rec, bundle in _distinct(records):
        full_urls = {e.get("fullUrl") for e in bundle.get("entry") or [] if isinstance(e, dict)}
        for i, entry in enumerate(_entries(bundle)):
            for path, key, value in _walk(entry["resource"], entry["resource"].get("resourceType", "")):
                if key != "reference" or not isinstance(value, str):
                    continue
                count += 1
                if value.startswith("#") or value in full_urls or "?" in value:
                    continue
                m = _LITERAL_REF.match(value)
                if m and not value.startswith("urn:") and facts.exists(m.group(1), m.group(2)):
                    continue
                problems.append(f"#{rec.seq} entry[{i}] {path}.reference → {value[:80]} does not resolve")
                bad.append(rec)
    return _judge(
        count,
        problems,
        bad,
        _say("Không có tham chiếu nào được gửi.", "No reference was sent."),
        _say(
            f"{count} tham chiếu đều phân giải được trong Bundle hoặc trên nền tảng.",
            f"{count} references resolve within their Bundle or on the platform.",
        ),
        lead=_say(f"{len(problems)} không phân giải được", f"{len(problems)} unresolved"),
    )


def _encounter_gaps(enc: dict[str, Any]) -> list[str]:
    ext = {x.get("url") for x in enc.get("extension") or [] if isinstance(x, dict)}
    required = {
        "identifier (MA_LK)": identifier_value(enc, SID_MALK),
        "status": enc.get("status"),
        "class": enc.get("class"),
        "subject": enc.get("subject"),
        "serviceProvider": enc.get("serviceProvider"),
        "period.start": (enc.get("period") or {}).get("start"),
        "form of care": FORM_OF_CARE in ext,
        "diagnosis": enc.get("diagnosis"),  # the admission diagnosis at least, as the catalogue asks
    }
    if enc.get("status") == "finished":  # what XML1 of QĐ 130 asks once the patient has left
        required.update(
            {
                "period.end": (enc.get("period") or {}).get("end"),
                "treatment result": TREATMENT_RESULT in ext,
                "discharge type": DISCHARGE_TYPE in ext,
            }
        )
    if (enc.get("class") or {}).get("code") == "IMP" and enc.get("status") == "finished":
        required["hospitalization.dischargeDisposition"] = (enc.get("hospitalization") or {}).get(
            "dischargeDisposition"
        )
    return [k for k, v in required.items() if not v]


def check_encounter_complete(records: list[Recorded], facts: SessionFacts) -> Verdict:
    problems: list[str] = []
    bad: list[Recorded] = []
    n = 0
    for rec, bundle in _distinct(records):
        for entry in _of_type(bundle, "Encounter"):
            n += 1
            gaps = _encounter_gaps(entry["resource"])
            if gaps:
                problems.append(
                    f"#{rec.seq} Encounter {identifier_value(entry['resource'], SID_MALK) or '?'} lacks {', '.join(gaps)}"
                )
                bad.append(rec)
    return _judge(
        n,
        problems,
        bad,
        _say("Máy khách không gửi Encounter.", "The client sent no Encounter."),
        _say(
            f"{n} Encounter đủ dữ liệu theo hình thức KCB.",
            f"{n} Encounter entries complete for their form of care.",
        ),
    )


def check_timezone(records: list[Recorded], facts: SessionFacts) -> Verdict:
    problems: list[str] = []
    bad: list[Recorded] = []
    n = 0
    for rec, bundle in _distinct(records):
        wrong = []
        for entry in _entries(bundle):
            for path, key, value in _walk(entry["resource"], entry["resource"].get("resourceType", "")):
                if isinstance(value, str) and _DATETIME.match(value):
                    n += 1
                    if not value.endswith("+07:00"):
                        wrong.append(f"{path}.{key}={value}")
        if wrong:
            bad.append(rec)
            problems.append(f"#{rec.seq}: {len(wrong)} timestamp(s) not in +07:00, e.g. {wrong[0]}")
    return _judge(
        n,
        problems,
        bad,
        _say("Không có mốc thời gian nào được gửi.", "No timestamp was sent."),
        _say(f"{n} mốc thời gian, tất cả theo +07:00.", f"{n} timestamps, all in +07:00."),
    )


def check_timely(records: list[Recorded], facts: SessionFacts) -> Verdict:
    problems: list[str] = []
    bad: list[Recorded] = []
    n = 0
    for rec, bundle in _distinct(records):
        ends = [
            d
            for e in _of_type(bundle, "Encounter")
            if (d := _parse_dt((e["resource"].get("period") or {}).get("end")))
        ]
        if not ends:
            continue
        n += 1
        latest = max(ends)
        received = datetime.fromisoformat(rec.received)
        lag = received - latest
        if lag > TIMELY or lag < -timedelta(minutes=5):
            bad.append(rec)
            hours = lag.total_seconds() / 3600
            problems.append(
                f"#{rec.seq}: latest encounter ended {latest.isoformat()}, received {hours:+.1f} h later"
            )
    return _judge(
        n,
        problems,
        bad,
        _say("Không có Encounter đã kết thúc nào được gửi.", "No finished Encounter was sent."),
        _say(
            f"{n} Bundle nhận được trong vòng 24 giờ sau khi lượt KCB cuối kết thúc.",
            f"{n} Bundle(s) received within 24 h of their latest encounter end.",
        ),
    )


def _encounter_writes(records: list[Recorded]) -> dict[str, list[tuple[Recorded, dict[str, Any]]]]:
    by_malk: dict[str, list[tuple[Recorded, dict[str, Any]]]] = {}
    for rec, bundle in _distinct(records):
        for entry in _of_type(bundle, "Encounter"):
            malk = identifier_value(entry["resource"], SID_MALK)
            if malk:
                by_malk.setdefault(malk, []).append((rec, entry))
    return by_malk


def check_corrections(records: list[Recorded], facts: SessionFacts) -> Verdict:
    problems: list[str] = []
    bad: list[Recorded] = []
    corrected = 0
    ok = _accepted(records)
    for malk, sends in _encounter_writes(records).items():
        accepted = [(r, e) for r, e in sends if r.payload_key in ok]
        if len(accepted) < 2:
            continue
        corrected += 1
        for rec, entry in accepted[1:]:
            req = entry.get("request") or {}
            if req.get("method") != "PUT":
                bad.append(rec)
                problems.append(
                    f"#{rec.seq}: correction of MA_LK {malk} sent as {req.get('method')} "
                    f"{str(req.get('url'))[:60]}, not an update"
                )
        held = facts.count_identifier("Encounter", f"{SID_MALK}|{malk}")
        if held != 1:
            problems.append(f"the platform holds {held} Encounters for MA_LK {malk}")
    return _judge(
        corrected,
        problems,
        bad,
        _say(
            "Không có lượt KCB nào được gửi lại có thay đổi (phiên này không có bản sửa).",
            "No encounter was sent twice with changes (no correction in this session).",
        ),
        _say(
            f"{corrected} lượt KCB được sửa tại chỗ (một Encounter cho mỗi MA_LK).",
            f"{corrected} corrected encounter(s) updated in place (one Encounter per MA_LK).",
        ),
    )


def _retry_after(rec: Recorded) -> float | None:
    value = rec.response_headers.get("retry-after")
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


def check_retry(records: list[Recorded], facts: SessionFacts) -> Verdict:
    refused = [r for r in records if r.is_data and r.status in RETRY_STATUSES]
    if not refused:
        return Verdict(
            NOT_TESTED,
            _say(
                "Phiên này không có trả lời 429/503 (dùng --scenario throttle hoặc outage).",
                "No 429/503 was answered in this session (use --scenario throttle or outage).",
            ),
        )
    problems: list[str] = []
    bad: list[Recorded] = []
    for r in refused:
        later = [x for x in records if x.seq > r.seq and x.client == r.client and x.is_data]
        wait = _retry_after(r)
        if later and wait is not None and later[0].t - r.t < wait - TOLERANCE_S:
            bad.append(later[0])
            problems.append(
                f"#{later[0].seq} sent {later[0].t - r.t:.2f} s after {r.status} at #{r.seq}"
                f" (Retry-After {wait:.0f} s)"
            )
        retry = next((x for x in later if x.payload_key == r.payload_key), None)
        if retry is None:
            bad.append(r)
            problems.append(f"#{r.seq} ({r.status}) was never retried")
    # Without Retry-After the waits between attempts of one payload must not shrink (backoff).
    attempts: dict[str, list[Recorded]] = {}
    for r in records:
        if r.is_data and r.is_write:
            attempts.setdefault(r.payload_key, []).append(r)
    for tries in attempts.values():
        gaps = [(b.t - a.t, a) for a, b in pairwise(tries) if a.status in RETRY_STATUSES]
        for (g1, a1), (g2, _a2) in pairwise(gaps):
            if _retry_after(a1) is None and g2 + TOLERANCE_S < g1:
                bad.append(a1)
                problems.append(f"retries of #{a1.seq} came faster ({g2:.2f} s after {g1:.2f} s): no backoff")
    if problems:
        return Verdict("fail", f"{_FAILED}: " + "; ".join(problems[:5]), bad)
    return Verdict(
        "pass",
        _say(
            f"{len(refused)} trả lời 429/503: mỗi yêu cầu được gửi lại sau Retry-After.",
            f"{len(refused)} answer(s) 429/503: each retried after its Retry-After.",
        ),
    )


def check_no_blind_resend(records: list[Recorded], facts: SessionFacts) -> Verdict:
    rejected = [r for r in records if r.is_data and r.is_write and r.status in RESEND_STATUSES]
    if not rejected:
        return Verdict(
            NOT_TESTED,
            _say(
                "Phiên này không có trả lời 400/422 (dùng --scenario reject-invalid).",
                "No 400/422 was answered in this session (use --scenario reject-invalid).",
            ),
        )
    bad = []
    problems = []
    for r in rejected:
        again = [x for x in records if x.seq > r.seq and x.payload_key == r.payload_key]
        if again:
            bad += again
            problems.append(f"#{r.seq} ({r.status}) was resent unchanged {len(again)} time(s)")
    if problems:
        return Verdict("fail", f"{_FAILED}: " + "; ".join(problems[:5]), bad)
    return Verdict(
        "pass",
        _say(
            f"{len(rejected)} nội dung bị từ chối 400/422; không cái nào bị gửi lại nguyên trạng.",
            f"{len(rejected)} payload(s) refused with 400/422; none resent unchanged.",
        ),
    )


def check_size(records: list[Recorded], facts: SessionFacts) -> Verdict:
    sized = [r for r in records if r.body or r.size]
    if not sized:
        return Verdict(
            NOT_TESTED, _say("Máy khách không gửi nội dung yêu cầu nào.", "The client sent no request body.")
        )

    def size(r: Recorded) -> int:
        declared = r.header("content-length") or ""
        return max(r.size, len(r.body), int(declared) if declared.isdigit() else 0)

    bad = [r for r in sized if size(r) > facts.max_body_bytes]
    if bad:
        largest = max(size(r) for r in bad)
        return Verdict(
            "fail",
            _say(
                f"{len(bad)} yêu cầu lớn hơn {facts.max_body_bytes} byte (lớn nhất {largest})",
                f"{len(bad)} request(s) larger than {facts.max_body_bytes} bytes (largest {largest})",
            ),
            bad,
        )
    largest = max(size(r) for r in sized)
    return Verdict(
        "pass",
        _say(
            f"{len(sized)} nội dung, lớn nhất {largest}/{facts.max_body_bytes} byte.",
            f"{len(sized)} bodies, largest {largest} of {facts.max_body_bytes} bytes.",
        ),
    )


def _personal_values(records: list[Recorded]) -> set[str]:
    """Names and birth dates of the Patients sent in this session (to spot them in URLs)."""
    out: set[str] = set()
    for _rec, bundle in _distinct(records):
        for entry in _of_type(bundle, "Patient"):
            res = entry["resource"]
            if res.get("birthDate"):
                out.add(str(res["birthDate"]))
            for name in res.get("name") or []:
                for part in [name.get("family"), *(name.get("given") or [])]:
                    if isinstance(part, str) and len(part) >= 3:
                        out.add(part.lower())
    return out


def _query_problems(query: str, personal: set[str]) -> list[str]:
    out = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        base = key.split(":", 1)[0].split(".", 1)[0]
        if base in PERSONAL_PARAMS:
            out.append(f"{key}=…")
        elif base not in ("identifier", "_id") and value.lower() in personal:
            out.append(f"{key}=<personal value>")
    return out


def check_url_privacy(records: list[Recorded], facts: SessionFacts) -> Verdict:
    personal = _personal_values(records)
    problems: list[str] = []
    bad: list[Recorded] = []
    urls = 0
    for rec in _data(records):
        urls += 1
        found = _query_problems(rec.query, personal)
        if rec.method == "POST" and _is_base(rec):
            data = rec.json()
            for e in (data.get("entry") or []) if isinstance(data, dict) else []:
                req = e.get("request") if isinstance(e, dict) else None
                if isinstance(req, dict):
                    urls += 1
                    found += _query_problems(str(req.get("url") or "").partition("?")[2], personal)
                    found += _query_problems(str(req.get("ifNoneExist") or "").split("?", 1)[-1], personal)
        if found:
            bad.append(rec)
            problems.append(f"#{rec.seq} {rec.method} {quote(rec.path)}: {', '.join(dict.fromkeys(found))}")
    return _judge(
        urls,
        problems,
        bad,
        _NO_DATA_REQUEST,
        _say(
            f"{urls} URL (yêu cầu và mục Bundle) không chứa dữ liệu cá nhân.",
            f"{urls} URLs (requests and Bundle entries) carry no personal data.",
        ),
        lead=_say("dữ liệu cá nhân trong URL", "personal data in URLs"),
    )


CHECKS: dict[str, Callable[[list[Recorded], SessionFacts], Verdict]] = {
    "VHR-SEC-101": check_token_flow,
    "VHR-SEC-102": check_size,
    "VHR-SEC-103": check_url_privacy,
    "VHR-API-101": check_content_type,
    "VHR-API-102": check_retry,
    "VHR-API-103": check_no_blind_resend,
    "VHR-QUAL-101": check_valid_transactions,
    "VHR-QUAL-102": check_references,
    "VHR-QUAL-103": check_timezone,
    "VHR-PAT-101": check_patient_identity,
    "VHR-KCB-101": check_encounter_complete,
    "VHR-KCB-102": check_timely,
    "VHR-KCB-103": check_corrections,
}


def evaluate(records: list[Recorded], facts: SessionFacts, session: str) -> list[CaseResult]:
    """One case per sender criterion; a check that crashes is an `error`, never a silent pass."""
    cases = []
    for cid, check in CHECKS.items():
        try:
            verdict = check(records, facts)
        except Exception as exc:  # a harness bug must show as error in the report
            verdict = Verdict(
                "error",
                _say("Lỗi của công cụ khi chấm", "Harness error while judging")
                + f": {type(exc).__name__}: {exc}",
            )
        unique = list({r.seq: r for r in verdict.offenders}.values())
        evidence = [r.to_evidence() for r in unique[:EVIDENCE_MAX]] if verdict.state == "fail" else []
        cases.append(
            CaseResult(
                nodeid=f"listen/{session}::{cid}",
                name=f"{cid} ({check.__name__})",
                criteria=[cid],
                state=verdict.state,
                message=verdict.message,
                evidence=evidence,
            )
        )
    return cases
