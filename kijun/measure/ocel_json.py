"""OCEL 2.0 JSON (``.jsonocel``, ``.json``): read and write.

The document has four arrays, ``objectTypes``, ``eventTypes``, ``objects``
and ``events``. Types carry ``name`` and ``attributes`` (``name``, ``type``);
events carry ``id``, ``type``, ``time``, ``attributes`` (``name``,
``value``) and ``relationships`` (``objectId``, ``qualifier``); objects carry
``id``, ``type``, ``attributes`` (``name``, ``time``, ``value``) and
``relationships``.

Reading: the specification's schema types every ``time`` as a JSON Schema
``date-time``, which is RFC 3339 and so always has an offset; a timestamp
without one is refused unless the caller names the zone it was written in
(``naive_timezone``). Values may be JSON strings (as the schema has them) or
JSON numbers and booleans (as some tools write them); either is read as the
declared type. A missing ``attributes`` or ``relationships`` array is an
empty one; a missing qualifier is the empty qualifier.

Writing: values are written as strings (the schema's form), timestamps as
RFC 3339 in UTC with ``Z``; the output conforms to the published schema.
"""

from __future__ import annotations

import json
from datetime import tzinfo
from pathlib import Path
from typing import Any

from kijun.measure.ocel_model import (
    LogBuilder,
    Ocel,
    OcelError,
    check_ocel,
    format_timestamp,
    gc_paused,
    resolve_zone,
    value_text,
    write_atomically,
)

_NAIVE_HINT = (
    "; OCEL 2.0 JSON times are RFC 3339 date-times with an offset "
    "(pass naive_timezone to read such times in a named zone)"
)


