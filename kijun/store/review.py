"""Review of drafts: an author submits, an approver publishes or returns with a reason.

A draft is being written (review_state None), submitted (承認待ち) or
returned (差し戻し, with the approver's reason). Saving new content into a
draft takes it back to being written. Each step is an audit entry — the
event log the DX office measures round trips and send-backs from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from kijun.criteria.model import VersionStatus
from kijun.store import audit, events
from kijun.store.errors import NotFoundError, VersionStatusError
from kijun.store.models import CriterionRow, VersionRow
from kijun.store.repository import _now, _version_row, _version_target

SUBMITTED = "submitted"
RETURNED = "returned"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A draft waiting for (or back from) an approver."""

    criterion_id: str
    criterion_name: str
    department: str | None
    number: int
    effective_from: dt.date
    state: str
    note: str | None
    submitted_by: str | None
    submitted_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion_id,
            "name": self.criterion_name,
            "department": self.department,
            "version": self.number,
            "effective_from": self.effective_from.isoformat(),
            "state": self.state,
            "note": self.note,
            "submitted_by": self.submitted_by,
            "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
        }


def _draft(session: Session, criterion_id: str, number: int) -> VersionRow:
    row = _version_row(session, criterion_id, number)
    if row.status != VersionStatus.DRAFT.value:
        raise VersionStatusError(
            f"criterion {criterion_id!r} version {number} is {row.status}: only a draft is "
            "reviewed"
        )
    return row


def submit_draft(session: Session, criterion_id: str, number: int, *, actor: str) -> None:
    """The author asks for approval."""
    row = _draft(session, criterion_id, number)
    if row.review_state == SUBMITTED:
        raise VersionStatusError(
            f"criterion {criterion_id!r} version {number} is already waiting for approval"
        )
    row.review_state = SUBMITTED
    row.review_note = None
    row.submitted_by = actor
    row.submitted_at = _now()
    audit.append(session, actor=actor, action="version.submit",
                 target=_version_target(criterion_id, number),
                 detail={"number": number, "content_hash": row.content_hash})
    events.record_version_step(session, criterion_id, number, events.SUBMITTED, actor=actor)
    session.flush()


def return_draft(
    session: Session, criterion_id: str, number: int, *, actor: str, reason: str
) -> None:
    """The approver sends a submitted draft back to its author, saying why."""
    if not reason.strip():
        raise VersionStatusError("a returned draft needs a reason")
    row = _draft(session, criterion_id, number)
    if row.review_state != SUBMITTED:
        raise VersionStatusError(
            f"criterion {criterion_id!r} version {number} is not waiting for approval"
        )
    row.review_state = RETURNED
    row.review_note = reason.strip()
    audit.append(session, actor=actor, action="version.return",
                 target=_version_target(criterion_id, number),
                 detail={"number": number, "reason": reason.strip(),
                         "content_hash": row.content_hash})
    # that a reason was given, never its text: it may name people
    events.record_version_step(session, criterion_id, number, events.RETURNED, actor=actor,
                               attributes={"reason_given": True})
    session.flush()


def review_queue(
    session: Session, *, department: str | None = None, state: str | None = SUBMITTED
) -> list[ReviewItem]:
    """Drafts in review (submitted by default), oldest submission first."""
    query = (
        select(VersionRow, CriterionRow)
        .join(CriterionRow, CriterionRow.id == VersionRow.criterion_id)
        .where(VersionRow.status == VersionStatus.DRAFT.value)
        .order_by(VersionRow.submitted_at, VersionRow.criterion_id, VersionRow.number)
    )
    if state is not None:
        query = query.where(VersionRow.review_state == state)
    else:
        query = query.where(VersionRow.review_state.is_not(None))
    if department is not None:
        query = query.where(CriterionRow.department == department)
    return [
        ReviewItem(c.id, c.name, c.department, v.number, v.effective_from, v.review_state or "",
                   v.review_note, v.submitted_by, v.submitted_at)
        for v, c in session.execute(query)
    ]


def review_state(session: Session, criterion_id: str, number: int) -> tuple[str | None, str | None]:
    """(state, note) of a version's review."""
    # Two columns, not the ORM row: the criterion page asks on every view.
    found = session.execute(_REVIEW_STATE, {"cid": criterion_id, "number": number}).first()
    if found is None:
        raise NotFoundError(f"criterion {criterion_id!r} has no version {number} in the database")
    return found[0], found[1]


_VERSION_TABLE = cast(Table, VersionRow.__table__)
_REVIEW_STATE = select(_VERSION_TABLE.c.review_state, _VERSION_TABLE.c.review_note).where(
    _VERSION_TABLE.c.criterion_id == bindparam("cid"),
    _VERSION_TABLE.c.number == bindparam("number"),
)
