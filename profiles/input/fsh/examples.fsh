// Valid examples, one or more per profile. Synthetic data only (meta.tag HTEST): one coherent
// patient, Nguyễn Thị Thu Hà, born 14/05/1990 and registered at birth in Hà Nội (CCCD prefix 001,
// 4th digit 1 = female born in the 1900s, digits 5–6 = 90), admitted for pneumonia in March 2025.

RuleSet: TestData
* meta.tag = $ActReason#HTEST "test health data"

RuleSet: Narrative(text)
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{text}</p></div>"

Instance: vhr-ex-patient
InstanceOf: VhrPatient
Title: "Ví dụ người bệnh / Example patient"
Usage: #example
* insert TestData
* insert Narrative([[Nguyễn Thị Thu Hà; nữ; sinh 14/05/1990; CCCD 001190123456; dân tộc Kinh; Phường Hoàn Kiếm; Thành phố Hà Nội.]])
* extension[ethnicity].valueCoding = VhrEthnicityCS#01 "Kinh"
* extension[occupation].valueCoding = VhrOccupationCS#2 "Nhà chuyên môn bậc cao"
* extension[nationality].extension[code].valueCodeableConcept = $ISO3166#VN "Viet Nam"
* identifier[cccd].system = $SID-CCCD
* identifier[cccd].value = "001190123456"
* identifier[bhyt].system = $SID-BHYT
* identifier[bhyt].value = "HC4010123456789"
* identifier[bhyt].period.start = "2025-01-01"
* identifier[bhyt].period.end = "2025-12-31"
* active = true
* name.use = #official
* name.text = "Nguyễn Thị Thu Hà"
* name.family = "Nguyễn"
* name.given[0] = "Thị"
* name.given[1] = "Thu"
* name.given[2] = "Hà"
* telecom.system = #phone
* telecom.value = "0912345678"
* telecom.use = #mobile
* gender = #female
* birthDate = "1990-05-14"
* address.use = #home
* address.text = "Số 12 phố Hàng Bài, Phường Hoàn Kiếm, Thành phố Hà Nội"
* address.line = "Số 12 phố Hàng Bài"
* address.city = "Phường Hoàn Kiếm"
* address.state = "Thành phố Hà Nội"
* address.country = "VN"
* address.extension[province].valueCoding = $VhrProvince#01 "Thành phố Hà Nội"
* address.extension[commune].valueCoding = $VhrCommune#00070 "Phường Hoàn Kiếm"
* contact.relationship = http://terminology.hl7.org/CodeSystem/v2-0131#N "Next-of-Kin"
* contact.name.text = "Trần Văn Nam"
* contact.telecom.system = #phone
* contact.telecom.value = "0987654321"
* managingOrganization = Reference(vhr-ex-organization)

Instance: vhr-ex-organization
InstanceOf: VhrOrganization
Title: "Ví dụ cơ sở KCB / Example facility"
Usage: #example
* insert TestData
* insert Narrative([[Bệnh viện Đa khoa Thử nghiệm Hà Nội; mã cơ sở KCB 01905.]])
* identifier[cskcb].system = $SID-CSKCB
* identifier[cskcb].value = "01905"
* active = true
* type = http://terminology.hl7.org/CodeSystem/organization-type#prov "Healthcare Provider"
* name = "Bệnh viện Đa khoa Thử nghiệm Hà Nội"
* telecom.system = #phone
* telecom.value = "02438250000"
* address.text = "Số 1 phố Tràng Thi, Phường Cửa Nam, Thành phố Hà Nội"
* address.country = "VN"
* address.extension[province].valueCoding = $VhrProvince#01 "Thành phố Hà Nội"
* address.extension[commune].valueCoding = $VhrCommune#00073 "Phường Cửa Nam"

