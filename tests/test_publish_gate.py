"""Publishing a version with error-level findings needs a justification, which is audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy.orm import Session

from kijun.criteria.model import Criterion, VersionStatus
from kijun.store import (
    VerificationError,
    get_criterion,
    publish_version,
    save_criterion,
)
from kijun.store.audit import verify as verify_chain
from kijun.store.models import AuditEntryRow as AuditRow

from .tables import criterion, table

# 100000 exactly falls between the two rules: a gap, and no default output
GAPPY = table(
    "UNIQUE",
    [("金額", "number")],
    [("決裁者", "string")],
    [(["< 100000"], ["課長"]), (["> 100000"], ["副町長"])],
    name="決裁区分",
)
SOUND = table(
    "UNIQUE",
    [("金額", "number")],
    [("決裁者", "string")],
    [(["< 100000"], ["課長"]), ([">= 100000"], ["副町長"])],
    name="決裁区分",
)


def _draft(t: object) -> Criterion:
    c = criterion(t, cid="kessai")  # type: ignore[arg-type]
    return replace(c, versions=(replace(c.versions[0], status=VersionStatus.DRAFT),))


def _audit(session: Session) -> list[AuditRow]:
    return list(session.query(AuditRow).order_by(AuditRow.seq))


def test_a_draft_with_a_gap_is_refused_and_stays_a_draft(session: Session) -> None:
    save_criterion(session, _draft(GAPPY), actor="author")
    before = len(_audit(session))
    with pytest.raises(VerificationError, match="100000") as info:
        publish_version(session, "kessai", 1, actor="approver")
    assert "justification" in str(info.value)
    assert get_criterion(session, "kessai").version(1).status is VersionStatus.DRAFT
    assert len(_audit(session)) == before
    with pytest.raises(VerificationError):
        publish_version(session, "kessai", 1, actor="approver", justification="   ")


def test_a_justification_publishes_and_is_audited(session: Session) -> None:
    save_criterion(session, _draft(GAPPY), actor="author")
    publish_version(session, "kessai", 1, actor="approver",
                    justification="ちょうど10万円の支出は規程上ありえないため")
    assert get_criterion(session, "kessai").version(1).status is VersionStatus.PUBLISHED
    entry = _audit(session)[-1]
    assert entry.action == "version.publish" and entry.actor == "approver"
    override = entry.detail["override"]
    assert override["justification"] == "ちょうど10万円の支出は規程上ありえないため"
    assert override["findings"] == [{"kind": "gap", "decision": "決裁区分", "rules": []}]
    assert verify_chain(session).ok


def test_a_sound_draft_needs_no_justification(session: Session) -> None:
    save_criterion(session, _draft(SOUND), actor="author")
    publish_version(session, "kessai", 1, actor="approver", effective_from=dt.date(2026, 4, 1))
    assert "override" not in _audit(session)[-1].detail


def test_loading_a_published_version_passes_the_same_gate(session: Session) -> None:
    published = criterion(GAPPY, cid="kessai")
    with pytest.raises(VerificationError):
        save_criterion(session, published, actor="loader")
    assert _audit(session) == []
    save_criterion(session, published, actor="loader", justification="移行データ（旧規程）")
    created = [e for e in _audit(session) if e.action == "version.create"]
    assert created[0].detail["override"]["justification"] == "移行データ（旧規程）"


def test_drafts_load_whatever_their_findings(session: Session) -> None:
    save_criterion(session, _draft(GAPPY), actor="author")
    assert get_criterion(session, "kessai").version(1).status is VersionStatus.DRAFT
