"""The measurement dashboard in the browser (kijun.web.measure, kijun.web.charts).

Runs on every backend of the `engine` fixture. The shared receipt log
(../shared/data/event-logs/receipt.xes.gz; Buijs, J.C.A.M., CoSeLoG project,
4TU.ResearchData) is uploaded where a real log is needed; those tests skip
when it is absent.
"""

from __future__ import annotations

import csv
import gzip
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select

from kijun.criteria.model import VersionStatus
from kijun.measure import read_xes
from kijun.store import db, publish_version, return_draft, save_criterion, submit_draft
from kijun.store.models import AuditEntryRow, EventCaseRow, EventLogRow, EventRow
from kijun.web import charts
from kijun.web.app import create_app
from kijun.web.measure import csv_bytes, duration_ja, fmt_difference, fmt_metric
from tests.conftest import Samples
from tests.webclient import Browser, add_user

LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "event-logs"
DEPARTMENT = "こども・長寿課"
ALLOWED = ("kanri", "shounin", "sakusei", "etsuran")


def log_path(name: str) -> Path:
    path = LOGS / name
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/data/event-logs is not here)")
    return path


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def app(engine: Engine, database_url: str) -> Iterator[FastAPI]:
    add_user(engine, "kanri", "admin", department="総務課")
    add_user(engine, "shounin", "approver", department=DEPARTMENT)
    add_user(engine, "sakusei", "author", department=DEPARTMENT)
    add_user(engine, "etsuran", "viewer", department="企画課")
    add_user(engine, "madoguchi", "staff", department=DEPARTMENT)
    with db.session_scope(engine) as s:
        save_criterion(s, Samples.criterion(
            Samples.version(1, "2004-04-01"),
            Samples.version(2, "2026-04-01", status=VersionStatus.DRAFT)), actor="sakusei")
        submit_draft(s, "shussan-iwaikin", 2, actor="sakusei")
        return_draft(s, "shussan-iwaikin", 2, actor="shounin", reason="条文を確認")
        submit_draft(s, "shussan-iwaikin", 2, actor="sakusei")
        publish_version(s, "shussan-iwaikin", 2, actor="shounin")
    yield create_app(database_url)


@pytest.fixture
def admin(app: FastAPI) -> Iterator[Browser]:
    with Browser(app) as b:
        b.log_in("kanri")
        yield b


def _counts(engine: Engine) -> tuple[int, ...]:
    with db.session_scope(engine) as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) or 0
                     for m in (EventLogRow, EventCaseRow, EventRow, AuditEntryRow))


def _upload(b: Browser, filename: str, content: bytes, **fields: str) -> Any:
    return b.post("/measure/import", data=dict(fields), files={"file": (filename, content)},
                  follow_redirects=False)


def _import_receipt(b: Browser) -> str:
    r = _upload(b, "receipt.xes.gz", log_path("receipt.xes.gz").read_bytes(), name="WABO 受付")
    assert r.status_code == 303, r.text
    found = re.search(r"log=(\d+)", r.headers["location"])
    assert found
    return found.group(1)


def _csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


# -- who may see it -------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ALLOWED)
def test_the_dashboard_shows_kijuns_own_log_to_each_role_allowed(app: FastAPI,
                                                                 login: str) -> None:
    with Browser(app) as b:
        b.log_in(login)
        home = b.get("/").text
        assert 'href="/measure"' in home and "業務の計測" in home
        r = b.get("/measure")
        assert r.status_code == 200
        text = _text(r.text)
        assert "kijun の記録" in text
        # the review cycle: 2 cases (v1 published by the file, v2 reviewed), one returned
        assert "案件数 2件" in text and "差し戻し率 50.0%" in text and "一発完了率 50.0%" in text
        assert "sakusei" in text and "shounin" in text  # the hand-off matrix
        assert 'class="chart"' in r.text and "<title id=\"chart-cases-title\">" in r.text
        assert not re.search(r"https?://", r.text)
        assert "<script" not in r.text


