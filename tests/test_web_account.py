"""The account page and user management in the browser (kijun.web.account, kijun.web.users_admin).

Runs on every backend of the `engine` fixture (SQLite, and PostgreSQL when
KIJUN_TEST_DATABASE_URL is set). Browsers are `tests.webclient.Browser`: they
log in through the form and send the session's csrf_token with form posts.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select

from kijun.store import db, get_user, list_tokens
from kijun.store.audit import list_entries
from kijun.store.models import ApiTokenRow, AuditEntryRow, UserRow, WebSessionRow
from kijun.web.app import create_app
from tests.webclient import PASSWORD, Browser, add_user, form_posts

NEW_PASSWORD = "a much better passphrase"
ROLES = ("admin", "author", "approver", "staff", "viewer")


@pytest.fixture
def app(engine: Engine, database_url: str) -> FastAPI:
    add_user(engine, "boss", "admin", department="総務課", name="管理 太郎")
    add_user(engine, "clerk", "staff", department="住民課", name="窓口 花子")
    return create_app(database_url)


@contextmanager
def browser(app: FastAPI, login: str | None = None, password: str = PASSWORD,
            **kwargs: Any) -> Iterator[Browser]:
    with Browser(app, **kwargs) as b:
        if login is not None:
            r = b.log_in(login, password)
            assert r.status_code == 303, r.text
        yield b


def count(engine: Engine, model: Any) -> int:
    with db.session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def audit(engine: Engine) -> list[dict[str, Any]]:
    with db.session_scope(engine) as session:
        return [e.to_dict() for e in reversed(list_entries(session, limit=1000))]


def actions(engine: Engine) -> list[str]:
    return [e["action"] for e in audit(engine)]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _secret(html: str) -> str:
    found = re.search(r'<code class="secret" id="secret">([^<]+)</code>', html)
    assert found, "no secret on the page"
    return found.group(1)


def _can_log_in(app: FastAPI, login: str, password: str) -> bool:
    with Browser(app) as b:
        return bool(b.log_in(login, password).status_code == 303)


# -- the account page -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_the_account_page_in_the_header(
    app: FastAPI, engine: Engine, role: str
) -> None:
    add_user(engine, f"u-{role}", role, department="住民課", name=f"試験 {role}")
    with browser(app, f"u-{role}") as b:
        header = re.search(r"<header.*?</header>", b.get("/").text, re.S)
        assert header is not None
        assert 'href="/account"' in header.group(0) and "パスワードの変更" in header.group(0)
        page = b.get("/account")
        assert page.status_code == 200
        text = _text(page.text)
        assert f"u-{role}" in text and "住民課" in text
        for label in ("現在のパスワード", "新しいパスワード", "新しいパスワード（確認）"):
            assert label in text
        assert 'autocomplete="current-password"' in page.text
        assert page.text.count('autocomplete="new-password"') == 2
        assert 'aria-current="page">パスワードの変更' in page.text
        # only admins get the user management link
        assert ('href="/admin/users"' in header.group(0)) is (role == "admin")


def test_changing_the_password_keeps_this_browser_and_ends_the_others(
    app: FastAPI, engine: Engine
) -> None:
    with browser(app, "clerk") as here, browser(app, "clerk") as there:
        assert count(engine, WebSessionRow) == 2
        r = here.post("/account/password", data={
            "current_password": PASSWORD, "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/account?done=password"
        assert r.cookies.get("kijun_session")  # a new session for this browser
        page = here.get(r.headers["location"])
        assert page.status_code == 200 and "パスワードを変更しました" in page.text
        assert here.get("/", follow_redirects=False).status_code == 200
        # the other browser is logged out
        assert there.get("/", follow_redirects=False).status_code == 303
        assert count(engine, WebSessionRow) == 1
        # the new page's forms carry the new session's token, which works
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token and token.group(1) != here.csrf_token
    assert not _can_log_in(app, "clerk", PASSWORD)
    assert _can_log_in(app, "clerk", NEW_PASSWORD)
    entries = audit(engine)
    [changed] = [e for e in entries if e["action"] == "user.password"]
    assert changed["actor"] == "clerk" and changed["target"] == "user/clerk"
    assert changed["detail"]["sessions_ended"] == 2
    dump = json.dumps(entries, ensure_ascii=False)
    assert NEW_PASSWORD not in dump and PASSWORD not in dump


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"current_password": PASSWORD, "new_password": "short one",
      "new_password_confirm": "short one"}, "account-new", "12文字以上"),
    ({"current_password": PASSWORD, "new_password": "CLERK", "new_password_confirm": "CLERK"},
     "account-new", "12文字以上"),
    ({"current_password": PASSWORD, "new_password": " " * 14, "new_password_confirm": " " * 14},
     "account-new", "空白だけのパスワードは使えません"),
    ({"current_password": PASSWORD, "new_password": PASSWORD, "new_password_confirm": PASSWORD},
     "account-new", "現在のパスワードとは違うパスワード"),
    ({"current_password": PASSWORD, "new_password": NEW_PASSWORD,
      "new_password_confirm": NEW_PASSWORD + "x"}, "account-confirm", "一致しません"),
    ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirm": ""},
     "account-confirm", "もう一度入力してください"),
    ({"current_password": "", "new_password": NEW_PASSWORD,
      "new_password_confirm": NEW_PASSWORD}, "account-current", "現在のパスワードを入力"),
    ({"current_password": "not my password", "new_password": NEW_PASSWORD,
      "new_password_confirm": NEW_PASSWORD}, "account-current", "現在のパスワードが正しくありません"),
    ({"current_password": PASSWORD, "new_password": "", "new_password_confirm": ""},
     "account-new", "新しいパスワードを入力"),
])
def test_a_refused_password_is_named_next_to_its_field(
    app: FastAPI, engine: Engine, form: dict[str, str], field: str, message: str
) -> None:
    with browser(app, "clerk") as b:
        r = b.post("/account/password", data=form)
        assert r.status_code == 422
        assert re.search(rf'id="{field}-error">[^<]*{message}', r.text), _text(r.text)
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', r.text)
        assert f'href="#{field}"' in r.text  # the summary links to the field
        for typed in {v for v in form.values() if v.strip()}:
            assert f'value="{typed}"' not in r.text  # passwords are never put back
        assert b.get("/", follow_redirects=False).status_code == 200  # still logged in
    assert "user.password" not in actions(engine)
    assert _can_log_in(app, "clerk", PASSWORD)


def test_the_login_as_password_is_refused(app: FastAPI, engine: Engine) -> None:
    add_user(engine, "longlogin-name", "staff")
    with browser(app, "longlogin-name") as b:
        r = b.post("/account/password", data={
            "current_password": PASSWORD, "new_password": "LongLogin-Name",
            "new_password_confirm": "LongLogin-Name"})
    assert r.status_code == 422 and "利用者IDと同じパスワードは使えません" in r.text


def test_guessing_the_current_password_is_throttled(app: FastAPI, engine: Engine) -> None:
    form = {"current_password": "guess guess guess", "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD}
    with browser(app, "clerk") as b:
        for _ in range(5):
            assert b.post("/account/password", data=form).status_code == 422
        r = b.post("/account/password", data={**form, "current_password": PASSWORD})
        assert r.status_code == 429 and "しばらく変更できません" in r.text
        assert int(r.headers["retry-after"]) > 0
    assert "user.password" not in actions(engine)


def test_the_password_change_needs_the_csrf_token(app: FastAPI, engine: Engine) -> None:
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD}
    with browser(app, "clerk") as b:
        for csrf in (None, "", "wrong"):
            r = b.post("/account/password", data=form, csrf=csrf)
            assert r.status_code == 403 and "送信を受け付けられませんでした" in r.text
    assert _can_log_in(app, "clerk", PASSWORD)
    assert "user.password" not in actions(engine)


def test_the_account_page_needs_a_login(app: FastAPI) -> None:
    with browser(app) as b:
        r = b.get("/account", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/account"


# -- who may manage users -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["author", "approver", "staff", "viewer"])
def test_only_admins_manage_users(app: FastAPI, engine: Engine, role: str) -> None:
    add_user(engine, f"u-{role}", role)
    users, tokens, entries = count(engine, UserRow), count(engine, ApiTokenRow), len(audit(engine))
    with browser(app, f"u-{role}") as b:
        for path in ("/admin/users", "/admin/new-user", "/admin/users/clerk"):
            r = b.get(path)
            assert r.status_code == 403 and "この操作を行う権限がありません" in r.text, path
        posts = {
            "/admin/new-user": {"login": "intruder", "name": "侵入", "department": "住民課",
                                "roles": ["admin"]},
            "/admin/users/clerk": {"name": "x", "department": "y", "roles": ["admin"]},
            "/admin/users/clerk/disable": {},
            "/admin/users/clerk/enable": {},
            "/admin/users/clerk/password": {},
            "/admin/users/clerk/tokens": {"token_name": "盗み見"},
            "/admin/tokens/1/revoke": {},
        }
        for path, form in posts.items():
            r = b.post(path, data=form)
            assert r.status_code == 403, path
            assert 'id="secret"' not in r.text
    assert count(engine, UserRow) == users and count(engine, ApiTokenRow) == tokens
    # the logins of the roles' own users are the only audit entries added
    assert {e["action"] for e in audit(engine)[entries:]} == {"session.login"}
    with db.session_scope(engine) as session:
        assert get_user(session, "clerk").roles == ("staff",)


def test_a_visitor_is_sent_to_the_login_page(app: FastAPI) -> None:
    with browser(app) as b:
        r = b.get("/admin/users", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/admin/users"


@pytest.mark.parametrize(("path", "form"), [
    ("/admin/new-user", {"login": "tanaka", "name": "田中", "department": "住民課",
                         "roles": ["staff"]}),
    ("/admin/users/clerk", {"name": "別名", "department": "総務課", "roles": ["viewer"]}),
    ("/admin/users/clerk/disable", {}),
    ("/admin/users/clerk/password", {}),
    ("/admin/users/clerk/tokens", {"token_name": "窓口端末"}),
])
def test_admin_forms_need_the_csrf_token(
    app: FastAPI, engine: Engine, path: str, form: dict[str, Any]
) -> None:
    entries = len(audit(engine))
    with browser(app, "boss") as b:
        entries += 1  # the login
        r = b.post(path, data=form, csrf=None)
        assert r.status_code == 403 and "送信を受け付けられませんでした" in r.text
        assert 'id="secret"' not in r.text
    assert len(audit(engine)) == entries
    with db.session_scope(engine) as session:
        clerk = get_user(session, "clerk")
    assert clerk.active and clerk.roles == ("staff",) and clerk.name == "窓口 花子"
    assert count(engine, UserRow) == 2 and count(engine, ApiTokenRow) == 0


def test_every_admin_form_carries_the_csrf_token(app: FastAPI, engine: Engine) -> None:
    with db.session_scope(engine) as session:
        from kijun.store import create_token

        create_token(session, "clerk", name="窓口端末", actor="test")
    with browser(app, "boss") as b:
        for path in ("/admin/users", "/admin/new-user", "/admin/users/clerk", "/account"):
            html = b.get(path).text
            posts = list(form_posts(html))
            assert len(posts) >= 2, path  # the page's own and the logout button
            for form in posts:
                assert f'name="csrf_token" value="{b.csrf_token}"' in form, (path, form[:200])


# -- the list -------------------------------------------------------------------------------------


def test_the_list_shows_users_roles_state_and_last_login(app: FastAPI, engine: Engine) -> None:
    add_user(engine, "never", "viewer", "author", department="教育委員会", name="未 ログイン")
    with browser(app, "clerk"):
        pass
    with browser(app, "boss") as b:
        r = b.get("/admin/users")
    assert r.status_code == 200
    rows = {m.group(1): _text(m.group(0)) for m in re.finditer(
        r'<tr>\s*<th scope="row"><a href="/admin/users/([^"]+)">.*?</tr>', r.text, re.S)}
    assert set(rows) == {"boss", "clerk", "never"}
    assert "窓口 花子" in rows["clerk"] and "住民課" in rows["clerk"] and "窓口職員" in rows["clerk"]
    assert "有効" in rows["clerk"] and "令和" in rows["clerk"]  # logged in: when
    assert "基準作成者、閲覧者" in rows["never"] and "—" in rows["never"]
    assert 'aria-current="page">利用者の管理' in r.text


def test_an_unknown_user_is_not_found(app: FastAPI) -> None:
    with browser(app, "boss") as b:
        assert b.get("/admin/users/nobody").status_code == 404
        assert b.post("/admin/users/nobody/disable", data={}).status_code == 404
        assert b.post("/admin/tokens/999/revoke", data={}).status_code == 404


# -- adding a user --------------------------------------------------------------------------------


def test_a_new_users_password_is_shown_once_and_logs_in(
    app: FastAPI, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with browser(app, "boss") as b:
        r = b.post("/admin/new-user", data={
            "login": "Ｔａｎａｋａ.Hanako", "name": " 田中 花子 ", "department": "税務課",
            "roles": ["author", "approver"]})
        assert r.status_code == 200
        password = _secret(r.text)
        assert len(password) >= 12
        text = _text(r.text)
        assert "利用者を追加しました" in text and "一度だけ" in text and "tanaka.hanako" in text
        assert r.headers["cache-control"] == "no-store"
        # nowhere else: not on the user's page, not in the list
        for path in ("/admin/users", "/admin/users/tanaka.hanako"):
            page = b.get(path)
            assert page.status_code == 200 and password not in page.text
            assert "田中 花子" in page.text
    with db.session_scope(engine) as session:
        made = get_user(session, "tanaka.hanako")
    assert made.name == "田中 花子" and made.department == "税務課"
    assert made.roles == ("author", "approver") and made.active
    assert _can_log_in(app, "tanaka.hanako", password)
    [created] = [e for e in audit(engine) if e["action"] == "user.create"
                 and e["target"] == "user/tanaka.hanako"]
    assert created["actor"] == "boss"
    assert password not in json.dumps(audit(engine), ensure_ascii=False)
    assert password not in caplog.text and "田中" not in caplog.text


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"login": "clerk", "name": "二人目", "department": "住民課", "roles": ["staff"]},
     "user-login", "利用者ID「clerk」はすでに使われています"),
    ({"login": "ＣＬＥＲＫ", "name": "二人目", "department": "住民課", "roles": ["staff"]},
     "user-login", "利用者ID「clerk」はすでに使われています"),
    ({"login": "田中", "name": "田中", "department": "住民課", "roles": ["staff"]},
     "user-login", "半角の英小文字・数字"),
    ({"login": "-dash", "name": "x", "department": "住民課", "roles": ["staff"]},
     "user-login", "英小文字か数字で始めて"),
    ({"login": "", "name": "x", "department": "住民課", "roles": ["staff"]},
     "user-login", "利用者IDを入力してください"),
    ({"login": "tanaka", "name": "田中", "department": "住民課"},
     "user-roles", "役割を一つ以上選んでください"),
    ({"login": "tanaka", "name": "田中", "department": "住民課", "roles": ["root"]},
     "user-roles", "選べない役割"),
    ({"login": "tanaka", "name": " ", "department": "住民課", "roles": ["staff"]},
     "user-name", "氏名を入力してください"),
    ({"login": "tanaka", "name": "田中", "department": "", "roles": ["staff"]},
     "user-department", "担当課を入力してください"),
    ({"login": "tanaka", "name": "田" * 201, "department": "住民課", "roles": ["staff"]},
     "user-name", "200文字以内"),
])
def test_a_refused_user_is_named_next_to_the_field_and_nothing_is_stored(
    app: FastAPI, engine: Engine, form: dict[str, Any], field: str, message: str
) -> None:
    with browser(app, "boss") as b:
        users, entries = count(engine, UserRow), len(audit(engine))
        r = b.post("/admin/new-user", data=form)
        assert r.status_code == 422
        assert re.search(rf'id="{field}-error">[^<]*{message}', r.text), _text(r.text)
        assert "利用者は追加されていません" in r.text
        assert 'id="secret"' not in r.text
        # what was typed comes back (but no password: there is none yet)
        if form.get("name", "").strip():
            assert f'value="{form["name"].strip()}"' in r.text
        for role in form.get("roles", []):
            if role in ROLES:
                assert re.search(rf'value="{role}" checked', r.text)
        assert count(engine, UserRow) == users
        assert len(audit(engine)) == entries


# -- changing a user ------------------------------------------------------------------------------


def test_an_admin_changes_name_department_and_roles(app: FastAPI, engine: Engine) -> None:
    with browser(app, "clerk") as clerk, browser(app, "boss") as b:
        page = b.get("/admin/users/clerk").text
        assert 'value="窓口 花子"' in page and re.search(r'value="staff" checked', page)
        r = b.post("/admin/users/clerk", data={"name": "窓口 花子", "department": "総務課",
                                               "roles": ["staff", "author"]},
                   follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/admin/users/clerk?done=updated"
        assert "利用者の情報を保存しました" in b.get(r.headers["location"]).text
        # the clerk's session ends: the old rights must not stay
        assert clerk.get("/", follow_redirects=False).status_code == 303
        # saving the same again changes nothing
        r = b.post("/admin/users/clerk", data={"name": "窓口 花子", "department": "総務課",
                                               "roles": ["staff", "author"]},
                   follow_redirects=False)
        assert r.headers["location"].endswith("done=unchanged")
    with db.session_scope(engine) as session:
        clerk_now = get_user(session, "clerk")
    assert clerk_now.department == "総務課" and clerk_now.roles == ("author", "staff")
    [updated] = [e for e in audit(engine) if e["action"] == "user.update"]
    assert updated["actor"] == "boss" and updated["detail"]["changed"] == ["department", "roles"]


def test_a_refused_change_stores_nothing(app: FastAPI, engine: Engine) -> None:
    with browser(app, "boss") as b:
        r = b.post("/admin/users/clerk", data={"name": "", "department": "総務課"})
        assert r.status_code == 422
        assert re.search(r'id="user-name-error">氏名を入力してください', r.text)
        assert re.search(r'id="user-roles-error">役割を一つ以上選んでください', r.text)
        assert "変更は保存されていません" in r.text
    with db.session_scope(engine) as session:
        clerk = get_user(session, "clerk")
    assert clerk.department == "住民課" and clerk.roles == ("staff",)
    assert "user.update" not in actions(engine)


def test_disabling_ends_the_sessions_and_enabling_lets_them_back(
    app: FastAPI, engine: Engine
) -> None:
    with browser(app, "clerk") as clerk, browser(app, "boss") as b:
        assert clerk.get("/", follow_redirects=False).status_code == 200
        r = b.post("/admin/users/clerk/disable", data={}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/admin/users/clerk?done=disabled"
        page = _text(b.get(r.headers["location"]).text)
        assert "利用者を無効にしました" in page and "この利用者を有効にする" in page
        assert clerk.get("/", follow_redirects=False).status_code == 303
        assert not _can_log_in(app, "clerk", PASSWORD)
        assert "無効" in _text(b.get("/admin/users").text)
        r = b.post("/admin/users/clerk/enable", data={}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].endswith("done=enabled")
    assert _can_log_in(app, "clerk", PASSWORD)
    entries = [e for e in audit(engine) if e["target"] == "user/clerk"]
    disabled = next(e for e in entries if e["action"] == "user.disable")
    assert disabled["actor"] == "boss" and disabled["detail"]["sessions_ended"] == 1
    assert any(e["action"] == "user.enable" and e["actor"] == "boss" for e in entries)


def test_a_reset_password_is_shown_once_and_replaces_the_old(
    app: FastAPI, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with browser(app, "clerk") as clerk, browser(app, "boss") as b:
        r = b.post("/admin/users/clerk/password", data={})
        assert r.status_code == 200 and "パスワードを再発行しました" in r.text
        password = _secret(r.text)
        assert password not in b.get("/admin/users/clerk").text
        assert clerk.get("/", follow_redirects=False).status_code == 303
    assert not _can_log_in(app, "clerk", PASSWORD)
    assert _can_log_in(app, "clerk", password)
    [reset] = [e for e in audit(engine) if e["action"] == "user.password"]
    assert reset["actor"] == "boss" and reset["target"] == "user/clerk"
    assert password not in json.dumps(audit(engine)) and password not in caplog.text


# -- an admin cannot lock themselves out ----------------------------------------------------------


def test_an_admin_cannot_disable_themselves(app: FastAPI, engine: Engine) -> None:
    with browser(app, "boss") as b:
        page = b.get("/admin/users/boss").text
        assert "/admin/users/boss/disable" not in page and "あなた自身は無効にできません" in page
        r = b.post("/admin/users/boss/disable", data={})
        assert r.status_code == 409
        assert "自分自身を無効にすることはできません" in _text(r.text)
        assert b.get("/admin/users", follow_redirects=False).status_code == 200
    with db.session_scope(engine) as session:
        assert get_user(session, "boss").active
    assert "user.disable" not in actions(engine)


def test_an_admin_cannot_remove_their_own_admin_role(app: FastAPI, engine: Engine) -> None:
    with browser(app, "boss") as b:
        r = b.post("/admin/users/boss", data={"name": "管理 太郎", "department": "総務課",
                                              "roles": ["author"]})
        assert r.status_code == 422
        assert re.search(r'id="user-roles-error">自分自身の管理者の役割は外せません', r.text)
        assert b.get("/admin/users", follow_redirects=False).status_code == 200
    with db.session_scope(engine) as session:
        assert get_user(session, "boss").roles == ("admin",)
    assert "user.update" not in actions(engine)


def test_an_admin_resets_their_own_password_on_the_account_page(
    app: FastAPI, engine: Engine
) -> None:
    with browser(app, "boss") as b:
        page = b.get("/admin/users/boss").text
        assert "/admin/users/boss/password" not in page and 'href="/account"' in page
        r = b.post("/admin/users/boss/password", data={})
        assert r.status_code == 409 and 'id="secret"' not in r.text
        assert "パスワードの変更" in _text(r.text)
        assert b.get("/", follow_redirects=False).status_code == 200
    assert _can_log_in(app, "boss", PASSWORD)
    assert "user.password" not in actions(engine)


def test_an_admin_who_moves_department_stays_logged_in(app: FastAPI, engine: Engine) -> None:
    with browser(app, "boss") as b:
        r = b.post("/admin/users/boss", data={"name": "管理 太郎", "department": "企画課",
                                              "roles": ["admin", "approver"]},
                   follow_redirects=False)
        assert r.status_code == 303 and r.cookies.get("kijun_session")
        page = b.get(r.headers["location"], follow_redirects=False)
        assert page.status_code == 200 and "企画課" in page.text
    with db.session_scope(engine) as session:
        assert get_user(session, "boss").roles == ("admin", "approver")


# -- API tokens -----------------------------------------------------------------------------------


def test_tokens_are_made_shown_once_listed_and_revoked(
    app: FastAPI, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with browser(app, "boss") as b:
        r = b.post("/admin/users/clerk/tokens", data={"token_name": "窓口端末"})
        assert r.status_code == 200 and "APIトークンを発行しました" in r.text
        secret = _secret(r.text)
        headers = {"Authorization": f"Bearer {secret}"}
        assert b.get("/api/criteria", headers=headers).status_code == 200
        for path in ("/admin/users", "/admin/users/clerk"):
            page = b.get(path).text
            assert secret not in page and "窓口端末" in page and "失効させる" in page
        with db.session_scope(engine) as session:
            [token] = list_tokens(session, "clerk")
        assert b.post(f"/admin/tokens/{token.id}/revoke", data={}, csrf=None).status_code == 403
        assert b.get("/api/criteria", headers=headers).status_code == 200
        r = b.post(f"/admin/tokens/{token.id}/revoke", data={}, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/admin/users/clerk?done=token_revoked#tokens"
        page = _text(b.get("/admin/users").text)
        assert "失効" in page and "失効させる" not in page
    with Browser(app) as api:
        assert api.get("/api/criteria", headers=headers).status_code == 401
    done = [e for e in audit(engine) if e["action"].startswith("token.")]
    assert [e["action"] for e in done] == ["token.create", "token.revoke"]
    assert all(e["actor"] == "boss" for e in done)
    assert secret not in json.dumps(audit(engine)) and secret not in caplog.text


def test_a_token_needs_a_name_and_an_active_user(app: FastAPI, engine: Engine) -> None:
    with browser(app, "boss") as b:
        r = b.post("/admin/users/clerk/tokens", data={"token_name": "  "})
        assert r.status_code == 422
        assert re.search(r'id="token-name-error"[^>]*>トークンの用途を入力してください', r.text)
        b.post("/admin/users/clerk/disable", data={})
        r = b.post("/admin/users/clerk/tokens", data={"token_name": "窓口端末"})
        assert r.status_code == 422 and "無効の利用者にはトークンを発行できません" in r.text
    assert count(engine, ApiTokenRow) == 0
    assert not any(a.startswith("token.") for a in actions(engine))


def test_audit_page_names_the_user_actions_in_japanese(app: FastAPI, engine: Engine) -> None:
    with browser(app, "boss") as b:
        b.post("/admin/users/clerk/disable", data={})
        b.post("/admin/users/clerk/enable", data={})
        page = b.get("/admin/audit").text
    for label in ("利用者の無効化", "利用者の有効化", "ログイン"):
        assert label in page
    with db.session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntryRow)) > 0
