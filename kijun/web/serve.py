"""Serving the app: one process, or several that the kernel spreads connections over.

uvicorn's own `--workers` shares one listening socket between its worker
processes; whichever wakes first accepts every connection waiting, so the
long-lived connections of a busy client (keep-alive, as browsers and API
clients use) can all end up on one worker while the others idle. Here each
worker opens its own socket on the same port with SO_REUSEPORT, and the
Linux kernel spreads new connections evenly over them.

The parent process only watches: a worker that dies is started again (after
a pause if it keeps dying), and SIGINT/SIGTERM stop them all gracefully, so
each recorder commits what it holds.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType

log = logging.getLogger("kijun.web.serve")

#: a worker that exits sooner than this after starting counts as a failed start
_QUICK_EXIT = 5.0
#: failed starts in a row after which the server gives up
_MAX_FAILED_STARTS = 5


class ServeError(RuntimeError):
    """The server could not start or keep its workers running."""


def serve(host: str, port: int, *, workers: int = 1, database_url: str | None = None,
          access_log: bool = True) -> None:
    """Serve kijun on host:port with `workers` processes (1: in this process).

    uvicorn's access log names each request's path and query; kijun's forms post
    facts in the body, never in the query, so no fact reaches it.
    """
    if workers < 1:
        raise ServeError("workers must be at least 1")
    if workers == 1:
        import uvicorn

        from kijun.web.app import create_app

        uvicorn.run(create_app(database_url), host=host, port=port, server_header=False,
                    access_log=access_log)
        return
    if not hasattr(socket, "SO_REUSEPORT"):
        raise ServeError("several workers need SO_REUSEPORT (Linux, BSD, macOS)")
    # Fail here, in the foreground, if the address cannot be used at all.
    _listening_socket(host, port, reuse_port=True).close()
    _Supervisor(host, port, workers, database_url, access_log).run()


def _listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(2048)
        sock.set_inheritable(True)
    except OSError as e:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    return sock


def _worker_main(host: str, port: int, database_url: str | None, access_log: bool) -> None:
    import uvicorn

    from kijun.web.app import create_app

    sock = _listening_socket(host, port, reuse_port=True)
    config = uvicorn.Config(create_app(database_url), server_header=False,  # sets up logging
                            access_log=access_log)
    uvicorn.Server(config).run(sockets=[sock])


class _Supervisor:
    def __init__(self, host: str, port: int, workers: int, database_url: str | None,
                 access_log: bool) -> None:
        self._args = (host, port, database_url, access_log)
        self._count = workers
        self._context = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        self._processes: dict[int, tuple[BaseProcess, float]] = {}
        self._failed_starts = 0

    def run(self) -> None:
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for slot in range(self._count):
                self._start(slot)
            while not self._stop.wait(0.5):
                self._replace_dead()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._stop_all()

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self._stop.set()

    def _start(self, slot: int) -> None:
        process = self._context.Process(target=_worker_main, args=self._args,
                                        name=f"kijun-worker-{slot}", daemon=False)
        process.start()
        self._processes[slot] = (process, time.monotonic())

    def _replace_dead(self) -> None:
        for slot, (process, started) in list(self._processes.items()):
            if process.is_alive():
                continue
            quick = time.monotonic() - started < _QUICK_EXIT
            self._failed_starts = self._failed_starts + 1 if quick else 0
            if self._failed_starts >= _MAX_FAILED_STARTS:
                self._stop.set()
                raise ServeError(f"workers keep exiting at start (last exit code "
                                 f"{process.exitcode}): see the messages above")
            log.warning("worker %d exited (code %s): starting a new one", slot, process.exitcode)
            if quick:
                time.sleep(min(5.0, 0.5 * 2 ** self._failed_starts))
            self._start(slot)

    def _stop_all(self, timeout: float = 30.0) -> None:
        for process, _ in self._processes.values():
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes its requests, then exits
        deadline = time.monotonic() + timeout
        for process, _ in self._processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
