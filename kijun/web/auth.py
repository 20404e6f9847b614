"""Who is asking, and may they: login, sessions, API tokens, roles and CSRF.

Every route needs a logged-in user unless it is marked `@public` (the health
check, the login page); `guard` is an app-wide dependency, so a route added
later is protected without anyone remembering to. Routes then ask for the
role they need with `Depends(require_role(...))`.

- Browsers log in at `/login` and get the cookie `kijun_session`: a random
  value whose SHA-256 names a row of `web_sessions` (see `kijun.store.users`),
  HttpOnly, SameSite=Lax, and Secure unless kijun is reached over plain
  http on localhost (`KIJUN_COOKIE_SECURE=1|0` decides instead). `/logout`
  deletes the row: a copied cookie stops working at once.
- Every POST (PUT, PATCH, DELETE) from a browser session carries the session's
  CSRF token: the form field `csrf_token` (every form that posts has it), or
  the header `X-CSRF-Token`. Requests to `/api/*` with `Authorization: Bearer
  <token>` are exempt: a page on another site cannot make a browser send that
  header. The same-origin check of `kijun.web.security` stays in front.
- `/api/*` answers 401 JSON without a valid token or session; pages redirect
  to `/login?next=…`.

Passwords, tokens and cookies are never logged; a failed login is logged
with the user's login only when such a user exists (people type passwords
into the login field), and never with the client's address.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from kijun.store import db
from kijun.store.users import (
    LOGIN_WINDOW,
    ROLE_LABELS_JA,
    Credential,
    UserSummary,
    authenticate,
    end_session,
    find_user,
    lookup_session,
    lookup_token,
    note_use,
    start_session,
)
from kijun.web.app import api_error, engine_of, error_page, is_api, render, root_of

log = logging.getLogger("kijun.web.auth")

SESSION_COOKIE = "kijun_session"
#: Before login there is no session: the login form's token is double-submitted
#: (this cookie and the form field must match).
LOGIN_COOKIE = "kijun_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
COOKIE_SECURE_ENV = "KIJUN_COOKIE_SECURE"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

#: Who may decide a case (and record it).
DECIDERS = ("staff", "author", "approver", "admin")

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: Documents the bearer scheme in the OpenAPI schema; `guard` does the checking.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token from `kijun token create LOGIN --name NAME`.",
)


# -- users and what they may do -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class User:
    """The logged-in user of a request."""

    id: int
    login: str
    name: str
    department: str
    roles: frozenset[str]

    @classmethod
    def from_summary(cls, s: UserSummary) -> User:
        return cls(s.id, s.login, s.name, s.department, frozenset(s.roles))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def has_role(self, *roles: str) -> bool:
        """Holds one of `roles`; an admin holds every role."""
        return self.is_admin or any(r in self.roles for r in roles)

    @property
    def can_decide(self) -> bool:
        return self.has_role(*DECIDERS)

    @property
    def deciding_role(self) -> str | None:
        """The role a decision is made in, for the event log: staff first, as at the counter."""
        return next((r for r in DECIDERS if r in self.roles), None)

    @property
    def role_labels(self) -> list[str]:
        """The roles in Japanese, in the order of `ROLES`."""
        return [label for role, label in ROLE_LABELS_JA.items() if role in self.roles]


def can_decide(user: User) -> bool:
    """窓口職員, 基準作成者, 承認者 and 管理者 may decide and record a case."""
    return user.can_decide


def can_edit(user: User, criterion_department: str | None) -> bool:
    """A 基準作成者 may edit the criteria of their own department; an admin, any."""
    if user.is_admin:
        return True
    return "author" in user.roles and _same_department(user, criterion_department)


def can_approve(user: User, criterion_department: str | None) -> bool:
    """A 承認者 may approve (publish) the criteria of their own department; an admin, any."""
    if user.is_admin:
        return True
    return "approver" in user.roles and _same_department(user, criterion_department)


def ensure_can_edit(user: User, criterion_department: str | None) -> None:
    """For editor routes: 403 (in Japanese) unless `can_edit`."""
    if not can_edit(user, criterion_department):
        raise PermissionDenied(("author",), _department_message(
            "編集", "基準作成者", criterion_department))


def ensure_can_approve(user: User, criterion_department: str | None) -> None:
    """For review and publish routes: 403 (in Japanese) unless `can_approve`."""
    if not can_approve(user, criterion_department):
        raise PermissionDenied(("approver",), _department_message(
            "承認", "承認者", criterion_department))


def _department_message(action: str, role: str, department: str | None) -> str:
    if department is None:
        return f"担当課のない判断基準を{action}できるのは管理者だけです。"
    return (f"この判断基準（{department}）を{action}できるのは、{department}の{role}と"
            "管理者です。必要な場合は、管理者に権限の付与を依頼してください。")


def _same_department(user: User, department: str | None) -> bool:
    # A criterion without a department belongs to no one's but an admin's.
    return department is not None and department.strip() == user.department.strip()


def roles_ja(roles: Iterable[str]) -> str:
    return "・".join(ROLE_LABELS_JA.get(r, r) for r in roles)


# -- what goes wrong ----------------------------------------------------------------------------


class LoginRequired(Exception):
    """No (valid) session or token. `code`: unauthenticated | invalid_token."""

    def __init__(self, code: str = "unauthenticated") -> None:
        super().__init__(code)
        self.code = code


class PermissionDenied(Exception):
    """Logged in, but without any of `roles` (or outside the department)."""

    def __init__(self, roles: tuple[str, ...], message_ja: str | None = None) -> None:
        super().__init__(", ".join(roles))
        self.roles = roles
        self.message_ja = message_ja


class CsrfFailed(Exception):
    """A state-changing browser request without its session's CSRF token."""


