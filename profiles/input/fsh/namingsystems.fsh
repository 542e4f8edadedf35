// NamingSystems of the identifier systems. The community VN Core URIs are preferred; the URIs of
// the 2021 Ministry draft (http://fhir.ehealth.gov.vn/core) are listed as accepted aliases.

Instance: vhr-ns-cccd
InstanceOf: NamingSystem
Usage: #definition
Title: "Số định danh cá nhân (CCCD) / Personal identification number (CCCD)"
* name = "VhrCccd"
* status = #active
* kind = #identifier
* date = "2026-01-15"
* publisher = "vhr-conformance"
* responsible = "Bộ Công an / Ministry of Public Security"
* type = $V2-0203#NI
* description = "Số định danh cá nhân 12 chữ số (in trên thẻ CCCD), cũng là mã định danh y tế (NĐ 102/2025/NĐ-CP). / The 12-digit personal identification number printed on the citizen ID card; also the personal health identifier."
* jurisdiction = $ISO3166#VN "Viet Nam"
* uniqueId[0].type = #uri
* uniqueId[0].value = "http://fhir.hl7.org.vn/core/sid/cccd"
* uniqueId[0].preferred = true
* uniqueId[0].comment = "URI của VN Core (HL7 Việt Nam) / VN Core URI"
* uniqueId[1].type = #uri
* uniqueId[1].value = "http://fhir.ehealth.gov.vn/core/sid/cccd"
* uniqueId[1].preferred = false
* uniqueId[1].comment = "Bí danh theo dự thảo 2021, vẫn được chấp nhận / alias from the 2021 draft, still accepted"

Instance: vhr-ns-cmnd
InstanceOf: NamingSystem
Usage: #definition
Title: "Chứng minh nhân dân (đã thay thế) / Retired national ID card (CMND)"
* name = "VhrCmnd"
* status = #retired
* kind = #identifier
* date = "2026-01-15"
* publisher = "vhr-conformance"
* responsible = "Bộ Công an / Ministry of Public Security"
* type = $V2-0203#NI
* description = "Số CMND 9 hoặc 12 chữ số, đã được thay bằng CCCD; còn gặp trong dữ liệu cũ. / The 9- or 12-digit ID card number replaced by the CCCD; still found in old data."
* jurisdiction = $ISO3166#VN "Viet Nam"
* uniqueId[0].type = #uri
* uniqueId[0].value = "http://fhir.hl7.org.vn/core/sid/cmnd"
* uniqueId[0].preferred = true
* uniqueId[0].comment = "URI của VN Core (HL7 Việt Nam) / VN Core URI"
* uniqueId[1].type = #uri
* uniqueId[1].value = "http://fhir.ehealth.gov.vn/core/sid/cmnd"
* uniqueId[1].preferred = false
* uniqueId[1].comment = "Bí danh theo dự thảo 2021, vẫn được chấp nhận / alias from the 2021 draft, still accepted"

Instance: vhr-ns-bhyt
InstanceOf: NamingSystem
Usage: #definition
Title: "Mã thẻ bảo hiểm y tế / Health-insurance (BHYT) card number"
* name = "VhrBhyt"
* status = #active
* kind = #identifier
* date = "2026-01-15"
* publisher = "vhr-conformance"
* responsible = "Bảo hiểm xã hội Việt Nam / Vietnam Social Security"
* type = $V2-0203#SN
* description = "Mã thẻ BHYT: mẫu cũ 15 ký tự, mã số BHXH 10 chữ số (mẫu 2021) hoặc số CCCD (từ 15/08/2025). / BHYT card number: legacy 15 characters, 10-digit social-insurance number (2021 card) or CCCD (since 15 Aug 2025)."
* jurisdiction = $ISO3166#VN "Viet Nam"
* uniqueId[0].type = #uri
* uniqueId[0].value = "http://fhir.hl7.org.vn/core/sid/bhyt"
* uniqueId[0].preferred = true
* uniqueId[0].comment = "URI của VN Core (HL7 Việt Nam) / VN Core URI"
* uniqueId[1].type = #uri
* uniqueId[1].value = "http://fhir.ehealth.gov.vn/core/sid/bhyt"
* uniqueId[1].preferred = false
* uniqueId[1].comment = "Bí danh theo dự thảo 2021, vẫn được chấp nhận / alias from the 2021 draft, still accepted"

Instance: vhr-ns-bhxh
InstanceOf: NamingSystem
Usage: #definition
Title: "Mã số bảo hiểm xã hội / Social-insurance (BHXH) number"
* name = "VhrBhxh"
* status = #active
* kind = #identifier
* date = "2026-01-15"
* publisher = "vhr-conformance"
* responsible = "Bảo hiểm xã hội Việt Nam / Vietnam Social Security"
* type = $V2-0203#SB
* description = "Mã số BHXH 10 chữ số. / The 10-digit social-insurance number."
* jurisdiction = $ISO3166#VN "Viet Nam"
* uniqueId[0].type = #uri
* uniqueId[0].value = "http://fhir.hl7.org.vn/core/sid/bhxh"
* uniqueId[0].preferred = true
* uniqueId[0].comment = "URI của VN Core (HL7 Việt Nam) / VN Core URI"
* uniqueId[1].type = #uri
* uniqueId[1].value = "http://fhir.ehealth.gov.vn/core/sid/bhxh"
* uniqueId[1].preferred = false
* uniqueId[1].comment = "Bí danh theo dự thảo 2021, vẫn được chấp nhận / alias from the 2021 draft, still accepted"

