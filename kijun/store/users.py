"""Users, API tokens, browser sessions and login rate limiting; every change audited.

A user (職員) belongs to one department (課) and holds one or more roles:
`admin` (管理者), `author` (基準作成者), `approver` (承認者), `staff` (窓口職員)
and `viewer` (閲覧者).

Secrets are never stored or logged as they are:

- passwords: argon2id (`argon2-cffi`), at least `MIN_PASSWORD_LENGTH` characters;
- API tokens: `secrets.token_urlsafe(32)`, stored as their SHA-256, shown once;
- browser sessions: the cookie value is random, the table keeps its SHA-256,
  so a copy of the database does not let anyone take over a session.

Audit entries (`kijun.store.audit`) name the user by login (`user/<login>`) and
record which fields changed, never a password, hash, token, display name or
the client's address. Like the other repositories, functions take the caller's
`Session` and never commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from kijun.store import audit
from kijun.store.errors import NotFoundError, PasswordPolicyError, UserError
from kijun.store.models import (
    ROLES,
    ApiTokenRow,
    AuditEntryRow,
    LoginFailureRow,
    UserRow,
    WebSessionRow,
)

#: Japanese names of the roles, in `ROLES` order.
ROLE_LABELS_JA = {
    "admin": "管理者",
    "author": "基準作成者",
    "approver": "承認者",
    "staff": "窓口職員",
    "viewer": "閲覧者",
}

MIN_PASSWORD_LENGTH = 12
#: argon2 accepts any length; a bound keeps a login request from hashing megabytes.
MAX_PASSWORD_LENGTH = 1024

#: Logins: ASCII letters, digits and . _ - @ (typed 全角 or in capitals, they are normalised).
LOGIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,99}")

#: A browser session ends this long after login, whatever happens…
SESSION_LIFETIME = dt.timedelta(hours=8)
#: …or after this long without a request.
SESSION_IDLE_TIMEOUT = dt.timedelta(hours=1)
#: `last_seen_at` / `last_used_at` are written at most this often (not on every request).
TOUCH_INTERVAL = dt.timedelta(minutes=1)

#: Failed logins counted over this window…
LOGIN_WINDOW = dt.timedelta(minutes=15)
#: …refuse a login after this many failures for it,
MAX_FAILURES_PER_LOGIN = 5
#: …or from one client address after this many (for any logins). Higher than the
#: per-login limit: a town hall's clerks often reach the server through one proxy
#: or NAT address, and one person's typos must not lock the whole office out.
MAX_FAILURES_PER_CLIENT = 20

#: The hasher; argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile).
#: Tests swap in cheaper parameters; hashes made with other parameters still verify
#: and are rehashed at the next successful login.
PASSWORD_HASHER = PasswordHasher()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _user_target(login: str) -> str:
    return f"user/{login}"


def _token_target(token_id: int) -> str:
    return f"token/{token_id}"


# -- logins, roles, passwords -----------------------------------------------------------------


def normalise_login(login: str) -> str:
    """NFKC (全角 → 半角), trimmed, lower case: the form logins are stored and looked up in."""
    return unicodedata.normalize("NFKC", login).strip().lower()


def _valid_login(login: str) -> str:
    normal = normalise_login(login)
    if not LOGIN_PATTERN.fullmatch(normal):
        raise UserError(
            "a login is 1–100 characters: letters a–z, digits and . _ - @, "
            "starting with a letter or digit"
        )
    return normal


def _valid_roles(roles: Iterable[str]) -> list[str]:
    chosen = {r.strip().lower() for r in roles}
    if not chosen:
        raise UserError(f"a user needs at least one role ({', '.join(ROLES)})")
    unknown = sorted(chosen - set(ROLES))
    if unknown:
        raise UserError(f"unknown role(s) {', '.join(unknown)}: choose from {', '.join(ROLES)}")
    return [r for r in ROLES if r in chosen]


def _valid_text(value: str, what: str, limit: int) -> str:
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise UserError(f"a user needs a {what}")
    if len(text) > limit:
        raise UserError(f"the {what} is longer than {limit} characters")
    return text


def check_password(password: str, *, login: str | None = None) -> None:
    """Refuse a password kijun will not store; the message never contains it."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise PasswordPolicyError("a password cannot be only spaces")
    if login is not None and normalise_login(password) == normalise_login(login):
        raise PasswordPolicyError("a password cannot be the login")


