"""The logged-in user's own account: see who you are, change your password.

`GET /account` shows the user's login, department and roles, and a form with
the current password and the new one twice. `POST /account/password` checks
the current password through `kijun.store.users.authenticate` (so wrong
guesses count towards the login rate limit, as at the login page), the new
one against the store's policy (`check_password`), and then calls
`set_password`, which ends every session of the user and writes the audit
entry. This browser gets a fresh session at once; every other browser where
the user was logged in is logged out.

Passwords are never echoed back into a form, logged or put in a message.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from kijun.store import db
from kijun.store.errors import PasswordPolicyError
from kijun.store.users import (
    LOGIN_WINDOW,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    authenticate,
    check_password,
    get_user,
    set_password,
    start_session,
)
from kijun.web.app import engine_of, render, root_of
from kijun.web.auth import User, require_user, set_session_cookie

log = logging.getLogger("kijun.web.account")

router = APIRouter(include_in_schema=False)

CURRENT_FIELD = "current_password"
NEW_FIELD = "new_password"
CONFIRM_FIELD = "new_password_confirm"

POLICY_HINT = (
    f"{MIN_PASSWORD_LENGTH}文字以上にしてください。利用者IDと同じものは使えません。"
    "覚えやすい長い文（例：単語をいくつか空白でつないだもの）がおすすめです。"
)

DONE_JA = {
    "password": "パスワードを変更しました。ほかの端末やブラウザでのログインは終了しました。",
}


def password_policy_ja(password: str, *, login: str) -> str | None:
    """Why the store would refuse `password`, in Japanese; None when it is acceptable."""
    try:
        check_password(password, login=login)
    except PasswordPolicyError as e:
        return _policy_error_ja(e)
    return None


def _policy_error_ja(e: PasswordPolicyError) -> str:
    text = str(e)
    if "at least" in text:
        return f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください。"
    if "at most" in text:
        return f"パスワードは{MAX_PASSWORD_LENGTH}文字以内にしてください。"
    if "spaces" in text:
        return "空白だけのパスワードは使えません。"
    if "login" in text:
        return "利用者IDと同じパスワードは使えません。"
    return "このパスワードは使えません。別のパスワードにしてください。"


# -- the page -------------------------------------------------------------------------------------


@router.get("/account")
def account_page(request: Request, done: str | None = None,
                 user: User = Depends(require_user)) -> Response:
    return _page(request, user, notice=DONE_JA.get(done or ""))


@router.post("/account/password")
async def change_password(request: Request, user: User = Depends(require_user)) -> Response:
    form = await request.form()
    values = {k: _text(form.get(k)) for k in (CURRENT_FIELD, NEW_FIELD, CONFIRM_FIELD)}
    client = request.client.host if request.client else "unknown"
    outcome, errors, cookie = await run_in_threadpool(
        _change, engine_of(request), user, values, client)
    if outcome == "throttled":
        minutes = int(LOGIN_WINDOW.total_seconds() // 60)
        response = _page(
            request, user, status_code=429,
            form_error=f"パスワードの誤りが続いたため、しばらく変更できません。{minutes}分ほど"
                       "待ってから、もう一度お試しください。",
        )
        response.headers["retry-after"] = str(int(LOGIN_WINDOW.total_seconds()))
        return response
    if outcome != "ok" or cookie is None:
        return _page(request, user, errors=errors, status_code=422)
    response = RedirectResponse(f"{root_of(request)}/account?done=password", status_code=303)
    set_session_cookie(response, request, cookie)
    return response


def _change(
    engine: Engine, user: User, values: dict[str, str], client: str
) -> tuple[str, dict[str, str], str | None]:
    """Check and store the new password; (outcome, errors by field, the new session's cookie)."""
    current, new, confirm = values[CURRENT_FIELD], values[NEW_FIELD], values[CONFIRM_FIELD]
    errors: dict[str, str] = {}
    if not current:
        errors[CURRENT_FIELD] = "現在のパスワードを入力してください。"
    if not new:
        errors[NEW_FIELD] = "新しいパスワードを入力してください。"
    elif (problem := password_policy_ja(new, login=user.login)) is not None:
        errors[NEW_FIELD] = problem
    elif current and new == current:
        errors[NEW_FIELD] = "現在のパスワードとは違うパスワードにしてください。"
    if new and not confirm:
        errors[CONFIRM_FIELD] = "確認のため、新しいパスワードをもう一度入力してください。"
    elif new and confirm != new:
        errors[CONFIRM_FIELD] = ("新しいパスワードと一致しません。"
                                 "同じパスワードをもう一度入力してください。")
    with db.session_scope(engine) as session:
        if current:
            # as at the login page: failures are counted, and too many stop the checking
            outcome = authenticate(session, user.login, current, client=client)
            if outcome.status == "throttled":
                log.warning("password change refused: too many failed attempts (user %s)",
                            user.login)
                return "throttled", {}, None
            if not outcome.ok:
                log.warning("password change refused: wrong current password (user %s)",
                            user.login)
                errors[CURRENT_FIELD] = ("現在のパスワードが正しくありません。大文字・小文字や"
                                         "全角・半角を確かめてください。")
        if errors:
            return "invalid", errors, None
        # set_password ends every session of the user (this one too) and audits the change;
        # this browser continues in a new session
        set_password(session, user.login, new, actor=user.login)
        cookie, _ = start_session(session, get_user(session, user.login))
    log.info("password changed: user %s", user.login)
    return "ok", {}, cookie


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _page(
    request: Request,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "nav": "account",
        "me": user,
        "errors": errors or {},
        "form_error": form_error,
        "notice": notice,
        "POLICY_HINT": POLICY_HINT,
        "CURRENT_FIELD": CURRENT_FIELD,
        "NEW_FIELD": NEW_FIELD,
        "CONFIRM_FIELD": CONFIRM_FIELD,
    }
    return render(request, "account.html", context, status_code=status_code)
