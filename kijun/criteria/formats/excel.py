"""Excel workbooks (.xlsx) for criteria, in a layout a section clerk can fill in (docs/excel.md).

One workbook holds one version of a criterion:

- a sheet 「基準」 with the criterion's metadata as label / value rows
  (識別子, 名称, 担当課, 根拠, 説明, 版, 施行日, 廃止日, 状態, 備考, ライフイベント);
- one sheet per decision table, named after the decision (the real name is
  kept in the cell next to 「判断名」): a few label rows (判断名, ヒットポリシー,
  集計, 説明), then a header row 規則ID | inputs | outputs | 根拠 | 注記, under
  it the rows 区分 (条件 / 結果), 型 (数値 / 文字列 / 真偽値 / 日付), 選択肢,
  既定値 and 説明, then one row per rule.

Input cells are FEEL unary tests written as text; a plain number, date,
はい / いいえ or word is turned into the test "equals this" as the YAML loader
does (`cell_to_feel`). Output cells are plain values. Reading collects every
problem of the file (up to `MAX_PROBLEMS`), each naming the sheet and cell, in
Japanese and English, and returns nothing unless the whole file is right.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from kijun.criteria.compile import compile_table
from kijun.criteria.errors import CriteriaError, FactError, LoadError, ModelError
from kijun.criteria.facts import coercer
from kijun.criteria.feel import compile_unary_tests
from kijun.criteria.formats.yaml import cell_to_feel, feel_literal
from kijun.criteria.model import (
    LIFE_EVENTS,
    NO_DEFAULT,
    Aggregation,
    Criterion,
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
    ValueType,
    Version,
    VersionStatus,
    parse_life_events,
    validate_criterion,
)
from kijun.criteria.normalise import nfkc, parse_boolean, parse_date, parse_number

__all__ = [
    "MAX_PROBLEMS",
    "META_SHEET",
    "CellProblem",
    "ExcelError",
    "ExcelImportOptions",
    "ImportOptions",
    "criterion_from_workbook",
    "input_cell_feel",
    "read_metadata",
    "version_to_workbook",
]

META_SHEET = "基準"
#: sheets whose name starts with one of these are notes for people, not decisions
_NOTE_PREFIXES = ("メモ", "#")
#: problems reported for one file at most; the rest are counted, not listed
MAX_PROBLEMS = 50
#: a workbook larger than this is refused before it is opened
MAX_BYTES = 20 * 1024 * 1024

# -- labels ------------------------------------------------------------------------------------

_META_LABELS: dict[str, str] = {
    "識別子": "id",
    "名称": "name",
    "担当課": "department",
    "根拠": "basis",
    "説明": "description",
    "版": "version",
    "施行日": "effective_from",
    "廃止日": "effective_to",
    "状態": "status",
    "備考": "note",
    "ライフイベント": "life_events",
}
_META_ALIASES: dict[str, str] = {
    **{v: v for v in _META_LABELS.values()},
    "id": "id", "版番号": "version", "効力発生日": "effective_from", "失効日": "effective_to",
}
_META_HINTS: dict[str, str] = {
    "id": "英小文字・数字・ハイフン（例: shussan-iwaikin）",
    "name": "判断基準の名前",
    "department": "担当課（空欄可）",
    "basis": "根拠となる法令・条例（空欄可）",
    "description": "何を判断するか（空欄可）",
    "version": "版の番号（1, 2, …）",
    "effective_from": "効力が生じる日。和暦（令和6年4月1日）でも西暦（2024/4/1）でも可",
    "effective_to": "空欄可。この日から効力を失う（この日は含まない）",
    "status": "下書き・公開・廃止",
    "note": "この版についての備考（空欄可）",
    "life_events": "関係するライフイベントを「、」で区切って（例: 出生・こども、引越し）。"
                   f"{'、'.join(LIFE_EVENTS)} から選ぶ。空欄可",
}

_STATUS_LABELS = {
    VersionStatus.DRAFT: "下書き",
    VersionStatus.PUBLISHED: "公開",
    VersionStatus.RETIRED: "廃止",
}
_STATUS_WORDS: dict[str, VersionStatus] = {
    **{label: s for s, label in _STATUS_LABELS.items()},
    **{s.value.upper(): s for s in VersionStatus},
    "公開中": VersionStatus.PUBLISHED,
    "施行": VersionStatus.PUBLISHED,
    "施行中": VersionStatus.PUBLISHED,
}

_TABLE_LABELS: dict[str, str] = {
    "判断名": "name",
    "判断": "name",
    "ヒットポリシー": "hit_policy",
    "集計": "aggregation",
    "説明": "description",
}
_HEADER_LABELS = frozenset({"規則ID", "規則", "ID", "規則番号"})
_COLUMN_ROWS: dict[str, str] = {
    "区分": "kind",
    "型": "type",
    "選択肢": "allowed",
    "既定値": "default",
    "説明": "description",
}

_POLICY_LABELS: dict[HitPolicy, str] = {
    HitPolicy.UNIQUE: "一意",
    HitPolicy.ANY: "任意",
    HitPolicy.PRIORITY: "優先",
    HitPolicy.FIRST: "最初",
    HitPolicy.RULE_ORDER: "規則順",
    HitPolicy.OUTPUT_ORDER: "出力順",
    HitPolicy.COLLECT: "収集",
}
_AGGREGATION_LABELS: dict[Aggregation, str] = {
    Aggregation.SUM: "合計",
    Aggregation.MIN: "最小",
    Aggregation.MAX: "最大",
    Aggregation.COUNT: "件数",
}
_POLICY_WORDS: dict[str, HitPolicy] = {
    **{label: p for p, label in _POLICY_LABELS.items()},
    **{p.value.replace(" ", "_"): p for p in HitPolicy},
    "U": HitPolicy.UNIQUE, "A": HitPolicy.ANY, "P": HitPolicy.PRIORITY, "F": HitPolicy.FIRST,
    "R": HitPolicy.RULE_ORDER, "O": HitPolicy.OUTPUT_ORDER, "C": HitPolicy.COLLECT,
    "ユニーク": HitPolicy.UNIQUE, "優先順位": HitPolicy.PRIORITY, "先頭": HitPolicy.FIRST,
    "結果順": HitPolicy.OUTPUT_ORDER, "全件": HitPolicy.COLLECT,
}
_AGGREGATION_WORDS: dict[str, Aggregation] = {
    **{label: a for a, label in _AGGREGATION_LABELS.items()},
    **{a.value: a for a in Aggregation},
    "+": Aggregation.SUM, "<": Aggregation.MIN, ">": Aggregation.MAX, "#": Aggregation.COUNT,
    "C+": Aggregation.SUM, "C<": Aggregation.MIN, "C>": Aggregation.MAX, "C#": Aggregation.COUNT,
    "数": Aggregation.COUNT, "個数": Aggregation.COUNT,
}

_TYPE_LABELS: dict[ValueType, str] = {
    ValueType.NUMBER: "数値",
    ValueType.STRING: "文字列",
    ValueType.BOOLEAN: "真偽値",
    ValueType.DATE: "日付",
}
_TYPE_WORDS: dict[str, ValueType] = {
    **{label: t for t, label in _TYPE_LABELS.items()},
    **{t.value.upper(): t for t in ValueType},
    "数": ValueType.NUMBER, "数字": ValueType.NUMBER, "金額": ValueType.NUMBER,
    "文字": ValueType.STRING, "テキスト": ValueType.STRING, "TEXT": ValueType.STRING,
    "真偽": ValueType.BOOLEAN, "はい/いいえ": ValueType.BOOLEAN, "はい・いいえ": ValueType.BOOLEAN,
    "BOOL": ValueType.BOOLEAN, "年月日": ValueType.DATE,
}
_TYPE_EXAMPLES_JA: dict[ValueType, str] = {
    ValueType.NUMBER: "100000 や 100,000円 のような数値",
    ValueType.STRING: "文字",
    ValueType.BOOLEAN: "はい・いいえ",
    ValueType.DATE: "令和6年4月1日 や 2024/4/1 のような日付",
}
_TYPE_EXAMPLES_EN: dict[ValueType, str] = {
    ValueType.NUMBER: "a number such as 100000 or 100,000円",
    ValueType.STRING: "text",
    ValueType.BOOLEAN: "はい/いいえ (true/false)",
    ValueType.DATE: "a date such as 令和6年4月1日 or 2024/4/1",
}

_INPUT, _OUTPUT, _BASIS, _ANNOTATION = "条件", "結果", "根拠", "注記"
_KIND_WORDS: dict[str, str] = {
    _INPUT: _INPUT, "入力": _INPUT, "INPUT": _INPUT,
    _OUTPUT: _OUTPUT, "出力": _OUTPUT, "OUTPUT": _OUTPUT,
    _BASIS: _BASIS, "BASIS": _BASIS,
    _ANNOTATION: _ANNOTATION, "注釈": _ANNOTATION, "備考": _ANNOTATION, "ANNOTATION": _ANNOTATION,
}
_KIND_EN = {_INPUT: "input", _OUTPUT: "output", _BASIS: "根拠 (basis)", _ANNOTATION: "注記 (note)"}
_NULL_WORDS = frozenset({"null", "NULL", "Null"})

# -- look --------------------------------------------------------------------------------------

_BOLD = Font(bold=True)
_HINT = Font(italic=True, color="808080")
_LABEL_FILL = PatternFill("solid", fgColor="F2F2F2")
_FILLS = {
    _INPUT: PatternFill("solid", fgColor="DDEBF7"),  # light blue: conditions
    _OUTPUT: PatternFill("solid", fgColor="FCE4D6"),  # light orange: results
    _BASIS: PatternFill("solid", fgColor="E2EFDA"),  # light green: 根拠
    _ANNOTATION: PatternFill("solid", fgColor="EDEDED"),
}
_WRAP = Alignment(wrap_text=True, vertical="top")
_WRAP_LEFT = Alignment(wrap_text=True, vertical="top", horizontal="left")
_TOP = Alignment(vertical="top")
_DATE_FORMAT = 'yyyy"年"m"月"d"日"'
_TEXT_FORMAT = "@"
#: empty rows under the rules that keep the column formats and dropdowns, for new rules
_SPARE_ROWS = 100
_TABLE_HINT = (
    "条件のセル: 「-」か空欄は「問わない」。12・はい・令和6年4月1日・文字などはその値と等しいとき。"
    "範囲は >= 12、< 18、[15..18) のように書く。"
    "結果のセル: 値をそのまま書く（空欄は既定値）。"
)

# -- options and errors ------------------------------------------------------------------------


class ImportOptions(Protocol):
    """What the caller may say instead of (or over) the workbook; `DmnImportOptions` fits too."""

    @property
    def criterion_id(self) -> str | None: ...
    @property
    def version(self) -> int | None: ...
    @property
    def effective_from(self) -> dt.date | None: ...
    @property
    def status(self) -> VersionStatus | None: ...
    @property
    def department(self) -> str | None: ...
    @property
    def default_version(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ExcelImportOptions:
    """Values given here win over the workbook's 「基準」 sheet."""

    criterion_id: str | None = None
    version: int | None = None
    effective_from: dt.date | None = None
    status: VersionStatus | None = None
    department: str | None = None
    #: the version number when neither `version` nor the workbook gives one
    default_version: int = 1


