"""The event store: kijun's own event log and event logs imported from files.

Two kinds of log live in the same tables (`event_logs`, `event_cases`, `events`):

- **kijun's own log** (one row, `builtin` = 'kijun', created on first use):
  every step kijun performs appends events to it with `append_events`, in the
  step's own transaction — the review workflow writes 下書き作成, 下書き保存,
  承認依頼, 差し戻し, 公開 and 廃止 (`record_version_step`), one case per
  version (``<criterion id>/v<number>``). Appending is one Core executemany
  INSERT after one indexed look-up of the log's id; it never updates a shared
  row, so steps do not queue behind each other on it;
- **imported logs** (`import_event_log`): an XES or OCEL 2.0 file read by
  `kijun.measure`, stored whole or not at all, in batches (a 262,200-event
  log is fine), with its cases (trace attributes) and its XES header so that
  it can be written back.

`load_event_log` gives any stored log back as a `kijun.measure.EventLog`, so
the same metrics, comparisons and exports run on it. Importing and deleting
are audited (`eventlog.import`, `eventlog.delete`) with counts only: an event
log names people (resources) and its cases may be residents' matters, so
neither names nor values go into the audit log or into error messages beyond
the place (event number) of a problem.

Like the other repositories, functions take the caller's `Session` and never
commit.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, cast

import polars as pl
from sqlalchemy import Insert, Table, delete, func, insert, select
from sqlalchemy.orm import Session

from kijun.measure.log import (
    CASE_SCHEMA,
    EVENT_SCHEMA,
    Attribute,
    Event,
    EventLog,
    LogMeta,
    encode_attributes,
)
from kijun.store import audit
from kijun.store.errors import NotFoundError, StoreError
from kijun.store.models import (
    KIJUN_LOG,
    CriterionRow,
    EventCaseRow,
    EventLogRow,
    EventRow,
    UserRow,
)

#: rows per INSERT batch when importing
BATCH = 5000

# the tables, for Core INSERTs (no ORM objects per row)
_LOGS = cast(Table, EventLogRow.__table__)
_CASES = cast(Table, EventCaseRow.__table__)
_EVENTS = cast(Table, EventRow.__table__)

# -- the activities of kijun's review workflow (case: "<criterion id>/v<number>") -----------------

DRAFT_CREATED = "下書き作成"
DRAFT_SAVED = "下書き保存"
SUBMITTED = "承認依頼"
RETURNED = "差し戻し"
PUBLISHED = "公開"
RETIRED = "廃止"

#: the role a step is taken in, when the actor holds it (else admin, if they are one)
STEP_ROLES: dict[str, str] = {
    DRAFT_CREATED: "author",
    DRAFT_SAVED: "author",
    SUBMITTED: "author",
    RETURNED: "approver",
    PUBLISHED: "approver",
    RETIRED: "approver",
}


class EventStoreError(StoreError):
    """An event log that cannot be stored: no events, a bad name, a value the database refuses.

    Messages name the event by its number in the log, never its values.
    """


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- summaries ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventLogSummary:
    """A stored log: its name, where it came from, who imported it when, its size."""

    id: int
    name: str
    source: str
    builtin: bool
    imported_at: dt.datetime
    imported_by: str
    events: int
    cases: int

    @property
    def key(self) -> str:
        """How the CLI and the web name the log: ``kijun`` for kijun's own, else its id."""
        return KIJUN_LOG if self.builtin else str(self.id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "name": self.name,
            "source": self.source,
            "builtin": self.builtin,
            "imported_at": self.imported_at.isoformat(),
            "imported_by": self.imported_by,
            "events": self.events,
            "cases": self.cases,
        }


def _summary(session: Session, row: EventLogRow) -> EventLogSummary:
    events, cases = row.event_count, row.case_count
    if row.builtin:
        # kijun's own log grows with every step: counted, never kept up to date in its row
        events, cases = session.execute(
            select(func.count(), func.count(func.distinct(EventRow.case_id)))
            .where(EventRow.log_id == row.id)
        ).one()
    return EventLogSummary(row.id, row.name, row.source, bool(row.builtin), row.imported_at,
                           row.imported_by, int(events), int(cases))


def list_event_logs(session: Session) -> list[EventLogSummary]:
    """Every stored log: kijun's own first (created if need be), then imports, newest first."""
    kijun_log_id(session)
    rows = session.scalars(
        select(EventLogRow).order_by(EventLogRow.builtin.is_(None), EventLogRow.id.desc()))
    return [_summary(session, r) for r in rows]


