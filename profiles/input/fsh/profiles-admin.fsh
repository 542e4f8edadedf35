// Administrative profiles: person, facility, practitioner, BHYT card.

Profile: VhrPatient
Parent: Patient
Id: vhr-patient
Title: "Người bệnh VHR / VHR Patient"
Description: "Người bệnh trong hồ sơ sức khỏe điện tử: số CCCD (định danh cá nhân, mã định danh y tế), thẻ BHYT, hộ chiếu; tên theo thứ tự Việt Nam; địa chỉ mã hóa theo cấu trúc 2025. / A person in the electronic health record: CCCD (personal ID, the health identifier), BHYT card, passport; Vietnamese name order; address coded in the 2025 structure."
* ^status = #active
* ^experimental = false
* obeys vhr-cccd-3 and vhr-cccd-4 and vhr-cccd-5 and vhr-pat-1
* extension contains
    VhrEthnicity named ethnicity 0..1 MS and
    VhrOccupation named occupation 0..1 MS and
    $Nationality named nationality 0..1 MS
* identifier 1..* MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier ^slicing.description = "Cắt lát theo hệ định danh / sliced by identifier system"
* identifier contains
    cccd 0..1 MS and
    bhyt 0..1 MS and
    passport 0..1 MS and
    cmnd 0..1
* identifier[cccd] ^short = "Số CCCD / định danh cá nhân (12 chữ số) / CCCD personal identification number (12 digits)"
* identifier[cccd] obeys vhr-cccd-1 and vhr-cccd-2
* identifier[cccd].system 1..1 MS
* identifier[cccd].system = $SID-CCCD (exactly)
* identifier[cccd].value 1..1 MS
* identifier[bhyt] ^short = "Mã thẻ BHYT / BHYT card number"
* identifier[bhyt] obeys vhr-bhyt-1 and vhr-bhyt-2 and vhr-bhyt-3 and vhr-bhyt-4 and vhr-bhyt-5
* identifier[bhyt].system 1..1 MS
* identifier[bhyt].system = $SID-BHYT (exactly)
* identifier[bhyt].value 1..1 MS
* identifier[bhyt].period MS
* identifier[passport] ^short = "Số hộ chiếu / passport number"
* identifier[passport].system 1..1 MS
* identifier[passport].system = $SID-PASSPORT (exactly)
* identifier[passport].value 1..1 MS
* identifier[cmnd] ^short = "Số CMND (đã thay bằng CCCD) / retired national ID card number"
* identifier[cmnd].system 1..1
* identifier[cmnd].system = $SID-CMND (exactly)
* identifier[cmnd].value 1..1
* active MS
* name 1..* MS
* name ^comment = "Họ trước, tên sau: family = họ; given = tên đệm rồi tên; text = họ và tên đầy đủ theo thứ tự Việt Nam. / Family name first: family = family name; given = middle then given names; text = the full name in Vietnamese order."
* name.text MS
* name.family 1..1 MS
* name.given MS
* telecom MS
* gender 1..1 MS
* birthDate 1..1 MS
* deceased[x] MS
* address MS
* address.extension contains
    VhrAddressProvince named province 0..1 MS and
    VhrAddressCommune named commune 0..1 MS
* address.text MS
* address.line MS
* address.country MS
* contact MS
* contact ^short = "Người đại diện hợp pháp, người liên hệ / legal representative or contact"
* contact.relationship MS
* contact.name MS
* contact.telecom MS
* managingOrganization MS
* managingOrganization only Reference(VhrOrganization)

Profile: VhrOrganization
Parent: Organization
Id: vhr-organization
Title: "Cơ sở khám chữa bệnh / VHR healthcare facility"
Description: "Cơ sở khám chữa bệnh, định danh bằng mã MA_CSKCB (5 ký tự). / A healthcare facility identified by its MA_CSKCB code (5 characters)."
* ^status = #active
* ^experimental = false
* identifier 1..* MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier contains cskcb 0..1 MS
* identifier[cskcb] ^short = "Mã cơ sở KCB (MA_CSKCB) / facility code"
* identifier[cskcb].system 1..1 MS
* identifier[cskcb].system = $SID-CSKCB (exactly)
* identifier[cskcb].value 1..1 MS
* active MS
* type MS
* name 1..1 MS
* telecom MS
* address MS
* address.extension contains
    VhrAddressProvince named province 0..1 MS and
    VhrAddressCommune named commune 0..1 MS
* partOf MS

Profile: VhrPractitioner
Parent: Practitioner
Id: vhr-practitioner
Title: "Người hành nghề / VHR Practitioner"
Description: "Người hành nghề khám chữa bệnh, định danh bằng số chứng chỉ/giấy phép hành nghề. / A health practitioner identified by the practising licence number."
* ^status = #active
* ^experimental = false
* identifier 1..* MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier contains cchn 0..1 MS and cccd 0..1 MS
* identifier[cchn] ^short = "Số chứng chỉ / giấy phép hành nghề / practising licence number"
* identifier[cchn].system 1..1 MS
* identifier[cchn].system = $SID-CCHN (exactly)
* identifier[cchn].value 1..1 MS
* identifier[cccd] ^short = "Số CCCD (mã định danh y tế, MA_BAC_SI) / personal ID (MA_BAC_SI)"
* identifier[cccd] obeys vhr-cccd-1 and vhr-cccd-2
* identifier[cccd].system 1..1 MS
* identifier[cccd].system = $SID-CCCD (exactly)
* identifier[cccd].value 1..1 MS
* active MS
* name 1..* MS
* name.text MS
* name.family MS
* name.given MS
* telecom MS
* gender MS
* qualification MS

Profile: VhrCoverageBhyt
Parent: Coverage
Id: vhr-coverage-bhyt
Title: "Thẻ BHYT / BHYT health-insurance card"
Description: "Thẻ bảo hiểm y tế xã hội: mã thẻ (mẫu cũ 15 ký tự, mã BHXH 10 chữ số, hoặc CCCD), nhóm đối tượng, mức hưởng, nơi đăng ký KCB ban đầu và hạn thẻ. / A social health-insurance (BHYT) card: number (legacy 15 characters, 10-digit BHXH number or CCCD), beneficiary group, benefit level, registered primary-care facility and validity."
* ^status = #active
* ^experimental = false
* obeys vhr-bhyt-6 and vhr-bhyt-7
* extension contains
    VhrBhytBeneficiaryGroup named beneficiaryGroup 0..1 MS and
    VhrBhytBenefitLevel named benefitLevel 0..1 MS and
    VhrBhytRegisteredFacility named registeredFacility 0..1 MS
* identifier 1..* MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier contains bhyt 1..1 MS
* identifier[bhyt] ^short = "Mã thẻ BHYT / BHYT card number"
* identifier[bhyt] obeys vhr-bhyt-1 and vhr-bhyt-2 and vhr-bhyt-3 and vhr-bhyt-4 and vhr-bhyt-5
* identifier[bhyt].system 1..1 MS
* identifier[bhyt].system = $SID-BHYT (exactly)
* identifier[bhyt].value 1..1 MS
* status MS
* type 1..1 MS
* type = $ActCode#PUBLICPOL
* subscriberId MS
* beneficiary MS
* beneficiary only Reference(VhrPatient)
* period 1..1 MS
* period.start 1..1 MS
* period.end MS
* payor MS
