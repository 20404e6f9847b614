"""Measurement: event logs of case steps, XES, process metrics and before/after comparisons.

    log = read_xes("receipt.xes.gz")                 # or EventLog.from_events([...])
    compute_metrics(log)["first_time_right_rate"]     # every metric, by name
    metrics_by(log, "month")                          # one row per month (Polars)
    before, after = split_by_date(log, date(2011, 7, 1))
    compare(before, after).summary                    # 「差し戻し率は 9.1% から 2.4% に低下…」
    ocel = read_ocel("p2p.jsonocel")                  # OCEL 2.0: JSON, XML or SQLite
    flatten(ocel, "Purchase Order")                   # an EventLog, one case per object
    to_ocel(log)                                      # and back: one object per case

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
from kijun.measure.ocel import OcelFormat, flatten, ocel_format, read_ocel, write_ocel
from kijun.measure.ocel_convert import to_ocel
from kijun.measure.ocel_json import dumps_ocel_json, loads_ocel_json
from kijun.measure.ocel_model import Ocel, OcelError, check_ocel
from kijun.measure.ocel_xml import dumps_ocel_xml, loads_ocel_xml
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
    "Ocel",
    "OcelError",
    "OcelFormat",
    "XESError",
    "check_ocel",
    "compare",
    "compute_metrics",
    "dumps_ocel_json",
    "dumps_ocel_xml",
    "flatten",
    "loads_ocel_json",
    "loads_ocel_xml",
    "metrics_by",
    "ocel_format",
    "prepare",
    "read_ocel",
    "read_xes",
    "split_by_attribute",
    "split_by_date",
    "to_ocel",
    "write_ocel",
    "write_xes",
]