Instance: vhr-ex-practitioner
InstanceOf: VhrPractitioner
Title: "Ví dụ bác sĩ / Example practitioner"
Usage: #example
* insert TestData
* insert Narrative([[BS. Trần Văn Minh; chứng chỉ hành nghề 004512/HNO-CCHN.]])
* identifier[cchn].system = $SID-CCHN
* identifier[cchn].value = "004512/HNO-CCHN"
* identifier[cccd].system = $SID-CCCD
* identifier[cccd].value = "036078004512"
* active = true
* name.text = "Trần Văn Minh"
* name.family = "Trần"
* name.given[0] = "Văn"
* name.given[1] = "Minh"
* gender = #male

Instance: vhr-ex-coverage
InstanceOf: VhrCoverageBhyt
Title: "Ví dụ thẻ BHYT / Example BHYT card"
Usage: #example
* insert TestData
* insert Narrative([[Thẻ BHYT HC4010123456789; mức hưởng 4 (80%); nơi đăng ký KCB ban đầu 01905; hạn 01/01/2025–31/12/2025.]])
* extension[beneficiaryGroup].valueCoding = VhrBhytBeneficiaryGroupCS#HC "Cán bộ, công chức, viên chức (mức hưởng 4)"
* extension[benefitLevel].valueCoding = VhrBhytBenefitLevelCS#4 "Mức hưởng 4: 80% chi phí KCB"
* extension[registeredFacility].valueIdentifier.system = $SID-CSKCB
* extension[registeredFacility].valueIdentifier.value = "01905"
* identifier[bhyt].system = $SID-BHYT
* identifier[bhyt].value = "HC4010123456789"
* status = #active
* type = $ActCode#PUBLICPOL "public healthcare"
* subscriberId = "0123456789"
* beneficiary = Reference(vhr-ex-patient)
* period.start = "2025-01-01"
* period.end = "2025-12-31"
* payor.display = "Bảo hiểm xã hội Việt Nam"

Instance: vhr-ex-encounter
InstanceOf: VhrEncounter
Title: "Ví dụ lượt điều trị nội trú / Example inpatient encounter"
Usage: #example
* insert TestData
* insert Narrative([[Điều trị nội trú 10/03/2025–14/03/2025 (MA_LK HTEST2503100001): viêm phổi; kết quả khỏi; ra viện.]])
* extension[formOfCare].valueCoding = VhrFormOfCareCS#03 "Điều trị nội trú"
* extension[patientCategory].valueCoding = VhrPatientCategoryCS#1.1
* extension[treatmentResult].valueCoding = VhrTreatmentResultCS#1 "Khỏi"
* extension[dischargeType].valueCoding = VhrDischargeTypeCS#1 "Ra viện"
* identifier[maLk].system = $SID-MALK
* identifier[maLk].value = "HTEST2503100001"
* identifier[maLk].assigner = Reference(vhr-ex-organization)
* status = #finished
* class = $ActCode#IMP "inpatient encounter"
* subject = Reference(vhr-ex-patient)
* participant.individual = Reference(vhr-ex-practitioner)
* period.start = "2025-03-10T08:15:00+07:00"
* period.end = "2025-03-14T10:00:00+07:00"
* reasonCode.text = "Sốt cao, ho có đờm 3 ngày"
* diagnosis.condition = Reference(vhr-ex-diagnosis)
* diagnosis.use = $DiagRole#DD "Discharge diagnosis"
* diagnosis.rank = 1
* hospitalization.dischargeDisposition = http://terminology.hl7.org/CodeSystem/discharge-disposition#home "Home"
* serviceProvider = Reference(vhr-ex-organization)

Instance: vhr-ex-diagnosis
InstanceOf: VhrConditionEncounterDiagnosis
Title: "Ví dụ chẩn đoán ra viện / Example discharge diagnosis"
Usage: #example
* insert TestData
* insert Narrative([[Chẩn đoán ra viện: J18.9 Viêm phổi; không đặc hiệu.]])
* clinicalStatus = $CondClin#resolved
* verificationStatus = $CondVer#confirmed
* category = $CondCat#encounter-diagnosis
* code.coding[icd10].system = $ICD10
* code.coding[icd10].code = #J18.9
* code.coding[icd10].display = "Viêm phổi, không đặc hiệu"
* code.text = "Viêm phổi"
* subject = Reference(vhr-ex-patient)
* encounter = Reference(vhr-ex-encounter)
* recordedDate = "2025-03-14"
* recorder = Reference(vhr-ex-practitioner)

