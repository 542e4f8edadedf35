// XML 130 / 4750 / 3176 code lists and other small Vietnamese code systems (domain-vn.md §3).
// Each CodeSystem has a ValueSet with the same id holding all of its codes.

CodeSystem: VhrGenderXml130CS
Id: vhr-gender-xml130
Title: "Giới tính (XML 130 GIOI_TINH) / Sex (XML 130 GIOI_TINH)"
Description: "Mã giới tính của trường GIOI_TINH trong dữ liệu đầu ra XML 130/4750/3176. / Sex codes of XML 130/4750/3176 field GIOI_TINH."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^language = #vi
* #"1" "Nam" "Male"
* #"2" "Nữ" "Female"
* #"3" "Chưa xác định" "Unknown"

ValueSet: VhrGenderXml130VS
Id: vhr-gender-xml130
Title: "Giới tính (XML 130 GIOI_TINH) / Sex (XML 130 GIOI_TINH)"
Description: "Mọi mã trong CodeSystem vhr-gender-xml130. / All codes of the vhr-gender-xml130 code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrGenderXml130CS

CodeSystem: VhrTreatmentResultCS
Id: vhr-treatment-result
Title: "Kết quả điều trị / Treatment result (KET_QUA_DTRI)"
Description: "Mã kết quả điều trị, trường KET_QUA_DTRI của bảng XML1. / Treatment result codes, XML1 field KET_QUA_DTRI."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^language = #vi
* #"1" "Khỏi" "Cured"
* #"2" "Đỡ" "Improved"
* #"3" "Không thay đổi" "Unchanged"
* #"4" "Nặng hơn" "Worse"
* #"5" "Tử vong" "Died"
* #"6" "Tiên lượng nặng xin về" "Poor prognosis, family asked to take the patient home"
* #"7" "Chưa xác định" "Not determined"
* #"8" "Tử vong ngoại viện" "Died outside the hospital"

ValueSet: VhrTreatmentResultVS
Id: vhr-treatment-result
Title: "Kết quả điều trị / Treatment result (KET_QUA_DTRI)"
Description: "Mọi mã trong CodeSystem vhr-treatment-result. / All codes of the vhr-treatment-result code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrTreatmentResultCS

CodeSystem: VhrDischargeTypeCS
Id: vhr-discharge-type
Title: "Loại ra viện / Discharge type (MA_LOAI_RV)"
Description: "Mã loại ra viện, trường MA_LOAI_RV của bảng XML1. / Discharge type codes, XML1 field MA_LOAI_RV."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^language = #vi
* #"1" "Ra viện" "Discharged"
* #"2" "Chuyển tuyến theo yêu cầu chuyên môn" "Transferred for professional reasons"
* #"3" "Trốn viện" "Left without permission"
* #"4" "Xin ra viện" "Discharged at own request"
* #"5" "Chuyển tuyến theo yêu cầu người bệnh" "Transferred at the patient's request"

ValueSet: VhrDischargeTypeVS
Id: vhr-discharge-type
Title: "Loại ra viện / Discharge type (MA_LOAI_RV)"
Description: "Mọi mã trong CodeSystem vhr-discharge-type. / All codes of the vhr-discharge-type code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrDischargeTypeCS

CodeSystem: VhrFormOfCareCS
Id: vhr-form-of-care
Title: "Hình thức khám chữa bệnh / Form of care (MA_LOAI_KCB)"
Description: "Mã hình thức KCB, trường MA_LOAI_KCB (QĐ 4750, 3176; mã 11–16 theo QĐ 1804/QĐ-BYT từ 01/08/2026). / Form-of-care codes, XML1 field MA_LOAI_KCB (codes 11–16 from 01/08/2026)."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^language = #vi
* #"01" "Khám bệnh" "Outpatient consultation"
* #"02" "Điều trị ngoại trú" "Outpatient treatment"
* #"03" "Điều trị nội trú" "Inpatient treatment"
* #"04" "Điều trị nội trú ban ngày" "Day inpatient treatment"
* #"05" "Điều trị ngoại trú các bệnh mạn tính dài ngày liên tục trong năm có khám bệnh và lĩnh thuốc" "Chronic-disease outpatient care with consultation and drugs"
* #"06" "Điều trị lưu tại trạm y tế xã, phòng khám đa khoa khu vực" "Short stay at a commune health station or regional polyclinic"
* #"07" "Nhận thuốc theo hẹn" "Drugs collected by appointment"
* #"08" "Điều trị ngoại trú bệnh mạn tính có sử dụng dịch vụ kỹ thuật hoặc thuốc" "Chronic-disease outpatient care with technical services or drugs"
* #"09" "Điều trị nội trú dưới 4 giờ" "Inpatient stay under 4 hours"
* #"10" "Các trường hợp khác" "Other"
* #"11" "Khám chữa bệnh lưu động" "Mobile care"
* #"12" "Khám chữa bệnh tại nhà" "Home care"
* #"13" "Khám chữa bệnh y học gia đình" "Family-medicine care"
* #"14" "Khám chữa bệnh từ xa" "Telemedicine"
* #"15" "Khám sức khỏe định kỳ" "Periodic health check"
* #"16" "Khám sàng lọc" "Screening"

