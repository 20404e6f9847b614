"""Browser tests: Playwright driving Debian's Chromium against a live kijun on loopback.

They skip, saying why, when Chromium or Playwright is missing (`.ci/run`
installs Debian's chromium). Screenshots go to test-artifacts/browser/.
Every page logs in first, through the login form, as a 窓口職員 (staff).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("KIJUN_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts" / "browser"
# As root and on a closed network Chromium needs these (see the machine notes).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
CLERK, CLERK_NAME, CLERK_PASSWORD = "browser-clerk", "ブラウザ 試験", "browser test password"

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

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'kijun.db'}"
    db.upgrade(url)
    with open_session(url) as session:
        for c in load_path(ROOT / "content" / "nagi"):
            save_criterion(session, c, actor="test")
        create_user(session, CLERK, name=CLERK_NAME, department="住民課", roles=["staff"],
                    password=CLERK_PASSWORD, actor="test")
    port = _free_port()
    config = uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
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


def _log_in(pg: Any, server: str) -> None:
    pg.goto(server + "/login")
    pg.get_by_label("利用者ID").fill(CLERK)
    pg.get_by_label("パスワード").fill(CLERK_PASSWORD)
    pg.get_by_role("button", name="ログイン").click()
    pg.wait_for_url(server + "/")


@pytest.fixture
def page(browser: Any, server: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(locale="ja-JP", viewport={"width": 1024, "height": 1366})
    pg = context.new_page()
    _log_in(pg, server)
    try:
        yield pg
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        context.close()


def test_find_a_criterion_see_its_findings_and_decide(server: str, page: Any) -> None:
    page.goto(server + "/")
    page.get_by_label("キーワードで探す").fill("随意契約")
    page.get_by_role("button", name="絞り込む").click()
    page.get_by_role("link", name="少額随意契約の可否").click()
    assert page.get_by_role("heading", level=1).inner_text() == "少額随意契約の可否"
    assert "検証結果" in page.content()
    page.get_by_role("link", name="この判断基準で判断する").click()
    page.get_by_label("契約の種類").select_option("工事又は製造の請負")
    page.get_by_label("予定価格").fill("1,800,000円")
    page.get_by_label("判断日").fill("令和7年4月1日")
    page.get_by_role("button", name="判断する").click()
    body = page.inner_text("main")
    assert "可" in body and "地方自治法施行令" in body


def test_keyboard_only_reaches_the_search_box_and_the_focus_is_visible(
    server: str, page: Any
) -> None:
    page.goto(server + "/")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    shadow = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    assert outline != "none" or shadow != "none"


def test_works_at_ipad_width(server: str, browser: Any) -> None:
    context = browser.new_context(locale="ja-JP", viewport={"width": 768, "height": 1024})
    pg = context.new_page()
    _log_in(pg, server)
    pg.goto(server + "/criteria/jidou-teate")
    width = pg.evaluate("document.documentElement.scrollWidth")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "ipad-criterion.png"), full_page=False)
    context.close()
    assert width <= 768  # wide tables scroll inside their own region, not the page
    assert shutil.which("chromium") or CHROMIUM.exists()


def test_log_in_and_out(server: str, browser: Any) -> None:
    """The session cookie works in a real browser (http on loopback: not Secure), the
    header names the clerk, and 戻る after logging out shows nothing that needs a login."""
    context = browser.new_context(locale="ja-JP")
    pg = context.new_page()
    pg.goto(server + "/criteria/jidou-teate")
    assert pg.url.startswith(server + "/login?next=")
    pg.get_by_label("利用者ID").fill(CLERK)
    pg.get_by_label("パスワード").fill("not my password")
    pg.get_by_role("button", name="ログイン").click()
    assert "利用者IDまたはパスワードが正しくありません" in pg.inner_text("main")
    pg.get_by_label("パスワード").fill(CLERK_PASSWORD)
    pg.get_by_role("button", name="ログイン").click()
    pg.wait_for_url(server + "/criteria/jidou-teate")
    assert CLERK_NAME in pg.inner_text("header") and "住民課" in pg.inner_text("header")
    pg.get_by_role("button", name="ログアウト").click()
    pg.wait_for_url(server + "/login?logged_out=1")
    assert "ログアウトしました" in pg.inner_text("main")
    pg.goto(server + "/")
    assert pg.url.startswith(server + "/login")
    context.close()
