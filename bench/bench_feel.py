"""FEEL and DMN benchmarks: the whole DMN TCK, a FEEL-heavy decision, one FEEL expression.

Run by bench/run.py (`make bench`; `bench/run.py --feel-only` for this part
alone). Three measurements, each with its same-run comparison:

- **TCK**: `run_tck` on compliance levels 2 and 3, several runs, median wall
  time and cases per second. Beside it, a split of the same work: loading and
  compiling every model folder (`tck.load_folder`), reading the test files,
  and running the cases on the already-compiled models.
- **Model** (`bench/models/feel_heavy.dmn`, a 児童手当 calculation as a
  20-entry boxed context): `DmnModels.evaluate` on a model compiled once,
  over varied applications (`applications`), against compiling it for every
  decision (from the parsed XML, and from the XML text) and against the same
  rules written in plain Python (`reference`).
- **Expression**: one FEEL expression with date arithmetic (`EXPRESSION`),
  compiled once and evaluated many times, against parsing and compiling it
  for every evaluation, and against plain Python.

Every output is checked before it is timed: the model's against `reference`
(which tests/test_bench_feel.py checks against hand-computed cases), the
expression's against `expression_reference`, the TCK's pass counts across
runs. A difference is reported through the `mismatch` callback (bench/run.py
prints it as MISMATCH and fails the run).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import random
import statistics
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "bench" / "models" / "feel_heavy.dmn"
DECISION = "児童手当"
TCK = ROOT.parent / "shared" / "dmn-tck"
TCK_LEVELS = ("compliance-level-2", "compliance-level-3")
SEED = 20250401

#: 高校生年代: is the child, on 基準日, at most in the school year in which it reaches 18?
EXPRESSION = (
    '基準日 <= date((生年月日 + duration("P18Y") - duration("P1D")).year'
    ' + (if (生年月日 + duration("P18Y") - duration("P1D")).month >= 4 then 1 else 0), 3, 31)'
)
EXPRESSION_NAMES = ("生年月日", "基準日")

Mismatch = Callable[[str, str, int | None, Any, Any, Any], None]


@dataclass(frozen=True)
class FeelPlan:
    tck_runs: int
    applications: int
    model_rounds: int
    recompile_per_round: int
    expression_inputs: int
    expression_rounds: int
    expression_compile_per_round: int


FULL = FeelPlan(tck_runs=7, applications=200, model_rounds=20, recompile_per_round=10,
                expression_inputs=1000, expression_rounds=20, expression_compile_per_round=50)
QUICK = FeelPlan(tck_runs=1, applications=50, model_rounds=3, recompile_per_round=3,
                 expression_inputs=200, expression_rounds=3, expression_compile_per_round=10)


# --------------------------------------------------------------------------- inputs

NAMES = ("葵", "蓮", "陽翔", "結菜", "湊", "凛", "大和", "陽菜", "蒼", "紬", "一郎", "花子")


def applications(n: int, seed: int = SEED) -> list[dict[str, Any]]:
    """Varied applications: dates over three fiscal years, 0–5 children of 0–24 years.

    Every tenth child is a twin of the one before (same birth date), and one in
    ten is not in the applicant's custody.
    """
    rng = random.Random(seed)
    first = dt.date(2024, 4, 1)
    out = []
    for _ in range(n):
        applied = first + dt.timedelta(days=rng.randrange(3 * 365))
        event = applied - dt.timedelta(days=rng.choice((rng.randrange(16), rng.randrange(90))))
        k = rng.choices(range(6), weights=(5, 30, 35, 18, 8, 4))[0]
        names = rng.sample(NAMES, k)
        children: list[dict[str, Any]] = []
        for name in names:
            if children and rng.random() < 0.1:
                born = children[-1]["生年月日"]
            else:
                born = applied - dt.timedelta(days=rng.randrange(24 * 365))
            children.append({"氏名": name, "生年月日": born, "監護": rng.random() >= 0.1})
        children.sort(key=lambda c: c["生年月日"])
        out.append({"申請日": applied, "事由発生日": event, "子ども": children})
    return out


def expression_inputs(n: int, seed: int = SEED) -> list[dict[str, dt.date]]:
    """Birth dates within 20 years of the reference date, a fifth of them on 1 or 2 April."""
    rng = random.Random(seed + 1)
    out = []
    for _ in range(n):
        ref = dt.date(2024, 4, 1) + dt.timedelta(days=rng.randrange(3 * 365))
        born = ref - dt.timedelta(days=rng.randrange(20 * 365))
        if rng.random() < 0.2:
            born = dt.date(born.year, 4, rng.choice((1, 2)))
        out.append({"生年月日": born, "基準日": ref})
    return out


# --------------------------------------------------------------------------- references


def _plus_years(d: dt.date, years: int) -> dt.date:
    """FEEL's date + years: 29 February becomes 28 February in a common year."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def _reaches(born: dt.date, age: int) -> dt.date:
    """The day a person reaches `age` (年齢計算ニ関スル法律: the day before the birthday)."""
    return _plus_years(born, age) - dt.timedelta(days=1)