def get_event_log(session: Session, log_id: int) -> EventLogSummary:
    """One stored log's summary; `NotFoundError` when there is none with this id."""
    return _summary(session, _log_row(session, log_id))


def find_event_log(session: Session, key: str) -> EventLogSummary:
    """A log named as the CLI and the web name it: ``kijun``, or a log's id."""
    text = unicodedata.normalize("NFKC", key).strip().lower()
    if text == KIJUN_LOG:
        return get_event_log(session, kijun_log_id(session))
    if not text.isdigit():
        raise NotFoundError(f"no event log {key[:40]!r}: give 'kijun' or a log's number")
    return get_event_log(session, int(text))


def _log_row(session: Session, log_id: int) -> EventLogRow:
    row = session.get(EventLogRow, log_id)
    if row is None:
        raise NotFoundError(f"no event log {log_id} in the database")
    return row


# -- kijun's own log -------------------------------------------------------------------------------


def kijun_log_id(session: Session) -> int:
    """The id of kijun's own log, creating its row the first time.

    The row is inserted with ``ON CONFLICT DO NOTHING`` on its unique
    `builtin` column (SQLite and PostgreSQL both have it), so two
    transactions that both find it missing still make one row.
    """
    query = select(EventLogRow.id).where(EventLogRow.builtin == KIJUN_LOG)
    found = session.scalar(query)
    if found is not None:
        return found
    values = {"name": KIJUN_LOG, "source": KIJUN_LOG, "builtin": KIJUN_LOG,
              "imported_at": _now(), "imported_by": KIJUN_LOG, "event_count": 0,
              "case_count": 0, "meta": None}
    session.execute(_insert_if_missing(session, values))
    created = session.scalar(query)
    assert created is not None
    return created


def _insert_if_missing(session: Session, values: dict[str, Any]) -> Insert:
    table = _LOGS
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).values(values).on_conflict_do_nothing(
            index_elements=["builtin"])
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).values(values).on_conflict_do_nothing(
            index_elements=["builtin"])
    return insert(table).values(values)  # pragma: no cover - other databases


def append_events(session: Session, events: Sequence[Event]) -> None:
    """Append events to kijun's own log, in the caller's transaction.

    One look-up of the log's id and one executemany INSERT, whatever the
    number of events; no ORM objects. Timestamps must be timezone-aware.
    Attributes are stored as `kijun.measure.log.encode_attributes` has them
    (str, int, float, bool, None; anything else as its text): never put
    facts or other personal data in them.
    """
    if not events:
        return
    log_id = kijun_log_id(session)
    rows = []
    for i, e in enumerate(events):
        if not e.case or not e.activity:
            raise EventStoreError(f"event {i + 1} has no case or no activity")
        rows.append({
            "log_id": log_id,
            "seq": 0,
            "case_id": e.case,
            "activity": e.activity,
            "timestamp": _aware(e.timestamp, i),
            "start_timestamp": None if e.start is None else _aware(e.start, i),
            "resource": e.resource,
            "role": e.role,
            "department": e.department,
            "lifecycle": e.lifecycle,
            "attributes": _json(encode_attributes(e.attributes)) if e.attributes else None,
        })
    session.execute(insert(_EVENTS), rows)


def _aware(value: dt.datetime, i: int) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise EventStoreError(f"event {i + 1}: its timestamp has no time zone")
    return value.astimezone(dt.UTC)


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def version_case(criterion_id: str, number: int) -> str:
    """The case id of a criterion version's review in kijun's own log."""
    return f"{criterion_id}/v{number}"


def stored_activity(status: str, *, new: bool) -> str:
    """The step of a version `save_criterion` stores: 下書き作成 or 下書き保存 for a draft
    (`new`: not stored before), 公開 for a published one, 廃止 for a retired one."""
    if status == "retired":
        return RETIRED
    if status == "published":
        return PUBLISHED
    return DRAFT_CREATED if new else DRAFT_SAVED


def record_version_step(
    session: Session,
    criterion_id: str,
    number: int,
    activity: str,
    *,
    actor: str,
    attributes: Mapping[str, Any] | None = None,
) -> None:
    """One step of a version's review as an event of kijun's own log.

    Case ``<criterion id>/v<number>``; resource the actor's login; department
    the criterion's 担当課; role the one the step is taken in (`STEP_ROLES`)
    when the actor holds it, else ``admin`` for an admin, else none (a CLI
    actor who is no user); attributes the criterion and version number plus
    `attributes`.
    """
    criterion = session.get(CriterionRow, criterion_id)
    roles = session.scalar(select(UserRow.roles).where(UserRow.login == actor)) or []
    preferred = STEP_ROLES.get(activity)
    role = preferred if preferred in roles else ("admin" if "admin" in roles else None)
    append_events(session, [Event(
        case=version_case(criterion_id, number),
        activity=activity,
        timestamp=_now(),
        resource=actor,
        role=role,
        department=criterion.department if criterion is not None else None,
        attributes={"criterion": criterion_id, "version": number, **(attributes or {})},
    )])


