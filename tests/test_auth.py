"""Login, sessions, roles, CSRF, API tokens and the user CLI (kijun.web.auth, kijun.store.users).

Runs on every backend of the `engine` fixture (SQLite, and PostgreSQL when
KIJUN_TEST_DATABASE_URL is set). Browsers are `tests.webclient.Browser`: they
log in through the form and send the session's csrf_token with form posts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy import Engine, func, select, update
from typer.testing import CliRunner

from kijun.cli import app as cli
from kijun.criteria.formats.yaml import loads
from kijun.store import (
    ROLES,
    DecisionRecord,
    PasswordPolicyError,
    UserError,
    authenticate,
    create_token,
    db,
    disable_user,
    list_decisions,
    revoke_token,
    save_criterion,
    set_password,
)
from kijun.store import users as store_users
from kijun.store.audit import list_entries, verify
from kijun.store.models import LoginFailureRow, UserRow, WebSessionRow
from kijun.web.app import create_app
from kijun.web.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    PermissionDenied,
    User,
    can_approve,
    can_decide,
    can_edit,
    ensure_can_approve,
    ensure_can_edit,
)
from tests.webclient import PASSWORD, Browser, add_user, bearer, csrf_in, form_posts

ROOT = Path(__file__).resolve().parent.parent

TENNYU = textwrap.dedent("""\
    id: tennyu
    name: 転入届の受理
    department: 住民課
    versions:
      - effective_from: 2019-05-01
        decisions:
          - name: 対応
            hit_policy: UNIQUE
            inputs: [{name: 期限内, type: boolean}]
            outputs: [{name: 対応, type: string}]
            rules:
              - {when: {期限内: true}, then: {対応: 受理}, basis: 第22条}
              - {when: {期限内: false}, then: {対応: 受理し通知}, basis: 第52条}
