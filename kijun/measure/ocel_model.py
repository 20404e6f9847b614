"""The OCEL 2.0 object-centric event log as immutable data.

An `Ocel` holds what the OCEL 2.0 metamodel holds, nothing more and nothing
less, so that every format kijun reads and writes (JSON, XML, SQLite) maps
onto it without loss:

- event types and object types, each with its declared attributes and their
  types (``string``, ``time``, ``integer``, ``float``, ``boolean``);
- events: id, type, time, attribute values, and event-to-object (E2O)
  relationships, each with a qualifier;
- objects: id, type, attribute values that change over time (each value with
  the time from which it holds), and object-to-object (O2O) relationships,
  each with a qualifier.

Values are Python values of the declared type (`str`, `int`, `float`,
`bool`, or an aware `datetime` for ``time``). Every timestamp is an aware
`datetime` in UTC; the offset a file wrote is not kept, the instant is.
Order is kept as read (the formats have an order even where the metamodel
has sets); `Ocel.canonical` sorts, for comparing logs read from different
formats. E2O and O2O are sets in the metamodel: the readers drop a repeated
(object, qualifier) pair, and `check_ocel` refuses one.

Errors are `OcelError`: the file, where in it (a JSON path, an XML line, a
SQLite table), the event or object id, and the reason.
"""

from __future__ import annotations

import gc
import math
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

AttributeType: TypeAlias = Literal["string", "time", "integer", "float", "boolean"]
ATTRIBUTE_TYPES: tuple[AttributeType, ...] = ("string", "time", "integer", "float", "boolean")
Value: TypeAlias = str | int | float | bool | datetime


class OcelError(ValueError):
    """An OCEL log that cannot be read or written, with where and why.

    `source` is the file (or ``None`` for a log built in memory), `location`
    the place in it (``$.events[3].time``, ``line 134``, ``table event_Pay``),
    `item` the event or object (``event 'e4'``), `reason` what is wrong.
    """

    def __init__(
        self,
        reason: str,
        *,
        source: str | None = None,
        location: str | None = None,
        item: str | None = None,
    ) -> None:
        self.reason = reason
        self.source = source
        self.location = location
        self.item = item
        parts = [p for p in (source, location, item) if p]
        super().__init__(": ".join([*parts, reason]))


@dataclass(frozen=True, slots=True)
class AttributeDef:
    """An attribute an event or object type declares."""

    name: str
    type: AttributeType


@dataclass(frozen=True, slots=True)
class OcelType:
    """An event type or an object type with its declared attributes."""

    name: str
    attributes: tuple[AttributeDef, ...] = ()

    def attribute_type(self, name: str) -> AttributeType | None:
        for a in self.attributes:
            if a.name == name:
                return a.type
        return None


@dataclass(frozen=True, slots=True)
class Relationship:
    """An E2O or O2O relationship: the related object and the qualifier."""

    object_id: str
    qualifier: str


@dataclass(frozen=True, slots=True)
class EventAttribute:
    name: str
    value: Value


@dataclass(frozen=True, slots=True)
class ObjectAttribute:
    """A value of an object attribute, holding from `time` until the next one."""

    name: str
    time: datetime
    value: Value


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    time: datetime
    attributes: tuple[EventAttribute, ...] = ()
    relationships: tuple[Relationship, ...] = ()


@dataclass(frozen=True, slots=True)
class Object:
    id: str
    type: str
    attributes: tuple[ObjectAttribute, ...] = ()
    relationships: tuple[Relationship, ...] = ()