Instance: vhr-ex-problem-hypertension
InstanceOf: VhrConditionProblem
Title: "Ví dụ bệnh mạn tính / Example chronic disease"
Usage: #example
* insert TestData
* insert Narrative([[Tăng huyết áp vô căn (I10) từ tháng 6/2019.]])
* clinicalStatus = $CondClin#active
* verificationStatus = $CondVer#confirmed
* category = $CondCat#problem-list-item
* code = $ICD10#I10 "Tăng huyết áp vô căn (nguyên phát)"
* subject = Reference(vhr-ex-patient)
* onsetDateTime = "2019-06"
* recordedDate = "2019-06-20"

Instance: vhr-ex-allergy
InstanceOf: VhrAllergyIntolerance
Title: "Ví dụ dị ứng / Example allergy"
Usage: #example
* insert TestData
* insert Narrative([[Dị ứng penicillin (mức độ cao): phát ban.]])
* clinicalStatus = $AllergyClin#active
* verificationStatus = http://terminology.hl7.org/CodeSystem/allergyintolerance-verification#confirmed
* type = #allergy
* category = #medication
* criticality = #high
* code = $SCT#764146007 "Penicillin"
* code.text = "Penicillin"
* patient = Reference(vhr-ex-patient)
* onsetDateTime = "2010"
* recordedDate = "2019-06-20"
* reaction.manifestation = $SCT#271807003 "Eruption of skin"
* reaction.manifestation.text = "Phát ban"
* reaction.severity = #moderate

Instance: vhr-ex-immunization
InstanceOf: VhrImmunization
Title: "Ví dụ tiêm chủng / Example vaccination"
Usage: #example
* insert TestData
* insert Narrative([[Tiêm vắc xin viêm gan B (người lớn) mũi 1 ngày 15/09/2021; lô HB2109A.]])
* status = #completed
* vaccineCode = $CVX#43 "hepatitis B vaccine, adult dosage"
* vaccineCode.text = "Vắc xin viêm gan B (người lớn)"
* patient = Reference(vhr-ex-patient)
* occurrenceDateTime = "2021-09-15"
* primarySource = true
* lotNumber = "HB2109A"
* performer.actor = Reference(vhr-ex-organization)
* protocolApplied.doseNumberPositiveInt = 1

Instance: vhr-ex-body-height
InstanceOf: VhrObservationBodyHeight
Title: "Ví dụ chiều cao / Example body height"
Usage: #example
* insert TestData
* insert Narrative([[Chiều cao 158 cm (10/03/2025).]])
* status = #final
* category[VSCat] = $ObsCat#vital-signs
* code = $LNC#8302-2 "Body height"
* subject = Reference(vhr-ex-patient)
* encounter = Reference(vhr-ex-encounter)
* effectiveDateTime = "2025-03-10T08:30:00+07:00"
* valueQuantity = 158 'cm' "cm"

Instance: vhr-ex-body-weight
InstanceOf: VhrObservationBodyWeight
Title: "Ví dụ cân nặng / Example body weight"
Usage: #example
* insert TestData
* insert Narrative([[Cân nặng 52 kg (10/03/2025).]])
* status = #final
* category[VSCat] = $ObsCat#vital-signs
* code = $LNC#29463-7 "Body weight"
* subject = Reference(vhr-ex-patient)
* encounter = Reference(vhr-ex-encounter)
* effectiveDateTime = "2025-03-10T08:30:00+07:00"
* valueQuantity = 52 'kg' "kg"

