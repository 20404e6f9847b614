"""Shared state under concurrent requests: caches, the decision recorder (group commit).

The web server runs requests in threads and in several processes; these
tests drive the same code from many threads, and from a second engine
standing in for another worker process.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kijun.criteria.decide import compile_version, decide, version_in_force
from kijun.criteria.memo import IdentityCache
from kijun.criteria.model import VersionStatus
from kijun.store import (
    NewDecision,
    NotFoundError,
    get_criteria,
    get_criterion,
    list_decisions,
    publish_version,
    save_criterion,
)
from kijun.store import db as store_db
from kijun.store.audit import verify
from kijun.store.models import AuditEntryRow, DecisionRow
from kijun.store.recorder import DecisionRecorder, RecorderClosed
from tests.conftest import Samples

ACTOR = "test:concurrency"
FACTS = {"定住": True, "年齢": Decimal("0.5"), "申請日": dt.date(2025, 4, 1)}


def run_together(n_threads: int, work: Callable[[int], object]) -> list[object]:
    """Start `n_threads` threads at the same moment; their results, in order."""
    barrier = threading.Barrier(n_threads)

    def one(k: int) -> object:
        barrier.wait()
        return work(k)

    with ThreadPoolExecutor(n_threads) as pool:
        return list(pool.map(one, range(n_threads)))


# -- IdentityCache ----------------------------------------------------------------------------


class Thing:
    pass


def test_identity_cache_makes_once_per_object_and_key() -> None:
    cache: IdentityCache[int] = IdentityCache(8)
    a, b = Thing(), Thing()
    made: list[object] = []

    def make(obj: object, value: int) -> Callable[[], int]:
        def inner() -> int:
            made.append(obj)
            return value
        return inner

    assert cache.get(a, make(a, 1)) == 1
    assert cache.get(a, make(a, 99)) == 1  # cached
    assert cache.get(b, make(b, 2)) == 2
    assert cache.get(a, make(a, 3), key="other") == 3  # another key, another value
    assert made == [a, b, a]


def test_identity_cache_never_answers_for_another_object_with_a_reused_id() -> None:
    cache: IdentityCache[str] = IdentityCache(8)
    cache.get(Thing(), lambda: "first")  # the object dies; its id may be reused
    for _ in range(100):
        assert cache.get(Thing(), lambda: "fresh") == "fresh"


@pytest.mark.usefixtures("eager_thread_switching")
def test_identity_cache_evicts_oldest_and_survives_threads_filling_it() -> None:
    cache: IdentityCache[int] = IdentityCache(4)
    keep = [Thing() for _ in range(400)]  # alive, so ids stay distinct

    def fill(k: int) -> int:
        total = 0
        for i in range(k % 7, len(keep), 3):
            total += cache.get(keep[i], lambda i=i: i)
        return total

    results = run_together(16, fill)
    assert all(isinstance(r, int) for r in results)
    assert len(cache) <= 4
    with pytest.raises(ValueError):
        IdentityCache(0)


@pytest.fixture
def eager_thread_switching() -> Iterator[None]:
    """Switch threads as often as the interpreter can: races show up at once."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@pytest.mark.usefixtures("eager_thread_switching")
def test_compiling_and_periods_from_many_threads_at_once(samples: type[Samples]) -> None:
    # More criteria than the caches hold, so every call evicts while other threads read
    # and fill: every decision must still come out right. (The race of the old caches, two
    # evictions popping one key, is too narrow to hit reliably; the eviction of
    # IdentityCache itself is tested above.)
    criteria = [samples.criterion(samples.version(1, "2004-04-01"), id=f"c{i}")
                for i in range(700)]  # more than the caches hold: eviction on every call

    def work(k: int) -> int:
        decided = 0
        for c in criteria[k::8]:
            version_in_force(c, dt.date(2025, 4, 1))
            compile_version(c.versions[0])
            decided += decide(c, FACTS, dt.date(2025, 4, 1)).decided
        return decided

    assert sum(run_together(8, work)) == 700  # type: ignore[arg-type]


# -- the criterion cache ------------------------------------------------------------------------


def test_get_criterion_returns_the_same_object_until_the_stored_revision_changes(
    engine: Engine, database_url: str, samples: type[Samples]
) -> None:
    draft = samples.version(2, "2030-04-01", status=VersionStatus.DRAFT)
    with store_db.session_scope(engine) as s:
        save_criterion(s, samples.criterion(samples.version(1, "2004-04-01"), draft),
                       actor=ACTOR)
    with store_db.session_scope(engine) as s:
        first = get_criterion(s, "shussan-iwaikin")
    with store_db.session_scope(engine) as s:
        assert get_criterion(s, "shussan-iwaikin") is first
        assert get_criteria(s) == [first] and get_criteria(s)[0] is first

    # Another worker process (its own engine) publishes the draft and renames the criterion.
    other = store_db.make_engine(database_url)
    try:
        with store_db.session_scope(other) as s:
            publish_version(s, "shussan-iwaikin", 2, actor=ACTOR)
        with store_db.session_scope(engine) as s:
            after_publish = get_criterion(s, "shussan-iwaikin")
        assert after_publish is not first
        assert after_publish.version(2).status is VersionStatus.PUBLISHED
        with store_db.session_scope(other) as s:
            save_criterion(s, dataclasses.replace(after_publish, name="出産祝金（改）"),
                           actor=ACTOR)
        with store_db.session_scope(engine) as s:
            renamed = get_criterion(s, "shussan-iwaikin")
            assert renamed.name == "出産祝金（改）"
            assert [c.name for c in get_criteria(s)] == ["出産祝金（改）"]
    finally:
        other.dispose()


