// The personal health-record summary (Composition + document Bundle), the facility submission
// (transaction Bundle) and the server's OperationOutcome.

Profile: VhrCompositionHealthRecord
Parent: Composition
Id: vhr-composition-health-record
Title: "Tóm tắt hồ sơ sức khỏe cá nhân / Personal health-record summary"
Description: "Tóm tắt hồ sơ sức khỏe theo 4 nhóm của sổ sức khỏe điện tử VNeID: hành chính, tiền sử, các lượt KCB, tóm tắt. / Health-record summary in the four groups of the VNeID health book: administrative, history, encounters, summary."
* ^status = #active
* ^experimental = false
* status MS
* type MS
* type = $LNC#60591-5
* subject 1..1 MS
* subject only Reference(VhrPatient)
* date MS
* author MS
* title MS
* custodian MS
* custodian only Reference(VhrOrganization)
* section 1..* MS
* section ^slicing.discriminator.type = #pattern
* section ^slicing.discriminator.path = "code"
* section ^slicing.rules = #open
* section ^slicing.ordered = false
* section contains
    administrative 1..1 MS and
    history 0..1 MS and
    encounters 0..1 MS and
    summary 0..1 MS
* section[administrative] ^short = "Thông tin hành chính / administrative information"
* section[administrative].title 1..1 MS
* section[administrative].code 1..1 MS
* section[administrative].code = VhrHealthRecordSectionCS#administrative
* section[administrative].text MS
* section[administrative].entry 1..* MS
* section[administrative].entry only Reference(VhrPatient or VhrCoverageBhyt)
* section[history] ^short = "Tiền sử: dị ứng, bệnh, tiêm chủng / history: allergies, diseases, vaccinations"
* section[history].title 1..1 MS
* section[history].code 1..1 MS
* section[history].code = $LNC#11348-0
* section[history].text MS
* section[history].entry MS
* section[history].entry only Reference(VhrConditionProblem or VhrAllergyIntolerance or VhrImmunization or VhrProcedure or VhrFamilyMemberHistory or VhrObservationSmokingStatus or VhrObservationAlcoholUse or VhrObservationBloodGroup)
* section[encounters] ^short = "Các lượt khám chữa bệnh / encounters"
* section[encounters].title 1..1 MS
* section[encounters].code 1..1 MS
* section[encounters].code = $LNC#46240-8
* section[encounters].text MS
* section[encounters].entry MS
* section[encounters].entry only Reference(VhrEncounter or VhrConditionEncounterDiagnosis or VhrObservationBodyHeight or VhrObservationBodyWeight or VhrObservationBloodPressure or VhrObservationBloodGroup or VhrObservationLabResult or VhrMedicationRequest or VhrProcedure)
* section[summary] ^short = "Tóm tắt hồ sơ: diễn biến, kết quả, phương pháp điều trị, hẹn tái khám / record summary"
* section[summary].title 1..1 MS
* section[summary].code 1..1 MS
* section[summary].code = $LNC#18842-5
* section[summary].text 1..1 MS

Profile: VhrBundleDocument
Parent: Bundle
Id: vhr-bundle-document
Title: "Tài liệu tóm tắt hồ sơ sức khỏe / Health-record summary document"
Description: "Bundle loại document: mục đầu là Composition tóm tắt hồ sơ sức khỏe, sau đó các tài nguyên được tham chiếu. / Document Bundle: first entry the health-record summary Composition, then the referenced resources."
* ^status = #active
* ^experimental = false
* identifier 1..1 MS
* identifier.system 1..1 MS
* identifier.value 1..1 MS
* type MS
* type = #document
* timestamp 1..1 MS
* entry 2..* MS
* entry.fullUrl 1..1 MS
* entry.resource 1..1 MS
* entry ^slicing.discriminator.type = #type
* entry ^slicing.discriminator.path = "resource"
* entry ^slicing.rules = #open
* entry ^slicing.ordered = false
* entry contains composition 1..1 MS and patient 1..1 MS
* entry[composition].resource only VhrCompositionHealthRecord
* entry[patient].resource only VhrPatient

Profile: VhrBundleTransaction
Parent: Bundle
Id: vhr-bundle-transaction
Title: "Gửi dữ liệu một lượt KCB / Encounter submission transaction"
Description: "Bundle loại transaction mà cơ sở KCB gửi cho một lượt KCB (tương đương một hồ sơ XML 130): người bệnh, thẻ BHYT, lượt KCB, chẩn đoán, chỉ số, thuốc, thủ thuật. / Transaction Bundle a facility sends for one encounter (one XML 130 record): patient, BHYT card, encounter, diagnoses, observations, drugs, procedures."
* ^status = #active
* ^experimental = false
* type MS
* type = #transaction
* entry 1..* MS
* entry.fullUrl 1..1 MS
* entry.resource 1..1 MS
* entry.request 1..1 MS
* entry.request.method MS
* entry.request.url MS
* entry.request.ifNoneExist MS
* entry ^slicing.discriminator.type = #type
* entry ^slicing.discriminator.path = "resource"
* entry ^slicing.rules = #open
* entry ^slicing.ordered = false
* entry contains
    patient 0..1 MS and
    coverage 0..1 MS and
    encounter 1..1 MS
* entry[patient].resource only VhrPatient
* entry[coverage].resource only VhrCoverageBhyt
* entry[encounter].resource only VhrEncounter

Profile: VhrOperationOutcome
Parent: OperationOutcome
Id: vhr-operationoutcome
Title: "Kết quả xử lý của máy chủ / VHR OperationOutcome"
Description: "Lỗi, cảnh báo máy chủ trả về; mỗi vấn đề có nội dung song ngữ \"tiếng Việt / English\" trong details.text và vị trí FHIRPath trong expression. / Errors and warnings returned by the server; each issue has bilingual text \"Vietnamese / English\" in details.text and a FHIRPath location in expression."
* ^status = #active
* ^experimental = false
* issue MS
* issue.severity MS
* issue.code MS
* issue.details 1..1 MS
* issue.details.coding MS
* issue.details.text 1..1 MS
* issue.details.text ^short = "Nội dung song ngữ \"tiếng Việt / English\" / bilingual text"
* issue.diagnostics MS
* issue.expression MS
