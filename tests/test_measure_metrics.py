"""Process metrics on hand-made logs whose every value is worked out by hand below."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import polars as pl
import pytest

from kijun.measure import (
    METRIC_NAMES,
    BusinessHours,
    BusinessHoursError,
    Event,
    EventLog,
    EventLogError,
    compute_metrics,
    metrics_by,
)

JST = timezone(timedelta(hours=9))


def at(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=JST)


def ev(case: str, activity: str, when: datetime, resource: str | None = None,
       role: str | None = None, department: str | None = None, **kw: object) -> Event:
    return Event(case, activity, when, resource=resource, role=role,
                 department=department, **kw)  # type: ignore[arg-type]


# The town's log: 受付 (reception), 審査 (review), 決裁 (approval).
#
# c1 (2025-04-01 Tue → 04-02): 受付 審査 受付 審査 決裁 — two returns to earlier steps,
#    hand-offs 田中→佐藤→田中→佐藤→鈴木 = 4; lead 24 h = 86,400 s; in business hours
#    09:00–17:15 + 08:30–09:00 = 29,700 + 1,800 = 31,500 s.
# c2 (04-03 Thu → 04-07 Mon): 受付 審査(no resource) 審査(same time, later in the file) 決裁
#    — one self loop; hand-offs: 田中→(none) and (none)→佐藤 do not count, 佐藤→鈴木 does = 1;
#    lead 90 h = 324,000 s; business 16:00–17:15 (4,500) + Fri 04-04 (31,500) +
#    Mon 08:30–10:00 (5,400) = 41,400 s.
# c3 (04-29, 昭和の日): one event; lead 0, business 0.
# c4 (12-26 Fri 17:00 → 2026-01-05 Mon 09:00): 受付 審査 by the same person, no hand-off;
#    lead 232 h = 835,200 s; business 17:00–17:15 (900) + 01-05 08:30–09:00 (1,800) = 2,700
#    (weekend, the year-end closure 12/29–1/3, 元日 and a Sunday in between).
TOWN = [
    ev("c1", "受付", at("2025-04-01", "09:00"), "田中", "窓口", "住民課"),
    ev("c1", "審査", at("2025-04-01", "10:00"), "佐藤", "審査係", "福祉課"),
    ev("c1", "受付", at("2025-04-01", "11:00"), "田中", "窓口", "住民課"),
    ev("c1", "審査", at("2025-04-01", "13:00"), "佐藤", "審査係", "福祉課"),
    ev("c1", "決裁", at("2025-04-02", "09:00"), "鈴木", "課長", "福祉課"),
    ev("c2", "受付", at("2025-04-03", "16:00"), "田中", "窓口", "住民課"),
    ev("c2", "審査", at("2025-04-03", "16:30"), None, "審査係", "福祉課"),
    ev("c2", "審査", at("2025-04-03", "16:30"), "佐藤", "審査係", "福祉課"),
    ev("c2", "決裁", at("2025-04-07", "10:00"), "鈴木", "課長", "福祉課"),
    ev("c3", "受付", at("2025-04-29", "10:00"), "山田", "窓口", "住民課"),
    ev("c4", "受付", at("2025-12-26", "17:00"), "田中", "窓口", "住民課"),
    ev("c4", "審査", at("2026-01-05", "09:00"), "田中", "窓口", "住民課"),
]

TOWN_EXPECTED: dict[str, float | int | None] = {
    "events": 12, "cases": 4, "activities": 3, "resources": 4, "variants": 4,
    # lead: [0, 86,400, 324,000, 835,200]; p90 at h = 2.7: 324,000 + 0.7 × 511,200
    "lead_time_mean": 311_400.0, "lead_time_median": 205_200.0, "lead_time_p90": 681_840.0,
    # business: [0, 2,700, 31,500, 41,400]; p90: 31,500 + 0.7 × 9,900
    "lead_time_business_mean": 18_900.0, "lead_time_business_median": 17_100.0,
    "lead_time_business_p90": 38_430.0,
    "rework_cases": 2, "first_time_right_rate": 0.5, "rework_events": 3,
    "round_trips": 2, "return_rate": 0.25, "self_loops": 1,
    "handoffs": 5, "handoffs_mean": 1.25,
    # events with a resource: 田中 5, 佐藤 3, 鈴木 2, 山田 1 (of 11)
    "resource_hhi": (25 + 9 + 4 + 1) / 121, "top3_resource_share": 10 / 11,
    # roles: 窓口 6, 審査係 4, 課長 2 (of 12)
    "role_hhi": (36 + 16 + 4) / 144, "top3_role_share": 1.0,
    "timed_events": 0,
    "waiting_time_mean": None, "waiting_time_median": None, "waiting_time_p90": None,
    "service_time_mean": None, "service_time_median": None, "service_time_p90": None,
}


def check(got: dict[str, float | int | None], want: dict[str, float | int | None]) -> None:
    assert set(got) == set(METRIC_NAMES)
    for name, value in want.items():
        if value is None or isinstance(value, int):
            assert got[name] == value, name
            assert type(got[name]) is type(value), name
        else:
            assert got[name] == pytest.approx(value, rel=1e-12), name


def test_every_metric_on_the_town_log() -> None:
    check(compute_metrics(EventLog.from_events(TOWN)), TOWN_EXPECTED)


def test_file_order_does_not_matter_except_for_ties() -> None:
    # events given in reverse: sorted back by time; only c2's tie changes order
    reverse = EventLog.from_events(list(reversed(TOWN)))
    m = compute_metrics(reverse)
    # the tie now runs 審査(佐藤) then 審査(none): 田中→佐藤 is a hand-off, (none)→鈴木 is not
    assert m["handoffs"] == 5 and m["self_loops"] == 1
    assert m["lead_time_mean"] == TOWN_EXPECTED["lead_time_mean"]


def test_equal_timestamps_keep_file_order() -> None:
    t = at("2025-05-01", "10:00")
    forward = EventLog.from_events([
        ev("k", "P", t, "a"), ev("k", "Q", t, "b"), ev("k", "P", t + timedelta(hours=1), "a")])
    m = compute_metrics(forward)
    assert (m["round_trips"], m["self_loops"], m["handoffs"]) == (1, 0, 2)
    backward = EventLog.from_events([
        ev("k", "Q", t, "b"), ev("k", "P", t, "a"), ev("k", "P", t + timedelta(hours=1), "a")])
    m = compute_metrics(backward)
    assert (m["round_trips"], m["self_loops"], m["handoffs"]) == (0, 1, 1)


def test_one_event_cases_and_missing_resources() -> None:
    log = EventLog.from_events([
        ev("a", "受付", at("2025-06-02", "09:00")),
        ev("b", "受付", at("2025-06-02", "10:00")),
        ev("b", "審査", at("2025-06-02", "11:00"), "x"),
    ])
    m = compute_metrics(log)
    assert m["cases"] == 2 and m["events"] == 3 and m["variants"] == 2
    assert m["resources"] == 1 and m["resource_hhi"] == 1.0 and m["top3_resource_share"] == 1.0
    assert m["handoffs"] == 0 and m["handoffs_mean"] == 0.0  # a pair with a missing resource
    assert m["lead_time_mean"] == 1800.0 and m["lead_time_median"] == 1800.0
    assert m["lead_time_p90"] == pytest.approx(3240.0)  # [0, 3600]: 0.9 × 3600
    assert m["first_time_right_rate"] == 1.0 and m["rework_events"] == 0
    assert m["role_hhi"] is None and m["top3_role_share"] is None


def test_an_empty_log() -> None:
    m = compute_metrics(EventLog.from_events([]))
    assert m["events"] == 0 and m["cases"] == 0 and m["lead_time_mean"] is None
    assert metrics_by(EventLog.from_events([]), "month").is_empty()


# Lifecycle: only complete events count; start events give service and waiting times.
#
# L1: A start 9:00, A complete 9:30, B schedule 9:40, B start 10:00, B complete 11:00,
#     A start 11:10, A complete 11:20, C complete 12:00 (no start)
#     → counted A B A C; service A 1,800, B 3,600, A 600; waiting B 10:00 − 9:30 = 1,800,
#       A 11:10 − 11:00 = 600 (the first event and C have none); lead 9:30 → 12:00 = 9,000
# L2: only a start: not a counted case
# L3: A start 9:00, B start 9:05, A complete 9:10, B complete 9:20 (overlapping)
#     → service A 600, B 900; waiting B = 9:05 − 9:10 < 0 → 0; lead 600
LIFECYCLE = [
    ("L1", "A", "09:00", "START"), ("L1", "A", "09:30", "complete"),
    ("L1", "B", "09:40", "schedule"), ("L1", "B", "10:00", "start"),
    ("L1", "B", "11:00", "COMPLETE"), ("L1", "A", "11:10", "Start"),
    ("L1", "A", "11:20", "Complete"), ("L1", "C", "12:00", "complete"),
    ("L2", "A", "09:00", "start"),
    ("L3", "A", "09:00", "start"), ("L3", "B", "09:05", "start"),
    ("L3", "A", "09:10", "complete"), ("L3", "B", "09:20", "complete"),
]


def lifecycle_log() -> EventLog:
    return EventLog.from_events(
        ev(c, a, at("2025-06-03", t), "r1", lifecycle=lc) for c, a, t, lc in LIFECYCLE)


def test_lifecycle_counts_complete_events_and_pairs_starts() -> None:
    m = compute_metrics(lifecycle_log())
    assert m["events"] == 6 and m["cases"] == 2 and m["activities"] == 3
    assert m["round_trips"] == 1 and m["rework_cases"] == 1 and m["variants"] == 2
    assert m["lead_time_mean"] == (9000 + 600) / 2
    assert m["timed_events"] == 5
    # waiting [1,800, 600, 0]; service [1,800, 3,600, 600, 600, 900]
    assert m["waiting_time_mean"] == pytest.approx(800.0)
    assert m["waiting_time_median"] == 600.0
    assert m["waiting_time_p90"] == pytest.approx(1560.0)
    assert m["service_time_mean"] == pytest.approx(1500.0)
    assert m["service_time_median"] == 900.0
    assert m["service_time_p90"] == pytest.approx(2880.0)


def test_without_complete_every_event_counts() -> None:
    log = EventLog.from_events([
        ev("x", "A", at("2025-06-03", "09:00"), lifecycle="begin"),
        ev("x", "A", at("2025-06-03", "10:00"), lifecycle="end"),
        ev("x", "B", at("2025-06-03", "11:00")),
    ])
    m = compute_metrics(log)
    assert m["events"] == 3 and m["self_loops"] == 1 and m["timed_events"] == 0


def test_start_timestamps_on_the_event() -> None:
    log = EventLog.from_events([
        ev("s", "A", at("2025-06-03", "09:10"), start=at("2025-06-03", "09:00")),
        ev("s", "B", at("2025-06-03", "10:00"), start=at("2025-06-03", "09:40")),
        ev("s", "C", at("2025-06-03", "10:30")),
    ])
    m = compute_metrics(log)
    assert m["timed_events"] == 2
    assert (m["service_time_mean"], m["waiting_time_mean"]) == (900.0, 1800.0)
    assert m["lead_time_mean"] == 4800.0  # from the first complete, not the first start


def test_per_activity_attributes_each_pair_to_its_later_event() -> None:
    t = metrics_by(EventLog.from_events(TOWN), "activity")
    rows = {r["activity"]: r for r in t.to_dicts()}
    assert list(t["activity"]) == sorted(rows)
    assert (rows["受付"]["events"], rows["受付"]["cases"]) == (5, 4)
    assert (rows["受付"]["rework_cases"], rows["受付"]["round_trips"]) == (1, 1)
    assert rows["受付"]["first_time_right_rate"] == 0.75
    assert rows["受付"]["handoffs"] == 1 and rows["受付"]["handoffs_mean"] == 0.25
    assert (rows["審査"]["events"], rows["審査"]["cases"], rows["審査"]["rework_events"]) == (5, 3, 2)
    assert (rows["審査"]["self_loops"], rows["審査"]["round_trips"], rows["審査"]["handoffs"]) == (1, 1, 2)
    assert rows["審査"]["first_time_right_rate"] == pytest.approx(1 / 3)
    assert (rows["決裁"]["events"], rows["決裁"]["handoffs"]) == (2, 2)
    for name in ("events", "rework_events", "round_trips", "self_loops", "handoffs"):
        assert t[name].sum() == TOWN_EXPECTED[name], name


def test_per_resource_and_department_keep_missing_values_as_a_row() -> None:
    t = metrics_by(EventLog.from_events(TOWN), "resource")
    assert t["resource"].to_list() == ["佐藤", "山田", "田中", "鈴木", None]
    assert t.filter(pl.col("resource").is_null())["events"].item() == 1
    assert t["events"].sum() == 12
    assert t.filter(pl.col("resource") == "田中")["resource_hhi"].item() == 1.0
    d = metrics_by(EventLog.from_events(TOWN), "department")
    assert dict(zip(d["department"], d["events"], strict=True)) == {"住民課": 6, "福祉課": 6}


def test_per_month_is_the_metrics_of_the_cases_started_that_month() -> None:
    log = EventLog.from_events(TOWN)
    t = metrics_by(log, "month")
    assert t["month"].to_list() == ["2025-04", "2025-12"]
    april = compute_metrics(log.select_cases(["c1", "c2", "c3"]))
    row = t.row(0, named=True)
    for name in METRIC_NAMES:
        assert row[name] == (pytest.approx(april[name]) if isinstance(april[name], float)
                             else april[name]), name
    december = t.row(1, named=True)
    assert december["cases"] == 1 and december["lead_time_business_mean"] == 2700.0


def test_metrics_by_rejects_unknown_groupings() -> None:
    with pytest.raises(ValueError, match="activity, resource, role, department, month"):
        metrics_by(EventLog.from_events(TOWN), "colour")


# -- business hours ----------------------------------------------------------------------------


def test_business_seconds_skip_nights_weekends_holidays_and_year_end() -> None:
    h = BusinessHours()
    assert h.day_seconds == 31_500
    assert h.business_seconds(at("2025-04-01", "09:00"), at("2025-04-02", "09:00")) == 31_500
    assert h.business_seconds(at("2025-04-03", "16:00"), at("2025-04-07", "10:00")) == 41_400
    assert h.business_seconds(at("2025-12-26", "17:00"), at("2026-01-05", "09:00")) == 2_700
    assert h.business_seconds(at("2025-04-29", "09:00"), at("2025-04-29", "12:00")) == 0
    assert h.business_seconds(at("2025-04-02", "09:00"), at("2025-04-01", "09:00")) == 0
    assert not h.is_business_day(date(2025, 1, 3)) and not h.is_business_day(date(2024, 12, 30))
    assert BusinessHours(year_end_closure=False).is_business_day(date(2024, 12, 30))
    assert not h.is_business_day(date(2025, 2, 24))  # 振替休日


def test_the_vectorised_clock_agrees_with_the_scalar_count() -> None:
    h = BusinessHours.parse("９:００〜１６:３０", timezone="Asia/Tokyo")
    assert (h.opens, h.closes) == (time(9, 0), time(16, 30))
    stamps = [at("2025-04-25", "08:00") + timedelta(minutes=97 * i) for i in range(400)]
    series = pl.Series(stamps, dtype=pl.Datetime("us", "UTC"))
    clock = h.clock(series).to_list()
    for i in range(0, 400, 7):
        for j in range(i, 400, 53):
            assert clock[j] - clock[i] == pytest.approx(
                h.business_seconds(stamps[i], stamps[j])), (i, j)


def test_business_hours_in_another_time_zone() -> None:
    h = BusinessHours(timezone="Europe/Amsterdam", year_end_closure=False)
    start = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)   # 08:00 in Amsterdam (CEST)
    end = datetime(2025, 6, 2, 16, 0, tzinfo=UTC)    # 18:00
    assert h.business_seconds(start, end) == 31_500


@pytest.mark.parametrize("text", ["17:15-8:30", "8:30", "25:00-26:00", "nine to five"])
def test_bad_business_hours(text: str) -> None:
    with pytest.raises(BusinessHoursError):
        BusinessHours.parse(text)


def test_an_unknown_time_zone_for_business_hours() -> None:
    with pytest.raises(BusinessHoursError, match="Mars/Olympus"):
        BusinessHours(timezone="Mars/Olympus")


# -- the log itself ----------------------------------------------------------------------------


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(EventLogError, match="no time zone"):
        EventLog.from_events([Event("a", "A", datetime(2025, 1, 6, 9, 0))])


def test_a_frame_must_have_the_columns() -> None:
    with pytest.raises(EventLogError, match="timestamp"):
        EventLog(pl.DataFrame({"case": ["a"], "activity": ["A"]}))
    frame = pl.DataFrame({
        "case": ["a", "a"], "activity": ["A", "B"],
        "timestamp": pl.Series([at("2025-01-06", "09:00"), at("2025-01-06", "10:00")],
                               dtype=pl.Datetime("us", "Asia/Tokyo")),
    })
    log = EventLog(frame)
    assert log.events["position"].to_list() == [0, 1]
    assert log.events["timestamp"].dtype == pl.Datetime("us", "UTC")
    assert compute_metrics(log)["lead_time_mean"] == 3600.0
    with pytest.raises(EventLogError, match="lack"):
        EventLog(frame.with_columns(pl.lit(None, pl.String).alias("activity")))
