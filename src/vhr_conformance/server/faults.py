"""Deliberate violations the reference server can be switched into (``vhr serve --fault NAME``).

Each fault makes the server break one rule a conformance suite checks, so a suite that keeps
passing while a fault is on proves it cannot detect that violation. Which criteria must fail for
which fault is kept by the suites (``suites/fault-expectations.yaml``), not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vhr_conformance.i18n import Text, UserError


@dataclass(frozen=True, slots=True)
class Fault:
    """One switchable violation: its kebab-case name and what it breaks, in both languages."""

    name: str
    text: Text

    def __str__(self) -> str:
        return self.name


def _f(name: str, vi: str, en: str) -> tuple[str, Fault]:
    return name, Fault(name, Text(vi, en))


FAULTS: dict[str, Fault] = dict(
    [
        _f(
            "no-capability-statement",
            "GET /metadata trả 404, không có CapabilityStatement.",
            "GET /metadata answers 404: no CapabilityStatement.",
        ),
        _f(
            "wrong-fhir-version",
            "CapabilityStatement khai báo fhirVersion 3.0.2 thay vì 4.0.1.",
            "The CapabilityStatement declares fhirVersion 3.0.2 instead of 4.0.1.",
        ),
        _f(
            "ignore-shall-search-param",
            "Bỏ qua tham số tìm kiếm bắt buộc `birthdate` (trả mọi kết quả).",
            "Ignores the SHALL search parameter `birthdate` (returns unfiltered results).",
        ),
        _f(
            "accent-sensitive-search",
            'Tìm kiếm chuỗi phân biệt dấu: `nguyen` không tìm thấy "Nguyễn".',
            'String search is accent-sensitive: `nguyen` does not find "Nguyễn".',
        ),
        _f(
            "drop-identifiers-on-write",
            "Xóa mọi `identifier` của tài nguyên khi lưu.",
            "Drops every `identifier` of a resource when storing it.",
        ),
        _f(
            "accept-invalid-resources",
            "Không kiểm tra hồ sơ khi ghi: nhận cả tài nguyên không hợp lệ.",
            "No validation on write: invalid resources are accepted.",
        ),
        _f(
            "non-atomic-transaction",
            "Giao dịch không nguyên tử: các mục trước mục lỗi vẫn được lưu.",
            "Transactions are not atomic: entries before a failing one stay stored.",
        ),
        _f(
            "conditional-create-duplicates",
            "Bỏ qua If-None-Exist: tạo bản ghi trùng.",
            "Ignores If-None-Exist: conditional create makes duplicates.",
        ),
        _f("no-etag", "Không có ETag, versionId hay Last-Modified.", "No ETag, versionId or Last-Modified."),
        _f(
            "wrong-content-type",
            "Trả Content-Type text/plain thay vì application/fhir+json.",
            "Answers Content-Type text/plain instead of application/fhir+json.",
        ),
        _f(
            "status-200-on-create",
            "Tạo mới trả 200 thay vì 201 và không có Location.",
            "Create answers 200 instead of 201, without Location.",
        ),
        _f(
            "status-200-on-missing",
            "Đọc tài nguyên không tồn tại trả 200 thay vì 404.",
            "Reading a missing resource answers 200 instead of 404.",
        ),
        _f(
            "leak-personal-data-in-errors",
            "Thông báo lỗi chứa dữ liệu cá nhân (tên, số định danh) đã gửi.",
            "Error messages echo submitted personal data (names, identifiers).",
        ),
        _f(
            "no-authentication",
            "Với --auth oauth, vẫn chấp nhận yêu cầu không có token.",
            "With --auth oauth, requests without a token are still accepted.",
        ),
        _f(
            "ignore-scopes",
            "Không kiểm tra phạm vi (scope) của token: token chỉ đọc vẫn ghi được.",
            "Token scopes are not enforced: a read-only token can write.",
        ),
        _f(
            "broken-paging-links",
            "Liên kết trang `next` trỏ tới trang không tồn tại.",
            "The `next` paging link points to a page that does not exist.",
        ),
        _f(
            "paging-link-other-host",
            "Liên kết phân trang trỏ tới một máy chủ khác.",
            "Paging links point to another host.",
        ),
        _f(
            "slow-responses",
            "Mỗi phản hồi bị trễ (mặc định 1500 ms, đổi bằng --latency-ms).",
            "Every response is delayed (1500 ms by default, set with --latency-ms).",
        ),
        _f(
            "random-5xx",
            "Khoảng 1/3 yêu cầu (trừ /metadata) trả 503 ngẫu nhiên.",
            "About one request in three (except /metadata) answers a random 503.",
        ),
        _f("truncated-json", "Thân phản hồi JSON bị cắt cụt.", "JSON response bodies are cut short."),
        _f(
            "stale-last-updated",
            "meta.lastUpdated luôn là 2001-01-01 thay vì thời điểm ghi.",
            "meta.lastUpdated is always 2001-01-01 instead of the time of the write.",
        ),
        _f(
            "ignore-if-match",
            "Bỏ qua If-Match: ghi đè phiên bản cũ không trả 412.",
            "Ignores If-Match: stale writes do not get 412.",
        ),
        _f(
            "no-location-header",
            "Tạo mới không trả header Location.",
            "Create answers without a Location header.",
        ),
        _f(
            "ignore-count",
            "Bỏ qua _count: trả mọi kết quả trong một trang.",
            "Ignores _count: every match comes in one page.",
        ),
        _f("ignore-include", "Bỏ qua _include và _revinclude.", "Ignores _include and _revinclude."),
        _f(
            "deleted-still-readable",
            "Tài nguyên đã xóa vẫn đọc được (200 thay vì 410).",
            "Deleted resources can still be read (200 instead of 410).",
        ),
        _f("version-not-incremented", "Cập nhật không tăng versionId.", "Updates do not increase versionId."),
        _f(
            "ignore-prefer",
            "Bỏ qua header Prefer (return=minimal / OperationOutcome).",
            "Ignores the Prefer header (return=minimal / OperationOutcome).",
        ),
        _f(
            "no-size-limit",
            "Không giới hạn kích thước yêu cầu (không trả 413).",
            "No request size limit (never answers 413).",
        ),
        _f(
            "no-rate-limit",
            "Không giới hạn tốc độ (không trả 429) kể cả khi đã cấu hình.",
            "No rate limiting (never answers 429) even when configured.",
        ),
        _f(
            "no-smart-configuration",
            "Không có /.well-known/smart-configuration (404).",
            "No /.well-known/smart-configuration (404).",
        ),
        _f(
            "summary-count-returns-entries",
            "_summary=count vẫn trả các mục kết quả.",
            "_summary=count still returns the matching entries.",
        ),
        # Scope holes (issue 19): each opens one path by which a narrow token gets other types.
        _f(
            "scope-bypass-include",
            "_include (kể cả `*` và :iterate) trả cả tài nguyên ngoài phạm vi của token.",
            "_include (also `*` and :iterate) returns resources outside the token's scopes.",
        ),
        _f(
            "scope-bypass-revinclude",
            "_revinclude (kể cả `*`) trả cả tài nguyên ngoài phạm vi của token.",
            "_revinclude (also `*`) returns resources outside the token's scopes.",
        ),
        _f(
            "scope-bypass-chain",
            "Tìm kiếm chuỗi và _has lọc theo dữ liệu của loại mà token không được tìm.",
            "Chained and _has search filter on data of a type the token may not search.",
        ),
        _f(
            "scope-bypass-batch",
            "Các mục GET của batch/transaction không kiểm tra phạm vi của token.",
            "GET entries of a batch or transaction are not checked against the token's scopes.",
        ),
        _f(
            "scope-bypass-everything",
            "Patient/$everything trả mọi loại tài nguyên, kể cả ngoài phạm vi của token.",
            "Patient/$everything returns every type, also those outside the token's scopes.",
        ),
        _f(
            "scope-bypass-history",
            "Lịch sử toàn hệ thống (/_history) trả mọi loại cho token phạm vi hẹp.",
            "System history (/_history) returns every type to a narrow-scope token.",
        ),
        _f(
            "scope-bypass-export",
            "Bulk $export xuất cả loại tài nguyên ngoài phạm vi của token.",
            "Bulk $export writes types outside the token's scopes too.",
        ),
        _f(
            "export-not-bound-to-client",
            "Yêu cầu $export không thuộc về client tạo ra nó: client khác đọc trạng thái, tải tệp, xóa được.",
            "Export jobs are not bound to their client: another client reads the status, downloads the files, deletes the job.",
        ),
        _f(
            "token-without-exp-accepted",
            "Access token cấp ra không có `exp` (dùng mãi mãi); client assertion không có `exp` vẫn được nhận.",
            "Access tokens are issued without `exp` (valid forever); client assertions without `exp` are accepted.",
        ),
        _f(
            "anonymous-read",
            "Đọc và tìm kiếm không cần token (chỉ việc ghi cần xác thực).",
            "Reads and searches need no token (only writes are authenticated).",
        ),
        _f(
            "no-patient-everything",
            "Patient/$everything trả 404 dù CapabilityStatement khai báo.",
            "Patient/$everything answers 404 although the CapabilityStatement declares it.",
        ),
        _f(
            "validate-accepts-anything",
            "$validate luôn trả lời hợp lệ, không kiểm tra gì.",
            "$validate always answers valid without checking anything.",
        ),
        _f(
            "per-string-size-limit",
            "Chỉ giới hạn độ dài từng chuỗi, không giới hạn kích thước thân yêu cầu.",
            "Caps the length of each string but not the size of the request body.",
        ),
    ]
)


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
