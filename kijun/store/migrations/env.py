"""Alembic environment for kijun.

`kijun.store.db.upgrade` passes either an engine (`attributes["engine"]`) or
a URL (`attributes["url"]`); run from the `alembic` command line with the
`alembic.ini` beside this file, the URL comes from `KIJUN_DATABASE_URL`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from kijun.store.db import database_url, make_engine
from kijun.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things: later revisions rebuild tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_offline() -> None:
    context.configure(
        url=config.attributes.get("url") or database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given: Engine | None = config.attributes.get("engine")
    engine = given or make_engine(config.attributes.get("url") or database_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
    finally:
        if given is None:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
