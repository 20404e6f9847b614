"""OCEL 2.0 XML (``.xmlocel``, ``.xml``): read and write.

The root ``<log>`` has four sections, ``<object-types>``, ``<event-types>``,
``<objects>`` and ``<events>``. A type is ``<object-type name>`` or
``<event-type name>`` with ``<attributes>`` of ``<attribute name type/>``.
An ``<event id type time>`` has ``<attributes>`` of ``<attribute name>``
whose text is the value, and ``<objects>`` of ``<relationship object-id
qualifier/>``; an ``<object id type>`` has ``<attributes>`` of ``<attribute
name time>`` and ``<objects>`` the same way. The specification's text and
example write a relationship as ``<relationship>``, its XSD as ``<object>``;
both are read, ``<relationship>`` is written.

Reading: times are ``xs:dateTime``, whose offset is optional; the
specification says nothing of what a time without one means, so such a time
is refused unless the caller names the zone (``naive_timezone``). Errors name
the line. Documents with a DTD are refused (no entity expansion).

Writing: UTF-8, two-space indentation, every character that XML would
normalise on reading (carriage returns, tabs and newlines in attribute
values) written as a character reference so that it reads back the same;
characters XML 1.0 cannot carry are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import NoReturn
from xml.parsers import expat

from kijun.measure.ocel_model import (
    LogBuilder,
    Ocel,
    OcelError,
    Relationship,
    check_ocel,
    format_timestamp,
    gc_paused,
    resolve_zone,
    value_text,
    write_atomically,
)

_NAIVE_HINT = (
    "; the OCEL 2.0 specification does not say which zone a time without an offset is in "
    "(pass naive_timezone to read such times in a named zone)"
)
_SECTIONS = ("object-types", "event-types", "objects", "events")


@dataclass(slots=True)
class _Node:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[_Node]
    #: the text of an <attribute> (the only element whose text counts)
    text: list[str]

    @property
    def where(self) -> str:
        return f"line {self.line}"

    def value(self) -> str:
        return "".join(self.text)


class _DtdRefused(Exception):
    pass


def _parse(data: bytes, source: str | None) -> _Node:
    """The document as a tree of `_Node`, each with its line.

    Text is collected only inside ``<attribute>``: elsewhere OCEL 2.0 has none,
    and leaving the parser without a text handler there halves the work.
    """
    parser = expat.ParserCreate()
    stack: list[_Node] = []
    root: list[_Node] = []

    def chars(text: str) -> None:
        stack[-1].text.append(text)

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = _Node(tag, attrs, parser.CurrentLineNumber, [], [])
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)
        parser.CharacterDataHandler = chars if tag == "attribute" else None

    def end(tag: str) -> None:
        stack.pop()
        parser.CharacterDataHandler = None

    def refuse_dtd(*args: object) -> None:
        raise _DtdRefused(parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        reason = expat.errors.messages.get(exc.code, str(exc))
        raise OcelError(
            f"malformed XML: {reason}",
            source=source,
            location=f"line {exc.lineno} column {exc.offset + 1}",
        ) from None
    except _DtdRefused as exc:
        raise OcelError(
            "a document type declaration (DTD) is not allowed in an OCEL log",
            source=source,
            location=f"line {exc.args[0]}",
        ) from None
    return root[0]


def read_ocel_xml(path: str | Path, *, naive_timezone: str | tzinfo | None = None) -> Ocel:
    """Read an OCEL 2.0 XML file; `OcelError` names the line and the id."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise OcelError(f"cannot read the file: {exc.strerror or exc}", source=str(p)) from None
    return loads_ocel_xml(data, source=str(p), naive_timezone=naive_timezone)


def loads_ocel_xml(
    data: str | bytes,
    *,
    source: str | None = None,
    naive_timezone: str | tzinfo | None = None,
) -> Ocel:
    """Read an OCEL 2.0 XML document from text or bytes."""
    try:
        zone = resolve_zone(naive_timezone)
    except OcelError as exc:
        raise OcelError(exc.reason, source=source) from None
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if isinstance(data, str) and data.lstrip().startswith("<?xml"):
        # the declaration may name another encoding than the one we encoded to
        raw = re.sub(rb"encoding=(['\"])[^'\"]*\1", b'encoding="UTF-8"', raw, count=1)
    with gc_paused():
        root = _parse(raw, source)
        ocel = _Reader(LogBuilder(source, zone, _NAIVE_HINT)).read(root)
        del root  # freed before the collector looks at what is left
    return ocel


