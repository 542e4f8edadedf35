"""enableWhen, enableBehavior and answer constraints, from the R4 Questionnaire definitions.

R4: "exists: True if whether an answer exists is equal to the enableWhen answer"; "=: True if at
least one answer has a value that is equal"; "!=: ... no answer has a value that is equal"; the
ordering operators hold when an answer compares so; "When an item is disabled, all of its
descendants are disabled"; required "only has meaning ... if the condition evaluates to true" and
means "must be present in a completed QuestionnaireResponse".
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from vhr_conformance import fhirpkg
from vhr_conformance.validator import Validator

from .util import patient

BASE = "https://vhr-conformance.org/fhir/Questionnaire/"
OPS = ("exists", "=", "!=", ">", "<", ">=", "<=")


def _op_questionnaire(op: str) -> dict[str, Any]:
    cond: dict[str, Any] = {"question": "q", "operator": op}
    cond["answerBoolean" if op == "exists" else "answerInteger"] = True if op == "exists" else 10
    return {
        "resourceType": "Questionnaire",
        "id": f"op-{OPS.index(op)}",
        "url": f"{BASE}op-{OPS.index(op)}",
        "status": "active",
        "item": [
            {"linkId": "q", "type": "integer"},
            {"linkId": "d", "type": "string", "required": True, "enableWhen": [cond]},
        ],
    }


BEHAVIOUR = {
    "resourceType": "Questionnaire",
    "id": "behaviour",
    "url": BASE + "behaviour",
    "status": "active",
    "item": [
        {
            "linkId": "sex",
            "type": "choice",
            "answerOption": [
                {"valueCoding": {"system": "http://hl7.org/fhir/administrative-gender", "code": c}}
                for c in ("male", "female")
            ],
        },
        {"linkId": "age", "type": "integer"},
        {
            "linkId": "all",
            "type": "boolean",
            "required": True,
            "enableBehavior": "all",
            "enableWhen": [
                {
                    "question": "sex",
                    "operator": "=",
                    "answerCoding": {"system": "http://hl7.org/fhir/administrative-gender", "code": "female"},
                },
                {"question": "age", "operator": ">=", "answerInteger": 12},
            ],
        },
        {
            "linkId": "any",
            "type": "boolean",
            "required": True,
            "enableBehavior": "any",
            "enableWhen": [
                {"question": "sex", "operator": "=", "answerCoding": {"code": "female"}},
                {"question": "age", "operator": ">=", "answerInteger": 12},
            ],
        },
        {
            "linkId": "grp",
            "type": "group",
            "enableWhen": [{"question": "age", "operator": "<", "answerInteger": 18}],
            "item": [{"linkId": "school", "type": "string", "required": True}],
        },
    ],
}

REPEATING = {
    "resourceType": "Questionnaire",
    "id": "repeating",
    "url": BASE + "repeating",
    "status": "active",
    "item": [
        {
            "linkId": "child",
            "type": "group",
            "repeats": True,
            "item": [
                {"linkId": "vaccinated", "type": "boolean"},
                {
                    "linkId": "date",
                    "type": "date",
                    "required": True,
                    "enableWhen": [{"question": "vaccinated", "operator": "=", "answerBoolean": True}],
                },
            ],
        }
    ],
}

ANSWERS = {
    "resourceType": "Questionnaire",
    "id": "answers",
    "url": BASE + "answers",
    "status": "active",
    "item": [
        {
            "linkId": "colour",
            "type": "choice",
            "answerOption": [{"valueString": "đỏ"}, {"valueString": "xanh"}],
        },
        {
            "linkId": "gender",
            "type": "choice",
            "answerValueSet": "http://hl7.org/fhir/ValueSet/administrative-gender",
        },
        {
            "linkId": "loinc",
            "type": "choice",
            "answerValueSet": "http://hl7.org/fhir/ValueSet/observation-codes",
        },
        {"linkId": "info", "type": "display"},
        {
            "linkId": "who",
            "type": "choice",
            "answerOption": [{"valueReference": {"reference": "Practitioner/a"}}],
        },
        {"linkId": "many", "type": "string", "repeats": True, "maxLength": 3},
    ],
}


@pytest.fixture(scope="module")
def qv(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    tmp = tmp_path_factory.mktemp("qpkg")
    (tmp / "package.json").write_bytes(orjson.dumps({"name": "test.enable", "version": "0.0.1"}))
    for q in [*(_op_questionnaire(op) for op in OPS), BEHAVIOUR, REPEATING, ANSWERS]:
        (tmp / f"Questionnaire-{q['id']}.json").write_bytes(orjson.dumps(q))
    core = fhirpkg.PackageSet.with_dependencies()
    return Validator.for_packages(fhirpkg.PackageSet([*core.packages, fhirpkg.load_package(tmp)]))


def _qr(qid: str, *items: dict[str, Any], status: str = "completed") -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "text": patient()["text"],
        "questionnaire": BASE + qid,
        "status": status,
        "item": list(items),
    }


def _rules(v: Validator, qr: dict[str, Any]) -> set[str]:
    return {i.rule for i in v.validate(qr) if i.severity in ("error", "fatal")}


def _expected(op: str, answer: int | None) -> bool:
    if op == "exists":
        return answer is not None
    if answer is None:
        return op == "!="
    return {
        "=": answer == 10,
        "!=": answer != 10,
        ">": answer > 10,
        "<": answer < 10,
        ">=": answer >= 10,
        "<=": answer <= 10,
    }[op]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("answer", [None, 5, 10, 15])
def test_every_operator(qv: Validator, op: str, answer: int | None) -> None:
    qid = f"op-{OPS.index(op)}"
    q_item = {"linkId": "q", "answer": [{"valueInteger": answer}]} if answer is not None else None
    given = [q_item] if q_item else []
    enabled = _expected(op, answer)
    # d is required: demanded only when enabled
    assert ("questionnaire-required" in _rules(qv, _qr(qid, *given))) is enabled
    # d answered: an error only when disabled
    d = {"linkId": "d", "answer": [{"valueString": "có"}]}
    got = _rules(qv, _qr(qid, *given, d))
    assert ("questionnaire-disabled-answer" in got) is (not enabled)
    assert "questionnaire-required" not in got


def _sex(code: str) -> dict[str, Any]:
    return {
        "linkId": "sex",
        "answer": [{"valueCoding": {"system": "http://hl7.org/fhir/administrative-gender", "code": code}}],
    }


def _age(n: int) -> dict[str, Any]:
    return {"linkId": "age", "answer": [{"valueInteger": n}]}


def _required_ids(v: Validator, qr: dict[str, Any]) -> set[str]:
    return {i.text.en.split("'")[1] for i in v.validate(qr) if i.rule == "questionnaire-required"}


def test_enable_behaviour_all_and_any(qv: Validator) -> None:
    assert _required_ids(qv, _qr("behaviour", _sex("female"), _age(30))) == {"all", "any"}
    assert _required_ids(qv, _qr("behaviour", _sex("male"), _age(30))) == {"any"}
    assert _required_ids(qv, _qr("behaviour", _sex("female"), _age(10))) == {"any"}
    assert _required_ids(qv, _qr("behaviour", _sex("male"), _age(5))) == set()
    assert _required_ids(qv, _qr("behaviour", _sex("male"))) == set()
    # a group that is present and enabled demands its required children
    assert _required_ids(qv, _qr("behaviour", _sex("male"), _age(5), {"linkId": "grp"})) == {"school"}


def test_disabled_group_disables_its_descendants(qv: Validator) -> None:
    answered = {"linkId": "grp", "item": [{"linkId": "school", "answer": [{"valueString": "THCS"}]}]}
    got = [
        i
        for i in qv.validate(
            _qr(
                "behaviour",
                _sex("male"),
                _age(40),
                {"linkId": "any", "answer": [{"valueBoolean": True}]},
                answered,
            )
        )
        if i.severity == "error"
    ]
    assert [(i.rule, i.location) for i in got] == [
        ("questionnaire-disabled-answer", "QuestionnaireResponse.item[3]")
    ]
    # enabled (age < 18): the same answers are fine
    young = _qr(
        "behaviour", _sex("male"), _age(15), {"linkId": "any", "answer": [{"valueBoolean": True}]}, answered
    )
    assert _rules(qv, young) == set()


def test_required_only_in_completed_responses(qv: Validator) -> None:
    assert "questionnaire-required" in _rules(
        qv, _qr("op-0", {"linkId": "q", "answer": [{"valueInteger": 1}]})
    )
    assert (
        _rules(qv, _qr("op-0", {"linkId": "q", "answer": [{"valueInteger": 1}]}, status="in-progress"))
        == set()
    )


def test_condition_reads_the_nearest_occurrence(qv: Validator) -> None:
    def child(vaccinated: bool, date: str | None) -> dict[str, Any]:
        items: list[dict[str, Any]] = [{"linkId": "vaccinated", "answer": [{"valueBoolean": vaccinated}]}]
        if date:
            items.append({"linkId": "date", "answer": [{"valueDate": date}]})
        return {"linkId": "child", "item": items}

    # each repetition of the group is governed by its own 'vaccinated' answer
    assert _rules(qv, _qr("repeating", child(True, "2020-01-01"), child(False, None))) == set()
    got = [
        (i.rule, i.location)
        for i in qv.validate(_qr("repeating", child(False, None), child(True, None)))
        if i.severity == "error"
    ]
    assert got == [("questionnaire-required", "QuestionnaireResponse.item[1]")]
    got = [
        (i.rule, i.location)
        for i in qv.validate(_qr("repeating", child(True, "2020-01-01"), child(False, "2021-01-01")))
        if i.severity == "error"
    ]
    assert got == [("questionnaire-disabled-answer", "QuestionnaireResponse.item[1].item[1]")]


def test_answer_constraints(qv: Validator) -> None:
    ok = _qr(
        "answers",
        {"linkId": "colour", "answer": [{"valueString": "đỏ"}]},
        {
            "linkId": "gender",
            "answer": [
                {"valueCoding": {"system": "http://hl7.org/fhir/administrative-gender", "code": "male"}}
            ],
        },
        {
            "linkId": "loinc",
            "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "12345-6"}}],
        },  # not expandable offline
        {"linkId": "who", "answer": [{"valueReference": {"reference": "Practitioner/a"}}]},
        {"linkId": "many", "answer": [{"valueString": "abc"}, {"valueString": "de"}]},
    )
    assert _rules(qv, ok) == set()
    other = _qr("answers", {"linkId": "who", "answer": [{"valueReference": {"reference": "Practitioner/b"}}]})
    assert [(i.rule, i.location) for i in qv.validate(other) if i.severity == "error"] == [
        ("questionnaire-option", "QuestionnaireResponse.item[0].answer[0]")
    ]
    bad = _qr(
        "answers",
        {"linkId": "colour", "answer": [{"valueString": "tím"}]},
        {
            "linkId": "gender",
            "answer": [
                {"valueCoding": {"system": "http://hl7.org/fhir/administrative-gender", "code": "nam"}}
            ],
        },
        {"linkId": "info", "answer": [{"valueString": "x"}]},
        {"linkId": "many", "answer": [{"valueString": "abcd"}, {"valueInteger": 2}]},
    )
    got = {(i.rule, i.location) for i in qv.validate(bad) if i.severity == "error"}
    assert got == {
        ("questionnaire-option", "QuestionnaireResponse.item[0].answer[0]"),
        ("questionnaire-valueset", "QuestionnaireResponse.item[1].answer[0]"),
        ("code-unknown", "QuestionnaireResponse.item[1].answer[0].valueCoding.code"),  # the base layer's
        ("questionnaire-no-answers", "QuestionnaireResponse.item[2]"),
        ("questionnaire-max-length", "QuestionnaireResponse.item[3].answer[0].valueString"),
        ("questionnaire-type", "QuestionnaireResponse.item[3].answer[1].valueInteger"),
    }
