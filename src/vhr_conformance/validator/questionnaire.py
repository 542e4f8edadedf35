"""QuestionnaireResponse against its Questionnaire (when the Questionnaire is in the loaded packages).

Items are matched by linkId; answers are checked for presence (required, min/max occurs), type,
permitted options or value set, length, range, decimal places, attachment size, quantity units and
reference types. Questionnaires the packages do not hold are not judged here.

enableWhen (R4 Questionnaire.item.enableWhen): an item is enabled when its conditions hold, joined
by ``enableBehavior`` (``all``/``any``; ``any`` when absent, as the element's comment says). A
condition reads the answers of the nearest occurrence of its question (ancestor axis, then
preceding, then following). ``exists`` compares whether there is an answer with the boolean;
``=`` holds when some answer equals the value, ``!=`` when none does; ``>``, ``<``, ``>=``, ``<=``
hold when some answer compares so (R4's wording "at least no answer" for them is read as "at least
one answer", like ``=``). A disabled item and all its descendants are not
required, and answers given to them are errors. ``required`` is enforced on ``completed`` and
``amended`` responses only (R4: "must be present in a completed QuestionnaireResponse").
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from typing import TYPE_CHECKING, Any

from vhr_conformance.i18n import Text
from vhr_conformance.validator.fhirpath import seq
from vhr_conformance.validator.values import compare

if TYPE_CHECKING:
    from vhr_conformance.validator.run import Context, Run

SD = "http://hl7.org/fhir/StructureDefinition/"
SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition/"
TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "boolean": ("valueBoolean",),
    "decimal": ("valueDecimal",),
    "integer": ("valueInteger",),
    "date": ("valueDate",),
    "dateTime": ("valueDateTime",),
    "time": ("valueTime",),
    "string": ("valueString",),
    "text": ("valueString",),
    "url": ("valueUri",),
    "choice": ("valueCoding", "valueString"),
    "open-choice": ("valueCoding", "valueString"),
    "attachment": ("valueAttachment",),
    "reference": ("valueReference",),
    "quantity": ("valueQuantity",),
}
_QTYPE_NAME = {
    "url": "uri",
    "text": "string",
    "choice": "Coding",
    "quantity": "Quantity",
    "attachment": "Attachment",
    "reference": "Reference",
}

T = {
    "linkid": Text(
        "linkId '{id}' không có trong Questionnaire.", "LinkId '{id}' not found in the questionnaire."
    ),
    "required": Text(
        "Thiếu câu trả lời cho mục bắt buộc '{id}'.", "No answer found for required item '{id}'."
    ),
    "group-required": Text(
        "Nhóm bắt buộc '{id}' không có mục con.", "Required group '{id}' has no sub-items."
    ),
    "no-answers": Text(
        "Mục kiểu {type} không được có câu trả lời.", "Items of type '{type}' cannot have answers."
    ),
    "repeats": Text(
        "Mục '{id}' không lặp nhưng có nhiều câu trả lời.",
        "Item '{id}' does not repeat but has several answers.",
    ),
    "item-repeats": Text(
        "Chỉ được một mục trả lời với linkId '{id}'.", "Only one response item with linkId '{id}' is allowed."
    ),
    "min-occurs": Text(
        "Cần ít nhất {min} câu trả lời, có {n}.", "At least {min} answers are required, found {n}."
    ),
    "max-occurs": Text("Tối đa {max} câu trả lời, có {n}.", "At most {max} answers are allowed, found {n}."),
    "type": Text(
        "Câu trả lời phải có kiểu {want}, không phải {got}.",
        "Answer value must be of type {want}, not {got}.",
    ),
    "option": Text(
        "Giá trị {value} không thuộc các lựa chọn cho phép.",
        "Value {value} is not one of the permitted options.",
    ),
    "valueset": Text("Mã {value} không thuộc ValueSet {vs}.", "Code {value} is not in the value set {vs}."),
    "min": Text(
        "Giá trị {value} nhỏ hơn mức tối thiểu {limit}.",
        "Value {value} is less than the allowed minimum {limit}.",
    ),
    "max": Text(
        "Giá trị {value} lớn hơn mức tối đa {limit}.",
        "Value {value} is greater than the allowed maximum {limit}.",
    ),
    "qty-compare": Text(
        "Không so sánh được lượng {value} với giới hạn {limit} (đơn vị khác hoặc không chính thức).",
        "Quantity {value} cannot be compared with the limit {limit} (different or informal units).",
    ),
    "min-length": Text("Câu trả lời ngắn hơn {n} ký tự.", "The answer is shorter than {n} characters."),
    "max-length": Text("Câu trả lời dài hơn {n} ký tự.", "The answer is longer than {n} characters."),
    "decimals": Text(
        "Giá trị {value} có quá {n} chữ số thập phân.", "Value {value} has more than {n} decimal places."
    ),
    "max-size": Text(
        "Tệp đính kèm quá lớn (tối đa {max}, có {n}).",
        "The attachment is too large (allowed {max}, found {n}).",
    ),
    "unit": Text("Đơn vị {unit} không được phép ở đây.", "Unit {unit} is not allowed here."),
    "disabled-answer": Text(
        "Mục '{id}' có câu trả lời dù không được bật (enableWhen không thỏa).",
        "Item '{id}' has an answer although it is not enabled (its enableWhen does not hold).",
    ),
    "ref-type": Text(
        "Tham chiếu tới {got} không được phép; cho phép: {allowed}.",
        "A reference to {got} is not allowed; allowed: {allowed}.",
    ),
}


def _ext(item: dict[str, Any], name: str) -> list[Any]:
    url = name if "://" in name else SD + name
    out: list[Any] = []
    for e in seq(item.get("extension")):
        if isinstance(e, dict) and e.get("url") == url:
            out.extend(v for k, v in e.items() if k.startswith("value"))
    return out


class _Response:
    """The response's items in document order, to find the occurrence a condition refers to."""

    def __init__(self, qr: dict[str, Any]) -> None:
        self.order: dict[int, int] = {}
        self.parent: dict[int, dict[str, Any] | None] = {}
        self.by_link: dict[str, list[dict[str, Any]]] = {}
        self.completed = qr.get("status") in ("completed", "amended")
        self._walk(qr.get("item"), None)

    def _walk(self, items: Any, parent: dict[str, Any] | None) -> None:
        for it in seq(items):
            if not isinstance(it, dict):
                continue
            self.order[id(it)] = len(self.order)
            self.parent[id(it)] = parent
            lid = it.get("linkId")
            if isinstance(lid, str):
                self.by_link.setdefault(lid, []).append(it)
            self._walk(it.get("item"), it)
            for ans in seq(it.get("answer")):
                if isinstance(ans, dict):
                    self._walk(ans.get("item"), it)

    def nearest(
        self, link: str, here: dict[str, Any] | None, here_is_ancestor: bool
    ) -> dict[str, Any] | None:
        """The occurrence of ``link`` nearest ``here``: within the nearest enclosing item first (so each
        repetition of a group is governed by its own answers), then preceding, then following."""
        found = self.by_link.get(link)
        if not found:
            return None
        if here is None:
            return found[0]
        node: dict[str, Any] | None = here if here_is_ancestor else self.parent.get(id(here))
        while node is not None:
            if node.get("linkId") == link:
                return node
            hit = _find_below(node, link, here)
            if hit is not None:
                return hit
            node = self.parent.get(id(node))
        pos = self.order.get(id(here), -1)
        before = [f for f in found if self.order[id(f)] < pos]
        if before:
            return before[-1]
        after = [f for f in found if self.order[id(f)] > pos]
        return after[0] if after else found[0]

    def enabled(
        self, qi: dict[str, Any], here: dict[str, Any] | None, here_is_ancestor: bool = False
    ) -> bool:
        """Whether a Questionnaire item is enabled for the response item ``here`` (or below it)."""
        conditions = [c for c in seq(qi.get("enableWhen")) if isinstance(c, dict)]
        if not conditions:
            return True
        results = [self._holds(c, here, here_is_ancestor) for c in conditions]
        return all(results) if qi.get("enableBehavior") == "all" else any(results)

    def _holds(self, cond: dict[str, Any], here: dict[str, Any] | None, here_is_ancestor: bool) -> bool:
        link, op = cond.get("question"), cond.get("operator")
        want = next((v for k, v in cond.items() if k.startswith("answer")), None)
        target = self.nearest(link, here, here_is_ancestor) if isinstance(link, str) else None
        answers = [
            next((v for k, v in a.items() if k.startswith("value")), None)
            for a in seq(target.get("answer") if target else None)
            if isinstance(a, dict)
        ]
        answers = [a for a in answers if a is not None]
        if op == "exists":
            return bool(answers) == (want is True)
        if op == "=":
            return any(_answer_equal(a, want) for a in answers)
        if op == "!=":
            return not any(_answer_equal(a, want) for a in answers)
        if op in (">", "<", ">=", "<="):
            for a in answers:
                c = _answer_order(a, want)
                if c is not None and (
                    (op == ">" and c > 0)
                    or (op == "<" and c < 0)
                    or (op == ">=" and c >= 0)
                    or (op == "<=" and c <= 0)
                ):
                    return True
            return False
        return True  # an unknown operator is the Questionnaire's error (binding), not a reason to hide


