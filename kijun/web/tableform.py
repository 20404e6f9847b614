"""The table editor's form: a decision table as the text of a grid, and back again.

A `TableForm` holds the text of every field exactly as it was typed (or, for a
stored table, as it is shown), so a form with mistakes comes back as the clerk
left it. `apply` makes the structural edits the editor's buttons ask for (add,
delete or move a rule, an input or an output: an input or output moves with its
cells in every rule), and `build` turns the form into a `DecisionTable` or says,
in Japanese and per field, what is wrong.

Posted field names (rules and columns are numbered from 1, as the page shows them):

    name, description, hit_policy, aggregation       the table
    in.J.name, in.J.type, in.J.allowed, in.J.description
    out.K.name, out.K.type, out.K.allowed, out.K.default, out.K.description
    rule.R.in.J, rule.R.out.K, rule.R.basis, rule.R.annotation
    n_in, n_out, n_rules, rule_ids (JSON list)       the grid's shape and the rule ids

Input cells are FEEL unary tests; what a clerk types is read as the Excel
import reads it (`kijun.criteria.formats.excel.input_cell_feel`: はい／いいえ,
和暦 dates, 100,000円, a bare word in a text column), and a text column also
takes a plain list `単身, 夫婦`. Output cells, defaults and allowed values are
plain values read by the engine's coercers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from kijun.criteria import serial
from kijun.criteria.compile import compile_table
from kijun.criteria.decide import compile_version
from kijun.criteria.errors import (
    CriteriaError,
    FactError,
    FeelSyntaxError,
    FeelTypeError,
    ModelError,
)
from kijun.criteria.facts import coercer
from kijun.criteria.feel import compile_unary_tests
from kijun.criteria.formats.excel import input_cell_feel
from kijun.criteria.formats.yaml import feel_literal
from kijun.criteria.model import (
    NO_DEFAULT,
    Aggregation,
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
    ValueType,
    Version,
)
from kijun.criteria.normalise import nfkc
from kijun.store.audit import canonical_json

#: the most rules and columns one form may hold (the form parser also caps the fields)
MAX_RULES = 500
MAX_COLUMNS = 60

TYPE_LABELS: dict[str, str] = {
    ValueType.NUMBER.value: "数値",
    ValueType.STRING.value: "文字列",
    ValueType.BOOLEAN.value: "はい／いいえ",
    ValueType.DATE.value: "日付",
}

HIT_POLICY_CHOICES: tuple[tuple[str, str], ...] = (
    (HitPolicy.UNIQUE.value, "一意（UNIQUE）：当てはまる規則は1つまで"),
    (HitPolicy.FIRST.value, "先頭（FIRST）：上から最初の規則"),
    (HitPolicy.PRIORITY.value, "優先（PRIORITY）：選択肢の順で先の結果"),
    (HitPolicy.ANY.value, "任意（ANY）：結果はすべて同じ"),
    (HitPolicy.COLLECT.value, "収集（COLLECT）：すべての結果"),
    (HitPolicy.RULE_ORDER.value, "規則順（RULE ORDER）：すべてを表の順に"),
    (HitPolicy.OUTPUT_ORDER.value, "出力順（OUTPUT ORDER）：すべてを選択肢の順に"),
)

AGGREGATION_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "集計しない"),
    (Aggregation.SUM.value, "合計（SUM）"),
    (Aggregation.MIN.value, "最小値（MIN）"),
    (Aggregation.MAX.value, "最大値（MAX）"),
    (Aggregation.COUNT.value, "件数（COUNT）"),
)

_NULL_WORDS = frozenset({"null", "値なし"})

#: how to write a condition, per type (said after a condition that could not be read)
CELL_HINT: dict[ValueType, str] = {
    ValueType.NUMBER: "数値の条件は「< 18」（18未満）、「[3..18)」（3以上18未満）、"
                      "「100000」のように書きます",
    ValueType.STRING: "文字の条件は「単身」や「\"単身\", \"夫婦\"」のように書きます",
    ValueType.BOOLEAN: "はい・いいえの条件は「はい」「いいえ」、"
                       "どちらでもよいときは「-」と書きます",
    ValueType.DATE: "日付の条件は「>= 令和6年4月1日」や「< 2024-10-01」のように書きます",
}

_VALUE_EXAMPLES: dict[ValueType, str] = {
    ValueType.NUMBER: "「100000」「100,000円」「1.5」のように",
    ValueType.STRING: "文字で",
    ValueType.BOOLEAN: "「はい」か「いいえ」で",
    ValueType.DATE: "「令和6年4月1日」や「2024-04-01」のように",
}


class FormShapeError(ValueError):
    """The posted form is not one the editor made (missing or impossible counts, actions)."""


# -- the form -----------------------------------------------------------------------------------


@dataclass(slots=True)
class ColumnForm:
    """An input or output column's header fields, as text."""

    name: str = ""
    type: str = ValueType.STRING.value
    allowed: str = ""
    description: str = ""
    default: str = ""  # outputs only

    @property
    def type_label(self) -> str:
        return TYPE_LABELS.get(self.type, "")


