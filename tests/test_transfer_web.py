"""Import and export in the browser (kijun.web.transfer): DMN, kijun YAML and Excel.

Runs on every backend of the `engine` fixture (SQLite, and PostgreSQL when
KIJUN_TEST_DATABASE_URL is set). A file becomes a draft version of a
criterion; a bad file is shown back with its problems in Japanese and
changes nothing (the row counts stay as they were).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from kijun.criteria import serial
from kijun.criteria.formats.dmn import version_to_dmn
from kijun.criteria.formats.excel import version_to_workbook
from kijun.criteria.formats.yaml import load_file, loads
from kijun.criteria.formats.yaml_export import criterion_to_yaml
from kijun.criteria.model import Criterion, VersionStatus
from kijun.store import db, get_criterion, save_criterion
from kijun.store.models import AuditEntryRow, CriterionRow, VersionRow
from kijun.web import transfer
from kijun.web.app import create_app
from tests.webclient import Browser, add_user, form_posts

CONTENT = Path(__file__).resolve().parent.parent / "content" / "nagi"
ID = "shussan-iwaikin"
PAGE = f"/criteria/{ID}"
DEPARTMENT = "こども・長寿課"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: a decision table as another modeler writes it: no kijun extension, so no id and no 施行日
FOREIGN_DMN = """\
<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="tesuuryou_model"
             name="証明書の交付手数料" namespace="http://example.com/dmn">
  <inputData id="i_kind" name="証明書の種類">
    <variable name="証明書の種類" typeRef="string"/>
  </inputData>
  <decision id="d_fee" name="手数料">
    <informationRequirement><requiredInput href="#i_kind"/></informationRequirement>
    <decisionTable id="t_fee" hitPolicy="UNIQUE">
      <input id="in_kind" label="証明書の種類">
        <inputExpression typeRef="string"><text>証明書の種類</text></inputExpression>
      </input>
      <output id="out_fee" name="手数料" typeRef="number"/>
      <rule id="r1">
        <inputEntry><text>"住民票"</text></inputEntry>
        <outputEntry><text>300</text></outputEntry>
      </rule>
      <rule id="r2">
        <inputEntry><text>"印鑑登録証明書"</text></inputEntry>
        <outputEntry><text>300</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def _text(page: str) -> str:
    """The page's text as a reader sees it (tags gone, entities read)."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def app(engine: Engine, database_url: str) -> Iterator[FastAPI]:
    with db.session_scope(engine) as session:
        save_criterion(session, load_file(CONTENT / f"{ID}.yaml"), actor="test")
    add_user(engine, "kodomo", "author", department=DEPARTMENT)
    add_user(engine, "juumin", "author", department="住民課")
    add_user(engine, "madoguchi", "staff", department=DEPARTMENT)
    add_user(engine, "etsuran", "viewer", department=DEPARTMENT)
    add_user(engine, "kanri", "admin", department="総務課")
    yield create_app(database_url)


@pytest.fixture
def author(app: FastAPI) -> Iterator[Browser]:
    with Browser(app) as b:
        b.log_in("kodomo")
        yield b


def _stored(engine: Engine, criterion_id: str = ID) -> Criterion:
    with db.session_scope(engine) as session:
        return get_criterion(session, criterion_id)


def _counts(engine: Engine) -> tuple[int, int, int]:
    """Rows of criteria, versions, and audit entries about criteria."""
    with db.session_scope(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(CriterionRow)) or 0,
            session.scalar(select(func.count()).select_from(VersionRow)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntryRow)
                           .where(AuditEntryRow.target.like("criterion/%"))) or 0,
        )


def _upload(b: Browser, name: str, content: bytes | str, *, csrf: Any = True,
            **fields: str) -> Any:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return b.post("/import", data=dict(fields), csrf=csrf, files={"file": (name, data)},
                  follow_redirects=False)


def _content(c: Criterion, number: int) -> dict[str, Any]:
    """A version's tables, without its number, status and dates."""
    return {"decisions": serial.version_to_dict(c.version(number))["decisions"]}