def _answer_equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        if "reference" in a or "reference" in b:
            return a.get("reference") == b.get("reference")
        if "value" in a or "value" in b:  # Quantity: same value in the same unit
            same_unit = (a.get("system"), a.get("code") or a.get("unit")) == (
                b.get("system"),
                b.get("code") or b.get("unit"),
            )
            return same_unit and compare(a.get("value"), b.get("value")) == 0
        sa, sb = a.get("system"), b.get("system")
        return a.get("code") == b.get("code") and (not sa or not sb or sa == sb)
    if isinstance(a, str) and isinstance(b, str) and a[:4].isdigit() and b[:4].isdigit():
        return compare(a, b) == 0 or a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return bool(a == b)


def _answer_order(a: Any, b: Any) -> int | None:
    if isinstance(a, dict) and isinstance(b, dict):
        if (a.get("system"), a.get("code") or a.get("unit")) != (
            b.get("system"),
            b.get("code") or b.get("unit"),
        ):
            return None
        return compare(a.get("value"), b.get("value"))
    cmp = compare(a, b)
    if cmp is None and isinstance(a, str) and isinstance(b, str) and not isinstance(a, bool):
        if a[:4].isdigit() and b[:4].isdigit():
            return None  # dates of different precision are not ordered
        return (a > b) - (a < b)  # strings order as written
    return cmp


