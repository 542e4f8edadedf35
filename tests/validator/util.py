"""Helpers for the validator tests."""

from __future__ import annotations

from typing import Any

from vhr_conformance.validator import Issue


def rules(issues: list[Issue], severity: tuple[str, ...] = ("fatal", "error")) -> set[tuple[str, str]]:
    """(rule, location) of the issues at the given severities."""
    return {(i.rule, i.location) for i in issues if i.severity in severity}


def errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity in ("fatal", "error")]


def patient(**extra: Any) -> dict[str, Any]:
    """A minimal valid Patient with narrative (so dom-6 stays quiet)."""
    base: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "p1",
        "text": {
            "status": "generated",
            "div": '<div xmlns="http://www.w3.org/1999/xhtml">Nguyễn Văn A</div>',
        },
        "name": [{"family": "Nguyễn", "given": ["Văn", "A"]}],
        "gender": "male",
        "birthDate": "1990-05-01",
    }
    base.update(extra)
    return base
