"""Repositories: criteria, versions and decisions, each change audited.

Functions take the caller's `Session` and never commit: the caller's
transaction (`kijun.store.db.session_scope`) holds a change and its audit
entries together, so either both are stored or neither is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, func, insert, select
from sqlalchemy.orm import Session

from kijun.criteria import serial
from kijun.criteria.model import Criterion, Version, VersionStatus, validate_criterion
from kijun.criteria.result import DecisionResult
from kijun.measure.log import Event
from kijun.store import audit, events
from kijun.store.audit import canonical_json
from kijun.store.cache import cache_for
from kijun.store.errors import (
    ImmutableVersionError,
    NotFoundError,
    VerificationError,
    VersionStatusError,
)
from kijun.store.models import CriterionRow, DecisionRow, VersionRow


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def content_hash(content: Mapping[str, Any]) -> str:
    """sha256 of a version's canonical JSON, lifecycle status left out.

    Status is where a version is in its life, not what it says: publishing or
    retiring must not make identical content look different.
    """
    hashed = {k: v for k, v in content.items() if k != "status"}
    return hashlib.sha256(canonical_json(hashed).encode("utf-8")).hexdigest()


def _criterion_target(criterion_id: str) -> str:
    return f"criterion/{criterion_id}"


def _version_target(criterion_id: str, number: int) -> str:
    return f"criterion/{criterion_id}/version/{number}"


# -- saving a criterion ------------------------------------------------------------------------


@dataclass(slots=True)
class SaveReport:
    """What `save_criterion` did: `criterion` is created, updated or unchanged."""

    criterion_id: str
    criterion: str = "unchanged"
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    published: list[int] = field(default_factory=list)
    retired: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.criterion != "unchanged" or bool(
            self.created or self.updated or self.published or self.retired
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.criterion_id,
            "criterion": self.criterion,
            "versions": {
                "created": self.created,
                "updated": self.updated,
                "published": self.published,
                "retired": self.retired,
                "unchanged": self.unchanged,
            },
        }


_RANK = {VersionStatus.DRAFT: 0, VersionStatus.PUBLISHED: 1, VersionStatus.RETIRED: 2}


def save_criterion(
    session: Session, criterion: Criterion, *, actor: str, justification: str | None = None
) -> SaveReport:
    """Insert or update a criterion and its versions.

    A version not yet stored is inserted; a stored draft takes the new content
    (and status); a published or retired version must have the same content
    (`ImmutableVersionError` otherwise), though it may move on to retired.
    A file never moves a version back (published → draft): the stored
    lifecycle wins, so reloading the draft a version was published from is
    not a change. Stored versions absent from `criterion` are kept.

    A version that arrives published (or retired) passes the same
    verification gate as `publish_version`: error-level findings need a
    `justification`, which the audit log keeps.

    Everything is checked before anything is written, so a refusal leaves the
    session as it was.
    """
    validate_criterion(criterion)
    row = session.get(CriterionRow, criterion.id)
    stored = _version_rows(session, criterion.id) if row is not None else {}

    plans: list[tuple[Version, VersionRow | None, str]] = []
    merged: dict[int, Version] = {n: _version_of(r) for n, r in stored.items()}
    for version in criterion.versions:
        existing = stored.get(version.number)
        step = _plan_version(criterion.id, version, existing)
        plans.append((version, existing, step))
        if step in ("create", "update"):
            merged[version.number] = version
        elif step == "retire" and existing is not None:
            merged[version.number] = replace(merged[version.number], status=VersionStatus.RETIRED)
    # The file's versions may be valid alone and still overlap versions only the database has.
    validate_criterion(replace(criterion, versions=tuple(merged[n] for n in sorted(merged))))
    overrides: dict[int, dict[str, Any]] = {}
    for version, _, step in plans:
        if step in ("create", "update") and version.status is not VersionStatus.DRAFT:
            overridden = verification_gate(criterion.id, version, justification)
            if overridden is not None:
                overrides[version.number] = overridden

    report = SaveReport(criterion.id)
    now = _now()
    tests = [serial.test_case_to_dict(t) for t in criterion.tests]
    fields: dict[str, Any] = {
        "name": criterion.name,
        "department": criterion.department,
        "description": criterion.description,
        "basis": criterion.basis,
        "tests": tests,
        "life_events": list(criterion.life_events),
    }
    if row is None:
        session.add(CriterionRow(id=criterion.id, created_at=now, updated_at=now, **fields))
        session.flush()
        report.criterion = "created"
        audit.append(
            session,
            actor=actor,
            action="criterion.create",
            target=_criterion_target(criterion.id),
            detail={"versions": [v.number for v in criterion.versions], "tests": len(tests)},
        )
    else:
        changed = sorted(k for k, v in fields.items() if getattr(row, k) != v)
        if changed:
            for k in changed:
                setattr(row, k, fields[k])
            row.updated_at = now
            report.criterion = "updated"
            audit.append(
                session,
                actor=actor,
                action="criterion.update",
                target=_criterion_target(criterion.id),
                detail={"fields": changed},
            )

    for version, existing, step in plans:
        _apply_version(session, criterion.id, version, existing, step, actor=actor, now=now,
                       report=report, override=overrides.get(version.number))
    session.flush()
    return report


def _plan_version(criterion_id: str, version: Version, existing: VersionRow | None) -> str:
    if existing is None:
        return "create"
    current = VersionStatus(existing.status)
    if current is VersionStatus.DRAFT:
        new_content = serial.version_to_dict(version)
        if existing.content == new_content:
            return "unchanged"
        return "update"
    if content_hash(serial.version_to_dict(version)) != existing.content_hash:
        raise ImmutableVersionError(criterion_id, version.number, current.value)
    if _RANK[version.status] > _RANK[current]:
        return "retire"
    return "unchanged"


def _apply_version(
    session: Session,
    criterion_id: str,
    version: Version,
    existing: VersionRow | None,
    step: str,
    *,
    actor: str,
    now: dt.datetime,
    report: SaveReport,
    override: dict[str, Any] | None = None,
) -> None:
    content = serial.version_to_dict(version)
    digest = content_hash(content)
    target = _version_target(criterion_id, version.number)
    published = version.status is not VersionStatus.DRAFT
    detail = _version_detail(version, digest)
    if override is not None:
        detail["override"] = override
    if step == "create":
        session.add(
            VersionRow(
                criterion_id=criterion_id,
                number=version.number,
                effective_from=version.effective_from,
                effective_to=version.effective_to,
                status=version.status.value,
                content=content,
                content_hash=digest,
                created_at=now,
                published_at=now if published else None,
            )
        )
        report.created.append(version.number)
        audit.append(session, actor=actor, action="version.create", target=target,
                     detail=detail)
        events.record_version_step(session, criterion_id, version.number,
                                   events.stored_activity(version.status.value, new=True),
                                   actor=actor)
    elif step == "update" and existing is not None:
        # new content is not what was submitted or returned: back to being written
        existing.review_state = None
        existing.review_note = None
        existing.effective_from = version.effective_from
        existing.effective_to = version.effective_to
        existing.status = version.status.value
        existing.content = content
        existing.content_hash = digest
        if published:
            existing.published_at = now
            report.published.append(version.number)
        else:
            report.updated.append(version.number)
        audit.append(
            session,
            actor=actor,
            action="version.publish" if published else "version.update",
            target=target,
            detail=detail,
        )
        events.record_version_step(session, criterion_id, version.number,
                                   events.stored_activity(version.status.value, new=False),
                                   actor=actor)
    elif step == "retire" and existing is not None:
        _retire(session, criterion_id, existing,
                replace(_version_of(existing), status=VersionStatus.RETIRED), actor=actor)
        report.retired.append(version.number)
    else:
        report.unchanged.append(version.number)


def verification_gate(
    criterion_id: str, version: Version, justification: str | None
) -> dict[str, Any] | None:
    """Refuse to publish a version with error-level findings unless a justification is given.

    Returns what the audit entry records about an overridden refusal (None
    when there was nothing to override).
    """
    from kijun.criteria.verify import Severity, verify_version

    errors = [f for f in verify_version(version).findings if f.severity is Severity.ERROR]
    if not errors:
        return None
    if not (justification and justification.strip()):
        raise VerificationError(
            criterion_id, version.number, [f"{f.decision}: {f.message_en}" for f in errors]
        )
    return {
        "justification": justification.strip(),
        "findings": [
            {"kind": f.kind.value, "decision": f.decision, "rules": list(f.rules)}
            for f in errors
        ],
    }


def _version_detail(version: Version, digest: str) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status.value,
        "effective_from": version.effective_from.isoformat(),
        "effective_to": version.effective_to.isoformat() if version.effective_to else None,
        "content_hash": digest,
    }


def _version_rows(session: Session, criterion_id: str) -> dict[int, VersionRow]:
    rows = session.scalars(
        select(VersionRow).where(VersionRow.criterion_id == criterion_id).order_by(
            VersionRow.number
        )
    )
    return {r.number: r for r in rows}


def _version_of(row: VersionRow) -> Version:
    # The columns are authoritative for lifecycle; `content` mirrors them.
    return replace(
        serial.version_from_dict(row.content),
        status=VersionStatus(row.status),
        effective_from=row.effective_from,
        effective_to=row.effective_to,
    )


# -- reading criteria -------------------------------------------------------------------------


def get_criterion(session: Session, criterion_id: str) -> Criterion:
    """The stored criterion with all its versions, oldest number first.

    The object may be shared with other callers (it is immutable): each
    process keeps the criteria it has read and rebuilds one only when its
    stored revision changed (`kijun.store.cache`).
    """
    found = cache_for(session).get(session, criterion_id,
                                   lambda: _build_criteria(session, [criterion_id])[criterion_id])
    if found is None:
        raise NotFoundError(f"no criterion {criterion_id!r} in the database")
    return found


def get_criteria(session: Session) -> list[Criterion]:
    """Every stored criterion with all its versions, by id (shared objects, as above)."""
    return cache_for(session).get_all(session, lambda ids: _build_criteria(session, ids))


def _build_criteria(session: Session, ids: Sequence[str]) -> dict[str, Criterion]:
    rows = {r.id: r for r in session.scalars(select(CriterionRow).where(CriterionRow.id.in_(ids)))}
    versions: dict[str, list[Version]] = {cid: [] for cid in rows}
    for v in session.scalars(select(VersionRow).where(VersionRow.criterion_id.in_(ids))
                             .order_by(VersionRow.criterion_id, VersionRow.number)):
        versions[v.criterion_id].append(_version_of(v))
    missing = [cid for cid in ids if cid not in rows]
    if missing:  # removed between the revision query and now
        raise NotFoundError(f"no criterion {missing[0]!r} in the database")
    return {
        cid: Criterion(
            id=row.id,
            name=row.name,
            department=row.department,
            description=row.description,
            basis=row.basis,
            life_events=tuple(row.life_events or ()),
            versions=tuple(versions[cid]),
            tests=tuple(serial.test_case_from_dict(t) for t in row.tests),
        )
        for cid, row in rows.items()
    }


@dataclass(frozen=True, slots=True)
class VersionSummary:
    criterion_id: str
    number: int
    status: str
    effective_from: dt.date
    effective_to: dt.date | None
    content_hash: str
    created_at: dt.datetime
    published_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: VersionRow) -> VersionSummary:
        return cls(
            criterion_id=row.criterion_id,
            number=row.number,
            status=row.status,
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            content_hash=row.content_hash,
            created_at=row.created_at,
            published_at=row.published_at,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion_id,
            "number": self.number,
            "status": self.status,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "content_hash": self.content_hash,
            "created_at": self.created_at.isoformat(),
            "published_at": self.published_at.isoformat() if self.published_at else None,
        }


def list_versions(session: Session, criterion_id: str) -> list[VersionSummary]:
    """Lifecycle metadata of each stored version (no content), oldest number first."""
    if session.get(CriterionRow, criterion_id) is None:
        raise NotFoundError(f"no criterion {criterion_id!r} in the database")
    return [VersionSummary.from_row(r) for r in _version_rows(session, criterion_id).values()]


@dataclass(frozen=True, slots=True)
class CriterionSummary:
    id: str
    name: str
    department: str | None
    version_count: int
    #: the version in force on the day asked (today by default), if any
    current_version: int | None
    current_effective_from: dt.date | None
    #: ライフイベント, in `LIFE_EVENTS` order
    life_events: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "department": self.department,
            "life_events": list(self.life_events),
            "versions": self.version_count,
            "current_version": self.current_version,
            "current_effective_from": (
                self.current_effective_from.isoformat() if self.current_effective_from else None
            ),
        }


def list_criteria(session: Session, *, on: dt.date | None = None) -> list[CriterionSummary]:
    """Every stored criterion with its version count and the version in force `on`."""
    day = on or dt.date.today()
    periods: dict[str, list[Version]] = {}
    # Only the period columns: the content is not needed to know which version is in force.
    for number, cid, start, end, status in session.execute(
        select(
            VersionRow.number,
            VersionRow.criterion_id,
            VersionRow.effective_from,
            VersionRow.effective_to,
            VersionRow.status,
        )
    ):
        periods.setdefault(cid, []).append(
            Version(number=number, effective_from=start, effective_to=end,
                    status=VersionStatus(status), decisions=())
        )
    out: list[CriterionSummary] = []
    # Only the columns a summary shows: not the test cases.
    for cid, name, department, life_events in session.execute(
        select(CriterionRow.id, CriterionRow.name, CriterionRow.department,
               CriterionRow.life_events).order_by(CriterionRow.id)
    ):
        versions = periods.get(cid, [])
        # Criterion.version_on holds the one rule for which version is in force.
        in_force = Criterion(id=cid, name=name, versions=tuple(versions)).version_on(day)
        out.append(
            CriterionSummary(
                id=cid,
                name=name,
                department=department,
                version_count=len(versions),
                current_version=in_force.number if in_force else None,
                current_effective_from=in_force.effective_from if in_force else None,
                life_events=tuple(life_events or ()),
            )
        )
    return out


# -- lifecycle --------------------------------------------------------------------------------


def _version_row(session: Session, criterion_id: str, number: int) -> VersionRow:
    row = session.scalars(
        select(VersionRow).where(
            VersionRow.criterion_id == criterion_id, VersionRow.number == number
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"criterion {criterion_id!r} has no version {number} in the database")
    return row


def _check_periods(session: Session, criterion_id: str, changed: VersionRow, new: Version) -> None:
    others = [
        _version_of(r)
        for n, r in _version_rows(session, criterion_id).items()
        if n != changed.number
    ]
    row = session.get(CriterionRow, criterion_id)
    name = row.name if row is not None else criterion_id
    validate_criterion(
        Criterion(id=criterion_id, name=name,
                  versions=tuple(sorted([*others, new], key=lambda v: v.number)))
    )


def publish_version(
    session: Session,
    criterion_id: str,
    number: int,
    *,
    actor: str,
    effective_from: dt.date | None = None,
    justification: str | None = None,
) -> VersionSummary:
    """Publish a draft, optionally fixing its 施行日; from then on its content is frozen.

    A draft with error-level verification findings (a gap, a conflict, a
    dead rule …) is refused with `VerificationError` unless `justification`
    says why it may take effect anyway; the justification and the findings
    it overrides go into the audit log.
    """
    row = _version_row(session, criterion_id, number)
    if row.status != VersionStatus.DRAFT.value:
        raise VersionStatusError(
            f"criterion {criterion_id!r} version {number} is {row.status}: only a draft can be "
            "published"
        )
    version = replace(
        _version_of(row),
        status=VersionStatus.PUBLISHED,
        effective_from=effective_from or row.effective_from,
    )
    _check_periods(session, criterion_id, row, version)
    overridden = verification_gate(criterion_id, version, justification)
    _store_lifecycle(row, version)
    row.published_at = _now()
    row.review_state = None
    detail = _version_detail(version, row.content_hash)
    if overridden is not None:
        detail["override"] = overridden
    audit.append(session, actor=actor, action="version.publish",
                 target=_version_target(criterion_id, number), detail=detail)
    events.record_version_step(session, criterion_id, number, events.PUBLISHED, actor=actor)
    session.flush()
    return VersionSummary.from_row(row)


def retire_version(
    session: Session,
    criterion_id: str,
    number: int,
    *,
    actor: str,
    effective_to: dt.date | None = None,
) -> VersionSummary:
    """Retire a published version, optionally setting its 廃止日 (exclusive end).

    A retired version still decides the dates it was in force, so old
    decisions replay; it no longer runs past its end.
    """
    row = _version_row(session, criterion_id, number)
    if row.status != VersionStatus.PUBLISHED.value:
        raise VersionStatusError(
            f"criterion {criterion_id!r} version {number} is {row.status}: only a published "
            "version can be retired"
        )
    if effective_to is not None and row.effective_to not in (None, effective_to):
        raise VersionStatusError(
            f"criterion {criterion_id!r} version {number} already ends on {row.effective_to}"
        )
    version = replace(_version_of(row), status=VersionStatus.RETIRED,
                      effective_to=effective_to or row.effective_to)
    _check_periods(session, criterion_id, row, version)
    _retire(session, criterion_id, row, version, actor=actor)
    return VersionSummary.from_row(row)


def _store_lifecycle(row: VersionRow, version: Version) -> None:
    row.status = version.status.value
    row.effective_from = version.effective_from
    row.effective_to = version.effective_to
    row.content = serial.version_to_dict(version)
    row.content_hash = content_hash(row.content)


def _retire(
    session: Session, criterion_id: str, row: VersionRow, version: Version, *, actor: str
) -> None:
    previous = row.content_hash
    _store_lifecycle(row, version)
    detail = _version_detail(version, row.content_hash)
    if previous != row.content_hash:
        detail["previous_content_hash"] = previous
    audit.append(session, actor=actor, action="version.retire",
                 target=_version_target(criterion_id, row.number), detail=detail)
    events.record_version_step(session, criterion_id, row.number, events.RETIRED, actor=actor)
    session.flush()


# -- decisions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A stored decision. `facts` may be personal data: show them only to those allowed."""

    id: int
    criterion_id: str
    version_number: int
    decision: str
    on: dt.date
    status: str
    facts: dict[str, Any]
    outputs: dict[str, Any]
    matched: tuple[str, ...]
    actor: str
    decided_at: dt.datetime

    @classmethod
    def from_row(cls, row: DecisionRow | Row[Any]) -> DecisionRecord:
        return cls(
            id=row.id,
            criterion_id=row.criterion_id,
            version_number=row.version_number,
            decision=row.decision,
            on=row.on,
            status=row.status,
            facts=serial.from_json_value(row.facts),
            outputs=serial.from_json_value(row.outputs),
            matched=tuple(row.matched),
            actor=row.actor,
            decided_at=row.decided_at,
        )


