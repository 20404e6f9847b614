"""The decide form: fields generated from a decision's inputs, and facts read back.

The form asks for exactly the facts the chosen decision needs: the inputs of
every table in its decision graph, except those another table of the graph
produces. Values are typed by the engine's own coercers
(`kijun.criteria.facts.coercer`), so the form accepts what `decide` accepts —
全角 digits, 和暦 dates, はい／いいえ — and errors are said in Japanese next to
the field. Error messages never repeat the value that was typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kijun.criteria.decide import compile_version
from kijun.criteria.errors import FactError
from kijun.criteria.facts import coercer
from kijun.criteria.model import InputClause, ValueType, Version
from kijun.criteria.normalise import parse_date
from kijun.web.present import show

#: the form field that carries 判断日
ON_FIELD = "on"
#: form fields of facts are named FACT_PREFIX + the input's name
FACT_PREFIX = "fact."
#: the "no value" checkbox of a text field is named NULL_PREFIX + the input's name
NULL_PREFIX = "null."
#: the "no value" choice of a radio group or select
NULL_CHOICE = "__null__"
NULL_LABEL = "不明・該当しない"
BOTH_ERROR = f"値を入力するか「{NULL_LABEL}」を選ぶか、どちらか一方にしてください。"

DATE_HINT = "例: 令和6年4月1日、R6.4.1、2024-04-01（全角でも入力できます）"
NUMBER_HINT = "例: 100000、100,000（全角でも入力できます）"


@dataclass(frozen=True, slots=True)
class Field:
    """One form field for one input clause."""

    clause: InputClause
    key: str  # the form field's name
    html_id: str
    widget: str  # text | number | date | boolean | select
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for select and boolean
    hint: str | None = None

    @property
    def name(self) -> str:
        return self.clause.name

    @property
    def label(self) -> str:
        return self.clause.name

    @property
    def choice(self) -> bool:
        return self.widget in ("boolean", "select")

    @property
    def null_key(self) -> str:
        """The "no value" checkbox of a text field."""
        return NULL_PREFIX + self.clause.name


def decision_inputs(version: Version, decision: str | None) -> tuple[str, list[InputClause]]:
    """The decision answered (default: the version's top decision) and the facts it needs.

    Raises `CriteriaError` when the version has no decision of that name.
    """
    plan = compile_version(version).plan(decision)
    tables = [version.decision(name) for name in plan]
    produced = {o.name for t in tables for o in t.outputs}
    seen: set[str] = set()
    inputs: list[InputClause] = []
    for t in tables:
        for clause in t.inputs:
            if clause.name in produced or clause.name in seen:
                continue
            seen.add(clause.name)
            inputs.append(clause)
    return plan[-1], inputs


def build_fields(inputs: list[InputClause]) -> list[Field]:
    fields = []
    options: tuple[tuple[str, str], ...]
    for i, clause in enumerate(inputs):
        key = FACT_PREFIX + clause.name
        html_id = f"fact-{i}"
        if clause.type is ValueType.BOOLEAN:
            options = (("true", "はい"), ("false", "いいえ"), (NULL_CHOICE, NULL_LABEL))
            fields.append(Field(clause, key, html_id, "boolean", options, clause.description))
        elif clause.allowed is not None:
            options = (*((_option_value(v), show(v)) for v in clause.allowed),
                       (NULL_CHOICE, f"（{NULL_LABEL}）"))
            fields.append(Field(clause, key, html_id, "select", options, clause.description))
        elif clause.type is ValueType.NUMBER:
            fields.append(Field(clause, key, html_id, "number",
                                hint=_hint(clause.description, NUMBER_HINT)))
        elif clause.type is ValueType.DATE:
            fields.append(Field(clause, key, html_id, "date",
                                hint=_hint(clause.description, DATE_HINT)))
        else:
            fields.append(Field(clause, key, html_id, "text", hint=clause.description))
    return fields


def _hint(description: str | None, hint: str) -> str:
    return f"{description}　{hint}" if description else hint


def _option_value(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass(slots=True)
class FormInput:
    """What was typed (kept to show again), the typed facts, and errors by form key."""

    raw: dict[str, str]
    facts: dict[str, Any]
    errors: dict[str, str]
    on: dt.date | None


def read_form(fields: list[Field], form: Mapping[str, str]) -> FormInput:
    """Type every field with the engine's coercers; collect every error at once.

    A field left empty is an error; "no value" (null: unknown or not
    applicable) must be chosen explicitly, and only `-` and `null` tests
    accept it, so it never satisfies a rule that asks for a value.
    """
    raw: dict[str, str] = {}
    facts: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        text = form.get(f.key, "").strip()
        raw[f.key] = text
        if f.choice and text == NULL_CHOICE:
            facts[f.name] = None
            continue
        if not f.choice:
            nulled = form.get(f.null_key, "") == "1"
            raw[f.null_key] = "1" if nulled else ""
            if nulled:
                if text:
                    errors[f.key] = BOTH_ERROR
                else:
                    facts[f.name] = None
                continue
        if not text:
            errors[f.key] = fact_error_ja(f, FactError(f.name, "missing"))
            continue
        try:
            facts[f.name] = coercer(f.clause)(text)
        except FactError as e:
            errors[f.key] = fact_error_ja(f, e)
    on_text = form.get(ON_FIELD, "").strip()
    raw[ON_FIELD] = on_text
    on: dt.date | None = None
    if not on_text:
        errors[ON_FIELD] = "判断日を入力してください。"
    else:
        try:
            on = parse_date(on_text)
        except ValueError:
            errors[ON_FIELD] = on_error_ja()
    return FormInput(raw, facts, errors, on)


def on_error_ja() -> str:
    return f"判断日は日付で入力してください（{DATE_HINT}）。"


def fact_error_ja(field: Field | None, error: FactError) -> str:
    """A `FactError` in Japanese, for the field it concerns (None: 判断日)."""
    if field is None:
        return on_error_ja()
    if error.reason == "missing":
        if field.choice:
            return "選択してください。"
        return f"入力してください（値がないときは「{NULL_LABEL}」を選んでください）。"
    if field.widget == "select":
        return "選択肢の中から選んでください。"
    if field.widget == "boolean":
        return "「はい」か「いいえ」を選んでください。"
    if field.widget == "number":
        return f"数値で入力してください（{NUMBER_HINT}）。"
    if field.widget == "date":
        return f"日付で入力してください（{DATE_HINT}）。"
    return "文字で入力してください。"