def _fiscal_year_end(d: dt.date) -> dt.date:
    """The first 31 March on or after `d`."""
    return dt.date(d.year + (1 if d.month >= 4 else 0), 3, 31)


def _plus_months(d: dt.date, months: int) -> dt.date:
    """A first-of-month date plus whole months."""
    m = d.month - 1 + months
    return dt.date(d.year + m // 12, m % 12 + 1, 1)


def _month_end(d: dt.date) -> dt.date:
    return _plus_months(d.replace(day=1), 1) - dt.timedelta(days=1)


def expression_reference(env: Mapping[str, dt.date]) -> bool:
    """`EXPRESSION` in plain Python."""
    return env["基準日"] <= _fiscal_year_end(_reaches(env["生年月日"], 18))


def reference(application: Mapping[str, Any]) -> dict[str, Any]:
    """The model's rules in plain Python: the entries `summary` picks from the model's output."""
    ref: dt.date = application["申請日"]
    event: dt.date = application["事由発生日"]
    fiscal_end = dt.date((ref.year if ref.month >= 4 else ref.year - 1) + 1, 3, 31)
    special = 0 <= (ref - event).days <= 15
    start = _plus_months((event if special else ref).replace(day=1), 1)
    first_payment = _plus_months(start, 2 if start.month % 2 == 0 else 1)
    after = fiscal_end + dt.timedelta(days=1)
    months = max(0, (after.year - start.year) * 12 + after.month - start.month)
    kids = []
    for c in application["子ども"]:
        born = c["生年月日"]
        age = ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))
        kids.append({
            "氏名": c["氏名"],
            "生年月日": born,
            "年齢": age,
            "三歳未満": ref <= _month_end(_reaches(born, 3)),
            "支給対象": c["監護"] and born <= ref <= _fiscal_year_end(_reaches(born, 18)),
            "算定対象": c["監護"] and born <= ref <= _fiscal_year_end(_reaches(born, 22)),
        })
    counted = [k for k in kids if k["算定対象"]]
    rows = []
    for k in kids:
        if not k["支給対象"]:
            continue
        rank = 1 + sum((o["生年月日"], o["氏名"]) < (k["生年月日"], k["氏名"]) for o in counted)
        amount = 30000 if rank >= 3 else 15000 if k["三歳未満"] else 10000
        rows.append((k["氏名"], k["年齢"], rank, k["三歳未満"], amount))
    total = sum(r[4] for r in rows)
    third = sum(r[2] >= 3 for r in rows)
    if rows:
        reason = (f"支給対象児童{len(rows)}人（うち多子加算{third}人）、月額{total}円、"
                  f"{start.year}年{start.month}月分から" + ("（15日特例）" if special else ""))
    else:
        reason = "監護する高校生年代までの児童がいません"
    return {
        "特例適用": special,
        "支給開始月": start,
        "初回支払月": first_payment,
        "支給月数": months,
        "支給対象児童数": len(rows),
        "算定対象児童数": len(counted),
        "明細": rows,
        "月額合計": total,
        "多子加算人数": third,
        "年度内支給見込額": total * months,
        "判定": "支給" if rows else "対象外",
        "理由": reason,
    }


