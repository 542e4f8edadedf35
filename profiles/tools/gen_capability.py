"""Write ``profiles/input/fsh/capability.fsh`` from the tables below.

The CapabilityStatement is long and regular (resource x interaction x search parameter, each with
an expectation extension), so it is authored here as data and emitted as FSH; the FSH file is
committed and is what SUSHI builds. Edit the tables, run this script, then ``make profiles``.
"""

from pathlib import Path

B = "https://vhr-conformance.org/fhir"
# resource type -> (profiles, interaction expectations, [(param, type, definition, expectation, doc)])


def core(rt: str, p: str) -> str:
    """A resource-specific core search parameter, e.g. ``Patient-name``."""
    return f"http://hl7.org/fhir/SearchParameter/{rt}-{p}"


def shared(group: str, p: str) -> str:
    """A core parameter shared by several resources, e.g. ``clinical-patient``, ``individual-gender``."""
    return f"http://hl7.org/fhir/SearchParameter/{group}-{p}"


def clin(p: str) -> str:
    return shared("clinical", p)


I_FULL = {
    "read": "SHALL",
    "vread": "SHOULD",
    "search-type": "SHALL",
    "create": "SHALL",
    "update": "SHALL",
    "delete": "MAY",
    "history-instance": "SHOULD",
}
I_RO = {
    "read": "SHALL",
    "vread": "SHOULD",
    "search-type": "SHALL",
    "create": "SHOULD",
    "update": "SHOULD",
    "delete": "MAY",
    "history-instance": "MAY",
}
COMBINATION = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-search-parameter-combination"
# resource type -> [(expectation, parameters that must all be supported together)]
COMBINATIONS: dict[str, list[tuple[str, list[str]]]] = {
    "Patient": [
        ("SHOULD", ["birthdate", "name"]),
        ("SHOULD", ["gender", "name"]),
        ("MAY", ["birthdate", "family"]),
    ],
    "Encounter": [("SHOULD", ["date", "patient"])],
    "Condition": [("SHOULD", ["category", "patient"])],
    "Observation": [
        ("SHOULD", ["category", "patient"]),
        ("SHOULD", ["code", "patient"]),
        ("MAY", ["category", "date", "patient"]),
    ],
}
# resource type -> (_include values, _revinclude values) a server should support
INCLUDES: dict[str, tuple[list[str], list[str]]] = {
    "Patient": ([], ["Encounter:subject", "Coverage:beneficiary"]),
    "Encounter": (
        ["Encounter:subject", "Encounter:service-provider"],
        ["Condition:encounter", "Observation:encounter"],
    ),
    "Condition": (["Condition:subject"], []),
    "Observation": (["Observation:subject"], []),
    "MedicationRequest": (["MedicationRequest:subject"], []),
}

