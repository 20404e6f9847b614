"""The web shell: pages in Japanese, decide and record, the JSON API, security headers.

Runs on every backend of the `engine` fixture (SQLite, and PostgreSQL when
KIJUN_TEST_DATABASE_URL is set). `client` is a browser logged in as a 窓口職員
(staff) whose form posts carry the session's CSRF token (tests/webclient.py);
API calls that change something use that user's bearer token (`api_auth`).
Login, roles and CSRF themselves are tested in tests/test_auth.py.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import textwrap
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine

from kijun.criteria.formats.yaml import loads
from kijun.criteria.normalise import to_wareki
from kijun.store import DecisionRecord, db, list_decisions, save_criterion
from kijun.store.errors import SchemaError
from kijun.store.events import kijun_log_id, load_event_log
from kijun.web.app import create_app
from tests.webclient import Browser, add_user, bearer

with warnings.catch_warnings():
    # starlette's TestClient warns about httpx itself on import; not our concern.
    warnings.filterwarnings("ignore", message=".*httpx.*", category=UserWarning)
    from fastapi.testclient import TestClient

SHUSSAN = textwrap.dedent("""\
    id: shussan-iwaikin
    name: 出産祝金
    department: こども・長寿課
    basis: 奈義町出産祝金支給条例
    description: 町に定住する保護者に出生児1人につき祝金を支給する。
    life_events: [出生・こども]
    versions:
      - effective_from: 2004-04-01
        note: 制定時
        decisions:
          - name: 支給判定
            hit_policy: UNIQUE
            inputs:
              - {name: 定住, type: boolean}
              - {name: 出生順位, type: number}
              - {name: 住居, type: string, allowed: [持家, 借家]}
            outputs:
              - {name: 判定, type: string, allowed: [支給, 不支給]}
              - {name: 支給額, type: number}
            rules:
              - {when: {定住: true, 出生順位: ">= 1"}, then: {判定: 支給, 支給額: 50000}, basis: 旧第3条}
              - {when: {定住: false, 出生順位: ">= 1"}, then: {判定: 不支給, 支給額: 0}, basis: 旧第3条ただし書}
      - effective_from: 2024-04-01
        note: 第3子以降を増額
        decisions:
          - name: 支給判定
            hit_policy: UNIQUE
            inputs:
              - {name: 定住, type: boolean}
              - {name: 出生順位, type: number}
              - {name: 住居, type: string, allowed: [持家, 借家]}
            outputs:
              - {name: 判定, type: string, allowed: [支給, 不支給]}
              - {name: 支給額, type: number}
            rules:
              - when: {定住: true, 出生順位: "[1..2]"}
                then: {判定: 支給, 支給額: 100000}
                basis: 第3条第1項
                annotation: 第1子・第2子
              - when: {定住: true, 出生順位: ">= 3"}
                then: {判定: 支給, 支給額: 300000}
                basis: 第3条第2項
                annotation: 第3子以降
              - {when: {定住: false, 出生順位: ">= 1"}, then: {判定: 不支給, 支給額: 0}, basis: 第4条}
""")

TENNYU = textwrap.dedent("""\
    id: tennyu-todoke
    name: 転入届の受理
    department: 住民課
    basis: 住民基本台帳法第22条
    life_events: [引越し]
    versions:
      - effective_from: 2019-05-01
        decisions:
          - name: 期限区分
            hit_policy: FIRST
            inputs:
              - {name: 経過日数, type: number}
              - {name: 転入日, type: date}
            outputs:
              - {name: 区分, type: string, allowed: [期限内, 期限後]}
            rules:
              - {when: {経過日数: "[0..14]"}, then: {区分: 期限内}, basis: 第22条第1項}
              - {when: {経過日数: "> 14"}, then: {区分: 期限後}, basis: 第22条第1項}
          - name: 対応
            hit_policy: UNIQUE
            inputs:
              - {name: 区分, type: string}
              - {name: 正当な理由, type: boolean}
            outputs:
              - {name: 対応, type: string}
            rules:
              - {when: {区分: 期限内}, then: {対応: 受理}, basis: 第22条}
              - {when: {区分: 期限後, 正当な理由: true}, then: {対応: 受理}, basis: 第52条第2項}
              - when: {区分: 期限後, 正当な理由: false}
                then: {対応: 受理し簡易裁判所へ通知}
                basis: 第52条第2項
                annotation: 過料事件の通知
