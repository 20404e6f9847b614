"""Review in the browser: author submits, approver returns with a reason or publishes."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from kijun.criteria.formats.yaml import loads
from kijun.criteria.model import VersionStatus
from kijun.store import db, get_criterion, save_criterion
from kijun.store.models import AuditEntryRow
from kijun.web.app import create_app

from .webclient import Browser, add_user

DRAFT = textwrap.dedent("""\
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
              - {when: {金額: "> 3000000"}, then: {決裁者: 副町長}, basis: 規程第6条}
""")
PAGE = "/criteria/kessai"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def app_and_engine(engine: Engine, database_url: str) -> Iterator[tuple[object, Engine]]:
    with db.session_scope(engine) as session:
        save_criterion(session, loads(DRAFT), actor="test")
    add_user(engine, "author", "author", department="総務課")
    add_user(engine, "approver", "approver", department="総務課")
    add_user(engine, "other", "approver", department="住民課")
    add_user(engine, "staff", "staff", department="総務課")
    yield create_app(database_url), engine


def _version2(engine: Engine) -> VersionStatus:
    with db.session_scope(engine) as session:
        return get_criterion(session, "kessai").version(2).status


def test_submit_return_submit_publish(app_and_engine: tuple[object, Engine]) -> None:
    app, engine = app_and_engine
    with Browser(app) as author, Browser(app) as approver:  # type: ignore[arg-type]
        author.log_in("author")
        approver.log_in("approver")
        page = author.get(PAGE, params={"version": 2}).text
        assert "承認を依頼する" in page and "この版を公開する" not in page
        r = author.post(f"{PAGE}/versions/2/submit", data={}, follow_redirects=True)
        assert "承認を依頼しました" in _text(r.text) and "承認待ち" in _text(r.text)

        queue = approver.get("/review").text
        assert "支出負担行為の決裁区分" in queue and "第2版" in queue
        page = _text(approver.get(PAGE, params={"version": 2}).text)
        # the approver sees the gap at exactly 3000000 and the change against version 1
        assert "要修正" in page and "公開中の第1版との違い" in page

        r = approver.post(f"{PAGE}/versions/2/return", data={"reason": ""})
        assert r.status_code == 422 and "差し戻す理由を書いてください" in r.text
        r = approver.post(f"{PAGE}/versions/2/return",
                          data={"reason": "ちょうど300万円の場合が抜けています"},
                          follow_redirects=True)
        assert "差し戻しました" in _text(r.text)
        assert "ちょうど300万円の場合が抜けています" in author.get(PAGE, params={"version": 2}).text

        author.post(f"{PAGE}/versions/2/submit", data={})
        # a gap is an error-level finding: publishing needs a justification
        r = approver.post(f"{PAGE}/versions/2/publish", data={"effective_from": "令和8年4月1日"})
        assert r.status_code == 422 and "要修正の検証結果が" in r.text
        assert _version2(engine) is VersionStatus.DRAFT
        r = approver.post(f"{PAGE}/versions/2/publish",
                          data={"effective_from": "令和8年4月1日",
                                "justification": "ちょうど300万円の支出は別途協議"},
                          follow_redirects=True)
        assert "公開しました" in _text(r.text)
        assert _version2(engine) is VersionStatus.PUBLISHED
    with db.session_scope(engine) as session:
        actions = [e.action for e in session.query(AuditEntryRow).order_by(AuditEntryRow.seq)
                   if e.target.startswith("criterion/kessai/")]
        publish = session.query(AuditEntryRow).filter_by(action="version.publish").one()
        assert publish.actor == "approver"
        assert publish.detail["override"]["justification"] == "ちょうど300万円の支出は別途協議"
    assert actions[-4:] == ["version.submit", "version.return", "version.submit",
                            "version.publish"]


def test_only_the_owning_departments_approver_and_author_may_act(
    app_and_engine: tuple[object, Engine],
) -> None:
    app, engine = app_and_engine
    with Browser(app) as other, Browser(app) as staff:  # type: ignore[arg-type]
        other.log_in("other")
        staff.log_in("staff")
        assert staff.post(f"{PAGE}/versions/2/submit", data={}).status_code == 403
        assert staff.get("/review").status_code == 403
        assert other.post(f"{PAGE}/versions/2/publish", data={}).status_code == 403
        assert other.post(f"{PAGE}/versions/2/return", data={"reason": "x"}).status_code == 403
        assert "支出負担行為" not in other.get("/review").text
    assert _version2(engine) is VersionStatus.DRAFT


def test_review_forms_need_the_csrf_token(app_and_engine: tuple[object, Engine]) -> None:
    app, engine = app_and_engine
    with Browser(app) as author:  # type: ignore[arg-type]
        author.log_in("author")
        assert author.post(f"{PAGE}/versions/2/submit", data={}, csrf=None).status_code == 403
        assert author.post(f"{PAGE}/versions/2/submit", data={}, csrf="wrong").status_code == 403
    with db.session_scope(engine) as session:
        assert not session.query(AuditEntryRow).filter_by(action="version.submit").count()