""")

DECIDE = "/criteria/tennyu/decide"
FORM = {"fact.期限内": "true", "on": "2025-04-01"}
API_DECIDE = "/api/criteria/tennyu/decide"
API_BODY = {"facts": {"期限内": True}, "on": "2025-04-01"}


@pytest.fixture
def app(engine: Engine, database_url: str) -> FastAPI:
    with db.session_scope(engine) as session:
        save_criterion(session, loads(TENNYU), actor="test", justification="テスト")
    return create_app(database_url)


@contextmanager
def browser(app: FastAPI, engine: Engine | None = None, login: str | None = None,
            *roles: str, department: str = "住民課", **kwargs: Any) -> Iterator[Browser]:
    """A Browser; logged in as a new user `login` with `roles` when given."""
    if login is not None:
        assert engine is not None
        add_user(engine, login, *roles, department=department)
    with Browser(app, **kwargs) as b:
        if login is not None:
            r = b.log_in(login)
            assert r.status_code == 303, r.text
        yield b


def decisions(engine: Engine) -> list[DecisionRecord]:
    with db.session_scope(engine) as session:
        return list(list_decisions(session))


def audit_text(engine: Engine) -> str:
    with db.session_scope(engine) as session:
        return json.dumps([e.to_dict() for e in list_entries(session, limit=1000)],
                          ensure_ascii=False)


def count(engine: Engine, model: Any) -> int:
    with db.session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- logging in and out ---------------------------------------------------------------------------


def test_pages_send_a_visitor_to_the_login_page_and_back(app: FastAPI, engine: Engine) -> None:
    add_user(engine, "madoguchi", "staff")
    with browser(app) as b:
        r = b.get("/criteria/tennyu?version=1", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/login?next=/criteria/tennyu%3Fversion%3D1"
        r = b.log_in("madoguchi", next="/criteria/tennyu?version=1")
        assert r.status_code == 303 and r.headers["location"] == "/criteria/tennyu?version=1"
        assert "第1版の内容" in _text(b.get(r.headers["location"]).text)


def test_the_login_page_is_japanese_labelled_and_protected(app: FastAPI) -> None:
    with browser(app) as b:
        r = b.get("/login")
    assert r.status_code == 200 and '<html lang="ja">' in r.text
    page = _text(r.text)
    assert "ログイン" in page and "利用者ID" in page and "パスワード" in page
    assert '<label class="field__label" for="login">利用者ID' in r.text
    assert '<label class="field__label" for="password">パスワード' in r.text
    assert 'type="password" id="password"' in r.text and 'autocomplete="current-password"' in r.text
    assert 'autocomplete="username"' in r.text
    assert csrf_in(r.text) == r.cookies[LOGIN_COOKIE]  # the login form's double-submitted token
    assert "ログアウト" not in page  # nobody is logged in


def test_login_shows_the_user_and_logout_ends_the_session(app: FastAPI, engine: Engine) -> None:
    add_user(engine, "madoguchi", "staff", name="奈義 花子", department="住民課")
    with browser(app) as b:
        r = b.log_in("madoguchi")
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = b.cookies[SESSION_COOKIE]
        page = b.get("/")
        assert page.status_code == 200
        header = re.search(r'<header.*?</header>', page.text, re.S)
        assert header is not None
        assert "奈義 花子" in header.group(0) and "住民課" in header.group(0)
        assert 'action="/logout"' in header.group(0) and "ログアウト" in header.group(0)
        assert count(engine, WebSessionRow) == 1
        r = b.post("/logout", data={}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?logged_out=1"
        assert "ログアウトしました" in b.get(r.headers["location"]).text
        assert count(engine, WebSessionRow) == 0
        assert b.get("/", follow_redirects=False).status_code == 303
    # the old cookie, kept by someone, no longer works: the session is gone on the server
    with browser(app) as other:
        other.cookies.set(SESSION_COOKIE, cookie)
        assert other.get("/", follow_redirects=False).status_code == 303
        assert other.get("/api/criteria").status_code == 401
    actions = [e["action"] for e in json.loads(audit_text(engine))]
    assert "session.login" in actions and "session.logout" in actions


def test_a_wrong_password_is_refused_in_japanese_next_to_the_field(
    app: FastAPI, engine: Engine
) -> None:
    add_user(engine, "madoguchi", "staff")
    with browser(app) as b:
        token = csrf_in(b.get("/login").text)
        r = b.post("/login", data={"login": "madoguchi", "password": "not-the-password-at-all",
                                   "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 401
        assert re.search(r'id="password-error">利用者IDまたはパスワードが正しくありません', r.text)
        assert 'aria-invalid="true" aria-describedby="password-error"' in r.text
        assert 'value="madoguchi"' in r.text  # the login is kept, the password never is
        assert "not-the-password-at-all" not in r.text
        assert SESSION_COOKIE not in r.cookies
        assert b.get("/", follow_redirects=False).status_code == 303


def test_empty_fields_are_named_next_to_them(app: FastAPI) -> None:
    with browser(app) as b:
        token = csrf_in(b.get("/login").text)
        r = b.post("/login", data={"login": " ", "password": "", "csrf_token": token})
    assert r.status_code == 422
    assert re.search(r'id="login-error">利用者IDを入力してください', r.text)
    assert re.search(r'id="password-error">パスワードを入力してください', r.text)
    assert "入力内容を確認してください（2件）" in r.text


def test_an_unknown_login_and_a_disabled_user_get_the_same_answer(
    app: FastAPI, engine: Engine
) -> None:
    add_user(engine, "taishoku", "staff")
    with browser(app, engine, "madoguchi", "staff") as logged_in:
        with db.session_scope(engine) as session:
            disable_user(session, "taishoku", actor="test")
        with browser(app) as b:
            unknown = b.log_in("daremo", PASSWORD)
            disabled = b.log_in("taishoku", PASSWORD)  # the right password
        assert unknown.status_code == disabled.status_code == 401
        assert _text(unknown.text).replace("daremo", "X") == _text(disabled.text).replace(
            "taishoku", "X")
        # disabling a user ends their sessions at once
        with db.session_scope(engine) as session:
            disable_user(session, "madoguchi", actor="test")
        assert logged_in.get("/", follow_redirects=False).status_code == 303


def test_the_login_form_needs_its_own_token(app: FastAPI, engine: Engine) -> None:
    add_user(engine, "madoguchi", "staff")
    with browser(app) as b:
        r = b.post("/login", data={"login": "madoguchi", "password": PASSWORD},
                   follow_redirects=False)
        assert r.status_code == 403 and "もう一度" in r.text
        assert SESSION_COOKIE not in r.cookies
        # the page it shows carries a fresh token that works
        r = b.post("/login", data={"login": "madoguchi", "password": PASSWORD,
                                   "csrf_token": csrf_in(r.text)}, follow_redirects=False)
        assert r.status_code == 303


def test_login_ids_are_typed_in_any_width_and_case(app: FastAPI, engine: Engine) -> None:
    add_user(engine, "madoguchi", "staff")
    with browser(app) as b:
        assert b.log_in("ＭＡＤＯＧＵＣＨＩ").status_code == 303  # 全角, capitals


def test_next_never_leaves_the_site(app: FastAPI, engine: Engine) -> None:
    add_user(engine, "madoguchi", "staff")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"):
        with browser(app) as b:
            r = b.log_in("madoguchi", next=target)
            assert r.status_code == 303 and r.headers["location"] == "/", target


def test_a_logged_in_user_going_to_the_login_page_goes_on(app: FastAPI, engine: Engine) -> None:
    with browser(app, engine, "madoguchi", "staff") as b:
        r = b.get("/login", params={"next": "/criteria/tennyu"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/criteria/tennyu"


def test_sessions_expire(app: FastAPI, engine: Engine) -> None:
    with browser(app, engine, "madoguchi", "staff") as b:
        assert b.get("/", follow_redirects=False).status_code == 200
        past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
        with db.session_scope(engine) as session:  # an hour and more without a request
            session.execute(update(WebSessionRow).values(last_seen_at=past))
        assert b.get("/", follow_redirects=False).status_code == 303
        assert count(engine, WebSessionRow) == 0
    with browser(app) as b:
        b.log_in("madoguchi")
        with db.session_scope(engine) as session:  # the working day is over
            session.execute(update(WebSessionRow).values(expires_at=past))
        assert b.get("/", follow_redirects=False).status_code == 303


def test_changing_the_password_ends_the_sessions(app: FastAPI, engine: Engine) -> None:
    with browser(app, engine, "madoguchi", "staff") as b:
        with db.session_scope(engine) as session:
            set_password(session, "madoguchi", "a new password of mine", actor="test")
        assert b.get("/", follow_redirects=False).status_code == 303
        assert b.log_in("madoguchi").status_code == 401
        assert b.log_in("madoguchi", "a new password of mine").status_code == 303


# -- rate limiting ------------------------------------------------------------------------------


def _fail(b: Browser, login: str, times: int) -> None:
    for _ in range(times):
        assert b.log_in(login, "wrong password 123").status_code == 401


def test_five_failures_for_a_login_lock_it_for_fifteen_minutes(
    app: FastAPI, engine: Engine
) -> None:
    add_user(engine, "madoguchi", "staff")
    with browser(app) as b:
        _fail(b, "madoguchi", 5)
        r = b.log_in("madoguchi")  # even the right password
        assert r.status_code == 429
        assert "ログインの失敗が続いたため、しばらくログインできません" in _text(r.text)
        assert "15分" in r.text and int(r.headers["retry-after"]) > 0
        assert SESSION_COOKIE not in r.cookies
        # fifteen minutes later
        with db.session_scope(engine) as session:
            session.execute(update(LoginFailureRow).values(
                at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)))
        assert b.log_in("madoguchi").status_code == 303
        assert count(engine, LoginFailureRow) == 0


def test_a_successful_login_resets_the_count(app: FastAPI, engine: Engine) -> None:
    add_user(engine, "madoguchi", "staff")
    with browser(app) as b:
        _fail(b, "madoguchi", 4)
        assert b.log_in("madoguchi").status_code == 303
        b.cookies.clear()
        _fail(b, "madoguchi", 4)
        assert b.log_in("madoguchi").status_code == 303


def test_many_failures_from_one_client_lock_it(app: FastAPI, engine: Engine) -> None:
    add_user(engine, "madoguchi", "staff")
    limit = store_users.MAX_FAILURES_PER_CLIENT
    with browser(app) as b:
        for i in range(limit):  # password spraying: a few tries at many logins
            _fail(b, f"user{i % 5}", 1)
        assert b.log_in("madoguchi").status_code == 429
    # …but another client is not locked out by that one
    with db.session_scope(engine) as session:
        outcome = authenticate(session, "madoguchi", PASSWORD, client="192.0.2.10")
    assert outcome.ok


def test_the_failure_table_keeps_no_typed_login(app: FastAPI, engine: Engine) -> None:
    with browser(app) as b:
        b.log_in("my-secret-password-typed-as-login", "x" * 12)
    with db.session_scope(engine) as session:
        rows = session.scalars(select(LoginFailureRow)).all()
    assert len(rows) == 1 and "my-secret" not in rows[0].login_hash


# -- CSRF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("csrf", [None, "", "wrong-token"])
def test_a_decision_without_the_sessions_csrf_token_is_refused(
    app: FastAPI, engine: Engine, csrf: str | None
) -> None:
    with browser(app, engine, "madoguchi", "staff") as b:
        r = b.post(DECIDE, data=FORM, csrf=csrf)
        assert r.status_code == 403
        assert "送信を受け付けられませんでした" in r.text and 'lang="ja"' in r.text
        assert decisions(engine) == []  # nothing stored
        assert b.post(DECIDE, data=FORM).status_code == 200  # with the page's token
        assert len(decisions(engine)) == 1


def test_another_sessions_token_does_not_do(app: FastAPI, engine: Engine) -> None:
    with browser(app, engine, "a-san", "staff") as a, browser(app, engine, "b-san", "staff") as b:
        assert a.csrf_token != b.csrf_token
        assert a.post(DECIDE, data=FORM, csrf=b.csrf_token).status_code == 403
    assert decisions(engine) == []


def test_logging_out_needs_the_token_too(app: FastAPI, engine: Engine) -> None:
    with browser(app, engine, "madoguchi", "staff") as b:
        assert b.post("/logout", data={}, csrf=None).status_code == 403
        assert b.get("/", follow_redirects=False).status_code == 200  # still logged in


def test_every_form_that_posts_carries_the_csrf_token(app: FastAPI, engine: Engine) -> None:
    with browser(app, engine, "madoguchi", "staff") as b:
        token = b.csrf_token
        assert token
        pages = [b.get(p).text for p in ("/", "/criteria/tennyu", DECIDE)]
        pages.append(b.post(DECIDE, data=FORM).text)  # the result page (its 修正 form)
        for html in pages:
            posts = list(form_posts(html))
            assert posts  # at least the logout button
            for form in posts:
                assert f'name="csrf_token" value="{token}"' in form, form[:200]
        # forms that only GET never put the token into a URL
        for html in pages:
            for form in re.findall(r'<form[^>]*method="get".*?</form>', html, re.S):
                assert "csrf_token" not in form


# -- roles --------------------------------------------------------------------------------------


def test_a_viewer_sees_criteria_but_cannot_decide(app: FastAPI, engine: Engine) -> None:
    with browser(app, engine, "etsuran", "viewer", department="教育委員会") as b:
        assert b.get("/").status_code == 200
        page = b.get("/criteria/tennyu")
        assert page.status_code == 200 and "この判断基準で判断する" not in page.text
        for r in (b.get(DECIDE), b.post(DECIDE, data=FORM)):
            assert r.status_code == 403
            text = _text(r.text)
            assert "この操作を行う権限がありません" in text and "窓口職員" in text
            assert 'lang="ja"' in r.text
    assert decisions(engine) == []


@pytest.mark.parametrize("role", ["staff", "author", "approver", "admin"])
def test_staff_authors_approvers_and_admins_decide(
    app: FastAPI, engine: Engine, role: str
) -> None:
    login = f"user-{role}"
    with browser(app, engine, login, role) as b:
        assert "この判断基準で判断する" in b.get("/criteria/tennyu").text
        r = b.post(DECIDE, data=FORM)
        assert r.status_code == 200 and "受理" in r.text
    [stored] = decisions(engine)
    assert stored.actor == login


def _user(*roles: str, department: str = "こども・長寿課") -> User:
    return User(1, "u", "名前", department, frozenset(roles))


def test_who_may_edit_and_approve() -> None:
    author, approver = _user("author"), _user("approver")
    assert can_edit(author, "こども・長寿課") and not can_edit(author, "住民課")
    assert not can_approve(author, "こども・長寿課")
    assert can_approve(approver, "こども・長寿課") and not can_approve(approver, "住民課")
    assert not can_edit(approver, "こども・長寿課")
    both = _user("author", "approver")
    assert can_edit(both, "こども・長寿課") and can_approve(both, "こども・長寿課")
    admin = _user("admin", department="総務課")
    assert can_edit(admin, "住民課") and can_approve(admin, None)
    assert not can_edit(author, None)  # a criterion of no department: admins only
    assert not can_edit(_user("staff"), "こども・長寿課")
    assert can_decide(_user("staff")) and not can_decide(_user("viewer"))
    assert _user("viewer", "author").role_labels == ["基準作成者", "閲覧者"]


def test_ensure_helpers_refuse_in_japanese() -> None:
    ensure_can_edit(_user("author"), "こども・長寿課")
    with pytest.raises(PermissionDenied) as e:
        ensure_can_edit(_user("author"), "住民課")
    assert e.value.message_ja and "住民課の基準作成者" in e.value.message_ja
    with pytest.raises(PermissionDenied) as e:
        ensure_can_approve(_user("author"), "こども・長寿課")
    assert e.value.roles == ("approver",)


def test_every_route_but_the_public_ones_needs_a_login(app: FastAPI, engine: Engine) -> None:
    public = {("GET", "/healthz"), ("GET", "/login"), ("POST", "/login")}
    routes = list(_routes(app))
    assert ("POST", "/criteria/{criterion_id}/decide") in routes
    with browser(app) as anonymous:
        for method, path in routes:
            url = re.sub(r"\{[^}]+\}", "1", path)
            r = anonymous.request(method, url, follow_redirects=False,
                                  **({"json": {}} if method == "POST" else {}))
            if (method, path) in public:
                assert r.status_code < 400 or r.status_code == 403, (method, path)
            elif path.startswith("/api/"):
                assert r.status_code == 401, (method, path)
                assert r.json()["error"]["code"] == "unauthenticated"
            else:
                assert r.status_code == 303, (method, path)
                assert r.headers["location"].startswith("/login"), (method, path)
        for path in ("/healthz", "/static/kijun.css", "/login"):
            assert anonymous.get(path).status_code == 200


def _routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every endpoint, on FastAPI versions that flatten routers or not."""
    for route in app.routes:
        contexts = (route.effective_route_contexts()  # FastAPI ≥ 0.16x: included routers
                    if hasattr(route, "effective_route_contexts") else [route])
        for ctx in contexts:
            if getattr(ctx, "endpoint", None) is None or not getattr(ctx, "methods", None):
                continue
            if ctx.path == app.openapi_url:
                continue  # the schema is public by choice (no data in it)
            for method in sorted(ctx.methods - {"HEAD"}):
                yield method, ctx.path


