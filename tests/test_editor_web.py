"""The table editor in the browser (kijun.web.editor): drafts, actions, errors, permissions.

Forms are read from the page and posted back with every field, as a browser
without JavaScript would, with the pressed button's `action`.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import Engine, select

from kijun.criteria.feel import compile_unary_tests
from kijun.criteria.formats.yaml import loads
from kijun.criteria.model import Criterion, HitPolicy, TestCase, ValueType, VersionStatus
from kijun.criteria.testing import run_tests
from kijun.store import db, get_criterion, review_state, save_criterion, submit_draft
from kijun.store.models import AuditEntryRow
from kijun.web.app import create_app
from kijun.web.tableform import (
    Action,
    Applied,
    FormShapeError,
    TableForm,
    apply,
    build,
    read_cell,
    split_list,
    suggestion,
)

from .webclient import Browser, add_user

KESSAI = textwrap.dedent("""\
    id: kessai
    name: 支出負担行為の決裁区分
    department: 総務課
    versions:
      - effective_from: 2024-04-01
        decisions:
          - name: 決裁者
            hit_policy: UNIQUE
            inputs:
              - {name: 金額, type: number}
              - {name: 区分, type: string, allowed: [工事, 物品]}
            outputs: [{name: 決裁者, type: string, allowed: [課長, 副町長]}]
            rules:
              - {when: {金額: "< 1000000"}, then: {決裁者: 課長}, basis: 規程第5条}
              - {when: {金額: ">= 1000000"}, then: {決裁者: 副町長}, basis: 規程第6条}
      - effective_from: 2026-04-01
        status: draft
        decisions:
          - name: 決裁者
            hit_policy: UNIQUE
            inputs:
              - {name: 金額, type: number}
              - {name: 区分, type: string, allowed: [工事, 物品]}
            outputs: [{name: 決裁者, type: string, allowed: [課長, 副町長]}]
            rules:
              - {when: {金額: "< 3000000"}, then: {決裁者: 課長}, basis: 規程第5条（改正）}
              - {when: {金額: ">= 3000000"}, then: {決裁者: 副町長}, basis: 規程第6条}
    tests:
      - {name: 少額, input: {金額: 10, 区分: 工事}, expect: {決裁者: 課長}}
""")
PAGE = "/criteria/kessai"
EDIT = f"{PAGE}/versions/2/edit"


# -- helpers --------------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The fields of every <form method="post"> as a browser would send them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
        self.select: str | None = None
        self.first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and a.get("method") == "post":
            self.current = {"action": a.get("action"), "fields": {}, "buttons": []}
            self.forms.append(self.current)
        if self.current is None:
            return
        name = a.get("name")
        fields = self.current["fields"]
        if tag == "input" and name:
            fields[name] = a.get("value") or ""
        elif tag == "textarea" and name:
            fields[name] = ""
        elif tag == "select" and name:
            self.select = name
            fields[name] = None
        elif tag == "option" and self.select:
            if fields[self.select] is None or "selected" in a:
                fields[self.select] = a.get("value") or ""
        elif tag == "button" and name:
            self.current["buttons"].append((a.get("value"), "disabled" in a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def post_forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def table_form(html: str, number: int = 1) -> dict[str, str]:
    """The fields of the editor's form of table `number` (from 1), csrf token included."""
    for form in post_forms(html):
        if form["fields"].get("table") == str(number - 1):
            return dict(form["fields"])
    raise AssertionError(f"no form for table {number}")


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def stored(engine: Engine, number: int = 2) -> Any:
    with db.session_scope(engine) as session:
        return get_criterion(session, "kessai").version(number)


def actions(engine: Engine, action: str) -> int:
    with db.session_scope(engine) as session:
        return len(session.scalars(select(AuditEntryRow).where(
            AuditEntryRow.action == action)).all())


@pytest.fixture
def app_and_engine(engine: Engine, database_url: str) -> Iterator[tuple[Any, Engine]]:
    with db.session_scope(engine) as session:
        save_criterion(session, loads(KESSAI), actor="test")
    add_user(engine, "author", "author", department="総務課")
    add_user(engine, "outsider", "author", department="住民課")
    add_user(engine, "staff", "staff", department="総務課")
    add_user(engine, "approver", "approver", department="総務課")
    add_user(engine, "admin", "admin", department="情報政策課")
    yield create_app(database_url), engine


@pytest.fixture
def author(app_and_engine: tuple[Any, Engine]) -> Iterator[Browser]:
    app, _ = app_and_engine
    with Browser(app) as b:
        b.log_in("author")
        yield b


