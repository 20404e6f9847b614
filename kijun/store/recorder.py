"""Group commit for decisions: concurrent requests share one transaction.

Recording a decision is a write transaction (the decision row, its audit
entry, the audit head). Committed one by one, the commits and the lock on
the audit head — one database-wide lock on SQLite — cap a server at a few
hundred decisions a second, however many workers it runs. The recorder
gives each engine one writer thread: a request hands it a decision and
waits; the writer takes every decision waiting and records them in one
transaction (`record_decisions`), then answers each request with its id.
Nothing is acknowledged before it is committed, so a decision the caller
was told about is stored; under light load a batch is one decision and the
cost is a thread hand-off.

A batch that fails is retried one decision at a time, so a bad decision
fails only its own request.

On a SQLite file, the writers of several server processes would otherwise
meet at SQLite's database lock, and a writer that finds it taken sleeps in
SQLite's busy handler (1, 2, 5 … 100 ms at a time) however soon the lock is
free again: the cores idle while requests wait. So the recorders of all
processes first queue on an advisory file lock next to the database
(`<database>.write-lock`, flock): the kernel hands it to the next writer the
moment it is released, and SQLite's lock is then free.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's own lock only
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Engine

from kijun.store.db import session_scope
from kijun.store.repository import NewDecision, record_decisions

log = logging.getLogger("kijun.store")

#: at most this many decisions in one transaction
MAX_BATCH = 256

_Item = tuple[NewDecision, "Future[int]"]


class RecorderClosed(RuntimeError):
    """The recorder was closed: the server is shutting down."""


class DecisionRecorder:
    """One writer thread per engine that records the decisions handed to it in batches."""

    def __init__(self, engine: Engine, *, max_batch: int = MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._engine = engine
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._writer_turn = _writer_turn(engine)

    def submit(self, decision: NewDecision) -> Future[int]:
        """Hand a decision over; the future's result is its id once committed."""
        future: Future[int] = Future()
        with self._lock:
            if self._closed:
                raise RecorderClosed("the decision recorder is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kijun-recorder",
                                                daemon=True)
                self._thread.start()
            self._queue.put((decision, future))
        return future

    def record(self, decision: NewDecision, timeout: float | None = None) -> int:
        """Record and wait: the decision's id (or the error that kept it from being stored)."""
        return self.submit(decision).result(timeout)

    def close(self, timeout: float | None = 30) -> None:
        """Record what was handed over, then stop the writer."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            self._queue.put(None)
        if thread is not None:
            thread.join(timeout)
        if isinstance(self._writer_turn, _FileLock):
            self._writer_turn.close()

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._write(batch)

    def _write(self, batch: Sequence[_Item]) -> None:
        live = [(d, f) for d, f in batch if f.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            ids = self._commit([d for d, _ in live])
        except Exception as e:
            if len(live) == 1:
                live[0][1].set_exception(e)
                return
            log.warning("recording %d decisions together failed (%s): recording them one by one",
                        len(live), type(e).__name__)
            for d, f in live:
                try:
                    f.set_result(self._commit([d])[0])
                except Exception as one:
                    f.set_exception(one)
            return
        for (_, f), decision_id in zip(live, ids, strict=True):
            f.set_result(decision_id)

    def _commit(self, decisions: Sequence[NewDecision]) -> list[int]:
        with self._writer_turn, session_scope(self._engine) as session:
            return record_decisions(session, decisions)


class _FileLock:
    """An exclusive flock on a file, taken and released around each write (re-entrant: no)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def __enter__(self) -> None:
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_exc: object) -> None:
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _writer_turn(engine: Engine) -> AbstractContextManager[Any]:
    """Where writers of every process queue: a file lock for a SQLite file, else nothing
    (PostgreSQL queues appends on the audit head's row lock without sleeping)."""
    url = engine.url
    if (url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
            and fcntl is not None):
        return _FileLock(Path(f"{url.database}.write-lock"))
    return nullcontext()