# -- the API ------------------------------------------------------------------------------------


def test_the_api_without_a_token_is_401_json(app: FastAPI, engine: Engine) -> None:
    with browser(app) as anonymous:
        for r in (anonymous.get("/api/criteria"), anonymous.post(API_DECIDE, json=API_BODY)):
            assert r.status_code == 401
            assert set(r.json()) == {"error"}
            assert set(r.json()["error"]) == {"code", "message"}
            assert r.json()["error"]["code"] == "unauthenticated"
            assert r.headers["www-authenticate"].startswith("Bearer")
        for header in ("Bearer not-a-token", "Basic bWFkb2d1Y2hpOnB3", "Bearer "):
            r = anonymous.get("/api/criteria", headers={"Authorization": header})
            assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    assert decisions(engine) == []


def test_a_valid_token_decides_in_its_users_name_and_a_revoked_one_is_401(
    app: FastAPI, engine: Engine
) -> None:
    add_user(engine, "renkei", "staff")
    with db.session_scope(engine) as session:
        token, secret = create_token(session, "renkei", name="基幹系連携", actor="test")
    auth = {"Authorization": f"Bearer {secret}"}
    with browser(app) as client:
        assert client.get("/api/criteria", headers=auth).status_code == 200
        r = client.post(API_DECIDE, json=API_BODY, headers=auth)  # no CSRF token needed
        assert r.status_code == 200 and r.json()["outputs"] == {"対応": "受理"}
        [stored] = decisions(engine)
        assert stored.actor == "renkei"
        with db.session_scope(engine) as session:
            revoke_token(session, token.id, actor="test")
        r = client.get("/api/criteria", headers=auth)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    with db.session_scope(engine) as session:
        [listed] = store_users.list_tokens(session, "renkei")
    assert listed.revoked and listed.last_used_at is not None