def _plain(x: Any) -> Any:
    if isinstance(x, Decimal) and x == x.to_integral_value():
        return int(x)
    return x


def summary(result: Any) -> Any:
    """The entries of the model's output that `reference` computes, in its shape."""
    if not isinstance(result, dict):
        return result
    out = {k: _plain(result.get(k)) for k in
           ("特例適用", "支給開始月", "初回支払月", "支給月数", "支給対象児童数",
            "算定対象児童数", "月額合計", "多子加算人数", "年度内支給見込額", "判定", "理由")}
    rows = result.get("明細")
    out["明細"] = ([tuple(_plain(r.get(k)) for k in ("氏名", "年齢", "順位", "三歳未満", "月額"))
                  for r in rows] if isinstance(rows, list) else rows)
    return {k: out[k] for k in reference_keys()}


def reference_keys() -> tuple[str, ...]:
    return ("特例適用", "支給開始月", "初回支払月", "支給月数", "支給対象児童数", "算定対象児童数",
            "明細", "月額合計", "多子加算人数", "年度内支給見込額", "判定", "理由")


# --------------------------------------------------------------------------- timing


def _stats(ns: Sequence[int]) -> dict[str, Any]:
    q = statistics.quantiles(ns, n=10, method="inclusive") if len(ns) > 1 else [ns[0]] * 9
    med = statistics.median(ns) / 1000
    return {"median_us": med, "p90_us": q[8] / 1000, "min_us": min(ns) / 1000,
            "per_second": 1e6 / med if med else None, "timings": len(ns)}


def _time_each(call: Callable[[Any], Any], items: Sequence[Any], out: list[int]) -> None:
    pc = time.perf_counter_ns
    append = out.append
    for item in items:
        t0 = pc()
        call(item)
        append(pc() - t0)


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
    return float(a["median_us"] / b["median_us"])


# --------------------------------------------------------------------------- model


def bench_model(plan: FeelPlan, mismatch: Mismatch, reference_workload: Callable[[], float],
                ref_samples: list[float]) -> dict[str, Any]:
    from kijun.criteria.dmn import DmnModels, parse_dmn

    text = MODEL.read_bytes()
    t0 = time.perf_counter_ns()
    definitions = parse_dmn(text, source=str(MODEL))
    parse_us = (time.perf_counter_ns() - t0) / 1000
    t0 = time.perf_counter_ns()
    models = DmnModels([definitions])
    compile_us = (time.perf_counter_ns() - t0) / 1000
    apps = applications(plan.applications)

    # Correctness (and warm-up): every application against the plain-Python rules.
    bad = 0
    for i, app in enumerate(apps):
        want = reference(app)
        try:
            got = summary(models.evaluate(DECISION, app))
        except Exception as e:  # report, keep going
            got = f"raised {type(e).__name__}: {e}"
        if got != want:
            bad += 1
            mismatch("FEEL-heavy model", "kijun DmnModels.evaluate", i, app, want, got)
    fresh = summary(DmnModels([parse_dmn(text)]).evaluate(DECISION, apps[0]))
    if fresh != reference(apps[0]):
        bad += 1
        mismatch("FEEL-heavy model", "kijun parse_dmn + DmnModels + evaluate", 0, apps[0],
                 reference(apps[0]), fresh)

    def compiled(app: Mapping[str, Any]) -> Any:
        return models.evaluate(DECISION, app)

    def recompiled(app: Mapping[str, Any]) -> Any:
        return DmnModels([definitions]).evaluate(DECISION, app)

    def reparsed(app: Mapping[str, Any]) -> Any:
        return DmnModels([parse_dmn(text)]).evaluate(DECISION, app)

    ns: dict[str, list[int]] = {"compiled": [], "recompiled": [], "reparsed": [],
                                "python": [], "parse_xml": [], "compile": []}
    k = plan.recompile_per_round
    for r in range(plan.model_rounds):
        ref_samples.append(reference_workload())
        gc.collect()
        _time_each(compiled, apps, ns["compiled"])
        _time_each(reference, apps, ns["python"])
        subset = [apps[(r * k + j) % len(apps)] for j in range(k)]
        _time_each(recompiled, subset, ns["recompiled"])
        _time_each(reparsed, subset, ns["reparsed"])
        _time_each(lambda _: parse_dmn(text), range(k), ns["parse_xml"])
        _time_each(lambda _: DmnModels([definitions]), range(k), ns["compile"])
    s = {name: _stats(v) for name, v in ns.items()}
    children = [len(a["子ども"]) for a in apps]
    return {
        "model": MODEL.relative_to(ROOT).as_posix(),
        "decision": DECISION,
        "context_entries": 20,
        "applications": len(apps),
        "children_mean": statistics.fmean(children),
        "children_max": max(children),
        "rounds": plan.model_rounds,
        "recompile_per_round": k,
        "first_parse_us": parse_us,
        "first_compile_us": compile_us,
        "mismatches": bad,
        **s,
        "recompiled_over_compiled": _ratio(s["recompiled"], s["compiled"]),
        "reparsed_over_compiled": _ratio(s["reparsed"], s["compiled"]),
        "compiled_over_python": _ratio(s["compiled"], s["python"]),
    }