ValueSet: VhrFormOfCareVS
Id: vhr-form-of-care
Title: "Hình thức khám chữa bệnh / Form of care (MA_LOAI_KCB)"
Description: "Mọi mã trong CodeSystem vhr-form-of-care. / All codes of the vhr-form-of-care code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrFormOfCareCS

CodeSystem: VhrPatientCategoryCS
Id: vhr-patient-category
Title: "Đối tượng khám chữa bệnh / Patient category (MA_DOITUONG_KCB)"
Description: "Mã đối tượng KCB theo QĐ 3276/QĐ-BYT (17/10/2025), 27 mã; ý nghĩa từng mã xem phụ lục của quyết định. / Patient category codes of QĐ 3276/QĐ-BYT (27 codes); the meaning of each code is in the decision's appendix."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^language = #vi
* #"1.1" "Đối tượng KCB 1.1" "Patient category 1.1"
* #"1.2" "Đối tượng KCB 1.2" "Patient category 1.2"
* #"1.3" "Đối tượng KCB 1.3" "Patient category 1.3"
* #"1.4" "Đối tượng KCB 1.4" "Patient category 1.4"
* #"1.5" "Đối tượng KCB 1.5" "Patient category 1.5"
* #"1.6" "Đối tượng KCB 1.6" "Patient category 1.6"
* #"1.7" "Đối tượng KCB 1.7" "Patient category 1.7"
* #"1.11" "Đối tượng KCB 1.11" "Patient category 1.11"
* #"1.12" "Đối tượng KCB 1.12" "Patient category 1.12"
* #"1.13" "Đối tượng KCB 1.13" "Patient category 1.13"
* #"1.14" "Đối tượng KCB 1.14" "Patient category 1.14"
* #"1.15" "Đối tượng KCB 1.15" "Patient category 1.15"
* #"1.16" "Đối tượng KCB 1.16" "Patient category 1.16"
* #"1.17" "Đối tượng KCB 1.17" "Patient category 1.17"
* #"1.18" "Đối tượng KCB 1.18" "Patient category 1.18"
* #"2" "Cấp cứu" "Emergency"
* #"3.1" "Đối tượng KCB 3.1" "Patient category 3.1"
* #"3.2" "Đối tượng KCB 3.2" "Patient category 3.2"
* #"3.3" "Đối tượng KCB 3.3" "Patient category 3.3"
* #"3.6" "Đối tượng KCB 3.6" "Patient category 3.6"
* #"7" "Đối tượng KCB 7" "Patient category 7"
* #"7.2" "Đối tượng KCB 7.2" "Patient category 7.2"
* #"7.3" "Đối tượng KCB 7.3" "Patient category 7.3"
* #"7.4" "Đối tượng KCB 7.4" "Patient category 7.4"
* #"8" "Đối tượng KCB 8" "Patient category 8"
* #"9" "Đối tượng KCB 9" "Patient category 9"
* #"10" "Đối tượng KCB 10" "Patient category 10"

ValueSet: VhrPatientCategoryVS
Id: vhr-patient-category
Title: "Đối tượng khám chữa bệnh / Patient category (MA_DOITUONG_KCB)"
Description: "Mọi mã trong CodeSystem vhr-patient-category. / All codes of the vhr-patient-category code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrPatientCategoryCS

CodeSystem: VhrVisitReasonCS
Id: vhr-visit-reason
Title: "Lý do đến khám (tuyến) / Insurance visit type"
Description: "Lý do đến khám theo tuyến BHYT. / Insurance visit type (referral route)."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^language = #vi
* #"1" "Đúng tuyến" "Within the registered route"
* #"2" "Cấp cứu" "Emergency"
* #"3" "Trái tuyến" "Outside the registered route"
* #"4" "Thông tuyến" "Cross-route access"
* #"5" "Khám chữa bệnh ban đầu" "Primary care at the registered facility"

ValueSet: VhrVisitReasonVS
Id: vhr-visit-reason
Title: "Lý do đến khám (tuyến) / Insurance visit type"
Description: "Mọi mã trong CodeSystem vhr-visit-reason. / All codes of the vhr-visit-reason code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrVisitReasonCS

CodeSystem: VhrAccidentTypeCS
Id: vhr-accident-type
Title: "Loại tai nạn / Accident type (MA_TAI_NAN)"
Description: "Mã tai nạn thương tích, trường MA_TAI_NAN của bảng XML1. / Accident type codes, XML1 field MA_TAI_NAN."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^language = #vi
* #"0" "Không phải tai nạn" "Not an accident"
* #"1" "Tai nạn giao thông" "Traffic accident"
* #"2" "Tai nạn lao động" "Work accident"
* #"3" "Đuối nước" "Drowning"
* #"4" "Bỏng" "Burn"
* #"5" "Bạo lực, xung đột" "Violence"
* #"6" "Tự tử" "Suicide"
* #"7" "Ngộ độc" "Poisoning"
* #"8" "Khác" "Other"

ValueSet: VhrAccidentTypeVS
Id: vhr-accident-type
Title: "Loại tai nạn / Accident type (MA_TAI_NAN)"
Description: "Mọi mã trong CodeSystem vhr-accident-type. / All codes of the vhr-accident-type code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrAccidentTypeCS

CodeSystem: VhrAnaesthesiaMethodCS
Id: vhr-anaesthesia-method
Title: "Phương pháp vô cảm / Anaesthesia method (PP_VO_CAM)"
Description: "Mã phương pháp vô cảm, trường PP_VO_CAM của bảng XML3. / Anaesthesia method codes, XML3 field PP_VO_CAM."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^language = #vi
* #"1" "Gây mê" "General anaesthesia"
* #"2" "Gây tê" "Local or regional anaesthesia"
* #"3" "Châm tê" "Acupuncture anaesthesia"
* #"4" "Các phương pháp vô cảm khác" "Other method"

ValueSet: VhrAnaesthesiaMethodVS
Id: vhr-anaesthesia-method
Title: "Phương pháp vô cảm / Anaesthesia method (PP_VO_CAM)"
Description: "Mọi mã trong CodeSystem vhr-anaesthesia-method. / All codes of the vhr-anaesthesia-method code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrAnaesthesiaMethodCS

CodeSystem: VhrLivingAreaCS
Id: vhr-living-area
Title: "Nơi sinh sống / Living area (MA_KHU_VUC)"
Description: "Mã khu vực sinh sống của người có thẻ BHYT, trường MA_KHUVUC. / Living-area codes of the insured, XML1 field MA_KHUVUC."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^language = #vi
* #"K1" "Khu vực K1" "Area K1"
* #"K2" "Khu vực K2" "Area K2"
* #"K3" "Khu vực K3" "Area K3"

ValueSet: VhrLivingAreaVS
Id: vhr-living-area
Title: "Nơi sinh sống / Living area (MA_KHU_VUC)"
Description: "Mọi mã trong CodeSystem vhr-living-area. / All codes of the vhr-living-area code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrLivingAreaCS

CodeSystem: VhrBloodGroupCS
Id: vhr-blood-group
Title: "Nhóm máu ABO và Rh / ABO and Rh blood group (NHOM_MAU)"
Description: "Nhóm máu ABO kèm yếu tố Rh, như trường NHOM_MAU. / ABO blood group with Rh factor, as in field NHOM_MAU."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^language = #vi
* #"A+" "Nhóm máu A, Rh dương" "Group A, Rh positive"
* #"A-" "Nhóm máu A, Rh âm" "Group A, Rh negative"
* #"B+" "Nhóm máu B, Rh dương" "Group B, Rh positive"
* #"B-" "Nhóm máu B, Rh âm" "Group B, Rh negative"
* #"AB+" "Nhóm máu AB, Rh dương" "Group AB, Rh positive"
* #"AB-" "Nhóm máu AB, Rh âm" "Group AB, Rh negative"
* #"O+" "Nhóm máu O, Rh dương" "Group O, Rh positive"
* #"O-" "Nhóm máu O, Rh âm" "Group O, Rh negative"

