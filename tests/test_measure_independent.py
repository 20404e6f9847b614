"""The metrics against a second, deliberately plain implementation written here.

The logs in ../shared/data/event-logs/ are parsed again with xml.etree and the
metrics recomputed with plain Python loops — no Polars, nothing from
kijun.measure — then compared with ``compute_metrics(read_xes(...))``: counts
must be equal, times and rates equal to 1e-9 (they are sums in another order).

Data: receipt.xes.gz (Buijs, J.C.A.M., CoSeLoG project, 4TU.ResearchData),
bpic2012.xes.gz (BPI Challenge 2012, van Dongen, B.F.), interval_event_log.xes.gz
and running-example.xes.gz — see ../shared/data/event-logs/DISCLAIMER.
"""

from __future__ import annotations

import gzip
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import jpholiday
import pytest

from kijun.measure import BusinessHours, compute_metrics, read_xes

LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "event-logs"


def log_path(name: str) -> Path:
    path = LOGS / name
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/data/event-logs is not here)")
    return path


@dataclass
class E:
    activity: str
    ts: datetime
    pos: int
    resource: str | None
    role: str | None
    lifecycle: str | None
    start: datetime | None


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def plain_traces(path: Path, limit: int | None = None) -> Iterator[tuple[str, list[E]]]:
    """(case id, events in file order) per trace, with a global file position."""
    pos = 0
    with gzip.open(path) as f:
        for _, el in ET.iterparse(f, events=("end",)):
            if local(el.tag) != "trace":
                continue
            case = None
            events = []
            for child in el:
                if local(child.tag) == "string" and child.get("key") == "concept:name":
                    case = child.get("value")
                if local(child.tag) != "event":
                    continue
                a: dict[str, str | None] = {c.get("key", ""): c.get("value") for c in child}
                events.append(E(
                    activity=str(a["concept:name"]),
                    ts=datetime.fromisoformat(str(a["time:timestamp"])),
                    pos=pos, resource=a.get("org:resource"), role=a.get("org:role"),
                    lifecycle=a.get("lifecycle:transition"),
                    start=(datetime.fromisoformat(str(a["start_timestamp"]))
                           if a.get("start_timestamp") else None)))
                pos += 1
            assert case is not None
            yield case, events
            el.clear()
            if limit is not None:
                limit -= 1
                if limit == 0:
                    return


def business_day(d: date) -> bool:
    if d.weekday() >= 5 or jpholiday.is_holiday(d):
        return False
    return not ((d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3))


def business_seconds(a: datetime, b: datetime, tz: ZoneInfo) -> float:
    a, b = a.astimezone(tz), b.astimezone(tz)
    total = 0.0
    d = a.date()
    while d <= b.date():
        if business_day(d):
            lo = max(a, datetime.combine(d, time(8, 30), tz))
            hi = min(b, datetime.combine(d, time(17, 15), tz))
            total += max(0.0, (hi - lo).total_seconds())
        d += timedelta(days=1)
    return total


def mean_median_p90(xs: list[float]) -> tuple[float | None, float | None, float | None]:
    if not xs:
        return None, None, None
    p90 = xs[0] if len(xs) == 1 else statistics.quantiles(xs, n=10, method="inclusive")[8]
    return sum(xs) / len(xs), statistics.median(xs), p90


def shares(counter: Counter[str]) -> tuple[float | None, float | None]:
    total = sum(counter.values())
    if not total:
        return None, None
    s = sorted((v / total for v in counter.values()), reverse=True)
    return sum(x * x for x in s), sum(s[:3])