resources = [
    (
        "Patient",
        ["vhr-patient"],
        I_FULL,
        [
            (
                "identifier",
                "token",
                core("Patient", "identifier"),
                "SHALL",
                "Tìm theo định danh system|value / by identifier",
            ),
            (
                "name",
                "string",
                core("Patient", "name"),
                "SHALL",
                "Tìm theo tên, không phân biệt dấu và hoa thường / by name, accent- and case-insensitive",
            ),
            (
                "birthdate",
                "date",
                shared("individual", "birthdate"),
                "SHALL",
                "Tìm theo ngày sinh / by birth date",
            ),
            (
                "gender",
                "token",
                shared("individual", "gender"),
                "SHALL",
                "Tìm theo giới tính / by gender",
            ),
            (
                "cccd",
                "token",
                f"{B}/SearchParameter/vhr-patient-cccd",
                "SHALL",
                "Tìm theo số CCCD / by CCCD number",
            ),
            (
                "ethnicity",
                "token",
                f"{B}/SearchParameter/vhr-patient-ethnicity",
                "MAY",
                "Tìm theo dân tộc / by ethnic group",
            ),
            (
                "_id",
                "token",
                "http://hl7.org/fhir/SearchParameter/Resource-id",
                "SHALL",
                "Tìm theo id / by logical id",
            ),
            (
                "family",
                "string",
                shared("individual", "family"),
                "SHOULD",
                "Tìm theo họ / by family name",
            ),
            (
                "telecom",
                "token",
                shared("individual", "telecom"),
                "MAY",
                "Tìm theo số điện thoại / by phone",
            ),
        ],
    ),
    (
        "Encounter",
        ["vhr-encounter"],
        I_FULL,
        [
            ("patient", "reference", clin("patient"), "SHALL", "Theo người bệnh / by patient"),
            ("date", "date", clin("date"), "SHALL", "Theo thời gian lượt KCB / by encounter date"),
            ("identifier", "token", clin("identifier"), "SHOULD", "Theo định danh / by identifier"),
            ("ma-lk", "token", f"{B}/SearchParameter/vhr-encounter-ma-lk", "SHOULD", "Theo MA_LK / by MA_LK"),
            ("status", "token", core("Encounter", "status"), "MAY", "Theo trạng thái / by status"),
            (
                "service-provider",
                "reference",
                core("Encounter", "service-provider"),
                "MAY",
                "Theo cơ sở KCB / by facility",
            ),
        ],
    ),
    (
        "Condition",
        ["vhr-condition-encounter-diagnosis", "vhr-condition-problem"],
        I_FULL,
        [
            ("patient", "reference", clin("patient"), "SHALL", "Theo người bệnh / by patient"),
            ("code", "token", clin("code"), "SHOULD", "Theo mã ICD-10 / by code"),
            ("category", "token", core("Condition", "category"), "SHOULD", "Theo phân loại / by category"),
            ("encounter", "reference", core("Condition", "encounter"), "MAY", "Theo lượt KCB / by encounter"),
            (
                "clinical-status",
                "token",
                core("Condition", "clinical-status"),
                "MAY",
                "Theo trạng thái lâm sàng / by clinical status",
            ),
        ],
    ),
    (
        "Observation",
        [
            "vhr-observation-body-height",
            "vhr-observation-body-weight",
            "vhr-observation-blood-pressure",
            "vhr-observation-blood-group",
            "vhr-observation-lab-result",
            "vhr-observation-smoking-status",
            "vhr-observation-alcohol-use",
        ],
        I_FULL,
        [
            ("patient", "reference", clin("patient"), "SHALL", "Theo người bệnh / by patient"),
            ("code", "token", clin("code"), "SHOULD", "Theo mã LOINC / by code"),
            ("category", "token", core("Observation", "category"), "SHOULD", "Theo phân loại / by category"),
            ("date", "date", clin("date"), "SHOULD", "Theo thời điểm / by date"),
            ("encounter", "reference", clin("encounter"), "MAY", "Theo lượt KCB / by encounter"),
        ],
    ),
    (
        "AllergyIntolerance",
        ["vhr-allergyintolerance"],
        I_FULL,
        [
            ("patient", "reference", clin("patient"), "SHALL", "Theo người bệnh / by patient"),
            (
                "clinical-status",
                "token",
                core("AllergyIntolerance", "clinical-status"),
                "MAY",
                "Theo trạng thái lâm sàng / by clinical status",
            ),
        ],
    ),
    (
        "Immunization",
        ["vhr-immunization"],
        I_FULL,
        [
            ("patient", "reference", clin("patient"), "SHALL", "Theo người bệnh / by patient"),
            ("date", "date", clin("date"), "SHOULD", "Theo ngày tiêm / by date"),
            (
                "vaccine-code",
                "token",
                core("Immunization", "vaccine-code"),
                "MAY",
                "Theo mã vắc xin / by vaccine code",
            ),
        ],
    ),
    (
        "MedicationRequest",
        ["vhr-medicationrequest"],
        I_FULL,
        [
            ("patient", "reference", clin("patient"), "SHALL", "Theo người bệnh / by patient"),
            (
                "encounter",
                "reference",
                shared("medications", "encounter"),
                "SHOULD",
                "Theo lượt KCB / by encounter",
            ),
            (
                "authoredon",
                "date",
                core("MedicationRequest", "authoredon"),
                "MAY",
                "Theo ngày kê đơn / by date",
            ),
        ],
    ),
    (
        "Procedure",
        ["vhr-procedure"],
        I_FULL,
        [
            ("patient", "reference", clin("patient"), "SHOULD", "Theo người bệnh / by patient"),
            ("date", "date", clin("date"), "MAY", "Theo ngày / by date"),
        ],
    ),
    (
        "FamilyMemberHistory",
        ["vhr-familymemberhistory"],
        I_FULL,
        [
            ("patient", "reference", clin("patient"), "SHOULD", "Theo người bệnh / by patient"),
        ],
    ),
    (
        "Coverage",
        ["vhr-coverage-bhyt"],
        I_FULL,
        [
            (
                "beneficiary",
                "reference",
                core("Coverage", "beneficiary"),
                "SHOULD",
                "Theo người được bảo hiểm / by beneficiary",
            ),
            (
                "identifier",
                "token",
                core("Coverage", "identifier"),
                "SHOULD",
                "Theo mã thẻ BHYT / by card number",
            ),
        ],
    ),
    (
        "Organization",
        ["vhr-organization"],
        I_RO,
        [
            (
                "identifier",
                "token",
                core("Organization", "identifier"),
                "SHALL",
                "Theo MA_CSKCB / by facility code",
            ),
            ("name", "string", core("Organization", "name"), "SHOULD", "Theo tên / by name"),
        ],
    ),
    (
        "Practitioner",
        ["vhr-practitioner"],
        I_RO,
        [
            (
                "identifier",
                "token",
                core("Practitioner", "identifier"),
                "SHALL",
                "Theo định danh / by identifier",
            ),
            ("name", "string", core("Practitioner", "name"), "SHOULD", "Theo tên / by name"),
        ],
    ),
    (
        "Composition",
        ["vhr-composition-health-record"],
        {"read": "SHOULD", "search-type": "MAY"},
        [
            ("patient", "reference", clin("patient"), "MAY", "Theo người bệnh / by patient"),
        ],
    ),
    ("Bundle", ["vhr-bundle-document"], {"read": "MAY", "create": "MAY"}, []),
]


