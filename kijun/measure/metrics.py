"""Process metrics of an event log, with exact definitions (Polars, vectorised).

Which events count. Events are ordered within a case by timestamp, ties in
file order (``position``). When the log follows the XES standard lifecycle —
at least one event's ``lifecycle`` is ``complete`` (any case) — only the
``complete`` events count; a ``start`` event still gives the start of the
next ``complete`` of the same activity in the same case (the earliest
``start`` after the previous ``complete`` of that activity). When no event
is ``complete``, every event counts. A case is counted when it has at least
one counted event. An event's start is its own ``start`` timestamp if it has
one, else the paired ``start`` event's.

The metrics (times in seconds; quantiles interpolate linearly, like
``numpy.quantile``'s default):

- ``events``, ``cases``, ``activities`` (distinct), ``resources`` (distinct,
  missing excluded), ``variants`` (distinct activity sequences);
- ``lead_time_mean|median|p90``: per case, last − first timestamp;
  ``lead_time_business_*``: the same in business hours (:mod:`.business_hours`);
- ``rework_cases``: cases in which some activity occurs more than once;
  ``first_time_right_rate`` = 1 − rework_cases / cases;
  ``rework_events`` = Σ over cases (events − distinct activities);
- ``round_trips``: events whose activity already occurred earlier in the case
  and whose immediately preceding event has a different activity (a return to
  an earlier step); ``return_rate``: share of cases with at least one;
  ``self_loops``: consecutive pairs with the same activity;
- ``handoffs``: consecutive pairs whose resources are both known and differ;
  ``handoffs_mean`` = handoffs / cases (the mean over cases);
- ``resource_hhi`` = Σ (share of events per resource)², over events with a
  resource; ``top3_resource_share``: the three largest shares summed;
  ``role_hhi``, ``top3_role_share`` the same per role;
- ``service_time_*``: timestamp − start, over events with a start;
  ``waiting_time_*``: start − the timestamp of the case's preceding counted
  event (0 when they overlap), over events with a start and a predecessor;
  ``timed_events``: events with a start.

Per group (:func:`metrics_by`): for ``month`` a case belongs to the month
(local time) of its first counted event, and every metric is computed on the
cases of that month. For ``activity``, ``resource``, ``role`` and
``department`` an event belongs to its own group; event quantities (events, rework events,
round trips, self loops, hand-offs, waiting and service times, concentration)
are counted at the event — a pair at its later event — and case quantities
(cases, variants, lead times, rework cases, returns) are over the cases with
at least one event in the group, a case counting as rework (or returned)
there when one of its rework (round-trip) events is in the group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from kijun.measure.business_hours import BusinessHours
from kijun.measure.log import EventLog


@dataclass(frozen=True)
class MetricInfo:
    """A metric's name, its Japanese label, its unit and which way is better."""

    name: str
    label: str
    unit: Literal["count", "seconds", "business_seconds", "rate", "share", "index",
                  "per_case"]
    better: Literal["lower", "higher"] | None = None


