"""Deliberate violations the reference server can be switched into (``vhr serve --fault NAME``).

Each fault makes the server break one rule a conformance suite checks, so a suite that keeps
passing while a fault is on proves it cannot detect that violation. Which criteria must fail for
which fault is kept by the suites (``suites/fault-expectations.yaml``), not here.

:class:`ActiveFaults` is the one declaration: one ``bool`` attribute per fault, carrying what it
breaks in both languages. The public kebab-case names (``--fault no-etag``) and the catalogue
:data:`FAULTS` are derived from it, and the server asks ``faults.no_etag``, so a misspelt fault
is a mypy error rather than a switch that silently never turns on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields

from vhr_conformance.i18n import Text, UserError


@dataclass(frozen=True, slots=True)
class Fault:
    """One switchable violation: its kebab-case name and what it breaks, in both languages."""

    name: str
    text: Text

    def __str__(self) -> str:
        return self.name


def _fault(vi: str, en: str) -> bool:
    """A fault attribute: off unless chosen; its description rides in the field's metadata."""
    return field(default=False, metadata={"text": Text(vi, en)})


@dataclass(frozen=True, slots=True)
class ActiveFaults:
    """Which faults are on for one server instance (all off by default)."""

    no_capability_statement: bool = _fault(
        "GET /metadata trả 404, không có CapabilityStatement.",
        "GET /metadata answers 404: no CapabilityStatement.",
    )
    wrong_fhir_version: bool = _fault(
        "CapabilityStatement khai báo fhirVersion 3.0.2 thay vì 4.0.1.",
        "The CapabilityStatement declares fhirVersion 3.0.2 instead of 4.0.1.",
    )
    ignore_shall_search_param: bool = _fault(
        "Bỏ qua tham số tìm kiếm bắt buộc `birthdate` (trả mọi kết quả).",
        "Ignores the SHALL search parameter `birthdate` (returns unfiltered results).",
    )
    accent_sensitive_search: bool = _fault(
        'Tìm kiếm chuỗi phân biệt dấu: `nguyen` không tìm thấy "Nguyễn".',
        'String search is accent-sensitive: `nguyen` does not find "Nguyễn".',
    )
    drop_identifiers_on_write: bool = _fault(
        "Xóa mọi `identifier` của tài nguyên khi lưu.",
        "Drops every `identifier` of a resource when storing it.",
    )
    accept_invalid_resources: bool = _fault(
        "Không kiểm tra hồ sơ khi ghi: nhận cả tài nguyên không hợp lệ.",
        "No validation on write: invalid resources are accepted.",
    )
    non_atomic_transaction: bool = _fault(
        "Giao dịch không nguyên tử: các mục trước mục lỗi vẫn được lưu.",
        "Transactions are not atomic: entries before a failing one stay stored.",
    )
    conditional_create_duplicates: bool = _fault(
        "Bỏ qua If-None-Exist: tạo bản ghi trùng.",
        "Ignores If-None-Exist: conditional create makes duplicates.",
    )
    no_etag: bool = _fault(
        "Không có ETag, versionId hay Last-Modified.",
        "No ETag, versionId or Last-Modified.",
    )
    wrong_content_type: bool = _fault(
        "Trả Content-Type text/plain thay vì application/fhir+json.",
        "Answers Content-Type text/plain instead of application/fhir+json.",
    )
    status_200_on_create: bool = _fault(
        "Tạo mới trả 200 thay vì 201 và không có Location.",
        "Create answers 200 instead of 201, without Location.",
    )
    status_200_on_missing: bool = _fault(
        "Đọc tài nguyên không tồn tại trả 200 thay vì 404.",
        "Reading a missing resource answers 200 instead of 404.",
    )
    leak_personal_data_in_errors: bool = _fault(
        "Thông báo lỗi chứa dữ liệu cá nhân (tên, số định danh) đã gửi.",
        "Error messages echo submitted personal data (names, identifiers).",
    )
    no_authentication: bool = _fault(
        "Với --auth oauth, vẫn chấp nhận yêu cầu không có token.",
        "With --auth oauth, requests without a token are still accepted.",
    )
    ignore_scopes: bool = _fault(
        "Không kiểm tra phạm vi (scope) của token: token chỉ đọc vẫn ghi được.",
        "Token scopes are not enforced: a read-only token can write.",
    )
    broken_paging_links: bool = _fault(
        "Liên kết trang `next` trỏ tới trang không tồn tại.",
        "The `next` paging link points to a page that does not exist.",
    )
    paging_link_other_host: bool = _fault(
        "Liên kết phân trang trỏ tới một máy chủ khác.",
        "Paging links point to another host.",
    )
    slow_responses: bool = _fault(
        "Mỗi phản hồi bị trễ (mặc định 1500 ms, đổi bằng --latency-ms).",
        "Every response is delayed (1500 ms by default, set with --latency-ms).",
    )
    random_5xx: bool = _fault(
        "Khoảng 1/3 yêu cầu (trừ /metadata) trả 503 ngẫu nhiên.",
        "About one request in three (except /metadata) answers a random 503.",
    )
    truncated_json: bool = _fault(
        "Thân phản hồi JSON bị cắt cụt.",
        "JSON response bodies are cut short.",
    )
    stale_last_updated: bool = _fault(
        "meta.lastUpdated luôn là 2001-01-01 thay vì thời điểm ghi.",
        "meta.lastUpdated is always 2001-01-01 instead of the time of the write.",
    )
    ignore_if_match: bool = _fault(
        "Bỏ qua If-Match: ghi đè phiên bản cũ không trả 412.",
        "Ignores If-Match: stale writes do not get 412.",
    )
    no_location_header: bool = _fault(
        "Tạo mới không trả header Location.",
        "Create answers without a Location header.",
    )
    ignore_count: bool = _fault(
        "Bỏ qua _count: trả mọi kết quả trong một trang.",
        "Ignores _count: every match comes in one page.",
    )
    ignore_include: bool = _fault(
        "Bỏ qua _include và _revinclude.",
        "Ignores _include and _revinclude.",
    )
    deleted_still_readable: bool = _fault(
        "Tài nguyên đã xóa vẫn đọc được (200 thay vì 410).",
        "Deleted resources can still be read (200 instead of 410).",
    )
    version_not_incremented: bool = _fault(
        "Cập nhật không tăng versionId.",
        "Updates do not increase versionId.",
    )
    ignore_prefer: bool = _fault(
        "Bỏ qua header Prefer (return=minimal / OperationOutcome).",
        "Ignores the Prefer header (return=minimal / OperationOutcome).",
    )
    no_size_limit: bool = _fault(
        "Không giới hạn kích thước yêu cầu (không trả 413).",
        "No request size limit (never answers 413).",
    )
    no_rate_limit: bool = _fault(
        "Không giới hạn tốc độ (không trả 429) kể cả khi đã cấu hình.",
        "No rate limiting (never answers 429) even when configured.",
    )
    no_smart_configuration: bool = _fault(
        "Không có /.well-known/smart-configuration (404).",
        "No /.well-known/smart-configuration (404).",
    )
    summary_count_returns_entries: bool = _fault(
        "_summary=count vẫn trả các mục kết quả.",
        "_summary=count still returns the matching entries.",
    )
    # Scope holes (issue 19): each opens one path by which a narrow token gets other types.
    scope_bypass_include: bool = _fault(
        "_include (kể cả `*` và :iterate) trả cả tài nguyên ngoài phạm vi của token.",
        "_include (also `*` and :iterate) returns resources outside the token's scopes.",
    )
    scope_bypass_revinclude: bool = _fault(
        "_revinclude (kể cả `*`) trả cả tài nguyên ngoài phạm vi của token.",
        "_revinclude (also `*`) returns resources outside the token's scopes.",
    )
    scope_bypass_chain: bool = _fault(
        "Tìm kiếm chuỗi và _has lọc theo dữ liệu của loại mà token không được tìm.",
        "Chained and _has search filter on data of a type the token may not search.",
    )
    scope_bypass_batch: bool = _fault(
        "Các mục GET của batch/transaction không kiểm tra phạm vi của token.",
        "GET entries of a batch or transaction are not checked against the token's scopes.",
    )
    scope_bypass_everything: bool = _fault(
        "Patient/$everything trả mọi loại tài nguyên, kể cả ngoài phạm vi của token.",
        "Patient/$everything returns every type, also those outside the token's scopes.",
    )
    scope_bypass_history: bool = _fault(
        "Lịch sử toàn hệ thống (/_history) trả mọi loại cho token phạm vi hẹp.",
        "System history (/_history) returns every type to a narrow-scope token.",
    )
    scope_bypass_export: bool = _fault(
        "Bulk $export xuất cả loại tài nguyên ngoài phạm vi của token.",
        "Bulk $export writes types outside the token's scopes too.",
    )
    export_not_bound_to_client: bool = _fault(
        "Yêu cầu $export không thuộc về client tạo ra nó: client khác đọc trạng thái, tải tệp, xóa được.",
        "Export jobs are not bound to their client: another client reads the status, downloads the files, deletes the job.",
    )
    token_without_exp_accepted: bool = _fault(
        "Access token cấp ra không có `exp` (dùng mãi mãi); client assertion không có `exp` vẫn được nhận.",
        "Access tokens are issued without `exp` (valid forever); client assertions without `exp` are accepted.",
    )
    anonymous_read: bool = _fault(
        "Đọc và tìm kiếm không cần token (chỉ việc ghi cần xác thực).",
        "Reads and searches need no token (only writes are authenticated).",
    )
    no_patient_everything: bool = _fault(
        "Patient/$everything trả 404 dù CapabilityStatement khai báo.",
        "Patient/$everything answers 404 although the CapabilityStatement declares it.",
    )
    validate_accepts_anything: bool = _fault(
        "$validate luôn trả lời hợp lệ, không kiểm tra gì.",
        "$validate always answers valid without checking anything.",
    )
    per_string_size_limit: bool = _fault(
        "Chỉ giới hạn độ dài từng chuỗi, không giới hạn kích thước thân yêu cầu.",
        "Caps the length of each string but not the size of the request body.",
    )

    @classmethod
    def of(cls, names: Iterable[str]) -> ActiveFaults:
        """The faults named (kebab-case, already checked by :func:`parse_faults`)."""
        return cls(**{_attribute(name): True for name in names})

    @classmethod
    def parse(cls, names: Iterable[str]) -> ActiveFaults:
        """Check the names given on the command line and switch those faults on."""
        return cls.of(parse_faults(names))

    @property
    def names(self) -> frozenset[str]:
        """The kebab-case names of the faults that are on."""
        return frozenset(_name(f.name) for f in fields(self) if getattr(self, f.name))


def _name(attribute: str) -> str:
    return attribute.replace("_", "-")


def _attribute(name: str) -> str:
    return name.replace("-", "_")


FAULTS: dict[str, Fault] = {
    _name(f.name): Fault(_name(f.name), f.metadata["text"]) for f in fields(ActiveFaults)
}
"""Every fault by its public name, in declaration order (``--list-faults``, docs, the proof)."""


def parse_faults(names: Iterable[str]) -> frozenset[str]:
    """Check fault names; an unknown name is a bilingual user error listing the known ones."""
    chosen = set()
    for raw in names:
        for name in str(raw).split(","):
            name = name.strip()
            if not name:
                continue
            if name not in FAULTS:
                raise UserError(
                    Text("Không có lỗi giả lập tên `{n}`.", "No fault named `{n}`.").format(n=name),
                    location="--fault",
                    hint=Text("Các lỗi có sẵn: {all}", "Known faults: {all}").format(
                        all=", ".join(sorted(FAULTS))
                    ),
                )
            chosen.add(name)
    return frozenset(chosen)
