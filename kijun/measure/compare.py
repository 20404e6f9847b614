"""Before/after: the metrics of two parts of a log, their difference and its uncertainty.

A log is split into two parts of whole cases — by the date a case started
(its earliest event, local date in the business-hours time zone) or by an
attribute — and every metric is computed on each part. The 95% confidence
interval of each difference (after − before) is a percentile bootstrap:
``resamples`` times, the cases of each part are drawn with replacement (as
many as the part has), the metrics recomputed on the draw, and the 2.5th and
97.5th percentiles of the differences taken. The draws come from a fixed
seed, so the same log gives the same interval. The number of cases and the
counts of distinct activities, resources and variants get no interval (see
:data:`NO_INTERVAL`). A plain-Japanese summary
states the main changes and whether each interval excludes zero.

The bootstrap works on per-case arrays: a draw is a vector of how many times
each case was drawn, and every metric is written as a weighted sum, count
or weighted quantile over cases (or over events weighted by their case), so
a draw costs a few NumPy operations. With every weight 1 these give exactly
:func:`~kijun.measure.metrics.compute_metrics`'s values (the tests check it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from kijun.measure.business_hours import BusinessHours
from kijun.measure.log import EventLog, decode_attributes
from kijun.measure.metrics import METRIC_INFO, METRIC_NAMES, Prepared, compute_metrics, prepare

SEED = 20260401
RESAMPLES = 1000

#: metrics without a bootstrap interval: the number of cases is fixed by the resampling, and
#: a resample cannot show distinct values it left out, so distinct counts would come out biased
NO_INTERVAL = frozenset({"cases", "activities", "resources", "variants"})

Value = float | int | None


# -- splitting -----------------------------------------------------------------------------------


def split_by_date(log: EventLog, day: date, timezone: str = "Asia/Tokyo"
                  ) -> tuple[EventLog, EventLog]:
    """Cases that started before ``day`` (local date) and those that started on or after it."""
    starts = (log.events.group_by("case").agg(pl.col("timestamp").min())
              .with_columns(pl.col("timestamp").dt.convert_time_zone(timezone).dt.date()
                            .alias("day")))
    before = starts.filter(pl.col("day") < day)["case"]
    after = starts.filter(pl.col("day") >= day)["case"]
    return log.select_cases(before), log.select_cases(after)


_EVENT_COLUMNS = ("activity", "resource", "role", "department", "lifecycle")


def split_by_attribute(log: EventLog, name: str, value: str) -> tuple[EventLog, EventLog]:
    """Cases whose attribute ``name`` is not ``value``, and those where it is.

    ``name`` is looked up first among the cases' (trace) attributes; if no case
    has it, among the events: an event column (activity, resource, role,
    department, lifecycle) or an event attribute, a case matching when any of
    its events does. Values compare as text (the XES lexical value).
    """
    matching = _cases_with(log, name, value)
    if matching is None:
        raise ValueError(f"no case or event has an attribute {name!r}")
    all_cases = log.cases["case"]
    rest = all_cases.filter(~all_cases.is_in(matching.implode()))
    return log.select_cases(rest), log.select_cases(matching)


def _cases_with(log: EventLog, name: str, value: str) -> pl.Series | None:
    needle = _json_key(name)
    with_attrs = log.cases.filter(pl.col("attributes").str.contains(needle, literal=True))
    if with_attrs.height:
        hits = [
            case for case, text in with_attrs.select("case", "attributes").iter_rows()
            if any(a.key == name and a.value == value for a in decode_attributes(text))]
        return pl.Series("case", hits, dtype=pl.String)
    if name in _EVENT_COLUMNS:
        if log.events[name].is_null().all():
            return None
        return log.events.filter(pl.col(name) == value)["case"].unique()
    events = log.events.filter(pl.col("attributes").str.contains(needle, literal=True))
    if not events.height:
        return None
    found = {
        case for case, text in events.select("case", "attributes").iter_rows()
        if any(a.key == name and a.value == value for a in decode_attributes(text))}
    return pl.Series("case", sorted(found), dtype=pl.String)


def _json_key(name: str) -> str:
    import json

    return json.dumps(name, ensure_ascii=False) + ":"


# -- per-case arrays and weighted metrics -------------------------------------------------------


@dataclass(frozen=True)
class CaseArrays:
    """A prepared log as NumPy arrays, one entry per counted case (or per event/pair)."""

    n: np.ndarray
    repeats: np.ndarray
    rework: np.ndarray
    returned: np.ndarray
    round_trips: np.ndarray
    self_loops: np.ndarray
    handoffs: np.ndarray
    timed: np.ndarray
    variant: np.ndarray
    lead_order: np.ndarray
    lead_sorted: np.ndarray
    business_order: np.ndarray
    business_sorted: np.ndarray
    act_pairs: tuple[np.ndarray, np.ndarray]
    res_pairs: tuple[np.ndarray, np.ndarray, np.ndarray]
    role_pairs: tuple[np.ndarray, np.ndarray, np.ndarray]
    waiting: tuple[np.ndarray, np.ndarray]
    service: tuple[np.ndarray, np.ndarray]
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def cases(self) -> int:
        return int(self.n.shape[0])


def case_arrays(p: Prepared) -> CaseArrays:
    """The per-case arrays behind :func:`weighted_metrics`."""
    cases = p.cases
    index = cases.select("_c", _i=pl.int_range(pl.len(), dtype=pl.Int64))
    ev = p.events.join(index, on="_c", how="left", maintain_order="left")
    per_case = (ev.group_by("_i").agg(
        round_trips=pl.col("round_trip").sum(), self_loops=pl.col("self_loop").sum(),
        handoffs=pl.col("handoff").sum(), timed=pl.col("start").is_not_null().sum())
        .sort("_i"))

    def col(name: str) -> np.ndarray:
        return per_case[name].to_numpy().astype(np.float64)

    def codes(s: pl.Series) -> tuple[np.ndarray, int]:
        # dense codes in the values' sort order: the same arrays on every run
        code = (s.cast(pl.String).rank("dense").cast(pl.Int64) - 1).to_numpy()
        return code.astype(np.int64), int(code.max() + 1) if code.size else 0

    def pairs(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        f = (ev.filter(pl.col(name).is_not_null()).group_by("_i", name).len()
             .sort("_i", name))
        code, size = codes(f[name])
        return (f["_i"].to_numpy().astype(np.int64), code,
                f["len"].to_numpy().astype(np.float64), size)

    a_case, a_code, _, n_act = pairs("activity")
    r_case, r_code, r_count, n_res = pairs("resource")
    o_case, o_code, o_count, n_role = pairs("role")
    variant, n_var = codes(cases["variant"])

    def values(name: str) -> tuple[np.ndarray, np.ndarray]:
        f = ev.filter(pl.col(name).is_not_null()).sort(name)
        return f["_i"].to_numpy().astype(np.int64), f[name].to_numpy().astype(np.float64)

    lead = cases["lead"].to_numpy().astype(np.float64)
    business = cases["lead_business"].to_numpy().astype(np.float64)
    lead_order = np.argsort(lead, kind="stable")
    business_order = np.argsort(business, kind="stable")
    n = cases["n"].to_numpy().astype(np.float64)
    return CaseArrays(
        n=n, repeats=n - cases["distinct"].to_numpy().astype(np.float64),
        rework=cases["rework"].to_numpy().astype(np.float64),
        returned=cases["returned"].to_numpy().astype(np.float64),
        round_trips=col("round_trips"), self_loops=col("self_loops"),
        handoffs=col("handoffs"), timed=col("timed"), variant=variant,
        lead_order=lead_order, lead_sorted=lead[lead_order],
        business_order=business_order, business_sorted=business[business_order],
        act_pairs=(a_case, a_code), res_pairs=(r_case, r_code, r_count),
        role_pairs=(o_case, o_code, o_count),
        waiting=values("waiting"), service=values("service"),
        sizes={"activity": n_act, "resource": n_res, "role": n_role, "variant": n_var},
    )


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    # einsum, not ``@``: BLAS may start threads for a dot product, slow on a busy machine
    return float(np.einsum("i,i->", a, b))


def _wquantiles(sorted_values: np.ndarray, weights: np.ndarray
                ) -> tuple[float | None, float | None, float | None]:
    """Mean, median and p90 of values repeated by integer weights (linear interpolation)."""
    total = float(weights.sum()) if weights.size else 0.0
    if total <= 0:
        return None, None, None
    mean = _dot(weights, sorted_values) / total
    cum = np.cumsum(weights)
    out: list[float] = []
    for q in (0.5, 0.9):
        h = (total - 1) * q
        lo = math.floor(h)
        frac = h - lo
        i_lo = int(np.searchsorted(cum, lo, side="right"))
        i_hi = int(np.searchsorted(cum, min(lo + 1, total - 1), side="right"))
        v_lo, v_hi = float(sorted_values[i_lo]), float(sorted_values[i_hi])
        out.append(v_lo + frac * (v_hi - v_lo))
    return mean, out[0], out[1]


def _concentration(pairs: tuple[np.ndarray, np.ndarray, np.ndarray], size: int,
                   w: np.ndarray) -> tuple[float | None, float | None]:
    case, code, count = pairs
    if not size:
        return None, None
    totals = np.bincount(code, weights=w[case] * count, minlength=size)
    all_ = totals.sum()
    if all_ <= 0:
        return None, None
    share = totals / all_
    top = np.sort(share)[::-1][:3]
    return float((share ** 2).sum()), float(top.sum())


def weighted_metrics(d: CaseArrays, w: np.ndarray) -> dict[str, Value]:
    """The metrics of the cases repeated ``w[i]`` times (integer weights, one per case)."""
    cases = float(w.sum())
    if cases <= 0:
        return {m: (0 if METRIC_INFO[m].unit == "count" else None) for m in METRIC_NAMES}
    m: dict[str, Value] = {}
    m["events"] = round(_dot(w, d.n))
    m["cases"] = round(cases)
    a_case, a_code = d.act_pairs
    m["activities"] = int(np.count_nonzero(
        np.bincount(a_code, weights=w[a_case], minlength=d.sizes["activity"])))
    r_case, r_code, _ = d.res_pairs
    m["resources"] = int(np.count_nonzero(
        np.bincount(r_code, weights=w[r_case], minlength=d.sizes["resource"])))
    m["variants"] = int(np.count_nonzero(
        np.bincount(d.variant, weights=w, minlength=d.sizes["variant"])))
    (m["lead_time_mean"], m["lead_time_median"],
     m["lead_time_p90"]) = _wquantiles(d.lead_sorted, w[d.lead_order])
    (m["lead_time_business_mean"], m["lead_time_business_median"],
     m["lead_time_business_p90"]) = _wquantiles(d.business_sorted, w[d.business_order])
    rework = _dot(w, d.rework)
    m["rework_cases"] = round(rework)
    m["first_time_right_rate"] = 1.0 - rework / cases
    m["rework_events"] = round(_dot(w, d.repeats))
    m["round_trips"] = round(_dot(w, d.round_trips))
    m["return_rate"] = _dot(w, d.returned) / cases
    m["self_loops"] = round(_dot(w, d.self_loops))
    handoffs = _dot(w, d.handoffs)
    m["handoffs"] = round(handoffs)
    m["handoffs_mean"] = handoffs / cases
    m["resource_hhi"], m["top3_resource_share"] = _concentration(
        d.res_pairs, d.sizes["resource"], w)
    m["role_hhi"], m["top3_role_share"] = _concentration(d.role_pairs, d.sizes["role"], w)
    m["timed_events"] = round(_dot(w, d.timed))
    for name, (case, values) in (("waiting_time", d.waiting), ("service_time", d.service)):
        (m[f"{name}_mean"], m[f"{name}_median"],
         m[f"{name}_p90"]) = _wquantiles(values, w[case])
    return {k: m[k] for k in METRIC_NAMES}


# -- the comparison ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricChange:
    """One metric in both parts: values, difference (after − before) and its 95% interval."""

    name: str
    before: Value
    after: Value
    difference: float | int | None
    ci_low: float | None
    ci_high: float | None

    @property
    def significant(self) -> bool | None:
        """Whether the interval excludes zero (None without an interval)."""
        if self.ci_low is None or self.ci_high is None:
            return None
        return self.ci_low > 0 or self.ci_high < 0

    def to_dict(self) -> dict[str, Any]:
        return {"before": self.before, "after": self.after, "difference": self.difference,
                "ci95": None if self.ci_low is None else [self.ci_low, self.ci_high],
                "significant": self.significant}


@dataclass(frozen=True)
class Comparison:
    """Before/after metrics of a split log, with bootstrap intervals and a Japanese summary."""

    split: str
    labels: tuple[str, str]
    changes: tuple[MetricChange, ...]
    resamples: int
    seed: int
    summary: tuple[str, ...]
    hours: BusinessHours

    def __getitem__(self, name: str) -> MetricChange:
        for c in self.changes:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "parts": {"before": self.labels[0], "after": self.labels[1]},
            "bootstrap": {"resamples": self.resamples, "seed": self.seed,
                          "unit": "case", "interval": "percentile 2.5–97.5"},
            "business_hours": self.hours.to_dict(),
            "metrics": {c.name: c.to_dict() for c in self.changes},
            "summary_ja": list(self.summary),
        }


def _draws(n: int, rng: np.random.Generator) -> np.ndarray:
    if n == 0:
        return np.zeros(0)
    return np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)


def compare(
    before: EventLog,
    after: EventLog,
    *,
    hours: BusinessHours | None = None,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    split: str = "",
    labels: tuple[str, str] = ("変更前", "変更後"),
    split_kind: str = "date",
) -> Comparison:
    """Compare two parts of a log: every metric, its difference and a bootstrap 95% interval."""
    hours = hours or BusinessHours()
    p_before, p_after = prepare(before, hours), prepare(after, hours)
    m_before, m_after = compute_metrics(p_before), compute_metrics(p_after)
    d_before, d_after = case_arrays(p_before), case_arrays(p_after)
    rng = np.random.default_rng(seed)
    diffs: dict[str, list[float]] = {m: [] for m in METRIC_NAMES}
    if d_before.cases and d_after.cases:
        for _ in range(resamples):
            wb = weighted_metrics(d_before, _draws(d_before.cases, rng))
            wa = weighted_metrics(d_after, _draws(d_after.cases, rng))
            for m in METRIC_NAMES:
                b, a = wb[m], wa[m]
                if b is not None and a is not None:
                    diffs[m].append(float(a) - float(b))
    changes = []
    for m in METRIC_NAMES:
        b, a = m_before[m], m_after[m]
        diff: float | int | None = None
        if a is not None and b is not None:
            diff = a - b if isinstance(a, int) and isinstance(b, int) else float(a) - float(b)
        lo = hi = None
        got = diffs[m]
        if m not in NO_INTERVAL and diff is not None and got and len(got) >= resamples / 2:
            lo, hi = (float(x) for x in np.percentile(np.array(got), [2.5, 97.5]))
        changes.append(MetricChange(m, b, a, diff, lo, hi))
    summary = summarise_ja(changes, labels=labels, by_date=split_kind == "date")
    return Comparison(split, labels, tuple(changes), resamples, seed, tuple(summary), hours)


# -- plain Japanese ------------------------------------------------------------------------------

# rates and per-case figures (a count such as rework_events grows with the part's size)
_SUMMARY = ("cases", "lead_time_median", "lead_time_business_median", "return_rate",
            "first_time_right_rate", "handoffs_mean", "resource_hhi",
            "waiting_time_median", "service_time_median")


def _unit_for(name: str, values: list[float]) -> tuple[str, float, int]:
    unit = METRIC_INFO[name].unit
    if unit == "seconds":
        biggest = max((abs(v) for v in values), default=0.0)
        if biggest >= 2 * 86400:
            return "日", 86400.0, 1
        if biggest >= 3600:
            return "時間", 3600.0, 1
        return "分", 60.0, 1
    if unit == "business_seconds":
        return "時間", 3600.0, 1
    if unit in ("rate", "share"):
        return "%", 0.01, 1
    if unit == "per_case":
        return "回", 1.0, 2
    if unit == "index":
        return "", 1.0, 3
    return "件", 1.0, 0


def _fmt(v: float, scale: float, digits: int, *, signed: bool = False) -> str:
    x = v / scale
    text = f"{abs(x):,.{digits}f}"
    if signed:
        return ("+" if x > 0 else "−" if x < 0 else "±") + text
    return ("−" if x < 0 else "") + text


def _verb(name: str, diff: float) -> str:
    unit = METRIC_INFO[name].unit
    if diff == 0:
        return "変わりません"
    if unit in ("seconds", "business_seconds"):
        return "短縮" if diff < 0 else "延長"
    if unit in ("rate", "share", "index"):
        return "低下" if diff < 0 else "上昇"
    return "減少" if diff < 0 else "増加"


def summarise_ja(changes: list[MetricChange] | tuple[MetricChange, ...], *,
                 labels: tuple[str, str] = ("変更前", "変更後"),
                 by_date: bool = True) -> list[str]:
    """Plain-Japanese sentences for the main metrics, e.g.

    「差し戻し率は 12.3% から 7.1% に低下（差 −5.2 ポイント、95%信頼区間 −7.0〜−3.4 ポイント、
    偶然とは考えにくい差）」
    """
    by_name = {c.name: c for c in changes}
    lines: list[str] = []
    for name in _SUMMARY:
        c = by_name.get(name)
        if c is None or c.before is None or c.after is None or c.difference is None:
            continue
        label = METRIC_INFO[name].label
        b, a, d = float(c.before), float(c.after), c.difference
        unit, scale, digits = _unit_for(name, [b, a])
        suffix = "" if unit in ("件", "%", "") else " "
        diff_unit = "ポイント" if unit == "%" else unit
        vb = f"{_fmt(b, scale, digits)}{suffix}{unit}"
        va = f"{_fmt(a, scale, digits)}{suffix}{unit}"
        if name == "cases":
            lines.append(f"{label}: {labels[0]} {vb}、{labels[1]} {va}。")
            empty = [lab for lab, v in zip(labels, (b, a), strict=True) if v == 0]
            if empty:
                lines.append(f"{'と'.join(empty)}に案件がないため、比べられません。")
                return lines
            continue
        if by_date:
            head = (f"{label}は {vb} のまま変わりません" if d == 0
                    else f"{label}は {vb} から {va} に{_verb(name, d)}")
        else:
            head = f"{label}は {labels[0]} {vb}、{labels[1]} {va}"
        sep = " " if diff_unit else ""
        detail = f"差 {_fmt(d, scale, digits, signed=True)}{sep}{diff_unit}"
        if c.ci_low is not None and c.ci_high is not None:
            detail += (f"、95%信頼区間 {_fmt(c.ci_low, scale, digits, signed=True)}〜"
                       f"{_fmt(c.ci_high, scale, digits, signed=True)}{sep}{diff_unit}、"
                       + ("偶然とは考えにくい差" if c.significant else "偶然の範囲内の差"))
        lines.append(f"{head}（{detail}）。")
    return lines
