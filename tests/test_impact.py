"""`kijun impact`: replaying cases under two versions of 児童手当 (令和6年10月の改正)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kijun.cli import app
from kijun.criteria.decide import decide
from kijun.criteria.formats.yaml import load_file
from kijun.criteria.impact import ReplayCase, cases_from_csv, cases_from_tests, replay

from .test_cli_store import kijun

ROOT = Path(__file__).resolve().parent.parent
JIDOU = ROOT / "content" / "nagi" / "jidou-teate.yaml"
runner = CliRunner()

CSV = """受給者要件,学年区分,年齢,出生順位,所得区分
はい,高校生年代,16,1,所得制限限度額未満
はい,小学校修了前,8,3,所得制限限度額未満
はい,中学生年代,13,1,所得制限限度額未満
はい,高校生年代,17,2,所得制限限度額未満

"""


def _csv(tmp_path: Path, text: str = CSV) -> Path:
    p = tmp_path / "facts.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_the_2024_reform_reaches_high_school_students_and_third_children(
    tmp_path: Path,
) -> None:
    report = replay(load_file(JIDOU), 3, 4, cases_from_csv(_csv(tmp_path)), source="csv")
    assert (report.total, report.changed) == (4, 3)
    by_change = {(g.before["月額"], g.after["月額"]): g for g in report.groups}
    # 高校生年代: not covered before the reform, 10,000円 after (第1子・第2子)
    assert by_change[(0, 10000)].count == 2
    assert [e["case"] for e in by_change[(0, 10000)].examples] == ["row 2", "row 5"]
    # 第3子の小学生: 15,000円 → 30,000円
    third = by_change[(15000, 30000)]
    assert third.count == 1 and third.examples[0]["facts"]["出生順位"] == "3"
    assert report.groups[0].count == 2  # largest group first
    assert sum(report.unchanged.values()) == 1


def test_rules_behind_each_change_are_named(tmp_path: Path) -> None:
    c = load_file(JIDOU)
    report = replay(c, 3, 4, cases_from_csv(_csv(tmp_path)), source="csv")
    group = next(g for g in report.groups if g.after["月額"] == 30000)
    facts = {"受給者要件": True, "学年区分": "小学校修了前", "年齢": 8, "出生順位": 3,
             "所得区分": "所得制限限度額未満"}
    old = decide(c, facts, dt.date(2024, 9, 1))
    new = decide(c, facts, dt.date(2024, 10, 1))
    assert group.rules_before == {old.matched[0].rule: 1}
    assert group.rules_after == {new.matched[0].rule: 1}


def test_errors_and_exceptions_are_outcomes() -> None:
    c = load_file(JIDOU)
    cases = [ReplayCase("no income class", {"受給者要件": True, "学年区分": "中学生年代",
                                             "年齢": 13, "出生順位": 1})]
    report = replay(c, 3, 4, cases, source="test")
    (group,) = report.groups
    assert group.before["status"] == "error" and "所得区分" in group.before["error"]
    assert group.after == {"status": "decided", "月額": 10000}


def test_same_version_changes_nothing() -> None:
    c = load_file(JIDOU)
    report = replay(c, 4, 4, cases_from_tests(c), source="tests")
    assert report.total == len(c.tests) and report.changed == 0 and report.groups == []


def test_unknown_version() -> None:
    with pytest.raises(KeyError, match="no version 9"):
        replay(load_file(JIDOU), 3, 9, [], source="none")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no header row"),
        ("a,a\n1,2\n", "row 1: repeated column names"),
        ("a,b\n1,2,3\n", "row 2: 3 cells for 2 columns"),
    ],
)
def test_bad_csv(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cases_from_csv(_csv(tmp_path, text))


def test_csv_must_be_utf8(tmp_path: Path) -> None:
    p = tmp_path / "sjis.csv"
    p.write_bytes("学年区分\n高校生年代\n".encode("shift_jis"))
    with pytest.raises(ValueError, match="not UTF-8"):
        cases_from_csv(p)


def _impact(*args: str) -> tuple[int, Any]:
    r = runner.invoke(app, ["impact", *args, "--json"])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    return r.exit_code, json.loads(r.stdout)


def test_cli_on_a_csv(tmp_path: Path) -> None:
    code, out = _impact(str(JIDOU), "--from", "3", "--to", "4", "--facts",
                        str(_csv(tmp_path)))
    assert code == 0, out
    assert (out["total"], out["changed"], out["unchanged"]) == (4, 3, 1)
    assert out["groups"][0]["before"] == {"status": "decided", "月額": 0}


def test_cli_refuses_two_sources(tmp_path: Path) -> None:
    code, out = _impact(str(JIDOU), "--from", "3", "--to", "4", "--facts",
                        str(_csv(tmp_path)), "--stored-decisions")
    assert code == 1 and "not both" in out["error"]["message"]


def test_cli_replays_stored_decisions(database_url: str) -> None:
    assert kijun(database_url, "db", "upgrade")[0] == 0
    assert kijun(database_url, "load", str(JIDOU))[0] == 0
    from kijun.store import get_criterion, open_session, record_decision

    facts = {"受給者要件": True, "学年区分": "高校生年代", "年齢": 16, "出生順位": 1,
             "所得区分": "所得制限限度額未満"}
    with open_session(database_url) as session:
        c = get_criterion(session, "jidou-teate")
        result = decide(c, facts, dt.date(2024, 9, 1))
        record_decision(session, c.id, result, facts, actor="test")
    code, out = kijun(database_url, "impact", "jidou-teate", "--from", "3", "--to", "4",
                      "--stored-decisions")
    assert code == 0, out
    assert out["source"] == "1 stored decisions" and out["changed"] == 1
    assert out["groups"][0]["examples"][0]["case"].startswith("decision ")
