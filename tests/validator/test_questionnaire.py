"""QuestionnaireResponse answers checked against a Questionnaire loaded with the packages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from vhr_conformance import fhirpkg
from vhr_conformance.validator import Validator

from .util import patient, rules

Q_URL = "https://vhr-conformance.org/fhir/Questionnaire/test-intake"
QUESTIONNAIRE = {
    "resourceType": "Questionnaire",
    "id": "test-intake",
    "url": Q_URL,
    "status": "active",
    "item": [
        {"linkId": "smoker", "type": "boolean", "required": True},
        {
            "linkId": "weight",
            "type": "decimal",
            "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueDecimal": 300}],
        },
        {
            "linkId": "blood",
            "type": "choice",
            "answerOption": [
                {"valueCoding": {"system": "http://example.org/abo", "code": c}} for c in ("A", "B", "O")
            ],
        },
        {"linkId": "note", "type": "string", "maxLength": 5},
    ],
}


def _validator(tmp: Path) -> Validator:
    (tmp / "package.json").write_bytes(orjson.dumps({"name": "test.q", "version": "0.0.1"}))
    (tmp / "Questionnaire-test-intake.json").write_bytes(orjson.dumps(QUESTIONNAIRE))
    core = fhirpkg.PackageSet.with_dependencies()
    return Validator.for_packages(fhirpkg.PackageSet([*core.packages, fhirpkg.load_package(tmp)]))


def _qr(*items: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "text": patient()["text"],
        "questionnaire": Q_URL,
        "status": "completed",
        "item": list(items),
    }


def test_questionnaire_response_rules(tmp_path: Path) -> None:
    v = _validator(tmp_path)
    ok = _qr({"linkId": "smoker", "answer": [{"valueBoolean": False}]})
    assert [i for i in v.validate(ok) if i.severity == "error"] == []
    bad = _qr(
        {"linkId": "weight", "answer": [{"valueDecimal": 450.0}, {"valueDecimal": 2.0}]},
        {"linkId": "blood", "answer": [{"valueCoding": {"system": "http://example.org/abo", "code": "C"}}]},
        {"linkId": "note", "answer": [{"valueInteger": 3}]},
        {"linkId": "nope"},
    )
    got = rules(v.validate(bad))
    assert ("questionnaire-required", "QuestionnaireResponse") in got
    assert ("questionnaire-max", "QuestionnaireResponse.item[0].answer[0].valueDecimal") in got
    assert ("questionnaire-repeats", "QuestionnaireResponse.item[0]") in got
    assert ("questionnaire-option", "QuestionnaireResponse.item[1].answer[0]") in got
    assert ("questionnaire-type", "QuestionnaireResponse.item[2].answer[0].valueInteger") in got
    assert ("questionnaire-linkid", "QuestionnaireResponse.item[3]") in got
    long_note = _qr(
        {"linkId": "smoker", "answer": [{"valueBoolean": True}]},
        {"linkId": "note", "answer": [{"valueString": "dài quá"}]},
    )
    assert ("questionnaire-max-length", "QuestionnaireResponse.item[1].answer[0].valueString") in rules(
        v.validate(long_note)
    )