# -- importing -------------------------------------------------------------------------------------


def clean_name(text: str, what: str = "name", limit: int = 200) -> str:
    """A log's name as stored: NFC, one line, trimmed; 1–`limit` characters."""
    cleaned = " ".join(unicodedata.normalize("NFC", text).split())
    if not cleaned:
        raise EventStoreError(f"an event log needs a {what}")
    if len(cleaned) > limit:
        raise EventStoreError(f"the {what} is longer than {limit} characters")
    return cleaned


def source_name(path: str) -> str:
    """The file's own name (no folder: a path may name a person's home), shortened."""
    base = PureWindowsPath(PurePosixPath(path).name).name
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:300] or "file"


def import_event_log(
    session: Session, log: EventLog, *, name: str, source: str, actor: str
) -> int:
    """Store a whole log (events, cases, XES header) as a new log; returns its id.

    All or nothing in the caller's transaction; events go in `BATCH` rows per
    INSERT. The audit entry (`eventlog.import`) records the counts only.
    """
    name = clean_name(name)
    source = source_name(source)
    events = log.events.sort("position")
    if events.is_empty():
        raise EventStoreError("the log has no events: nothing to import")
    _refuse_nul(events)
    cases = log.cases.sort("position")
    row = EventLogRow(name=name, source=source, builtin=None, imported_at=_now(),
                      imported_by=actor, event_count=events.height,
                      case_count=cases.height, meta=meta_to_json(log.meta))
    session.add(row)
    session.flush()
    log_id = row.id
    for batch in _batches(cases.select("case", "attributes")):
        session.execute(insert(_CASES), [
            {"log_id": log_id, "seq": seq, "case_id": case, "attributes": _json(attrs)}
            for seq, (case, attrs) in batch])
    columns = ("case", "activity", "timestamp", "start", "resource", "role", "department",
               "lifecycle", "attributes")
    for batch in _batches(events.select(columns)):
        session.execute(insert(_EVENTS), [
            {"log_id": log_id, "seq": seq, "case_id": case, "activity": activity,
             "timestamp": ts, "start_timestamp": start, "resource": resource, "role": role,
             "department": department, "lifecycle": lifecycle, "attributes": _json(attrs)}
            for seq, (case, activity, ts, start, resource, role, department, lifecycle,
                      attrs) in batch])
    audit.append(session, actor=actor, action="eventlog.import", target=f"eventlog/{log_id}",
                 detail={"events": events.height, "cases": cases.height})
    session.flush()
    return log_id


def _batches(frame: pl.DataFrame) -> Iterator[list[tuple[int, tuple[Any, ...]]]]:
    for offset in range(0, frame.height, BATCH):
        part = frame.slice(offset, BATCH)
        yield list(enumerate(part.iter_rows(), start=offset))


def _refuse_nul(events: pl.DataFrame) -> None:
    """PostgreSQL text cannot hold U+0000: refuse it on every backend, naming the event."""
    text_columns = [c for c, t in EVENT_SCHEMA.items() if t == pl.String()]
    hit = events.with_row_index("_n").filter(pl.any_horizontal(
        pl.col(c).str.contains("\x00", literal=True).fill_null(False) for c in text_columns))
    if hit.height:
        raise EventStoreError(
            f"event {hit['_n'][0] + 1} holds a NUL character (U+0000), which cannot be stored")


# -- loading ---------------------------------------------------------------------------------------


