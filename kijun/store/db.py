"""Engines, sessions and migrations.

The database URL comes from `--database-url`, else `KIJUN_DATABASE_URL`, else a
SQLite file `var/kijun.db` under the working directory, so one command starts
a working town hall on a laptop.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from kijun.store.errors import SchemaError, StoreError

ENV_VAR = "KIJUN_DATABASE_URL"
MIGRATIONS = Path(__file__).parent / "migrations"

#: seconds a SQLite writer waits for another writer before giving up
SQLITE_BUSY_TIMEOUT = 30


def database_url(url: str | None = None) -> str:
    """`url` if given, else `$KIJUN_DATABASE_URL`, else `sqlite:///<cwd>/var/kijun.db`."""
    if url:
        return url
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return from_env
    var = Path.cwd() / "var"
    var.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var / 'kijun.db'}"


def make_engine(url: str | None = None, *, pool_size: int | None = None,
                **kwargs: Any) -> Engine:
    """An engine for `database_url(url)`; SQLite connections get WAL and foreign keys.

    `pool_size`: connections kept open (and as many more allowed at peaks) where
    the engine pools connections (PostgreSQL, SQLite files).
    """
    resolved = make_url(database_url(url))
    if resolved.get_backend_name() == "sqlite":
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT)
        in_memory = resolved.database in (None, "", ":memory:")
        if pool_size is not None and not in_memory:
            kwargs.setdefault("pool_size", pool_size)
            kwargs.setdefault("max_overflow", pool_size)
        engine = create_engine(resolved, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(wal=not in_memory))
        return engine
    if pool_size is not None:
        kwargs.setdefault("pool_size", pool_size)
        kwargs.setdefault("max_overflow", pool_size)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(resolved, **kwargs)


def _sqlite_pragmas(*, wal: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # SQLite ignores foreign keys unless asked, per connection.
            cursor.execute("PRAGMA foreign_keys=ON")
            if wal:
                # Readers do not block the writer (and vice versa) in WAL mode.
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    return on_connect


_FACTORIES: weakref.WeakKeyDictionary[Engine, sessionmaker[Session]] = weakref.WeakKeyDictionary()


def _session_factory(engine: Engine) -> sessionmaker[Session]:
    # One sessionmaker per engine: making one sets up event dispatch, which costs more
    # than a small query.
    factory = _FACTORIES.get(engine)
    if factory is None:
        factory = _FACTORIES.setdefault(engine, sessionmaker(engine, expire_on_commit=False))
    return factory


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits at the end, or rolls back on any error."""
    session = _session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def open_session(url: str | None = None) -> Iterator[Session]:
    """A session on a migrated database for one command; commits at the end.

    It makes (and disposes) its own engine: a long-running process should
    instead keep one engine, call `check_schema` once, and use `session_scope`.

    Driver errors come out as `StoreError` with the driver's first line only:
    SQLAlchemy's own message carries the statement's parameters, which may be
    facts, and PostgreSQL's DETAIL line may quote key values.
    """
    engine = make_engine(url)
    try:
        check_schema(engine)
        with session_scope(engine) as session:
            yield session
    except DBAPIError as e:
        raise StoreError(describe_db_error(e)) from None
    finally:
        engine.dispose()


def describe_db_error(error: DBAPIError) -> str:
    """A driver error without statement, parameters or detail lines."""
    first = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
    return f"database error ({type(error.orig).__name__}): {first}"


def display_url(url: str | None = None) -> str:
    """The database URL with any password hidden, for messages."""
    return make_url(database_url(url)).render_as_string(hide_password=True)


def alembic_config(url: str | Engine | None = None) -> Config:
    """An Alembic config built in code; the scripts live inside the installed package.

    The URL travels in `attributes`, not in the ini options, because
    configparser would try to interpolate the `%` of URL-encoded passwords.
    """
    cfg = _script_config()
    if isinstance(url, Engine):
        cfg.attributes["engine"] = url
    else:
        cfg.attributes["url"] = database_url(url)
    return cfg


def _script_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(url: str | Engine | None = None, revision: str = "head") -> str | None:
    """Migrate the database to `revision` (head by default); returns the new revision."""
    command.upgrade(alembic_config(url), revision)
    return current_revision(url)


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(_script_config()).get_current_head()


def current_revision(url: str | Engine | None = None) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        if not isinstance(url, Engine):
            engine.dispose()


def check_schema(engine: Engine) -> None:
    """Refuse to work on a database that is not at the head revision."""
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        raise SchemaError(
            f"database is at revision {current or 'none'}, this kijun expects {head}: "
            "run `kijun db upgrade`"
        )