@dataclass(slots=True)
class RuleForm:
    id: str
    when: list[str]
    then: list[str]
    basis: str = ""
    annotation: str = ""


@dataclass(slots=True)
class TableForm:
    """One decision table of a version as the editor's grid of text fields."""

    index: int  # the table's position in its version, from 0
    name: str
    description: str
    hit_policy: str
    aggregation: str
    inputs: list[ColumnForm]
    outputs: list[ColumnForm]
    rules: list[RuleForm]
    #: the fingerprint of the stored table the form was made from (`table_fingerprint`)
    base: str = ""

    @property
    def number(self) -> int:
        """The table's number on the page, from 1."""
        return self.index + 1

    @property
    def rule_ids_json(self) -> str:
        return json.dumps([r.id for r in self.rules], ensure_ascii=False)

    @classmethod
    def from_table(cls, table: DecisionTable, index: int) -> TableForm:
        return cls(
            index=index,
            name=table.name,
            description=table.description or "",
            hit_policy=table.hit_policy.value,
            aggregation=table.aggregation.value if table.aggregation else "",
            inputs=[
                ColumnForm(i.name, i.type.value, allowed_text(i.allowed, i.type),
                           i.description or "")
                for i in table.inputs
            ],
            outputs=[
                ColumnForm(o.name, o.type.value, allowed_text(o.allowed, o.type),
                           o.description or "",
                           value_text(o.default, o.type) if o.has_default else "")
                for o in table.outputs
            ],
            rules=[
                RuleForm(
                    r.id,
                    [cell_text(w, i.type) for w, i in zip(r.when, table.inputs, strict=True)],
                    [value_text(v, o.type) for v, o in zip(r.then, table.outputs, strict=True)],
                    r.basis or "",
                    r.annotation or "",
                )
                for r in table.rules
            ],
            base=table_fingerprint(table),
        )

    @classmethod
    def from_post(cls, data: Mapping[str, str], index: int) -> TableForm:
        """The form as posted; `FormShapeError` when its counts are missing or impossible."""
        n_in = _count(data, "n_in", MAX_COLUMNS)
        n_out = _count(data, "n_out", MAX_COLUMNS)
        n_rules = _count(data, "n_rules", MAX_RULES)
        ids = _rule_ids(data.get("rule_ids", ""), n_rules)

        def get(key: str) -> str:
            return data.get(key, "")

        inputs = [
            ColumnForm(get(f"in.{j}.name"), get(f"in.{j}.type"), get(f"in.{j}.allowed"),
                       get(f"in.{j}.description"))
            for j in range(1, n_in + 1)
        ]
        outputs = [
            ColumnForm(get(f"out.{k}.name"), get(f"out.{k}.type"), get(f"out.{k}.allowed"),
                       get(f"out.{k}.description"), get(f"out.{k}.default"))
            for k in range(1, n_out + 1)
        ]
        rules = [
            RuleForm(
                ids[r - 1],
                [get(f"rule.{r}.in.{j}") for j in range(1, n_in + 1)],
                [get(f"rule.{r}.out.{k}") for k in range(1, n_out + 1)],
                get(f"rule.{r}.basis"),
                get(f"rule.{r}.annotation"),
            )
            for r in range(1, n_rules + 1)
        ]
        return cls(
            index=index,
            name=get("name"),
            description=get("description"),
            hit_policy=get("hit_policy"),
            aggregation=get("aggregation"),
            inputs=inputs,
            outputs=outputs,
            rules=rules,
            base=get("base"),
        )


