"""The event store (kijun.store.events): kijun's own log of review steps, imported logs.

Runs on every backend of the `engine` fixture (SQLite, and PostgreSQL when
KIJUN_TEST_DATABASE_URL is set). Data: ../shared/data/event-logs/receipt.xes.gz
(Buijs, J.C.A.M., CoSeLoG project, 4TU.ResearchData); the tests that need it
skip when it is absent.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from kijun.criteria.model import VersionStatus
from kijun.measure import (
    Event,
    EventLog,
    compute_metrics,
    dumps_ocel_json,
    flatten,
    loads_ocel_json,
    read_xes,
    to_ocel,
)
from kijun.store import (
    NotFoundError,
    db,
    publish_version,
    retire_version,
    return_draft,
    save_criterion,
    submit_draft,
)
from kijun.store.events import (
    EventStoreError,
    append_events,
    delete_event_log,
    find_event_log,
    import_event_log,
    kijun_log_id,
    list_event_logs,
    load_event_log,
)
from kijun.store.models import AuditEntryRow, EventCaseRow, EventLogRow, EventRow
from tests.conftest import Samples
from tests.webclient import add_user

LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "event-logs"
DEPARTMENT = "こども・長寿課"
CASE = "shussan-iwaikin/v2"
REASON = "山田太郎さんの件の根拠を確認してください"


def log_path(name: str) -> Path:
    path = LOGS / name
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/data/event-logs is not here)")
    return path


def _counts(engine: Engine) -> tuple[int, int, int, int]:
    """Rows of event logs, cases, events and audit entries."""
    with db.session_scope(engine) as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(m)) or 0
            for m in (EventLogRow, EventCaseRow, EventRow, AuditEntryRow))


def _review_cycle(engine: Engine) -> None:
    """v1 published by a file, v2 drafted, saved, submitted, returned, submitted, published;
    v1 retired by a CLI actor who is no user."""
    add_user(engine, "sakusei", "author", department=DEPARTMENT)
    add_user(engine, "shounin", "approver", department=DEPARTMENT)
    add_user(engine, "kanri", "admin", department="総務課")
    draft = Samples.version(2, "2026-04-01", status=VersionStatus.DRAFT)
    with db.session_scope(engine) as s:
        save_criterion(s, Samples.criterion(Samples.version(1, "2004-04-01")), actor="kanri")
    with db.session_scope(engine) as s:
        save_criterion(s, Samples.criterion(Samples.version(1, "2004-04-01"), draft),
                       actor="sakusei")
    with db.session_scope(engine) as s:
        changed = Samples.version(2, "2026-04-01", status=VersionStatus.DRAFT, note="改正")
        save_criterion(s, Samples.criterion(Samples.version(1, "2004-04-01"), changed),
                       actor="sakusei")
    with db.session_scope(engine) as s:
        submit_draft(s, "shussan-iwaikin", 2, actor="sakusei")
    with db.session_scope(engine) as s:
        return_draft(s, "shussan-iwaikin", 2, actor="shounin", reason=REASON)
    with db.session_scope(engine) as s:
        submit_draft(s, "shussan-iwaikin", 2, actor="sakusei")
    with db.session_scope(engine) as s:
        publish_version(s, "shussan-iwaikin", 2, actor="shounin")
    with db.session_scope(engine) as s:
        retire_version(s, "shussan-iwaikin", 1, actor="cli:root",
                       effective_to=dt.date(2026, 4, 1))


def _event_rows(engine: Engine) -> list[EventRow]:
    with db.session_scope(engine) as s:
        return list(s.scalars(select(EventRow).order_by(EventRow.id)))


# -- kijun's own steps ----------------------------------------------------------------------------


def test_a_review_cycle_writes_one_event_per_step(engine: Engine) -> None:
    _review_cycle(engine)
    rows = _event_rows(engine)
    got = [(r.case_id, r.activity, r.resource, r.role, r.department) for r in rows]
    assert got == [
        ("shussan-iwaikin/v1", "公開", "kanri", "admin", DEPARTMENT),
        (CASE, "下書き作成", "sakusei", "author", DEPARTMENT),
        (CASE, "下書き保存", "sakusei", "author", DEPARTMENT),
        (CASE, "承認依頼", "sakusei", "author", DEPARTMENT),
        (CASE, "差し戻し", "shounin", "approver", DEPARTMENT),
        (CASE, "承認依頼", "sakusei", "author", DEPARTMENT),
        (CASE, "公開", "shounin", "approver", DEPARTMENT),
        ("shussan-iwaikin/v1", "廃止", "cli:root", None, DEPARTMENT),  # no such user: no role
    ]
    for r in rows:
        assert r.timestamp.tzinfo is not None and r.seq == 0
        assert r.attributes is not None
        assert r.attributes["criterion"] == "shussan-iwaikin"
        assert r.attributes["version"] == int(r.case_id.rsplit("v", 1)[1])
    returned = next(r for r in rows if r.activity == "差し戻し")
    assert returned.attributes == {"criterion": "shussan-iwaikin", "version": 2,
                                   "reason_given": True}
    # the reason may name a resident: it is in no event
    assert not any(REASON in json.dumps(r.attributes, ensure_ascii=False) for r in rows)
    # the audit entries are as they were
    with db.session_scope(engine) as s:
        actions = list(s.scalars(select(AuditEntryRow.action).where(
            AuditEntryRow.target == "criterion/shussan-iwaikin/version/2")
            .order_by(AuditEntryRow.seq)))
    assert actions == ["version.create", "version.update", "version.submit", "version.return",
                       "version.submit", "version.publish"]


def test_the_metrics_of_kijuns_own_log(engine: Engine) -> None:
    _review_cycle(engine)
    with db.session_scope(engine) as s:
        summary = find_event_log(s, "kijun")
        log = load_event_log(s, summary.id)
    assert summary.builtin and summary.events == 8 and summary.cases == 2
    assert log.events["case"].to_list()[:2] == ["shussan-iwaikin/v1", CASE]
    m = compute_metrics(log)
    assert m["events"] == 8 and m["cases"] == 2
    assert m["activities"] == 6  # 公開, 下書き作成, 下書き保存, 承認依頼, 差し戻し, 廃止
    assert m["resources"] == 4
    # v2 asked for approval twice, after being sent back: rework and a round trip
    assert m["rework_cases"] == 1 and m["first_time_right_rate"] == 0.5
    assert m["round_trips"] == 1 and m["return_rate"] == 0.5
    # v2: sakusei → shounin → sakusei → shounin; v1: kanri → cli:root
    assert m["handoffs"] == 4
    assert m["variants"] == 2


def test_appending_is_one_executemany_insert(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        kijun_log_id(s)
    statements: list[tuple[str, bool]] = []

    def seen(conn: Any, cursor: Any, statement: str, params: Any, context: Any,
             executemany: bool) -> None:
        statements.append((statement, executemany))

    at = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
    events = [Event(f"c{i}", "受付", at + dt.timedelta(minutes=i), resource="r",
                    attributes={"n": i}) for i in range(50)]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with db.session_scope(engine) as s:
            append_events(s, events)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    inserts = [(st, many) for st, many in statements if st.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1 and "events" in inserts[0][0]
    assert inserts[0][1] or inserts[0][0].count("(") > 50  # executemany, or one multi-row VALUES
    with db.session_scope(engine) as s:
        log = load_event_log(s, kijun_log_id(s))
    assert len(log) == 50
    assert json.loads(log.events["attributes"][7]) == {"n": 7}


def test_kijuns_log_is_one_row_made_on_first_use(engine: Engine) -> None:
    from kijun.store.events import _insert_if_missing

    with db.session_scope(engine) as s:
        first = kijun_log_id(s)
        values = {"name": "kijun", "source": "kijun", "builtin": "kijun",
                  "imported_at": dt.datetime.now(dt.UTC), "imported_by": "kijun",
                  "event_count": 0, "case_count": 0, "meta": None}
        s.execute(_insert_if_missing(s, values))  # as a second writer would: nothing happens
    with db.session_scope(engine) as s:
        assert kijun_log_id(s) == first
        assert s.scalar(select(func.count()).select_from(EventLogRow)) == 1
        with pytest.raises(EventStoreError):
            delete_event_log(s, first, actor="kanri")


def test_append_refuses_a_naive_timestamp(engine: Engine) -> None:
    with db.session_scope(engine) as s, pytest.raises(EventStoreError, match="time zone"):
        append_events(s, [Event("c", "受付", dt.datetime(2026, 4, 1, 9, 0))])


# -- imported logs --------------------------------------------------------------------------------


def test_importing_receipt_gives_the_metrics_of_the_file(engine: Engine) -> None:
    path = log_path("receipt.xes.gz")
    from_file = read_xes(path)
    before = _counts(engine)
    with db.session_scope(engine) as s:
        log_id = import_event_log(s, from_file, name="WABO 受付", source=str(path),
                                  actor="kanri")
    with db.session_scope(engine) as s:
        stored = load_event_log(s, log_id)
        summary = find_event_log(s, str(log_id))
        audit_entry = s.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq.desc())).first()
    assert summary.source == "receipt.xes.gz"  # the file's name, not the folder
    assert (summary.events, summary.cases) == (8577, 1434)
    m = compute_metrics(stored)
    assert m == compute_metrics(from_file)
    assert m["events"] == 8577 and m["cases"] == 1434
    assert m["first_time_right_rate"] == pytest.approx(0.9365411436541144)
    # the whole log comes back: events in file order, cases with their attributes, header
    assert stored.events.equals(from_file.events)
    assert stored.cases.equals(from_file.cases)
    assert stored.meta == from_file.meta
    assert audit_entry is not None and audit_entry.action == "eventlog.import"
    assert audit_entry.detail == {"events": 8577, "cases": 1434}
    after = _counts(engine)
    # one log row (plus kijun's own, made by the listing), cases, events, one audit entry
    assert after[1:] == (before[1] + 1434, before[2] + 8577, before[3] + 1)


def test_a_period_keeps_whole_cases_started_in_it(engine: Engine) -> None:
    path = log_path("receipt.xes.gz")
    from_file = read_xes(path)
    with db.session_scope(engine) as s:
        log_id = import_event_log(s, from_file, name="receipt", source="receipt.xes.gz",
                                  actor="kanri")
    since = dt.datetime(2011, 7, 1, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    with db.session_scope(engine) as s:
        later = load_event_log(s, log_id, since=since)
        earlier = load_event_log(s, log_id, until=since)
    starts = from_file.events.group_by("case").agg(pl.col("timestamp").min())
    expected_later = set(starts.filter(pl.col("timestamp") >= since)["case"].to_list())
    assert set(later.cases["case"].to_list()) == expected_later
    assert later.cases.height + earlier.cases.height == 1434
    # every event of those cases, even those after the bound
    assert len(later) + len(earlier) == 8577


def _tiny_log(activity: str = "受付") -> EventLog:
    at = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
    return EventLog.from_events([
        Event("申請-1", "受付", at, resource="a"),
        Event("申請-1", activity, at + dt.timedelta(hours=1), resource="b"),
    ])


def test_a_failed_import_leaves_nothing(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session_scope(engine) as s:
        kijun_log_id(s)
    before = _counts(engine)
    # a value the database cannot hold: refused before anything is written, naming the event
    with pytest.raises(EventStoreError, match="event 2"), db.session_scope(engine) as s:
        import_event_log(s, _tiny_log("審\x00査"), name="bad", source="bad.xes", actor="kanri")
    assert _counts(engine) == before
    # a failure after the events went in: the transaction takes them back
    from kijun.store import audit

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "append", broken)
    with pytest.raises(RuntimeError), db.session_scope(engine) as s:
        import_event_log(s, _tiny_log(), name="half", source="half.xes", actor="kanri")
    assert _counts(engine) == before
    monkeypatch.undo()
    with pytest.raises(EventStoreError, match="no events"), db.session_scope(engine) as s:
        import_event_log(s, EventLog.from_events([]), name="empty", source="e.xes",
                         actor="kanri")
    with pytest.raises(EventStoreError, match="name"), db.session_scope(engine) as s:
        import_event_log(s, _tiny_log(), name="  ", source="e.xes", actor="kanri")
    assert _counts(engine) == before


def test_list_and_delete(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        first = import_event_log(s, _tiny_log(), name="一つ目", source="C:\\Users\\x\\a.xes",
                                 actor="kanri")
        second = import_event_log(s, _tiny_log(), name="二つ目", source="/home/x/b.xes",
                                  actor="kanri")
    with db.session_scope(engine) as s:
        logs = list_event_logs(s)
        assert [x.key for x in logs] == ["kijun", str(second), str(first)]
        assert [x.source for x in logs[1:]] == ["b.xes", "a.xes"]
        gone = delete_event_log(s, first, actor="kanri")
        assert gone.events == 2
    with db.session_scope(engine) as s:
        assert [x.key for x in list_event_logs(s)] == ["kijun", str(second)]
        with pytest.raises(NotFoundError):
            find_event_log(s, str(first))
        with pytest.raises(NotFoundError):
            find_event_log(s, "receipt")
        entry = s.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq.desc())).first()
        assert entry is not None and entry.action == "eventlog.delete"
        assert entry.target == f"eventlog/{first}" and entry.detail == {"events": 2, "cases": 1}
        assert s.scalar(select(func.count()).select_from(EventRow)
                        .where(EventRow.log_id == first)) == 0


def test_a_stored_log_goes_out_as_ocel_and_back(session: Session) -> None:
    at = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
    log = EventLog.from_events([
        Event("申請-1", "受付", at, resource="佐藤", department="住民課",
              attributes={"pages": 3, "express": True}),
        Event("申請-1", "審査", at + dt.timedelta(hours=2), resource="鈴木", role="approver"),
        Event("申請-2", "受付", at + dt.timedelta(hours=1), resource="佐藤",
              start=at + dt.timedelta(minutes=50)),
    ])
    log_id = import_event_log(session, log, name="小さなログ", source="t.xes", actor="kanri")
    stored = load_event_log(session, log_id)
    ocel = loads_ocel_json(dumps_ocel_json(to_ocel(stored)))
    assert [t.name for t in ocel.object_types] == ["case"]
    assert sorted(o.id for o in ocel.objects) == ["申請-1", "申請-2"]
    first = ocel.events[0]
    values = {a.name: a.value for a in first.attributes}
    assert values == {"org:resource": "佐藤", "org:group": "住民課", "pages": 3, "express": True}
    back = flatten(ocel, "case", resource=("org:resource",))
    for name in ("events", "cases", "activities", "resources", "lead_time_mean", "handoffs"):
        assert compute_metrics(back)[name] == compute_metrics(stored)[name]
