"""The append-only, hash-chained audit log.

Each entry's hash covers its content and the previous entry's hash, so
changing an entry breaks its own hash and removing one breaks the next
entry's `prev_hash`. Removing the *last* entries leaves a valid shorter chain;
the `audit_head` row (last seq and hash, updated in the same transaction as
every append) catches that. `verify` checks all three.

Entries name who did what to which target; `detail` holds identifiers,
numbers and hashes — never facts or other personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from kijun.store.errors import AuditError
from kijun.store.models import AUDIT_HEAD_ID, AuditEntryRow, AuditHeadRow

GENESIS_HASH = "0" * 64

#: Fixed so that a hash computed today can be recomputed from the stored row.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_timestamp(at: dt.datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetime: audit timestamps are aware UTC datetimes")
    return at.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text: one serialisation per value."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)


def entry_hash(
    *,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    target: str,
    detail: Mapping[str, Any],
    prev_hash: str,
) -> str:
    payload = {
        "seq": seq,
        "at": format_timestamp(at),
        "actor": actor,
        "action": action,
        "target": target,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: AuditEntryRow) -> AuditEntry:
        return cls(
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            action=row.action,
            target=row.target,
            detail=dict(row.detail),
            prev_hash=row.prev_hash,
            hash=row.hash,
        )

    def computed_hash(self) -> str:
        return entry_hash(
            seq=self.seq,
            at=self.at,
            actor=self.actor,
            action=self.action,
            target=self.target,
            detail=self.detail,
            prev_hash=self.prev_hash,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": format_timestamp(self.at),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


_ENTRIES = cast(Table, AuditEntryRow.__table__)
_HEAD = cast(Table, AuditHeadRow.__table__)
# Plain Core statements, built once: every recorded decision appends an entry.
_TOUCH_HEAD = update(_HEAD).where(_HEAD.c.id == AUDIT_HEAD_ID).values(seq=_HEAD.c.seq)
_LOCK_HEAD = (select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == AUDIT_HEAD_ID)
              .with_for_update())
_INSERT_ENTRY = insert(_ENTRIES)
_MOVE_HEAD = (update(_HEAD).where(_HEAD.c.id == AUDIT_HEAD_ID)
              .values(seq=bindparam("new_seq"), hash=bindparam("new_hash")))


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to append: who did what to which target (`at`: now, if not given)."""

    actor: str
    action: str
    target: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    at: dt.datetime | None = None


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    detail: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """Append an entry in the session's transaction; it commits or rolls back with the change.

    The head row is locked first, so concurrent appends queue up instead of
    forking the chain: `SELECT … FOR UPDATE` on PostgreSQL; on SQLite a no-op
    write takes the database's write lock (pysqlite runs plain SELECTs outside
    any transaction, so reading first would let two writers see the same head).
    """
    return append_many(session, [NewEntry(actor, action, target, detail or {}, at)])[0]


def append_many(session: Session, new: Sequence[NewEntry]) -> list[AuditEntry]:
    """Append entries in order, chained, under one lock of the head (see `append`).

    Everything is checked before the head is locked, so a bad entry appends none.
    """
    if not new:
        return []
    prepared = []
    for n in new:
        if not n.actor:
            raise ValueError("an audit entry needs an actor")
        plain_detail = dict(n.detail)
        canonical_json(plain_detail)  # refuse what would not hash the same after a round trip
        # Microseconds are what both backends keep; anything finer would not re-hash.
        when = (n.at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        prepared.append((n, plain_detail, when))
    if session.get_bind().dialect.name == "sqlite":
        session.execute(_TOUCH_HEAD)
    head = session.execute(_LOCK_HEAD).one_or_none()
    if head is None:
        raise AuditError("the audit_head row is missing: run `kijun audit verify`")
    seq, prev_hash = head.seq, head.hash
    entries = []
    for n, plain_detail, when in prepared:
        seq += 1
        entry = AuditEntry(seq=seq, at=when, actor=n.actor, action=n.action, target=n.target,
                           detail=plain_detail, prev_hash=prev_hash, hash="")
        entry = replace(entry, hash=entry.computed_hash())
        entries.append(entry)
        prev_hash = entry.hash
    session.execute(_INSERT_ENTRY, [
        {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "target": e.target,
         "detail": e.detail, "prev_hash": e.prev_hash, "hash": e.hash}
        for e in entries
    ])
    session.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": prev_hash})
    return entries


def list_entries(
    session: Session,
    *,
    limit: int = 50,
    before: int | None = None,
    action: str | None = None,
    actor: str | None = None,
) -> list[AuditEntry]:
    """The newest `limit` entries, newest first.

    `before`: only entries with a smaller seq (the next page); `action`: an
    action or an action family (`version` matches `version.publish`);
    `actor`: exactly this actor.
    """
    query = select(AuditEntryRow).order_by(AuditEntryRow.seq.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntryRow.seq < before)
    if action:
        query = query.where(
            (AuditEntryRow.action == action) | AuditEntryRow.action.startswith(f"{action}.")
        )
    if actor:
        query = query.where(AuditEntryRow.actor == actor)
    return [AuditEntry.from_row(r) for r in session.scalars(query)]


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """One break in the chain.

    kind: `changed` (an entry no longer matches its hash), `removed` (a gap in
    seq, or a prev_hash that does not match the entry before), `truncated`
    (the head names entries after the last one), `head` (the head row is
    missing or disagrees with the last entry in another way).
    """

    kind: str
    seq: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "seq": self.seq, "message": self.message}