def plain_metrics(traces: list[tuple[str, list[E]]], tz: str = "Asia/Tokyo") -> dict[str, Any]:
    zone = ZoneInfo(tz)
    complete_only = any((e.lifecycle or "").lower() == "complete" for _, es in traces for e in es)
    cases = []
    for case, events in traces:
        events = sorted(events, key=lambda e: (e.ts, e.pos))
        if complete_only:
            counted = []
            pending: dict[str, datetime | None] = {}
            for e in events:
                kind = (e.lifecycle or "").lower()
                if kind == "start" and pending.get(e.activity) is None:
                    pending[e.activity] = e.ts
                elif kind == "complete":
                    paired = pending.pop(e.activity, None)
                    counted.append(E(e.activity, e.ts, e.pos, e.resource, e.role, e.lifecycle,
                                     e.start or paired))
        else:
            counted = events
        if counted:
            cases.append((case, counted))

    m: dict[str, Any] = {"cases": len(cases), "events": sum(len(es) for _, es in cases)}
    m["activities"] = len({e.activity for _, es in cases for e in es})
    m["resources"] = len({e.resource for _, es in cases for e in es if e.resource is not None})
    m["variants"] = len({tuple(e.activity for e in es) for _, es in cases})
    leads = [(es[-1].ts - es[0].ts).total_seconds() for _, es in cases]
    business = [business_seconds(es[0].ts, es[-1].ts, zone) for _, es in cases]
    m["lead_time_mean"], m["lead_time_median"], m["lead_time_p90"] = mean_median_p90(leads)
    (m["lead_time_business_mean"], m["lead_time_business_median"],
     m["lead_time_business_p90"]) = mean_median_p90(business)
    rework_cases = rework_events = round_trips = returned = self_loops = handoffs = 0
    resources: Counter[str] = Counter()
    roles: Counter[str] = Counter()
    waiting: list[float] = []
    service: list[float] = []
    for _, es in cases:
        counts = Counter(e.activity for e in es)
        rework_cases += any(n > 1 for n in counts.values())
        rework_events += len(es) - len(counts)
        seen: set[str] = set()
        trips = 0
        for i, e in enumerate(es):
            if i and e.activity in seen and es[i - 1].activity != e.activity:
                trips += 1
            if i and es[i - 1].activity == e.activity:
                self_loops += 1
            if (i and e.resource is not None and es[i - 1].resource is not None
                    and e.resource != es[i - 1].resource):
                handoffs += 1
            if e.start is not None:
                service.append((e.ts - e.start).total_seconds())
                if i:
                    waiting.append(max(0.0, (e.start - es[i - 1].ts).total_seconds()))
            seen.add(e.activity)
            if e.resource is not None:
                resources[e.resource] += 1
            if e.role is not None:
                roles[e.role] += 1
        round_trips += trips
        returned += trips > 0
    n = len(cases)
    m.update(rework_cases=rework_cases, first_time_right_rate=1 - rework_cases / n,
             rework_events=rework_events, round_trips=round_trips, return_rate=returned / n,
             self_loops=self_loops, handoffs=handoffs, handoffs_mean=handoffs / n,
             timed_events=len(service))
    m["resource_hhi"], m["top3_resource_share"] = shares(resources)
    m["role_hhi"], m["top3_role_share"] = shares(roles)
    m["waiting_time_mean"], m["waiting_time_median"], m["waiting_time_p90"] = \
        mean_median_p90(waiting)
    m["service_time_mean"], m["service_time_median"], m["service_time_p90"] = \
        mean_median_p90(service)
    return m


def assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert set(got) == set(want)
    for name, value in want.items():
        if value is None or isinstance(value, int):
            assert got[name] == value, name
        else:
            assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name


@pytest.mark.parametrize("name", ["receipt.xes.gz", "interval_event_log.xes.gz",
                                  "running-example.xes.gz"])
def test_metrics_equal_the_plain_implementation(name: str) -> None:
    path = log_path(name)
    want = plain_metrics(list(plain_traces(path)))
    assert_same(compute_metrics(read_xes(path)), want)


def test_receipt_in_its_own_time_zone() -> None:
    path = log_path("receipt.xes.gz")
    want = plain_metrics(list(plain_traces(path)), tz="Europe/Amsterdam")
    hours = BusinessHours(timezone="Europe/Amsterdam")
    assert_same(compute_metrics(read_xes(path), hours), want)


def test_receipt_values() -> None:
    """The numbers reported in docs/measure.md."""
    m = compute_metrics(read_xes(log_path("receipt.xes.gz")))
    assert (m["events"], m["cases"], m["activities"], m["resources"], m["variants"]) == (
        8577, 1434, 27, 48, 116)
    assert (m["rework_cases"], m["rework_events"], m["round_trips"], m["self_loops"],
            m["handoffs"]) == (91, 245, 239, 6, 1208)


def test_bpic2012_start_complete_pairs_against_the_plain_implementation() -> None:
    """The first 1,500 traces of BPI Challenge 2012: START/COMPLETE pairs, SCHEDULE ignored."""
    path = log_path("bpic2012.xes.gz")
    traces = list(plain_traces(path, limit=1500))
    want = plain_metrics(traces)
    log = read_xes(path).select_cases([case for case, _ in traces])
    got = compute_metrics(log)
    assert got["timed_events"] > 0
    assert_same(got, want)