METRICS: tuple[MetricInfo, ...] = (
    MetricInfo("events", "イベント数", "count"),
    MetricInfo("cases", "案件数", "count"),
    MetricInfo("activities", "作業の種類", "count"),
    MetricInfo("resources", "担当者数", "count"),
    MetricInfo("variants", "処理の流れの種類（バリアント）", "count"),
    MetricInfo("lead_time_mean", "リードタイム（平均）", "seconds", "lower"),
    MetricInfo("lead_time_median", "リードタイム（中央値）", "seconds", "lower"),
    MetricInfo("lead_time_p90", "リードタイム（90パーセンタイル）", "seconds", "lower"),
    MetricInfo("lead_time_business_mean", "開庁時間でのリードタイム（平均）",
               "business_seconds", "lower"),
    MetricInfo("lead_time_business_median", "開庁時間でのリードタイム（中央値）",
               "business_seconds", "lower"),
    MetricInfo("lead_time_business_p90", "開庁時間でのリードタイム（90パーセンタイル）",
               "business_seconds", "lower"),
    MetricInfo("rework_cases", "手戻りのあった案件数", "count", "lower"),
    MetricInfo("first_time_right_rate", "一発完了率", "rate", "higher"),
    MetricInfo("rework_events", "やり直した作業の件数", "count", "lower"),
    MetricInfo("round_trips", "差し戻し（前の工程へ戻った回数）", "count", "lower"),
    MetricInfo("return_rate", "差し戻し率", "rate", "lower"),
    MetricInfo("self_loops", "同じ作業の繰り返し", "count", "lower"),
    MetricInfo("handoffs", "引き継ぎ回数", "count", "lower"),
    MetricInfo("handoffs_mean", "1件あたりの引き継ぎ回数", "per_case", "lower"),
    MetricInfo("resource_hhi", "担当者への集中度（HHI）", "index", "lower"),
    MetricInfo("top3_resource_share", "上位3人の担当割合", "share", "lower"),
    MetricInfo("role_hhi", "役割への集中度（HHI）", "index", "lower"),
    MetricInfo("top3_role_share", "上位3役割の割合", "share", "lower"),
    MetricInfo("timed_events", "開始時刻のあるイベント数", "count"),
    MetricInfo("waiting_time_mean", "待ち時間（平均）", "seconds", "lower"),
    MetricInfo("waiting_time_median", "待ち時間（中央値）", "seconds", "lower"),
    MetricInfo("waiting_time_p90", "待ち時間（90パーセンタイル）", "seconds", "lower"),
    MetricInfo("service_time_mean", "作業時間（平均）", "seconds"),
    MetricInfo("service_time_median", "作業時間（中央値）", "seconds"),
    MetricInfo("service_time_p90", "作業時間（90パーセンタイル）", "seconds"),
)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
METRIC_INFO: dict[str, MetricInfo] = {m.name: m for m in METRICS}
_COUNTS = frozenset(m.name for m in METRICS if m.unit == "count")

GROUPINGS: tuple[str, ...] = ("activity", "resource", "role", "department", "month")


@dataclass(frozen=True)
class Prepared:
    """A log made ready for the metrics.

    ``events``: the counted events, ordered (case, timestamp, position), with
    per-event flags (repeat, round_trip, self_loop, handoff) and times
    (service, waiting); ``cases``: one row per counted case (first, last,
    lead, lead_business, month, variant, counts); ``complete_only`` says
    whether the lifecycle rule applied.
    """

    events: pl.DataFrame
    cases: pl.DataFrame
    complete_only: bool
    hours: BusinessHours


def _seconds(e: pl.Expr) -> pl.Expr:
    return e.dt.total_microseconds().cast(pl.Float64) / 1e6