# --------------------------------------------------------------------------- expression


def bench_expression(plan: FeelPlan, mismatch: Mismatch,
                     reference_workload: Callable[[], float], ref_samples: list[float]
                     ) -> dict[str, Any]:
    from kijun.criteria.feel import compile_expression, parse_expression

    inputs = expression_inputs(plan.expression_inputs)
    expr = compile_expression(EXPRESSION, names=EXPRESSION_NAMES)
    bad = 0
    for i, env in enumerate(inputs):
        want = expression_reference(env)
        got = expr.evaluate(env)
        if got is not want:
            bad += 1
            mismatch("FEEL expression", "kijun compile_expression", i, env, want, got)
        if i < 20:
            again = compile_expression(EXPRESSION, names=EXPRESSION_NAMES).evaluate(env)
            if again is not want:
                bad += 1
                mismatch("FEEL expression", "kijun compile per evaluation", i, env, want, again)

    evaluate = expr.evaluate

    def per_call(env: Mapping[str, Any]) -> Any:
        return compile_expression(EXPRESSION, names=EXPRESSION_NAMES).evaluate(env)

    ns: dict[str, list[int]] = {"compiled": [], "compile_each": [], "parse": [], "python": []}
    k = plan.expression_compile_per_round
    for r in range(plan.expression_rounds):
        ref_samples.append(reference_workload())
        gc.collect()
        _time_each(evaluate, inputs, ns["compiled"])
        _time_each(expression_reference, inputs, ns["python"])
        subset = [inputs[(r * k + j) % len(inputs)] for j in range(k)]
        _time_each(per_call, subset, ns["compile_each"])
        _time_each(lambda _: parse_expression(EXPRESSION, EXPRESSION_NAMES), range(k),
                   ns["parse"])
    s = {name: _stats(v) for name, v in ns.items()}
    return {
        "expression": EXPRESSION,
        "inputs": len(inputs),
        "rounds": plan.expression_rounds,
        "compile_per_round": k,
        "mismatches": bad,
        **s,
        "compile_each_over_compiled": _ratio(s["compile_each"], s["compiled"]),
        "compiled_over_python": _ratio(s["compiled"], s["python"]),
    }


# --------------------------------------------------------------------------- TCK