def _count(data: Mapping[str, str], key: str, limit: int) -> int:
    text = data.get(key, "").strip()
    if not text.isdigit() or int(text) > limit:
        raise FormShapeError(f"{key} must be a count from 0 to {limit}")
    return int(text)


def _rule_ids(text: str, n: int) -> list[str]:
    """The posted rule ids; missing, repeated or malformed ones get fresh ids."""
    try:
        raw = json.loads(text) if text else []
    except ValueError:
        raw = []
    ids: list[str] = []
    for i in range(n):
        value = raw[i] if isinstance(raw, list) and i < len(raw) else None
        ids.append(value.strip() if isinstance(value, str) else "")
    seen: set[str] = set()
    for i, rid in enumerate(ids):
        if not rid or rid in seen or len(rid) > 100:
            ids[i] = ""
        else:
            seen.add(rid)
    for i, rid in enumerate(ids):
        if not rid:
            ids[i] = new_rule_id(ids)
    return ids


def new_rule_id(ids: Sequence[str]) -> str:
    """`R<n>` after the highest such id in use."""
    numbers = [int(m.group(1)) for i in ids if (m := re.fullmatch(r"R(\d+)", i))]
    n = max(numbers, default=len(ids)) + 1
    while f"R{n}" in ids:
        n += 1
    return f"R{n}"


def table_fingerprint(table: DecisionTable) -> str:
    """A short hash of a table's content: has the stored table changed since the form was made?"""
    text = canonical_json(serial.table_to_dict(table))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


# -- showing values as text ---------------------------------------------------------------------

_DATE_CALL = re.compile(r'date\("(\d{4}-\d{2}-\d{2})"\)')


def cell_text(feel: str, type_: ValueType) -> str:
    """A stored condition as the editor shows it: FEEL, with dates and booleans simplified
    where they read back the same (`date("2024-04-01")` → `2024-04-01`, `true` → `はい`)."""
    shown = feel
    if type_ is ValueType.BOOLEAN and feel in ("true", "false"):
        shown = "はい" if feel == "true" else "いいえ"
    elif type_ is ValueType.DATE:
        shown = _DATE_CALL.sub(r"\1", feel)  # checked below: it must read back the same
    if shown == feel:
        return feel
    try:
        return shown if read_cell(shown, type_) == feel else feel
    except ValueError:
        return feel


def value_text(value: Any, type_: ValueType) -> str:
    """An output value (or default) as the editor shows it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() \
            else format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if type_ is ValueType.STRING and (text == "" or nfkc(text).casefold() in _NULL_WORDS
                                      or (text.startswith('"') and text.endswith('"'))):
        return feel_literal(text)
    return text


def allowed_text(values: Sequence[Any] | None, type_: ValueType) -> str:
    """Allowed values separated by 「, 」; a text with a comma or quote is quoted."""
    if values is None:
        return ""
    parts = []
    for v in values:
        if isinstance(v, str) and (re.search(r'[,、"]', v) or not v.strip()):
            parts.append(feel_literal(v))
        else:
            parts.append(value_text(v, type_))
    return ", ".join(parts)


def split_list(text: str) -> list[str]:
    """Values separated by `,` or `、`; "double quotes" keep a comma inside a value."""
    items: list[str] = []
    token = ""
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\" and i + 1 < len(text):
                token += text[i + 1]
                i += 2
                continue
            if ch == '"':
                quoted = False
            else:
                token += ch
        elif ch == '"' and not token.strip():
            quoted = True
            token = "\x00"  # marks a quoted item (it may be empty)
        elif ch in ",、":
            items.append(token)
            token = ""
        else:
            token += ch
        i += 1
    items.append(token)
    out = []
    for item in items:
        if item.startswith("\x00"):
            out.append(item[1:])
        elif item.strip():
            out.append(item.strip())
    return out


# -- reading cells ------------------------------------------------------------------------------

_FEEL_START = ('"', "<", ">", "=", "!=", "[", "(", "]", "not(", "not (", "?", "-")


def read_cell(text: str, type_: ValueType) -> str:
    """A condition as typed → FEEL unary-test text; `ValueError` when it cannot be one."""
    norm = nfkc(text)
    if (type_ is ValueType.STRING and not norm.startswith(_FEEL_START)
            and '"' not in norm and re.search(r"[,、]", norm)):
        # a plain list of words: 単身, 夫婦 → "単身", "夫婦"
        words = [w.strip() for w in re.split(r"[,、]", norm) if w.strip()]
        return ", ".join(feel_literal(w) for w in words) if words else "-"
    return input_cell_feel(norm, type_)


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one field: `label` names the field (for the summary)."""

    label: str
    message: str


