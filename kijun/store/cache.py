"""Criteria kept in the process, checked against the database on every read.

Rebuilding a `Criterion` from its rows (JSON decode, model objects) and then
compiling its versions costs milliseconds; a decision itself costs
microseconds. So each process keeps the criteria it has built, per engine,
together with their *revision*: the criterion row's `updated_at` and each
version's number, content hash, status and period. A read asks the
database for that revision (one indexed query, no content) and rebuilds
only when it differs. Every change to a criterion moves its revision
(`save_criterion` bumps `updated_at`; version content and hash change
together), so a change committed by any process is seen by the next read in
every process — nothing is served stale, and no invalidation message is
needed between workers.

The cached objects are frozen dataclasses, shared between threads; what is
computed from them (compiled tables, test runs) is cached by identity, so it
lives exactly as long as the revision does.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, select
from sqlalchemy.orm import Session

from kijun.criteria.model import Criterion
from kijun.store.models import CriterionRow, VersionRow

#: criteria kept per engine; the least recently built go first
CACHE_SIZE = 1024

Revision = tuple[Any, ...]

_CRITERIA = cast(Table, CriterionRow.__table__)
_VERSIONS = cast(Table, VersionRow.__table__)
# Plain Core statements, built once: the revision is read on every request.
_ALL_REVISIONS = (
    select(_CRITERIA.c.id, _CRITERIA.c.updated_at, _VERSIONS.c.number, _VERSIONS.c.content_hash,
           _VERSIONS.c.status, _VERSIONS.c.effective_from, _VERSIONS.c.effective_to)
    .select_from(_CRITERIA.outerjoin(_VERSIONS, _VERSIONS.c.criterion_id == _CRITERIA.c.id))
    .order_by(_CRITERIA.c.id, _VERSIONS.c.number)
)
_ONE_REVISION = _ALL_REVISIONS.where(_CRITERIA.c.id == bindparam("criterion_id"))


def _revisions(rows: Iterable[Sequence[Any]]) -> dict[str, Revision]:
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(tuple(row[1:]))
    return {cid: tuple(parts) for cid, parts in grouped.items()}


class CriterionCache:
    """The criteria one engine's database holds, as built by `build`, by revision."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._entries: dict[str, tuple[Revision, Criterion]] = {}
        self._lock = threading.Lock()

    def revision(self, session: Session, criterion_id: str) -> Revision | None:
        rows = session.execute(_ONE_REVISION, {"criterion_id": criterion_id})
        return _revisions(rows.all()).get(criterion_id)

    def get(
        self, session: Session, criterion_id: str, build: Callable[[], Criterion]
    ) -> Criterion | None:
        """The criterion at its current revision, or None when it is not stored."""
        revision = self.revision(session, criterion_id)
        if revision is None:
            return None
        return self._fresh(criterion_id, revision, build)

    def get_all(
        self, session: Session, build: Callable[[Sequence[str]], dict[str, Criterion]]
    ) -> list[Criterion]:
        """Every stored criterion, by id; `build` makes those not cached at their revision."""
        revisions = _revisions(session.execute(_ALL_REVISIONS).all())
        entries = self._entries
        stale = [cid for cid, rev in revisions.items()
                 if (found := entries.get(cid)) is None or found[0] != rev]
        built = build(stale) if stale else {}
        out = []
        for cid, revision in revisions.items():
            if cid in built:
                self._put(cid, revision, built[cid])
                out.append(built[cid])
            else:
                out.append(entries[cid][1])
        return out

    def _fresh(self, criterion_id: str, revision: Revision, build: Callable[[], Criterion]
               ) -> Criterion:
        found = self._entries.get(criterion_id)
        if found is not None and found[0] == revision:
            return found[1]
        criterion = build()
        self._put(criterion_id, revision, criterion)
        return criterion

    def _put(self, criterion_id: str, revision: Revision, criterion: Criterion) -> None:
        with self._lock:
            entries = self._entries
            entries.pop(criterion_id, None)
            while len(entries) >= self._size:
                del entries[next(iter(entries))]
            entries[criterion_id] = (revision, criterion)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_CACHES: weakref.WeakKeyDictionary[Engine, CriterionCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_for(session: Session) -> CriterionCache:
    """The cache of the engine `session` is bound to."""
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    found = _CACHES.get(engine)
    if found is None:
        with _CACHES_LOCK:
            found = _CACHES.setdefault(engine, CriterionCache())
    return found