def _filename(disposition: str) -> tuple[str, str]:
    plain = re.search(r'filename="([^"]+)"', disposition)
    encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert plain and encoded, disposition
    return plain.group(1), unquote(encoded.group(1))


# -- the form -----------------------------------------------------------------------------------


def test_the_import_page_is_for_authors_and_admins(app: FastAPI, engine: Engine) -> None:
    with Browser(app) as b:
        b.log_in("kodomo")
        page = b.get("/import")
        assert page.status_code == 200
        assert 'enctype="multipart/form-data"' in page.text
        assert 'accept=".dmn,.xml,.yaml,.yml,.xlsx"' in page.text
        assert 'href="/import"' in page.text and "取り込み" in page.text  # the header's link
        [form] = [f for f in form_posts(page.text) if 'action="/import"' in f]
        assert f'name="csrf_token" value="{b.csrf_token}"' in form
        assert "識別子" in form and "施行日" in form and "版" in form
        # the criterion page links to the form, with the criterion's id filled in
        assert f'href="/import?criterion={ID}"' in b.get(PAGE).text
        assert f'value="{ID}"' in b.get("/import", params={"criterion": ID}).text
        b.log_in("kanri")
        assert b.get("/import").status_code == 200
    before = _counts(engine)
    dmn = version_to_dmn(_stored(engine), _stored(engine).version(1))
    for login in ("madoguchi", "etsuran"):
        with Browser(app) as b:
            b.log_in(login)
            assert 'href="/import"' not in b.get("/").text
            page = b.get("/import")
            assert page.status_code == 403 and "基準作成者" in _text(page.text)
            r = _upload(b, "x.dmn", dmn, criterion="atarashii")
            assert r.status_code == 403
    assert _counts(engine) == before


def test_without_the_csrf_token_nothing_is_imported(
    app: FastAPI, engine: Engine, author: Browser
) -> None:
    before = _counts(engine)
    dmn = version_to_dmn(_stored(engine), _stored(engine).version(1))
    for token in (None, "not-the-token"):
        r = _upload(author, f"{ID}.dmn", dmn, csrf=token)
        assert r.status_code == 403 and "送信を受け付けられませんでした" in r.text
    assert _counts(engine) == before


def test_no_file_or_a_wrong_kind_of_file_is_asked_again(
    app: FastAPI, engine: Engine, author: Browser
) -> None:
    before = _counts(engine)
    r = author.post("/import", data={"effective_from": "令和8年4月1日"})
    assert r.status_code == 422 and "取り込むファイルを選んでください" in r.text
    assert 'value="令和8年4月1日"' in r.text  # what was typed stays
    r = _upload(author, "memo.txt", "hello")
    assert r.status_code == 422 and "取り込めるのは DMN" in r.text
    r = _upload(author, "x.dmn", FOREIGN_DMN, criterion="Bad Id", effective_from="4月",
                version="0")
    text = _text(r.text)
    assert r.status_code == 422
    assert "識別子は英小文字・数字・ハイフンで" in text
    assert "施行日を「令和8年4月1日」や「2026-04-01」の形で" in text
    assert "版は1以上の整数で" in text
    r = _upload(author, "empty.yaml", "  \n")
    assert r.status_code == 422 and "ファイルが空です" in r.text
    assert _counts(engine) == before


def test_a_too_large_file_is_refused_in_japanese(
    app: FastAPI, engine: Engine, author: Browser
) -> None:
    before = _counts(engine)
    r = _upload(author, "big.xlsx", b"x" * (transfer.MAX_UPLOAD_BYTES + 1))
    assert r.status_code == 413
    assert "ファイルが大きすぎます" in r.text and "5MB" in r.text
    assert _counts(engine) == before


def test_a_workbook_that_unpacks_too_large_is_refused(
    app: FastAPI, engine: Engine, author: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transfer, "MAX_XLSX_UNPACKED_BYTES", 1000)
    before = _counts(engine)
    r = _upload(author, "bomb.xlsx", _workbook(engine))
    assert r.status_code == 413 and "展開すると大きすぎる" in r.text
    assert _counts(engine) == before


# -- DMN ----------------------------------------------------------------------------------------


