"""Benchmark the web app under load: decisions per second and page latency (issue 5).

    .venv/bin/python bench/bench_web.py                    # SQLite, 1, 2 and 4 workers
    .venv/bin/python bench/bench_web.py --postgres         # PostgreSQL (127.0.0.1:5432, trust)
    .venv/bin/python bench/bench_web.py --quick            # short runs, a smoke test
    .venv/bin/python bench/bench_web.py --workers 2 --json # one configuration, JSON out
    .venv/bin/python bench/bench_web.py --profile DIR      # also py-spy the 1-worker server
    .venv/bin/python bench/bench_web.py --breakdown        # CPU per piece, in process
    PYTHONPATH=DIR .venv/bin/python bench/bench_web.py --app mod:factory  # a wrapped app

Needs: the dev extras (httpx, for the fallback load generator), wrk for the
real load (Debian: `apt-get install -y wrk`; without it the fallback is used),
and py-spy for --profile (in the bench extras). Results go to docs/benchmarks.md
by hand ("Web: decisions per second and page latency").

What it does, all by itself: a fresh database (a SQLite file in a temporary
folder, or with --postgres a new database `kijun_bench_<pid>` that is dropped
afterwards), `kijun db upgrade`, `kijun load content/nagi`, a user with the
role staff (`kijun user add … --password-stdin`) and an API token for it
(`kijun token create … --json`). Then, for each worker count, it starts the
server as its own process,

    KIJUN_DATABASE_URL=… KIJUN_COOKIE_SECURE=0 \\
        python -m uvicorn --factory kijun.web.app:create_app --workers N \\
        --host 127.0.0.1 --port P --no-access-log --no-server-header

(`kijun serve` has no --workers: uvicorn needs an import string for that, and
`create_app()` without arguments reads KIJUN_DATABASE_URL), logs in through
the login form like a browser (GET /login for the form's csrf_token and the
kijun_login cookie, POST /login, keep the kijun_session cookie) and drives it
from a second process over loopback:

1. decisions/s: `POST /api/criteria/jidou-teate/decide` with a bearer token
   from --decide-clients (32) connections, round-robin over the criterion's
   own test cases (content/nagi/jidou-teate.yaml: different facts, `on` dates
   from 2012 to 2026, so all four versions, a `decision` when the case names
   one, one exception outcome). Every body is checked once against its
   expected outputs before the load starts. Each decision is recorded (a
   decisions row and a hash-chained audit entry), so every request is a write
   transaction: on SQLite one writer at a time for the whole file.
2. page latency at --users (20) concurrent users for GET /criteria/jidou-teate
   and GET / (the catalogue) with the logged-in session cookie: first in a
   closed loop (each user sends the next request as soon as the last one is
   answered: the harshest reading of "20 users"), then with --think-ms (1 s,
   exponentially distributed) between an answer and the next request.
3. with 1 worker, GET /healthz (no database: the HTTP + ASGI stack alone) and
   every request from one user alone (service time without queueing).

Connections are kept alive (as browsers and API clients do) and, with
--connection both (the default), also opened anew for every request
("close"). The difference matters with several workers: uvicorn's workers
share one listening socket, and a worker that wakes up accepts every
connection waiting, so a load tool's connections, opened together, mostly
land on one worker and stay there. The "busiest worker" column shows it.

Each measurement is --warmup seconds of load that is thrown away, then --runs
runs of --duration seconds; the tables show medians over the runs. Any
answer that is not 2xx (a redirect to /login included) or a socket error
counts as an error (kinds listed under the table; the server log's error
lines too). Every run also records the CPU used by the server (all its
processes: "server CPU", and per request), by PostgreSQL with --postgres,
and by everything else on the machine ("other load", from /proc/stat less
the server, the database and the load tool): numbers taken while other work
ran on the same cores are not the machine's capacity. --wait-quiet waits for
the machine to settle before each run.

The load tool is wrk with a generated Lua script (bodies, headers, status
counts, exponential think time via delay()); without wrk, --tool python (and
auto) uses a small asyncio + httpx load generator in a second process, which
costs much more CPU per request than wrk, on the same cores as the server,
so its numbers are lower bounds.

--profile DIR samples the 1-worker server with py-spy (`--gil`: only the
thread holding the GIL, i.e. Python CPU time) during one more run of each
request at 4 clients, writes the collapsed stacks (DIR/*.txt, for speedscope
or flamegraph.pl) and prints the share of samples under a few functions.

--breakdown starts no server: in this process, one at a time, it times the
CPU of whole requests sent straight into the ASGI app and of the pieces they
are made of (token and session lookup, get_criterion, decide, recording, the
page's test run and verification, the catalogue's reads), then has 1, 2 and
4 processes record decisions into the database at once (write contention).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content" / "nagi"
CRITERION = "jidou-teate"
DECIDE_PATH = f"/api/criteria/{CRITERION}/decide"
PAGES = (f"/criteria/{CRITERION}", "/")

LOGIN = "bench-staff"
PASSWORD = "bench-password-0123456789"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

#: issue 5's targets
TARGET_DECISIONS_PER_S = 1000.0
TARGET_PAGE_P95_MS = 100.0


# -- the database and the server ------------------------------------------------------------------


def kijun(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    """Run a `kijun` command (the console script beside this Python, else `-m`)."""
    script = Path(sys.executable).with_name("kijun")
    cmd = [str(script)] if script.exists() else [sys.executable, "-c",
                                                 "from kijun.cli import main; main()"]
    done = subprocess.run([*cmd, *args], env=env, input=stdin, capture_output=True, text=True,
                          cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"kijun {' '.join(args)} failed ({done.returncode}):\n"
                         f"{done.stdout}{done.stderr}")
    return done.stdout


@dataclass
class Database:
    url: str
    backend: str
    token: str = ""
    drop: str | None = None  # the PostgreSQL database to drop at the end
    admin_url: str | None = None


@contextlib.contextmanager
def database(tmp: Path, postgres: str | None) -> Iterator[Database]:
    if postgres is None:
        db = Database(f"sqlite:///{tmp / 'kijun.db'}", "sqlite")
    else:
        name = f"kijun_bench_{os.getpid()}"
        _pg_admin(postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg_admin(postgres, f'CREATE DATABASE "{name}"')
        base, _, _ = postgres.rpartition("/")
        db = Database(f"{base}/{name}", "postgresql", drop=name, admin_url=postgres)
    try:
        env = server_env(db.url)
        kijun("db", "upgrade", env=env)
        kijun("load", str(CONTENT), "--actor", "bench", env=env)
        kijun("user", "add", LOGIN, "--name", "ベンチ 窓口", "--department", "住民課",
              "--role", "staff", "--password-stdin", "--actor", "bench", env=env,
              stdin=PASSWORD + "\n")
        created = json.loads(kijun("token", "create", LOGIN, "--name", "bench", "--json",
                                   "--actor", "bench", env=env))
        db.token = created["token"]
        yield db
    finally:
        if db.drop is not None and db.admin_url is not None:
            _pg_admin(db.admin_url, f'DROP DATABASE IF EXISTS "{db.drop}" WITH (FORCE)')


def _pg_admin(url: str, statement: str) -> None:
    import psycopg

    plain = re.sub(r"^postgresql\+\w+://", "postgresql://", url)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


def server_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["KIJUN_DATABASE_URL"] = url
    env["KIJUN_COOKIE_SECURE"] = "0"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path
    backend: str
    #: the server log's error lines, read when it stops
    errors: list[str] = field(default_factory=list)

    def pids(self) -> list[int]:
        """The uvicorn process and its worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            kids = [int(p) for p in children.read_text().split()]
        except OSError:
            kids = []
        return [self.process.pid, *kids]

    def cpu_by_pid(self) -> dict[int, float]:
        """CPU seconds (user + system) used so far by the server and each worker."""
        used = {}
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return used


