"""Excel interchange (docs/excel.md): export → import round trips, a clerk's workbook, errors.

Every Nagi-cho version goes out as .xlsx and comes back identical; a workbook
built here the way a clerk would fill it in (和暦, はい/いいえ, 100,000円, 最初)
reads as the expected criterion; a bad workbook names every bad cell, in
Japanese and English, and `kijun import` then stores nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from kijun.cli import app
from kijun.criteria import serial
from kijun.criteria.decide import decide
from kijun.criteria.formats.dmn_import import DmnImportOptions
from kijun.criteria.formats.excel import (
    MAX_PROBLEMS,
    ExcelError,
    ExcelImportOptions,
    criterion_from_workbook,
    input_cell_feel,
    read_metadata,
    version_to_workbook,
)
from kijun.criteria.formats.yaml import load_file, load_path, loads
from kijun.criteria.formats.yaml_export import criterion_to_yaml
from kijun.criteria.model import (
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
)
from kijun.criteria.testing import run_tests

from .conftest import Samples
from .test_cli_store import kijun

ROOT = Path(__file__).resolve().parent.parent
NAGI = ROOT / "content" / "nagi"
CRITERIA = load_path(NAGI)
VERSIONS = [(c, v) for c in CRITERIA for v in c.versions]
IDS = [f"{c.id}-v{v.number}" for c, v in VERSIONS]
runner = CliRunner()


def _same(a: Criterion, b: Criterion) -> None:
    assert (b.id, b.name, b.department, b.basis, b.description, b.life_events) == (
        a.id, a.name, a.department, a.basis, a.description, a.life_events
    )
    assert [serial.version_to_dict(v) for v in b.versions] == [
        serial.version_to_dict(v) for v in a.versions
    ]


# -- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("criterion", "version"), VERSIONS, ids=IDS)
def test_export_then_import_keeps_the_version(criterion: Criterion, version: Version) -> None:
    back = criterion_from_workbook(version_to_workbook(criterion, version))
    _same(replace(criterion, versions=(version,)), back)


@pytest.mark.parametrize("criterion", CRITERIA, ids=[c.id for c in CRITERIA])
def test_reimported_criterion_passes_its_tests(criterion: Criterion) -> None:
    versions = tuple(
        criterion_from_workbook(version_to_workbook(criterion, v)).versions[0]
        for v in criterion.versions
    )
    report = run_tests(replace(criterion, versions=versions))
    assert report.failed == 0, [c.message for c in report.cases if not c.passed]
    assert report.passed == len(criterion.tests)


def _exotic() -> Criterion:
    """Values a float would lose, dates before Excel's calendar, text Excel would misread."""
    collect = DecisionTable(
        name="加算額/合計：第3条に基づく、とても長い名前の決定表（その二）",
        hit_policy=HitPolicy.COLLECT,
        aggregation=Aggregation.SUM,
        description="1行目\n2行目",
        inputs=(
            InputClause("区分", ValueType.STRING, allowed=("A,B", "C", '"引用"')),
            InputClause("基準日", ValueType.DATE, description="判断の基準日"),
        ),
        outputs=(OutputClause("加算額", ValueType.NUMBER, default=Decimal("1.50")),),
        rules=(
            Rule("K1", ('"A,B"', '[date("1868-01-25")..date("2024-03-31")]'),
                 (Decimal("0.1"),), basis="第3条"),
            Rule("K2", ('"C"', "-"), (Decimal("12345678901234567.25"),)),
            Rule("K3", ("-", 'date("1899-12-31")'), (10**16,)),
            Rule("K4", ('not("C")', '>= date("2025-04-01")'), (Decimal("1.50"),),
                 annotation="=注記は式ではない"),
        ),
    )
    flags = DecisionTable(
        name="判定",
        hit_policy=HitPolicy.PRIORITY,
        inputs=(InputClause("加算額", ValueType.NUMBER, allowed=(Decimal("0.5"), 1, 2)),),
        outputs=(
            OutputClause("結果", ValueType.STRING, allowed=("要", "不要")),
            OutputClause("確認", ValueType.BOOLEAN, default=False),
            OutputClause("期限", ValueType.DATE, default=None),
            OutputClause("式", ValueType.STRING),
        ),
        rules=(
            Rule("P1", ("> 1",), ("要", True, dt.date(2025, 3, 31), "= 5")),
            Rule("P2", ("-",), ("不要", False, None, "100,000")),
        ),
    )
    version = Version(
        number=7, effective_from=dt.date(2025, 4, 1), effective_to=dt.date(2030, 4, 1),
        status=VersionStatus.DRAFT, note="備考\n二行", decisions=(collect, flags),
    )
    return Criterion(id="exotic-1", name="色々な値", versions=(version,), basis="規則")


