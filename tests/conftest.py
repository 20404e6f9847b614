"""Shared pytest fixtures: databases for the storage tests.

Every test that asks for one of these runs twice, once per backend:

``database_url`` (str)
    The URL of an empty, *not yet migrated* database, parametrised as
    ``[sqlite]`` (a file in the test's ``tmp_path``) and ``[postgres]``.
    The PostgreSQL case runs only when ``KIJUN_TEST_DATABASE_URL`` is set, e.g.
    ``KIJUN_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test``;
    otherwise it is skipped with that reason. Each PostgreSQL test gets a fresh
    schema ``kijun_test_<random>`` (the URL carries
    ``options=-csearch_path=<schema>``, so every connection made from it —
    including ones the CLI makes — lands there); the schema is dropped with
    CASCADE afterwards. Use it for tests that migrate themselves or drive the
    CLI (``--database-url``).

``engine`` (sqlalchemy.Engine)
    An engine on ``database_url``, already migrated to head with
    ``kijun.store.db.upgrade``; disposed afterwards.

``session`` (sqlalchemy.orm.Session)
    A session on ``engine``. Nothing is committed for you: call
    ``session.commit()`` when the test needs a transaction to end (e.g. before
    checking what another connection sees); uncommitted work is rolled back
    at teardown.

``samples`` (Samples)
    Builders of small model objects for storage tests, with Decimal and date
    values in rules, defaults and test cases:
    ``samples.version(number, "2024-04-01", effective_to=None, status=...,
    amount=Decimal("100000.5"))`` and ``samples.criterion(*versions, id=...,
    name=...)``. Build criteria in Python; do not depend on ``content/``.

Select one backend with ``-k sqlite`` or ``-k postgres``; the ``postgres``
marker (``-m postgres`` / ``-m "not postgres"``) does the same.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from kijun.criteria.model import (
    Criterion,
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
    TestCase,
    ValueType,
    Version,
    VersionStatus,
)

POSTGRES_ENV = "KIJUN_TEST_DATABASE_URL"


def _postgres_schema_url(base_url: str) -> Iterator[str]:
    schema = f"kijun_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kijun.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL: set {POSTGRES_ENV}=postgresql+psycopg://… to run")
    yield from _postgres_schema_url(base)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    from kijun.store import db

    eng = db.make_engine(database_url)
    db.upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


class Samples:
    """Model objects for storage tests (see the module docstring)."""

    @staticmethod
    def version(
        number: int,
        effective_from: str,
        *,
        effective_to: str | None = None,
        status: VersionStatus = VersionStatus.PUBLISHED,
        amount: Decimal = Decimal("100000.5"),
        note: str | None = None,
    ) -> Version:
        table = DecisionTable(
            name="支給判定",
            hit_policy=HitPolicy.UNIQUE,
            inputs=(
                InputClause("定住", ValueType.BOOLEAN),
                InputClause("年齢", ValueType.NUMBER, allowed=(Decimal("0.5"), 1, 2)),
                InputClause("申請日", ValueType.DATE),
            ),
            outputs=(
                OutputClause("判定", ValueType.STRING, allowed=("支給", "不支給")),
                OutputClause("支給額", ValueType.NUMBER, default=Decimal("0.25")),
                OutputClause("支給開始日", ValueType.DATE, default=dt.date(2024, 4, 1)),
            ),
            rules=(
                Rule("R1", ("true", "< 18", '>= date("2024-10-01")'),
                     ("支給", amount, dt.date(2024, 10, 1)), basis="第3条・第4条"),
                Rule("R2", ("false", "-", "-"), ("不支給", Decimal(0), None), basis="第3条",
                     annotation="定住要件なし"),
                # complete the table: published versions must pass verification
                Rule("R3", ("true", "-", '< date("2024-10-01")'), ("不支給", Decimal(0), None),
                     basis="附則"),
            ),
        )
        return Version(
            number=number,
            effective_from=dt.date.fromisoformat(effective_from),
            effective_to=dt.date.fromisoformat(effective_to) if effective_to else None,
            status=status,
            note=note,
            decisions=(table,),
        )

    @staticmethod
    def criterion(
        *versions: Version,
        id: str = "shussan-iwaikin",
        name: str = "出産祝金",
        department: str | None = "こども・長寿課",
    ) -> Criterion:
        return Criterion(
            id=id,
            name=name,
            department=department,
            basis="奈義町出産祝金支給条例",
            description="町に定住する保護者に祝金を支給する。",
            versions=versions or (Samples.version(1, "2004-04-01"),),
            tests=(
                TestCase(
                    name="定住・滞納なし",
                    input={"定住": True, "年齢": Decimal("0.5"), "申請日": dt.date(2025, 4, 1)},
                    expect={"判定": "支給", "支給額": Decimal("100000.5")},
                    on=dt.date(2025, 4, 1),
                    expect_rules=("R1",),
                ),
                TestCase(name="判断がつかない", input={"定住": None}, expect_exception=True),
            ),
        )


@pytest.fixture
def samples() -> type[Samples]:
    return Samples


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with the smallest cost: tests log in hundreds of times.

    Hashes are still `$argon2id$…`; kijun itself uses argon2-cffi's defaults.
    """
    from argon2 import PasswordHasher

    from kijun.store import users

    monkeypatch.setattr(users, "PASSWORD_HASHER",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