def edit(browser: Browser, changes: dict[str, str], action: str = "save", *,
         page: str = EDIT, table: int = 1, follow: bool = True) -> Any:
    """Open the editor, change fields of a table's form, press `action`."""
    html = browser.get(page).text
    data = {**table_form(html, table), **changes, "action": action}
    return browser.post(page, data=data, follow_redirects=follow)


# -- drafts -----------------------------------------------------------------------------------------


def test_author_creates_a_draft_from_a_published_version(
    app_and_engine: tuple[Any, Engine], author: Browser,
) -> None:
    _, engine = app_and_engine
    page = author.get(PAGE, params={"version": 1}).text
    assert "新しい版を作る" in page and f"{PAGE}/versions/1/draft" in page
    assert f"{PAGE}/versions/1/edit" not in page  # a published version has no edit button
    draft_page = author.get(f"{PAGE}/versions/1/draft").text
    assert "第3版" in draft_page
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert table_form_fields(draft_page)["effective_from"] != ""
    assert "令和" in table_form_fields(draft_page)["effective_from"] or tomorrow.year < 2019

    r = author.post(f"{PAGE}/versions/1/draft", data={"effective_from": "令和9年4月1日",
                                                       "note": "改正"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"{PAGE}/versions/3/edit")
    v3 = stored(engine, 3)
    assert v3.status is VersionStatus.DRAFT and v3.effective_from == dt.date(2027, 4, 1)
    assert v3.note == "改正" and v3.decisions == stored(engine, 1).decisions
    assert actions(engine, "version.create") == 3  # two from the file, one here
    page = author.get(r.headers["location"]).text
    assert "新しい版を下書きとして作りました" in page
    # the draft page of the criterion offers the editor
    assert f"{PAGE}/versions/3/edit" in author.get(PAGE, params={"version": 3}).text
    # without a 施行日 the draft takes effect tomorrow (until someone says otherwise)
    r = author.post(f"{PAGE}/versions/1/draft", data={}, follow_redirects=False)
    assert r.status_code == 303 and stored(engine, 4).effective_from == tomorrow


def table_form_fields(html: str) -> dict[str, str]:
    return dict(post_forms(html)[-1]["fields"])


def test_a_bad_date_for_a_new_draft_is_said_next_to_the_field(
    app_and_engine: tuple[Any, Engine], author: Browser,
) -> None:
    _, engine = app_and_engine
    r = author.post(f"{PAGE}/versions/1/draft", data={"effective_from": "令和9年13月1日"})
    assert r.status_code == 422
    assert 'id="effective_from-error"' in r.text and 'aria-invalid="true"' in r.text
    assert 'href="#effective_from"' in r.text
    with db.session_scope(engine) as session:
        assert [v.number for v in get_criterion(session, "kessai").versions] == [1, 2]


# -- editing ----------------------------------------------------------------------------------------


def test_the_editor_shows_the_table_as_a_grid_of_labelled_fields(author: Browser) -> None:
    html = author.get(EDIT).text
    fields = table_form(html)
    assert fields["rule.1.in.1"] == "< 3000000" and fields["rule.1.in.2"] == "-"
    assert fields["rule.2.out.1"] == "副町長" and fields["rule.1.basis"] == "規程第5条（改正）"
    assert fields["in.2.allowed"] == "工事, 物品" and fields["hit_policy"] == "UNIQUE"
    assert fields["n_in"] == "2" and fields["n_out"] == "1" and fields["n_rules"] == "2"
    # every field that is not hidden has a label
    ids = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html)
    labels = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
    assert ids and not [i for i in ids if i not in labels]
    assert '<label class="visually-hidden" for="t1-rule-1-in-1">規則1の条件「金額」</label>' in html
    # the first submit button of the form (the one Enter presses) saves
    first = re.search(r'<form class="editor".*?<button[^>]*value="([^"]+)"', html, re.S)
    assert first is not None and first.group(1) == "save"
    # verification findings next to the rules, and the CSP-safe page has no script
    assert "検証" in html and "<script" not in html