def test_plain_counter_staff_do_not_see_it(app: FastAPI) -> None:
    with Browser(app) as b:
        b.log_in("madoguchi")
        assert "業務の計測" not in b.get("/").text
        for path in ("/measure", "/measure/metrics.csv", "/measure/months.csv",
                     "/measure/logs/kijun/export.xes", "/measure/import"):
            assert b.get(path).status_code == 403, path


def test_only_approvers_and_admins_import_and_only_admins_delete(app: FastAPI,
                                                                 engine: Engine) -> None:
    with Browser(app) as b:
        b.log_in("sakusei")
        assert b.get("/measure/import").status_code == 403
        assert "ファイルからイベントログを取り込む" not in b.get("/measure").text
        b.log_in("etsuran")
        assert b.get("/measure/import").status_code == 403
        b.log_in("shounin")
        assert b.get("/measure/import").status_code == 200
        at = "2026-04-01T09:00:00+09:00"
        xes = (f'<log><trace><string key="concept:name" value="1"/><event>'
               f'<string key="concept:name" value="受付"/><date key="time:timestamp" '
               f'value="{at}"/></event></trace></log>').encode()
        r = _upload(b, "small.xes", xes)
        assert r.status_code == 303
        log_id = re.search(r"log=(\d+)", r.headers["location"]).group(1)  # type: ignore[union-attr]
        assert b.post(f"/measure/logs/{log_id}/delete", data={}).status_code == 403
        b.log_in("kanri")
        r = b.post(f"/measure/logs/{log_id}/delete", data={}, follow_redirects=False)
        assert r.status_code == 303
    with db.session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(EventLogRow)) == 1  # kijun's own


# -- an imported log ------------------------------------------------------------------------------