Instance: vhr-ex-blood-pressure
InstanceOf: VhrObservationBloodPressure
Title: "Ví dụ huyết áp / Example blood pressure"
Usage: #example
* insert TestData
* insert Narrative([[Huyết áp 135/85 mmHg (10/03/2025).]])
* status = #final
* category[VSCat] = $ObsCat#vital-signs
* code = $LNC#85354-9 "Blood pressure panel with all children optional"
* subject = Reference(vhr-ex-patient)
* encounter = Reference(vhr-ex-encounter)
* effectiveDateTime = "2025-03-10T08:30:00+07:00"
* component[SystolicBP].code = $LNC#8480-6 "Systolic blood pressure"
* component[SystolicBP].valueQuantity = 135 'mm[Hg]' "mmHg"
* component[DiastolicBP].code = $LNC#8462-4 "Diastolic blood pressure"
* component[DiastolicBP].valueQuantity = 85 'mm[Hg]' "mmHg"

Instance: vhr-ex-blood-group
InstanceOf: VhrObservationBloodGroup
Title: "Ví dụ nhóm máu / Example blood group"
Usage: #example
* insert TestData
* insert Narrative([[Nhóm máu O; Rh dương.]])
* status = #final
* category = $ObsCat#laboratory
* code = $LNC#882-1 "ABO and Rh group [Type] in Blood"
* subject = Reference(vhr-ex-patient)
* encounter = Reference(vhr-ex-encounter)
* effectiveDateTime = "2025-03-10T09:00:00+07:00"
* valueCodeableConcept = VhrBloodGroupCS#O+ "Nhóm máu O, Rh dương"

Instance: vhr-ex-lab-wbc
InstanceOf: VhrObservationLabResult
Title: "Ví dụ xét nghiệm bạch cầu / Example white-cell count"
Usage: #example
* insert TestData
* insert Narrative([[Số lượng bạch cầu 14.2 G/L (cao; tham chiếu 4–10).]])
* status = #final
* category[laboratory] = $ObsCat#laboratory
* code.coding[loinc].system = $LNC
* code.coding[loinc].code = #6690-2
* code.coding[loinc].display = "Leukocytes [#/volume] in Blood by Automated count"
* code.text = "Số lượng bạch cầu (WBC)"
* subject = Reference(vhr-ex-patient)
* encounter = Reference(vhr-ex-encounter)
* effectiveDateTime = "2025-03-10T09:00:00+07:00"
* issued = "2025-03-10T10:05:00+07:00"
* valueQuantity = 14.2 '10*3/uL' "G/L"
* interpretation = http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation#H "High"
* referenceRange.low = 4 '10*3/uL' "G/L"
* referenceRange.high = 10 '10*3/uL' "G/L"

Instance: vhr-ex-smoking-status
InstanceOf: VhrObservationSmokingStatus
Title: "Ví dụ tình trạng hút thuốc / Example smoking status"
Usage: #example
* insert TestData
* insert Narrative([[Chưa bao giờ hút thuốc.]])
* status = #final
* category = $ObsCat#social-history
* code = $LNC#72166-2 "Tobacco smoking status"
* subject = Reference(vhr-ex-patient)
* effectiveDateTime = "2025-03-10"
* valueCodeableConcept = $SCT#266919005 "Never smoked tobacco"
* valueCodeableConcept.text = "Chưa bao giờ hút thuốc"

Instance: vhr-ex-alcohol-use
InstanceOf: VhrObservationAlcoholUse
Title: "Ví dụ sử dụng rượu bia / Example alcohol use"
Usage: #example
* insert TestData
* insert Narrative([[Không uống rượu bia.]])
* status = #final
* category = $ObsCat#social-history
* code = $LNC#11331-6 "History of Alcohol use"
* subject = Reference(vhr-ex-patient)
* effectiveDateTime = "2025-03-10"
* valueCodeableConcept.text = "Không uống rượu bia"

Instance: vhr-ex-medicationrequest
InstanceOf: VhrMedicationRequest
Title: "Ví dụ đơn thuốc / Example prescription line"
Usage: #example
* insert TestData
* insert Narrative([[Azithromycin 500 mg: uống 1 viên/ngày sau ăn trong 5 ngày.]])
* identifier.system = "https://vhr-conformance.org/fhir/sid/don-thuoc"
* identifier.value = "01905abc1234dN"
* status = #completed
* intent = #order
* medicationCodeableConcept.text = "Azithromycin 500 mg, viên nén"
* subject = Reference(vhr-ex-patient)
* encounter = Reference(vhr-ex-encounter)
* authoredOn = "2025-03-10T10:30:00+07:00"
* requester = Reference(vhr-ex-practitioner)
* dosageInstruction.text = "Uống 1 viên/ngày, sau ăn, trong 5 ngày"
* dosageInstruction.route = $SCT#26643006 "Oral route"
* dispenseRequest.quantity = 5 '{tbl}' "viên"