""")

CONFLICT = textwrap.dedent("""\
    id: jutaku-hojo
    name: 住宅補助
    department: 企画課
    life_events: [住宅の購入・保有, 引越し]
    versions:
      - effective_from: 2020-04-01
        decisions:
          - name: 判定
            hit_policy: UNIQUE
            inputs: [{name: 年齢, type: number}]
            outputs: [{name: 対象, type: boolean}]
            rules:
              - {when: {年齢: "< 40"}, then: {対象: true}, basis: 第2条}
              - {when: {年齢: "> 30"}, then: {対象: false}, basis: 第3条}
""")

DECIDE = "/criteria/shussan-iwaikin/decide"
#: the logged-in clerk of the `client` fixture
CLERK = "madoguchi"


def facts_form(**fields: str) -> dict[str, str]:
    return {("on" if k == "on" else f"fact.{k}"): v for k, v in fields.items()}


@pytest.fixture
def client(engine: Engine, database_url: str) -> Iterator[TestClient]:
    with db.session_scope(engine) as session:
        for text in (SHUSSAN, TENNYU, CONFLICT):
            # these criteria have gaps and a conflict on purpose: the pages must show
            # exceptions and broken hit policies, so they are published with a justification
            save_criterion(session, loads(text), actor="test",
                           justification="テスト: 例外と規則の矛盾の表示を確かめる")
    add_user(engine, CLERK, "staff", department="住民課")
    with Browser(create_app(database_url)) as c:
        assert c.log_in(CLERK).status_code == 303
        yield c


@pytest.fixture
def api_auth(client: TestClient, engine: Engine) -> dict[str, str]:
    """The Authorization header of an API token of the `client` fixture's clerk."""
    return bearer(engine, CLERK)


def decisions(engine: Engine, criterion_id: str | None = None) -> list[DecisionRecord]:
    with db.session_scope(engine) as session:
        return list(list_decisions(session, criterion_id))


# -- catalogue --------------------------------------------------------------------------------