# -- who is asking ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    via: Literal["session", "token"]
    #: the session's CSRF secret (None for a token)
    csrf_secret: str | None = None


_F = TypeVar("_F", bound=Callable[..., Any])
_PUBLIC = "__kijun_public__"


def public(endpoint: _F) -> _F:
    """Mark a route as open to anyone (no login): the health check, the login page."""
    setattr(endpoint, _PUBLIC, True)
    return endpoint


def is_public(request: Request) -> bool:
    return bool(getattr(request.scope.get("endpoint"), _PUBLIC, False))


async def principal_of(request: Request) -> Principal | None:
    """The request's user, from its bearer token (`/api/*` only) or session cookie.

    Resolved once per request. A bearer token that is not valid raises
    `LoginRequired("invalid_token")`: it is never silently ignored in favour
    of a cookie.
    """
    state = request.state
    if getattr(state, "principal_resolved", False):
        found: Principal | None = state.principal
        return found
    engine = engine_of(request)
    bearer = _bearer(request)
    # One indexed read, run here rather than in a worker thread: a thread hop and the
    # fight for the GIL cost more than the read. Writes (the last use, at most once a
    # minute; deleting a dead session) may wait for a lock, so they go to a thread.
    credential = _lookup(engine, bearer, request.cookies.get(SESSION_COOKIE))
    if credential is not None and credential.needs_note:
        await run_in_threadpool(_note_use, engine, credential)
    principal = _principal(credential, bearer)
    state.principal = principal
    state.principal_resolved = True
    if principal is not None:
        state.user = principal.user
        state.csrf_token = principal.csrf_secret
    return principal


def _bearer(request: Request) -> str | None:
    """The bearer token of an API request; "" when the header is there but not a bearer."""
    if not is_api(request):
        return None
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return token.strip()


def _lookup(engine: Engine, bearer: str | None, cookie: str | None) -> Credential | None:
    if bearer is not None:
        if not bearer:
            raise LoginRequired("invalid_token")
        with engine.connect() as conn:
            return lookup_token(conn, bearer)
    if not cookie:
        return None
    with engine.connect() as conn:
        return lookup_session(conn, cookie)


