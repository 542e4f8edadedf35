// Encounter and clinical profiles.

Profile: VhrEncounter
Parent: Encounter
Id: vhr-encounter
Title: "Lượt khám chữa bệnh / VHR Encounter"
Description: "Một lượt khám chữa bệnh (một hồ sơ XML 130), định danh bằng MA_LK; hình thức KCB, đối tượng KCB, kết quả điều trị, loại ra viện. / One encounter (one XML 130 record) identified by MA_LK, with form of care, patient category, treatment result and discharge type."
* ^status = #active
* ^experimental = false
* obeys vhr-enc-1
* extension contains
    VhrEncounterFormOfCare named formOfCare 0..1 MS and
    VhrEncounterPatientCategory named patientCategory 0..1 MS and
    VhrEncounterTreatmentResult named treatmentResult 0..1 MS and
    VhrEncounterDischargeType named dischargeType 0..1 MS
* identifier 1..* MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier contains maLk 1..1 MS
* identifier[maLk] ^short = "Mã liên kết lượt KCB (MA_LK), duy nhất và không đổi / encounter link key (MA_LK), unique and immutable"
* identifier[maLk].system 1..1 MS
* identifier[maLk].system = $SID-MALK (exactly)
* identifier[maLk].value 1..1 MS
* identifier[maLk].assigner MS
* status MS
* class MS
* type MS
* subject 1..1 MS
* subject only Reference(VhrPatient)
* participant MS
* participant.individual MS
* participant.individual only Reference(VhrPractitioner)
* period 1..1 MS
* period.start 1..1 MS
* period.end MS
* reasonCode MS
* reasonCode ^short = "Lý do vào viện (LY_DO_VV) / reason for admission"
* diagnosis MS
* diagnosis.condition MS
* diagnosis.condition only Reference(VhrConditionEncounterDiagnosis)
* diagnosis.use MS
* diagnosis.rank MS
* hospitalization MS
* hospitalization.dischargeDisposition MS
* serviceProvider 1..1 MS
* serviceProvider only Reference(VhrOrganization)

Profile: VhrConditionEncounterDiagnosis
Parent: Condition
Id: vhr-condition-encounter-diagnosis
Title: "Chẩn đoán của lượt KCB / Encounter diagnosis"
Description: "Chẩn đoán ICD-10 của một lượt KCB (bệnh chính MA_BENH_CHINH hoặc bệnh kèm theo MA_BENH_KT; thứ tự trong Encounter.diagnosis.rank). / ICD-10 diagnosis of an encounter (main or secondary; order in Encounter.diagnosis.rank)."
* ^status = #active
* ^experimental = false
* clinicalStatus MS
* verificationStatus MS
* category 1..1 MS
* category = $CondCat#encounter-diagnosis
* code 1..1 MS
* code.coding 1..* MS
* code.coding ^slicing.discriminator.type = #value
* code.coding ^slicing.discriminator.path = "system"
* code.coding ^slicing.rules = #open
* code.coding contains icd10 1..1 MS
* code.coding[icd10].system 1..1 MS
* code.coding[icd10].system = $ICD10 (exactly)
* code.coding[icd10].code 1..1 MS
* code.coding[icd10].display MS
* subject 1..1 MS
* subject only Reference(VhrPatient)
* encounter 1..1 MS
* encounter only Reference(VhrEncounter)
* recordedDate MS
* recorder MS

Profile: VhrConditionProblem
Parent: Condition
Id: vhr-condition-problem
Title: "Bệnh mạn tính, tiền sử bệnh / Problem and past history"
Description: "Bệnh mạn tính, bệnh đã mắc (tiền sử) trong hồ sơ sức khỏe; mã ICD-10 ưu tiên. / Chronic and past diseases in the health record; ICD-10 preferred."
* ^status = #active
* ^experimental = false
* clinicalStatus MS
* verificationStatus MS
* category 1..1 MS
* category = $CondCat#problem-list-item
* code 1..1 MS
* code.coding 1..* MS
* subject 1..1 MS
* subject only Reference(VhrPatient)
* onset[x] MS
* abatement[x] MS
* recordedDate MS
* note MS

Profile: VhrAllergyIntolerance
Parent: AllergyIntolerance
Id: vhr-allergyintolerance
Title: "Dị ứng / VHR AllergyIntolerance"
Description: "Tiền sử dị ứng của người bệnh (thuốc, thực phẩm, môi trường). / An allergy or intolerance of the patient (drug, food, environment)."
* ^status = #active
* ^experimental = false
* clinicalStatus MS
* verificationStatus MS
* type MS
* category MS
* criticality MS
* code 1..1 MS
* patient MS
* patient only Reference(VhrPatient)
* onset[x] MS
* recordedDate MS
* reaction MS
* reaction.manifestation MS
* reaction.severity MS

Profile: VhrImmunization
Parent: Immunization
Id: vhr-immunization
Title: "Tiêm chủng / VHR Immunization"
Description: "Một mũi tiêm chủng; mã vắc xin CVX ưu tiên. / One vaccination; CVX vaccine code preferred."
* ^status = #active
* ^experimental = false
* status MS
* vaccineCode MS
* vaccineCode.coding 1..* MS
* patient MS
* patient only Reference(VhrPatient)
* encounter MS
* occurrence[x] MS
* occurrenceDateTime MS
* primarySource MS
* lotNumber MS
* performer MS
* performer.actor MS
* protocolApplied MS
* protocolApplied.doseNumber[x] MS

Profile: VhrMedicationRequest
Parent: MedicationRequest
Id: vhr-medicationrequest
Title: "Đơn thuốc (dòng thuốc) / Prescription line"
Description: "Một dòng thuốc trong đơn thuốc hoặc y lệnh (bảng XML2); identifier có thể là mã đơn thuốc điện tử. / One prescribed drug line (XML2 table); the identifier may be the e-prescription code."
* ^status = #active
* ^experimental = false
* identifier MS
* status MS
* intent MS
* medication[x] MS
* medication[x] only CodeableConcept or Reference(Medication)
* subject MS
* subject only Reference(VhrPatient)
* encounter MS
* encounter only Reference(VhrEncounter)
* authoredOn 1..1 MS
* requester MS
* requester only Reference(VhrPractitioner or VhrOrganization)
* dosageInstruction MS
* dosageInstruction.text MS
* dosageInstruction.route MS
* dispenseRequest MS
* dispenseRequest.quantity MS

Profile: VhrProcedure
Parent: Procedure
Id: vhr-procedure
Title: "Thủ thuật, phẫu thuật / VHR Procedure"
Description: "Thủ thuật, phẫu thuật trong một lượt KCB hoặc phẫu thuật đã thực hiện (tiền sử). / A procedure of an encounter, or a past surgery."
* ^status = #active
* ^experimental = false
* status MS
* category MS
* code 1..1 MS
* subject MS
* subject only Reference(VhrPatient)
* encounter MS
* encounter only Reference(VhrEncounter)
* performed[x] MS
* performer MS
* performer.actor MS
* note MS

Profile: VhrFamilyMemberHistory
Parent: FamilyMemberHistory
Id: vhr-familymemberhistory
Title: "Tiền sử gia đình / Family history"
Description: "Bệnh của người thân trong gia đình. / A disease of a family member."
* ^status = #active
* ^experimental = false
* status MS
* patient MS
* patient only Reference(VhrPatient)
* relationship MS
* sex MS
* condition 1..* MS
* condition.code MS
* condition.onset[x] MS