def _tck_split(level_dir: Path) -> dict[str, Any]:
    """The work of one `run_tck`, in phases: models, test files, cases.

    Uses the runner's own pieces (`test_files`, `load_folder`, `run_test_file`)
    with its cache filled beforehand; if the runner loads a model during the
    case phase anyway (its cache key changed), the split is not reported.
    """
    from kijun.criteria.dmn import read_dmn, tck
    from kijun.criteria.dmn.xml import local

    files = list(tck.test_files(level_dir))
    keys: dict[Path, tuple[Path, str | None]] = {}
    t0 = time.perf_counter()
    for path in files:
        root = ET.parse(path).getroot()
        model_el = next((c for c in root if local(c.tag) == "modelName"), None)
        model_file = model_el.text.strip() if model_el is not None and model_el.text else None
        keys.setdefault(path.parent / (model_file or ""), (path.parent, model_file))
    read_tests_s = time.perf_counter() - t0

    gc.collect()
    t0 = time.perf_counter()
    for folder in {folder for folder, _ in keys.values()}:
        for f in sorted(folder.glob("*.dmn")):
            with contextlib.suppress(Exception):  # a load error, counted by the load phase
                read_dmn(f)
    read_xml_s = time.perf_counter() - t0

    cache: dict[Path, Any] = {}
    gc.collect()
    t0 = time.perf_counter()
    for key, (folder, model_file) in keys.items():
        try:
            cache[key] = tck.load_folder(folder, model_file)
        except Exception as e:  # as run_test_file does: every case of the file errs
            cache[key] = e
    load_s = time.perf_counter() - t0

    loaded = len(cache)
    results = []
    gc.collect()
    t0 = time.perf_counter()
    for path in files:
        results.extend(tck.run_test_file(path, level_dir, cache))
    cases_s = time.perf_counter() - t0
    if len(cache) != loaded:
        return {"available": False,
                "reason": "the runner loaded models during the case phase (cache key changed)"}
    return {
        "available": True,
        "models": loaded,
        "load_s": load_s,
        "read_xml_s": read_xml_s,
        "compile_s": max(0.0, load_s - read_xml_s),
        "cases_s": cases_s,
        "read_tests_s": read_tests_s,
        "passed": sum(r.result == "SUCCESS" for r in results),
        "total": len(results),
    }


def bench_tck(plan: FeelPlan, mismatch: Mismatch, tck_dir: Path | None = None,
              reference_workload: Callable[[], float] | None = None,
              ref_samples: list[float] | None = None) -> dict[str, Any]:
    from kijun.criteria.dmn import run_tck

    root = Path(tck_dir) if tck_dir is not None else TCK
    levels = [root / lv for lv in TCK_LEVELS]
    missing = [str(p) for p in levels if not p.is_dir()]
    if missing:
        return {"skipped": f"DMN TCK not found ({', '.join(missing)}); clone "
                           "https://github.com/dmn-tck/tck to ../shared/dmn-tck to run it"}
    out: dict[str, Any] = {"dir": str(root), "runs": plan.tck_runs, "levels": []}
    for level_dir in levels:
        walls: list[float] = []
        splits: list[dict[str, Any]] = []
        counts: set[tuple[int, int, int, int]] = set()
        first: dict[str, Any] = {}
        for _ in range(plan.tck_runs):
            if reference_workload is not None and ref_samples is not None:
                ref_samples.append(reference_workload())
            gc.collect()
            t0 = time.perf_counter()
            report = run_tck(level_dir)
            walls.append(time.perf_counter() - t0)
            s = report.summary()
            first = first or s
            counts.add((s["total"], s["passed"], s["failed"], s["errors"]))
            try:
                splits.append(_tck_split(level_dir))
            except Exception as e:  # the runner's internals changed: report the total only
                splits.append({"available": False, "reason": f"{type(e).__name__}: {e}"})
        name = level_dir.name
        if len(counts) > 1:
            mismatch(f"TCK {name}", "kijun run_tck", None, None, sorted(counts)[0],
                     f"pass counts differ between runs: {sorted(counts)}")
        ok = [sp for sp in splits if sp.get("available")]
        for sp in ok:
            if (sp["total"], sp["passed"]) != (first["total"], first["passed"]):
                mismatch(f"TCK {name}", "phased run", None, None,
                         (first["total"], first["passed"]), (sp["total"], sp["passed"]))
        median = statistics.median(walls)
        entry: dict[str, Any] = {
            "level": name,
            "total": first["total"],
            "passed": first["passed"],
            "failed": first["failed"],
            "errors": first["errors"],
            "median_s": median,
            "min_s": min(walls),
            "max_s": max(walls),
            "walls_s": walls,
            "cases_per_s": first["total"] / median,
        }
        if ok:
            entry["split"] = {
                k: statistics.median(sp[k] for sp in ok)
                for k in ("load_s", "read_xml_s", "compile_s", "cases_s", "read_tests_s")
            }
            entry["split"]["models"] = ok[0]["models"]
        else:
            entry["split_unavailable"] = splits[0].get("reason") if splits else "no runs"
        out["levels"].append(entry)
    return out


