"""kijun.store: schema, migrations and repositories, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kijun.criteria.errors import ModelError
from kijun.criteria.model import VersionStatus
from kijun.criteria.result import DecisionResult, MatchedRule, Status, VersionRef
from kijun.store import (
    ImmutableVersionError,
    NotFoundError,
    SchemaError,
    VersionStatusError,
    db,
    get_criterion,
    list_criteria,
    list_decisions,
    list_versions,
    publish_version,
    record_decision,
    retire_version,
    save_criterion,
    session_scope,
)
from kijun.store.audit import list_entries, verify
from kijun.store.models import AuditEntryRow, Base, CriterionRow, DecisionRow, VersionRow

if TYPE_CHECKING:
    from tests.conftest import Samples

ACTOR = "test:author"


def count(session: Session, model: type[Base]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def actions(session: Session) -> list[str]:
    return [e.action for e in reversed(list_entries(session, limit=1000))]


# -- schema and migrations --------------------------------------------------------------------


def test_migration_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert db.current_revision(engine) == db.head_revision() is not None


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    assert db.current_revision(database_url) is None
    first = db.upgrade(database_url)
    assert db.upgrade(database_url) == first == db.head_revision()


def test_unmigrated_database_is_refused(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        with pytest.raises(SchemaError, match="kijun db upgrade"):
            db.check_schema(engine)
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(session: Session) -> None:
    # On SQLite this holds only because make_engine turns foreign keys on per connection.
    with pytest.raises(IntegrityError):
        session.execute(
            text(
                "INSERT INTO criterion_versions (criterion_id, number, effective_from, status, "
                "content, content_hash, created_at) VALUES ('missing', 1, '2024-04-01', "
                "'draft', '{}', 'x', '2024-04-01 00:00:00')"
            )
        )
        session.flush()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_database_url_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(db.ENV_VAR, raising=False)
    assert db.database_url() == f"sqlite:///{tmp_path / 'var' / 'kijun.db'}"
    assert (tmp_path / "var").is_dir()
    monkeypatch.setenv(db.ENV_VAR, "sqlite:///elsewhere.db")
    assert db.database_url() == "sqlite:///elsewhere.db"
    assert db.database_url("sqlite:///given.db") == "sqlite:///given.db"
    assert "secret" not in db.display_url("postgresql+psycopg://u:secret@h/db")


def test_session_scope_commits_or_rolls_back(engine: Engine, samples: type[Samples]) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        save_criterion(s, samples.criterion(), actor=ACTOR)
        raise RuntimeError("boom")
    with session_scope(engine) as s:
        assert count(s, CriterionRow) == 0
        save_criterion(s, samples.criterion(), actor=ACTOR)
    with session_scope(engine) as s:
        assert count(s, CriterionRow) == 1


# -- saving and reading criteria --------------------------------------------------------------


def test_round_trip_keeps_decimals_and_dates(
    engine: Engine, session: Session, samples: type[Samples]
) -> None:
    criterion = samples.criterion(
        samples.version(1, "2004-04-01", effective_to="2024-04-01", note="制定時"),
        samples.version(2, "2024-04-01", amount=Decimal("123456.789")),
        samples.version(3, "2026-04-01", status=VersionStatus.DRAFT),
    )
    report = save_criterion(session, criterion, actor=ACTOR)
    session.commit()
    assert report.criterion == "created"
    assert report.created == [1, 2, 3]

    with Session(engine) as fresh:
        loaded = get_criterion(fresh, criterion.id)
    assert loaded == criterion
    rule = loaded.version(2).decisions[0].rules[0]
    assert rule.then[1] == Decimal("123456.789") and isinstance(rule.then[1], Decimal)
    assert rule.then[2] == dt.date(2024, 10, 1)
    outputs = loaded.version(2).decisions[0].outputs
    assert outputs[1].default == Decimal("0.25") and isinstance(outputs[1].default, Decimal)
    assert outputs[2].default == dt.date(2024, 4, 1)
    assert loaded.tests[0].input["申請日"] == dt.date(2025, 4, 1)
    assert isinstance(loaded.tests[0].input["年齢"], Decimal)
    assert loaded.version(3).status is VersionStatus.DRAFT


def test_saving_the_same_criterion_again_changes_nothing(
    session: Session, samples: type[Samples]
) -> None:
    criterion = samples.criterion(
        samples.version(1, "2004-04-01"),
        samples.version(2, "2026-04-01", status=VersionStatus.DRAFT),
    )
    save_criterion(session, criterion, actor=ACTOR)
    entries = count(session, AuditEntryRow)
    report = save_criterion(session, criterion, actor=ACTOR)
    assert report.to_dict() == {
        "id": "shussan-iwaikin",
        "criterion": "unchanged",
        "versions": {"created": [], "updated": [], "published": [], "retired": [],
                     "unchanged": [1, 2]},
    }
    assert not report.changed
    assert count(session, AuditEntryRow) == entries


def test_drafts_are_updated_and_new_versions_added(
    session: Session, samples: type[Samples]
) -> None:
    v1 = samples.version(1, "2004-04-01")
    save_criterion(
        session,
        samples.criterion(v1, samples.version(2, "2026-04-01", status=VersionStatus.DRAFT)),
        actor=ACTOR,
    )
    changed = samples.criterion(
        v1,
        samples.version(2, "2026-04-01", status=VersionStatus.DRAFT, amount=Decimal(150000)),
        samples.version(3, "2027-04-01", status=VersionStatus.DRAFT),
        name="出産祝金（改正）",
    )
    report = save_criterion(session, changed, actor=ACTOR)
    assert (report.criterion, report.updated, report.created, report.unchanged) == (
        "updated", [2], [3], [1]
    )
    assert get_criterion(session, changed.id) == changed
    assert actions(session)[-3:] == ["criterion.update", "version.update", "version.create"]


def test_changing_a_published_version_is_refused_and_nothing_is_saved(
    engine: Engine, samples: type[Samples]
) -> None:
    original = samples.criterion(samples.version(1, "2004-04-01"))
    with session_scope(engine) as s:
        save_criterion(s, original, actor=ACTOR)
    with session_scope(engine) as s:
        before = (count(s, AuditEntryRow), count(s, VersionRow))

    tampered = samples.criterion(
        samples.version(1, "2004-04-01", amount=Decimal("99")),
        samples.version(2, "2026-04-01"),
        name="別の名前",
    )
    with pytest.raises(ImmutableVersionError) as caught, session_scope(engine) as s:
        save_criterion(s, tampered, actor=ACTOR)
    message = str(caught.value)
    assert "'shussan-iwaikin' version 1" in message
    assert "immutable" in message and "add a new version" in message

    with session_scope(engine) as s:
        assert get_criterion(s, original.id) == original
        assert (count(s, AuditEntryRow), count(s, VersionRow)) == before
        assert verify(s).ok


def test_overlapping_versions_are_refused(engine: Engine, samples: type[Samples]) -> None:
    overlapping = samples.criterion(
        samples.version(1, "2024-04-01", effective_to="2025-04-01"),
        samples.version(2, "2025-01-01"),
    )
    with pytest.raises(ModelError, match="overlap"), session_scope(engine) as s:
        save_criterion(s, overlapping, actor=ACTOR)
    with session_scope(engine) as s:
        assert count(s, CriterionRow) == 0


def test_overlap_with_a_version_only_the_database_has_is_refused(
    engine: Engine, samples: type[Samples]
) -> None:
    with session_scope(engine) as s:
        save_criterion(
            s, samples.criterion(samples.version(1, "2024-04-01", effective_to="2025-04-01")),
            actor=ACTOR,
        )
    with pytest.raises(ModelError, match="overlap"), session_scope(engine) as s:
        save_criterion(s, samples.criterion(samples.version(2, "2025-01-01")), actor=ACTOR)
    with session_scope(engine) as s:
        assert [v.number for v in get_criterion(s, "shussan-iwaikin").versions] == [1]


def test_get_criterion_that_is_not_stored(session: Session) -> None:
    with pytest.raises(NotFoundError, match="no criterion 'nothing'"):
        get_criterion(session, "nothing")


def test_list_criteria_names_the_version_in_force(
    session: Session, samples: type[Samples]
) -> None:
    save_criterion(
        session,
        samples.criterion(
            samples.version(1, "2004-04-01"),
            samples.version(2, "2024-10-01"),
            samples.version(3, "2030-04-01", status=VersionStatus.DRAFT),
        ),
        actor=ACTOR,
    )
    save_criterion(
        session,
        samples.criterion(samples.version(1, "2030-04-01"), id="jidou-teate", name="児童手当",
                          department=None),
        actor=ACTOR,
    )
    summaries = {s.id: s for s in list_criteria(session, on=dt.date(2025, 1, 1))}
    assert list(summaries) == ["jidou-teate", "shussan-iwaikin"]
    shussan = summaries["shussan-iwaikin"]
    assert (shussan.version_count, shussan.current_version, shussan.current_effective_from) == (
        3, 2, dt.date(2024, 10, 1)
    )
    assert summaries["jidou-teate"].current_version is None
    assert summaries["jidou-teate"].to_dict()["department"] is None
    assert list_criteria(session, on=dt.date(2024, 9, 30))[1].current_version == 1


# -- life events --------------------------------------------------------------------------------


def test_life_events_are_stored_and_listed(
    engine: Engine, session: Session, samples: type[Samples]
) -> None:
    tagged = dataclasses.replace(samples.criterion(), life_events=("出生・こども", "引越し"))
    save_criterion(session, tagged, actor=ACTOR)
    save_criterion(session, samples.criterion(id="jimu", name="事務"), actor=ACTOR)
    session.commit()
    with Session(engine) as fresh:
        assert get_criterion(fresh, tagged.id) == tagged
        assert get_criterion(fresh, "jimu").life_events == ()
        assert fresh.get(CriterionRow, tagged.id).life_events == ["出生・こども", "引越し"]
        summaries = {s.id: s for s in list_criteria(fresh)}
    assert summaries[tagged.id].life_events == ("出生・こども", "引越し")
    assert summaries[tagged.id].to_dict()["life_events"] == ["出生・こども", "引越し"]
    assert summaries["jimu"].to_dict()["life_events"] == []


def test_a_change_of_life_events_is_saved_audited_and_seen_through_the_cache(
    engine: Engine, samples: type[Samples]
) -> None:
    original = samples.criterion()
    with session_scope(engine) as s:
        save_criterion(s, original, actor=ACTOR)
    with session_scope(engine) as s:
        assert get_criterion(s, original.id).life_events == ()  # now kept in the cache
        before = s.get(CriterionRow, original.id).updated_at
    changed = dataclasses.replace(original, life_events=("出生・こども",))
    with session_scope(engine) as s:
        report = save_criterion(s, changed, actor=ACTOR)
        assert report.criterion == "updated" and report.unchanged == [1]
    with session_scope(engine) as s:
        assert get_criterion(s, original.id).life_events == ("出生・こども",)
        assert s.get(CriterionRow, original.id).updated_at > before
        entry = list_entries(s, limit=1)[0]
        assert (entry.action, entry.detail) == ("criterion.update", {"fields": ["life_events"]})
        assert save_criterion(s, changed, actor=ACTOR).criterion == "unchanged"
    with session_scope(engine) as s:
        save_criterion(s, original, actor=ACTOR)  # back to none
    with session_scope(engine) as s:
        assert get_criterion(s, original.id).life_events == ()


def test_migration_gives_existing_criteria_no_life_events(database_url: str) -> None:
    assert db.upgrade(database_url, "0004_events") == "0004_events"
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO criteria (id, name, tests, created_at, updated_at) VALUES "
                "('old', '古い基準', '[]', '2024-04-01 00:00:00', '2024-04-01 00:00:00')"
            ))
        assert db.upgrade(engine, "0005_life_events") == "0005_life_events"
        with Session(engine) as s:
            row = s.get(CriterionRow, "old")
            assert row is not None and row.life_events == []
        assert db.upgrade(engine) == db.head_revision()
        with Session(engine) as s:
            assert get_criterion(s, "old").life_events == ()
    finally:
        engine.dispose()


# -- lifecycle --------------------------------------------------------------------------------


def test_publish_a_draft(session: Session, samples: type[Samples]) -> None:
    draft = samples.version(2, "2026-04-01", status=VersionStatus.DRAFT)
    save_criterion(session, samples.criterion(samples.version(1, "2004-04-01"), draft),
                   actor=ACTOR)
    summary = publish_version(session, "shussan-iwaikin", 2, actor="test:approver",
                              effective_from=dt.date(2026, 5, 1))
    assert summary.status == "published" and summary.published_at is not None
    assert summary.effective_from == dt.date(2026, 5, 1)
    stored = get_criterion(session, "shussan-iwaikin").version(2)
    assert stored == dataclasses.replace(draft, status=VersionStatus.PUBLISHED,
                                         effective_from=dt.date(2026, 5, 1))
    entry = list_entries(session, limit=1)[0]
    assert (entry.action, entry.actor, entry.target) == (
        "version.publish", "test:approver", "criterion/shussan-iwaikin/version/2"
    )
    assert entry.detail["content_hash"] == summary.content_hash
    with pytest.raises(VersionStatusError, match="only a draft"):
        publish_version(session, "shussan-iwaikin", 2, actor=ACTOR)
    with pytest.raises(NotFoundError):
        publish_version(session, "shussan-iwaikin", 9, actor=ACTOR)
    # The draft it was published from now disagrees on 施行日: the file must follow.
    with pytest.raises(ImmutableVersionError):
        save_criterion(session, samples.criterion(samples.version(1, "2004-04-01"), draft),
                       actor=ACTOR)


def test_reloading_the_draft_a_version_was_published_from_is_no_change(
    session: Session, samples: type[Samples]
) -> None:
    draft = samples.criterion(samples.version(1, "2026-04-01", status=VersionStatus.DRAFT))
    save_criterion(session, draft, actor=ACTOR)
    publish_version(session, draft.id, 1, actor=ACTOR)
    report = save_criterion(session, draft, actor=ACTOR)
    assert report.unchanged == [1] and not report.changed
    assert get_criterion(session, draft.id).version(1).status is VersionStatus.PUBLISHED


def test_publishing_into_an_overlap_is_refused(session: Session, samples: type[Samples]) -> None:
    save_criterion(
        session,
        samples.criterion(
            samples.version(1, "2024-04-01"),
            samples.version(2, "2025-04-01", status=VersionStatus.DRAFT),
        ),
        actor=ACTOR,
    )
    with pytest.raises(ModelError, match="both take effect"):
        publish_version(session, "shussan-iwaikin", 2, actor=ACTOR,
                        effective_from=dt.date(2024, 4, 1))


def test_retire_a_version(session: Session, samples: type[Samples]) -> None:
    save_criterion(session, samples.criterion(samples.version(1, "2004-04-01")), actor=ACTOR)
    summary = retire_version(session, "shussan-iwaikin", 1, actor=ACTOR,
                             effective_to=dt.date(2025, 4, 1))
    assert (summary.status, summary.effective_to) == ("retired", dt.date(2025, 4, 1))
    criterion = get_criterion(session, "shussan-iwaikin")
    assert criterion.version_on(dt.date(2025, 3, 31)) is not None
    assert criterion.version_on(dt.date(2025, 4, 1)) is None
    entry = list_entries(session, limit=1)[0]
    assert entry.action == "version.retire"
    assert entry.detail["previous_content_hash"] != entry.detail["content_hash"]
    with pytest.raises(VersionStatusError, match="only a published"):
        retire_version(session, "shussan-iwaikin", 1, actor=ACTOR)


def test_a_file_may_retire_a_published_version(session: Session, samples: type[Samples]) -> None:
    save_criterion(session, samples.criterion(samples.version(1, "2004-04-01")), actor=ACTOR)
    report = save_criterion(
        session,
        samples.criterion(samples.version(1, "2004-04-01", status=VersionStatus.RETIRED)),
        actor=ACTOR,
    )
    assert report.retired == [1]
    assert list_versions(session, "shussan-iwaikin")[0].status == "retired"


# -- decisions --------------------------------------------------------------------------------


def _result(number: int = 1, criterion_id: str = "shussan-iwaikin") -> DecisionResult:
    return DecisionResult(
        decision="支給判定",
        status=Status.DECIDED,
        outputs={"判定": "支給", "支給額": Decimal("100000.5"), "支給開始日": dt.date(2024, 10, 1)},
        matched=(MatchedRule("支給判定", "R1", 1, "第3条・第4条", None),),
        version=VersionRef(criterion_id, number, dt.date(2004, 4, 1), None, "published"),
        on=dt.date(2025, 4, 1),
    )


def test_record_a_decision_without_facts_in_the_audit_log(
    engine: Engine, session: Session, samples: type[Samples]
) -> None:
    save_criterion(session, samples.criterion(), actor=ACTOR)
    facts = {"氏名": "山田花子", "定住": True, "年齢": Decimal("0.5"),
             "申請日": dt.date(2025, 4, 1)}
    decision_id = record_decision(session, "shussan-iwaikin", _result(), facts,
                                  actor="test:counter")
    session.commit()

    with Session(engine) as fresh:
        [record] = list_decisions(fresh, "shussan-iwaikin", limit=10)
        entries = list_entries(fresh, limit=100)
    assert record.id == decision_id
    assert record.facts == facts and isinstance(record.facts["年齢"], Decimal)
    assert record.outputs["支給額"] == Decimal("100000.5")
    assert (record.version_number, record.status, record.matched, record.on) == (
        1, "decided", ("R1",), dt.date(2025, 4, 1)
    )
    entry = entries[0]
    assert (entry.action, entry.target) == ("decision.record", f"decision/{decision_id}")
    assert entry.detail == {"decision_id": decision_id, "criterion": "shussan-iwaikin",
                            "version": 1, "decision": "支給判定", "status": "decided"}
    everything = json.dumps([e.to_dict() for e in entries], ensure_ascii=False)
    assert "山田花子" not in everything and "100000.5" not in everything


def test_record_a_decision_of_a_version_not_stored(
    session: Session, samples: type[Samples]
) -> None:
    save_criterion(session, samples.criterion(), actor=ACTOR)
    with pytest.raises(NotFoundError, match="no version 7"):
        record_decision(session, "shussan-iwaikin", _result(number=7), {}, actor=ACTOR)
    with pytest.raises(ValueError, match="decided by criterion 'jidou-teate'"):
        record_decision(session, "shussan-iwaikin", _result(criterion_id="jidou-teate"), {},
                        actor=ACTOR)
    exception = dataclasses.replace(_result(), status=Status.EXCEPTION, outputs={}, matched=())
    record_decision(session, "shussan-iwaikin", exception, {"定住": None}, actor=ACTOR)
    assert count(session, DecisionRow) == 1
    assert list_decisions(session)[0].status == "exception"
