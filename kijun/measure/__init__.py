"""Measurement: event logs of case steps, XES, process metrics and before/after comparisons.

    log = read_xes("receipt.xes.gz")                 # or EventLog.from_events([...])
    compute_metrics(log)["first_time_right_rate"]     # every metric, by name
    metrics_by(log, "month")                          # one row per month (Polars)
    before, after = split_by_date(log, date(2011, 7, 1))
    compare(before, after).summary                    # 「差し戻し率は 9.1% から 2.4% に低下…」

The definitions of the metrics are in :mod:`kijun.measure.metrics`. This
package reads and writes files only; it imports neither the database nor
the web layer.
"""

from kijun.measure.business_hours import BusinessHours, BusinessHoursError
from kijun.measure.compare import (
    Comparison,
    MetricChange,
    compare,
    split_by_attribute,
    split_by_date,
)
from kijun.measure.log import Attribute, Event, EventLog, EventLogError, LogMeta
from kijun.measure.metrics import (
    METRIC_NAMES,
    METRICS,
    MetricInfo,
    compute_metrics,
    metrics_by,
    prepare,
)
from kijun.measure.xes import XESError, read_xes, write_xes

__all__ = [
    "METRICS",
    "METRIC_NAMES",
    "Attribute",
    "BusinessHours",
    "BusinessHoursError",
    "Comparison",
    "Event",
    "EventLog",
    "EventLogError",
    "LogMeta",
    "MetricChange",
    "MetricInfo",
    "XESError",
    "compare",
    "compute_metrics",
    "metrics_by",
    "prepare",
    "read_xes",
    "split_by_attribute",
    "split_by_date",
    "write_xes",
]
