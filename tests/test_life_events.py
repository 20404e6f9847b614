"""ライフイベント (`Criterion.life_events`): the vocabulary, and every format that carries them.

Storing them, the catalogue filter and the API are tested with the rest of
their layer (tests/test_store.py, tests/test_web.py); the forms that set them
(a new criterion, the criterion page) here.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from kijun.criteria import serial
from kijun.criteria.dmn import DmnError
from kijun.criteria.errors import LoadError, ModelError
from kijun.criteria.formats.dmn import version_to_dmn
from kijun.criteria.formats.dmn_import import criterion_from_dmn
from kijun.criteria.formats.excel import (
    ExcelError,
    criterion_from_workbook,
    read_metadata,
    version_to_workbook,
)
from kijun.criteria.formats.yaml import load_path, loads
from kijun.criteria.formats.yaml_export import criterion_to_yaml
from kijun.criteria.model import LIFE_EVENTS, Criterion, parse_life_events, validate_criterion
from kijun.criteria.search import SearchIndex
from kijun.store import db, get_criterion, save_criterion
from kijun.web.app import create_app

from .conftest import Samples
from .webclient import Browser, add_user

ROOT = Path(__file__).resolve().parent.parent

DOC = textwrap.dedent("""\
    id: tennyu-jidou
    name: 転入した子の手当
    department: こども・長寿課
    life_events: [引越し, 出生・こども]
    versions:
      - effective_from: 2024-04-01
        decisions:
          - name: 判定
            inputs: [{name: 転入, type: boolean}]
            outputs: [{name: 対象, type: boolean}]
            rules:
              - {when: {転入: true}, then: {対象: true}, basis: 第2条}
              - {when: {転入: false}, then: {対象: false}, basis: 第2条}