# --------------------------------------------------------------------------- all


def run(plan: FeelPlan, mismatch: Mismatch, reference_workload: Callable[[], float],
        ref: list[float], tck_dir: Path | None = None,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """All three benchmarks; `reference_workload` is measured before every model and
    expression round and every TCK run (appended to `ref`)."""
    t0 = time.perf_counter()
    model = bench_model(plan, mismatch, reference_workload, ref)
    log(f"FEEL-heavy model: compiled {model['compiled']['median_us']:,.0f} µs/decision, "
        f"recompiled {model['recompiled']['median_us']:,.0f} µs "
        f"({model['recompiled_over_compiled']:,.0f}×) in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    expression = bench_expression(plan, mismatch, reference_workload, ref)
    log(f"FEEL expression: compiled {expression['compiled']['median_us']:,.1f} µs, compile each "
        f"time {expression['compile_each']['median_us']:,.0f} µs in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    tck_results = bench_tck(plan, mismatch, tck_dir, reference_workload, ref)
    if "skipped" in tck_results:
        log(f"TCK skipped: {tck_results['skipped']}")
    else:
        for lv in tck_results["levels"]:
            log(f"TCK {lv['level']}: median {lv['median_s']:.2f} s over {tck_results['runs']} "
                f"run(s), {lv['cases_per_s']:,.0f} cases/s, {lv['passed']}/{lv['total']} passed")
        log(f"TCK done in {time.perf_counter() - t0:.1f} s")
    return {
        "seed": SEED,
        "model": model,
        "expression": expression,
        "tck": tck_results,
    }


# --------------------------------------------------------------------------- report


def _s(x: float) -> str:
    return f"{x:.2f} s" if x >= 1 else f"{x * 1000:,.0f} ms"


def _us(x: float) -> str:
    return f"{x:,.1f} µs" if x < 100 else f"{x:,.0f} µs"


def _times(x: float) -> str:
    return f"{x:,.2f}×" if x < 10 else f"{x:,.0f}×"


def _rate(x: float | None) -> str:
    return "—" if not x else f"{x:,.0f}/s"


def report_lines(feel: dict[str, Any]) -> list[str]:
    """Markdown for docs/benchmarks.md (and, as plain text, the console)."""
    m, e, t = feel["model"], feel["expression"], feel["tck"]
    lines = ["### FEEL and DMN", ""]
    lines += ["#### DMN TCK run", ""]
    if "skipped" in t:
        lines += [f"Skipped: {t['skipped']}.", ""]
    else:
        lines += [
            "| level | cases | passed | median wall time | min – max | cases / s | models: "
            "read XML + compile | cases: read, evaluate, compare |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for lv in t["levels"]:
            sp = lv.get("split")
            models = (f"{_s(sp['read_xml_s'])} + {_s(sp['compile_s'])} ({sp['models']} sets)"
                      if sp else "—")
            cases = _s(sp["cases_s"]) if sp else "—"
            lines.append(
                f"| {lv['level']} | {lv['total']:,} | {lv['passed']:,} | {_s(lv['median_s'])} | "
                f"{_s(lv['min_s'])} – {_s(lv['max_s'])} | {lv['cases_per_s']:,.0f} | {models} | "
                f"{cases} |"
            )
        lines += [
            "",
            f"`run_tck` on each level, {t['runs']} runs, median wall time (it reads, compiles "
            "and evaluates everything every run). The last two columns are medians of a "
            "separate, phased run of the same work with the runner's own pieces after each "
            "run: reading every model folder's `.dmn` files, compiling them (`DmnModels`; "
            "load − read), then reading the test files and evaluating and comparing every "
            "case on the already-compiled models.",
            "",
        ]
        for lv in t["levels"]:
            if lv.get("split_unavailable"):
                lines += [f"{lv['level']}: no split ({lv['split_unavailable']}).", ""]
    lines += [
        "#### FEEL-heavy decision",
        "",
        f"`{m['model']}`, decision {m['decision']}: a 児童手当 calculation as a "
        f"{m['context_entries']}-entry boxed context (date arithmetic, `for` and filters over the "
        "children, a BKM with a decision table, string building). "
        f"{m['applications']} varied applications (mean {m['children_mean']:.1f} children, up to "
        f"{m['children_max']}), {m['rounds']} rounds; the compile-per-decision variants on "
        f"{m['recompile_per_round']} applications per round, interleaved with the others.",
        "",
        "| variant | median / decision | p90 | decisions / s | ÷ compiled once |",
        "|---|---:|---:|---:|---:|",
    ]
    rows = [
        ("compiled once: `DmnModels.evaluate`", m["compiled"], 1.0),
        ("compile per decision: `DmnModels(definitions)` + evaluate", m["recompiled"],
         m["recompiled_over_compiled"]),
        ("parse + compile per decision: `parse_dmn` + `DmnModels` + evaluate", m["reparsed"],
         m["reparsed_over_compiled"]),
        ("the same rules in plain Python (`reference`)", m["python"],
         1 / m["compiled_over_python"]),
    ]
    for label, s, ratio in rows:
        lines.append(f"| {label} | {_us(s['median_us'])} | {_us(s['p90_us'])} | "
                     f"{_rate(s['per_second'])} | {_times(ratio)} |")
    lines += [
        "",
        f"Of the per-decision compile: parsing the XML {_us(m['parse_xml']['median_us'])}, "
        f"`DmnModels` (parsing and compiling the FEEL) {_us(m['compile']['median_us'])} (medians). "
        f"The compiled model is {m['compiled_over_python']:,.0f}× slower than the plain-Python "
        f"rules. Outputs checked against `reference` on every application: "
        f"{m['mismatches']} mismatch(es).",
        "",
        "#### One FEEL expression",
        "",
        f"`{e['expression']}` — {e['inputs']:,} (生年月日, 基準日) pairs × {e['rounds']} rounds; "
        f"parsing or compiling on {e['compile_per_round']} pairs per round.",
        "",
        "| variant | median / evaluation | p90 | evaluations / s | ÷ compiled once |",
        "|---|---:|---:|---:|---:|",
        f"| compiled once: `Expression.evaluate` | {_us(e['compiled']['median_us'])} | "
        f"{_us(e['compiled']['p90_us'])} | {_rate(e['compiled']['per_second'])} | 1.00× |",
        f"| `compile_expression` + evaluate every time | {_us(e['compile_each']['median_us'])} | "
        f"{_us(e['compile_each']['p90_us'])} | {_rate(e['compile_each']['per_second'])} | "
        f"{_times(e['compile_each_over_compiled'])} |",
        f"| of which `parse_expression` alone | {_us(e['parse']['median_us'])} | "
        f"{_us(e['parse']['p90_us'])} | {_rate(e['parse']['per_second'])} | "
        f"{_times(e['parse']['median_us'] / e['compiled']['median_us'])} |",
        f"| plain Python (`expression_reference`) | {_us(e['python']['median_us'])} | "
        f"{_us(e['python']['p90_us'])} | {_rate(e['python']['per_second'])} | "
        f"{_times(1 / e['compiled_over_python'])} |",
        "",
        f"Outputs checked against `expression_reference` on every pair: {e['mismatches']} "
        "mismatch(es).",
    ]
    return lines