def _note_use(engine: Engine, credential: Credential) -> None:
    with db.session_scope(engine) as session:
        note_use(session, credential)


def _principal(credential: Credential | None, bearer: str | None) -> Principal | None:
    if credential is None or not credential.live:
        if bearer is not None:
            raise LoginRequired("invalid_token")
        return None
    user = User.from_summary(credential.user)
    if credential.kind == "token":
        return Principal(user, "token")
    return Principal(user, "session", credential.csrf_secret)


async def guard(request: Request) -> None:
    """The app-wide dependency: a user on every route not `@public`, and CSRF on writes."""
    if is_public(request):
        return
    principal = await principal_of(request)
    if principal is None:
        raise LoginRequired()
    if request.method in UNSAFE_METHODS and principal.via == "session":
        assert principal.csrf_secret is not None
        if not _token_matches(await _sent_csrf_token(request), principal.csrf_secret):
            raise CsrfFailed()


async def _sent_csrf_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        # Starlette keeps the parsed form on the request: the route reads the same one.
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _token_matches(sent: str | None, expected: str) -> bool:
    return bool(sent) and hmac.compare_digest(str(sent).encode(), expected.encode())


async def current_user(request: Request) -> User | None:
    """The logged-in user, or None (for pages that anyone may see)."""
    principal = await principal_of(request)
    return principal.user if principal is not None else None


async def require_user(request: Request) -> User:
    """The logged-in user; otherwise 401 (API) or a redirect to the login page."""
    user = await current_user(request)
    if user is None:
        raise LoginRequired()
    return user


def require_role(*roles: str) -> Callable[[Request], Awaitable[User]]:
    """A dependency: the logged-in user if they hold one of `roles` (admins hold all), else 403."""
    if not roles:
        raise ValueError("require_role needs at least one role")

    async def dependency(request: Request) -> User:
        user = await require_user(request)
        if not user.has_role(*roles):
            raise PermissionDenied(roles)
        return user

    dependency.__name__ = f"require_role_{'_'.join(roles)}"
    return dependency


# -- cookies ------------------------------------------------------------------------------------


def cookie_secure(request: Request) -> bool:
    """Whether cookies get the Secure flag.

    `KIJUN_COOKIE_SECURE=1` (or true, yes, on) always, `=0` (false, no, off)
    never; otherwise Secure except on plain http to localhost — so a server
    reached by http on the network fails closed rather than sending sessions
    in clear text (serve it over https, or set KIJUN_COOKIE_SECURE=0 knowingly).
    """
    setting = os.environ.get(COOKIE_SECURE_ENV, "").strip().lower()
    if setting in ("1", "true", "yes", "on"):
        return True
    if setting in ("0", "false", "no", "off"):
        return False
    if request.url.scheme == "https":
        return True
    return (request.url.hostname or "").lower() not in LOCAL_HOSTS


def _cookie_path(request: Request) -> str:
    return root_of(request) or "/"


def set_session_cookie(response: Response, request: Request, cookie: str) -> None:
    """The session cookie (HttpOnly, SameSite=Lax, Secure as `cookie_secure` says)."""
    _set_cookie(response, request, SESSION_COOKIE, cookie)


def _set_cookie(response: Response, request: Request, name: str, value: str,
                *, path: str | None = None) -> None:
    response.set_cookie(name, value, path=path or _cookie_path(request), httponly=True,
                        samesite="lax", secure=cookie_secure(request))


def _delete_cookie(response: Response, request: Request, name: str,
                   *, path: str | None = None) -> None:
    response.delete_cookie(name, path=path or _cookie_path(request), httponly=True,
                           samesite="lax", secure=cookie_secure(request))


def _login_cookie_path(request: Request) -> str:
    return f"{root_of(request)}/login"


# -- error responses ----------------------------------------------------------------------------