@dataclass(frozen=True, slots=True)
class AuditReport:
    entries: int
    last_seq: int
    head_seq: int | None
    problems: tuple[AuditProblem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "last_seq": self.last_seq,
            "head_seq": self.head_seq,
            "problems": [p.to_dict() for p in self.problems],
        }


def _walk(session: Session, batch: int = 1000) -> Iterator[AuditEntry]:
    """Every entry in seq order, a batch at a time so long logs do not fill memory.

    Plain rows, not ORM objects: the caller's identity map stays as it was.
    """
    columns = [
        AuditEntryRow.seq,
        AuditEntryRow.at,
        AuditEntryRow.actor,
        AuditEntryRow.action,
        AuditEntryRow.target,
        AuditEntryRow.detail,
        AuditEntryRow.prev_hash,
        AuditEntryRow.hash,
    ]
    after = 0
    while True:
        rows = session.execute(
            select(*columns).where(AuditEntryRow.seq > after).order_by(AuditEntryRow.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield AuditEntry(
                seq=row.seq,
                at=row.at,
                actor=row.actor,
                action=row.action,
                target=row.target,
                detail=dict(row.detail),
                prev_hash=row.prev_hash,
                hash=row.hash,
            )
        after = rows[-1].seq


def verify(session: Session) -> AuditReport:
    """Walk the whole chain and report every break found."""
    problems: list[AuditProblem] = []
    count = 0
    expected_seq = 1
    prev_hash = GENESIS_HASH
    last: AuditEntry | None = None
    for entry in _walk(session):
        count += 1
        if entry.seq != expected_seq:
            missing = (
                f"entry {expected_seq}"
                if entry.seq == expected_seq + 1
                else f"entries {expected_seq}–{entry.seq - 1}"
            )
            problems.append(
                AuditProblem(
                    "removed",
                    expected_seq,
                    f"{missing} missing before entry {entry.seq} ({entry.action} {entry.target}): "
                    "removed",
                )
            )
        elif entry.prev_hash != prev_hash:
            problems.append(
                AuditProblem(
                    "removed",
                    entry.seq,
                    f"entry {entry.seq} ({entry.action} {entry.target}): prev_hash does not "
                    f"match entry {entry.seq - 1}'s hash: an entry before it was removed or "
                    "replaced",
                )
            )
        if entry.computed_hash() != entry.hash:
            problems.append(
                AuditProblem(
                    "changed",
                    entry.seq,
                    f"entry {entry.seq} ({entry.action} {entry.target}) does not match its hash: "
                    "changed after it was written",
                )
            )
        expected_seq = entry.seq + 1
        prev_hash = entry.hash
        last = entry
    head = session.execute(
        select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == AUDIT_HEAD_ID)
    ).one_or_none()
    last_seq = last.seq if last is not None else 0
    last_hash = last.hash if last is not None else GENESIS_HASH
    if head is None:
        problems.append(
            AuditProblem("head", None, "the audit_head row is missing: the log cannot be anchored")
        )
    elif head.seq > last_seq:
        missing = f"entry {head.seq}" if head.seq == last_seq + 1 else (
            f"entries {last_seq + 1}–{head.seq}"
        )
        problems.append(
            AuditProblem(
                "truncated",
                last_seq + 1,
                f"the head names entry {head.seq} but the log ends at entry {last_seq}: "
                f"{missing} removed from the end",
            )
        )
    elif head.seq < last_seq:
        problems.append(
            AuditProblem(
                "head",
                head.seq + 1,
                f"entries {head.seq + 1}–{last_seq} were written after the head "
                f"(entry {head.seq}) without going through the audit log",
            )
        )
    elif head.hash != last_hash:
        problems.append(
            AuditProblem(
                "changed",
                last_seq,
                f"entry {last_seq}'s hash does not match the head: the last entry was replaced",
            )
        )
    return AuditReport(
        entries=count,
        last_seq=last_seq,
        head_seq=head.seq if head is not None else None,
        problems=tuple(problems),
    )