def test_values_round_trip_exactly() -> None:
    c = _exotic()
    back = criterion_from_workbook(version_to_workbook(c, c.versions[0]))
    _same(c, back)
    then = [r.then for r in back.versions[0].decisions[0].rules]
    assert then[0] == (Decimal("0.1"),) and isinstance(then[0][0], Decimal)
    assert str(then[3][0]) == "1.50" and then[2] == (10**16,) and type(then[2][0]) is int
    flags = back.versions[0].decisions[1]
    assert flags.rules[0].then == ("要", True, dt.date(2025, 3, 31), "= 5")
    assert flags.outputs[2].default is None and flags.outputs[1].default is False


def test_sample_with_decimals_dates_and_null_round_trips(samples: type[Samples]) -> None:
    c = samples.criterion(samples.version(1, "2004-04-01", effective_to="2030-01-01"))
    _same(c, criterion_from_workbook(version_to_workbook(c, c.versions[0])))


def test_awkward_decision_names_keep_their_sheets(samples: type[Samples]) -> None:
    c = samples.criterion()
    table = c.versions[0].decisions[0]
    names = ["基準", "メモ", "#1", "history", "[支給]?", "x" * 40, "x" * 40 + "y"]
    tables = tuple(replace(table, name=n) for n in names)
    c = replace(c, versions=(replace(c.versions[0], decisions=tables),))
    data = version_to_workbook(c, c.versions[0])
    titles = load_workbook(io.BytesIO(data)).sheetnames
    assert len(set(t.casefold() for t in titles)) == len(names) + 1
    assert all(len(t) <= 31 and not t.startswith(("メモ", "#")) for t in titles[1:])
    back = criterion_from_workbook(data)
    assert [d.name for d in back.versions[0].decisions] == names
    _same(c, back)


def test_the_layout_a_clerk_sees() -> None:
    c = _exotic()
    wb = load_workbook(io.BytesIO(version_to_workbook(c, c.versions[0])))
    assert wb.sheetnames[0] == "基準" and len(wb.sheetnames) == 3
    meta = wb["基準"]
    labels = [meta.cell(r, 1).value for r in range(2, 12)]
    assert labels == ["識別子", "名称", "担当課", "根拠", "説明", "版", "施行日", "廃止日", "状態",
                      "備考"]
    assert meta["B8"].value == dt.datetime(2025, 4, 1) and meta["B10"].value == "下書き"
    title = wb.sheetnames[1]
    assert len(title) <= 31 and not set(title) & set(":\\/?*[]")
    ws = wb[title]
    assert ws["B1"].value == c.versions[0].decisions[0].name
    assert ws["B2"].value == "収集 (COLLECT)" and ws["B3"].value == "合計 (SUM)"
    assert [ws.cell(6, k).value for k in range(1, 6)] == ["規則ID", "区分", "基準日", "加算額",
                                                          "根拠"]
    assert [ws.cell(7, k).value for k in range(2, 6)] == ["条件", "条件", "結果", "根拠"]
    assert [ws.cell(8, k).value for k in range(2, 5)] == ["文字列", "日付", "数値"]
    assert ws["B9"].value == '"A,B", C, "\\"引用\\""'
    assert ws["D10"].value == "1.50"  # a float would say 1.5
    assert ws.freeze_panes == "B12"
    assert ws["A6"].font.b and ws["B6"].fill.fgColor.rgb != ws["D6"].fill.fgColor.rgb
    assert ws.column_dimensions["B"].width >= 6
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert "収集 (COLLECT)" in lists["B2"] and "一意 (UNIQUE)" in lists["B2"]
    assert lists["B3"] == '"合計 (SUM),最小 (MIN),最大 (MAX),件数 (COUNT)"'
    # a dropdown on the enumerated input (values with commas cannot be listed: none then)
    flags = wb["判定"]
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in flags.data_validations.dataValidation}
    assert lists["B12"] == '"0.5,1,2,-"' and lists["C12"] == '"要,不要"'
    assert lists["D12"] == '"はい,いいえ"'
    assert flags["C12"].value == "要" and flags["D12"].value == "はい"
    assert flags["F12"].value == "= 5" and flags["F12"].data_type == "s"  # text, not a formula
    # no macros
    with zipfile.ZipFile(io.BytesIO(version_to_workbook(c, c.versions[0]))) as z:
        assert not any("vba" in n.lower() for n in z.namelist())


