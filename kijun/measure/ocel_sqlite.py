"""OCEL 2.0 SQLite (``.sqlite``): read and write the specification's tables.

The layout (section 6 of the specification):

- ``event_map_type`` / ``object_map_type`` (``ocel_type``, ``ocel_type_map``):
  each type and the suffix of its table;
- ``event`` / ``object`` (``ocel_id``, ``ocel_type``): every event and object;
- ``event_<map>`` (``ocel_id``, ``ocel_time``, one column per attribute): the
  events of one type with their time and attribute values;
- ``object_<map>`` (``ocel_id``, ``ocel_time``, one column per attribute,
  ``ocel_changed_field``): the history of the objects of one type. A row
  whose ``ocel_changed_field`` is empty gives the values its columns hold,
  from ``ocel_time`` on; a row naming a column gives that column's new value
  from ``ocel_time`` on;
- ``event_object`` (``ocel_event_id``, ``ocel_object_id``, ``ocel_qualifier``)
  and ``object_object`` (``ocel_source_id``, ``ocel_target_id``,
  ``ocel_qualifier``): E2O and O2O.

Attribute types are the columns' declared types: TEXT string, INTEGER
integer, REAL float, BOOLEAN boolean, TIMESTAMP time (and the usual SQLite
spellings of each).

Times: SQLite has no timestamp type; the specification writes ``ocel_time``
as ``YYYY-MM-DD HH:MM`` and labels its example tables UTC, so a time without
an offset is read as UTC unless the caller names another zone
(``naive_timezone``). A time with an offset is read as it says. Times are
written as ``YYYY-MM-DD HH:MM:SS[.ffffff]`` in UTC.

Reading opens the file read-only and builds the whole log before returning
it; writing builds a new database beside the target and moves it into place
only once it is complete.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from kijun.measure.ocel_model import (
    AttributeType,
    LogBuilder,
    Object,
    ObjectAttribute,
    Ocel,
    OcelError,
    OcelType,
    Value,
    atomic_target,
    check_ocel,
    format_timestamp,
    gc_paused,
    resolve_zone,
)

_REQUIRED_TABLES = (
    "event_map_type",
    "object_map_type",
    "event",
    "object",
    "event_object",
    "object_object",
)
_RESERVED = frozenset({"ocel_id", "ocel_time", "ocel_changed_field"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _q(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def _column_type(declared: str) -> AttributeType | None:
    """The OCEL type of a column from its declared SQLite type."""
    d = declared.upper()
    if not d or any(k in d for k in ("CHAR", "CLOB", "TEXT", "STRING")):
        return "string"
    if "BOOL" in d:
        return "boolean"
    if any(k in d for k in ("TIMESTAMP", "DATE", "TIME")):
        return "time"
    if "INT" in d:
        return "integer"
    if any(k in d for k in ("REAL", "FLOA", "DOUB", "NUMERIC", "DECIMAL")):
        return "float"
    return None


_SQL_TYPES: dict[AttributeType, str] = {
    "string": "TEXT",
    "integer": "INTEGER",
    "float": "REAL",
    "boolean": "BOOLEAN",
    "time": "TIMESTAMP",
}


# --- reading ------------------------------------------------------------------


def read_ocel_sqlite(path: str | Path, *, naive_timezone: str | tzinfo | None = None) -> Ocel:
    """Read an OCEL 2.0 SQLite database; `OcelError` names the table and the id.

    Times without an offset are UTC, or in `naive_timezone` when given.
    """
    p = Path(path)
    source = str(p)
    try:
        zone = resolve_zone(naive_timezone) or UTC
    except OcelError as exc:
        raise OcelError(exc.reason, source=source) from None
    if not p.is_file():
        raise OcelError("no such file", source=source)
    try:
        conn = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise OcelError(f"cannot open the database: {exc}", source=source) from None
    try:
        with gc_paused():
            return _Reader(conn, LogBuilder(source, zone)).read()
    except sqlite3.Error as exc:
        raise OcelError(f"not a readable OCEL 2.0 SQLite database: {exc}", source=source) from None
    finally:
        conn.close()


class _Reader:
    def __init__(self, conn: sqlite3.Connection, builder: LogBuilder) -> None:
        self.conn = conn
        self.b = builder
        self.tables: dict[str, str] = {}

    def fail(self, reason: str, table: str, item: str | None = None) -> OcelError:
        return self.b.fail(reason, f"table {table}", item)

    def rows(self, table: str, columns: Iterable[str]) -> Iterator[tuple[Any, ...]]:
        """The rows of a table in the order they were written."""
        cols = ", ".join(_q(c) for c in columns)
        actual = self.tables[table.lower()]
        try:
            cur = self.conn.execute(f"SELECT {cols} FROM {_q(actual)} ORDER BY rowid")
        except sqlite3.OperationalError:  # a WITHOUT ROWID table
            cur = self.conn.execute(f"SELECT {cols} FROM {_q(actual)}")
        yield from cur

    def columns(self, table: str) -> list[tuple[str, str]]:
        actual = self.tables[table.lower()]
        return [(r[1], r[2] or "") for r in self.conn.execute(f"PRAGMA table_info({_q(actual)})")]

    def require_columns(self, table: str, needed: Iterable[str]) -> list[tuple[str, str]]:
        cols = self.columns(table)
        names = {c.lower() for c, _ in cols}
        for c in needed:
            if c not in names:
                raise self.fail(f"column {c!r} is missing", table)
        return cols

    def text(self, value: Any, table: str, what: str, item: str | None = None) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise self.fail(f"{what} is {'missing' if value is None else repr(value)}", table, item)

    def read(self) -> Ocel:
        self.tables = {
            r[0].lower(): r[0]
            for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        for t in _REQUIRED_TABLES:
            if t not in self.tables:
                raise self.b.fail(f"table {t!r} is missing: not an OCEL 2.0 SQLite log", None)
        event_tables = self._types("event")
        object_tables = self._types("object")

        # the events: id and type from `event`, time and values from event_<map>
        event_order: list[tuple[str, str]] = []
        seen: set[str] = set()
        for eid, etype in self.rows("event", ("ocel_id", "ocel_type")):
            eid = self.text(eid, "event", "ocel_id")
            item = f"event {eid!r}"
            etype = self.text(etype, "event", "ocel_type", item)
            if etype not in event_tables:
                raise self.fail(f"unknown event type {etype!r}", "event", item)
            if eid in seen:
                raise self.fail("event id appears more than once", "event", item)
            seen.add(eid)
            event_order.append((eid, etype))
        details: dict[str, tuple[str, object, list[tuple[str, object]]]] = {}
        types_of = dict(event_order)
        for etype, table in event_tables.items():
            if table is None:
                continue
            cols = self.require_columns(table, ("ocel_id", "ocel_time"))
            attrs = [c for c, _ in cols if c.lower() not in _RESERVED]
            for row in self.rows(table, ("ocel_id", "ocel_time", *attrs)):
                eid = self.text(row[0], table, "ocel_id")
                item = f"event {eid!r}"
                if types_of.get(eid) != etype:
                    raise self.fail(
                        "not in table event" if eid not in types_of
                        else f"the event is of type {types_of[eid]!r} in table event",
                        table, item,
                    )
                if eid in details:
                    raise self.fail("event id appears more than once", table, item)
                values = [(a, v) for a, v in zip(attrs, row[2:], strict=True) if v is not None]
                details[eid] = (table, row[1], values)

        e2o = self._relations("event_object", ("ocel_event_id", "ocel_object_id"), seen)
        for eid, etype in event_order:
            item = f"event {eid!r}"
            if eid not in details:
                table = event_tables[etype] or f"event_{etype}"
                raise self.fail(f"no row in table {table}: the time is missing", "event", item)
            table, time, values = details[eid]
            self.b.add_event(eid, etype, time, values, e2o.get(eid, []), f"table {table}")

        # the objects: id and type from `object`, value history from object_<map>
        object_order: list[tuple[str, str]] = []
        object_ids: set[str] = set()
        for oid, otype in self.rows("object", ("ocel_id", "ocel_type")):
            oid = self.text(oid, "object", "ocel_id")
            item = f"object {oid!r}"
            otype = self.text(otype, "object", "ocel_type", item)
            if otype not in object_tables:
                raise self.fail(f"unknown object type {otype!r}", "object", item)
            if oid in object_ids:
                raise self.fail("object id appears more than once", "object", item)
            object_ids.add(oid)
            object_order.append((oid, otype))
        otypes_of = dict(object_order)
        history: dict[str, list[tuple[str, object, object]]] = defaultdict(list)
        where: dict[str, str] = {}
        for otype, table in object_tables.items():
            if table is None:
                continue
            cols = self.require_columns(table, ("ocel_id", "ocel_time"))
            names = [c for c, _ in cols]
            attrs = [c for c in names if c.lower() not in _RESERVED]
            changed = [c for c in names if c.lower() == "ocel_changed_field"]
            for row in self.rows(table, ("ocel_id", "ocel_time", *changed, *attrs)):
                oid = self.text(row[0], table, "ocel_id")
                item = f"object {oid!r}"
                if otypes_of.get(oid) != otype:
                    raise self.fail(
                        "not in table object" if oid not in otypes_of
                        else f"the object is of type {otypes_of[oid]!r} in table object",
                        table, item,
                    )
                where[oid] = f"table {table}"
                time = row[1]
                if time is None or time == "":
                    raise self.fail("ocel_time is missing", table, item)
                field = row[2] if changed else None
                cells = dict(zip(attrs, row[2 + len(changed):], strict=True))
                if field is None or field == "":
                    history[oid].extend((a, time, v) for a, v in cells.items() if v is not None)
                    continue
                if field not in cells:
                    raise self.fail(
                        f"ocel_changed_field names {field!r}, which is not a column", table, item
                    )
                if cells[field] is None:
                    raise self.fail(f"the changed field {field!r} has no value", table, item)
                history[oid].append((field, time, cells[field]))

        o2o = self._relations("object_object", ("ocel_source_id", "ocel_target_id"), object_ids)
        for oid, otype in object_order:
            self.b.add_object(
                oid, otype, history.get(oid, []), o2o.get(oid, []),
                where.get(oid, "table object"),
            )
        return self.b.build()

    def _types(self, kind: str) -> dict[str, str | None]:
        """Each type of `kind` with the name of its table (None: no table), declaring
        the type's attributes from the table's columns."""
        map_table = f"{kind}_map_type"
        out: dict[str, str | None] = {}
        self.require_columns(map_table, ("ocel_type", "ocel_type_map"))
        for name, suffix in self.rows(map_table, ("ocel_type", "ocel_type_map")):
            name = self.text(name, map_table, "ocel_type")
            suffix = self.text(suffix, map_table, "ocel_type_map", f"{kind} type {name!r}")
            table = f"{kind}_{suffix}"
            attrs: list[tuple[str, object]] = []
            if table.lower() in self.tables:
                for col, declared in self.columns(table):
                    if col.lower() in _RESERVED:
                        continue
                    atype = _column_type(declared)
                    if atype is None:
                        raise self.fail(
                            f"column {col!r} has type {declared!r}, which is no OCEL type",
                            table,
                        )
                    attrs.append((col, atype))
                out[name] = table
            else:
                out[name] = None
            self.b.add_type(f"{kind} type", name, attrs, f"table {map_table}")
        return out

    def _relations(
        self, table: str, columns: tuple[str, str], sources: set[str]
    ) -> dict[str, list[tuple[str, str]]]:
        self.require_columns(table, (*columns, "ocel_qualifier"))
        out: dict[str, list[tuple[str, str]]] = defaultdict(list)
        kind = "event" if table == "event_object" else "object"
        for src, target, qualifier in self.rows(table, (*columns, "ocel_qualifier")):
            src = self.text(src, table, columns[0])
            target = self.text(target, table, columns[1], f"{kind} {src!r}")
            if src not in sources:
                raise self.fail(f"unknown {kind} {src!r}", table)
            q = "" if qualifier is None else self.text(qualifier, table, "ocel_qualifier")
            out[src].append((target, q))
        return out


# --- writing ------------------------------------------------------------------


def _table_suffixes(types: tuple[OcelType, ...]) -> dict[str, str]:
    """An injective map from type names to table-name suffixes: the name's
    letters, digits and underscores (``Create Purchase Order`` →
    ``CreatePurchaseOrder``), numbered when two would coincide (SQLite table
    names ignore case)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for t in types:
        base = re.sub(r"[^0-9A-Za-z_]", "", t.name) or "type"
        suffix, n = base, 1
        while suffix.lower() in used:
            n += 1
            suffix = f"{base}_{n}"
        used.add(suffix.lower())
        out[t.name] = suffix
    return out


