"""Run kijun's benchmarks and the baselines in one process; record and publish the numbers.

    .venv/bin/python bench/run.py                 # everything (make bench)
    .venv/bin/python bench/run.py --quick         # small counts, smoke test
    .venv/bin/python bench/run.py --no-baselines  # kijun only
    .venv/bin/python bench/run.py --feel-only     # FEEL/DMN and the TCK only (bench/bench_feel.py)
    .venv/bin/python bench/run.py --no-feel       # decision tables only

A complete run (none of --quick, --no-baselines, --feel-only, --no-feel) writes
bench/results/latest.json and rewrites the generated section of
docs/benchmarks.md; other runs write bench/results/<mode>.json and leave the
doc alone unless --docs is given. Any output that differs from the reference
is printed as MISMATCH and makes the exit status 1 (after the results are
written).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import bench_feel  # noqa: E402
from bench.tables import (  # noqa: E402
    DECIDE_ON,
    INPUT_NAMES,
    OUTPUT_NAME,
    SEED,
    GeneratedTable,
    expected_frame,
    generate,
    naive_decide,
    random_frame_columns,
)

RESULTS_DIR = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

SIZES = (10, 100, 1000)
POLICIES = ("FIRST", "UNIQUE")

#: targets from the issue
TARGET_KIJUN_US_AT_1000 = 20.0
TARGET_FRAME_S = 1.0
TARGET_SPEEDUP = {"pyDMNrules": 1000.0, "SpiffWorkflow": 200.0}


@dataclass(frozen=True)
class Plan:
    kijun_samples: int
    kijun_rounds: int
    baseline_samples: Mapping[int, int]
    frame_rows: int
    frame_rules: int
    frame_runs: int


FULL = Plan(
    kijun_samples=1000,
    kijun_rounds=30,
    baseline_samples={10: 200, 100: 100, 1000: 50},
    frame_rows=1_000_000,
    frame_rules=100,
    frame_runs=5,
)
QUICK = Plan(
    kijun_samples=200,
    kijun_rounds=3,
    baseline_samples={10: 20, 100: 10, 1000: 5},
    frame_rows=100_000,
    frame_rules=100,
    frame_runs=2,
)

MISMATCHES: list[dict[str, Any]] = []


def mismatch(where: str, engine: str, index: int | None, facts: Any, expected: Any,
             got: Any) -> None:
    MISMATCHES.append({"table": where, "engine": engine, "sample": index, "facts": facts,
                       "expected": expected, "got": got})
    print(f"  !!! MISMATCH {where} {engine} sample {index}: expected {expected!r}, "
          f"got {got!r} for {facts}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    cpu, mhz = "", None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not cpu:
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("cpu MHz") and mhz is None:
                mhz = round(float(line.split(":", 1)[1]))
    except OSError:
        cpu = platform.processor()
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    versions = {}
    for dist in ("kijun", "polars", "numpy", "pyDMNrules", "pySFeel", "SpiffWorkflow",
                 "openpyxl", "lxml", "pytest-benchmark"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_mhz": mhz,
        "cpus": os.cpu_count(),
        "cpus_usable": usable,
        "memory_gib": mem_gib,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "versions": versions,
        "git": _git(),
        "loadavg_at_start": _loadavg(),
    }


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _git() -> str | None:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


# --------------------------------------------------------------------------- timing


def time_calls(call: Callable[[Any], Any], items: Sequence[Any], rounds: int) -> list[int]:
    """perf_counter_ns around every single call; `rounds` passes over `items`."""
    pc = time.perf_counter_ns
    out: list[int] = []
    append = out.append
    gc.collect()
    for _ in range(rounds):
        for item in items:
            t0 = pc()
            call(item)
            append(pc() - t0)
    return out


def summary(ns: Sequence[int]) -> dict[str, Any]:
    q = statistics.quantiles(ns, n=10, method="inclusive") if len(ns) > 1 else [ns[0]] * 9
    return {
        "median_us": statistics.median(ns) / 1000,
        "p90_us": q[8] / 1000,
        "min_us": min(ns) / 1000,
        "mean_us": statistics.fmean(ns) / 1000,
        "timings": len(ns),
    }


def split_summary(ns: Sequence[int], expected: Sequence[Any]) -> dict[str, Any]:
    """Summaries of the decisions that hit a rule and of those that hit none.

    `ns` holds rounds of timings in sample order, so timing k is sample k % len(expected).
    """
    n = len(expected)
    hits = [t for k, t in enumerate(ns) if expected[k % n] is not None]
    misses = [t for k, t in enumerate(ns) if expected[k % n] is None]
    return {"hits": summary(hits) if hits else None,
            "misses": summary(misses) if misses else None}


def reference_workload(repeats: int = 300) -> float:
    """Median µs of a fixed pure-Python loop: how fast the machine is right now.

    On a shared VM the same code can run twice as fast one minute as the
    next; recording this beside each phase makes that visible in the results.
    """
    pc = time.perf_counter_ns
    ns = []
    for _ in range(repeats):
        t0 = pc()
        d = {}
        for i in range(200):
            d[i] = i * i
        ns.append(pc() - t0)
    return statistics.median(ns) / 1000


def timer_overhead() -> float:
    """Median cost (µs) of the timing loop around a call that does nothing."""
    return summary(time_calls(lambda _: None, range(1000), 20))["median_us"]


# --------------------------------------------------------------------------- kijun


def kijun_outcome(result: Any) -> str | None:
    return result.outputs[OUTPUT_NAME] if result.decided else None


def check_kijun(gen: GeneratedTable) -> dict[str, Any]:
    """Correctness (and warm-up): every sample against the boxes and the naive rule scan."""
    from kijun.criteria.compile import compile_table
    from kijun.criteria.decide import decide

    t0 = time.perf_counter_ns()
    compile_table(gen.table)
    compile_ms = (time.perf_counter_ns() - t0) / 1e6
    checked = 0
    for i, facts in enumerate(gen.samples):
        expected = gen.expected_outputs[i]
        ids, naive = naive_decide(gen.table, facts)
        if naive != expected:
            mismatch(gen.name, "naive FEEL oracle", i, facts, expected, naive)
        try:
            result = decide(gen.criterion, facts, DECIDE_ON)
        except Exception as e:  # report, keep going
            mismatch(gen.name, "kijun", i, facts, expected, f"raised {type(e).__name__}: {e}")
            continue
        got = kijun_outcome(result)
        if got != expected:
            mismatch(gen.name, "kijun", i, facts, expected, got)
        rules = [m.rule for m in result.matched]
        if rules != ids[:1]:
            mismatch(gen.name, "kijun (matched rule)", i, facts, ids[:1], rules)
        checked += 1
    return {"samples": len(gen.samples), "checked": checked, "compile_ms": compile_ms}


def time_kijun(gens: Sequence[GeneratedTable], rounds: int,
               reference: list[float]) -> list[list[int]]:
    """Timings of decide on every table, rounds interleaved across the tables.

    Round r times one pass over the samples of each table in turn, so that a
    burst of load on a shared machine lands on all tables alike instead of
    on whichever table happened to be timed at that moment. The reference
    workload is measured before every round (appended to `reference`).
    """
    from kijun.criteria.decide import decide

    on = DECIDE_ON
    timings: list[list[int]] = [[] for _ in gens]
    for _ in range(rounds):
        reference.append(reference_workload())
        for k, gen in enumerate(gens):
            criterion = gen.criterion
            timings[k] += time_calls(lambda f, c=criterion: decide(c, f, on), gen.samples, 1)
    return timings


def check_frame_on_samples(gen: GeneratedTable) -> int:
    """decide_frame over the samples must give what decide gives."""
    import polars as pl

    from kijun.criteria.batch import decide_frame

    frame = pl.DataFrame({name: [f[name] for f in gen.samples] for name in INPUT_NAMES},
                         schema_overrides={n: pl.Float64 for n in INPUT_NAMES[:3]})
    out = decide_frame(gen.table, frame)
    bad = 0
    for i, (got, status) in enumerate(zip(out[OUTPUT_NAME].to_list(), out["_status"].to_list(),
                                          strict=True)):
        expected = gen.expected_outputs[i]
        want_status = "decided" if expected is not None else "exception"
        if got != expected or status != want_status:
            bad += 1
            mismatch(gen.name, "kijun decide_frame", i, gen.samples[i], expected,
                     f"{got!r} ({status})")
    return bad


# --------------------------------------------------------------------------- baselines


def bench_baseline(engine_cls: Any, gen: GeneratedTable, n: int, workdir: Path
                   ) -> dict[str, Any]:
    t0 = time.perf_counter()
    engine = engine_cls(gen, workdir)
    load_s = time.perf_counter() - t0
    samples = gen.samples[:n]
    try:
        for facts in samples[:3]:  # warm-up
            engine.evaluate(facts)
        pc = time.perf_counter_ns
        ns: list[int] = []
        outcomes: list[Any] = []
        gc.collect()
        for facts in samples:
            t0 = pc()
            try:
                got: Any = engine.evaluate(facts)
            except Exception as e:  # report, keep going
                got = f"raised {type(e).__name__}: {e}"
            ns.append(pc() - t0)
            outcomes.append(got)
    finally:
        engine.close()
    bad = 0
    for i, got in enumerate(outcomes):
        if got != gen.expected_outputs[i]:
            bad += 1
            mismatch(gen.name, engine_cls.name, i, samples[i], gen.expected_outputs[i], got)
    return {**summary(ns), **split_summary(ns, gen.expected_outputs[:len(samples)]),
            "samples": len(samples),
            "miss_samples": sum(e is None for e in gen.expected_outputs[:len(samples)]),
            "mismatches": bad, "load_s": load_s}


# --------------------------------------------------------------------------- vectorised


def bench_frame(policy: str, plan: Plan) -> dict[str, Any]:
    import numpy as np
    import polars as pl

    from kijun.criteria.batch import decide_frame
    from kijun.criteria.compile import compile_table

    gen = generate(policy, plan.frame_rules, n_samples=10)
    columns = random_frame_columns(plan.frame_rows, seed=SEED + plan.frame_rules)
    frame = pl.DataFrame([
        pl.Series(name, columns[name].tolist() if columns[name].dtype == object
                  else columns[name])
        for name in INPUT_NAMES
    ])
    deciding = expected_frame(gen, columns)
    runs: list[float] = []
    out = None
    decide_frame(gen.table, frame.head(1000))  # warm-up (imports, first compile)
    for _ in range(plan.frame_runs):
        gc.collect()
        t0 = time.perf_counter()
        out = decide_frame(gen.table, frame)
        runs.append(time.perf_counter() - t0)
    ct = compile_table(gen.table)
    precompiled: list[float] = []
    for _ in range(plan.frame_runs):
        gc.collect()
        t0 = time.perf_counter()
        decide_frame(ct, frame)
        precompiled.append(time.perf_counter() - t0)

    assert out is not None
    ids = np.asarray([r.id for r in gen.table.rules] + [None], dtype=object)
    outcomes = np.asarray([*gen.outcomes, None], dtype=object)
    want_ids = ids[deciding]
    want_out = outcomes[deciding]
    got_ids = out["_matched"].to_numpy()
    got_out = out[OUTPUT_NAME].to_numpy()
    got_status = out["_status"].to_numpy()
    want_status = np.where(deciding >= 0, "decided", "exception")
    bad_rows = np.flatnonzero((got_ids != want_ids) | (got_out != want_out)
                              | (got_status != want_status))
    for r in bad_rows[:5]:
        facts = {name: frame[name][int(r)] for name in INPUT_NAMES}
        mismatch(f"{policy} {plan.frame_rules} (frame)", "kijun decide_frame", int(r), facts,
                 (want_ids[r], want_out[r]), (got_ids[r], got_out[r], got_status[r]))
    return {
        "policy": policy,
        "rules": plan.frame_rules,
        "rows": plan.frame_rows,
        "runs": len(runs),
        "median_s": statistics.median(runs),
        "min_s": min(runs),
        "precompiled_median_s": statistics.median(precompiled),
        "hit_rate": float((deciding >= 0).mean()),
        "mismatched_rows": len(bad_rows),
    }


# --------------------------------------------------------------------------- report


def fmt_us(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:,.1f} µs" if x < 100 else f"{x:,.0f} µs"


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}×"


def table_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for t in results["tables"]:
        k = t["kijun"]
        p = t.get("pyDMNrules")
        s = t.get("SpiffWorkflow")
        rows.append([
            t["policy"], f"{t['rules']:,}",
            f"{fmt_us(k['median_us'])} / {fmt_us(k['p90_us'])}",
            f"{fmt_us(p['median_us'])} (n={p['samples']})" if p else "—",
            f"{fmt_us(s['median_us'])} (n={s['samples']})" if s else "—",
            fmt_ratio(t["speedup"].get("pyDMNrules")),
            fmt_ratio(t["speedup"].get("SpiffWorkflow")),
        ])
    return rows


def split_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for t in results["tables"]:
        row = [t["policy"], f"{t['rules']:,}"]
        for engine in ("kijun", "pyDMNrules", "SpiffWorkflow"):
            r = t.get(engine)
            for part in ("hits", "misses"):
                row.append(fmt_us(r[part]["median_us"]) if r and r.get(part) else "—")
        rows.append(row)
    return rows


SPLIT_HEADERS = ["policy", "rules", "kijun hit", "kijun miss", "pyDMNrules hit",
                 "pyDMNrules miss", "SpiffWorkflow hit", "SpiffWorkflow miss"]

HEADERS = ["policy", "rules", "kijun median / p90", "pyDMNrules median",
           "SpiffWorkflow median", "pyDMNrules ÷ kijun", "SpiffWorkflow ÷ kijun"]


def print_table(headers: list[str], body: list[list[str]]) -> None:
    rows = [headers, *body]
    widths = [max(len(r[c]) for r in rows) for c in range(len(headers))]
    print()
    for k, row in enumerate(rows):
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
        if k == 0:
            print("  ".join("-" * w for w in widths))


def print_report(results: dict[str, Any]) -> None:
    if results["tables"]:
        print_table(HEADERS, table_rows(results))
        print("\nmedian per decision, facts that hit a rule vs facts that hit none:")
        print_table(SPLIT_HEADERS, split_rows(results))
    print()
    for f in results["frame"]:
        print(f"decide_frame {f['policy']} {f['rules']} rules × {f['rows']:,} rows: "
              f"median {f['median_s']:.3f} s (min {f['min_s']:.3f} s, precompiled "
              f"{f['precompiled_median_s']:.3f} s), hit rate {f['hit_rate']:.1%}, "
              f"mismatched rows {f['mismatched_rows']}")
    if results.get("feel"):
        print()
        print("\n".join(bench_feel.report_lines(results["feel"])))
    print()
    print(reference_line(results))
    for name, ok in results["targets"].items():
        print(f"target {name}: {'met' if ok else 'NOT MET' if ok is False else 'not measured'}")
    print(f"mismatches: {len(results['mismatches'])}")


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    v = m["versions"]
    lines = [
        START,
        "<!-- generated by bench/run.py; edit the text outside the markers -->",
        "",
        f"Run on {results['finished']} — {m['cpu']} ({m.get('cpu_mhz')} MHz), "
        f"{m['cpus_usable']} usable CPU(s) of "
        f"{m['cpus']}, {m['memory_gib']} GiB RAM, {m['platform']}, {m['python']}; "
        f"kijun {v.get('kijun')} (git {m['git']}), polars {v.get('polars')}, "
        f"numpy {v.get('numpy')}, pyDMNrules {v.get('pyDMNrules')} (pySFeel "
        f"{v.get('pySFeel')}), SpiffWorkflow {v.get('SpiffWorkflow')}. "
        f"Load average {m.get('loadavg_at_start')} at the start, {m.get('loadavg_at_end')} at "
        f"the end. Seed {results['seed']}; timer overhead {results['timer_overhead_us']:.2f} µs "
        "per call (included in the figures). " + reference_line(results),
        "",
    ]
    if results["tables"]:
        lines += table_section(results)
    if results["frame"]:
        lines += frame_section(results)
    if results.get("feel"):
        lines += [*bench_feel.report_lines(results["feel"]), ""]
    lines += ["### Targets", ""]
    labels = {
        "kijun_1000_rules_le_20us": "kijun ≤ 20 µs per decision at 1,000 rules (FIRST and "
                                    "UNIQUE)",
        "frame_1m_rows_le_1s": "1,000,000 rows through a 100-rule table ≤ 1 s",
        "pyDMNrules_speedup_ge_1000x": "≥ 1,000× faster than pyDMNrules at 1,000 rules",
        "SpiffWorkflow_speedup_ge_200x": "≥ 200× faster than SpiffWorkflow at 1,000 rules",
        "identical_outputs": "identical outputs on every sample, every engine",
    }
    for key, ok in results["targets"].items():
        mark = "met" if ok else ("**not met**" if ok is False else "not measured")
        lines.append(f"- {labels.get(key, key)}: {mark}")
    lines += ["", f"Mismatches: {len(results['mismatches'])}."]
    for mm in results["mismatches"][:20]:
        lines.append(f"- {mm['table']} / {mm['engine']} / sample {mm['sample']}: expected "
                     f"`{mm['expected']}`, got `{mm['got']}`")
    lines += ["", END]
    return "\n".join(lines)


def table_section(results: dict[str, Any]) -> list[str]:
    lines = [
        "### Latency per decision",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join(["---", "---:", "---:", "---:", "---:", "---:", "---:"]) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in table_rows(results)]
    kijun_counts = sorted({(t["kijun"]["samples"], t["kijun"]["timings"])
                           for t in results["tables"]})
    lines += [
        "",
        "kijun: " + "; ".join(f"{s:,} facts × {n // s} rounds = {n:,} timed decisions"
                              for s, n in kijun_counts)
        + " per table. Baselines: one timed decision per fact, n facts (the first n of the "
        "same samples). Every 10th fact falls in a hole and matches no rule.",
        "",
        "Median per decision, split into facts that hit a rule and facts that hit none "
        "(an exception in kijun, which then explains which inputs fell outside every rule):",
        "",
        "| " + " | ".join(SPLIT_HEADERS) + " |",
        "|" + "|".join(["---", "---:"] + ["---:"] * 6) + "|",
        *("| " + " | ".join(r) + " |" for r in split_rows(results)),
        "",
    ]
    return lines


def frame_section(results: dict[str, Any]) -> list[str]:
    lines = [
        "### Population run (`decide_frame`)",
        "",
        "| policy | rules | rows | median | min | precompiled table | hit rate | "
        "mismatched rows |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in results["frame"]:
        lines.append(
            f"| {f['policy']} | {f['rules']} | {f['rows']:,} | {f['median_s']:.3f} s | "
            f"{f['min_s']:.3f} s | {f['precompiled_median_s']:.3f} s | {f['hit_rate']:.1%} | "
            f"{f['mismatched_rows']} |"
        )
    lines.append("")
    return lines


def reference_line(results: dict[str, Any]) -> str:
    ref = results.get("reference_workload_us") or {}
    parts = []
    for phase, label in (("kijun", "during the kijun rounds"),
                         ("frame", "before the population runs"),
                         ("feel", "during the FEEL/DMN rounds")):
        r = ref.get(phase)
        if r:
            parts.append(f"{r['median']:.1f} µs {label} (range {r['min']:.1f}–{r['max']:.1f})")
    if not parts:
        return ""
    return ("Reference workload (a fixed pure-Python loop, see `reference_workload`): "
            + "; ".join(parts) + ".")


def write_doc(results: dict[str, Any]) -> None:
    section = markdown(results)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n## Results\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- main


def wait_for_idle(limit_s: float, threshold: float = 0.5) -> None:
    deadline = time.monotonic() + limit_s
    while True:
        load = _loadavg()
        if load is None or load[0] < threshold:
            return
        if time.monotonic() >= deadline:
            print(f"still busy after {limit_s:.0f} s (load {load}); running anyway",
                  file=sys.stderr, flush=True)
            return
        print(f"waiting for the machine to go idle (load {load})", flush=True)
        time.sleep(15)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sample counts (smoke test)")
    ap.add_argument("--no-baselines", action="store_true", help="skip pyDMNrules/SpiffWorkflow")
    ap.add_argument("--docs", action="store_true",
                    help="rewrite docs/benchmarks.md even for a partial run")
    ap.add_argument("--no-docs", action="store_true", help="never touch docs/benchmarks.md")
    ap.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                    help="first wait up to SECONDS for the 1-minute load average to fall "
                         "below 0.5 (shared machines)")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)),
                    help="comma-separated rule counts (default: 10,100,1000)")
    ap.add_argument("--feel-only", action="store_true",
                    help="only the FEEL/DMN benchmarks and the TCK run (bench/bench_feel.py)")
    ap.add_argument("--no-feel", action="store_true",
                    help="skip the FEEL/DMN benchmarks and the TCK run")
    ap.add_argument("--tck", type=Path, default=bench_feel.TCK, metavar="DIR",
                    help="the DMN TCK checkout (default: ../shared/dmn-tck; skipped if absent)")
    args = ap.parse_args(argv)
    if args.feel_only and args.no_feel:
        ap.error("--feel-only and --no-feel exclude each other")

    plan = QUICK if args.quick else FULL
    feel_plan = bench_feel.QUICK if args.quick else bench_feel.FULL
    sizes = () if args.feel_only else tuple(int(s) for s in args.sizes.split(","))
    complete = (not args.quick and not args.no_baselines and sizes == SIZES
                and not args.no_feel)
    if args.wait_idle > 0:
        wait_for_idle(args.wait_idle)
    started = dt.datetime.now(dt.UTC)
    info = machine()
    print(f"kijun bench — {info['cpu']} ({info['cpus_usable']} CPUs), {info['python']}, "
          f"{info['platform']}", flush=True)
    load = info["loadavg_at_start"]
    if load and load[0] > 0.5 * (info["cpus_usable"] or 1):
        print(f"warning: load average {load} — other processes compete for the CPUs; "
              "timings will be pessimistic", file=sys.stderr, flush=True)
    overhead = timer_overhead()

    engines: list[Any] = []
    import_s: dict[str, float] = {}
    if not args.no_baselines and not args.feel_only:
        from bench import baselines

        for cls, module in ((baselines.PyDMNRulesEngine, "pyDMNrules"),
                            (baselines.SpiffWorkflowEngine, "SpiffWorkflow")):
            t0 = time.perf_counter()
            __import__(module)
            import_s[cls.name] = time.perf_counter() - t0
            engines.append(cls)
            print(f"imported {module} in {import_s[cls.name]:.1f} s", flush=True)

    gens: list[GeneratedTable] = []
    entries: list[dict[str, Any]] = []
    for n in sizes:
        for policy in POLICIES:
            t0 = time.perf_counter()
            gen = generate(policy, n, n_samples=plan.kijun_samples)
            entry: dict[str, Any] = {
                "policy": policy,
                "rules": n,
                "samples": len(gen.samples),
                "miss_samples": sum(e is None for e in gen.expected_outputs),
                "samples_hitting_several_rules": sum(h > 1 for h in gen.sample_hits),
                "kijun": check_kijun(gen),
            }
            entry["kijun"]["decide_frame_mismatches"] = check_frame_on_samples(gen)
            print(f"{gen.name}: generated and checked in {time.perf_counter() - t0:.1f} s",
                  flush=True)
            gens.append(gen)
            entries.append(entry)

    reference: dict[str, list[float]] = {"kijun": [], "frame": [], "feel": []}
    kijun_ns: list[list[int]] = []
    if gens:
        print(f"timing kijun: {plan.kijun_rounds} rounds over {len(gens)} tables", flush=True)
        kijun_ns = time_kijun(gens, plan.kijun_rounds, reference["kijun"])
    for gen, entry, ns in zip(gens, entries, kijun_ns, strict=True):
        entry["kijun"].update(summary(ns))
        entry["kijun"].update(split_summary(ns, gen.expected_outputs))
        print(f"  {gen.name:<12} kijun median {fmt_us(entry['kijun']['median_us'])}, "
              f"p90 {fmt_us(entry['kijun']['p90_us'])}", flush=True)

    tables: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kijun-bench-") as tmp:
        for gen, entry in zip(gens, entries, strict=True):
            speedup: dict[str, float] = {}
            for cls in engines:
                k = plan.baseline_samples.get(gen.n_rules, min(plan.baseline_samples.values()))
                r = bench_baseline(cls, gen, k, Path(tmp))
                entry[cls.name] = r
                speedup[cls.name] = r["median_us"] / entry["kijun"]["median_us"]
                print(f"  {gen.name:<12} {cls.name:<13} median {fmt_us(r['median_us'])} "
                      f"(n={k}), {speedup[cls.name]:,.0f}× kijun", flush=True)
            entry["speedup"] = speedup
            tables.append(entry)

    frames = []
    for policy in POLICIES if not args.feel_only else ():
        reference["frame"].append(reference_workload())
        f = bench_frame(policy, plan)
        frames.append(f)
        print(f"decide_frame {policy} {f['rules']} × {f['rows']:,}: median {f['median_s']:.3f} s",
              flush=True)

    feel = None
    if not args.no_feel:
        print("FEEL/DMN: the FEEL-heavy model, one expression, the TCK", flush=True)
        try:
            feel = bench_feel.run(feel_plan, mismatch, reference_workload, reference["feel"],
                                  tck_dir=args.tck,
                                  log=lambda line: print("  " + line, flush=True))
        except Exception as e:  # keep the other results; the run fails below
            import traceback

            traceback.print_exc()
            mismatch("FEEL/DMN", "bench_feel.run", None, None, "results",
                     f"raised {type(e).__name__}: {e}")

    at_1000 = [t for t in tables if t["rules"] == 1000]
    targets: dict[str, bool | None] = {
        "kijun_1000_rules_le_20us": (all(t["kijun"]["median_us"] <= TARGET_KIJUN_US_AT_1000
                                         for t in at_1000) if at_1000 else None),
        "frame_1m_rows_le_1s": (all(f["median_s"] <= TARGET_FRAME_S for f in frames)
                                if plan.frame_rows >= 1_000_000 else None),
    }
    for name, want in TARGET_SPEEDUP.items():
        got = [t["speedup"][name] for t in at_1000 if name in t["speedup"]]
        targets[f"{name}_speedup_ge_{int(want)}x"] = (all(x >= want for x in got)
                                                     if got else None)
    targets["identical_outputs"] = not MISMATCHES

    info["loadavg_at_end"] = _loadavg()
    results = {
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "baselines": not args.no_baselines,
        "seed": SEED,
        "decide_on": DECIDE_ON.isoformat(),
        "machine": info,
        "timer_overhead_us": overhead,
        "reference_workload_us": {
            phase: ({"median": statistics.median(xs), "min": min(xs), "max": max(xs),
                     "samples": xs} if xs else None)
            for phase, xs in reference.items()
        },
        "baseline_import_s": import_s,
        "tables": tables,
        "frame": frames,
        "feel": feel,
        "targets": targets,
        "mismatches": MISMATCHES,
    }
    print_report(results)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    name = "latest" if complete else ("quick" if args.quick else "partial")
    out = RESULTS_DIR / f"{name}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str) + "\n",
                   encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    if (complete or args.docs) and not args.no_docs:
        write_doc(results)
        print(f"rewrote the generated section of {DOC.relative_to(ROOT)}")
    if MISMATCHES:
        print(f"FAILED: {len(MISMATCHES)} mismatch(es), see above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