def safe_next(value: object, request: Request) -> str:
    """A local path to go to after login; anything else (another site, a scheme) is the root."""
    root = root_of(request) + "/"
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return root
    if "\\" in value or any(ord(ch) < 0x20 for ch in value):
        return root
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return root
    return value


def _login_url(request: Request, next_path: str | None) -> str:
    url = f"{root_of(request)}/login"
    if next_path and next_path != root_of(request) + "/":
        url += "?next=" + quote(next_path, safe="/")
    return url


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    if is_api(request):
        if exc.code == "invalid_token":
            message = ("the bearer token is not valid: unknown, revoked, "
                       "or its user is disabled")
        else:
            message = ("authentication required: send Authorization: Bearer <token> "
                       "(kijun token create) or log in")
        response: Response = api_error(401, exc.code, message)
        response.headers["www-authenticate"] = (
            'Bearer realm="kijun", error="invalid_token"' if exc.code == "invalid_token"
            else 'Bearer realm="kijun"'
        )
        return response
    # After logging in, come back here; a form that was being posted is shown afresh.
    here = request.url.path + (
        f"?{request.url.query}" if request.method == "GET" and request.url.query else "")
    # (logging out when not logged in: nothing to come back to)
    target = None if request.url.path == f"{root_of(request)}/logout" else safe_next(here, request)
    response = RedirectResponse(_login_url(request, target), status_code=303)
    if SESSION_COOKIE in request.cookies:
        _delete_cookie(response, request, SESSION_COOKIE)
    return response


async def _permission_denied(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PermissionDenied)
    if is_api(request):
        return api_error(403, "forbidden",
                         f"this needs one of the roles: {', '.join(exc.roles)}")
    message = exc.message_ja or (
        f"この操作は、{roles_ja(exc.roles)}の役割を持つ職員が行えます。"
        "必要な場合は、管理者に権限の付与を依頼してください。"
    )
    return error_page(request, 403, "この操作を行う権限がありません", message)


async def _csrf_failed(request: Request, exc: Exception) -> Response:
    if is_api(request):
        return api_error(403, "csrf_failed",
                         f"a request with a session cookie needs the {CSRF_HEADER} header "
                         "(or use a bearer token)")
    return error_page(
        request, 403, "送信を受け付けられませんでした",
        "画面を開いてから時間がたったか、正しくない送信です。内容は登録されていません。"
        "ページを開き直してから、もう一度操作してください。",
    )


def install(app: FastAPI) -> None:
    """The login routes and the handlers of the errors above (the guard is set by create_app)."""
    app.include_router(router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PermissionDenied, _permission_denied)
    app.add_exception_handler(CsrfFailed, _csrf_failed)


# -- the login page -----------------------------------------------------------------------------

router = APIRouter(include_in_schema=False)

LOGIN_FIELD = "login"
PASSWORD_FIELD = "password"

INSECURE_NOTICE = (
    "この接続は暗号化されていません（http）。ログイン状態を保つ Cookie は https の接続でしか"
    "送られないため、ログインできないことがあります。管理者の方へ：https で公開するか、"
    f"平文の http で使うことを承知のうえで環境変数 {COOKIE_SECURE_ENV}=0 を設定してください。"
)


@router.get("/login")
@public
async def login_form(request: Request, next: str | None = None, logged_out: int = 0) -> Response:
    target = safe_next(next, request)
    if await current_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    return _login_page(request, target, notice="ログアウトしました。" if logged_out else None)