def test_an_exported_dmn_comes_back_as_a_new_draft(
    app: FastAPI, engine: Engine, author: Browser
) -> None:
    r = author.get(f"{PAGE}/versions/1/export.dmn")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xml")
    plain, full = _filename(r.headers["content-disposition"])
    assert r.headers["content-disposition"].startswith("attachment;")
    assert plain == f"{ID}-v1.dmn" and full == f"出産祝金_第1版_{ID}.dmn"
    assert f'<kijun:criterion id="{ID}" version="1"' in r.text

    r = _upload(author, plain, r.content)
    # version 1 is published: the file's content becomes version 2, a draft
    assert r.status_code == 303
    assert r.headers["location"] == f"{PAGE}?version=2&done=imported"
    page = author.get(r.headers["location"])
    text = _text(page.text)
    assert "ファイルを取り込み、下書きの版として保存しました" in text
    assert "第2版（表示中）" in text and "この版は下書きです" in text
    c = _stored(engine)
    assert [(v.number, v.status) for v in c.versions] == [
        (1, VersionStatus.PUBLISHED), (2, VersionStatus.DRAFT)]
    assert _content(c, 2) == _content(c, 1)
    assert c.version(2).effective_from == c.version(1).effective_from
    original = load_file(CONTENT / f"{ID}.yaml")
    assert (c.name, c.department, c.tests) == (original.name, original.department,
                                               original.tests)

    # the same file again (with the draft's number) updates nothing; with 版 2 likewise
    again = author.get(f"{PAGE}/versions/2/export.dmn")
    r = _upload(author, "again.dmn", again.content)
    assert r.headers["location"] == f"{PAGE}?version=2&done=import_unchanged"
    r = _upload(author, "again.dmn", again.content, version="2", effective_from="R8.4.1")
    assert r.headers["location"] == f"{PAGE}?version=2&done=import_updated"
    assert _stored(engine).version(2).effective_from == dt.date(2026, 4, 1)
    # a published version cannot be overwritten
    before = _counts(engine)
    r = _upload(author, "again.dmn", again.content, version="1")
    assert r.status_code == 422 and "第1版はすでに公開されているため" in r.text
    assert _counts(engine) == before


def test_a_foreign_dmn_asks_for_its_id_and_start_date(
    app: FastAPI, engine: Engine, author: Browser
) -> None:
    before = _counts(engine)
    r = _upload(author, "tesuuryou.dmn", FOREIGN_DMN)
    assert r.status_code == 422
    text = _text(r.text)
    assert "判断基準の識別子が書かれていません" in text and "施行日が書かれていません" in text
    assert 'id="criterion-error"' in r.text and 'id="effective_from-error"' in r.text
    assert _counts(engine) == before

    r = _upload(author, "tesuuryou.dmn", FOREIGN_DMN, criterion="shoumei-tesuuryou",
                effective_from="令和8年4月1日")
    assert r.status_code == 303
    assert r.headers["location"] == "/criteria/shoumei-tesuuryou?version=1&done=imported"
    c = _stored(engine, "shoumei-tesuuryou")
    assert c.name == "証明書の交付手数料"
    assert c.department == DEPARTMENT  # a new criterion belongs to the author's department
    [v] = c.versions
    assert (v.number, v.status, v.effective_from) == (1, VersionStatus.DRAFT, dt.date(2026, 4, 1))
    assert [rule.then for rule in v.decisions[0].rules] == [(300,), (300,)]
    page = author.get(r.headers["location"])
    assert page.status_code == 200 and "証明書の交付手数料" in page.text