def generate_password() -> str:
    """A random password (24 characters from `secrets.token_urlsafe`) to be shown once."""
    return secrets.token_urlsafe(18)


def hash_password(password: str) -> str:
    """The argon2id hash (`$argon2id$…`) of `password`."""
    return PASSWORD_HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return PASSWORD_HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_dummy_hash: dict[tuple[int, int, int], str] = {}


def _waste_a_verification(password: str) -> None:
    """As long as checking a real password: an unknown login must not answer faster."""
    h = PASSWORD_HASHER
    key = (h.time_cost, h.memory_cost, h.parallelism)
    if key not in _dummy_hash:
        _dummy_hash[key] = h.hash(secrets.token_urlsafe(16))
    verify_password(_dummy_hash[key], password)


def token_digest(secret: str) -> str:
    """SHA-256 (hex) of a token or session cookie: what the database keeps."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# -- users --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserSummary:
    """A user without their password hash."""

    id: int
    login: str
    name: str
    department: str
    roles: tuple[str, ...]
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: UserRow) -> UserSummary:
        return _summary_of([getattr(row, c.key) for c in _CORE_USER_COLUMNS])

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "login": self.login,
            "name": self.name,
            "department": self.department,
            "roles": list(self.roles),
            "active": self.active,
            "created_at": audit.format_timestamp(self.created_at),
            "updated_at": audit.format_timestamp(self.updated_at),
        }


def _summary_of(values: Sequence[Any]) -> UserSummary:
    """A UserSummary from the values of the users columns id … updated_at, in order."""
    uid, login, name, department, roles, active, created_at, updated_at = values
    return UserSummary(id=uid, login=login, name=name, department=department,
                       roles=tuple(r for r in ROLES if r in roles), active=bool(active),
                       created_at=created_at, updated_at=updated_at)


def _user_row(session: Session, login: str) -> UserRow:
    row = session.scalars(select(UserRow).where(UserRow.login == normalise_login(login))).first()
    if row is None:
        raise NotFoundError(f"no user with login {normalise_login(login)!r}")
    return row


def create_user(
    session: Session,
    login: str,
    *,
    name: str,
    department: str,
    roles: Iterable[str],
    password: str,
    actor: str,
) -> UserSummary:
    """Add an active user; refuses a login already taken and a password under the policy."""
    normal = _valid_login(login)
    row = UserRow(
        login=normal,
        name=_valid_text(name, "name", 200),
        department=_valid_text(department, "department", 200),
        roles=_valid_roles(roles),
        password_hash="",
        active=True,
    )
    check_password(password, login=normal)
    if session.scalars(select(UserRow.id).where(UserRow.login == normal)).first() is not None:
        raise UserError(f"a user with login {normal!r} already exists")
    now = _now()
    row.password_hash = hash_password(password)
    row.created_at = row.updated_at = now
    session.add(row)
    session.flush()
    audit.append(session, actor=actor, action="user.create", target=_user_target(normal),
                 detail={"department": row.department, "roles": list(row.roles)}, at=now)
    return UserSummary.from_row(row)


def get_user(session: Session, login: str) -> UserSummary:
    return UserSummary.from_row(_user_row(session, login))


def find_user(session: Session, login: str) -> UserSummary | None:
    """The user with this login, or None (no error: for checks like "does it exist")."""
    try:
        return get_user(session, login)
    except NotFoundError:
        return None


def list_users(session: Session) -> list[UserSummary]:
    """Every user, active or not, by department then login."""
    rows = session.scalars(select(UserRow).order_by(UserRow.department, UserRow.login))
    return [UserSummary.from_row(r) for r in rows]


def last_logins(session: Session, login: str | None = None) -> dict[str, dt.datetime]:
    """When each user (or the user `login`) last logged in: login → time, read from the
    audit log's `session.login` entries. Users who never logged in are absent.
    """
    prefix = _user_target("")
    query = (select(AuditEntryRow.target, func.max(AuditEntryRow.at))
             .where(AuditEntryRow.action == "session.login")
             .group_by(AuditEntryRow.target))
    if login is not None:
        query = query.where(AuditEntryRow.target == _user_target(normalise_login(login)))
    rows = session.execute(query)
    return {target.removeprefix(prefix): at for target, at in rows
            if target.startswith(prefix) and at is not None}


def update_user(
    session: Session,
    login: str,
    *,
    actor: str,
    name: str | None = None,
    department: str | None = None,
    roles: Iterable[str] | None = None,
) -> UserSummary:
    """Change a user's name, department or roles; the audit entry lists what changed."""
    row = _user_row(session, login)
    changed: dict[str, Any] = {}
    if name is not None and (new := _valid_text(name, "name", 200)) != row.name:
        row.name = new
        changed["name"] = True  # a person's name: that it changed, not what to
    if department is not None:
        new_department = _valid_text(department, "department", 200)
        if new_department != row.department:
            changed["department"] = {"from": row.department, "to": new_department}
            row.department = new_department
    if roles is not None:
        new_roles = _valid_roles(roles)
        if new_roles != list(row.roles):
            changed["roles"] = {"from": list(row.roles), "to": new_roles}
            row.roles = new_roles
    if changed:
        row.updated_at = _now()
        audit.append(session, actor=actor, action="user.update", target=_user_target(row.login),
                     detail={"changed": sorted(changed), **{
                         k: v for k, v in changed.items() if k != "name"}},
                     at=row.updated_at)
        # Fewer roles or another department: sessions must not keep the old rights.
        if "roles" in changed or "department" in changed:
            _end_sessions_of(session, row.id)
    session.flush()
    return UserSummary.from_row(row)


