"""Bilingual message templates of the validator, one per rule, so wording lives in one place."""

from __future__ import annotations

from vhr_conformance.i18n import Text

M: dict[str, Text] = {
    "not-object": Text("Tài nguyên phải là một đối tượng JSON.", "A resource must be a JSON object."),
    "resourceType-missing": Text("Thiếu thuộc tính resourceType.", "The resourceType property is missing."),
    "resourceType-unknown": Text(
        "resourceType '{rt}' không phải loại tài nguyên FHIR R4.",
        "resourceType '{rt}' is not a FHIR R4 resource type.",
    ),
    "resourceType-abstract": Text(
        "resourceType '{rt}' là loại trừu tượng, không dùng trực tiếp được.",
        "resourceType '{rt}' is abstract and cannot be used directly.",
    ),
    "unknown-element": Text(
        "Phần tử '{name}' không được định nghĩa cho {type}.", "Element '{name}' is not defined for {type}."
    ),
    "json-null": Text(
        "Giá trị null không được phép trong FHIR JSON.", "null values are not allowed in FHIR JSON."
    ),
    "empty-array": Text(
        "Mảng rỗng không được phép trong FHIR JSON.", "Empty arrays are not allowed in FHIR JSON."
    ),
    "empty-object": Text(
        "Phần tử phải có giá trị hoặc phần tử con (ele-1).", "Element must have a value or children (ele-1)."
    ),
    "not-array": Text(
        "Phần tử '{name}' có thể lặp nên phải là mảng JSON.",
        "Element '{name}' repeats, so it must be a JSON array.",
    ),
    "is-array": Text(
        "Phần tử '{name}' không lặp nên không được là mảng JSON.",
        "Element '{name}' does not repeat, so it must not be a JSON array.",
    ),
    "wrong-json-type": Text(
        "Phần tử '{name}' phải là đối tượng JSON (kiểu {type}), nhận {got}.",
        "Element '{name}' must be a JSON object (type {type}), found {got}.",
    ),
    "primitive-extension": Text(
        "'{key}' phải là đối tượng (hoặc mảng đối tượng) chỉ chứa id/extension.",
        "'{key}' must be an object (or array of objects) holding only id/extension.",
    ),
    "primitive-extension-orphan": Text(
        "'{key}' không ứng với phần tử nguyên thủy nào.", "'{key}' does not match any primitive element."
    ),
    "primitive-array-align": Text(
        "Mảng '{name}' và '_{name}' phải cùng độ dài.",
        "Arrays '{name}' and '_{name}' must have the same length.",
    ),
    "cardinality-min": Text(
        "{path}: cần ít nhất {min} giá trị, có {n}.", "{path}: minimum required = {min}, found {n}."
    ),
    "cardinality-max": Text(
        "{path}: tối đa {max} giá trị, có {n}.", "{path}: maximum allowed = {max}, found {n}."
    ),
    "choice-multiple": Text(
        "Chỉ được dùng một kiểu cho '{name}[x]', có: {keys}.",
        "Only one type is allowed for '{name}[x]', found: {keys}.",
    ),
    "invariant": Text("Ràng buộc {key} không thỏa: {human}", "Constraint {key} failed: {human}"),
    "harness-fhirpath": Text(
        "Bộ kiểm thử không đánh giá được ràng buộc {key} ({expr}): {err}. Lỗi của công cụ, không phải của dữ liệu.",
        "The harness could not evaluate constraint {key} ({expr}): {err}. A harness error, not a data error.",
    ),
    "reference-format": Text(
        "Tham chiếu '{ref}' không đúng định dạng (Type/id, URL tuyệt đối, urn:uuid:, urn:oid: hoặc #id).",
        "Reference '{ref}' has an invalid format (Type/id, absolute URL, urn:uuid:, urn:oid: or #id).",
    ),
    "reference-target": Text(
        "Tham chiếu tới {got} không được phép ở đây; chỉ chấp nhận: {allowed}.",
        "A reference to {got} is not allowed here; allowed: {allowed}.",
    ),
    "reference-unresolved": Text(
        "Tham chiếu '{ref}' không trỏ tới mục nào trong Bundle.",
        "Reference '{ref}' does not resolve to any entry of the Bundle.",
    ),
    "reference-ambiguous": Text(
        "Tham chiếu '{ref}' khớp nhiều mục trong Bundle (nhiều phiên bản cùng id).",
        "Reference '{ref}' matches several entries of the Bundle (several versions of the same id).",
    ),
    "reference-aggregation": Text(
        "Tham chiếu '{ref}' phải trỏ tới tài nguyên nằm ngay trong tài nguyên/Bundle (profile cho phép: {allowed}), nhưng không tìm thấy ở đó.",
        "Reference '{ref}' must point to a resource held locally (the profile allows: {allowed}), but none is found there.",
    ),
    "sd-path-unknown": Text(
        "Differential nêu đường dẫn '{path}', nhưng kiểu {type} không có phần tử đó.",
        "The differential names '{path}', but type {type} has no such element.",
    ),
    "sd-fixed-conflict": Text(
        "'{path}' cố định giá trị {value}, trái với giá trị {base} mà profile gốc đã cố định.",
        "'{path}' fixes {value}, which contradicts {base} fixed by the base profile.",
    ),
    "sd-discriminator-path": Text(
        "Đường dẫn discriminator '{dpath}' không phải phần tử của '{path}', phần tử đang được cắt lát.",
        "The discriminator path '{dpath}' names no element of '{path}', the element being sliced.",
    ),
    "sd-binding-type": Text(
        "'{path}' có binding nhưng kiểu của nó ({types}) không mang mã nên binding vô nghĩa.",
        "'{path}' has a binding, but its types ({types}) carry no codes, so the binding is meaningless.",
    ),
    "measure-cohort-score": Text(
        "Measure {measure} có cách tính điểm 'cohort' nên báo cáo không được có measureScore.",
        "Measure {measure} is scored as a cohort, so its report must not carry a measureScore.",
    ),
    "searchparameter-expression-base": Text(
        "Biểu thức bắt đầu từ kiểu {types}, không thuộc base của tham số ({bases}).",
        "The expression starts from type {types}, which is not a base of the parameter ({bases}).",
    ),
    "searchparameter-derived-base": Text(
        "Kiểu {base} không phải base của tham số tìm kiếm gốc {origin} (derivedFrom).",
        "Type {base} is not a base of the SearchParameter it is derived from ({origin}).",
    ),
    "reference-contained": Text(
        "Tham chiếu nội bộ '{ref}' không có tài nguyên contained tương ứng.",
        "Local reference '{ref}' has no matching contained resource.",
    ),
    "binding-required": Text(
        "Mã {code} không thuộc ValueSet bắt buộc {vs}.", "Code {code} is not in the required ValueSet {vs}."
    ),
    "binding-extensible": Text(
        "Mã {code} không thuộc ValueSet mở rộng {vs} (nên dùng mã trong đó nếu có).",
        "Code {code} is not in the extensible ValueSet {vs} (use one of its codes where one applies).",
    ),
    "binding-no-code": Text(
        "Không có mã nào để kiểm tra với ValueSet bắt buộc {vs}.",
        "No code to check against the required ValueSet {vs}.",
    ),
    "code-unknown": Text(
        "Mã '{code}' không có trong hệ mã {system}.", "Code '{code}' is not defined in code system {system}."
    ),
    "reference-target-profile": Text(
        "Tài nguyên được tham chiếu '{ref}' không đáp ứng hồ sơ đích nào: {profiles}.",
        "The resource referenced by '{ref}' does not conform to any of the target profiles: {profiles}.",
    ),
    "bundle-link-repeated": Text(
        "Quan hệ liên kết '{rel}' xuất hiện nhiều lần trong {where}.",
        "Link relation '{rel}' appears more than once in {where}.",
    ),
    "bundle-fullurl-id": Text(
        "fullUrl '{url}' là URL RESTful nên phải kết thúc bằng {rt}/{id} của tài nguyên.",
        "fullUrl '{url}' is a RESTful URL, so it must end with the resource's {rt}/{id}.",
    ),
    "canonical-target": Text(
        "Canonical '{url}' trỏ tới {got}; chỉ cho phép: {allowed}.",
        "Canonical '{url}' points at a {got}; allowed: {allowed}.",
    ),
    "display-mismatch": Text(
        "Tên hiển thị '{display}' khác với tên trong hệ mã cho {code}: '{expected}'.",
        "Display '{display}' does not match the code system's display for {code}: '{expected}'.",
    ),
    "VN-ICD-001": Text(
        "Mã ICD-10 '{code}' không có trong ICD-10 WHO 2019; có thể là mã mở rộng của Việt Nam.",
        "ICD-10 code '{code}' is unknown to WHO ICD-10 2019; it may be a Vietnamese extension.",
    ),
    "VN-ADDR-001": Text(
        "Mã xã/phường {commune} không thuộc tỉnh/thành {province} (thuộc {actual}).",
        "Commune code {commune} does not belong to province {province} (it belongs to {actual}).",
    ),
    "extension-unknown": Text(
        "Không biết định nghĩa của extension {url} nên không chấp nhận ở đây (nạp IG định nghĩa nó bằng --ig).",
        "Extension {url} is unknown, so it is not allowed here (load the IG that defines it with --ig).",
    ),
    "extension-not-loaded": Text(
        "Extension {url} của HL7 không có trong các gói đã nạp; nội dung không được kiểm tra.",
        "HL7 extension {url} is not in the loaded packages; its content is not checked.",
    ),
    "modifier-extension-unknown": Text(
        "modifierExtension {url} không rõ định nghĩa: không thể xử lý an toàn tài nguyên này.",
        "modifierExtension {url} is unknown: this resource cannot be processed safely.",
    ),
    "extension-url": Text("Extension phải có url tuyệt đối.", "An extension must have an absolute url."),
    "profile-unknown": Text(
        "Không tìm thấy hồ sơ (profile) {url}; không kiểm tra theo hồ sơ này.",
        "Profile {url} is unknown; the resource was not checked against it.",
    ),
    "profile-type": Text(
        "Hồ sơ {url} dành cho {want}, không áp dụng cho {got}.", "Profile {url} is for {want}, not {got}."
    ),
    "fixed-value": Text(
        "Giá trị phải đúng bằng giá trị cố định của hồ sơ: {expected}.",
        "Value must equal the profile's fixed value: {expected}.",
    ),
    "pattern-value": Text(
        "Giá trị không khớp mẫu (pattern) của hồ sơ: {expected}.",
        "Value does not match the profile's pattern: {expected}.",
    ),
    "slice-closed": Text(
        "Phần tử không khớp lát cắt (slice) nào của {path} và slicing là đóng.",
        "Element matches no slice of {path} and the slicing is closed.",
    ),
    "slice-order": Text(
        "Các lát cắt của {path} phải theo đúng thứ tự.", "The slices of {path} must be in the defined order."
    ),
    "type-not-allowed": Text(
        "Kiểu {type} không được hồ sơ cho phép ở {path}; cho phép: {allowed}.",
        "Type {type} is not allowed by the profile at {path}; allowed: {allowed}.",
    ),
    "must-support": Text(
        "Phần tử bắt buộc hỗ trợ (must-support) {path} không có trong dữ liệu.",
        "Must-support element {path} is absent from the instance.",
    ),
    "bundle-fullurl-duplicate": Text(
        "fullUrl '{url}' xuất hiện nhiều lần trong Bundle.",
        "fullUrl '{url}' appears more than once in the Bundle.",
    ),
    "attachment-size": Text(
        "Kích thước khai báo {size} khác kích thước thực của dữ liệu {actual}.",
        "Stated attachment size {size} does not match the actual data size {actual}.",
    ),
    "bundle-fullurl-absolute": Text(
        "fullUrl phải là URL tuyệt đối (không phải '{url}').",
        "fullUrl must be an absolute URL (not '{url}').",
    ),
    "resource-id-extension": Text(
        "Không được gắn extension vào Resource.id.", "Extensions are not allowed on Resource.id."
    ),
    "min-value": Text(
        "Giá trị {value} nhỏ hơn giá trị tối thiểu {limit}.",
        "Value {value} is less than the minimum {limit}.",
    ),
    "max-value": Text(
        "Giá trị {value} lớn hơn giá trị tối đa {limit}.",
        "Value {value} is greater than the maximum {limit}.",
    ),
    "max-length": Text(
        "Chuỗi dài {n} ký tự, vượt quá maxLength {max}.",
        "String has {n} characters, more than maxLength {max}.",
    ),
}
