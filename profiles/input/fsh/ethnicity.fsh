// The 54 ethnic groups of Viet Nam, numbered as in the GSO list of 1979 (QĐ 121-TCTK/PPCĐ),
// which XML 130 field MA_DANTOC uses. A 2008 list numbers them differently: do not mix them.
CodeSystem: VhrEthnicityCS
Id: vhr-ethnicity
Title: "Dân tộc Việt Nam / Ethnic groups of Viet Nam (GSO 1979)"
Description: "54 dân tộc theo danh mục QĐ 121-TCTK/PPCĐ (1979), mã 2 chữ số (MA_DANTOC). / The 54 ethnic groups of Viet Nam, two-digit codes of the 1979 GSO list used by XML 130 field MA_DANTOC."
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^language = #vi
* #01 "Kinh"
* #02 "Tày"
* #03 "Thái"
* #04 "Hoa"
* #05 "Khơ-me"
* #06 "Mường"
* #07 "Nùng"
* #08 "HMông"
* #09 "Dao"
* #10 "Gia-rai"
* #11 "Ngái"
* #12 "Ê-đê"
* #13 "Ba-na"
* #14 "Xơ-đăng"
* #15 "Sán Chay"
* #16 "Cơ-ho"
* #17 "Chăm"
* #18 "Sán Dìu"
* #19 "Hrê"
* #20 "Mnông"
* #21 "Ra-glai"
* #22 "Xtiêng"
* #23 "Bru-Vân Kiều"
* #24 "Thổ"
* #25 "Giáy"
* #26 "Cơ-tu"
* #27 "Gié-Triêng"
* #28 "Mạ"
* #29 "Khơ-mú"
* #30 "Co"
* #31 "Tà-ôi"
* #32 "Chơ-ro"
* #33 "Kháng"
* #34 "Xinh-mun"
* #35 "Hà Nhì"
* #36 "Chu-ru"
* #37 "Lào"
* #38 "La Chí"
* #39 "La Ha"
* #40 "Phù Lá"
* #41 "La Hủ"
* #42 "Lự"
* #43 "Lô Lô"
* #44 "Chứt"
* #45 "Mảng"
* #46 "Pà Thẻn"
* #47 "Cờ Lao"
* #48 "Cống"
* #49 "Bố Y"
* #50 "Si La"
* #51 "Pu Péo"
* #52 "Brâu"
* #53 "Ơ Đu"
* #54 "Rơ-măm"

ValueSet: VhrEthnicityVS
Id: vhr-ethnicity
Title: "Dân tộc Việt Nam / Ethnic groups of Viet Nam"
Description: "Mọi mã trong CodeSystem vhr-ethnicity. / All codes of the vhr-ethnicity code system."
* ^status = #active
* ^experimental = false
* include codes from system VhrEthnicityCS