def test_a_dmn_that_kijun_cannot_hold_names_the_element(
    app: FastAPI, engine: Engine, author: Browser
) -> None:
    before = _counts(engine)
    literal = FOREIGN_DMN.replace(
        '<decisionTable id="t_fee" hitPolicy="UNIQUE">',
        '<literalExpression id="le"><text>300</text></literalExpression><!--',
    ).replace("</decisionTable>", "-->")
    r = _upload(author, "literal.dmn", literal, criterion="x", effective_from="2026-04-01")
    text = _text(r.text)
    assert r.status_code == 422
    assert 'DMNファイル「literal.dmn」を取り込めませんでした' in text
    assert '<decision id="d_fee" name="手数料">' in text
    assert "判断のロジックが決定表ではありません" in text

    computed = FOREIGN_DMN.replace("<text>300</text></outputEntry>\n      </rule>\n      "
                                   '<rule id="r2">',
                                   "<text>証明書の種類 + 1</text></outputEntry>\n      </rule>\n"
                                   '      <rule id="r2">')
    r = _upload(author, "computed.dmn", computed, criterion="x", effective_from="2026-04-01")
    text = _text(r.text)
    assert r.status_code == 422
    assert '<rule id="r1">（1番目の規則）' in text and "定数ではありません" in text

    odd = version_to_dmn(_stored(engine), _stored(engine).version(1)).replace(
        f'<kijun:criterion id="{ID}"', '<kijun:criterion id="Not An Id"')
    r = _upload(author, "odd.dmn", odd)
    assert r.status_code == 422 and "識別子「Not An Id」は使えません" in _text(r.text)

    r = _upload(author, "broken.dmn", "<definitions><decision></definitions>",
                criterion="x", effective_from="2026-04-01")
    assert r.status_code == 422 and "XML として正しくありません" in _text(r.text)
    assert _counts(engine) == before


# -- Excel --------------------------------------------------------------------------------------


def _workbook(engine: Engine, **cells: Any) -> bytes:
    c = _stored(engine)
    wb = load_workbook(io.BytesIO(version_to_workbook(c, c.version(1))))
    for where, value in cells.items():
        sheet, cell = where.split("__")
        wb["基準" if sheet == "meta" else "支給判定"][cell] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_an_excel_cell_with_a_bad_condition_is_named_and_nothing_is_stored(
    app: FastAPI, engine: Engine, author: Browser
) -> None:
    before = _counts(engine)
    r = _upload(author, "出産祝金.xlsx", _workbook(engine, table__D13=">= >= 12",
                                                     table__B14="たぶん"))
    assert r.status_code == 422
    text = _text(r.text)
    assert "Excelファイル「出産祝金.xlsx」を取り込めませんでした" in text
    assert "シート「支給判定」のセルD13：" in text
    assert "シート「支給判定」のセルB14：" in text
    assert "何も保存していません" in text
    assert _counts(engine) == before
    assert [v.number for v in _stored(engine).versions] == [1]


def test_an_exported_workbook_comes_back_with_the_same_content(
    app: FastAPI, engine: Engine, author: Browser
) -> None:
    r = author.get(f"{PAGE}/versions/1/export.xlsx")
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    plain, full = _filename(r.headers["content-disposition"])
    assert plain == f"{ID}-v1.xlsx" and full == f"出産祝金_第1版_{ID}.xlsx"
    r = _upload(author, plain, r.content)
    assert r.headers["location"] == f"{PAGE}?version=2&done=imported"
    c = _stored(engine)
    assert _content(c, 2) == _content(c, 1)
    assert c.version(2).status is VersionStatus.DRAFT  # though the workbook says 公開

    # a clerk's workbook without 識別子 or 施行日: the form gives them
    before = _counts(engine)
    book = _workbook(engine, meta__B2=None, meta__B8=None)
    r = _upload(author, "new.xlsx", book)
    assert r.status_code == 422
    assert "識別子を入力して" in _text(r.text) and "施行日を入力して" in _text(r.text)
    assert _counts(engine) == before
    r = _upload(author, "new.xlsx", book, criterion=ID, effective_from="令和9年4月1日")
    assert r.headers["location"] == f"{PAGE}?version=3&done=imported"
    assert _stored(engine).version(3).effective_from == dt.date(2027, 4, 1)


# -- YAML ---------------------------------------------------------------------------------------