Instance: vhr-ex-procedure-appendectomy
InstanceOf: VhrProcedure
Title: "Ví dụ phẫu thuật đã thực hiện / Example past surgery"
Usage: #example
* insert TestData
* insert Narrative([[Phẫu thuật cắt ruột thừa tháng 7/2008.]])
* status = #completed
* category = $SCT#387713003 "Surgical procedure"
* code = $SCT#80146002 "Appendectomy"
* code.text = "Cắt ruột thừa"
* subject = Reference(vhr-ex-patient)
* performedDateTime = "2008-07"

Instance: vhr-ex-familymemberhistory
InstanceOf: VhrFamilyMemberHistory
Title: "Ví dụ tiền sử gia đình / Example family history"
Usage: #example
* insert TestData
* insert Narrative([[Mẹ: đái tháo đường týp 2 (E11).]])
* status = #completed
* patient = Reference(vhr-ex-patient)
* relationship = http://terminology.hl7.org/CodeSystem/v3-RoleCode#MTH "mother"
* sex = http://hl7.org/fhir/administrative-gender#female
* condition.code = $ICD10#E11 "Bệnh đái tháo đường không phụ thuộc insulin"

Instance: vhr-ex-composition
InstanceOf: VhrCompositionHealthRecord
Title: "Ví dụ tóm tắt hồ sơ sức khỏe / Example health-record summary"
Usage: #example
* insert TestData
* insert Narrative([[Tóm tắt hồ sơ sức khỏe cá nhân của Nguyễn Thị Thu Hà.]])
* status = #final
* type = $LNC#60591-5 "Patient summary Document"
* subject = Reference(vhr-ex-patient)
* date = "2025-03-14T11:00:00+07:00"
* author = Reference(vhr-ex-practitioner)
* title = "Hồ sơ sức khỏe cá nhân — Nguyễn Thị Thu Hà"
* custodian = Reference(vhr-ex-organization)
* section[administrative].title = "Thông tin hành chính"
* section[administrative].code = VhrHealthRecordSectionCS#administrative
* section[administrative].text.status = #generated
* section[administrative].text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\">Nguyễn Thị Thu Hà, nữ, sinh 14/05/1990; thẻ BHYT HC4010123456789.</div>"
* section[administrative].entry[0] = Reference(vhr-ex-patient)
* section[administrative].entry[1] = Reference(vhr-ex-coverage)
* section[history].title = "Tiền sử"
* section[history].code = $LNC#11348-0 "History of Past illness Narrative"
* section[history].text.status = #generated
* section[history].text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\">Tăng huyết áp từ 2019; dị ứng penicillin; cắt ruột thừa 2008; tiêm viêm gan B.</div>"
* section[history].entry[0] = Reference(vhr-ex-problem-hypertension)
* section[history].entry[1] = Reference(vhr-ex-allergy)
* section[history].entry[2] = Reference(vhr-ex-immunization)
* section[history].entry[3] = Reference(vhr-ex-procedure-appendectomy)
* section[history].entry[4] = Reference(vhr-ex-familymemberhistory)
* section[history].entry[5] = Reference(vhr-ex-smoking-status)
* section[history].entry[6] = Reference(vhr-ex-alcohol-use)
* section[encounters].title = "Các lượt khám chữa bệnh"
* section[encounters].code = $LNC#46240-8 "History of Hospitalizations+Outpatient visits Narrative"
* section[encounters].text.status = #generated
* section[encounters].text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\">10/03/2025–14/03/2025: điều trị nội trú, viêm phổi (J18.9), khỏi.</div>"
* section[encounters].entry[0] = Reference(vhr-ex-encounter)
* section[encounters].entry[1] = Reference(vhr-ex-diagnosis)
* section[encounters].entry[2] = Reference(vhr-ex-body-height)
* section[encounters].entry[3] = Reference(vhr-ex-body-weight)
* section[encounters].entry[4] = Reference(vhr-ex-blood-pressure)
* section[encounters].entry[5] = Reference(vhr-ex-blood-group)
* section[encounters].entry[6] = Reference(vhr-ex-lab-wbc)
* section[encounters].entry[7] = Reference(vhr-ex-medicationrequest)
* section[summary].title = "Tóm tắt hồ sơ"
* section[summary].code = $LNC#18842-5 "Discharge summary"
* section[summary].text.status = #generated
* section[summary].text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\">Viêm phổi điều trị kháng sinh azithromycin 5 ngày, ra viện ổn định; tái khám sau 2 tuần.</div>"