def test_catalogue_lists_each_criterion_with_its_version_in_force(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert '<html lang="ja">' in r.text
    page = _text(r.text)
    assert "出産祝金" in page and "こども・長寿課" in page and "奈義町出産祝金支給条例" in page
    row = _row(r.text, "出産祝金")
    # version 2 is in force today: its 施行日 in 和暦 and 西暦, and its 3 rules
    assert "第2版" in row and "令和6年4月1日" in row and "2024-04-01" in row
    assert re.search(r">\s*3\s*</td>", row)
    assert 'href="/criteria/shussan-iwaikin"' in r.text
    assert "住民課" in page and "転入届の受理" in page


def test_catalogue_filters_by_department(client: TestClient) -> None:
    r = client.get("/", params={"department": "住民課"})
    page = _text(r.text)
    assert "転入届の受理" in page and "出産祝金" not in page
    assert '<option value="住民課" selected>' in r.text
    assert "1件" in page


def test_an_empty_catalogue_says_how_to_load(engine: Engine, database_url: str) -> None:
    add_user(engine, "etsuran", "viewer")
    with Browser(create_app(database_url)) as c:
        c.log_in("etsuran")
        r = c.get("/")
    assert r.status_code == 200
    assert "判断基準はまだ登録されていません" in r.text


# -- criterion page ---------------------------------------------------------------------------


def test_criterion_page_shows_the_table_in_force_with_each_rules_basis(
    client: TestClient,
) -> None:
    r = client.get("/criteria/shussan-iwaikin")
    assert r.status_code == 200
    page = _text(r.text)
    assert "町に定住する保護者に出生児1人につき祝金を支給する。" in page
    assert "第2版の内容" in page
    for basis in ("第3条第1項", "第3条第2項", "第4条"):
        assert basis in page
    assert "旧第3条" not in page  # version 1 is not the one shown
    assert "第3子以降" in page  # 注記
    assert "[1..2]" in page  # the FEEL cell as written
    assert "一意（UNIQUE）" in page and "2つ以上の規則が該当した場合" in page
    assert '<th scope="row" class="rule-id">R2<span class="rule-number">規則2</span></th>' in r.text
    assert 'scope="colgroup"' in r.text and 'scope="col"' in r.text
    # the timeline: both versions, the first ended by the second's 施行日
    assert "平成16年4月1日（2004-04-01）" in page
    assert "第2版の施行による" in page
    assert page.count("公開中") >= 2 and "本日施行中" in page


def test_criterion_page_shows_another_version_on_request(client: TestClient) -> None:
    r = client.get("/criteria/shussan-iwaikin", params={"version": 1})
    page = _text(r.text)
    assert "第1版の内容" in page and "旧第3条ただし書" in page and "第3条第2項" not in page
    assert client.get("/criteria/shussan-iwaikin", params={"version": 9}).status_code == 404


def test_unknown_criterion_is_a_japanese_404(client: TestClient) -> None:
    r = client.get("/criteria/nai")
    assert r.status_code == 404
    assert "登録されていません" in r.text and 'lang="ja"' in r.text


# -- decide form ------------------------------------------------------------------------------


def test_decide_form_is_generated_from_the_input_types(client: TestClient) -> None:
    r = client.get(DECIDE)
    assert r.status_code == 200
    html = r.text
    assert re.search(r'<input type="text" id="fact-1" name="fact.出生順位"[^>]*inputmode="numeric"',
                     html)
    assert 'name="fact.定住" value="true"' in html and "はい" in html and "いいえ" in html
    assert re.search(r'<select id="fact-2" name="fact.住居"', html)
    assert '<option value="持家">持家</option>' in html
    # 判断日 defaults to today, in 和暦
    assert f'value="{to_wareki(dt.date.today())}"' in html
    _assert_every_field_labelled(html)


def test_a_decision_graph_asks_only_for_facts_and_offers_each_decision(
    client: TestClient,
) -> None:
    html = client.get("/criteria/tennyu-todoke/decide").text
    assert '<select id="decision-switch" name="decision">' in html
    assert '<option value="対応" selected>' in html
    assert 'name="fact.経過日数"' in html and 'name="fact.正当な理由"' in html
    assert 'name="fact.区分"' not in html  # produced by 期限区分, not asked for
    assert "令和6年4月1日" in html  # the date hint
    other = client.get("/criteria/tennyu-todoke/decide", params={"decision": "期限区分"}).text
    assert 'name="fact.正当な理由"' not in other and 'name="fact.転入日"' in other


def test_decide_posts_show_the_outcome_its_basis_and_are_stored(
    client: TestClient, engine: Engine
) -> None:
    form = facts_form(定住="true", 出生順位="３", 住居="持家", on="令和7年4月1日")
    r = client.post(DECIDE, data=form)
    assert r.status_code == 200
    page = _text(r.text)
    assert "判定結果" in page and "300000" in page and "支給" in page
    assert "第3条第2項" in page and "第3子以降" in page  # 根拠 and 注記 of the rule applied
    assert "第2版" in page and "令和7年4月1日（2025-04-01）" in page
    assert "✓" in page and "満たす" in page  # the trace
    [stored] = decisions(engine, "shussan-iwaikin")
    assert stored.actor == CLERK and stored.status == "decided"  # the clerk who decided
    assert stored.matched == ("R2",) and stored.version_number == 2
    assert stored.facts == {"定住": True, "出生順位": 3, "住居": "持家"}
    assert stored.on == dt.date(2025, 4, 1)
    assert f"記録番号{stored.id}" in page.replace(" ", "")
    # the decision is listed on the criterion page, without its facts
    listed = client.get("/criteria/shussan-iwaikin").text
    assert "最近の判断" in listed and "300000" in listed and "持家" not in _row(listed, "R2")


def test_the_version_in_force_on_the_date_decides(client: TestClient) -> None:
    form = facts_form(定住="はい", 出生順位="1", 住居="借家", on="R5.4.1")
    page = _text(client.post(DECIDE, data=form).text)
    assert "50000" in page and "旧第3条" in page and "第1版" in page


def test_an_exception_names_the_inputs_outside_every_rule(
    client: TestClient, engine: Engine
) -> None:
    form = facts_form(定住="true", 出生順位="0", 住居="持家", on="2025-04-01")
    r = client.post(DECIDE, data=form)
    assert r.status_code == 200
    assert 'class="notice notice--exception"' in r.text
    page = _text(r.text)
    assert "該当する規則がありません" in page
    assert "決裁権限のある職員" in page
    outside = re.search(r'<ul class="outside">(.*?)</ul>', r.text, re.S)
    assert outside is not None and "出生順位" in outside.group(1) and "定住" not in outside.group(1)
    [stored] = decisions(engine, "shussan-iwaikin")
    assert stored.status == "exception" and stored.matched == ()


def test_a_mistyped_fact_is_shown_in_japanese_and_the_values_are_kept(
    client: TestClient, engine: Engine
) -> None:
    form = facts_form(定住="true", 出生順位="たくさん", on="令和7年4月1日")  # 住居 left out
    r = client.post(DECIDE, data=form)
    assert r.status_code == 422
    html = r.text
    assert "入力内容を確認してください（2件）" in html
    assert re.search(r'id="fact-1-error">数値で入力してください', html)
    assert re.search(r'id="fact-2-error">選択してください', html)
    assert 'value="たくさん"' in html  # what was typed is kept
    assert 'name="fact.定住" value="true" checked' in html
    assert 'value="令和7年4月1日"' in html
    assert 'aria-invalid="true"' in html
    assert decisions(engine) == []  # nothing stored


def test_no_value_is_chosen_explicitly_and_decides_nothing_by_itself(
    client: TestClient, engine: Engine
) -> None:
    html = client.get(DECIDE).text
    assert 'name="fact.定住" value="__null__"' in html  # 不明・該当しない
    assert 'name="null.出生順位" value="1"' in html
    form = {**facts_form(定住="__null__", 出生順位="", 住居="持家", on="2025-04-01"),
            "null.出生順位": "1"}
    page = _text(client.post(DECIDE, data=form).text)
    assert "該当する規則がありません" in page
    [stored] = decisions(engine)
    assert stored.facts == {"定住": None, "出生順位": None, "住居": "持家"}
    both = {**facts_form(定住="true", 出生順位="2", 住居="持家", on="2025-04-01"),
            "null.出生順位": "1"}
    r = client.post(DECIDE, data=both)
    assert r.status_code == 422 and "どちらか一方にしてください" in r.text
    assert 'name="null.出生順位" value="1" checked' in r.text


def test_a_date_that_is_not_a_date_is_refused(client: TestClient, engine: Engine) -> None:
    form = facts_form(定住="true", 出生順位="1", 住居="持家", on="来週の月曜")
    r = client.post(DECIDE, data=form)
    assert r.status_code == 422
    assert re.search(r'id="on-error">判断日は日付で入力してください', r.text)
    assert decisions(engine) == []


def test_a_date_before_every_version_says_so(client: TestClient) -> None:
    form = facts_form(定住="true", 出生順位="1", 住居="持家", on="平成10年4月1日")
    r = client.post(DECIDE, data=form)
    assert r.status_code == 422
    assert "施行されている版がありません" in r.text


def test_edit_shows_the_form_again_with_the_values(client: TestClient, engine: Engine) -> None:
    form = {**facts_form(定住="false", 出生順位="2", 住居="借家", on="2025-04-01"),
            "_action": "edit"}
    r = client.post(DECIDE, data=form)
    assert r.status_code == 200
    assert 'name="fact.定住" value="false" checked' in r.text
    assert '<option value="借家" selected>' in r.text
    assert decisions(engine) == []


def test_decision_graph_decides_through_the_web(client: TestClient) -> None:
    form = {**facts_form(経過日数="20", 転入日="令和6年4月1日", 正当な理由="false",
                        on="2025-04-01"), "decision": "対応"}
    page = _text(client.post("/criteria/tennyu-todoke/decide", data=form).text)
    assert "受理し簡易裁判所へ通知" in page and "過料事件の通知" in page
    assert "前提となった判断の規則" in page and "第22条第1項" in page


def test_a_broken_hit_policy_is_not_a_decision(client: TestClient, engine: Engine) -> None:
    r = client.post("/criteria/jutaku-hojo/decide", data=facts_form(年齢="35", on="2025-04-01"))
    assert r.status_code == 422
    page = _text(r.text)
    assert "判断基準の規則が矛盾しています" in page and "R1、R2" in page
    assert decisions(engine) == []


def test_facts_are_not_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client.post(DECIDE, data=facts_form(定住="true", 出生順位="987654321", 住居="持家",
                                        on="2025-04-01"))
    client.post(DECIDE, data=facts_form(定住="true", 出生順位="98765x", on="2025-04-01"))
    assert "987654321" not in caplog.text and "98765x" not in caplog.text


# -- JSON API ---------------------------------------------------------------------------------


def test_api_lists_criteria(client: TestClient) -> None:
    r = client.get("/api/criteria")
    assert r.status_code == 200
    by_id = {c["id"]: c for c in r.json()["criteria"]}
    assert by_id["shussan-iwaikin"] == {
        "id": "shussan-iwaikin", "name": "出産祝金", "department": "こども・長寿課",
        "life_events": ["出生・こども"],
        "versions": 2, "current_version": 2, "current_effective_from": "2024-04-01",
    }
    only = client.get("/api/criteria", params={"department": "住民課"}).json()["criteria"]
    assert [c["id"] for c in only] == ["tennyu-todoke"]


def test_api_filters_by_life_event(client: TestClient) -> None:
    def ids(**params: str) -> list[str]:
        r = client.get("/api/criteria", params=params)
        assert r.status_code == 200
        return [c["id"] for c in r.json()["criteria"]]

    assert ids(life_event="引越し") == ["jutaku-hojo", "tennyu-todoke"]
    assert ids(life_event="出生･こども") == ["shussan-iwaikin"]  # half-width ･ is read as ・
    assert ids(life_event="引越し", department="住民課") == ["tennyu-todoke"]
    assert ids(life_event="介護") == []
    assert len(ids(life_event="")) == 3
    r = client.get("/api/criteria", params={"life_event": "転居"})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "unknown_life_event" and "'転居'" in error["message"]
    assert error["known"][:3] == ["妊娠", "出生・こども", "引越し"]
    params = client.get("/openapi.json").json()["paths"]["/api/criteria"]["get"]["parameters"]
    assert {p["name"] for p in params} >= {"department", "life_event"}


def test_api_decides_and_records(
    client: TestClient, engine: Engine, api_auth: dict[str, str]
) -> None:
    body = {"facts": {"定住": True, "出生順位": 1, "住居": "持家", "不要な事実": "x"},
            "on": "2025-04-01"}
    r = client.post("/api/criteria/shussan-iwaikin/decide", json=body, headers=api_auth)
    assert r.status_code == 200
    data = r.json()
    assert data["status"] == "decided"
    assert data["outputs"] == {"判定": "支給", "支給額": 100000}
    assert data["matched"] == ["R1"]
    assert data["basis"] == [{"decision": "支給判定", "rule": "R1", "basis": "第3条第1項"}]
    assert data["version"]["number"] == 2 and data["on"] == "2025-04-01"
    assert data["trace"][0]["rules"][0]["tests"][0] == {
        "input": "定住", "test": "true", "value": True, "result": True}
    [stored] = decisions(engine)
    assert stored.id == data["decision_id"] and stored.actor == CLERK  # the token's user
    assert "不要な事実" not in stored.facts  # only the facts the decision reads

    # and one event in kijun's own log: who decided, in which 課 and role, never the facts
    with db.session_scope(engine) as session:
        log = load_event_log(session, kijun_log_id(session))
    rows = log.events.filter(pl.col("case") == f"decision/{stored.id}").to_dicts()
    assert [(r["activity"], r["resource"], r["role"], r["department"]) for r in rows] == [
        ("判断", CLERK, "staff", "住民課")]
    assert "持家" not in json.dumps(rows, ensure_ascii=False, default=str)


def test_api_exception_is_a_result(client: TestClient, api_auth: dict[str, str]) -> None:
    r = client.post("/api/criteria/shussan-iwaikin/decide",
                    json={"facts": {"定住": True, "出生順位": 0, "住居": "持家"}}, headers=api_auth)
    assert r.status_code == 200
    assert r.json()["status"] == "exception"
    assert r.json()["exception"]["inputs_outside"] == ["出生順位"]


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/criteria/nai/decide", {"facts": {}}, 404, "not_found"),
        ("/api/criteria/shussan-iwaikin/decide", {"facts": {"定住": True}}, 422, "fact_error"),
        ("/api/criteria/shussan-iwaikin/decide",
         {"facts": {"定住": "たぶん", "出生順位": 1, "住居": "持家"}}, 422, "fact_error"),
        ("/api/criteria/shussan-iwaikin/decide", {"fact": {}}, 422, "invalid_request"),
        ("/api/criteria/shussan-iwaikin/decide", {"facts": {}, "on": "someday"}, 422,
         "invalid_date"),
        ("/api/criteria/shussan-iwaikin/decide", {"facts": {}, "on": "1990-01-01"}, 422,
         "no_version"),
        ("/api/criteria/shussan-iwaikin/decide", {"facts": {}, "decision": "なし"}, 422,
         "unknown_decision"),
        ("/api/criteria/jutaku-hojo/decide", {"facts": {"年齢": 35}}, 422,
         "hit_policy_violation"),
    ],
)
def test_api_errors(
    client: TestClient, api_auth: dict[str, str], path: str, body: dict[str, object],
    status: int, code: str
) -> None:
    r = client.post(path, json=body, headers=api_auth)
    assert r.status_code == status
    error = r.json()["error"]
    assert error["code"] == code and error["message"]
    assert "たぶん" not in r.text  # a fact's value is never echoed


