"""Validator process fed with sampled responses during a load run.

Validation is CPU work; done inside a Locust process it would stall the gevent loop and inflate
the latency of every request in flight. The load process therefore pipes sampled response bodies
to this separate process, which answers one JSON line per body.

Protocol on stdin: ``<length>\\n`` then ``length`` bytes of the response body. On stdout, one line:
``{"ok": bool, "errors": n, "first": "location: message"}``. The first line written is
``{"ready": true}`` (or ``{"ready": false, "reason": ...}``) once the validator is compiled.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any


def _validator() -> Callable[[bytes], list[Any]]:
    from vhr_conformance.validator import Validator

    validator = Validator.default()
    return validator.validate


def _describe(issue: Any) -> str:
    text = getattr(issue, "text", "")
    en = getattr(text, "en", str(text))
    return f"{getattr(issue, 'location', '')}: {getattr(issue, 'rule', '')} {en}".strip()


def main() -> int:
    out = sys.stdout
    try:
        validate = _validator()
    except Exception as exc:  # report, then drain input so the sender never blocks
        out.write(json.dumps({"ready": False, "reason": f"{type(exc).__name__}: {exc}"}) + "\n")
        out.flush()
        return 0
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    stdin = sys.stdin.buffer
    while True:
        header = stdin.readline()
        if not header:
            return 0
        body = stdin.read(int(header))
        try:
            issues = [i for i in validate(body) if getattr(i, "severity", "error") in ("error", "fatal")]
            answer = {
                "ok": not issues,
                "errors": len(issues),
                "first": _describe(issues[0]) if issues else "",
            }
        except Exception as exc:  # a validator crash is the harness's problem, not the target's
            answer = {"ok": True, "errors": 0, "first": "", "crash": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")
        out.flush()


if __name__ == "__main__":
    raise SystemExit(main())