@dataclass(slots=True)
class Built:
    """`build`'s answer: the table, or the errors by field key (in the form's order)."""

    table: DecisionTable | None
    errors: dict[str, FieldError] = field(default_factory=dict)


def build(form: TableForm, version: Version) -> Built:
    """The decision table the form describes, checked against the rest of `version`."""
    b = _Builder(form)
    table = b.table()
    if table is None or b.errors:
        return Built(None, b.errors)
    others = [d for i, d in enumerate(version.decisions) if i != form.index]
    if any(d.name == table.name for d in others):
        b.add("name", "判断の名前",
              f"「{table.name}」は、この版の別の判断の名前です。別の名前にしてください。")
        return Built(None, b.errors)
    decisions = list(version.decisions)
    decisions[form.index] = table
    try:
        compile_version(replace(version, decisions=tuple(decisions)))
    except ModelError as e:
        b.add("table", "判断表", _graph_error_ja(str(e)))
        return Built(None, b.errors)
    return Built(table, {})


def _graph_error_ja(text: str) -> str:
    m = re.search(r"output '([^']*)' is produced by both '([^']*)' and '([^']*)'", text)
    if m:
        return (f"結果「{m.group(1)}」は、判断「{m.group(2)}」と「{m.group(3)}」の両方で"
                "出力されています。結果の名前は版の中で一つの判断にしか使えません。")
    if "cycle" in text:
        return ("判断どうしが互いの結果を条件にしていて、循環しています。"
                "条件と結果の名前を確かめてください。")
    return f"判断表として正しくありません（{text}）。"


