"""kijun YAML: what a clerk writes is what the engine decides; errors name file, line, field."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from kijun.criteria.decide import decide
from kijun.criteria.errors import LoadError
from kijun.criteria.formats.yaml import cell_to_feel, load_path, loads
from kijun.criteria.model import HitPolicy, ValueType
from kijun.criteria.serial import criterion_from_dict, criterion_to_dict
from kijun.criteria.testing import run_tests

DOC = textwrap.dedent("""\
    id: shussan-iwaikin
    name: 出産祝金
    department: こども・長寿課
    basis: 奈義町出産祝金支給条例
    versions:
      - effective_from: 2004-04-01
        decisions:
          - name: 支給判定
            hit_policy: UNIQUE
            inputs:
              - {name: 定住, type: boolean}
              - {name: 滞納あり, type: boolean}
              - {name: 住居, type: string, allowed: [持家, 借家, 社宅]}
            outputs:
              - {name: 判定, type: string, allowed: [支給, 不支給]}
              - {name: 支給額, type: number, default: 0}
            rules:
              - {when: {定住: true, 滞納あり: false, 住居: [持家, 借家]}, then: {判定: 支給, 支給額: 100000}, basis: 第3条・第4条}
              - {when: {定住: true, 滞納あり: false, 住居: 社宅}, then: {判定: 支給, 支給額: 50000.5}, basis: 第4条}
              - {when: {定住: false}, then: {判定: 不支給}, basis: 第3条}
              - {when: {定住: true, 滞納あり: true}, then: {判定: 不支給}, basis: 第3条ただし書}
    tests:
      - {name: 定住・滞納なし, on: 2025-04-01, input: {定住: true, 滞納あり: false, 住居: 持家}, expect: {判定: 支給, 支給額: 100000}}
      - {name: 社宅, input: {定住: true, 滞納あり: false, 住居: 社宅}, expect: {支給額: 50000.5}, expect_rules: [R2]}
      - {name: 不定住, input: {定住: false, 滞納あり: true, 住居: 持家}, expect: {判定: 不支給, 支給額: 0}}
""")


def test_a_criterion_loads_and_decides() -> None:
    c = loads(DOC, file="x.yaml")
    assert c.id == "shussan-iwaikin" and c.department == "こども・長寿課"
    v = c.versions[0]
    assert v.number == 1 and v.effective_from == dt.date(2004, 4, 1)
    t = v.decisions[0]
    assert t.hit_policy is HitPolicy.UNIQUE
    assert t.rules[0].when == ("true", "false", '"持家", "借家"')
    assert t.rules[1].then == ("支給", Decimal("50000.5"))
    assert t.rules[2].then == ("不支給", 0)  # default filled in
    assert c.tests[0].on == dt.date(2025, 4, 1)  # `on` is a key, not YAML 1.1's true
    r = decide(c, {"定住": True, "滞納あり": False, "住居": "借家"}, "2025-04-01")
    assert r.outputs == {"判定": "支給", "支給額": 100000}
    assert r.basis[0]["basis"] == "第3条・第4条"
    report = run_tests(c)
    assert (report.passed, report.failed) == (3, 0)


def test_failing_test_cases_report_expected_and_actual() -> None:
    bad = DOC.replace("expect: {判定: 支給, 支給額: 100000}", "expect: {判定: 支給, 支給額: 1}")
    report = run_tests(loads(bad))
    assert report.failed == 1
    case = next(c for c in report.cases if not c.passed)
    assert case.expected == {"判定": "支給", "支給額": 1}
    assert case.actual["支給額"] == 100000
    assert "支給額: expected 1, got 100000" in case.message


def test_round_trip_through_the_json_form() -> None:
    c = loads(DOC)
    assert criterion_from_dict(criterion_to_dict(c)) == c


def _error(text: str) -> LoadError:
    with pytest.raises(LoadError) as e:
        loads(text, file="content/x.yaml")
    return e.value


def test_bad_unary_test_names_file_line_and_field() -> None:
    bad = DOC.replace("{定住: false}", '{定住: false, 滞納あり: "[1..", 住居: 持家}')
    e = _error(bad.replace("type: boolean}\n              - {name: 滞納あり, type: boolean}",
                           "type: boolean}\n              - {name: 滞納あり, type: number}"))
    assert e.file == "content/x.yaml"
    assert e.line == 20
    assert e.field == "versions[0].decisions[0].rules[2].when.滞納あり"
    assert str(e).startswith("content/x.yaml:20: versions[0].decisions[0].rules[2].when.滞納あり")


def test_unknown_field_and_missing_field() -> None:
    e = _error(DOC.replace("department:", "departmnt:"))
    assert e.line == 3 and "unknown field 'departmnt'" in str(e)
    e = _error(DOC.replace("  - effective_from: 2004-04-01\n", "  - note: x\n"))
    assert "effective_from" in str(e) and e.line == 6


def test_output_value_outside_allowed_is_refused_with_its_line() -> None:
    e = _error(DOC.replace("then: {判定: 不支給}, basis: 第3条}", "then: {判定: 保留}, basis: 第3条}"))
    assert e.line == 20 and "allowed" in str(e) and e.field is not None
    assert e.field.endswith("rules[2].then.判定")


def test_unknown_input_in_when_is_refused() -> None:
    e = _error(DOC.replace("{定住: false}", "{定住: false, 年齢: 3}"))
    assert "unknown field '年齢'" in str(e) and e.line == 20


def test_overlapping_versions_are_refused_with_a_clear_error() -> None:
    two = DOC.replace(
        "  - effective_from: 2004-04-01\n",
        "  - effective_from: 2004-04-01\n    effective_to: 2030-01-01\n",
    )
    second = two.split("tests:")[0].split("versions:\n")[1].replace(
        "effective_from: 2004-04-01\n    effective_to: 2030-01-01", "effective_from: 2020-04-01")
    doc = two.replace("tests:", second + "tests:", 1)
    e = _error(doc)
    assert "overlap" in str(e) and e.file == "content/x.yaml"


def test_invalid_yaml_names_the_line() -> None:
    e = _error("id: x\nname: [unclosed\n")
    assert e.line is not None and "YAML" in str(e)


def test_cells_literal_or_feel() -> None:
    assert cell_to_feel("持家", ValueType.STRING) == '"持家"'
    assert cell_to_feel('"持家","借家"', ValueType.STRING) == '"持家","借家"'
    assert cell_to_feel("not(\"転勤\")", ValueType.STRING) == 'not("転勤")'
    assert cell_to_feel("-", ValueType.STRING) == "-"
    assert cell_to_feel("[3..18)", ValueType.NUMBER) == "[3..18)"
    assert cell_to_feel("＜１８", ValueType.NUMBER) == "<18"
    assert cell_to_feel(">= 2024-10-01", ValueType.DATE) == '>= date("2024-10-01")'
    assert cell_to_feel(dt.date(2024, 10, 1), ValueType.DATE) == 'date("2024-10-01")'
    assert cell_to_feel([1, 2], ValueType.NUMBER) == "1, 2"
    assert cell_to_feel(None, ValueType.NUMBER) == "null"


def test_load_path_reads_a_folder_and_refuses_duplicate_ids(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(DOC, encoding="utf-8")
    assert [c.id for c in load_path(tmp_path)] == ["shussan-iwaikin"]
    (tmp_path / "b.yaml").write_text(DOC, encoding="utf-8")
    with pytest.raises(LoadError, match="also used"):
        load_path(tmp_path)
    with pytest.raises(LoadError, match="no such file"):
        load_path(tmp_path / "missing")
