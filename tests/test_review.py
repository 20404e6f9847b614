"""Review of drafts: submit, return with a reason, edit, submit again, publish."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.orm import Session

from kijun.criteria.model import VersionStatus
from kijun.store import (
    VersionStatusError,
    get_criterion,
    publish_version,
    return_draft,
    review_queue,
    review_state,
    save_criterion,
    submit_draft,
)
from kijun.store.models import AuditEntryRow

from .tables import criterion, table

SOUND = table("UNIQUE", [("金額", "number")], [("決裁者", "string")],
              [(["< 100000"], ["課長"]), ([">= 100000"], ["副町長"])], name="決裁区分")


def _draft(session: Session, rules: tuple[str, str] = ("< 100000", ">= 100000")) -> None:
    t = replace(SOUND, rules=tuple(replace(r, when=(w,)) for r, w in zip(SOUND.rules, rules,
                                                                        strict=True)))
    c = criterion(t, cid="kessai")
    c = replace(c, department="総務課",
                versions=(replace(c.versions[0], status=VersionStatus.DRAFT),))
    save_criterion(session, c, actor="author")


def _actions(session: Session) -> list[str]:
    return [e.action for e in session.query(AuditEntryRow).order_by(AuditEntryRow.seq)]


def test_a_round_trip_through_review(session: Session) -> None:
    _draft(session)
    assert review_queue(session) == []
    submit_draft(session, "kessai", 1, actor="author")
    (item,) = review_queue(session)
    assert (item.criterion_id, item.number, item.state, item.submitted_by) == (
        "kessai", 1, "submitted", "author")
    assert review_queue(session, department="住民課") == []
    assert len(review_queue(session, department="総務課")) == 1
    return_draft(session, "kessai", 1, actor="approver", reason="金額の境界は規程第5条と照合を")
    assert review_state(session, "kessai", 1) == ("returned", "金額の境界は規程第5条と照合を")
    assert review_queue(session) == []
    assert review_queue(session, state="returned")[0].note == "金額の境界は規程第5条と照合を"
    # the author changes the draft: it is being written again
    _draft(session, ("<= 100000", "> 100000"))
    assert review_state(session, "kessai", 1) == (None, None)
    submit_draft(session, "kessai", 1, actor="author")
    publish_version(session, "kessai", 1, actor="approver")
    assert get_criterion(session, "kessai").version(1).status is VersionStatus.PUBLISHED
    assert review_state(session, "kessai", 1) == (None, None)
    assert _actions(session) == [
        "criterion.create", "version.create", "version.submit", "version.return",
        "version.update", "version.submit", "version.publish",
    ]


def test_steps_out_of_order_are_refused(session: Session) -> None:
    _draft(session)
    with pytest.raises(VersionStatusError, match="not waiting"):
        return_draft(session, "kessai", 1, actor="approver", reason="x")
    submit_draft(session, "kessai", 1, actor="author")
    with pytest.raises(VersionStatusError, match="already waiting"):
        submit_draft(session, "kessai", 1, actor="author")
    with pytest.raises(VersionStatusError, match="needs a reason"):
        return_draft(session, "kessai", 1, actor="approver", reason="  ")
    publish_version(session, "kessai", 1, actor="approver")
    with pytest.raises(VersionStatusError, match="only a draft"):
        submit_draft(session, "kessai", 1, actor="author")
