"""OCEL 2.0 object-centric event logs: read, write, flatten.

    ocel = read_ocel("p2p.jsonocel")          # or .xmlocel / .xml / .sqlite
    write_ocel(ocel, "p2p.sqlite")             # the format follows the suffix
    orders = flatten(ocel, "Purchase Order")   # an EventLog, one case per order

`read_ocel` picks the reader by the file's suffix (``.jsonocel``/``.json``,
``.xmlocel``/``.xml``, ``.sqlite``/``.sqlite3``/``.db``) or, for any other
suffix, by its first bytes; a gzip-compressed JSON or XML file is read too.
Every reader checks the whole log and returns it only when all of it is
consistent; otherwise it raises `OcelError` naming the file, the place in it
(JSON path, XML line, SQLite table), the event or object, and the reason.

Times without an offset: refused in JSON (the specification's schema makes
every time an RFC 3339 date-time, which has one) and in XML (the
specification does not say what they mean), read as UTC in SQLite (whose
example tables the specification labels UTC). `naive_timezone` names the
zone to read them in instead, for any format.

`flatten` turns the log into a traditional one (`EventLog`) for one object
type: one case per object of the type, holding every event related to that
object (an event related to several objects of the type is in each of their
cases), so that kijun's metrics run on it.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Literal, TypeAlias

import polars as pl

from kijun.measure.log import CASE_SCHEMA, EVENT_SCHEMA, Attribute, EventLog, encode_attributes
from kijun.measure.ocel_json import loads_ocel_json, write_ocel_json
from kijun.measure.ocel_model import (
    AttributeDef,
    Event,
    EventAttribute,
    Object,
    ObjectAttribute,
    Ocel,
    OcelError,
    OcelType,
    Relationship,
    check_ocel,
)
from kijun.measure.ocel_sqlite import read_ocel_sqlite, write_ocel_sqlite
from kijun.measure.ocel_xml import loads_ocel_xml, write_ocel_xml

__all__ = [
    "AttributeDef",
    "Event",
    "EventAttribute",
    "Object",
    "ObjectAttribute",
    "Ocel",
    "OcelError",
    "OcelFormat",
    "OcelType",
    "Relationship",
    "check_ocel",
    "flatten",
    "ocel_format",
    "read_ocel",
    "write_ocel",
]

OcelFormat: TypeAlias = Literal["json", "xml", "sqlite"]

_SUFFIXES: dict[str, OcelFormat] = {
    ".jsonocel": "json",
    ".json": "json",
    ".xmlocel": "xml",
    ".xml": "xml",
    ".sqlite": "sqlite",
    ".sqlite3": "sqlite",
    ".db": "sqlite",
}
_SQLITE_MAGIC = b"SQLite format 3\x00"
_GZIP_MAGIC = b"\x1f\x8b"


def ocel_format(path: str | Path) -> OcelFormat | None:
    """The format a file name's suffix says (``x.jsonocel.gz`` is JSON), or None."""
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return _SUFFIXES.get(suffixes[-1]) if suffixes else None


def _sniff(head: bytes) -> OcelFormat | None:
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "json"
    if text.startswith(b"<"):
        return "xml"
    return None