def disable_user(session: Session, login: str, *, actor: str) -> tuple[UserSummary, bool]:
    """Stop a user logging in; their sessions end and their tokens stop working.

    Returns the user and whether anything changed (disabling twice is no error).
    """
    row = _user_row(session, login)
    if not row.active:
        return UserSummary.from_row(row), False
    row.active = False
    row.updated_at = _now()
    ended = _end_sessions_of(session, row.id)
    audit.append(session, actor=actor, action="user.disable", target=_user_target(row.login),
                 detail={"sessions_ended": ended}, at=row.updated_at)
    session.flush()
    return UserSummary.from_row(row), True


def enable_user(session: Session, login: str, *, actor: str) -> tuple[UserSummary, bool]:
    """Let a disabled user log in again (their unrevoked tokens work again too)."""
    row = _user_row(session, login)
    if row.active:
        return UserSummary.from_row(row), False
    row.active = True
    row.updated_at = _now()
    audit.append(session, actor=actor, action="user.enable", target=_user_target(row.login),
                 at=row.updated_at)
    session.flush()
    return UserSummary.from_row(row), True


def set_password(session: Session, login: str, password: str, *, actor: str) -> UserSummary:
    """Replace a user's password; every session of theirs ends."""
    row = _user_row(session, login)
    check_password(password, login=row.login)
    row.password_hash = hash_password(password)
    row.updated_at = _now()
    ended = _end_sessions_of(session, row.id)
    audit.append(session, actor=actor, action="user.password", target=_user_target(row.login),
                 detail={"sessions_ended": ended}, at=row.updated_at)
    session.flush()
    return UserSummary.from_row(row)