def prepare(log: EventLog, hours: BusinessHours | None = None) -> Prepared:
    """Select the counted events, pair starts, and compute the per-event and per-case columns."""
    hours = hours or BusinessHours()
    lc = pl.col("_lc")
    base = log.events.select(
        "case", "activity", "timestamp", "start", "resource", "role", "department",
        "position",
        _lc=pl.col("lifecycle").str.to_lowercase(),
        # integer codes sort and compare faster than the strings; fresh categories (not the
        # global ones) number values in order of appearance, the same in every process
        _c=pl.col("case").cast(pl.Categorical(pl.Categories.random())).to_physical(),
        _a=pl.col("activity").cast(pl.Categorical(pl.Categories.random())).to_physical(),
    ).lazy()
    complete_only = bool(base.select((lc == "complete").any()).collect().item() or False)
    if complete_only:
        is_c = pl.col("_complete")
        # runs of (case, activity) in time order, cut after each complete: a complete's
        # start is the first row of its run when that row is a start
        new_run = ((pl.col("_c") != pl.col("_c").shift(1))
                   | (pl.col("_a") != pl.col("_a").shift(1))
                   | is_c.shift(1)).fill_null(True)
        paired = pl.when(pl.col("_run_start") & ~new_run).then(pl.col("_run_ts"))
        counted = (
            base.filter(lc.is_in(["start", "complete"]))
            .with_columns(_complete=lc == "complete")
            .sort("_c", "_a", "timestamp", "position")
            .with_columns(
                _run_ts=pl.when(new_run).then(pl.col("timestamp")).forward_fill(),
                _run_start=pl.when(new_run).then(~is_c).forward_fill())
            .with_columns(pl.coalesce("start", paired).alias("start"))
            .filter(is_c)
            .drop("_complete", "_run_ts", "_run_start", "_lc"))
    else:
        counted = base.drop("_lc")
    same = pl.col("_c") == pl.col("_c").shift(1)
    prev_activity = pl.when(same).then(pl.col("_a").shift(1))
    prev_resource = pl.when(same).then(pl.col("resource").shift(1))
    prev_ts = pl.when(same).then(pl.col("timestamp").shift(1))
    events = (
        counted.sort("_c", "timestamp", "position")
        .with_columns(
            repeat=~pl.struct("_c", "_a").is_first_distinct(),
            self_loop=(prev_activity == pl.col("_a")).fill_null(False),
            _differs=(prev_activity != pl.col("_a")).fill_null(False),
            handoff=(prev_resource != pl.col("resource")).fill_null(False),
            service=_seconds(pl.col("timestamp") - pl.col("start")),
            waiting=_seconds(pl.col("start") - prev_ts).clip(lower_bound=0.0),
        )
        .with_columns(round_trip=pl.col("repeat") & pl.col("_differs"))
        .drop("_differs")
        .collect()
    )
    cases = (
        events.lazy().group_by("_c").agg(
            case=pl.col("case").first(),
            first=pl.col("timestamp").first(),
            last=pl.col("timestamp").last(),
            n=pl.len(),
            distinct=pl.len() - pl.col("repeat").sum(),
            rework=pl.col("repeat").any(),
            returned=pl.col("round_trip").any(),
            variant=pl.col("activity").str.join("\x1f"),
        )
        .sort("case")  # case ids, not codes: the same order in every process
        .with_columns(
            lead=_seconds(pl.col("last") - pl.col("first")),
            month=pl.col("first").dt.convert_time_zone(hours.timezone).dt.strftime("%Y-%m"),
        )
        .collect()
    )
    clock = hours.clock(pl.concat([cases["first"], cases["last"]]))
    n = cases.height
    cases = cases.with_columns(lead_business=clock.slice(n, n) - clock.slice(0, n))
    return Prepared(events, cases, complete_only, hours)