def read_ocel_json(path: str | Path, *, naive_timezone: str | tzinfo | None = None) -> Ocel:
    """Read an OCEL 2.0 JSON file; `OcelError` names the JSON path and the id."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise OcelError(f"cannot read the file: {exc.strerror or exc}", source=str(p)) from None
    return loads_ocel_json(data, source=str(p), naive_timezone=naive_timezone)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def loads_ocel_json(
    data: str | bytes,
    *,
    source: str | None = None,
    naive_timezone: str | tzinfo | None = None,
) -> Ocel:
    """Read an OCEL 2.0 JSON document from text or bytes."""
    try:
        zone = resolve_zone(naive_timezone)
    except OcelError as exc:
        raise OcelError(exc.reason, source=source) from None
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise OcelError(f"not UTF-8 text (byte {exc.start})", source=source) from None
    try:
        with gc_paused():
            doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise OcelError(
            f"malformed JSON: {exc.msg}",
            source=source,
            location=f"line {exc.lineno} column {exc.colno}",
        ) from None
    except ValueError as exc:
        raise OcelError(f"malformed JSON: {exc}", source=source) from None
    with gc_paused():
        return _Reader(LogBuilder(source, zone, _NAIVE_HINT)).read(doc)


class _Reader:
    def __init__(self, builder: LogBuilder) -> None:
        self.b = builder

    def fail(self, reason: str, path: str, item: str | None = None) -> OcelError:
        return self.b.fail(reason, path, item)

    def _object(self, value: Any, path: str, item: str | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"expected a JSON object, found {_kind(value)}", path, item)
        return value

    def _array(
        self, parent: dict[str, Any], key: str, path: str, item: str | None = None,
        *, required: bool = False,
    ) -> list[Any]:
        if key not in parent or (parent[key] is None and not required):
            if required:
                raise self.fail(f"{key!r} is missing", path, item)
            return []
        value = parent[key]
        if not isinstance(value, list):
            raise self.fail(f"expected an array, found {_kind(value)}", f"{path}.{key}", item)
        return value

    def _string(
        self, parent: dict[str, Any], key: str, path: str, item: str | None = None
    ) -> str:
        value = parent.get(key)
        if value is None:
            raise self.fail(f"{key!r} is missing", path, item)
        if not isinstance(value, str):
            raise self.fail(f"expected a string, found {_kind(value)}", f"{path}.{key}", item)
        return value

    def read(self, doc: Any) -> Ocel:
        root = self._object(doc, "$")
        for kind, key in (("object type", "objectTypes"), ("event type", "eventTypes")):
            for i, raw in enumerate(self._array(root, key, "$", required=True)):
                path = f"$.{key}[{i}]"
                t = self._object(raw, path)
                name = self._string(t, "name", path)
                attrs = []
                for j, a in enumerate(self._array(t, "attributes", path, f"{kind} {name!r}")):
                    apath = f"{path}.attributes[{j}]"
                    ad = self._object(a, apath)
                    attrs.append((self._string(ad, "name", apath), ad.get("type")))
                self.b.add_type(kind, name, attrs, path)
        for i, raw in enumerate(self._array(root, "objects", "$", required=True)):
            path = f"$.objects[{i}]"
            o = self._object(raw, path)
            oid = self._string(o, "id", path)
            item = f"object {oid!r}"
            otype = self._string(o, "type", path, item)
            attrs3: list[tuple[str, object, object]] = []
            for j, a in enumerate(self._array(o, "attributes", path, item)):
                apath = f"{path}.attributes[{j}]"
                ad = self._object(a, apath, item)
                if "value" not in ad:
                    raise self.fail("'value' is missing", apath, item)
                attrs3.append((self._string(ad, "name", apath, item), ad.get("time"), ad["value"]))
            self.b.add_object(oid, otype, attrs3, self._relationships(o, path, item), path)
        for i, raw in enumerate(self._array(root, "events", "$", required=True)):
            path = f"$.events[{i}]"
            e = self._object(raw, path)
            eid = self._string(e, "id", path)
            item = f"event {eid!r}"
            etype = self._string(e, "type", path, item)
            attrs2: list[tuple[str, object]] = []
            for j, a in enumerate(self._array(e, "attributes", path, item)):
                apath = f"{path}.attributes[{j}]"
                ad = self._object(a, apath, item)
                if "value" not in ad:
                    raise self.fail("'value' is missing", apath, item)
                attrs2.append((self._string(ad, "name", apath, item), ad["value"]))
            self.b.add_event(
                eid, etype, e.get("time"), attrs2, self._relationships(e, path, item), path
            )
        return self.b.build()

    def _relationships(
        self, parent: dict[str, Any], path: str, item: str
    ) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for j, r in enumerate(self._array(parent, "relationships", path, item)):
            rpath = f"{path}.relationships[{j}]"
            rd = self._object(r, rpath, item)
            target = self._string(rd, "objectId", rpath, item)
            qualifier = rd.get("qualifier")
            if qualifier is None:
                qualifier = ""
            if not isinstance(qualifier, str):
                raise self.fail(
                    f"expected a string, found {_kind(qualifier)}", f"{rpath}.qualifier", item
                )
            out.append((target, qualifier))
        return out


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def ocel_to_json_document(ocel: Ocel) -> dict[str, Any]:
    """The OCEL 2.0 JSON document of a consistent log, as Python data."""
    check_ocel(ocel)

    def types(ts: tuple[Any, ...]) -> list[dict[str, Any]]:
        return [
            {"name": t.name, "attributes": [{"name": a.name, "type": a.type} for a in t.attributes]}
            for t in ts
        ]

    def rels(rs: tuple[Any, ...]) -> list[dict[str, str]]:
        return [{"objectId": r.object_id, "qualifier": r.qualifier} for r in rs]

    return {
        "objectTypes": types(ocel.object_types),
        "eventTypes": types(ocel.event_types),
        "objects": [
            {
                "id": o.id,
                "type": o.type,
                "attributes": [
                    {"name": a.name, "time": format_timestamp(a.time), "value": value_text(a.value)}
                    for a in o.attributes
                ],
                "relationships": rels(o.relationships),
            }
            for o in ocel.objects
        ],
        "events": [
            {
                "id": e.id,
                "type": e.type,
                "time": format_timestamp(e.time),
                "attributes": [
                    {"name": a.name, "value": value_text(a.value)} for a in e.attributes
                ],
                "relationships": rels(e.relationships),
            }
            for e in ocel.events
        ],
    }


def dumps_ocel_json(ocel: Ocel) -> str:
    """The OCEL 2.0 JSON text: one type, object or event a line, so that large
    logs are written fast and still read (and diffed) line by line."""
    doc = ocel_to_json_document(ocel)
    parts = []
    for key in ("objectTypes", "eventTypes", "objects", "events"):
        items = ",\n    ".join(json.dumps(item, ensure_ascii=False) for item in doc[key])
        parts.append(f'  "{key}": [\n    {items}\n  ]' if items else f'  "{key}": []')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_ocel_json(ocel: Ocel, path: str | Path) -> None:
    """Write `ocel` as OCEL 2.0 JSON; the file appears whole or not at all."""
    write_atomically(Path(path), dumps_ocel_json(ocel).encode("utf-8"))