class _Builder:
    def __init__(self, form: TableForm) -> None:
        self.form = form
        self.errors: dict[str, FieldError] = {}

    def add(self, key: str, label: str, message: str) -> None:
        self.errors.setdefault(key, FieldError(label, message))

    def table(self) -> DecisionTable | None:
        f = self.form
        name = f.name.strip()  # names are kept as written: （全角） stays
        if not name:
            self.add("name", "判断の名前", "判断の名前を入力してください。")
        policy = self._policy()
        aggregation = self._aggregation(policy)
        inputs = self._inputs()
        outputs = self._outputs()
        if not f.outputs:
            self.add("outputs", "結果（出力）",
                     "結果（出力）が1つもありません。「結果を追加」で追加してください。")
        if not f.inputs and not f.rules:
            self.add("inputs", "条件（入力）",
                     "条件（入力）か規則が1つ以上必要です。「条件を追加」で追加してください。")
        rules = self._rules(inputs, outputs)
        self._policy_needs(policy, aggregation, outputs)
        if self.errors or policy is None or inputs is None or outputs is None or rules is None:
            return None
        table = DecisionTable(
            name=name,
            hit_policy=policy,
            aggregation=aggregation,
            description=_optional(f.description),
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            rules=tuple(rules),
        )
        try:
            compile_table(table)
        except ModelError as e:  # every check above should have caught it first
            self.add("table", "判断表", f"判断表として正しくありません（{e}）。")
            return None
        return table

    # -- the table's settings

    def _policy(self) -> HitPolicy | None:
        try:
            return HitPolicy(self.form.hit_policy)
        except ValueError:
            self.add("hit_policy", "ヒットポリシー", "ヒットポリシーを一覧から選んでください。")
            return None

    def _aggregation(self, policy: HitPolicy | None) -> Aggregation | None:
        text = self.form.aggregation
        if not text:
            return None
        try:
            aggregation = Aggregation(text)
        except ValueError:
            self.add("aggregation", "集計", "集計を一覧から選んでください。")
            return None
        if policy is not None and policy is not HitPolicy.COLLECT:
            self.add("aggregation", "集計",
                     "集計は、ヒットポリシーが収集（COLLECT）のときだけ選べます。"
                     "「集計しない」を選ぶか、ヒットポリシーを収集にしてください。")
        return aggregation

    def _policy_needs(self, policy: HitPolicy | None, aggregation: Aggregation | None,
                      outputs: list[OutputClause] | None) -> None:
        if policy is None or outputs is None:
            return
        if aggregation is not None and policy is HitPolicy.COLLECT:
            if len(outputs) != 1:
                self.add("aggregation", "集計",
                         "集計（合計・最小値・最大値・件数）を使うときは、結果（出力）を1つだけに"
                         "してください。")
            elif aggregation is Aggregation.SUM and outputs[0].type is not ValueType.NUMBER:
                self.add("aggregation", "集計", "合計は、数値の結果にだけ使えます。")
            elif (aggregation in (Aggregation.MIN, Aggregation.MAX)
                  and outputs[0].type is ValueType.BOOLEAN):
                self.add("aggregation", "集計",
                         "最小値・最大値は、はい／いいえの結果には使えません。")
        if policy in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER) and not any(
            o.allowed for o in outputs
        ):
            self.add("hit_policy", "ヒットポリシー",
                     "優先（PRIORITY）と出力順（OUTPUT ORDER）では、結果のどれかに選択肢を"
                     "優先する順に書いてください（例：「却下, 保留, 承認」）。")

    # -- the columns

    def _type(self, key: str, label: str, text: str) -> ValueType | None:
        try:
            return ValueType(text)
        except ValueError:
            self.add(key, label, "型を一覧から選んでください。")
            return None

    def _names(self, kind: str, what: str, columns: list[ColumnForm]) -> list[str]:
        names = [c.name.strip() for c in columns]
        first: dict[str, int] = {}
        for j, name in enumerate(names, 1):
            key, label = f"{kind}.{j}.name", f"{what}{j}の名前"
            if not name:
                self.add(key, label, f"{what}{j}の名前を入力してください。")
            elif name in first:
                self.add(key, label, f"名前「{name}」は{what}{first[name]}と同じです。"
                                     "別の名前にしてください。")
            else:
                first[name] = j
        return names

    def _allowed(self, key: str, label: str, text: str, type_: ValueType,
                 name: str) -> tuple[Any, ...] | None:
        if not text.strip():
            return None
        base = coercer(InputClause(name or "x", type_))
        values: list[Any] = []
        for item in split_list(text):
            try:
                value = base(item)
            except FactError:
                self.add(key, label, f"選択肢「{item}」は{TYPE_LABELS[type_.value]}ではありません"
                                     f"（{_VALUE_EXAMPLES[type_]}書き、「, 」で区切ります）。")
                return None
            if value not in values:
                values.append(value)
        if not values:
            return None
        return tuple(values)

    def _inputs(self) -> list[InputClause] | None:
        columns = self.form.inputs
        names = self._names("in", "条件", columns)
        out: list[InputClause] = []
        ok = True
        for j, (c, name) in enumerate(zip(columns, names, strict=True), 1):
            type_ = self._type(f"in.{j}.type", f"条件{j}の型", c.type)
            if type_ is None:
                ok = False
                continue
            allowed = self._allowed(f"in.{j}.allowed", f"条件{j}の選択肢", c.allowed, type_, name)
            out.append(InputClause(name, type_, allowed, _optional(c.description)))
        return out if ok else None

    def _outputs(self) -> list[OutputClause] | None:
        columns = self.form.outputs
        names = self._names("out", "結果", columns)
        out: list[OutputClause] = []
        ok = True
        for k, (c, name) in enumerate(zip(columns, names, strict=True), 1):
            type_ = self._type(f"out.{k}.type", f"結果{k}の型", c.type)
            if type_ is None:
                ok = False
                continue
            allowed = self._allowed(f"out.{k}.allowed", f"結果{k}の選択肢", c.allowed, type_,
                                    name)
            clause = OutputClause(name, type_, allowed, NO_DEFAULT, _optional(c.description))
            if c.default.strip():
                try:
                    clause = replace(clause, default=read_value(c.default, clause))
                except ValueError as e:
                    self.add(f"out.{k}.default", f"結果{k}の既定値", str(e))
            out.append(clause)
        return out if ok else None

    # -- the rules

    def _rules(self, inputs: list[InputClause] | None,
               outputs: list[OutputClause] | None) -> list[Rule] | None:
        rules: list[Rule] = []
        for r, row in enumerate(self.form.rules, 1):
            when: list[str] = []
            then: list[Any] = []
            for j, text in enumerate(row.when, 1):
                clause = inputs[j - 1] if inputs is not None else None
                feel = self._cell(f"rule.{r}.in.{j}", r, j, text, clause)
                when.append(feel if feel is not None else "-")
            for k, text in enumerate(row.then, 1):
                out = outputs[k - 1] if outputs is not None else None
                then.append(self._value(f"rule.{r}.out.{k}", r, k, text, out))
            rules.append(Rule(row.id, tuple(when), tuple(then), _optional(row.basis),
                              _optional(row.annotation)))
        if inputs is None or outputs is None:
            return None
        return rules

    def _cell_label(self, r: int, j: int) -> str:
        name = self.form.inputs[j - 1].name.strip() or f"条件{j}"
        return f"規則{r}の「{name}」"

    def _cell(self, key: str, r: int, j: int, text: str, clause: InputClause | None) -> str | None:
        if clause is None:
            return None  # the column's own error is enough
        label = self._cell_label(r, j)
        try:
            feel = read_cell(text, clause.type)
        except ValueError:
            what = "存在しない日付が含まれています" if clause.type is ValueType.DATE \
                else "条件として読めません"
            self.add(key, label, f"{what}（{CELL_HINT[clause.type]}）。")
            return None
        try:
            test = compile_unary_tests(feel, clause.type)
        except FeelSyntaxError as e:
            self.add(key, label, syntax_error_ja(e, text, feel, clause.type))
            return None
        except FeelTypeError as e:
            self.add(key, label, type_error_ja(e, clause.type))
            return None
        except CriteriaError as e:  # pragma: no cover - compile raises only the two above
            self.add(key, label, f"条件として読めません（{e}）。")
            return None
        if test.names:
            words = "、".join(sorted(test.names))
            self.add(key, label, f"「{words}」は{TYPE_LABELS[clause.type.value]}の条件として"
                                 f"読めません。{CELL_HINT[clause.type]}。")
            return None
        return feel

    def _value(self, key: str, r: int, k: int, text: str, clause: OutputClause | None) -> Any:
        if clause is None:
            return None
        label = f"規則{r}の「{clause.name or f'結果{k}'}」"
        if not text.strip():
            if clause.has_default:
                return clause.default
            self.add(key, label, "結果を入力してください（どの規則でも同じ値になるときは、"
                                 "列の「既定値」に書くこともできます）。")
            return None
        try:
            return read_value(text, clause)
        except ValueError as e:
            self.add(key, label, str(e))
            return None