def _table(p: Prepared, by: str | None) -> pl.DataFrame:
    e = p.events.lazy()
    cs = p.cases.lazy()
    if by is None:
        e = e.with_columns(_g=pl.lit("all"))
    elif by == "month":
        e = e.join(cs.select("case", pl.col("month").alias("_g")), on="case", how="left")
    elif by in ("activity", "resource", "department", "role"):
        e = e.with_columns(pl.col(by).alias("_g"))
    else:
        raise ValueError(f"cannot group by {by!r}: choose one of {', '.join(GROUPINGS)}")
    g = "_g"

    def link(left: pl.LazyFrame, right: pl.LazyFrame) -> pl.LazyFrame:
        return left.join(right, on=g, how="left", nulls_equal=True)

    def quantiles(col: str, name: str) -> list[pl.Expr]:
        v = pl.col(col).drop_nulls()
        return [v.mean().alias(f"{name}_mean"), v.median().alias(f"{name}_median"),
                v.quantile(0.9, "linear").alias(f"{name}_p90")]

    # distinct counts by grouping on the value (Polars 2.1's n_unique in an aggregation
    # miscounts some string columns)
    def distinct(col: str, name: str, frame: pl.LazyFrame) -> pl.LazyFrame:
        return (frame.filter(pl.col(col).is_not_null()).group_by(g, col).len()
                .group_by(g).agg(pl.len().alias(name)))

    per_event = e.group_by(g).agg(
        *quantiles("waiting", "waiting_time"),
        *quantiles("service", "service_time"),
        events=pl.len(),
        rework_events=pl.col("repeat").sum(),
        round_trips=pl.col("round_trip").sum(),
        self_loops=pl.col("self_loop").sum(),
        handoffs=pl.col("handoff").sum(),
        timed_events=pl.col("start").is_not_null().sum(),
    )
    # (sorted before each aggregation, so that float sums add up in the same order every run)
    touched = (
        e.group_by(g, "case").agg(rework=pl.col("repeat").any(),
                                  returned=pl.col("round_trip").any())
        .join(cs.select("case", "lead", "lead_business", "variant"), on="case", how="left")
        .sort(g, "case")
    )
    per_case = touched.group_by(g).agg(
        *quantiles("lead", "lead_time"),
        *quantiles("lead_business", "lead_time_business"),
        cases=pl.len(),
        rework_cases=pl.col("rework").sum(),
        _returned=pl.col("returned").sum(),
    )

    def concentration(col: str, hhi: str, top3: str) -> pl.LazyFrame:
        share = pl.col("len") / pl.col("len").sum().over(g)
        return (e.filter(pl.col(col).is_not_null()).group_by(g, col).len()
                .sort(g, col)
                .with_columns(share=share)
                .group_by(g).agg((pl.col("share") ** 2).sum().alias(hhi),
                                 pl.col("share").top_k(3).sum().alias(top3)))

    table = link(per_case, per_event)
    for part in (distinct("activity", "activities", e), distinct("resource", "resources", e),
                 distinct("variant", "variants", touched),
                 concentration("resource", "resource_hhi", "top3_resource_share"),
                 concentration("role", "role_hhi", "top3_role_share")):
        table = link(table, part)
    return (
        table.with_columns(
            first_time_right_rate=1.0 - pl.col("rework_cases") / pl.col("cases"),
            return_rate=pl.col("_returned") / pl.col("cases"),
            handoffs_mean=pl.col("handoffs") / pl.col("cases"),
            resources=pl.col("resources").fill_null(0),
        )
        .select(pl.col(g), *(
            pl.col(m).cast(pl.Int64) if m in _COUNTS else pl.col(m).cast(pl.Float64)
            for m in METRIC_NAMES))
        .collect()
    )


def _empty_metrics() -> dict[str, float | int | None]:
    return {m: (0 if m in _COUNTS else None) for m in METRIC_NAMES}


def compute_metrics(
    log: EventLog | Prepared, hours: BusinessHours | None = None
) -> dict[str, float | int | None]:
    """Every metric of the log, by name (see the module's docstring for the definitions)."""
    p = log if isinstance(log, Prepared) else prepare(log, hours)
    if p.events.is_empty():
        return _empty_metrics()
    row = _table(p, None).row(0, named=True)
    return {m: row[m] for m in METRIC_NAMES}


def metrics_by(
    log: EventLog | Prepared, by: str, hours: BusinessHours | None = None
) -> pl.DataFrame:
    """One row per group (activity, resource, role, department or month), then every metric.

    Rows are sorted by the group (months in time order; a missing resource or
    department sorts last, as null).
    """
    if by not in GROUPINGS:
        raise ValueError(f"cannot group by {by!r}: choose one of {', '.join(GROUPINGS)}")
    p = log if isinstance(log, Prepared) else prepare(log, hours)
    if p.events.is_empty():
        return pl.DataFrame(schema={by: pl.String, **{
            m: (pl.Int64 if m in _COUNTS else pl.Float64) for m in METRIC_NAMES}})
    return _table(p, by).rename({"_g": by}).sort(by, nulls_last=True)


def describe(p: Prepared) -> dict[str, Any]:
    """What the metrics were computed on: counted events, the lifecycle rule, the hours."""
    return {
        "counted": "complete events only (XES lifecycle)" if p.complete_only else "every event",
        "complete_only": p.complete_only,
        "business_hours": p.hours.to_dict(),
    }