def test_an_imported_log_shows_its_metrics_trends_and_handoffs(admin: Browser) -> None:
    log_id = _import_receipt(admin)
    r = admin.get("/measure", params={"log": log_id, "done": "imported"})
    assert r.status_code == 200
    text = _text(r.text)
    assert "イベントログを取り込みました" in text
    assert "WABO 受付" in text and "receipt.xes.gz" in text
    for shown in ("案件数 1,434件", "イベント数 8,577件", "一発完了率 93.7%",
                  "差し戻し率 6.3%", "リードタイム（平均） 5.4日", "リードタイム（中央値） 48分",
                  "リードタイム（90パーセンタイル） 14.1日", "1件あたりの引き継ぎ回数 0.84回",
                  "上位3人の担当割合 27.5%", "2011年7月 116件"):
        assert shown in text, shown
    # every chart is an image labelled by its own title and description, with a table beside it
    svgs = re.findall(r"<svg[^>]*>.*?</svg>", r.text, re.S)
    assert len(svgs) == 6  # five monthly charts and the hand-off matrix
    for svg in svgs:
        chart_id = re.search(r'id="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
        assert 'role="img"' in svg
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in svg
        assert f'<title id="{chart_id}-title">' in svg and f'<desc id="{chart_id}-desc">' in svg
    assert r.text.count("この図の数値（表）") == 5
    assert "担当者間の引き継ぎの回数（行から列へ）" in text and "その他" in text
    five = admin.get("/measure", params={"log": log_id, "top": "5"}).text
    matrix = re.search(r'<table class="table table--compact measure-matrix">.*?</table>', five,
                       re.S)
    assert matrix and matrix.group(0).count("<th scope=\"col\">") == 6  # 5 people and その他
    assert not re.search(r"https?://", r.text)


def test_before_and_after_by_date_in_wareki(admin: Browser) -> None:
    log_id = _import_receipt(admin)
    r = admin.get("/measure", params={"log": log_id, "split_date": "平成23年7月1日"})
    assert r.status_code == 200
    text = _text(r.text)
    assert "変更前（2011年7月1日より前に始まった案件）：848件" in text
    assert "差し戻し率は 9.1% から 2.4% に低下" in text
    assert "差し戻し率 9.1% 2.4% −6.7ポイント −9.0ポイント 〜 −4.4ポイント 偶然とは考えにくい差" in text
    assert "案件数 848件 586件 −262件 — —" in text


def test_before_and_after_by_attribute(admin: Browser) -> None:
    log_id = _import_receipt(admin)
    r = admin.get("/measure", params={"log": log_id, "split_attr": "channel＝Internet"})
    assert r.status_code == 200
    assert "channelがInternetの案件" in _text(r.text)
    r = admin.get("/measure", params={"log": log_id, "split_attr": "no-such=1"})
    assert r.status_code == 422
    assert "属性「no-such」を持つ案件やイベントがありません" in _text(r.text)


def test_a_bad_date_is_shown_in_japanese_next_to_its_field(admin: Browser) -> None:
    for value in ("2026-13-01", "きのう"):
        r = admin.get("/measure", params={"split_date": value})
        assert r.status_code == 422
        field = re.search(r'<div class="field field--error">.*?</div>', r.text, re.S)
        assert field is not None
        assert 'for="split_date"' in field.group(0)
        assert 'id="split_date-error"' in field.group(0)
        assert "日付を「令和8年4月1日」や「2026-04-01」の形で入力してください。" in field.group(0)
        assert 'aria-invalid="true"' in field.group(0) and f'value="{value}"' in field.group(0)
        assert "比較の結果" not in r.text
        assert "案件数 2件" in _text(r.text)  # the rest of the page is still there
    r = admin.get("/measure", params={"split_date": "2026-04-01", "split_attr": "a=b"})
    assert r.status_code == 422 and "どちらか一方" in r.text
    r = admin.get("/measure", params={"since": "令和8年13月1日"})
    assert r.status_code == 422 and 'id="since-error"' in r.text


# -- CSV ------------------------------------------------------------------------------------------


def test_csv_of_the_metrics_months_and_comparison(admin: Browser) -> None:
    log_id = _import_receipt(admin)
    r = admin.get("/measure/metrics.csv", params={"log": log_id})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f'filename="kijun-metrics-{log_id}.csv"' in r.headers["content-disposition"]
    rows = _csv(r.content)
    assert rows[0] == ["指標", "名前", "値", "単位", "表示"]
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["cases"] == ["案件数", "cases", "1434", "件", "1,434件"]
    assert by_name["first_time_right_rate"][2:] == ["93.654114", "%", "93.7%"]
    assert by_name["lead_time_median"][3:] == ["時間", "48分"]
    assert abs(float(by_name["lead_time_median"][2]) - 2869 / 3600) < 0.01
    assert by_name["role_hhi"][2] == ""  # no roles in this log

    months = _csv(admin.get("/measure/months.csv", params={"log": log_id}).content)
    assert months[0][0] == "月" and "一発完了率（%）" in months[0]
    assert len(months) == 17 and months[1][0] == "2010-10"
    assert sum(int(row[months[0].index("案件数（件）")]) for row in months[1:]) == 1434

    r = admin.get("/measure/compare.csv", params={"log": log_id, "split_date": "2011-07-01"})
    rows = _csv(r.content)
    assert rows[0][:6] == ["指標", "名前", "単位", "変更前", "変更後", "差"]
    ret = next(row for row in rows if row[1:2] == ["return_rate"])
    assert [float(x) for x in ret[3:6]] == pytest.approx([9.080189, 2.389078, -6.691111])
    assert ret[2] == "%" and ret[-1] == "偶然とは考えにくい差"
    assert ["案件数", "848", "586"] in rows
    assert any(row[:1] == ["要約"] and "差し戻し率は 9.1% から 2.4% に低下" in row[1]
               for row in rows)
    bad = admin.get("/measure/compare.csv", params={"log": log_id, "split_date": "2011-02-30"})
    assert bad.status_code == 422


def test_csv_cells_are_never_formulas() -> None:
    rows = _csv(csv_bytes([["=HYPERLINK(1)", "+1", "@x", "-2", 3, None, "普通"]]))
    assert rows == [["'=HYPERLINK(1)", "'+1", "'@x", "'-2", "3", "", "普通"]]


# -- importing and exporting ----------------------------------------------------------------------


def test_a_bad_file_is_shown_in_japanese_and_nothing_is_stored(admin: Browser,
                                                               engine: Engine) -> None:
    admin.get("/measure")  # kijun's own log row exists from here on
    before = _counts(engine)
    no_zone = (b'<?xml version="1.0" encoding="UTF-8"?>\n<log>\n<trace>\n'
               b'<string key="concept:name" value="A-1"/>\n<event>\n'
               b'<string key="concept:name" value="receive"/>\n'
               b'<date key="time:timestamp" value="2025-04-01T10:30:00"/>\n'
               b"</event>\n</trace>\n</log>\n")
    r = _upload(admin, "bad.xes", no_zone)
    assert r.status_code == 422
    text = _text(r.text)
    assert "ファイル「bad.xes」を取り込めませんでした。何も保存していません。" in text
    assert "7行目" in text and "案件「A-1」の1番目のイベント（receive）" in text
    assert "タイムゾーンがありません" in text
    broken = b"<log><trace><event></trace></log>"
    r = _upload(admin, "broken.xes", broken)
    assert r.status_code == 422 and "XML として正しくありません" in _text(r.text)
    r = _upload(admin, "damaged.xes.gz", gzip.compress(no_zone)[:40])
    assert r.status_code == 422
    r = _upload(admin, "log.csv", b"a,b\n")
    assert r.status_code == 422 and "取り込めるのは XES" in r.text
    r = admin.post("/measure/import", data={"name": "x"})
    assert r.status_code == 422 and "取り込むファイルを選んでください" in r.text
    assert 'value="x"' in r.text  # what was typed stays
    bad_ocel = b'{"objectTypes": [], "eventTypes": [], "objects": [], "events": [{"id": "e1"}]}'
    r = _upload(admin, "bad.jsonocel", bad_ocel)
    assert r.status_code == 422 and "イベント" in _text(r.text)
    assert _counts(engine) == before
    # the same file, its times read as Japan time when asked
    r = _upload(admin, "local.xes", no_zone, local_time="1")  # read as Japan time
    assert r.status_code == 303
    local_id = re.search(r"log=(\d+)", r.headers["location"]).group(1)  # type: ignore[union-attr]
    plain = admin.get(f"/measure/logs/{local_id}/export.xes").content
    assert b'value="2025-04-01T10:30:00.000+09:00"' in plain
    admin.post(f"/measure/logs/{local_id}/delete", data={})


def test_too_large_uploads_are_refused(admin: Browser, monkeypatch: pytest.MonkeyPatch,
                                       engine: Engine) -> None:
    from kijun.web import measure

    admin.get("/measure")
    before = _counts(engine)
    monkeypatch.setattr(measure, "MAX_UPLOAD_BYTES", 1000)
    assert _upload(admin, "big.xes", b"<log>" + b" " * 2000 + b"</log>").status_code == 413
    monkeypatch.setattr(measure, "MAX_UPLOAD_BYTES", 10_000_000)
    monkeypatch.setattr(measure, "MAX_UNPACKED_BYTES", 100_000)
    bomb = gzip.compress(b"<log>" + b" " * 1_000_000 + b"</log>")
    r = _upload(admin, "bomb.xes.gz", bomb)
    assert r.status_code == 413 and "展開すると大きすぎる" in r.text
    assert _counts(engine) == before


def test_without_the_csrf_token_nothing_is_imported(admin: Browser, engine: Engine) -> None:
    admin.get("/measure")
    before = _counts(engine)
    r = admin.post("/measure/import", data={}, csrf=None,
                   files={"file": ("x.xes", b"<log></log>")})
    assert r.status_code == 403
    assert _counts(engine) == before


def test_an_ocel_log_needs_its_object_type_when_it_has_several(admin: Browser) -> None:
    data = log_path("ocel20_example.jsonocel").read_bytes()
    r = _upload(admin, "p2p.jsonocel", data)
    assert r.status_code == 422
    field = re.search(r'<div class="field field--error">.*?</div>', r.text, re.S)
    assert field and 'id="object_type-error"' in field.group(0)
    assert "Purchase Order" in field.group(0)
    r = _upload(admin, "p2p.jsonocel", data, object_type="Purchase Order",
                resource="po_creator, po_editor")
    assert r.status_code == 303
    log_id = re.search(r"log=(\d+)", r.headers["location"]).group(1)  # type: ignore[union-attr]
    text = _text(admin.get("/measure", params={"log": log_id}).text)
    assert "p2p（p2p.jsonocel）" in text and "案件数 2件" in text
    sqlite_data = log_path("ocel20_example.sqlite").read_bytes()
    r = _upload(admin, "p2p.sqlite", sqlite_data, object_type="Invoice", name="請求書")
    assert r.status_code == 303


def test_a_stored_log_downloads_as_xes_and_ocel(admin: Browser) -> None:
    log_id = _import_receipt(admin)
    r = admin.get(f"/measure/logs/{log_id}/export.xes.gz")
    assert r.status_code == 200
    assert f'filename="kijun-eventlog-{log_id}.xes.gz"' in r.headers["content-disposition"]
    back = read_xes(r.content)
    assert back.events.equals(read_xes(log_path("receipt.xes.gz")).events)
    plain = admin.get(f"/measure/logs/{log_id}/export.xes")
    assert plain.content.startswith(b"<?xml")
    assert re.search(rb'key="time:timestamp" value="[^"]+\+09:00"', plain.content)  # Japan time
    ocel = admin.get(f"/measure/logs/{log_id}/export.jsonocel")
    assert ocel.status_code == 200 and ocel.json()["objectTypes"][0]["name"] == "case"
    assert len(ocel.json()["events"]) == 8577
    own = admin.get("/measure/logs/kijun/export.jsonocel").json()
    assert {e["type"] for e in own["events"]} == {"公開", "下書き作成", "承認依頼", "差し戻し"}
    assert admin.get("/measure/logs/999/export.xes").status_code == 404


# -- pieces ---------------------------------------------------------------------------------------


def test_numbers_read_as_staff_read_them() -> None:
    assert fmt_metric("first_time_right_rate", 0.93654) == "93.7%"
    assert fmt_metric("lead_time_mean", 1.2 * 86400) == "1.2日"
    assert fmt_metric("lead_time_median", 3 * 3600) == "3.0時間"
    assert fmt_metric("lead_time_business_mean", 12.5 * 3600) == "12.5時間"
    assert fmt_metric("lead_time_business_median", 135) == "2分"
    assert fmt_metric("cases", 1434) == "1,434件" and fmt_metric("resources", 48) == "48人"
    assert fmt_metric("handoffs_mean", 0.8424) == "0.84回"
    assert fmt_metric("resource_hhi", 0.05531) == "0.055"
    assert fmt_metric("role_hhi", None) == "—"
    assert fmt_difference("return_rate", -0.0669) == "−6.7ポイント"
    assert fmt_difference("lead_time_mean", 2 * 86400) == "+2.0日"
    assert duration_ja(45) == "45秒" and duration_ja(-600, signed=True) == "−10分"


def test_charts_are_accessible_svg() -> None:
    bar = charts.bar_chart("c1", "月ごとの案件数 <test>", ["26/04", "26/05"], [3.0, None],
                           lambda v: f"{v:.0f}件")
    assert bar.startswith('<svg class="chart" id="c1"') and 'role="img"' in bar
    assert "<title id=\"c1-title\">月ごとの案件数 &lt;test&gt;</title>" in bar
    assert "最小は26/04の3件" in bar  # the description names the values
    line = charts.line_chart("c2", "推移", ["a", "b", "c"], [1.0, 2.0, 4.0], str)
    assert "<polyline" in line and line.count("<circle") == 3
    heat = charts.heat_map("c3", "引き継ぎ", ["甲", "乙"], ["甲", "乙"], [[0, 5], [2, 0]])
    assert "最も多いのは甲から乙への5件" in heat and ">5</text>" in heat
    assert "xmlns" not in bar + line + heat and "<script" not in bar + line + heat