# -- logging in, with rate limiting ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """`ok` (with `user`), `invalid` (wrong login, password, or a disabled user — one
    answer for all three) or `throttled` (too many failures: try after `retry_after`)."""

    status: str
    user: UserSummary | None = None
    retry_after: dt.timedelta | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def authenticate(
    session: Session, login: str, password: str, *, client: str, now: dt.datetime | None = None
) -> LoginOutcome:
    """Check a login and password, counting failures by login and by client address.

    After `MAX_FAILURES_PER_LOGIN` failures for a login, or `MAX_FAILURES_PER_CLIENT`
    from a client, within `LOGIN_WINDOW`, the password is not even checked. A
    successful login clears that login's failures. Failures are kept (and count)
    only within the window; older rows are deleted here.
    """
    now = now or _now()
    normal = normalise_login(login)
    # What was typed as the login may be a password typed in the wrong field: keep a digest.
    typed = token_digest(normal)
    client = client[:100]
    since = now - LOGIN_WINDOW
    session.execute(delete(LoginFailureRow).where(LoginFailureRow.at <= since))
    retry = _throttle(session, typed, client, since)
    if retry is not None:
        return LoginOutcome("throttled", retry_after=retry)
    row = session.scalars(select(UserRow).where(UserRow.login == normal)).first()
    if row is None:
        _waste_a_verification(password)
        ok = False
    else:
        ok = verify_password(row.password_hash, password) and row.active
    if not ok:
        session.add(LoginFailureRow(login_hash=typed, client=client, at=now))
        session.flush()
        return LoginOutcome("invalid")
    assert row is not None
    session.execute(delete(LoginFailureRow).where(LoginFailureRow.login_hash == typed))
    if PASSWORD_HASHER.check_needs_rehash(row.password_hash):
        # stored with older (weaker) parameters: hashed again while the password is at hand
        row.password_hash = hash_password(password)
        audit.append(session, actor=row.login, action="user.password.rehash",
                     target=_user_target(row.login), at=now)
        session.flush()
    return LoginOutcome("ok", user=UserSummary.from_row(row))


def _throttle(
    session: Session, login_hash: str, client: str, since: dt.datetime
) -> dt.timedelta | None:
    """How long until a login or client falls back under its limit, or None if it is under."""
    waits = []
    for column, value, limit in ((LoginFailureRow.login_hash, login_hash, MAX_FAILURES_PER_LOGIN),
                                 (LoginFailureRow.client, client, MAX_FAILURES_PER_CLIENT)):
        times = session.scalars(
            select(LoginFailureRow.at).where(column == value, LoginFailureRow.at > since)
            .order_by(LoginFailureRow.at.desc()).limit(limit)
        ).all()
        if len(times) >= limit:
            # the limit-th newest failure leaves the window first among those that matter
            waits.append(times[-1] - since)
    return max(waits) if waits else None


def failure_count(session: Session, *, login: str | None = None, client: str | None = None) -> int:
    """Failed logins currently counted for a login or a client (for tests and tools)."""
    query = select(func.count()).select_from(LoginFailureRow)
    if login is not None:
        query = query.where(LoginFailureRow.login_hash == token_digest(normalise_login(login)))
    if client is not None:
        query = query.where(LoginFailureRow.client == client)
    return int(session.scalar(query) or 0)


# -- browser sessions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebSession:
    """A logged-in browser: its user and the CSRF secret its forms carry."""

    user: UserSummary
    csrf_secret: str
    created_at: dt.datetime
    expires_at: dt.datetime


def start_session(
    session: Session, user: UserSummary, *, now: dt.datetime | None = None
) -> tuple[str, WebSession]:
    """A new session for `user` (audited as a login); returns the cookie value, once.

    Expired sessions of anyone are deleted on the way.
    """
    now = now or _now()
    _purge_sessions(session, now)
    cookie = secrets.token_urlsafe(32)
    row = WebSessionRow(
        id=token_digest(cookie),
        user_id=user.id,
        csrf_secret=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    audit.append(session, actor=user.login, action="session.login",
                 target=_user_target(user.login), at=now)
    session.flush()
    return cookie, WebSession(user, row.csrf_secret, row.created_at, row.expires_at)


@dataclass(frozen=True, slots=True)
class Credential:
    """What a session cookie or API token stands for, as read (see `lookup_session`).

    `live` is False when it must be refused: a session expired, idle too long,
    or a disabled user (the session is then deleted by `note_use`); a revoked
    token. `needs_note` says that `note_use` has something to write: when it was
    last used (at most once per TOUCH_INTERVAL), or the deletion.
    """

    kind: Literal["session", "token"]
    key: str | int
    user: UserSummary
    live: bool
    needs_note: bool
    csrf_secret: str | None = None
    created_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None


_SESSIONS = cast(Table, WebSessionRow.__table__)
_TOKENS = cast(Table, ApiTokenRow.__table__)
_USERS = cast(Table, UserRow.__table__)
_T_SESSIONS = _SESSIONS.c
_T_TOKENS = _TOKENS.c
_T_USERS = _USERS.c
_CORE_USER_COLUMNS = (_T_USERS.id, _T_USERS.login, _T_USERS.name, _T_USERS.department,
                      _T_USERS.roles, _T_USERS.active, _T_USERS.created_at, _T_USERS.updated_at)
# Built once: these run on every request (plain Core statements, no ORM objects).
_SESSION_LOOKUP = (
    select(_T_SESSIONS.csrf_secret, _T_SESSIONS.created_at, _T_SESSIONS.last_seen_at,
           _T_SESSIONS.expires_at, *_CORE_USER_COLUMNS)
    .join_from(_SESSIONS, _USERS, _T_USERS.id == _T_SESSIONS.user_id)
    .where(_T_SESSIONS.id == bindparam("digest"))
)
_TOKEN_LOOKUP = (
    select(_T_TOKENS.id, _T_TOKENS.revoked, _T_TOKENS.last_used_at, *_CORE_USER_COLUMNS)
    .join_from(_TOKENS, _USERS, _T_USERS.id == _T_TOKENS.user_id)
    .where(_T_TOKENS.token_hash == bindparam("digest"))
)


def lookup_session(
    db: Session | Connection, cookie: str, *, now: dt.datetime | None = None
) -> Credential | None:
    """The session a cookie value names, read only (None: no such session)."""
    now = now or _now()
    digest = token_digest(cookie)
    found = db.execute(_SESSION_LOOKUP, {"digest": digest}).first()
    if found is None:
        return None
    csrf_secret, created_at, last_seen_at, expires_at = found[:4]
    user = _summary_of(found[4:])
    live = user.active and expires_at > now and last_seen_at + SESSION_IDLE_TIMEOUT > now
    return Credential("session", digest, user, live,
                      needs_note=not live or now - last_seen_at >= TOUCH_INTERVAL,
                      csrf_secret=csrf_secret, created_at=created_at, expires_at=expires_at)


def lookup_token(
    db: Session | Connection, secret: str, *, now: dt.datetime | None = None
) -> Credential | None:
    """The API token a secret is, read only (None: no such token)."""
    now = now or _now()
    found = db.execute(_TOKEN_LOOKUP, {"digest": token_digest(secret)}).first()
    if found is None:
        return None
    token_id, revoked, last_used_at = found[:3]
    user = _summary_of(found[3:])
    live = not revoked and user.active
    return Credential("token", token_id, user, live,
                      needs_note=live and (last_used_at is None
                                           or now - last_used_at >= TOUCH_INTERVAL))


def note_use(session: Session, credential: Credential, *, now: dt.datetime | None = None) -> None:
    """Write what `credential.needs_note` asks: its last use, or the dead session's deletion."""
    now = now or _now()
    if credential.kind == "session":
        if not credential.live:
            session.execute(delete(_SESSIONS).where(_T_SESSIONS.id == credential.key))
        else:
            session.execute(update(_SESSIONS).where(_T_SESSIONS.id == credential.key)
                            .values(last_seen_at=now))
    elif credential.live:
        session.execute(update(_TOKENS).where(_T_TOKENS.id == credential.key)
                        .values(last_used_at=now))


