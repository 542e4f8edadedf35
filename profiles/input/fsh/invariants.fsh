// FHIRPath invariants of the VHR guide. Keys are stable (docs/conventions.md); each expression is
// tested with fhirpathpy against the valid examples and the negative cases (tests/profiles).
// Identifier-level rules are guarded by their system so that a validator that does not resolve
// slices still applies them only to the right identifiers.

Invariant: vhr-cccd-1
Description: "Số CCCD/định danh cá nhân phải gồm đúng 12 chữ số. / The CCCD (personal identification number) must be exactly 12 digits."
Expression: "system = 'http://fhir.hl7.org.vn/core/sid/cccd' implies value.matches('^[0-9]{12}$')"
Severity: #error

Invariant: vhr-cccd-2
Description: "3 chữ số đầu của số CCCD phải là 0 và mã tỉnh (trước 2025) nơi đăng ký khai sinh. / The first 3 digits of the CCCD must be 0 followed by a (pre-2025) province code."
Expression: "system = 'http://fhir.hl7.org.vn/core/sid/cccd' implies value.matches('^0(01|02|04|06|08|10|11|12|14|15|17|19|20|22|24|25|26|27|30|31|33|34|35|36|37|38|40|42|44|45|46|48|49|51|52|54|56|58|60|62|64|66|67|68|70|72|74|75|77|79|80|82|83|84|86|87|89|91|92|93|94|95|96)')"
Severity: #error

Invariant: vhr-cccd-3
Description: "Chữ số thứ 4 của số CCCD phải khớp giới tính và thế kỷ sinh (1900: nam 0, nữ 1; 2000: 2/3; 2100: 4/5; ...). / The 4th CCCD digit must match gender and birth century (1900s: male 0, female 1; 2000s: 2/3; 2100s: 4/5; ...)."
Expression: "(birthDate.exists() and (gender = 'male' or gender = 'female') and identifier.where(system = 'http://fhir.hl7.org.vn/core/sid/cccd' and value.matches('^[0-9]{12}$')).exists()) implies identifier.where(system = 'http://fhir.hl7.org.vn/core/sid/cccd' and value.matches('^[0-9]{12}$')).value.substring(3, 1) = (((birthDate.toString().substring(0, 4).toInteger() div 100) - 19) * 2 + iif(gender = 'female', 1, 0)).toString()"
Severity: #error

Invariant: vhr-cccd-4
Description: "Chữ số thứ 5–6 của số CCCD phải bằng 2 chữ số cuối của năm sinh. / CCCD digits 5–6 must equal the last two digits of the birth year."
Expression: "(birthDate.exists() and identifier.where(system = 'http://fhir.hl7.org.vn/core/sid/cccd' and value.matches('^[0-9]{12}$')).exists()) implies identifier.where(system = 'http://fhir.hl7.org.vn/core/sid/cccd' and value.matches('^[0-9]{12}$')).value.substring(4, 2) = birthDate.toString().substring(2, 2)"
Severity: #error

Invariant: vhr-bhyt-1
Description: "Mã thẻ BHYT phải là thẻ mẫu cũ 15 ký tự, mã số BHXH 10 chữ số hoặc số CCCD 12 chữ số. / The BHYT value must be a 15-character legacy card number, a 10-digit social-insurance number or a 12-digit CCCD."
Expression: "system = 'http://fhir.hl7.org.vn/core/sid/bhyt' implies value.matches('^([A-Z]{2}[1-5][0-9]{2}[0-9]{10}|[0-9]{10}|[0-9]{12})$')"
Severity: #error

Invariant: vhr-enc-1
Description: "Thời điểm kết thúc lượt KCB không được trước thời điểm bắt đầu. / The encounter period end must not be before its start."
Expression: "(period.start.exists() and period.end.exists()) implies period.end >= period.start"
Severity: #error

Invariant: vhr-pat-1
Description: "Ngày sinh không được ở tương lai. / The birth date must not be in the future."
Expression: "birthDate.exists() implies birthDate <= today()"
Severity: #error