@dataclass(frozen=True, slots=True)
class CellProblem:
    """One thing wrong in a workbook: where (sheet and cell, when known) and why."""

    sheet: str | None
    cell: str | None
    message_ja: str
    message_en: str

    @property
    def where_ja(self) -> str:
        if self.sheet is None:
            return "ファイル"
        if self.cell is None:
            return f"シート「{self.sheet}」"
        return f"シート「{self.sheet}」のセル{self.cell}"

    @property
    def where_en(self) -> str:
        if self.sheet is None:
            return "workbook"
        if self.cell is None:
            return f"sheet {self.sheet}"
        return f"sheet {self.sheet}, cell {self.cell}"

    def to_dict(self) -> dict[str, str | None]:
        return {"sheet": self.sheet, "cell": self.cell, "message_ja": self.message_ja,
                "message_en": self.message_en}


class ExcelError(LoadError):
    """A workbook that cannot become a criterion: every problem found, each at its cell.

    `str(error)` is English; `message_ja` says the same in Japanese; `problems`
    lists them one by one (at most `MAX_PROBLEMS`; `more` counts the rest).
    """

    def __init__(self, problems: Sequence[CellProblem], *, file: str, more: int = 0) -> None:
        self.problems = tuple(problems)
        self.more = more
        first = self.problems[0]
        self.sheet = first.sheet
        self.cell = first.cell
        if len(self.problems) == 1 and not more:
            super().__init__(first.message_en, file=file, field=first.where_en)
            self.message_ja = f"{file}: {first.where_ja}: {first.message_ja}"
            return
        total = len(self.problems) + more
        lines_en = [f"{total} problems:"] + [f"  {p.where_en}: {p.message_en}"
                                             for p in self.problems]
        lines_ja = [f"{file}: {total}件の問題があります。"] + [
            f"  {p.where_ja}: {p.message_ja}" for p in self.problems
        ]
        if more:
            lines_en.append(f"  … and {more} more")
            lines_ja.append(f"  …ほか{more}件")
        super().__init__("\n".join(lines_en), file=file)
        self.message_ja = "\n".join(lines_ja)


class _Problems:
    def __init__(self) -> None:
        self.items: list[CellProblem] = []
        self.more = 0

    def add(self, sheet: str | None, cell: str | None, ja: str, en: str) -> None:
        if len(self.items) >= MAX_PROBLEMS:
            self.more += 1
        else:
            self.items.append(CellProblem(sheet, cell, ja, en))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, file: str) -> None:
        if self.items:
            raise ExcelError(self.items, file=file, more=self.more)


# =============================================================================================
# Writing
# =============================================================================================


def version_to_workbook(criterion: Criterion, version: Version) -> bytes:
    """One version of a criterion as an .xlsx workbook (no macros)."""
    wb = Workbook()
    meta = wb.active
    assert meta is not None
    meta.title = META_SHEET
    _write_meta(meta, criterion, version)
    used = {META_SHEET.casefold()}
    for table in version.decisions:
        title = _sheet_title(table.name, used)
        used.add(title.casefold())
        _write_table(wb.create_sheet(title), table)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


_FORBIDDEN_IN_TITLE = str.maketrans({
    ":": "：", "\\": "＼", "/": "／", "?": "？", "*": "＊", "[": "［", "]": "］",
})