def resolve_session(
    session: Session, cookie: str, *, now: dt.datetime | None = None
) -> WebSession | None:
    """The live session for a cookie value, or None (unknown, expired, idle, user disabled)."""
    now = now or _now()
    found = lookup_session(session, cookie, now=now)
    if found is None:
        return None
    if found.needs_note:
        note_use(session, found, now=now)
    if not found.live:
        return None
    assert found.csrf_secret is not None and found.created_at and found.expires_at
    return WebSession(found.user, found.csrf_secret, found.created_at, found.expires_at)


def end_session(session: Session, cookie: str) -> UserSummary | None:
    """Log out: delete the session (audited); returns whose it was, or None if unknown."""
    found = session.execute(
        select(WebSessionRow, UserRow)
        .join(UserRow, UserRow.id == WebSessionRow.user_id)
        .where(WebSessionRow.id == token_digest(cookie))
    ).first()
    if found is None:
        return None
    row, user = found
    session.delete(row)
    audit.append(session, actor=user.login, action="session.logout",
                 target=_user_target(user.login))
    session.flush()
    return UserSummary.from_row(user)


def _end_sessions_of(session: Session, user_id: int) -> int:
    result = session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def _purge_sessions(session: Session, now: dt.datetime) -> None:
    session.execute(delete(WebSessionRow).where(
        (WebSessionRow.expires_at <= now)
        | (WebSessionRow.last_seen_at <= now - SESSION_IDLE_TIMEOUT)
    ))


