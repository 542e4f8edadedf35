// Extensions of the VHR guide. Coded extensions carry a valueCoding from the matching CodeSystem.

Extension: VhrEthnicity
Id: vhr-ethnicity
Title: "Dân tộc / Ethnicity"
Description: "Dân tộc của người bệnh (MA_DANTOC, danh mục GSO 1979). / The patient's ethnic group (MA_DANTOC, GSO 1979 list)."
Context: Patient
* value[x] only Coding
* valueCoding 1..1
* valueCoding from VhrEthnicityVS (required)
* valueCoding.system 1..1
* valueCoding.code 1..1

Extension: VhrOccupation
Id: vhr-occupation
Title: "Nghề nghiệp / Occupation"
Description: "Nghề nghiệp của người bệnh (MA_NGHE_NGHIEP, QĐ 34/2020/QĐ-TTg). / The patient's occupation (MA_NGHE_NGHIEP)."
Context: Patient
* value[x] only Coding
* valueCoding 1..1
* valueCoding from VhrOccupationVS (extensible)
* valueCoding.code 1..1

Extension: VhrAddressProvince
Id: vhr-address-province
Title: "Mã tỉnh của địa chỉ / Address province code"
Description: "Mã tỉnh, thành phố (cấu trúc 2025, 34 đơn vị) của địa chỉ. / Province code (2025 structure, 34 units) of the address."
Context: Address
* value[x] only Coding
* valueCoding 1..1
* valueCoding from VhrProvinceVS (required)
* valueCoding.system 1..1
* valueCoding.code 1..1

Extension: VhrAddressCommune
Id: vhr-address-commune
Title: "Mã xã của địa chỉ / Address commune code"
Description: "Mã xã, phường, đặc khu (cấu trúc 2025) của địa chỉ; phải thuộc tỉnh của địa chỉ (quy tắc VN-ADDR-001). / Commune code (2025 structure) of the address; must belong to the address province (rule VN-ADDR-001)."
Context: Address
* value[x] only Coding
* valueCoding 1..1
* valueCoding from VhrCommuneVS (required)
* valueCoding.system 1..1
* valueCoding.code 1..1

Extension: VhrBhytBeneficiaryGroup
Id: vhr-bhyt-beneficiary-group
Title: "Nhóm đối tượng BHYT / BHYT beneficiary group"
Description: "Nhóm đối tượng tham gia BHYT (2 ký tự đầu của thẻ mẫu cũ). / BHYT beneficiary group (first two letters of a legacy card)."
Context: Coverage
* value[x] only Coding
* valueCoding 1..1
* valueCoding from VhrBhytBeneficiaryGroupVS (extensible)
* valueCoding.code 1..1

Extension: VhrBhytBenefitLevel
Id: vhr-bhyt-benefit-level
Title: "Mức hưởng BHYT / BHYT benefit level"
Description: "Mức hưởng BHYT 1–5 (ký tự thứ 3 của thẻ mẫu cũ). / BHYT benefit level 1–5 (third character of a legacy card)."
Context: Coverage
* value[x] only Coding
* valueCoding 1..1
* valueCoding from VhrBhytBenefitLevelVS (required)
* valueCoding.system 1..1
* valueCoding.code 1..1

Extension: VhrBhytRegisteredFacility
Id: vhr-bhyt-registered-facility
Title: "Nơi đăng ký KCB ban đầu / Registered primary-care facility (MA_DKBD)"
Description: "Mã cơ sở KCB nơi đăng ký khám chữa bệnh ban đầu (MA_DKBD). / Code of the registered primary-care facility (MA_DKBD)."
Context: Coverage
* value[x] only Identifier
* valueIdentifier 1..1
* valueIdentifier.system 1..1
* valueIdentifier.system = $SID-CSKCB (exactly)
* valueIdentifier.value 1..1

Extension: VhrEncounterFormOfCare
Id: vhr-encounter-form-of-care
Title: "Hình thức KCB / Form of care (MA_LOAI_KCB)"
Description: "Hình thức khám chữa bệnh của lượt KCB (MA_LOAI_KCB). / Form of care of the encounter (MA_LOAI_KCB)."
Context: Encounter
* value[x] only Coding
* valueCoding 1..1
* valueCoding from VhrFormOfCareVS (required)
* valueCoding.system 1..1
* valueCoding.code 1..1

Extension: VhrEncounterPatientCategory
Id: vhr-encounter-patient-category
Title: "Đối tượng KCB / Patient category (MA_DOITUONG_KCB)"
Description: "Đối tượng khám chữa bệnh (MA_DOITUONG_KCB, QĐ 3276/QĐ-BYT). / Patient category of the encounter (MA_DOITUONG_KCB)."
Context: Encounter
* value[x] only Coding
* valueCoding 1..1
* valueCoding from VhrPatientCategoryVS (required)
* valueCoding.system 1..1
* valueCoding.code 1..1

Extension: VhrEncounterTreatmentResult
Id: vhr-encounter-treatment-result
Title: "Kết quả điều trị / Treatment result (KET_QUA_DTRI)"
Description: "Kết quả điều trị khi kết thúc lượt KCB (KET_QUA_DTRI). / Treatment result at the end of the encounter (KET_QUA_DTRI)."
Context: Encounter
* value[x] only Coding
* valueCoding 1..1
* valueCoding from VhrTreatmentResultVS (required)
* valueCoding.system 1..1
* valueCoding.code 1..1

Extension: VhrEncounterDischargeType
Id: vhr-encounter-discharge-type
Title: "Loại ra viện / Discharge type (MA_LOAI_RV)"
Description: "Loại ra viện (MA_LOAI_RV). / Discharge type (MA_LOAI_RV)."
Context: Encounter
* value[x] only Coding
* valueCoding 1..1
* valueCoding from VhrDischargeTypeVS (required)
* valueCoding.system 1..1
* valueCoding.code 1..1