def read_ocel(path: str | Path, *, naive_timezone: str | tzinfo | None = None) -> Ocel:
    """Read an OCEL 2.0 log in JSON, XML or SQLite; see the module's text."""
    p = Path(path)
    source = str(p)
    try:
        with p.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise OcelError(f"cannot read the file: {exc.strerror or exc}", source=source) from None
    fmt = ocel_format(p)
    if head.startswith(_SQLITE_MAGIC) or (fmt == "sqlite" and not head.startswith(_GZIP_MAGIC)):
        return read_ocel_sqlite(p, naive_timezone=naive_timezone)
    data = p.read_bytes()
    if data.startswith(_GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise OcelError(f"damaged gzip file: {exc}", source=source) from None
    fmt = fmt or _sniff(data[:64])
    if fmt == "json":
        return loads_ocel_json(data, source=source, naive_timezone=naive_timezone)
    if fmt == "xml":
        return loads_ocel_xml(data, source=source, naive_timezone=naive_timezone)
    raise OcelError(
        "not an OCEL 2.0 log kijun can read (JSON, XML or SQLite; "
        "name the file .jsonocel, .xmlocel or .sqlite)",
        source=source,
    )


def write_ocel(ocel: Ocel, path: str | Path, *, format: OcelFormat | None = None) -> None:
    """Write `ocel` as JSON, XML or SQLite, by `format` or else the suffix.

    The log is checked first (`check_ocel`); the file appears whole or not
    at all.
    """
    fmt = format or ocel_format(path)
    if fmt is None:
        raise OcelError(
            "cannot tell the format from the file name (use .jsonocel, .xmlocel or .sqlite)",
            source=str(path),
        )
    if str(path).lower().endswith(".gz"):
        raise OcelError("kijun writes OCEL logs uncompressed", source=str(path))
    try:
        if fmt == "json":
            write_ocel_json(ocel, path)
        elif fmt == "xml":
            write_ocel_xml(ocel, path)
        else:
            write_ocel_sqlite(ocel, path)
    except OcelError as exc:
        raise OcelError(
            exc.reason, source=str(path), location=exc.location, item=exc.item
        ) from None


# --- flattening -----------------------------------------------------------------

#: XES attribute types for OCEL attribute types, in the flattened log's attributes
_XES_TYPES = {"string": "string", "integer": "int", "float": "float", "boolean": "boolean",
              "time": "date"}


def flatten(ocel: Ocel, object_type: str, *, resource: Iterable[str] = ()) -> EventLog:
    """A traditional event log with one case per object of `object_type`.

    `ocel` must be consistent (as `read_ocel` returns it; see `check_ocel`).

    Each case (the object's id) holds the events related to the object, by
    any qualifier, in time order (file order among equal times); an event
    related to several objects of the type is in each of their cases. An
    object with no event is a case without events. ``activity`` is the event
    type; ``resource`` is the first of the named event attributes the event
    has (none by default); ``attributes`` holds the event's id
    (``ocel:eid``), the qualifiers that relate it to the case's object
    (``ocel:qualifier``, joined by ``; ``) and the event's OCEL attributes,
    typed as XES types.
    """
    try:
        otype = ocel.object_type(object_type)
    except KeyError:
        known = ", ".join(repr(t.name) for t in ocel.object_types) or "none"
        raise OcelError(f"no object type {object_type!r} (the log has {known})") from None
    resource_keys = tuple(resource)
    declared = {t.name: {a.name: _XES_TYPES[a.type] for a in t.attributes}
                for t in ocel.event_types}
    cases = [o.id for o in ocel.objects if o.type == otype.name]
    # case -> {index of a related event: the qualifiers relating it}
    by_case: dict[str, dict[int, list[str]]] = {c: {} for c in cases}
    for index, e in enumerate(ocel.events):
        for r in e.relationships:
            related = by_case.get(r.object_id)
            if related is not None:
                related.setdefault(index, []).append(r.qualifier)
    rows: dict[str, list[Any]] = {k: [] for k in EVENT_SCHEMA}
    for case in cases:
        related = by_case[case]
        for index in sorted(related, key=lambda i: (ocel.events[i].time, i)):
            e = ocel.events[index]
            values = {a.name: a.value for a in e.attributes}
            who = next((values[k] for k in resource_keys if k in values), None)
            xes_types = declared[e.type]
            attributes = [
                Attribute("string", "ocel:eid", e.id),
                Attribute("string", "ocel:qualifier", "; ".join(related[index])),
                *(Attribute(xes_types[a.name], a.name, _lexical(a.value)) for a in e.attributes),
            ]
            rows["case"].append(case)
            rows["activity"].append(e.type)
            rows["timestamp"].append(e.time)
            rows["start"].append(None)
            rows["resource"].append(None if who is None else _lexical(who))
            rows["role"].append(None)
            rows["department"].append(None)
            rows["lifecycle"].append(None)
            rows["position"].append(len(rows["position"]))
            rows["attributes"].append(encode_attributes(attributes))
    events = pl.DataFrame(rows, schema=EVENT_SCHEMA)
    case_frame = pl.DataFrame(
        {"case": cases, "position": list(range(len(cases))), "attributes": [None] * len(cases)},
        schema=CASE_SCHEMA,
    )
    return EventLog(events, case_frame)


def _lexical(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)