# -- API tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenSummary:
    """An API token without its value (which only its creator saw, once)."""

    id: int
    login: str
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "login": self.login,
            "name": self.name,
            "created_at": audit.format_timestamp(self.created_at),
            "last_used_at": (audit.format_timestamp(self.last_used_at)
                             if self.last_used_at else None),
            "revoked": self.revoked,
        }


def _token_summary(row: ApiTokenRow, login: str) -> TokenSummary:
    return TokenSummary(row.id, login, row.name, row.created_at, row.last_used_at, row.revoked)


def create_token(
    session: Session, login: str, *, name: str, actor: str
) -> tuple[TokenSummary, str]:
    """A new API token for an active user; returns it with the token's value (shown once)."""
    user = _user_row(session, login)
    if not user.active:
        raise UserError(f"user {user.login!r} is disabled: enable them before creating a token")
    label = _valid_text(name, "token name", 200)
    secret = secrets.token_urlsafe(32)
    now = _now()
    row = ApiTokenRow(user_id=user.id, name=label, token_hash=token_digest(secret),
                      created_at=now, last_used_at=None, revoked=False, revoked_at=None)
    session.add(row)
    session.flush()
    audit.append(session, actor=actor, action="token.create", target=_token_target(row.id),
                 detail={"user": user.login, "name": label}, at=now)
    return _token_summary(row, user.login), secret


def revoke_token(session: Session, token_id: int, *, actor: str) -> tuple[TokenSummary, bool]:
    """Revoke a token for good; returns it and whether it was live until now."""
    found = session.execute(
        select(ApiTokenRow, UserRow.login)
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .where(ApiTokenRow.id == token_id)
    ).first()
    if found is None:
        raise NotFoundError(f"no API token with id {token_id}")
    row, login = found
    if row.revoked:
        return _token_summary(row, login), False
    row.revoked = True
    row.revoked_at = _now()
    audit.append(session, actor=actor, action="token.revoke", target=_token_target(row.id),
                 detail={"user": login, "name": row.name}, at=row.revoked_at)
    session.flush()
    return _token_summary(row, login), True


def list_tokens(session: Session, login: str | None = None) -> list[TokenSummary]:
    query = (select(ApiTokenRow, UserRow.login)
             .join(UserRow, UserRow.id == ApiTokenRow.user_id).order_by(ApiTokenRow.id))
    if login is not None:
        query = query.where(UserRow.login == normalise_login(login))
    return [_token_summary(row, user_login) for row, user_login in session.execute(query)]


def user_for_token(
    session: Session, secret: str, *, now: dt.datetime | None = None
) -> UserSummary | None:
    """The active user whose unrevoked token this is, or None; notes when it was used."""
    now = now or _now()
    found = lookup_token(session, secret, now=now)
    if found is None or not found.live:
        return None
    if found.needs_note:
        note_use(session, found, now=now)
    return found.user


# -- the Nagi-cho demo ----------------------------------------------------------------------------

#: One user per role, in departments of content/nagi. Passwords are generated, never fixed.
DEMO_USERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("demo-admin", "デモ 管理者", "総務課", ("admin",)),
    ("demo-author", "デモ 基準作成者", "こども・長寿課", ("author",)),
    ("demo-approver", "デモ 承認者", "こども・長寿課", ("approver",)),
    ("demo-staff", "デモ 窓口職員", "住民課", ("staff",)),
    ("demo-viewer", "デモ 閲覧者", "教育委員会", ("viewer",)),
)


@dataclass(frozen=True, slots=True)
class DemoUser:
    user: UserSummary
    #: the generated password when the user was created now; None when it already existed
    password: str | None

    @property
    def created(self) -> bool:
        return self.password is not None


def ensure_demo_users(session: Session, *, actor: str) -> list[DemoUser]:
    """Create the demo users that do not exist yet, each with a random password.

    Existing users (whatever their roles or password) are left alone.
    """
    made = []
    for login, name, department, roles in DEMO_USERS:
        existing = find_user(session, login)
        if existing is not None:
            made.append(DemoUser(existing, None))
            continue
        password = generate_password()
        user = create_user(session, login, name=name, department=department, roles=roles,
                           password=password, actor=actor)
        made.append(DemoUser(user, password))
    return made