def _check_columns(t: OcelType, kind: str) -> None:
    seen: set[str] = set()
    for a in t.attributes:
        low = a.name.lower()
        if low in _RESERVED:
            raise OcelError(
                f"attribute {a.name!r} has the name of a column of the SQLite layout",
                item=f"{kind} type {t.name!r}",
            )
        if low in seen:
            raise OcelError(
                f"attributes whose names differ only in case ({a.name!r}) cannot be "
                "SQLite columns",
                item=f"{kind} type {t.name!r}",
            )
        seen.add(low)


def _cell(value: Value) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return _time(value)
    return value


def _time(value: datetime) -> str:
    return format_timestamp(value, sep=" ", suffix="")


def _object_rows(o: Object) -> list[tuple[datetime, str | None, dict[str, Value]]]:
    """The rows of an object's history: first one row with every attribute's
    first value that holds from the object's earliest time, then one row per
    other value (``ocel_changed_field`` naming it). An object without
    attributes gets one empty row at the epoch, as in the specification."""
    if not o.attributes:
        return [(_EPOCH, None, {})]
    ordered = sorted(o.attributes, key=lambda a: a.time)
    start = ordered[0].time
    initial: dict[str, Value] = {}
    changes: list[ObjectAttribute] = []
    for a in ordered:
        if a.time == start and a.name not in initial:
            initial[a.name] = a.value
        else:
            changes.append(a)
    rows: list[tuple[datetime, str | None, dict[str, Value]]] = [(start, None, initial)]
    rows.extend((a.time, a.name, {a.name: a.value}) for a in changes)
    return rows


