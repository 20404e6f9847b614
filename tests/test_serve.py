"""`kijun serve --workers N`: several processes on one port, restarted if they die."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kijun.web.serve import ServeError, serve

pytestmark = pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def workers_of(pid: int) -> set[int]:
    """The worker processes (multiprocessing's resource tracker excluded)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(c) for c in children
            if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text(errors="replace")
            and "resource_tracker" not in Path(f"/proc/{c}/cmdline").read_text(errors="replace")}


def healthy(port: int) -> bool:
    with contextlib.suppress(OSError), \
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
        return r.status == 200
    return False


def wait_for(condition: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def migrated(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kijun.db'}"
    from kijun.store import db

    db.upgrade(url)
    return url


@contextlib.contextmanager
def serving(url: str, port: int, workers: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "kijun.cli", "serve", "--port", str(port),
             "--workers", str(workers), "--no-access-log", "--database-url", url],
            stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "KIJUN_COOKIE_SECURE": "0"})
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_several_workers_serve_one_port_and_a_dead_one_is_replaced(
    migrated: str, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"

    def started() -> int:
        return log.read_text(errors="replace").count("Application startup complete")

    with serving(migrated, port, 2, log) as process:
        wait_for(lambda: started() == 2 and healthy(port))
        first = workers_of(process.pid)
        assert len(first) == 2
        os.kill(min(first), signal.SIGKILL)  # a worker crashes
        wait_for(lambda: started() == 3 and healthy(port))
        assert len(workers_of(process.pid)) == 2 and workers_of(process.pid) != first
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    output = log.read_text(errors="replace")
    assert "(2 workers)" in output
    assert "exited (code -9): starting a new one" in output
    assert output.count("Application shutdown complete") >= 2  # each recorder closed
    assert not healthy(port)


def test_a_port_in_use_is_a_clear_error(migrated: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match=f"cannot listen on 127.0.0.1:{port}"):
            serve("127.0.0.1", port, workers=2, database_url=migrated)
    with pytest.raises(ServeError, match="at least 1"):
        serve("127.0.0.1", port, workers=0)