def test_friendly_cells_for_the_clerk(samples: type[Samples]) -> None:
    c = samples.criterion()
    ws = load_workbook(io.BytesIO(version_to_workbook(c, c.versions[0])))["支給判定"]
    row = [ws.cell(12, k).value for k in range(1, 10)]
    assert row == ["R1", "はい", "< 18", ">= 2024-10-01", "支給", 100000.5,
                   dt.datetime(2024, 10, 1), "第3条・第4条", None]
    assert [ws.cell(13, k).value for k in (2, 3, 7)] == ["いいえ", "-", "null"]


# -- a workbook filled in by a clerk ------------------------------------------------------------


def _clerk_workbook() -> Workbook:
    wb = Workbook()
    meta = wb.active
    assert meta is not None
    meta.title = "基準"
    for row in [("項目", "内容"), ("識別子", "kosodate-shien"), ("名称", "子育て支援金"),
                ("担当課", "こども課"), ("根拠", "子育て支援金支給要綱"),
                ("施行日", "令和7年4月1日"), ("状態", "公開")]:
        meta.append(row)
    ws = wb.create_sheet("支給判定")
    for row in [
        ("判断名", "支給判定"),
        ("ヒットポリシー", "最初"),
        (None, "上から順に見て、最初に当てはまった規則で決めます"),
        ("規則ID", "定住", "所得", "申請日", "世帯", "判定", "支給額", "根拠", "注記"),
        ("区分", "条件", "条件", "条件", "条件", "結果", "結果", "根拠", "注記"),
        ("型", "真偽値", "数値", "日付", "文字列", "文字列", "数値"),
        ("選択肢", None, None, None, "単身、夫婦, ひとり親", "支給, 不支給"),
        ("既定値", None, None, None, None, None, "0円"),
        ("R1", "はい", "< 1,000,000", ">= 令和7年4月1日", "ひとり親", "支給", "100,000円",
         "要綱第3条", "所得制限内のひとり親"),
        ("R2", "はい", "[1,000,000..2,000,000)", "-", "夫婦", "支給", 50000, "要綱第3条"),
        (),
        ("R3", "いいえ", None, None, None, "不支給", None, "要綱第2条", "定住していない"),
        (None, None, None, "< R7.4.1", None, "不支給", 0, "附則"),
        ("その他", None, None, None, None, "不支給", None, "要綱第3条", "所得制限を超える"),
    ]:
        ws.append(row)
    return wb