def q(s: str) -> str:
    return s.replace('"', '\\"')


out = [
    "// The VHR server CapabilityStatement: what a VHR-conformant server offers, with SHALL/SHOULD/MAY",
    "// expectations. The conformance suites are generated from it.",
    "// GENERATED by profiles/tools/gen_capability.py: edit the tables there, not this file.",
    "",
    "Instance: vhr-server",
    "InstanceOf: CapabilityStatement",
    "Usage: #definition",
    'Title: "Máy chủ VHR / VHR server"',
    f'* url = "{B}/CapabilityStatement/vhr-server"',
    '* version = "0.1.0"',
    '* name = "VhrServer"',
    '* title = "Yêu cầu đối với máy chủ VHR / VHR server requirements"',
    "* status = #active",
    "* experimental = false",
    '* date = "2026-01-15"',
    '* publisher = "vhr-conformance"',
    '* description = "Yêu cầu tối thiểu đối với máy chủ FHIR R4 của nền tảng hồ sơ sức khỏe điện tử (VHR) và các hệ thống trao đổi với nó. / Requirements for a FHIR R4 server of the VHR electronic health record platform and systems exchanging with it."',
    '* jurisdiction = $ISO3166#VN "Viet Nam"',
    "* kind = #requirements",
    "* fhirVersion = #4.0.1",
    "* format[0] = #json",
    "* format[0].extension[0].url = $Expectation",
    "* format[0].extension[0].valueCode = #SHALL",
    "* patchFormat[0] = #application/json-patch+json",
    "* patchFormat[0].extension[0].url = $Expectation",
    "* patchFormat[0].extension[0].valueCode = #MAY",
    "* rest[0].mode = #server",
    '* rest[0].documentation = "Máy chủ VHR nhận dữ liệu từ cơ sở KCB qua transaction và cung cấp hồ sơ sức khỏe cá nhân. / The VHR server receives facility submissions as transactions and serves personal health records."',
    "* rest[0].security.cors = true",
    '* rest[0].security.description = "Xác thực OAuth2 / SMART Backend Services (bearer JWT) khi triển khai thật; máy chủ tham chiếu có thể chạy không xác thực. / OAuth2 / SMART backend services (bearer JWT) in production; the reference server may run without authentication."',
]
for r, (rt, profiles, inter, params) in enumerate(resources):
    p = f"* rest[0].resource[{r}]"
    out += [f"{p}.type = #{rt}"]
    out += [f"{p}.extension[0].url = $Expectation", f"{p}.extension[0].valueCode = #SHALL"]
    for c, (exp, names) in enumerate(COMBINATIONS.get(rt, []), start=1):
        e = f"{p}.extension[{c}]"
        out += [
            f'{e}.url = "{COMBINATION}"',
            f"{e}.extension[0].url = $Expectation",
            f"{e}.extension[0].valueCode = #{exp}",
        ]
        for k, name in enumerate(names, start=1):
            out += [f'{e}.extension[{k}].url = "required"', f'{e}.extension[{k}].valueString = "{name}"']
    includes, revincludes = INCLUDES.get(rt, ([], []))
    out += [f'{p}.searchInclude[{i}] = "{v}"' for i, v in enumerate(includes)]
    out += [f'{p}.searchRevInclude[{i}] = "{v}"' for i, v in enumerate(revincludes)]
    out += [f'{p}.profile = "http://hl7.org/fhir/StructureDefinition/{rt}"']
    for i, prof in enumerate(profiles):
        out += [f'{p}.supportedProfile[{i}] = "{B}/StructureDefinition/{prof}"']
    for i, (code, exp) in enumerate(inter.items()):
        out += [
            f"{p}.interaction[{i}].code = #{code}",
            f"{p}.interaction[{i}].extension[0].url = $Expectation",
            f"{p}.interaction[{i}].extension[0].valueCode = #{exp}",
        ]
    out += [
        f"{p}.versioning = #versioned",
        f"{p}.readHistory = true",
        f"{p}.updateCreate = false",
        f"{p}.conditionalCreate = true",
        f"{p}.conditionalUpdate = false",
        f"{p}.conditionalDelete = #not-supported",
        f"{p}.referencePolicy[0] = #literal",
        f"{p}.referencePolicy[1] = #local",
    ]
    for i, (name, typ, defn, exp, doc) in enumerate(params):
        out += [
            f'{p}.searchParam[{i}].name = "{name}"',
            f'{p}.searchParam[{i}].definition = "{defn}"',
            f"{p}.searchParam[{i}].type = #{typ}",
            f'{p}.searchParam[{i}].documentation = "{q(doc)}"',
            f"{p}.searchParam[{i}].extension[0].url = $Expectation",
            f"{p}.searchParam[{i}].extension[0].valueCode = #{exp}",
        ]
    if rt == "Patient":
        out += [
            f'{p}.operation[0].name = "everything"',
            f'{p}.operation[0].definition = "http://hl7.org/fhir/OperationDefinition/Patient-everything"',
            f'{p}.operation[0].documentation = "Mọi dữ liệu của một người bệnh / all data of one patient"',
            f"{p}.operation[0].extension[0].url = $Expectation",
            f"{p}.operation[0].extension[0].valueCode = #SHALL",
        ]