def _sheet_title(name: str, used: set[str]) -> str:
    """A legal, unused sheet title for a decision (31 characters, no : \\ / ? * [ ])."""
    base = name.translate(_FORBIDDEN_IN_TITLE).strip().strip("'") or "判断"
    base = re.sub(r"[\x00-\x1f]", "", base)
    if base.casefold() == "history":
        base = f"{base}_"
    if base.startswith(_NOTE_PREFIXES):  # such sheets are skipped when read
        base = f"判断_{base}"
    title = base[:31]
    n = 2
    while title.casefold() in used:
        suffix = f"（{n}）"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    return title


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit_columns(ws: Worksheet, widths: dict[int, int], *, floor: int = 6,
                 ceiling: int = 50) -> None:
    """Column widths from the content, row heights for wrapped text, landscape printing."""
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(floor, min(ceiling, width + 2))
    for row in ws.iter_rows():
        lines = 1
        for cell in row:
            if not isinstance(cell.value, str) or not cell.alignment.wrap_text:
                continue
            letter = get_column_letter(cell.column or 1)
            room = max(1, int((ws.column_dimensions[letter].width or 8.43) - 1))
            lines = max(lines, sum(max(1, -(-_display_width(part) // room))
                                   for part in cell.value.splitlines() or [""]))
        if lines > 1 and row:
            ws.row_dimensions[row[0].row or 1].height = 15 * min(lines, 12)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def _measure(widths: dict[int, int], col: int, value: Any) -> None:
    if value is None:
        return
    text = "2024年10月10日" if isinstance(value, dt.date) else str(value)
    longest = max((_display_width(line) for line in text.splitlines()), default=0)
    widths[col] = max(widths.get(col, 0), longest)


def _put(ws: Worksheet, row: int, col: int, value: Any) -> Cell:
    """Write a value so that it reads back as written (text stays text, dates are dates)."""
    cell = ws.cell(row=row, column=col)
    assert isinstance(cell, Cell)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        if value.year < 1901:  # before Excel's calendar: ISO text, which reads back the same
            cell.value = value.isoformat()
            cell.data_type = "s"
        else:
            cell.value = value
            cell.number_format = _DATE_FORMAT
    elif isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # never a formula, even when it starts with '='
    else:
        cell.value = value
    return cell


def _number_cell(value: int | Decimal) -> int | float | str:
    """A number as an Excel number when Excel keeps it exactly, else as text."""
    if isinstance(value, int):
        return value if abs(value) < 10**15 else str(value)
    if value == value.to_integral_value() and abs(value) < 10**15:
        return int(value)
    as_float = float(value)
    if str(Decimal(repr(as_float))) == str(value):
        return as_float
    return format(value, "f")


def _value_cell(value: Any) -> Any:
    """An output value, default or allowed value as a cell value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, int | Decimal):
        return _number_cell(value)
    return value


_NEEDS_QUOTES = re.compile(r'[,、"\n]|^\s|\s$|^$')


def _allowed_text(values: Sequence[Any]) -> str:
    parts = []
    for v in values:
        if isinstance(v, str):
            parts.append(feel_literal(v) if _NEEDS_QUOTES.search(v) else v)
        elif isinstance(v, bool):
            parts.append("はい" if v else "いいえ")
        elif isinstance(v, Decimal):
            parts.append(format(v, "f"))
        elif isinstance(v, dt.date):
            parts.append(v.isoformat())
        elif v is None:
            parts.append("null")
        else:
            parts.append(str(v))
    return ", ".join(parts)


_DATE_CALL = re.compile(r'date\("(\d{4}-\d{2}-\d{2})"\)')
_STRING_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _friendly_input(text: str, clause: InputClause) -> Any:
    """The cell value a clerk reads best for a stored test, if it reads back the same."""
    candidates: list[Any] = []
    t = clause.type
    if t is ValueType.BOOLEAN and text in ("true", "false"):
        candidates.append("はい" if text == "true" else "いいえ")
    elif t is ValueType.DATE:
        whole = _DATE_CALL.fullmatch(text)
        if whole:
            candidates.append(dt.date.fromisoformat(whole.group(1)))
        candidates.append(_DATE_CALL.sub(r"\1", text))
    elif t is ValueType.STRING:
        m = _STRING_LITERAL.fullmatch(text)
        if m and "\\" not in m.group(1):
            candidates.append(m.group(1))
    elif t is ValueType.NUMBER:
        try:
            number = parse_number(text)
        except ValueError:
            pass
        else:
            candidates.append(_number_cell(number))
    for candidate in candidates:
        try:
            if input_cell_feel(candidate, t) == text:
                return candidate
        except ValueError:
            continue
    return text


def _dropdown(ws: Worksheet, choices: Sequence[str], sqref: str, *, strict: bool,
              prompt: str | None = None) -> None:
    if not choices or any("," in c or '"' in c for c in choices):
        return
    formula = '"' + ",".join(choices) + '"'
    if len(formula) > 257:  # Excel's limit: 255 characters between the quotes
        return
    dv = DataValidation(
        type="list", formula1=formula, allow_blank=True, showDropDown=False,
        showErrorMessage=True, errorStyle="stop" if strict else "warning",
        errorTitle="選択肢にない値です",
        error="一覧から選んでください。" if strict
        else "選択肢にない値です。このまま入力しますか？",
        prompt=prompt, showInputMessage=prompt is not None,
    )
    dv.add(sqref)
    ws.add_data_validation(dv)


def _write_meta(ws: Worksheet, criterion: Criterion, version: Version) -> None:
    values: dict[str, Any] = {
        "id": criterion.id,
        "name": criterion.name,
        "department": criterion.department,
        "basis": criterion.basis,
        "description": criterion.description,
        "version": version.number,
        "effective_from": version.effective_from,
        "effective_to": version.effective_to,
        "status": _STATUS_LABELS[version.status],
        "note": version.note,
        "life_events": "、".join(criterion.life_events) or None,
    }
    widths: dict[int, int] = {}
    for col, text in enumerate(("項目", "内容", "記入のしかた"), 1):
        cell = _put(ws, 1, col, text)
        cell.font = _BOLD
        cell.alignment = _TOP
        cell.fill = _LABEL_FILL
        _measure(widths, col, text)
    for row, (label, key) in enumerate(_META_LABELS.items(), 2):
        cell = _put(ws, row, 1, label)
        cell.font = _BOLD
        cell.alignment = _TOP
        cell.fill = _LABEL_FILL
        _measure(widths, 1, label)
        value = values[key]
        cell = _put(ws, row, 2, value)
        cell.alignment = _WRAP_LEFT
        if value is not None:
            widths[2] = max(widths.get(2, 0), min(60, _display_width(str(value))))
        hint = _put(ws, row, 3, _META_HINTS[key])
        hint.font = _HINT
        hint.alignment = _TOP
        _measure(widths, 3, _META_HINTS[key])
        if key == "status":
            _dropdown(ws, list(_STATUS_LABELS.values()), f"B{row}", strict=True)
    _fit_columns(ws, widths, ceiling=62)
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"


def _write_table(ws: Worksheet, table: DecisionTable) -> None:
    widths: dict[int, int] = {}
    label_rows: list[tuple[str, Any]] = [
        ("判断名", table.name),
        ("ヒットポリシー",
         f"{_POLICY_LABELS[table.hit_policy]} ({table.hit_policy.value})"),
        ("集計", f"{_AGGREGATION_LABELS[table.aggregation]} ({table.aggregation.value})"
         if table.aggregation else None),
        ("説明", table.description),
    ]
    for row, (label, value) in enumerate(label_rows, 1):
        cell = _put(ws, row, 1, label)
        cell.font = _BOLD
        cell.alignment = _TOP
        cell.fill = _LABEL_FILL
        _measure(widths, 1, label)
        _put(ws, row, 2, value)
    _dropdown(ws, [f"{_POLICY_LABELS[p]} ({p.value})" for p in HitPolicy], "B2", strict=True,
              prompt="一意: 当てはまる規則は1つだけ。最初: 上の規則を優先。"
              "任意: 複数当てはまってよい（結果は同じ）。優先・出力順: 結果の選択肢の順。"
              "規則順・収集: すべて")
    _dropdown(ws, [f"{_AGGREGATION_LABELS[a]} ({a.value})" for a in Aggregation], "B3",
              strict=True, prompt="ヒットポリシーが「収集」のときだけ")
    hint = _put(ws, 5, 2, _TABLE_HINT)
    hint.font = _HINT

    header = 6
    columns: list[tuple[str, str, InputClause | OutputClause | None]] = [
        *((_INPUT, i.name, i) for i in table.inputs),
        *((_OUTPUT, o.name, o) for o in table.outputs),
        (_BASIS, "根拠", None),
        (_ANNOTATION, "注記", None),
    ]
    labels = ["規則ID", "区分", "型", "選択肢", "既定値", "説明"]
    for k, label in enumerate(labels):
        cell = _put(ws, header + k, 1, label)
        cell.font = _BOLD
        cell.alignment = _TOP
        cell.fill = _LABEL_FILL
        _measure(widths, 1, label)
    first_rule = header + len(labels)
    last_row = first_rule + len(table.rules) + _SPARE_ROWS - 1
    for col, (kind, name, clause) in enumerate(columns, 2):
        letter = get_column_letter(col)
        fill = _FILLS[kind]
        head = _put(ws, header, col, name)
        head.font = _BOLD
        head.alignment = _TOP
        _measure(widths, col, name)
        _put(ws, header + 1, col, kind)
        if clause is not None:
            _put(ws, header + 2, col, _TYPE_LABELS[clause.type])
            if clause.allowed is not None:
                _put(ws, header + 3, col, _allowed_text(clause.allowed))
            if isinstance(clause, OutputClause) and clause.has_default:
                _put(ws, header + 4, col, _value_cell(clause.default))
            if clause.description:
                _put(ws, header + 5, col, clause.description).alignment = _WRAP
                widths[col] = max(widths.get(col, 0), min(24, _display_width(clause.description)))
        for row in range(header, header + len(labels)):
            ws.cell(row=row, column=col).fill = fill
        for row in range(first_rule, last_row + 1):
            _cell_format(ws.cell(row=row, column=col), kind, clause)
        if clause is not None:
            _column_dropdown(ws, kind, clause, f"{letter}{first_rule}:{letter}{last_row}")
    last = get_column_letter(len(columns) + 1 + 10)  # room for columns a clerk adds
    _dropdown(ws, [_INPUT, _OUTPUT, _BASIS, _ANNOTATION], f"B{header + 1}:{last}{header + 1}",
              strict=True)
    _dropdown(ws, list(_TYPE_LABELS.values()), f"B{header + 2}:{last}{header + 2}", strict=True)

    for r, rule in enumerate(table.rules):
        row = first_rule + r
        id_cell = _put(ws, row, 1, rule.id)
        id_cell.font = _BOLD
        id_cell.alignment = _TOP
        _measure(widths, 1, rule.id)
        col = 2
        for clause, text in zip(table.inputs, rule.when, strict=True):
            value = _friendly_input(text, clause)
            _put(ws, row, col, value)
            _measure(widths, col, value)
            col += 1
        for value in rule.then:
            shown = _value_cell(value)
            _put(ws, row, col, shown)
            _measure(widths, col, shown)
            col += 1
        for note in (rule.basis, rule.annotation):
            _put(ws, row, col, note).alignment = _WRAP
            if note:
                widths[col] = max(widths.get(col, 0), min(40, _display_width(note)))
            col += 1
    widths[1] = max(widths.get(1, 0), 8)
    _fit_columns(ws, widths)
    ws.freeze_panes = f"B{first_rule}"
    ws.print_title_rows = f"{header}:{first_rule - 1}"


def _cell_format(cell: Any, kind: str, clause: InputClause | OutputClause | None) -> None:
    if not isinstance(cell, Cell):
        return
    cell.alignment = _WRAP if clause is None else _TOP
    if clause is not None and clause.type is ValueType.DATE and cell.value is not None \
            and not isinstance(cell.value, str):
        cell.number_format = _DATE_FORMAT
    elif clause is None or (kind == _INPUT and clause.type is not ValueType.DATE) \
            or clause.type in (ValueType.STRING, ValueType.BOOLEAN):
        cell.number_format = _TEXT_FORMAT
    elif clause.type is ValueType.DATE:
        cell.number_format = _DATE_FORMAT


def _column_dropdown(ws: Worksheet, kind: str, clause: InputClause | OutputClause,
                     sqref: str) -> None:
    choices: list[str] = []
    if clause.type is ValueType.BOOLEAN:
        choices = ["はい", "いいえ"]
    elif clause.allowed is not None and clause.type is not ValueType.DATE:
        choices = [_allowed_text([v]) for v in clause.allowed if v is not None]
    if not choices:
        return
    if kind == _INPUT:
        choices.append("-")
    _dropdown(ws, choices, sqref, strict=False)


# =============================================================================================
# Reading
# =============================================================================================

_GROUPED_NUMBER = re.compile(r"(?<![\d,])(?<!\d\.)\d{1,3}(?:,\d{3})+(?![\d,])")
_YEN = re.compile(r"(\d)\s*円")
_DATE_TOKEN = re.compile(
    r"(?<![\w\"-])(?:"
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"|\d{4}/\d{1,2}/\d{1,2}"
    r"|(?:明治|大正|昭和|平成|令和)\s*(?:\d{1,3}|元)\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"|(?:明治|大正|昭和|平成|令和|[MTSHR])\s*(?:\d{1,3}|元)\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"|[MTSHRmtshr]\d{1,3}([./])\d{1,2}\1\d{1,2}(?!\d)"
    r")"
)


def _outside_strings(text: str, fn: Any) -> str:
    parts = re.split(r'("(?:[^"\\]|\\.)*")', text)
    return "".join(p if p.startswith('"') else fn(p) for p in parts)


def _iso_dates(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        return parse_date(m.group(0)).isoformat()  # ValueError: not a real date

    return _outside_strings(text, lambda part: _DATE_TOKEN.sub(one, part))


def _plain_numbers(text: str) -> str:
    return _outside_strings(
        text, lambda part: _YEN.sub(r"\1", _GROUPED_NUMBER.sub(
            lambda m: m.group(0).replace(",", ""), part))
    )


def _excel_number(value: float | int) -> int | Decimal:
    if isinstance(value, int):
        return value
    if value.is_integer() and abs(value) < 10**15:
        return int(value)
    return Decimal(repr(value))


def input_cell_feel(value: Any, type_: ValueType) -> str:
    """The FEEL unary-test text of an input cell as a clerk wrote it; `ValueError` if it
    cannot be one (a date that does not exist, a date in a number column, …)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        if type_ is ValueType.STRING:
            return feel_literal("はい" if value else "いいえ")
        return feel_literal(value)
    if isinstance(value, dt.datetime | dt.date):
        if type_ is not ValueType.DATE:
            raise ValueError("a date cell in a column that is not 日付")
        day = value.date() if isinstance(value, dt.datetime) else value
        return feel_literal(day)
    if isinstance(value, int | float | Decimal):
        number = value if isinstance(value, Decimal) else _excel_number(value)
        if type_ is ValueType.STRING:
            return feel_literal(format(number, "f") if isinstance(number, Decimal)
                                else str(number))
        return feel_literal(number)
    text = nfkc(str(value))
    if not text:
        return "-"
    if type_ is ValueType.BOOLEAN:
        try:
            return feel_literal(parse_boolean(text))
        except ValueError:
            return cell_to_feel(text, type_)
    if type_ is ValueType.NUMBER:
        try:
            return feel_literal(parse_number(text))
        except ValueError:
            return cell_to_feel(_plain_numbers(text), type_)
    if type_ is ValueType.DATE:
        try:
            return feel_literal(parse_date(text))
        except ValueError:
            pass
        return cell_to_feel(_iso_dates(text), type_)
    return cell_to_feel(text, type_)


@dataclass(slots=True)
class _Grid:
    """A sheet's cells by (row, column), 1-based, with the sheet's name for messages."""

    title: str
    cells: dict[tuple[int, int], Any]
    max_row: int
    max_col: int
    formulas: set[tuple[int, int]] = field(default_factory=set)

    @classmethod
    def of(cls, ws: Worksheet) -> _Grid:
        cells: dict[tuple[int, int], Any] = {}
        formulas: set[tuple[int, int]] = set()
        max_row = max_col = 0
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if value is None or (isinstance(value, str) and not value.strip()):
                    continue
                if not isinstance(cell, Cell):
                    continue
                r, c = cell.row, cell.column
                assert r is not None and c is not None
                if cell.data_type == "f":
                    formulas.add((r, c))
                cells[(r, c)] = value
                max_row, max_col = max(max_row, r), max(max_col, c)
        return cls(ws.title, cells, max_row, max_col, formulas)

    def get(self, row: int, col: int) -> Any:
        return self.cells.get((row, col))

    def text(self, row: int, col: int) -> str | None:
        value = self.get(row, col)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, float):
            value = _excel_number(value)
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
        return text.strip() or None


def _addr(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


def _key(text: str | None) -> str:
    return re.sub(r"\s+", " ", nfkc(text or "")).upper()


@dataclass(slots=True)
class _Meta:
    """The 「基準」 sheet: parsed values, the cell of each label's value, the values refused."""

    present: bool = False
    values: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)
    bad: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Column:
    col: int
    kind: str
    name: str
    type: ValueType | None = None
    allowed: tuple[Any, ...] | None = None
    default: Any = NO_DEFAULT
    description: str | None = None


@dataclass(slots=True)
class _Sheet:
    """A decision read from one sheet, with the cell of every part for later messages."""

    title: str
    table: DecisionTable
    name_cell: str
    policy_cell: str
    aggregation_cell: str
    header_row: int
    rule_rows: list[int]
    input_cols: list[int]
    output_cols: list[int]


def _open(source: bytes | Path, file: str, problems: _Problems) -> Any:
    if isinstance(source, Path):
        try:
            data = source.read_bytes()
        except OSError as e:
            problems.add(None, None, f"読み込めません（{e.strerror or e}）",
                         f"cannot read the file: {e.strerror or e}")
            return None
    else:
        data = source
    if len(data) > MAX_BYTES:
        problems.add(None, None, f"ファイルが大きすぎます（{MAX_BYTES // 1024 // 1024}MBまで）",
                     f"the file is larger than {MAX_BYTES // 1024 // 1024} MB")
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
    except zipfile.BadZipFile:
        problems.add(None, None, "Excelのブック（.xlsx）ではありません",
                     "not an Excel workbook (.xlsx)")
        return None
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        problems.add(None, None, "マクロを含むブックは読み込みません。.xlsx で保存し直してください",
                     "the workbook contains macros; save it as .xlsx without macros")
        return None
    try:
        return load_workbook(io.BytesIO(data), data_only=False)
    except Exception as e:  # openpyxl raises many kinds for a damaged file
        problems.add(None, None, "Excelのブック（.xlsx）として読めません",
                     f"not a readable Excel workbook (.xlsx): {e.__class__.__name__}")
        return None


def read_metadata(source: str | bytes | Path) -> dict[str, str]:
    """The 「基準」 sheet's values as text, keyed like DMN's kijun extension ({} if absent).

    `source` is the workbook's bytes or its path (a `str` is a path too).
    """
    problems = _Problems()
    source = Path(source) if isinstance(source, str) else source
    where = str(source) if isinstance(source, Path) else "workbook"
    wb = _open(source, where, problems)
    problems.raise_if_any(where)
    if META_SHEET not in wb.sheetnames:
        return {}
    grid = _Grid.of(wb[META_SHEET])
    out: dict[str, str] = {}
    for row in range(1, grid.max_row + 1):
        key = _META_LABELS.get(nfkc(grid.text(row, 1) or "")) or _META_ALIASES.get(
            nfkc(grid.text(row, 1) or "").lower())
        value = grid.text(row, 2)
        if key and value is not None:
            out[key] = value
    return out


def criterion_from_workbook(
    source: str | bytes | Path, options: ImportOptions | None = None, *, file: str | None = None
) -> Criterion:
    """A criterion with one version read from an .xlsx workbook (its bytes, or its path).

    Values in `options` win over the 「基準」 sheet's. Raises `ExcelError` listing
    every problem found (up to `MAX_PROBLEMS`), each at its sheet and cell;
    `file` names the workbook in messages (default: the path).
    """
    opts: ImportOptions = options or ExcelImportOptions()
    source = Path(source) if isinstance(source, str) else source
    where = file or (str(source) if isinstance(source, Path) else "workbook")
    problems = _Problems()
    wb = _open(source, where, problems)
    problems.raise_if_any(where)
    reader = _Reader(problems)
    meta = reader.meta(wb)
    decision_sheets = list(_decision_sheets(wb))
    if not decision_sheets:
        problems.add(None, None, "判断のシートがありません（「基準」のほかに1枚以上必要です）",
                     "the workbook has no decision sheet (one besides 「基準」 is needed)")
    sheets = [s for ws in decision_sheets if (s := reader.sheet(_Grid.of(ws))) is not None]
    seen: dict[str, _Sheet] = {}
    for s in sheets:
        if s.table.name in seen:
            other = seen[s.table.name].title
            problems.add(s.title, s.name_cell,
                         f"判断名「{s.table.name}」はシート「{other}」と重複しています",
                         f"decision name {s.table.name!r} is also used by sheet {other}")
        seen.setdefault(s.table.name, s)
    criterion = _criterion(meta, opts, sheets, problems)
    problems.raise_if_any(where)
    assert criterion is not None
    try:
        validate_criterion(criterion)
    except ModelError as e:
        cell = meta.cells.get("effective_to") if "effective_to" in (e.field or "") else None
        problems.add(META_SHEET, cell, f"基準として正しくありません: {e}", str(e))
    problems.raise_if_any(where)
    return criterion


def _decision_sheets(wb: Any) -> Iterator[Worksheet]:
    """Every sheet but 「基準」 and notes (sheets whose name starts with メモ or #)."""
    for ws in wb.worksheets:
        if ws.title != META_SHEET and not ws.title.startswith(_NOTE_PREFIXES):
            yield ws


def _criterion(meta: _Meta, opts: ImportOptions, sheets: list[_Sheet],
               problems: _Problems) -> Criterion | None:
    v = meta.values
    criterion_id: str | None = None
    effective: dt.date | None = None
    if meta.present:
        criterion_id = opts.criterion_id or v.get("id")
        if not criterion_id and "id" not in meta.bad:
            problems.add(META_SHEET, meta.cells.get("id"),
                         "識別子がありません（「識別子」の行に書くか、"
                         "kijun import --criterion ID で指定）",
                         "no criterion id: fill in 識別子, or give one "
                         "(kijun import --criterion ID)")
        if not v.get("name"):
            problems.add(META_SHEET, meta.cells.get("name"), "名称がありません",
                         "no criterion name (名称)")
        effective = opts.effective_from or v.get("effective_from")
        if effective is None and "effective_from" not in meta.bad:
            problems.add(META_SHEET, meta.cells.get("effective_from"),
                         "施行日がありません（「施行日」の行に書くか、"
                         "kijun import --effective-from で指定）",
                         "no 施行日 (effective_from): fill it in, or give one "
                         "(kijun import --effective-from YYYY-MM-DD)")
    if problems:
        return None
    assert criterion_id and isinstance(effective, dt.date)
    version = Version(
        number=opts.version or v.get("version") or opts.default_version,
        effective_from=effective,
        effective_to=v.get("effective_to"),
        status=opts.status or v.get("status") or VersionStatus.DRAFT,
        note=v.get("note"),
        decisions=tuple(s.table for s in sheets),
    )
    return Criterion(
        id=criterion_id,
        name=v["name"],
        versions=(version,),
        department=opts.department or v.get("department"),
        description=v.get("description"),
        basis=v.get("basis"),
        life_events=v.get("life_events", ()),
    )


class _Reader:
    def __init__(self, problems: _Problems) -> None:
        self.problems = problems

    def add(self, sheet: str | None, cell: str | None, ja: str, en: str) -> None:
        self.problems.add(sheet, cell, ja, en)

    # -- the 基準 sheet -------------------------------------------------------------------------

    def meta(self, wb: Any) -> _Meta:
        meta = _Meta()
        if META_SHEET not in wb.sheetnames:
            self.add(None, None,
                     "シート「基準」がありません（識別子・名称・施行日などを書くシート）",
                     "no sheet named 「基準」 (the criterion's id, name, 施行日 …)")
            return meta
        meta.present = True
        grid = _Grid.of(wb[META_SHEET])
        for row in range(1, grid.max_row + 1):
            label = grid.text(row, 1)
            value = grid.get(row, 2)
            if label is None:
                if value is not None:
                    self.add(META_SHEET, _addr(row, 1), "項目名がありません（A列）",
                             "a value without a label in column A")
                continue
            norm = nfkc(label)
            if norm == "項目":
                continue
            key = _META_LABELS.get(norm) or _META_ALIASES.get(norm.lower())
            if key is None:
                self.add(META_SHEET, _addr(row, 1),
                         f"「{label}」は項目名として使えません（{'・'.join(_META_LABELS)}）",
                         f"unknown label {label!r} (use {', '.join(_META_LABELS)})")
                continue
            cell = _addr(row, 2)
            if key in meta.cells:
                self.add(META_SHEET, _addr(row, 1), f"「{label}」が2回あります",
                         f"{label} appears twice")
                continue
            meta.cells[key] = cell
            if (row, 2) in grid.formulas:
                self.add(META_SHEET, cell, "数式は使えません。値を直接書いてください",
                         "a formula: type the value itself")
                meta.bad.add(key)
                continue
            if value is None:
                continue
            parsed = self._meta_value(key, value, cell, grid.text(row, 2) or "")
            if parsed is None:
                meta.bad.add(key)
            else:
                meta.values[key] = parsed
        return meta

    def _meta_value(self, key: str, value: Any, cell: str, text: str) -> Any:
        if key in ("effective_from", "effective_to"):
            label = "施行日" if key == "effective_from" else "廃止日"
            try:
                if isinstance(value, dt.datetime):
                    return value.date()
                if isinstance(value, dt.date):
                    return value
                return parse_date(str(value))
            except ValueError:
                self.add(META_SHEET, cell,
                         f"{label}が日付として読めません（例: 令和6年4月1日、2024/4/1）",
                         f"{label}: not a date (e.g. 令和6年4月1日, 2024/4/1)")
                return None
        if key == "version":
            number = value if isinstance(value, int) and not isinstance(value, bool) else None
            if isinstance(value, float) and value.is_integer():
                number = int(value)
            if isinstance(value, str) and nfkc(value).isdigit():
                number = int(nfkc(value))
            if number is None or number < 1:
                self.add(META_SHEET, cell, "版は1以上の整数で書いてください",
                         "版 (version) must be a whole number from 1")
                return None
            return number
        if key == "status":
            status = _STATUS_WORDS.get(_key(text))
            if status is None:
                self.add(META_SHEET, cell, "状態は 下書き・公開・廃止 のどれかです",
                         "状態 (status) must be 下書き, 公開 or 廃止 (draft, published, retired)")
            return status
        if key == "life_events":
            try:
                return parse_life_events(re.split(r"[,、\s]+", nfkc(text)))
            except ModelError as e:
                self.add(META_SHEET, cell,
                         "ライフイベントは次から選んで「、」で区切ってください: "
                         f"{'、'.join(LIFE_EVENTS)}",
                         str(e))
                return None
        if key == "id":
            ident = nfkc(text)
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", ident):
                self.add(META_SHEET, cell,
                         "識別子は英小文字・数字・ハイフンで書いてください（例: shussan-iwaikin）",
                         "識別子 (id) must be lower-case ASCII letters, digits and '-'")
                return None
            return ident
        return text

    # -- a decision sheet -----------------------------------------------------------------------

    def sheet(self, grid: _Grid) -> _Sheet | None:
        title = grid.title
        before = len(self.problems.items) + self.problems.more
        header = next(
            (r for r in range(1, grid.max_row + 1) if _key(grid.text(r, 1)) in _HEADER_LABELS),
            None,
        )
        if header is None:
            self.add(title, None,
                     "見出しの行がありません（A列が「規則ID」の行の右に、条件と結果の名前を並べます）",
                     "no header row (a row whose column A says 規則ID, followed by the input "
                     "and output names)")
            return None
        labels = self._label_rows(grid, header)
        policy, aggregation = self._policy(grid, labels)
        name_row = labels.get("name")
        name = (grid.text(name_row, 2) if name_row else None) or title
        description = grid.text(labels["description"], 2) if "description" in labels else None

        rows: dict[str, int] = {}
        r = header + 1
        while r <= grid.max_row:
            key = _COLUMN_ROWS.get(nfkc(grid.text(r, 1) or ""))
            if key is None or key in rows:
                break
            rows[key] = r
            r += 1
        first_rule = r
        for needed, label in (("kind", "区分"), ("type", "型")):
            if needed not in rows:
                self.add(title, _addr(header + 1, 1),
                         f"「{label}」の行がありません（見出しの行のすぐ下に、区分・型・選択肢・既定値・説明の行）",
                         f"no {label} row under the header (区分 = kind, 型 = type)")
        if "kind" not in rows or "type" not in rows:
            return None
        columns = self._columns(grid, header, rows)
        if columns is None:
            return None
        inputs = [c for c in columns if c.kind == _INPUT]
        outputs = [c for c in columns if c.kind == _OUTPUT]
        if not outputs:
            self.add(title, _addr(header, 1),
                     "結果の列がありません（区分が「結果」の列が1つ以上必要です）",
                     "no output column (a column whose 区分 is 結果)")
            return None
        basis_col = next((c.col for c in columns if c.kind == _BASIS), None)
        note_col = next((c.col for c in columns if c.kind == _ANNOTATION), None)
        last_col = max(c.col for c in columns)

        rules: list[Rule] = []
        rule_rows: list[int] = []
        ids: dict[str, int] = {}
        for row in range(first_rule, grid.max_row + 1):
            if all(grid.get(row, c) is None for c in range(1, grid.max_col + 1)):
                continue
            for c in range(last_col + 1, grid.max_col + 1):
                if grid.get(row, c) is not None:
                    self.add(title, _addr(row, c), "見出しのない列に値があります",
                             "a value in a column without a header")
            if any((row, c) in grid.formulas for c in range(1, last_col + 1)):
                for c in range(1, last_col + 1):
                    if (row, c) in grid.formulas:
                        self.add(title, _addr(row, c), "数式は使えません。値を直接書いてください",
                                 "a formula: type the value itself")
                continue
            rule_id = grid.text(row, 1) or f"R{len(rules) + 1}"
            if rule_id in ids:
                self.add(title, _addr(row, 1),
                         f"規則ID「{rule_id}」が重複しています（{_addr(ids[rule_id], 1)} と同じ）",
                         f"rule id {rule_id!r} repeats (also in {_addr(ids[rule_id], 1)})")
            ids.setdefault(rule_id, row)
            when = tuple(self._when(grid, row, c) for c in inputs)
            then = tuple(self._then(grid, row, c) for c in outputs)
            rules.append(Rule(
                id=rule_id,
                when=when,
                then=then,
                basis=grid.text(row, basis_col) if basis_col else None,
                annotation=grid.text(row, note_col) if note_col else None,
            ))
            rule_rows.append(row)
        if not rules:
            self.add(title, _addr(first_rule, 1),
                     f"規則がありません（{first_rule}行目から1行に1つずつ書きます）",
                     f"the sheet has no rules (one per row from row {first_rule})")
        if len(self.problems.items) + self.problems.more > before or policy is None:
            return None
        table = DecisionTable(
            name=name,
            hit_policy=policy,
            aggregation=aggregation,
            description=description,
            inputs=tuple(InputClause(c.name, c.type or ValueType.STRING, c.allowed,
                                     c.description) for c in inputs),
            outputs=tuple(OutputClause(c.name, c.type or ValueType.STRING, c.allowed, c.default,
                                       c.description) for c in outputs),
            rules=tuple(rules),
        )
        sheet = _Sheet(
            title=title, table=table,
            name_cell=_addr(name_row, 2) if name_row else _addr(1, 1),
            policy_cell=_addr(labels.get("hit_policy", 1), 2 if "hit_policy" in labels else 1),
            aggregation_cell=_addr(labels["aggregation"], 2) if "aggregation" in labels
            else _addr(labels.get("hit_policy", 1), 2 if "hit_policy" in labels else 1),
            header_row=header, rule_rows=rule_rows,
            input_cols=[c.col for c in inputs], output_cols=[c.col for c in outputs],
        )
        self._check_table(sheet)
        return sheet

    def _label_rows(self, grid: _Grid, header: int) -> dict[str, int]:
        labels: dict[str, int] = {}
        for row in range(1, header):
            label = grid.text(row, 1)
            if label is None:
                continue  # a note for people
            key = _TABLE_LABELS.get(nfkc(label))
            if key is None:
                self.add(grid.title, _addr(row, 1),
                         f"「{label}」は項目名として使えません（判断名・ヒットポリシー・集計・説明）",
                         f"unknown label {label!r} above the header (use 判断名, ヒットポリシー, "
                         "集計, 説明)")
            elif key in labels:
                self.add(grid.title, _addr(row, 1), f"「{label}」が2回あります",
                         f"{label} appears twice")
            else:
                labels[key] = row
                if (row, 2) in grid.formulas:
                    self.add(grid.title, _addr(row, 2), "数式は使えません。値を直接書いてください",
                             "a formula: type the value itself")
        return labels

    def _policy(self, grid: _Grid,
                labels: dict[str, int]) -> tuple[HitPolicy | None, Aggregation | None]:
        title = grid.title
        policy: HitPolicy | None = HitPolicy.UNIQUE
        aggregation: Aggregation | None = None
        if "hit_policy" in labels:
            row = labels["hit_policy"]
            text = grid.text(row, 2)
            if text is not None:
                found = _parse_policy(text)
                if found is None:
                    names = "・".join(_POLICY_LABELS.values())
                    self.add(title, _addr(row, 2),
                             f"ヒットポリシー「{text}」がわかりません（{names}、または "
                             "UNIQUE・FIRST などの英語名）",
                             f"unknown hit policy {text!r} (use one of "
                             f"{', '.join(p.value for p in HitPolicy)} or 一意, 最初, …)")
                    policy = None
                else:
                    policy, aggregation = found
        if "aggregation" in labels:
            row = labels["aggregation"]
            text = grid.text(row, 2)
            if text is not None:
                agg = _parse_aggregation(text)
                if agg is None:
                    self.add(title, _addr(row, 2),
                             f"集計「{text}」がわかりません（合計・最小・最大・件数）",
                             f"unknown aggregation {text!r} (use 合計 SUM, 最小 MIN, 最大 MAX, "
                             "件数 COUNT)")
                elif aggregation is not None and agg is not aggregation:
                    self.add(title, _addr(row, 2),
                             "集計がヒットポリシーの欄と食い違っています",
                             "the aggregation differs from the one in the hit policy cell")
                else:
                    aggregation = agg
        return policy, aggregation

    def _columns(self, grid: _Grid, header: int, rows: dict[str, int]) -> list[_Column] | None:
        title = grid.title
        columns: list[_Column] = []
        names: dict[tuple[str, str], int] = {}
        ok = True
        for col in range(2, grid.max_col + 1):
            name = grid.text(header, col)
            column_cells = [grid.get(r, col) for r in rows.values()]
            if name is None:
                if any(v is not None for v in column_cells):
                    self.add(title, _addr(header, col), "列の名前（見出し）がありません",
                             "a column without a name in the header row")
                    ok = False
                continue
            kind_text = grid.text(rows["kind"], col)
            kind = _KIND_WORDS.get(_key(kind_text)) if kind_text else None
            if kind is None and kind_text is None:
                kind = _KIND_WORDS.get(_key(name)) if _key(name) in (_BASIS, _ANNOTATION,
                                                                      "注釈", "備考") else None
            if kind is None:
                self.add(title, _addr(rows["kind"], col),
                         f"列「{name}」の区分がわかりません（条件・結果・根拠・注記）",
                         f"column {name!r}: kind (区分) must be 条件 (input), 結果 (output), "
                         "根拠 or 注記")
                ok = False
                continue
            column = _Column(col=col, kind=kind, name=name)
            if kind in (_BASIS, _ANNOTATION):
                if any(c.kind == kind for c in columns):
                    self.add(title, _addr(header, col), f"{kind}の列が2つあります",
                             f"two {_KIND_EN[kind]} columns")
                    ok = False
                columns.append(column)
                continue
            if (kind, name) in names:
                same = _addr(header, names[(kind, name)])
                self.add(title, _addr(header, col),
                         f"{kind}「{name}」が2列あります（{same} と同じ）",
                         f"{_KIND_EN[kind]} {name!r} appears twice (also in {same})")
                ok = False
            names.setdefault((kind, name), col)
            type_text = grid.text(rows["type"], col)
            column.type = _TYPE_WORDS.get(_key(type_text)) if type_text else None
            if column.type is None:
                shown = f"「{type_text}」" if type_text else "空欄"
                self.add(title, _addr(rows["type"], col),
                         f"列「{name}」の型が{shown}です（数値・文字列・真偽値・日付）",
                         f"column {name!r}: type (型) must be 数値, 文字列, 真偽値 or 日付 "
                         "(number, string, boolean, date)")
                ok = False
                continue
            if "allowed" in rows:
                column.allowed = self._allowed(grid, rows["allowed"], column)
            if "default" in rows and grid.get(rows["default"], col) is not None:
                if kind == _INPUT:
                    self.add(title, _addr(rows["default"], col),
                             "既定値は結果の列にだけ書けます", "only outputs have a default")
                    ok = False
                else:
                    column.default = self._value(grid, rows["default"], column,
                                                 what_ja="既定値", what_en="default")
            if "description" in rows:
                column.description = grid.text(rows["description"], col)
            columns.append(column)
        if not ok:
            return None
        return columns

    def _allowed(self, grid: _Grid, row: int, column: _Column) -> tuple[Any, ...] | None:
        value = grid.get(row, column.col)
        if value is None:
            return None
        assert column.type is not None
        items: list[Any]
        if isinstance(value, str):
            text = nfkc(value)
            if column.type is ValueType.NUMBER:
                text = _plain_numbers(text)
            items = _split_list(text)
        else:
            items = [value]
        co = coercer(InputClause(column.name, column.type))
        out = []
        for item in items:
            try:
                out.append(co(_excel_number(item) if isinstance(item, float) else
                              None if item == "null" else item))
            except FactError:
                self.add(grid.title, _addr(row, column.col),
                         f"選択肢「{item}」が{_TYPE_LABELS[column.type]}ではありません"
                         f"（{_TYPE_EXAMPLES_JA[column.type]}を「, 」で区切って書きます）",
                         f"allowed value {item!r} is not {_TYPE_EXAMPLES_EN[column.type]} "
                         "(separate the values with ', ')")
                return None
        return tuple(out)

    def _when(self, grid: _Grid, row: int, column: _Column) -> str:
        assert column.type is not None
        value = grid.get(row, column.col)
        cell = _addr(row, column.col)
        try:
            text = input_cell_feel(value, column.type)
        except ValueError as e:
            self.add(grid.title, cell,
                     f"条件「{column.name}」（{_TYPE_LABELS[column.type]}）として読めません: {e}",
                     f"input {column.name!r} ({column.type.value}): {e}")
            return "-"
        try:
            test = compile_unary_tests(text, column.type)
        except CriteriaError as e:
            self.add(grid.title, cell,
                     f"条件「{column.name}」の式が正しくありません（{text}）: {e}",
                     f"input {column.name!r}: invalid test {text!r}: {e}")
            return text
        if test.names:  # a rule reads only its own input: a name is a typo, never a value
            words = "、".join(sorted(test.names))
            hint_ja = {ValueType.BOOLEAN: "はい・いいえで書きます",
                       ValueType.NUMBER: "数値か >= 12 のような式で書きます",
                       ValueType.DATE: "令和6年4月1日 や >= 2024/4/1 のように書きます",
                       ValueType.STRING: '文字は "…" で囲みます'}[column.type]
            self.add(grid.title, cell,
                     f"条件「{column.name}」の「{words}」が読めません（{hint_ja}）",
                     f"input {column.name!r}: {text!r} names {words}, which is not a value "
                     f"(expected {_TYPE_EXAMPLES_EN[column.type]} or a test)")
        return text

    def _then(self, grid: _Grid, row: int, column: _Column) -> Any:
        if grid.get(row, column.col) is None:
            if column.default is NO_DEFAULT:
                self.add(grid.title, _addr(row, column.col),
                         f"結果「{column.name}」が空欄です（既定値もありません）",
                         f"output {column.name!r} is empty and has no default")
                return None
            return column.default
        return self._value(grid, row, column, what_ja=f"結果「{column.name}」",
                           what_en=f"output {column.name!r}")

    def _value(self, grid: _Grid, row: int, column: _Column, *, what_ja: str,
               what_en: str) -> Any:
        assert column.type is not None
        value = grid.get(row, column.col)
        cell = _addr(row, column.col)
        if isinstance(value, str) and nfkc(value) in _NULL_WORDS:
            return None
        if isinstance(value, float | int) and not isinstance(value, bool):
            value = _excel_number(value)
            if column.type is ValueType.STRING:
                value = format(value, "f") if isinstance(value, Decimal) else str(value)
        elif isinstance(value, dt.datetime) and column.type is ValueType.STRING:
            value = value.date().isoformat()
        try:
            typed = coercer(OutputClause(column.name, column.type))(value)
        except FactError:
            self.add(grid.title, cell,
                     f"{what_ja}は{_TYPE_LABELS[column.type]}の列です"
                     f"（{_TYPE_EXAMPLES_JA[column.type]}を書きます）",
                     f"{what_en} is a {column.type.value} column: expected "
                     f"{_TYPE_EXAMPLES_EN[column.type]}")
            return None
        if column.allowed is not None and typed is not None and typed not in column.allowed:
            shown = _allowed_text(column.allowed)
            self.add(grid.title, cell,
                     f"{what_ja}の値が選択肢にありません（選択肢: {shown}）",
                     f"{what_en}: not one of the allowed values ({shown})")
            return None
        return typed

    def _check_table(self, sheet: _Sheet) -> None:
        """The model's own checks (PRIORITY needs allowed values, …), at the cell concerned."""
        table = sheet.table
        probe = Criterion(id="probe", name="probe",
                          versions=(Version(1, dt.date(2000, 1, 1), (table,)),))
        try:
            validate_criterion(probe)
            compile_table(table)
        except ModelError as e:
            reason = str(e).split(": ", 1)[-1]
            self.add(sheet.title, self._model_cell(sheet, e.field),
                     f"判断表として正しくありません: {reason}", reason)

    @staticmethod
    def _model_cell(sheet: _Sheet, field_path: str | None) -> str | None:
        f = field_path or ""
        if f == "aggregation":
            return sheet.aggregation_cell
        if f == "outputs":
            return sheet.policy_cell
        m = re.match(r"rules\[([^\]]+)\](?:\.(when|then)\.(.+))?", f)
        if m:
            key = m.group(1)
            index = int(key) if key.isdigit() and int(key) < len(sheet.rule_rows) else next(
                (i for i, r in enumerate(sheet.table.rules) if r.id == key), None)
            if index is None:
                return None
            row = sheet.rule_rows[index]
            if m.group(2) == "when":
                names = [i.name for i in sheet.table.inputs]
                cols = sheet.input_cols
            elif m.group(2) == "then":
                names = [o.name for o in sheet.table.outputs]
                cols = sheet.output_cols
            else:
                return _addr(row, 1)
            if m.group(3) in names:
                return _addr(row, cols[names.index(m.group(3))])
            return _addr(row, 1)
        return None


def _split_list(text: str) -> list[str]:
    """Comma- (or 、-) separated values; "double quotes" keep a comma inside a value."""
    items: list[str] = []
    for m in re.finditer(r'\s*("(?:[^"\\]|\\.)*"|[^,、\n"]*)\s*(?:[,、\n]|$)', text):
        token = m.group(1)
        if m.group(0) == "" and m.end() == len(text):
            break
        if token.startswith('"') and token.endswith('"') and len(token) >= 2:
            items.append(re.sub(r'\\(.)', r"\1", token[1:-1]))
        elif token.strip():
            items.append(token.strip())
    return items


def _parse_policy(text: str) -> tuple[HitPolicy, Aggregation | None] | None:
    key = _key(text).replace("RULE ORDER", "RULE_ORDER").replace("OUTPUT ORDER", "OUTPUT_ORDER")
    tokens = [t for t in re.split(r"[\s・/()（）「」]+", key) if t]
    policy: HitPolicy | None = None
    aggregation: Aggregation | None = None
    for token in tokens:
        if len(token) == 2 and token[0] == "C" and token[1] in "+<>#":
            if policy not in (None, HitPolicy.COLLECT):
                return None
            policy, aggregation = HitPolicy.COLLECT, _AGGREGATION_WORDS[token]
        elif token in _POLICY_WORDS:
            found = _POLICY_WORDS[token]
            if policy is not None and policy is not found:
                return None
            policy = found
        elif token in _AGGREGATION_WORDS:
            agg = _AGGREGATION_WORDS[token]
            if aggregation is not None and aggregation is not agg:
                return None
            aggregation = agg
        else:
            return None
    if policy is None:
        return None
    if aggregation is not None and policy is not HitPolicy.COLLECT:
        return None
    return policy, aggregation


def _parse_aggregation(text: str) -> Aggregation | None:
    tokens = [t for t in re.split(r"[\s・/()（）「」]+", _key(text)) if t]
    found = {_AGGREGATION_WORDS.get(t) for t in tokens}
    if len(found) != 1 or None in found:
        return None
    return found.pop()