Instance: vhr-ns-ma-cskcb
InstanceOf: NamingSystem
Usage: #definition
Title: "Mã cơ sở khám chữa bệnh / Healthcare facility code (MA_CSKCB)"
* name = "VhrMaCskcb"
* status = #active
* kind = #identifier
* date = "2026-01-15"
* publisher = "vhr-conformance"
* responsible = "Bảo hiểm xã hội Việt Nam / Vietnam Social Security"
* type = $V2-0203#FI
* description = "Mã cơ sở KCB 5 ký tự; 2 ký tự đầu là mã tỉnh (trước 2025). / The 5-character facility code; the first two are the (pre-2025) province code."
* jurisdiction = $ISO3166#VN "Viet Nam"
* uniqueId[0].type = #uri
* uniqueId[0].value = "http://fhir.hl7.org.vn/core/sid/ma-cskcb"
* uniqueId[0].preferred = true
* uniqueId[0].comment = "URI của VN Core (HL7 Việt Nam) / VN Core URI"
* uniqueId[1].type = #uri
* uniqueId[1].value = "http://fhir.ehealth.gov.vn/core/sid/ma-cskcb"
* uniqueId[1].preferred = false
* uniqueId[1].comment = "Bí danh theo dự thảo 2021, vẫn được chấp nhận / alias from the 2021 draft, still accepted"

Instance: vhr-ns-ma-lk
InstanceOf: NamingSystem
Usage: #definition
Title: "Mã liên kết lượt KCB / Encounter link key (MA_LK)"
* name = "VhrMaLk"
* status = #active
* kind = #identifier
* date = "2026-01-15"
* publisher = "vhr-conformance"
* responsible = "Cơ sở khám chữa bệnh / the healthcare facility"
* type = $V2-0203#VN
* description = "Mã lượt KCB do cơ sở đặt, tối đa 100 ký tự, duy nhất và không đổi; liên kết các bảng XML của một lượt KCB. Chỉ duy nhất trong phạm vi một cơ sở (assigner). / Facility-assigned encounter key, up to 100 characters, unique and immutable; links the XML tables of one encounter. Unique only within one facility (assigner)."
* jurisdiction = $ISO3166#VN "Viet Nam"
* uniqueId[0].type = #uri
* uniqueId[0].value = "http://fhir.hl7.org.vn/core/sid/ma-lk"
* uniqueId[0].preferred = true
* uniqueId[0].comment = "URI của VN Core (HL7 Việt Nam) / VN Core URI"
* uniqueId[1].type = #uri
* uniqueId[1].value = "http://fhir.ehealth.gov.vn/core/sid/ma-lk"
* uniqueId[1].preferred = false
* uniqueId[1].comment = "Bí danh theo dự thảo 2021, vẫn được chấp nhận / alias from the 2021 draft, still accepted"

Instance: vhr-ns-cchn
InstanceOf: NamingSystem
Usage: #definition
Title: "Chứng chỉ / giấy phép hành nghề / Practising licence number"
* name = "VhrCchn"
* status = #active
* kind = #identifier
* date = "2026-01-15"
* publisher = "vhr-conformance"
* responsible = "Bộ Y tế, Sở Y tế / Ministry or provincial Department of Health"
* type = $V2-0203#LN
* description = "Số chứng chỉ hành nghề (CCHN) hoặc giấy phép hành nghề (GPHN); không có định dạng cố định. / Practising certificate or licence number; no fixed format."
* jurisdiction = $ISO3166#VN "Viet Nam"
* uniqueId[0].type = #uri
* uniqueId[0].value = "http://fhir.hl7.org.vn/core/sid/cchn"
* uniqueId[0].preferred = true
* uniqueId[0].comment = "URI của VN Core (HL7 Việt Nam) / VN Core URI"
* uniqueId[1].type = #uri
* uniqueId[1].value = "http://fhir.ehealth.gov.vn/core/sid/cchn"
* uniqueId[1].preferred = false
* uniqueId[1].comment = "Bí danh theo dự thảo 2021, vẫn được chấp nhận / alias from the 2021 draft, still accepted"

Instance: vhr-ns-passport
InstanceOf: NamingSystem
Usage: #definition
Title: "Số hộ chiếu / Passport number"
* name = "VhrPassport"
* status = #active
* kind = #identifier
* date = "2026-01-15"
* publisher = "vhr-conformance"
* responsible = "Cục Quản lý xuất nhập cảnh / Immigration Department"
* type = $V2-0203#PPN
* description = "Số hộ chiếu Việt Nam: 1 chữ cái + 7 chữ số hoặc mã nước + 8 chữ số. / Vietnamese passport number."
* jurisdiction = $ISO3166#VN "Viet Nam"
* uniqueId[0].type = #uri
* uniqueId[0].value = "http://fhir.hl7.org.vn/core/sid/passport"
* uniqueId[0].preferred = true
* uniqueId[0].comment = "URI của VN Core (HL7 Việt Nam) / VN Core URI"
* uniqueId[1].type = #uri
* uniqueId[1].value = "http://fhir.ehealth.gov.vn/core/sid/passport"
* uniqueId[1].preferred = false
* uniqueId[1].comment = "Bí danh theo dự thảo 2021, vẫn được chấp nhận / alias from the 2021 draft, still accepted"
