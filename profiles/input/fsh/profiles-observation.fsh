// Observation profiles: vital signs (on the core vital-signs profiles), blood group, laboratory
// results and social history.

Profile: VhrObservationBodyHeight
Parent: http://hl7.org/fhir/StructureDefinition/bodyheight
Id: vhr-observation-body-height
Title: "Chiều cao / Body height"
Description: "Chiều cao của người bệnh (cm), dựa trên hồ sơ dấu hiệu sinh tồn của FHIR. / Body height (cm), on the FHIR vital-signs profile."
* ^status = #active
* ^experimental = false
* subject MS
* subject only Reference(VhrPatient)
* encounter MS
* encounter only Reference(VhrEncounter)
* effective[x] MS
* valueQuantity MS

Profile: VhrObservationBodyWeight
Parent: http://hl7.org/fhir/StructureDefinition/bodyweight
Id: vhr-observation-body-weight
Title: "Cân nặng / Body weight"
Description: "Cân nặng của người bệnh (kg, như CAN_NANG của XML1), dựa trên hồ sơ dấu hiệu sinh tồn của FHIR. / Body weight (kg, as XML1 CAN_NANG), on the FHIR vital-signs profile."
* ^status = #active
* ^experimental = false
* subject MS
* subject only Reference(VhrPatient)
* encounter MS
* encounter only Reference(VhrEncounter)
* effective[x] MS
* valueQuantity MS

Profile: VhrObservationBloodPressure
Parent: http://hl7.org/fhir/StructureDefinition/bp
Id: vhr-observation-blood-pressure
Title: "Huyết áp / Blood pressure"
Description: "Huyết áp tâm thu và tâm trương (mmHg), dựa trên hồ sơ dấu hiệu sinh tồn của FHIR. / Systolic and diastolic blood pressure (mmHg), on the FHIR vital-signs profile."
* ^status = #active
* ^experimental = false
* subject MS
* subject only Reference(VhrPatient)
* encounter MS
* encounter only Reference(VhrEncounter)
* effective[x] MS

Profile: VhrObservationBloodGroup
Parent: Observation
Id: vhr-observation-blood-group
Title: "Nhóm máu / ABO and Rh blood group"
Description: "Nhóm máu ABO kèm Rh (NHOM_MAU). / ABO blood group with Rh factor (NHOM_MAU)."
* ^status = #active
* ^experimental = false
* status MS
* category 1..1 MS
* category = $ObsCat#laboratory
* code MS
* code = $LNC#882-1
* subject 1..1 MS
* subject only Reference(VhrPatient)
* encounter MS
* encounter only Reference(VhrEncounter)
* effective[x] MS
* value[x] 1..1 MS
* value[x] only CodeableConcept
* valueCodeableConcept from VhrBloodGroupVS (required)

Profile: VhrObservationLabResult
Parent: Observation
Id: vhr-observation-lab-result
Title: "Kết quả xét nghiệm / Laboratory result"
Description: "Một chỉ số xét nghiệm (bảng XML4), mã LOINC bắt buộc. / One laboratory result (XML4 table) with a mandatory LOINC code."
* ^status = #active
* ^experimental = false
* status MS
* category 1..* MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category contains laboratory 1..1 MS
* category[laboratory] = $ObsCat#laboratory
* code MS
* code.coding 1..* MS
* code.coding ^slicing.discriminator.type = #value
* code.coding ^slicing.discriminator.path = "system"
* code.coding ^slicing.rules = #open
* code.coding contains loinc 1..1 MS
* code.coding[loinc].system 1..1 MS
* code.coding[loinc].system = $LNC (exactly)
* code.coding[loinc].code 1..1 MS
* subject 1..1 MS
* subject only Reference(VhrPatient)
* encounter MS
* encounter only Reference(VhrEncounter)
* effective[x] 1..1 MS
* issued MS
* performer MS
* value[x] MS
* interpretation MS
* referenceRange MS
* note MS

Profile: VhrObservationSmokingStatus
Parent: Observation
Id: vhr-observation-smoking-status
Title: "Tình trạng hút thuốc / Smoking status"
Description: "Tình trạng hút thuốc lá (LOINC 72166-2). / Tobacco smoking status (LOINC 72166-2)."
* ^status = #active
* ^experimental = false
* status MS
* category 1..1 MS
* category = $ObsCat#social-history
* code MS
* code = $LNC#72166-2
* subject 1..1 MS
* subject only Reference(VhrPatient)
* effective[x] MS
* value[x] 1..1 MS
* value[x] only CodeableConcept

Profile: VhrObservationAlcoholUse
Parent: Observation
Id: vhr-observation-alcohol-use
Title: "Sử dụng rượu bia / Alcohol use"
Description: "Tiền sử sử dụng rượu bia (LOINC 11331-6). / History of alcohol use (LOINC 11331-6)."
* ^status = #active
* ^experimental = false
* status MS
* category 1..1 MS
* category = $ObsCat#social-history
* code MS
* code = $LNC#11331-6
* subject 1..1 MS
* subject only Reference(VhrPatient)
* effective[x] MS
* value[x] 1..1 MS
* value[x] only CodeableConcept or Quantity or string