def _bytes(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_a_clerks_workbook_reads_as_the_criterion_meant() -> None:
    got = criterion_from_workbook(_bytes(_clerk_workbook()))
    table = DecisionTable(
        name="支給判定",
        hit_policy=HitPolicy.FIRST,
        inputs=(
            InputClause("定住", ValueType.BOOLEAN),
            InputClause("所得", ValueType.NUMBER),
            InputClause("申請日", ValueType.DATE),
            InputClause("世帯", ValueType.STRING, allowed=("単身", "夫婦", "ひとり親")),
        ),
        outputs=(
            OutputClause("判定", ValueType.STRING, allowed=("支給", "不支給")),
            OutputClause("支給額", ValueType.NUMBER, default=0),
        ),
        rules=(
            Rule("R1", ("true", "< 1000000", '>= date("2025-04-01")', '"ひとり親"'),
                 ("支給", 100000), basis="要綱第3条", annotation="所得制限内のひとり親"),
            Rule("R2", ("true", "[1000000..2000000)", "-", '"夫婦"'), ("支給", 50000),
                 basis="要綱第3条"),
            Rule("R3", ("false", "-", "-", "-"), ("不支給", 0), basis="要綱第2条",
                 annotation="定住していない"),
            Rule("R4", ("-", "-", '< date("2025-04-01")', "-"), ("不支給", 0), basis="附則"),
            Rule("その他", ("-", "-", "-", "-"), ("不支給", 0), basis="要綱第3条",
                 annotation="所得制限を超える"),
        ),
    )
    expected = Criterion(
        id="kosodate-shien", name="子育て支援金", department="こども課",
        basis="子育て支援金支給要綱",
        versions=(Version(1, dt.date(2025, 4, 1), (table,), status=VersionStatus.PUBLISHED),),
    )
    _same(expected, got)
    result = decide(got, {"定住": "はい", "所得": "900,000円", "申請日": "令和7年5月1日",
                          "世帯": "ひとり親"}, "2025-05-01")
    assert result.outputs == {"判定": "支給", "支給額": 100000}
    assert [m.rule for m in result.matched] == ["R1"]


def test_options_win_over_the_workbook() -> None:
    data = _bytes(_clerk_workbook())
    got = criterion_from_workbook(data, ExcelImportOptions(
        criterion_id="other", version=3, effective_from=dt.date(2026, 4, 1),
        status=VersionStatus.DRAFT, department="福祉課"))
    v = got.versions[0]
    assert (got.id, v.number, v.effective_from, v.status, got.department) == (
        "other", 3, dt.date(2026, 4, 1), VersionStatus.DRAFT, "福祉課")
    # DMN's options have the same shape and work too
    got = criterion_from_workbook(data, DmnImportOptions(default_version=5))
    assert got.versions[0].number == 5
    assert read_metadata(data)["effective_from"] == "令和7年4月1日"


def test_without_id_or_date_the_caller_must_say() -> None:
    wb = _clerk_workbook()
    meta = wb["基準"]
    meta.delete_rows(2)  # 識別子
    meta.delete_rows(5)  # 施行日
    with pytest.raises(ExcelError) as e:
        criterion_from_workbook(_bytes(wb))
    assert len(e.value.problems) == 2
    assert "--criterion" in str(e.value) and "--effective-from" in str(e.value)
    got = criterion_from_workbook(_bytes(wb), ExcelImportOptions(
        criterion_id="k", effective_from=dt.date(2025, 4, 1)))
    assert got.id == "k" and got.versions[0].status is VersionStatus.PUBLISHED


@pytest.mark.parametrize(("cell", "type_", "feel"), [
    ("はい", ValueType.BOOLEAN, "true"),
    ("なし", ValueType.BOOLEAN, "false"),
    (None, ValueType.NUMBER, "-"),
    ("  ", ValueType.STRING, "-"),
    ("１２", ValueType.NUMBER, "12"),
    ("100,000円", ValueType.NUMBER, "100000"),
    (">= 100,000円", ValueType.NUMBER, ">= 100000"),
    ("1, 2, 3", ValueType.NUMBER, "1, 2, 3"),
    (12.5, ValueType.NUMBER, "12.5"),
    (3.0, ValueType.NUMBER, "3"),
    (123, ValueType.STRING, '"123"'),
    ("令和6年4月1日", ValueType.DATE, 'date("2024-04-01")'),
    (dt.datetime(2024, 4, 1), ValueType.DATE, 'date("2024-04-01")'),
    ("[R6.4.1..2025/3/31]", ValueType.DATE, '[date("2024-04-01")..date("2025-03-31")]'),
    ('not("2024/4/1")', ValueType.STRING, 'not("2024/4/1")'),
    ("転入", ValueType.STRING, '"転入"'),
    ('"持家", "借家"', ValueType.STRING, '"持家", "借家"'),
])
def test_input_cells_become_feel(cell: Any, type_: ValueType, feel: str) -> None:
    assert input_cell_feel(cell, type_) == feel


# -- bad workbooks -------------------------------------------------------------------------------


def _sample_bytes(samples: type[Samples]) -> bytes:
    c = samples.criterion()
    return version_to_workbook(c, c.versions[0])


def _edit(data: bytes, change: Callable[[Worksheet], None], sheet: str = "支給判定") -> bytes:
    wb = load_workbook(io.BytesIO(data))
    change(wb[sheet])
    return _bytes(wb)


def _problems(data: bytes) -> ExcelError:
    with pytest.raises(ExcelError) as e:
        criterion_from_workbook(data, file="bad.xlsx")
    return e.value


def _set(**cells: Any) -> Callable[[Worksheet], None]:
    def change(ws: Worksheet) -> None:
        for address, value in cells.items():
            ws[address] = value
    return change


def test_bad_feel_names_the_cell(samples: type[Samples]) -> None:
    e = _problems(_edit(_sample_bytes(samples), _set(C12=">= [1")))
    assert [(p.sheet, p.cell) for p in e.problems] == [("支給判定", "C12")]
    assert str(e).startswith("bad.xlsx: sheet 支給判定, cell C12: input '年齢': invalid test")
    assert e.message_ja.startswith("bad.xlsx: シート「支給判定」のセルC12: 条件「年齢」の式が正しくありません")
    assert (e.sheet, e.cell, e.file) == ("支給判定", "C12", "bad.xlsx")


def test_wrong_types_in_output_cells_are_all_reported(samples: type[Samples]) -> None:
    e = _problems(_edit(_sample_bytes(samples), _set(F13="たくさん", G12="いつか", E14="保留",
                                                     B14="たぶん")))
    found = {p.cell: p for p in e.problems}
    assert set(found) == {"F13", "G12", "E14", "B14"}
    assert "number column" in found["F13"].message_en
    assert "数値の列" in found["F13"].message_ja
    assert "日付の列" in found["G12"].message_ja
    assert "選択肢にありません" in found["E14"].message_ja and "支給, 不支給" in found["E14"].message_ja
    assert "4 problems:" in str(e) and "4件の問題があります" in e.message_ja


def test_unknown_hit_policy(samples: type[Samples]) -> None:
    e = _problems(_edit(_sample_bytes(samples), _set(B2="ぜんぶ")))
    assert [p.cell for p in e.problems] == ["B2"]
    assert "unknown hit policy 'ぜんぶ'" in str(e) and "ヒットポリシー「ぜんぶ」" in e.message_ja


@pytest.mark.parametrize(("label", "policy", "aggregation"), [
    ("一意", HitPolicy.UNIQUE, None), ("FIRST", HitPolicy.FIRST, None), ("u", HitPolicy.UNIQUE, None),
    ("規則順 (RULE ORDER)", HitPolicy.RULE_ORDER, None), ("rule order", HitPolicy.RULE_ORDER, None),
    ("収集 合計", HitPolicy.COLLECT, Aggregation.SUM), ("C#", HitPolicy.COLLECT, Aggregation.COUNT),
    ("COLLECT MAX", HitPolicy.COLLECT, Aggregation.MAX), ("任意", HitPolicy.ANY, None),
])
def test_hit_policy_labels(samples: type[Samples], label: str, policy: HitPolicy,
                           aggregation: Aggregation | None) -> None:
    c = samples.criterion()
    table = c.versions[0].decisions[0]
    single = replace(table, outputs=(table.outputs[1],), rules=tuple(
        replace(r, then=(r.then[1],)) for r in table.rules))
    c = replace(c, versions=(replace(c.versions[0], decisions=(single,)),))
    got = criterion_from_workbook(_edit(version_to_workbook(c, c.versions[0]), _set(B2=label)))
    d = got.versions[0].decisions[0]
    assert (d.hit_policy, d.aggregation) == (policy, aggregation)


def test_missing_header_row(samples: type[Samples]) -> None:
    e = _problems(_edit(_sample_bytes(samples), _set(A6="番号")))
    assert [(p.sheet, p.cell) for p in e.problems] == [("支給判定", None)]
    assert "no header row" in str(e) and "規則ID" in e.message_ja


def test_missing_type_row(samples: type[Samples]) -> None:
    e = _problems(_edit(_sample_bytes(samples), lambda ws: ws.delete_rows(8)))
    assert [p.cell for p in e.problems] == ["A7"]
    assert "「型」の行がありません" in e.message_ja


def test_missing_type_and_kind_cells(samples: type[Samples]) -> None:
    e = _problems(_edit(_sample_bytes(samples), _set(C8=None, E7="入出力")))
    assert {p.cell for p in e.problems} == {"C8", "E7"}


def test_duplicate_rule_id(samples: type[Samples]) -> None:
    e = _problems(_edit(_sample_bytes(samples), _set(A14="R1")))
    assert [p.cell for p in e.problems] == ["A14"]
    assert "rule id 'R1' repeats (also in A12)" in str(e)
    assert "規則ID「R1」が重複しています（A12 と同じ）" in e.message_ja


def test_sheet_without_rules(samples: type[Samples]) -> None:
    e = _problems(_edit(_sample_bytes(samples), lambda ws: ws.delete_rows(12, 3)))
    assert [(p.sheet, p.cell) for p in e.problems] == [("支給判定", "A12")]
    assert "規則がありません" in e.message_ja and "no rules" in str(e)


def test_problems_on_several_sheets_and_the_metadata(samples: type[Samples]) -> None:
    data = _edit(_sample_bytes(samples), _set(B8="来年度", B7="一", A12="施工日"), sheet="基準")
    data = _edit(data, _set(J12="はみ出し", C13="=1+1"))
    e = _problems(data)
    where = {(p.sheet, p.cell) for p in e.problems}
    assert where == {("基準", "B8"), ("基準", "B7"), ("基準", "A12"), ("支給判定", "J12"),
                     ("支給判定", "C13")}
    text = e.message_ja
    assert "施行日が日付として読めません" in text and "版は1以上の整数" in text
    assert "「施工日」は項目名として使えません" in text and "数式は使えません" in text
    assert "見出しのない列に値があります" in text


def test_at_most_fifty_problems_are_listed(samples: type[Samples]) -> None:
    def many(ws: Worksheet) -> None:
        for row in range(12, 12 + 60):
            ws.cell(row, 1, f"X{row}")
            ws.cell(row, 3, ">= [")
            ws.cell(row, 5, "支給")
    e = _problems(_edit(_sample_bytes(samples), many))
    assert len(e.problems) == MAX_PROBLEMS and e.more == 60 - MAX_PROBLEMS
    assert "60 problems" in str(e) and f"ほか{60 - MAX_PROBLEMS}件" in e.message_ja


def test_duplicate_decision_names_and_priority_without_allowed(samples: type[Samples]) -> None:
    wb = load_workbook(io.BytesIO(_sample_bytes(samples)))
    copy = wb.copy_worksheet(wb["支給判定"])
    copy["B2"] = "優先"
    copy["E9"] = None
    e = _problems(_bytes(wb))
    cells = {(p.sheet, p.cell): p for p in e.problems}
    assert (copy.title, "B1") in cells and "重複しています" in cells[(copy.title, "B1")].message_ja
    assert (copy.title, "B2") in cells and "PRIORITY" in cells[(copy.title, "B2")].message_en


def test_not_a_workbook_and_macros() -> None:
    e = _problems(b"id: not-a-workbook\n")
    assert e.problems[0].sheet is None and "not an Excel workbook" in str(e)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z, zipfile.ZipFile(
            io.BytesIO(_bytes(_clerk_workbook()))) as good:
        for name in good.namelist():
            z.writestr(name, good.read(name))
        z.writestr("xl/vbaProject.bin", b"\0")
    e = _problems(buffer.getvalue())
    assert "macros" in str(e) and "マクロ" in e.message_ja


def test_no_metadata_sheet_and_no_decision_sheet() -> None:
    wb = _clerk_workbook()
    wb["基準"].title = "概要"
    e = _problems(_bytes(wb))
    assert "「基準」" in e.message_ja and len(e.problems) == 2  # 概要 is read as a decision
    wb = _clerk_workbook()
    del wb["支給判定"]
    e = _problems(_bytes(wb))
    assert "no decision sheet" in str(e)


def test_notes_sheets_are_skipped() -> None:
    wb = _clerk_workbook()
    wb.create_sheet("メモ").append(["何を書いてもよい"])
    assert criterion_from_workbook(_bytes(wb)).versions[0].decisions[0].name == "支給判定"


# -- YAML export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("criterion", [*CRITERIA, Samples.criterion(), _exotic()],
                         ids=[*(c.id for c in CRITERIA), "samples", "exotic"])