@router.post("/login")
@public
async def login_submit(request: Request) -> Response:
    form = await request.form()
    login = _text(form.get(LOGIN_FIELD)).strip()
    password = _text(form.get(PASSWORD_FIELD))
    target = safe_next(form.get("next"), request)
    if not _token_matches(_text(form.get(CSRF_FIELD)), request.cookies.get(LOGIN_COOKIE, "")):
        return _login_page(
            request, target, login=login, status_code=403,
            form_error="画面を開いてから時間がたったため、ログインを受け付けられませんでした。"
                       "もう一度、利用者IDとパスワードを入力してください。",
        )
    errors = {}
    if not login:
        errors[LOGIN_FIELD] = "利用者IDを入力してください。"
    if not password:
        errors[PASSWORD_FIELD] = "パスワードを入力してください。"
    if errors:
        return _login_page(request, target, login=login, errors=errors, status_code=422)
    client = request.client.host if request.client else "unknown"
    outcome, cookie = await run_in_threadpool(
        _log_in, engine_of(request), login, password, client, request.cookies.get(SESSION_COOKIE)
    )
    if outcome == "throttled":
        minutes = int(LOGIN_WINDOW.total_seconds() // 60)
        response = _login_page(
            request, target, login=login, status_code=429,
            form_error=f"ログインの失敗が続いたため、しばらくログインできません。{minutes}分ほど"
                       "待ってから、もう一度お試しください。パスワードがわからない場合は、"
                       "管理者に連絡してください。",
        )
        response.headers["retry-after"] = str(int(LOGIN_WINDOW.total_seconds()))
        return response
    if cookie is None:
        return _login_page(
            request, target, login=login, status_code=401,
            errors={PASSWORD_FIELD: "利用者IDまたはパスワードが正しくありません。"
                                    "大文字・小文字や全角・半角を確かめてください。"},
        )
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, cookie)
    _delete_cookie(response, request, LOGIN_COOKIE, path=_login_cookie_path(request))
    if cookie_secure(request) and request.url.scheme != "https":
        log.warning("the session cookie is Secure but this request came over http: browsers "
                    "will not send it back; serve kijun over https (or set %s=0)",
                    COOKIE_SECURE_ENV)
    return response


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _log_in(
    engine: Engine, login: str, password: str, client: str, old_cookie: str | None
) -> tuple[str, str | None]:
    """Check the password and start a session, in one transaction: (outcome, cookie)."""
    with db.session_scope(engine) as session:
        outcome = authenticate(session, login, password, client=client)
        if outcome.status == "throttled":
            log.warning("login refused: too many failed logins for this login or client")
            return "throttled", None
        if not outcome.ok or outcome.user is None:
            known = find_user(session, login)
            # The login only when such a user exists: unknown "logins" may be passwords.
            log.warning("login failed: %s",
                        f"user {known.login}" if known is not None else "unknown login")
            return "invalid", None
        if old_cookie:
            end_session(session, old_cookie)  # never keep a session across a login
        cookie, _ = start_session(session, outcome.user)
        log.info("login: user %s", outcome.user.login)
        return "ok", cookie


def _login_page(
    request: Request,
    next_path: str,
    *,
    login: str = "",
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    token = request.cookies.get(LOGIN_COOKIE)
    if not token or len(token) < 32:
        token = secrets.token_urlsafe(32)
    insecure = cookie_secure(request) and request.url.scheme != "https"
    response = render(request, "login.html", {
        "next": next_path,
        "login": login,
        "errors": errors or {},
        "form_error": form_error,
        "notice": notice,
        "insecure_notice": INSECURE_NOTICE if insecure else None,
        "login_csrf_token": token,
        "LOGIN_FIELD": LOGIN_FIELD,
        "PASSWORD_FIELD": PASSWORD_FIELD,
    }, status_code=status_code)
    _set_cookie(response, request, LOGIN_COOKIE, token, path=_login_cookie_path(request))
    return response


@router.post("/logout")
async def logout(request: Request, _user: User = Depends(require_user)) -> Response:
    """End the session (the guard has checked its CSRF token)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await run_in_threadpool(_log_out, engine_of(request), cookie)
    response = RedirectResponse(f"{root_of(request)}/login?logged_out=1", status_code=303)
    _delete_cookie(response, request, SESSION_COOKIE)
    return response


def _log_out(engine: Engine, cookie: str) -> None:
    with db.session_scope(engine) as session:
        ended = end_session(session, cookie)
    if ended is not None:
        log.info("logout: user %s", ended.login)