// A second, different person: a Khmer man born in 2003 and registered in Sóc Trăng (legacy code
// 94, CCCD prefix 094, 4th digit 2 = man born in the 2000s, digits 5–6 = 03), living in Cần Thơ
// (2025 province 92), insured with the 10-digit social-insurance number of the 2021 card design.

Instance: vhr-ex-patient-2
InstanceOf: VhrPatient
Title: "Ví dụ người bệnh thứ hai / Second example patient"
Usage: #example
* insert TestData
* insert Narrative([[Thạch Văn Sơn; nam; sinh 21/08/2003; CCCD 094203012345; dân tộc Khơ-me; Phường Ninh Kiều; Thành phố Cần Thơ.]])
* extension[ethnicity].valueCoding = VhrEthnicityCS#05 "Khơ-me"
* extension[occupation].valueCoding = VhrOccupationCS#00000 "Không xác định"
* extension[nationality].extension[code].valueCodeableConcept = $ISO3166#VN "Viet Nam"
* identifier[cccd].system = $SID-CCCD
* identifier[cccd].value = "094203012345"
* identifier[bhyt].system = $SID-BHYT
* identifier[bhyt].value = "9412345678"
* active = true
* name.use = #official
* name.text = "Thạch Văn Sơn"
* name.family = "Thạch"
* name.given[0] = "Văn"
* name.given[1] = "Sơn"
* telecom.system = #phone
* telecom.value = "+84387654321"
* telecom.use = #mobile
* gender = #male
* birthDate = "2003-08-21"
* address.use = #home
* address.text = "Hẻm 51 đường 3 Tháng 2, Phường Ninh Kiều, Thành phố Cần Thơ"
* address.line = "Hẻm 51 đường 3 Tháng 2"
* address.city = "Phường Ninh Kiều"
* address.state = "Thành phố Cần Thơ"
* address.country = "VN"
* address.extension[province].valueCoding = $VhrProvince#92 "Thành phố Cần Thơ"
* address.extension[commune].valueCoding = $VhrCommune#31135 "Phường Ninh Kiều"

Instance: vhr-ex-coverage-2
InstanceOf: VhrCoverageBhyt
Title: "Ví dụ thẻ BHYT mẫu 2021 / Example BHYT card (2021 design)"
Usage: #example
* insert TestData
* insert Narrative([[Thẻ BHYT mẫu 2021: mã số BHXH 9412345678; sinh viên; mức hưởng 4; hạn 01/01/2025–31/12/2025.]])
* extension[beneficiaryGroup].valueCoding = VhrBhytBeneficiaryGroupCS#SV "Sinh viên (mức hưởng 4)"
* extension[benefitLevel].valueCoding = VhrBhytBenefitLevelCS#4 "Mức hưởng 4: 80% chi phí KCB"
* identifier[bhyt].system = $SID-BHYT
* identifier[bhyt].value = "9412345678"
* status = #active
* type = $ActCode#PUBLICPOL "public healthcare"
* subscriberId = "9412345678"
* beneficiary = Reference(vhr-ex-patient-2)
* period.start = "2025-01-01"
* period.end = "2025-12-31"
* payor.display = "Bảo hiểm xã hội Việt Nam"