out += [
    "* rest[0].interaction[0].code = #transaction",
    "* rest[0].interaction[0].extension[0].url = $Expectation",
    "* rest[0].interaction[0].extension[0].valueCode = #SHALL",
    '* rest[0].interaction[0].documentation = "Cơ sở KCB gửi một lượt KCB bằng Bundle vhr-bundle-transaction. / Facilities submit one encounter as a vhr-bundle-transaction Bundle."',
    "* rest[0].interaction[1].code = #batch",
    "* rest[0].interaction[1].extension[0].url = $Expectation",
    "* rest[0].interaction[1].extension[0].valueCode = #SHOULD",
    "* rest[0].interaction[2].code = #history-system",
    "* rest[0].interaction[2].extension[0].url = $Expectation",
    "* rest[0].interaction[2].extension[0].valueCode = #MAY",
    '* rest[0].operation[0].name = "validate"',
    '* rest[0].operation[0].definition = "http://hl7.org/fhir/OperationDefinition/Resource-validate"',
    '* rest[0].operation[0].documentation = "Kiểm tra tài nguyên theo hồ sơ VHR, trả về OperationOutcome vhr-operationoutcome. / Validate a resource against the VHR profiles; returns a vhr-operationoutcome."',
    "* rest[0].operation[0].extension[0].url = $Expectation",
    "* rest[0].operation[0].extension[0].valueCode = #SHALL",
]
(Path(__file__).resolve().parents[1] / "input" / "fsh" / "capability.fsh").open("w", encoding="utf-8").write(
    "\n".join(out) + "\n"
)
