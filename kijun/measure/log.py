"""The event log: one row per event of a case, backed by a Polars DataFrame.

An event is one step of a case (案件): which case, which activity, when it
ended (``timestamp``), when it began if the step has a duration (``start``),
who did it (``resource``), in which role and department, its XES lifecycle
transition, and any other attributes. ``position`` is the event's place in
the source (file order), so events with equal timestamps keep that order.

The frame's schema (:data:`EVENT_SCHEMA`) is fixed; other XES attributes are
kept, typed and in order, in the ``attributes`` column as a JSON object (see
:func:`encode_attributes`), so that a log read from XES is written back with
nothing lost. Cases — XES traces, with their own attributes, even those with
no event — are a second frame (:data:`CASE_SCHEMA`). Log-level XES
(extensions, globals, classifiers, attributes) lives in :class:`LogMeta`.

Timestamps are timezone-aware and stored in UTC, at microsecond precision.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl

#: the columns of :attr:`EventLog.events`, in order
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "case": pl.String(),
    "activity": pl.String(),
    "timestamp": pl.Datetime("us", "UTC"),
    "start": pl.Datetime("us", "UTC"),
    "resource": pl.String(),
    "role": pl.String(),
    "department": pl.String(),
    "lifecycle": pl.String(),
    "position": pl.Int64(),
    "attributes": pl.String(),
}

#: the columns of :attr:`EventLog.cases`, in order
CASE_SCHEMA: dict[str, pl.DataType] = {
    "case": pl.String(),
    "position": pl.Int64(),
    "attributes": pl.String(),
}

#: XES attribute types (IEEE 1849-2016, plus ``values`` inside a list)
ATTRIBUTE_TYPES = frozenset(
    {"string", "date", "int", "float", "boolean", "id", "list", "container"}
)


XES_NAMESPACE = "http://www.xes-standard.org/"


class EventLogError(ValueError):
    """An event log that cannot be built: a missing field, a naive timestamp …"""


@dataclass(frozen=True)
class Attribute:
    """One XES attribute: its element type, key, lexical value and children.

    ``value`` is the text as written in the file (``None`` for a ``list`` or
    ``container``); ``children`` are nested attributes (a list's values are
    its children, in order).
    """

    type: str
    key: str
    value: str | None
    children: tuple[Attribute, ...] = ()


@dataclass(frozen=True)
class LogMeta:
    """What an XES file says about the log as a whole, kept for writing it back.

    ``extensions`` and ``classifiers`` keep every XML attribute of the
    element (``name``, ``prefix``, ``uri``; ``name``, ``keys``, ``scope``);
    ``globals`` pairs each ``<global scope=…>`` with its attributes;
    ``root`` holds the ``<log>`` element's XML attributes (``xes.version`` …);
    ``start_key`` is the event attribute that held start timestamps, if any.
    The defaults are an IEEE 1849-2016 header with the standard extensions a
    log of kijun's columns uses; a log read from XES keeps what the file had.
    """

    root: tuple[tuple[str, str], ...] = (
        ("xes.version", "1849-2016"), ("xes.features", "nested-attributes"),
        ("xmlns", XES_NAMESPACE))
    extensions: tuple[tuple[tuple[str, str], ...], ...] = (
        (("name", "Concept"), ("prefix", "concept"), ("uri", XES_NAMESPACE + "concept.xesext")),
        (("name", "Time"), ("prefix", "time"), ("uri", XES_NAMESPACE + "time.xesext")),
        (("name", "Organizational"), ("prefix", "org"), ("uri", XES_NAMESPACE + "org.xesext")),
        (("name", "Lifecycle"), ("prefix", "lifecycle"),
         ("uri", XES_NAMESPACE + "lifecycle.xesext")),
    )
    globals: tuple[tuple[str, tuple[Attribute, ...]], ...] = ()
    classifiers: tuple[tuple[tuple[str, str], ...], ...] = ()
    attributes: tuple[Attribute, ...] = ()
    start_key: str | None = None


@dataclass(frozen=True)
class Event:
    """One step of one case. ``timestamp`` (and ``start``) must be timezone-aware."""

    case: str
    activity: str
    timestamp: datetime
    start: datetime | None = None
    resource: str | None = None
    role: str | None = None
    department: str | None = None
    lifecycle: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


def encode_attributes(attributes: Mapping[str, Any] | Sequence[Attribute]) -> str | None:
    """The JSON text kept in the ``attributes`` column (``None`` when empty).

    A sequence of :class:`Attribute` is encoded exactly: a ``string`` as a
    JSON string, any other type as ``{"<type>": "<lexical value>"}``, and an
    attribute with children as ``{"<type>": value, "children": [{key: …}, …]}``.
    A plain mapping (from :class:`Event`) is stored as given: str, int, float,
    bool and None as JSON values, anything else as its ``str``.
    """
    if not attributes:
        return None
    if isinstance(attributes, Mapping):
        return json.dumps(dict(attributes), ensure_ascii=False, default=str)
    return "{" + ",".join(
        json.dumps(a.key, ensure_ascii=False) + ":" + _encode_value(a) for a in attributes
    ) + "}"


def _encode_value(a: Attribute) -> str:
    if not a.children:
        if a.type == "string" and a.value is not None:
            return json.dumps(a.value, ensure_ascii=False)
        return "{" + json.dumps(a.type) + ":" + json.dumps(a.value, ensure_ascii=False) + "}"
    kids = ",".join(
        "{" + json.dumps(c.key, ensure_ascii=False) + ":" + _encode_value(c) + "}"
        for c in a.children
    )
    return ("{" + json.dumps(a.type) + ":" + json.dumps(a.value, ensure_ascii=False)
            + ',"children":[' + kids + "]}")


def decode_attributes(text: str | None) -> list[Attribute]:
    """The attributes encoded by :func:`encode_attributes`, as XES attributes.

    Values stored from a plain mapping come back typed by their JSON type:
    a string as ``string``, a bool as ``boolean``, an int as ``int``, a float
    as ``float``; a JSON object that is not one of the typed forms, or a list,
    as a ``string`` holding its JSON.
    """
    if not text:
        return []
    data = json.loads(text)
    if not isinstance(data, dict):
        raise EventLogError(f"attributes must be a JSON object, not {text[:60]!r}")
    return [_decode_value(str(k), v) for k, v in data.items()]


def _decode_value(key: str, v: Any) -> Attribute:
    if isinstance(v, bool):
        return Attribute("boolean", key, "true" if v else "false")
    if isinstance(v, str):
        return Attribute("string", key, v)
    if isinstance(v, int):
        return Attribute("int", key, str(v))
    if isinstance(v, float):
        return Attribute("float", key, repr(v))
    if v is None:
        return Attribute("string", key, "")
    if isinstance(v, dict):
        types = [k for k in v if k in ATTRIBUTE_TYPES]
        extra = set(v) - set(types) - {"children"}
        if len(types) == 1 and not extra:
            t = types[0]
            value = v[t]
            kids = v.get("children", [])
            if (value is None or isinstance(value, str)) and isinstance(kids, list):
                children = tuple(
                    _decode_value(str(ck), cv)
                    for c in kids if isinstance(c, dict) for ck, cv in c.items()
                )
                return Attribute(t, key, value, children)
    return Attribute("string", key, json.dumps(v, ensure_ascii=False))


def attribute_value(a: Attribute) -> Any:
    """A Python value for an attribute: str, int, float, bool or the lexical text."""
    if a.value is None:
        return None
    try:
        if a.type == "int":
            return int(a.value)
        if a.type == "float":
            return float(a.value)
    except ValueError:
        return a.value
    if a.type == "boolean" and a.value.strip() in ("true", "false", "1", "0"):
        return a.value.strip() in ("true", "1")
    return a.value


def _utc(value: datetime | None, what: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise EventLogError(f"{what}: timestamp {value.isoformat()} has no time zone")
    return value.astimezone(UTC)


class EventLog:
    """Events and cases as Polars frames, plus the log-level XES metadata.

    ``events`` follows :data:`EVENT_SCHEMA`, ``cases`` :data:`CASE_SCHEMA`
    (every event's case is one of them; a case may have no event). Build one
    from :class:`Event` objects with :meth:`from_events`, from a frame with
    the constructor, or from XES with :func:`kijun.measure.read_xes`.
    """

    __slots__ = ("cases", "events", "meta")

    def __init__(
        self,
        events: pl.DataFrame,
        cases: pl.DataFrame | None = None,
        meta: LogMeta | None = None,
    ) -> None:
        events = _conform(events, EVENT_SCHEMA, "events", required=("case", "activity",
                                                                      "timestamp"))
        if "position" not in events.columns or events["position"].null_count():
            events = events.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("position"))
        if events.height:
            bad = events.filter(pl.any_horizontal(
                pl.col("case").is_null(), pl.col("activity").is_null(),
                pl.col("timestamp").is_null()))
            if bad.height:
                row = bad.row(0, named=True)
                raise EventLogError(
                    f"{bad.height} event(s) lack a case, an activity or a timestamp, "
                    f"e.g. case {row['case']!r} activity {row['activity']!r} at "
                    f"position {row['position']}")
        derived = (events.lazy().group_by("case").agg(pl.col("position").min())
                   .sort("position").with_row_index("order").collect())
        if cases is None:
            cases = derived.select(
                "case", pl.col("order").cast(pl.Int64).alias("position"),
                pl.lit(None, pl.String).alias("attributes"))
        else:
            cases = _conform(cases, CASE_SCHEMA, "cases", required=("case",))
            if cases["position"].null_count():
                cases = cases.with_columns(
                    pl.int_range(pl.len(), dtype=pl.Int64).alias("position"))
            dup = cases.filter(pl.col("case").is_duplicated())
            if dup.height:
                raise EventLogError(f"case {dup['case'][0]!r} appears more than once")
            missing = derived.join(cases, on="case", how="anti")
            if missing.height:
                raise EventLogError(
                    f"{missing.height} event case(s) are not among the cases, "
                    f"e.g. {missing['case'][0]!r}")
        self.events: pl.DataFrame = events
        self.cases: pl.DataFrame = cases
        self.meta: LogMeta = meta or LogMeta()

    @classmethod
    def from_events(cls, events: Iterable[Event], meta: LogMeta | None = None) -> EventLog:
        """A log of these events; their order is the file order (``position``)."""
        rows: dict[str, list[Any]] = {k: [] for k in EVENT_SCHEMA}
        for i, e in enumerate(events):
            what = f"event {i} (case {e.case!r}, activity {e.activity!r})"
            rows["case"].append(e.case)
            rows["activity"].append(e.activity)
            rows["timestamp"].append(_utc(e.timestamp, what))
            rows["start"].append(_utc(e.start, what))
            rows["resource"].append(e.resource)
            rows["role"].append(e.role)
            rows["department"].append(e.department)
            rows["lifecycle"].append(e.lifecycle)
            rows["position"].append(i)
            rows["attributes"].append(encode_attributes(e.attributes))
        return cls(pl.DataFrame(rows, schema=EVENT_SCHEMA), meta=meta)

    def __len__(self) -> int:
        return self.events.height

    def __repr__(self) -> str:
        return f"EventLog({self.events.height} events, {self.cases.height} cases)"

    def select_cases(self, cases: Iterable[str] | pl.Series) -> EventLog:
        """The sub-log of these cases (every event of each, the log's metadata kept)."""
        keep = pl.Series("case", list(cases) if not isinstance(cases, pl.Series) else cases,
                         dtype=pl.String)
        return EventLog(
            self.events.filter(pl.col("case").is_in(keep.implode())),
            self.cases.filter(pl.col("case").is_in(keep.implode())),
            self.meta,
        )

    def equals(self, other: EventLog) -> bool:
        """Same events, same cases (in the same order) and the same metadata."""
        return (self.events.equals(other.events) and self.cases.equals(other.cases)
                and self.meta == other.meta)


def _conform(frame: pl.DataFrame, schema: Mapping[str, pl.DataType], what: str,
             *, required: Sequence[str]) -> pl.DataFrame:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise EventLogError(f"{what} frame lacks column(s) {', '.join(missing)}")
    unknown = [c for c in frame.columns if c not in schema]
    if unknown:
        raise EventLogError(f"{what} frame has unknown column(s) {', '.join(unknown)}")
    cols = []
    for name, dtype in schema.items():
        if name not in frame.columns:
            cols.append(pl.lit(None, dtype).alias(name))
            continue
        have = frame.schema[name]
        if isinstance(dtype, pl.Datetime):
            if not isinstance(have, pl.Datetime):
                raise EventLogError(f"{what}.{name} must be a datetime column, not {have}")
            if have.time_zone is None:
                raise EventLogError(f"{what}.{name} has no time zone")
            cols.append(pl.col(name).dt.convert_time_zone("UTC").dt.cast_time_unit("us"))
        else:
            cols.append(pl.col(name).cast(dtype))
    return frame.select(cols)
