"""The hash-chained audit log: appends, verification and tampering, on SQLite and PostgreSQL.

Tampering is done with raw SQL, as someone with database access would.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import JSON, Engine, bindparam, text
from sqlalchemy.orm import Session

from kijun.store import AuditError, save_criterion, session_scope
from kijun.store.audit import (
    GENESIS_HASH,
    append,
    entry_hash,
    list_entries,
    verify,
)

if TYPE_CHECKING:
    from tests.conftest import Samples


def write_entries(session: Session, n: int) -> None:
    for i in range(1, n + 1):
        append(session, actor="test:clerk", action="criterion.load",
               target=f"criterion/c{i}", detail={"versions": [1, 2], "note": "読み込み"})
    session.commit()


def kinds(session: Session) -> list[tuple[str, int | None]]:
    return [(p.kind, p.seq) for p in verify(session).problems]


def test_entries_chain_from_genesis(session: Session) -> None:
    write_entries(session, 3)
    newest_first = list_entries(session, limit=10)
    assert [e.seq for e in newest_first] == [3, 2, 1]
    first, second, third = reversed(newest_first)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert all(e.computed_hash() == e.hash for e in newest_first)
    assert first.at.tzinfo is not None
    report = verify(session)
    assert report.ok and (report.entries, report.last_seq, report.head_seq) == (3, 3, 3)
    assert list_entries(session, limit=2)[0].seq == 3 and len(list_entries(session, limit=2)) == 2


def test_empty_log_verifies(session: Session) -> None:
    report = verify(session)
    assert report.ok and report.entries == 0 and report.head_seq == 0


def test_hash_is_canonical() -> None:
    at = dt.datetime(2025, 4, 1, 0, 0, 0, 123456, tzinfo=dt.UTC)

    def digest(when: dt.datetime, detail: dict[str, object]) -> str:
        return entry_hash(seq=1, at=when, actor="a", action="x", target="t", detail=detail,
                          prev_hash=GENESIS_HASH)

    one = digest(at, {"a": 1, "b": "二"})
    # The same instant in JST and the same detail in another key order hash alike.
    assert digest(at.astimezone(dt.timezone(dt.timedelta(hours=9))), {"b": "二", "a": 1}) == one
    assert len(one) == 64
    assert digest(at, {"a": 2, "b": "二"}) != one
    assert digest(at + dt.timedelta(microseconds=1), {"a": 1, "b": "二"}) != one


def test_details_must_hash_the_same_after_a_round_trip(session: Session) -> None:
    with pytest.raises(TypeError):
        append(session, actor="a", action="x", target="t", detail={"amount": Decimal("1.5")})
    with pytest.raises(ValueError, match="actor"):
        append(session, actor="", action="x", target="t")


def test_update_of_an_entry_is_detected(session: Session) -> None:
    write_entries(session, 4)
    session.execute(
        text("UPDATE audit_log SET detail = :detail WHERE seq = 2").bindparams(
            bindparam("detail", type_=JSON)
        ),
        {"detail": {"versions": [1], "note": "読み込み"}},
    )
    session.commit()
    report = verify(session)
    assert not report.ok
    assert kinds(session) == [("changed", 2)]
    assert "entry 2 (criterion.load criterion/c2)" in report.problems[0].message


def test_update_of_the_actor_is_detected(session: Session) -> None:
    write_entries(session, 2)
    session.execute(text("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1"))
    session.commit()
    assert kinds(session) == [("changed", 1)]


def test_rewriting_an_entry_with_a_fresh_hash_is_detected(session: Session) -> None:
    write_entries(session, 3)
    forged = entry_hash(seq=2, at=list_entries(session, limit=3)[1].at, actor="forger",
                        action="criterion.load", target="criterion/c2",
                        detail={"versions": [1, 2], "note": "読み込み"},
                        prev_hash=list_entries(session, limit=3)[2].hash)
    session.execute(text("UPDATE audit_log SET actor = 'forger', hash = :h WHERE seq = 2"),
                    {"h": forged})
    session.commit()
    assert kinds(session) == [("removed", 3)]


def test_delete_of_a_middle_entry_is_detected(session: Session) -> None:
    write_entries(session, 5)
    session.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    session.commit()
    report = verify(session)
    assert kinds(session) == [("removed", 3)]
    assert "entry 3 missing before entry 4" in report.problems[0].message


def test_delete_of_several_middle_entries_is_detected(session: Session) -> None:
    write_entries(session, 5)
    session.execute(text("DELETE FROM audit_log WHERE seq IN (2, 3)"))
    session.commit()
    assert kinds(session) == [("removed", 2)]
    assert "entries 2–3 missing" in verify(session).problems[0].message


def test_delete_and_renumber_is_detected(session: Session) -> None:
    write_entries(session, 4)
    session.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    session.execute(text("UPDATE audit_log SET seq = seq - 1 WHERE seq > 2"))
    session.execute(text("UPDATE audit_head SET seq = 3"))
    session.commit()
    assert ("removed", 2) in kinds(session)


def test_delete_of_the_last_entry_is_detected(session: Session) -> None:
    write_entries(session, 3)
    session.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    session.commit()
    report = verify(session)
    assert kinds(session) == [("truncated", 3)]
    assert "log ends at entry 2" in report.problems[0].message


def test_delete_of_every_entry_is_detected(session: Session) -> None:
    write_entries(session, 2)
    session.execute(text("DELETE FROM audit_log"))
    session.commit()
    assert kinds(session) == [("truncated", 1)]


def test_replacing_the_last_entry_is_detected(session: Session) -> None:
    write_entries(session, 2)
    last = list_entries(session, limit=1)[0]
    forged = entry_hash(seq=2, at=last.at, actor="forger", action=last.action,
                        target=last.target, detail=last.detail, prev_hash=last.prev_hash)
    session.execute(text("UPDATE audit_log SET actor = 'forger', hash = :h WHERE seq = 2"),
                    {"h": forged})
    session.commit()
    assert kinds(session) == [("changed", 2)]


def test_entries_written_around_the_head_are_detected(session: Session) -> None:
    write_entries(session, 2)
    session.execute(text("UPDATE audit_head SET seq = 1"))
    session.commit()
    assert kinds(session) == [("head", 2)]


def test_missing_head_row(session: Session) -> None:
    write_entries(session, 1)
    session.execute(text("DELETE FROM audit_head"))
    session.commit()
    assert kinds(session) == [("head", None)]
    with pytest.raises(AuditError, match="audit_head"):
        append(session, actor="a", action="x", target="t")


def test_a_rolled_back_change_leaves_no_entry(engine: Engine, samples: type[Samples]) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        save_criterion(s, samples.criterion(), actor="test:author")
        assert list_entries(s, limit=10)
        raise RuntimeError("abort")
    with session_scope(engine) as s:
        assert list_entries(s, limit=10) == []
        assert verify(s).ok and verify(s).head_seq == 0


def test_concurrent_appends_keep_one_chain(engine: Engine) -> None:
    """Writers on separate connections queue on the head row instead of forking the chain."""
    workers, per_worker = 4, 10
    errors: list[BaseException] = []
    start = threading.Barrier(workers)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(per_worker):
                with session_scope(engine) as s:
                    append(s, actor=f"worker{n}", action="test.append", target=f"t/{n}/{i}")
        except BaseException as e:  # surfaced below; a thread's exception is otherwise lost
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope(engine) as s:
        report = verify(s)
        entries = list_entries(s, limit=1000)
    assert report.ok, report.problems
    assert report.entries == workers * per_worker == report.head_seq
    assert sorted(e.seq for e in entries) == list(range(1, workers * per_worker + 1))
