"""SQLAlchemy 2 declarative models: the database schema.

The schema is portable SQL (SQLite and PostgreSQL). Changing it means adding
an Alembic revision under `kijun/store/migrations/versions/`;
`tests/test_store.py` checks that the migrations and these models agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

#: Named constraints, so that later migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

VERSION_STATUSES = ("draft", "published", "retired")
DECISION_STATUSES = ("decided", "exception")

#: The single row of `audit_head`.
AUDIT_HEAD_ID = 1


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every backend.

    SQLite keeps no time zone, so values go in as naive UTC and come back
    marked UTC; PostgreSQL stores `timestamptz`. Naive input is refused: a
    local time silently taken for UTC would shift the audit chain's hashes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC datetimes only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CriterionRow(Base):
    """判断基準: the criterion's identity and the parts shared by its versions."""

    __tablename__ = "criteria"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    basis: Mapped[str | None] = mapped_column(Text)
    #: test cases as `serial.test_case_to_dict` dicts
    tests: Mapped[list[Any]] = mapped_column(JSON)
    #: ライフイベント, names from `kijun.criteria.model.LIFE_EVENTS` ([] for none)
    life_events: Mapped[list[str]] = mapped_column(JSON, default=list,
                                                   server_default=text("'[]'"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class VersionRow(Base):
    """版: one version's content, frozen once published."""

    __tablename__ = "criterion_versions"
    __table_args__ = (
        UniqueConstraint("criterion_id", "number"),
        CheckConstraint(
            "status IN ('draft', 'published', 'retired')", name="status"
        ),
        CheckConstraint(
            "review_state IS NULL OR review_state IN ('submitted', 'returned')",
            name="review_state",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    criterion_id: Mapped[str] = mapped_column(ForeignKey("criteria.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    #: exclusive: the first day the version is no longer in force
    effective_to: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    #: `serial.version_to_dict`; the columns above repeat parts of it for queries
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    #: a draft's review: None (being written), submitted (承認待ち) or returned (差し戻し)
    review_state: Mapped[str | None] = mapped_column(String(16))
    #: the reason given when the draft was returned
    review_note: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class DecisionRow(Base):
    """判断: one decision made in the app, with the version it used, for replay.

    `facts` may hold personal data: never log them or put them in the audit log.
    """

    __tablename__ = "decisions"
    __table_args__ = (
        # A decision must point at a stored version, or it could not be replayed.
        ForeignKeyConstraint(
            ["criterion_id", "version_number"],
            ["criterion_versions.criterion_id", "criterion_versions.number"],
        ),
        CheckConstraint("status IN ('decided', 'exception')", name="status"),
        # a criterion's newest decisions, in order, without a sort (revision 0006)
        Index("ix_decisions_criterion_id_id", "criterion_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    criterion_id: Mapped[str] = mapped_column(ForeignKey("criteria.id"))
    version_number: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(200))
    on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    #: tagged JSON (`serial.to_json_value`) so Decimal and date replay exactly
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: ids of the matched rules, in hit order
    matched: Mapped[list[Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class AuditEntryRow(Base):
    """One entry of the hash-chained, append-only audit log (see `kijun.store.audit`)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(300))
    #: never personal data
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The last entry's seq and hash, so that deleting the last entries is detected.

    Exactly one row (id 1), created by the initial migration; appends lock it.
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


# -- users, API tokens, web sessions (revision 0002_users) --------------------------------------

#: Roles a user may hold (several at once); see `kijun.store.users`.
ROLES = ("admin", "author", "approver", "staff", "viewer")


class UserRow(Base):
    """職員: a person who logs in, in one department (課), with one or more roles.

    `password_hash` is an argon2id hash: never log it, never put it in the audit log.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200))
    #: sorted role names, a subset of `ROLES`
    roles: Mapped[list[Any]] = mapped_column(JSON)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ApiTokenRow(Base):
    """An API token of a user; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class LoginFailureRow(Base):
    """A failed login, kept for rate limiting only: rows older than the window are deleted.

    `login_hash` is the SHA-256 of what was typed as 利用者ID (normalised), not the
    text itself: people sometimes type their password into the login field.
    """

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login_hash: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(100), index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


class WebSessionRow(Base):
    """A browser session: the cookie's SHA-256 → user, with its CSRF secret.

    Logging out deletes the row, so a copied cookie stops working at once.
    """

    __tablename__ = "web_sessions"

    #: SHA-256 (hex) of the cookie value; the value itself is never stored
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


# -- event logs for measurement (revision 0004_events) ------------------------------------------

#: `EventLogRow.builtin` of the log kijun writes its own steps to (see `kijun.store.events`).
KIJUN_LOG = "kijun"


class EventLogRow(Base):
    """An event log: kijun's own (`builtin` = 'kijun', one row) or one imported from a file.

    `event_count` and `case_count` are fixed at import; kijun's own log grows with
    every step and is counted when listed (appends never update this row).
    `meta` keeps an XES file's log-level metadata (`kijun.measure.LogMeta`) for export.
    """

    __tablename__ = "event_logs"
    __table_args__ = (UniqueConstraint("builtin"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    #: the file's name (no folder), or 'kijun'
    source: Mapped[str] = mapped_column(String(300))
    #: 'kijun' for kijun's own log, else None
    builtin: Mapped[str | None] = mapped_column(String(16))
    imported_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    imported_by: Mapped[str] = mapped_column(String(200))
    event_count: Mapped[int] = mapped_column(Integer)
    case_count: Mapped[int] = mapped_column(Integer)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class EventCaseRow(Base):
    """A case (XES trace) of an imported log, with its attributes, in file order.

    Only imported logs have these rows; the cases of kijun's own log are its events' cases.
    """

    __tablename__ = "event_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    log_id: Mapped[int] = mapped_column(ForeignKey("event_logs.id"), index=True)
    #: the case's place in the file
    seq: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[str] = mapped_column(Text)
    #: `kijun.measure.log.encode_attributes` JSON (typed XES attributes)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class EventRow(Base):
    """One event: a step of a case. May name people (resources): shown only to those allowed.

    `seq` is the event's place in its file, so that equal timestamps keep file
    order; events kijun writes itself have seq 0 and keep the order of `id`.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    log_id: Mapped[int] = mapped_column(ForeignKey("event_logs.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[str] = mapped_column(Text)
    activity: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    start_timestamp: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    resource: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(Text)
    lifecycle: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
