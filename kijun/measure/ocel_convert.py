"""A traditional event log as an OCEL 2.0 log: one object per case.

    ocel = to_ocel(log)                      # EventLog -> Ocel
    write_ocel(ocel, "kijun.jsonocel")       # or dumps_ocel_json(ocel)

`to_ocel` is the way back of `flatten` for a case-centric log, so that any
log kijun holds can be handed to object-centric tools:

- each case is an object of type ``object_type`` (``"case"`` by default),
  its id the case id; the case's (XES trace) attributes are the object's
  attributes, each holding from the Unix epoch (OCEL's "initial value");
- each event is an OCEL event: id ``e<n>`` (its place in the log, from 1),
  type the activity, time the timestamp, related to its case's object with
  the qualifier ``"case"``; its resource, role, department, lifecycle
  transition and start are the attributes ``org:resource``, ``org:role``,
  ``org:group``, ``lifecycle:transition`` and ``start_timestamp``, followed
  by the event's own attributes;
- attribute types: XES ``int`` → ``integer``, ``float`` → ``float``,
  ``boolean`` → ``boolean``, ``date`` → ``time``, anything else (and an
  attribute whose values do not all read as one type) → ``string``; a list
  or container is written as its JSON text.

``flatten(to_ocel(log), "case", resource=("org:resource",))`` gives back the
cases, activities, timestamps and resources; role, department, lifecycle and
start come back as event attributes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from kijun.measure.log import Attribute, EventLog, decode_attributes, encode_attributes
from kijun.measure.ocel_model import (
    AttributeDef,
    AttributeType,
    Event,
    EventAttribute,
    Object,
    ObjectAttribute,
    Ocel,
    OcelType,
    Relationship,
    Value,
)
from kijun.measure.xes import parse_xes_datetime

#: when a case attribute's value holds from: OCEL's convention for an initial value
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_COLUMNS = (
    ("resource", "org:resource"),
    ("role", "org:role"),
    ("department", "org:group"),
    ("lifecycle", "lifecycle:transition"),
)
_XES_TO_OCEL: dict[str, AttributeType] = {
    "int": "integer", "float": "float", "boolean": "boolean", "date": "time",
}


def to_ocel(log: EventLog, *, object_type: str = "case") -> Ocel:
    """The log as OCEL 2.0: one object per case, one event per event (see the module)."""
    start_key = log.meta.start_key or "start_timestamp"
    cases = log.cases.sort("position")
    case_attrs = [(case, decode_attributes(text))
                  for case, text in cases.select("case", "attributes").iter_rows()]
    object_types = _Types()
    for _, attrs in case_attrs:
        object_types.see(object_type, attrs)
    events = log.events.sort("position")
    rows = events.select("case", "activity", "timestamp", "start", "resource", "role",
                         "department", "lifecycle", "attributes").iter_rows(named=True)
    event_attrs: list[tuple[dict[str, Any], list[Attribute]]] = []
    event_types = _Types()
    for row in rows:
        attrs = [Attribute("string", key, row[col]) for col, key in _COLUMNS
                 if row[col] is not None]
        if row["start"] is not None:
            attrs.append(Attribute("date", start_key, row["start"].isoformat()))
        named = {a.key for a in attrs}
        attrs.extend(a for a in decode_attributes(row["attributes"]) if a.key not in named)
        event_types.see(row["activity"], attrs)
        event_attrs.append((row, attrs))

    objects = tuple(
        Object(str(case), object_type, tuple(
            ObjectAttribute(a.key, EPOCH, object_types.value(object_type, a)) for a in attrs))
        for case, attrs in case_attrs
    )
    ocel_events = tuple(
        Event(f"e{i}", row["activity"], row["timestamp"],
              tuple(EventAttribute(a.key, event_types.value(row["activity"], a))
                    for a in _once(attrs)),
              (Relationship(str(row["case"]), "case"),))
        for i, (row, attrs) in enumerate(event_attrs, start=1)
    )
    return Ocel(
        event_types=event_types.declared(),
        object_types=object_types.declared() or (OcelType(object_type),),
        events=ocel_events,
        objects=objects,
    )


def _once(attrs: Iterable[Attribute]) -> list[Attribute]:
    """The first attribute of each key (OCEL allows one value per event attribute)."""
    seen: set[str] = set()
    out = []
    for a in attrs:
        if a.key not in seen:
            seen.add(a.key)
            out.append(a)
    return out


class _Types:
    """Attribute types per OCEL type, demoted to string where values disagree."""

    def __init__(self) -> None:
        self.types: dict[str, dict[str, AttributeType]] = {}

    def see(self, name: str, attrs: Iterable[Attribute]) -> None:
        declared = self.types.setdefault(name, {})
        for a in _once(attrs):
            kind = _XES_TO_OCEL.get(a.type, "string") if not a.children else "string"
            if kind != "string" and _convert(a, kind) is None:
                kind = "string"
            have = declared.get(a.key)
            if have is None:
                declared[a.key] = kind
            elif have != kind:
                declared[a.key] = "string"

    def value(self, name: str, a: Attribute) -> Value:
        kind = self.types[name][a.key]
        got = _convert(a, kind)
        return got if got is not None else _text(a)

    def declared(self) -> tuple[OcelType, ...]:
        return tuple(OcelType(name, tuple(AttributeDef(k, t) for k, t in attrs.items()))
                     for name, attrs in self.types.items())


def _convert(a: Attribute, kind: AttributeType) -> Value | None:
    if kind == "string":
        return _text(a)
    text = (a.value or "").strip()
    try:
        if kind == "integer":
            return int(text)
        if kind == "float":
            number = float(text)
            return number if number == number and abs(number) != float("inf") else None
        if kind == "boolean":
            if text.lower() in ("true", "1"):
                return True
            if text.lower() in ("false", "0"):
                return False
            return None
        return parse_xes_datetime(text)
    except ValueError:
        return None


def _text(a: Attribute) -> str:
    if not a.children:
        return a.value or ""
    return json.dumps(json.loads(encode_attributes([a]) or "{}")[a.key], ensure_ascii=False)