def test_yaml_export_loads_back(criterion: Criterion) -> None:
    back = loads(criterion_to_yaml(criterion))
    assert serial.criterion_to_dict(back) == serial.criterion_to_dict(criterion)


# -- the command line ----------------------------------------------------------------------------


def _invoke(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    return r.exit_code, r.stdout, r.stderr


def test_export_formats(tmp_path: Path) -> None:
    source = str(NAGI / "jidou-teate.yaml")
    code, _, _ = _invoke("export", source, "-v", "3", "-o", str(tmp_path / "j.xlsx"))
    assert code == 0
    data = (tmp_path / "j.xlsx").read_bytes()
    assert data[:2] == b"PK"
    c = load_file(source)
    _same(replace(c, versions=(c.version(3),)), criterion_from_workbook(data))
    # from the workbook to YAML, to DMN
    code, out, _ = _invoke("export", str(tmp_path / "j.xlsx"), "--format", "yaml")
    assert code == 0
    _same(replace(c, versions=(c.version(3),)), loads(out))
    code, out, _ = _invoke("export", str(tmp_path / "j.xlsx"))
    assert code == 0 and out.startswith("<?xml")
    # --format yaml with --version keeps the test cases decided under that version
    code, _, _ = _invoke("export", source, "--version", "4", "-o", str(tmp_path / "v4.yaml"))
    assert code == 0
    v4 = load_file(tmp_path / "v4.yaml")
    assert [v.number for v in v4.versions] == [4] and v4.tests
    assert run_tests(v4).failed == 0
    code, out, _ = _invoke("export", source, "--format", "yaml")
    assert serial.criterion_to_dict(loads(out)) == serial.criterion_to_dict(c)
    code, _, err = _invoke("export", source, "--format", "xlsx")
    assert code == 1 and "-o FILE.xlsx" in err
    code, _, err = _invoke("export", source, "--format", "pdf")
    assert code == 1 and "--format must be" in err


def test_decide_and_check_on_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "shussan.xlsx"
    c = load_file(NAGI / "shussan-iwaikin.yaml")
    path.write_bytes(version_to_workbook(c, c.versions[0]))
    facts = json.dumps({"住民登録": True, "持家取得": False, "居住月数": 12, "定住意思": True,
                        "出生届": True, "滞納あり": False}, ensure_ascii=False)
    code, out, _ = _invoke("decide", str(path), "-i", facts, "--on", "2025-01-01", "--json")
    assert code == 0
    got = json.loads(out)
    code, yaml_out, _ = _invoke("decide", str(NAGI / "shussan-iwaikin.yaml"), "-i", facts,
                                "--on", "2025-01-01", "--json")
    same = json.loads(yaml_out)
    assert got["outputs"] == same["outputs"] == {"判定": "支給", "支給額": 100000}
    assert got["matched"] == same["matched"]
    code, out, _ = _invoke("check", str(path), "--json")
    code_yaml, out_yaml, _ = _invoke("check", str(NAGI / "shussan-iwaikin.yaml"), "--json")
    assert code == code_yaml and json.loads(out)["findings"] == json.loads(out_yaml)["findings"]
    # a clerk's workbook without 識別子 or 施行日 still decides
    wb = _clerk_workbook()
    wb["基準"].delete_rows(2)
    (tmp_path / "clerk.xlsx").write_bytes(_bytes(wb))
    code, out, _ = _invoke("decide", str(tmp_path / "clerk.xlsx"), "-i",
                           '{"定住": "いいえ", "所得": 0, "申請日": "2026-01-05", "世帯": "単身"}',
                           "--json")
    assert code == 0 and json.loads(out)["outputs"] == {"判定": "不支給", "支給額": 0}
    # a bad one says where, in both languages
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_edit(path.read_bytes(), _set(C14="< [")))
    code, out, _ = _invoke("decide", str(bad), "-i", facts, "--json")
    message = json.loads(out)["error"]["message"]
    assert code == 1 and "cell C14" in message and "セルC14" in message