def test_the_token_of_a_disabled_user_is_401(app: FastAPI, engine: Engine) -> None:
    add_user(engine, "renkei", "staff")
    auth = bearer(engine, "renkei")
    with db.session_scope(engine) as session:
        disable_user(session, "renkei", actor="test")
    with browser(app) as client:
        assert client.get("/api/criteria", headers=auth).status_code == 401


def test_a_viewers_token_reads_but_does_not_decide(app: FastAPI, engine: Engine) -> None:
    add_user(engine, "etsuran", "viewer")
    auth = bearer(engine, "etsuran")
    with browser(app) as client:
        assert client.get("/api/criteria/tennyu", headers=auth).status_code == 200
        r = client.post(API_DECIDE, json=API_BODY, headers=auth)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert decisions(engine) == []


def test_the_api_from_a_browser_session_needs_the_csrf_header_to_post(
    app: FastAPI, engine: Engine
) -> None:
    with browser(app, engine, "madoguchi", "staff") as b:
        assert b.get("/api/criteria").status_code == 200
        r = b.post(API_DECIDE, json=API_BODY)
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        assert decisions(engine) == []
        assert b.csrf_token is not None
        r = b.post(API_DECIDE, json=API_BODY, headers={"X-CSRF-Token": b.csrf_token})
        assert r.status_code == 200
    assert [d.actor for d in decisions(engine)] == ["madoguchi"]


