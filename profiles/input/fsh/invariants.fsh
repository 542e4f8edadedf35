// FHIRPath invariants of the VHR guide. Keys are stable (docs/conventions.md); each expression is
// tested with fhirpathpy against the valid examples and the negative cases (tests/profiles).
// Identifier-level rules are guarded by their system so that a validator that does not resolve
// slices still applies them only to the right identifiers.

// vhr-cccd-* and vhr-bhyt-* are generated from the shared Vietnamese rule data: vn-rules.fsh.

Invariant: vhr-enc-1
Description: "Thời điểm kết thúc lượt KCB không được trước thời điểm bắt đầu. / The encounter period end must not be before its start."
Expression: "(period.start.exists() and period.end.exists()) implies period.end >= period.start"
Severity: #error

// A malformed birthDate is reported once by the primitive check: vhr-pat-1 does not repeat it.
// Compared as ISO text: a partial date that may be today (2026-12 in December 2026) is not future.
Invariant: vhr-pat-1
Description: "Ngày sinh không được ở tương lai. / The birth date must not be in the future."
Expression: "(birthDate.exists() and birthDate.toString().matches('^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$')) implies birthDate.toString() <= today().toString()"
Severity: #error