ValueSet: VhrBloodGroupVS
Id: vhr-blood-group
Title: "Nhóm máu ABO và Rh / ABO and Rh blood group (NHOM_MAU)"
Description: "Mọi mã trong CodeSystem vhr-blood-group. / All codes of the vhr-blood-group code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrBloodGroupCS

ValueSet: VhrBhytBenefitLevelVS
Id: vhr-bhyt-benefit-level
Title: "Mức hưởng BHYT / BHYT benefit level"
Description: "Mọi mã trong CodeSystem vhr-bhyt-benefit-level. / All codes of the vhr-bhyt-benefit-level code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrBhytBenefitLevelCS

// The BHYT code systems are generated from the shared rule data: vn-rules.fsh.

ValueSet: VhrBhytBeneficiaryGroupVS
Id: vhr-bhyt-beneficiary-group
Title: "Nhóm đối tượng tham gia BHYT / BHYT beneficiary group"
Description: "Mọi mã trong CodeSystem vhr-bhyt-beneficiary-group. / All codes of the vhr-bhyt-beneficiary-group code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrBhytBeneficiaryGroupCS

CodeSystem: VhrOccupationCS
Id: vhr-occupation
Title: "Nghề nghiệp / Occupation (MA_NGHE_NGHIEP)"
Description: "Mã 00000 (không xác định) và các nhóm cấp 1 của danh mục nghề nghiệp Việt Nam (QĐ 34/2020/QĐ-TTg); mã cấp 5 đầy đủ chưa có trong gói. / Code 00000 (unknown) and the level-1 groups of the Vietnamese occupation classification (QĐ 34/2020/QĐ-TTg); the full level-5 list is not included."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #fragment
* ^language = #vi
* #"00000" "Không xác định" "Unknown"
* #"0" "Lực lượng quân đội" "Armed forces occupations"
* #"1" "Nhà lãnh đạo trong các ngành, các cấp và các đơn vị" "Managers and leaders"
* #"2" "Nhà chuyên môn bậc cao" "Professionals"
* #"3" "Nhà chuyên môn bậc trung" "Technicians and associate professionals"
* #"4" "Nhân viên trợ lý văn phòng" "Clerical support workers"
* #"5" "Nhân viên dịch vụ và bán hàng" "Service and sales workers"
* #"6" "Lao động có kỹ năng trong nông nghiệp, lâm nghiệp và thủy sản" "Skilled agricultural, forestry and fishery workers"
* #"7" "Lao động thủ công và các nghề nghiệp có liên quan khác" "Craft and related trades workers"
* #"8" "Thợ lắp ráp và vận hành máy móc, thiết bị" "Plant and machine operators and assemblers"
* #"9" "Lao động giản đơn" "Elementary occupations"

ValueSet: VhrOccupationVS
Id: vhr-occupation
Title: "Nghề nghiệp / Occupation (MA_NGHE_NGHIEP)"
Description: "Mọi mã trong CodeSystem vhr-occupation. / All codes of the vhr-occupation code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrOccupationCS

CodeSystem: VhrHealthRecordSectionCS
Id: vhr-health-record-section
Title: "Phần của hồ sơ sức khỏe / Health-record section"
Description: "Mã phần không có mã LOINC phù hợp trong bản tóm tắt hồ sơ sức khỏe. / Section codes of the health-record summary that have no fitting LOINC code."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^language = #vi
* #"administrative" "Thông tin hành chính" "Administrative information"

ValueSet: VhrHealthRecordSectionVS
Id: vhr-health-record-section
Title: "Phần của hồ sơ sức khỏe / Health-record section"
Description: "Mọi mã trong CodeSystem vhr-health-record-section. / All codes of the vhr-health-record-section code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrHealthRecordSectionCS
