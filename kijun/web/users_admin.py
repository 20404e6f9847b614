"""User and API token management, for admins only (管理者).

Routes (every one needs the admin role; every POST its session's CSRF token):

- `GET /admin/users` — every user (login, name, department, roles, enabled,
  last login) and every API token, with a button to revoke each live token;
- `GET|POST /admin/new-user` — add a user (not under /admin/users/, where
  `new` would be a login); the initial password is made by `generate_password`
  and shown once on the page that answers the POST (never stored in clear,
  logged, or put in a URL);
- `GET|POST /admin/users/{login}` — one user: change name, department, roles;
- `POST /admin/users/{login}/disable|enable` — stop or allow logging in
  (disabling ends the user's sessions and stops their tokens);
- `POST /admin/users/{login}/password` — a new random password, shown once
  (the user's sessions end);
- `POST /admin/users/{login}/tokens` — a new API token, shown once;
- `POST /admin/tokens/{id}/revoke` — revoke a token for good.

The store (`kijun.store.users`) does the work and writes the audit entries.
Form errors come back in Japanese next to their field and nothing is stored.
An admin cannot disable themselves, take away their own admin role, or reset
their own password here (that is `/account`): kijun never locks its last
admin out by a slip of the mouse.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kijun.store.errors import UserError
from kijun.store.models import ROLES
from kijun.store.users import (
    LOGIN_PATTERN,
    ROLE_LABELS_JA,
    UserSummary,
    create_token,
    create_user,
    disable_user,
    enable_user,
    find_user,
    generate_password,
    get_user,
    last_logins,
    list_tokens,
    list_users,
    normalise_login,
    revoke_token,
    set_password,
    start_session,
    update_user,
)
from kijun.web.app import render, root_of, session_for
from kijun.web.auth import User, require_role, set_session_cookie

log = logging.getLogger("kijun.web.users_admin")

router = APIRouter(include_in_schema=False)

ADMIN = require_role("admin")

#: what each role may do, for the role checkboxes
ROLE_HINTS_JA = {
    "admin": "すべての課のすべての操作、利用者の管理、監査ログ",
    "author": "自分の課の判断基準の作成・編集・取り込み・承認の依頼",
    "approver": "自分の課の承認待ちの版の公開・差し戻し",
    "staff": "判断基準で判断し、記録を残す",
    "viewer": "判断基準の一覧・内容を見る",
}

NAME_LIMIT = 200

#: what a user's page reports after a change (`?done=` of the redirect)
DONE_JA = {
    "updated": "利用者の情報を保存しました。",
    "unchanged": "変更はありませんでした。",
    "disabled": "利用者を無効にしました。ログイン中の画面は使えなくなり、APIトークンも使えません。",
    "enabled": "利用者を有効にしました。もう一度ログインできます。",
    "token_revoked": "APIトークンを失効させました。",
}

SELF_DISABLE = ("自分自身を無効にすることはできません。"
                "必要な場合は、ほかの管理者に依頼してください。")
SELF_ADMIN = ("自分自身の管理者の役割は外せません。"
              "必要な場合は、ほかの管理者に依頼してください。")
SELF_PASSWORD = "自分のパスワードは、画面上部の「パスワードの変更」から変えてください。"


def _user_url(request: Request, login: str, done: str | None = None) -> str:
    url = f"{root_of(request)}/admin/users/{quote(login, safe='@')}"
    return url + (f"?done={done}" if done else "")


def _form_data(form: Any) -> dict[str, Any]:
    """Text fields (the last value wins) and the checked roles."""
    data: dict[str, Any] = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    data["roles"] = [v for v in form.getlist("roles") if isinstance(v, str)]
    return data


def _clean(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def _check_text(value: str, label: str, errors: dict[str, str], key: str) -> str:
    text = _clean(value)
    if not text:
        errors[key] = f"{label}を入力してください。"
    elif len(text) > NAME_LIMIT:
        errors[key] = f"{label}は{NAME_LIMIT}文字以内にしてください。"
    return text


def _check_roles(values: list[str], errors: dict[str, str]) -> list[str]:
    chosen = {v.strip().lower() for v in values}
    if not chosen:
        errors["roles"] = "役割を一つ以上選んでください。"
    elif chosen - set(ROLES):
        errors["roles"] = "選べない役割が含まれています。一覧の中から選んでください。"
    return [r for r in ROLES if r in chosen]


def _departments(users: list[UserSummary]) -> list[str]:
    return sorted({u.department for u in users})


def _base_context() -> dict[str, Any]:
    return {"nav": "users", "ROLES": ROLES, "ROLE_LABELS_JA": ROLE_LABELS_JA,
            "ROLE_HINTS_JA": ROLE_HINTS_JA}


# -- the list -------------------------------------------------------------------------------------


@router.get("/admin/users")
def users_page(request: Request, _user: User = Depends(ADMIN)) -> Response:
    with session_for(request) as session:
        users = list_users(session)
        logins = last_logins(session)
        tokens = list_tokens(session)
    return render(request, "users.html", {
        **_base_context(),
        "users": users,
        "last_logins": logins,
        "tokens": tokens,
    })


# -- adding a user ---------------------------------------------------------------------------------


@router.get("/admin/new-user")
def new_user_page(request: Request, _user: User = Depends(ADMIN)) -> Response:
    with session_for(request) as session:
        departments = _departments(list_users(session))
    return _new_user_form(request, {"roles": ["staff"]}, {}, departments)


@router.post("/admin/new-user")
async def add_user(request: Request, user: User = Depends(ADMIN)) -> Response:
    data = _form_data(await request.form())
    return await run_in_threadpool(_add_user, request, user, data)


def _add_user(request: Request, user: User, data: Mapping[str, Any]) -> Response:
    errors: dict[str, str] = {}
    typed_login = str(data.get("login", ""))
    login = normalise_login(typed_login)
    if not login:
        errors["login"] = "利用者IDを入力してください。"
    elif not LOGIN_PATTERN.fullmatch(login):
        errors["login"] = ("利用者IDは半角の英小文字・数字と「. _ - @」で100文字以内で書き、"
                           "英小文字か数字で始めてください（例：tanaka.hanako）。")
    name = _check_text(str(data.get("name", "")), "氏名", errors, "name")
    department = _check_text(str(data.get("department", "")), "担当課", errors, "department")
    roles = _check_roles(list(data.get("roles", [])), errors)
    raw = {"login": login or typed_login.strip(), "name": name, "department": department,
           "roles": roles}
    with session_for(request) as session:
        if "login" not in errors and find_user(session, login) is not None:
            errors["login"] = (f"利用者ID「{login}」はすでに使われています。"
                               "別の利用者IDにしてください。")
        if errors:
            return _new_user_form(request, raw, errors, _departments(list_users(session)),
                                  status_code=422)
        password = generate_password()
        try:
            created = create_user(session, login, name=name, department=department,
                                  roles=roles, password=password, actor=user.login)
        except UserError:
            # checked above; only a race (the same login added meanwhile) gets here
            session.rollback()
            errors["login"] = ("利用者を追加できませんでした。利用者IDがすでに使われていないか"
                               "確かめてください。")
            return _new_user_form(request, raw, errors, _departments(list_users(session)),
                                  status_code=409)
    log.info("user added: %s (by %s)", created.login, user.login)
    return _secret_page(request, created, kind="created", secret=password)


def _new_user_form(request: Request, raw: Mapping[str, Any], errors: Mapping[str, str],
                   departments: list[str], *, status_code: int = 200) -> Response:
    return render(request, "user_new.html", {
        **_base_context(),
        "raw": raw,
        "errors": errors,
        "departments": departments,
    }, status_code=status_code)


# -- one user -------------------------------------------------------------------------------------


@router.get("/admin/users/{login}")
def user_page(request: Request, login: str, done: str | None = None,
              user: User = Depends(ADMIN)) -> Response:
    with session_for(request) as session:
        return _user_page(request, session, user, get_user(session, login),
                          notice=DONE_JA.get(done or ""))


def _user_page(
    request: Request,
    session: Session,
    me: User,
    target: UserSummary,
    *,
    raw: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    status_error: str | None = None,
    token_error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(request, "user.html", {
        **_base_context(),
        "target": target,
        "is_me": target.login == me.login,
        "raw": raw or {"name": target.name, "department": target.department,
                       "roles": list(target.roles)},
        "errors": errors or {},
        "status_error": status_error,
        "token_error": token_error,
        "notice": notice,
        "last_login": last_logins(session, target.login).get(target.login),
        "tokens": list_tokens(session, target.login),
        "departments": _departments(list_users(session)),
    }, status_code=status_code)


@router.post("/admin/users/{login}")
async def edit_user(request: Request, login: str, user: User = Depends(ADMIN)) -> Response:
    data = _form_data(await request.form())
    return await run_in_threadpool(_edit_user, request, login, user, data)


def _edit_user(request: Request, login: str, user: User, data: Mapping[str, Any]) -> Response:
    errors: dict[str, str] = {}
    name = _check_text(str(data.get("name", "")), "氏名", errors, "name")
    department = _check_text(str(data.get("department", "")), "担当課", errors, "department")
    roles = _check_roles(list(data.get("roles", [])), errors)
    raw = {"name": name, "department": department, "roles": roles}
    with session_for(request) as session:
        before = get_user(session, login)
        is_me = before.login == user.login
        if is_me and "roles" not in errors and "admin" not in roles:
            errors["roles"] = SELF_ADMIN
        if errors:
            return _user_page(request, session, user, before, raw=raw, errors=errors,
                              status_code=422)
        after = update_user(session, before.login, actor=user.login, name=name,
                            department=department, roles=roles)
        changed = (after.name, after.department, after.roles) != (
            before.name, before.department, before.roles)
        cookie = None
        if is_me and (after.roles != before.roles or after.department != before.department):
            # update_user ended the admin's own sessions: this browser goes on in a new one
            cookie, _ = start_session(session, after)
    if changed:
        log.info("user updated: %s (by %s)", after.login, user.login)
    response = RedirectResponse(_user_url(request, after.login,
                                          "updated" if changed else "unchanged"),
                                status_code=303)
    if cookie is not None:
        set_session_cookie(response, request, cookie)
    return response


@router.post("/admin/users/{login}/disable")
def disable(request: Request, login: str, user: User = Depends(ADMIN)) -> Response:
    with session_for(request) as session:
        target = get_user(session, login)
        if target.login == user.login:
            return _user_page(request, session, user, target, status_error=SELF_DISABLE,
                              status_code=409)
        _, changed = disable_user(session, target.login, actor=user.login)
    if changed:
        log.info("user disabled: %s (by %s)", target.login, user.login)
    return RedirectResponse(_user_url(request, target.login, "disabled"), status_code=303)


@router.post("/admin/users/{login}/enable")
def enable(request: Request, login: str, user: User = Depends(ADMIN)) -> Response:
    with session_for(request) as session:
        target = get_user(session, login)
        _, changed = enable_user(session, target.login, actor=user.login)
    if changed:
        log.info("user enabled: %s (by %s)", target.login, user.login)
    return RedirectResponse(_user_url(request, target.login, "enabled"), status_code=303)


@router.post("/admin/users/{login}/password")
def reset_password(request: Request, login: str, user: User = Depends(ADMIN)) -> Response:
    with session_for(request) as session:
        target = get_user(session, login)
        if target.login == user.login:
            return _user_page(request, session, user, target, status_error=SELF_PASSWORD,
                              status_code=409)
        password = generate_password()
        set_password(session, target.login, password, actor=user.login)
    log.info("password reset: user %s (by %s)", target.login, user.login)
    return _secret_page(request, target, kind="password", secret=password)


# -- API tokens -----------------------------------------------------------------------------------


@router.post("/admin/users/{login}/tokens")
async def new_token(request: Request, login: str, user: User = Depends(ADMIN)) -> Response:
    form = await request.form()
    label = _clean(str(form.get("token_name", "")))
    return await run_in_threadpool(_new_token, request, login, user, label)


def _new_token(request: Request, login: str, user: User, label: str) -> Response:
    with session_for(request) as session:
        target = get_user(session, login)
        error = None
        if not label:
            error = "トークンの用途を入力してください（例：窓口端末）。"
        elif len(label) > NAME_LIMIT:
            error = f"トークンの用途は{NAME_LIMIT}文字以内にしてください。"
        elif not target.active:
            error = "無効の利用者にはトークンを発行できません。先に有効にしてください。"
        if error is not None:
            return _user_page(request, session, user, target, token_error=error,
                              status_code=422)
        token, secret = create_token(session, target.login, name=label, actor=user.login)
    log.info("API token %d created for user %s (by %s)", token.id, target.login, user.login)
    return _secret_page(request, target, kind="token", secret=secret, token_name=token.name)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke(request: Request, token_id: int, user: User = Depends(ADMIN)) -> Response:
    with session_for(request) as session:
        token, changed = revoke_token(session, token_id, actor=user.login)
    if changed:
        log.info("API token %d revoked (by %s)", token.id, user.login)
    return RedirectResponse(_user_url(request, token.login, "token_revoked") + "#tokens",
                            status_code=303)


# -- a secret, shown once -------------------------------------------------------------------------


def _secret_page(request: Request, target: UserSummary, *, kind: str, secret: str,
                 token_name: str | None = None) -> Response:
    """The page that shows a new password or token, once: it is kept nowhere else."""
    return render(request, "user_secret.html", {
        **_base_context(),
        "target": target,
        "kind": kind,
        "secret": secret,
        "token_name": token_name,
    })