@dataclass(frozen=True)
class Ocel:
    """An OCEL 2.0 log. Build one in memory, or read one with `read_ocel`.

    `check_ocel` tells whether it is consistent; the readers return only
    consistent logs, and the writers refuse inconsistent ones.
    """

    event_types: tuple[OcelType, ...] = ()
    object_types: tuple[OcelType, ...] = ()
    events: tuple[Event, ...] = ()
    objects: tuple[Object, ...] = ()
    _event_index: dict[str, Event] = field(init=False, repr=False, compare=False)
    _object_index: dict[str, Object] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_event_index", {e.id: e for e in self.events})
        object.__setattr__(self, "_object_index", {o.id: o for o in self.objects})

    def event(self, event_id: str) -> Event:
        return self._event_index[event_id]

    def object(self, object_id: str) -> Object:
        return self._object_index[object_id]

    def event_type(self, name: str) -> OcelType:
        return _find_type(self.event_types, name)

    def object_type(self, name: str) -> OcelType:
        return _find_type(self.object_types, name)

    def o2o(self) -> list[tuple[str, str, str]]:
        """Every (source, target, qualifier) in file order."""
        return [(o.id, r.object_id, r.qualifier) for o in self.objects for r in o.relationships]

    def e2o(self) -> list[tuple[str, str, str]]:
        """Every (event, object, qualifier) in file order."""
        return [(e.id, r.object_id, r.qualifier) for e in self.events for r in e.relationships]

    def canonical(self) -> Ocel:
        """The same log with everything sorted: types by name, events and objects
        by id, attributes by (name, time), relationships by (object, qualifier).

        Two logs with equal canonical forms hold the same information.
        """

        def types(ts: tuple[OcelType, ...]) -> tuple[OcelType, ...]:
            return tuple(
                OcelType(t.name, tuple(sorted(t.attributes, key=lambda a: a.name)))
                for t in sorted(ts, key=lambda t: t.name)
            )

        def rels(rs: tuple[Relationship, ...]) -> tuple[Relationship, ...]:
            return tuple(sorted(rs, key=lambda r: (r.object_id, r.qualifier)))

        events = tuple(
            Event(
                e.id,
                e.type,
                e.time,
                tuple(sorted(e.attributes, key=lambda a: a.name)),
                rels(e.relationships),
            )
            for e in sorted(self.events, key=lambda e: e.id)
        )
        objects = tuple(
            Object(
                o.id,
                o.type,
                tuple(sorted(o.attributes, key=lambda a: (a.name, a.time))),
                rels(o.relationships),
            )
            for o in sorted(self.objects, key=lambda o: o.id)
        )
        return Ocel(types(self.event_types), types(self.object_types), events, objects)


def _find_type(types: tuple[OcelType, ...], name: str) -> OcelType:
    for t in types:
        if t.name == name:
            return t
    raise KeyError(name)


# --- timestamps ---------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<h>\d{2}):(?P<m>\d{2})"
    r"(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?"
    r"(?P<zone>\s*\S.*)?"
)
_OFFSET = re.compile(r"(?:[Zz]|(?P<sign>[+-])(?P<oh>\d{2})(?::?(?P<om>\d{2}))?)")

#: How a reader treats a timestamp without an offset: `None` refuses it.
NaiveZone: TypeAlias = tzinfo | None


def resolve_zone(zone: str | tzinfo | None) -> NaiveZone:
    """A zone name (``"Asia/Tokyo"``, ``"UTC"``) or tzinfo as a tzinfo, or `OcelError`."""
    if zone is None or isinstance(zone, tzinfo):
        return zone
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise OcelError(f"unknown time zone {zone!r}") from exc


def parse_timestamp(text: object, naive: NaiveZone, *, naive_hint: str = "") -> datetime:
    """An ISO 8601 / RFC 3339 date-time as an aware datetime in UTC.

    A timestamp with an offset (``Z``, ``+09:00``, ``+0900``) is read as it
    says. One without is read in `naive` when given, and refused otherwise
    (`naive_hint` is appended to the reason). Raises ValueError with the
    reason. Fractions of a second beyond microseconds are cut off.
    """
    if not isinstance(text, str):
        raise ValueError(f"timestamp {text!r} is not a string")
    m = _TIMESTAMP.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not an ISO 8601 date-time (YYYY-MM-DDTHH:MM:SS±HH:MM)")
    frac = (m["f"] or "")[:6].ljust(6, "0")
    try:
        naive_dt = datetime.fromisoformat(
            f"{m['date']}T{m['h']}:{m['m']}:{m['s'] or '00'}.{frac}"
        )
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date-time: {exc}") from None
    zone = (m["zone"] or "").strip()
    if not zone:
        if naive is None:
            raise ValueError(f"timestamp {text!r} has no time zone offset{naive_hint}")
        return _to_utc(naive_dt.replace(tzinfo=naive), text)
    om = _OFFSET.fullmatch(zone)
    if om is None:
        raise ValueError(
            f"timestamp {text!r} has an unknown time zone {zone!r} "
            "(expected Z or an offset such as +09:00)"
        )
    if om["sign"] is None:
        return naive_dt.replace(tzinfo=UTC)
    hours, minutes = int(om["oh"]), int(om["om"] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"timestamp {text!r} has an unknown time zone offset {zone!r}")
    delta = timedelta(hours=hours, minutes=minutes)
    return _to_utc(naive_dt.replace(tzinfo=timezone(delta if om["sign"] == "+" else -delta)), text)