def load_event_log(
    session: Session,
    log_id: int,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> EventLog:
    """A stored log as an `EventLog`, in its file order (kijun's own: the order written).

    `since` / `until` (aware datetimes) keep the cases that started (their
    earliest event) at or after `since` and before `until`, with all their
    events — whole cases, as the metrics and `split_by_date` count them.
    """
    row = _log_row(session, log_id)
    query = (
        select(EventRow.case_id, EventRow.activity, EventRow.timestamp,
               EventRow.start_timestamp, EventRow.resource, EventRow.role,
               EventRow.department, EventRow.lifecycle, EventRow.attributes)
        .where(EventRow.log_id == log_id)
        .order_by(EventRow.seq, EventRow.id)
    )
    filtered = since is not None or until is not None
    if filtered:
        for bound in (since, until):
            if bound is not None and (bound.tzinfo is None or bound.utcoffset() is None):
                raise ValueError("since and until must be timezone-aware")
        started = (select(EventRow.case_id).where(EventRow.log_id == log_id)
                   .group_by(EventRow.case_id))
        if since is not None:
            started = started.having(func.min(EventRow.timestamp) >= since)
        if until is not None:
            started = started.having(func.min(EventRow.timestamp) < until)
        query = query.where(EventRow.case_id.in_(started))
    columns: dict[str, list[Any]] = {k: [] for k in EVENT_SCHEMA}
    for case, activity, ts, start, resource, role, department, lifecycle, attrs in (
            session.execute(query)):
        columns["case"].append(case)
        columns["activity"].append(activity)
        columns["timestamp"].append(ts)
        columns["start"].append(start)
        columns["resource"].append(resource)
        columns["role"].append(role)
        columns["department"].append(department)
        columns["lifecycle"].append(lifecycle)
        columns["attributes"].append(_text(attrs))
    columns["position"] = list(range(len(columns["case"])))
    events = pl.DataFrame(columns, schema=EVENT_SCHEMA)
    cases = None
    stored = session.execute(
        select(EventCaseRow.case_id, EventCaseRow.attributes)
        .where(EventCaseRow.log_id == log_id).order_by(EventCaseRow.seq, EventCaseRow.id)
    ).all()
    if stored:
        cases = pl.DataFrame(
            {"case": [c for c, _ in stored], "position": list(range(len(stored))),
             "attributes": [_text(a) for _, a in stored]}, schema=CASE_SCHEMA)
        if filtered:
            cases = cases.filter(pl.col("case").is_in(events["case"].unique().implode()))
    return EventLog(events, cases, meta_from_json(row.meta))


def _text(value: Any) -> str | None:
    """Stored JSON back to the compact text of `encode_attributes`."""
    if value is None or value == {}:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# -- deleting --------------------------------------------------------------------------------------


def delete_event_log(session: Session, log_id: int, *, actor: str) -> EventLogSummary:
    """Delete an imported log with its events and cases (audited, counts only).

    kijun's own log cannot be deleted: it is the record of kijun's own steps.
    Who may delete is the caller's decision (the web app: admins only).
    """
    row = _log_row(session, log_id)
    if row.builtin:
        raise EventStoreError("kijun's own event log cannot be deleted")
    summary = _summary(session, row)
    session.execute(delete(EventRow).where(EventRow.log_id == log_id))
    session.execute(delete(EventCaseRow).where(EventCaseRow.log_id == log_id))
    session.delete(row)
    audit.append(session, actor=actor, action="eventlog.delete", target=f"eventlog/{log_id}",
                 detail={"events": summary.events, "cases": summary.cases})
    session.flush()
    return summary


# -- the XES header as JSON ------------------------------------------------------------------------


def meta_to_json(meta: LogMeta) -> dict[str, Any] | None:
    """`LogMeta` as JSON data (None for the default header a log built in Python has)."""
    if meta == LogMeta():
        return None
    return {
        "root": [list(p) for p in meta.root],
        "extensions": [[list(p) for p in ext] for ext in meta.extensions],
        "globals": [[scope, [_attribute_json(a) for a in attrs]]
                    for scope, attrs in meta.globals],
        "classifiers": [[list(p) for p in c] for c in meta.classifiers],
        "attributes": [_attribute_json(a) for a in meta.attributes],
        "start_key": meta.start_key,
    }


def meta_from_json(data: Mapping[str, Any] | None) -> LogMeta:
    if not data:
        return LogMeta()

    def pairs(items: Iterable[Any]) -> tuple[tuple[str, str], ...]:
        return tuple((str(k), str(v)) for k, v in items)

    return LogMeta(
        root=pairs(data.get("root", [])),
        extensions=tuple(pairs(e) for e in data.get("extensions", [])),
        globals=tuple((str(scope), tuple(_attribute_from(a) for a in attrs))
                      for scope, attrs in data.get("globals", [])),
        classifiers=tuple(pairs(c) for c in data.get("classifiers", [])),
        attributes=tuple(_attribute_from(a) for a in data.get("attributes", [])),
        start_key=data.get("start_key"),
    )


def _attribute_json(a: Attribute) -> dict[str, Any]:
    out: dict[str, Any] = {"type": a.type, "key": a.key, "value": a.value}
    if a.children:
        out["children"] = [_attribute_json(c) for c in a.children]
    return out


def _attribute_from(data: Mapping[str, Any]) -> Attribute:
    return Attribute(str(data["type"]), str(data["key"]), data.get("value"),
                     tuple(_attribute_from(c) for c in data.get("children", [])))