@dataclass(frozen=True, slots=True)
class NewDecision:
    """A decision to record: its result, the facts it read, and who made it."""

    criterion_id: str
    result: DecisionResult
    facts: Mapping[str, Any]
    actor: str
    decided_at: dt.datetime | None = None
    #: the deciding user's 課 and role, for the event log (not the criterion's 担当課)
    department: str | None = None
    role: str | None = None


def record_decision(
    session: Session,
    criterion_id: str,
    result: DecisionResult,
    facts: Mapping[str, Any],
    *,
    actor: str,
) -> int:
    """Store a decision with the version it used; returns its id.

    The audit entry names the decision, criterion, version and status — never
    the facts or outputs.
    """
    return record_decisions(session, [NewDecision(criterion_id, result, facts, actor)])[0]


def record_decisions(session: Session, new: Sequence[NewDecision]) -> list[int]:
    """Store decisions, in order, each with its audit entry; returns their ids.

    One statement for the rows and one lock of the audit head for all of them
    (see `kijun.store.recorder`, which gathers the decisions of concurrent
    requests). Everything is checked first: a decision that cannot be recorded
    records none.
    """
    if not new:
        return []
    for n in new:
        if n.result.version is None:
            raise VersionStatusError(
                f"criterion {n.criterion_id!r}: a decision without a version cannot be recorded "
                "(it could not be replayed)"
            )
        if n.result.version.criterion_id != n.criterion_id:
            raise ValueError(
                f"the result was decided by criterion {n.result.version.criterion_id!r}, "
                f"not {n.criterion_id!r}"
            )
    _check_versions_exist(session, {(n.criterion_id, _number(n)) for n in new})
    now = _now()
    rows = [
        {
            "criterion_id": n.criterion_id,
            "version_number": _number(n),
            "decision": n.result.decision,
            "on": n.result.on,
            "status": n.result.status.value,
            "facts": serial.to_json_value(dict(n.facts)),
            "outputs": serial.to_json_value(dict(n.result.outputs)),
            "matched": [m.rule for m in n.result.matched],
            "actor": n.actor,
            "decided_at": n.decided_at or now,
        }
        for n in new
    ]
    ids = list(session.scalars(_INSERT_DECISIONS, rows))
    audit.append_many(session, [
        audit.NewEntry(
            actor=n.actor,
            action="decision.record",
            target=f"decision/{decision_id}",
            detail={
                "decision_id": decision_id,
                "criterion": n.criterion_id,
                "version": _number(n),
                "decision": n.result.decision,
                "status": n.result.status.value,
            },
        )
        for n, decision_id in zip(new, ids, strict=True)
    ])
    # One event per decision in kijun's own log (kijun.measure reads it): never the facts.
    events.append_events(session, [
        Event(
            case=f"decision/{decision_id}",
            activity=DECISION_ACTIVITIES[n.result.status.value],
            timestamp=row["decided_at"],
            resource=n.actor,
            role=n.role,
            department=n.department,
            attributes={"criterion": n.criterion_id, "version": _number(n),
                        "decision": n.result.decision},
        )
        for n, decision_id, row in zip(new, ids, rows, strict=True)
    ])
    return ids


