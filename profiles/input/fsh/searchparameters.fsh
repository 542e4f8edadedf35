// Search parameters defined by the VHR guide (used in the CapabilityStatement vhr-server).

Instance: vhr-patient-cccd
InstanceOf: SearchParameter
Usage: #definition
* url = "https://vhr-conformance.org/fhir/SearchParameter/vhr-patient-cccd"
* version = "0.1.0"
* name = "VhrPatientCccd"
* status = #active
* experimental = false
* date = "2026-01-15"
* publisher = "vhr-conformance"
* description = "Tìm người bệnh theo số CCCD (định danh cá nhân, 12 chữ số); chỉ so với định danh có hệ http://fhir.hl7.org.vn/core/sid/cccd. / Find a patient by CCCD personal identification number; matches only identifiers of system http://fhir.hl7.org.vn/core/sid/cccd."
* code = #cccd
* base[0] = #Patient
* type = #token
* expression = "Patient.identifier.where(system = 'http://fhir.hl7.org.vn/core/sid/cccd')"
* xpathUsage = #normal

Instance: vhr-patient-ethnicity
InstanceOf: SearchParameter
Usage: #definition
* url = "https://vhr-conformance.org/fhir/SearchParameter/vhr-patient-ethnicity"
* version = "0.1.0"
* name = "VhrPatientEthnicity"
* status = #active
* experimental = false
* date = "2026-01-15"
* publisher = "vhr-conformance"
* description = "Tìm người bệnh theo mã dân tộc (vhr-ethnicity). / Find patients by ethnic-group code (vhr-ethnicity)."
* code = #ethnicity
* base[0] = #Patient
* type = #token
* expression = "Patient.extension('https://vhr-conformance.org/fhir/StructureDefinition/vhr-ethnicity').value.ofType(Coding)"
* xpathUsage = #normal

Instance: vhr-encounter-ma-lk
InstanceOf: SearchParameter
Usage: #definition
* url = "https://vhr-conformance.org/fhir/SearchParameter/vhr-encounter-ma-lk"
* version = "0.1.0"
* name = "VhrEncounterMaLk"
* status = #active
* experimental = false
* date = "2026-01-15"
* publisher = "vhr-conformance"
* description = "Tìm lượt KCB theo mã liên kết MA_LK. / Find an encounter by its MA_LK link key."
* code = #ma-lk
* base[0] = #Encounter
* type = #token
* expression = "Encounter.identifier.where(system = 'http://fhir.hl7.org.vn/core/sid/ma-lk')"
* xpathUsage = #normal