def test_a_criterion_not_stored_is_not_found_even_after_others_are_cached(
    engine: Engine, samples: type[Samples]
) -> None:
    with store_db.session_scope(engine) as s:
        save_criterion(s, samples.criterion(), actor=ACTOR)
        get_criterion(s, "shussan-iwaikin")
    with store_db.session_scope(engine) as s, pytest.raises(NotFoundError):
        get_criterion(s, "nothing-here")


def test_an_uncommitted_change_does_not_stay_cached_after_a_rollback(
    engine: Engine, samples: type[Samples]
) -> None:
    with store_db.session_scope(engine) as s:
        save_criterion(s, samples.criterion(), actor=ACTOR)
    with Session(engine, expire_on_commit=False) as s:
        save_criterion(s, dataclasses.replace(samples.criterion(), name="取り消される名前"),
                       actor=ACTOR)
        assert get_criterion(s, "shussan-iwaikin").name == "取り消される名前"
        s.rollback()
    with store_db.session_scope(engine) as s:
        assert get_criterion(s, "shussan-iwaikin").name == "出産祝金"


# -- the decision recorder ----------------------------------------------------------------------


def _decided(engine: Engine, samples: type[Samples]) -> NewDecision:
    with store_db.session_scope(engine) as s:
        save_criterion(s, samples.criterion(), actor=ACTOR)
        criterion = get_criterion(s, "shussan-iwaikin")
    result = decide(criterion, FACTS, dt.date(2025, 4, 1))
    return NewDecision("shussan-iwaikin", result, FACTS, ACTOR)


def test_concurrent_decisions_are_all_recorded_once_with_an_unbroken_audit_chain(
    engine: Engine, samples: type[Samples]
) -> None:
    decision = _decided(engine, samples)
    recorder = DecisionRecorder(engine, max_batch=16)
    try:
        ids = run_together(24, lambda k: [recorder.record(dataclasses.replace(
            decision, actor=f"clerk-{k}")) for _ in range(10)])
    finally:
        recorder.close()
    flat = [i for batch in ids for i in batch]  # type: ignore[attr-defined]
    assert len(flat) == 240 and len(set(flat)) == 240
    with store_db.session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(DecisionRow)) == 240
        entries = s.scalars(select(AuditEntryRow).where(
            AuditEntryRow.action == "decision.record")).all()
        assert sorted(e.detail["decision_id"] for e in entries) == sorted(flat)
        # each decision's audit entry names its own actor
        actors = {r.id: r.actor for r in list_decisions(s, limit=None)}
        assert {e.detail["decision_id"]: e.actor for e in entries} == actors
        report = verify(s)
    assert report.ok, report.to_dict()


def test_a_decision_that_cannot_be_recorded_fails_alone(
    engine: Engine, samples: type[Samples]
) -> None:
    good = _decided(engine, samples)
    assert good.result.version is not None
    bad_version = dataclasses.replace(good.result.version, number=7)
    bad = dataclasses.replace(good, result=dataclasses.replace(good.result, version=bad_version))
    recorder = DecisionRecorder(engine)
    try:
        # Handed over together, so that they meet in one batch at least once.
        futures = [recorder.submit(d) for d in [good, bad, good, bad, good]]
        outcomes = []
        for f in futures:
            try:
                outcomes.append(f.result(timeout=30))
            except NotFoundError as e:
                outcomes.append(str(e))
    finally:
        recorder.close()
    assert [isinstance(o, int) for o in outcomes] == [True, False, True, False, True]
    assert "no version 7" in str(outcomes[1])
    with store_db.session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(DecisionRow)) == 3
        assert verify(s).ok


def test_closing_the_recorder_records_what_was_handed_over_and_refuses_more(
    engine: Engine, samples: type[Samples]
) -> None:
    decision = _decided(engine, samples)
    recorder = DecisionRecorder(engine)
    futures = [recorder.submit(decision) for _ in range(50)]
    recorder.close()
    assert all(f.done() for f in futures)
    assert len({f.result() for f in futures}) == 50
    with pytest.raises(RecorderClosed):
        recorder.submit(decision)
    recorder.close()  # twice is fine
    with pytest.raises(ValueError):
        DecisionRecorder(engine, max_batch=0)


# -- the web server's threads -------------------------------------------------------------------


def test_web_threads_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from kijun.web.app import DEFAULT_THREADS, web_threads

    monkeypatch.delenv("KIJUN_WEB_THREADS", raising=False)
    assert web_threads() == DEFAULT_THREADS
    monkeypatch.setenv("KIJUN_WEB_THREADS", " 8 ")
    assert web_threads() == 8
    for bad, reason in (("many", "whole number"), ("0", "between 1 and 256")):
        monkeypatch.setenv("KIJUN_WEB_THREADS", bad)
        with pytest.raises(ValueError, match=reason):
            web_threads()


def test_recorders_of_several_processes_take_turns_on_a_sqlite_file(
    engine: Engine, database_url: str, samples: type[Samples]
) -> None:
    """Two engines stand for two server processes: both record, nothing is lost or forked."""
    decision = _decided(engine, samples)
    other = store_db.make_engine(database_url)
    recorders = [DecisionRecorder(engine, max_batch=8), DecisionRecorder(other, max_batch=8)]
    try:
        ids = run_together(12, lambda k: [recorders[k % 2].record(decision) for _ in range(15)])
    finally:
        for r in recorders:
            r.close()
        other.dispose()
    flat = [i for batch in ids for i in batch]  # type: ignore[attr-defined]
    assert len(set(flat)) == 180
    with store_db.session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(DecisionRow)) == 180
        assert verify(s).ok
    if engine.url.get_backend_name() == "sqlite":
        # the queue of writers is a lock file beside the database
        assert Path(f"{engine.url.database}.write-lock").exists()