def read_value(text: str, clause: OutputClause) -> Any:
    """An output value (or default) as typed; `ValueError` with a Japanese message."""
    norm = nfkc(text)
    if norm.casefold() in _NULL_WORDS:
        return None
    if clause.type is ValueType.STRING and len(norm) >= 2 and norm[0] == norm[-1] == '"':
        norm = norm[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    try:
        return coercer(clause)(norm)
    except FactError as e:
        if clause.allowed is not None and e.reason.startswith("value is not one"):
            choices = allowed_text(clause.allowed, clause.type)
            raise ValueError(f"選択肢（{choices}）のどれかを書いてください。") from None
        raise ValueError(f"{TYPE_LABELS[clause.type.value]}の結果です。"
                         f"{_VALUE_EXAMPLES[clause.type]}書いてください。") from None


def _optional(text: str) -> str | None:
    stripped = text.strip()
    return stripped or None


# -- FEEL errors in Japanese --------------------------------------------------------------------

_NUMBER = r"(\d[\d,]*(?:\.\d+)?)"
_UNIT = r"(?:歳|才|円|人|日|か月|ヶ月|カ月|年|件|回|%|％)?"
_COMPARE = {
    "未満": "<", "以上": ">=", "以下": "<=", "超": ">", "を超える": ">", "超える": ">",
    "より大きい": ">", "より多い": ">", "より小さい": "<", "より少ない": "<",
}
_DATE_COMPARE = {"以降": ">=", "以前": "<=", "より前": "<", "より後": ">", "から": ">=",
                 "まで": "<=", "前": "<", "後": ">"}


def suggestion(text: str, type_: ValueType) -> str | None:
    """How a condition written in words (18歳未満, 3歳以上18歳未満) is written in FEEL."""
    norm = nfkc(text).replace(" ", "")
    if type_ is ValueType.NUMBER:
        words = "|".join(sorted(_COMPARE, key=len, reverse=True))
        m = re.fullmatch(rf"{_NUMBER}{_UNIT}(以上|超|を超え)、?{_NUMBER}{_UNIT}(未満|以下)", norm)
        if m:
            lo = "[" if m.group(2) == "以上" else "("
            hi = ")" if m.group(4) == "未満" else "]"
            return f"{lo}{_plain(m.group(1))}..{_plain(m.group(3))}{hi}"
        m = re.fullmatch(rf"{_NUMBER}{_UNIT}[~〜～から]+{_NUMBER}{_UNIT}(?:まで)?", norm)
        if m:
            return f"[{_plain(m.group(1))}..{_plain(m.group(2))}]"
        m = re.fullmatch(rf"{_NUMBER}{_UNIT}({words})", norm)
        if m:
            return f"{_COMPARE[m.group(2)]} {_plain(m.group(1))}"
    if type_ is ValueType.DATE:
        words = "|".join(sorted(_DATE_COMPARE, key=len, reverse=True))
        m = re.fullmatch(rf"(.+?日)({words})", norm)
        if m:
            return f"{_DATE_COMPARE[m.group(2)]} {m.group(1)}"
    return None


def _plain(number: str) -> str:
    return number.replace(",", "")


def syntax_error_ja(e: FeelSyntaxError, typed: str, feel: str, type_: ValueType) -> str:
    """A FEEL syntax error in the words of a clerk: what to write, then where it went wrong."""
    shown = nfkc(typed)
    where = "" if feel == shown else f"「{feel}」として読んだときの"
    reason = e.reason
    detail: str
    m = re.fullmatch(r"unexpected '(.*)'", reason, re.S)
    if m:
        detail = f"{where}{e.column}文字目に予期しない記号「{m.group(1)}」"
    elif reason == "unexpected end of input":
        needed = [x.strip("'") for x in e.expected if x.startswith("'")]
        if "]" in needed and "[" in needed:
            needed.remove("[")  # `[3..18[` is FEEL too, but nobody writes it
        detail = f"{where}{e.column}文字目で式が途中で終わっています"
        if needed:
            detail += "：" + "か".join(f"「{x}」" for x in needed) + "が必要です"
    elif reason == "unterminated string":
        detail = f"{where}{e.column}文字目の「\"」が閉じていません"
    elif m := re.fullmatch(r"unknown function '(.*)'", reason):
        detail = f"「{m.group(1)}」という関数はありません"
    elif m := re.search(r'"([^"]*)" is not a valid (date|time|date and time)', reason):
        detail = f"「{m.group(1)}」は存在しない日付です"
    else:
        detail = f"{where}{e.column}文字目で式が読めません"
    hint = suggestion(typed, type_)
    if hint is not None:
        return f"{shown}は「{hint}」のように書きます（{detail}）。"
    return f"{CELL_HINT[type_]}（{detail}）。"


_KIND_JA = {"number": "数値", "string": "文字", "boolean": "はい／いいえ", "date": "日付"}


def type_error_ja(e: FeelTypeError, type_: ValueType) -> str:
    column = TYPE_LABELS[type_.value]
    m = re.search(r": (.+) is an? (number|string|boolean|date)\b", str(e), re.S)
    if m:
        return (f"{column}の条件に{_KIND_JA[m.group(2)]}（{m.group(1)}）は使えません。"
                f"{CELL_HINT[type_]}。")
    return f"{column}の条件として成り立たない式です。{CELL_HINT[type_]}。"


# -- structural edits ---------------------------------------------------------------------------

ACTIONS_WITH_NUMBER = frozenset({
    "add_rule_after", "delete_rule", "move_rule_up", "move_rule_down",
    "delete_input", "delete_output",
    "move_input_left", "move_input_right", "move_output_left", "move_output_right",
})
ACTIONS = frozenset({"save", "add_input", "add_output"}) | ACTIONS_WITH_NUMBER


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    number: int | None = None

    @classmethod
    def parse(cls, text: str | None) -> Action:
        """`save`, `add_input`, `delete_rule:3` …; `FormShapeError` for anything else."""
        name, _, number = (text or "save").partition(":")
        if name not in ACTIONS:
            raise FormShapeError(f"unknown action {name!r}")
        if name in ACTIONS_WITH_NUMBER:
            if not number.isdigit():
                raise FormShapeError(f"action {name} needs a number")
            return cls(name, int(number))
        if number:
            raise FormShapeError(f"action {name} takes no number")
        return cls(name)


@dataclass(frozen=True, slots=True)
class Applied:
    """What an action did: `done` names it for the message; `focus` is the field to go to."""

    done: str
    focus: str


def apply(form: TableForm, action: Action) -> Applied:
    """Make the structural edit `action` asks for; `FormShapeError` when it names nothing."""
    n = action.number
    rules = form.rules
    if action.name == "save":
        return Applied("saved", "")
    if action.name == "add_input":
        form.inputs.append(ColumnForm())
        for r in rules:
            r.when.append("-")
        return Applied("input_added", f"in.{len(form.inputs)}.name")
    if action.name == "add_output":
        form.outputs.append(ColumnForm())
        for r in rules:
            r.then.append("")
        return Applied("output_added", f"out.{len(form.outputs)}.name")
    assert n is not None
    if action.name == "add_rule_after":
        _check(0 <= n <= len(rules))
        rules.insert(n, RuleForm(new_rule_id([r.id for r in rules]),
                                 ["-"] * len(form.inputs), [""] * len(form.outputs)))
        return Applied("rule_added", _first_cell(form, n + 1))
    if action.name == "delete_rule":
        _check(1 <= n <= len(rules))
        del rules[n - 1]
        return Applied("rule_deleted", _first_cell(form, min(n, len(rules))) if rules else "")
    if action.name == "move_rule_up":
        _check(2 <= n <= len(rules))
        rules[n - 2], rules[n - 1] = rules[n - 1], rules[n - 2]
        return Applied("rule_moved", f"rule.{n - 1}.up" if n - 1 > 1 else f"rule.{n - 1}.down")
    if action.name == "move_rule_down":
        _check(1 <= n < len(rules))
        rules[n - 1], rules[n] = rules[n], rules[n - 1]
        return Applied("rule_moved",
                       f"rule.{n + 1}.down" if n + 1 < len(rules) else f"rule.{n + 1}.up")
    if action.name in ("move_input_left", "move_input_right"):
        return Applied("input_moved", _move_column(
            form.inputs, [r.when for r in rules], n, action.name == "move_input_right", "in"))
    if action.name in ("move_output_left", "move_output_right"):
        return Applied("output_moved", _move_column(
            form.outputs, [r.then for r in rules], n, action.name == "move_output_right",
            "out"))
    if action.name == "delete_input":
        _check(1 <= n <= len(form.inputs))
        del form.inputs[n - 1]
        for r in rules:
            del r.when[n - 1]
        return Applied("input_deleted", "")
    # delete_output
    _check(1 <= n <= len(form.outputs))
    del form.outputs[n - 1]
    for r in rules:
        del r.then[n - 1]
    return Applied("output_deleted", "")


def _move_column(columns: list[ColumnForm], cells: list[list[str]], n: int, right: bool,
                 kind: str) -> str:
    """Swap column `n` (from 1) with its neighbour, in the header and in every rule's cells;
    the focus: the same button of the moved column, or the other one at an end."""
    _check(1 <= n < len(columns) if right else 2 <= n <= len(columns))
    a, b = (n - 1, n) if right else (n - 2, n - 1)
    columns[a], columns[b] = columns[b], columns[a]
    for row in cells:
        row[a], row[b] = row[b], row[a]
    to = n + 1 if right else n - 1
    if right:
        return f"{kind}.{to}.right" if to < len(columns) else f"{kind}.{to}.left"
    return f"{kind}.{to}.left" if to > 1 else f"{kind}.{to}.right"


def _check(ok: bool) -> None:
    if not ok:
        raise FormShapeError("the action names a rule or column the table does not have")


def _first_cell(form: TableForm, r: int) -> str:
    if form.inputs:
        return f"rule.{r}.in.1"
    if form.outputs:
        return f"rule.{r}.out.1"
    return f"rule.{r}.basis"


def dom_id(table_number: int, key: str) -> str:
    """The HTML id of a field: `t1-rule-3-in-2` for `rule.3.in.2` of the first table."""
    return f"t{table_number}-{key.replace('.', '-')}" if key else f"edit-{table_number}"
