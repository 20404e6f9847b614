"""The table editor in a real browser: Playwright on Debian's Chromium, at iPad width.

Skips, saying why, when Chromium or Playwright is missing (as tests/test_browser.py).
Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT

AUTHOR, AUTHOR_PASSWORD = "browser-author", "browser author password"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from kijun.criteria.formats.yaml import load_path
    from kijun.store import create_user, db, open_session, save_criterion
    from kijun.web.app import create_app

    url = f"sqlite:///{Path(tmp_path_factory.mktemp('editor')) / 'kijun.db'}"
    db.upgrade(url)
    with open_session(url) as session:
        for c in load_path(ROOT / "content" / "nagi"):
            save_criterion(session, c, actor="test")
        create_user(session, AUTHOR, name="ブラウザ 作成者", department="こども・長寿課",
                    roles=["author"], password=AUTHOR_PASSWORD, actor="test")
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
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def test_edit_a_draft_at_ipad_width_without_javascript(server: str, browser: Any) -> None:
    context = browser.new_context(locale="ja-JP", viewport={"width": 768, "height": 1024},
                                  java_script_enabled=False)
    pg = context.new_page()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        pg.goto(server + "/login")
        pg.get_by_label("利用者ID").fill(AUTHOR)
        pg.get_by_label("パスワード").fill(AUTHOR_PASSWORD)
        pg.get_by_role("button", name="ログイン").click()
        pg.goto(server + "/criteria/jidou-teate")
        pg.get_by_role("link", name="この版をもとに新しい版を作る").click()
        pg.get_by_role("button", name="下書きを作って編集する").click()
        assert "新しい版を下書きとして作りました" in pg.inner_text("main")
        # the page never scrolls sideways: the grids scroll inside their own regions
        assert pg.evaluate("document.documentElement.scrollWidth") <= 768
        pg.screenshot(path=str(ARTIFACTS / "editor-ipad.png"), full_page=False)

        cell = pg.get_by_label("規則2の条件「年齢」")
        cell.fill("3歳未満")
        cell.press("Enter")  # Enter presses the form's first button: 保存する
        main = pg.inner_text("main")
        assert "まだ保存していません" in main and "3歳未満は「< 3」のように書きます" in main
        cell = pg.get_by_label("規則2の条件「年齢」")
        assert cell.get_attribute("aria-invalid") == "true"
        assert cell.input_value() == "3歳未満"
        pg.screenshot(path=str(ARTIFACTS / "editor-error.png"), full_page=False)
        # the summary links to the cell
        pg.get_by_role("link", name="規則2の「年齢」：3歳未満は「< 3」のように書きます", exact=False
                       ).click()
        assert pg.url.split("#")[1] == cell.get_attribute("id")

        cell.fill("< 3")
        table = pg.locator("section.editor-table").nth(1)
        table.get_by_role("button", name="規則2の下に追加").click()
        # the new rule's 月額 is still empty: not saved yet, and the summary says where
        assert pg.url.split("#")[1] == "edit-2"
        assert "規則3の「月額」：結果を入力してください" in table.inner_text()
        pg.get_by_label("規則3の結果「月額」").fill("5,000円")
        pg.get_by_label("規則3の結果「月額」").press("Enter")
        assert "保存しました" in pg.inner_text("main")
        assert pg.get_by_label("規則3の結果「月額」").input_value() == "5000"
        assert pg.evaluate("document.documentElement.scrollWidth") <= 768
        # text is never smaller than 16px
        smallest = pg.evaluate(
            "Math.min(...[...document.querySelectorAll('main *')]"
            ".filter(e => e.offsetParent && e.childNodes.length)"
            ".map(e => parseFloat(getComputedStyle(e).fontSize)))")
        assert smallest >= 16
    finally:
        pg.screenshot(path=str(ARTIFACTS / "editor-final.png"), full_page=True)
        context.close()


def test_move_a_column_with_the_keyboard_without_javascript(server: str, browser: Any) -> None:
    context = browser.new_context(locale="ja-JP", viewport={"width": 768, "height": 1024},
                                  java_script_enabled=False)
    pg = context.new_page()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        pg.goto(server + "/login")
        pg.get_by_label("利用者ID").fill(AUTHOR)
        pg.get_by_label("パスワード").fill(AUTHOR_PASSWORD)
        pg.get_by_role("button", name="ログイン").click()
        pg.goto(server + "/criteria/jidou-teate/versions/4/draft")
        pg.get_by_role("button", name="下書きを作って編集する").click()
        table = pg.locator("section.editor-table").nth(1)  # 月額: 支給区分, 年齢, 出生順位
        assert table.get_by_role("button", name="条件1「支給区分」の列を左へ移動").is_disabled()
        assert table.get_by_role("button", name="条件3「出生順位」の列を右へ移動").is_disabled()
        before = pg.get_by_label("規則2の条件「年齢」").input_value()
        move = table.get_by_role("button", name="条件2「年齢」の列を左へ移動")
        move.press("Enter")  # the keyboard: focus the button, press Enter
        assert "条件（入力）の列の順番を変えて保存しました" in pg.inner_text("main")
        assert pg.url.split("#")[1] == "t2-in-1-right"  # the moved column's button has focus
        assert pg.evaluate("document.activeElement.id") == "t2-in-1-right"
        headers = pg.locator("section.editor-table").nth(1).locator("thead th.in")
        assert headers.first.inner_text().startswith("条件1：年齢")
        # the cells came with their column
        cell = pg.get_by_label("規則2の条件「年齢」")
        assert cell.get_attribute("id") == "t2-rule-2-in-1" and cell.input_value() == before
        assert pg.evaluate("document.documentElement.scrollWidth") <= 768
        smallest = pg.evaluate(
            "Math.min(...[...document.querySelectorAll('main *')]"
            ".filter(e => e.offsetParent && e.childNodes.length)"
            ".map(e => parseFloat(getComputedStyle(e).fontSize)))")
        assert smallest >= 16
        pg.screenshot(path=str(ARTIFACTS / "editor-column-moved.png"), full_page=False)
    finally:
        context.close()