def _rows(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("criteria", "criterion_versions", "audit_log")
            }
    finally:
        engine.dispose()


@pytest.fixture
def migrated(database_url: str) -> str:
    assert kijun(database_url, "db", "upgrade")[0] == 0
    return database_url


def test_import_a_workbook_into_the_store(migrated: str, tmp_path: Path) -> None:
    c = load_file(NAGI / "shussan-iwaikin.yaml")
    path = tmp_path / "shussan.xlsx"
    path.write_bytes(version_to_workbook(c, c.versions[0]))
    code, out = kijun(migrated, "import", str(path))
    assert code == 0, out
    assert (out["criterion"], out["version"], out["status"]) == ("shussan-iwaikin", 1,
                                                                 "published")
    assert out["saved"]["versions"]["created"] == [1]
    code, out = kijun(migrated, "import", str(path))
    assert code == 0 and out["saved"]["versions"]["unchanged"] == [1]
    # a clerk's new workbook without 版 becomes the next version, as a draft
    wb = load_workbook(io.BytesIO(path.read_bytes()))
    wb["基準"]["B7"] = None  # 版
    wb["基準"]["B8"] = "令和9年4月1日"
    wb["基準"]["B10"] = None  # 状態
    wb["支給判定"]["I12"] = "120,000円"  # 支給額 of S1
    (tmp_path / "next.xlsx").write_bytes(_bytes(wb))
    code, out = kijun(migrated, "import", str(tmp_path / "next.xlsx"))
    assert code == 0, out
    assert (out["version"], out["status"], out["effective_from"]) == (2, "draft", "2027-04-01")
    _, shown = kijun(migrated, "criteria", "show", "shussan-iwaikin")
    assert shown["versions"][1]["decisions"][0]["rules"][0]["then"] == ["支給", 120000]


def test_a_refused_import_changes_nothing(migrated: str, tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    good.write_bytes(_bytes(_clerk_workbook()))
    assert kijun(migrated, "import", str(good))[0] == 0
    before = _rows(migrated)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_edit(good.read_bytes(), _set(C9="<= [", G10="たくさん", A12="R1")))
    code, out = kijun(migrated, "import", str(bad), "--version", "2")
    assert code == 1
    message = out["error"]["message"]
    assert "3 problems" in message
    for cell in ("C9", "G10", "A12"):
        assert f"cell {cell}" in message and f"セル{cell}" in message
    missing = tmp_path / "missing.xlsx"
    code, out = kijun(migrated, "import", str(missing))
    assert code == 1 and "missing.xlsx" in out["error"]["message"]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(good.read_bytes()[:500])
    code, out = kijun(migrated, "import", str(broken))
    assert code == 1 and "not an Excel workbook" in out["error"]["message"]
    assert _rows(migrated) == before


def test_no_default_cell_must_be_filled(samples: type[Samples]) -> None:
    e = _problems(_edit(_sample_bytes(samples), _set(E12=None)))
    assert [p.cell for p in e.problems] == ["E12"]
    assert "has no default" in str(e)
    assert NO_DEFAULT is not None