def write_ocel_sqlite(ocel: Ocel, path: str | Path) -> None:
    """Write `ocel` as an OCEL 2.0 SQLite database (replacing any file there);
    the file appears whole or not at all."""
    check_ocel(ocel)
    for t in ocel.event_types:
        _check_columns(t, "event")
    for t in ocel.object_types:
        _check_columns(t, "object")
    with atomic_target(Path(path)) as tmp:
        tmp.unlink()
        conn = sqlite3.connect(tmp)
        try:
            _write(conn, ocel)
            conn.commit()
        finally:
            conn.close()


def _write(conn: sqlite3.Connection, ocel: Ocel) -> None:
    ev_map = _table_suffixes(ocel.event_types)
    ob_map = _table_suffixes(ocel.object_types)
    conn.executescript(
        """
        CREATE TABLE event_map_type (ocel_type TEXT, ocel_type_map TEXT, PRIMARY KEY (ocel_type));
        CREATE TABLE object_map_type (ocel_type TEXT, ocel_type_map TEXT, PRIMARY KEY (ocel_type));
        CREATE TABLE event (
            ocel_id TEXT, ocel_type TEXT, PRIMARY KEY (ocel_id),
            FOREIGN KEY (ocel_type) REFERENCES event_map_type (ocel_type));
        CREATE TABLE object (
            ocel_id TEXT, ocel_type TEXT, PRIMARY KEY (ocel_id),
            FOREIGN KEY (ocel_type) REFERENCES object_map_type (ocel_type));
        CREATE TABLE event_object (
            ocel_event_id TEXT, ocel_object_id TEXT, ocel_qualifier TEXT,
            PRIMARY KEY (ocel_event_id, ocel_object_id, ocel_qualifier),
            FOREIGN KEY (ocel_event_id) REFERENCES event (ocel_id),
            FOREIGN KEY (ocel_object_id) REFERENCES object (ocel_id));
        CREATE TABLE object_object (
            ocel_source_id TEXT, ocel_target_id TEXT, ocel_qualifier TEXT,
            PRIMARY KEY (ocel_source_id, ocel_target_id, ocel_qualifier),
            FOREIGN KEY (ocel_source_id) REFERENCES object (ocel_id),
            FOREIGN KEY (ocel_target_id) REFERENCES object (ocel_id));
        """
    )
    conn.executemany("INSERT INTO event_map_type VALUES (?, ?)", ev_map.items())
    conn.executemany("INSERT INTO object_map_type VALUES (?, ?)", ob_map.items())
    for t in ocel.event_types:
        table = _q(f"event_{ev_map[t.name]}")
        cols = "".join(f", {_q(a.name)} {_SQL_TYPES[a.type]}" for a in t.attributes)
        conn.execute(
            f"CREATE TABLE {table} (ocel_id TEXT, ocel_time TIMESTAMP{cols}, PRIMARY KEY (ocel_id),"
            " FOREIGN KEY (ocel_id) REFERENCES event (ocel_id))"
        )
    for t in ocel.object_types:
        table = _q(f"object_{ob_map[t.name]}")
        cols = "".join(f", {_q(a.name)} {_SQL_TYPES[a.type]}" for a in t.attributes)
        conn.execute(
            f"CREATE TABLE {table} (ocel_id TEXT, ocel_time TIMESTAMP{cols},"
            " ocel_changed_field TEXT, FOREIGN KEY (ocel_id) REFERENCES object (ocel_id))"
        )
    conn.executemany("INSERT INTO event VALUES (?, ?)", ((e.id, e.type) for e in ocel.events))
    conn.executemany("INSERT INTO object VALUES (?, ?)", ((o.id, o.type) for o in ocel.objects))
    conn.executemany("INSERT INTO event_object VALUES (?, ?, ?)", ocel.e2o())
    conn.executemany("INSERT INTO object_object VALUES (?, ?, ?)", ocel.o2o())
    # rows with the same columns go in with one statement
    batches: dict[tuple[str, tuple[str, ...]], list[tuple[Any, ...]]] = defaultdict(list)
    for e in ocel.events:
        key = ("event_" + ev_map[e.type], tuple(a.name for a in e.attributes))
        batches[key].append((e.id, _time(e.time), *(_cell(a.value) for a in e.attributes)))
    for (table, names), rows in batches.items():
        cols = "".join(f", {_q(n)}" for n in names)
        conn.executemany(
            f"INSERT INTO {_q(table)} (ocel_id, ocel_time{cols}) VALUES (?, ?{', ?' * len(names)})",
            rows,
        )
    batches.clear()
    for o in ocel.objects:
        table = "object_" + ob_map[o.type]
        for time, changed, values in _object_rows(o):
            batches[(table, tuple(values))].append(
                (o.id, _time(time), changed, *(_cell(v) for v in values.values()))
            )
    for (table, names), rows in batches.items():
        cols = "".join(f", {_q(n)}" for n in names)
        conn.executemany(
            f"INSERT INTO {_q(table)} (ocel_id, ocel_time, ocel_changed_field{cols})"
            f" VALUES (?, ?, ?{', ?' * len(names)})",
            rows,
        )