#: the event log's activity for a decision, by its status
DECISION_ACTIVITIES = {"decided": "判断", "exception": "判断（例外）"}


def _number(n: NewDecision) -> int:
    assert n.result.version is not None
    return n.result.version.number


def _check_versions_exist(session: Session, pairs: set[tuple[str, int]]) -> None:
    """A clear error instead of a foreign-key failure."""
    for criterion_id, number in sorted(pairs):
        found = session.execute(_VERSION_EXISTS, {"cid": criterion_id, "number": number}).first()
        if found is None:
            raise NotFoundError(
                f"criterion {criterion_id!r} has no version {number} in the database"
            )


_DECISIONS = cast(Table, DecisionRow.__table__)
_VERSION_ROWS = cast(Table, VersionRow.__table__)
# Plain Core statements, built once: decisions are recorded on every API call.
_INSERT_DECISIONS = insert(_DECISIONS).returning(_DECISIONS.c.id, sort_by_parameter_order=True)
_VERSION_EXISTS = select(_VERSION_ROWS.c.id).where(
    _VERSION_ROWS.c.criterion_id == bindparam("cid"), _VERSION_ROWS.c.number == bindparam("number")
)


def list_decisions(
    session: Session, criterion_id: str | None = None, limit: int | None = 50
) -> list[DecisionRecord]:
    """The newest decisions (of one criterion, or all), newest first; `limit=None` for all."""
    # Core rows, not ORM objects: the criterion page lists the recent decisions.
    query = select(_DECISIONS).order_by(_DECISIONS.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    if criterion_id is not None:
        query = query.where(_DECISIONS.c.criterion_id == criterion_id)
    return [DecisionRecord.from_row(r) for r in session.execute(query)]


def count_rows(session: Session, model: type[Any]) -> int:
    """Rows in a table; for tests and status pages."""
    return int(session.scalar(select(func.count()).select_from(model)) or 0)