def test_api_unknown_route_is_json(client: TestClient) -> None:
    r = client.get("/api/nothing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


# -- security and assets ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/criteria/shussan-iwaikin", "/api/criteria",
                                  "/static/kijun.css", "/healthz", "/criteria/nai"])
def test_security_headers(client: TestClient, path: str) -> None:
    h = client.get(path).headers
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "same-origin"
    assert "default-src 'self'" in h["content-security-policy"]
    assert "script-src 'none'" in h["content-security-policy"]


def test_pages_are_not_cached_but_assets_may_be(client: TestClient) -> None:
    assert client.get("/").headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/static/kijun.css").headers.get("cache-control", "")


def test_a_post_from_another_site_is_refused(client: TestClient, engine: Engine) -> None:
    form = facts_form(定住="true", 出生順位="1", 住居="持家", on="2025-04-01")
    r = client.post(DECIDE, data=form, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    ok = client.post(DECIDE, data=form, headers={"Origin": "http://testserver"})
    assert ok.status_code == 200
    assert len(decisions(engine)) == 1


def test_no_page_refers_to_an_external_url(client: TestClient) -> None:
    result = client.post(DECIDE, data=facts_form(定住="true", 出生順位="1", 住居="持家",
                                                 on="2025-04-01"))
    pages = [client.get(p) for p in ("/", "/criteria/shussan-iwaikin", DECIDE,
                                      "/criteria/tennyu-todoke/decide", "/static/kijun.css")]
    for r in [*pages, result]:
        assert r.status_code == 200
        assert not re.search(r"https?://", r.text), r.url
        assert not re.search(r"""(?:href|src|action)=["']//""", r.text)  # protocol-relative
    # no CDN-backed docs: the OpenAPI schema is served, Swagger UI is not
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").json()["paths"]["/api/criteria"]


def test_static_files_are_served_by_kijun(client: TestClient) -> None:
    css = client.get("/static/kijun.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert "#0017c1" in css.text.lower() and "@import" not in css.text and "url(" not in css.text


def test_startup_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaError), TestClient(app):
        pass


# -- helpers ----------------------------------------------------------------------------------


def _text(html: str) -> str:
    """The visible text of a page, tags removed and white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _row(html: str, needle: str) -> str:
    for row in re.findall(r"<tr>.*?</tr>", html, re.S):
        if needle in row:
            return str(row)
    raise AssertionError(f"no table row with {needle!r}")


class _Fields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.ids.append(a.get("id") or "")
        if tag == "label" and a.get("for"):
            self.labelled.add(a["for"] or "")


def _assert_every_field_labelled(html: str) -> None:
    p = _Fields()
    p.feed(html)
    assert p.ids and all(p.ids)
    assert set(p.ids) <= p.labelled, set(p.ids) - p.labelled


# -- verification and a draft's effect on the criterion page -------------------------------------


def test_findings_are_shown_next_to_the_rules_they_concern(client: TestClient) -> None:
    r = client.get("/criteria/shussan-iwaikin")
    page = _text(r.text)
    assert "検証結果" in page and "要修正" in page
    # the gap between 第2子 and 第3子 (numbers are not only whole) and below 1
    assert "出生順位が" in page and "該当する規則がありません" in page
    r = client.get("/criteria/jutaku-hojo")
    page = _text(r.text)
    assert "規則1と規則2" in page and "異なる結果" in page
    # each rule row links to its findings, each finding back to its rules
    assert 'href="#finding-1-1"' in r.text and 'href="#rule-1-1"' in r.text
    assert 'id="rule-1-2" class="has-findings"' in r.text


DRAFTED = textwrap.dedent("""\
    id: kessai
    name: 支出負担行為の決裁区分
    department: 総務課
    versions:
      - effective_from: 2024-04-01
        decisions:
          - name: 決裁者
            hit_policy: UNIQUE
            inputs: [{name: 金額, type: number}]
            outputs: [{name: 決裁者, type: string}]
            rules:
              - {when: {金額: "< 1000000"}, then: {決裁者: 課長}, basis: 規程第5条}
              - {when: {金額: ">= 1000000"}, then: {決裁者: 副町長}, basis: 規程第6条}
      - effective_from: 2026-04-01
        status: draft
        decisions:
          - name: 決裁者
            hit_policy: UNIQUE
            inputs: [{name: 金額, type: number}]
            outputs: [{name: 決裁者, type: string}]
            rules:
              - {when: {金額: "< 3000000"}, then: {決裁者: 課長}, basis: 規程第5条（改正）}
              - {when: {金額: ">= 3000000"}, then: {決裁者: 副町長}, basis: 規程第6条}
    tests:
      - name: 200万円の物品購入
        input: {金額: 2000000}
        on: 2025-04-01
        expect: {決裁者: 副町長}
      - name: 50万円
        input: {金額: 500000}
        on: 2025-04-01
        expect: {決裁者: 課長}
""")


def test_a_draft_shows_what_it_changes_against_the_published_version(
    client: TestClient, engine: Engine
) -> None:
    with db.session_scope(engine) as session:
        save_criterion(session, loads(DRAFTED), actor="test")
    r = client.get("/criteria/kessai", params={"version": 2})
    assert r.status_code == 200
    page = _text(r.text)
    assert "公開中の第1版との違い" in page
    assert "規則 R1 の変更" in page
    assert "金額が1000000円以上3000000円未満の場合: 決裁者「副町長」 → 決裁者「課長」" in page
    assert "テストケース2件のうち 1件 の結果が変わります" in page
    assert "200万円の物品購入" in page
    # the published version itself has no comparison
    assert "との違い" not in _text(client.get("/criteria/kessai", params={"version": 1}).text)


def test_catalogue_search_finds_words_inside_rules(client: TestClient) -> None:
    r = client.get("/", params={"q": "第22条"})
    assert r.status_code == 200
    page = _text(r.text)
    assert "「第22条」の検索結果 1件" in page and "一致：" in page
    assert "/criteria/tennyu-todoke" in r.text and "/criteria/shussan-iwaikin" not in r.text
    r = client.get("/", params={"q": "祝金"})
    assert "/criteria/shussan-iwaikin" in r.text and "/criteria/tennyu-todoke" not in r.text
    r = client.get("/", params={"q": "存在しない言葉"})
    assert "条件に当てはまる判断基準はありません" in _text(r.text)


def test_catalogue_filters_by_life_event(client: TestClient) -> None:
    r = client.get("/")
    # only the life events some criterion names, in the vocabulary's order
    options = re.findall(r'<option value="([^"]*)"',
                         r.text.split('id="life_event"')[1].split("</select>")[0])
    assert options == ["", "出生・こども", "引越し", "住宅の購入・保有"]
    assert "出生・こども" in _row(r.text, "出産祝金")
    assert "引越し、住宅の購入・保有" in _row(r.text, "住宅補助")  # the vocabulary's order
    r = client.get("/", params={"life_event": "引越し"})
    page = _text(r.text)
    assert "/criteria/tennyu-todoke" in r.text and "/criteria/jutaku-hojo" in r.text
    assert "/criteria/shussan-iwaikin" not in r.text
    assert '<option value="引越し" selected>' in r.text
    assert "ライフイベント「引越し」：2件" in page and "条件を解除" in page
    r = client.get("/", params={"life_event": "出生・こども"})
    assert "/criteria/shussan-iwaikin" in r.text and "1件" in _text(r.text)
    assert "/criteria/tennyu-todoke" not in r.text


def test_catalogue_life_event_filter_combines_with_the_others(client: TestClient) -> None:
    def shown(**params: str) -> set[str]:
        r = client.get("/", params=params)
        assert r.status_code == 200
        return set(re.findall(r'<a href="/criteria/([a-z-]+)">', r.text))

    assert shown(life_event="引越し") == {"tennyu-todoke", "jutaku-hojo"}
    assert shown(life_event="引越し", department="住民課") == {"tennyu-todoke"}
    assert shown(life_event="引越し", department="こども・長寿課") == set()
    assert shown(life_event="引越し", q="補助") == {"jutaku-hojo"}
    assert shown(life_event="引越し", status="in_force") == {"tennyu-todoke", "jutaku-hojo"}
    assert shown(life_event="引越し", status="draft") == set()
    assert shown(life_event="介護") == set()  # in the vocabulary, named by no criterion
    # a word outside the vocabulary filters nothing, like an unknown status
    assert shown(life_event="転居") == {"tennyu-todoke", "jutaku-hojo", "shussan-iwaikin"}
    # the search box finds life-event words too
    r = client.get("/", params={"q": "引越し"})
    assert set(re.findall(r'<a href="/criteria/([a-z-]+)">', r.text)) == {
        "tennyu-todoke", "jutaku-hojo"}
    assert "一致：ライフイベント" in _text(r.text)


def test_criterion_page_shows_life_events(client: TestClient) -> None:
    r = client.get("/criteria/jutaku-hojo")
    assert "ライフイベント" in r.text
    assert ('<dt>ライフイベント</dt><dd><a href="/?life_event=%E5%BC%95%E8%B6%8A%E3%81%97">引越し</a>、'
            '<a href="/?life_event=%E4%BD%8F%E5%AE%85%E3%81%AE%E8%B3%BC%E5%85%A5%E3%83%BB'
            '%E4%BF%9D%E6%9C%89">住宅の購入・保有</a></dd>') in r.text
    assert "ライフイベント 引越し 識別子" in _text(client.get("/criteria/tennyu-todoke").text)


def test_catalogue_filters_by_status(client: TestClient) -> None:
    page = client.get("/", params={"status": "in_force"}).text
    assert "/criteria/shussan-iwaikin" in page
    page = client.get("/", params={"status": "draft"}).text
    assert "/criteria/shussan-iwaikin" not in page


def test_api_version_and_check(client: TestClient, api_auth: dict[str, str]) -> None:
    r = client.get("/api/criteria/shussan-iwaikin/versions/2")
    assert r.status_code == 200
    body = r.json()
    assert body["criterion"] == "shussan-iwaikin" and body["number"] == 2
    assert body["decisions"][0]["rules"][0]["basis"] == "第3条第1項"
    r = client.get("/api/criteria/shussan-iwaikin/versions/9")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.post("/api/criteria/shussan-iwaikin/check", json={"version": 2}, headers=api_auth)
    assert r.status_code == 200
    report = r.json()
    assert report["has_errors"] is True
    gaps = [f for f in report["findings"] if f["kind"] == "gap"]
    assert gaps and all(f["message_ja"] for f in gaps)
    r = client.post("/api/criteria/jutaku-hojo/check", headers=api_auth)
    assert any(f["kind"] == "conflict" for f in r.json()["findings"])
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/criteria/{criterion_id}/check" in paths
    assert "/api/criteria/{criterion_id}/versions/{number}" in paths


def test_criterion_page_runs_and_shows_the_test_cases(client: TestClient, engine: Engine) -> None:
    with db.session_scope(engine) as session:
        save_criterion(session, loads(DRAFTED), actor="test")
    page = _text(client.get("/criteria/kessai").text)
    assert "テストケース" in page and "200万円の物品購入" in page
    assert "2件中 2件が期待どおり" in page