def _find_below(node: dict[str, Any], link: str, skip: dict[str, Any]) -> dict[str, Any] | None:
    """The first item with ``link`` below ``node`` in document order (``skip`` itself excluded)."""
    for child in _children(node):
        if child is not skip and child.get("linkId") == link:
            return child
        hit = _find_below(child, link, skip)
        if hit is not None:
            return hit
    return None


def _children(node: dict[str, Any]) -> list[dict[str, Any]]:
    out = [c for c in seq(node.get("item")) if isinstance(c, dict)]
    for ans in seq(node.get("answer")):
        if isinstance(ans, dict):
            out.extend(c for c in seq(ans.get("item")) if isinstance(c, dict))
    return out


def _has_answers(it: dict[str, Any]) -> bool:
    if any(isinstance(a, dict) for a in seq(it.get("answer"))):
        return True
    return any(isinstance(c, dict) and _has_answers(c) for c in seq(it.get("item")))


class QuestionnaireChecker:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def check(self, qr: dict[str, Any], loc: str, run: Run) -> None:
        url = qr.get("questionnaire")
        if not isinstance(url, str):
            return
        q = self.ctx.packages.get(url.split("|", 1)[0])
        if not isinstance(q, dict) or q.get("resourceType") != "Questionnaire":
            return
        self._items(qr.get("item"), q.get("item") or [], loc, run, _Response(qr), None)

    def _err(self, run: Run, loc: str, rule: str, **kw: Any) -> None:
        run.add("error", "structure", loc, f"questionnaire-{rule}", T[rule].format(**kw))

    def _items(
        self,
        items: Any,
        q_items: list[dict[str, Any]],
        loc: str,
        run: Run,
        resp: _Response,
        parent: dict[str, Any] | None,
    ) -> None:
        """Items under one response item (``parent``; None at the root), all of them enabled so far."""
        items = items if isinstance(items, list) else []
        qmap = {qi.get("linkId"): qi for qi in q_items if isinstance(qi, dict)}
        seen: Counter[Any] = Counter()
        for i, it in enumerate(items):
            if not isinstance(it, dict):
                continue
            iloc = f"{loc}.item[{i}]"
            lid = it.get("linkId")
            qi = qmap.get(lid)
            if qi is None:
                self._err(run, iloc, "linkid", id=lid)
                continue
            seen[lid] += 1
            if seen[lid] == 2 and not qi.get("repeats"):
                self._err(run, iloc, "item-repeats", id=lid)
            if not resp.enabled(qi, it):
                # disabled, with all its descendants: nothing is required, nothing may be answered
                if _has_answers(it):
                    self._err(run, iloc, "disabled-answer", id=lid)
                continue
            self._item(it, qi, iloc, run, resp)
        for qi in q_items:
            if (
                isinstance(qi, dict)
                and qi.get("required")
                and qi.get("type") != "display"
                and not seen[qi.get("linkId")]
                and resp.completed
                and resp.enabled(qi, parent, here_is_ancestor=True)
            ):
                self._err(run, loc, "required", id=qi.get("linkId"))

    def _item(self, it: dict[str, Any], qi: dict[str, Any], loc: str, run: Run, resp: _Response) -> None:
        qtype = qi.get("type")
        answers = [a for a in seq(it.get("answer")) if isinstance(a, dict)]
        lid = qi.get("linkId")
        if qtype in ("display", "group"):
            if answers:
                self._err(run, loc, "no-answers", type=qtype)
            if qtype == "group":
                if qi.get("required") and not it.get("item") and resp.completed:
                    self._err(run, loc, "group-required", id=lid)
                self._items(it.get("item"), qi.get("item") or [], loc, run, resp, it)
            return
        if qi.get("required") and not answers and resp.completed:
            self._err(run, loc, "required", id=lid)
        if len(answers) > 1 and not qi.get("repeats"):
            self._err(run, loc, "repeats", id=lid)
        for mn in _ext(qi, "questionnaire-minOccurs"):
            if isinstance(mn, int) and len(answers) < mn:
                self._err(run, loc, "min-occurs", min=mn, n=len(answers))
        for mx in _ext(qi, "questionnaire-maxOccurs"):
            if isinstance(mx, int) and len(answers) > mx:
                self._err(run, loc, "max-occurs", max=mx, n=len(answers))
        allowed = TYPE_KEYS.get(qtype or "", ())
        if qtype in ("choice", "open-choice"):
            # R4 answerOption.value[x] may be integer, date, time, string, Coding or Reference
            keys = {
                k
                for o in seq(qi.get("answerOption"))
                if isinstance(o, dict)
                for k in o
                if k.startswith("value")
            }
            allowed = tuple(dict.fromkeys((*allowed, *sorted(keys))))
        for j, ans in enumerate(answers):
            aloc = f"{loc}.answer[{j}]"
            key = next((k for k in ans if k.startswith("value")), None)
            if key is not None:
                if allowed and key not in allowed:
                    self._err(
                        run, f"{aloc}.{key}", "type", want=_QTYPE_NAME.get(qtype or "", qtype), got=key[5:]
                    )
                else:
                    self._value(ans[key], key, qi, f"{aloc}.{key}", aloc, run)
            if ans.get("item"):
                self._items(ans.get("item"), qi.get("item") or [], aloc, run, resp, it)
        if it.get("item") and qi.get("item"):
            self._items(it.get("item"), qi.get("item") or [], loc, run, resp, it)

    def _value(self, value: Any, key: str, qi: dict[str, Any], vloc: str, aloc: str, run: Run) -> None:
        qtype = qi.get("type")
        options = [o for o in seq(qi.get("answerOption")) if isinstance(o, dict)]
        free_text = qtype == "open-choice" and key == "valueString"
        if (
            options
            and qtype in ("choice", "open-choice", "integer", "date", "time", "string")
            and not free_text
            and not any(_option_match(value, o) for o in options)
        ):
            self._err(run, aloc, "option", value=_show(value))
        vs = qi.get("answerValueSet")
        coded = key == "valueCoding" and isinstance(value, dict) and isinstance(value.get("code"), str)
        if (
            isinstance(vs, str)
            and coded
            and self.ctx.terminology.contains(vs, value.get("system"), value["code"]) is False
        ):
            self._err(run, aloc, "valueset", value=_show(value), vs=vs)
        for limit in _ext(qi, "minValue") + _ext(qi, SDC + "sdc-questionnaire-minQuantity"):
            self._limit(value, limit, vloc, run, below=True)
        for limit in _ext(qi, "maxValue") + _ext(qi, SDC + "sdc-questionnaire-maxQuantity"):
            self._limit(value, limit, vloc, run, below=False)
        if isinstance(value, str):
            for n in _ext(qi, "minLength"):
                if isinstance(n, int) and len(value) < n:
                    self._err(run, vloc, "min-length", n=n)
            mx = qi.get("maxLength")
            if isinstance(mx, int) and len(value) > mx:
                self._err(run, vloc, "max-length", n=mx)
        num = value.get("value") if isinstance(value, dict) else value
        for places in _ext(qi, "maxDecimalPlaces"):
            if isinstance(num, float) and isinstance(places, int):
                text = repr(num)
                if "." in text and "e" not in text and len(text.split(".", 1)[1].rstrip("0")) > places:
                    self._err(run, vloc, "decimals", value=num, n=places)
        if key == "valueAttachment" and isinstance(value, dict):
            for mx in _ext(qi, "maxSize"):
                size = value.get("size")
                if not isinstance(size, int) and isinstance(value.get("data"), str):
                    try:
                        size = len(base64.b64decode("".join(value["data"].split())))
                    except (binascii.Error, ValueError):
                        size = None
                if isinstance(size, int) and isinstance(mx, int | float) and size > mx:
                    self._err(run, aloc, "max-size", max=mx, n=size)
        if key == "valueQuantity" and isinstance(value, dict):
            units = [u for u in _ext(qi, "questionnaire-unitOption") if isinstance(u, dict)]
            if units and not any(
                u.get("system") == value.get("system") and u.get("code") == value.get("code") for u in units
            ):
                self._err(run, vloc, "unit", unit=value.get("code") or value.get("unit"))
            for uvs in _ext(qi, "questionnaire-unitValueSet"):
                if (
                    isinstance(uvs, str)
                    and self.ctx.terminology.contains(uvs, value.get("system"), str(value.get("code")))
                    is False
                ):
                    self._err(run, vloc, "unit", unit=value.get("code") or value.get("unit"))
        if key == "valueReference" and isinstance(value, dict) and isinstance(value.get("reference"), str):
            types = [t for t in _ext(qi, "questionnaire-referenceResource") if isinstance(t, str)]
            parts = value["reference"].rstrip("/").split("/")
            got = parts[-2] if len(parts) >= 2 else None
            if types and got is not None and got in self.ctx.schema.resource_types and got not in types:
                self._err(run, vloc, "ref-type", got=got, allowed=", ".join(types))

    def _limit(self, value: Any, limit: Any, vloc: str, run: Run, below: bool) -> None:
        if isinstance(value, dict) or isinstance(limit, dict):
            if not (isinstance(value, dict) and isinstance(limit, dict)):
                return
            same = (
                value.get("system")
                and value.get("system") == limit.get("system")
                and value.get("code") == limit.get("code")
            )
            if not same:
                self._err(run, vloc, "qty-compare", value=_show(value), limit=_show(limit))
                return
            v, lim = value.get("value"), limit.get("value")
        else:
            v, lim = value, limit
        cmp = compare(v, lim)
        if (
            cmp is None
            and isinstance(v, str)
            and isinstance(lim, str)
            and v[:4].isdigit()
            and lim[:4].isdigit()
        ):
            cmp = (v > lim) - (v < lim)  # ISO dates of different precision: order as written
        if cmp is not None and ((below and cmp < 0) or (not below and cmp > 0)):
            self._err(run, vloc, "min" if below else "max", value=v, limit=lim)


def _option_match(value: Any, option: dict[str, Any]) -> bool:
    opt = next((v for k, v in option.items() if k.startswith("value")), None)
    if isinstance(opt, dict) and isinstance(value, dict):
        if "reference" in opt or "reference" in value:  # answerOption.valueReference
            return opt.get("reference") == value.get("reference")
        return opt.get("code") == value.get("code") and (
            not opt.get("system") or opt.get("system") == value.get("system")
        )
    return bool(opt == value)


def _show(v: Any) -> str:
    if isinstance(v, dict):
        if "code" in v and "value" not in v:
            return f"{v.get('system', '')}#{v.get('code')}"
        return f"{v.get('value')} {v.get('code') or v.get('unit') or ''}".strip()
    return str(v)
