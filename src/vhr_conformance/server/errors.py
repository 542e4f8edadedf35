"""Errors the server answers with, always as a bilingual OperationOutcome."""

from __future__ import annotations

from typing import Any

from vhr_conformance.i18n import Text


class FhirError(Exception):
    """An HTTP error with an OperationOutcome body."""

    def __init__(
        self,
        status: int,
        code: str,
        text: Text,
        headers: dict[str, str] | None = None,
        outcome: dict[str, Any] | None = None,
        expression: str | None = None,
    ) -> None:
        super().__init__(text.en)
        self.status = status
        self.code = code
        self.text = text
        self.headers = headers or {}
        self.outcome = outcome
        self.expression = expression

    def operation_outcome(self) -> dict[str, Any]:
        if self.outcome is not None:
            return self.outcome
        return operation_outcome(
            "error" if self.status < 500 else "fatal", self.code, self.text, self.expression
        )


def operation_outcome(severity: str, code: str, text: Text, expression: str | None = None) -> dict[str, Any]:
    """An OperationOutcome with one issue, shaped like the validator's: English details.text with a
    Vietnamese translation extension, and both languages in diagnostics."""
    issue: dict[str, Any] = {
        "severity": severity,
        "code": code,
        "details": {
            "text": text.en,
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/translation",
                    "extension": [
                        {"url": "lang", "valueCode": "vi"},
                        {"url": "content", "valueString": text.vi},
                    ],
                }
            ],
        },
        "diagnostics": text.both(),
    }
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


T = Text  # short alias for the many messages in the app

NOT_FOUND = T("Không tìm thấy tài nguyên {what}.", "Resource {what} not found.")
GONE = T("Tài nguyên {what} đã bị xóa.", "Resource {what} has been deleted.")
UNKNOWN_TYPE = T(
    "Máy chủ không hỗ trợ loại tài nguyên `{t}`.", "Resource type `{t}` is not supported by this server."
)
BAD_JSON = T("Nội dung không phải JSON hợp lệ: {err}", "Body is not valid JSON: {err}")
NOT_RESOURCE = T(
    "Nội dung phải là một tài nguyên FHIR có resourceType.",
    "Body must be a FHIR resource with a resourceType.",
)
TYPE_MISMATCH = T(
    "resourceType `{got}` không khớp với URL (`{want}`).",
    "resourceType `{got}` does not match the URL (`{want}`).",
)
ID_MISMATCH = T(
    "id trong nội dung không khớp với id trên URL.", "The id in the body does not match the id in the URL."
)
ID_MISSING = T("Cập nhật cần có id trong nội dung.", "An update needs an id in the body.")
INVALID = T("Tài nguyên không hợp lệ theo hồ sơ VHR.", "The resource is not valid against the VHR profiles.")
VERSION_CONFLICT = T(
    "Phiên bản hiện tại là {have}, không khớp If-Match {want}.",
    "The current version is {have}; it does not match If-Match {want}.",
)
MULTIPLE_MATCHES = T(
    "Điều kiện khớp nhiều hơn một tài nguyên.", "The condition matches more than one resource."
)
NOT_ALLOWED = T("Thao tác `{op}` không được hỗ trợ cho {t}.", "Interaction `{op}` is not supported for {t}.")
UNSUPPORTED_PARAM = T("Tham số tìm kiếm `{p}` không được hỗ trợ.", "Search parameter `{p}` is not supported.")
BAD_PARAM = T("Giá trị không hợp lệ cho tham số `{p}`.", "Invalid value for parameter `{p}`.")
NOT_ACCEPTABLE = T(
    "Chỉ hỗ trợ application/fhir+json (Accept: {a}).",
    "Only application/fhir+json is supported (Accept: {a}).",
)
UNSUPPORTED_MEDIA = T(
    "Content-Type phải là application/fhir+json (nhận: {c}).",
    "Content-Type must be application/fhir+json (got: {c}).",
)
TOO_LARGE = T("Yêu cầu quá lớn (giới hạn {n} byte).", "Request too large (limit {n} bytes).")
RATE_LIMITED = T("Quá nhiều yêu cầu; thử lại sau {s} giây.", "Too many requests; retry after {s} seconds.")
UNAUTHENTICATED = T("Cần access token hợp lệ (Bearer).", "A valid access token (Bearer) is required.")
FORBIDDEN = T("Token không có phạm vi cho phép `{need}`.", "The token has no scope allowing `{need}`.")
NO_CONSENT = T(
    "Không có sự đồng ý của người bệnh cho phép chia sẻ dữ liệu của {what} với client này.",
    "No consent of the patient allows sharing the data of {what} with this client.",
)
INSURER_CONSENT_WRITE = T(
    "Doanh nghiệp bảo hiểm không được tạo, sửa hay xóa Consent.",
    "An insurer may not create, update or delete a Consent.",
)
ADMIN_ONLY = T(
    "Nhật ký truy cập (AuditEvent) chỉ dành cho client quản trị (system/*.*).",
    "The access log (AuditEvent) is for administrator clients (system/*.*) only.",
)
INTERNAL = T("Lỗi máy chủ tạm thời.", "Temporary server error.")
BAD_BUNDLE = T("Bundle không hợp lệ: {why}", "Invalid Bundle: {why}")
UNRESOLVED_REF = T(
    "Tham chiếu có điều kiện `{ref}` không khớp đúng một tài nguyên.",
    "Conditional reference `{ref}` does not match exactly one resource.",
)
UNRESOLVED = T(
    "Tham chiếu `{ref}` không trỏ tới tài nguyên nào trên máy chủ hay trong Bundle.",
    "Reference `{ref}` points at no resource on the server or in the Bundle.",
)
METHOD_NOT_ALLOWED = T("Phương thức HTTP không được hỗ trợ ở đây.", "HTTP method not supported here.")
TOO_MANY = T(
    "Yêu cầu tìm kiếm quá lớn: quá nhiều {what} (tối đa {n}).",
    "Search request too large: too many {what} (at most {n}).",
)
CONTROL_CHAR = T("Tham số `{p}` chứa ký tự điều khiển.", "Parameter `{p}` contains a control character.")
TOO_BIG_NUMBER = T(
    "Giá trị của `{p}` quá lớn (tối đa {n}).", "The value of `{p}` is too large (at most {n})."
)
DUPLICATE_KEY = T(
    "JSON có khóa trùng lặp `{k}` trong cùng một đối tượng.",
    "The JSON has a duplicate key `{k}` in one object.",
)
LOAD_UNREADABLE = T("Không đọc được: {e}", "Cannot be read: {e}")
LOAD_ENTRY = T("Mục bị từ chối ({s}).", "Entry refused ({s}).")
LOAD_BUNDLE_TYPE = T(
    "Bundle loại `{t}` không được nạp (chỉ transaction hoặc batch).",
    "A Bundle of type `{t}` is not loaded (only transaction or batch).",
)