def test_editing_a_cell_saves_the_draft_and_audits_it(
    app_and_engine: tuple[Any, Engine], author: Browser,
) -> None:
    _, engine = app_and_engine
    r = edit(author, {"rule.1.in.1": "< 3,000,000円", "rule.2.in.1": ">= 3000000",
                      "rule.1.annotation": "改正後"}, follow=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"{EDIT}?done=saved&table=1#edit-1"
    rules = stored(engine).decisions[0].rules
    assert rules[0].when == ("< 3000000", "-") and rules[0].annotation == "改正後"
    assert actions(engine, "version.update") == 1
    page = author.get(r.headers["location"]).text
    assert "保存しました" in page and table_form(page)["rule.1.annotation"] == "改正後"
    # saving the same content again stores nothing
    r = edit(author, {})
    assert "変更はありませんでした" in r.text and actions(engine, "version.update") == 1


def test_clerk_typed_values_are_read(app_and_engine: tuple[Any, Engine],
                                     author: Browser) -> None:
    _, engine = app_and_engine
    r = edit(author, {"in.2.type": "boolean", "in.2.allowed": "", "in.2.name": "緊急",
                      "rule.1.in.2": "はい", "rule.2.in.2": "いいえ"})
    assert r.status_code == 200, text(r.text)
    r = edit(author, {"in.1.type": "date", "in.1.name": "契約日",
                      "rule.1.in.1": "< 令和6年4月1日", "rule.2.in.1": ">= R6.4.1",
                      "out.1.type": "number", "out.1.allowed": "",
                      "rule.1.out.1": "100,000円", "rule.2.out.1": "１，２００，０００円"})
    assert r.status_code == 200, text(r.text)
    t = stored(engine).decisions[0]
    assert [r.when for r in t.rules] == [('< date("2024-04-01")', "true"),
                                         ('>= date("2024-04-01")', "false")]
    assert [r.then for r in t.rules] == [(100000,), (1200000,)]
    fields = table_form(author.get(EDIT).text)
    assert fields["rule.1.in.1"] == "< 2024-04-01" and fields["rule.1.in.2"] == "はい"


def test_add_delete_and_move_rules(app_and_engine: tuple[Any, Engine],
                                   author: Browser) -> None:
    _, engine = app_and_engine
    # a new rule needs its result: nothing is stored until it has one
    r = edit(author, {}, "add_rule_after:1")
    assert r.status_code == 422
    assert 'id="t1-rule-2-out-1-error"' in r.text and stored(engine).decisions[0].rules[1].id == "R2"
    fields = {**table_form(r.text), "rule.2.in.1": "3000000", "rule.2.out.1": "課長",
              "action": "save"}
    assert fields["n_rules"] == "3"
    r = author.post(EDIT, data=fields, follow_redirects=False)
    assert r.status_code == 303
    ids = [x.id for x in stored(engine).decisions[0].rules]
    assert ids == ["R1", "R3", "R2"]
    assert stored(engine).decisions[0].rules[1].when == ("3000000", "-")

    r = edit(author, {}, "move_rule_down:1", follow=False)
    assert r.status_code == 303 and r.headers["location"].endswith("#t1-rule-2-down")
    assert [x.id for x in stored(engine).decisions[0].rules] == ["R3", "R1", "R2"]
    edit(author, {}, "move_rule_up:3")
    assert [x.id for x in stored(engine).decisions[0].rules] == ["R3", "R2", "R1"]
    r = edit(author, {}, "delete_rule:1")
    assert "規則を削除して保存しました" in r.text
    assert [x.id for x in stored(engine).decisions[0].rules] == ["R2", "R1"]
    # an action naming a rule that is not there is refused
    assert edit(author, {}, "delete_rule:9").status_code == 400
    assert edit(author, {}, "move_rule_up:1").status_code == 400


def test_add_and_delete_inputs_and_outputs(app_and_engine: tuple[Any, Engine],
                                           author: Browser) -> None:
    _, engine = app_and_engine
    r = edit(author, {}, "add_input")
    assert r.status_code == 422 and "条件3の名前を入力してください" in r.text
    fields = {**table_form(r.text), "in.3.name": "緊急", "in.3.type": "boolean",
              "action": "save"}
    assert fields["rule.1.in.3"] == "-"
    assert author.post(EDIT, data=fields).status_code == 200
    t = stored(engine).decisions[0]
    assert [i.name for i in t.inputs] == ["金額", "区分", "緊急"] and t.rules[0].when[2] == "-"

    r = edit(author, {}, "add_output")
    assert r.status_code == 422
    fields = {**table_form(r.text), "out.2.name": "期限", "out.2.type": "number",
              "out.2.default": "14", "action": "save"}
    assert author.post(EDIT, data=fields).status_code == 200
    t = stored(engine).decisions[0]
    assert [o.name for o in t.outputs] == ["決裁者", "期限"] and t.rules[1].then == ("副町長", 14)
    assert t.outputs[1].default == 14

    edit(author, {}, "delete_input:2")
    edit(author, {}, "delete_output:1")
    t = stored(engine).decisions[0]
    assert [i.name for i in t.inputs] == ["金額", "緊急"] and [o.name for o in t.outputs] == ["期限"]
    assert t.rules[0].when == ("< 3000000", "-") and t.rules[0].then == (14,)
    # the last output cannot go: a decision needs one
    r = edit(author, {}, "delete_output:1")
    assert r.status_code == 422 and "結果（出力）が1つもありません" in r.text
    assert 'href="#t1-outputs"' in r.text and len(stored(engine).decisions[0].outputs) == 1


def draft_test_results(engine: Engine) -> list[tuple[str, bool, dict[str, Any]]]:
    """The criterion's test cases, and a few more, run on the draft (as if it were published)."""
    with db.session_scope(engine) as session:
        c = get_criterion(session, "kessai")
    more = tuple(
        TestCase(f"{amount}円・{kind}", {"金額": amount, "区分": kind}, expect_rules=())
        for amount in (10, 2999999, 3000000, 50000000) for kind in ("工事", "物品")
    )
    published = tuple(replace(v, status=VersionStatus.PUBLISHED) for v in c.versions)
    report = run_tests(replace(c, versions=published, tests=(*c.tests, *more)))
    assert report.cases[0].passed, report.cases[0].message  # 少額, the criterion's own case
    return [(case.name, case.passed, case.actual) for case in report.cases]


def buttons(html: str) -> dict[str, bool]:
    """The editor's buttons of table 1: action → disabled."""
    for form in post_forms(html):
        if form["fields"].get("table") == "0":
            return dict(form["buttons"])
    raise AssertionError("no form for table 1")


def test_move_inputs_and_outputs(app_and_engine: tuple[Any, Engine], author: Browser) -> None:
    _, engine = app_and_engine
    # a second output, and cells that differ, to see them follow their columns
    r = edit(author, {}, "add_output")
    assert r.status_code == 422
    fields = {**table_form(r.text), "out.2.name": "期限", "out.2.type": "number",
              "out.2.default": "14", "out.2.description": "処理の期限（日）",
              "rule.1.out.2": "7", "rule.1.in.2": "工事", "action": "save"}
    assert author.post(EDIT, data=fields).status_code == 200
    before = stored(engine).decisions[0]
    assert [r.when for r in before.rules] == [("< 3000000", '"工事"'), (">= 3000000", "-")]
    results = draft_test_results(engine)
    updates = actions(engine, "version.update")

    page = author.get(EDIT).text
    assert buttons(page)["move_input_left:1"] and not buttons(page)["move_input_right:1"]
    assert not buttons(page)["move_input_left:2"] and buttons(page)["move_input_right:2"]
    assert buttons(page)["move_output_left:1"] and buttons(page)["move_output_right:2"]
    assert 'aria-label="条件2「区分」の列を左へ移動">左へ</button>' in page
    assert 'aria-label="結果1「決裁者」の列を右へ移動">右へ</button>' in page

    # an input moves with its type, allowed values, description and its cell in every rule
    r = edit(author, {}, "move_input_right:1", follow=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"{EDIT}?done=input_moved&table=1#t1-in-2-left"
    t = stored(engine).decisions[0]
    assert [i.name for i in t.inputs] == ["区分", "金額"]
    assert t.inputs[0] == before.inputs[1] and t.inputs[1] == before.inputs[0]
    assert [r.when for r in t.rules] == [('"工事"', "< 3000000"), ("-", ">= 3000000")]
    assert [r.id for r in t.rules] == ["R1", "R2"] and t.rules[0].basis == "規程第5条（改正）"
    assert draft_test_results(engine) == results
    page = author.get(r.headers["location"]).text
    assert "条件（入力）の列の順番を変えて保存しました" in page
    assert 'id="t1-in-2-left"' in page and table_form(page)["rule.1.in.1"] == '"工事"'

    # an output moves with its default, allowed values, description and cells
    r = edit(author, {}, "move_output_left:2", follow=False)
    assert r.headers["location"] == f"{EDIT}?done=output_moved&table=1#t1-out-1-right"
    t = stored(engine).decisions[0]
    assert [o.name for o in t.outputs] == ["期限", "決裁者"]
    assert t.outputs[0] == before.outputs[1] and t.outputs[0].default == 14
    assert t.outputs[1].allowed == ("課長", "副町長")
    assert [r.then for r in t.rules] == [(7, "課長"), (14, "副町長")]
    assert draft_test_results(engine) == results
    assert "結果（出力）の列の順番を変えて保存しました" in author.get(r.headers["location"]).text
    assert actions(engine, "version.update") == updates + 2

    # at the ends nothing moves: the action is refused and nothing is stored
    for action in ("move_input_left:1", "move_input_right:2", "move_output_left:1",
                   "move_output_right:2", "move_input_right:0", "move_output_left:3"):
        assert edit(author, {}, action).status_code == 400, action
    assert actions(engine, "version.update") == updates + 2

    # and back again: the table is as it was
    edit(author, {}, "move_input_left:2")
    edit(author, {}, "move_output_right:1")
    assert stored(engine).decisions[0] == before
    assert draft_test_results(engine) == results


def test_a_move_with_mistakes_or_from_a_stale_form_stores_nothing(
    app_and_engine: tuple[Any, Engine], author: Browser,
) -> None:
    _, engine = app_and_engine
    before = stored(engine)
    # a mistake elsewhere in the form: the form comes back moved, the error at the moved cell
    r = edit(author, {"rule.2.in.1": "18歳未満"}, "move_input_right:1")
    assert r.status_code == 422 and 'id="t1-rule-2-in-2-error"' in r.text
    assert table_form(r.text)["in.1.name"] == "区分" and stored(engine) == before
    # someone saved the table since the form was made: nothing is stored (409)
    old = table_form(author.get(EDIT).text)
    edit(author, {"rule.1.basis": "先に保存"})
    r = author.post(EDIT, data={**old, "action": "move_input_right:1"})
    assert r.status_code == 409 and "別の画面（または別の職員）が保存しています" in r.text
    t = stored(engine).decisions[0]
    assert [i.name for i in t.inputs] == ["金額", "区分"] and t.rules[0].basis == "先に保存"
    # the page shows the form as moved; saving it overwrites knowingly
    again = {**table_form(r.text), "action": "save"}
    assert again["in.1.name"] == "区分" and again["rule.1.in.2"] == "< 3000000"
    assert author.post(EDIT, data=again).status_code == 200
    assert [i.name for i in stored(engine).decisions[0].inputs] == ["区分", "金額"]


def test_moving_columns_needs_an_author_of_the_department_and_the_csrf_token(
    app_and_engine: tuple[Any, Engine], author: Browser,
) -> None:
    app, engine = app_and_engine
    fields = table_form(author.get(EDIT).text)
    del fields["csrf_token"]
    for action in ("move_input_right:1", "move_input_left:2"):
        data = {**fields, "action": action}
        assert author.post(EDIT, data=data, csrf=None).status_code == 403
        assert author.post(EDIT, data=data, csrf="wrong").status_code == 403
    with Browser(app) as b:
        for login in ("staff", "approver", "outsider"):
            b.log_in(login)
            assert b.post(EDIT, data={**fields, "action": "move_input_right:1"}
                          ).status_code == 403
    assert actions(engine, "version.update") == 0
    assert [i.name for i in stored(engine).decisions[0].inputs] == ["金額", "区分"]


def test_change_the_hit_policy(app_and_engine: tuple[Any, Engine], author: Browser) -> None:
    _, engine = app_and_engine
    assert edit(author, {"hit_policy": "FIRST"}).status_code == 200
    assert stored(engine).decisions[0].hit_policy is HitPolicy.FIRST
    # an aggregation only with COLLECT, and a sum only of numbers
    r = edit(author, {"aggregation": "SUM"})
    assert r.status_code == 422 and "収集（COLLECT）のときだけ" in r.text
    r = edit(author, {"hit_policy": "COLLECT", "aggregation": "SUM"})
    assert r.status_code == 422 and "合計は、数値の結果にだけ使えます" in r.text
    assert stored(engine).decisions[0].hit_policy is HitPolicy.FIRST
    r = edit(author, {"hit_policy": "PRIORITY", "out.1.allowed": ""})
    assert r.status_code == 422 and "選択肢を優先する順に" in r.text
    assert edit(author, {"hit_policy": "PRIORITY"}).status_code == 200
    assert stored(engine).decisions[0].hit_policy is HitPolicy.PRIORITY


def test_a_bad_cell_is_refused_with_the_error_next_to_it(
    app_and_engine: tuple[Any, Engine], author: Browser,
) -> None:
    _, engine = app_and_engine
    before = stored(engine)
    r = edit(author, {"rule.2.in.1": "18歳未満", "rule.1.out.1": "部長"})
    assert r.status_code == 422
    html = r.text
    # next to the cell, tied to it, and in the summary linking to it
    cell = re.search(r'<td class="in cell--error">.*?</td>', html, re.S)
    assert cell is not None and 'id="t1-rule-2-in-1"' in cell.group(0)
    assert 'aria-invalid="true"' in cell.group(0)
    assert 'aria-describedby="t1-rule-2-in-1-error"' in cell.group(0)
    assert ('<p class="field__error" id="t1-rule-2-in-1-error">18歳未満は「&lt; 18」のように書きます'
            "（3文字目に予期しない記号「歳未満」）。</p>") in html
    assert '<a href="#t1-rule-2-in-1">規則2の「金額」：18歳未満は' in html
    assert "選択肢（課長, 副町長）のどれかを書いてください" in html
    # what was typed is shown again; nothing is stored
    assert table_form(html)["rule.2.in.1"] == "18歳未満"
    assert stored(engine) == before and actions(engine, "version.update") == 0


@pytest.mark.parametrize(("cell", "message"), [
    ("[3..18", "7文字目で式が途中で終わっています：「]」か「)」が必要です"),
    ('"abc', "「\"」が閉じていません"),
    ('< "a"', "数値の条件に文字（\"a\"）は使えません"),
    ("foo(1)", "「foo」という関数はありません"),
    ("単身", "「単身」は数値の条件として読めません"),
])
def test_feel_errors_in_japanese(author: Browser, cell: str, message: str) -> None:
    r = edit(author, {"rule.1.in.1": cell})
    assert r.status_code == 422
    assert message in text(r.text).replace("&#34;", '"').replace("&lt;", "<")


def test_names_must_be_given_and_differ(author: Browser) -> None:
    r = edit(author, {"in.2.name": "金額", "out.1.name": " ", "name": ""})
    assert r.status_code == 422
    page = text(r.text)
    assert "名前「金額」は条件1と同じです" in page
    assert "結果1の名前を入力してください" in page and "判断の名前を入力してください" in page
    r = edit(author, {"in.1.allowed": "1, x", "out.1.default": "部長"})
    assert "選択肢「x」は数値ではありません" in text(r.text)
    assert "選択肢（課長, 副町長）のどれかを書いてください" in text(r.text)


def test_a_stale_form_does_not_overwrite(app_and_engine: tuple[Any, Engine],
                                        author: Browser) -> None:
    _, engine = app_and_engine
    old = table_form(author.get(EDIT).text)
    edit(author, {"rule.1.basis": "先に保存"})
    r = author.post(EDIT, data={**old, "rule.1.basis": "後から", "action": "save"})
    assert r.status_code == 409 and "別の画面（または別の職員）が保存しています" in r.text
    assert stored(engine).decisions[0].rules[0].basis == "先に保存"
    # saving again from the page shown overwrites knowingly
    again = {**table_form(r.text), "action": "save"}
    assert again["rule.1.basis"] == "後から"
    assert author.post(EDIT, data=again).status_code == 200
    assert stored(engine).decisions[0].rules[0].basis == "後から"


def test_editing_a_submitted_draft_returns_it_to_being_written(
    app_and_engine: tuple[Any, Engine], author: Browser,
) -> None:
    _, engine = app_and_engine
    with db.session_scope(engine) as session:
        submit_draft(session, "kessai", 2, actor="author")
    assert "承認を依頼中です" in author.get(EDIT).text
    edit(author, {"rule.1.basis": "直した"})
    with db.session_scope(engine) as session:
        assert review_state(session, "kessai", 2) == (None, None)


def test_version_information_can_be_changed(app_and_engine: tuple[Any, Engine],
                                            author: Browser) -> None:
    _, engine = app_and_engine
    r = author.post(EDIT, data={"action": "save_version", "effective_from": "R8.10.1",
                                "note": "10月施行"}, follow_redirects=False)
    assert r.status_code == 303
    v = stored(engine)
    assert v.effective_from == dt.date(2026, 10, 1) and v.note == "10月施行"
    r = author.post(EDIT, data={"action": "save_version", "effective_from": "いつか"})
    assert r.status_code == 422 and 'id="effective_from-error"' in r.text


# -- who may edit -----------------------------------------------------------------------------------


def test_only_authors_of_the_department_may_edit(app_and_engine: tuple[Any, Engine]) -> None:
    app, engine = app_and_engine
    with Browser(app) as b:
        for login in ("staff", "approver", "outsider"):
            b.log_in(login)
            assert b.get(EDIT).status_code == 403
            assert b.post(EDIT, data={"table": "0", "action": "save"}).status_code == 403
            assert b.post(f"{PAGE}/versions/1/draft",
                          data={"effective_from": "2027-04-01"}).status_code == 403
            assert b.get(f"{PAGE}/versions/1/draft").status_code == 403
            page = b.get(PAGE, params={"version": 2}).text
            assert "この版を編集する" not in page and "新しい版を作る" not in page
            # only authors create criteria (of their own department)
            assert (b.get("/criteria/new").status_code == 403) == (login != "outsider")
        b.log_in("admin")
        assert b.get(EDIT).status_code == 200
    assert actions(engine, "version.update") == 0


def test_a_published_version_cannot_be_edited(app_and_engine: tuple[Any, Engine],
                                              author: Browser) -> None:
    _, engine = app_and_engine
    published = f"{PAGE}/versions/1/edit"
    r = author.get(published)
    assert r.status_code == 409 and "新しい版を作る" in r.text
    fields = table_form(author.get(EDIT).text)
    r = author.post(published, data={**fields, "rule.1.basis": "x", "action": "save"})
    assert r.status_code == 409
    assert stored(engine, 1).decisions[0].rules[0].basis == "規程第5条"
    assert author.get(f"{PAGE}/versions/9/edit").status_code == 404


def test_editor_forms_need_the_csrf_token(app_and_engine: tuple[Any, Engine],
                                          author: Browser) -> None:
    _, engine = app_and_engine
    fields = table_form(author.get(EDIT).text)
    del fields["csrf_token"]
    data = {**fields, "rule.1.basis": "x", "action": "save"}
    assert author.post(EDIT, data=data, csrf=None).status_code == 403
    assert author.post(EDIT, data=data, csrf="wrong").status_code == 403
    assert author.post(f"{PAGE}/versions/1/draft", data={"effective_from": "2027-04-01"},
                       csrf=None).status_code == 403
    assert author.post("/criteria/new", data={"id": "x", "name": "x",
                                              "effective_from": "2027-04-01"},
                       csrf=None).status_code == 403
    assert stored(engine).decisions[0].rules[0].basis == "規程第5条（改正）"
    assert actions(engine, "version.update") == 0 and actions(engine, "version.create") == 2


# -- a new criterion --------------------------------------------------------------------------------


def test_an_author_creates_a_criterion(app_and_engine: tuple[Any, Engine],
                                       author: Browser) -> None:
    _, engine = app_and_engine
    assert "/criteria/new" in author.get("/").text
    page = author.get("/criteria/new").text
    assert "総務課" in page
    r = author.post("/criteria/new", data={"id": "Kessai", "name": "", "effective_from": "x"})
    assert r.status_code == 422
    page = text(r.text)
    assert "識別子「kessai」はすでに使われています" in page
    assert "名称を入力してください" in page and "施行日を「令和8年4月1日」" in page
    r = author.post("/criteria/new", data={"id": "new", "name": "x", "effective_from": "R8.4.1"})
    assert r.status_code == 422 and "識別子「new」は使えません" in r.text

    r = author.post("/criteria/new", data={"id": "hojokin", "name": "補助金の交付判定",
                                           "basis": "補助金交付規則",
                                           "effective_from": "令和8年4月1日"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/criteria/hojokin/versions/1/edit")
    with db.session_scope(engine) as session:
        c = get_criterion(session, "hojokin")
    assert c.department == "総務課" and c.basis == "補助金交付規則"
    v = c.version(1)
    assert v.status is VersionStatus.DRAFT and v.effective_from == dt.date(2026, 4, 1)
    t = v.decisions[0]
    assert t.name == "補助金の交付判定" and len(t.inputs) == 1 and len(t.outputs) == 1
    assert not t.rules
    page = author.get(r.headers["location"]).text
    assert "判断基準を作りました" in page
    # and the first rule can be added at once
    fields = {**table_form(page), "in.1.name": "申請者", "out.1.name": "交付",
              "out.1.type": "boolean", "action": "add_rule_after:0"}
    r = author.post("/criteria/hojokin/versions/1/edit", data=fields)
    assert r.status_code == 422  # the new rule's result is still empty
    fields = {**table_form(r.text), "rule.1.in.1": "町民", "rule.1.out.1": "はい",
              "action": "save"}
    assert author.post("/criteria/hojokin/versions/1/edit", data=fields).status_code == 200
    with db.session_scope(engine) as session:
        rule = get_criterion(session, "hojokin").version(1).decisions[0].rules[0]
    assert rule.when == ('"町民"',) and rule.then == (True,)


# -- the form model ---------------------------------------------------------------------------------


def _criterion() -> Criterion:
    return loads(KESSAI)


def test_the_form_round_trips_a_stored_table() -> None:
    for v in _criterion().versions:
        form = TableForm.from_table(v.decisions[0], 0)
        built = build(form, v)
        assert built.errors == {} and built.table == v.decisions[0]


def test_every_shipped_table_reads_back_unchanged() -> None:
    """Shown in the editor and saved untouched, no table of content/nagi changes."""
    from pathlib import Path

    from kijun.criteria.formats.yaml import load_path
    from kijun.web.tableform import table_fingerprint

    tables = 0
    for c in load_path(Path(__file__).resolve().parent.parent / "content" / "nagi"):
        for v in c.versions:
            for i, t in enumerate(v.decisions):
                built = build(TableForm.from_table(t, i), v)
                assert built.errors == {}, (c.id, v.number, t.name)
                assert built.table is not None
                assert table_fingerprint(built.table) == table_fingerprint(t), (c.id, t.name)
                tables += 1
    assert tables > 10


def test_actions_are_parsed_strictly() -> None:
    assert Action.parse("delete_rule:3") == Action("delete_rule", 3)
    assert Action.parse(None) == Action("save")
    for bad in ("drop_table", "delete_rule", "delete_rule:x", "save:1", "add_input:2"):
        with pytest.raises(FormShapeError):
            Action.parse(bad)
    form = TableForm.from_table(_criterion().version(2).decisions[0], 0)
    with pytest.raises(FormShapeError):
        apply(form, Action("move_rule_down", 2))


def test_a_column_moves_with_its_cells() -> None:
    form = TableForm.from_table(_criterion().version(2).decisions[0], 0)
    apply(form, Action("add_input"))
    form.inputs[2].name = "緊急"
    for rule in form.rules:
        rule.when[2] = "はい"
    # the focus: the same button of the moved column, or the other one at an end
    assert apply(form, Action.parse("move_input_left:3")) == Applied("input_moved", "in.2.left")
    assert [c.name for c in form.inputs] == ["金額", "緊急", "区分"]
    assert [r.when for r in form.rules] == [["< 3000000", "はい", "-"],
                                            [">= 3000000", "はい", "-"]]
    assert apply(form, Action.parse("move_input_left:2")).focus == "in.1.right"
    assert apply(form, Action.parse("move_input_right:2")).focus == "in.3.left"
    assert apply(form, Action.parse("move_input_right:1")).focus == "in.2.right"
    assert [c.name for c in form.inputs] == ["区分", "緊急", "金額"]
    assert form.inputs[0].allowed == "工事, 物品" and form.inputs[2].type == "number"
    assert [r.when for r in form.rules] == [["-", "はい", "< 3000000"],
                                            ["-", "はい", ">= 3000000"]]
    for bad in ("move_input_left:1", "move_input_right:3", "move_input_left:4",
                "move_input_right:0", "move_output_left:1", "move_output_right:1"):
        with pytest.raises(FormShapeError):
            apply(form, Action.parse(bad))
    for bad in ("move_input_left", "move_output_right:x"):
        with pytest.raises(FormShapeError):
            Action.parse(bad)


def test_suggestions_and_lists() -> None:
    assert suggestion("18歳未満", ValueType.NUMBER) == "< 18"
    assert suggestion("65歳以上", ValueType.NUMBER) == ">= 65"
    assert suggestion("3歳以上18歳未満", ValueType.NUMBER) == "[3..18)"
    assert suggestion("100,000円以下", ValueType.NUMBER) == "<= 100000"
    assert suggestion("令和6年4月1日以降", ValueType.DATE) == ">= 令和6年4月1日"
    assert suggestion("単身", ValueType.STRING) is None
    assert split_list('単身, "a, b"、 夫婦, ""') == ["単身", "a, b", "夫婦", ""]
    assert read_cell("単身, 夫婦", ValueType.STRING) == '"単身", "夫婦"'
    assert read_cell("", ValueType.NUMBER) == "-"
    assert read_cell("ｒ６．４．１", ValueType.DATE) == 'date("2024-04-01")'
    compile_unary_tests(read_cell("単身、夫婦", ValueType.STRING), ValueType.STRING)