def test_yaml_upload_of_a_new_criterion_and_export_of_a_stored_one(
    app: FastAPI, engine: Engine, author: Browser
) -> None:
    text = (CONTENT / "jidou-teate.yaml").read_text(encoding="utf-8")
    source = loads(text)
    r = _upload(author, "jidou-teate.yaml", text)
    assert r.status_code == 303
    newest = max(v.number for v in source.versions)
    assert r.headers["location"] == f"/criteria/jidou-teate?version={newest}&done=imported"
    c = _stored(engine, "jidou-teate")
    [v] = c.versions
    assert v.status is VersionStatus.DRAFT and v.number == newest
    assert _content(c, newest) == _content(source, newest)
    # only the test cases decided under the imported version come with it
    assert c.tests and len(c.tests) < len(source.tests)
    assert all(t in source.tests for t in c.tests)
    assert all(t.on is None or t.on >= v.effective_from for t in c.tests)

    r = author.get("/criteria/jidou-teate/export.yaml")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/yaml")
    plain, full = _filename(r.headers["content-disposition"])
    assert plain == "jidou-teate.yaml" and full.endswith("_jidou-teate.yaml")
    assert loads(r.text).versions == c.versions

    r = author.get(f"{PAGE}/export.yaml", params={"version": 1})
    plain, _ = _filename(r.headers["content-disposition"])
    assert plain == f"{ID}-v1.yaml"
    r = _upload(author, plain, r.content)
    assert r.headers["location"] == f"{PAGE}?version=2&done=imported"
    stored = _stored(engine)
    assert _content(stored, 2) == _content(stored, 1)


def test_a_bad_yaml_file_names_its_line_and_field(
    app: FastAPI, engine: Engine, author: Browser
) -> None:
    before = _counts(engine)
    text = criterion_to_yaml(_stored(engine)).replace("hit_policy: ANY", "hit_policy: SOMETIMES")
    line = next(n for n, s in enumerate(text.splitlines(), 1) if "SOMETIMES" in s)
    r = _upload(author, "bad.yaml", text)
    assert r.status_code == 422
    page = _text(r.text)
    assert f"ファイル「bad.yaml」の{line}行目（項目 versions[0].decisions[0].hit_policy）" in page
    r = _upload(author, "sjis.yaml", "id: x\nname: 出産祝金\n".encode("cp932"))
    assert r.status_code == 422 and "UTF-8 ではありません" in _text(r.text)
    r = _upload(author, "unknown.yaml", text.replace("    hit_policy: SOMETIMES",
                                                     "    hit_policy: ANY\n    colour: red"))
    assert r.status_code == 422 and "項目「colour」は使えません" in _text(r.text)
    assert _counts(engine) == before


# -- departments --------------------------------------------------------------------------------


def test_an_author_imports_only_into_their_own_departments_criteria(
    app: FastAPI, engine: Engine
) -> None:
    before = _counts(engine)
    dmn = version_to_dmn(_stored(engine), _stored(engine).version(1))
    with Browser(app) as b:
        b.log_in("juumin")
        r = _upload(b, "x.dmn", dmn)
        assert r.status_code == 403
        assert "こども・長寿課の基準作成者" in _text(r.text)
        # into a new criterion of their own department, it goes
        r = _upload(b, "x.dmn", dmn, criterion="juumin-copy")
        assert r.status_code == 303
    assert _stored(engine, "juumin-copy").department == "住民課"
    assert _counts(engine)[0] == before[0] + 1
    with Browser(app) as b:
        b.log_in("kanri")  # an admin imports anywhere
        assert _upload(b, "x.dmn", dmn).status_code == 303


# -- exports ------------------------------------------------------------------------------------


def test_any_logged_in_user_downloads_and_missing_ones_are_404(
    app: FastAPI, engine: Engine
) -> None:
    with Browser(app) as b:
        b.log_in("etsuran")
        page = b.get(PAGE).text
        for link in (f"{PAGE}/versions/1/export.xlsx", f"{PAGE}/versions/1/export.dmn",
                     f"{PAGE}/export.yaml?version=1", f"{PAGE}/export.yaml"):
            assert f'href="{link}"' in page
            assert b.get(link).status_code == 200
        assert "ファイルから版を取り込む" not in page
        r = b.get(f"{PAGE}/versions/9/export.dmn")
        assert r.status_code == 404 and "第9版はありません" in r.text
        assert b.get("/criteria/nothing/export.yaml").status_code == 404
    with Browser(app) as anonymous:
        r = anonymous.get(f"{PAGE}/versions/1/export.xlsx", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