class _Reader:
    def __init__(self, builder: LogBuilder) -> None:
        self.b = builder

    def fail(self, reason: str, node: _Node, item: str | None = None) -> NoReturn:
        raise self.b.fail(reason, node.where, item)

    def attr(self, node: _Node, name: str, item: str | None = None) -> str:
        value = node.attrs.get(name)
        if value is None:
            self.fail(f"<{node.tag}> has no {name!r} attribute", node, item)
        return value

    def children(
        self, node: _Node, allowed: tuple[str, ...], item: str | None = None
    ) -> dict[str, _Node]:
        """The child elements of a node whose children each appear at most once."""
        out: dict[str, _Node] = {}
        for child in node.children:
            if child.tag not in allowed:
                self.fail(
                    f"unexpected element <{child.tag}> in <{node.tag}> "
                    f"(expected {', '.join(f'<{a}>' for a in allowed)})",
                    child,
                    item,
                )
            if child.tag in out:
                self.fail(f"<{child.tag}> appears twice in <{node.tag}>", child, item)
            out[child.tag] = child
        return out

    def items(
        self, node: _Node | None, tags: tuple[str, ...], item: str | None = None
    ) -> list[_Node]:
        """The repeated child elements of a container (absent: none)."""
        if node is None:
            return []
        for child in node.children:
            if child.tag not in tags:
                self.fail(
                    f"unexpected element <{child.tag}> in <{node.tag}> (expected <{tags[0]}>)",
                    child,
                    item,
                )
        return node.children

    def read(self, root: _Node) -> Ocel:
        if root.tag != "log":
            self.fail(f"the root element is <{root.tag}>, expected <log>", root)
        sections = self.children(root, _SECTIONS)
        for name in _SECTIONS:
            if name not in sections:
                self.fail(f"<log> has no <{name}>", root)
        for kind, section, tag in (
            ("object type", "object-types", "object-type"),
            ("event type", "event-types", "event-type"),
        ):
            for t in self.items(sections[section], (tag,)):
                name = self.attr(t, "name")
                item = f"{kind} {name!r}"
                parts = self.children(t, ("attributes",), item)
                attrs = [
                    (self.attr(a, "name", item), a.attrs.get("type"))
                    for a in self.items(parts.get("attributes"), ("attribute",), item)
                ]
                self.b.add_type(kind, name, attrs, t.where)
        for o in self.items(sections["objects"], ("object",)):
            oid = self.attr(o, "id")
            item = f"object {oid!r}"
            otype = self.attr(o, "type", item)
            parts = self.children(o, ("attributes", "objects"), item)
            attrs3: list[tuple[str, object, object]] = []
            for a in self.items(parts.get("attributes"), ("attribute",), item):
                self.no_children(a, item)
                name = self.attr(a, "name", item)
                if "time" not in a.attrs:
                    self.fail(f"attribute {name!r}: time is missing", a, item)
                attrs3.append((name, a.attrs["time"], a.value()))
            rels = self.relationships(parts.get("objects"), item)
            self.b.add_object(oid, otype, attrs3, rels, o.where)
        for e in self.items(sections["events"], ("event",)):
            eid = self.attr(e, "id")
            item = f"event {eid!r}"
            etype = self.attr(e, "type", item)
            parts = self.children(e, ("attributes", "objects"), item)
            attrs2: list[tuple[str, object]] = []
            for a in self.items(parts.get("attributes"), ("attribute",), item):
                self.no_children(a, item)
                attrs2.append((self.attr(a, "name", item), a.value()))
            rels = self.relationships(parts.get("objects"), item)
            self.b.add_event(eid, etype, e.attrs.get("time"), attrs2, rels, e.where)
        return self.b.build()

    def no_children(self, node: _Node, item: str) -> None:
        if node.children:
            self.fail(f"unexpected element <{node.children[0].tag}> in <{node.tag}>",
                      node.children[0], item)

    def relationships(self, node: _Node | None, item: str) -> list[tuple[str, str]]:
        return [
            (self.attr(r, "object-id", item), r.attrs.get("qualifier", ""))
            for r in self.items(node, ("relationship", "object"), item)
        ]


