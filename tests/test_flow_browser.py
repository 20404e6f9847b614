"""The whole staff flow in Chromium, as issue 5 describes it, with screenshots per step.

author imports a DMN file → sees the gap → fixes it in the editor → submits;
approver publishes with its 施行日; staff decides and sees the 根拠.
Skips, saying why, when Chromium or Playwright is missing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _free_port

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
)

PASSWORD = "flow test password 1"
DEPARTMENT = "総務課"

# A model from another modeler: 金額 exactly 100000 falls between the two rules.
DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs"
             name="支出負担行為の決裁区分" namespace="urn:example:kessai">
  <inputData id="in_amount" name="金額"><variable name="金額" typeRef="number"/></inputData>
  <decision id="d_who" name="決裁者">
    <variable name="決裁者" typeRef="string"/>
    <informationRequirement id="r1"><requiredInput href="#in_amount"/></informationRequirement>
    <decisionTable id="t" hitPolicy="UNIQUE">
      <input id="i1" label="金額"><inputExpression typeRef="number"><text>金額</text></inputExpression></input>
      <output id="o1" name="決裁者" typeRef="string"/>
      <annotation name="根拠"/>
      <rule id="R1"><inputEntry><text>&lt; 100000</text></inputEntry>
        <outputEntry><text>"課長"</text></outputEntry>
        <annotationEntry><text>事務決裁規程第5条</text></annotationEntry></rule>
      <rule id="R2"><inputEntry><text>&gt; 100000</text></inputEntry>
        <outputEntry><text>"副町長"</text></outputEntry>
        <annotationEntry><text>事務決裁規程第6条</text></annotationEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    import uvicorn

    from kijun.store import create_user, db, open_session
    from kijun.web.app import create_app

    tmp = Path(tmp_path_factory.mktemp("flow"))
    url = f"sqlite:///{tmp / 'kijun.db'}"
    db.upgrade(url)
    with open_session(url) as session:
        for login, role in (("sakusei", "author"), ("shounin", "approver"), ("madoguchi", "staff")):
            create_user(session, login, name=f"{login}さん", department=DEPARTMENT,
                        roles=[role], password=PASSWORD, actor="test")
    dmn = tmp / "kessai.dmn"
    dmn.write_text(DMN, encoding="utf-8")
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("kijun did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", dmn
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def _shot(pg: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"flow-{name}.png"), full_page=True)


def _log_in(browser: Any, base: str, login: str) -> Any:
    context = browser.new_context(locale="ja-JP", viewport={"width": 1024, "height": 1366})
    pg = context.new_page()
    pg.goto(base + "/login")
    pg.get_by_label("利用者ID").fill(login)
    pg.get_by_label("パスワード").fill(PASSWORD)
    pg.get_by_role("button", name="ログイン").click()
    return pg


def test_import_fix_submit_publish_decide(server: tuple[str, Path]) -> None:
    base, dmn = server
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_ARGS)
        try:
            # 1. the author imports the DMN file and sees the gap
            pg = _log_in(browser, base, "sakusei")
            pg.goto(base + "/import")
            pg.get_by_label("ファイル").set_input_files(str(dmn))
            pg.get_by_label("識別子").fill("kessai")
            pg.get_by_label("施行日").fill("令和8年4月1日")
            pg.get_by_role("button", name="取り込む").click()
            body = pg.inner_text("main")
            assert "支出負担行為の決裁区分" in body
            assert "金額がちょうど100000円の場合に該当する規則がありません" in body
            _shot(pg, "1-imported-with-gap")

            # 2. fixes it in the editor
            pg.get_by_role("link", name="この版を編集する").click()
            pg.get_by_label("規則2の条件「金額」").fill(">= 100000")
            pg.get_by_role("button", name="保存する", exact=True).first.click()
            _shot(pg, "2-edited")
            pg.goto(base + "/criteria/kessai?version=1")
            body = pg.inner_text("main")
            assert "該当する規則がありません" not in body
            # 3. asks for approval
            pg.get_by_role("button", name="承認を依頼する").click()
            assert "承認を依頼しました" in pg.inner_text("main")
            _shot(pg, "3-submitted")
            pg.context.close()

            # 4. the approver publishes it with its 施行日
            pg = _log_in(browser, base, "shounin")
            pg.goto(base + "/review")
            pg.get_by_role("link", name="支出負担行為の決裁区分").click()
            pg.get_by_label("施行日").fill("令和8年4月1日")
            pg.get_by_role("button", name="この版を公開する").click()
            assert "公開しました" in pg.inner_text("main")
            _shot(pg, "4-published")
            pg.context.close()

            # 5. counter staff decide a case of exactly 100000 and see the 根拠
            pg = _log_in(browser, base, "madoguchi")
            pg.goto(base + "/criteria/kessai/decide")
            pg.get_by_label("金額").fill("100,000円")
            pg.get_by_label("判断日").fill("令和8年4月1日")
            pg.get_by_role("button", name="判断する").click()
            body = pg.inner_text("main")
            assert "副町長" in body and "事務決裁規程第6条" in body
            _shot(pg, "5-decided")
            pg.context.close()
        finally:
            browser.close()
