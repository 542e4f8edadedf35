"""FHIR XML read into the JSON form (FHIR R4 §2.6.1/§2.6.2), used for XML-only FHIRPath suite inputs."""

from __future__ import annotations

from pathlib import Path

from vhr_conformance.validator.fhirpath_xml import read

XML = """<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <id value="p1"/>
  <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Lan</p></div></text>
  <contained><Organization><id value="o1"/><name value="BV"/></Organization></contained>
  <extension url="http://example.org/e"><valueInteger value="3"/></extension>
  <active value="true"/>
  <name>
    <given value="Thi"/>
    <given><extension url="http://example.org/syllables"><valueString value="two"/></extension></given>
    <given value="Lan" id="g3"/>
  </name>
  <gender value="female"/>
  <birthDate value="1990-05-14"/>
  <multipleBirthInteger value="2"/>
  <managingOrganization><reference value="#o1"/></managingOrganization>
</Patient>
"""


def test_xml_becomes_fhir_json(tmp_path: Path) -> None:
    f = tmp_path / "p.xml"
    f.write_text(XML, encoding="utf-8")
    p = read(f)
    assert p["resourceType"] == "Patient" and p["id"] == "p1"
    assert p["active"] is True  # a boolean, not the text "true"
    assert p["multipleBirthInteger"] == 2  # a number; a choice keeps its typed name
    assert p["birthDate"] == "1990-05-14" and p["gender"] == "female"
    assert isinstance(p["name"], list)  # name repeats (0..*) even when given once
    assert p["name"][0]["given"] == ["Thi", None, "Lan"]  # null holds the extension's place
    assert p["name"][0]["_given"][0] is None
    assert p["name"][0]["_given"][1]["extension"][0]["valueString"] == "two"
    assert p["name"][0]["_given"][2] == {"id": "g3"}
    assert p["extension"] == [{"url": "http://example.org/e", "valueInteger": 3}]
    assert p["contained"] == [{"resourceType": "Organization", "id": "o1", "name": "BV"}]
    assert p["managingOrganization"] == {"reference": "#o1"}
    assert p["text"]["div"].startswith("<div") and "<p>Lan</p>" in p["text"]["div"]