# --- writing ------------------------------------------------------------------

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TEXT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
_ATTR_ESCAPES = {**_TEXT_ESCAPES, '"': "&quot;", "\n": "&#10;", "\t": "&#9;"}
_TEXT_RE = re.compile("[&<>\r]")
_ATTR_RE = re.compile("[&<>\r\"\n\t]")


def _check_chars(text: str, what: str) -> None:
    bad = _NOT_XML.search(text)
    if bad is not None:
        raise OcelError(f"{what} holds the character U+{ord(bad.group()):04X}, "
                        "which XML 1.0 cannot carry")


def _text(text: str, what: str) -> str:
    _check_chars(text, what)
    return _TEXT_RE.sub(lambda m: _TEXT_ESCAPES[m.group()], text)


def _attr(text: str, what: str) -> str:
    _check_chars(text, what)
    return '"' + _ATTR_RE.sub(lambda m: _ATTR_ESCAPES[m.group()], text) + '"'


def dumps_ocel_xml(ocel: Ocel) -> str:
    """The OCEL 2.0 XML document of a consistent log."""
    check_ocel(ocel)
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>', "<log>"]

    def rels(rs: tuple[Relationship, ...], pad: str, what: str) -> None:
        if not rs:
            return
        out.append(f"{pad}<objects>")
        for r in rs:
            out.append(
                f"{pad}  <relationship object-id={_attr(r.object_id, what)} "
                f"qualifier={_attr(r.qualifier, what)}/>"
            )
        out.append(f"{pad}</objects>")

    for section, tag, types in (
        ("object-types", "object-type", ocel.object_types),
        ("event-types", "event-type", ocel.event_types),
    ):
        out.append(f"  <{section}>")
        for t in types:
            what = f"type {t.name!r}"
            out.append(f"    <{tag} name={_attr(t.name, what)}>")
            if t.attributes:
                out.append("      <attributes>")
                for a in t.attributes:
                    out.append(
                        f"        <attribute name={_attr(a.name, what)} type=\"{a.type}\"/>"
                    )
                out.append("      </attributes>")
            else:
                out.append("      <attributes/>")
            out.append(f"    </{tag}>")
        out.append(f"  </{section}>")
    out.append("  <objects>")
    for o in ocel.objects:
        what = f"object {o.id!r}"
        out.append(f"    <object id={_attr(o.id, what)} type={_attr(o.type, what)}>")
        if o.attributes:
            out.append("      <attributes>")
            for oa in o.attributes:
                out.append(
                    f"        <attribute name={_attr(oa.name, what)} "
                    f"time=\"{format_timestamp(oa.time)}\">"
                    f"{_text(value_text(oa.value), what)}</attribute>"
                )
            out.append("      </attributes>")
        else:
            out.append("      <attributes/>")
        rels(o.relationships, "      ", what)
        out.append("    </object>")
    out.append("  </objects>")
    out.append("  <events>")
    for e in ocel.events:
        what = f"event {e.id!r}"
        out.append(
            f"    <event id={_attr(e.id, what)} type={_attr(e.type, what)} "
            f"time=\"{format_timestamp(e.time)}\">"
        )
        if e.attributes:
            out.append("      <attributes>")
            for ea in e.attributes:
                out.append(
                    f"        <attribute name={_attr(ea.name, what)}>"
                    f"{_text(value_text(ea.value), what)}</attribute>"
                )
            out.append("      </attributes>")
        else:
            out.append("      <attributes/>")
        if e.relationships:
            rels(e.relationships, "      ", what)
        else:
            out.append("      <objects/>")
        out.append("    </event>")
    out.append("  </events>")
    out.append("</log>")
    return "\n".join(out) + "\n"


def write_ocel_xml(ocel: Ocel, path: str | Path) -> None:
    """Write `ocel` as OCEL 2.0 XML; the file appears whole or not at all."""
    write_atomically(Path(path), dumps_ocel_xml(ocel).encode("utf-8"))