@contextlib.contextmanager
def server(db: Database, workers: int, tmp: Path, *, access_log: bool,
           extra: Sequence[str], app: str = "kijun.web.app:create_app",
           kind: str = "kijun") -> Iterator[Server]:
    port = free_port()
    log = tmp / f"server-{workers}.log"
    if kind == "kijun":  # kijun serve: a socket per worker (SO_REUSEPORT)
        cmd = [sys.executable, "-m", "kijun.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers),
               "--access-log" if access_log else "--no-access-log"]
    else:  # uvicorn's own workers share one socket
        cmd = [sys.executable, "-m", "uvicorn", "--factory", app,
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--no-server-header", *([] if access_log else ["--no-access-log"]), *extra]
    with log.open("wb") as out:
        # its own session, so stopping it (by its pid) also stops the workers it started
        process = subprocess.Popen(cmd, env=server_env(db.url), cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    srv = Server(f"http://127.0.0.1:{port}", process, log, db.backend)
    try:
        _wait_healthy(srv, workers)
        yield srv
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        srv.errors = _error_blocks(log.read_text(errors="replace"))


def _error_blocks(text: str) -> list[str]:
    """The server log's errors, each with its traceback."""
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("ERROR"):
            blocks.append([line])
        elif blocks and not line.startswith(("INFO", "WARNING")) and len(blocks[-1]) < 300:
            blocks[-1].append(line)
        elif line.startswith(("INFO", "WARNING")) and blocks and blocks[-1][-1] != "":
            blocks[-1].append("")  # the block ended
    return ["\n".join(b).strip() for b in blocks]


def _wait_healthy(srv: Server, workers: int) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if srv.process.poll() is not None:
            raise SystemExit(f"the server exited:\n{srv.log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), \
                urllib.request.urlopen(srv.base + "/healthz", timeout=2) as r:
            started = srv.log.read_text(errors="replace").count("Application startup complete")
            if r.status == 200 and started >= workers:
                # every worker must be up, or the first runs would measure start-up
                time.sleep(1.0)
                return
        time.sleep(0.2)
    raise SystemExit(f"the server did not become healthy:\n{srv.log.read_text(errors='replace')}")


# -- logging in, and the requests -----------------------------------------------------------------


def log_in(base: str) -> str:
    """Log in through the form like a browser; returns the kijun_session cookie."""
    import http.cookiejar
    import urllib.error
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    with opener.open(base + "/login") as r:
        html = r.read().decode()
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if found is None:
        raise SystemExit("no csrf_token in the login form")
    form = urllib.parse.urlencode({"login": LOGIN, "password": PASSWORD, "next": "/",
                                   "csrf_token": found.group(1)}).encode()
    try:
        opener.open(urllib.request.Request(base + "/login", data=form, method="POST"))
        raise SystemExit("POST /login did not redirect: the login failed")
    except urllib.error.HTTPError as e:
        if e.code != 303:
            raise SystemExit(f"POST /login answered {e.code}") from None
    for cookie in jar:
        if cookie.name == "kijun_session" and cookie.value:
            return cookie.value
    raise SystemExit("no kijun_session cookie after logging in")


@dataclass(frozen=True)
class Case:
    body: str  # JSON
    expect: dict[str, Any]
    exception: bool  # no rule decides it: an exception outcome, still a 200 and recorded


def decide_cases() -> list[Case]:
    """The criterion's test cases as API requests (facts, `on`, maybe `decision`)."""
    import yaml

    spec = yaml.safe_load((CONTENT / f"{CRITERION}.yaml").read_text(encoding="utf-8"))
    cases = []
    for t in spec["tests"]:
        on = t["on"] if "on" in t else t[True]  # YAML 1.1 reads the key `on` as true
        body: dict[str, Any] = {"facts": t["input"], "on": str(on)}
        if t.get("decision"):
            body["decision"] = t["decision"]
        cases.append(Case(json.dumps(body, ensure_ascii=False), t.get("expect") or {},
                          bool(t.get("exception"))))
    return cases


def check_decisions(base: str, token: str, cases: Sequence[Case]) -> None:
    """Every request body must decide as its test case expects (before any timing)."""
    import urllib.request

    for case in cases:
        request = urllib.request.Request(
            base + DECIDE_PATH, data=case.body.encode(), method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request) as r:
            result = json.loads(r.read())
        got = {k: result["outputs"].get(k) for k in case.expect}
        status = "exception" if case.exception else "decided"
        if got != case.expect or result["status"] != status or "decision_id" not in result:
            raise SystemExit(f"{case.body}: expected {case.expect}, got {result['outputs']}")


def check_page(base: str, cookie: str, path: str) -> None:
    import urllib.request

    request = urllib.request.Request(base + path, headers={"Cookie": f"kijun_session={cookie}"})
    with urllib.request.urlopen(request) as r:  # a redirect to /login would be followed: check
        if r.status != 200 or r.url.rstrip("/") != (base + path).rstrip("/"):
            raise SystemExit(f"GET {path} with the session: {r.status} at {r.url}")


@dataclass(frozen=True)
class Load:
    """What to send: one request, or a round-robin over several bodies."""

    method: str
    path: str
    headers: dict[str, str]
    bodies: tuple[str, ...] = ()
    think_ms: int = 0  # each client's pause between an answer and its next request


# -- load tools -----------------------------------------------------------------------------------


@dataclass
class Sample:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int  # non-2xx answers plus socket errors and timeouts
    server_cores: float = float("nan")  # the server's CPU seconds per second of the run
    cpu_ms_per_request: float = float("nan")  # the server's CPU time per request
    busiest_worker: float = float("nan")  # the busiest process's share of the server's CPU
    other_cores: float = float("nan")  # CPU used by none of server, database, load tool
    database_cores: float = 0.0  # the PostgreSQL server's CPU (SQLite runs in the server)
    error_kinds: dict[str, int] = field(default_factory=dict)  # 5xx, connect, timeout, …


_LUA = r"""
local bodies = {%(bodies)s}
local headers = {%(headers)s}
local threads = {}
local reqs, n, i = {}, 0, 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad, seen, s3, s4, s5 = 0, 0, 0, 0, 0
  if #bodies == 0 then
    reqs[1] = wrk.format("%(method)s", "%(path)s", headers, nil)
  else
    for k, b in ipairs(bodies) do reqs[k] = wrk.format("%(method)s", "%(path)s", headers, b) end
  end
  n = #reqs
end

function request()
  i = i %% n + 1
  return reqs[i]
end
%(delay)s

function response(status, hdrs, body)
  seen = seen + 1
  if status < 200 or status > 299 then bad = bad + 1 end
  if status >= 300 and status < 400 then s3 = s3 + 1 end
  if status >= 400 and status < 500 then s4 = s4 + 1 end
  if status >= 500 then s5 = s5 + 1 end
end

function done(summary, latency, requests)
  local b, s, x3, x4, x5 = 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    b = b + t:get("bad"); s = s + t:get("seen")
    x3 = x3 + t:get("s3"); x4 = x4 + t:get("s4"); x5 = x5 + t:get("s5")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%%d,"duration_us":%%d,"p50":%%d,"p95":%%d,"p99":%%d,' ..
    '"bad":%%d,"seen":%%d,"connect":%%d,"read":%%d,"write":%%d,"timeout":%%d,' ..
    '"3xx":%%d,"4xx":%%d,"5xx":%%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), b, s, e.connect, e.read, e.write, e.timeout, x3, x4, x5))
end
"""


def _lua_string(text: str) -> str:
    level = "=" * 3
    assert f"]{level}]" not in text
    return f"[{level}[{text}]{level}]"


class Wrk:
    name = "wrk"

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
        self.version = (done.stdout or done.stderr).splitlines()[0].split(" Copyright")[0]

    def run(self, base: str, load: Load, connections: int, seconds: float) -> Sample:
        script = self.tmp / "load.lua"
        script.write_text(_LUA % {
            "bodies": ", ".join(_lua_string(b) for b in load.bodies),
            "headers": ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}"
                                 for k, v in load.headers.items()),
            "method": load.method, "path": load.path,
            # wrk waits delay() ms before each request (latency is measured from the send):
            # exponentially distributed pauses, so users do not click in step
            "delay": (f"function delay() return math.floor(-{load.think_ms} * "
                      "math.log(1 - math.random())) end") if load.think_ms else "",
        }, encoding="utf-8")
        threads = 1 if connections < 64 else 2
        cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
               "--timeout", "10s", "-s", str(script), base]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
        if done.returncode != 0 or line is None:
            raise SystemExit(f"wrk failed:\n{done.stdout}{done.stderr}")
        r = json.loads(line[len("BENCH "):])
        secs = r["duration_us"] / 1e6
        kinds = {k: r[k] for k in ("3xx", "4xx", "5xx", "connect", "read", "write", "timeout")
                 if r[k]}
        errors = r["bad"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
        return Sample(r["requests"], secs, r["requests"] / secs, r["p50"] / 1000,
                      r["p95"] / 1000, r["p99"] / 1000, errors, error_kinds=kinds)


class PythonLoad:
    """The fallback: asyncio + httpx in a second process (this file with --loadgen)."""

    name = "python"

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.version = f"asyncio + httpx {metadata.version('httpx')}"

    def run(self, base: str, load: Load, connections: int, seconds: float) -> Sample:
        spec = self.tmp / "load.json"
        spec.write_text(json.dumps({"base": base, "load": asdict(load),
                                    "connections": connections, "seconds": seconds}),
                        encoding="utf-8")
        done = subprocess.run([sys.executable, __file__, "--loadgen", str(spec)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"the load generator failed:\n{done.stdout}{done.stderr}")
        return Sample(**json.loads(done.stdout))


def loadgen(spec_path: str) -> None:
    """The fallback load generator's own process: `connections` clients in a closed loop."""
    import httpx

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    load = Load(**{**spec["load"], "bodies": tuple(spec["load"]["bodies"])})
    connections, seconds = spec["connections"], spec["seconds"]
    latencies: list[float] = []
    errors = 0
    kinds: Counter[str] = Counter()
    bodies = [b.encode() for b in load.bodies] or [None]

    async def user(client: httpx.AsyncClient, k: int, end: float) -> None:
        nonlocal errors
        i = k
        while time.perf_counter() < end:
            if load.think_ms:  # before every request, the first too (as wrk's delay())
                await asyncio.sleep(random.expovariate(1000 / load.think_ms))
                if time.perf_counter() >= end:
                    break
            body = bodies[i % len(bodies)]
            i += 1
            start = time.perf_counter()
            try:
                r = await client.request(load.method, load.path, content=body)
                await r.aread()
                ok = 200 <= r.status_code < 300
            except httpx.HTTPError as e:
                kinds[type(e).__name__] += 1
                ok = False
            else:
                if not ok:
                    kinds[f"{r.status_code // 100}xx"] += 1
            latencies.append(time.perf_counter() - start)
            errors += not ok

    async def main() -> float:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=spec["base"], headers=load.headers, limits=limits,
                                     timeout=10.0) as client:
            start = time.perf_counter()
            await asyncio.gather(*(user(client, k, start + seconds) for k in range(connections)))
            return time.perf_counter() - start

    elapsed = asyncio.run(main())
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies \
            else float("nan")

    print(json.dumps(asdict(Sample(len(latencies), elapsed, len(latencies) / elapsed,
                                   pct(0.50), pct(0.95), pct(0.99), errors,
                                   error_kinds=dict(kinds)))))


def load_tool(choice: str, tmp: Path) -> Wrk | PythonLoad:
    if choice == "wrk" or (choice == "auto" and shutil.which("wrk")):
        if not shutil.which("wrk"):
            raise SystemExit("--tool wrk: wrk is not installed (apt-get install -y wrk)")
        return Wrk(tmp)
    return PythonLoad(tmp)


# -- measuring ------------------------------------------------------------------------------------


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores; not idle, not iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU time of this process's finished children (the load tool's runs)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def postgres_cpu_seconds() -> float:
    """CPU time used so far by the PostgreSQL server's processes on this machine."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            if (proc / "comm").read_text().strip() != "postgres":
                continue
            fields = (proc / "stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def wait_quiet(max_wait: float, threshold: float = 0.25) -> float:
    """Wait (up to `max_wait` s) until the machine is quiet; returns the busy cores seen last."""
    deadline = time.monotonic() + max_wait
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        busy = machine_busy_seconds() - before
        if busy <= threshold or time.monotonic() >= deadline:
            return busy
        print(f"  (the machine is busy with {busy:.2f} cores of other work: waiting)",
              file=sys.stderr, flush=True)
        time.sleep(2.0)


@dataclass
class Result:
    workers: int
    what: str  # "decide" | a page path
    connections: int
    mode: str  # "keep-alive" | "close"
    runs: list[Sample]
    median: Sample = field(init=False)

    def __post_init__(self) -> None:
        def med(name: str) -> float:
            return float(statistics.median(getattr(s, name) for s in self.runs))

        self.median = Sample(
            requests=int(med("requests")), seconds=med("seconds"), rps=med("rps"),
            p50_ms=med("p50_ms"), p95_ms=med("p95_ms"), p99_ms=med("p99_ms"),
            errors=sum(s.errors for s in self.runs), server_cores=med("server_cores"),
            cpu_ms_per_request=med("cpu_ms_per_request"), busiest_worker=med("busiest_worker"),
            other_cores=max(s.other_cores for s in self.runs),
            database_cores=med("database_cores"),
            error_kinds=dict(sum((Counter(s.error_kinds) for s in self.runs), Counter())),
        )


def one_run(tool: Wrk | PythonLoad, srv: Server, load: Load, connections: int,
            seconds: float) -> Sample:
    """A run of the load tool, with the CPU the server, the tool and everything else used."""
    pg = srv.backend == "postgresql"
    cpu, machine, tool_cpu = srv.cpu_by_pid(), machine_busy_seconds(), children_cpu_seconds()
    db_cpu = postgres_cpu_seconds() if pg else 0.0
    s = tool.run(srv.base, load, connections, seconds)
    after = srv.cpu_by_pid()
    tool_cpu = children_cpu_seconds() - tool_cpu
    db_cpu = postgres_cpu_seconds() - db_cpu if pg else 0.0
    machine = machine_busy_seconds() - machine - db_cpu
    s.database_cores = max(0.0, db_cpu) / s.seconds  # a backend that exits takes its CPU along
    used = {pid: after[pid] - cpu.get(pid, 0.0) for pid in after}
    server_cpu = sum(used.values())
    s.server_cores = server_cpu / s.seconds
    s.cpu_ms_per_request = 1000 * server_cpu / s.requests if s.requests else float("nan")
    s.busiest_worker = max(used.values()) / server_cpu if server_cpu else float("nan")
    s.other_cores = max(0.0, (machine - server_cpu - tool_cpu) / s.seconds)
    return s


def measure(tool: Wrk | PythonLoad, srv: Server, load: Load, connections: int, *, mode: str,
            warmup: float, seconds: float, runs: int, workers: int, what: str,
            max_wait: float) -> Result:
    if warmup > 0:
        tool.run(srv.base, load, connections, warmup)
    samples = []
    for k in range(runs):
        if max_wait > 0:
            wait_quiet(max_wait)
        s = one_run(tool, srv, load, connections, seconds)
        samples.append(s)
        print(f"  {workers}w {mode:<10} {what:<22} c={connections:<3} run {k + 1}: "
              f"{s.rps:7.1f}/s  p50 {s.p50_ms:6.1f}  p95 {s.p95_ms:6.1f}  p99 {s.p99_ms:6.1f} ms"
              f"  errors {s.errors}  server {s.server_cores:.2f} cores "
              f"{s.cpu_ms_per_request:.1f} ms/req, busiest {s.busiest_worker:.0%}, "
              + (f"postgres {s.database_cores:.2f} cores, " if srv.backend != "sqlite" else "")
              + f"other {s.other_cores:.2f} cores", file=sys.stderr, flush=True)
    return Result(workers, what, connections, mode, samples)


def decided_rows(db: Database) -> int | None:
    if db.backend != "sqlite":
        return None
    with contextlib.closing(sqlite3.connect(db.url.removeprefix("sqlite:///"))) as conn:
        return int(conn.execute("SELECT count(*) FROM decisions").fetchone()[0])


# -- profiling ------------------------------------------------------------------------------------

#: (label, a fragment of a py-spy frame "function (file:line)") whose inclusive share is reported
INTEREST = (
    ("event loop: uvicorn/h11, middleware, routing, responses", "run_forever (asyncio/"),
    ("thread pool: auth, endpoint", "WorkerThread.run (anyio/"),
    ("auth: token or session lookup (_resolve)", "_resolve (kijun/web/auth.py"),
    ("get_criterion: load + rebuild the criterion", "get_criterion (kijun/store/"),
    ("  json.loads of stored content", "loads (json/__init__.py"),
    ("compile_version (cache miss: new objects)", "_compile_version (kijun/"),
    ("decide", "decide (kijun/criteria/decide.py"),
    ("record_decision (row + audit entry)", "record_decision (kijun/store/"),
    ("  audit.append", "append (kijun/store/audit.py"),
    ("session commit", "commit (sqlalchemy/orm/session.py"),
    ("list_criteria", "list_criteria (kijun/store/"),
    ("criterion_context", "criterion_context (kijun/web/pages.py"),
    ("  review (verify the version)", "review (kijun/web/review.py"),
    ("  run_tests (the criterion's tests)", "run_tests (kijun/"),
    ("  list_decisions (recent decisions)", "list_decisions (kijun/store/"),
    ("Jinja2 template render", "render (jinja2/environment.py"),
)


def profile(tool: Wrk | PythonLoad, srv: Server, loads: dict[str, Load], connections: int,
            seconds: float, out: Path) -> dict[str, dict[str, float]]:
    """py-spy the server (--gil: only samples holding the GIL, i.e. Python CPU time)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("--profile needs py-spy (pip install py-spy)")
    out.mkdir(parents=True, exist_ok=True)
    shares: dict[str, dict[str, float]] = {}
    for what, load in loads.items():
        name = "decide" if what == "decide" else ("catalogue" if what == "/" else "criterion")
        raw = out / f"{name}.txt"
        tool.run(srv.base, load, connections, 2)
        spy_proc = subprocess.Popen(
            [spy, "record", "--pid", str(srv.process.pid), "--subprocesses", "--gil",
             "--format", "raw", "--rate", "500", "--duration", f"{int(seconds) + 1}",
             "--output", str(raw), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        sample = one_run(tool, srv, load, connections, seconds)
        spy_proc.wait(timeout=seconds + 30)
        shares[what] = {"cpu_ms_per_request": round(sample.cpu_ms_per_request, 2),
                        **_shares(raw)}
    return shares


def _shares(raw: Path) -> dict[str, float]:
    """Inclusive share (%) of the GIL-holding samples per INTEREST."""
    total = 0
    hits: Counter[str] = Counter()
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        for label, needle in INTEREST:
            if needle in stack:
                hits[label] += n
    return {"samples": float(total),
            **{label: round(100 * hits[label] / total, 1) for label, _ in INTEREST
               if total and hits[label]}}


# -- in-process breakdown -------------------------------------------------------------------------


def breakdown(db: Database, n: int) -> list[tuple[str, float]]:
    """CPU ms per call, in this process without HTTP: whole requests through the ASGI app
    and the pieces they are made of, one at a time (no concurrency)."""
    os.environ.update(server_env(db.url))
    from fastapi.encoders import jsonable_encoder

    from kijun.criteria.decide import as_date, decide, version_in_force
    from kijun.criteria.testing import run_tests
    from kijun.store import db as store
    from kijun.store import get_criteria, get_criterion, list_decisions, record_decision
    from kijun.store.repository import _build_criteria
    from kijun.store.users import find_user, resolve_session, start_session, user_for_token
    from kijun.web.app import create_app
    from kijun.web.forms import decision_inputs
    from kijun.web.review import review

    bodies = [json.loads(c.body) for c in decide_cases()]
    rows: list[tuple[str, float]] = []

    def timed(label: str, call: Any, *, count: int = n) -> None:
        for k in range(min(20, count)):  # warm up
            call(k)
        start = time.process_time()
        for k in range(count):
            call(k)
        rows.append((label, 1000 * (time.process_time() - start) / count))

    engine = store.make_engine(db.url)
    with store.session_scope(engine) as session:  # a logged-in browser session
        user = find_user(session, LOGIN)
        assert user is not None
        cookie, _ = start_session(session, user)

    # Whole requests straight into the ASGI app (no socket, no HTTP parsing, no client in
    # this process's CPU time): routing, middleware, auth, the endpoint, the response. They
    # run in one event loop that stays up, so the thread pool's workers are reused.
    app = create_app(db.url)

    async def asgi(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> int:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "root_path": "", "query_string": b"", "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000), "state": {},
            "headers": [(b"host", b"127.0.0.1:8000"), (b"content-length", b"%d" % len(body)),
                        *((k.lower().encode(), v.encode()) for k, v in headers.items())],
        }
        status = 0
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    bearer = {"Authorization": f"Bearer {db.token}", "Content-Type": "application/json"}
    session_cookie = {"Cookie": f"kijun_session={cookie}"}
    encoded = [json.dumps(b, ensure_ascii=False).encode() for b in bodies]
    requests = {
        "POST decide, whole request (ASGI app, no HTTP)":
            lambda k: ("POST", DECIDE_PATH, bearer, encoded[k % len(encoded)]),
        "GET /criteria/jidou-teate, whole request":
            lambda _k: ("GET", f"/criteria/{CRITERION}", session_cookie, b""),
        "GET /, whole request": lambda _k: ("GET", "/", session_cookie, b""),
        "GET /healthz, whole request (no database)":
            lambda _k: ("GET", "/healthz", {}, b""),
    }

    async def whole_requests() -> None:
        for label, make in requests.items():
            for k in range(20):  # warm up
                await asgi(*make(k))
            start = time.process_time()
            for k in range(n):
                status = await asgi(*make(k))
                assert status == 200, (label, status)
            rows.append((label, 1000 * (time.process_time() - start) / n))

    asyncio.run(whole_requests())

    def in_session(work: Any) -> Any:
        def call(k: int) -> None:
            with store.session_scope(engine) as session:
                work(session, k)
        return call

    timed("auth: token lookup (user_for_token)",
          in_session(lambda s, _k: user_for_token(s, db.token)))
    timed("auth: session lookup (resolve_session)",
          in_session(lambda s, _k: resolve_session(s, cookie)))
    timed("get_criterion (revision check; the criterion is kept per revision)",
          in_session(lambda s, _k: get_criterion(s, CRITERION)))
    timed("criterion rebuilt from its rows (rows → JSON → model objects)",
          in_session(lambda s, _k: _build_criteria(s, [CRITERION])))
    with store.session_scope(engine) as session:
        fresh = [_build_criteria(session, [CRITERION])[CRITERION] for _ in range(n + 20)]
        cached = get_criterion(session, CRITERION)

    def decide_on(criterion: Any, k: int) -> Any:
        body = bodies[k % len(bodies)]
        day = as_date(body["on"])
        version = version_in_force(criterion, day)
        result = decide(criterion, body["facts"], day, decision=body.get("decision"))
        _, inputs = decision_inputs(version, result.decision)
        used = {c.name: body["facts"][c.name] for c in inputs if c.name in body["facts"]}
        return result, used

    timed("decide, new criterion object (compiles again)", lambda k: decide_on(fresh[k], k))
    timed("decide, same criterion object (compiled once)", lambda k: decide_on(cached, k))
    results = [decide_on(cached, k) for k in range(len(bodies))]
    timed("record_decision + commit (row + audit entry)", in_session(
        lambda s, k: record_decision(s, CRITERION, results[k % len(results)][0],
                                     results[k % len(results)][1], actor=LOGIN)))

    def endpoint_steps(session: Any, k: int) -> None:
        result, used = decide_on(get_criterion(session, CRITERION), k)
        record_decision(session, CRITERION, result, used, actor=LOGIN)

    timed("decide endpoint's steps in one session (get, decide, record, commit)",
          in_session(endpoint_steps))
    timed("response: to_dict + jsonable_encoder + json.dumps", lambda k: json.dumps(
        jsonable_encoder({**results[k % len(results)][0].to_dict(), "decision_id": k}),
        ensure_ascii=False))
    today = dt.date.today()
    version = cached.version_on(today)
    assert version is not None
    timed("criterion page: run_tests (the criterion's tests)",
          lambda k: run_tests(fresh[k]), count=min(n, 100))
    timed("criterion page: review (verify the version)",
          lambda k: review(fresh[k].version_on(today)), count=min(n, 100))
    timed("criterion page: list_decisions (10 recent)",
          in_session(lambda s, _k: list_decisions(s, CRITERION, limit=10)))

    timed("catalogue: get_criteria (revisions of all; kept per revision)",
          in_session(lambda s, _k: get_criteria(s)), count=min(n, 100))
    engine.dispose()
    return rows


def writer(spec: str) -> None:
    """One process of the write-contention test: record decisions in a loop (--writer)."""
    url, seconds = spec.rsplit(" ", 1)
    from kijun.criteria.decide import as_date, decide
    from kijun.store import db as store
    from kijun.store import get_criterion, record_decision

    engine = store.make_engine(url)
    with store.session_scope(engine) as session:
        criterion = get_criterion(session, CRITERION)
    cases = [json.loads(c.body) for c in decide_cases()]
    results = [decide(criterion, b["facts"], as_date(b["on"]), decision=b.get("decision"))
               for b in cases]
    latencies = []
    end = time.perf_counter() + float(seconds)
    k = 0
    while time.perf_counter() < end:
        start = time.perf_counter()
        with store.session_scope(engine) as session:
            record_decision(session, CRITERION, results[k % len(results)],
                            cases[k % len(cases)]["facts"], actor=LOGIN)
        latencies.append(time.perf_counter() - start)
        k += 1
    engine.dispose()
    print(json.dumps(latencies))


def write_contention(db: Database, processes: Sequence[int], seconds: float
                     ) -> list[tuple[int, float, float, float]]:
    """Decisions recorded per second by N processes at once, straight into the database
    (no HTTP, no reading of the criterion): (N, per second, p50 ms, p99 ms)."""
    rows = []
    for n in processes:
        procs = [subprocess.Popen([sys.executable, __file__, "--writer", f"{db.url} {seconds}"],
                                  stdout=subprocess.PIPE, text=True, env=server_env(db.url))
                 for _ in range(n)]
        latencies = sorted(x for p in procs for x in json.loads(p.communicate()[0]))
        rows.append((n, len(latencies) / seconds,
                     1000 * latencies[len(latencies) // 2],
                     1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]))
    return rows


# -- the report -----------------------------------------------------------------------------------


def machine(tool: Wrk | PythonLoad, db: Database) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    loop = "uvloop" if _importable("uvloop") else "asyncio"
    http = "httptools" if _importable("httptools") else "h11"
    info = {
        "date": dt.date.today().isoformat(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "uvicorn": metadata.version("uvicorn"),
        "uvicorn_loop_http": f"{loop} + {http}",
        "fastapi": metadata.version("fastapi"),
        "starlette": metadata.version("starlette"),
        "sqlalchemy": metadata.version("sqlalchemy"),
        "database": db.backend,
        "load_tool": tool.version,
    }
    if db.backend == "sqlite":
        info["sqlite"] = sqlite3.sqlite_version
    else:
        import psycopg

        with psycopg.connect(re.sub(r"^postgresql\+\w+://", "postgresql://", db.url)) as c:
            row = c.execute("SHOW server_version").fetchone()
            info["postgresql"] = row[0] if row else "?"
    return info


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def report(info: dict[str, Any], results: list[Result], users: int) -> str:
    pg = info["database"] != "sqlite"
    lines = [
        f"{info['date']} · {info['cpu']}, {info['cores']} cores · {info['python']} · "
        f"uvicorn {info['uvicorn']} ({info['uvicorn_loop_http']}) · {info['database']} "
        f"{info.get('sqlite') or info.get('postgresql')} · load: {info['load_tool']}",
        "",
        "| workers | request | connections | clients | throughput | p50 | p95 | p99 | errors "
        "| server CPU | CPU/request | busiest worker |"
        + (" PostgreSQL CPU |" if pg else "") + " other load |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if pg else "")
        + "---:|",
    ]
    for r in results:
        m = r.median
        what = "POST decide" if r.what == "decide" else f"GET {r.what}"
        lines.append(
            f"| {r.workers} | {what} | {r.mode} | {r.connections} | {m.rps:,.0f}/s | "
            f"{m.p50_ms:.1f} ms | {m.p95_ms:.1f} ms | {m.p99_ms:.1f} ms | {m.errors} | "
            f"{m.server_cores:.2f} cores | {m.cpu_ms_per_request:.1f} ms | "
            f"{m.busiest_worker:.0%} |" + (f" {m.database_cores:.2f} cores |" if pg else "")
            + f" {m.other_cores:.2f} cores |")
    lines += ["", "Targets:"]
    decide = [r for r in results if r.what == "decide" and r.connections > 1]
    if decide:
        best = max(decide, key=lambda r: r.median.rps)
        ok = best.median.rps >= TARGET_DECISIONS_PER_S and best.median.errors == 0
        lines.append(f"- decisions ≥ {TARGET_DECISIONS_PER_S:,.0f}/s: best "
                     f"{best.median.rps:,.0f}/s ({best.workers} workers, {best.mode}) → "
                     f"{'met' if ok else 'MISSED'}")
    for page in PAGES:
        for thinking in (False, True):
            rows = [r for r in results if r.what == page and r.connections == users
                    and ("think" in r.mode) == thinking]
            if not rows:
                continue
            best = min(rows, key=lambda r: r.median.p95_ms)
            ok = best.median.p95_ms <= TARGET_PAGE_P95_MS and best.median.errors == 0
            how = "with think time" if thinking else "no think time"
            lines.append(f"- GET {page} p95 ≤ {TARGET_PAGE_P95_MS:.0f} ms at {users} users, "
                         f"{how}: best {best.median.p95_ms:.1f} ms ({best.workers} workers, "
                         f"{best.mode}) → {'met' if ok else 'MISSED'}")
    errors = sum(r.median.errors for r in results)
    lines.append(f"- no error answers: {'met' if errors == 0 else f'MISSED ({errors})'}")
    return "\n".join(lines)


# -- main -----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2,4",
                        help="comma-separated uvicorn worker counts (default 1,2,4)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up load")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--decide-clients", type=int, default=32,
                        help="concurrent connections for decisions/s (default 32)")
    parser.add_argument("--users", type=int, default=20, help="concurrent users for pages")
    parser.add_argument("--think-ms", type=int, default=1000,
                        help="also measure the pages with users pausing this long between "
                        "requests (0: only the closed loop)")
    parser.add_argument("--connection", choices=("keep-alive", "close", "both"), default="both",
                        help="reuse connections (keep-alive), open one per request (close: "
                        "spreads them over the workers), or both (default)")
    parser.add_argument("--postgres", nargs="?", const=DEFAULT_POSTGRES, default=None,
                        metavar="URL", help=f"use PostgreSQL (default URL {DEFAULT_POSTGRES}); "
                        "a database kijun_bench_<pid> is created there and dropped")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--access-log", action="store_true",
                        help="keep uvicorn's access log on (off by default)")
    parser.add_argument("--uvicorn-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for uvicorn, e.g. --uvicorn-arg=--loop=uvloop")
    parser.add_argument("--server", choices=("kijun", "uvicorn"), default="kijun",
                        help="kijun serve --workers N (a socket per worker, default) or "
                        "uvicorn --workers N (one shared socket; --app and --uvicorn-arg apply)")
    parser.add_argument("--app", default="kijun.web.app:create_app", metavar="MODULE:FACTORY",
                        help="the app factory uvicorn serves (for experiments: a wrapper "
                        "around kijun's, importable through PYTHONPATH)")
    parser.add_argument("--skip", action="append", default=[],
                        choices=("decide", "pages", "single", "baseline"),
                        help="leave out a measurement (single: the one-user runs; baseline: "
                        "GET /healthz)")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="before each run, wait up to SECONDS for other work on the "
                        "machine to stop (each run reports the other load it saw)")
    parser.add_argument("--profile", metavar="DIR", help="py-spy the 1-worker server into DIR")
    parser.add_argument("--breakdown", action="store_true",
                        help="only the in-process CPU breakdown and the write-contention test "
                        "(no server, no load tool)")
    parser.add_argument("--quick", action="store_true", help="1 run of 3 s, 1 s warm-up")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--out", metavar="FILE", help="also write the JSON results to FILE")
    parser.add_argument("--loadgen", help=argparse.SUPPRESS)
    parser.add_argument("--writer", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.loadgen:
        loadgen(args.loadgen)
        return 0
    if args.writer:
        writer(args.writer)
        return 0
    if args.quick:
        args.duration, args.warmup, args.runs = 3.0, 1.0, 1
    # stopped with SIGTERM: still stop the server and drop the database on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    modes = ("keep-alive", "close") if args.connection == "both" else (args.connection,)

    with tempfile.TemporaryDirectory(prefix="kijun-bench-web-") as tmp_name:
        tmp = Path(tmp_name)
        tool = load_tool(args.tool, tmp)
        cases = decide_cases()
        print(f"setting up ({'PostgreSQL' if args.postgres else 'SQLite'}) …", file=sys.stderr)
        with database(tmp, args.postgres) as db:
            info = machine(tool, db)
            if args.breakdown:
                rows = breakdown(db, 50 if args.quick else 300)
                print(f"{info['date']} · {info['cpu']} · {info['python']} · {db.backend}")
                print("\n| in-process, one at a time | CPU ms per call |\n|---|---:|")
                for label, ms in rows:
                    print(f"| {label} | {ms:.2f} |")
                print("\n| processes recording decisions at once | decisions/s | p50 | p99 |"
                      "\n|---:|---:|---:|---:|")
                for n, rate, p50, p99 in write_contention(db, (1, 2, 4), args.duration / 2):
                    print(f"| {n} | {rate:,.0f} | {p50:.1f} ms | {p99:.1f} ms |")
                return 0
            results: list[Result] = []
            profiles: dict[str, dict[str, float]] = {}
            server_errors: dict[int, list[str]] = {}
            for workers in worker_counts:
                with server(db, workers, tmp, access_log=args.access_log,
                            extra=args.uvicorn_arg, app=args.app, kind=args.server) as srv:
                    cookie = log_in(srv.base)
                    check_decisions(srv.base, db.token, cases)
                    for page in PAGES:
                        check_page(srv.base, cookie, page)
                    plan: list[tuple[str, Load, int, str]] = []
                    for mode in modes:
                        extra = {"Connection": "close"} if mode == "close" else {}
                        if "decide" not in args.skip:
                            plan.append(("decide", Load("POST", DECIDE_PATH, {
                                "Authorization": f"Bearer {db.token}",
                                "Content-Type": "application/json", **extra,
                            }, tuple(c.body for c in cases)), args.decide_clients, mode))
                        if "pages" not in args.skip:
                            plan += [(p, Load("GET", p, {"Cookie": f"kijun_session={cookie}",
                                                         **extra}), args.users, mode)
                                     for p in PAGES]
                    if "pages" not in args.skip and args.think_ms > 0:
                        # users who read a page before the next click
                        plan += [(p, Load("GET", p, {"Cookie": f"kijun_session={cookie}"},
                                          think_ms=args.think_ms), args.users,
                                  f"keep-alive, think {args.think_ms} ms") for p in PAGES]
                    if workers == 1 and "baseline" not in args.skip:
                        # the HTTP + ASGI stack alone: a public endpoint without database
                        plan.append(("/healthz", Load("GET", "/healthz", {}), args.users,
                                     modes[0]))
                    if workers == 1 and "single" not in args.skip:
                        # one user alone: the service time, without queueing
                        plan += [(what, load, 1, mode) for what, load, _, mode in list(plan)
                                 if mode == modes[0]]
                    for what, load, connections, mode in plan:
                        results.append(measure(
                            tool, srv, load, connections, mode=mode, warmup=args.warmup,
                            seconds=args.duration,
                            runs=args.runs if connections > 1 and what != "/healthz" else 1,
                            workers=workers, what=what, max_wait=args.wait_quiet))
                    if args.profile and workers == 1:
                        profiles = profile(tool, srv, {
                            what: load for what, load, connections, mode in plan
                            if connections > 1 and mode == modes[0]},
                            4, args.duration, Path(args.profile))
                if srv.errors:
                    server_errors[workers] = srv.errors
            rows = decided_rows(db)

    text = report(info, results, args.users)
    document = {
        "machine": info,
        "settings": {"duration_s": args.duration, "warmup_s": args.warmup, "runs": args.runs,
                     "decide_clients": args.decide_clients, "users": args.users,
                     "access_log": args.access_log, "uvicorn_args": args.uvicorn_arg,
                     "server": args.server},
        "results": [{"workers": r.workers, "what": r.what, "connections": r.connections,
                     "mode": r.mode, "median": asdict(r.median),
                     "runs": [asdict(s) for s in r.runs]} for r in results],
        "decisions_recorded": rows,
        "profile": profiles,
        "server_errors": server_errors,
    }
    if args.out:
        Path(args.out).write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n",
                                  encoding="utf-8")
    if args.json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        print(text)
        if rows is not None:
            print(f"\ndecisions recorded in the database: {rows:,}")
        for r in results:
            if r.median.error_kinds:
                print(f"errors, {r.workers} workers, {r.mode}, {r.what}: {r.median.error_kinds}")
        for workers, blocks in server_errors.items():
            kinds = Counter(block.splitlines()[-1] for block in blocks)
            print(f"\nthe server log ({workers} workers) has {len(blocks)} errors: "
                  f"{dict(kinds)}; the end of the first:")
            print("\n".join(f"  {line}" for line in blocks[0].splitlines()[-24:]))
        for what, shares in profiles.items():
            print(f"\nprofile of {what} at 4 clients, 1 worker ({shares['cpu_ms_per_request']} "
                  f"ms CPU/request; share of {shares['samples']:.0f} GIL-holding samples):")
            for label, share in shares.items():
                if label not in ("samples", "cpu_ms_per_request"):
                    print(f"  {label:<58} {share:5.1f} %")
    errors = sum(r.median.errors for r in results)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
