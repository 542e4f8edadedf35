// Example document Bundle (the health-record summary), transaction Bundle (a facility's
// submission of the March 2025 encounter) and OperationOutcome. Entries inline the examples of
// examples.fsh; fullUrls are RESTful so that relative references resolve inside the Bundle.

RuleSet: DocEntry(name, type)
* entry[+].fullUrl = "https://vhr.example.org/fhir/{type}/{name}"
* entry[=].resource = {name}

RuleSet: TxEntry(name, type)
* entry[+].fullUrl = "https://vhr.example.org/fhir/{type}/{name}"
* entry[=].resource = {name}
* entry[=].request.method = #PUT
* entry[=].request.url = "{type}/{name}"

Instance: vhr-ex-bundle-document
InstanceOf: VhrBundleDocument
Title: "Ví dụ tài liệu tóm tắt hồ sơ / Example health-record summary document"
Usage: #example
* insert TestData
* identifier.system = "urn:ietf:rfc:3986"
* identifier.value = "urn:uuid:6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f"
* type = #document
* timestamp = "2025-03-14T11:00:00+07:00"
* insert DocEntry(vhr-ex-composition, Composition)
* insert DocEntry(vhr-ex-patient, Patient)
* insert DocEntry(vhr-ex-coverage, Coverage)
* insert DocEntry(vhr-ex-organization, Organization)
* insert DocEntry(vhr-ex-practitioner, Practitioner)
* insert DocEntry(vhr-ex-problem-hypertension, Condition)
* insert DocEntry(vhr-ex-allergy, AllergyIntolerance)
* insert DocEntry(vhr-ex-immunization, Immunization)
* insert DocEntry(vhr-ex-procedure-appendectomy, Procedure)
* insert DocEntry(vhr-ex-familymemberhistory, FamilyMemberHistory)
* insert DocEntry(vhr-ex-smoking-status, Observation)
* insert DocEntry(vhr-ex-alcohol-use, Observation)
* insert DocEntry(vhr-ex-encounter, Encounter)
* insert DocEntry(vhr-ex-diagnosis, Condition)
* insert DocEntry(vhr-ex-body-height, Observation)
* insert DocEntry(vhr-ex-body-weight, Observation)
* insert DocEntry(vhr-ex-blood-pressure, Observation)
* insert DocEntry(vhr-ex-blood-group, Observation)
* insert DocEntry(vhr-ex-lab-wbc, Observation)
* insert DocEntry(vhr-ex-medicationrequest, MedicationRequest)

Instance: vhr-ex-bundle-transaction
InstanceOf: VhrBundleTransaction
Title: "Ví dụ gửi dữ liệu lượt KCB / Example encounter submission"
Usage: #example
* insert TestData
* type = #transaction
* insert TxEntry(vhr-ex-patient, Patient)
* insert TxEntry(vhr-ex-coverage, Coverage)
* insert TxEntry(vhr-ex-organization, Organization)
* insert TxEntry(vhr-ex-practitioner, Practitioner)
* insert TxEntry(vhr-ex-encounter, Encounter)
* insert TxEntry(vhr-ex-diagnosis, Condition)
* insert TxEntry(vhr-ex-body-height, Observation)
* insert TxEntry(vhr-ex-body-weight, Observation)
* insert TxEntry(vhr-ex-blood-pressure, Observation)
* insert TxEntry(vhr-ex-blood-group, Observation)
* insert TxEntry(vhr-ex-lab-wbc, Observation)
* insert TxEntry(vhr-ex-medicationrequest, MedicationRequest)

Instance: vhr-ex-operationoutcome
InstanceOf: VhrOperationOutcome
Title: "Ví dụ lỗi kiểm tra / Example validation error"
Usage: #example
* insert TestData
* insert Narrative([[Lỗi: chữ số thứ 5–6 của số CCCD không khớp năm sinh.]])
* issue.severity = #error
* issue.code = #invariant
* issue.details.text = "Chữ số thứ 5–6 của số CCCD phải bằng 2 chữ số cuối của năm sinh. / CCCD digits 5–6 must equal the last two digits of the birth year."
* issue.expression = "Patient.identifier[0].value"
