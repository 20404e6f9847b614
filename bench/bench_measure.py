"""Benchmark kijun.measure: read an XES log and compute the process metrics.

    .venv/bin/python bench/bench_measure.py            # results table (bpic2012, receipt)
    .venv/bin/python bench/bench_measure.py --json     # the same as JSON
    .venv/bin/python bench/bench_measure.py --runs 3   # fewer runs

Targets (issue 6): reading bpic2012.xes.gz (262,200 events) and computing all
metrics in ≤ 2 s; the metrics alone, on a log already loaded, in ≤ 200 ms;
peak memory reported.

"read + metrics" runs in a fresh subprocess each time (imports excluded from
the timing): ``read_xes`` then ``compute_metrics``; its peak memory is the
subprocess's high-water mark (VmHWM, else ``ru_maxrss``). "metrics" is
``compute_metrics`` (which prepares the log: lifecycle filter, start/complete
pairs, ordering, per-case columns) on the log already in memory, in this
process; "metrics + by" adds ``metrics_by`` for activity, resource,
department and month. Each figure is the median of --runs runs, with CPU
seconds (all threads) beside the wall time, because the machine may be shared.

Data: ../shared/data/event-logs/ (BPI Challenge 2012, van Dongen, B.F.;
receipt phase of the WABO process, Buijs, J.C.A.M.; 4TU.ResearchData — see
the DISCLAIMER there).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is not an installed package
    sys.path.insert(0, str(ROOT))

LOGS = ROOT.parent / "shared" / "data" / "event-logs"
TARGET_READ_AND_METRICS = 2.0
TARGET_METRICS = 0.200

_CHILD = r"""
import json, re, resource, sys, time
from kijun.measure import compute_metrics, read_xes

def peak_mb():
    try:
        status = open("/proc/self/status").read()
        return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

w0, c0 = time.perf_counter(), time.process_time()
log = read_xes(sys.argv[1])
w1, c1 = time.perf_counter(), time.process_time()
metrics = compute_metrics(log)
w2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"read": w1 - w0, "read_cpu": c1 - c0, "metrics": w2 - w1,
                  "metrics_cpu": c2 - c1, "total": w2 - w0, "total_cpu": c2 - c0,
                  "peak_mb": peak_mb(), "events": log.events.height,
                  "cases": metrics["cases"]}))
"""


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import polars

    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {"cpu": cpu, "cpus": os.cpu_count(), "platform": platform.platform(),
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "polars": polars.__version__, "load_1min": load}


def child_runs(path: Path, runs: int) -> dict[str, Any]:
    rows = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                             text=True, check=True, cwd=ROOT)
        rows.append(json.loads(out.stdout))
    med = {k: statistics.median(r[k] for r in rows)
           for k in ("read", "read_cpu", "metrics", "metrics_cpu", "total", "total_cpu",
                     "peak_mb")}
    return {**med, "events": rows[0]["events"], "cases": rows[0]["cases"],
            "runs": [round(r["total"], 3) for r in rows]}


def in_process(path: Path, runs: int) -> dict[str, Any]:
    from kijun.measure import compute_metrics, metrics_by, read_xes

    log = read_xes(path)
    compute_metrics(log)  # warm up

    def timed(fn: Any) -> tuple[float, float]:
        walls, cpus = [], []
        for _ in range(runs):
            w, c = time.perf_counter(), time.process_time()
            fn()
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        return statistics.median(walls), statistics.median(cpus)

    metrics = timed(lambda: compute_metrics(log))

    def with_groups() -> None:
        compute_metrics(log)
        for by in ("activity", "resource", "department", "month"):
            metrics_by(log, by)

    grouped = timed(with_groups)
    return {"metrics": metrics[0], "metrics_cpu": metrics[1],
            "metrics_by": grouped[0], "metrics_by_cpu": grouped[1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not LOGS.is_dir():
        print(f"{LOGS} is absent: nothing to measure", file=sys.stderr)
        return 1
    results: dict[str, Any] = {"machine": machine(), "runs": args.runs, "logs": {}}
    for name in ("bpic2012.xes.gz", "receipt.xes.gz"):
        path = LOGS / name
        results["logs"][name] = {"read_and_metrics": child_runs(path, args.runs),
                                 "loaded": in_process(path, max(args.runs, 11))}
    big = results["logs"]["bpic2012.xes.gz"]
    results["targets"] = {
        "read_and_metrics_2s": big["read_and_metrics"]["total"] <= TARGET_READ_AND_METRICS,
        "metrics_200ms": big["loaded"]["metrics"] <= TARGET_METRICS,
    }
    results["machine"]["load_1min_after"] = machine()["load_1min"]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    m = results["machine"]
    print(f"{m['cpu']}, {m['cpus']} CPUs, {m['python']}, Polars {m['polars']}, "
          f"load {m['load_1min']:.1f} → {m['load_1min_after']:.1f}; median of {args.runs}")
    print(f"{'log':28s} {'events':>8s} {'read':>8s} {'metrics':>8s} {'total':>8s} "
          f"{'(cpu)':>8s} {'peak MB':>8s} {'loaded: metrics':>16s} {'+ by ×4':>9s}")
    for name, r in results["logs"].items():
        a, b = r["read_and_metrics"], r["loaded"]
        print(f"{name:28s} {a['events']:8,d} {a['read']:8.3f} {a['metrics']:8.3f} "
              f"{a['total']:8.3f} {a['total_cpu']:8.3f} {a['peak_mb']:8.0f} "
              f"{b['metrics'] * 1000:13.0f} ms {b['metrics_by'] * 1000:6.0f} ms")
    print("targets:", ", ".join(f"{k} {'met' if v else 'MISSED'}"
                                for k, v in results["targets"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