def _to_utc(value: datetime, text: str) -> datetime:
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"timestamp {text!r} is out of range in UTC") from None


def format_timestamp(value: datetime, *, sep: str = "T", suffix: str = "Z") -> str:
    """``2022-01-09T14:00:00Z`` (microseconds only when there are any)."""
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(sep=sep) + suffix


# --- values -------------------------------------------------------------------

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def coerce_value(
    raw: object, declared: AttributeType, naive: NaiveZone, *, naive_hint: str = ""
) -> Value:
    """A value as read (JSON scalar, XML text, SQLite cell) as the declared type.

    Raises ValueError with the reason when it is not one.
    """
    if raw is None:
        raise ValueError("value is missing (null)")
    if declared == "string":
        if isinstance(raw, bool):
            return "true" if raw else "false"
        if isinstance(raw, str | int):
            return str(raw)
        if isinstance(raw, float):
            return repr(raw)
        raise ValueError(f"value {raw!r} is not a string")
    if declared == "integer":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            try:
                return int(raw.strip())
            except ValueError:
                pass
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        raise ValueError(f"value {raw!r} is not an integer")
    if declared == "float":
        number: float | None = None
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            number = float(raw)
        elif isinstance(raw, str):
            try:
                number = float(raw.strip())
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            raise ValueError(f"value {raw!r} is not a finite number")
        return number
    if declared == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str):
            text = raw.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise ValueError(f"value {raw!r} is not a boolean (true or false)")
    if isinstance(raw, datetime):
        if raw.tzinfo is None:
            raise ValueError(f"time value {raw.isoformat()!r} has no time zone")
        return raw.astimezone(UTC)
    return parse_timestamp(raw, naive, naive_hint=naive_hint)