# -- cookies and headers ------------------------------------------------------------------------


def _cookie_header(r: Any, name: str) -> str:
    [header] = [h for h in r.headers.get_list("set-cookie") if h.startswith(name + "=")]
    return str(header).lower()


@pytest.mark.parametrize(
    ("base_url", "setting", "secure"),
    [
        ("https://kijun.town.nagi.example", None, True),
        ("http://127.0.0.1:8000", None, False),
        ("http://localhost:8000", None, False),
        ("http://kijun.town.nagi.example", None, True),  # plain http on the network: fail closed
        ("http://kijun.town.nagi.example", "0", False),
        ("http://127.0.0.1:8000", "1", True),
    ],
)
def test_the_session_cookie_is_httponly_lax_and_secure_unless_local_http(
    app: FastAPI, engine: Engine, monkeypatch: pytest.MonkeyPatch,
    base_url: str, setting: str | None, secure: bool,
) -> None:
    if setting is None:
        monkeypatch.delenv("KIJUN_COOKIE_SECURE", raising=False)
    else:
        monkeypatch.setenv("KIJUN_COOKIE_SECURE", setting)
    add_user(engine, "madoguchi", "staff")
    with browser(app, base_url=base_url) as b:
        page = b.get("/login")
        token = csrf_in(page.text)
        # sent by hand: a client (like a browser) keeps a Secure cookie from going over http
        r = b.post("/login", data={"login": "madoguchi", "password": PASSWORD,
                                   "csrf_token": token}, follow_redirects=False,
                   headers={"Cookie": f"{LOGIN_COOKIE}={token}"})
    assert r.status_code == 303
    for cookie in (_cookie_header(r, SESSION_COOKIE), _cookie_header(page, LOGIN_COOKIE)):
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
        assert ("secure" in cookie.split("; ")) is secure
        assert "max-age" not in cookie and "expires" not in cookie  # ends with the browser


def test_hsts_only_over_https(app: FastAPI) -> None:
    with browser(app, base_url="https://kijun.example") as b:
        assert b.get("/healthz").headers["strict-transport-security"] == "max-age=31536000"
    with browser(app, base_url="http://127.0.0.1") as b:
        r = b.get("/healthz")
        assert "strict-transport-security" not in r.headers
        assert r.headers["x-frame-options"] == "DENY"  # the other headers stay


def test_the_login_page_warns_when_the_cookie_cannot_travel(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIJUN_COOKIE_SECURE", raising=False)
    with browser(app, base_url="http://kijun.town.nagi.example") as b:
        assert "KIJUN_COOKIE_SECURE=0" in b.get("/login").text
    with browser(app, base_url="http://127.0.0.1") as b:
        assert "KIJUN_COOKIE_SECURE" not in b.get("/login").text


# -- secrets stay secret ------------------------------------------------------------------------


def test_passwords_are_argon2id_and_never_logged_or_audited(
    app: FastAPI, engine: Engine, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "sora-no-aosa 2025!"
    typo = "sora-no-aosa 2024!"
    add_user(engine, "madoguchi", "staff", password=secret)
    with db.session_scope(engine) as session:
        [stored_hash] = session.scalars(select(UserRow.password_hash)).all()
    assert stored_hash.startswith("$argon2id$") and secret not in stored_hash
    with browser(app) as b:
        b.log_in("madoguchi", typo)
        b.log_in(secret, secret)  # a password typed into the login field
        assert b.log_in("madoguchi", secret).status_code == 303
        b.post("/logout", data={})
    token = bearer(engine, "madoguchi")["Authorization"].split()[1]
    with browser(app) as client:
        client.get("/api/criteria", headers={"Authorization": f"Bearer {token}"})
    code, _ = kijun(database_url, "user", "password", "madoguchi", "--password-stdin",
                    input="another secret pw\n")
    assert code == 0
    logged = caplog.text
    audited = audit_text(engine)
    for value in (secret, typo, token, stored_hash, "another secret pw"):
        assert value not in logged and value not in audited
    assert "login failed: user madoguchi" in logged  # who, for the administrator
    assert "login failed: unknown login" in logged  # the typed "login" is not repeated
    with db.session_scope(engine) as session:
        assert verify(session).ok


def test_a_hash_with_weaker_parameters_is_renewed_at_login(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argon2 import PasswordHasher

    add_user(engine, "madoguchi", "staff")  # with the tests' cheapest parameters
    monkeypatch.setattr(store_users, "PASSWORD_HASHER",
                        PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    with db.session_scope(engine) as session:
        assert authenticate(session, "madoguchi", PASSWORD, client="c").ok
        [renewed] = session.scalars(select(UserRow.password_hash)).all()
    assert renewed.startswith("$argon2id$v=19$m=2048,t=2,p=1$")
    assert "user.password.rehash" in audit_text(engine)
    with db.session_scope(engine) as session:
        assert authenticate(session, "madoguchi", PASSWORD, client="c").ok


def test_starting_without_users_says_how_to_add_one(
    app: FastAPI, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with browser(app):
        pass
    assert "kijun user add" in caplog.text and "kijun demo-users" in caplog.text
    caplog.clear()
    add_user(engine, "madoguchi", "staff")
    with browser(app):
        pass
    assert "no users" not in caplog.text


def test_the_password_policy(engine: Engine) -> None:
    with db.session_scope(engine) as session:
        with pytest.raises(PasswordPolicyError) as short:
            store_users.create_user(session, "x", name="x", department="住民課",
                                    roles=["staff"], password="elevenchars", actor="t")
        assert "elevenchars" not in str(short.value) and "12" in str(short.value)
        with pytest.raises(PasswordPolicyError):
            store_users.create_user(session, "long-login-name", name="x", department="住民課",
                                    roles=["staff"], password="LONG-LOGIN-NAME", actor="t")
        with pytest.raises(UserError, match="unknown role"):
            store_users.create_user(session, "x", name="x", department="住民課",
                                    roles=["mayor"], password=PASSWORD, actor="t")
        with pytest.raises(UserError, match="login"):
            store_users.create_user(session, "山田", name="x", department="住民課",
                                    roles=["staff"], password=PASSWORD, actor="t")


# -- the CLI ------------------------------------------------------------------------------------

runner = CliRunner()


def kijun(database_url: str, *args: str, input: str | None = None) -> tuple[int, Any]:
    result = runner.invoke(cli, [*args, "--database-url", database_url, "--json"], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None


def test_cli_user_add_list_disable_password(app: FastAPI, engine: Engine, database_url: str) -> None:
    code, out = kijun(database_url, "user", "add", "Sakusei", "--name", "奈義 作成",
                      "--department", "こども・長寿課", "--role", "author", "--role", "approver")
    assert code == 0
    generated = out["password"]
    assert len(generated) >= 12
    assert out["user"]["login"] == "sakusei" and out["user"]["roles"] == ["author", "approver"]
    assert "password_hash" not in json.dumps(out)
    code, out = kijun(database_url, "user", "add", "madoguchi", "--name", "奈義 窓口",
                      "--department", "住民課", "--role", "staff", "--password-stdin",
                      input=f"{PASSWORD}\n")
    assert code == 0 and "password" not in out
    with browser(app) as b:
        assert b.log_in("sakusei", generated).status_code == 303
        assert b.log_in("madoguchi", PASSWORD).status_code == 303
    code, out = kijun(database_url, "user", "list")
    assert [(u["login"], u["active"]) for u in out["users"]] == [
        ("sakusei", True), ("madoguchi", True)]
    assert kijun(database_url, "user", "disable", "madoguchi")[1]["changed"] is True
    assert kijun(database_url, "user", "disable", "madoguchi")[1]["changed"] is False
    with browser(app) as b:
        assert b.log_in("madoguchi", PASSWORD).status_code == 401
    assert kijun(database_url, "user", "enable", "madoguchi")[0] == 0
    code, out = kijun(database_url, "user", "password", "madoguchi", "--password-stdin",
                      input="too short\n")
    assert code == 1 and "12" in out["error"]["message"] and "too short" not in json.dumps(out)
    code, out = kijun(database_url, "user", "password", "madoguchi")
    assert code == 0
    with browser(app) as b:
        assert b.log_in("madoguchi", out["password"]).status_code == 303
    # mistakes
    code, out = kijun(database_url, "user", "add", "madoguchi", "--name", "x", "--department",
                      "住民課", "--role", "staff")
    assert code == 1 and "already exists" in out["error"]["message"]
    code, out = kijun(database_url, "user", "add", "y", "--name", "x", "--department",
                      "住民課", "--role", "chief")
    assert code == 1 and "unknown role" in out["error"]["message"]
    code, out = kijun(database_url, "user", "disable", "nobody")
    assert code == 1 and out["error"]["kind"] == "not_found"
    with db.session_scope(engine) as session:
        actions = [e.action for e in list_entries(session, limit=100)]
    assert {"user.create", "user.disable", "user.enable", "user.password"} <= set(actions)


def test_cli_token_create_list_revoke(app: FastAPI, engine: Engine, database_url: str) -> None:
    add_user(engine, "renkei", "staff")
    code, out = kijun(database_url, "token", "create", "renkei", "--name", "基幹系連携")
    assert code == 0 and out["login"] == "renkei" and out["name"] == "基幹系連携"
    token, token_id = out["token"], out["id"]
    with browser(app) as client:
        auth = {"Authorization": f"Bearer {token}"}
        assert client.post(API_DECIDE, json=API_BODY, headers=auth).status_code == 200
        code, out = kijun(database_url, "token", "list")
        assert code == 0 and token not in json.dumps(out)
        assert out["tokens"][0]["id"] == token_id and out["tokens"][0]["last_used_at"]
        code, out = kijun(database_url, "token", "revoke", str(token_id))
        assert code == 0 and out["revoked"] and out["changed"]
        assert client.get("/api/criteria", headers=auth).status_code == 401
    assert kijun(database_url, "token", "revoke", "999")[1]["error"]["kind"] == "not_found"
    assert token not in audit_text(engine)


def test_cli_demo_users(engine: Engine, database_url: str) -> None:
    code, out = kijun(database_url, "demo-users")
    assert code == 0
    made = out["users"]
    assert all(d["created"] and len(d["password"]) >= 12 for d in made)
    # one user per role
    assert sorted(r for d in made for r in d["user"]["roles"]) == sorted(ROLES)
    # departments of Nagi-cho's criteria
    nagi = {yaml.safe_load(p.read_text("utf-8")).get("department")
            for p in (ROOT / "content" / "nagi").glob("*.yaml")}
    assert {d["user"]["department"] for d in made} <= nagi
    by_role = {d["user"]["roles"][0]: d["user"] for d in made}
    assert by_role["author"]["department"] == by_role["approver"]["department"]
    # passwords are random, never fixed: another database gets others
    passwords = {d["password"] for d in made}
    assert len(passwords) == len(made)
    # again: nothing changes, and it says so
    code, again = kijun(database_url, "demo-users")
    assert code == 0 and not any(d["created"] or "password" in d for d in again["users"])
    text = runner.invoke(cli, ["demo-users", "--database-url", database_url]).stdout
    assert text.count("left alone") == len(ROLES) and "password:" not in text
    with db.session_scope(engine) as session:
        assert store_users.authenticate(session, made[0]["user"]["login"], made[0]["password"],
                                         client="cli-test").ok
        [user] = [u for u in store_users.list_users(session)
                  if u.login == made[0]["user"]["login"]]
    assert user.active