""")


def _criterion(*events: str) -> Criterion:
    return replace(Samples.criterion(), life_events=events)


# -- the vocabulary and the model ----------------------------------------------------------------


def test_the_vocabulary_is_the_digital_agencys_classification() -> None:
    assert LIFE_EVENTS == (
        "妊娠", "出生・こども", "引越し", "就職・転職", "結婚・離婚", "自動車の購入・保有",
        "住宅の購入・保有", "介護", "医療・健康", "税金", "年金の受給", "死亡・相続", "その他",
    )


def test_parse_normalises_orders_and_deduplicates() -> None:
    # half-width katakana middle dot and surrounding spaces read like the canonical form
    assert parse_life_events(["死亡・相続", " 出生･こども ", "引越し", "死亡・相続", ""]) == (
        "出生・こども", "引越し", "死亡・相続"
    )
    assert parse_life_events([]) == ()


def test_an_unknown_life_event_is_refused_naming_the_field_and_the_value() -> None:
    with pytest.raises(ModelError) as e:
        parse_life_events(["出生・こども", "出産"])
    assert e.value.field == "life_events"
    assert str(e.value).startswith("life_events: unknown life event '出産' (use one of 妊娠, ")
    with pytest.raises(ModelError, match="expected the name of a life event, got int"):
        parse_life_events([3])


def test_validate_criterion_checks_life_events() -> None:
    validate_criterion(_criterion())  # none is fine: internal criteria concern no life event
    validate_criterion(_criterion("妊娠", "その他"))
    with pytest.raises(ModelError) as e:
        validate_criterion(_criterion("引っ越し"))
    assert e.value.field == "life_events"
    assert "criterion 'shussan-iwaikin': life_events: unknown life event '引っ越し'" in str(e.value)
    with pytest.raises(ModelError, match="life_events repeat"):
        validate_criterion(_criterion("引越し", "引越し"))


# -- kijun YAML -------------------------------------------------------------------------------


def test_yaml_reads_and_writes_life_events() -> None:
    c = loads(DOC)
    assert c.life_events == ("出生・こども", "引越し")  # in the vocabulary's order
    text = criterion_to_yaml(c)
    assert "life_events: [出生・こども, 引越し]\n" in text
    assert loads(text) == c


def test_yaml_without_life_events_writes_none() -> None:
    c = loads(DOC.replace("life_events: [引越し, 出生・こども]\n", ""))
    assert c.life_events == ()
    assert "life_events" not in criterion_to_yaml(c)


def test_yaml_accepts_one_word_and_full_width_forms() -> None:
    assert loads(DOC.replace("[引越し, 出生・こども]", "引越し")).life_events == ("引越し",)
    assert loads(DOC.replace("[引越し, 出生・こども]", "[ 出生･こども ]")).life_events == (
        "出生・こども",
    )


def test_yaml_errors_name_the_line_the_field_and_the_value() -> None:
    with pytest.raises(LoadError) as e:
        loads(DOC.replace("[引越し, 出生・こども]", "[引越し, 転職]"), file="x.yaml")
    assert (e.value.line, e.value.field) == (4, "life_events[1]")
    assert str(e.value).startswith("x.yaml:4: life_events[1]: unknown life event '転職' (use one")
    with pytest.raises(LoadError) as e:
        loads(DOC.replace("[引越し, 出生・こども]", "{引越し: true}"), file="x.yaml")
    assert e.value.field == "life_events" and "expected a list" in str(e.value)
    with pytest.raises(LoadError, match=r"life_events\[0\]: expected the name of a life event"):
        loads(DOC.replace("[引越し, 出生・こども]", "[1]"))


def test_the_json_form_keeps_life_events() -> None:
    c = loads(DOC)
    d = serial.criterion_to_dict(c)
    assert d["life_events"] == ["出生・こども", "引越し"]
    assert serial.criterion_from_dict(d) == c
    assert serial.criterion_to_dict(_criterion())["life_events"] == []
    without = {k: v for k, v in d.items() if k != "life_events"}  # stored before life events
    assert serial.criterion_from_dict(without).life_events == ()
    with pytest.raises(ModelError, match="unknown life event"):
        serial.criterion_from_dict({**d, "life_events": ["転居"]})


# -- DMN and Excel ----------------------------------------------------------------------------


def test_dmn_keeps_life_events_in_the_kijun_extension() -> None:
    c = replace(loads(DOC), life_events=("出生・こども", "死亡・相続"))
    xml = version_to_dmn(c, c.versions[0])
    assert 'life_events="出生・こども 死亡・相続"' in xml
    back = criterion_from_dmn(xml)
    assert back.life_events == c.life_events
    plain = replace(c, life_events=())
    assert "life_events" not in version_to_dmn(plain, plain.versions[0])
    assert criterion_from_dmn(version_to_dmn(plain, plain.versions[0])).life_events == ()


def test_dmn_with_an_unknown_life_event_is_refused() -> None:
    c = replace(loads(DOC), life_events=("引越し",))
    xml = version_to_dmn(c, c.versions[0]).replace('life_events="引越し"', 'life_events="転居"')
    with pytest.raises(DmnError, match=r"<kijun:criterion life_events=\.\.\.>: .*'転居'"):
        criterion_from_dmn(xml)


def test_excel_keeps_life_events_on_the_criterion_sheet() -> None:
    c = _criterion("出生・こども", "引越し")
    data = version_to_workbook(c, c.versions[0])
    sheet = load_workbook(io.BytesIO(data))["基準"]
    rows = {sheet.cell(r, 1).value: sheet.cell(r, 2).value for r in range(1, sheet.max_row + 1)}
    assert rows["ライフイベント"] == "出生・こども、引越し"
    assert read_metadata(data)["life_events"] == "出生・こども、引越し"
    back = criterion_from_workbook(data)
    assert back.life_events == c.life_events
    assert serial.criterion_to_dict(back)["life_events"] == ["出生・こども", "引越し"]
    plain = _criterion()
    assert criterion_from_workbook(version_to_workbook(plain, plain.versions[0])).life_events == ()


def _with_life_events(cell: str) -> bytes:
    c = _criterion()
    wb = load_workbook(io.BytesIO(version_to_workbook(c, c.versions[0])))
    sheet = wb["基準"]
    row = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "ライフイベント")
    sheet.cell(row, 2).value = cell
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_excel_reads_what_a_clerk_types() -> None:
    back = criterion_from_workbook(_with_life_events("引越し，出生･こども\n死亡・相続 その他"))
    assert back.life_events == ("出生・こども", "引越し", "死亡・相続", "その他")


def test_excel_with_an_unknown_life_event_names_the_cell() -> None:
    with pytest.raises(ExcelError) as e:
        criterion_from_workbook(_with_life_events("引越し、転居"))
    (problem,) = e.value.problems
    assert (problem.sheet, problem.cell) == ("基準", "B12")
    assert "ライフイベントは次から選んで" in problem.message_ja
    assert "life_events: unknown life event '転居'" in problem.message_en


# -- search and content -----------------------------------------------------------------------


def test_search_finds_life_event_words() -> None:
    index = SearchIndex([_criterion("引越し"), replace(_criterion(), id="other")])
    hits = index.search("引越し")
    assert [h.criterion_id for h in hits] == ["shussan-iwaikin"]
    assert hits[0].fields[0].label == "ライフイベント"


def test_nagi_criteria_are_tagged() -> None:
    tagged = {c.id: c.life_events for c in load_path(ROOT / "content" / "nagi")}
    assert tagged["tennyu-tetsuzuki"] == ("引越し",)
    assert tagged["sousaihi"] == ("死亡・相続",)
    assert tagged["jidou-teate"] == ("出生・こども", "引越し")
    assert tagged["jimu-kessai"] == () and tagged["shougaku-zuii-keiyaku"] == ()
    assert all(tagged[c] for c in tagged if c not in ("jimu-kessai", "shougaku-zuii-keiyaku"))


# -- the web editor: a new criterion ------------------------------------------------------------


def test_an_author_sets_life_events_on_a_new_criterion(engine: Engine, database_url: str) -> None:
    add_user(engine, "author", "author", department="こども・長寿課")
    with Browser(create_app(database_url)) as b:
        b.log_in("author")
        page = b.get("/criteria/new").text
        for event in LIFE_EVENTS:
            assert f'name="life_events" value="{event}"' in page
        base = {"id": "ninshin-shien", "name": "妊婦支援給付", "effective_from": "令和8年4月1日"}
        # a refused form keeps the boxes ticked
        r = b.post("/criteria/new", data={**base, "name": "",
                                          "life_events": ["出生・こども", "妊娠"]})
        assert r.status_code == 422
        assert 'value="妊娠" checked' in r.text and 'value="出生・こども" checked' in r.text
        assert 'value="引越し" checked' not in r.text
        # a value outside the list (a tampered form) is refused next to the boxes
        r = b.post("/criteria/new", data={**base, "life_events": ["妊娠", "転居"]})
        assert r.status_code == 422 and "ライフイベントは一覧の中から選んでください" in r.text
        r = b.post("/criteria/new", data={**base, "life_events": ["出生・こども", "妊娠"]},
                   follow_redirects=False)
        assert r.status_code == 303
        r = b.post("/criteria/new", data={**base, "id": "naibu"}, follow_redirects=False)
        assert r.status_code == 303
    with db.session_scope(engine) as session:
        assert get_criterion(session, "ninshin-shien").life_events == ("妊娠", "出生・こども")
        assert get_criterion(session, "naibu").life_events == ()


def test_an_author_changes_the_life_events_of_a_stored_criterion(
    engine: Engine, database_url: str
) -> None:
    with db.session_scope(engine) as session:
        save_criterion(session, loads(DOC), actor="test", justification="テスト")
    add_user(engine, "author", "author", department="こども・長寿課")
    add_user(engine, "outsider", "author", department="住民課")
    add_user(engine, "staff", "staff", department="こども・長寿課")
    url = "/criteria/tennyu-jidou/life-events"
    app = create_app(database_url)
    with Browser(app) as b:
        b.log_in("staff")
        assert "ライフイベントを変える" not in b.get("/criteria/tennyu-jidou").text
        assert b.post(url, data={"life_events": ["妊娠"]}).status_code == 403
    with Browser(app) as b:
        b.log_in("outsider")
        assert b.post(url, data={"life_events": ["妊娠"]}).status_code == 403
    with Browser(app) as b:
        b.log_in("author")
        page = b.get("/criteria/tennyu-jidou").text
        assert "ライフイベントを変える" in page
        assert 'value="引越し" checked' in page and 'value="妊娠" checked' not in page
        assert b.post(url, data={"life_events": ["妊娠"]}, csrf=None).status_code == 403
        r = b.post(url, data={"life_events": ["介護", "妊娠"]}, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/criteria/tennyu-jidou?done=life_events_saved#life-events"
        page = b.get(r.headers["location"]).text
        assert "ライフイベントを保存しました" in page and 'value="介護" checked' in page
        r = b.post(url, data={"life_events": ["妊娠", "介護"]}, follow_redirects=False)
        assert "done=life_events_unchanged" in r.headers["location"]
        assert b.post(url, data={"life_events": ["転居"]}).status_code == 422
        assert b.post(url, data={}, follow_redirects=False).status_code == 303  # none at all
    with db.session_scope(engine) as session:
        c = get_criterion(session, "tennyu-jidou")
    assert c.life_events == () and c.versions == loads(DOC).versions