def value_text(value: Value) -> str:
    """The text a value is written as in XML, JSON strings and SQLite text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _matches(value: Value, declared: AttributeType) -> bool:
    if declared == "string":
        return isinstance(value, str)
    if declared == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if declared == "float":
        return isinstance(value, float) and math.isfinite(value)
    if declared == "boolean":
        return isinstance(value, bool)
    return isinstance(value, datetime) and value.tzinfo is not None


def unique_relationships(pairs: Iterable[tuple[str, str]]) -> tuple[Relationship, ...]:
    """Relationships in first-seen order, each (object, qualifier) once (E2O and
    O2O are sets in OCEL 2.0; the specification's own example repeats one)."""
    seen: dict[tuple[str, str], None] = {}
    for pair in pairs:
        seen.setdefault(pair, None)
    return tuple(Relationship(o, q) for o, q in seen)


# --- consistency --------------------------------------------------------------

#: Where an item sits in its file: ("event" | "object" | "event type" |
#: "object type", id) -> location text, for error messages.
Locator: TypeAlias = Callable[[str, str], str | None]


def _no_location(kind: str, ident: str) -> str | None:
    return None


def check_ocel(ocel: Ocel, *, source: str | None = None, locate: Locator | None = None) -> None:
    """Raise `OcelError` unless `ocel` is consistent.

    Consistent: type names and ids unique; every attribute type one of the
    five; every event and object of a declared type; every attribute value
    declared by its type and of the declared type; every time aware; every
    relationship to an object that exists, each (object, qualifier) once.
    """
    where = locate or _no_location

    def fail(reason: str, kind: str, ident: str) -> OcelError:
        item = f"{kind} {ident!r}"
        return OcelError(reason, source=source, location=where(kind, ident), item=item)

    event_types = _check_types(ocel.event_types, "event type", fail)
    object_types = _check_types(ocel.object_types, "object type", fail)
    object_ids: set[str] = set()
    for o in ocel.objects:
        if o.id in object_ids:
            raise fail("object id appears more than once", "object", o.id)
        object_ids.add(o.id)
    event_ids: set[str] = set()
    for e in ocel.events:
        if e.id in event_ids:
            raise fail("event id appears more than once", "event", e.id)
        event_ids.add(e.id)
        problem = _event_problem(e, event_types, object_ids)
        if problem:
            raise fail(problem, "event", e.id)
    for o in ocel.objects:
        problem = _object_problem(o, object_types, object_ids)
        if problem:
            raise fail(problem, "object", o.id)


def _event_problem(
    e: Event, types: Mapping[str, OcelType], object_ids: set[str]
) -> str | None:
    etype = types.get(e.type)
    if etype is None:
        return f"unknown event type {e.type!r}"
    if not isinstance(e.time, datetime) or e.time.tzinfo is None:
        return "time is missing or has no time zone"
    names: set[str] = set()
    for a in e.attributes:
        if a.name in names:
            return f"attribute {a.name!r} given more than once"
        names.add(a.name)
        problem = _value_problem(a.name, a.value, etype)
        if problem:
            return problem
    return _relationships_problem(e.relationships, object_ids)


def _object_problem(
    o: Object, types: Mapping[str, OcelType], object_ids: set[str]
) -> str | None:
    otype = types.get(o.type)
    if otype is None:
        return f"unknown object type {o.type!r}"
    for a in o.attributes:
        if not isinstance(a.time, datetime) or a.time.tzinfo is None:
            return f"attribute {a.name!r}: time is missing or has no time zone"
        problem = _value_problem(a.name, a.value, otype)
        if problem:
            return problem
    return _relationships_problem(o.relationships, object_ids)


def _check_types(
    types: tuple[OcelType, ...], kind: str, fail: Callable[[str, str, str], OcelError]
) -> dict[str, OcelType]:
    out: dict[str, OcelType] = {}
    for t in types:
        if t.name in out:
            raise fail("type declared more than once", kind, t.name)
        out[t.name] = t
        seen: set[str] = set()
        for a in t.attributes:
            if a.name in seen:
                raise fail(f"attribute {a.name!r} declared more than once", kind, t.name)
            seen.add(a.name)
            if a.type not in ATTRIBUTE_TYPES:
                raise fail(
                    f"attribute {a.name!r} has unknown type {a.type!r} "
                    f"(one of {', '.join(ATTRIBUTE_TYPES)})",
                    kind,
                    t.name,
                )
    return out


def _value_problem(name: str, value: Value, otype: OcelType) -> str | None:
    declared = otype.attribute_type(name)
    if declared is None:
        return f"attribute {name!r} is not declared by type {otype.name!r}"
    if not _matches(value, declared):
        return f"attribute {name!r}: value {value!r} is not of type {declared}"
    return None


def _relationships_problem(rels: tuple[Relationship, ...], object_ids: set[str]) -> str | None:
    seen: set[tuple[str, str]] = set()
    for r in rels:
        if r.object_id not in object_ids:
            return f"relationship to unknown object {r.object_id!r}"
        key = (r.object_id, r.qualifier)
        if key in seen:
            return f"relationship to {r.object_id!r} ({r.qualifier!r}) appears twice"
        seen.add(key)
    return None


#: Names other tools write for the five types; read, never written.
_TYPE_ALIASES: dict[str, AttributeType] = {
    "str": "string",
    "text": "string",
    "date": "time",
    "datetime": "time",
    "timestamp": "time",
    "int": "integer",
    "double": "float",
    "real": "float",
    "number": "float",
    "bool": "boolean",
}


def as_attribute_type(text: object) -> AttributeType | None:
    """The attribute type a file names, or None when it is none of the five.

    The five names of the specification, and a few names other tools write
    for them (``date`` for ``time``, ``int``, ``double``, ``bool`` …).
    """
    if not isinstance(text, str):
        return None
    if text in ATTRIBUTE_TYPES:
        return text
    return _TYPE_ALIASES.get(text.strip().lower())


# --- files --------------------------------------------------------------------


@contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """A new file beside `path` that replaces it when the block ends without an
    exception, and is removed otherwise: a reader never sees a half-written
    log, and a failed write leaves the old file as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:  # pragma: no cover - a 48-bit collision
            continue
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomically(path: Path, data: bytes) -> None:
    with atomic_target(path) as tmp:
        tmp.write_bytes(data)


# --- building a log from a file -----------------------------------------------


class LogBuilder:
    """Collects what a reader finds, converting and checking as it goes, and
    hands out the `Ocel` only once all of it is consistent.

    Each item comes with its location in the file, which every error names.
    Types must be added before the events and objects that use them.
    """

    def __init__(self, source: str | None, naive: NaiveZone, naive_hint: str = "") -> None:
        self.source = source
        self.naive = naive
        self.naive_hint = naive_hint
        self._types: dict[str, dict[str, OcelType]] = {"event type": {}, "object type": {}}
        self._events: list[Event] = []
        self._objects: list[Object] = []
        self._where: dict[tuple[str, str], str] = {}

    def fail(self, reason: str, location: str | None, item: str | None = None) -> OcelError:
        return OcelError(reason, source=self.source, location=location, item=item)

    def has_type(self, kind: str, name: str) -> bool:
        return name in self._types[kind]

    def add_type(
        self, kind: str, name: str, attributes: Iterable[tuple[str, object]], location: str
    ) -> None:
        """`kind` is ``"event type"`` or ``"object type"``; attributes are
        (name, type as the file names it)."""
        item = f"{kind} {name!r}"
        if name in self._types[kind]:
            raise self.fail("type declared more than once", location, item)
        defs: list[AttributeDef] = []
        for attr_name, type_text in attributes:
            declared = as_attribute_type(type_text)
            if declared is None:
                raise self.fail(
                    f"attribute {attr_name!r} has unknown type {type_text!r} "
                    f"(one of {', '.join(ATTRIBUTE_TYPES)})",
                    location,
                    item,
                )
            defs.append(AttributeDef(attr_name, declared))
        self._types[kind][name] = OcelType(name, tuple(defs))
        self._where[(kind, name)] = location

    def _type(self, kind: str, name: str, location: str, item: str) -> OcelType:
        found = self._types[kind].get(name)
        if found is None:
            raise self.fail(f"unknown {kind} {name!r}", location, item)
        return found

    def _value(
        self, otype: OcelType, name: str, raw: object, location: str, item: str
    ) -> Value:
        declared = otype.attribute_type(name)
        if declared is None:
            raise self.fail(
                f"attribute {name!r} is not declared by type {otype.name!r}", location, item
            )
        try:
            return coerce_value(raw, declared, self.naive, naive_hint=self.naive_hint)
        except ValueError as exc:
            raise self.fail(f"attribute {name!r}: {exc}", location, item) from None

    def time(self, raw: object, location: str, item: str, what: str = "time") -> datetime:
        if raw is None or raw == "":
            raise self.fail(f"{what} is missing", location, item)
        try:
            return parse_timestamp(raw, self.naive, naive_hint=self.naive_hint)
        except ValueError as exc:
            raise self.fail(f"{what}: {exc}", location, item) from None

    def add_event(
        self,
        event_id: str,
        type_name: str,
        time: object,
        attributes: Iterable[tuple[str, object]],
        relationships: Iterable[tuple[str, str]],
        location: str,
    ) -> None:
        item = f"event {event_id!r}"
        if ("event", event_id) in self._where:
            raise self.fail("event id appears more than once", location, item)
        etype = self._type("event type", type_name, location, item)
        when = self.time(time, location, item)
        attrs = tuple(
            EventAttribute(name, self._value(etype, name, raw, location, item))
            for name, raw in attributes
        )
        self._events.append(
            Event(event_id, type_name, when, attrs, unique_relationships(relationships))
        )
        self._where[("event", event_id)] = location

    def add_object(
        self,
        object_id: str,
        type_name: str,
        attributes: Iterable[tuple[str, object, object]],
        relationships: Iterable[tuple[str, str]],
        location: str,
    ) -> None:
        """Attributes are (name, time, value) as read."""
        item = f"object {object_id!r}"
        if ("object", object_id) in self._where:
            raise self.fail("object id appears more than once", location, item)
        otype = self._type("object type", type_name, location, item)
        attrs = tuple(
            ObjectAttribute(
                name,
                self.time(time, location, item, f"attribute {name!r}: time"),
                self._value(otype, name, raw, location, item),
            )
            for name, time, raw in attributes
        )
        self._objects.append(
            Object(object_id, type_name, attrs, unique_relationships(relationships))
        )
        self._where[("object", object_id)] = location

    def build(self) -> Ocel:
        ocel = Ocel(
            tuple(self._types["event type"].values()),
            tuple(self._types["object type"].values()),
            tuple(self._events),
            tuple(self._objects),
        )
        check_ocel(ocel, source=self.source, locate=lambda k, i: self._where.get((k, i)))
        return ocel


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a reader builds a log.

    A log is millions of small objects that are never garbage; left on, the
    collector rescans them again and again and reading a large log takes two
    to three times as long. The collector's state is restored afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
